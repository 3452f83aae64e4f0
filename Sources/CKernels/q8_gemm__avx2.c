/* INT8 GEMM, AVX2: the 6x16c2 microkernel for any B, the 6x16c4 one for 7-bit B, and the column
 * sums of packed B (q8_gemm_kernels.h). */
#include "q8_gemm_x86.h"

#if defined(__x86_64__)

/* 6 rows x 16 columns for any B without VNNI: the int16-pair tile on B's panel widened by the
 * driver (ONBOARD_Q8_GEMM_B_WIDENED) and A packed as int16 (ONBOARD_Q8_GEMM_A_PACKERS). Widening
 * both operands in the loop instead ran 2 rows at a time (16 registers) at 0.6-0.8x the rate. */
AVX2_ATTR int onboard_q8_gemm_6x16c2__avx2(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                           int32_t *acc, const q8_tile_out *out) {
    (void)p1;
    return q8_tile_6x16c2__avx2(k, row, p0, acc, out);
}

/* 6 rows x 16 columns for B codes in [-64, 64] by vpmaddubsw (q8_gemm_x86.h). */
AVX2_ATTR int onboard_q8_gemm_b7_6x16c4__avx2(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                              int32_t *acc, const q8_tile_out *out) {
    (void)p1;
    return q8_tile_6x16_maddubs__avx2(8, k, row, p0, acc, out);
}

/* A depth group of a panel is two registers of 8 columns x 4 depths: vpmaddubsw by ones adds byte
 * pairs into int16 (|sum| <= 256, exact) and vpmaddwd by ones the two pairs into each column's
 * 32-bit lane. Activation operands are packed per product, so this runs once per attention head. */
AVX2_ATTR bool onboard_q8_packed_column_sums_u16__avx2(const int8_t *packed, size_t k, size_t n, int32_t *sums) {
    const size_t kp = q8_padded_depth(k);
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    for (size_t p = 0; p < q8_panel_count(n); p++) {
        const int8_t *panel = packed + p * NR * kp;
        __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
        for (size_t g = 0; g < kp / 4; g++) {
            const __m256i b0 = _mm256_loadu_si256((const __m256i *)(panel + g * 4 * NR));
            const __m256i b1 = _mm256_loadu_si256((const __m256i *)(panel + g * 4 * NR + 32));
            s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, b0), ones16));
            s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, b1), ones16));
        }
        int32_t all[NR];
        _mm256_storeu_si256((__m256i *)all, s0);
        _mm256_storeu_si256((__m256i *)(all + 8), s1);
        memcpy(sums + p * NR, all, (n - p * NR < NR ? n - p * NR : NR) * sizeof(int32_t));
    }
    return true;
}
#endif
