/* Integer row kernels, AVX-512 (F/BW/DQ/VL + VBMI): the loops of q8_rows_body.h built for it, and
 * the softmax and QANS kernels on 8 to 64 lanes (q8_rows_kernels.h), the same integer
 * steps, bit-identical to the loops (tested against them). */
#include "q8_rows_kernels.h"

#if defined(__x86_64__)
#define ROWS512_ATTR __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi")))
#define BODY_ATTR ROWS512_ATTR
#define BODY_SUFFIX __avx512vbmi
#include "q8_rows_body.h"
#include "q8_tail_masks.h"

#include <immintrin.h>
#include <string.h>


/* Largest and smallest code of a row. */
static inline ROWS512_ATTR void row_range(const uint8_t *row, size_t n, uint8_t *top, uint8_t *bottom) {
    __m512i high = _mm512_setzero_si512(), low = _mm512_set1_epi8((char)0xFF);
    for (size_t j = 0; j < n; j += 64) {
        const __mmask64 m = tail_mask64(n - j);
        const __m512i v = _mm512_maskz_loadu_epi8(m, row + j);
        high = _mm512_max_epu8(high, v);
        low = _mm512_mask_min_epu8(low, m, low, v);
    }
    __m256i h = _mm256_max_epu8(_mm512_castsi512_si256(high), _mm512_extracti64x4_epi64(high, 1));
    __m256i l = _mm256_min_epu8(_mm512_castsi512_si256(low), _mm512_extracti64x4_epi64(low, 1));
    __m128i h1 = _mm_max_epu8(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    __m128i l1 = _mm_min_epu8(_mm256_castsi256_si128(l), _mm256_extracti128_si256(l, 1));
#define FOLD(bytes) h1 = _mm_max_epu8(h1, _mm_srli_si128(h1, bytes)); l1 = _mm_min_epu8(l1, _mm_srli_si128(l1, bytes))
    FOLD(8); FOLD(4); FOLD(2); FOLD(1);
#undef FOLD
    *top = (uint8_t)_mm_cvtsi128_si32(h1);
    *bottom = (uint8_t)_mm_cvtsi128_si32(l1);
}

/* The softmax's 256 int32 table entries (each in [0, 2^24), checked first) split as high bytes (t >> 16) and low
 * 16-bit words, held in registers so a row's sum of table[d] is vpermi2b / vpermi2w lookups
 * (gathers, and plain loads too, are several times slower per element on Zen 4/5). */
typedef struct {
    __m512i high[4]; /* bytes, 64 entries each */
    __m512i low[8];  /* words, 32 entries each */
} split_table;

static inline ROWS512_ATTR void split_table_init(split_table *t, const int32_t *table) {
    uint8_t high[256] __attribute__((aligned(64)));
    uint16_t low[256] __attribute__((aligned(64)));
    for (int d = 0; d < 256; d++) {
        high[d] = (uint8_t)(table[d] >> 16);
        low[d] = (uint16_t)(table[d] & 0xFFFF);
    }
    for (int i = 0; i < 4; i++) t->high[i] = _mm512_load_si512(high + 64 * i);
    for (int i = 0; i < 8; i++) t->low[i] = _mm512_load_si512(low + 32 * i);
}

/* 32 word lookups of indices 0...255: vpermi2w covers 64 entries, bits 6 and 7 choose the pair. */
static inline ROWS512_ATTR __m512i lookup_words(const split_table *t, __m512i index) {
    const __mmask32 bit6 = _mm512_test_epi16_mask(index, _mm512_set1_epi16(64));
    const __mmask32 bit7 = _mm512_test_epi16_mask(index, _mm512_set1_epi16(128));
    const __m512i a = _mm512_mask_blend_epi16(bit6, _mm512_permutex2var_epi16(t->low[0], index, t->low[1]),
                                              _mm512_permutex2var_epi16(t->low[2], index, t->low[3]));
    const __m512i b = _mm512_mask_blend_epi16(bit6, _mm512_permutex2var_epi16(t->low[4], index, t->low[5]),
                                              _mm512_permutex2var_epi16(t->low[6], index, t->low[7]));
    return _mm512_mask_blend_epi16(bit7, a, b);
}

/* sum over the row of table[top - code] (exact: 64-bit high-byte and low-word sums). */
static inline ROWS512_ATTR int64_t table_sum(const split_table *t, const uint8_t *row, size_t n, uint8_t top) {
    const __m512i vtop = _mm512_set1_epi8((char)top);
    __m512i high_sums = _mm512_setzero_si512(), low_sums = _mm512_setzero_si512();
    for (size_t j = 0; j < n; j += 64) {
        const __mmask64 m = tail_mask64(n - j);
        const __m512i d = _mm512_sub_epi8(vtop, _mm512_maskz_loadu_epi8(m, row + j));
        const __m512i high = _mm512_maskz_mov_epi8(m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(d),
            _mm512_permutex2var_epi8(t->high[0], d, t->high[1]), _mm512_permutex2var_epi8(t->high[2], d, t->high[3])));
        high_sums = _mm512_add_epi64(high_sums, _mm512_sad_epu8(high, _mm512_setzero_si512()));
        for (int h = 0; h < 2; h++) {
            const __m512i index = _mm512_cvtepu8_epi16(h ? _mm512_extracti64x4_epi64(d, 1) : _mm512_castsi512_si256(d));
            const __m512i words = _mm512_maskz_mov_epi16((__mmask32)(m >> (32 * h)), lookup_words(t, index));
            /* words below 2^16 summed in int64 lanes by sad against zero on their two bytes */
            const __m512i lo_bytes = _mm512_and_si512(words, _mm512_set1_epi16(0xFF));
            const __m512i hi_bytes = _mm512_srli_epi16(words, 8);
            low_sums = _mm512_add_epi64(low_sums, _mm512_sad_epu8(lo_bytes, _mm512_setzero_si512()));
            low_sums = _mm512_add_epi64(low_sums, _mm512_slli_epi64(_mm512_sad_epu8(hi_bytes, _mm512_setzero_si512()), 8));
        }
    }
    return (_mm512_reduce_add_epi64(high_sums) << 16) + _mm512_reduce_add_epi64(low_sums);
}

/* The split table's high bytes hold table[d] >> 16 < 256. */
static bool fits_24_bits(const int32_t *table) {
    for (int d = 0; d < 256; d++)
        if (table[d] < 0 || table[d] >= (1 << 24)) return false;
    return true;
}

ROWS512_ATTR
bool onboard_q8_softmax_lut_rows_u64__avx512vbmi(const uint8_t *x, uint8_t *y, size_t rows, size_t n, const int32_t *table,
                                                 int64_t numerator, int32_t shift, int32_t zero_point, int32_t qmin,
                                                 int32_t qmax) {
    if (!fits_24_bits(table)) return false;
    const int64_t half = (int64_t)1 << (shift - 1);
    uint8_t by_difference[256] __attribute__((aligned(64)));
    split_table split;
    split_table_init(&split, table);
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *row = x + r * n;
        uint8_t *out = y + r * n;
        uint8_t top, bottom;
        row_range(row, n, &top, &bottom);
        const int64_t sum = table_sum(&split, row, n, top);
        const int64_t multiplier = (numerator + sum / 2) / sum; /* sum >= table[0] > 0 */
        /* Output code per code difference d in [0, top - bottom], 16 at a time (two halves of 8
         * int64 lanes; zero_point added before the saturating narrowing, so the clamp is exact). */
        const size_t span = (size_t)(top - bottom) + 1, filled = (span + 15) & ~(size_t)15;
        const __m512i vm = _mm512_set1_epi64(multiplier), vhalf = _mm512_set1_epi64(half), vzp = _mm512_set1_epi64(zero_point);
        const __m512i vlo = _mm512_set1_epi32(qmin), vhi = _mm512_set1_epi32(qmax);
        const __m128i count = _mm_cvtsi32_si128(shift);
        for (size_t d = 0; d < filled; d += 16) {
            __m256i half_codes[2];
            for (int h = 0; h < 2; h++) {
                const __m512i t = _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(table + d + 8 * h)));
                const __m512i q = _mm512_add_epi64(_mm512_sra_epi64(_mm512_add_epi64(_mm512_mullo_epi64(t, vm), vhalf), count), vzp);
                half_codes[h] = _mm512_cvtsepi64_epi32(q);
            }
            __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(half_codes[0]), half_codes[1], 1);
            q = _mm512_min_epi32(_mm512_max_epi32(q, vlo), vhi);
            __m128i codes = _mm512_cvtepi32_epi8(q);
            __asm__("" : "+v"(codes)); /* register vpmovdb and a plain store: its store form is slow on Zen 4/5 */
            _mm_store_si128((__m128i *)(by_difference + d), codes);
        }
        memset(by_difference + filled, 0, sizeof by_difference - filled);
        /* out = by_difference[top - code]: two 128-entry vpermi2b halves chosen by bit 7. */
        const __m512i t0 = _mm512_load_si512(by_difference), t1 = _mm512_load_si512(by_difference + 64);
        const __m512i t2 = _mm512_load_si512(by_difference + 128), t3 = _mm512_load_si512(by_difference + 192);
        const __m512i vtop8 = _mm512_set1_epi8((char)top);
        for (size_t j = 0; j < n; j += 64) {
            const __mmask64 m = tail_mask64(n - j);
            const __m512i d = _mm512_sub_epi8(vtop8, _mm512_maskz_loadu_epi8(m, row + j));
            const __m512i low = _mm512_permutex2var_epi8(t0, d, t1), high = _mm512_permutex2var_epi8(t2, d, t3);
            _mm512_mask_storeu_epi8(out + j, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(d), low, high));
        }
    }
    return true;
}

/* The fixed-point QANS epilogue for a positive multiplier (0 < multiplier, shift <= 31). Every
 * difference from the row's max is <= 0, so the reference's two roundings, (x m + 2^30) >> 31 then
 * the rounding shift by s (ties away from zero, i.e. down), are one floor:
 *   floor((x m + 2^30 + (2^(s-1) - 1) 2^31) / 2^(31+s))   (the 2^(s-1) - 1 term is 0 for s = 0),
 * which needs neither the reference's saturation (x m + 2^30 < 2^31) nor its remainder test. */
ROWS512_ATTR
bool onboard_q8_stabilize_rows_s32_u16__avx512vbmi(const int32_t *sums, size_t rows, size_t n, float scale,
                                                   int32_t multiplier, int32_t shift, uint8_t *y, int32_t zero_point,
                                                   int32_t qmin, int32_t qmax) {
    if (!(multiplier > 0 && shift <= 31 && scale >= 0 && qmin <= qmax)) return false;
    const int s = shift < 0 ? 0 : shift;
    const int64_t offset = ((int64_t)1 << 30) + (s > 0 ? (((int64_t)1 << (s - 1)) - 1) << 31 : 0);
    const __m512i vm = _mm512_set1_epi64(multiplier), voffset = _mm512_set1_epi64(offset);
    const __m128i count = _mm_cvtsi32_si128(31 + s);
    const __m512i vzp = _mm512_set1_epi32(zero_point), vlo = _mm512_set1_epi32(qmin), vhi = _mm512_set1_epi32(qmax);
    for (size_t r = 0; r < rows; r++) {
        const int32_t *v = sums + r * n;
        uint8_t *out = y + r * n;
        __m512i high = _mm512_set1_epi32(INT32_MIN);
        for (size_t j = 0; j < n; j += 16) {
            const __mmask16 m = tail_mask16(n - j);
            high = _mm512_mask_max_epi32(high, m, high, _mm512_maskz_loadu_epi32(m, v + j));
        }
        const int32_t top = _mm512_reduce_max_epi32(high);
        const __m512i vtop = _mm512_set1_epi32(top);
        const __m512i lowest = _mm512_set1_epi32(top > INT32_MIN + (1 << 30) ? top - (1 << 30) : INT32_MIN);
        for (size_t j = 0; j < n; j += 16) {
            const __mmask16 m = tail_mask16(n - j);
            const __m512i below = _mm512_sub_epi32(_mm512_max_epi32(_mm512_maskz_loadu_epi32(m, v + j), lowest), vtop);
            /* even lanes, then odd lanes, as int64 products; each result fits the low half of its lane */
            const __m512i even = _mm512_sra_epi64(_mm512_add_epi64(_mm512_mul_epi32(below, vm), voffset), count);
            const __m512i odd = _mm512_sra_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(below, 32), vm), voffset), count);
            __m512i q = _mm512_add_epi32(_mm512_mask_blend_epi32((__mmask16)0xAAAA, even, _mm512_slli_epi64(odd, 32)), vzp);
            q = _mm512_min_epi32(_mm512_max_epi32(q, vlo), vhi);
            __m128i codes = _mm512_cvtepi32_epi8(q);
            __asm__("" : "+v"(codes)); /* register vpmovdb: its store form is slow on Zen 4/5 */
            if (m == 0xFFFF) _mm_storeu_si128((__m128i *)(out + j), codes);
            else _mm_mask_storeu_epi8(out + j, m, codes);
        }
    }
    return true;
}
#endif
