/* Private to CKernels: the FP32 GEMM kernel list (f32_gemm.h), fastest first. One line per
 * microkernel: op, tile, ISA, the flags it needs, MR, NR. Each computes an MR x NR tile of C over
 * one depth block of a panel packed NR wide (f32_gemm.c runs it over the whole product):
 *   c[0..MR)[0..NR) = (first ? bias or 0 : c) + a[0..MR)[0..kc) · panel[0..kc)[0..NR)
 * For a panel width, the first kernel of that width the cap allows runs; onboard_f32_gemm_nr()
 * is the width of the first kernel the cap allows. */
#ifndef ONBOARD_F32_GEMM_KERNELS_H
#define ONBOARD_F32_GEMM_KERNELS_H
#include "kernel_list.h"

#define ONBOARD_F32_GEMM_KERNELS(X)                                               \
    ONBOARD_X86(X(f32_gemm, _12x32, avx512f, ONBOARD_ISA_AVX512F, 12, 32))        \
    ONBOARD_X86(X(f32_gemm, _6x16, avx2, ONBOARD_ISA_AVX2, 6, 16))                \
    ONBOARD_ARM64(X(f32_gemm, _5x16, neon, ONBOARD_ISA_NEON, 5, 16))              \
    X(f32_gemm, _1x16, scalar, 0, 1, 16)

/* The largest tile any kernel has (the edge buffers' size). */
#define ONBOARD_F32_GEMM_MAX_MR 12
#define ONBOARD_F32_GEMM_MAX_NR 32

#define ONBOARD_F32_GEMM_DECLARE(op, tile, isa, flags, mr, nr)                                      \
    void onboard_##op##tile##__##isa(size_t kc, const float *a, size_t lda, const float *panel,     \
                                     float *c, size_t ldc, const float *bias, int first);           \
    _Static_assert(mr <= ONBOARD_F32_GEMM_MAX_MR && nr <= ONBOARD_F32_GEMM_MAX_NR, "tile too large");
ONBOARD_F32_GEMM_KERNELS(ONBOARD_F32_GEMM_DECLARE)
#undef ONBOARD_F32_GEMM_DECLARE

#endif
