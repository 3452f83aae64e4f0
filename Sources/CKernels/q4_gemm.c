/* GEMM on 4-bit B (q4_gemm.h): its kernel list run by the INT8 GEMM's driver (q8_gemm.c, which
 * also holds the shared epilogue), and the packing through q8's packers. */
#include "q4_gemm_kernels.h"

static const q8_kernel_entry kernels[] = {ONBOARD_Q4_GEMM_KERNELS(ONBOARD_Q8_KERNEL_ENTRY)};
static const q8_a_packer a_packers[] = {ONBOARD_Q4_GEMM_A_PACKERS(ONBOARD_Q8_A_PACKER) {NULL, NULL, 1, 0, 1}};

static void packed_column_sums(const int8_t *packed, size_t k, size_t n, int32_t *sums) {
#define ARGS packed, k, n, sums
    ONBOARD_Q4_PACKED_COLUMN_SUMS_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

static const q8_gemm_family q4_family = {
    kernels, sizeof kernels / sizeof kernels[0], NULL, 0, a_packers, 4, packed_column_sums,
};

size_t onboard_q4_packed_size(size_t k, size_t n) { return q8_panel_count(n) * NR * q8_padded_depth(k) / 2; }

bool onboard_q4_fits(const int8_t *b, size_t ldb, size_t rows, size_t cols) {
    int fits = 1;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) fits &= b[i * ldb + j] >= -8 && b[i * ldb + j] <= 7;
    return fits;
}

/* Depths packed per step: a q8 panel of this many depths is a run of whole groups of the panel. */
#define CHUNK 256

/* Each panel a chunk of depths at a time: q8's packing (either orientation, its ISA kernels) into a
 * panel of int8 codes, whose groups of 64 then fold into 32 bytes of nibble pairs; the column sums
 * from the packed B through their list. */
void onboard_q4_pack_b(const int8_t *b, size_t ldb, bool transposed, size_t k, size_t n,
                       uint8_t *packed, int32_t *col_sums) {
    int8_t codes[NR * CHUNK];
    uint8_t *dst = packed;
    for (size_t p = 0; p < q8_panel_count(n); p++) {
        const size_t j0 = p * NR, cols = n - j0 < NR ? n - j0 : NR;
        for (size_t d = 0; d < k; d += CHUNK) {
            const size_t depths = k - d < CHUNK ? k - d : CHUNK;
            const int8_t *source = transposed ? b + j0 * ldb + d : b + d * ldb + j0;
            onboard_q8_pack_b(source, ldb, transposed, depths, cols, codes, NULL);
            const size_t bytes = NR * q8_padded_depth(depths);
            for (size_t g = 0; g < bytes; g += 64, dst += 32)
                for (size_t i = 0; i < 32; i++) dst[i] = (uint8_t)(((uint8_t)codes[g + i] & 15) | (uint8_t)codes[g + i + 32] << 4);
        }
    }
    if (col_sums) packed_column_sums((const int8_t *)packed, k, n, col_sums);
}

void onboard_q4_gemm(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const uint8_t *packed,
                     const onboard_q8_epilogue *e, void *c, size_t ldc, size_t panel_begin, size_t panel_end) {
    q8_gemm_run(&q4_family, m, n, k, a, lda, (const int8_t *)packed, e, c, ldc, panel_begin, panel_end, 0);
}

void onboard_q4_gemm_panels_into(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const uint8_t *packed,
                                 const onboard_q8_epilogue *e, void *c, size_t ldc, size_t panel_begin, size_t panel_end) {
    q8_gemm_run(&q4_family, m, n, k, a, lda, (const int8_t *)packed, e, c, ldc, panel_begin, panel_end, panel_begin * NR);
}
