/* FP32 row and element-wise kernels, portable: the references (libm, plain loops) and the body
 * built without a target attribute (f32_math_kernels.h). */
#include "f32_math.h"
#include "f32_math_kernels.h"

#include <math.h>

void onboard_f32_gelu_erf__scalar(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

void onboard_f32_gelu_tanh__scalar(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        y[i] = 0.5f * v * (1.0f + tanhf(0.79788456080286536f * (v + 0.044715f * v * v * v)));
    }
}

void onboard_f32_sigmoid__scalar(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

void onboard_f32_silu__scalar(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
}

void onboard_f32_softmax_rows__scalar(const float *x, float *y, size_t rows, size_t n) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float m = -INFINITY;
        for (size_t i = 0; i < n; i++) m = xr[i] > m ? xr[i] : m;
        double sum = 0.0;
        for (size_t i = 0; i < n; i++) { yr[i] = expf(xr[i] - m); sum += yr[i]; }
        for (size_t i = 0; i < n; i++) yr[i] = (float)(yr[i] / sum);
    }
}

void onboard_f32_layernorm_rows__scalar(const float *x, float *y, size_t rows, size_t n,
                                        const float *gamma, const float *beta, float eps) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        double sum = 0.0, sq = 0.0;
        for (size_t i = 0; i < n; i++) sum += xr[i];
        const double mean = sum / (double)n;
        for (size_t i = 0; i < n; i++) sq += (xr[i] - mean) * (xr[i] - mean);
        const double rstd = 1.0 / sqrt(sq / (double)n + eps);
        for (size_t i = 0; i < n; i++) yr[i] = (float)((xr[i] - mean) * rstd) * gamma[i] + beta[i];
    }
}

/* By the definition, O(n^2) per row in double: y[o·p + j] = sum over l, i of hk[o·k + l] · H_p[i][j] ·
 * x[l·p + i] / sqrt(n), with H_p[i][j] = (-1)^popcount(i & j) (Sylvester). */
void onboard_f32_hadamard_rows__scalar(float *x, size_t rows, size_t n, size_t k, const float *hk, float *work) {
    if (n == 0 || k == 0 || n % k != 0) return;
    const size_t p = n / k;
    const double norm = 1.0 / sqrt((double)n);
    for (size_t r = 0; r < rows; r++) {
        float *v = x + r * n;
        for (size_t o = 0; o < k; o++)
            for (size_t j = 0; j < p; j++) {
                double sum = 0.0;
                for (size_t l = 0; l < k; l++)
                    for (size_t i = 0; i < p; i++)
                        sum += (__builtin_popcountll(i & j) & 1 ? -1.0 : 1.0) * hk[o * k + l] * v[l * p + i];
                work[o * p + j] = (float)(sum * norm);
            }
        for (size_t i = 0; i < n; i++) v[i] = work[i];
    }
}

#define BODY_ATTR
#define BODY_SUFFIX _u16__scalar
#include "f32_math_body.h"
