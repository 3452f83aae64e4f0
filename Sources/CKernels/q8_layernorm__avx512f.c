/* The integer layernorm, AVX-512: float with exact corrections (q8_layernorm_float_body.h), 16
 * codes per step in one vector and the row moments 64 codes per step; the same float steps as the
 * AVX2 kernel, so bit-identical to it and to the reference loop (tested against it). */
#include "q8_rows_kernels.h"
#include "q8_rounding.h"
#include "q8_tail_masks.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define LN512_ATTR __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

typedef struct {
    __m512 n, sum, c;
} layernorm_row;

static inline LN512_ATTR void layernorm_row_set(layernorm_row *r, size_t n, int64_t sum, float step) {
    r->n = _mm512_set1_ps((float)n);
    r->sum = _mm512_set1_ps((float)sum);
    r->c = _mm512_set1_ps(step);
}

/* Sixteen codes (their channels' constants from `slope`, `offset`, `margin`) into `out`; returns
 * the mask of those to recompute. */
static inline LN512_ATTR unsigned layernorm_16(const uint8_t *codes, uint8_t *out, const float *slope, const float *offset,
                                               const float *margin, const layernorm_row *r, int32_t qmin, int32_t qmax) {
    const __m512 x = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)codes)));
    const __m512 d = _mm512_fmsub_ps(x, r->n, r->sum);
    const __m512 z = _mm512_fmadd_ps(_mm512_mul_ps(d, r->c), _mm512_loadu_ps(slope), _mm512_loadu_ps(offset));
    const __m512 nearest = _mm512_roundscale_ps(z, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 distance = _mm512_abs_ps(_mm512_sub_ps(z, nearest));
    const __mmask16 unsure = _mm512_cmp_ps_mask(distance, _mm512_loadu_ps(margin), _CMP_NLT_UQ);
    const __m512i q = _mm512_cvtps_epi32(nearest); /* NaN: INT32_MIN, clamped to qmin as AVX2's saturating packs do */
    _mm_storeu_si128((__m128i *)out, _mm512_cvtepi32_epi8(_mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(qmin)),
                                                                          _mm512_set1_epi32(qmax))));
    return unsure;
}

/* Sum and n sum x^2 - sum^2 (= sum D^2 / n) of a row. */
static inline LN512_ATTR void layernorm_row_moments(const uint8_t *row, size_t n, int64_t *sum, int64_t *mean_square) {
    __m512i sums = _mm512_setzero_si512(), squares = _mm512_setzero_si512();
    for (size_t j = 0; j < n; j += 64) {
        const __m512i v = _mm512_maskz_loadu_epi8(tail_mask64(n - j), row + j);
        sums = _mm512_add_epi64(sums, _mm512_sad_epu8(v, _mm512_setzero_si512()));
        const __m512i w0 = _mm512_cvtepu8_epi16(_mm512_castsi512_si256(v)), w1 = _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(v, 1));
        /* each int32 lane gains at most 4 x 255^2 per step: below 2^31 for n <= 2^17 */
        squares = _mm512_add_epi32(squares, _mm512_add_epi32(_mm512_madd_epi16(w0, w0), _mm512_madd_epi16(w1, w1)));
    }
    const int64_t total = _mm512_reduce_add_epi64(sums), total_sq = (uint32_t)_mm512_reduce_add_epi32(squares);
    *sum = total;
    *mean_square = (int64_t)n * total_sq - total * total;
}

#define LAYERNORM_ATTR LN512_ATTR
#define LAYERNORM_KERNEL onboard_q8_layernorm_rows_u16__avx512f
#include "q8_layernorm_float_body.h"
#endif
