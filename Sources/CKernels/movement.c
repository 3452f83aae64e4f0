/* Transposes, each running the first kernel of its list (movement_kernels.h) the ISA cap allows,
 * and strided run copies (see movement.h). */
#include "movement_kernels.h"

#include <string.h>

void onboard_transpose_u8(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd, size_t rows, size_t cols) {
#define ARGS src, lds, dst, ldd, rows, cols
    ONBOARD_TRANSPOSE_U8_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void onboard_transpose_u32(const uint32_t *src, size_t lds, uint32_t *dst, size_t ldd, size_t rows, size_t cols) {
#define ARGS src, lds, dst, ldd, rows, cols
    ONBOARD_TRANSPOSE_U32_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
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
