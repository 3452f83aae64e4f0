/* Transposes, arm64 Advanced SIMD (movement_kernels.h): 16x16 byte blocks by zips, 4x4 blocks of
 * 32-bit elements by trn. */
#include "movement_kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

/* Row i of the result interleaves rows i/2 and i/2 + 8 of the input, byte by byte (low halves
 * for even i, high halves for odd i); four rounds transpose the block. */
static inline void zip_rows(const uint8x16_t in[16], uint8x16_t out[16]) {
    for (int i = 0; i < 8; i++) {
        out[2 * i] = vzip1q_u8(in[i], in[i + 8]);
        out[2 * i + 1] = vzip2q_u8(in[i], in[i + 8]);
    }
}

static inline void block_u8(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd) {
    uint8x16_t a[16], b[16];
    for (int i = 0; i < 16; i++) a[i] = vld1q_u8(src + (size_t)i * lds);
    zip_rows(a, b);
    zip_rows(b, a);
    zip_rows(a, b);
    zip_rows(b, a);
    for (int i = 0; i < 16; i++) vst1q_u8(dst + (size_t)i * ldd, a[i]);
}

bool onboard_transpose_u8_16x16__neon(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd, size_t rows, size_t cols) {
    onboard_transpose_in_blocks(1, 16, block_u8, src, lds, dst, ldd, rows, cols);
    return true;
}

/* trn pairs rows 0,1 and 2,3 lane by lane; trn of 64-bit halves then gathers each column. */
static inline void block_u32(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd) {
    const uint32_t *s = (const uint32_t *)(const void *)src;
    uint32_t *d = (uint32_t *)(void *)dst;
    const uint32x4_t r0 = vld1q_u32(s), r1 = vld1q_u32(s + lds), r2 = vld1q_u32(s + 2 * lds), r3 = vld1q_u32(s + 3 * lds);
    const uint64x2_t t0 = vreinterpretq_u64_u32(vtrn1q_u32(r0, r1)), t1 = vreinterpretq_u64_u32(vtrn2q_u32(r0, r1));
    const uint64x2_t t2 = vreinterpretq_u64_u32(vtrn1q_u32(r2, r3)), t3 = vreinterpretq_u64_u32(vtrn2q_u32(r2, r3));
    vst1q_u32(d, vreinterpretq_u32_u64(vtrn1q_u64(t0, t2)));
    vst1q_u32(d + ldd, vreinterpretq_u32_u64(vtrn1q_u64(t1, t3)));
    vst1q_u32(d + 2 * ldd, vreinterpretq_u32_u64(vtrn2q_u64(t0, t2)));
    vst1q_u32(d + 3 * ldd, vreinterpretq_u32_u64(vtrn2q_u64(t1, t3)));
}

bool onboard_transpose_u32_4x4__neon(const uint32_t *src, size_t lds, uint32_t *dst, size_t ldd, size_t rows, size_t cols) {
    onboard_transpose_in_blocks(4, 4, block_u32, (const uint8_t *)src, lds, (uint8_t *)dst, ldd, rows, cols);
    return true;
}
#endif
