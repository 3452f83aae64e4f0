/* INT8 GEMM, arm64 dot product: the 12x16c4 microkernel and its A packing (q8_gemm_kernels.h). */
#define Q8_NEON_BITS 8
#include "q8_gemm_neon.h"

#if defined(__aarch64__)

/* Four rows' 16 depths (4 groups) to the packed groups, each group's 4 rows as one register. */
static inline void transpose_store(const uint8x16_t r[4], uint8_t *dst, size_t groups_left) {
    const uint32x4_t r0 = vreinterpretq_u32_u8(r[0]), r1 = vreinterpretq_u32_u8(r[1]);
    const uint32x4_t r2 = vreinterpretq_u32_u8(r[2]), r3 = vreinterpretq_u32_u8(r[3]);
    const uint64x2_t w0 = vreinterpretq_u64_u32(vtrn1q_u32(r0, r1)), w1 = vreinterpretq_u64_u32(vtrn2q_u32(r0, r1));
    const uint64x2_t w2 = vreinterpretq_u64_u32(vtrn1q_u32(r2, r3)), w3 = vreinterpretq_u64_u32(vtrn2q_u32(r2, r3));
    vst1q_u8(dst, vreinterpretq_u8_u64(vtrn1q_u64(w0, w2)));
    if (groups_left > 1) vst1q_u8(dst + 48, vreinterpretq_u8_u64(vtrn1q_u64(w1, w3)));
    if (groups_left > 2) vst1q_u8(dst + 96, vreinterpretq_u8_u64(vtrn2q_u64(w0, w2)));
    if (groups_left > 3) vst1q_u8(dst + 144, vreinterpretq_u8_u64(vtrn2q_u64(w1, w3)));
}

/* A packed for the 12x16c4 kernel: tiles of 12 rows, in each depth group of 4 the 12 rows' 4
 * bytes one after another (48 bytes: three registers of 4 rows), flipped to int8 (a ^ 0x80) so
 * sdot can take them; rows past `rows` are zero before the flip (their sums are discarded). A
 * 4-row x 16-depth block is a 4x4 transpose of 32-bit words. */
void onboard_q8_pack_a_12x4__neon(const uint8_t *a, size_t lda, size_t rows, size_t k, uint8_t *dst) {
    const size_t groups = q8_padded_depth(k) / 4;
    const uint8x16_t flip = vdupq_n_u8(0x80);
    for (size_t t = 0; t < rows; t += 12, dst += 12 * 4 * groups) {
        size_t d = 0;
        if (t + 12 <= rows)
            for (; d + 16 <= k; d += 16)
                for (size_t quad = 0; quad < 3; quad++) {
                    const uint8_t *src = a + (t + 4 * quad) * lda + d;
                    const uint8x16_t r[4] = {veorq_u8(vld1q_u8(src), flip), veorq_u8(vld1q_u8(src + lda), flip),
                                             veorq_u8(vld1q_u8(src + 2 * lda), flip), veorq_u8(vld1q_u8(src + 3 * lda), flip)};
                    transpose_store(r, dst + d / 4 * 48 + 16 * quad, 4);
                }
        for (; d < k; d += 16)
            for (size_t quad = 0; quad < 3; quad++) {
                uint8x16_t r[4];
                for (size_t i = 0; i < 4; i++) r[i] = veorq_u8(q8_load_row_part(a, lda, t + 4 * quad + i, rows, d, k), flip);
                transpose_store(r, dst + d / 4 * 48 + 16 * quad, groups - d / 4);
            }
    }
}

/* 12 rows x 16 columns by sdot on A packed by onboard_q8_pack_a_12x4__neon (q8_gemm_neon.h). */
DOT_ATTR int onboard_q8_gemm_12x16c4__neondot(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                               int32_t *acc, const q8_tile_out *out) {
    (void)p1;
    return q8_tile_12x16__neondot(k, row, p0, acc, out);
}
#endif
