/* 4-bit-weight GEMM, arm64 Advanced SIMD: the column sums of a packed B (q4_gemm_kernels.h). */
#include "q4_gemm_kernels.h"
#include "q8_gemm_neon.h"

#if defined(__aarch64__)
/* A depth group of a panel unpacks to four registers of 4 columns x 4 depths (q8_neon_b_half):
 * pairwise widening adds fold each column's 4 codes into its 32-bit lane. */
bool onboard_q4_packed_column_sums_u16__neon(const int8_t *packed, size_t k, size_t n, int32_t *sums) {
    const size_t kp = q8_padded_depth(k);
    for (size_t p = 0; p < q8_panel_count(n); p++) {
        const int8_t *panel = packed + p * NR * kp / 2;
        int32x4_t s[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
        for (size_t g = 0; g < kp / 4; g++) {
            const int8x16x2_t left = q8_neon_b_half(4, panel + g * Q8_NEON_GROUP_BYTES(4), 0);
            const int8x16x2_t right = q8_neon_b_half(4, panel + g * Q8_NEON_GROUP_BYTES(4), 1);
            const int8x16_t b[4] = {left.val[0], left.val[1], right.val[0], right.val[1]};
            for (int q = 0; q < 4; q++) s[q] = vpadalq_s16(s[q], vpaddlq_s8(b[q]));
        }
        int32_t all[NR];
        for (int q = 0; q < 4; q++) vst1q_s32(all + 4 * q, s[q]);
        memcpy(sums + p * NR, all, (n - p * NR < NR ? n - p * NR : NR) * sizeof(int32_t));
    }
    return true;
}
#endif
