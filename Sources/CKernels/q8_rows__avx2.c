/* Integer row kernels, AVX2: the loops of q8_rows_body.h built for it, the QANS epilogue 16
 * elements per step on the same integer steps (AVX2 has neither a 64x64-bit multiply nor a 64-bit
 * arithmetic shift: products are 32x32 -> 64 bits by vpmuldq, so the kernel checks that the
 * factors fit 32 bits, and shifts are logical shifts of the one's complement of negative lanes),
 * and the layernorm 16 elements per step in float with exact corrections. Both are bit-identical
 * to the loops (tested against them). Rows whose length is not a multiple of the step finish on a
 * padded copy. */
#include "q8_rows_kernels.h"

#if defined(__x86_64__)
#define BODY_ATTR __attribute__((target("avx2")))
#define BODY_SUFFIX __avx2
#include "q8_rows_body.h"

#include <immintrin.h>
#include <string.h>

#define ROWS256_ATTR __attribute__((target("avx2,fma"))) /* the AVX2 level includes FMA (isa.h) */

/* x >> s per 64-bit lane, arithmetic, for counts in `s` (0...63). */
static inline ROWS256_ATTR __m256i sra_epi64(__m256i x, __m256i s) {
    const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
    return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(x, sign), s), sign);
}

static inline ROWS256_ATTR int64_t sum_epi64(__m256i v) {
    const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
}

/* 16 codes from two vectors of 8 int32 lanes already within [0, 255]. */
static inline ROWS256_ATTR __m128i narrow_16(__m256i a, __m256i b) {
    const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8); /* a0-7, b0-7 */
    return _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
}

/* The fixed-point QANS epilogue for 0 < multiplier, shift <= 31: as in the AVX-512 variant, the
 * reference's two roundings of a difference x <= 0 are one floor,
 *   floor((x m + 2^30 + (2^(s-1) - 1) 2^31) / 2^(31+s)). */
static inline ROWS256_ATTR __m256i stabilize_8(__m256i v, __m256i vtop, __m256i lowest, __m256i vm, __m256i voffset,
                                               __m256i count, __m256i vzp, __m256i vlo, __m256i vhi) {
    const __m256i below = _mm256_sub_epi32(_mm256_max_epi32(v, lowest), vtop);
    const __m256i even = sra_epi64(_mm256_add_epi64(_mm256_mul_epi32(below, vm), voffset), count);
    const __m256i odd = sra_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(below, 32), vm), voffset), count);
    const __m256i q = _mm256_add_epi32(_mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA), vzp);
    return _mm256_min_epi32(_mm256_max_epi32(q, vlo), vhi);
}

ROWS256_ATTR
bool onboard_q8_stabilize_rows_s32_u16__avx2(const int32_t *sums, size_t rows, size_t n, float scale, int32_t multiplier,
                                             int32_t shift, uint8_t *y, int32_t zero_point, int32_t qmin, int32_t qmax) {
    if (!(multiplier > 0 && shift <= 31 && scale >= 0 && qmin >= 0 && qmin <= qmax && qmax <= 255)) return false;
    const int s = shift < 0 ? 0 : shift;
    const int64_t offset = ((int64_t)1 << 30) + (s > 0 ? (((int64_t)1 << (s - 1)) - 1) << 31 : 0);
    const __m256i vm = _mm256_set1_epi64x(multiplier), voffset = _mm256_set1_epi64x(offset);
    const __m256i count = _mm256_set1_epi64x(31 + s);
    const __m256i vzp = _mm256_set1_epi32(zero_point), vlo = _mm256_set1_epi32(qmin), vhi = _mm256_set1_epi32(qmax);
    const size_t full = n & ~(size_t)15;
    for (size_t r = 0; r < rows; r++) {
        const int32_t *v = sums + r * n;
        uint8_t *out = y + r * n;
        __m256i high = _mm256_set1_epi32(INT32_MIN);
        size_t j = 0;
        for (; j + 8 <= n; j += 8) high = _mm256_max_epi32(high, _mm256_loadu_si256((const __m256i *)(v + j)));
        int32_t lanes[8], top = INT32_MIN;
        _mm256_storeu_si256((__m256i *)lanes, high);
        for (int i = 0; i < 8; i++) top = lanes[i] > top ? lanes[i] : top;
        for (; j < n; j++) top = v[j] > top ? v[j] : top;
        const __m256i vtop = _mm256_set1_epi32(top);
        const __m256i lowest = _mm256_set1_epi32(top > INT32_MIN + (1 << 30) ? top - (1 << 30) : INT32_MIN);
#define STABILIZE_16(source, destination)                                                                              \
    _mm_storeu_si128((__m128i *)(destination),                                                                         \
        narrow_16(stabilize_8(_mm256_loadu_si256((const __m256i *)(source)), vtop, lowest, vm, voffset, count, vzp, vlo, vhi), \
                  stabilize_8(_mm256_loadu_si256((const __m256i *)((source) + 8)), vtop, lowest, vm, voffset, count, vzp, vlo, vhi)))
        for (j = 0; j < full; j += 16) STABILIZE_16(v + j, out + j);
        if (full < n) {
            int32_t padded[16];
            uint8_t codes[16];
            for (int i = 0; i < 16; i++) padded[i] = full + (size_t)i < n ? v[full + (size_t)i] : top;
            STABILIZE_16(padded, codes);
            memcpy(out + full, codes, n - full);
        }
#undef STABILIZE_16
    }
    return true;
}

/* The layernorm in float with exact corrections (q8_layernorm_float_body.h), 16 codes per step
 * as two vectors of 8. */
typedef struct {
    __m256 n, sum, c;
} layernorm_row;

static inline ROWS256_ATTR void layernorm_row_set(layernorm_row *r, size_t n, int64_t sum, float step) {
    r->n = _mm256_set1_ps((float)n);
    r->sum = _mm256_set1_ps((float)sum);
    r->c = _mm256_set1_ps(step);
}

/* Eight codes of channels at...at+7 to int32 rint(z); `unsure` gets the lanes to recompute. */
static inline ROWS256_ATTR __m256i layernorm_8(const uint8_t *codes, const float *slope, const float *offset, const float *margin,
                                               const layernorm_row *r, __m256 *unsure) {
    const __m256 x = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)codes)));
    const __m256 d = _mm256_fmsub_ps(x, r->n, r->sum);
    const __m256 z = _mm256_fmadd_ps(_mm256_mul_ps(d, r->c), _mm256_loadu_ps(slope), _mm256_loadu_ps(offset));
    const __m256 nearest = _mm256_round_ps(z, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 distance = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(z, nearest));
    *unsure = _mm256_or_ps(*unsure, _mm256_cmp_ps(distance, _mm256_loadu_ps(margin), _CMP_NLT_UQ));
    return _mm256_cvtps_epi32(nearest);
}

/* Sixteen codes of channels at...at+15 (their constants from `slope`, `offset`, `margin`) into `out`;
 * returns the mask of those to recompute. */
static inline ROWS256_ATTR unsigned layernorm_16(const uint8_t *codes, uint8_t *out, const float *slope, const float *offset,
                                                 const float *margin, const layernorm_row *r, int32_t qmin, int32_t qmax) {
    __m256 unsure_a = _mm256_setzero_ps(), unsure_b = _mm256_setzero_ps();
    const __m256i a = layernorm_8(codes, slope, offset, margin, r, &unsure_a);
    const __m256i b = layernorm_8(codes + 8, slope + 8, offset + 8, margin + 8, r, &unsure_b);
    _mm_storeu_si128((__m128i *)out, _mm_min_epu8(_mm_max_epu8(narrow_16(a, b), _mm_set1_epi8((char)qmin)), _mm_set1_epi8((char)qmax)));
    return (unsigned)_mm256_movemask_ps(unsure_a) | (unsigned)_mm256_movemask_ps(unsure_b) << 8;
}

/* Sum and n sum x^2 - sum^2 (= sum D^2 / n) of a row. */
static inline ROWS256_ATTR void layernorm_row_moments(const uint8_t *row, size_t n, int64_t *sum, int64_t *mean_square) {
    __m256i sums = _mm256_setzero_si256(), squares = _mm256_setzero_si256();
    size_t j = 0;
    for (; j + 32 <= n; j += 32) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(row + j));
        sums = _mm256_add_epi64(sums, _mm256_sad_epu8(v, _mm256_setzero_si256()));
        const __m256i w0 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(v)), w1 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(v, 1));
        /* each int32 lane gains at most 4 x 255^2 per step: below 2^31 for n <= 2^16 */
        squares = _mm256_add_epi32(squares, _mm256_add_epi32(_mm256_madd_epi16(w0, w0), _mm256_madd_epi16(w1, w1)));
    }
    __m128i q = _mm_add_epi32(_mm256_castsi256_si128(squares), _mm256_extracti128_si256(squares, 1));
    q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0x4E));
    q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 0xB1));
    int64_t total = sum_epi64(sums), total_sq = (uint32_t)_mm_cvtsi128_si32(q);
    for (; j < n; j++) {
        total += row[j];
        total_sq += (int64_t)row[j] * row[j];
    }
    *sum = total;
    *mean_square = (int64_t)n * total_sq - total * total;
}

#define LAYERNORM_ATTR ROWS256_ATTR
#define LAYERNORM_KERNEL onboard_q8_layernorm_rows_u16__avx2
#include "q8_layernorm_float_body.h"
#endif
