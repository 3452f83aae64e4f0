/* FP32 row and element-wise kernels, AVX-512: the body (f32_math_body.h) built for it. */
#include "f32_math_kernels.h"

#if defined(__x86_64__)
#define BODY_ATTR __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
#define BODY_SUFFIX _u16__avx512f
#include "f32_math_body.h"
#endif
