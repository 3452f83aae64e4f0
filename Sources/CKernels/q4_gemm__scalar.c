/* 4-bit-weight GEMM, portable: the reference, the 1x16c4 microkernel and the column sums of a
 * packed B (q4_gemm_kernels.h). */
#include "q4_gemm_kernels.h"

/* The product on int8 codes is the INT8 GEMM's: the same reference loops. */
void onboard_q4_gemm__scalar(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                             const int8_t *b, size_t ldb, const onboard_q8_epilogue *e, void *c, size_t ldc) {
    onboard_q8_gemm__scalar(m, n, k, a, lda, b, ldb, e, c, ldc);
}

int onboard_q4_gemm_1x16c4__scalar(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                   int32_t *acc, const q8_tile_out *out) {
    (void)p1;
    (void)out;
    for (size_t j = 0; j < NR; j++) {
        int32_t s = 0;
        for (size_t t = 0; t < k; t++) s += (int32_t)row[0][t] * q4_code(p0, t, j);
        acc[j] = s;
    }
    return 0;
}

bool onboard_q4_packed_column_sums__scalar(const int8_t *packed, size_t k, size_t n, int32_t *sums) {
    const size_t kp = q8_padded_depth(k);
    for (size_t col = 0; col < n; col++) {
        const int8_t *panel = packed + (col / NR) * NR * kp / 2;
        int32_t sum = 0;
        for (size_t t = 0; t < kp; t++) sum += q4_code(panel, t, col % NR);
        sums[col] = sum;
    }
    return true;
}
