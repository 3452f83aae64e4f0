/* Integer row kernels, AVX2: the loops of q8_rows_body.h built for it, and the QANS and layernorm
 * kernels 16 elements per step (q8_rows_kernels.h), the same integer steps on 4 or 8 lanes,
 * bit-identical to the loops (tested against them). AVX2 has neither a 64x64-bit multiply nor a
 * 64-bit arithmetic shift: products are 32x32 -> 64 bits (vpmuldq, so the kernels check that the
 * factors fit 32 bits) and shifts are logical shifts of the one's complement of negative lanes.
 * Rows whose length is not a multiple of the step finish on a zero-padded copy. */
#include "q8_rows_kernels.h"

#if defined(__x86_64__)
#define BODY_ATTR __attribute__((target("avx2")))
#define BODY_SUFFIX __avx2
#include "q8_rows_body.h"

#include <immintrin.h>
#include <string.h>

#define ROWS256_ATTR __attribute__((target("avx2")))

/* x >> s per 64-bit lane, arithmetic, for counts in `s` (0...63). */
static inline ROWS256_ATTR __m256i sra_epi64(__m256i x, __m256i s) {
    const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
    return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(x, sign), s), sign);
}

/* round(x / 2^s) per lane, ties away from zero: (x + 2^(s-1) - [x < 0]) >> s, `half` = 2^(s-1). */
static inline ROWS256_ATTR __m256i round_shift_epi64(__m256i x, __m256i half, __m256i s) {
    const __m256i negative = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
    return sra_epi64(_mm256_add_epi64(_mm256_add_epi64(x, half), negative), s);
}

static inline ROWS256_ATTR __m256i clamp_epi64(__m256i q, __m256i low, __m256i high) {
    q = _mm256_blendv_epi8(q, low, _mm256_cmpgt_epi64(low, q));
    return _mm256_blendv_epi8(q, high, _mm256_cmpgt_epi64(q, high));
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

/* Per-channel constants of the affine step, widened to int64 once per call: the gain, its shift
 * and rounding half, and the bias with the final rounding half and the zero point folded in. */
typedef struct {
    int64_t gain[Q8_LAYERNORM_MAX_WIDTH];
    int64_t shift[Q8_LAYERNORM_MAX_WIDTH];
    int64_t half[Q8_LAYERNORM_MAX_WIDTH];
    int64_t offset[Q8_LAYERNORM_MAX_WIDTH];
} affine_constants_avx2;

/* Steps of the affine part shared by a row's 16-channel blocks. */
typedef struct {
    __m256i multiplier, shift, half, fraction_bits, bound, low, high;
} normalize_step;

/* Four channels: D (int32) -> codes in int32 lanes 0, 2, 4, 6 (as int64). */
static inline ROWS256_ATTR __m256i layernorm_4(const int32_t *d32, const affine_constants_avx2 *c, size_t at,
                                               const normalize_step *k) {
    const __m256i d = _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)d32));
    const __m256i normalized = round_shift_epi64(_mm256_mul_epi32(d, k->multiplier), k->half, k->shift);
    const __m256i gained = round_shift_epi64(_mm256_mul_epi32(normalized, _mm256_loadu_si256((const __m256i *)(c->gain + at))),
                                             _mm256_loadu_si256((const __m256i *)(c->half + at)),
                                             _mm256_loadu_si256((const __m256i *)(c->shift + at)));
    const __m256i t = _mm256_add_epi64(gained, _mm256_loadu_si256((const __m256i *)(c->offset + at)));
    /* rshift_round(affine, F) + zp = (t - [affine < 0]) >> F, and affine < 0 exactly when t < bound */
    const __m256i below = _mm256_cmpgt_epi64(k->bound, t);
    return clamp_epi64(sra_epi64(_mm256_add_epi64(t, below), k->fraction_bits), k->low, k->high);
}

/* Sixteen channels from D at `d32` (channels at...at+15) to 16 codes. */
static inline ROWS256_ATTR __m128i layernorm_16(const int32_t *d32, const affine_constants_avx2 *c, size_t at,
                                                const normalize_step *k) {
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    __m128i lanes[4];
    for (int g = 0; g < 4; g++)
        lanes[g] = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(layernorm_4(d32 + 4 * g, c, at + 4 * (size_t)g, k), even));
    return _mm_packus_epi16(_mm_packs_epi32(lanes[0], lanes[1]), _mm_packs_epi32(lanes[2], lanes[3]));
}

ROWS256_ATTR
bool onboard_q8_layernorm_rows_u16__avx2(const uint8_t *x, uint8_t *y, size_t rows, size_t n,
                                         const int32_t *gain_multiplier, const int32_t *gain_shift, const int64_t *bias,
                                         int64_t epsilon, int32_t fraction_bits,
                                         int32_t zero_point, int32_t qmin, int32_t qmax, int32_t *work) {
    if (!(n <= Q8_LAYERNORM_MAX_WIDTH && fraction_bits >= 1 && fraction_bits <= Q8_LAYERNORM_AVX2_MAX_FRACTION_BITS
          && qmin >= 0 && qmin <= qmax && qmax <= 255)) return false;
    const int64_t count = (int64_t)n;
    const int64_t final_offset = ((int64_t)1 << (fraction_bits - 1)) + ((int64_t)zero_point << fraction_bits);
    affine_constants_avx2 c;
    const size_t blocks = (n + 15) & ~(size_t)15;
    for (size_t j = 0; j < blocks; j++) {
        const int live = j < n;
        c.gain[j] = live ? gain_multiplier[j] : 0;
        c.shift[j] = live ? gain_shift[j] : 1;
        c.half[j] = live ? (int64_t)1 << (gain_shift[j] - 1) : 1;
        c.offset[j] = live ? bias[j] + final_offset : 0;
    }
    normalize_step k = {
        .fraction_bits = _mm256_set1_epi64x(fraction_bits), .bound = _mm256_set1_epi64x(final_offset),
        .low = _mm256_set1_epi64x(qmin), .high = _mm256_set1_epi64x(qmax),
    };
    const __m256i vn = _mm256_set1_epi32((int32_t)count);
    const size_t full = n & ~(size_t)15;
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *row = x + r * n;
        uint8_t *out = y + r * n;
        __m256i sums = _mm256_setzero_si256();
        size_t j = 0;
        for (; j + 32 <= n; j += 32)
            sums = _mm256_add_epi64(sums, _mm256_sad_epu8(_mm256_loadu_si256((const __m256i *)(row + j)), _mm256_setzero_si256()));
        int64_t sum = sum_epi64(sums);
        for (; j < n; j++) sum += row[j];
        /* D = n x - sum in int32 (|D| < 2^22), squares summed in int64 */
        const __m256i vsum = _mm256_set1_epi32((int32_t)sum);
        __m256i squares = _mm256_setzero_si256();
        for (j = 0; j + 8 <= n; j += 8) {
            const __m256i codes = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(row + j)));
            const __m256i d = _mm256_sub_epi32(_mm256_mullo_epi32(codes, vn), vsum);
            _mm256_storeu_si256((__m256i *)(work + j), d);
            squares = _mm256_add_epi64(squares, _mm256_mul_epi32(d, d));
            const __m256i odd = _mm256_srli_epi64(d, 32);
            squares = _mm256_add_epi64(squares, _mm256_mul_epi32(odd, odd));
        }
        int64_t total = sum_epi64(squares);
        for (; j < n; j++) {
            const int32_t d = (int32_t)(count * row[j] - sum);
            work[j] = d;
            total += (int64_t)d * d;
        }
        int64_t multiplier;
        int shift;
        onboard_q8_layernorm_reciprocal(total, count, epsilon, fraction_bits, &multiplier, &shift);
        if (multiplier > INT32_MAX) { /* vpmuldq takes 32-bit factors: the rare row whose reciprocal is 2^31 or more */
            onboard_q8_layernorm_rows__avx2(row, out, 1, n, gain_multiplier, gain_shift, bias, epsilon, fraction_bits,
                                            zero_point, qmin, qmax, work);
            continue;
        }
        k.multiplier = _mm256_set1_epi64x(multiplier);
        k.shift = _mm256_set1_epi64x(shift);
        k.half = _mm256_set1_epi64x((int64_t)1 << (shift - 1));
        for (j = 0; j < full; j += 16) _mm_storeu_si128((__m128i *)(out + j), layernorm_16(work + j, &c, j, &k));
        if (full < n) {
            int32_t padded[16] = {0};
            uint8_t codes[16];
            memcpy(padded, work + full, (n - full) * sizeof(int32_t));
            _mm_storeu_si128((__m128i *)codes, layernorm_16(padded, &c, full, &k));
            memcpy(out + full, codes, n - full);
        }
    }
    return true;
}
#endif
