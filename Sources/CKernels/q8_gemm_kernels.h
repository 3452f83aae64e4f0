/* Private to CKernels: the INT8 GEMM kernel lists (q8_gemm.h), fastest first, and what the kernels
 * share with the driver (q8_gemm.c) and the packing (q8_pack.c). */
#ifndef ONBOARD_Q8_GEMM_KERNELS_H
#define ONBOARD_Q8_GEMM_KERNELS_H
#include "kernel_list.h"
#include "q8_gemm.h"

#include <string.h>

#define ONBOARD_Q8_AVX512VNNI (ONBOARD_ISA_AVX512F | ONBOARD_ISA_AVX512VNNI)
#define ONBOARD_Q8_I8MM (ONBOARD_ISA_NEON | ONBOARD_ISA_NEON_DOT | ONBOARD_ISA_NEON_I8MM)

/* The microkernels: op, tile (MRxNRc4: MR rows of A by NR columns of packed B, 4 depths per
 * 32-bit lane), ISA, the flags it needs, MR, NR. NR is one panel (16) or two (32). The driver
 * takes the first kernel the cap allows, and for a last odd panel behind a two-panel kernel the
 * first one-panel kernel the cap allows. Each computes rows[0..MR) x the NR columns over all of
 * k: it stores the tile itself and returns nonzero, or returns 0 with the int32 sums in acc (row
 * stride ONBOARD_Q8_ACC_LD) for the driver's shared epilogue. Rows past out->rows repeat a valid
 * row and are discarded. */
#define ONBOARD_Q8_GEMM_KERNELS(X)                                                       \
    ONBOARD_X86(X(q8_gemm, _12x32c4, avx512vnni, ONBOARD_Q8_AVX512VNNI, 12, 32))         \
    ONBOARD_X86(X(q8_gemm, _12x16c4, avx512vnni, ONBOARD_Q8_AVX512VNNI, 12, 16))         \
    ONBOARD_X86(X(q8_gemm, _6x16c4, avxvnni, ONBOARD_ISA_AVX2 | ONBOARD_ISA_AVXVNNI, 6, 16)) \
    ONBOARD_X86(X(q8_gemm, _6x16c2, avx2, ONBOARD_ISA_AVX2, 6, 16))                      \
    ONBOARD_ARM64(X(q8_gemm, _8x16c8, i8mm, ONBOARD_Q8_I8MM, 8, 16))                       \
    ONBOARD_ARM64(X(q8_gemm, _12x16c4, neondot, ONBOARD_ISA_NEON | ONBOARD_ISA_NEON_DOT, 12, 16)) \
    X(q8_gemm, _1x16c4, scalar, 0, 1, 16)

/* Kernels exact only for B codes in [-64, 64] (epilogue b_fits_7_bits), same arguments: the driver
 * prefers the first one the cap allows when the general list offers nothing beyond its flags. */
#define ONBOARD_Q8_GEMM_B7_KERNELS(X)                                                    \
    ONBOARD_X86(X(q8_gemm_b7, _6x16c4, avx2, ONBOARD_ISA_AVX2, 6, 16))                   \
    X(q8_gemm_b7, _1x16c4, scalar, 0, 1, 16)

/* Packing B ([N, K] rows: a transposed B) into panels, and the column sums of packed B:
 * op, tile, ISA, flags; each returns false for arguments it leaves to the next one. */
#define ONBOARD_Q8_PACK_TRANSPOSED_KERNELS(X)                                         \
    ONBOARD_X86(X(q8_pack_transposed, _u16, avx512vnni, ONBOARD_Q8_AVX512VNNI))       \
    X(q8_pack_transposed, , scalar, 0)
#define ONBOARD_Q8_PACKED_COLUMN_SUMS_KERNELS(X)                                      \
    ONBOARD_X86(X(q8_packed_column_sums, _u16, avx512vnni, ONBOARD_Q8_AVX512VNNI))    \
    ONBOARD_X86(X(q8_packed_column_sums, _u16, avx2, ONBOARD_ISA_AVX2))               \
    ONBOARD_ARM64(X(q8_packed_column_sums, _u16, neon, ONBOARD_ISA_NEON))             \
    X(q8_packed_column_sums, , scalar, 0)

/* The GEMM kernels above that read A packed by the driver, once per block of rows, rather than
 * through row pointers: kernel, packer, the depth a packed row is padded to, and whether the
 * packer flips A to int8 (a ^ 0x80; the driver then adds 128 x B's column sums to the column
 * bias). A packer writes `rows` rows of A in tiles of the kernel's MR rows (rows past the end
 * zero); the kernel gets its tile's start as row[0]. */
#define ONBOARD_Q8_GEMM_A_PACKERS(X)                                                           \
    ONBOARD_X86(X(onboard_q8_gemm_6x16c2__avx2, onboard_q8_product_pack_a_6x4_u16__avx2, 4, 0, 2)) \
    ONBOARD_ARM64(X(onboard_q8_gemm_8x16c8__i8mm, onboard_q8_pack_a_8x8__neon, 8, 0, 1))       \
    ONBOARD_ARM64(X(onboard_q8_gemm_12x16c4__neondot, onboard_q8_pack_a_12x4__neon, 4, 1, 1))

/* The GEMM kernels above that read each panel of B widened to int16 pairs (q8_product's layout,
 * ONBOARD_Q8_PRODUCT_WIDEN_KERNELS), which the driver makes from the int8 panel as it reaches it:
 * weights stay int8 in memory, and vpmaddwd multiplies full-range codes exactly with nothing
 * widened in the kernel's loop. */
#define ONBOARD_Q8_GEMM_B_WIDENED(X) ONBOARD_X86(X(onboard_q8_gemm_6x16c2__avx2))

/* Products of two activations (onboard_q8_product, q8_product.c) on a CPU without an int8 dot
 * product: B's codes packed as int16 pairs (c2: two depths per 32-bit lane, groups of 4 depths as
 * in q8's panels) and A widened by its packer, so vpmaddwd multiplies full-range codes exactly
 * with nothing widened in the loop. */
#define ONBOARD_Q8_PRODUCT_KERNELS(X)                                                    \
    ONBOARD_X86(X(q8_product, _6x16c2, avx2, ONBOARD_ISA_AVX2, 6, 16))                   \
    X(q8_product, _1x16c2, scalar, 0, 1, 16)
#define ONBOARD_Q8_PRODUCT_A_PACKERS(X) \
    ONBOARD_X86(X(onboard_q8_product_6x16c2__avx2, onboard_q8_product_pack_a_6x4_u16__avx2, 4, 0, 2))
/* Packing for it: q8's packed groups (16 columns x 4 depths) widened in place to two int16 blocks
 * of 16 columns x 2 depths each (q8_product.c); op, tile, ISA, flags. */
#define ONBOARD_Q8_PRODUCT_WIDEN_KERNELS(X)                                         \
    ONBOARD_X86(X(q8_product_widen, _u64, avx2, ONBOARD_ISA_AVX2))                  \
    X(q8_product_widen, , scalar, 0)

#define ONBOARD_Q8_MAX_MR 12
#define ONBOARD_Q8_ACC_LD 32 /* acc row stride: the widest tile */

#define NR ONBOARD_Q8_NR
static inline size_t q8_padded_depth(size_t k) { return (k + 3) & ~(size_t)3; }
static inline size_t q8_panel_count(size_t n) { return (n + NR - 1) / NR; }

/* Where a finished tile goes: rows x cols of C at (i0, j0 - origin); j0 is the product's column
 * (it indexes the epilogue's per-column tables), origin the product column C starts at. */
typedef struct {
    const onboard_q8_epilogue *e;
    void *c;
    size_t ldc, i0, j0, rows, cols, origin;
    int stream; /* int32 output far larger than the caches: non-temporal stores skip reading C in */
} q8_tile_out;

/* The epilogue every path shares (q8_gemm.c): rows x cols accumulators (row stride ldacc) stored
 * at C[i0.., j0 - origin..]. */
void q8_store_tile(const int32_t *acc, size_t ldacc, size_t rows, size_t cols, size_t i0, size_t j0,
                   const onboard_q8_epilogue *e, void *c, size_t ldc, size_t origin);

/* Four consecutive A bytes of one depth group as a little-endian word (zeros past k). */
static inline uint32_t q8_load_a4(const uint8_t *p, size_t available) {
    uint32_t w = 0;
    if (available >= 4) memcpy(&w, p, 4);
    else memcpy(&w, p, available);
    return w;
}

static inline uint32_t q8_load_u32(const uint8_t *p) {
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* A microkernel: p0 and p1 are its panels' packed bytes (int8 codes, or for q4_gemm.h the nibble
 * pairs of its layout), as the driver's family says. */
typedef int (*q8_gemm_kernel)(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1, int32_t *acc,
                              const q8_tile_out *out);

/* Also used by the lists of q4_gemm_kernels.h, whose kernels take the same arguments. */
#define ONBOARD_Q8_GEMM_DECLARE(op, tile, isa, flags, mr, nr)                                                    \
    int onboard_##op##tile##__##isa(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,    \
                                    int32_t *acc, const q8_tile_out *out);                                      \
    _Static_assert(mr <= ONBOARD_Q8_MAX_MR && (nr == NR || nr == 2 * NR), "tile of one or two panels");
ONBOARD_Q8_GEMM_KERNELS(ONBOARD_Q8_GEMM_DECLARE)
ONBOARD_Q8_GEMM_B7_KERNELS(ONBOARD_Q8_GEMM_DECLARE)
ONBOARD_Q8_PRODUCT_KERNELS(ONBOARD_Q8_GEMM_DECLARE)

#define ONBOARD_Q8_PACK_TRANSPOSED_DECLARE(op, tile, isa, flags)                                        \
    bool onboard_##op##tile##__##isa(const int8_t *b, size_t ldb, size_t k, size_t n, int8_t flip,     \
                                     int8_t *packed);
ONBOARD_Q8_PACK_TRANSPOSED_KERNELS(ONBOARD_Q8_PACK_TRANSPOSED_DECLARE)
#undef ONBOARD_Q8_PACK_TRANSPOSED_DECLARE

#define ONBOARD_Q8_PACKED_COLUMN_SUMS_DECLARE(op, tile, isa, flags) \
    bool onboard_##op##tile##__##isa(const int8_t *packed, size_t k, size_t n, int32_t *sums);
ONBOARD_Q8_PACKED_COLUMN_SUMS_KERNELS(ONBOARD_Q8_PACKED_COLUMN_SUMS_DECLARE)
#undef ONBOARD_Q8_PACKED_COLUMN_SUMS_DECLARE

#define ONBOARD_Q8_PRODUCT_WIDEN_DECLARE(op, tile, isa, flags) \
    bool onboard_##op##tile##__##isa(const int8_t *groups, size_t count, int16_t *dst);
ONBOARD_Q8_PRODUCT_WIDEN_KERNELS(ONBOARD_Q8_PRODUCT_WIDEN_DECLARE)
#undef ONBOARD_Q8_PRODUCT_WIDEN_DECLARE

/* q8's packed groups of 16 columns x 4 depths widened to int16 pairs through their list
 * (q8_product.c). */
void q8_widen_groups(const int8_t *groups, size_t count, int16_t *dst);

/* The column sums of packed B through their list (q8_pack.c). */
void q8_packed_column_sums(const int8_t *packed, size_t k, size_t n, int32_t *sums);

#define ONBOARD_Q8_PACK_A_DECLARE(kernel, packer, depth, flips, code_bytes) \
    void packer(const uint8_t *a, size_t lda, size_t rows, size_t k, uint8_t *dst);
ONBOARD_Q8_GEMM_A_PACKERS(ONBOARD_Q8_PACK_A_DECLARE)
ONBOARD_Q8_PRODUCT_A_PACKERS(ONBOARD_Q8_PACK_A_DECLARE)
#undef ONBOARD_Q8_PACK_A_DECLARE

/* ---- the driver (q8_gemm.c), shared by the GEMM families on q8's panels (q8_gemm.h, q4_gemm.h) ---- */

/* A kernel list's line, and a packed-A list's line (ONBOARD_Q8_GEMM_A_PACKERS). */
typedef struct {
    q8_gemm_kernel run;
    uint32_t flags;
    size_t mr, nr;
} q8_kernel_entry;
#define ONBOARD_Q8_KERNEL_ENTRY(op, tile, isa, flags, mr, nr) {onboard_##op##tile##__##isa, flags, mr, nr},

typedef struct {
    q8_gemm_kernel run;
    void (*pack)(const uint8_t *a, size_t lda, size_t rows, size_t k, uint8_t *dst);
    size_t depth;
    int flips;
    size_t code_bytes; /* of a packed code of A: 1, or 2 for int16 */
} q8_a_packer;
#define ONBOARD_Q8_A_PACKER(kernel, packer, depth, flips, code_bytes) {kernel, packer, depth, flips, code_bytes},

/* A family: its kernels, fastest first, the scalar one last; those exact only for 7-bit B (none:
 * count 0); the kernels that read A packed, ending with a NULL run; the bits of a code of B (a
 * panel is NR x padded depth codes); the column sums of its packed B, for a packer that flips A;
 * the kernels that read each panel widened by the driver. */
typedef struct {
    const q8_kernel_entry *kernels;
    size_t count;
    const q8_kernel_entry *b7_kernels;
    size_t b7_count;
    const q8_a_packer *a_packers;
    size_t code_bits;
    void (*column_sums)(const int8_t *packed, size_t k, size_t n, int32_t *sums);
    const q8_gemm_kernel *b_widened; /* kernels reading B's panels widened (ONBOARD_Q8_GEMM_B_WIDENED), ending with NULL */
} q8_gemm_family;

/* onboard_q8_gemm's work for any family: C's column 0 is the product's column `origin`. */
void q8_gemm_run(const q8_gemm_family *f, size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                 const int8_t *packed, const onboard_q8_epilogue *e, void *c, size_t ldc, size_t panel_begin,
                 size_t panel_end, size_t origin);

#endif
