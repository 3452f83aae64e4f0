/* Packing B for the INT8 GEMM (q8_gemm.h): one layout for every kernel, panels of 16 columns by
 * groups of 4 depths. Row-major B here; transposed B and the column sums through their lists
 * (q8_gemm_kernels.h). */
#include "q8_gemm_kernels.h"

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

size_t onboard_q8_packed_size(size_t k, size_t n) { return q8_panel_count(n) * NR * q8_padded_depth(k); }

/* One 4-depth x 16-column block of a row-major B into its packed [16][4] form (SSE2 is the
 * x86-64 baseline). */
static void pack_block_rows(const int8_t *b, size_t ldb, int8_t flip, int8_t *dst) {
#if defined(__x86_64__)
    const __m128i x = _mm_set1_epi8(flip);
    const __m128i r0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)b), x);
    const __m128i r1 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(b + ldb)), x);
    const __m128i r2 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(b + 2 * ldb)), x);
    const __m128i r3 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(b + 3 * ldb)), x);
    const __m128i a01 = _mm_unpacklo_epi8(r0, r1), b01 = _mm_unpackhi_epi8(r0, r1);
    const __m128i a23 = _mm_unpacklo_epi8(r2, r3), b23 = _mm_unpackhi_epi8(r2, r3);
    _mm_storeu_si128((__m128i *)dst, _mm_unpacklo_epi16(a01, a23));
    _mm_storeu_si128((__m128i *)(dst + 16), _mm_unpackhi_epi16(a01, a23));
    _mm_storeu_si128((__m128i *)(dst + 32), _mm_unpacklo_epi16(b01, b23));
    _mm_storeu_si128((__m128i *)(dst + 48), _mm_unpackhi_epi16(b01, b23));
#else
    for (size_t j = 0; j < NR; j++)
        for (size_t t = 0; t < 4; t++) dst[j * 4 + t] = (int8_t)(b[t * ldb + j] ^ flip);
#endif
}

/* Row-major B ([k][n]): 4-depth x 16-column blocks by pack_block_rows, edges byte by byte. */
static void pack_rows(const int8_t *b, size_t ldb, size_t k, size_t n, int8_t flip, int8_t *packed) {
    const size_t kp = q8_padded_depth(k), full_groups = k / 4;
    for (size_t p = 0; p < q8_panel_count(n); p++) {
        int8_t *panel = packed + p * NR * kp;
        const size_t cols = n - p * NR < NR ? n - p * NR : NR;
        for (size_t g = 0; g < kp / 4; g++) {
            int8_t *dst = panel + g * NR * 4;
            if (cols == NR && g < full_groups) {
                pack_block_rows(b + 4 * g * ldb + p * NR, ldb, flip, dst);
                continue;
            }
            for (size_t j = 0; j < NR; j++) {
                int8_t v[4] = {0, 0, 0, 0};
                const size_t col = p * NR + j;
                if (j < cols)
                    for (size_t t = 0; t < 4 && 4 * g + t < k; t++) v[t] = (int8_t)(b[(4 * g + t) * ldb + col] ^ flip);
                memcpy(dst + j * 4, v, 4);
            }
        }
    }
}

static void pack_transposed(const int8_t *b, size_t ldb, size_t k, size_t n, int8_t flip, int8_t *packed) {
#define ARGS b, ldb, k, n, flip, packed
    ONBOARD_Q8_PACK_TRANSPOSED_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void q8_packed_column_sums(const int8_t *packed, size_t k, size_t n, int32_t *sums) {
#define ARGS packed, k, n, sums
    ONBOARD_Q8_PACKED_COLUMN_SUMS_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

static void pack_b(const int8_t *b, size_t ldb, bool transposed, size_t k, size_t n, int8_t flip,
                   int8_t *packed, int32_t *col_sums) {
    if (transposed) pack_transposed(b, ldb, k, n, flip, packed);
    else pack_rows(b, ldb, k, n, flip, packed);
    if (col_sums) q8_packed_column_sums(packed, k, n, col_sums);
}

void onboard_q8_pack_b(const int8_t *b, size_t ldb, bool transposed, size_t k, size_t n,
                       int8_t *packed, int32_t *col_sums) {
    pack_b(b, ldb, transposed, k, n, 0, packed, col_sums);
}

void onboard_q8_pack_b_u8(const uint8_t *b, size_t ldb, bool transposed, size_t k, size_t n,
                          int8_t *packed, int32_t *col_sums) {
    pack_b((const int8_t *)b, ldb, transposed, k, n, (int8_t)0x80, packed, col_sums);
}
