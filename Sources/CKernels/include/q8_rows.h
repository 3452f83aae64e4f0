#ifndef ONBOARD_Q8_ROWS_H
#define ONBOARD_Q8_ROWS_H
#include <stddef.h>
#include <stdint.h>

/* Integer row kernels of the INT8 executor's nonlinear ops (softmax, layernorm) and of QANS
 * (Q-PETR: the softmax input quantized after subtracting each row's max). All rows are
 * contiguous, n elements each. Integer rounding shifts round half away from zero. */

/* QANS epilogue: int32 sums -> u8 codes of (v - e) * scale per row, e = the row's max when
 * scale >= 0 and its min otherwise (so the largest logit maps to exactly 0): round half to even,
 * + zero_point, clamped to [qmin, qmax]. multiplier != 0 selects gemmlowp fixed point instead
 * (onboard_q8_fixed_point_multiply with multiplier, shift >= 0). */
void onboard_q8_stabilize_rows_s32(const int32_t *sums, size_t rows, size_t n, float scale,
                                   int32_t multiplier, int32_t shift,
                                   uint8_t *y, int32_t zero_point, int32_t qmin, int32_t qmax);

/* Softmax of u8 codes: table[d] (d = row max code - code, 256 entries) holds e^(-s d) in fixed
 * point with table[0] > 0; per row m = round(numerator / sum(table[d])) and
 * y = clamp(zero_point + round(table[d] * m / 2^shift)); needs table[d] * m < 2^63. */
void onboard_q8_softmax_lut_rows(const uint8_t *x, uint8_t *y, size_t rows, size_t n, const int32_t *table,
                                 int64_t numerator, int32_t shift, int32_t zero_point, int32_t qmin, int32_t qmax);

/* Softmax with deferred normalization, first half: y_j = reversed[x_j + 255 - top] with top the
 * row's max code, where reversed[255 - d] holds the u8 code of e^(-s d) (255 for d = 0), i.e. each
 * row's e^(x - max) in steps of 1/255. The product with V divides by the row's code sum after
 * the accumulation (onboard_q8_divide_rows_s32). */
void onboard_q8_softmax_exp_rows(const uint8_t *x, uint8_t *y, size_t rows, size_t n, const uint8_t *reversed);

/* Deferred-normalization epilogue: per row r, m = round(numerator / divisors[r]) and
 * y = clamp(zero_point + round(acc * m / 2^shift)) (ties away from zero); a divisor <= 0 gives
 * zero_point. Needs 1 <= shift <= 62 and |acc * m| < 2^63. */
void onboard_q8_divide_rows_s32(const int32_t *acc, size_t rows, size_t n, const int32_t *divisors, int64_t numerator,
                                int32_t shift, uint8_t *y, int32_t zero_point, int32_t qmin, int32_t qmax);

/* DI-Norm layernorm of u8 codes (n <= 16384): D_j = n x_j - sum x, the denominator
 * isqrt(sum D^2 2^(2p) / n + epsilon 2^(2p)) with p as large as 61 bits allow (at most 20), one
 * 31-bit reciprocal per row giving yhat_j = D_j 2^(F+p) / denominator in fixed point (F =
 * fraction_bits), then per channel round(yhat gain_multiplier 2^-gain_shift) + bias (same F),
 * rounded to codes + zero_point, clamped. epsilon is eps n^2 / s_in^2 (units of D^2); every
 * gain_shift is in 1...62 (a zero gain as multiplier 0).
 * `work` holds n int32. */
void onboard_q8_layernorm_rows(const uint8_t *x, uint8_t *y, size_t rows, size_t n,
                               const int32_t *gain_multiplier, const int32_t *gain_shift, const int64_t *bias,
                               int64_t epsilon, int32_t fraction_bits,
                               int32_t zero_point, int32_t qmin, int32_t qmax, int32_t *work);
#endif
