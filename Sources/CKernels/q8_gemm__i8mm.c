/* INT8 GEMM, arm64 i8mm: the 8x16c8 microkernel and its A packing (q8_gemm_kernels.h). */
#define Q8_NEON_BITS 8
#include "q8_gemm_neon.h"

#if defined(__aarch64__)

/* Two rows' 16 depths as the pair's blocks of two consecutive chunks (the second only if there is one). */
static inline void zip_store(uint8x16_t r0, uint8x16_t r1, uint8_t *dst, size_t chunks_left) {
    const uint64x2_t x = vreinterpretq_u64_u8(r0), y = vreinterpretq_u64_u8(r1);
    vst1q_u8(dst, vreinterpretq_u8_u64(vzip1q_u64(x, y)));
    if (chunks_left > 1) vst1q_u8(dst + 64, vreinterpretq_u8_u64(vzip2q_u64(x, y)));
}

/* A packed for the 8x16c8 kernel: tiles of 8 rows, in each chunk of 8 depths the row pairs
 * (0,1), (2,3), (4,5), (6,7), each pair 16 bytes (8 depths of its first row, then of its
 * second): the 2x8 left operand of usmmla. Unsigned as given; rows and depths past the end are
 * zero. Two rows' 16-depth blocks interleave by 64-bit halves. */
void onboard_q8_pack_a_8x8__neon(const uint8_t *a, size_t lda, size_t rows, size_t k, uint8_t *dst) {
    const size_t chunks = (k + 7) / 8;
    for (size_t t = 0; t < rows; t += 8, dst += 64 * chunks) {
        size_t d = 0;
        if (t + 8 <= rows)
            for (; d + 16 <= k; d += 16)
                for (size_t pair = 0; pair < 4; pair++) {
                    const uint8_t *src = a + (t + 2 * pair) * lda + d;
                    zip_store(vld1q_u8(src), vld1q_u8(src + lda), dst + d / 8 * 64 + 16 * pair, 2);
                }
        for (; d < k; d += 16)
            for (size_t pair = 0; pair < 4; pair++)
                zip_store(q8_load_row_part(a, lda, t + 2 * pair, rows, d, k), q8_load_row_part(a, lda, t + 2 * pair + 1, rows, d, k),
                          dst + d / 8 * 64 + 16 * pair, chunks - d / 8);
    }
}

/* 8 rows x 16 columns by usmmla on A packed by onboard_q8_pack_a_8x8__neon (q8_gemm_neon.h). */
I8MM_ATTR int onboard_q8_gemm_8x16c8__i8mm(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                          int32_t *acc, const q8_tile_out *out) {
    (void)p1;
    return q8_tile_8x16__i8mm(k, row, p0, acc, out);
}
#endif
