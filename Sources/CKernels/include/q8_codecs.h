#ifndef ONBOARD_Q8_CODECS_H
#define ONBOARD_Q8_CODECS_H
#include <stddef.h>
#include <stdint.h>

/* Activation codecs (exact, round half to even, NaN to the low end):
 *   quantize:   y = clamp(round(x / scale) + zero_point, qmin, qmax)
 *   dequantize: y = scale * (x - zero_point)
 *   requantize: between two u8 parameter sets, through float. */
void onboard_q8_quantize_u8(const float *x, uint8_t *y, size_t n, float scale, int32_t zero_point,
                            int32_t qmin, int32_t qmax);
void onboard_q8_dequantize_u8(const uint8_t *x, float *y, size_t n, float scale, int32_t zero_point);
void onboard_q8_requantize_u8(const uint8_t *x, uint8_t *y, size_t n, float in_scale, int32_t in_zero_point,
                              float out_scale, int32_t out_zero_point);
/* y[i] = table[x[i]]: any unary op on codes, tabulated once per pair of parameter sets. */
void onboard_q8_lookup_u8(const uint8_t *x, uint8_t *y, size_t n, const uint8_t *table);
/* y = quantize(dequantize(a) +/- dequantize(b)) element-wise (b_sign = 1 or -1), with exactly
 * the float steps of the separate codecs. */
void onboard_q8_add_u8(const uint8_t *a, float a_scale, int32_t a_zero_point,
                       const uint8_t *b, float b_scale, int32_t b_zero_point, float b_sign,
                       uint8_t *y, size_t n, float y_scale, int32_t y_zero_point, int32_t y_min, int32_t y_max);
/* y = y_zero_point + round((a_multiplier (a - a_zero_point) + b_multiplier (b - b_zero_point)) / 2^shift),
 * clamped to [y_min, y_max]: an add (or, with a negative b_multiplier, a subtraction) in integers only.
 * shift in 1...62; the sum is exact in int64. */
void onboard_q8_add_u8_dyadic(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,
                              const uint8_t *b, int32_t b_zero_point, int32_t b_multiplier, int32_t shift,
                              uint8_t *y, size_t n, int32_t y_zero_point, int32_t y_min, int32_t y_max);
/* The same with a constant operand, stored as addend[i] = round(±c[i] / y_scale · 2^shift) (a bias of
 * the output's codes): y = y_zero_point + round((a_multiplier (a - a_zero_point) + addend) / 2^shift). */
void onboard_q8_add_const_u8_dyadic(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier, const int32_t *addend,
                                    int32_t shift, uint8_t *y, size_t n, int32_t y_zero_point, int32_t y_min, int32_t y_max);
/* Int32 sums of Mamba's conv1d (depthwise along the sequence) on u8 codes x [length, channels] of one
 * sequence and int8 weights [taps, channels] (tap-major): for rows r < rows and columns j < cols,
 *   acc[r * ld + j] = sum_k weight[k][c0 + j] (x[s][c0 + j] - zero_point),  t = t0 + r,
 * over the taps whose source s = t - (taps - 1) + k (reverse: t + (taps - 1) - k) lies in
 * [0, length): the causal convolution, or with `reverse` that of the flipped sequence flipped back. */
void onboard_q8_causal_conv1d_s32(const uint8_t *x, size_t length, size_t channels, int32_t zero_point,
                                  const int8_t *weight, size_t taps, int reverse, size_t t0, size_t rows,
                                  size_t c0, size_t cols, int32_t *acc, size_t ld);
/* sum_k a[i][k] for each of m rows (row stride lda). */
void onboard_q8_row_sums(const uint8_t *a, size_t m, size_t k, size_t lda, int32_t *sums);
#endif
