/* FP32 GEMM, arm64 Advanced SIMD: the 5x16 microkernel (f32_gemm_kernels.h). 20 accumulators, 5
 * A vectors (four depths of each row, used by element) and 4 B vectors fill 29 of the 32
 * registers. It is inline assembly: compilers hoist the next depth's B loads, which needs 33
 * registers and spills accumulators (clang 21 did, in every loop pass). */
#include "f32_gemm_kernels.h"

#if defined(__aarch64__)
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

#define ACC_ROWS(op, ptr, step)                                        \
    op " {v12.4s, v13.4s, v14.4s, v15.4s}, [" ptr "], " step "\n\t"     \
    op " {v16.4s, v17.4s, v18.4s, v19.4s}, [" ptr "], " step "\n\t"     \
    op " {v20.4s, v21.4s, v22.4s, v23.4s}, [" ptr "], " step "\n\t"     \
    op " {v24.4s, v25.4s, v26.4s, v27.4s}, [" ptr "], " step "\n\t"     \
    op " {v28.4s, v29.4s, v30.4s, v31.4s}, [" ptr "], " step "\n\t"

static const float zeros[16];

void onboard_f32_gemm_5x16__neon(size_t kc, const float *a, size_t lda, const float *panel,
                                 float *c, size_t ldc, const float *bias, int first) {
    const float *a0 = a, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda, *a4 = a3 + lda;
    /* The accumulators start from C's rows, or from one row (bias or zeros) five times. */
    const float *start = first ? (bias ? bias : zeros) : c;
    const size_t start_step = first ? 0 : ldc * sizeof(float), c_step = ldc * sizeof(float);
    size_t groups = kc / 4, rest = kc % 4;
    __asm__ volatile(
        ACC_ROWS("ld1", "%[start]", "%[start_step]")
        "cbz %[groups], 2f\n\t"
        "1:\n\t"
        "ldr q4, [%[a0]], #16\n\t"
        "ldr q5, [%[a1]], #16\n\t"
        "ldr q6, [%[a2]], #16\n\t"
        "ldr q7, [%[a3]], #16\n\t"
        "ldr q8, [%[a4]], #16\n\t"
        DEPTH(0) DEPTH(1) DEPTH(2) DEPTH(3)
        "subs %[groups], %[groups], #1\n\t"
        "b.ne 1b\n\t"
        "2:\n\t"
        "cbz %[rest], 4f\n\t"
        "3:\n\t" /* one depth at a time: each row's A value in lane 0 */
        "ld1r {v4.4s}, [%[a0]], #4\n\t"
        "ld1r {v5.4s}, [%[a1]], #4\n\t"
        "ld1r {v6.4s}, [%[a2]], #4\n\t"
        "ld1r {v7.4s}, [%[a3]], #4\n\t"
        "ld1r {v8.4s}, [%[a4]], #4\n\t"
        DEPTH(0)
        "subs %[rest], %[rest], #1\n\t"
        "b.ne 3b\n\t"
        "4:\n\t"
        ACC_ROWS("st1", "%[c]", "%[c_step]")
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4), [b] "+r"(panel),
          [groups] "+r"(groups), [rest] "+r"(rest), [start] "+r"(start), [c] "+r"(c)
        : [start_step] "r"(start_step), [c_step] "r"(c_step)
        : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v12", "v13", "v14", "v15", "v16", "v17", "v18",
          "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "cc", "memory");
}
#endif
