/* Private to CKernels: the per-ISA row kernels behind q8_rows.h and the steps they share. */
#ifndef ONBOARD_Q8_ROWS_ISA_H
#define ONBOARD_Q8_ROWS_ISA_H
#include "CKernels.h"

/* DI-Norm's per-row reciprocal: the multiplier m and shift s with yhat = round(D m 2^-s). */
void onboard_q8_layernorm_reciprocal(int64_t squares, int64_t count, int64_t epsilon, int32_t fraction_bits,
                                     int64_t *multiplier, int *shift);

/* The portable layernorm rows (for rows a vector variant leaves to it). */
void onboard_q8_layernorm_rows__reference(const uint8_t *x, uint8_t *y, size_t rows, size_t n,
                                          const int32_t *gain_multiplier, const int32_t *gain_shift, const int64_t *bias,
                                          int64_t epsilon, int32_t fraction_bits,
                                          int32_t zero_point, int32_t qmin, int32_t qmax, int32_t *work);

#if defined(__x86_64__)
void onboard_q8_stabilize_rows_s32__avx2(const int32_t *sums, size_t rows, size_t n, int32_t multiplier, int32_t shift,
                                         uint8_t *y, int32_t zero_point, int32_t qmin, int32_t qmax);
/* The AVX2 layernorm keeps its per-channel constants on the stack and multiplies 32-bit factors:
 * rows up to this wide, with at most this many fraction bits (|yhat| 2^F < 2^31). */
#define LAYERNORM_AVX2_MAX_WIDTH 1024
#define LAYERNORM_AVX2_MAX_FRACTION_BITS 20
void onboard_q8_layernorm_rows__avx2(const uint8_t *x, uint8_t *y, size_t rows, size_t n,
                                     const int32_t *gain_multiplier, const int32_t *gain_shift, const int64_t *bias,
                                     int64_t epsilon, int32_t fraction_bits,
                                     int32_t zero_point, int32_t qmin, int32_t qmax, int32_t *work);

void onboard_q8_softmax_lut_rows__avx512(const uint8_t *x, uint8_t *y, size_t rows, size_t n, const int32_t *table,
                                         int64_t numerator, int32_t shift, int32_t zero_point, int32_t qmin, int32_t qmax);
void onboard_q8_stabilize_rows_s32__avx512(const int32_t *sums, size_t rows, size_t n, int32_t multiplier, int32_t shift,
                                           uint8_t *y, int32_t zero_point, int32_t qmin, int32_t qmax);
/* The vector layernorm keeps its per-channel constants on the stack: rows up to this wide. */
#define LAYERNORM_AVX512_MAX_WIDTH 1024
void onboard_q8_layernorm_rows__avx512(const uint8_t *x, uint8_t *y, size_t rows, size_t n,
                                       const int32_t *gain_multiplier, const int32_t *gain_shift, const int64_t *bias,
                                       int64_t epsilon, int32_t fraction_bits,
                                       int32_t zero_point, int32_t qmin, int32_t qmax, int32_t *work);
#endif
#endif
