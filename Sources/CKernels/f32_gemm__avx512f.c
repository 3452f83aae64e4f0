/* FP32 GEMM, AVX-512: the 12x32 microkernel (f32_gemm_kernels.h), 24 accumulators in registers. */
#include "f32_gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define MR 12

__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
void onboard_f32_gemm_12x32__avx512f(size_t kc, const float *a, size_t lda, const float *panel,
                                     float *c, size_t ldc, const float *bias, int first) {
    __m512 acc[MR][2];
    for (int i = 0; i < MR; i++) {
        acc[i][0] = first ? (bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps()) : _mm512_loadu_ps(c + i * ldc);
        acc[i][1] = first ? (bias ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps()) : _mm512_loadu_ps(c + i * ldc + 16);
    }
    for (size_t t = 0; t < kc; t++) {
        const __m512 b0 = _mm512_loadu_ps(panel + t * 32), b1 = _mm512_loadu_ps(panel + t * 32 + 16);
        for (int i = 0; i < MR; i++) {
            const __m512 av = _mm512_set1_ps(a[i * lda + t]);
            acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < MR; i++) {
        _mm512_storeu_ps(c + i * ldc, acc[i][0]);
        _mm512_storeu_ps(c + i * ldc + 16, acc[i][1]);
    }
}
#endif
