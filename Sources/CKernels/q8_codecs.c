/* INT8 codecs (q8_codecs.h): each op runs the first kernel of its list (q8_codecs_kernels.h) the
 * ISA cap allows and that takes its arguments. */
#include "q8_codecs_kernels.h"

void onboard_q8_quantize_u8(const float *x, uint8_t *y, size_t n, float scale, int32_t zero_point,
                            int32_t qmin, int32_t qmax) {
#define ARGS x, y, n, scale, zero_point, qmin, qmax
    ONBOARD_Q8_QUANTIZE_U8_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void onboard_q8_dequantize_u8(const uint8_t *x, float *y, size_t n, float scale, int32_t zero_point) {
#define ARGS x, y, n, scale, zero_point
    ONBOARD_Q8_DEQUANTIZE_U8_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void onboard_q8_requantize_u8(const uint8_t *x, uint8_t *y, size_t n, float in_scale, int32_t in_zero_point,
                              float out_scale, int32_t out_zero_point) {
#define ARGS x, y, n, in_scale, in_zero_point, out_scale, out_zero_point
    ONBOARD_Q8_REQUANTIZE_U8_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void onboard_q8_row_sums(const uint8_t *a, size_t m, size_t k, size_t lda, int32_t *sums) {
#define ARGS a, m, k, lda, sums
    ONBOARD_Q8_ROW_SUMS_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void onboard_q8_lookup_u8(const uint8_t *x, uint8_t *y, size_t n, const uint8_t *table) {
#define ARGS x, y, n, table
    ONBOARD_Q8_LOOKUP_U8_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void onboard_q8_add_u8(const uint8_t *a, float a_scale, int32_t a_zero_point,
                       const uint8_t *b, float b_scale, int32_t b_zero_point, float b_sign,
                       uint8_t *y, size_t n, float y_scale, int32_t y_zero_point, int32_t y_min, int32_t y_max) {
#define ARGS a, a_scale, a_zero_point, b, b_scale, b_zero_point, b_sign, y, n, y_scale, y_zero_point, y_min, y_max
    ONBOARD_Q8_ADD_U8_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void onboard_q8_add_u8_dyadic(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier,
                              const uint8_t *b, int32_t b_zero_point, int32_t b_multiplier, int32_t shift,
                              uint8_t *y, size_t n, int32_t y_zero_point, int32_t y_min, int32_t y_max) {
#define ARGS a, a_zero_point, a_multiplier, b, b_zero_point, b_multiplier, shift, y, n, y_zero_point, y_min, y_max
    ONBOARD_Q8_ADD_U8_DYADIC_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void onboard_q8_add_const_u8_dyadic(const uint8_t *a, int32_t a_zero_point, int32_t a_multiplier, const int32_t *addend,
                                    int32_t shift, uint8_t *y, size_t n, int32_t y_zero_point, int32_t y_min, int32_t y_max) {
#define ARGS a, a_zero_point, a_multiplier, addend, shift, y, n, y_zero_point, y_min, y_max
    ONBOARD_Q8_ADD_CONST_U8_DYADIC_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void onboard_q8_causal_conv1d_s32(const uint8_t *x, size_t length, size_t channels, int32_t zero_point,
                                  const int8_t *weight, size_t taps, int reverse, size_t t0, size_t rows,
                                  size_t c0, size_t cols, int32_t *acc, size_t ld) {
#define ARGS x, length, channels, zero_point, weight, taps, reverse, t0, rows, c0, cols, acc, ld
    ONBOARD_Q8_CAUSAL_CONV1D_S32_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}
