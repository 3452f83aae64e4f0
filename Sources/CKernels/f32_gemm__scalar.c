/* FP32 GEMM, portable: the reference (double accumulation, unpacked B) and the 1x16 microkernel
 * (f32_gemm_kernels.h). */
#include "f32_gemm_kernels.h"
#include "f32_gemm.h"

void onboard_f32_gemm__scalar(size_t m, size_t n, size_t k, const float *a, size_t lda,
                              const float *b, size_t ldb, const float *bias, float *c, size_t ldc) {
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = bias ? bias[j] : 0.0;
            for (size_t t = 0; t < k; t++) s += (double)a[i * lda + t] * b[t * ldb + j];
            c[i * ldc + j] = (float)s;
        }
}

void onboard_f32_gemm_1x16__scalar(size_t kc, const float *a, size_t lda, const float *panel,
                                   float *c, size_t ldc, const float *bias, int first) {
    (void)lda;
    (void)ldc;
    float acc[16];
    for (size_t j = 0; j < 16; j++) acc[j] = first ? (bias ? bias[j] : 0.0f) : c[j];
    for (size_t t = 0; t < kc; t++) {
        const float av = a[t];
        const float *bp = panel + t * 16;
        for (size_t j = 0; j < 16; j++) acc[j] += av * bp[j];
    }
    for (size_t j = 0; j < 16; j++) c[j] = acc[j];
}
