/* Private to CKernels: the integer row kernel lists (q8_rows.h), fastest first: one list per op,
 * one line per kernel: op, tile, ISA, the flags it needs. Every kernel of an op takes the op's
 * arguments and returns false for those it leaves to the next one (kernel_list.h). */
#ifndef ONBOARD_Q8_ROWS_KERNELS_H
#define ONBOARD_Q8_ROWS_KERNELS_H
#include "kernel_list.h"
#include "q8_codecs.h"
#include "q8_rows.h"

#define ONBOARD_Q8_AVX512VBMI (ONBOARD_ISA_AVX512F | ONBOARD_ISA_AVX512VBMI)

/* The portable loops (q8_rows_body.h), built for each ISA in q8_rows__<isa>.c. */
#define ONBOARD_Q8_ROWS_BODY(X, op)                        \
    ONBOARD_X86(X(op, , avx512vbmi, ONBOARD_Q8_AVX512VBMI)) \
    ONBOARD_X86(X(op, , avx2, ONBOARD_ISA_AVX2))            \
    X(op, , scalar, 0)

/* The x86 vector kernels take a positive multiplier with shift <= 31, scale >= 0 and qmin <= qmax;
 * AVX2 also needs qmin >= 0 and qmax <= 255; NEON takes any multiplier (0: a finite scale) with
 * shift <= 31 and qmin <= qmax. */
#define ONBOARD_Q8_STABILIZE_ROWS_S32_KERNELS(X)                                          \
    ONBOARD_X86(X(q8_stabilize_rows_s32, _u16, avx512vbmi, ONBOARD_Q8_AVX512VBMI))        \
    ONBOARD_X86(X(q8_stabilize_rows_s32, _u16, avx2, ONBOARD_ISA_AVX2))                   \
    ONBOARD_ARM64(X(q8_stabilize_rows_s32, _u16, neon, ONBOARD_ISA_NEON))                 \
    ONBOARD_Q8_ROWS_BODY(X, q8_stabilize_rows_s32)
/* The AVX-512 kernel takes tables whose entries fit 24 bits; NEON tables without negative
 * entries, rows of 32 codes or more, qmin <= qmax with qmin - zero_point, qmax - zero_point in int32. */
#define ONBOARD_Q8_SOFTMAX_LUT_ROWS_KERNELS(X)                                            \
    ONBOARD_X86(X(q8_softmax_lut_rows, _u64, avx512vbmi, ONBOARD_Q8_AVX512VBMI))          \
    ONBOARD_ARM64(X(q8_softmax_lut_rows, _u16, neon, ONBOARD_ISA_NEON))                   \
    ONBOARD_Q8_ROWS_BODY(X, q8_softmax_lut_rows)
/* The vector kernels keep per-channel constants on the stack: rows up to
 * Q8_LAYERNORM_MAX_WIDTH; AVX-512 and AVX2 (float with exact corrections,
 * q8_layernorm_float_body.h) also need 0 <= qmin <= qmax <= 255; NEON needs 1...30 fraction bits,
 * qmin <= qmax, and runs the reference on rows whose reciprocal or normalized values exceed int32.
 * (An AVX-512 kernel in int64 lanes took 1.65 times as long as the float one on AVX2, so it went.) */
#define ONBOARD_Q8_LAYERNORM_ROWS_KERNELS(X)                                              \
    ONBOARD_X86(X(q8_layernorm_rows, _u16, avx512f, ONBOARD_ISA_AVX512F))                 \
    ONBOARD_X86(X(q8_layernorm_rows, _u16, avx2, ONBOARD_ISA_AVX2))                       \
    ONBOARD_ARM64(X(q8_layernorm_rows, _u16, neon, ONBOARD_ISA_NEON))                     \
    ONBOARD_Q8_ROWS_BODY(X, q8_layernorm_rows)
/* NEON takes qmin <= qmax with qmin - zero_point, qmax - zero_point in int32. */
#define ONBOARD_Q8_DIVIDE_ROWS_S32_KERNELS(X)                                             \
    ONBOARD_ARM64(X(q8_divide_rows_s32, _u16, neon, ONBOARD_ISA_NEON))                    \
    ONBOARD_Q8_ROWS_BODY(X, q8_divide_rows_s32)

/* The whole family, for onboard_kernel_at. */
#define ONBOARD_Q8_ROWS_KERNELS(X)                                                            \
    ONBOARD_Q8_STABILIZE_ROWS_S32_KERNELS(X) ONBOARD_Q8_SOFTMAX_LUT_ROWS_KERNELS(X)           \
    ONBOARD_Q8_LAYERNORM_ROWS_KERNELS(X) ONBOARD_Q8_DIVIDE_ROWS_S32_KERNELS(X)

#define Q8_LAYERNORM_MAX_WIDTH 1024

#define Q8_STABILIZE_ROWS_S32_DECLARE(op, tile, isa, flags)                                                     \
    bool onboard_##op##tile##__##isa(const int32_t *sums, size_t rows, size_t n, float scale, int32_t multiplier, \
                                     int32_t shift, uint8_t *y, int32_t zero_point, int32_t qmin, int32_t qmax);
#define Q8_SOFTMAX_LUT_ROWS_DECLARE(op, tile, isa, flags)                                                     \
    bool onboard_##op##tile##__##isa(const uint8_t *x, uint8_t *y, size_t rows, size_t n, const int32_t *table, \
                                     int64_t numerator, int32_t shift, int32_t zero_point, int32_t qmin,         \
                                     int32_t qmax);
#define Q8_LAYERNORM_ROWS_DECLARE(op, tile, isa, flags)                                                          \
    bool onboard_##op##tile##__##isa(const uint8_t *x, uint8_t *y, size_t rows, size_t n,                          \
                                     const int32_t *gain_multiplier, const int32_t *gain_shift, const int64_t *bias, \
                                     int64_t epsilon, int32_t fraction_bits, int32_t zero_point, int32_t qmin,      \
                                     int32_t qmax, int32_t *work);
#define Q8_DIVIDE_ROWS_S32_DECLARE(op, tile, isa, flags)                                                          \
    bool onboard_##op##tile##__##isa(const int32_t *acc, size_t rows, size_t n, const int32_t *divisors,          \
                                     int64_t numerator, int32_t shift, uint8_t *y, int32_t zero_point, int32_t qmin, \
                                     int32_t qmax);
ONBOARD_Q8_STABILIZE_ROWS_S32_KERNELS(Q8_STABILIZE_ROWS_S32_DECLARE)
ONBOARD_Q8_SOFTMAX_LUT_ROWS_KERNELS(Q8_SOFTMAX_LUT_ROWS_DECLARE)
ONBOARD_Q8_LAYERNORM_ROWS_KERNELS(Q8_LAYERNORM_ROWS_DECLARE)
ONBOARD_Q8_DIVIDE_ROWS_S32_KERNELS(Q8_DIVIDE_ROWS_S32_DECLARE)
#undef Q8_STABILIZE_ROWS_S32_DECLARE
#undef Q8_SOFTMAX_LUT_ROWS_DECLARE
#undef Q8_LAYERNORM_ROWS_DECLARE
#undef Q8_DIVIDE_ROWS_S32_DECLARE

/* DI-Norm's per-row reciprocal (q8_rows.c): the multiplier m and shift s with yhat = round(D m 2^-s). */
void onboard_q8_layernorm_reciprocal(int64_t squares, int64_t count, int64_t epsilon, int32_t fraction_bits,
                                     int64_t *multiplier, int *shift);
/* The same for several rows, from mean = sum D^2 / n (exact: sum (n x - sum)^2 = n (n sum x^2 - sum^2)),
 * the rows' square roots and divisions side by side. */
void onboard_q8_layernorm_reciprocals(const int64_t *means, size_t rows, int64_t count, int64_t epsilon, int32_t fraction_bits,
                                      int64_t *multipliers, int *shifts);
#endif
