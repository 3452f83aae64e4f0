/* Private to CKernels (arm64): a 256-entry byte table in registers and 16 lookups in it, as the
 * NEON codec and row kernels use it. */
#ifndef ONBOARD_Q8_NEON_LOOKUP_H
#define ONBOARD_Q8_NEON_LOOKUP_H
#if defined(__aarch64__)
#include <arm_neon.h>
#include <stdint.h>

/* Four 64-byte quarters: tbl gives 0 past its quarter, tbx keeps what it had, and code - 64 q
 * wraps past 63 for the codes outside quarter q. */
typedef struct {
    uint8x16x4_t q[4];
} table256;

static inline table256 table256_load(const uint8_t *table) {
    return (table256){{vld1q_u8_x4(table), vld1q_u8_x4(table + 64), vld1q_u8_x4(table + 128), vld1q_u8_x4(table + 192)}};
}

static inline uint8x16_t lookup16(const table256 *t, uint8x16_t codes) {
    const uint8x16_t step = vdupq_n_u8(64);
    uint8x16_t y = vqtbl4q_u8(t->q[0], codes);
    codes = vsubq_u8(codes, step);
    y = vqtbx4q_u8(y, t->q[1], codes);
    codes = vsubq_u8(codes, step);
    y = vqtbx4q_u8(y, t->q[2], codes);
    codes = vsubq_u8(codes, step);
    return vqtbx4q_u8(y, t->q[3], codes);
}
#endif
#endif
