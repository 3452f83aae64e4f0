/* The selective scan, AVX2 + FMA: the body (f32_scan_body.h) on 16 channels, two ymm registers per
 * vector. Measured on Vim-T's shape (tools/bench_scan.sh's loop, inputs in cache): 1.6 times as
 * fast as one ymm per vector; four were about 10 % faster still, but would leave channel ranges
 * that are not multiples of 32 (threads' shares of ED) to the partial-vector path. */
#include "f32_scan_kernels.h"

#if defined(__x86_64__)
#define BODY_ATTR __attribute__((target("avx2,fma")))
#define BODY_SUFFIX _c16__avx2
#define LANES 16
#include "f32_scan_body.h"
#endif
