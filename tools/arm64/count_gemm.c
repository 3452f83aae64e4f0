/* The GEMM calls that tools/arm64/count_instructions.sh counts under qemu: with no arguments it
 * lists the GEMM kernels of the lists (f32_gemm, q8_gemm) this CPU has, one "family name" a line;
 * with KERNEL M K N CALLS [OUT] it prepares one product (random operands, B packed as the kernel
 * wants) and runs it CALLS times with the ISA capped at that kernel's flags. The INT8 product is
 * u8 x s8 -> s32 by default (no epilogue work beyond the store, as bench-gemm times it), or with
 * OUT u8 / u8fixed a requantized u8 output; the FP32 one C = A B + bias. Counting the instructions of two runs that differ only in CALLS isolates one call. */
#include "CKernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find(const char *name, onboard_kernel *found) {
    for (size_t i = 0; i < onboard_kernel_count(); i++) {
        const onboard_kernel kernel = onboard_kernel_at(i);
        if (strcmp(kernel.name, name) == 0 && kernel.mr) { *found = kernel; return 1; }
    }
    return 0;
}

/* out: "s32" (the raw sums), or "u8" / "u8fixed": a quantized Linear's output, column bias and
 * per-column requantization by a float scale or a fixed-point multiplier. */
static void run_q8(size_t m, size_t k, size_t n, long calls, const char *out) {
    uint8_t *a = malloc(m * k);
    int8_t *b = malloc(k * n), *packed = malloc(onboard_q8_packed_size(k, n));
    int32_t *c = malloc(m * n * sizeof(int32_t)), *bias = malloc(n * sizeof(int32_t));
    int32_t *multiplier = malloc(n * sizeof(int32_t)), *shift = malloc(n * sizeof(int32_t));
    float *scale = malloc(n * sizeof(float));
    for (size_t i = 0; i < m * k; i++) a[i] = (uint8_t)(i * 2654435761u >> 13);
    for (size_t i = 0; i < k * n; i++) b[i] = (int8_t)(i * 2246822519u >> 11);
    for (size_t j = 0; j < n; j++) {
        bias[j] = (int32_t)(j * 7919 % 20001) - 10000;
        multiplier[j] = (int32_t)(1518500250 - j * 1000);
        shift[j] = 10;
        scale[j] = 1e-4f + (float)(j % 100) * 1e-6f;
    }
    onboard_q8_pack_b(b, n, false, k, n, packed, NULL);
    onboard_q8_epilogue e = {.out_type = ONBOARD_Q8_OUT_S32, .out_min = INT32_MIN, .out_max = INT32_MAX};
    if (strcmp(out, "s32") != 0)
        e = (onboard_q8_epilogue){.col_bias = bias, .scale = scale, .scale_per_column = 1, .use_fixed_point = !strcmp(out, "u8fixed"),
                                  .multiplier = multiplier, .shift = shift, .out_zero_point = 128, .out_min = 0, .out_max = 255,
                                  .out_type = ONBOARD_Q8_OUT_U8};
    for (long call = 0; call < calls; call++)
        onboard_q8_gemm(m, n, k, a, k, packed, &e, c, n, 0, (n + ONBOARD_Q8_NR - 1) / ONBOARD_Q8_NR);
    free(a); free(b); free(packed); free(c); free(bias); free(multiplier); free(shift); free(scale);
}

static void run_f32(size_t m, size_t k, size_t n, size_t nr, long calls) {
    float *a = malloc(m * k * sizeof(float)), *b = malloc(k * n * sizeof(float)), *bias = malloc(n * sizeof(float));
    float *packed = malloc(onboard_f32_gemm_packed_size(k, n, nr) * sizeof(float)), *c = malloc(m * n * sizeof(float));
    for (size_t i = 0; i < m * k; i++) a[i] = (float)(i % 17) * 0.125f - 1;
    for (size_t i = 0; i < k * n; i++) b[i] = (float)(i % 13) * 0.0625f - 0.5f;
    for (size_t j = 0; j < n; j++) bias[j] = (float)j;
    onboard_f32_gemm_pack_b(b, n, false, k, n, nr, packed);
    for (long call = 0; call < calls; call++)
        onboard_f32_gemm_packed(m, n, k, a, k, packed, nr, bias, c, n, 0, (n + nr - 1) / nr);
    free(a); free(b); free(bias); free(packed); free(c);
}

int main(int argc, char **argv) {
    const uint32_t cpu = onboard_cpu_isa_flags();
    if (argc == 1) {
        for (size_t i = 0; i < onboard_kernel_count(); i++) {
            const onboard_kernel kernel = onboard_kernel_at(i);
            const int gemm = !strcmp(kernel.op, "q8_gemm") || !strcmp(kernel.op, "f32_gemm");
            if (gemm && kernel.mr && (cpu & kernel.isa_flags) == kernel.isa_flags) printf("%s %s\n", kernel.family, kernel.name);
        }
        return 0;
    }
    onboard_kernel kernel;
    const char *out = argc > 6 ? argv[6] : "s32";
    const int known_out = !strcmp(out, "s32") || !strcmp(out, "u8") || !strcmp(out, "u8fixed");
    if (argc < 6 || argc > 7 || !known_out || !find(argv[1], &kernel) || (cpu & kernel.isa_flags) != kernel.isa_flags) {
        fprintf(stderr, "usage: count_gemm [KERNEL M K N CALLS [s32|u8|u8fixed]] (a GEMM kernel this CPU has)\n");
        return 2;
    }
    const size_t m = strtoul(argv[2], NULL, 10), k = strtoul(argv[3], NULL, 10), n = strtoul(argv[4], NULL, 10);
    const long calls = strtol(argv[5], NULL, 10);
    if (!m || !k || !n || calls < 0) { fprintf(stderr, "count_gemm: sizes must be positive\n"); return 2; }
    onboard_isa_set_cap(kernel.isa_flags);
    if (!strcmp(kernel.op, "q8_gemm")) run_q8(m, k, n, calls, out);
    else run_f32(m, k, n, kernel.nr, calls);
    return 0;
}
