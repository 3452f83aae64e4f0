/* 4-bit-weight GEMM, AVX-512 VNNI: the 12x32c4 and 12x16c4 microkernels, q8's tile on nibble
 * panels (q8_gemm_x86.h). */
#include "q4_gemm_kernels.h"
#include "q8_gemm_x86.h"

#if defined(__x86_64__)
VNNI512_ATTR int onboard_q4_gemm_12x16c4__avx512vnni(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                                     int32_t *acc, const q8_tile_out *out) {
    return q8_tile_12xnp__avx512vnni(4, 1, k, row, p0, p1, acc, out);
}
VNNI512_ATTR int onboard_q4_gemm_12x32c4__avx512vnni(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                                     int32_t *acc, const q8_tile_out *out) {
    return q8_tile_12xnp__avx512vnni(4, 2, k, row, p0, p1, acc, out);
}
#endif
