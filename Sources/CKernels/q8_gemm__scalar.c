/* INT8 GEMM, portable: the reference on unpacked B, the 1x16c4 microkernel and the packing
 * kernels (q8_gemm_kernels.h). */
#include "q8_gemm_kernels.h"

void onboard_q8_gemm__scalar(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                             const int8_t *b, size_t ldb, const onboard_q8_epilogue *e, void *c, size_t ldc) {
    int32_t acc[NR];
    for (size_t i = 0; i < m; i++)
        for (size_t j0 = 0; j0 < n; j0 += NR) {
            const size_t cols = n - j0 < NR ? n - j0 : NR;
            for (size_t j = 0; j < cols; j++) {
                int32_t s = 0;
                for (size_t t = 0; t < k; t++) s += (int32_t)a[i * lda + t] * (int32_t)b[t * ldb + j0 + j];
                acc[j] = s;
            }
            q8_store_tile(acc, NR, 1, cols, i, j0, e, c, ldc, 0);
        }
}

int onboard_q8_gemm_1x16c4__scalar(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                   int32_t *acc, const q8_tile_out *out) {
    (void)p1;
    (void)out;
    for (size_t j = 0; j < NR; j++) {
        int32_t s = 0;
        for (size_t t = 0; t < k; t++) s += (int32_t)row[0][t] * p0[((t / 4) * NR + j) * 4 + t % 4];
        acc[j] = s;
    }
    return 0;
}

/* The narrow-range list's end: 7-bit B needs nothing special without vectors. */
int onboard_q8_gemm_b7_1x16c4__scalar(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                      int32_t *acc, const q8_tile_out *out) {
    return onboard_q8_gemm_1x16c4__scalar(k, row, p0, p1, acc, out);
}

/* B given transposed ([n][k], column col of B is row col of the source): each column's depths
 * are adjacent bytes, so its groups of 4 go to the panel as whole words, column by column. Depths
 * past k and columns past n are zero. */
bool onboard_q8_pack_transposed__scalar(const int8_t *b, size_t ldb, size_t k, size_t n, int8_t flip, int8_t *packed) {
    const size_t kp = q8_padded_depth(k), full_groups = k / 4;
    const uint32_t flip4 = (uint8_t)flip * 0x01010101u;
    memset(packed, 0, q8_panel_count(n) * NR * kp);
    for (size_t col = 0; col < n; col++) {
        int8_t *dst = packed + (col / NR) * NR * kp + (col % NR) * 4;
        const int8_t *src = b + col * ldb;
        for (size_t g = 0; g < full_groups; g++) {
            uint32_t w;
            memcpy(&w, src + 4 * g, 4);
            w ^= flip4;
            memcpy(dst + g * NR * 4, &w, 4);
        }
        for (size_t kk = 4 * full_groups; kk < k; kk++) dst[full_groups * NR * 4 + kk % 4] = (int8_t)(src[kk] ^ flip);
    }
    return true;
}

/* Column sums of packed B (its padding is zero): the sum of each column's int8 values. */
bool onboard_q8_packed_column_sums__scalar(const int8_t *packed, size_t k, size_t n, int32_t *sums) {
    const size_t kp = q8_padded_depth(k);
    for (size_t col = 0; col < n; col++) {
        const int8_t *column = packed + (col / NR) * NR * kp + (col % NR) * 4;
        int32_t sum = 0;
        for (size_t g = 0; g < kp / 4; g++)
            for (size_t t = 0; t < 4; t++) sum += column[g * NR * 4 + t];
        sums[col] = sum;
    }
    return true;
}
