/* Private to the x86 GEMM kernels (q8_gemm__<isa>.c, q4_gemm__<isa>.c): their tiles, written once
 * for B codes of 8 bits (q8_gemm.h) and of 4 bits (q4_gemm.h; `bits` is a constant, so each kernel
 * is its own specialization), with the epilogues they fuse. */
#ifndef ONBOARD_Q8_GEMM_X86_H
#define ONBOARD_Q8_GEMM_X86_H
#include "q8_gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang diagnostic ignored "-Wpsabi"
/* No fused multiply-adds behind our back: every path must round exactly like the reference. */
#pragma clang fp contract(off)

#define AVX2_ATTR __attribute__((target("avx2,fma")))
#define AVXVNNI_ATTR __attribute__((target("avx2,fma,avxvnni")))
#define VNNI512_ATTR __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

/* ---- B's depth groups as int8 vectors of q8's layout ---- */

/* Two's complement nibbles to int8 by a byte shuffle (each 128-bit lane holds the table). */
#define Q4_SIGN_TABLE 0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1

/* Depth group g of a panel as columns 0..7 (b0) and 8..15 (b1), 4 depths per 32-bit lane: 64
 * bytes, or with 4-bit codes 32 bytes whose low nibbles are b0 and high nibbles b1. */
static inline __attribute__((always_inline)) AVX2_ATTR void q8_b_group__avx2(const int bits, const int8_t *p, size_t g,
                                                                            __m256i *b0, __m256i *b1) {
    if (bits == 8) {
        *b0 = _mm256_loadu_si256((const __m256i *)(p + g * NR * 4));
        *b1 = _mm256_loadu_si256((const __m256i *)(p + g * NR * 4 + 32));
        return;
    }
    const __m256i x = _mm256_loadu_si256((const __m256i *)(p + g * NR * 2)), low = _mm256_set1_epi8(15);
    const __m256i table = _mm256_setr_epi8(Q4_SIGN_TABLE, Q4_SIGN_TABLE);
    *b0 = _mm256_shuffle_epi8(table, _mm256_and_si256(x, low));
    *b1 = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(x, 4), low));
}

/* Depth group g of a panel as one register (16 columns x 4 depths); 4-bit codes: the 32 bytes in
 * both halves, the upper half shifted down a nibble (a masked shift of its 16-bit lanes). */
static inline __attribute__((always_inline)) VNNI512_ATTR __m512i q8_b_group__avx512vnni(const int bits, const int8_t *p,
                                                                                          size_t g) {
    if (bits == 8) return _mm512_loadu_si512(p + g * NR * 4);
    const __m512i x = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(p + g * NR * 2)));
    const __m512i nibbles = _mm512_and_si512(_mm512_mask_srli_epi16(x, (__mmask32)0xFFFF0000u, x, 4), _mm512_set1_epi8(15));
    return _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_setr_epi8(Q4_SIGN_TABLE)), nibbles);
}

/* ---- AVX2 ---- */

/* q8_fixed_point_multiply_inline on 8 lanes: the 64-bit products by vpmuldq on even and odd lanes,
 * bits 31...62 of p + 2^30 (the same for a logical and an arithmetic shift), then the rounding
 * division by 2^s. */
static inline __attribute__((always_inline)) AVX2_ATTR __m256i q8_fixed_point_multiply__avx2(__m256i x, __m256i m, __m256i shift) {
    const __m256i half = _mm256_set1_epi64x((int64_t)1 << 30);
    const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, m), half), 31);
    const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32)), half);
    __m256i high = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 1), 0xAA);
    const __m256i lowest = _mm256_set1_epi32(INT32_MIN); /* INT32_MIN squared saturates */
    const __m256i saturated = _mm256_and_si256(_mm256_cmpeq_epi32(x, lowest), _mm256_cmpeq_epi32(m, lowest));
    high = _mm256_blendv_epi8(high, _mm256_set1_epi32(INT32_MAX), saturated);
    const __m256i s = _mm256_max_epi32(shift, _mm256_setzero_si256());
    const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), s), _mm256_set1_epi32(1));
    const __m256i threshold = _mm256_add_epi32(_mm256_srai_epi32(mask, 1), _mm256_srli_epi32(high, 31));
    const __m256i up = _mm256_cmpgt_epi32(_mm256_and_si256(high, mask), threshold);
    return _mm256_sub_epi32(_mm256_srav_epi32(high, s), up);
}

/* Whether q8_store8__avx2 takes this epilogue's output: int32, f32, and u8 / s8 whose clamp lies
 * within the type (the shared loops wrap codes outside it, the packs would saturate them). */
static inline int q8_store8_takes(const onboard_q8_epilogue *e) {
    switch (e->out_type) {
    case ONBOARD_Q8_OUT_S32: case ONBOARD_Q8_OUT_F32: return 1;
    case ONBOARD_Q8_OUT_U8: return e->out_min >= 0 && e->out_max <= 255;
    case ONBOARD_Q8_OUT_S8: return e->out_min >= -128 && e->out_max <= 127;
    }
    return 0;
}

/* The shared epilogue (q8_gemm.c's store_tile) on 8 columns j..j+7 of one output row, v being
 * their sums with every int32 bias added: stored at element `at` of C as `type` (the epilogue's
 * out_type; a constant in each caller's specialization), by the same integer and float steps (no
 * FMA), so bit for bit the shared loops' values. */
static inline __attribute__((always_inline)) AVX2_ATTR void q8_store8__avx2(const onboard_q8_out_type type, __m256i v,
                                                                           const onboard_q8_epilogue *e, size_t j, void *c,
                                                                           size_t at, int stream) {
    if (type == ONBOARD_Q8_OUT_S32) {
        int32_t *dst = (int32_t *)c + at;
        if (stream && ((uintptr_t)dst & 31) == 0) _mm256_stream_si256((__m256i *)dst, v);
        else _mm256_storeu_si256((__m256i *)dst, v);
        return;
    }
    const size_t si = e->scale_per_column ? j : 0;
    if (type == ONBOARD_Q8_OUT_F32) {
        const __m256 scale = e->scale_per_column ? _mm256_loadu_ps(e->scale + si) : _mm256_set1_ps(e->scale ? e->scale[0] : 1.0f);
        __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(v), scale);
        if (e->f32_bias) y = _mm256_add_ps(y, _mm256_loadu_ps(e->f32_bias + j));
        _mm256_storeu_ps((float *)c + at, y);
        return;
    }
    if (e->use_fixed_point) {
        const __m256i m = e->scale_per_column ? _mm256_loadu_si256((const __m256i *)(e->multiplier + si)) : _mm256_set1_epi32(e->multiplier[0]);
        const __m256i s = e->scale_per_column ? _mm256_loadu_si256((const __m256i *)(e->shift + si)) : _mm256_set1_epi32(e->shift[0]);
        v = q8_fixed_point_multiply__avx2(v, m, s);
    } else {
        const __m256 scale = e->scale_per_column ? _mm256_loadu_ps(e->scale + si) : _mm256_set1_ps(e->scale ? e->scale[0] : 1.0f);
        const __m256 limit = _mm256_set1_ps(4194304.0f), magic = _mm256_set1_ps(12582912.0f);
        __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(v), scale);
        /* q8_round_even_fast: clamp to +-2^22 (NaN cannot occur), then add and subtract 1.5 * 2^23 */
        f = _mm256_min_ps(_mm256_max_ps(f, _mm256_sub_ps(_mm256_setzero_ps(), limit)), limit);
        v = _mm256_cvttps_epi32(_mm256_sub_ps(_mm256_add_ps(f, magic), magic));
    }
    v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, _mm256_set1_epi32(e->out_zero_point)), _mm256_set1_epi32(e->out_min)),
                         _mm256_set1_epi32(e->out_max));
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i bytes = type == ONBOARD_Q8_OUT_U8 ? _mm_packus_epi16(words, words) : _mm_packs_epi16(words, words);
    _mm_storel_epi64((__m128i *)((uint8_t *)c + at), bytes);
}

/* Rows [0, rows) of a 16-column int32 tile (v[r][0]: columns 0..7, v[r][1]: 8..15) plus the
 * epilogue's biases, through the epilogue straight from the registers: the shared epilogue's
 * row-by-row staging costs about 15 % of the tile at k = 384, and more than the product itself
 * at small k. Same sums in the same wrapping int32 adds. */
static inline __attribute__((always_inline)) AVX2_ATTR void q8_store_rows__avx2(const onboard_q8_out_type type, __m256i (*v)[2],
                                                                              int mr, const q8_tile_out *out) {
    const onboard_q8_epilogue *e = out->e;
    const __m256i cb0 = e->col_bias ? _mm256_loadu_si256((const __m256i *)(e->col_bias + out->j0)) : _mm256_setzero_si256();
    const __m256i cb1 = e->col_bias ? _mm256_loadu_si256((const __m256i *)(e->col_bias + out->j0 + 8)) : _mm256_setzero_si256();
    for (int r = 0; r < mr; r++) {
        if ((size_t)r >= out->rows) break;
        __m256i v0 = _mm256_add_epi32(v[r][0], cb0), v1 = _mm256_add_epi32(v[r][1], cb1);
        if (e->row_bias) {
            const __m256i rb = _mm256_set1_epi32(e->row_bias[out->i0 + r]);
            v0 = _mm256_add_epi32(v0, rb);
            v1 = _mm256_add_epi32(v1, rb);
        }
        if (e->tile_bias) {
            const int32_t *tb = e->tile_bias + (out->i0 + r) * e->tile_bias_ld + out->j0;
            v0 = _mm256_add_epi32(v0, _mm256_loadu_si256((const __m256i *)tb));
            v1 = _mm256_add_epi32(v1, _mm256_loadu_si256((const __m256i *)(tb + 8)));
        }
        const size_t at = (out->i0 + r) * out->ldc + out->j0 - out->origin;
        q8_store8__avx2(type, v0, e, out->j0, out->c, at, out->stream);
        q8_store8__avx2(type, v1, e, out->j0 + 8, out->c, at + 8, out->stream);
    }
}

/* A finished tile of mr rows x 16 columns: stored from the registers (returns 1), or into acc for
 * the shared epilogue (returns 0). */
static inline __attribute__((always_inline)) AVX2_ATTR int q8_finish_x16__avx2(__m256i (*c)[2], int mr, int32_t *acc,
                                                                             const q8_tile_out *out) {
    if (out->cols == NR && q8_store8_takes(out->e)) {
        switch (out->e->out_type) {
        case ONBOARD_Q8_OUT_U8: q8_store_rows__avx2(ONBOARD_Q8_OUT_U8, c, mr, out); break;
        case ONBOARD_Q8_OUT_S8: q8_store_rows__avx2(ONBOARD_Q8_OUT_S8, c, mr, out); break;
        case ONBOARD_Q8_OUT_F32: q8_store_rows__avx2(ONBOARD_Q8_OUT_F32, c, mr, out); break;
        case ONBOARD_Q8_OUT_S32: q8_store_rows__avx2(ONBOARD_Q8_OUT_S32, c, mr, out); break;
        }
        return 1;
    }
    for (int r = 0; r < mr; r++) {
        _mm256_storeu_si256((__m256i *)(acc + r * ONBOARD_Q8_ACC_LD), c[r][0]);
        _mm256_storeu_si256((__m256i *)(acc + r * ONBOARD_Q8_ACC_LD + 8), c[r][1]);
    }
    return 0;
}

/* 6 rows x 16 columns for B codes in [-64, 64] (8-bit codes) or [-8, 7] (4-bit): vpmaddubsw's
 * int16 pair sums stay within 2 * 255 * 64 = 32640, so nothing saturates; vpmaddwd by ones widens
 * them to int32. Each accumulator holds 8 whole columns (one 32-bit lane = 4 depths of one column), and A's 4 bytes
 * are broadcast straight from the row: 2 of 3 vector ops multiply, against 1 of 3 when widening. */
static inline __attribute__((always_inline)) AVX2_ATTR int
q8_tile_6x16_maddubs__avx2(const int bits, size_t k, const uint8_t *const *row, const int8_t *p0, int32_t *acc,
                           const q8_tile_out *out) {
    enum { MR = 6 };
    __m256i c[MR][2];
    for (int r = 0; r < MR; r++) c[r][0] = c[r][1] = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi16(1);
    const size_t full = k / 4;
#define B7_STEP(g, A_WORD)                                                                        \
    do {                                                                                          \
        __m256i b0, b1;                                                                           \
        q8_b_group__avx2(bits, p0, g, &b0, &b1);                                                  \
        _Pragma("clang loop unroll(full)")                                                        \
        for (int r = 0; r < MR; r++) {                                                            \
            const __m256i av = _mm256_set1_epi32((int)(A_WORD));                                  \
            c[r][0] = _mm256_add_epi32(c[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(av, b0), ones)); \
            c[r][1] = _mm256_add_epi32(c[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(av, b1), ones)); \
        }                                                                                         \
    } while (0)
    for (size_t g = 0; g < full; g++) B7_STEP(g, q8_load_u32(row[r] + 4 * g));
    if (k % 4) B7_STEP(full, q8_load_a4(row[r] + 4 * full, k % 4));
#undef B7_STEP
    return q8_finish_x16__avx2(c, MR, acc, out);
}

/* 6 rows x 16 columns: per pair of depths, one broadcast int16 pair of A per row times B's 16
 * columns of int16 pairs (two registers) by vpmaddwd, each 32-bit lane a whole column's sum: 12
 * accumulators, 2 of B, 1 of A. Products of full-range codes (255 x -128) and their pair sums are
 * exact in int32. row[0] is the tile's A widened to int16, 6 rows of the padded depth each; p0 the
 * panel as int16 pairs (q8_product.c's layout). */
static inline __attribute__((always_inline)) AVX2_ATTR int
q8_tile_6x16c2__avx2(size_t k, const uint8_t *const *row, const int8_t *p0, int32_t *acc, const q8_tile_out *out) {
    enum { MR = 6 };
    const size_t kp = q8_padded_depth(k);
    const uint8_t *a = row[0];
    const int16_t *b = (const int16_t *)(const void *)p0;
    __m256i c[MR][2];
    for (int r = 0; r < MR; r++) c[r][0] = c[r][1] = _mm256_setzero_si256();
    for (size_t d = 0; d < kp / 2; d++) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + d * 2 * NR));
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + d * 2 * NR + NR));
        _Pragma("clang loop unroll(full)")
        for (int r = 0; r < MR; r++) {
            const __m256i av = _mm256_set1_epi32((int)q8_load_u32(a + 2 * (r * kp + 2 * d)));
            c[r][0] = _mm256_add_epi32(c[r][0], _mm256_madd_epi16(av, b0));
            c[r][1] = _mm256_add_epi32(c[r][1], _mm256_madd_epi16(av, b1));
        }
    }
    return q8_finish_x16__avx2(c, MR, acc, out);
}

/* ---- AVX-VNNI ---- */

/* 6 rows x 16 columns (one panel as two ymm of 8 lanes) of B codes of `bits` bits. */
static inline __attribute__((always_inline)) AVXVNNI_ATTR int
q8_tile_6x16__avxvnni(const int bits, size_t k, const uint8_t *const *row, const int8_t *p0, int32_t *acc) {
    __m256i c[6][2];
    for (int r = 0; r < 6; r++) c[r][0] = c[r][1] = _mm256_setzero_si256();
    const size_t full = k / 4;
#define AVXVNNI_STEP(g, A_WORD)                                                              \
    do {                                                                                     \
        __m256i b0, b1;                                                                      \
        q8_b_group__avx2(bits, p0, g, &b0, &b1);                                             \
        _Pragma("clang loop unroll(full)")                                                   \
        for (int r = 0; r < 6; r++) {                                                        \
            const __m256i av = _mm256_set1_epi32((int)(A_WORD));                             \
            c[r][0] = _mm256_dpbusd_avx_epi32(c[r][0], av, b0);                              \
            c[r][1] = _mm256_dpbusd_avx_epi32(c[r][1], av, b1);                              \
        }                                                                                    \
    } while (0)
    for (size_t g = 0; g < full; g++) AVXVNNI_STEP(g, q8_load_u32(row[r] + 4 * g));
    if (k % 4) AVXVNNI_STEP(full, q8_load_a4(row[r] + 4 * full, k % 4));
#undef AVXVNNI_STEP
    for (int r = 0; r < 6; r++) {
        _mm256_storeu_si256((__m256i *)(acc + r * ONBOARD_Q8_ACC_LD), c[r][0]);
        _mm256_storeu_si256((__m256i *)(acc + r * ONBOARD_Q8_ACC_LD + 8), c[r][1]);
    }
    return 0;
}

/* ---- AVX-512 VNNI ---- */

/* q8_fixed_point_multiply_inline on 16 lanes: 64-bit products of the even and the odd lanes. */
static inline __attribute__((always_inline)) VNNI512_ATTR __m512i
q8_fixed_point_multiply__avx512(__m512i x, __m512i multiplier, __m512i shift) {
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

/* Columns of panel h (16 columns each) that the tile holds: 0 past its last. */
static inline size_t q8_panel_width(const q8_tile_out *out, int h) {
    const size_t first = 16 * (size_t)h;
    return out->cols <= first ? 0 : out->cols - first < 16 ? out->cols - first : 16;
}

/* Row r of panel h's int32 sums with the epilogue's column, row and tile biases (column j, lanes in mask). */
static inline __attribute__((always_inline)) VNNI512_ATTR __m512i
q8_biased_row__avx512(__m512i sums, __m512i colb, __mmask16 mask, const q8_tile_out *out, int r, size_t j) {
    const onboard_q8_epilogue *e = out->e;
    __m512i v = _mm512_add_epi32(sums, colb);
    if (e->row_bias) v = _mm512_add_epi32(v, _mm512_set1_epi32(e->row_bias[out->i0 + r]));
    if (e->tile_bias) v = _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(mask, e->tile_bias + (out->i0 + r) * e->tile_bias_ld + j));
    return v;
}

/* 12 rows x np panels (np = 1 or 2) of B codes of `bits` bits (8, or 4: q4_gemm.h's nibbles); rows
 * past the edge read a valid row and are discarded. */
static inline __attribute__((always_inline)) VNNI512_ATTR int
q8_tile_12xnp__avx512vnni(const int bits, const int np, size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1, int32_t *acc,
           const q8_tile_out *out) {
    __m512i c[12][2];
    for (int r = 0; r < 12; r++) c[r][0] = c[r][1] = _mm512_setzero_si512();
    const size_t full = k / 4;
#define VNNI512_STEP(g, A_WORD)                                                              \
    do {                                                                                     \
        const __m512i b0 = q8_b_group__avx512vnni(bits, p0, g);                             \
        const __m512i b1 = np == 2 ? q8_b_group__avx512vnni(bits, p1, g) : b0;              \
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
            const size_t width = q8_panel_width(out, h), j = out->j0 + 16 * (size_t)h;
            if (width == 0) break;
            const __mmask16 mask = (__mmask16)((1u << width) - 1);
            const __m512i colb = e->col_bias ? _mm512_maskz_loadu_epi32(mask, e->col_bias + j) : _mm512_setzero_si512();
            _Pragma("clang loop unroll(full)")
            for (int r = 0; r < 12; r++) {
                if ((size_t)r >= out->rows) break;
                const __m512i v = q8_biased_row__avx512(c[r][h], colb, mask, out, r, j);
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
            const size_t width = q8_panel_width(out, h), j = out->j0 + 16 * (size_t)h;
            if (width == 0) break;
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
                const __m512i v = q8_biased_row__avx512(c[r][h], colb, mask, out, r, j);
                __m512i q;
                if (fixed) {
                    q = _mm512_add_epi32(q8_fixed_point_multiply__avx512(v, multiplier, shift), zp);
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
    if (e->out_type == ONBOARD_Q8_OUT_F32) {
        /* The shared epilogue's float output in registers: the int32 sums converted, times the
         * scale, then plus the float bias (a multiply and an add, as the loops round them). */
        for (int h = 0; h < np; h++) {
            const size_t width = q8_panel_width(out, h), j = out->j0 + 16 * (size_t)h;
            if (width == 0) break;
            const __mmask16 mask = (__mmask16)((1u << width) - 1);
            const __m512i colb = e->col_bias ? _mm512_maskz_loadu_epi32(mask, e->col_bias + j) : _mm512_setzero_si512();
            const __m512 scale = e->scale_per_column ? _mm512_maskz_loadu_ps(mask, e->scale + j)
                                                     : _mm512_set1_ps(e->scale ? e->scale[0] : 1.0f);
            const __m512 bias = e->f32_bias ? _mm512_maskz_loadu_ps(mask, e->f32_bias + j) : _mm512_setzero_ps();
            _Pragma("clang loop unroll(full)")
            for (int r = 0; r < 12; r++) {
                if ((size_t)r >= out->rows) break;
                const __m512i v = q8_biased_row__avx512(c[r][h], colb, mask, out, r, j);
                __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(v), scale);
                if (e->f32_bias) y = _mm512_add_ps(y, bias);
                float *dst = (float *)out->c + (out->i0 + r) * out->ldc + j - out->origin;
                if (width == 16) _mm512_storeu_ps(dst, y);
                else _mm512_mask_storeu_ps(dst, mask, y);
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
#endif
#endif
