/* The selective scan (f32_scan.h): the first kernel of its list (f32_scan_kernels.h) the ISA cap
 * allows. */
#include "f32_scan_kernels.h"

void onboard_f32_selective_scan(size_t length, size_t state, size_t d_begin, size_t d_end, int reverse,
    const float *u, size_t u_stride, const float *dt, size_t dt_stride, const float *dt_bias,
    const float *A, const float *B, const float *C, size_t bc_stride, const float *D,
    const float *z, size_t z_stride, const float *gate_scale, float *y, size_t y_stride) {
#define ARGS length, state, d_begin, d_end, reverse, u, u_stride, dt, dt_stride, dt_bias, A, B, C, bc_stride, D, \
             z, z_stride, gate_scale, y, y_stride
    ONBOARD_F32_SCAN_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}
