/* 4-bit-weight GEMM, AVX2: the 6x16c4 microkernel by vpmaddubsw, exact on every 4-bit B (pair sums
 * within 2 * 255 * 8), the tile of q8's 7-bit kernel on nibble panels (q8_gemm_x86.h). */
#include "q4_gemm_kernels.h"
#include "q8_gemm_x86.h"

#if defined(__x86_64__)
AVX2_ATTR int onboard_q4_gemm_6x16c4__avx2(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                           int32_t *acc, const q8_tile_out *out) {
    (void)p1;
    return q8_tile_6x16_maddubs__avx2(4, k, row, p0, acc, out);
}
#endif
