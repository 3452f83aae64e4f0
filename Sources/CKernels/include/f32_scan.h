#ifndef ONBOARD_F32_SCAN_H
#define ONBOARD_F32_SCAN_H
#include <stdbool.h>
#include <stddef.h>

/* Selective scan, one direction, channels [d_begin, d_end) of a token-major sequence (Mamba's
   selective_scan_ref with delta_softplus, discretisation fused: [L, ED, N] is never stored).
   For each channel d, h[0..N) = 0, then for t = 0..L-1 (reverse: t = L-1..0):
     delta = softplus(dt[t*dt_stride + d] + dt_bias[d])      softplus(x) = x > 20 ? x : log1p(exp(x))
     h[n]  = exp(delta * A[d*state + n]) * h[n] + delta * B[t*bc_stride + n] * u[t*u_stride + d]
     out   = sum_n h[n] * C[t*bc_stride + n] + D[d] * u[t*u_stride + d]
     y[t*y_stride + d] = z ? out * g(z[t*z_stride + d]) : out
   with the gate g(x) = x / (1 + exp(-s x)), s = gate_scale[d] (MambaQuant's scaled SiLU), or SiLU
   (s = 1) when gate_scale is NULL. A holds -exp(A_log) [ED][state]. dt_bias may be NULL (0). Other channels of y are not written.
   Runs the first kernel of the list (f32_scan_kernels.h) the ISA cap allows; `__scalar` is the
   reference (libm, plain loops) and returns true. */
void onboard_f32_selective_scan(size_t length, size_t state, size_t d_begin, size_t d_end, int reverse,
    const float *u, size_t u_stride, const float *dt, size_t dt_stride, const float *dt_bias,
    const float *A, const float *B, const float *C, size_t bc_stride, const float *D,
    const float *z, size_t z_stride, const float *gate_scale, float *y, size_t y_stride);
bool onboard_f32_selective_scan__scalar(size_t length, size_t state, size_t d_begin, size_t d_end, int reverse,
    const float *u, size_t u_stride, const float *dt, size_t dt_stride, const float *dt_bias,
    const float *A, const float *B, const float *C, size_t bc_stride, const float *D,
    const float *z, size_t z_stride, const float *gate_scale, float *y, size_t y_stride);
#endif
