/* The selective scan (f32_scan.h) written once with clang vector extensions and compiled per ISA by
 * f32_scan__<isa>.c: the including file defines BODY_ATTR (a target attribute), BODY_SUFFIX
 * (_c<LANES>__<isa>) and LANES. One lane per channel: a step takes LANES channels of one token, so
 * softplus, the skip term and the gate are vector operations and the sum over states needs no
 * horizontal add; the states go in blocks of 16, each with its h in 16 vectors and its A
 * transposed to state-major (and scaled by log2(e), for exp2_v) once per block of channels. */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, BODY_SUFFIX)

typedef float FN(vf) __attribute__((vector_size(LANES * 4), aligned(4)));
typedef int FN(vi) __attribute__((vector_size(LANES * 4), aligned(4)));
#define V FN(vf)
#define VI FN(vi)
#include "f32_vector_math.h"

enum { FN(state_block) = 16 };
#define STATE_BLOCK FN(state_block)

/* A block's rows of u, dt, z and y are a row stride apart, one or two cache lines each. On inputs
 * no longer in cache (tools/bench_scan.sh: Vim-T, 24 layers of their own, AVX2) the scan took 1.9
 * times as long as on inputs in cache; prefetching them 8 tokens ahead brings that to 1.5. */
enum { FN(prefetch_ahead) = 8 };
#define PREFETCH_AHEAD FN(prefetch_ahead)

static inline BODY_ATTR void FN(prefetch_lanes)(const float *p) {
    __builtin_prefetch(p);
    __builtin_prefetch(p + LANES - 1);
}

#if defined(SCAN_SCALEF_ZMM)
/* p 2^n by AVX-512's vscalefps, one zmm (16 lanes) at a time: one instruction where the exponent
 * bits take three, the same value (both round p 2^n once). `shifted` is unused. */
_Static_assert(LANES == 32, "two zmm per vector");
typedef float FN(v16) __attribute__((vector_size(64)));
static inline BODY_ATTR V FN(times_power_of_two)(V p, V n, V shifted) {
    (void)shifted;
    const FN(v16) low = (FN(v16))_mm512_scalef_ps((__m512)__builtin_shufflevector(p, p, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                                  (__m512)__builtin_shufflevector(n, n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    const FN(v16) high = (FN(v16))_mm512_scalef_ps(
        (__m512)__builtin_shufflevector(p, p, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31),
        (__m512)__builtin_shufflevector(n, n, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31));
    return __builtin_shufflevector(low, high, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
                                   25, 26, 27, 28, 29, 30, 31);
}
#else
/* p 2^n for integral n in [-126, 127] through the exponent bits of 2^n, from `shifted` = n + 1.5 2^23,
 * whose low bits hold n. */
static inline BODY_ATTR V FN(times_power_of_two)(V p, V n, V shifted) {
    (void)n;
    VI bits;
    __builtin_memcpy(&bits, &shifted, sizeof bits);
    bits = (bits + 127) << 23;
    V scale;
    __builtin_memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}
#endif

/* 2^x, x clamped to [-126, 127]: x = n + f with n the nearest integer (rounded by adding 1.5 * 2^23,
 * whose low bits then hold n) and f in [-0.5, 0.5], 2^f by a degree-5 polynomial with constant
 * term 1 fitted for relative error (1.9e-7 in float, Horner's rule; degree 6 gave 1e-7 and cost 5 %
 * of the scan's time on AVX2). Cheaper than exp_v by the multiply and the two-step reduction: the
 * scan scales A by log2(e) once per block. */
static inline BODY_ATTR V FN(exp2_v)(V x) {
    x = __builtin_elementwise_min(__builtin_elementwise_max(x, FN(splat)(-126.0f)), FN(splat)(127.0f));
    const V shifted = x + FN(splat)(0x1.8p23f), n = shifted - FN(splat)(0x1.8p23f), f = x - n;
    V p = FN(splat)(0x1.5bba10p-10f);
    p = p * f + FN(splat)(0x1.3cea88p-7f);
    p = p * f + FN(splat)(0x1.c6b752p-5f);
    p = p * f + FN(splat)(0x1.ebf9bcp-3f);
    p = p * f + FN(splat)(0x1.62e42ap-1f);
    p = p * f + FN(splat)(1.0f);
    return FN(times_power_of_two)(p, n, shifted);
}

/* log1p(e) for e in [0, 1] as 2 atanh(s), s = e / (2 + e) in [0, 1/3]: the odd series to s^15
 * (its next term is below 2^-26 of the sum). */
static inline BODY_ATTR V FN(log1p_unit)(V e) {
    const V s = e / (FN(splat)(2.0f) + e), s2 = s * s;
    V p = FN(splat)(1.0f / 15.0f);
    p = p * s2 + FN(splat)(1.0f / 13.0f);
    p = p * s2 + FN(splat)(1.0f / 11.0f);
    p = p * s2 + FN(splat)(1.0f / 9.0f);
    p = p * s2 + FN(splat)(1.0f / 7.0f);
    p = p * s2 + FN(splat)(1.0f / 5.0f);
    p = p * s2 + FN(splat)(1.0f / 3.0f);
    p = p * s2 + FN(splat)(1.0f);
    return (s + s) * p;
}

/* x > 20 ? x : log1p(exp(x)), below the threshold as max(x, 0) + log1p(exp(-|x|)). */
static inline BODY_ATTR V FN(softplus_v)(V x) {
    const V zero = FN(splat)(0.0f);
    const V soft = __builtin_elementwise_max(x, zero) + FN(log1p_unit)(FN(exp_v)(-__builtin_elementwise_max(x, -x)));
    const VI above = x > FN(splat)(20.0f);
    VI x_bits, soft_bits;
    __builtin_memcpy(&x_bits, &x, sizeof x);
    __builtin_memcpy(&soft_bits, &soft, sizeof soft);
    const VI bits = (x_bits & above) | (soft_bits & ~above);
    V result;
    __builtin_memcpy(&result, &bits, sizeof result);
    return result;
}

static inline BODY_ATTR V FN(silu_v)(V x) { return x / (FN(splat)(1.0f) + FN(exp_v)(-x)); }

/* Lanes [0, count) of p, the rest `pad`: a whole vector when count is LANES (inlined with a
 * constant count, the branch folds). */
static inline BODY_ATTR V FN(load_lanes)(const float *p, size_t count, float pad) {
    if (count == LANES) return FN(load_v)(p);
    V v = FN(splat)(pad);
    for (size_t i = 0; i < count; i++) v[i] = p[i];
    return v;
}

static inline BODY_ATTR void FN(store_lanes)(float *p, V v, size_t count) {
    if (count == LANES) { FN(store_v)(p, v); return; }
    for (size_t i = 0; i < count; i++) p[i] = v[i];
}

/* Channels [d, d + lanes) over states [n0, n0 + count) (count <= STATE_BLOCK); `first`: y starts
 * with the skip term, `last`: the gate applies. Inlined with lanes == LANES and count ==
 * STATE_BLOCK for the common case, so its loops have constant trip counts. */
static inline __attribute__((always_inline)) BODY_ATTR void FN(scan_block)(
    size_t lanes, size_t count, size_t n0, bool first, bool last, size_t d, size_t length, size_t state, int reverse,
    const float *u, size_t u_stride, const float *dt, size_t dt_stride, const float *dt_bias,
    const float *A, const float *B, const float *C, size_t bc_stride, const float *D,
    const float *z, size_t z_stride, const float *gate_scale, float *y, size_t y_stride) {
    V a[STATE_BLOCK], h[STATE_BLOCK]; /* a: A log2(e) */
    for (size_t n = 0; n < count; n++) {
        a[n] = FN(splat)(0.0f);
        for (size_t lane = 0; lane < lanes; lane++) a[n][lane] = A[(d + lane) * state + n0 + n] * 1.44269504088896341f;
        h[n] = FN(splat)(0.0f);
    }
    const V bias = dt_bias ? FN(load_lanes)(dt_bias + d, lanes, 0.0f) : FN(splat)(0.0f);
    const V skip = FN(load_lanes)(D + d, lanes, 0.0f);
    const V scale = gate_scale ? FN(load_lanes)(gate_scale + d, lanes, 1.0f) : FN(splat)(1.0f);
    for (size_t step = 0; step < length; step++) {
        const size_t t = reverse ? length - 1 - step : step;
        if (step + PREFETCH_AHEAD < length) {
            const size_t ahead = reverse ? t - PREFETCH_AHEAD : t + PREFETCH_AHEAD;
            FN(prefetch_lanes)(dt + ahead * dt_stride + d);
            FN(prefetch_lanes)(u + ahead * u_stride + d);
            if (z) FN(prefetch_lanes)(z + ahead * z_stride + d);
            FN(prefetch_lanes)(y + ahead * y_stride + d);
        }
        const V delta = FN(softplus_v)(FN(load_lanes)(dt + t * dt_stride + d, lanes, 0.0f) + bias);
        const V x = FN(load_lanes)(u + t * u_stride + d, lanes, 0.0f), dx = delta * x;
        const float *b = B + t * bc_stride + n0, *c = C + t * bc_stride + n0;
        float *out = y + t * y_stride + d;
        V sum = first ? skip * x : FN(load_lanes)(out, lanes, 0.0f);
        for (size_t n = 0; n < count; n++) {
            h[n] = FN(exp2_v)(delta * a[n]) * h[n] + dx * b[n];
            sum += h[n] * c[n];
        }
        if (last && z) {
            const V gate = FN(load_lanes)(z + t * z_stride + d, lanes, 0.0f);
            sum *= gate_scale ? gate / (FN(splat)(1.0f) + FN(exp_v)(-(scale * gate))) : FN(silu_v)(gate);
        }
        FN(store_lanes)(out, sum, lanes);
    }
}

BODY_ATTR bool FN(onboard_f32_selective_scan)(size_t length, size_t state, size_t d_begin, size_t d_end, int reverse,
    const float *u, size_t u_stride, const float *dt, size_t dt_stride, const float *dt_bias,
    const float *A, const float *B, const float *C, size_t bc_stride, const float *D,
    const float *z, size_t z_stride, const float *gate_scale, float *y, size_t y_stride) {
#define SCAN_ARGS d, length, state, reverse, u, u_stride, dt, dt_stride, dt_bias, A, B, C, bc_stride, D, z, z_stride, gate_scale, y, y_stride
    for (size_t d = d_begin; d < d_end; d += LANES) {
        const size_t lanes = d_end - d < LANES ? d_end - d : LANES;
        size_t n0 = 0;
        do {
            const size_t count = state - n0 < STATE_BLOCK ? state - n0 : STATE_BLOCK;
            const bool first = n0 == 0, last = n0 + count == state;
            if (lanes == LANES && count == STATE_BLOCK) FN(scan_block)(LANES, STATE_BLOCK, n0, first, last, SCAN_ARGS);
            else FN(scan_block)(lanes, count, n0, first, last, SCAN_ARGS);
            n0 += count;
        } while (n0 < state);
    }
#undef SCAN_ARGS
    return true;
}

#undef STATE_BLOCK
#undef PREFETCH_AHEAD
#undef V
#undef VI
#undef FN
#undef CAT
#undef CAT_
