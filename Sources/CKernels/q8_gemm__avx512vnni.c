/* INT8 GEMM, AVX-512 VNNI: the 12x32c4 and 12x16c4 microkernels (their tile, with the shared
 * epilogue fused for int32 and u8 outputs, in q8_gemm_x86.h) and the packing kernels (q8_gemm_kernels.h). */
#include "q8_gemm_x86.h"
#include "q8_tail_masks.h"

#if defined(__x86_64__)

/* The columns of panel p that lie within n. */
static inline __mmask16 live_columns(size_t n, size_t p) { return tail_mask16(n - p * NR); }

/* pack_transposed with one dword gather per 4-depth group of a 16-column panel (columns past n
 * masked to zero); a last group of fewer than 4 depths byte by byte, as gathering it could read
 * past the source. */
VNNI512_ATTR bool onboard_q8_pack_transposed_u16__avx512vnni(const int8_t *b, size_t ldb, size_t k, size_t n, int8_t flip,
                                                           int8_t *packed) {
    if (ldb > INT32_MAX / NR) return false; /* int32 gather offsets */
    const size_t kp = q8_padded_depth(k), full_groups = k / 4;
    const __m512i flip4 = _mm512_set1_epi8(flip);
    const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32((int32_t)ldb));
    for (size_t p = 0; p < q8_panel_count(n); p++) {
        int8_t *panel = packed + p * NR * kp;
        const size_t cols = n - p * NR < NR ? n - p * NR : NR;
        const __mmask16 live = live_columns(n, p);
        const int8_t *source = b + p * NR * ldb;
        for (size_t g = 0; g < full_groups; g++) {
            const __m512i words = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, rows, source + 4 * g, 1);
            _mm512_storeu_si512(panel + g * NR * 4, _mm512_maskz_xor_epi32(live, words, flip4));
        }
        if (full_groups < kp / 4) {
            int8_t *dst = panel + full_groups * NR * 4;
            memset(dst, 0, NR * 4);
            for (size_t j = 0; j < cols; j++)
                for (size_t kk = 4 * full_groups; kk < k; kk++) dst[j * 4 + kk % 4] = (int8_t)(source[j * ldb + kk] ^ flip);
        }
    }
    return true;
}

/* packed_column_sums by vpdpbusd of all-ones bytes against each group of a panel. */
VNNI512_ATTR bool onboard_q8_packed_column_sums_u16__avx512vnni(const int8_t *packed, size_t k, size_t n, int32_t *sums) {
    const size_t kp = q8_padded_depth(k);
    const __m512i ones = _mm512_set1_epi8(1);
    for (size_t p = 0; p < q8_panel_count(n); p++) {
        const int8_t *panel = packed + p * NR * kp;
        __m512i even = _mm512_setzero_si512(), odd = _mm512_setzero_si512();
        size_t g = 0;
        for (; g + 2 <= kp / 4; g += 2) {
            even = _mm512_dpbusd_epi32(even, ones, _mm512_loadu_si512(panel + g * NR * 4));
            odd = _mm512_dpbusd_epi32(odd, ones, _mm512_loadu_si512(panel + (g + 1) * NR * 4));
        }
        if (g < kp / 4) even = _mm512_dpbusd_epi32(even, ones, _mm512_loadu_si512(panel + g * NR * 4));
        _mm512_mask_storeu_epi32(sums + p * NR, live_columns(n, p), _mm512_add_epi32(even, odd));
    }
    return true;
}

VNNI512_ATTR int onboard_q8_gemm_12x16c4__avx512vnni(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                                     int32_t *acc, const q8_tile_out *out) {
    return q8_tile_12xnp__avx512vnni(8, 1, k, row, p0, p1, acc, out);
}
VNNI512_ATTR int onboard_q8_gemm_12x32c4__avx512vnni(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                                     int32_t *acc, const q8_tile_out *out) {
    return q8_tile_12xnp__avx512vnni(8, 2, k, row, p0, p1, acc, out);
}
#endif
