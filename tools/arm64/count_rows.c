/* The INT8 row and codec calls counted under qemu (tools/arm64/count_rows.sh): OP CAP CALLS runs
 * one op CALLS times on 6 rows of 384 codes with the ISA capped at CAP (0: the scalar reference,
 * -1: everything the CPU has). Counting the instructions of two runs that differ only in CALLS
 * isolates one call. */
#include "CKernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS = 6, N = 384, ALL = ROWS * N };

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: count_rows OP CAP CALLS\n"); return 2; }
    const char *op = argv[1];
    onboard_isa_set_cap((uint32_t)strtol(argv[2], NULL, 0));
    const long calls = atol(argv[3]);
    static uint8_t x[ALL], x2[ALL], out[ALL * 4];
    static int32_t sums[ALL], addend[ALL], gm[N], gs[N], work[N + 16], table[256];
    static int64_t bias[N];
    static float floats[ALL];
    static uint8_t lut[256];
    for (int i = 0; i < ALL; i++) {
        x[i] = (uint8_t)(i * 2654435761u >> 13); x2[i] = (uint8_t)(i * 2246822519u >> 11);
        sums[i] = (int32_t)(i * 2654435761u >> 10) - (1 << 21); addend[i] = (int32_t)(i * 40503u) - (1 << 20);
        floats[i] = (float)(i % 401) * 0.05f - 10;
    }
    for (int j = 0; j < N; j++) { gm[j] = (1 << 30) + j * 1000; gs[j] = 31; bias[j] = j * 100 - 20000; }
    for (int d = 0; d < 256; d++) { table[d] = (int32_t)llround(exp(-0.05 * d) * 1048576.0); lut[d] = (uint8_t)(d * 7); }
    static const char *const ops[] = {
        "q8_stabilize_rows_s32", "q8_softmax_lut_rows", "q8_layernorm_rows", "q8_divide_rows_s32", "q8_quantize_u8",
        "q8_dequantize_u8", "q8_requantize_u8", "q8_row_sums", "q8_add_u8", "q8_add_u8_dyadic", "q8_add_const_u8_dyadic",
        "q8_lookup_u8",
    };
    int which = -1;
    for (int o = 0; o < (int)(sizeof ops / sizeof ops[0]); o++) which = strcmp(op, ops[o]) ? which : o;
    if (which < 0) { fprintf(stderr, "unknown op %s\n", op); return 2; }
    for (long c = 0; c < calls; c++) {
        switch (which) {
        case 0: onboard_q8_stabilize_rows_s32(sums, ROWS, N, 0.01f, 1518500250, 8, out, 255, 0, 255); break;
        case 1: onboard_q8_softmax_lut_rows(x, out, ROWS, N, table, (int64_t)1 << 52, 44, 0, 0, 255); break;
        case 2: onboard_q8_layernorm_rows(x, out, ROWS, N, gm, gs, bias, 1, 12, 120, 0, 255, work); break;
        case 3: {
            const int32_t divisors[ROWS] = {1000, 2000, 3000, 4000, 5000, 6000};
            onboard_q8_divide_rows_s32(sums, ROWS, N, divisors, (int64_t)1 << 40, 30, out, 3, 0, 255);
            break;
        }
        case 4: onboard_q8_quantize_u8(floats, out, ALL, 0.05f, 128, 0, 255); break;
        case 5: onboard_q8_dequantize_u8(x, (float *)out, ALL, 0.05f, 128); break;
        case 6: onboard_q8_requantize_u8(x, out, ALL, 0.05f, 128, 0.07f, 120); break;
        case 7: onboard_q8_row_sums(x, ROWS, N, N, (int32_t *)out); break;
        case 8: onboard_q8_add_u8(x, 0.05f, 128, x2, 0.03f, 100, 1, out, ALL, 0.06f, 120, 0, 255); break;
        case 9: onboard_q8_add_u8_dyadic(x, 128, 1234567, x2, 100, -7654321, 30, out, ALL, 120, 0, 255); break;
        case 10: onboard_q8_add_const_u8_dyadic(x, 128, 1234567, addend, 30, out, ALL, 120, 0, 255); break;
        default: onboard_q8_lookup_u8(x, out, ALL, lut); break;
        }
    }
    return out[0] == 0x5A && out[1] == 0x5A ? 3 : 0;
}
