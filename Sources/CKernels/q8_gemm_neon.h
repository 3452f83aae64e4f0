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

/* Whether the kernel stores the tile itself (all 16 columns of a tile): int32 and byte outputs,
 * and float ones without a float bias (a separate multiply and add that gcc would contract); else
 * it hands its sums to q8_store_tile. Either way the bytes are q8_store_tile's. */
static inline bool q8_neon_stores(const q8_tile_out *out) {
    const onboard_q8_epilogue *e = out->e;
    if (out->cols != NR) return false;
    if (e->out_type == ONBOARD_Q8_OUT_F32) return !e->f32_bias;
    return e->out_type == ONBOARD_Q8_OUT_S32 || e->out_min <= e->out_max;
}

/* What 8 columns of such a tile take, read once per tile: where they go (C at row i0, column
 * j0 + 8 * half), the biases, and the requantization of byte and float outputs. */
typedef struct {
    uint8_t *y;
    size_t ldc_bytes, rows, tile_ld;
    const int32_t *row_bias, *tile_bias;
    onboard_q8_out_type type;
    int fixed_point;
    int32x4_t col[2], multiplier[2], right_shift[2]; /* right_shift: minus the shift, for vrshl */
    float32x4_t scale[2];
    int32x4_t zero_point, out_min, out_max;
} q8_neon_half;

static inline q8_neon_half q8_neon_half_at(const q8_tile_out *out, int half) {
    static const size_t bytes[] = {1, 1, 4, 4};
    const onboard_q8_epilogue *e = out->e;
    const size_t j = out->j0 + 8 * (size_t)half, size = bytes[e->out_type];
    q8_neon_half h = {
        .y = (uint8_t *)out->c + (out->i0 * out->ldc + j - out->origin) * size, .ldc_bytes = out->ldc * size,
        .rows = out->rows, .tile_ld = e->tile_bias_ld, .row_bias = e->row_bias ? e->row_bias + out->i0 : NULL,
        .tile_bias = e->tile_bias ? e->tile_bias + out->i0 * e->tile_bias_ld + j : NULL, .type = e->out_type,
        .fixed_point = e->out_type <= ONBOARD_Q8_OUT_S8 && e->use_fixed_point,
        .zero_point = vdupq_n_s32(e->out_zero_point), .out_min = vdupq_n_s32(e->out_min), .out_max = vdupq_n_s32(e->out_max),
    };
    for (int q = 0; q < 2; q++) {
        const size_t jq = j + 4 * (size_t)q;
        h.col[q] = e->col_bias ? vld1q_s32(e->col_bias + jq) : vdupq_n_s32(0);
        if (h.type == ONBOARD_Q8_OUT_S32) continue;
        if (h.fixed_point) {
            h.multiplier[q] = e->scale_per_column ? vld1q_s32(e->multiplier + jq) : vdupq_n_s32(e->multiplier[0]);
            const int32x4_t shift = e->scale_per_column ? vld1q_s32(e->shift + jq) : vdupq_n_s32(e->shift[0]);
            h.right_shift[q] = vnegq_s32(vmaxq_s32(shift, vdupq_n_s32(0)));
        } else {
            h.scale[q] = !e->scale ? vdupq_n_f32(1.0f) : e->scale_per_column ? vld1q_f32(e->scale + jq) : vdupq_n_f32(e->scale[0]);
        }
    }
    return h;
}

/* q8_fixed_point_multiply_inline on 4 lanes: sqrdmulh is gemmlowp's saturating rounding doubling
 * high multiply, and the rounding right shift rounds halves up, so negative values first step
 * down by one (saturating) to round their halves away from zero. */
static inline int32x4_t q8_neon_fixed_point(int32x4_t x, int32x4_t multiplier, int32x4_t right_shift) {
    const int32x4_t high = vqrdmulhq_s32(x, multiplier);
    const int32x4_t fixup = vshrq_n_s32(vandq_s32(high, right_shift), 31);
    return vrshlq_s32(vqaddq_s32(high, fixup), right_shift);
}

/* (float)v * scale rounded half to even as q8_round_even_fast does (clamped to 2^22 first). */
static inline int32x4_t q8_neon_scale_round(int32x4_t v, float32x4_t scale) {
    const float32x4_t f = vmulq_f32(vcvtq_f32_s32(v), scale), limit = vdupq_n_f32(4194304.0f);
    return vcvtnq_s32_f32(vminq_f32(vmaxq_f32(f, vnegq_f32(limit)), limit));
}

/* Row r (if the tile has it): sums + column bias + row bias + tile bias, requantized as the
 * epilogue says, stored. */
static inline void q8_neon_row(const q8_neon_half *h, size_t r, int32x4_t lo, int32x4_t hi) {
    if (r >= h->rows) return;
    lo = vaddq_s32(lo, h->col[0]), hi = vaddq_s32(hi, h->col[1]);
    if (h->row_bias) {
        const int32x4_t rb = vdupq_n_s32(h->row_bias[r]);
        lo = vaddq_s32(lo, rb), hi = vaddq_s32(hi, rb);
    }
    if (h->tile_bias) lo = vaddq_s32(lo, vld1q_s32(h->tile_bias + r * h->tile_ld)), hi = vaddq_s32(hi, vld1q_s32(h->tile_bias + r * h->tile_ld + 4));
    uint8_t *y = h->y + r * h->ldc_bytes;
    if (h->type == ONBOARD_Q8_OUT_S32) {
        vst1q_s32((int32_t *)y, lo), vst1q_s32((int32_t *)y + 4, hi);
        return;
    }
    if (h->type == ONBOARD_Q8_OUT_F32) {
        vst1q_f32((float *)y, vmulq_f32(vcvtq_f32_s32(lo), h->scale[0]));
        vst1q_f32((float *)y + 4, vmulq_f32(vcvtq_f32_s32(hi), h->scale[1]));
        return;
    }
    if (h->fixed_point) {
        lo = q8_neon_fixed_point(lo, h->multiplier[0], h->right_shift[0]);
        hi = q8_neon_fixed_point(hi, h->multiplier[1], h->right_shift[1]);
    } else {
        lo = q8_neon_scale_round(lo, h->scale[0]);
        hi = q8_neon_scale_round(hi, h->scale[1]);
    }
    lo = vminq_s32(vmaxq_s32(vaddq_s32(lo, h->zero_point), h->out_min), h->out_max);
    hi = vminq_s32(vmaxq_s32(vaddq_s32(hi, h->zero_point), h->out_min), h->out_max);
    vst1_u8(y, vmovn_u16(vreinterpretq_u16_s16(vcombine_s16(vmovn_s32(lo), vmovn_s32(hi)))));
}
#endif
#endif
