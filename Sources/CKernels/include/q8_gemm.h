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
    int b_fits_7_bits;           /* nonzero only if every B code is in [-64, 64] (7-bit weights): lets a
                                    CPU without an int8 dot product use vpmaddubsw, exact only then */
} onboard_q8_epilogue;

/* Rows [t_begin, t_end) of Mamba's conv1d on one sequence of u8 codes x [length, channels]
 * (onboard_q8_causal_conv1d_s32, q8_codecs.h) through this epilogue with the channels as columns:
 * col_bias and the scales per channel, no row bias; y holds those rows only ([t_end - t_begin,
 * channels] of the epilogue's output type, row t at y + (t - t_begin) * channels elements). */
void onboard_q8_causal_conv1d(const uint8_t *x, size_t length, size_t channels, int32_t zero_point,
                              const int8_t *weight, size_t taps, int reverse, size_t t_begin, size_t t_end,
                              const onboard_q8_epilogue *epilogue, void *y);

/* Whether every code of B [K, N] (or [N, K]; ldb = row stride) is in [-64, 64], for b_fits_7_bits. */
bool onboard_q8_b_fits_7_bits(const int8_t *b, size_t ldb, size_t rows, size_t cols);

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

/* Products of two activations (attention's QKᵀ and AV): B is a uint8 activation packed at run
 * time as b - 128 with its column sums, as by onboard_q8_pack_b_u8, into the layout of the fastest
 * kernel that is exact on full-range codes: q8's panels where an int8 dot product exists, int16
 * pairs without one (AVX2 without VNNI; q8_product.c). Same epilogue and arguments as
 * onboard_q8_gemm; the ISA cap must not change between packing and the product. */
size_t onboard_q8_product_packed_size(size_t k, size_t n);
void onboard_q8_product_pack_b(const uint8_t *b, size_t ldb, bool transposed, size_t k, size_t n, void *packed,
                               int32_t *col_sums);
void onboard_q8_product(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const void *packed,
                        const onboard_q8_epilogue *epilogue, void *c, size_t ldc, size_t panel_begin, size_t panel_end);
/* Whether the products run on int16 pairs (for reports and tests). */
bool onboard_q8_product_is_wide(void);

/* The reference: plain loops on unpacked B [K, N], same epilogue. */
void onboard_q8_gemm__scalar(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                             const int8_t *b, size_t ldb, const onboard_q8_epilogue *epilogue,
                             void *c, size_t ldc);

/* gemmlowp-style fixed point: x * multiplier / 2^31, rounded, saturated; then a rounding
 * arithmetic right shift. Exposed for tests and for callers that requantize elsewhere. */
int32_t onboard_q8_fixed_point_multiply(int32_t x, int32_t multiplier, int32_t shift);
#endif
