/* INT8 GEMM, AVX2: the 2x16c4 microkernel for any B, the 6x16c4 one for 7-bit B, and the column
 * sums of packed B (q8_gemm_kernels.h). */
#include "q8_gemm_x86.h"

#if defined(__x86_64__)

/* 2 rows x 16 columns without VNNI: bytes widen to int16 and vpmaddwd adds exact pairs of
 * products into int32 (vpmaddubsw would saturate int16 on full-range operands). Each of the
 * four accumulators per row holds, for 4 columns, two partial sums that are added at the end. */
AVX2_ATTR int onboard_q8_gemm_2x16c4__avx2(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                           int32_t *acc, const q8_tile_out *out) {
    (void)p1;
    __m256i c[2][4];
    for (int r = 0; r < 2; r++) for (int q = 0; q < 4; q++) c[r][q] = _mm256_setzero_si256();
    const size_t full = k / 4;
#define AVX2_STEP(g, A_WORD)                                                                 \
    do {                                                                                     \
        __m256i b[4];                                                                        \
        for (int q = 0; q < 4; q++)                                                          \
            b[q] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(p0 + (g) * NR * 4 + 16 * q))); \
        _Pragma("clang loop unroll(full)")                                                   \
        for (int r = 0; r < 2; r++) {                                                        \
            const __m256i av = _mm256_cvtepu8_epi16(_mm_set1_epi32((int)(A_WORD)));          \
            for (int q = 0; q < 4; q++) c[r][q] = _mm256_add_epi32(c[r][q], _mm256_madd_epi16(av, b[q])); \
        }                                                                                    \
    } while (0)
    for (size_t g = 0; g < full; g++) AVX2_STEP(g, q8_load_u32(row[r] + 4 * g));
    if (k % 4) AVX2_STEP(full, q8_load_a4(row[r] + 4 * full, k % 4));
#undef AVX2_STEP
    /* Column j's two partial sums sit in adjacent lanes: vphaddd adds them (within 128-bit halves,
     * so columns come out as 0 1 4 5 | 2 3 6 7) and a 64-bit permute puts them in order. */
    __m256i sum[2][2];
    for (int r = 0; r < 2; r++)
        for (int h = 0; h < 2; h++)
            sum[r][h] = _mm256_permute4x64_epi64(_mm256_hadd_epi32(c[r][2 * h], c[r][2 * h + 1]), 0xD8);
    return q8_finish_x16__avx2(sum, 2, acc, out);
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
