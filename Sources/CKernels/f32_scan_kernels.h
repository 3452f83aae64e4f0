/* Private to CKernels: the selective scan kernel list (f32_scan.h), fastest first. One line per
 * kernel: op, tile (c<N>: the channels one vector step carries, one lane each), ISA, the flags it
 * needs. Every kernel takes every shape (any state count, channel ranges of any width); ranges
 * that start and end at multiples of the tile run on whole vectors only. */
#ifndef ONBOARD_F32_SCAN_KERNELS_H
#define ONBOARD_F32_SCAN_KERNELS_H
#include "f32_scan.h"
#include "kernel_list.h"

#define ONBOARD_F32_SCAN_KERNELS(X)                                         \
    ONBOARD_X86(X(f32_selective_scan, _c32, avx512f, ONBOARD_ISA_AVX512F))  \
    ONBOARD_X86(X(f32_selective_scan, _c16, avx2, ONBOARD_ISA_AVX2))        \
    ONBOARD_ARM64(X(f32_selective_scan, _c16, neon, ONBOARD_ISA_NEON))      \
    X(f32_selective_scan, , scalar, 0)

#define ONBOARD_F32_SCAN_DECLARE(op, tile, isa, flags)                                                          \
    bool onboard_##op##tile##__##isa(size_t length, size_t state, size_t d_begin, size_t d_end, int reverse,    \
        const float *u, size_t u_stride, const float *dt, size_t dt_stride, const float *dt_bias,               \
        const float *A, const float *B, const float *C, size_t bc_stride, const float *D,                       \
        const float *z, size_t z_stride, const float *gate_scale, float *y, size_t y_stride);
ONBOARD_F32_SCAN_KERNELS(ONBOARD_F32_SCAN_DECLARE)
#undef ONBOARD_F32_SCAN_DECLARE

#endif
