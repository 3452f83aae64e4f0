/* INT8 GEMM, arm64 Advanced SIMD: the column sums of packed B (q8_gemm_kernels.h). */
#include "q8_gemm_kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

/* A depth group of a panel is four registers of 4 columns x 4 depths: pairwise widening adds
 * fold each column's 4 bytes into its 32-bit lane. */
bool onboard_q8_packed_column_sums_u16__neon(const int8_t *packed, size_t k, size_t n, int32_t *sums) {
    const size_t kp = q8_padded_depth(k);
    for (size_t p = 0; p < q8_panel_count(n); p++) {
        const int8_t *panel = packed + p * NR * kp;
        int32x4_t s[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
        for (size_t g = 0; g < kp / 4; g++)
            for (int q = 0; q < 4; q++) s[q] = vpadalq_s16(s[q], vpaddlq_s8(vld1q_s8(panel + g * 4 * NR + 16 * q)));
        int32_t all[NR];
        for (int q = 0; q < 4; q++) vst1q_s32(all + 4 * q, s[q]);
        memcpy(sums + p * NR, all, (n - p * NR < NR ? n - p * NR : NR) * sizeof(int32_t));
    }
    return true;
}
#endif
