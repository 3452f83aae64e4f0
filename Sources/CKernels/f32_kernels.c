/* Reference (scalar) FP32 kernels, the per-ISA fast bodies, and run-time dispatch. */
#include "CKernels.h"
#include <math.h>

/* The 16-lane helpers are static inline: their vector ABI never crosses a call boundary. */
#pragma clang diagnostic ignored "-Wpsabi"

/* ---- scalar references ---- */

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

/* ---- fast bodies, one per ISA ---- */

#define BODY_ATTR
#define BODY_SUFFIX __generic
#include "f32_math_body.h"
#undef BODY_ATTR
#undef BODY_SUFFIX

#if defined(__x86_64__)
#define BODY_ATTR __attribute__((target("avx2,fma")))
#define BODY_SUFFIX __avx2
#include "f32_math_body.h"
#undef BODY_ATTR
#undef BODY_SUFFIX

#define BODY_ATTR __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
#define BODY_SUFFIX __avx512
#include "f32_math_body.h"
#undef BODY_ATTR
#undef BODY_SUFFIX
#endif

/* ---- dispatch ---- */

static volatile unsigned isa_cap = ~0u;

unsigned onboard_f32_set_isa_cap(unsigned cap) {
    const unsigned previous = isa_cap;
    isa_cap = cap;
    return previous;
}

unsigned onboard_f32_usable_isa(void) { return onboard_cpu_isa_flags() & isa_cap; }
#define usable_isa onboard_f32_usable_isa

#if defined(__x86_64__)
#define DISPATCH(name, ...)                                                         \
    do {                                                                            \
        const unsigned isa = usable_isa();                                          \
        if (isa & ONBOARD_ISA_AVX512F) { name##__avx512(__VA_ARGS__); return; }     \
        if (isa & ONBOARD_ISA_AVX2) { name##__avx2(__VA_ARGS__); return; }          \
        name##__generic(__VA_ARGS__);                                               \
    } while (0)
#else
#define DISPATCH(name, ...) name##__generic(__VA_ARGS__)
#endif

void onboard_f32_gelu_erf(const float *x, float *y, size_t n) { DISPATCH(onboard_f32_gelu_erf, x, y, n); }
void onboard_f32_gelu_tanh(const float *x, float *y, size_t n) { DISPATCH(onboard_f32_gelu_tanh, x, y, n); }
void onboard_f32_sigmoid(const float *x, float *y, size_t n) { DISPATCH(onboard_f32_sigmoid, x, y, n); }
void onboard_f32_silu(const float *x, float *y, size_t n) { DISPATCH(onboard_f32_silu, x, y, n); }
void onboard_f32_softmax_rows(const float *x, float *y, size_t rows, size_t n) {
    DISPATCH(onboard_f32_softmax_rows, x, y, rows, n);
}
void onboard_f32_layernorm_rows(const float *x, float *y, size_t rows, size_t n,
                                const float *gamma, const float *beta, float eps) {
    DISPATCH(onboard_f32_layernorm_rows, x, y, rows, n, gamma, beta, eps);
}
