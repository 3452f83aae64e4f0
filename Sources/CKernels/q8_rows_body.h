/* The integer row kernels' portable loops, written once and built per ISA by q8_rows__<isa>.c:
 * the including file defines BODY_ATTR (a target attribute, or nothing) and BODY_SUFFIX (__<isa>).
 * They are the reference every vector kernel of q8_rows_kernels.h equals bit for bit. */
#include "q8_rows_kernels.h"
#include "q8_rounding.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, BODY_SUFFIX)

static inline int32_t clamp_i32(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* v - top in int32 without overflow: values more than 2^30 below the top are raised to it first
 * (for any |scale| above 2^-20 they land past the lowest code either way). */
static inline int32_t below_top(int32_t v, int32_t top, int32_t lowest) { return (v > lowest ? v : lowest) - top; }

static inline int32_t lowest_of(int32_t top) { return top > INT32_MIN + (1 << 30) ? top - (1 << 30) : INT32_MIN; }

static inline void stabilize_row_float(const int32_t *v, size_t n, int32_t top, float scale, uint8_t *y,
                                       int32_t zero_point, int32_t qmin, int32_t qmax) {
    const float magic = 12582912.0f; /* round half to even for |x| < 2^22 */
    const int32_t lowest = lowest_of(top);
    for (size_t j = 0; j < n; j++) {
        float f = (float)below_top(v[j], top, lowest) * scale;
        f = f < -1024.0f ? -1024.0f : f > 1024.0f ? 1024.0f : f;
        y[j] = (uint8_t)clamp_i32((int32_t)((f + magic) - magic) + zero_point, qmin, qmax);
    }
}

BODY_ATTR bool FN(onboard_q8_stabilize_rows_s32)(const int32_t *sums, size_t rows, size_t n, float scale,
                                                 int32_t multiplier, int32_t shift,
                                                 uint8_t *y, int32_t zero_point, int32_t qmin, int32_t qmax) {
    for (size_t r = 0; r < rows; r++) {
        const int32_t *v = sums + r * n;
        uint8_t *out = y + r * n;
        int32_t top = v[0];
        if (scale >= 0) { for (size_t j = 1; j < n; j++) top = v[j] > top ? v[j] : top; }
        else { for (size_t j = 1; j < n; j++) top = v[j] < top ? v[j] : top; }
        if (multiplier != 0) {
            const int32_t lowest = lowest_of(top);
            for (size_t j = 0; j < n; j++) {
                const int32_t q = q8_fixed_point_multiply_inline(below_top(v[j], top, lowest), multiplier, shift);
                out[j] = (uint8_t)clamp_i32(q + zero_point, qmin, qmax);
            }
        } else {
            stabilize_row_float(v, n, top, scale, out, zero_point, qmin, qmax);
        }
    }
    return true;
}

BODY_ATTR bool FN(onboard_q8_softmax_lut_rows)(const uint8_t *x, uint8_t *y, size_t rows, size_t n, const int32_t *table,
                                               int64_t numerator, int32_t shift, int32_t zero_point, int32_t qmin, int32_t qmax) {
    const int64_t half = (int64_t)1 << (shift - 1);
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *row = x + r * n;
        uint8_t *out = y + r * n;
        uint8_t top = 0;
        for (size_t j = 0; j < n; j++) top = row[j] > top ? row[j] : top;
        /* Scalar lookups: gathers are slower than plain loads on several cores. */
        int64_t sum = 0;
        _Pragma("clang loop vectorize(disable) interleave_count(4)")
        for (size_t j = 0; j < n; j++) sum += table[(uint8_t)(top - row[j])];
        const int64_t m = (numerator + sum / 2) / sum; /* sum >= table[0] > 0 */
        if (n < 64) {
            for (size_t j = 0; j < n; j++) {
                const int64_t q = ((int64_t)table[(uint8_t)(top - row[j])] * m + half) >> shift;
                out[j] = (uint8_t)clamp_i64(zero_point + q, qmin, qmax);
            }
            continue;
        }
        /* Rows of 64 or more: the row's output per code (codes above the max do not occur), then vector lookups. */
        uint8_t by_code[256] = {0};
        for (int c = 0; c <= top; c++) {
            const int64_t q = ((int64_t)table[top - c] * m + half) >> shift;
            by_code[c] = (uint8_t)clamp_i64(zero_point + q, qmin, qmax);
        }
        onboard_q8_lookup_u8(row, out, n, by_code);
    }
    return true;
}

BODY_ATTR bool FN(onboard_q8_layernorm_rows)(const uint8_t *x, uint8_t *y, size_t rows, size_t n,
                                             const int32_t *gain_multiplier, const int32_t *gain_shift, const int64_t *bias,
                                             int64_t epsilon, int32_t fraction_bits,
                                             int32_t zero_point, int32_t qmin, int32_t qmax, int32_t *work) {
    const int64_t count = (int64_t)n;
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *row = x + r * n;
        uint8_t *out = y + r * n;
        int64_t sum = 0;
        for (size_t j = 0; j < n; j++) sum += row[j];
        /* |D| < n 2^8 <= 2^22 and sum D^2 <= 2^58 for n <= 16384. */
        int64_t squares = 0;
        for (size_t j = 0; j < n; j++) {
            const int32_t d = (int32_t)(count * row[j] - sum);
            work[j] = d;
            squares += (int64_t)d * d;
        }
        int64_t m;
        int s;
        onboard_q8_layernorm_reciprocal(squares, count, epsilon, fraction_bits, &m, &s);
        for (size_t j = 0; j < n; j++) {
            const int64_t normalized = rshift_round_fast((int64_t)work[j] * m, s);
            const int64_t affine = rshift_round_fast(normalized * gain_multiplier[j], gain_shift[j]) + bias[j];
            out[j] = (uint8_t)clamp_i64(rshift_round_fast(affine, fraction_bits) + zero_point, qmin, qmax);
        }
    }
    return true;
}

BODY_ATTR bool FN(onboard_q8_divide_rows_s32)(const int32_t *acc, size_t rows, size_t n, const int32_t *divisors, int64_t numerator,
                                              int32_t shift, uint8_t *y, int32_t zero_point, int32_t qmin, int32_t qmax) {
    for (size_t r = 0; r < rows; r++) {
        const int32_t *v = acc + r * n;
        uint8_t *out = y + r * n;
        const int64_t divisor = divisors[r];
        if (divisor <= 0) {
            for (size_t j = 0; j < n; j++) out[j] = (uint8_t)clamp_i32(zero_point, qmin, qmax);
            continue;
        }
        const int64_t m = numerator >= 0 ? (numerator + divisor / 2) / divisor : -((-numerator + divisor / 2) / divisor);
        for (size_t j = 0; j < n; j++) {
            const int64_t q = rshift_round_fast((int64_t)v[j] * m, shift);
            out[j] = (uint8_t)clamp_i64(zero_point + q, qmin, qmax);
        }
    }
    return true;
}

#undef FN
#undef CAT
#undef CAT_
