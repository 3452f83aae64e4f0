/* The selective scan, AVX-512: the body (f32_scan_body.h) on 32 channels, two zmm registers per
 * vector, as the AVX2 kernel has two ymm (one register per vector leaves too little independent
 * work per step there). Compiled, but not yet run on an AVX-512 CPU: the tests run it where the
 * CPU has it. */
#include "f32_scan_kernels.h"

#if defined(__x86_64__)
#define BODY_ATTR __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
#define BODY_SUFFIX _c32__avx512f
#define LANES 32
#define SCAN_SCALEF_ZMM
#include <immintrin.h>
#include "f32_scan_body.h"
#endif
