/* Private to the arm64 INT8 GEMM kernels (q8_gemm__neondot.c, q8_gemm__i8mm.c): what their A
 * packing and their tile stores share. */
#ifndef ONBOARD_Q8_GEMM_NEON_H
#define ONBOARD_Q8_GEMM_NEON_H
#include "q8_gemm_kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

/* Bytes [d, d + 16) of A's row `row`, zero past k and for rows past `rows` (the packers' edges). */
static inline uint8x16_t q8_load_row_part(const uint8_t *a, size_t lda, size_t row, size_t rows, size_t d, size_t k) {
    uint8_t part[16] = {0};
    if (row < rows) memcpy(part, a + row * lda + d, k - d < 16 ? k - d : 16);
    return vld1q_u8(part);
}

/* Whether the kernel stores the tile itself: int32 output of all 16 columns, where the epilogue
 * is three additions (in any order, as int32 sums wrap alike); else it hands its sums to
 * q8_store_tile. */
static inline bool q8_neon_stores_s32(const q8_tile_out *out) {
    return out->e->out_type == ONBOARD_Q8_OUT_S32 && out->cols == NR;
}

/* Where 8 columns of a tile that the kernel stores itself go (C, row i0, column j0 + 8 * half),
 * and the biases they take, read once per tile. */
typedef struct {
    int32_t *y;
    size_t ldc, rows, tile_ld;
    const int32_t *row_bias, *tile_bias;
    int32x4_t col_lo, col_hi;
} q8_neon_s32_half;

static inline q8_neon_s32_half q8_neon_s32_half_at(const q8_tile_out *out, int half) {
    const onboard_q8_epilogue *e = out->e;
    const size_t j = out->j0 + 8 * (size_t)half;
    q8_neon_s32_half h = {(int32_t *)out->c + out->i0 * out->ldc + j - out->origin, out->ldc, out->rows, e->tile_bias_ld,
                          e->row_bias ? e->row_bias + out->i0 : NULL, e->tile_bias ? e->tile_bias + out->i0 * e->tile_bias_ld + j : NULL,
                          vdupq_n_s32(0), vdupq_n_s32(0)};
    if (e->col_bias) h.col_lo = vld1q_s32(e->col_bias + j), h.col_hi = vld1q_s32(e->col_bias + j + 4);
    return h;
}

/* Row r (if the tile has it): sums + column bias + row bias + tile bias, stored. */
static inline void q8_neon_s32_row(const q8_neon_s32_half *h, size_t r, int32x4_t lo, int32x4_t hi) {
    if (r >= h->rows) return;
    lo = vaddq_s32(lo, h->col_lo), hi = vaddq_s32(hi, h->col_hi);
    if (h->row_bias) {
        const int32x4_t rb = vdupq_n_s32(h->row_bias[r]);
        lo = vaddq_s32(lo, rb), hi = vaddq_s32(hi, rb);
    }
    if (h->tile_bias) lo = vaddq_s32(lo, vld1q_s32(h->tile_bias + r * h->tile_ld)), hi = vaddq_s32(hi, vld1q_s32(h->tile_bias + r * h->tile_ld + 4));
    vst1q_s32(h->y + r * h->ldc, lo);
    vst1q_s32(h->y + r * h->ldc + 4, hi);
}
#endif
#endif
