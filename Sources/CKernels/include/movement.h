#ifndef ONBOARD_MOVEMENT_H
#define ONBOARD_MOVEMENT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Data movement of the executors' permutes: no arithmetic, every element copied once. */

/* dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols, on bytes and on 32-bit elements
 * (floats); leading dimensions in elements. Each runs the first kernel of its list
 * (movement_kernels.h) the ISA cap allows; the `__scalar` references return true. */
void onboard_transpose_u8(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd, size_t rows, size_t cols);
bool onboard_transpose_u8__scalar(const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd, size_t rows, size_t cols);
void onboard_transpose_u32(const uint32_t *src, size_t lds, uint32_t *dst, size_t ldd, size_t rows, size_t cols);
bool onboard_transpose_u32__scalar(const uint32_t *src, size_t lds, uint32_t *dst, size_t ldd, size_t rows, size_t cols);

/* Runs first ..< first + count of a permute, in output order: run i goes to dst + i * run_bytes
 * from src + the byte offset of output index i over `rank` outer axes (out_shape, and the input's
 * byte strides in output axis order). */
void onboard_copy_runs(const uint8_t *src, uint8_t *dst, size_t rank, const size_t *out_shape,
                       const size_t *strides, size_t run_bytes, size_t first, size_t count);
#endif
