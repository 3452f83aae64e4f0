#ifndef ONBOARD_CKERNELS_H
#define ONBOARD_CKERNELS_H

#include <stdint.h>
#include <stddef.h>

/* Instruction-set features, as a bitmask ordered from slowest to fastest path. */
enum onboard_isa_flags {
    ONBOARD_ISA_AVX2        = 1u << 0,  /* AVX2 + FMA */
    ONBOARD_ISA_AVX512F     = 1u << 1,  /* AVX-512 F/BW/DQ/VL */
    ONBOARD_ISA_AVXVNNI     = 1u << 2,  /* VEX-encoded VNNI */
    ONBOARD_ISA_AVX512VNNI  = 1u << 3,
    ONBOARD_ISA_NEON_DOT    = 1u << 8,  /* arm64 sdot/udot */
};

/* Features of the running CPU (and OS state saving), detected once. */
uint32_t onboard_cpu_isa_flags(void);

#include "f32_kernels.h"
#include "f32_gemm.h"
#include "q8_gemm.h"
#include "q8_rows.h"
#include "movement.h"
#include "worker_pool.h"
#endif
