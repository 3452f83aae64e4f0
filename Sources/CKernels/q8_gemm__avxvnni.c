/* INT8 GEMM, AVX-VNNI: the 6x16c4 microkernel (q8_gemm_kernels.h). */
#include "q8_gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVXVNNI_ATTR __attribute__((target("avx2,fma,avxvnni")))

/* 6 rows x 16 columns (one panel as two ymm of 8 lanes). */
AVXVNNI_ATTR int onboard_q8_gemm_6x16c4__avxvnni(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                                 int32_t *acc, const q8_tile_out *out) {
    (void)out;
    (void)p1;
    __m256i c[6][2];
    for (int r = 0; r < 6; r++) c[r][0] = c[r][1] = _mm256_setzero_si256();
    const size_t full = k / 4;
#define AVXVNNI_STEP(g, A_WORD)                                                              \
    do {                                                                                     \
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(p0 + (g) * NR * 4));        \
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(p0 + (g) * NR * 4 + 32));   \
        _Pragma("clang loop unroll(full)")                                                   \
        for (int r = 0; r < 6; r++) {                                                        \
            const __m256i av = _mm256_set1_epi32((int)(A_WORD));                             \
            c[r][0] = _mm256_dpbusd_avx_epi32(c[r][0], av, b0);                              \
            c[r][1] = _mm256_dpbusd_avx_epi32(c[r][1], av, b1);                              \
        }                                                                                    \
    } while (0)
    for (size_t g = 0; g < full; g++) AVXVNNI_STEP(g, q8_load_u32(row[r] + 4 * g));
    if (k % 4) AVXVNNI_STEP(full, q8_load_a4(row[r] + 4 * full, k % 4));
#undef AVXVNNI_STEP
    for (int r = 0; r < 6; r++) {
        _mm256_storeu_si256((__m256i *)(acc + r * ONBOARD_Q8_ACC_LD), c[r][0]);
        _mm256_storeu_si256((__m256i *)(acc + r * ONBOARD_Q8_ACC_LD + 8), c[r][1]);
    }
    return 0;
}
#endif
