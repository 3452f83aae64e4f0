/* Private to the arm64 GEMM kernels (q8_gemm__neondot.c, q8_gemm__i8mm.c, q4_gemm__<isa>.c): what
 * their A packing and their tile stores share, and their tiles, written once for B codes of 8 bits
 * (q8_gemm.h) and of 4 bits (q4_gemm.h; `bits` is a constant, so each kernel is its own
 * specialization). */
#ifndef ONBOARD_Q8_GEMM_NEON_H
#define ONBOARD_Q8_GEMM_NEON_H
#include "q8_gemm_kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

/* One spelling that clang and gcc both accept (a CPU with FEAT_DotProd is at least Armv8.2, and
 * FEAT_I8MM is an Armv8.2 extension at the least). */
#define DOT_ATTR __attribute__((target("arch=armv8.2-a+dotprod")))
#define I8MM_ATTR __attribute__((target("arch=armv8.2-a+i8mm")))

/* Bytes of a panel's depth group (16 columns x 4 depths) of B codes of `bits` bits. */
#define Q8_NEON_GROUP_BYTES(bits) (NR * 4 * (bits) / 8)

/* Where half `half` of a panel's first depth group starts (q8_neon_b_half). */
static inline const int8_t *q8_neon_b_start(const int bits, const int8_t *panel, int half) {
    return bits == 8 ? panel + 32 * half : panel;
}

/* Columns 8 * half ... 8 * half + 7 of a panel's depth group as two registers of 4 columns x 4
 * depths: p points at them (8-bit codes: 32 bytes), or with 4-bit codes at the group's 32 bytes,
 * whose low nibbles (half 0) or high nibbles (half 1) an arithmetic shift sign-extends. */
static inline __attribute__((always_inline)) int8x16x2_t q8_neon_b_half(const int bits, const int8_t *p, int half) {
    const int8x16x2_t x = {{vld1q_s8(p), vld1q_s8(p + 16)}};
    if (bits == 8) return x;
    if (half) return (int8x16x2_t){{vshrq_n_s8(x.val[0], 4), vshrq_n_s8(x.val[1], 4)}};
    return (int8x16x2_t){{vshrq_n_s8(vshlq_n_s8(x.val[0], 4), 4), vshrq_n_s8(vshlq_n_s8(x.val[1], 4), 4)}};
}

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

/* ---- tiles ----
 * For B codes of Q8_NEON_BITS bits, which the including file defines (8: q8_gemm.h, 4: q4_gemm.h)
 * before it includes this header. */
#ifdef Q8_NEON_BITS

/* 12 rows x 16 columns as two halves of 8 columns, each with its 24 accumulators in registers:
 * per depth group two registers of B (4 columns x 4 depths each), three of A (4 rows each), 24
 * sdot by element (q8_neon_b_half). row[0] is the tile's packed A (onboard_q8_pack_a_12x4__neon); A is flipped,
 * so the sums lack 128 x B's column sums, which the driver adds to the column bias. It stores
 * the tile itself where q8_neon_stores says so. */
static inline __attribute__((always_inline)) DOT_ATTR int
q8_tile_12x16__neondot(size_t k, const uint8_t *const *row, const int8_t *p0, int32_t *acc,
                       const q8_tile_out *out) {
    const size_t groups = q8_padded_depth(k) / 4;
    const bool direct = q8_neon_stores(out);
    for (int half = 0; half < 2; half++) {
        int32x4_t c[12][2];
        for (int r = 0; r < 12; r++) c[r][0] = c[r][1] = vdupq_n_s32(0);
        const int8_t *a = (const int8_t *)row[0], *b = q8_neon_b_start(Q8_NEON_BITS, p0, half);
        for (size_t g = 0; g < groups; g++, a += 48, b += Q8_NEON_GROUP_BYTES(Q8_NEON_BITS)) {
            const int8x16x2_t bh = q8_neon_b_half(Q8_NEON_BITS, b, half);
            const int8x16_t b0 = bh.val[0], b1 = bh.val[1];
            const int8x16x3_t av = vld1q_s8_x3(a);
#define DOT_ROW(r)                                                             \
    c[r][0] = vdotq_laneq_s32(c[r][0], b0, av.val[(r) / 4], (r) % 4);          \
    c[r][1] = vdotq_laneq_s32(c[r][1], b1, av.val[(r) / 4], (r) % 4);
            DOT_ROW(0) DOT_ROW(1) DOT_ROW(2) DOT_ROW(3) DOT_ROW(4) DOT_ROW(5)
            DOT_ROW(6) DOT_ROW(7) DOT_ROW(8) DOT_ROW(9) DOT_ROW(10) DOT_ROW(11)
#undef DOT_ROW
        }
        q8_neon_half h;
        if (direct) h = q8_neon_half_at(out, half);
#define STORE_ROW(r)                                                                  \
    if (direct) q8_neon_row(&h, r, c[r][0], c[r][1]);                             \
    else vst1q_s32(acc + (r) * ONBOARD_Q8_ACC_LD + 8 * half, c[r][0]),                 \
         vst1q_s32(acc + (r) * ONBOARD_Q8_ACC_LD + 8 * half + 4, c[r][1]);
        STORE_ROW(0) STORE_ROW(1) STORE_ROW(2) STORE_ROW(3) STORE_ROW(4) STORE_ROW(5)
        STORE_ROW(6) STORE_ROW(7) STORE_ROW(8) STORE_ROW(9) STORE_ROW(10) STORE_ROW(11)
#undef STORE_ROW
    }
    return direct;
}

/* 8 rows x 16 columns as two halves of 8 columns, 16 accumulators each: usmmla multiplies a
 * 2-row x 8-depth block of A (u8) by a 2-column x 8-depth block of B (s8) into a 2x2 block of
 * sums, no flip needed. Zipping the 32-bit lanes (one column's 4 depths) of two consecutive depth
 * groups of the panel (q8_neon_b_half) gives those B blocks. row[0] is the tile's packed A
 * (onboard_q8_pack_a_8x8__neon). It stores the tile itself where
 * q8_neon_stores says so. */
static inline __attribute__((always_inline)) I8MM_ATTR int
q8_tile_8x16__i8mm(size_t k, const uint8_t *const *row, const int8_t *p0, int32_t *acc,
                   const q8_tile_out *out) {
    const size_t groups = q8_padded_depth(k) / 4, pairs = groups / 2;
    const bool direct = q8_neon_stores(out);
    for (int half = 0; half < 2; half++) {
        int32x4_t c[4][4]; /* [row pair][column pair]: rows 2i, 2i+1 x columns 2j, 2j+1 */
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) c[i][j] = vdupq_n_s32(0);
        const uint8_t *a = row[0];
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
        const int8_t *b = q8_neon_b_start(Q8_NEON_BITS, p0, half);
        for (size_t g = 0; g < pairs; g++, a += 64, b += 2 * Q8_NEON_GROUP_BYTES(Q8_NEON_BITS)) {
            /* columns 0..3 and 4..7 of the even and of the odd group */
            const int8x16x2_t even = q8_neon_b_half(Q8_NEON_BITS, b, half);
            const int8x16x2_t odd = q8_neon_b_half(Q8_NEON_BITS, b + Q8_NEON_GROUP_BYTES(Q8_NEON_BITS), half);
            MMLA_CHUNK(vreinterpretq_u32_s8(even.val[0]), vreinterpretq_u32_s8(even.val[1]), vreinterpretq_u32_s8(odd.val[0]),
                       vreinterpretq_u32_s8(odd.val[1]));
        }
        if (groups % 2) { /* the last depth group alone: the next one would be past the panel */
            const int8x16x2_t last = q8_neon_b_half(Q8_NEON_BITS, b, half);
            MMLA_CHUNK(vreinterpretq_u32_s8(last.val[0]), vreinterpretq_u32_s8(last.val[1]), vdupq_n_u32(0), vdupq_n_u32(0));
        }
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
#endif /* Q8_NEON_BITS */
#endif
#endif
