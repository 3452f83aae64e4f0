/* INT8 codecs, AVX-512 VBMI: the table lookup, 64 codes per step (q8_codecs_kernels.h). */
#include "q8_codecs_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

/* Two 128-entry halves by vpermi2b, chosen by the code's top bit. */
__attribute__((target("avx512f,avx512bw,avx512vbmi")))
bool onboard_q8_lookup_u8_u64__avx512vbmi(const uint8_t *x, uint8_t *y, size_t n, const uint8_t *table) {
    const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
    const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512i codes = _mm512_loadu_si512(x + i);
        const __m512i low = _mm512_permutex2var_epi8(t0, codes, t1), high = _mm512_permutex2var_epi8(t2, codes, t3);
        const __mmask64 top = _mm512_movepi8_mask(codes);
        _mm512_storeu_si512(y + i, _mm512_mask_blend_epi8(top, low, high));
    }
    for (; i < n; i++) y[i] = table[x[i]];
    return true;
}
#endif
