/* FP32 GEMM, AVX2 + FMA: the 6x16 microkernel (f32_gemm_kernels.h), 12 accumulators in registers. */
#include "f32_gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define MR 6

__attribute__((target("avx2,fma")))
void onboard_f32_gemm_6x16__avx2(size_t kc, const float *a, size_t lda, const float *panel,
                                 float *c, size_t ldc, const float *bias, int first) {
    __m256 acc[MR][2];
    for (int i = 0; i < MR; i++) {
        acc[i][0] = first ? (bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps()) : _mm256_loadu_ps(c + i * ldc);
        acc[i][1] = first ? (bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps()) : _mm256_loadu_ps(c + i * ldc + 8);
    }
    for (size_t t = 0; t < kc; t++) {
        const __m256 b0 = _mm256_loadu_ps(panel + t * 16), b1 = _mm256_loadu_ps(panel + t * 16 + 8);
        for (int i = 0; i < MR; i++) {
            const __m256 av = _mm256_broadcast_ss(a + i * lda + t);
            acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < MR; i++) {
        _mm256_storeu_ps(c + i * ldc, acc[i][0]);
        _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
    }
}
#endif
