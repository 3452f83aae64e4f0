/* INT8 GEMM, AVX-512 VNNI: the 12x32c4 and 12x16c4 microkernels with the shared epilogue fused
 * for int32 and u8 outputs, and the packing kernels (q8_gemm_kernels.h). */
#include "q8_gemm_kernels.h"
#include "q8_tail_masks.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang diagnostic ignored "-Wpsabi"
/* No fused multiply-adds behind our back: every path must round exactly like the reference. */
#pragma clang fp contract(off)

#define VNNI512_ATTR __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

/* q8_fixed_point_multiply_inline on 16 lanes: 64-bit products of the even and the odd lanes. */
static inline __attribute__((always_inline)) VNNI512_ATTR __m512i
fixed_point_multiply__avx512(__m512i x, __m512i multiplier, __m512i shift) {
    const __m512i nudge = _mm512_set1_epi64((int64_t)1 << 30), top = _mm512_set1_epi64(INT32_MAX);
    const __m512i even = _mm512_min_epi64(_mm512_srai_epi64(_mm512_add_epi64(_mm512_mul_epi32(x, multiplier), nudge), 31), top);
    const __m512i odd_product = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(multiplier, 32));
    const __m512i odd = _mm512_min_epi64(_mm512_srai_epi64(_mm512_add_epi64(odd_product, nudge), 31), top);
    const __m512i high = _mm512_mask_blend_epi32((__mmask16)0xAAAA, even, _mm512_slli_epi64(odd, 32));
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i s = _mm512_max_epi32(shift, _mm512_setzero_si512());
    const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, s), one);
    const __m512i threshold = _mm512_add_epi32(_mm512_srai_epi32(mask, 1), _mm512_srli_epi32(high, 31));
    const __mmask16 up = _mm512_cmpgt_epi32_mask(_mm512_and_si512(high, mask), threshold);
    const __m512i shifted = _mm512_srav_epi32(high, s);
    return _mm512_mask_add_epi32(shifted, up, shifted, one);
}

/* The columns of panel p that lie within n. */
static inline __mmask16 live_columns(size_t n, size_t p) { return tail_mask16(n - p * NR); }

/* pack_transposed with one dword gather per 4-depth group of a 16-column panel (columns past n
 * masked to zero); a last group of fewer than 4 depths byte by byte, as gathering it could read
 * past the source. */
VNNI512_ATTR bool onboard_q8_pack_transposed_u16__avx512vnni(const int8_t *b, size_t ldb, size_t k, size_t n, int8_t flip,
                                                           int8_t *packed) {
    if (ldb > INT32_MAX / NR) return false; /* int32 gather offsets */
    const size_t kp = q8_padded_depth(k), full_groups = k / 4;
    const __m512i flip4 = _mm512_set1_epi8(flip);
    const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32((int32_t)ldb));
    for (size_t p = 0; p < q8_panel_count(n); p++) {
        int8_t *panel = packed + p * NR * kp;
        const size_t cols = n - p * NR < NR ? n - p * NR : NR;
        const __mmask16 live = live_columns(n, p);
        const int8_t *source = b + p * NR * ldb;
        for (size_t g = 0; g < full_groups; g++) {
            const __m512i words = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, rows, source + 4 * g, 1);
            _mm512_storeu_si512(panel + g * NR * 4, _mm512_maskz_xor_epi32(live, words, flip4));
        }
        if (full_groups < kp / 4) {
            int8_t *dst = panel + full_groups * NR * 4;
            memset(dst, 0, NR * 4);
            for (size_t j = 0; j < cols; j++)
                for (size_t kk = 4 * full_groups; kk < k; kk++) dst[j * 4 + kk % 4] = (int8_t)(source[j * ldb + kk] ^ flip);
        }
    }
    return true;
}

/* packed_column_sums by vpdpbusd of all-ones bytes against each group of a panel. */
VNNI512_ATTR bool onboard_q8_packed_column_sums_u16__avx512vnni(const int8_t *packed, size_t k, size_t n, int32_t *sums) {
    const size_t kp = q8_padded_depth(k);
    const __m512i ones = _mm512_set1_epi8(1);
    for (size_t p = 0; p < q8_panel_count(n); p++) {
        const int8_t *panel = packed + p * NR * kp;
        __m512i even = _mm512_setzero_si512(), odd = _mm512_setzero_si512();
        size_t g = 0;
        for (; g + 2 <= kp / 4; g += 2) {
            even = _mm512_dpbusd_epi32(even, ones, _mm512_loadu_si512(panel + g * NR * 4));
            odd = _mm512_dpbusd_epi32(odd, ones, _mm512_loadu_si512(panel + (g + 1) * NR * 4));
        }
        if (g < kp / 4) even = _mm512_dpbusd_epi32(even, ones, _mm512_loadu_si512(panel + g * NR * 4));
        _mm512_mask_storeu_epi32(sums + p * NR, live_columns(n, p), _mm512_add_epi32(even, odd));
    }
    return true;
}

/* 12 rows x np panels (np = 1 or 2); rows past the edge read a valid row and are discarded. */
static inline __attribute__((always_inline)) VNNI512_ATTR int
tile_12xnp(const int np, size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1, int32_t *acc,
           const q8_tile_out *out) {
    __m512i c[12][2];
    for (int r = 0; r < 12; r++) c[r][0] = c[r][1] = _mm512_setzero_si512();
    const size_t full = k / 4;
#define VNNI512_STEP(g, A_WORD)                                                              \
    do {                                                                                     \
        const __m512i b0 = _mm512_loadu_si512(p0 + (g) * NR * 4);                           \
        const __m512i b1 = np == 2 ? _mm512_loadu_si512(p1 + (g) * NR * 4) : b0;            \
        _Pragma("clang loop unroll(full)")                                                   \
        for (int r = 0; r < 12; r++) {                                                       \
            const __m512i av = _mm512_set1_epi32((int)(A_WORD));                             \
            c[r][0] = _mm512_dpbusd_epi32(c[r][0], av, b0);                                  \
            if (np == 2) c[r][1] = _mm512_dpbusd_epi32(c[r][1], av, b1);                     \
        }                                                                                    \
    } while (0)
    for (size_t g = 0; g < full; g++) VNNI512_STEP(g, q8_load_u32(row[r] + 4 * g));
    if (k % 4) VNNI512_STEP(full, q8_load_a4(row[r] + 4 * full, k % 4));
#undef VNNI512_STEP
    const onboard_q8_epilogue *e = out->e;
    if (e->out_type == ONBOARD_Q8_OUT_S32) {
        for (int h = 0; h < np; h++) {
            if (out->cols <= 16 * (size_t)h) break;
            const size_t j = out->j0 + 16 * (size_t)h;
            const size_t width = out->cols - 16 * (size_t)h < 16 ? out->cols - 16 * (size_t)h : 16;
            const __mmask16 mask = (__mmask16)((1u << width) - 1);
            const __m512i colb = e->col_bias ? _mm512_maskz_loadu_epi32(mask, e->col_bias + j) : _mm512_setzero_si512();
            _Pragma("clang loop unroll(full)")
            for (int r = 0; r < 12; r++) {
                if ((size_t)r >= out->rows) break;
                __m512i v = _mm512_add_epi32(c[r][h], colb);
                if (e->row_bias) v = _mm512_add_epi32(v, _mm512_set1_epi32(e->row_bias[out->i0 + r]));
                if (e->tile_bias) v = _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(mask, e->tile_bias + (out->i0 + r) * e->tile_bias_ld + j));
                int32_t *dst = (int32_t *)out->c + (out->i0 + r) * out->ldc + j - out->origin;
                /* Full-width stores unmasked: masked stores are slow on some cores (AMD Zen 4/5). */
                if (width == 16 && out->stream && ((uintptr_t)dst & 63) == 0) _mm512_stream_si512((void *)dst, v);
                else if (width == 16) _mm512_storeu_si512(dst, v);
                else _mm512_mask_storeu_epi32(dst, mask, v);
            }
        }
        return 1;
    }
    if (e->out_type == ONBOARD_Q8_OUT_U8) {
        /* The shared epilogue in registers, step for step: int32 sums, then either fixed point
         * (as q8_fixed_point_multiply_inline) or convert, scale, clamp to +-2^22 and round half
         * to even (as q8_round_even_fast); zero point, clamp, narrow. */
        const int fixed = e->use_fixed_point;
        const __m512 limit = _mm512_set1_ps(4194304.0f);
        for (int h = 0; h < np; h++) {
            const size_t j = out->j0 + 16 * (size_t)h;
            if (out->cols <= 16 * (size_t)h) break;
            const size_t width = out->cols - 16 * (size_t)h < 16 ? out->cols - 16 * (size_t)h : 16;
            const __mmask16 mask = (__mmask16)((1u << width) - 1);
            const __m512i colb = e->col_bias ? _mm512_maskz_loadu_epi32(mask, e->col_bias + j) : _mm512_setzero_si512();
            const __m512 scale = fixed ? _mm512_setzero_ps()
                : e->scale_per_column ? _mm512_maskz_loadu_ps(mask, e->scale + j) : _mm512_set1_ps(e->scale[0]);
            const __m512i multiplier = !fixed ? _mm512_setzero_si512()
                : e->scale_per_column ? _mm512_maskz_loadu_epi32(mask, e->multiplier + j) : _mm512_set1_epi32(e->multiplier[0]);
            const __m512i shift = !fixed ? _mm512_setzero_si512()
                : e->scale_per_column ? _mm512_maskz_loadu_epi32(mask, e->shift + j) : _mm512_set1_epi32(e->shift[0]);
            const __m512i zp = _mm512_set1_epi32(e->out_zero_point);
            const __m512i lo = _mm512_set1_epi32(e->out_min), hi = _mm512_set1_epi32(e->out_max);
            _Pragma("clang loop unroll(full)")
            for (int r = 0; r < 12; r++) {  /* constant bounds keep c[][] in registers */
                if ((size_t)r >= out->rows) break;
                __m512i v = _mm512_add_epi32(c[r][h], colb);
                if (e->row_bias) v = _mm512_add_epi32(v, _mm512_set1_epi32(e->row_bias[out->i0 + r]));
                if (e->tile_bias) v = _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(mask, e->tile_bias + (out->i0 + r) * e->tile_bias_ld + j));
                __m512i q;
                if (fixed) {
                    q = _mm512_add_epi32(fixed_point_multiply__avx512(v, multiplier, shift), zp);
                } else {
                    __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), scale);
                    f = _mm512_min_ps(_mm512_max_ps(f, _mm512_sub_ps(_mm512_setzero_ps(), limit)), limit);
                    q = _mm512_add_epi32(_mm512_cvt_roundps_epi32(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
                }
                q = _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
                uint8_t *dst = (uint8_t *)out->c + (out->i0 + r) * out->ldc + j - out->origin;
                if (width == 16) _mm_storeu_si128((__m128i *)dst, _mm512_cvtepi32_epi8(q));
                else _mm_mask_storeu_epi8(dst, mask, _mm512_cvtepi32_epi8(q));
            }
        }
        return 1;
    }
    for (int r = 0; r < 12; r++) {
        _mm512_storeu_si512(acc + r * ONBOARD_Q8_ACC_LD, c[r][0]);
        if (np == 2) _mm512_storeu_si512(acc + r * ONBOARD_Q8_ACC_LD + 16, c[r][1]);
    }
    return 0;
}
VNNI512_ATTR int onboard_q8_gemm_12x16c4__avx512vnni(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                                     int32_t *acc, const q8_tile_out *out) {
    return tile_12xnp(1, k, row, p0, p1, acc, out);
}
VNNI512_ATTR int onboard_q8_gemm_12x32c4__avx512vnni(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                                     int32_t *acc, const q8_tile_out *out) {
    return tile_12xnp(2, k, row, p0, p1, acc, out);
}
#endif
