/* 4-bit-weight GEMM, AVX-VNNI: the 6x16c4 microkernel, q8's tile on nibble panels (q8_gemm_x86.h). */
#include "q4_gemm_kernels.h"
#include "q8_gemm_x86.h"

#if defined(__x86_64__)
AVXVNNI_ATTR int onboard_q4_gemm_6x16c4__avxvnni(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                                 int32_t *acc, const q8_tile_out *out) {
    (void)out;
    (void)p1;
    return q8_tile_6x16__avxvnni(4, k, row, p0, acc);
}
#endif
