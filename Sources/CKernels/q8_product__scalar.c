/* Products of two activations, portable (q8_gemm_kernels.h, ONBOARD_Q8_PRODUCT_*): the 1x16c2
 * microkernel on int16 pairs of B and the widening of q8's packed groups into them. */
#include "q8_gemm_kernels.h"

int onboard_q8_product_1x16c2__scalar(size_t k, const uint8_t *const *row, const int8_t *p0, const int8_t *p1,
                                      int32_t *acc, const q8_tile_out *out) {
    (void)p1;
    (void)out;
    const int16_t *b = (const int16_t *)(const void *)p0;
    for (size_t j = 0; j < NR; j++) {
        int32_t s = 0;
        for (size_t t = 0; t < k; t++) s += (int32_t)row[0][t] * b[((t / 2) * NR + j) * 2 + t % 2];
        acc[j] = s;
    }
    return 0;
}

/* Column j's depths t of a group go to block t / 2, lane j, half t % 2. */
bool onboard_q8_product_widen__scalar(const int8_t *groups, size_t count, int16_t *dst) {
    for (size_t g = 0; g < count; g++) {
        int8_t codes[NR * 4];
        memcpy(codes, groups + g * NR * 4, sizeof codes); /* the last group's output overlaps it */
        int16_t *out = dst + g * NR * 4;
        for (size_t j = 0; j < NR; j++)
            for (size_t t = 0; t < 4; t++) out[(t / 2) * NR * 2 + j * 2 + t % 2] = codes[j * 4 + t];
    }
    return true;
}
