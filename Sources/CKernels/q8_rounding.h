/* Private to CKernels: the roundings every INT8 path shares, so that all paths agree bit for bit. */
#ifndef ONBOARD_Q8_ROUNDING_H
#define ONBOARD_Q8_ROUNDING_H
#include <stdint.h>

/* gemmlowp's SaturatingRoundingDoublingHighMul then RoundingDivideByPOT, without branches or a
 * division so that loops over it vectorize. For p = x * multiplier, gemmlowp's nudged division
 * toward zero, (p + (p >= 0 ? 2^30 : 1 - 2^30)) / 2^31, equals (p + 2^30) >> 31 (arithmetic) for
 * either sign; only x = multiplier = INT32_MIN exceeds int32 and saturates. shift < 0 acts as 0. */
static inline int32_t q8_fixed_point_multiply_inline(int32_t x, int32_t multiplier, int32_t shift) {
    const int64_t rounded = ((int64_t)x * multiplier + ((int64_t)1 << 30)) >> 31;
    const int32_t high = rounded > INT32_MAX ? INT32_MAX : (int32_t)rounded;
    const int32_t s = shift < 0 ? 0 : shift;
    const int32_t mask = (int32_t)((1u << s) - 1);
    const int32_t remainder = high & mask;
    const int32_t threshold = (mask >> 1) + (int32_t)((uint32_t)high >> 31);
    return (high >> s) + (remainder > threshold ? 1 : 0);
}

/* Round half to even for |x| < 2^22 without libm, so it vectorizes on any x86-64. Exact:
 * adding 1.5 * 2^23 leaves no fraction bits, and the compiler may not reassociate floats. */
static inline float q8_round_even_fast(float x) {
    const float magic = 12582912.0f;
    x = x > 4194304.0f ? 4194304.0f : x < -4194304.0f ? -4194304.0f : x;
    return (x + magic) - magic;
}

static inline int64_t clamp_i64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* round(x / 2^s), ties away from zero (as Dyadic.roundingShift), for 1 <= s <= 62 without
 * branches: (x + half - [x < 0]) >> s. */
static inline int64_t rshift_round_fast(int64_t x, int s) {
    return (x + ((int64_t)1 << (s - 1)) + (x >> 63)) >> s;
}

#endif
