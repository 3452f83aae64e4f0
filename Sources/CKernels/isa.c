/* The one ISA cap every kernel family obeys, the paths ONBOARD_ISA names (isa.h), and every
 * family's kernel list for tests and tools. */
#include "f32_gemm_kernels.h"
#include "f32_math_kernels.h"
#include "f32_scan_kernels.h"
#include "movement_kernels.h"
#include "q8_codecs_kernels.h"
#include "q4_gemm_kernels.h"
#include "q8_gemm_kernels.h"
#include "q8_rows_kernels.h"

static volatile uint32_t cap = ONBOARD_ISA_NO_CAP;

uint32_t onboard_isa_set_cap(uint32_t new_cap) {
    const uint32_t previous = cap;
    cap = new_cap;
    return previous;
}

uint32_t onboard_isa_usable(void) { return onboard_cpu_isa_flags() & cap; }

static const onboard_isa_level levels[] = {
#define LEVEL(name, needs, cap) {#name, needs, cap},
    ONBOARD_ISA_LEVELS(LEVEL)
#undef LEVEL
};

size_t onboard_isa_level_count(void) { return sizeof levels / sizeof levels[0]; }

onboard_isa_level onboard_isa_level_at(size_t index) { return levels[index]; }

#define OP_KERNEL(family, op, tile, isa, flags) {family, #op, "onboard_" #op #tile "__" #isa, #isa, flags, 0, 0},
#define F32_MATH_KERNEL(op, tile, isa, flags) OP_KERNEL("f32_math", op, tile, isa, flags)
#define F32_MATH_BODY(tile, isa, flags) ONBOARD_F32_MATH_OPS(F32_MATH_KERNEL, tile, isa, flags)
#define F32_SCAN_KERNEL(op, tile, isa, flags) OP_KERNEL("f32_scan", op, tile, isa, flags)
#define Q8_ROWS_KERNEL(op, tile, isa, flags) OP_KERNEL("q8_rows", op, tile, isa, flags)
#define Q8_CODECS_KERNEL(op, tile, isa, flags) OP_KERNEL("q8_codecs", op, tile, isa, flags)
#define Q8_GEMM_PACKING_KERNEL(op, tile, isa, flags) OP_KERNEL("q8_gemm", op, tile, isa, flags)
#define MOVEMENT_KERNEL(op, tile, isa, flags) OP_KERNEL("movement", op, tile, isa, flags)
#define GEMM_KERNEL(family, op, tile, isa, flags, mr, nr) {family, #op, "onboard_" #op #tile "__" #isa, #isa, flags, mr, nr},
#define F32_GEMM_KERNEL(op, tile, isa, flags, mr, nr) GEMM_KERNEL("f32_gemm", op, tile, isa, flags, mr, nr)
#define Q8_GEMM_KERNEL(op, tile, isa, flags, mr, nr) GEMM_KERNEL("q8_gemm", op, tile, isa, flags, mr, nr)
#define Q4_GEMM_KERNEL(op, tile, isa, flags, mr, nr) GEMM_KERNEL("q4_gemm", op, tile, isa, flags, mr, nr)
#define Q4_GEMM_PACKING_KERNEL(op, tile, isa, flags) OP_KERNEL("q4_gemm", op, tile, isa, flags)

static const onboard_kernel kernels[] = {
    ONBOARD_F32_GEMM_KERNELS(F32_GEMM_KERNEL)
    ONBOARD_F32_MATH_KERNELS(F32_MATH_BODY)
    ONBOARD_F32_SCAN_KERNELS(F32_SCAN_KERNEL)
    ONBOARD_Q8_GEMM_KERNELS(Q8_GEMM_KERNEL)
    ONBOARD_Q8_GEMM_B7_KERNELS(Q8_GEMM_KERNEL)
    ONBOARD_Q8_PACK_TRANSPOSED_KERNELS(Q8_GEMM_PACKING_KERNEL)
    ONBOARD_Q8_PACKED_COLUMN_SUMS_KERNELS(Q8_GEMM_PACKING_KERNEL)
    ONBOARD_Q8_PRODUCT_KERNELS(Q8_GEMM_KERNEL)
    ONBOARD_Q8_PRODUCT_WIDEN_KERNELS(Q8_GEMM_PACKING_KERNEL)
    ONBOARD_Q4_GEMM_KERNELS(Q4_GEMM_KERNEL)
    ONBOARD_Q4_PACKED_COLUMN_SUMS_KERNELS(Q4_GEMM_PACKING_KERNEL)
    ONBOARD_Q8_ROWS_KERNELS(Q8_ROWS_KERNEL)
    ONBOARD_Q8_CODECS_KERNELS(Q8_CODECS_KERNEL)
    ONBOARD_MOVEMENT_KERNELS(MOVEMENT_KERNEL)
};

size_t onboard_kernel_count(void) { return sizeof kernels / sizeof kernels[0]; }

onboard_kernel onboard_kernel_at(size_t index) { return kernels[index]; }
