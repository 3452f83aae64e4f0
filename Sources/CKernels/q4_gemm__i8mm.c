/* 4-bit-weight GEMM, arm64 i8mm: the 8x16c8 microkernel, q8's tile on nibble panels (two
 * consecutive depth groups zipped into usmmla's 2x8 blocks after unpacking, as q8's are) with q8's
 * A packing (q8_gemm_neon.h). */
#include "q4_gemm_kernels.h"
#define Q8_NEON_BITS 4
#include "q8_gemm_neon.h"

#if defined(__aarch64__)
I8MM_ATTR int onboard_q4_gemm_8x16c8__i8mm(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                          int32_t *acc, const q8_tile_out *out) {
    (void)p1;
    return q8_tile_8x16__i8mm(k, row, p0, acc, out);
}
#endif
