/* FP32 row and element-wise kernels (f32_math.h): each op runs the first body of the list
 * (f32_math_kernels.h) the ISA cap allows. */
#include "f32_math.h"
#include "f32_math_kernels.h"

/* Inside an op's function, with OP its name and ARGS its arguments. */
#define KERNEL_(op, tile, isa) onboard_##op##tile##__##isa
#define KERNEL(op, tile, isa) KERNEL_(op, tile, isa)
#define RUN_FIRST_ALLOWED(tile, isa, flags) \
    if (onboard_isa_allows(flags)) { KERNEL(OP, tile, isa)(ARGS); return; }

void onboard_f32_gelu_erf(const float *x, float *y, size_t n) {
#define OP f32_gelu_erf
#define ARGS x, y, n
    ONBOARD_F32_MATH_KERNELS(RUN_FIRST_ALLOWED)
#undef OP
#undef ARGS
}

void onboard_f32_gelu_tanh(const float *x, float *y, size_t n) {
#define OP f32_gelu_tanh
#define ARGS x, y, n
    ONBOARD_F32_MATH_KERNELS(RUN_FIRST_ALLOWED)
#undef OP
#undef ARGS
}

void onboard_f32_sigmoid(const float *x, float *y, size_t n) {
#define OP f32_sigmoid
#define ARGS x, y, n
    ONBOARD_F32_MATH_KERNELS(RUN_FIRST_ALLOWED)
#undef OP
#undef ARGS
}

void onboard_f32_silu(const float *x, float *y, size_t n) {
#define OP f32_silu
#define ARGS x, y, n
    ONBOARD_F32_MATH_KERNELS(RUN_FIRST_ALLOWED)
#undef OP
#undef ARGS
}

void onboard_f32_softmax_rows(const float *x, float *y, size_t rows, size_t n) {
#define OP f32_softmax_rows
#define ARGS x, y, rows, n
    ONBOARD_F32_MATH_KERNELS(RUN_FIRST_ALLOWED)
#undef OP
#undef ARGS
}

void onboard_f32_layernorm_rows(const float *x, float *y, size_t rows, size_t n,
                                const float *gamma, const float *beta, float eps) {
#define OP f32_layernorm_rows
#define ARGS x, y, rows, n, gamma, beta, eps
    ONBOARD_F32_MATH_KERNELS(RUN_FIRST_ALLOWED)
#undef OP
#undef ARGS
}

void onboard_f32_hadamard_rows(float *x, size_t rows, size_t n, size_t k, const float *hk, float *work) {
#define OP f32_hadamard_rows
#define ARGS x, rows, n, k, hk, work
    ONBOARD_F32_MATH_KERNELS(RUN_FIRST_ALLOWED)
#undef OP
#undef ARGS
}
