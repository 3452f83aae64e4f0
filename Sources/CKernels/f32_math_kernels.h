/* Private to CKernels: the FP32 row and element-wise kernel list (f32_math.h), fastest first. One
 * line per ISA: tile, ISA, the flags it needs. f32_math__<isa>.c compiles the one body
 * (f32_math_body.h, 16 lanes per step) for that ISA as onboard_<op>_u16__<isa> for every op of
 * ONBOARD_F32_MATH_OPS; each op runs the first body the cap allows. */
#ifndef ONBOARD_F32_MATH_KERNELS_H
#define ONBOARD_F32_MATH_KERNELS_H
#include "kernel_list.h"

#define ONBOARD_F32_MATH_KERNELS(X)                       \
    ONBOARD_X86(X(_u16, avx512f, ONBOARD_ISA_AVX512F))    \
    ONBOARD_X86(X(_u16, avx2, ONBOARD_ISA_AVX2))          \
    ONBOARD_ARM64(X(_u16, neon, ONBOARD_ISA_NEON))        \
    X(_u16, scalar, 0)

/* The ops of every body; X(op, ...) passes the rest of the arguments on. */
#define ONBOARD_F32_MATH_OPS(X, ...)                                                              \
    X(f32_gelu_erf, __VA_ARGS__) X(f32_gelu_tanh, __VA_ARGS__) X(f32_sigmoid, __VA_ARGS__)        \
    X(f32_silu, __VA_ARGS__) X(f32_softmax_rows, __VA_ARGS__) X(f32_layernorm_rows, __VA_ARGS__)       \
    X(f32_hadamard_rows, __VA_ARGS__)

#define ONBOARD_F32_MATH_DECLARE(tile, isa, flags)                                                              \
    void onboard_f32_gelu_erf##tile##__##isa(const float *x, float *y, size_t n);                               \
    void onboard_f32_gelu_tanh##tile##__##isa(const float *x, float *y, size_t n);                              \
    void onboard_f32_sigmoid##tile##__##isa(const float *x, float *y, size_t n);                                \
    void onboard_f32_silu##tile##__##isa(const float *x, float *y, size_t n);                                   \
    void onboard_f32_softmax_rows##tile##__##isa(const float *x, float *y, size_t rows, size_t n);              \
    void onboard_f32_layernorm_rows##tile##__##isa(const float *x, float *y, size_t rows, size_t n,             \
                                                   const float *gamma, const float *beta, float eps);           \
    void onboard_f32_hadamard_rows##tile##__##isa(float *x, size_t rows, size_t n, size_t k, const float *hk, float *work);
ONBOARD_F32_MATH_KERNELS(ONBOARD_F32_MATH_DECLARE)
#undef ONBOARD_F32_MATH_DECLARE

#endif
