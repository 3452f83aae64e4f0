/* 4-bit-weight GEMM, arm64 dot product: the 12x16c4 microkernel, q8's tile on nibble panels with
 * q8's A packing (q8_gemm_neon.h). */
#include "q4_gemm_kernels.h"
#define Q8_NEON_BITS 4
#include "q8_gemm_neon.h"

#if defined(__aarch64__)
DOT_ATTR int onboard_q4_gemm_12x16c4__neondot(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                               int32_t *acc, const q8_tile_out *out) {
    (void)p1;
    return q8_tile_12x16__neondot(k, row, p0, acc, out);
}
#endif
