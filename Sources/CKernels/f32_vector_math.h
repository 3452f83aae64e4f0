/* What the FP32 vector bodies (f32_math_body.h, f32_scan_body.h) share, written with clang vector
 * extensions: splat, exp, and gcc's spelling of clang's element-wise builtins. The including body
 * defines BODY_ATTR (a target attribute), FN (its suffix on a name), LANES and the vector types V
 * (LANES floats) and VI (LANES ints). */

/* The helpers are static inline: their vector ABI never crosses a call boundary. */
#pragma clang diagnostic ignored "-Wpsabi"

#if !defined(__clang__) /* gcc has the vector types but not clang's element-wise builtins: lane by lane */
#pragma GCC diagnostic ignored "-Wpsabi"
static inline BODY_ATTR V FN(gcc_min)(V a, V b) { for (int i = 0; i < LANES; i++) a[i] = a[i] != a[i] || b[i] < a[i] ? b[i] : a[i]; return a; }
static inline BODY_ATTR V FN(gcc_max)(V a, V b) { for (int i = 0; i < LANES; i++) a[i] = a[i] != a[i] || b[i] > a[i] ? b[i] : a[i]; return a; }
static inline BODY_ATTR V FN(gcc_floor)(V a) { for (int i = 0; i < LANES; i++) a[i] = __builtin_floorf(a[i]); return a; }
#define __builtin_elementwise_min(a, b) FN(gcc_min)(a, b)
#define __builtin_elementwise_max(a, b) FN(gcc_max)(a, b)
#define __builtin_elementwise_floor(a) FN(gcc_floor)(a)
#endif

static inline BODY_ATTR V FN(splat)(float s) {
    V v;
    for (int i = 0; i < LANES; i++) v[i] = s;
    return v;
}

/* exp(x), relative error about 2e-7 on [-87, 88]; inputs outside are clamped. */
static inline BODY_ATTR V FN(exp_v)(V x) {
    x = __builtin_elementwise_min(__builtin_elementwise_max(x, FN(splat)(-87.0f)), FN(splat)(88.0f));
    const V t = x * FN(splat)(1.44269504088896341f);
    const V n = __builtin_elementwise_floor(t + FN(splat)(0.5f));
    V r = x - n * FN(splat)(0.693359375f);
    r = r - n * FN(splat)(-2.12194440e-4f);
    V p = FN(splat)(1.9875691500e-4f);
    p = p * r + FN(splat)(1.3981999507e-3f);
    p = p * r + FN(splat)(8.3334519073e-3f);
    p = p * r + FN(splat)(4.1665795894e-2f);
    p = p * r + FN(splat)(1.6666665459e-1f);
    p = p * r + FN(splat)(5.0000001201e-1f);
    p = p * r * r + r + FN(splat)(1.0f);
    const VI bits = (__builtin_convertvector(n, VI) + 127) << 23;
    V scale;
    __builtin_memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline BODY_ATTR V FN(load_v)(const float *p) { V v; __builtin_memcpy(&v, p, sizeof v); return v; }
static inline BODY_ATTR void FN(store_v)(float *p, V v) { __builtin_memcpy(p, &v, sizeof v); }
