/* FP32 row and element-wise kernels, AVX2 + FMA: the body (f32_math_body.h) built for it. */
#include "f32_math_kernels.h"

#if defined(__x86_64__)
#define BODY_ATTR __attribute__((target("avx2,fma")))
#define BODY_SUFFIX _u16__avx2
#include "f32_math_body.h"
#endif
