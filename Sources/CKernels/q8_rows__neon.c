/* Integer row kernels, arm64 Advanced SIMD: QANS, layernorm and lookup-table softmax with the
 * reference's 64-bit steps on int64x2 lanes from 32x32-bit products (smull), bit-identical to
 * q8_rows_body.h (tested). NEON has no 64x64-bit multiply, so each kernel checks that its factors
 * fit 32 bits and leaves the others (a call, or a row) to the reference. */
#include "q8_rows_kernels.h"

#if defined(__aarch64__)
#include "q8_neon_lookup.h"

#include <math.h>
#include <string.h>

/* 16 int32 lanes (already clamped into a range) to 16 codes, keeping the low byte of each. */
static inline uint8x16_t narrow16(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    const int16x8_t low = vcombine_s16(vmovn_s32(a), vmovn_s32(b)), high = vcombine_s16(vmovn_s32(c), vmovn_s32(d));
    return vreinterpretq_u8_s8(vcombine_s8(vmovn_s16(low), vmovn_s16(high)));
}

/* The QANS epilogue on four lanes. Fixed point: sqrdmulh is sat((2 x m + 2^31) >> 32) =
 * sat((x m + 2^30) >> 31), the reference's first step (saturating only at x = m = INT32_MIN, as
 * it does); then the rounding shift by s with ties away from zero as gemmlowp's NEON
 * RoundingDivideByPOT: x + (x < 0 and s > 0 ? -1 : 0), then srshl by -s (adds 2^(s-1) exactly).
 * Float: the reference's steps, vcvtn rounding half to even like its 1.5 2^23 trick on values
 * clamped to +-1024. */
typedef struct {
    int32x4_t top, lowest, zero, low, high, multiplier, shift;
    float32x4_t scale;
} stabilize_constants;

static inline int32x4_t stabilize_clamp(const stabilize_constants *k, int32x4_t q) {
    return vminq_s32(vmaxq_s32(vaddq_s32(q, k->zero), k->low), k->high);
}

static inline int32x4_t stabilize_fixed4(const stabilize_constants *k, int32x4_t v) {
    const int32x4_t high = vqrdmulhq_s32(vsubq_s32(vmaxq_s32(v, k->lowest), k->top), k->multiplier);
    const int32x4_t fixup = vshrq_n_s32(vandq_s32(high, k->shift), 31);
    return stabilize_clamp(k, vrshlq_s32(vaddq_s32(high, fixup), k->shift));
}

static inline int32x4_t stabilize_float4(const stabilize_constants *k, int32x4_t v) {
    float32x4_t f = vmulq_f32(vcvtq_f32_s32(vsubq_s32(vmaxq_s32(v, k->lowest), k->top)), k->scale);
    f = vminq_f32(vmaxq_f32(f, vdupq_n_f32(-1024.0f)), vdupq_n_f32(1024.0f));
    return stabilize_clamp(k, vcvtnq_s32_f32(f));
}

/* One row's codes from 16 values at a time; the tail through a copy padded with the top. */
#define STABILIZE_ROW(step)                                                                                            \
    do {                                                                                                               \
        for (j = 0; j < full; j += 16)                                                                                 \
            vst1q_u8(out + j, narrow16(step(&k, vld1q_s32(v + j)), step(&k, vld1q_s32(v + j + 4)),                    \
                                       step(&k, vld1q_s32(v + j + 8)), step(&k, vld1q_s32(v + j + 12))));             \
        if (full < n) {                                                                                                \
            int32_t padded[16];                                                                                        \
            uint8_t codes[16];                                                                                         \
            for (int i = 0; i < 16; i++) padded[i] = full + (size_t)i < n ? v[full + (size_t)i] : top;                \
            vst1q_u8(codes, narrow16(step(&k, vld1q_s32(padded)), step(&k, vld1q_s32(padded + 4)),                    \
                                     step(&k, vld1q_s32(padded + 8)), step(&k, vld1q_s32(padded + 12))));             \
            memcpy(out + full, codes, n - full);                                                                       \
        }                                                                                                              \
    } while (0)

/* The row's max (scale >= 0) or min, 16 values a step. */
static inline int32_t row_top(const int32_t *v, size_t n, bool largest) {
    int32_t top = v[0];
    size_t j = 0;
    if (n >= 16) {
        int32x4x4_t best = vld1q_s32_x4(v);
        for (j = 16; j + 16 <= n; j += 16) {
            const int32x4x4_t next = vld1q_s32_x4(v + j);
            for (int i = 0; i < 4; i++) best.val[i] = largest ? vmaxq_s32(best.val[i], next.val[i]) : vminq_s32(best.val[i], next.val[i]);
        }
        const int32x4_t a = largest ? vmaxq_s32(best.val[0], best.val[1]) : vminq_s32(best.val[0], best.val[1]);
        const int32x4_t b = largest ? vmaxq_s32(best.val[2], best.val[3]) : vminq_s32(best.val[2], best.val[3]);
        top = largest ? vmaxvq_s32(vmaxq_s32(a, b)) : vminvq_s32(vminq_s32(a, b));
    }
    for (; j < n; j++) top = largest ? (v[j] > top ? v[j] : top) : (v[j] < top ? v[j] : top);
    return top;
}

bool onboard_q8_stabilize_rows_s32_u16__neon(const int32_t *sums, size_t rows, size_t n, float scale, int32_t multiplier,
                                             int32_t shift, uint8_t *y, int32_t zero_point, int32_t qmin, int32_t qmax) {
    if (qmin > qmax || shift > 31 || (multiplier == 0 && !isfinite(scale))) return false;
    stabilize_constants k = {
        .zero = vdupq_n_s32(zero_point), .low = vdupq_n_s32(qmin), .high = vdupq_n_s32(qmax),
        .multiplier = vdupq_n_s32(multiplier), .shift = vdupq_n_s32(-(shift < 0 ? 0 : shift)), .scale = vdupq_n_f32(scale),
    };
    const size_t full = n & ~(size_t)15;
    for (size_t r = 0; r < rows; r++) {
        const int32_t *v = sums + r * n;
        uint8_t *out = y + r * n;
        const int32_t top = scale >= 0 ? row_top(v, n, true) : row_top(v, n, false);
        k.top = vdupq_n_s32(top);
        k.lowest = vdupq_n_s32(top > INT32_MIN + (1 << 30) ? top - (1 << 30) : INT32_MIN);
        size_t j;
        if (multiplier != 0) STABILIZE_ROW(stabilize_fixed4);
        else STABILIZE_ROW(stabilize_float4);
    }
    return true;
}
#undef STABILIZE_ROW

/* Per-channel constants of the affine step, once per call: the gain, its shift (negated, for
 * srshl), and the bias with the final rounding half and the zero point folded in. */
typedef struct {
    int32_t gain[Q8_LAYERNORM_MAX_WIDTH + 16];
    int64_t shift[Q8_LAYERNORM_MAX_WIDTH + 16];
    int64_t offset[Q8_LAYERNORM_MAX_WIDTH + 16];
} affine_constants_neon;

/* rshift_round_fast on two lanes, (x + 2^(s-1) + (x >> 63)) >> s: srshl adds the 2^(s-1) exactly
 * (`count` = -s). */
static inline int64x2_t round_shift2(int64x2_t x, int64x2_t count) {
    return vrshlq_s64(vaddq_s64(x, vshrq_n_s64(x, 63)), count);
}

/* The row's reciprocal and the call's final rounding and clamp. */
typedef struct {
    int32x2_t m;
    int64x2_t count, bound, fraction;
    int32x4_t low, high;
} layernorm_step;

/* Two channels from D to int64 codes (zero point included, not clamped). */
static inline int64x2_t layernorm2(int32x2_t d, const affine_constants_neon *c, size_t at, const layernorm_step *k) {
    const int64x2_t normalized = round_shift2(vmull_s32(d, k->m), k->count);
    const int64x2_t gained = round_shift2(vmull_s32(vmovn_s64(normalized), vld1_s32(c->gain + at)), vld1q_s64(c->shift + at));
    const int64x2_t t = vaddq_s64(gained, vld1q_s64(c->offset + at));
    /* rshift_round(affine, F) + zp = (t - [affine < 0]) >> F, and affine < 0 exactly when t < bound */
    return vshlq_s64(vaddq_s64(t, vreinterpretq_s64_u64(vcltq_s64(t, k->bound))), k->fraction);
}

/* Sixteen channels from D at `d` (channels at...at+15) to 16 codes. */
static inline uint8x16_t layernorm16(const int32_t *d, const affine_constants_neon *c, size_t at, const layernorm_step *k) {
    int32x4_t q[4];
    for (int g = 0; g < 4; g++) {
        const int32x4_t d4 = vld1q_s32(d + 4 * g);
        const int64x2_t a = layernorm2(vget_low_s32(d4), c, at + 4 * (size_t)g, k);
        const int64x2_t b = layernorm2(vget_high_s32(d4), c, at + 4 * (size_t)g + 2, k);
        q[g] = vminq_s32(vmaxq_s32(vqmovn_high_s64(vqmovn_s64(a), b), k->low), k->high);
    }
    return narrow16(q[0], q[1], q[2], q[3]);
}

/* DI-Norm with the row's reciprocal m in 32 bits and every normalized value round(D m 2^-s)
 * within int32 (checked per row from the row's largest |D|), so that both products are smull;
 * other rows run the reference. */
bool onboard_q8_layernorm_rows_u16__neon(const uint8_t *x, uint8_t *y, size_t rows, size_t n,
                                         const int32_t *gain_multiplier, const int32_t *gain_shift, const int64_t *bias,
                                         int64_t epsilon, int32_t fraction_bits,
                                         int32_t zero_point, int32_t qmin, int32_t qmax, int32_t *work) {
    if (n > Q8_LAYERNORM_MAX_WIDTH || fraction_bits < 1 || fraction_bits > 30 || qmin > qmax) return false;
    const int64_t count = (int64_t)n;
    const int64_t final_offset = ((int64_t)1 << (fraction_bits - 1)) + ((int64_t)zero_point << fraction_bits);
    affine_constants_neon c;
    const size_t blocks = (n + 15) & ~(size_t)15;
    for (size_t j = 0; j < blocks; j++) {
        const bool live = j < n;
        c.gain[j] = live ? gain_multiplier[j] : 0;
        c.shift[j] = live ? -gain_shift[j] : -1;
        c.offset[j] = live ? bias[j] + final_offset : 0;
    }
    layernorm_step k = {.bound = vdupq_n_s64(final_offset), .fraction = vdupq_n_s64(-fraction_bits),
                        .low = vdupq_n_s32(qmin), .high = vdupq_n_s32(qmax)};
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *row = x + r * n;
        uint8_t *out = y + r * n;
        uint32x4_t sums = vdupq_n_u32(0);
        size_t j = 0;
        for (; j + 16 <= n; j += 16) sums = vpadalq_u16(sums, vpaddlq_u8(vld1q_u8(row + j)));
        int64_t sum = vaddvq_u32(sums);
        for (; j < n; j++) sum += row[j];
        /* D = n x - sum in int32 (|D| < 2^22), squares summed in int64 */
        const uint16x8_t vn = vdupq_n_u16((uint16_t)count);
        const int32x4_t vsum = vdupq_n_s32((int32_t)sum);
        int64x2_t squares = vdupq_n_s64(0);
        for (j = 0; j + 16 <= n; j += 16) {
            const uint8x16_t codes = vld1q_u8(row + j);
            const uint16x8_t lo = vmovl_u8(vget_low_u8(codes)), hi = vmovl_high_u8(codes);
            int32x4_t d[4] = {
                vreinterpretq_s32_u32(vmull_u16(vget_low_u16(lo), vget_low_u16(vn))), vreinterpretq_s32_u32(vmull_high_u16(lo, vn)),
                vreinterpretq_s32_u32(vmull_u16(vget_low_u16(hi), vget_low_u16(vn))), vreinterpretq_s32_u32(vmull_high_u16(hi, vn)),
            };
            for (int g = 0; g < 4; g++) {
                d[g] = vsubq_s32(d[g], vsum);
                squares = vmlal_high_s32(vmlal_s32(squares, vget_low_s32(d[g]), vget_low_s32(d[g])), d[g], d[g]);
            }
            const int32x4x4_t all = {{d[0], d[1], d[2], d[3]}};
            vst1q_s32_x4(work + j, all);
        }
        int64_t total = vaddvq_s64(squares);
        for (; j < n; j++) {
            const int32_t d = (int32_t)(count * row[j] - sum);
            work[j] = d;
            total += (int64_t)d * d;
        }
        const int64_t biggest = (int64_t)sqrt((double)total) + 2; /* each |D| <= sqrt(sum D^2) */
        int64_t multiplier;
        int shift;
        onboard_q8_layernorm_reciprocal(total, count, epsilon, fraction_bits, &multiplier, &shift);
        /* |round(D m 2^-s)| <= (|D| m + 2^(s-1)) >> s, with |D| m < 2^22 2^31 */
        if (multiplier > INT32_MAX || ((biggest * multiplier + ((int64_t)1 << (shift - 1))) >> shift) > INT32_MAX) {
            onboard_q8_layernorm_rows__scalar(row, out, 1, n, gain_multiplier, gain_shift, bias, epsilon, fraction_bits,
                                              zero_point, qmin, qmax, work);
            continue;
        }
        k.m = vdup_n_s32((int32_t)multiplier);
        k.count = vdupq_n_s64(-shift);
        const size_t full = n & ~(size_t)15;
        for (j = 0; j < full; j += 16) vst1q_u8(out + j, layernorm16(work + j, &c, j, &k));
        if (full < n) { /* zero D past the row, on the constants' zero-gain padding */
            int32_t padded[16] = {0};
            uint8_t part[16];
            memcpy(padded, work + full, (n - full) * sizeof(int32_t));
            vst1q_u8(part, layernorm16(padded, &c, full, &k));
            memcpy(out + full, part, n - full);
        }
    }
    return true;
}
/* The softmax's sum over a row of table[top - code] by byte planes: plane p holds byte p of every
 * (non-negative) entry, 16 lookups per tbl step, summed exactly in uint32 lanes. */
static int64_t table_sum(const uint8_t planes[4][256], int plane_count, const uint8_t *row, size_t n, uint8_t top) {
    const uint8x16_t vtop = vdupq_n_u8(top);
    const size_t full = n & ~(size_t)15;
    int64_t sum = 0;
    for (int p = 0; p < plane_count; p++) {
        const table256 t = table256_load(planes[p]);
        uint32x4_t sums = vdupq_n_u32(0);
        for (size_t j = 0; j < full; j += 16)
            sums = vpadalq_u16(sums, vpaddlq_u8(lookup16(&t, vsubq_u8(vtop, vld1q_u8(row + j)))));
        sum += (int64_t)vaddlvq_u32(sums) << (8 * p);
    }
    return sum;
}

/* The per-row multiplier m and the call's rounding shift, clamp and zero point. */
typedef struct {
    uint32x4_t m_low;  /* m mod 2^32 */
    int32x4_t m_high;  /* m >> 32 */
    int64x2_t count;   /* -shift */
    int32x4_t low, high, zero;
} softmax_step;

/* 16 output codes from table[d...d+15] (non-negative): (t m + 2^(shift-1)) >> shift by srshl, with
 * t m = t (m mod 2^32) + (t (m >> 32)) 2^32 exact in int64 (`wide`; else m is below 2^32). */
static inline uint8x16_t softmax_codes16(const int32_t *table, const softmax_step *k, bool wide) {
    int32x4_t q[4];
    for (int g = 0; g < 4; g++) {
        const int32x4_t t = vld1q_s32(table + 4 * g);
        int64x2_t lo = vreinterpretq_s64_u64(vmull_u32(vget_low_u32(vreinterpretq_u32_s32(t)), vget_low_u32(k->m_low)));
        int64x2_t hi = vreinterpretq_s64_u64(vmull_high_u32(vreinterpretq_u32_s32(t), k->m_low));
        if (wide) {
            lo = vaddq_s64(lo, vshlq_n_s64(vmull_s32(vget_low_s32(t), vget_low_s32(k->m_high)), 32));
            hi = vaddq_s64(hi, vshlq_n_s64(vmull_high_s32(t, k->m_high), 32));
        }
        const int32x4_t codes = vqmovn_high_s64(vqmovn_s64(vrshlq_s64(lo, k->count)), vrshlq_s64(hi, k->count));
        q[g] = vaddq_s32(vminq_s32(vmaxq_s32(codes, k->low), k->high), k->zero);
    }
    return narrow16(q[0], q[1], q[2], q[3]);
}

/* Softmax by a per-row table of outputs per code difference: the sum by byte-plane lookups, the
 * table's span (top - bottom + 1 entries) 16 at a time (softmax_codes16), then tbl lookups. The
 * clamp to [qmin - zp, qmax - zp] commutes with the saturating narrowing to int32 when both
 * bounds fit int32. Takes rows of 32 codes or more and tables without negative entries. */
bool onboard_q8_softmax_lut_rows_u16__neon(const uint8_t *x, uint8_t *y, size_t rows, size_t n, const int32_t *table,
                                           int64_t numerator, int32_t shift, int32_t zero_point, int32_t qmin,
                                           int32_t qmax) {
    const int64_t low = (int64_t)qmin - zero_point, high = (int64_t)qmax - zero_point;
    if (n < 32 || shift < 1 || shift > 62 || qmin > qmax || low < INT32_MIN || high > INT32_MAX) return false;
    int32x4_t smallest4 = vdupq_n_s32(0), largest4 = vdupq_n_s32(0);
    uint8_t planes[4][256] __attribute__((aligned(16)));
    const uint8x16_t byte0 = {0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60};
    for (int d = 0; d < 256; d += 16) {
        const int32x4x4_t t = vld1q_s32_x4(table + d);
        const uint8x16x4_t bytes = {{vreinterpretq_u8_s32(t.val[0]), vreinterpretq_u8_s32(t.val[1]), vreinterpretq_u8_s32(t.val[2]),
                                     vreinterpretq_u8_s32(t.val[3])}};
        for (int i = 0; i < 4; i++) {
            smallest4 = vminq_s32(smallest4, t.val[i]);
            largest4 = vmaxq_s32(largest4, t.val[i]);
        }
        for (int p = 0; p < 4; p++) vst1q_u8(planes[p] + d, vqtbl4q_u8(bytes, vaddq_u8(byte0, vdupq_n_u8((uint8_t)p))));
    }
    if (vminvq_s32(smallest4) < 0) return false;
    const int32_t largest = vmaxvq_s32(largest4);
    const int plane_count = largest < (1 << 8) ? 1 : largest < (1 << 16) ? 2 : largest < (1 << 24) ? 3 : 4;
    const int64x2_t count = vdupq_n_s64(-shift);
    const int32x4_t vlow = vdupq_n_s32((int32_t)low), vhigh = vdupq_n_s32((int32_t)high), vzp = vdupq_n_s32(zero_point);
    const size_t full = n & ~(size_t)15;
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *row = x + r * n;
        uint8_t *out = y + r * n;
        uint8x16_t tops = vdupq_n_u8(0), bottoms = vdupq_n_u8(255);
        for (size_t j = 0; j < full; j += 16) {
            const uint8x16_t v = vld1q_u8(row + j);
            tops = vmaxq_u8(tops, v);
            bottoms = vminq_u8(bottoms, v);
        }
        uint8_t top = vmaxvq_u8(tops), bottom = vminvq_u8(bottoms);
        for (size_t j = full; j < n; j++) {
            top = row[j] > top ? row[j] : top;
            bottom = row[j] < bottom ? row[j] : bottom;
        }
        int64_t sum = table_sum((const uint8_t(*)[256])planes, plane_count, row, n, top);
        for (size_t j = full; j < n; j++) sum += table[(uint8_t)(top - row[j])];
        const int64_t m = (numerator + sum / 2) / sum; /* sum >= table[0] > 0 */
        const softmax_step k = {.m_low = vdupq_n_u32((uint32_t)m), .m_high = vdupq_n_s32((int32_t)(m >> 32)), .count = count,
                                .low = vlow, .high = vhigh, .zero = vzp};
        uint8_t by_difference[256] __attribute__((aligned(16)));
        const size_t span = (size_t)(top - bottom) + 1;
        if (m >= 0 && m <= UINT32_MAX) { for (size_t d = 0; d < span; d += 16) vst1q_u8(by_difference + d, softmax_codes16(table + d, &k, false)); }
        else { for (size_t d = 0; d < span; d += 16) vst1q_u8(by_difference + d, softmax_codes16(table + d, &k, true)); }
        const table256 t = table256_load(by_difference); /* entries past the span are never looked up */
        const uint8x16_t vtop = vdupq_n_u8(top);
        for (size_t j = 0; j < full; j += 16) vst1q_u8(out + j, lookup16(&t, vsubq_u8(vtop, vld1q_u8(row + j))));
        for (size_t j = full; j < n; j++) out[j] = by_difference[(uint8_t)(top - row[j])];
    }
    return true;
}
/* The deferred-normalization epilogue: per row m = round(numerator / divisor) as the reference
 * takes it, then acc m exact in int64 lanes as (acc (m >> 32)) 2^32 + acc (m mod 2^32) with the low
 * part taken signed (m = h 2^32 + l, l = (int32)m, h = (m - l) / 2^32; one smull when h = 0), the
 * rounding as srshl of x + (x >> 63), and the clamp to [qmin - zp, qmax - zp] before the zero point
 * (exact through the saturating narrowing when both bounds fit int32). */
typedef struct {
    int32x4_t high_m, low_m, low, high, zero;
    int64x2_t count;
} divide_step;

static inline int32x4_t divide4(int32x4_t v, const divide_step *k, bool wide) {
    int64x2_t lo = vmull_s32(vget_low_s32(v), vget_low_s32(k->low_m)), hi = vmull_high_s32(v, k->low_m);
    if (wide) {
        lo = vaddq_s64(lo, vshlq_n_s64(vmull_s32(vget_low_s32(v), vget_low_s32(k->high_m)), 32));
        hi = vaddq_s64(hi, vshlq_n_s64(vmull_high_s32(v, k->high_m), 32));
    }
    lo = vrshlq_s64(vsraq_n_s64(lo, lo, 63), k->count);
    hi = vrshlq_s64(vsraq_n_s64(hi, hi, 63), k->count);
    return vaddq_s32(vminq_s32(vmaxq_s32(vqmovn_high_s64(vqmovn_s64(lo), hi), k->low), k->high), k->zero);
}

static inline uint8x16_t divide16(const int32_t *v, const divide_step *k, bool wide) {
    const int32x4x4_t x = vld1q_s32_x4(v);
    return narrow16(divide4(x.val[0], k, wide), divide4(x.val[1], k, wide), divide4(x.val[2], k, wide), divide4(x.val[3], k, wide));
}

bool onboard_q8_divide_rows_s32_u16__neon(const int32_t *acc, size_t rows, size_t n, const int32_t *divisors,
                                          int64_t numerator, int32_t shift, uint8_t *y, int32_t zero_point, int32_t qmin,
                                          int32_t qmax) {
    const int64_t low = (int64_t)qmin - zero_point, high = (int64_t)qmax - zero_point;
    if (shift < 1 || shift > 62 || qmin > qmax || low < INT32_MIN || high > INT32_MAX) return false;
    divide_step k = {.low = vdupq_n_s32((int32_t)low), .high = vdupq_n_s32((int32_t)high), .zero = vdupq_n_s32(zero_point),
                     .count = vdupq_n_s64(-shift)};
    const size_t full = n & ~(size_t)15;
    for (size_t r = 0; r < rows; r++) {
        const int32_t *v = acc + r * n;
        uint8_t *out = y + r * n;
        const int64_t divisor = divisors[r];
        const int64_t m = divisor <= 0 ? 0
                        : numerator >= 0 ? (numerator + divisor / 2) / divisor : -((-numerator + divisor / 2) / divisor);
        const int32_t l = (int32_t)(uint32_t)m;
        const int64_t h = (m - l) / ((int64_t)1 << 32);
        if (h < INT32_MIN || h > INT32_MAX) {
            onboard_q8_divide_rows_s32__scalar(v, 1, n, divisors + r, numerator, shift, out, zero_point, qmin, qmax);
            continue;
        }
        k.low_m = vdupq_n_s32(l);
        k.high_m = vdupq_n_s32((int32_t)h);
        size_t j = 0;
        if (h != 0) { for (; j < full; j += 16) vst1q_u8(out + j, divide16(v + j, &k, true)); }
        else { for (; j < full; j += 16) vst1q_u8(out + j, divide16(v + j, &k, false)); }
        if (full < n) {
            int32_t padded[16] = {0};
            uint8_t codes[16];
            memcpy(padded, v + full, (n - full) * sizeof(int32_t));
            vst1q_u8(codes, divide16(padded, &k, h != 0));
            memcpy(out + full, codes, n - full);
        }
    }
    return true;
}
#endif
