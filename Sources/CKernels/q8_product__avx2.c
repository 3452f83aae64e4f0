/* Products of two activations, AVX2 without VNNI (q8_gemm_kernels.h, ONBOARD_Q8_PRODUCT_*): the
 * 6x16c2 microkernel on int16 pairs, its packing of A, and the widening of q8's packed groups. */
#include "q8_gemm_x86.h"

#if defined(__x86_64__)

/* 6 rows x 16 columns on int16 pairs (q8_gemm_x86.h). */
AVX2_ATTR int onboard_q8_product_6x16c2__avx2(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                              int32_t *acc, const q8_tile_out *out) {
    (void)p1;
    return q8_tile_6x16c2__avx2(k, row, p0, acc, out);
}

/* `rows` rows of A as int16, each padded with zeros to the padded depth, then zero rows up to a
 * whole tile of 6. */
AVX2_ATTR void onboard_q8_product_pack_a_6x4_u16__avx2(const uint8_t *a, size_t lda, size_t rows, size_t k, uint8_t *dst) {
    const size_t kp = q8_padded_depth(k), tiles = (rows + 5) / 6;
    int16_t *out = (int16_t *)(void *)dst;
    for (size_t r = 0; r < 6 * tiles; r++, out += kp) {
        size_t t = 0;
        if (r < rows) {
            const uint8_t *src = a + r * lda;
            for (; t + 16 <= k; t += 16)
                _mm256_storeu_si256((__m256i *)(out + t), _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(src + t))));
            for (; t < k; t++) out[t] = src[t];
        }
        for (; t < kp; t++) out[t] = 0;
    }
}

/* A group's 16 columns x 4 depths (4 bytes per column) widened 4 columns per register, then the
 * even 32-bit lanes (depths 0-1) and the odd ones (2-3) gathered by vshufps; it comes out as
 * columns 0 1 4 5 | 2 3 6 7, which a 64-bit permute puts in order. */
AVX2_ATTR bool onboard_q8_product_widen_u64__avx2(const int8_t *groups, size_t count, int16_t *dst) {
    for (size_t g = 0; g < count; g++) {
        __m256 x[4];
        for (int q = 0; q < 4; q++)
            x[q] = _mm256_castsi256_ps(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(groups + g * NR * 4 + 16 * q))));
        int16_t *out = dst + g * NR * 4;
        for (int h = 0; h < 2; h++) {
            const __m256 even = _mm256_shuffle_ps(x[2 * h], x[2 * h + 1], _MM_SHUFFLE(2, 0, 2, 0));
            const __m256 odd = _mm256_shuffle_ps(x[2 * h], x[2 * h + 1], _MM_SHUFFLE(3, 1, 3, 1));
            _mm256_storeu_si256((__m256i *)(out + 16 * h), _mm256_permute4x64_epi64(_mm256_castps_si256(even), 0xD8));
            _mm256_storeu_si256((__m256i *)(out + 2 * NR + 16 * h), _mm256_permute4x64_epi64(_mm256_castps_si256(odd), 0xD8));
        }
    }
    return true;
}
#endif
