/* Private to CKernels: the 4-bit-weight GEMM kernel lists (q4_gemm.h), fastest first. The kernels
 * are q8_gemm_kernels.h's (same arguments, tiles and epilogue, the same driver in q8_gemm.c) with
 * p0 and p1 pointing at nibble panels, which they unpack to int8 in registers. */
#ifndef ONBOARD_Q4_GEMM_KERNELS_H
#define ONBOARD_Q4_GEMM_KERNELS_H
#include "q8_gemm_kernels.h"
#include "q4_gemm.h"

/* op, tile (MRxNRc4 as q8's), ISA, flags, MR, NR. |B| <= 8 keeps vpmaddubsw's int16 pair sums
 * within 2 * 255 * 8, so the AVX2 kernel is exact on every B. */
#define ONBOARD_Q4_GEMM_KERNELS(X)                                                       \
    ONBOARD_X86(X(q4_gemm, _12x32c4, avx512vnni, ONBOARD_Q8_AVX512VNNI, 12, 32))         \
    ONBOARD_X86(X(q4_gemm, _12x16c4, avx512vnni, ONBOARD_Q8_AVX512VNNI, 12, 16))         \
    ONBOARD_X86(X(q4_gemm, _6x16c4, avxvnni, ONBOARD_ISA_AVX2 | ONBOARD_ISA_AVXVNNI, 6, 16)) \
    ONBOARD_X86(X(q4_gemm, _6x16c4, avx2, ONBOARD_ISA_AVX2, 6, 16))                      \
    ONBOARD_ARM64(X(q4_gemm, _8x16c8, i8mm, ONBOARD_Q8_I8MM, 8, 16))                       \
    ONBOARD_ARM64(X(q4_gemm, _12x16c4, neondot, ONBOARD_ISA_NEON | ONBOARD_ISA_NEON_DOT, 12, 16)) \
    X(q4_gemm, _1x16c4, scalar, 0, 1, 16)

/* The kernels above that read A packed by the driver: q8's packers (ONBOARD_Q8_GEMM_A_PACKERS). */
#define ONBOARD_Q4_GEMM_A_PACKERS(X)                                                           \
    ONBOARD_ARM64(X(onboard_q4_gemm_8x16c8__i8mm, onboard_q8_pack_a_8x8__neon, 8, 0, 1))          \
    ONBOARD_ARM64(X(onboard_q4_gemm_12x16c4__neondot, onboard_q8_pack_a_12x4__neon, 4, 1, 1))

/* The column sums of a packed B (for the packer that flips A): op, tile, ISA, flags. */
#define ONBOARD_Q4_PACKED_COLUMN_SUMS_KERNELS(X)                                      \
    ONBOARD_ARM64(X(q4_packed_column_sums, _u16, neon, ONBOARD_ISA_NEON))             \
    X(q4_packed_column_sums, , scalar, 0)

ONBOARD_Q4_GEMM_KERNELS(ONBOARD_Q8_GEMM_DECLARE)

#define ONBOARD_Q4_PACKED_COLUMN_SUMS_DECLARE(op, tile, isa, flags) \
    bool onboard_##op##tile##__##isa(const int8_t *packed, size_t k, size_t n, int32_t *sums);
ONBOARD_Q4_PACKED_COLUMN_SUMS_KERNELS(ONBOARD_Q4_PACKED_COLUMN_SUMS_DECLARE)
#undef ONBOARD_Q4_PACKED_COLUMN_SUMS_DECLARE

/* Code t of column j of a nibble panel (the layout of q4_gemm.h), sign extended. */
static inline int8_t q4_code(const int8_t *panel, size_t t, size_t j) {
    const size_t i = j * 4 + t % 4;
    const uint8_t byte = (uint8_t)panel[(t / 4) * NR * 2 + i % 32];
    return (int8_t)((int8_t)(i < 32 ? (uint8_t)(byte << 4) : byte) >> 4);
}
#endif
