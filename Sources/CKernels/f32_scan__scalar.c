/* The selective scan, portable: the reference (f32_scan.h), libm and plain loops. */
#include "f32_scan_kernels.h"

#include <math.h>

static float softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

/* MambaQuant's scaled SiLU x * sigmoid(s * x); s = 1 is SiLU. */
static float scaled_silu(float x, float s) { return x / (1.0f + expf(-s * x)); }

/* The states go in blocks of up to 16 (h on the stack): y holds the skip term plus the blocks done
 * so far, and the last block adds its sum and applies the gate. */
enum { STATE_BLOCK = 16 };

bool onboard_f32_selective_scan__scalar(size_t length, size_t state, size_t d_begin, size_t d_end, int reverse,
    const float *u, size_t u_stride, const float *dt, size_t dt_stride, const float *dt_bias,
    const float *A, const float *B, const float *C, size_t bc_stride, const float *D,
    const float *z, size_t z_stride, const float *gate_scale, float *y, size_t y_stride) {
    for (size_t d = d_begin; d < d_end; d++) {
        const float bias = dt_bias ? dt_bias[d] : 0.0f;
        size_t n0 = 0;
        do {
            const size_t count = state - n0 < STATE_BLOCK ? state - n0 : STATE_BLOCK;
            const bool first = n0 == 0, last = n0 + count == state;
            float h[STATE_BLOCK] = {0};
            for (size_t step = 0; step < length; step++) {
                const size_t t = reverse ? length - 1 - step : step;
                const float delta = softplus(dt[t * dt_stride + d] + bias), x = u[t * u_stride + d];
                const float *b = B + t * bc_stride + n0, *c = C + t * bc_stride + n0, *a = A + d * state + n0;
                float sum = 0.0f;
                for (size_t n = 0; n < count; n++) {
                    h[n] = expf(delta * a[n]) * h[n] + delta * b[n] * x;
                    sum += h[n] * c[n];
                }
                float *out = y + t * y_stride + d;
                const float partial = (first ? D[d] * x : *out) + sum;
                *out = last && z ? partial * scaled_silu(z[t * z_stride + d], gate_scale ? gate_scale[d] : 1.0f) : partial;
            }
            n0 += count;
        } while (n0 < state);
    }
    return true;
}
