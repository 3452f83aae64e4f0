/* Private to CKernels: masks of the first `count` lanes (all of them when count reaches the width). */
#ifndef ONBOARD_Q8_TAIL_MASKS_H
#define ONBOARD_Q8_TAIL_MASKS_H
#include <stddef.h>
#include <stdint.h>

static inline uint16_t tail_mask16(size_t count) { return (uint16_t)(count >= 16 ? 0xFFFF : ((1u << count) - 1)); }
static inline uint64_t tail_mask64(size_t count) { return count >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << count) - 1); }

#endif
