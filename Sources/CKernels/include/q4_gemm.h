#ifndef ONBOARD_Q4_GEMM_H
#define ONBOARD_Q4_GEMM_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "q8_gemm.h"

/* INT8 GEMM whose B (the weights) holds signed 4-bit codes in [-8, 7] (symmetric weights:
 * [-7, 7]), two per byte: acc[i][j] = sum_k A[i][k] * B[k][j] with A uint8, exactly the product
 * and the epilogue (onboard_q8_epilogue, b_fits_7_bits ignored) of the INT8 GEMM (q8_gemm.h) on
 * the same codes, at half the bytes of B. The kernels unpack the nibbles to int8 in registers.
 *
 * Layout: q8's panels (16 columns by groups of 4 depths, zero padded), each group's 64 int8 values
 * v[0..64) (v[4j + t] = B[4g + t][16p + j]) stored in 32 bytes: byte i holds v[i] in its low
 * nibble and v[i + 32] (columns 8..15) in its high nibble, both two's complement. So
 *   packed[p][g][i] = (B[4g + i % 4][16p + i / 4] & 15) | B[4g + i % 4][16p + 8 + i / 4] << 4
 * and the low nibbles of a group are the left 8 columns, the high ones the right 8: one mask or
 * shift (and a sign extension: x86 a byte shuffle, arm64 an arithmetic shift) gives an int8
 * vector of q8's layout. */

/* Bytes of a packed B of K x N: half of onboard_q8_packed_size(k, n). */
size_t onboard_q4_packed_size(size_t k, size_t n);

/* Whether every code of B [rows, cols] (row stride ldb) is in [-8, 7]. */
bool onboard_q4_fits(const int8_t *b, size_t ldb, size_t rows, size_t cols);

/* Packs B given as [K, N] (ldb = row stride), or as [N, K] when `transposed` (a Linear weight);
 * every code must be in [-8, 7] (onboard_q4_fits; others lose their high bits). If col_sums is not
 * NULL it receives sum_k B[k][j] for each column (for zero-point folding), as q8's. */
void onboard_q4_pack_b(const int8_t *b, size_t ldb, bool transposed, size_t k, size_t n,
                       uint8_t *packed, int32_t *col_sums);

/* C rows [0, m) x columns of panels [panel_begin, panel_end), as onboard_q8_gemm. */
void onboard_q4_gemm(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const uint8_t *packed,
                     const onboard_q8_epilogue *e, void *c, size_t ldc, size_t panel_begin, size_t panel_end);

/* The same with C holding only those panels' columns, as onboard_q8_gemm_panels_into. */
void onboard_q4_gemm_panels_into(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const uint8_t *packed,
                                 const onboard_q8_epilogue *e, void *c, size_t ldc, size_t panel_begin, size_t panel_end);

/* The reference: plain loops on unpacked int8 codes B [K, N] (in [-8, 7]), same epilogue. */
void onboard_q4_gemm__scalar(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                             const int8_t *b, size_t ldb, const onboard_q8_epilogue *e, void *c, size_t ldc);
#endif
