/* INT8 GEMM (u8 x s8 -> s32) on packed B: the scalar reference, exact per-ISA microkernels
 * (AVX-512 VNNI 12x32, AVX-VNNI 6x16, AVX2 2x16 via vpmaddwd on widened int16 so nothing
 * saturates, arm64 sdot 8x16) and the one epilogue they all share. */
#include "CKernels.h"
#include "q8_fixed_point.h"
#include "q8_tail_masks.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#pragma clang diagnostic ignored "-Wpsabi"
/* No fused multiply-adds behind our back: every path must round exactly like the reference. */
#pragma clang fp contract(off)

/* Where a finished tile goes: rows x cols of C at (i0, j0 - origin); j0 is the product's column
 * (it indexes the epilogue's per-column tables), origin the product column C starts at. */
typedef struct {
    const onboard_q8_epilogue *e;
    void *c;
    size_t ldc, i0, j0, rows, cols, origin;
    int stream; /* int32 output far larger than the caches: non-temporal stores skip reading C in */
} tile_out;

/* Above this many bytes of int32 output, C would only evict the operands from the caches. */
#define STREAM_OUTPUT_BYTES ((size_t)4 << 20)

#define NR ONBOARD_Q8_NR

static size_t padded_depth(size_t k) { return (k + 3) & ~(size_t)3; }
static size_t panel_count(size_t n) { return (n + NR - 1) / NR; }

size_t onboard_q8_packed_size(size_t k, size_t n) { return panel_count(n) * NR * padded_depth(k); }

/* One 4-depth x 16-column block of a row-major B into its packed [16][4] form. */
static void pack_block_rows(const int8_t *b, size_t ldb, int8_t flip, int8_t *dst) {
#if defined(__x86_64__)
    const __m128i x = _mm_set1_epi8(flip);
    const __m128i r0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)b), x);
    const __m128i r1 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(b + ldb)), x);
    const __m128i r2 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(b + 2 * ldb)), x);
    const __m128i r3 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(b + 3 * ldb)), x);
    const __m128i a01 = _mm_unpacklo_epi8(r0, r1), b01 = _mm_unpackhi_epi8(r0, r1);
    const __m128i a23 = _mm_unpacklo_epi8(r2, r3), b23 = _mm_unpackhi_epi8(r2, r3);
    _mm_storeu_si128((__m128i *)dst, _mm_unpacklo_epi16(a01, a23));
    _mm_storeu_si128((__m128i *)(dst + 16), _mm_unpackhi_epi16(a01, a23));
    _mm_storeu_si128((__m128i *)(dst + 32), _mm_unpacklo_epi16(b01, b23));
    _mm_storeu_si128((__m128i *)(dst + 48), _mm_unpackhi_epi16(b01, b23));
#else
    for (size_t j = 0; j < NR; j++)
        for (size_t t = 0; t < 4; t++) dst[j * 4 + t] = (int8_t)(b[t * ldb + j] ^ flip);
#endif
}

/* B given transposed ([n][k], column col of B is row col of the source): each column's depths
 * are adjacent bytes, so its groups of 4 go to the panel as whole words, column by column. Depths
 * past k and columns past n are zero. */
static void pack_transposed(const int8_t *b, size_t ldb, size_t k, size_t n, int8_t flip, int8_t *packed) {
    const size_t kp = padded_depth(k), full_groups = k / 4;
    const uint32_t flip4 = (uint8_t)flip * 0x01010101u;
    memset(packed, 0, panel_count(n) * NR * kp);
    for (size_t col = 0; col < n; col++) {
        int8_t *dst = packed + (col / NR) * NR * kp + (col % NR) * 4;
        const int8_t *src = b + col * ldb;
        for (size_t g = 0; g < full_groups; g++) {
            uint32_t w;
            memcpy(&w, src + 4 * g, 4);
            w ^= flip4;
            memcpy(dst + g * NR * 4, &w, 4);
        }
        for (size_t kk = 4 * full_groups; kk < k; kk++) dst[full_groups * NR * 4 + kk % 4] = (int8_t)(src[kk] ^ flip);
    }
}

/* Row-major B ([k][n]): 4-depth x 16-column blocks by pack_block_rows, edges byte by byte. */
static void pack_rows(const int8_t *b, size_t ldb, size_t k, size_t n, int8_t flip, int8_t *packed) {
    const size_t kp = padded_depth(k), full_groups = k / 4;
    for (size_t p = 0; p < panel_count(n); p++) {
        int8_t *panel = packed + p * NR * kp;
        const size_t cols = n - p * NR < NR ? n - p * NR : NR;
        for (size_t g = 0; g < kp / 4; g++) {
            int8_t *dst = panel + g * NR * 4;
            if (cols == NR && g < full_groups) {
                pack_block_rows(b + 4 * g * ldb + p * NR, ldb, flip, dst);
                continue;
            }
            for (size_t j = 0; j < NR; j++) {
                int8_t v[4] = {0, 0, 0, 0};
                const size_t col = p * NR + j;
                if (j < cols)
                    for (size_t t = 0; t < 4 && 4 * g + t < k; t++) v[t] = (int8_t)(b[(4 * g + t) * ldb + col] ^ flip);
                memcpy(dst + j * 4, v, 4);
            }
        }
    }
}

/* Column sums of packed B (its padding is zero): the sum of each column's int8 values. */
static void packed_column_sums(const int8_t *packed, size_t k, size_t n, int32_t *sums) {
    const size_t kp = padded_depth(k);
    for (size_t col = 0; col < n; col++) {
        const int8_t *column = packed + (col / NR) * NR * kp + (col % NR) * 4;
        int32_t sum = 0;
        for (size_t g = 0; g < kp / 4; g++)
            for (size_t t = 0; t < 4; t++) sum += column[g * NR * 4 + t];
        sums[col] = sum;
    }
}

#if defined(__x86_64__)
static void pack_transposed__avx512vnni(const int8_t *b, size_t ldb, size_t k, size_t n, int8_t flip, int8_t *packed);
static void packed_column_sums__avx512vnni(const int8_t *packed, size_t k, size_t n, int32_t *sums);
#endif

static void pack_b(const int8_t *b, size_t ldb, bool transposed, size_t k, size_t n, int8_t flip,
                   int8_t *packed, int32_t *col_sums) {
#if defined(__x86_64__)
    if (onboard_q8_active_isa() == ONBOARD_ISA_AVX512VNNI) {
        if (!transposed) pack_rows(b, ldb, k, n, flip, packed);
        else if (ldb <= INT32_MAX / NR) pack_transposed__avx512vnni(b, ldb, k, n, flip, packed); /* int32 gather offsets */
        else pack_transposed(b, ldb, k, n, flip, packed);
        if (col_sums) packed_column_sums__avx512vnni(packed, k, n, col_sums);
        return;
    }
#endif
    if (transposed) pack_transposed(b, ldb, k, n, flip, packed);
    else pack_rows(b, ldb, k, n, flip, packed);
    if (col_sums) packed_column_sums(packed, k, n, col_sums);
}

void onboard_q8_pack_b(const int8_t *b, size_t ldb, bool transposed, size_t k, size_t n,
                       int8_t *packed, int32_t *col_sums) {
    pack_b(b, ldb, transposed, k, n, 0, packed, col_sums);
}

void onboard_q8_pack_b_u8(const uint8_t *b, size_t ldb, bool transposed, size_t k, size_t n,
                          int8_t *packed, int32_t *col_sums) {
    pack_b((const int8_t *)b, ldb, transposed, k, n, (int8_t)0x80, packed, col_sums);
}

/* ---- epilogue (shared by every path, so all paths agree bit for bit) ---- */

int32_t onboard_q8_fixed_point_multiply(int32_t x, int32_t multiplier, int32_t shift) {
    return q8_fixed_point_multiply_inline(x, multiplier, shift);
}

static inline int32_t clamp32(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Round half to even for |x| < 2^22 without libm, so it vectorizes on any x86-64. Exact:
 * adding 1.5 * 2^23 leaves no fraction bits, and the compiler may not reassociate floats. */
static inline float round_even_fast(float x) {
    const float magic = 12582912.0f;
    x = x > 4194304.0f ? 4194304.0f : x < -4194304.0f ? -4194304.0f : x;
    return (x + magic) - magic;
}

/* Stores rows x cols accumulators (acc row stride ldacc) at C[i0.., j0 - origin..]. The branches are
 * hoisted out of the column loops so those vectorize. */
static void store_tile(const int32_t *acc, size_t ldacc, size_t rows, size_t cols, size_t i0, size_t j0,
                       const onboard_q8_epilogue *e, void *c, size_t ldc, size_t origin) {
    int32_t v[32];
    float f[32];
    const float s0 = e->scale ? e->scale[0] : 1.0f;
    for (size_t r = 0; r < rows; r++) {
        const int32_t rb = e->row_bias ? e->row_bias[i0 + r] : 0;
        const int32_t *a = acc + r * ldacc;
        if (e->col_bias) { for (size_t j = 0; j < cols; j++) v[j] = a[j] + rb + e->col_bias[j0 + j]; }
        else { for (size_t j = 0; j < cols; j++) v[j] = a[j] + rb; }
        if (e->tile_bias) {
            const int32_t *tb = e->tile_bias + (i0 + r) * e->tile_bias_ld + j0;
            for (size_t j = 0; j < cols; j++) v[j] += tb[j];
        }
        const size_t at = (i0 + r) * ldc + j0 - origin;
        if (e->out_type == ONBOARD_Q8_OUT_S32) {
            memcpy((int32_t *)c + at, v, cols * sizeof(int32_t));
            continue;
        }
        if (e->out_type == ONBOARD_Q8_OUT_F32) {
            float *y = (float *)c + at;
            if (e->scale_per_column) { for (size_t j = 0; j < cols; j++) y[j] = (float)v[j] * e->scale[j0 + j]; }
            else { for (size_t j = 0; j < cols; j++) y[j] = (float)v[j] * s0; }
            if (e->f32_bias) for (size_t j = 0; j < cols; j++) y[j] += e->f32_bias[j0 + j];
            continue;
        }
        if (e->use_fixed_point) {
            for (size_t j = 0; j < cols; j++) {
                const size_t si = e->scale_per_column ? j0 + j : 0;
                v[j] = q8_fixed_point_multiply_inline(v[j], e->multiplier[si], e->shift[si]);
            }
        } else {
            if (e->scale_per_column) { for (size_t j = 0; j < cols; j++) f[j] = (float)v[j] * e->scale[j0 + j]; }
            else { for (size_t j = 0; j < cols; j++) f[j] = (float)v[j] * s0; }
            for (size_t j = 0; j < cols; j++) v[j] = (int32_t)round_even_fast(f[j]);
        }
        for (size_t j = 0; j < cols; j++) v[j] = clamp32(v[j] + e->out_zero_point, e->out_min, e->out_max);
        if (e->out_type == ONBOARD_Q8_OUT_U8) { uint8_t *y = (uint8_t *)c + at; for (size_t j = 0; j < cols; j++) y[j] = (uint8_t)v[j]; }
        else { int8_t *y = (int8_t *)c + at; for (size_t j = 0; j < cols; j++) y[j] = (int8_t)v[j]; }
    }
}

void onboard_q8_gemm__scalar(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                             const int8_t *b, size_t ldb, const onboard_q8_epilogue *e, void *c, size_t ldc) {
    int32_t acc[NR];
    for (size_t i = 0; i < m; i++)
        for (size_t j0 = 0; j0 < n; j0 += NR) {
            const size_t cols = n - j0 < NR ? n - j0 : NR;
            for (size_t j = 0; j < cols; j++) {
                int32_t s = 0;
                for (size_t t = 0; t < k; t++) s += (int32_t)a[i * lda + t] * (int32_t)b[t * ldb + j0 + j];
                acc[j] = s;
            }
            store_tile(acc, NR, 1, cols, i, j0, e, c, ldc, 0);
        }
}

/* Four consecutive A bytes of one depth group as a little-endian word (zeros past k). */
static inline uint32_t load_a4(const uint8_t *p, size_t available) {
    uint32_t w = 0;
    if (available >= 4) memcpy(&w, p, 4);
    else memcpy(&w, p, available);
    return w;
}

static inline uint32_t load_u32(const uint8_t *p) {
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* Portable packed path: one row x one panel at a time. */
static void tile_generic(size_t rows, size_t k, const uint8_t *const *row, const int8_t *panel, int32_t *acc) {
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < NR; j++) {
            int32_t s = 0;
            for (size_t t = 0; t < k; t++) s += (int32_t)row[r][t] * panel[((t / 4) * NR + j) * 4 + t % 4];
            acc[r * NR + j] = s;
        }
}

#if defined(__x86_64__)
#define VNNI512_ATTR __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define AVXVNNI_ATTR __attribute__((target("avx2,fma,avxvnni")))
#define AVX2_ATTR __attribute__((target("avx2,fma")))

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
static VNNI512_ATTR void pack_transposed__avx512vnni(const int8_t *b, size_t ldb, size_t k, size_t n, int8_t flip,
                                                     int8_t *packed) {
    const size_t kp = padded_depth(k), full_groups = k / 4;
    const __m512i flip4 = _mm512_set1_epi8(flip);
    const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32((int32_t)ldb));
    for (size_t p = 0; p < panel_count(n); p++) {
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
}

/* packed_column_sums by vpdpbusd of all-ones bytes against each group of a panel. */
static VNNI512_ATTR void packed_column_sums__avx512vnni(const int8_t *packed, size_t k, size_t n, int32_t *sums) {
    const size_t kp = padded_depth(k);
    const __m512i ones = _mm512_set1_epi8(1);
    for (size_t p = 0; p < panel_count(n); p++) {
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
}

/* 12 rows x np panels (np = 1 or 2); rows past the edge read a valid row and are discarded. */
static inline __attribute__((always_inline)) VNNI512_ATTR int
kernel_12xnp__avx512vnni(const int np, size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1, int32_t *acc,
                         const tile_out *out) {
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
    for (size_t g = 0; g < full; g++) VNNI512_STEP(g, load_u32(row[r] + 4 * g));
    if (k % 4) VNNI512_STEP(full, load_a4(row[r] + 4 * full, k % 4));
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
         * to even (as round_even_fast); zero point, clamp, narrow. */
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
        _mm512_storeu_si512(acc + r * 32, c[r][0]);
        if (np == 2) _mm512_storeu_si512(acc + r * 32 + 16, c[r][1]);
    }
    return 0;
}
static VNNI512_ATTR int kernel_12x16__avx512vnni(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1, int32_t *acc, const tile_out *out) {
    return kernel_12xnp__avx512vnni(1, k, row, p0, p1, acc, out);
}
static VNNI512_ATTR int kernel_12x32__avx512vnni(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1, int32_t *acc, const tile_out *out) {
    return kernel_12xnp__avx512vnni(2, k, row, p0, p1, acc, out);
}

/* 6 rows x 16 columns (one panel as two ymm of 8 lanes). */
static AVXVNNI_ATTR int kernel_6x16__avxvnni(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1, int32_t *acc, const tile_out *out) {
    (void)out;
    (void)p1;
    __m256i c[6][2];
    for (int r = 0; r < 6; r++) c[r][0] = c[r][1] = _mm256_setzero_si256();
    const size_t full = k / 4;
#define AVXVNNI_STEP(g, A_WORD)                                                              \
    do {                                                                                     \
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(p0 + (g) * NR * 4));        \
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(p0 + (g) * NR * 4 + 32));   \
        _Pragma("clang loop unroll(full)")                                                   \
        for (int r = 0; r < 6; r++) {                                                        \
            const __m256i av = _mm256_set1_epi32((int)(A_WORD));                             \
            c[r][0] = _mm256_dpbusd_avx_epi32(c[r][0], av, b0);                              \
            c[r][1] = _mm256_dpbusd_avx_epi32(c[r][1], av, b1);                              \
        }                                                                                    \
    } while (0)
    for (size_t g = 0; g < full; g++) AVXVNNI_STEP(g, load_u32(row[r] + 4 * g));
    if (k % 4) AVXVNNI_STEP(full, load_a4(row[r] + 4 * full, k % 4));
#undef AVXVNNI_STEP
    for (int r = 0; r < 6; r++) {
        _mm256_storeu_si256((__m256i *)(acc + r * 32), c[r][0]);
        _mm256_storeu_si256((__m256i *)(acc + r * 32 + 8), c[r][1]);
    }
    return 0;
}

/* 2 rows x 16 columns without VNNI: bytes widen to int16 and vpmaddwd adds exact pairs of
 * products into int32 (vpmaddubsw would saturate int16 on full-range operands). Each of the
 * four accumulators per row holds, for 4 columns, two partial sums that are added at the end. */
static AVX2_ATTR int kernel_2x16__avx2(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1, int32_t *acc, const tile_out *out) {
    (void)out;
    (void)p1;
    __m256i c[2][4];
    for (int r = 0; r < 2; r++) for (int q = 0; q < 4; q++) c[r][q] = _mm256_setzero_si256();
    const size_t full = k / 4;
#define AVX2_STEP(g, A_WORD)                                                                 \
    do {                                                                                     \
        __m256i b[4];                                                                        \
        for (int q = 0; q < 4; q++)                                                          \
            b[q] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(p0 + (g) * NR * 4 + 16 * q))); \
        _Pragma("clang loop unroll(full)")                                                   \
        for (int r = 0; r < 2; r++) {                                                        \
            const __m256i av = _mm256_cvtepu8_epi16(_mm_set1_epi32((int)(A_WORD)));          \
            for (int q = 0; q < 4; q++) c[r][q] = _mm256_add_epi32(c[r][q], _mm256_madd_epi16(av, b[q])); \
        }                                                                                    \
    } while (0)
    for (size_t g = 0; g < full; g++) AVX2_STEP(g, load_u32(row[r] + 4 * g));
    if (k % 4) AVX2_STEP(full, load_a4(row[r] + 4 * full, k % 4));
#undef AVX2_STEP
    int32_t partial[8];
    for (int r = 0; r < 2; r++)
        for (int q = 0; q < 4; q++) {
            _mm256_storeu_si256((__m256i *)partial, c[r][q]);
            for (int j = 0; j < 4; j++) acc[r * 32 + 4 * q + j] = partial[2 * j] + partial[2 * j + 1];
        }
    return 0;
}
#endif

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#define NEON_ATTR
#else
#define NEON_ATTR __attribute__((target("dotprod")))
#endif
#if defined(__aarch64__)
/* 8 rows x 16 columns with sdot (signed x signed): A is flipped to signed by xor 0x80, and
 * 128 * column sums of B (taken with one more sdot against ones) are added back. */
static NEON_ATTR int kernel_8x16__neondot(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1, int32_t *acc, const tile_out *out) {
    (void)out;
    (void)p1;
    int32x4_t c[8][4], sums[4];
    for (int q = 0; q < 4; q++) sums[q] = vdupq_n_s32(0);
    for (int r = 0; r < 8; r++) for (int q = 0; q < 4; q++) c[r][q] = vdupq_n_s32(0);
    const int8x16_t ones = vdupq_n_s8(1);
    const size_t groups = k / 4, tail = k % 4;
    for (size_t g = 0; g <= groups; g++) {
        if (g == groups && tail == 0) break;
        int8x16_t b[4];
        for (int q = 0; q < 4; q++) {
            b[q] = vld1q_s8(p0 + g * NR * 4 + 16 * q);
            sums[q] = vdotq_s32(sums[q], b[q], ones);
        }
        for (int r = 0; r < 8; r++) {
            uint32_t w = load_a4(row[r] + 4 * g, g == groups ? tail : 4);
            /* Bytes past k are 0 in B, so flipping them does not change the sum. */
            const int8x16_t av = vreinterpretq_s8_u32(vdupq_n_u32(w ^ 0x80808080u));
            for (int q = 0; q < 4; q++) c[r][q] = vdotq_s32(c[r][q], av, b[q]);
        }
    }
    for (int r = 0; r < 8; r++)
        for (int q = 0; q < 4; q++)
            vst1q_s32(acc + r * 32 + 4 * q, vaddq_s32(c[r][q], vshlq_n_s32(sums[q], 7)));
    return 0;
}
#endif

/* ---- dispatch ---- */

typedef int (*q8_kernel)(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1, int32_t *acc,
                         const tile_out *out);

static volatile int forced_isa = -1;

static unsigned detect_isa(void) {
    const unsigned f = onboard_cpu_isa_flags();
    if (f & ONBOARD_ISA_AVX512VNNI) return ONBOARD_ISA_AVX512VNNI;
    if (f & ONBOARD_ISA_AVXVNNI) return ONBOARD_ISA_AVXVNNI;
    if (f & ONBOARD_ISA_AVX2) return ONBOARD_ISA_AVX2;
    if (f & ONBOARD_ISA_NEON_DOT) return ONBOARD_ISA_NEON_DOT;
    return 0;
}

void onboard_q8_reset_isa(void) { forced_isa = -1; }

unsigned onboard_q8_active_isa(void) { return forced_isa >= 0 ? (unsigned)forced_isa : detect_isa(); }

int onboard_q8_force_isa(unsigned isa) {
    const unsigned f = onboard_cpu_isa_flags();
    const int supported = isa == 0
        || (isa == ONBOARD_ISA_AVX2 && (f & ONBOARD_ISA_AVX2))
        || (isa == ONBOARD_ISA_AVXVNNI && (f & ONBOARD_ISA_AVXVNNI))
        || (isa == ONBOARD_ISA_AVX512VNNI && (f & ONBOARD_ISA_AVX512VNNI))
        || (isa == ONBOARD_ISA_NEON_DOT && (f & ONBOARD_ISA_NEON_DOT));
    if (!supported) return -1;
    forced_isa = (int)isa;
    return 0;
}

static void gemm_panels(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *packed,
                        const onboard_q8_epilogue *e, void *c, size_t ldc, size_t panel_begin, size_t panel_end,
                        size_t origin) {
    size_t mr = 1, np = 1;
    q8_kernel kernel = NULL, kernel_single = NULL;
    switch (onboard_q8_active_isa()) {
#if defined(__x86_64__)
    case ONBOARD_ISA_AVX512VNNI: mr = 12; np = 2; kernel = kernel_12x32__avx512vnni; kernel_single = kernel_12x16__avx512vnni; break;
    case ONBOARD_ISA_AVXVNNI: mr = 6; kernel = kernel_6x16__avxvnni; break;
    case ONBOARD_ISA_AVX2: mr = 2; kernel = kernel_2x16__avx2; break;
#elif defined(__aarch64__)
    case ONBOARD_ISA_NEON_DOT: mr = 8; kernel = kernel_8x16__neondot; break;
#endif
    default: break;
    }
    if (!kernel_single) kernel_single = kernel;
    const size_t kp = padded_depth(k);
    const int stream = e->out_type == ONBOARD_Q8_OUT_S32 && m * ldc * sizeof(int32_t) > STREAM_OUTPUT_BYTES;
    int32_t acc[12 * 32];
    const uint8_t *row[12];
    /* Row blocks of MC rows (a multiple of every mr) keep their slice of A in L2 while all the
     * panels pass over it, instead of streaming all of A once per panel. */
    const size_t mc = 96;
    for (size_t i0 = 0; i0 < m; i0 += mc)
    for (size_t p = panel_begin; p < panel_end;) {
        const size_t step = (np == 2 && p + 1 < panel_end) ? 2 : 1;
        const size_t j0 = p * NR;
        const size_t cols = (n - j0 < step * NR) ? n - j0 : step * NR;
        const int8_t *p0 = packed + p * NR * kp, *p1 = step == 2 ? p0 + NR * kp : p0;
        const size_t i_end = m - i0 < mc ? m : i0 + mc;
        for (size_t i = i0; i < i_end; i += mr) {
            const size_t rows = i_end - i < mr ? i_end - i : mr;
            for (size_t r = 0; r < mr; r++) row[r] = a + (i + (r < rows ? r : 0)) * lda;
            if (kernel) {
                const tile_out out = { e, c, ldc, i, j0, rows, cols, origin, stream };
                if (!(step == 2 ? kernel : kernel_single)(k, row, p0, p1, acc, &out))
                    store_tile(acc, 32, rows, cols, i, j0, e, c, ldc, origin);
            } else {
                tile_generic(rows, k, row, p0, acc);
                store_tile(acc, NR, rows, cols, i, j0, e, c, ldc, origin);
            }
        }
        p += step;
    }
#if defined(__x86_64__)
    if (stream) _mm_sfence(); /* non-temporal stores are weakly ordered: publish them before returning */
#endif
}

void onboard_q8_gemm(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *packed,
                     const onboard_q8_epilogue *e, void *c, size_t ldc, size_t panel_begin, size_t panel_end) {
    gemm_panels(m, n, k, a, lda, packed, e, c, ldc, panel_begin, panel_end, 0);
}

void onboard_q8_gemm_panels_into(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *packed,
                                 const onboard_q8_epilogue *e, void *c, size_t ldc, size_t panel_begin, size_t panel_end) {
    gemm_panels(m, n, k, a, lda, packed, e, c, ldc, panel_begin, panel_end, panel_begin * NR);
}

/* ---- activation codecs ---- */

static inline int32_t quantize_one(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
    float v = x / scale;
    const float lo = (float)(qmin - zp), hi = (float)(qmax - zp);
    v = v > hi ? hi : v;
    v = v >= lo ? v : lo; /* NaN goes low */
    return (int32_t)round_even_fast(v) + zp;
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void onboard_q8_quantize_u8(const float *x, uint8_t *y, size_t n, float scale, int32_t zero_point,
                            int32_t qmin, int32_t qmax) {
    for (size_t i = 0; i < n; i++) y[i] = (uint8_t)quantize_one(x[i], scale, zero_point, qmin, qmax);
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void onboard_q8_dequantize_u8(const uint8_t *x, float *y, size_t n, float scale, int32_t zero_point) {
    for (size_t i = 0; i < n; i++) y[i] = scale * (float)((int32_t)x[i] - zero_point);
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void onboard_q8_requantize_u8(const uint8_t *x, uint8_t *y, size_t n, float in_scale, int32_t in_zero_point,
                              float out_scale, int32_t out_zero_point) {
    for (size_t i = 0; i < n; i++)
        y[i] = (uint8_t)quantize_one(in_scale * (float)((int32_t)x[i] - in_zero_point), out_scale, out_zero_point, 0, 255);
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void onboard_q8_row_sums(const uint8_t *a, size_t m, size_t k, size_t lda, int32_t *sums) {
    for (size_t i = 0; i < m; i++) {
        int32_t s = 0;
        for (size_t t = 0; t < k; t++) s += a[i * lda + t];
        sums[i] = s;
    }
}

#if defined(__x86_64__)
/* 64 lookups at once: two 128-entry halves by vpermi2b, chosen by the code's top bit. */
static __attribute__((target("avx512f,avx512bw,avx512vbmi"))) void lookup__avx512vbmi(const uint8_t *x, uint8_t *y, size_t n,
                                                                                     const uint8_t *table) {
    const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
    const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512i codes = _mm512_loadu_si512(x + i);
        const __m512i low = _mm512_permutex2var_epi8(t0, codes, t1), high = _mm512_permutex2var_epi8(t2, codes, t3);
        const __mmask64 top = _mm512_movepi8_mask(codes);
        _mm512_storeu_si512(y + i, _mm512_mask_blend_epi8(top, low, high));
    }
    for (; i < n; i++) y[i] = table[x[i]];
}
#endif

void onboard_q8_lookup_u8(const uint8_t *x, uint8_t *y, size_t n, const uint8_t *table) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512vbmi") && onboard_q8_active_isa() == ONBOARD_ISA_AVX512VNNI) {
        lookup__avx512vbmi(x, y, n, table);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) y[i] = table[x[i]];
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void onboard_q8_add_u8(const uint8_t *a, float a_scale, int32_t a_zero_point,
                       const uint8_t *b, float b_scale, int32_t b_zero_point, float b_sign,
                       uint8_t *y, size_t n, float y_scale, int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    for (size_t i = 0; i < n; i++) {
        /* The same float steps as dequantize, add and quantize one after another. */
        const float va = a_scale * (float)((int32_t)a[i] - a_zero_point);
        const float vb = b_scale * (float)((int32_t)b[i] - b_zero_point);
        y[i] = (uint8_t)quantize_one(b_sign > 0 ? va + vb : va - vb, y_scale, y_zero_point, y_min, y_max);
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void add_u8_dyadic__reference(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,
                                     const uint8_t *b, int32_t b_zero_point, int32_t b_multiplier, int32_t shift,
                                     uint8_t *y, size_t n, int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    const int64_t half = (int64_t)1 << (shift - 1);
    for (size_t i = 0; i < n; i++) {
        const int64_t sum = (int64_t)a_multiplier * ((int32_t)a[i] - a_zero_point)
                          + (int64_t)b_multiplier * ((int32_t)b[i] - b_zero_point);
        int64_t v = ((sum + half) >> shift) + y_zero_point; /* round half up */
        v = v < y_min ? y_min : v;
        y[i] = (uint8_t)(v > y_max ? y_max : v);
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void add_const_u8_dyadic__reference(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier, const int32_t *addend,
                                           int32_t shift, uint8_t *y, size_t n, int32_t y_zero_point, int32_t y_min,
                                           int32_t y_max) {
    const int64_t half = (int64_t)1 << (shift - 1);
    for (size_t i = 0; i < n; i++) {
        const int64_t sum = (int64_t)a_multiplier * ((int32_t)a[i] - a_zero_point) + addend[i];
        int64_t v = ((sum + half) >> shift) + y_zero_point; /* round half up */
        v = v < y_min ? y_min : v;
        y[i] = (uint8_t)(v > y_max ? y_max : v);
    }
}

#if defined(__x86_64__)
#define ADD512_ATTR __attribute__((target("avx512f,avx512bw,avx512vl")))

/* The dyadic adds in 32-bit lanes. Each product m d (|d| <= 255) is split as m_hi d 2^16 + m_lo d
 * with m_hi = m >> 16 and m_lo = m & 0xFFFF, so the int64 sum is H 2^16 + L with H and L well inside
 * int32. For 17 <= s <= 46 the reference's floor((H 2^16 + L + 2^(s-1)) / 2^s) equals
 * (H + 2^(s-17) + (L >> 16)) >> (s - 16): the floor of L / 2^16 can be taken first. */
typedef struct {
    __m512i a_high, a_low, b_high, b_low, a_zero, b_zero, half, y_zero, y_min, y_max;
    __m128i shift;
} dyadic_add_constants;

static inline ADD512_ATTR dyadic_add_constants dyadic_add_setup(int32_t a_zero_point, int32_t a_multiplier, int32_t b_zero_point,
                                                                int32_t b_multiplier, int32_t shift, int32_t y_zero_point,
                                                                int32_t y_min, int32_t y_max) {
    return (dyadic_add_constants){
        .a_high = _mm512_set1_epi32(a_multiplier >> 16), .a_low = _mm512_set1_epi32(a_multiplier & 0xFFFF),
        .b_high = _mm512_set1_epi32(b_multiplier >> 16), .b_low = _mm512_set1_epi32(b_multiplier & 0xFFFF),
        .a_zero = _mm512_set1_epi32(a_zero_point), .b_zero = _mm512_set1_epi32(b_zero_point),
        .half = _mm512_set1_epi32(1 << (shift - 17)), .y_zero = _mm512_set1_epi32(y_zero_point),
        .y_min = _mm512_set1_epi32(y_min), .y_max = _mm512_set1_epi32(y_max), .shift = _mm_cvtsi32_si128(shift - 16)};
}

/* 16 codes from the split sum. */
static inline ADD512_ATTR __m128i dyadic_add_codes(const dyadic_add_constants *c, __m512i high, __m512i low) {
    __m512i v = _mm512_sra_epi32(_mm512_add_epi32(_mm512_add_epi32(high, c->half), _mm512_srai_epi32(low, 16)), c->shift);
    v = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(v, c->y_zero), c->y_min), c->y_max);
    return _mm512_cvtepi32_epi8(v);
}

static ADD512_ATTR void add_u8_dyadic__avx512(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,
                                              const uint8_t *b, int32_t b_zero_point, int32_t b_multiplier, int32_t shift,
                                              uint8_t *y, size_t n, int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    const dyadic_add_constants c = dyadic_add_setup(a_zero_point, a_multiplier, b_zero_point, b_multiplier, shift,
                                                    y_zero_point, y_min, y_max);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512i da = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, a + i)), c.a_zero);
        const __m512i db = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, b + i)), c.b_zero);
        const __m512i high = _mm512_add_epi32(_mm512_mullo_epi32(da, c.a_high), _mm512_mullo_epi32(db, c.b_high));
        const __m512i low = _mm512_add_epi32(_mm512_mullo_epi32(da, c.a_low), _mm512_mullo_epi32(db, c.b_low));
        _mm_mask_storeu_epi8(y + i, m, dyadic_add_codes(&c, high, low));
    }
}

static ADD512_ATTR void add_const_u8_dyadic__avx512(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,
                                                    const int32_t *addend, int32_t shift, uint8_t *y, size_t n,
                                                    int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    const dyadic_add_constants c = dyadic_add_setup(a_zero_point, a_multiplier, 0, 0, shift, y_zero_point, y_min, y_max);
    const __m512i low_bits = _mm512_set1_epi32(0xFFFF);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512i da = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, a + i)), c.a_zero);
        const __m512i k = _mm512_maskz_loadu_epi32(m, addend + i);
        const __m512i high = _mm512_add_epi32(_mm512_mullo_epi32(da, c.a_high), _mm512_srai_epi32(k, 16));
        const __m512i low = _mm512_add_epi32(_mm512_mullo_epi32(da, c.a_low), _mm512_and_si512(k, low_bits));
        _mm_mask_storeu_epi8(y + i, m, dyadic_add_codes(&c, high, low));
    }
}
#endif

/* The 32-bit lanes run where the int8 GEMM runs its AVX-512 VNNI path, for the shifts they cover. */
static int use_avx512_dyadic_add(int32_t shift) {
#if defined(__x86_64__)
    return onboard_q8_active_isa() == ONBOARD_ISA_AVX512VNNI && shift >= 17 && shift <= 46;
#else
    (void)shift;
    return 0;
#endif
}

void onboard_q8_add_u8_dyadic(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,
                              const uint8_t *b, int32_t b_zero_point, int32_t b_multiplier, int32_t shift,
                              uint8_t *y, size_t n, int32_t y_zero_point, int32_t y_min, int32_t y_max) {
#if defined(__x86_64__)
    if (use_avx512_dyadic_add(shift)) {
        add_u8_dyadic__avx512(a, a_zero_point, a_multiplier, b, b_zero_point, b_multiplier, shift, y, n, y_zero_point, y_min, y_max);
        return;
    }
#endif
    add_u8_dyadic__reference(a, a_zero_point, a_multiplier, b, b_zero_point, b_multiplier, shift, y, n, y_zero_point, y_min, y_max);
}

void onboard_q8_add_const_u8_dyadic(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier, const int32_t *addend,
                                    int32_t shift, uint8_t *y, size_t n, int32_t y_zero_point, int32_t y_min, int32_t y_max) {
#if defined(__x86_64__)
    if (use_avx512_dyadic_add(shift)) {
        add_const_u8_dyadic__avx512(a, a_zero_point, a_multiplier, addend, shift, y, n, y_zero_point, y_min, y_max);
        return;
    }
#endif
    add_const_u8_dyadic__reference(a, a_zero_point, a_multiplier, addend, shift, y, n, y_zero_point, y_min, y_max);
}
