/* Integer row kernels: QANS logits, lookup-table softmax, DI-Norm layernorm (see q8_rows.h). Each
 * op runs the first kernel of its list (q8_rows_kernels.h) the ISA cap allows and that takes its
 * arguments; the steps every kernel shares are here. */
#include "q8_rows_kernels.h"

#include <math.h>

static inline int bit_length(uint64_t x) { return x ? 64 - __builtin_clzll(x) : 0; }

/* floor(sqrt(n)) (as OnboardQuant's IntegerMath.isqrt): the double square root is within one of
 * it for every 64-bit n, and 128-bit squares settle the last step exactly. */
static uint64_t isqrt_settle(uint64_t n, uint64_t x) {
    while ((unsigned __int128)x * x > n) x--;
    while ((unsigned __int128)(x + 1) * (x + 1) <= n) x++;
    return x;
}

static uint64_t isqrt_u64(uint64_t n) { return isqrt_settle(n, (uint64_t)sqrt((double)n)); }

/* The largest p <= 20 whose 2^(2p) keeps squares 2^(2p) and epsilon 2^(2p) within 61 bits. */
static int reciprocal_precision(int64_t squares, int64_t epsilon) {
    const int64_t largest = squares > epsilon ? squares : epsilon;
    const int p = (61 - bit_length((uint64_t)(largest > 1 ? largest : 1))) / 2;
    return p < 0 ? 0 : p > 20 ? 20 : p;
}

/* 2^(F+p) / den = m 2^-s with a 31-bit m, m = round(2^(30+L) / den) for den of L bits; `quotient`
 * divides exactly. */
static inline void reciprocal_of_root(int64_t den, int p, int32_t fraction_bits, int64_t (*quotient)(int64_t, int64_t),
                                      int64_t *multiplier, int *shift) {
    const int length = bit_length((uint64_t)den);
    int64_t m = quotient(((int64_t)1 << (30 + length)) + den / 2, den);
    int s = 30 + length - fraction_bits - p;
    if (s < 1) { m <<= 1 - s; s = 1; } /* exact: the product stays even, its halving exact */
    *multiplier = m;
    *shift = s;
}

static inline int64_t divide(int64_t a, int64_t b) { return a / b; }

/* a / b for 0 < a < 2^62, 0 < b < 2^53 with a quotient below 2^32: the double quotient is within
 * 2^-20 of it, so its truncation is off by at most one, which the remainder corrects. */
static inline int64_t divide_by_double(int64_t a, int64_t b) {
    const int64_t q = (int64_t)((double)a / (double)b), r = a - q * b;
    return q + (r >= b) - (r < 0);
}

void onboard_q8_layernorm_reciprocal(int64_t squares, int64_t count, int64_t epsilon, int32_t fraction_bits,
                                     int64_t *multiplier, int *shift) {
    const int p = reciprocal_precision(squares, epsilon);
    const int64_t den = (int64_t)isqrt_u64((uint64_t)(((squares << (2 * p)) / count) + (epsilon << (2 * p))));
    reciprocal_of_root(den > 1 ? den : 1, p, fraction_bits, divide, multiplier, shift);
}

void onboard_q8_layernorm_reciprocals(const int64_t *means, size_t rows, int64_t count, int64_t epsilon, int32_t fraction_bits,
                                      int64_t *multipliers, int *shifts) {
    for (size_t first = 0; first < rows; first += 8) {
        const size_t block = rows - first < 8 ? rows - first : 8;
        int p[8];
        uint64_t radicand[8];
        double root[8];
        for (size_t i = 0; i < block; i++) {
            p[i] = reciprocal_precision(count * means[first + i], epsilon);
            radicand[i] = (uint64_t)((means[first + i] << (2 * p[i])) + (epsilon << (2 * p[i])));
        }
        /* radicands are below 2^62: signed conversions (one instruction each) give the same doubles */
        for (size_t i = 0; i < block; i++) root[i] = sqrt((double)(int64_t)radicand[i]);
        for (size_t i = 0; i < block; i++) {
            const int64_t den = (int64_t)isqrt_settle(radicand[i], (uint64_t)(int64_t)root[i]);
            reciprocal_of_root(den > 1 ? den : 1, p[i], fraction_bits, divide_by_double, multipliers + first + i, shifts + first + i);
        }
    }
}

void onboard_q8_softmax_exp_rows(const uint8_t *x, uint8_t *y, size_t rows, size_t n, const uint8_t *reversed) {
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *row = x + r * n;
        uint8_t *out = y + r * n;
        uint8_t top = 0;
        for (size_t j = 0; j < n; j++) top = row[j] > top ? row[j] : top;
        if (top == 255) { /* always so on QANS-stabilized logits */
            onboard_q8_lookup_u8(row, out, n, reversed);
        } else {
            const uint8_t lift = (uint8_t)(255 - top);
            for (size_t j = 0; j < n; j++) out[j] = reversed[(uint8_t)(row[j] + lift)];
        }
    }
}

void onboard_q8_stabilize_rows_s32(const int32_t *sums, size_t rows, size_t n, float scale,
                                   int32_t multiplier, int32_t shift,
                                   uint8_t *y, int32_t zero_point, int32_t qmin, int32_t qmax) {
    if (n == 0) return;
#define ARGS sums, rows, n, scale, multiplier, shift, y, zero_point, qmin, qmax
    ONBOARD_Q8_STABILIZE_ROWS_S32_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void onboard_q8_softmax_lut_rows(const uint8_t *x, uint8_t *y, size_t rows, size_t n, const int32_t *table,
                                 int64_t numerator, int32_t shift, int32_t zero_point, int32_t qmin, int32_t qmax) {
    if (n == 0) return;
#define ARGS x, y, rows, n, table, numerator, shift, zero_point, qmin, qmax
    ONBOARD_Q8_SOFTMAX_LUT_ROWS_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void onboard_q8_layernorm_rows(const uint8_t *x, uint8_t *y, size_t rows, size_t n,
                               const int32_t *gain_multiplier, const int32_t *gain_shift, const int64_t *bias,
                               int64_t epsilon, int32_t fraction_bits,
                               int32_t zero_point, int32_t qmin, int32_t qmax, int32_t *work) {
    if (n == 0) return;
#define ARGS x, y, rows, n, gain_multiplier, gain_shift, bias, epsilon, fraction_bits, zero_point, qmin, qmax, work
    ONBOARD_Q8_LAYERNORM_ROWS_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void onboard_q8_divide_rows_s32(const int32_t *acc, size_t rows, size_t n, const int32_t *divisors, int64_t numerator,
                                int32_t shift, uint8_t *y, int32_t zero_point, int32_t qmin, int32_t qmax) {
#define ARGS acc, rows, n, divisors, numerator, shift, y, zero_point, qmin, qmax
    ONBOARD_Q8_DIVIDE_ROWS_S32_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}
