/* FP32 GEMM, arm64 Advanced SIMD: the 5x16 microkernel (f32_gemm_kernels.h). 20 accumulators, 5
 * A vectors (four depths of each row, used by element) and 4 B vectors fill 29 of the 32
 * registers. The depth loop is inline assembly: compilers hoist the next depth's B loads, which
 * needs 33 registers and spills accumulators (clang 21 did, in every loop pass). */
#include "f32_gemm_kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#define MR 5

/* B row t is v0-v3, row i's A vector v(4 + i), its accumulators v(12 + 4i) to v(15 + 4i). */
#define FMLA_ROW(a, lane, c0, c1, c2, c3)                              \
    "fmla " c0 ".4s, v0.4s, " a ".s[" #lane "]\n\t"                    \
    "fmla " c1 ".4s, v1.4s, " a ".s[" #lane "]\n\t"                    \
    "fmla " c2 ".4s, v2.4s, " a ".s[" #lane "]\n\t"                    \
    "fmla " c3 ".4s, v3.4s, " a ".s[" #lane "]\n\t"
#define DEPTH(lane)                                                    \
    "ld1 {v0.4s, v1.4s, v2.4s, v3.4s}, [%[b]], #64\n\t"                \
    FMLA_ROW("v4", lane, "v12", "v13", "v14", "v15")                   \
    FMLA_ROW("v5", lane, "v16", "v17", "v18", "v19")                   \
    FMLA_ROW("v6", lane, "v20", "v21", "v22", "v23")                   \
    FMLA_ROW("v7", lane, "v24", "v25", "v26", "v27")                   \
    FMLA_ROW("v8", lane, "v28", "v29", "v30", "v31")

/* The depth loop over groups (> 0) of four depths; acc[MR][4] goes in and out through memory, as
 * gcc takes at most 30 asm operands. */
static inline void depth_groups(float *acc, const float *a0, size_t lda, const float *bp, size_t groups) {
    const float *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda, *a4 = a3 + lda;
    __asm__ volatile(
        "ld1 {v12.4s, v13.4s, v14.4s, v15.4s}, [%[acc]]\n\t"
        "ld1 {v16.4s, v17.4s, v18.4s, v19.4s}, [%[acc1]]\n\t"
        "ld1 {v20.4s, v21.4s, v22.4s, v23.4s}, [%[acc2]]\n\t"
        "ld1 {v24.4s, v25.4s, v26.4s, v27.4s}, [%[acc3]]\n\t"
        "ld1 {v28.4s, v29.4s, v30.4s, v31.4s}, [%[acc4]]\n\t"
        "1:\n\t"
        "ldr q4, [%[a0]], #16\n\t"
        "ldr q5, [%[a1]], #16\n\t"
        "ldr q6, [%[a2]], #16\n\t"
        "ldr q7, [%[a3]], #16\n\t"
        "ldr q8, [%[a4]], #16\n\t"
        DEPTH(0) DEPTH(1) DEPTH(2) DEPTH(3)
        "subs %[groups], %[groups], #1\n\t"
        "b.ne 1b\n\t"
        "st1 {v12.4s, v13.4s, v14.4s, v15.4s}, [%[acc]]\n\t"
        "st1 {v16.4s, v17.4s, v18.4s, v19.4s}, [%[acc1]]\n\t"
        "st1 {v20.4s, v21.4s, v22.4s, v23.4s}, [%[acc2]]\n\t"
        "st1 {v24.4s, v25.4s, v26.4s, v27.4s}, [%[acc3]]\n\t"
        "st1 {v28.4s, v29.4s, v30.4s, v31.4s}, [%[acc4]]\n\t"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4), [b] "+r"(bp), [groups] "+r"(groups)
        : [acc] "r"(acc), [acc1] "r"(acc + 16), [acc2] "r"(acc + 32), [acc3] "r"(acc + 48), [acc4] "r"(acc + 64)
        : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v12", "v13", "v14", "v15", "v16", "v17", "v18",
          "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "cc", "memory");
}

void onboard_f32_gemm_5x16__neon(size_t kc, const float *a, size_t lda, const float *panel,
                                 float *c, size_t ldc, const float *bias, int first) {
    float acc[MR * 16];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < 16; j++) acc[i * 16 + j] = first ? (bias ? bias[j] : 0.0f) : c[i * ldc + j];
    const size_t groups = kc / 4, done = groups * 4;
    if (groups) depth_groups(acc, a, lda, panel, groups);
    for (size_t t = done; t < kc; t++)
        for (int i = 0; i < MR; i++) {
            const float32x4_t av = vld1q_dup_f32(a + i * lda + t);
            for (int q = 0; q < 4; q++)
                vst1q_f32(acc + i * 16 + 4 * q, vfmaq_f32(vld1q_f32(acc + i * 16 + 4 * q), vld1q_f32(panel + t * 16 + 4 * q), av));
        }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < 16; j++) c[i * ldc + j] = acc[i * 16 + j];
}
#endif
