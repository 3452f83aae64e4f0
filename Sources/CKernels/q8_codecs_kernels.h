/* Private to CKernels: the INT8 codec kernel lists (q8_codecs.h), fastest first: one list per op,
 * one line per kernel: op, tile, ISA, the flags it needs. Every kernel of an op takes the op's
 * arguments and returns false for those it leaves to the next one (kernel_list.h). */
#ifndef ONBOARD_Q8_CODECS_KERNELS_H
#define ONBOARD_Q8_CODECS_KERNELS_H
#include "kernel_list.h"
#include "q8_codecs.h"

/* The portable loops (q8_codecs_body.h), built for each ISA in q8_codecs__<isa>.c. */
#define ONBOARD_Q8_CODECS_BODY(X, op)                     \
    ONBOARD_X86(X(op, , avx512f, ONBOARD_ISA_AVX512F))    \
    ONBOARD_X86(X(op, , avx2, ONBOARD_ISA_AVX2))          \
    X(op, , scalar, 0)

/* NEON quantize takes bounds qmin - zero_point, qmax - zero_point within +-2^22; NEON requantize
 * (a lookup in the scalar kernel's table of all 256 codes) takes 256 codes or more. */
#define ONBOARD_Q8_QUANTIZE_U8_KERNELS(X)                                     \
    ONBOARD_ARM64(X(q8_quantize_u8, _u16, neon, ONBOARD_ISA_NEON))             \
    ONBOARD_Q8_CODECS_BODY(X, q8_quantize_u8)
#define ONBOARD_Q8_DEQUANTIZE_U8_KERNELS(X) ONBOARD_Q8_CODECS_BODY(X, q8_dequantize_u8)
#define ONBOARD_Q8_REQUANTIZE_U8_KERNELS(X)                                   \
    ONBOARD_ARM64(X(q8_requantize_u8, _u32, neon, ONBOARD_ISA_NEON))           \
    ONBOARD_Q8_CODECS_BODY(X, q8_requantize_u8)
#define ONBOARD_Q8_ROW_SUMS_KERNELS(X) ONBOARD_Q8_CODECS_BODY(X, q8_row_sums)
/* NEON add: the quantize bounds as above, input zero points within +-2^23. */
#define ONBOARD_Q8_ADD_U8_KERNELS(X)                                          \
    ONBOARD_ARM64(X(q8_add_u8, _u16, neon, ONBOARD_ISA_NEON))                  \
    ONBOARD_Q8_CODECS_BODY(X, q8_add_u8)
/* The vector dyadic adds take shifts 17...46 (AVX2 also y_min >= 0, y_max <= 255); NEON takes
 * 1...62 with y_min - y_zero_point and y_max - y_zero_point in int32 (int32 lanes for shifts
 * 17...46, int64 lanes otherwise). */
#define ONBOARD_Q8_ADD_U8_DYADIC_KERNELS(X)                                   \
    ONBOARD_X86(X(q8_add_u8_dyadic, _u16, avx512f, ONBOARD_ISA_AVX512F))      \
    ONBOARD_X86(X(q8_add_u8_dyadic, _u16, avx2, ONBOARD_ISA_AVX2))            \
    ONBOARD_ARM64(X(q8_add_u8_dyadic, _u16, neon, ONBOARD_ISA_NEON))           \
    ONBOARD_Q8_CODECS_BODY(X, q8_add_u8_dyadic)
#define ONBOARD_Q8_ADD_CONST_U8_DYADIC_KERNELS(X)                             \
    ONBOARD_X86(X(q8_add_const_u8_dyadic, _u16, avx512f, ONBOARD_ISA_AVX512F)) \
    ONBOARD_X86(X(q8_add_const_u8_dyadic, _u16, avx2, ONBOARD_ISA_AVX2))       \
    ONBOARD_ARM64(X(q8_add_const_u8_dyadic, _u16, neon, ONBOARD_ISA_NEON))      \
    ONBOARD_Q8_CODECS_BODY(X, q8_add_const_u8_dyadic)
#define ONBOARD_Q8_CAUSAL_CONV1D_S32_KERNELS(X) ONBOARD_Q8_CODECS_BODY(X, q8_causal_conv1d_s32)
#define ONBOARD_Q8_LOOKUP_U8_KERNELS(X)                                                            \
    ONBOARD_X86(X(q8_lookup_u8, _u64, avx512vbmi, ONBOARD_ISA_AVX512F | ONBOARD_ISA_AVX512VBMI))  \
    ONBOARD_X86(X(q8_lookup_u8, _u32, avx2, ONBOARD_ISA_AVX2))                                   \
    ONBOARD_ARM64(X(q8_lookup_u8, _u32, neon, ONBOARD_ISA_NEON))                                  \
    X(q8_lookup_u8, , scalar, 0)

/* The whole family, for onboard_kernel_at. */
#define ONBOARD_Q8_CODECS_KERNELS(X)                                                            \
    ONBOARD_Q8_QUANTIZE_U8_KERNELS(X) ONBOARD_Q8_DEQUANTIZE_U8_KERNELS(X)                       \
    ONBOARD_Q8_REQUANTIZE_U8_KERNELS(X) ONBOARD_Q8_ROW_SUMS_KERNELS(X) ONBOARD_Q8_ADD_U8_KERNELS(X) \
    ONBOARD_Q8_ADD_U8_DYADIC_KERNELS(X) ONBOARD_Q8_ADD_CONST_U8_DYADIC_KERNELS(X) ONBOARD_Q8_LOOKUP_U8_KERNELS(X) \
    ONBOARD_Q8_CAUSAL_CONV1D_S32_KERNELS(X)

#define Q8_QUANTIZE_U8_DECLARE(op, tile, isa, flags)                                                  \
    bool onboard_##op##tile##__##isa(const float *x, uint8_t *y, size_t n, float scale, int32_t zero_point, \
                                     int32_t qmin, int32_t qmax);
#define Q8_DEQUANTIZE_U8_DECLARE(op, tile, isa, flags) \
    bool onboard_##op##tile##__##isa(const uint8_t *x, float *y, size_t n, float scale, int32_t zero_point);
#define Q8_REQUANTIZE_U8_DECLARE(op, tile, isa, flags)                                                  \
    bool onboard_##op##tile##__##isa(const uint8_t *x, uint8_t *y, size_t n, float in_scale, int32_t in_zero_point, \
                                     float out_scale, int32_t out_zero_point);
#define Q8_ROW_SUMS_DECLARE(op, tile, isa, flags) \
    bool onboard_##op##tile##__##isa(const uint8_t *a, size_t m, size_t k, size_t lda, int32_t *sums);
#define Q8_ADD_U8_DECLARE(op, tile, isa, flags)                                                            \
    bool onboard_##op##tile##__##isa(const uint8_t *a, float a_scale, int32_t a_zero_point, const uint8_t *b, \
                                     float b_scale, int32_t b_zero_point, float b_sign, uint8_t *y, size_t n, \
                                     float y_scale, int32_t y_zero_point, int32_t y_min, int32_t y_max);
#define Q8_ADD_U8_DYADIC_DECLARE(op, tile, isa, flags)                                                          \
    bool onboard_##op##tile##__##isa(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier, const uint8_t *b, \
                                     int32_t b_zero_point, int32_t b_multiplier, int32_t shift, uint8_t *y,         \
                                     size_t n, int32_t y_zero_point, int32_t y_min, int32_t y_max);
#define Q8_ADD_CONST_U8_DYADIC_DECLARE(op, tile, isa, flags)                                             \
    bool onboard_##op##tile##__##isa(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,         \
                                     const int32_t *addend, int32_t shift, uint8_t *y, size_t n,             \
                                     int32_t y_zero_point, int32_t y_min, int32_t y_max);
#define Q8_CAUSAL_CONV1D_S32_DECLARE(op, tile, isa, flags)                                                        \
    bool onboard_##op##tile##__##isa(const uint8_t *x, size_t length, size_t channels, int32_t zero_point,              \
                                     const int8_t *weight, size_t taps, int reverse, size_t t0, size_t rows, size_t c0, \
                                     size_t cols, int32_t *acc, size_t ld);
#define Q8_LOOKUP_U8_DECLARE(op, tile, isa, flags) \
    bool onboard_##op##tile##__##isa(const uint8_t *x, uint8_t *y, size_t n, const uint8_t *table);
ONBOARD_Q8_QUANTIZE_U8_KERNELS(Q8_QUANTIZE_U8_DECLARE)
ONBOARD_Q8_DEQUANTIZE_U8_KERNELS(Q8_DEQUANTIZE_U8_DECLARE)
ONBOARD_Q8_REQUANTIZE_U8_KERNELS(Q8_REQUANTIZE_U8_DECLARE)
ONBOARD_Q8_ROW_SUMS_KERNELS(Q8_ROW_SUMS_DECLARE)
ONBOARD_Q8_ADD_U8_KERNELS(Q8_ADD_U8_DECLARE)
ONBOARD_Q8_ADD_U8_DYADIC_KERNELS(Q8_ADD_U8_DYADIC_DECLARE)
ONBOARD_Q8_ADD_CONST_U8_DYADIC_KERNELS(Q8_ADD_CONST_U8_DYADIC_DECLARE)
ONBOARD_Q8_LOOKUP_U8_KERNELS(Q8_LOOKUP_U8_DECLARE)
ONBOARD_Q8_CAUSAL_CONV1D_S32_KERNELS(Q8_CAUSAL_CONV1D_S32_DECLARE)
#undef Q8_QUANTIZE_U8_DECLARE
#undef Q8_DEQUANTIZE_U8_DECLARE
#undef Q8_REQUANTIZE_U8_DECLARE
#undef Q8_ROW_SUMS_DECLARE
#undef Q8_ADD_U8_DECLARE
#undef Q8_ADD_U8_DYADIC_DECLARE
#undef Q8_ADD_CONST_U8_DYADIC_DECLARE
#undef Q8_LOOKUP_U8_DECLARE
#undef Q8_CAUSAL_CONV1D_S32_DECLARE

#endif
