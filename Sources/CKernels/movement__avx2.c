/* Transposes, x86 (movement_kernels.h): 16x16 byte blocks by unpacks, 4x4 blocks of 32-bit
 * elements by unpacks; 128-bit operations, VEX-encoded under the AVX2 attribute. */
#include "movement_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define ATTR __attribute__((target("avx2")))

/* Row i of the result interleaves rows i/2 and i/2 + 8 of the input, byte by byte (low halves
 * for even i, high halves for odd i); four rounds transpose the block. */
static inline ATTR void unpack_rows(const __m128i in[16], __m128i out[16]) {
    for (int i = 0; i < 8; i++) {
        out[2 * i] = _mm_unpacklo_epi8(in[i], in[i + 8]);
        out[2 * i + 1] = _mm_unpackhi_epi8(in[i], in[i + 8]);
    }
}

static inline ATTR void block_u8(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd) {
    __m128i a[16], b[16];
    for (int i = 0; i < 16; i++) a[i] = _mm_loadu_si128((const __m128i *)(const void *)(src + (size_t)i * lds));
    unpack_rows(a, b);
    unpack_rows(b, a);
    unpack_rows(a, b);
    unpack_rows(b, a);
    for (int i = 0; i < 16; i++) _mm_storeu_si128((__m128i *)(void *)(dst + (size_t)i * ldd), a[i]);
}

ATTR bool onboard_transpose_u8_16x16__avx2(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd, size_t rows, size_t cols) {
    onboard_transpose_in_blocks(1, 16, block_u8, src, lds, dst, ldd, rows, cols);
    return true;
}

/* Rows 0,1 and 2,3 interleaved by 32 bits, then by 64 bits: each result row is one column. */
static inline ATTR void block_u32(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd) {
    const uint32_t *s = (const uint32_t *)(const void *)src;
    uint32_t *d = (uint32_t *)(void *)dst;
    const __m128i r0 = _mm_loadu_si128((const __m128i *)(const void *)s);
    const __m128i r1 = _mm_loadu_si128((const __m128i *)(const void *)(s + lds));
    const __m128i r2 = _mm_loadu_si128((const __m128i *)(const void *)(s + 2 * lds));
    const __m128i r3 = _mm_loadu_si128((const __m128i *)(const void *)(s + 3 * lds));
    const __m128i t0 = _mm_unpacklo_epi32(r0, r1), t1 = _mm_unpackhi_epi32(r0, r1);
    const __m128i t2 = _mm_unpacklo_epi32(r2, r3), t3 = _mm_unpackhi_epi32(r2, r3);
    _mm_storeu_si128((__m128i *)(void *)d, _mm_unpacklo_epi64(t0, t2));
    _mm_storeu_si128((__m128i *)(void *)(d + ldd), _mm_unpackhi_epi64(t0, t2));
    _mm_storeu_si128((__m128i *)(void *)(d + 2 * ldd), _mm_unpacklo_epi64(t1, t3));
    _mm_storeu_si128((__m128i *)(void *)(d + 3 * ldd), _mm_unpackhi_epi64(t1, t3));
}

ATTR bool onboard_transpose_u32_4x4__avx2(const uint32_t *src, size_t lds, uint32_t *dst, size_t ldd, size_t rows, size_t cols) {
    onboard_transpose_in_blocks(4, 4, block_u32, (const uint8_t *)src, lds, (uint8_t *)dst, ldd, rows, cols);
    return true;
}
#endif
