/* Fast FP32 row/element-wise kernels written once with clang vector extensions and compiled
 * per ISA by f32_math__<isa>.c: the including file defines BODY_ATTR (a target attribute) and
 * BODY_SUFFIX (_u16__<isa>). 16-lane vectors lower to one zmm (AVX-512), two ymm (AVX2) or four
 * xmm registers. */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, BODY_SUFFIX)

typedef float FN(v16f) __attribute__((vector_size(64), aligned(4)));
typedef int FN(v16i) __attribute__((vector_size(64), aligned(4)));
#define V FN(v16f)
#define VI FN(v16i)
#define LANES 16
#include "f32_vector_math.h"

/* erf(x) as x P(x^2) / Q(x^2) on [-4, 4] (rational minimax form), a few ulp. */
static inline BODY_ATTR V FN(erf_v)(V x) {
    x = __builtin_elementwise_min(__builtin_elementwise_max(x, FN(splat)(-4.0f)), FN(splat)(4.0f));
    const V x2 = x * x;
    V p = FN(splat)(-2.72614225801306e-10f);
    p = p * x2 + FN(splat)(2.77068142495902e-08f);
    p = p * x2 + FN(splat)(-2.10102402082508e-06f);
    p = p * x2 + FN(splat)(-5.69250639462346e-05f);
    p = p * x2 + FN(splat)(-7.34990630326855e-04f);
    p = p * x2 + FN(splat)(-2.95459980854025e-03f);
    p = p * x2 + FN(splat)(-1.60960333262415e-02f);
    V q = FN(splat)(-1.45660718464996e-05f);
    q = q * x2 + FN(splat)(-2.13374055278905e-04f);
    q = q * x2 + FN(splat)(-1.68282697438203e-03f);
    q = q * x2 + FN(splat)(-7.37332916720468e-03f);
    q = q * x2 + FN(splat)(-1.42647390514189e-02f);
    return x * p / q;
}

static inline BODY_ATTR V FN(gelu_erf_v)(V x) {
    return FN(splat)(0.5f) * x * (FN(splat)(1.0f) + FN(erf_v)(x * FN(splat)(0.70710678118654752f)));
}

static inline BODY_ATTR V FN(gelu_tanh_v)(V x) {
    const V u = FN(splat)(0.79788456080286536f) * (x + FN(splat)(0.044715f) * x * x * x);
    /* tanh(u) = 1 - 2 / (exp(2u) + 1) */
    const V th = FN(splat)(1.0f) - FN(splat)(2.0f) / (FN(exp_v)(u + u) + FN(splat)(1.0f));
    return FN(splat)(0.5f) * x * (FN(splat)(1.0f) + th);
}

static inline BODY_ATTR V FN(sigmoid_v)(V x) {
    return FN(splat)(1.0f) / (FN(splat)(1.0f) + FN(exp_v)(-x));
}

static inline BODY_ATTR V FN(silu_v)(V x) { return x * FN(sigmoid_v)(x); }

#if defined(__aarch64__)
/* Lanes by a variable index go through the stack one at a time on arm64 (about 470 guest
 * instructions per 197-wide softmax row): a partial vector goes through a buffer instead, copied
 * in at most four fixed-size pieces (count < 16). */
static inline BODY_ATTR void FN(copy_partial)(float *dst, const float *src, size_t count) {
    if (count & 8) { __builtin_memcpy(dst, src, 32); dst += 8; src += 8; }
    if (count & 4) { __builtin_memcpy(dst, src, 16); dst += 4; src += 4; }
    if (count & 2) { __builtin_memcpy(dst, src, 8); dst += 2; src += 2; }
    if (count & 1) *dst = *src;
}

static inline BODY_ATTR V FN(load_partial)(const float *p, size_t count, float pad) {
    float buffer[16];
    FN(store_v)(buffer, FN(splat)(pad));
    FN(copy_partial)(buffer, p, count);
    return FN(load_v)(buffer);
}

static inline BODY_ATTR void FN(store_partial)(float *p, V v, size_t count) {
    float buffer[16];
    FN(store_v)(buffer, v);
    FN(copy_partial)(p, buffer, count);
}
#else
static inline BODY_ATTR V FN(load_partial)(const float *p, size_t count, float pad) {
    V v = FN(splat)(pad);
    for (size_t i = 0; i < count; i++) v[i] = p[i];
    return v;
}

static inline BODY_ATTR void FN(store_partial)(float *p, V v, size_t count) {
    for (size_t i = 0; i < count; i++) p[i] = v[i];
}
#endif

#define DEFINE_UNARY(name, vfn)                                                    \
    BODY_ATTR void FN(name)(const float *x, float *y, size_t n) {                  \
        size_t i = 0;                                                              \
        for (; i + 16 <= n; i += 16) FN(store_v)(y + i, vfn(FN(load_v)(x + i)));   \
        if (i < n) FN(store_partial)(y + i, vfn(FN(load_partial)(x + i, n - i, 0.0f)), n - i); \
    }

DEFINE_UNARY(onboard_f32_gelu_erf, FN(gelu_erf_v))
DEFINE_UNARY(onboard_f32_gelu_tanh, FN(gelu_tanh_v))
DEFINE_UNARY(onboard_f32_sigmoid, FN(sigmoid_v))
DEFINE_UNARY(onboard_f32_silu, FN(silu_v))

#if defined(__aarch64__) && defined(__clang__)
/* As a tree, on whole registers first (fadd / fmaxnm), the last four lanes pairwise (gcc: the loops
 * below). */
typedef float FN(v8f) __attribute__((vector_size(32)));
typedef float FN(v4f) __attribute__((vector_size(16)));
#define LOW8(v) __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7)
#define HIGH8(v) __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15)
#define LOW4(v) __builtin_shufflevector(v, v, 0, 1, 2, 3)
#define HIGH4(v) __builtin_shufflevector(v, v, 4, 5, 6, 7)

static inline BODY_ATTR float FN(hsum)(V v) {
    const FN(v8f) h = LOW8(v) + HIGH8(v);
    const FN(v4f) q = LOW4(h) + HIGH4(h);
    return (q[0] + q[1]) + (q[2] + q[3]);
}

static inline BODY_ATTR float FN(hmax)(V v) {
    const FN(v8f) h = __builtin_elementwise_max(LOW8(v), HIGH8(v));
    const FN(v4f) q = __builtin_elementwise_max(LOW4(h), HIGH4(h));
    return __builtin_elementwise_max(__builtin_elementwise_max(q[0], q[1]), __builtin_elementwise_max(q[2], q[3]));
}
#undef LOW8
#undef HIGH8
#undef LOW4
#undef HIGH4
#else
static inline BODY_ATTR float FN(hsum)(V v) {
    float s = 0.0f;
    for (int i = 0; i < 16; i++) s += v[i];
    return s;
}

static inline BODY_ATTR float FN(hmax)(V v) {
    float m = v[0];
    for (int i = 1; i < 16; i++) m = v[i] > m ? v[i] : m;
    return m;
}
#endif

BODY_ATTR void FN(onboard_f32_softmax_rows)(const float *x, float *y, size_t rows, size_t n) {
    if (n == 0) return;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        const size_t full = n & ~(size_t)15, tail = n - full;
        V vmax = FN(splat)(-__builtin_inff());
        for (size_t i = 0; i < full; i += 16) vmax = __builtin_elementwise_max(vmax, FN(load_v)(xr + i));
        if (tail) vmax = __builtin_elementwise_max(vmax, FN(load_partial)(xr + full, tail, -__builtin_inff()));
        const V m = FN(splat)(FN(hmax)(vmax));
        V vsum = FN(splat)(0.0f);
        for (size_t i = 0; i < full; i += 16) {
            const V e = FN(exp_v)(FN(load_v)(xr + i) - m);
            FN(store_v)(yr + i, e);
            vsum += e;
        }
        if (tail) {
            V e = FN(exp_v)(FN(load_partial)(xr + full, tail, 0.0f) - m);
            for (size_t i = tail; i < 16; i++) e[i] = 0.0f;
            FN(store_partial)(yr + full, e, tail);
            vsum += e;
        }
        const V inv = FN(splat)(1.0f / FN(hsum)(vsum));
        for (size_t i = 0; i < full; i += 16) FN(store_v)(yr + i, FN(load_v)(yr + i) * inv);
        if (tail) FN(store_partial)(yr + full, FN(load_partial)(yr + full, tail, 0.0f) * inv, tail);
    }
}

BODY_ATTR void FN(onboard_f32_layernorm_rows)(const float *x, float *y, size_t rows, size_t n,
                                               const float *gamma, const float *beta, float eps) {
    if (n == 0) return;
    const size_t full = n & ~(size_t)15, tail = n - full;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        V vsum = FN(splat)(0.0f);
        for (size_t i = 0; i < full; i += 16) vsum += FN(load_v)(xr + i);
        if (tail) vsum += FN(load_partial)(xr + full, tail, 0.0f);
        const float mean = FN(hsum)(vsum) / (float)n;
        const V vm = FN(splat)(mean);
        V vvar = FN(splat)(0.0f);
        for (size_t i = 0; i < full; i += 16) { const V d = FN(load_v)(xr + i) - vm; vvar += d * d; }
        if (tail) {
            V d = FN(load_partial)(xr + full, tail, mean) - vm;
            vvar += d * d;
        }
        const float rstd = 1.0f / __builtin_sqrtf(FN(hsum)(vvar) / (float)n + eps);
        const V vr = FN(splat)(rstd);
        for (size_t i = 0; i < full; i += 16) {
            const V v = (FN(load_v)(xr + i) - vm) * vr;
            FN(store_v)(yr + i, v * FN(load_v)(gamma + i) + FN(load_v)(beta + i));
        }
        if (tail) {
            const V v = (FN(load_partial)(xr + full, tail, 0.0f) - vm) * vr;
            FN(store_partial)(yr + full, v * FN(load_partial)(gamma + full, tail, 0.0f)
                                             + FN(load_partial)(beta + full, tail, 0.0f), tail);
        }
    }
}

/* One butterfly stage at distance h < 16 inside each 16-lane vector: lane i with bit h clear gets
 * v[i] + v[i + h], the other v[i - h] - v[i]. */
#define HADAMARD_STAGE(v, h, ...)                                                              \
    do {                                                                                       \
        const V swapped = __builtin_shufflevector(v, v, __VA_ARGS__);                          \
        V sign;                                                                                \
        for (int lane = 0; lane < 16; lane++) sign[lane] = (lane & (h)) ? -1.0f : 1.0f;        \
        v = swapped + v * sign;                                                                \
    } while (0)

/* The unnormalized Walsh-Hadamard transform of p = 2^m values in place. */
static inline BODY_ATTR void FN(walsh_hadamard)(float *base, size_t p) {
    size_t h = 1;
    if (p >= 16) {
        for (size_t c = 0; c < p; c += 16) {
            V v = FN(load_v)(base + c);
            HADAMARD_STAGE(v, 1, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
            HADAMARD_STAGE(v, 2, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
            HADAMARD_STAGE(v, 4, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
            HADAMARD_STAGE(v, 8, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
            FN(store_v)(base + c, v);
        }
        for (h = 16; h < p; h *= 2)
            for (size_t i = 0; i < p; i += 2 * h)
                for (size_t j = i; j < i + h; j += 16) {
                    const V a = FN(load_v)(base + j), b = FN(load_v)(base + j + h);
                    FN(store_v)(base + j, a + b);
                    FN(store_v)(base + j + h, a - b);
                }
        return;
    }
    for (; h < p; h *= 2)
        for (size_t i = 0; i < p; i += 2 * h)
            for (size_t j = i; j < i + h; j++) {
                const float a = base[j], b = base[j + h];
                base[j] = a + b;
                base[j + h] = a - b;
            }
}

/* out[0..<p] += s · x[0..<p] (out zeroed first when `first`). */
static inline BODY_ATTR void FN(add_scaled)(float *out, const float *x, float s, size_t p, int first) {
    size_t j = 0;
    const V vs = FN(splat)(s);
    for (; j + 16 <= p; j += 16) FN(store_v)(out + j, (first ? FN(splat)(0.0f) : FN(load_v)(out + j)) + vs * FN(load_v)(x + j));
    for (; j < p; j++) out[j] = (first ? 0.0f : out[j]) + s * x[j];
}

BODY_ATTR void FN(onboard_f32_hadamard_rows)(float *x, size_t rows, size_t n, size_t k, const float *hk, float *work) {
    if (n == 0 || k == 0 || n % k != 0) return;
    const size_t p = n / k;
    const float norm = 1.0f / __builtin_sqrtf((float)n);
    for (size_t r = 0; r < rows; r++) {
        float *v = x + r * n;
        for (size_t b = 0; b < k; b++) FN(walsh_hadamard)(v + b * p, p);
        if (k == 1) {
            const float s = hk[0] * norm;
            for (size_t i = 0; i < n; i++) v[i] *= s;
            continue;
        }
        for (size_t o = 0; o < k; o++)
            for (size_t l = 0; l < k; l++) FN(add_scaled)(work + o * p, v + l * p, hk[o * k + l] * norm, p, l == 0);
        __builtin_memcpy(v, work, n * sizeof(float));
    }
}

#undef HADAMARD_STAGE

#undef V
#undef VI
#undef LANES
#undef FN
#undef CAT
#undef CAT_
