/* The selective scan, AVX2 + FMA: the body (f32_scan_body.h) on 16 channels, two ymm registers per
 * vector (two independent chains per step measured faster than one register or four). */
#include "f32_scan_kernels.h"

#if defined(__x86_64__)
#define BODY_ATTR __attribute__((target("avx2,fma")))
#define BODY_SUFFIX _c16__avx2
#define LANES 16
#include "f32_scan_body.h"
#endif
