/* INT8 codecs, AVX2: the loops of q8_codecs_body.h built for it, the table lookup 32 codes per
 * step and the dyadic adds 16 codes per step (q8_codecs_kernels.h). */
#include "q8_codecs_kernels.h"

#if defined(__x86_64__)
#define BODY_ATTR __attribute__((target("avx2")))
#define BODY_SUFFIX __avx2
#include "q8_codecs_body.h"

#include <immintrin.h>

/* vpshufb reads 16 entries by a code's low nibble and gives 0 when the index has its top bit set.
 * For a code c < 128 with high nibble h, the indices c - 16 i (i = 0...7) have the top bit clear
 * exactly for i <= h, and keep c's low nibble; so XOR-ing slices stored as differences,
 * delta_0 = T_0 and delta_i = T_i ^ T_(i-1), leaves T_h[c & 15]. Codes >= 128 take the same
 * steps on c ^ 128 with the upper half of the table; the code's top bit picks the half. */
__attribute__((target("avx2")))
bool onboard_q8_lookup_u8_u32__avx2(const uint8_t *x, uint8_t *y, size_t n, const uint8_t *table) {
    __m256i low_delta[8], high_delta[8];
    for (int i = 0; i < 8; i++) {
        const __m128i lo = _mm_loadu_si128((const __m128i *)(table + 16 * i));
        const __m128i hi = _mm_loadu_si128((const __m128i *)(table + 128 + 16 * i));
        const __m128i lo_prev = i ? _mm_loadu_si128((const __m128i *)(table + 16 * (i - 1))) : _mm_setzero_si128();
        const __m128i hi_prev = i ? _mm_loadu_si128((const __m128i *)(table + 128 + 16 * (i - 1))) : _mm_setzero_si128();
        low_delta[i] = _mm256_broadcastsi128_si256(_mm_xor_si128(lo, lo_prev));
        high_delta[i] = _mm256_broadcastsi128_si256(_mm_xor_si128(hi, hi_prev));
    }
    const __m256i step = _mm256_set1_epi8(16), top = _mm256_set1_epi8((char)0x80);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256i codes = _mm256_loadu_si256((const __m256i *)(x + i));
        __m256i low_index = codes, high_index = _mm256_xor_si256(codes, top);
        __m256i low = _mm256_shuffle_epi8(low_delta[0], low_index), high = _mm256_shuffle_epi8(high_delta[0], high_index);
        for (int s = 1; s < 8; s++) {
            low_index = _mm256_sub_epi8(low_index, step);
            high_index = _mm256_sub_epi8(high_index, step);
            low = _mm256_xor_si256(low, _mm256_shuffle_epi8(low_delta[s], low_index));
            high = _mm256_xor_si256(high, _mm256_shuffle_epi8(high_delta[s], high_index));
        }
        _mm256_storeu_si256((__m256i *)(y + i), _mm256_blendv_epi8(low, high, codes));
    }
    for (; i < n; i++) y[i] = table[x[i]];
    return true;
}

/* The dyadic adds as the AVX-512 kernels compute them (q8_codecs__avx512f.c): each product m d
 * split as m_hi d 2^16 + m_lo d, so that for 17 <= s <= 46 the rounding shift of the int64 sum is
 * (H + 2^(s-17) + (L >> 16)) >> (s - 16) in 32-bit lanes. */
typedef struct {
    __m256i a_high, a_low, b_high, b_low, a_zero, b_zero, half, y_zero, y_min, y_max;
    __m128i shift;
} dyadic_add_avx2_constants;

static inline bool dyadic_shift_covered(int32_t shift) { return shift >= 17 && shift <= 46; }

static inline __attribute__((target("avx2"))) dyadic_add_avx2_constants
dyadic_add_avx2_setup(int32_t a_zero_point, int32_t a_multiplier, int32_t b_zero_point, int32_t b_multiplier, int32_t shift,
                      int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    return (dyadic_add_avx2_constants){
        .a_high = _mm256_set1_epi32(a_multiplier >> 16), .a_low = _mm256_set1_epi32(a_multiplier & 0xFFFF),
        .b_high = _mm256_set1_epi32(b_multiplier >> 16), .b_low = _mm256_set1_epi32(b_multiplier & 0xFFFF),
        .a_zero = _mm256_set1_epi32(a_zero_point), .b_zero = _mm256_set1_epi32(b_zero_point),
        .half = _mm256_set1_epi32(1 << (shift - 17)), .y_zero = _mm256_set1_epi32(y_zero_point),
        .y_min = _mm256_set1_epi32(y_min), .y_max = _mm256_set1_epi32(y_max), .shift = _mm_cvtsi32_si128(shift - 16)};
}

/* 8 clamped int32 results from the split sum. */
static inline __attribute__((target("avx2"))) __m256i dyadic_add_avx2_result(const dyadic_add_avx2_constants *c, __m256i high,
                                                                            __m256i low) {
    __m256i v = _mm256_sra_epi32(_mm256_add_epi32(_mm256_add_epi32(high, c->half), _mm256_srai_epi32(low, 16)), c->shift);
    return _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, c->y_zero), c->y_min), c->y_max);
}

/* 16 codes from two vectors of int32 in [0, 255] (the clamp keeps y_min...y_max inside it). */
static inline __attribute__((target("avx2"))) __m128i codes_of_int32x16(__m256i first, __m256i second) {
    const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(first, second), 0xD8);
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi16(words, words), 0x08));
}

static inline __attribute__((target("avx2"))) __m256i widen8(const uint8_t *p, __m256i zero_point) {
    return _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)), zero_point);
}

static inline __attribute__((target("avx2"))) __m256i dyadic_add_avx2_eight(const dyadic_add_avx2_constants *c, const uint8_t *a,
                                                                           const uint8_t *b) {
    const __m256i da = widen8(a, c->a_zero), db = widen8(b, c->b_zero);
    const __m256i high = _mm256_add_epi32(_mm256_mullo_epi32(da, c->a_high), _mm256_mullo_epi32(db, c->b_high));
    const __m256i low = _mm256_add_epi32(_mm256_mullo_epi32(da, c->a_low), _mm256_mullo_epi32(db, c->b_low));
    return dyadic_add_avx2_result(c, high, low);
}

__attribute__((target("avx2")))
bool onboard_q8_add_u8_dyadic_u16__avx2(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier, const uint8_t *b,
                                        int32_t b_zero_point, int32_t b_multiplier, int32_t shift, uint8_t *y, size_t n,
                                        int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    if (!dyadic_shift_covered(shift) || y_min < 0 || y_max > 255) return false;
    const dyadic_add_avx2_constants c = dyadic_add_avx2_setup(a_zero_point, a_multiplier, b_zero_point, b_multiplier, shift,
                                                              y_zero_point, y_min, y_max);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i first = dyadic_add_avx2_eight(&c, a + i, b + i), second = dyadic_add_avx2_eight(&c, a + i + 8, b + i + 8);
        _mm_storeu_si128((__m128i *)(y + i), codes_of_int32x16(first, second));
    }
    return i == n || onboard_q8_add_u8_dyadic__scalar(a + i, a_zero_point, a_multiplier, b + i, b_zero_point, b_multiplier, shift,
                                                      y + i, n - i, y_zero_point, y_min, y_max);
}

static inline __attribute__((target("avx2"))) __m256i dyadic_add_const_avx2_eight(const dyadic_add_avx2_constants *c,
                                                                                 const uint8_t *a, const int32_t *addend) {
    const __m256i da = widen8(a, c->a_zero), k = _mm256_loadu_si256((const __m256i *)addend);
    const __m256i high = _mm256_add_epi32(_mm256_mullo_epi32(da, c->a_high), _mm256_srai_epi32(k, 16));
    const __m256i low = _mm256_add_epi32(_mm256_mullo_epi32(da, c->a_low), _mm256_and_si256(k, _mm256_set1_epi32(0xFFFF)));
    return dyadic_add_avx2_result(c, high, low);
}

__attribute__((target("avx2")))
bool onboard_q8_add_const_u8_dyadic_u16__avx2(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,
                                              const int32_t *addend, int32_t shift, uint8_t *y, size_t n,
                                              int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    if (!dyadic_shift_covered(shift) || y_min < 0 || y_max > 255) return false;
    const dyadic_add_avx2_constants c = dyadic_add_avx2_setup(a_zero_point, a_multiplier, 0, 0, shift, y_zero_point, y_min, y_max);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i first = dyadic_add_const_avx2_eight(&c, a + i, addend + i);
        const __m256i second = dyadic_add_const_avx2_eight(&c, a + i + 8, addend + i + 8);
        _mm_storeu_si128((__m128i *)(y + i), codes_of_int32x16(first, second));
    }
    return i == n || onboard_q8_add_const_u8_dyadic__scalar(a + i, a_zero_point, a_multiplier, addend + i, shift, y + i, n - i,
                                                            y_zero_point, y_min, y_max);
}
#endif
