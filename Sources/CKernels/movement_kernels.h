/* Private to CKernels: the transpose kernel lists (movement.h), fastest first: one list per op, one
 * line per kernel: op, tile (the block it transposes in registers), ISA, the flags it needs. Every
 * kernel takes every shape (the edges past its last full block element by element). */
#ifndef ONBOARD_MOVEMENT_KERNELS_H
#define ONBOARD_MOVEMENT_KERNELS_H
#include "kernel_list.h"
#include "movement.h"

#include <string.h>

#define ONBOARD_TRANSPOSE_U8_KERNELS(X)                               \
    ONBOARD_X86(X(transpose_u8, _16x16, avx2, ONBOARD_ISA_AVX2))      \
    ONBOARD_ARM64(X(transpose_u8, _16x16, neon, ONBOARD_ISA_NEON))    \
    X(transpose_u8, , scalar, 0)
#define ONBOARD_TRANSPOSE_U32_KERNELS(X)                              \
    ONBOARD_X86(X(transpose_u32, _4x4, avx2, ONBOARD_ISA_AVX2))       \
    ONBOARD_ARM64(X(transpose_u32, _4x4, neon, ONBOARD_ISA_NEON))     \
    X(transpose_u32, , scalar, 0)

/* The whole family, for onboard_kernel_at. */
#define ONBOARD_MOVEMENT_KERNELS(X) ONBOARD_TRANSPOSE_U8_KERNELS(X) ONBOARD_TRANSPOSE_U32_KERNELS(X)

#define ONBOARD_TRANSPOSE_U8_DECLARE(op, tile, isa, flags) \
    bool onboard_##op##tile##__##isa(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd, size_t rows, size_t cols);
#define ONBOARD_TRANSPOSE_U32_DECLARE(op, tile, isa, flags) \
    bool onboard_##op##tile##__##isa(const uint32_t *src, size_t lds, uint32_t *dst, size_t ldd, size_t rows, size_t cols);
ONBOARD_TRANSPOSE_U8_KERNELS(ONBOARD_TRANSPOSE_U8_DECLARE)
ONBOARD_TRANSPOSE_U32_KERNELS(ONBOARD_TRANSPOSE_U32_DECLARE)
#undef ONBOARD_TRANSPOSE_U8_DECLARE
#undef ONBOARD_TRANSPOSE_U32_DECLARE

/* The transpose of rows x cols elements of `size` bytes (leading dimensions in elements): `block`
 * on every full edge x edge block, then the columns past the last block, then the rows past it.
 * Inlined into each kernel, so the block function inlines too (same target attribute). */
static inline void onboard_transpose_in_blocks(size_t size, size_t edge,
                                               void (*block)(const uint8_t *, size_t, uint8_t *, size_t),
                                               const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd,
                                               size_t rows, size_t cols) {
    const size_t full_rows = rows - rows % edge, full_cols = cols - cols % edge;
    for (size_t r = 0; r < full_rows; r += edge)
        for (size_t c = 0; c < full_cols; c += edge) block(src + (r * lds + c) * size, lds, dst + (c * ldd + r) * size, ldd);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = r < full_rows ? full_cols : 0; c < cols; c++)
            memcpy(dst + (c * ldd + r) * size, src + (r * lds + c) * size, size);
}
#endif
