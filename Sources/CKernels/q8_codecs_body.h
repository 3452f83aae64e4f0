/* The INT8 codecs' portable loops, written once and built per ISA by q8_codecs__<isa>.c: the
 * including file defines BODY_ATTR (a target attribute, or nothing) and BODY_SUFFIX (__<isa>).
 * Exact on every ISA: integer steps, and float steps that round alike everywhere. */
#include "q8_codecs_kernels.h"
#include "q8_rounding.h"

/* No fused multiply-adds behind our back: every path must round exactly like the reference. */
#pragma clang fp contract(off)

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, BODY_SUFFIX)

static inline int32_t quantize_one(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
    float v = x / scale;
    const float lo = (float)(qmin - zp), hi = (float)(qmax - zp);
    v = v > hi ? hi : v;
    v = v >= lo ? v : lo; /* NaN goes low */
    return (int32_t)q8_round_even_fast(v) + zp;
}

BODY_ATTR bool FN(onboard_q8_quantize_u8)(const float *x, uint8_t *y, size_t n, float scale, int32_t zero_point,
                                          int32_t qmin, int32_t qmax) {
    for (size_t i = 0; i < n; i++) y[i] = (uint8_t)quantize_one(x[i], scale, zero_point, qmin, qmax);
    return true;
}

BODY_ATTR bool FN(onboard_q8_dequantize_u8)(const uint8_t *x, float *y, size_t n, float scale, int32_t zero_point) {
    for (size_t i = 0; i < n; i++) y[i] = scale * (float)((int32_t)x[i] - zero_point);
    return true;
}

BODY_ATTR bool FN(onboard_q8_requantize_u8)(const uint8_t *x, uint8_t *y, size_t n, float in_scale, int32_t in_zero_point,
                                            float out_scale, int32_t out_zero_point) {
    for (size_t i = 0; i < n; i++)
        y[i] = (uint8_t)quantize_one(in_scale * (float)((int32_t)x[i] - in_zero_point), out_scale, out_zero_point, 0, 255);
    return true;
}

BODY_ATTR bool FN(onboard_q8_row_sums)(const uint8_t *a, size_t m, size_t k, size_t lda, int32_t *sums) {
    for (size_t i = 0; i < m; i++) {
        int32_t s = 0;
        for (size_t t = 0; t < k; t++) s += a[i * lda + t];
        sums[i] = s;
    }
    return true;
}

BODY_ATTR bool FN(onboard_q8_add_u8)(const uint8_t *a, float a_scale, int32_t a_zero_point,
                                     const uint8_t *b, float b_scale, int32_t b_zero_point, float b_sign,
                                     uint8_t *y, size_t n, float y_scale, int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    for (size_t i = 0; i < n; i++) {
        /* The same float steps as dequantize, add and quantize one after another. */
        const float va = a_scale * (float)((int32_t)a[i] - a_zero_point);
        const float vb = b_scale * (float)((int32_t)b[i] - b_zero_point);
        y[i] = (uint8_t)quantize_one(b_sign > 0 ? va + vb : va - vb, y_scale, y_zero_point, y_min, y_max);
    }
    return true;
}

BODY_ATTR bool FN(onboard_q8_add_u8_dyadic)(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,
                                            const uint8_t *b, int32_t b_zero_point, int32_t b_multiplier, int32_t shift,
                                            uint8_t *y, size_t n, int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    const int64_t half = (int64_t)1 << (shift - 1);
    for (size_t i = 0; i < n; i++) {
        const int64_t sum = (int64_t)a_multiplier * ((int32_t)a[i] - a_zero_point)
                          + (int64_t)b_multiplier * ((int32_t)b[i] - b_zero_point);
        int64_t v = ((sum + half) >> shift) + y_zero_point; /* round half up */
        v = v < y_min ? y_min : v;
        y[i] = (uint8_t)(v > y_max ? y_max : v);
    }
    return true;
}

BODY_ATTR bool FN(onboard_q8_add_const_u8_dyadic)(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,
                                                  const int32_t *addend, int32_t shift, uint8_t *y, size_t n,
                                                  int32_t y_zero_point, int32_t y_min, int32_t y_max) {
    const int64_t half = (int64_t)1 << (shift - 1);
    for (size_t i = 0; i < n; i++) {
        const int64_t sum = (int64_t)a_multiplier * ((int32_t)a[i] - a_zero_point) + addend[i];
        int64_t v = ((sum + half) >> shift) + y_zero_point; /* round half up */
        v = v < y_min ? y_min : v;
        y[i] = (uint8_t)(v > y_max ? y_max : v);
    }
    return true;
}

BODY_ATTR bool FN(onboard_q8_causal_conv1d_s32)(const uint8_t *x, size_t length, size_t channels, int32_t zero_point,
                                                const int8_t *weight, size_t taps, int reverse, size_t t0, size_t rows,
                                                size_t c0, size_t cols, int32_t *acc, size_t ld) {
    for (size_t r = 0; r < rows; r++) {
        int32_t *restrict out = acc + r * ld;
        for (size_t j = 0; j < cols; j++) out[j] = 0;
        const size_t t = t0 + r;
        for (size_t k = 0; k < taps; k++) {
            /* source t - (taps - 1) + k (reverse: t + (taps - 1) - k), skipped outside [0, length) */
            if (reverse ? t + taps - 1 - k >= length : t + k < taps - 1) continue;
            const size_t source = reverse ? t + taps - 1 - k : t + k - (taps - 1);
            const uint8_t *restrict xs = x + source * channels + c0;
            const int8_t *restrict w = weight + k * channels + c0;
            for (size_t j = 0; j < cols; j++) out[j] += (int32_t)w[j] * ((int32_t)xs[j] - zero_point);
        }
    }
    return true;
}

#undef FN
#undef CAT
#undef CAT_
