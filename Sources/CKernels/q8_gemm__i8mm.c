/* INT8 GEMM, arm64 i8mm: the 8x16c8 microkernel and its A packing (q8_gemm_kernels.h). */
#include "q8_gemm_neon.h"

#if defined(__aarch64__)

/* One spelling that clang and gcc both accept (FEAT_I8MM is an Armv8.2 extension at the least). */
#define I8MM_ATTR __attribute__((target("arch=armv8.2-a+i8mm")))

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

/* 8 rows x 16 columns as two halves of 8 columns, 16 accumulators each: usmmla multiplies a
 * 2-row x 8-depth block of A (u8) by a 2-column x 8-depth block of B (s8) into a 2x2 block of
 * sums, no flip needed. Zipping the 32-bit lanes (one column's 4 depths) of two consecutive depth
 * groups of the panel gives those B blocks. row[0] is the tile's packed A
 * (onboard_q8_pack_a_8x8__neon). It stores the tile itself where
 * q8_neon_stores says so. */
I8MM_ATTR int onboard_q8_gemm_8x16c8__i8mm(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                          int32_t *acc, const q8_tile_out *out) {
    (void)p1;
    const size_t groups = q8_padded_depth(k) / 4, pairs = groups / 2;
    const bool direct = q8_neon_stores(out);
    for (int half = 0; half < 2; half++) {
        int32x4_t c[4][4]; /* [row pair][column pair]: rows 2i, 2i+1 x columns 2j, 2j+1 */
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) c[i][j] = vdupq_n_s32(0);
        const uint8_t *a = row[0];
        const int8_t *b = p0 + 32 * half;
/* Spelled out so that every compiler keeps c in registers. */
#define MMLA(i, j) c[i][j] = vusmmlaq_s32(c[i][j], av.val[i], bc[j]);
#define MMLA_ROWS(i) MMLA(i, 0) MMLA(i, 1) MMLA(i, 2) MMLA(i, 3)
#define MMLA_CHUNK(LO0, LO1, HI0, HI1)                                                            \
    do {                                                                                          \
        const uint32x4_t l0 = (LO0), l1 = (LO1), h0 = (HI0), h1 = (HI1);                          \
        const int8x16_t bc[4] = {vreinterpretq_s8_u32(vzip1q_u32(l0, h0)), vreinterpretq_s8_u32(vzip2q_u32(l0, h0)), \
                                 vreinterpretq_s8_u32(vzip1q_u32(l1, h1)), vreinterpretq_s8_u32(vzip2q_u32(l1, h1))}; \
        const uint8x16x4_t av = vld1q_u8_x4(a);                                                   \
        MMLA_ROWS(0) MMLA_ROWS(1) MMLA_ROWS(2) MMLA_ROWS(3)                                       \
    } while (0)
        for (size_t g = 0; g < pairs; g++, a += 64, b += 8 * NR) {
            const int8_t *b2 = b + 4 * NR;
            MMLA_CHUNK(vreinterpretq_u32_s8(vld1q_s8(b)), vreinterpretq_u32_s8(vld1q_s8(b + 16)),
                       vreinterpretq_u32_s8(vld1q_s8(b2)), vreinterpretq_u32_s8(vld1q_s8(b2 + 16)));
        }
        if (groups % 2) /* the last depth group alone: the next one would be past the panel */
            MMLA_CHUNK(vreinterpretq_u32_s8(vld1q_s8(b)), vreinterpretq_u32_s8(vld1q_s8(b + 16)), vdupq_n_u32(0),
                       vdupq_n_u32(0));
#undef MMLA_CHUNK
#undef MMLA_ROWS
#undef MMLA
        q8_neon_half h;
        if (direct) h = q8_neon_half_at(out, half);
        /* c[i][j] holds rows 2i, 2i+1 x columns 2j, 2j+1: 64-bit zips give rows of 4 columns. */
#define STORE_PAIR(i)                                                                                   \
    {                                                                                                   \
        const int64x2_t x0 = vreinterpretq_s64_s32(c[i][0]), x1 = vreinterpretq_s64_s32(c[i][1]);       \
        const int64x2_t x2 = vreinterpretq_s64_s32(c[i][2]), x3 = vreinterpretq_s64_s32(c[i][3]);       \
        const int32x4_t top_lo = vreinterpretq_s32_s64(vzip1q_s64(x0, x1)), top_hi = vreinterpretq_s32_s64(vzip1q_s64(x2, x3)); \
        const int32x4_t bot_lo = vreinterpretq_s32_s64(vzip2q_s64(x0, x1)), bot_hi = vreinterpretq_s32_s64(vzip2q_s64(x2, x3)); \
        if (direct) {                                                                                   \
            q8_neon_row(&h, 2 * (i), top_lo, top_hi);                                               \
            q8_neon_row(&h, 2 * (i) + 1, bot_lo, bot_hi);                                           \
        } else {                                                                                        \
            int32_t *top = acc + 2 * (i) * ONBOARD_Q8_ACC_LD + 8 * half, *bottom = top + ONBOARD_Q8_ACC_LD; \
            vst1q_s32(top, top_lo), vst1q_s32(top + 4, top_hi);                                         \
            vst1q_s32(bottom, bot_lo), vst1q_s32(bottom + 4, bot_hi);                                   \
        }                                                                                               \
    }
        STORE_PAIR(0) STORE_PAIR(1) STORE_PAIR(2) STORE_PAIR(3)
#undef STORE_PAIR
    }
    return direct;
}
#endif
