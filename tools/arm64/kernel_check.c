/* Checks the C kernels on the CPU it runs on, without Swift: every INT8 GEMM path this CPU has
 * (onboard_q8_force_isa) equals the scalar reference bit for bit on random shapes, out types and
 * epilogues; the integer row kernels equal their reference on every path; the FP32 packed GEMM is
 * within 1e-5 (relative to the largest output) of the double-accumulating reference.
 * Built and run by tools/test-arm64.sh under qemu-aarch64; it runs natively on x86-64 too.
 * Prints one line per family and "N passed, N failed" last; exits 1 on any failure. */
#include "CKernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void) { /* SplitMix64 */
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static size_t below(size_t n) { return (size_t)(next() % n); }

static const struct { const char *name; unsigned isa; } paths[] = {
    {"scalar", 0}, {"avx2", ONBOARD_ISA_AVX2}, {"avxvnni", ONBOARD_ISA_AVXVNNI},
    {"avx512vnni", ONBOARD_ISA_AVX512VNNI}, {"neondot", ONBOARD_ISA_NEON_DOT},
};
enum { PATHS = sizeof paths / sizeof paths[0] };

static int passed, failed;
static void record(int ok, const char *what, const char *path, size_t m, size_t k, size_t n) {
    if (ok) { passed++; return; }
    failed++;
    if (failed <= 20) fprintf(stderr, "FAIL %s on %s: m %zu k %zu n %zu\n", what, path, m, k, n);
}

static const size_t out_bytes[] = {1, 1, 4, 4};

static void check_q8_gemm(int cases) {
    for (int c = 0; c < cases; c++) {
        const size_t m = 1 + below(c % 4 == 0 ? 300 : 40), k = 1 + below(c % 5 == 0 ? 1200 : 96), n = 1 + below(c % 3 == 0 ? 200 : 50);
        uint8_t *a = malloc(m * k);
        int8_t *b = malloc(k * n);
        for (size_t i = 0; i < m * k; i++) a[i] = (uint8_t)next();
        for (size_t i = 0; i < k * n; i++) b[i] = (int8_t)next();
        int8_t *packed = malloc(onboard_q8_packed_size(k, n));
        onboard_q8_pack_b(b, n, false, k, n, packed, NULL);
        int32_t *col = malloc(n * 4), *row = malloc(m * 4), *tile = malloc(m * n * 4), *mult = malloc(n * 4), *shift = malloc(n * 4);
        float *scale = malloc(n * 4), *fbias = malloc(n * 4);
        for (size_t j = 0; j < n; j++) {
            col[j] = (int32_t)(next() % 20001) - 10000;
            mult[j] = (int32_t)((1u << 30) | (uint32_t)(next() % (1u << 30)));
            shift[j] = (int32_t)(next() % 12);
            scale[j] = (float)(1e-4 + (double)(next() % 1000) * 1e-6);
            fbias[j] = (float)((double)(next() % 2001) - 1000) * 1e-3f;
        }
        for (size_t i = 0; i < m; i++) row[i] = (int32_t)(next() % 20001) - 10000;
        for (size_t i = 0; i < m * n; i++) tile[i] = (int32_t)(next() % 2001) - 1000;
        const onboard_q8_out_type type = (onboard_q8_out_type)(c % 4);
        onboard_q8_epilogue e = {
            .col_bias = c % 2 ? col : NULL, .row_bias = c % 3 ? row : NULL, .scale = scale, .scale_per_column = c % 2,
            .use_fixed_point = type <= ONBOARD_Q8_OUT_S8 && c % 5 == 1, .multiplier = mult, .shift = shift,
            .f32_bias = c % 2 ? fbias : NULL, .out_zero_point = type == ONBOARD_Q8_OUT_U8 ? 128 : 0,
            .out_min = type == ONBOARD_Q8_OUT_U8 ? 0 : -128, .out_max = type == ONBOARD_Q8_OUT_U8 ? 255 : 127,
            .out_type = type, .tile_bias = c % 7 == 3 ? tile : NULL, .tile_bias_ld = n,
        };
        const size_t bytes = m * n * out_bytes[type];
        uint8_t *expected = malloc(bytes), *got = malloc(bytes);
        onboard_q8_gemm__scalar(m, n, k, a, k, b, n, &e, expected, n);
        for (int p = 0; p < PATHS; p++) {
            if (onboard_q8_force_isa(paths[p].isa) != 0) continue;
            memset(got, 0xAB, bytes);
            onboard_q8_gemm(m, n, k, a, k, packed, &e, got, n, 0, (n + ONBOARD_Q8_NR - 1) / ONBOARD_Q8_NR);
            record(memcmp(got, expected, bytes) == 0, "q8 gemm", paths[p].name, m, k, n);
        }
        onboard_q8_reset_isa();
        free(a); free(b); free(packed); free(col); free(row); free(tile); free(mult); free(shift); free(scale); free(fbias);
        free(expected); free(got);
    }
}

static void check_rows(int cases) {
    for (int c = 0; c < cases; c++) {
        const size_t rows = 1 + below(6), n = 1 + below(c % 3 ? 300 : 1100);
        uint8_t *x = malloc(rows * n), *expected = malloc(rows * n), *got = malloc(rows * n);
        int32_t *sums = malloc(rows * n * 4), *gm = malloc(n * 4), *gs = malloc(n * 4), *work = malloc((n + 16) * 4);
        int64_t *bias = malloc(n * 8);
        int32_t table[256];
        for (size_t i = 0; i < rows * n; i++) { x[i] = (uint8_t)next(); sums[i] = (int32_t)(next() % (1u << 22)) - (1 << 21); }
        for (size_t j = 0; j < n; j++) {
            gm[j] = (int32_t)((1u << 30) | (uint32_t)(next() % (1u << 30)));
            gs[j] = (int32_t)(20 + next() % 43);
            bias[j] = (int64_t)(next() % (1u << 20)) - (1 << 19);
        }
        const double s = 0.01 + (double)(next() % 100) * 1e-3;
        for (int d = 0; d < 256; d++) table[d] = (int32_t)llround(exp(-s * d) * 1048576.0);
        for (int family = 0; family < 3; family++) {
            for (int p = 0; p < PATHS; p++) {
                if (onboard_q8_force_isa(paths[p].isa) != 0) continue;
                uint8_t *out = p == 0 ? expected : got;
                memset(out, 0xAB, rows * n);
                if (family == 0) onboard_q8_stabilize_rows_s32(sums, rows, n, 0.01f, 1518500250, (int32_t)(c % 20), out, 255, 0, 255);
                if (family == 1) onboard_q8_softmax_lut_rows(x, out, rows, n, table, (int64_t)1 << 52, 44, 0, 0, 255);
                if (family == 2) onboard_q8_layernorm_rows(x, out, rows, n, gm, gs, bias, c % 2, 12, 120, 0, 255, work);
                if (p > 0) record(memcmp(got, expected, rows * n) == 0, family == 0 ? "stabilize rows" : family == 1 ? "softmax rows" : "layernorm rows",
                                  paths[p].name, rows, 0, n);
            }
        }
        onboard_q8_reset_isa();
        free(x); free(expected); free(got); free(sums); free(gm); free(gs); free(work); free(bias);
    }
}

static void check_f32_gemm(int cases) {
    for (int c = 0; c < cases; c++) {
        const size_t m = 1 + below(70), k = 1 + below(300), n = 1 + below(90), nr = onboard_f32_gemm_nr();
        float *a = malloc(m * k * 4), *b = malloc(k * n * 4), *bias = malloc(n * 4), *expected = malloc(m * n * 4), *got = malloc(m * n * 4);
        for (size_t i = 0; i < m * k; i++) a[i] = (float)((double)(next() % 2001) / 1000.0 - 1);
        for (size_t i = 0; i < k * n; i++) b[i] = (float)((double)(next() % 2001) / 1000.0 - 1);
        for (size_t j = 0; j < n; j++) bias[j] = (float)((double)(next() % 2001) / 1000.0 - 1);
        float *packed = malloc(onboard_f32_gemm_packed_size(k, n, nr) * 4);
        onboard_f32_gemm_pack_b(b, n, false, k, n, nr, packed);
        onboard_f32_gemm__scalar(m, n, k, a, k, b, n, bias, expected, n);
        onboard_f32_gemm_packed(m, n, k, a, k, packed, nr, bias, got, n, 0, (n + nr - 1) / nr);
        float largest = 0, error = 0;
        for (size_t i = 0; i < m * n; i++) {
            largest = fmaxf(largest, fabsf(expected[i]));
            error = fmaxf(error, fabsf(expected[i] - got[i]));
        }
        record(error <= 1e-5f * fmaxf(largest, 1), "f32 gemm", "best", m, k, n);
        free(a); free(b); free(bias); free(expected); free(got); free(packed);
    }
}

int main(int argc, char **argv) {
    const int cases = argc > 1 ? atoi(argv[1]) : 300;
    printf("kernel check: paths");
    for (int p = 0; p < PATHS; p++) if (onboard_q8_force_isa(paths[p].isa) == 0) printf(" %s", paths[p].name);
    onboard_q8_reset_isa();
    printf(" (best %u)\n", onboard_q8_active_isa());
    int before = passed + failed;
    check_q8_gemm(cases);
    printf("q8 gemm: %d checks\n", passed + failed - before);
    before = passed + failed;
    check_rows(cases / 3);
    printf("row kernels: %d checks\n", passed + failed - before);
    before = passed + failed;
    check_f32_gemm(cases / 3);
    printf("f32 gemm: %d checks\n", passed + failed - before);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
