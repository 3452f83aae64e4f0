/* FP32 row and element-wise kernels, arm64 Advanced SIMD: the body (f32_math_body.h) built for it.
 * Clang vectorizes it into fmla, frintm and fcvtzs on four 128-bit registers per step (7.4 to 9.8
 * guest instructions per element for the unary ops under qemu); only partial vectors and
 * horizontal reductions have arm64 forms in the body. Every arm64 CPU has Advanced SIMD: the
 * portable build (`__scalar`) compiles to the same code there. */
#include "f32_math_kernels.h"

#if defined(__aarch64__)
#define BODY_ATTR
#define BODY_SUFFIX _u16__neon
#include "f32_math_body.h"
#endif
