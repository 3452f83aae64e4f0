#ifndef ONBOARD_Q8_GEMM_H
#define ONBOARD_Q8_GEMM_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* INT8 GEMM with int32 accumulation:  acc[i][j] = sum_k A[i][k] * B[k][j]
 * with A uint8 (activations, row-major, leading dimension lda) and B int8 packed once into
 * panels of 16 columns by groups of 4 depths: packed[p][g][j][t] = B[4g + t][16p + j]
 * (zero padded in both K and N), so one 32-bit lane holds the 4 depths vpdpbusd / sdot use.
 * Zero points are not the kernel's business: callers fold them into col_bias / row_bias
 * (see q8_gemm.c), which keeps every ISA path exactly equal to the reference. */

#define ONBOARD_Q8_NR 16

typedef enum { ONBOARD_Q8_OUT_U8 = 0, ONBOARD_Q8_OUT_S8 = 1, ONBOARD_Q8_OUT_F32 = 2, ONBOARD_Q8_OUT_S32 = 3 } onboard_q8_out_type;

/* What happens to each accumulator before it is stored:
 *   v = acc + col_bias[j] + row_bias[i] + tile_bias[i * tile_bias_ld + j]   (int32, any may be NULL;
 *       i and j are the product's row and column, so a bias of the whole output)
 *   f32 out:  y = v * scale[j or 0] (+ f32_bias[j])
 *   u8/s8:    y = clamp(round(v * scale) + out_zero_point, out_min, out_max), or with
 *             fixed_point: round(v * multiplier * 2^-31 * 2^-shift) (gemmlowp rounding)
 *   s32:      y = v */
typedef struct {
    const int32_t *col_bias;
    const int32_t *row_bias;
    const float *scale;          /* per column when scale_per_column, else scale[0] */
    int scale_per_column;
    int use_fixed_point;
    const int32_t *multiplier;   /* fixed point: per column when scale_per_column, else [0] */
    const int32_t *shift;        /* right shift >= 0 */
    const float *f32_bias;       /* f32 output only; may be NULL */
    int32_t out_zero_point;
    int32_t out_min, out_max;    /* clamp (a fused ReLU raises out_min to the zero point) */
    onboard_q8_out_type out_type;
    const int32_t *tile_bias;    /* per element of the output, e.g. a constant addend folded in; may be NULL */
    size_t tile_bias_ld;
} onboard_q8_epilogue;

/* Bytes of a packed B of K x N. */
size_t onboard_q8_packed_size(size_t k, size_t n);

/* Packs B given as [K, N] (ldb = row stride), or as [N, K] when `transposed` (a Linear weight).
 * If col_sums is not NULL it receives sum_k B[k][j] for each column (for zero-point folding). */
void onboard_q8_pack_b(const int8_t *b, size_t ldb, bool transposed, size_t k, size_t n,
                       int8_t *packed, int32_t *col_sums);

/* The same for a uint8 B (an activation), stored as b - 128 (xor 0x80) so it fits int8; the
 * column sums are of those shifted values. */
void onboard_q8_pack_b_u8(const uint8_t *b, size_t ldb, bool transposed, size_t k, size_t n,
                          int8_t *packed, int32_t *col_sums);

/* C rows [0, m) x columns of panels [panel_begin, panel_end); c has leading dimension ldc in
 * elements of the output type. */
void onboard_q8_gemm(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *packed,
                     const onboard_q8_epilogue *epilogue, void *c, size_t ldc,
                     size_t panel_begin, size_t panel_end);

/* The same, with C holding only those panels' columns: C's column 0 is the product's column
 * 16 * panel_begin (one group of output columns written to a buffer of its own, e.g. one
 * attention head). */
void onboard_q8_gemm_panels_into(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *packed,
                                 const onboard_q8_epilogue *e, void *c, size_t ldc,
                                 size_t panel_begin, size_t panel_end);

/* The reference: plain loops on unpacked B [K, N], same epilogue. */
void onboard_q8_gemm__scalar(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                             const int8_t *b, size_t ldb, const onboard_q8_epilogue *epilogue,
                             void *c, size_t ldc);

/* gemmlowp-style fixed point: x * multiplier / 2^31, rounded, saturated; then a rounding
 * arithmetic right shift. Exposed for tests and for callers that requantize elsewhere. */
int32_t onboard_q8_fixed_point_multiply(int32_t x, int32_t multiplier, int32_t shift);

/* The ISA the int8 GEMM uses now (one of the onboard_isa_flags bits, 0 = scalar). */
unsigned onboard_q8_active_isa(void);
/* Forces a lower path: 0 = scalar, or one of ONBOARD_ISA_AVX2 / _AVXVNNI / _AVX512VNNI /
 * _NEON_DOT. Returns 0 on success, -1 if this CPU lacks it (the path is unchanged). */
int onboard_q8_force_isa(unsigned isa);
/* Back to the best path of this CPU. */
void onboard_q8_reset_isa(void);


/* Activation codecs (exact, round half to even, NaN to the low end):
 *   quantize:   y = clamp(round(x / scale) + zero_point, qmin, qmax)
 *   dequantize: y = scale * (x - zero_point)
 *   requantize: between two u8 parameter sets, through float. */
void onboard_q8_quantize_u8(const float *x, uint8_t *y, size_t n, float scale, int32_t zero_point,
                            int32_t qmin, int32_t qmax);
void onboard_q8_dequantize_u8(const uint8_t *x, float *y, size_t n, float scale, int32_t zero_point);
void onboard_q8_requantize_u8(const uint8_t *x, uint8_t *y, size_t n, float in_scale, int32_t in_zero_point,
                              float out_scale, int32_t out_zero_point);
/* y[i] = table[x[i]]: any unary op on codes, tabulated once per pair of parameter sets. */
void onboard_q8_lookup_u8(const uint8_t *x, uint8_t *y, size_t n, const uint8_t *table);
/* y = quantize(dequantize(a) +/- dequantize(b)) element-wise (b_sign = 1 or -1), with exactly
 * the float steps of the separate codecs. */
void onboard_q8_add_u8(const uint8_t *a, float a_scale, int32_t a_zero_point,
                       const uint8_t *b, float b_scale, int32_t b_zero_point, float b_sign,
                       uint8_t *y, size_t n, float y_scale, int32_t y_zero_point, int32_t y_min, int32_t y_max);
/* y = y_zero_point + round((a_multiplier (a - a_zero_point) + b_multiplier (b - b_zero_point)) / 2^shift),
 * clamped to [y_min, y_max]: an add (or, with a negative b_multiplier, a subtraction) in integers only.
 * shift in 1...62; the sum is exact in int64. */
void onboard_q8_add_u8_dyadic(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,
                              const uint8_t *b, int32_t b_zero_point, int32_t b_multiplier, int32_t shift,
                              uint8_t *y, size_t n, int32_t y_zero_point, int32_t y_min, int32_t y_max);
/* The same with a constant operand, stored as addend[i] = round(±c[i] / y_scale · 2^shift) (a bias of
 * the output's codes): y = y_zero_point + round((a_multiplier (a - a_zero_point) + addend) / 2^shift). */
void onboard_q8_add_const_u8_dyadic(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier, const int32_t *addend,
                                    int32_t shift, uint8_t *y, size_t n, int32_t y_zero_point, int32_t y_min, int32_t y_max);
/* sum_k a[i][k] for each of m rows (row stride lda). */
void onboard_q8_row_sums(const uint8_t *a, size_t m, size_t k, size_t lda, int32_t *sums);
#endif
