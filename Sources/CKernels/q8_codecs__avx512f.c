/* INT8 codecs, AVX-512: the loops of q8_codecs_body.h built for it, and the dyadic adds in
 * 32-bit lanes, 16 codes per step (q8_codecs_kernels.h). */
#include "q8_codecs_kernels.h"

#if defined(__x86_64__)
#define BODY_ATTR __attribute__((target("avx512f")))
#define BODY_SUFFIX __avx512f
#include "q8_codecs_body.h"
#include "q8_tail_masks.h"

#include <immintrin.h>

#pragma clang diagnostic ignored "-Wpsabi"

#define ADD512_ATTR __attribute__((target("avx512f,avx512bw,avx512vl")))

/* The dyadic adds in 32-bit lanes. Each product m d (|d| <= 255) is split as m_hi d 2^16 + m_lo d
 * with m_hi = m >> 16 and m_lo = m & 0xFFFF, so the int64 sum is H 2^16 + L with H and L well inside
 * int32. For 17 <= s <= 46 the reference's floor((H 2^16 + L + 2^(s-1)) / 2^s) equals
 * (H + 2^(s-17) + (L >> 16)) >> (s - 16): the floor of L / 2^16 can be taken first. */
typedef struct {
    __m512i a_high, a_low, b_high, b_low, a_zero, b_zero, half, y_zero, y_min, y_max;
    __m128i shift;
} dyadic_add_constants;

static inline bool covered(int32_t shift) { return shift >= 17 && shift <= 46; }

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

ADD512_ATTR bool onboard_q8_add_u8_dyadic_u16__avx512f(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,
                                                       const uint8_t *b, int32_t b_zero_point, int32_t b_multiplier,
                                                       int32_t shift, uint8_t *y, size_t n, int32_t y_zero_point,
                                                       int32_t y_min, int32_t y_max) {
    if (!covered(shift)) return false;
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
    return true;
}

ADD512_ATTR bool onboard_q8_add_const_u8_dyadic_u16__avx512f(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,
                                                             const int32_t *addend, int32_t shift, uint8_t *y, size_t n,
                                                             int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    if (!covered(shift)) return false;
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
    return true;
}
#endif
