/* Transposes, portable: the references (movement_kernels.h). */
#include "movement_kernels.h"

bool onboard_transpose_u8__scalar(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) dst[c * ldd + r] = src[r * lds + c];
    return true;
}

bool onboard_transpose_u32__scalar(const uint32_t *src, size_t lds, uint32_t *dst, size_t ldd, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) dst[c * ldd + r] = src[r * lds + c];
    return true;
}
