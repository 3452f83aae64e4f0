/* The selective scan, arm64 Advanced SIMD: the body (f32_scan_body.h) on 16 channels, four q
 * registers per vector (fewer guest instructions per element under qemu than 4 or 8 channels).
 * Every arm64 CPU has Advanced SIMD. */
#include "f32_scan_kernels.h"

#if defined(__aarch64__)
#define BODY_ATTR
#define BODY_SUFFIX _c16__neon
#define LANES 16
#include "f32_scan_body.h"
#endif
