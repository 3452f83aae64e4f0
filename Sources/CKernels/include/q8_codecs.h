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
/* sum_k a[i][k] for each of m rows (row stride lda). */
void onboard_q8_row_sums(const uint8_t *a, size_t m, size_t k, size_t lda, int32_t *sums);
#endif
