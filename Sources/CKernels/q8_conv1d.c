/* Mamba's conv1d on u8 codes (q8_gemm.h): int32 sums of blocks of rows and channels
 * (onboard_q8_causal_conv1d_s32, q8_codecs' list), then the GEMM epilogue with the channels as
 * its columns, so bias, scales and output types are the integer Linear's. */
#include "q8_codecs.h"
#include "q8_gemm_kernels.h"

/* Sums of 8 rows by up to 256 channels per call (long rows keep the vector loops busy), stored
 * in tiles of 32 columns, the most the shared epilogue takes. */
enum { conv1d_rows = 8, conv1d_cols = 256, epilogue_cols = 32 };

void onboard_q8_causal_conv1d(const uint8_t *x, size_t length, size_t channels, int32_t zero_point,
                              const int8_t *weight, size_t taps, int reverse, size_t t_begin, size_t t_end,
                              const onboard_q8_epilogue *epilogue, void *y) {
    int32_t acc[conv1d_rows * conv1d_cols];
    for (size_t t = t_begin; t < t_end; t += conv1d_rows) {
        const size_t rows = t_end - t < conv1d_rows ? t_end - t : conv1d_rows;
        for (size_t c0 = 0; c0 < channels; c0 += conv1d_cols) {
            const size_t cols = channels - c0 < conv1d_cols ? channels - c0 : conv1d_cols;
            onboard_q8_causal_conv1d_s32(x, length, channels, zero_point, weight, taps, reverse, t, rows, c0, cols, acc, conv1d_cols);
            for (size_t j = 0; j < cols; j += epilogue_cols) {
                const size_t tile = cols - j < epilogue_cols ? cols - j : epilogue_cols;
                q8_store_tile(acc + j, conv1d_cols, rows, tile, t - t_begin, c0 + j, epilogue, y, channels, 0);
            }
        }
    }
}
