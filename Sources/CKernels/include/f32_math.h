#ifndef ONBOARD_F32_MATH_H
#define ONBOARD_F32_MATH_H
#include <stddef.h>

/* FP32 row and element-wise kernels. Each op has a `__scalar` reference (libm, plain loops) and a
 * fast version that runs the first body of the list (f32_math_kernels.h) the ISA cap allows. */

/* y[i] = 0.5 x (1 + erf(x / sqrt 2)) */
void onboard_f32_gelu_erf__scalar(const float *x, float *y, size_t n);
void onboard_f32_gelu_erf(const float *x, float *y, size_t n);
/* y[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
void onboard_f32_gelu_tanh__scalar(const float *x, float *y, size_t n);
void onboard_f32_gelu_tanh(const float *x, float *y, size_t n);
/* y[i] = x / (1 + exp(-x)) and y[i] = 1 / (1 + exp(-x)) */
void onboard_f32_silu__scalar(const float *x, float *y, size_t n);
void onboard_f32_silu(const float *x, float *y, size_t n);
void onboard_f32_sigmoid__scalar(const float *x, float *y, size_t n);
void onboard_f32_sigmoid(const float *x, float *y, size_t n);

/* Softmax of each of `rows` rows of length `n` (row stride n). */
void onboard_f32_softmax_rows__scalar(const float *x, float *y, size_t rows, size_t n);
void onboard_f32_softmax_rows(const float *x, float *y, size_t rows, size_t n);

/* LayerNorm of each row: y = (x - mean) / sqrt(var + eps) * gamma + beta (biased variance). */
void onboard_f32_layernorm_rows__scalar(const float *x, float *y, size_t rows, size_t n,
                                        const float *gamma, const float *beta, float eps);
void onboard_f32_layernorm_rows(const float *x, float *y, size_t rows, size_t n,
                                const float *gamma, const float *beta, float eps);

/* Each of `rows` rows of n = k * p (p a power of two) times R = (H_k ⊗ H_p)^T / sqrt(n), in place:
 * Walsh-Hadamard butterflies inside each block of p, then block o = sum_l hk[o * k + l] * block l,
 * with hk the k x k matrix H_k (row-major; pass its transpose for R^T). `work` holds n floats. */
void onboard_f32_hadamard_rows__scalar(float *x, size_t rows, size_t n, size_t k, const float *hk, float *work);
void onboard_f32_hadamard_rows(float *x, size_t rows, size_t n, size_t k, const float *hk, float *work);
#endif
