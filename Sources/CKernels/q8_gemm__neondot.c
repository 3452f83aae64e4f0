/* INT8 GEMM, arm64 dot product: the 8x16c4 microkernel (q8_gemm_kernels.h). */
#include "q8_gemm_kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#if defined(__ARM_FEATURE_DOTPROD)
#define NEON_ATTR
#else
#define NEON_ATTR __attribute__((target("dotprod")))
#endif

/* 8 rows x 16 columns with sdot (signed x signed): A is flipped to signed by xor 0x80, and
 * 128 * column sums of B (taken with one more sdot against ones) are added back. */
NEON_ATTR int onboard_q8_gemm_8x16c4__neondot(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                              int32_t *acc, const q8_tile_out *out) {
    (void)out;
    (void)p1;
    int32x4_t c[8][4], sums[4];
    for (int q = 0; q < 4; q++) sums[q] = vdupq_n_s32(0);
    for (int r = 0; r < 8; r++) for (int q = 0; q < 4; q++) c[r][q] = vdupq_n_s32(0);
    const int8x16_t ones = vdupq_n_s8(1);
    const size_t groups = k / 4, tail = k % 4;
    for (size_t g = 0; g <= groups; g++) {
        if (g == groups && tail == 0) break;
        int8x16_t b[4];
        for (int q = 0; q < 4; q++) {
            b[q] = vld1q_s8(p0 + g * NR * 4 + 16 * q);
            sums[q] = vdotq_s32(sums[q], b[q], ones);
        }
        for (int r = 0; r < 8; r++) {
            uint32_t w = q8_load_a4(row[r] + 4 * g, g == groups ? tail : 4);
            /* Bytes past k are 0 in B, so flipping them does not change the sum. */
            const int8x16_t av = vreinterpretq_s8_u32(vdupq_n_u32(w ^ 0x80808080u));
            for (int q = 0; q < 4; q++) c[r][q] = vdotq_s32(c[r][q], av, b[q]);
        }
    }
    for (int r = 0; r < 8; r++)
        for (int q = 0; q < 4; q++)
            vst1q_s32(acc + r * ONBOARD_Q8_ACC_LD + 4 * q, vaddq_s32(c[r][q], vshlq_n_s32(sums[q], 7)));
    return 0;
}
#endif
