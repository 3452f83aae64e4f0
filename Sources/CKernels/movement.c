/* Byte transposes and strided run copies (see movement.h). */
#include "CKernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

void onboard_transpose_u8__scalar(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) dst[c * ldd + r] = src[r * lds + c];
}

#if defined(__x86_64__)
/* Row i of the result interleaves rows i/2 and i/2 + 8 of the input, byte by byte (low halves
 * for even i, high halves for odd i). */
static inline void interleave_rows(const __m128i in[16], __m128i out[16]) {
    for (int i = 0; i < 8; i++) {
        out[2 * i] = _mm_unpacklo_epi8(in[i], in[i + 8]);
        out[2 * i + 1] = _mm_unpackhi_epi8(in[i], in[i + 8]);
    }
}

/* One 16x16 block (SSE2, the x86-64 baseline): four interleaving rounds transpose it. */
static void transpose_16x16__sse2(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd) {
    __m128i a[16], b[16];
    for (int i = 0; i < 16; i++) a[i] = _mm_loadu_si128((const __m128i *)(src + (size_t)i * lds));
    interleave_rows(a, b);
    interleave_rows(b, a);
    interleave_rows(a, b);
    interleave_rows(b, a);
    for (int i = 0; i < 16; i++) _mm_storeu_si128((__m128i *)(dst + (size_t)i * ldd), a[i]);
}
#endif

void onboard_transpose_u8(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd, size_t rows, size_t cols) {
#if defined(__x86_64__)
    const size_t full_rows = rows & ~(size_t)15, full_cols = cols & ~(size_t)15;
    for (size_t r = 0; r < full_rows; r += 16)
        for (size_t c = 0; c < full_cols; c += 16) transpose_16x16__sse2(src + r * lds + c, lds, dst + c * ldd + r, ldd);
    /* Edges: the columns past the last block, then the rows past it. */
    onboard_transpose_u8__scalar(src + full_cols, lds, dst + full_cols * ldd, ldd, full_rows, cols - full_cols);
    onboard_transpose_u8__scalar(src + full_rows * lds, lds, dst + full_rows, ldd, rows - full_rows, cols);
#else
    onboard_transpose_u8__scalar(src, lds, dst, ldd, rows, cols);
#endif
}

/* Fixed-size copies inline to moves; the common run lengths of attention's head split get them. */
static inline void copy_run(uint8_t *dst, const uint8_t *src, size_t bytes) {
    switch (bytes) {
    case 16: memcpy(dst, src, 16); break;
    case 32: memcpy(dst, src, 32); break;
    case 64: memcpy(dst, src, 64); break;
    case 128: memcpy(dst, src, 128); break;
    default: memcpy(dst, src, bytes); break;
    }
}

void onboard_copy_runs(const uint8_t *src, uint8_t *dst, size_t rank, const size_t *out_shape,
                       const size_t *strides, size_t run_bytes, size_t first, size_t count) {
    enum { max_rank = 16 };
    if (rank > max_rank) { /* no odometer: each run's offset from its index */
        for (size_t i = first; i < first + count; i++) {
            size_t offset = 0, rest = i;
            for (size_t a = rank; a-- > 0;) {
                offset += (rest % out_shape[a]) * strides[a];
                rest /= out_shape[a];
            }
            copy_run(dst + i * run_bytes, src + offset, run_bytes);
        }
        return;
    }
    size_t index[max_rank] = {0};
    size_t offset = 0, rest = first;
    for (size_t a = rank; a-- > 0;) {
        index[a] = rest % out_shape[a];
        rest /= out_shape[a];
        offset += index[a] * strides[a];
    }
    dst += first * run_bytes;
    for (size_t i = 0; i < count; i++, dst += run_bytes) {
        copy_run(dst, src + offset, run_bytes);
        /* Output-order odometer over the outer axes. */
        for (size_t a = rank; a-- > 0;) {
            offset += strides[a];
            if (++index[a] < out_shape[a]) break;
            offset -= index[a] * strides[a];
            index[a] = 0;
        }
    }
}
