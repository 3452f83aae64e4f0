/* The integer layernorm (q8_rows.h) in float with exact corrections, written once and built per
 * ISA by the file that includes it, which defines LAYERNORM_ATTR (a target attribute),
 * LAYERNORM_KERNEL (the kernel's name) and, before including it:
 *   layernorm_row: a row's constants in vectors, set by layernorm_row_set(&r, n, sum, step);
 *   layernorm_row_moments(row, n, &sum, &mean_square): sum and n sum x^2 - sum^2 of a row;
 *   layernorm_16(codes, out, slope, offset, margin, &r, qmin, qmax): 16 codes into out, from the
 *   channels' constants at slope, offset and margin, returning the mask of those to recompute.
 *
 * DI-Norm's output is clamp(round(q)), q = (G + bias) 2^-F + zp with G = round(N g 2^-gs) and
 * N = round(D m 2^-s) (D = n x - sum; roundings half away from zero); each rounding moves a value
 * by at most 1/2, so q is within
 *   delta_j = (|g_j| 2^-gs_j / 2 + 1/2) 2^-F
 * of v = D (m 2^-s) (g_j 2^-gs_j) 2^-F + bias_j 2^-F + zp. One multiply and one fused multiply-add
 * give v in float as z with |z - v| <= 4.01 2^-24 M <= E = M 2^-20, M a bound on
 * |D m 2^-s g_j 2^-gs_j 2^-F| + |bias_j 2^-F + zp| over the call (D is exact in float: |D| < 2^19):
 * D^2 <= sum D^2 = n mean and m 2^-s <= 2^F / (sqrt(mean) - 2^-p) (1 + 2^-30) with p >= 7 for
 * n <= 1024 and epsilon < 2^46, so |D m 2^-s| <= sqrt(n) 2^F 1.01 (D = 0 where mean = 0).
 * Where |z - rint(z)| < 1/2 - delta_j - E, no half-integer lies within delta_j of v, so
 * round(q) = rint(z); the other elements (about 2 delta of them) are recomputed in int64 as the
 * reference does. Calls with M >= 2^20 (absurd gains or biases) are left to the reference loop. */
#include <string.h>

typedef struct {
    float slope[Q8_LAYERNORM_MAX_WIDTH + 16];  /* g_j 2^-gs_j 2^-F */
    float offset[Q8_LAYERNORM_MAX_WIDTH + 16]; /* bias_j 2^-F + zp */
    float margin[Q8_LAYERNORM_MAX_WIDTH + 16]; /* 1/2 - delta_j - E, rounded down */
} layernorm_channels;

typedef struct {
    const int32_t *gain_multiplier, *gain_shift;
    const int64_t *bias;
    int64_t count, sum, multiplier;
    int shift;
    int32_t fraction_bits, zero_point, qmin, qmax;
} layernorm_row_exact;

/* One element as the reference computes it. */
static inline uint8_t layernorm_exact(const layernorm_row_exact *e, uint8_t code, size_t j) {
    const int64_t normalized = rshift_round_fast((e->count * code - e->sum) * e->multiplier, e->shift);
    const int64_t affine = rshift_round_fast(normalized * e->gain_multiplier[j], e->gain_shift[j]) + e->bias[j];
    return (uint8_t)clamp_i64(rshift_round_fast(affine, e->fraction_bits) + e->zero_point, e->qmin, e->qmax);
}

/* The elements of `unsure` (bits of the 16 at `at`) recomputed exactly. */
static inline void layernorm_recompute(const layernorm_row_exact *e, const uint8_t *codes, uint8_t *out, size_t at, unsigned unsure) {
    while (unsure) {
        const int i = __builtin_ctz(unsure);
        out[i] = layernorm_exact(e, codes[i], at + (size_t)i);
        unsure &= unsure - 1;
    }
}

/* 2^-s for 0 <= s <= 1022, without a division. */
static inline double power_of_two_below(int s) {
    const uint64_t bits = (uint64_t)(1023 - s) << 52;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* The per-channel constants; false when the bound M reaches 2^20. */
static inline bool layernorm_channels_set(layernorm_channels *c, size_t n, const int32_t *gain_multiplier, const int32_t *gain_shift,
                                          const int64_t *bias, int32_t fraction_bits, int32_t zero_point) {
    double largest_slope = 0, largest_offset = 0;
    const double unit = power_of_two_below(fraction_bits);
    for (size_t j = 0; j < n; j++) {
        const double gain = (double)gain_multiplier[j] * power_of_two_below(gain_shift[j]);
        c->slope[j] = (float)(gain * unit);
        c->offset[j] = (float)((double)bias[j] * unit + zero_point);
        c->margin[j] = (float)(0.5 - (__builtin_fabs(gain) / 2 + 0.5) * unit);
        largest_slope = __builtin_fabs((double)c->slope[j]) > largest_slope ? __builtin_fabs((double)c->slope[j]) : largest_slope;
        largest_offset = __builtin_fabs((double)c->offset[j]) > largest_offset ? __builtin_fabs((double)c->offset[j]) : largest_offset;
    }
    const double bound = (__builtin_sqrt((double)n) * 1.01 * (double)((int64_t)1 << fraction_bits) + 1) * largest_slope + largest_offset;
    if (!(bound < 0x1p20)) return false;
    for (size_t j = 0; j < n; j++) c->margin[j] = (float)((double)c->margin[j] - bound * 0x1p-20 - 0x1p-22);
    for (size_t j = n; j < ((n + 15) & ~(size_t)15); j++) { /* the tail's padding: z = 0, never recomputed */
        c->slope[j] = c->offset[j] = 0;
        c->margin[j] = 1;
    }
    return true;
}

LAYERNORM_ATTR
bool LAYERNORM_KERNEL(const uint8_t *x, uint8_t *y, size_t rows, size_t n, const int32_t *gain_multiplier, const int32_t *gain_shift,
                      const int64_t *bias, int64_t epsilon, int32_t fraction_bits, int32_t zero_point, int32_t qmin, int32_t qmax,
                      int32_t *work) {
    (void)work;
    if (!(n <= Q8_LAYERNORM_MAX_WIDTH && fraction_bits >= 1 && fraction_bits <= 62 && qmin >= 0 && qmin <= qmax && qmax <= 255
          && epsilon >= 0 && epsilon < ((int64_t)1 << 46))) return false;
    layernorm_channels c;
    if (!layernorm_channels_set(&c, n, gain_multiplier, gain_shift, bias, fraction_bits, zero_point)) return false;
    layernorm_row_exact e = {
        .gain_multiplier = gain_multiplier, .gain_shift = gain_shift, .bias = bias, .count = (int64_t)n,
        .fraction_bits = fraction_bits, .zero_point = zero_point, .qmin = qmin, .qmax = qmax,
    };
    layernorm_row r;
    const size_t full = n & ~(size_t)15;
    /* moments and reciprocals of 8 rows before any is normalized: their square roots and divisions overlap */
    enum { block = 8 };
    uint32_t unsure_blocks[Q8_LAYERNORM_MAX_WIDTH / 16]; /* block index << 16 | mask */
    int64_t sums[block], means[block], multipliers[block];
    int shifts[block];
    for (size_t first = 0; first < rows; first += block) {
        const size_t count = rows - first < block ? rows - first : block;
        for (size_t i = 0; i < count; i++) layernorm_row_moments(x + (first + i) * n, n, sums + i, means + i);
        onboard_q8_layernorm_reciprocals(means, count, e.count, epsilon, fraction_bits, multipliers, shifts);
        for (size_t i = 0; i < count; i++) {
            const uint8_t *row = x + (first + i) * n;
            uint8_t *out = y + (first + i) * n;
            e.sum = sums[i];
            e.multiplier = multipliers[i];
            e.shift = shifts[i];
            layernorm_row_set(&r, n, e.sum, (float)((double)multipliers[i] * power_of_two_below(shifts[i])));
            /* The blocks with an element to recompute are noted without a branch and recomputed
             * after the row: about one block in eight has one, too many to predict. */
            size_t noted = 0;
            for (size_t j = 0; j < full; j += 16) {
                const unsigned unsure = layernorm_16(row + j, out + j, c.slope + j, c.offset + j, c.margin + j, &r, qmin, qmax);
                unsure_blocks[noted] = (uint32_t)(j / 16) << 16 | unsure;
                noted += unsure != 0;
            }
            for (size_t b = 0; b < noted; b++) {
                const size_t j = (size_t)(unsure_blocks[b] >> 16) * 16;
                layernorm_recompute(&e, row + j, out + j, j, unsure_blocks[b] & 0xFFFF);
            }
            if (full < n) {
                uint8_t padded[16] = {0}, codes[16];
                memcpy(padded, row + full, n - full);
                layernorm_recompute(&e, padded, codes, full, layernorm_16(padded, codes, c.slope + full, c.offset + full, c.margin + full, &r, qmin, qmax));
                memcpy(out + full, codes, n - full);
            }
        }
    }
    return true;
}
