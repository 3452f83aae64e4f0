/* INT8 codecs, arm64 Advanced SIMD: the table lookup by tbl, requantize as a lookup in the
 * scalar reference's own 256-entry table, quantize and the float add in float lanes, and the dyadic adds with
 * 32x32 -> 64-bit products (q8_codecs_kernels.h); bit-identical to q8_codecs_body.h (tested). */
#include "q8_codecs_kernels.h"

#if defined(__aarch64__)
#include "q8_neon_lookup.h"

#include <string.h>

/* No fused multiply-adds: every float step must round as the reference's does (gcc fuses vector
 * multiplies and adds under its default -ffp-contract=fast). */
#if defined(__clang__)
#pragma clang fp contract(off)
#else
#pragma GCC optimize("fp-contract=off")
#endif

/* 16 int32 lanes to codes, keeping the low byte of each. */
static inline uint8x16_t narrow16_s32(const int32x4_t q[4]) {
    const int16x8_t a = vcombine_s16(vmovn_s32(q[0]), vmovn_s32(q[1])), b = vcombine_s16(vmovn_s32(q[2]), vmovn_s32(q[3]));
    return vreinterpretq_u8_s8(vcombine_s8(vmovn_s16(a), vmovn_s16(b)));
}

static void lookup(const uint8_t *x, uint8_t *y, size_t n, const uint8_t *table) {
    const table256 t = table256_load(table);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const uint8x16_t a = lookup16(&t, vld1q_u8(x + i)), b = lookup16(&t, vld1q_u8(x + i + 16));
        vst1q_u8(y + i, a);
        vst1q_u8(y + i + 16, b);
    }
    for (; i < n; i += 16) { /* through a buffer: x and y may be one array */
        const size_t count = n - i < 16 ? n - i : 16;
        uint8_t part[16] = {0};
        memcpy(part, x + i, count);
        vst1q_u8(part, lookup16(&t, vld1q_u8(part)));
        memcpy(y + i, part, count);
    }
}

bool onboard_q8_lookup_u8_u32__neon(const uint8_t *x, uint8_t *y, size_t n, const uint8_t *table) {
    lookup(x, y, n, table);
    return true;
}

/* Every code's output from the scalar reference, then lookups: worth it from a few hundred codes. */
bool onboard_q8_requantize_u8_u32__neon(const uint8_t *x, uint8_t *y, size_t n, float in_scale, int32_t in_zero_point,
                                        float out_scale, int32_t out_zero_point) {
    if (n < 256) return false;
    uint8_t codes[256], table[256];
    for (int c = 0; c < 256; c++) codes[c] = (uint8_t)c;
    onboard_q8_requantize_u8__scalar(codes, table, 256, in_scale, in_zero_point, out_scale, out_zero_point);
    lookup(x, y, n, table);
    return true;
}

/* quantize_one on four lanes: the reference's clamps to [qmin - zp, qmax - zp] (NaN low) leave its
 * later clamp to +-2^22 idle when both bounds are inside it; then vcvtn rounds half to even as its
 * 1.5 2^23 trick does. Plain fmul/fadd/fdiv round as the scalar steps do (no contraction). */
typedef struct {
    float32x4_t scale, low, high;
    int32x4_t zero;
} quantize_constants;

static inline bool quantize_setup(quantize_constants *c, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
    const float lo = (float)(qmin - zero_point), hi = (float)(qmax - zero_point);
    if (!(lo >= -4194304.0f && lo <= 4194304.0f && hi >= -4194304.0f && hi <= 4194304.0f)) return false;
    *c = (quantize_constants){.scale = vdupq_n_f32(scale), .low = vdupq_n_f32(lo), .high = vdupq_n_f32(hi),
                              .zero = vdupq_n_s32(zero_point)};
    return true;
}

static inline int32x4_t quantize4(const quantize_constants *c, float32x4_t x) {
    float32x4_t v = vdivq_f32(x, c->scale);
    v = vbslq_f32(vcgtq_f32(v, c->high), c->high, v);
    v = vbslq_f32(vcgeq_f32(v, c->low), v, c->low); /* NaN compares false: low */
    return vaddq_s32(vcvtnq_s32_f32(v), c->zero);
}

bool onboard_q8_quantize_u8_u16__neon(const float *x, uint8_t *y, size_t n, float scale, int32_t zero_point,
                                      int32_t qmin, int32_t qmax) {
    quantize_constants c;
    if (!quantize_setup(&c, scale, zero_point, qmin, qmax)) return false;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        int32x4_t q[4];
        for (int g = 0; g < 4; g++) q[g] = quantize4(&c, vld1q_f32(x + i + 4 * (size_t)g));
        vst1q_u8(y + i, narrow16_s32(q));
    }
    return onboard_q8_quantize_u8__scalar(x + i, y + i, n - i, scale, zero_point, qmin, qmax);
}

/* 16 codes minus a zero point as four float32x4 (exact: the differences fit 24 bits). */
static inline void dequantize16(uint8x16_t codes, int32x4_t zero, float32x4_t scale, float32x4_t out[4]) {
    const uint16x8_t lo = vmovl_u8(vget_low_u8(codes)), hi = vmovl_high_u8(codes);
    const uint16x4_t parts[4] = {vget_low_u16(lo), vget_high_u16(lo), vget_low_u16(hi), vget_high_u16(hi)};
    for (int g = 0; g < 4; g++)
        out[g] = vmulq_f32(scale, vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(vmovl_u16(parts[g])), zero)));
}

/* The float add: dequantize both, add or subtract, quantize, each step as the reference rounds it. */
bool onboard_q8_add_u8_u16__neon(const uint8_t *a, float a_scale, int32_t a_zero_point, const uint8_t *b, float b_scale,
                                 int32_t b_zero_point, float b_sign, uint8_t *y, size_t n, float y_scale,
                                 int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    quantize_constants c;
    if (a_zero_point < -(1 << 23) || a_zero_point > (1 << 23) || b_zero_point < -(1 << 23) || b_zero_point > (1 << 23)
        || !quantize_setup(&c, y_scale, y_zero_point, y_min, y_max)) return false;
    const int32x4_t az = vdupq_n_s32(a_zero_point), bz = vdupq_n_s32(b_zero_point);
    const float32x4_t as = vdupq_n_f32(a_scale), bs = vdupq_n_f32(b_scale);
    const bool add = b_sign > 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t va[4], vb[4];
        dequantize16(vld1q_u8(a + i), az, as, va);
        dequantize16(vld1q_u8(b + i), bz, bs, vb);
        int32x4_t q[4];
        for (int g = 0; g < 4; g++) q[g] = quantize4(&c, add ? vaddq_f32(va[g], vb[g]) : vsubq_f32(va[g], vb[g]));
        vst1q_u8(y + i, narrow16_s32(q));
    }
    return onboard_q8_add_u8__scalar(a + i, a_scale, a_zero_point, b + i, b_scale, b_zero_point, b_sign, y + i, n - i,
                                     y_scale, y_zero_point, y_min, y_max);
}

/* The dyadic adds, 16 codes per step in four int64x2 pairs: the sum with 2^(shift-1) folded in is
 * exact in int64, sshl by -shift floors it, and the clamp to [y_min - y_zp, y_max - y_zp] commutes
 * with the saturating narrowing to int32 when both bounds fit int32. */
typedef struct {
    int32x4_t a_zero, b_zero, low, high, y_zero;
    int32x2_t a_multiplier, b_multiplier;
    int64x2_t half, shift;
} dyadic_constants;

static inline bool dyadic_setup(dyadic_constants *c, int32_t a_zero_point, int32_t a_multiplier, int32_t b_zero_point,
                                int32_t b_multiplier, int32_t shift, int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    const int64_t low = (int64_t)y_min - y_zero_point, high = (int64_t)y_max - y_zero_point;
    if (shift < 1 || shift > 62 || low < INT32_MIN || low > INT32_MAX || high < INT32_MIN || high > INT32_MAX) return false;
    *c = (dyadic_constants){
        .a_zero = vdupq_n_s32(a_zero_point), .b_zero = vdupq_n_s32(b_zero_point),
        .low = vdupq_n_s32((int32_t)low), .high = vdupq_n_s32((int32_t)high), .y_zero = vdupq_n_s32(y_zero_point),
        .a_multiplier = vdup_n_s32(a_multiplier), .b_multiplier = vdup_n_s32(b_multiplier),
        .half = vdupq_n_s64((int64_t)1 << (shift - 1)), .shift = vdupq_n_s64(-shift),
    };
    return true;
}

/* 16 codes as four int32x4 lanes of code - zero_point. */
static inline void widen16(uint8x16_t codes, int32x4_t zero, int32x4_t d[4]) {
    const uint16x8_t lo = vmovl_u8(vget_low_u8(codes)), hi = vmovl_high_u8(codes);
    d[0] = vsubq_s32(vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(lo))), zero);
    d[1] = vsubq_s32(vreinterpretq_s32_u32(vmovl_high_u16(lo)), zero);
    d[2] = vsubq_s32(vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(hi))), zero);
    d[3] = vsubq_s32(vreinterpretq_s32_u32(vmovl_high_u16(hi)), zero);
}

/* Four sums (low and high int64 pairs each) to 16 codes. */
static inline uint8x16_t dyadic_codes(const dyadic_constants *c, int64x2_t sum[4][2]) {
    int32x4_t words[4];
    for (int g = 0; g < 4; g++) {
        const int64x2_t lo = vshlq_s64(sum[g][0], c->shift), hi = vshlq_s64(sum[g][1], c->shift);
        const int32x4_t q = vqmovn_high_s64(vqmovn_s64(lo), hi);
        words[g] = vaddq_s32(vminq_s32(vmaxq_s32(q, c->low), c->high), c->y_zero);
    }
    return narrow16_s32(words);
}

/* The adds in int64x2 lanes, any shift: 16 codes a step, returns how many it did. */
static size_t add_wide(const uint8_t *a, const uint8_t *b, uint8_t *y, size_t n, const dyadic_constants *c) {
    const int32x4_t am = vcombine_s32(c->a_multiplier, c->a_multiplier), bm = vcombine_s32(c->b_multiplier, c->b_multiplier);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        int32x4_t da[4], db[4];
        widen16(vld1q_u8(a + i), c->a_zero, da);
        widen16(vld1q_u8(b + i), c->b_zero, db);
        int64x2_t sum[4][2];
        for (int g = 0; g < 4; g++) {
            sum[g][0] = vmlal_s32(vmlal_s32(c->half, vget_low_s32(da[g]), c->a_multiplier), vget_low_s32(db[g]), c->b_multiplier);
            sum[g][1] = vmlal_high_s32(vmlal_high_s32(c->half, da[g], am), db[g], bm);
        }
        vst1q_u8(y + i, dyadic_codes(c, sum));
    }
    return i;
}

static size_t add_const_wide(const uint8_t *a, const int32_t *addend, uint8_t *y, size_t n, const dyadic_constants *c) {
    const int32x4_t am = vcombine_s32(c->a_multiplier, c->a_multiplier);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        int32x4_t da[4];
        widen16(vld1q_u8(a + i), c->a_zero, da);
        int64x2_t sum[4][2];
        for (int g = 0; g < 4; g++) {
            const int32x4_t k = vld1q_s32(addend + i + 4 * (size_t)g);
            sum[g][0] = vmlal_s32(vaddw_s32(c->half, vget_low_s32(k)), vget_low_s32(da[g]), c->a_multiplier);
            sum[g][1] = vmlal_high_s32(vaddw_high_s32(c->half, k), da[g], am);
        }
        vst1q_u8(y + i, dyadic_codes(c, sum));
    }
    return i;
}

/* For shifts 17...46 the adds also run in int32 lanes, 4 per smull instead of 2, as the AVX-512
 * kernel does: with m = m_hi 2^16 + m_lo (m_lo in [-2^15, 2^15), both int16) and d = code - zp in
 * int16, the sum is H 2^16 + L with H = sum m_hi d and L = sum m_lo d inside int32, and
 *   floor((H 2^16 + L + 2^(s-1)) / 2^s) = (H + (L >> 16) + 2^(s-17)) >> (s - 16),
 * the floor of L / 2^16 taken first (ssra), srshl adding the 2^(s-17). Needs |m_hi| < 2^15 and
 * zero points in [-32512, 32767]. */
typedef struct {
    int16x8_t a_zero, b_zero;
    int16x4_t a_high, a_low, b_high, b_low;
    int32x4_t count, low, high, y_zero;
} split_constants;

static inline bool split_multiplier(int32_t m, int16_t *high, int16_t *low) {
    const int32_t h = (int32_t)(((int64_t)m + (1 << 15)) >> 16);
    *high = (int16_t)h;
    *low = (int16_t)(m - h * 65536);
    return h > -32768 && h < 32767;
}

static inline bool split_setup(split_constants *c, int32_t a_zero_point, int32_t a_multiplier, int32_t b_zero_point,
                               int32_t b_multiplier, int32_t shift, int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    int16_t ah, al, bh, bl;
    const int64_t low = (int64_t)y_min - y_zero_point, high = (int64_t)y_max - y_zero_point;
    if (shift < 17 || shift > 46 || a_zero_point < -32512 || a_zero_point > 32767 || b_zero_point < -32512
        || b_zero_point > 32767 || low < INT32_MIN || high > INT32_MAX || !split_multiplier(a_multiplier, &ah, &al)
        || !split_multiplier(b_multiplier, &bh, &bl)) return false;
    *c = (split_constants){
        .a_zero = vdupq_n_s16((int16_t)a_zero_point), .b_zero = vdupq_n_s16((int16_t)b_zero_point),
        .a_high = vdup_n_s16(ah), .a_low = vdup_n_s16(al), .b_high = vdup_n_s16(bh), .b_low = vdup_n_s16(bl),
        .count = vdupq_n_s32(16 - shift), .low = vdupq_n_s32((int32_t)low), .high = vdupq_n_s32((int32_t)high),
        .y_zero = vdupq_n_s32(y_zero_point),
    };
    return true;
}

/* 16 codes as two int16x8 of code - zero_point. */
static inline void widen16_s16(uint8x16_t codes, int16x8_t zero, int16x8_t d[2]) {
    d[0] = vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(codes))), zero);
    d[1] = vsubq_s16(vreinterpretq_s16_u16(vmovl_high_u8(codes)), zero);
}

/* Four codes (in int32 lanes) from H and L. */
static inline int32x4_t split_codes4(const split_constants *c, int32x4_t high, int32x4_t low) {
    const int32x4_t q = vrshlq_s32(vsraq_n_s32(high, low, 16), c->count);
    return vaddq_s32(vminq_s32(vmaxq_s32(q, c->low), c->high), c->y_zero);
}

static inline int16x4_t quarter(const int16x8_t d[2], int g) { return g & 1 ? vget_high_s16(d[g >> 1]) : vget_low_s16(d[g >> 1]); }

static size_t add_split(const uint8_t *a, const uint8_t *b, uint8_t *y, size_t n, const split_constants *c) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        int16x8_t da[2], db[2];
        widen16_s16(vld1q_u8(a + i), c->a_zero, da);
        widen16_s16(vld1q_u8(b + i), c->b_zero, db);
        int32x4_t q[4];
        for (int g = 0; g < 4; g++) {
            const int32x4_t high = vmlal_s16(vmull_s16(quarter(da, g), c->a_high), quarter(db, g), c->b_high);
            const int32x4_t low = vmlal_s16(vmull_s16(quarter(da, g), c->a_low), quarter(db, g), c->b_low);
            q[g] = split_codes4(c, high, low);
        }
        vst1q_u8(y + i, narrow16_s32(q));
    }
    return i;
}

static size_t add_const_split(const uint8_t *a, const int32_t *addend, uint8_t *y, size_t n, const split_constants *c) {
    const int32x4_t low_bits = vdupq_n_s32(0xFFFF);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        int16x8_t da[2];
        widen16_s16(vld1q_u8(a + i), c->a_zero, da);
        const int32x4x4_t k = vld1q_s32_x4(addend + i);
        int32x4_t q[4];
        for (int g = 0; g < 4; g++) {
            const int32x4_t high = vmlal_s16(vshrq_n_s32(k.val[g], 16), quarter(da, g), c->a_high);
            const int32x4_t low = vmlal_s16(vandq_s32(k.val[g], low_bits), quarter(da, g), c->a_low);
            q[g] = split_codes4(c, high, low);
        }
        vst1q_u8(y + i, narrow16_s32(q));
    }
    return i;
}

bool onboard_q8_add_u8_dyadic_u16__neon(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier, const uint8_t *b,
                                        int32_t b_zero_point, int32_t b_multiplier, int32_t shift, uint8_t *y, size_t n,
                                        int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    split_constants split;
    dyadic_constants c;
    size_t i = 0;
    if (split_setup(&split, a_zero_point, a_multiplier, b_zero_point, b_multiplier, shift, y_zero_point, y_min, y_max))
        i = add_split(a, b, y, n, &split);
    else if (dyadic_setup(&c, a_zero_point, a_multiplier, b_zero_point, b_multiplier, shift, y_zero_point, y_min, y_max))
        i = add_wide(a, b, y, n, &c);
    else return false;
    return onboard_q8_add_u8_dyadic__scalar(a + i, a_zero_point, a_multiplier, b + i, b_zero_point, b_multiplier, shift,
                                            y + i, n - i, y_zero_point, y_min, y_max);
}

bool onboard_q8_add_const_u8_dyadic_u16__neon(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,
                                              const int32_t *addend, int32_t shift, uint8_t *y, size_t n,
                                              int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    split_constants split;
    dyadic_constants c;
    size_t i = 0;
    if (split_setup(&split, a_zero_point, a_multiplier, 0, 0, shift, y_zero_point, y_min, y_max))
        i = add_const_split(a, addend, y, n, &split);
    else if (dyadic_setup(&c, a_zero_point, a_multiplier, 0, 0, shift, y_zero_point, y_min, y_max))
        i = add_const_wide(a, addend, y, n, &c);
    else return false;
    return onboard_q8_add_const_u8_dyadic__scalar(a + i, a_zero_point, a_multiplier, addend + i, shift, y + i, n - i,
                                                  y_zero_point, y_min, y_max);
}
#endif
