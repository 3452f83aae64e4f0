/* Checks the C kernels on the CPU it runs on, without Swift: it walks every family's kernel list
 * (onboard_kernel_at) and runs each kernel this CPU has with the ISA cap at that kernel's flags.
 * The INT8 GEMM, packing, row and codec kernels must equal the scalar reference bit for bit on
 * random shapes, out types and epilogues; the FP32 GEMM must be within 1e-5 (relative to the
 * largest output) of the double-accumulating reference and the FP32 math bodies within a few
 * ulps of libm, the selective scan within 1e-5 of the double-precision scan relative to each
 * output's magnitude (its sums over absolute values); the transposes equal the scalar ones bit for bit. An op of a list that no check
 * here covers is a failure.
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
static float uniform(float low, float high) { return low + (high - low) * (float)(next() % 100001) / 100000.0f; }

static int passed, failed;
static void record(int ok, const char *what, const char *kernel, size_t m, size_t k, size_t n) {
    if (ok) { passed++; return; }
    failed++;
    if (failed <= 20) fprintf(stderr, "FAIL %s on %s: m %zu k %zu n %zu\n", what, kernel, m, k, n);
}

/* The kernels of `op` this CPU has, in list order (at most 16). */
static size_t runnable(const char *op, onboard_kernel *out) {
    size_t count = 0;
    const uint32_t cpu = onboard_cpu_isa_flags();
    for (size_t i = 0; i < onboard_kernel_count() && count < 16; i++) {
        const onboard_kernel kernel = onboard_kernel_at(i);
        if (strcmp(kernel.op, op) == 0 && (cpu & kernel.isa_flags) == kernel.isa_flags) out[count++] = kernel;
    }
    return count;
}

/* Ops the checks below cover; main fails on any other op of the lists. */
static const char *const checked_ops[] = {
    "q8_gemm", "q8_gemm_b7", "q8_pack_transposed", "q8_packed_column_sums", "q4_gemm", "q4_packed_column_sums",
    "q8_product", "q8_product_widen",
    "q8_stabilize_rows_s32", "q8_softmax_lut_rows", "q8_layernorm_rows", "q8_divide_rows_s32",
    "q8_quantize_u8", "q8_dequantize_u8", "q8_requantize_u8", "q8_row_sums", "q8_add_u8",
    "q8_add_u8_dyadic", "q8_add_const_u8_dyadic", "q8_lookup_u8", "q8_causal_conv1d_s32",
    "f32_gemm", "f32_selective_scan", "f32_gelu_erf", "f32_gelu_tanh", "f32_sigmoid", "f32_silu", "f32_softmax_rows", "f32_layernorm_rows",
    "f32_hadamard_rows", "transpose_u8", "transpose_u32",
};
enum { CHECKED_OPS = sizeof checked_ops / sizeof checked_ops[0] };

static const size_t out_bytes[] = {1, 1, 4, 4};

/* Sizes at the kernels' edges: tiles of 1, 2, 8 and 12 rows and row blocks of 96; depth groups of
 * 4 and 8; panels of 16 columns. */
static const size_t edge_m[] = {1, 2, 7, 8, 9, 11, 12, 13, 23, 95, 96, 97, 109};
static const size_t edge_k[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 20, 31, 33, 40};
static const size_t edge_n[] = {1, 8, 15, 16, 17, 31, 32, 33, 48};
#define PICK_EDGE(list) list[below(sizeof list / sizeof list[0])]

/* A GEMM family's public entry points: INT8 B (q8_gemm.h) or 4-bit B (q4_gemm.h). */
typedef void (*gemm_entry)(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const void *packed,
                           const onboard_q8_epilogue *e, void *c, size_t ldc, size_t panel_begin, size_t panel_end);
typedef struct {
    const char *op, *b7_op; /* b7_op: the narrow-range list, or NULL */
    int bits;
    gemm_entry gemm, panels_into;
} gemm_family;

static void q8_entry(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const void *packed, const onboard_q8_epilogue *e,
                     void *c, size_t ldc, size_t begin, size_t end) { onboard_q8_gemm(m, n, k, a, lda, packed, e, c, ldc, begin, end); }
static void q8_into(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const void *packed, const onboard_q8_epilogue *e,
                    void *c, size_t ldc, size_t begin, size_t end) { onboard_q8_gemm_panels_into(m, n, k, a, lda, packed, e, c, ldc, begin, end); }
static void q4_entry(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const void *packed, const onboard_q8_epilogue *e,
                     void *c, size_t ldc, size_t begin, size_t end) { onboard_q4_gemm(m, n, k, a, lda, packed, e, c, ldc, begin, end); }
static void q4_into(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const void *packed, const onboard_q8_epilogue *e,
                    void *c, size_t ldc, size_t begin, size_t end) { onboard_q4_gemm_panels_into(m, n, k, a, lda, packed, e, c, ldc, begin, end); }

static const gemm_family q8_family = {"q8_gemm", "q8_gemm_b7", 8, q8_entry, q8_into};
static const gemm_family q4_family = {"q4_gemm", NULL, 4, q4_entry, q4_into};

/* The product through the public entry points as callers use them: whole (c % 3 == 0), split at
 * a panel into two calls as threads split it, or one range of panels into a C of its own
 * (the family's panels_into), whose columns are compared with the reference's. */
static int gemm_matches(const gemm_family *f, int c, size_t m, size_t k, size_t n, const uint8_t *a, size_t lda,
                        const void *packed, const onboard_q8_epilogue *e, const uint8_t *expected, uint8_t *got) {
    const size_t panels = (n + ONBOARD_Q8_NR - 1) / ONBOARD_Q8_NR, size = out_bytes[e->out_type];
    memset(got, 0xAB, m * n * size);
    if (c % 3 != 2) {
        const size_t split = c % 3 ? below(panels + 1) : panels;
        f->gemm(m, n, k, a, lda, packed, e, got, n, 0, split);
        f->gemm(m, n, k, a, lda, packed, e, got, n, split, panels);
        return memcmp(got, expected, m * n * size) == 0;
    }
    const size_t begin = below(panels), end = begin + 1 + below(panels - begin);
    const size_t j0 = begin * ONBOARD_Q8_NR, cols = (n < end * ONBOARD_Q8_NR ? n : end * ONBOARD_Q8_NR) - j0;
    f->panels_into(m, n, k, a, lda, packed, e, got, cols, begin, end);
    int ok = 1;
    for (size_t i = 0; i < m; i++) ok &= memcmp(got + i * cols * size, expected + (i * n + j0) * size, cols * size) == 0;
    return ok;
}

/* B codes of case c: 8-bit (full or, narrow, 7-bit), or 4-bit, random or (extreme, every ninth
 * case) the extreme codes by depth against A of 255s. */
static int8_t b_code(const gemm_family *f, int narrow, int extreme, size_t depth) {
    if (f->bits == 4) return extreme ? (depth % 2 ? 7 : -8) : (int8_t)((int)(next() % 16) - 8);
    if (extreme) return narrow ? (depth % 2 ? 64 : -64) : (depth % 2 ? 127 : -128);
    return narrow ? (int8_t)((int)(next() % 129) - 64) : (int8_t)next();
}

static void check_gemm(const gemm_family *f, int cases) {
    onboard_kernel kernels[32];
    size_t count = runnable(f->op, kernels);
    if (f->b7_op) count += runnable(f->b7_op, kernels + count);
    for (int c = 0; c < cases; c++) {
        const int edge = c % 2 == 1, narrow = f->b7_op && c % 4 >= 2; /* narrow: 7-bit B, flagged (the q8_gemm_b7 kernels' range) */
        const int extreme = c % 9 == 4;
        const size_t m = edge ? PICK_EDGE(edge_m) : 1 + below(c % 4 == 0 ? 300 : 40);
        const size_t k = edge ? PICK_EDGE(edge_k) : 1 + below(c % 5 == 0 ? 1200 : 96);
        const size_t n = edge ? PICK_EDGE(edge_n) : 1 + below(c % 3 == 0 ? 200 : 50);
        const size_t lda = k + (c % 7 == 2 ? below(9) : 0);
        uint8_t *a = malloc(m * lda);
        int8_t *b = malloc(k * n), *bt = malloc(k * n);
        for (size_t i = 0; i < m * lda; i++) a[i] = extreme ? 255 : (uint8_t)next();
        for (size_t i = 0; i < k * n; i++) b[i] = b_code(f, narrow, extreme, i / n);
        for (size_t i = 0; i < k * n; i++) bt[(i % n) * k + i / n] = b[i];
        const size_t packed_size = f->bits == 4 ? onboard_q4_packed_size(k, n) : onboard_q8_packed_size(k, n);
        void *packed = malloc(packed_size);
        /* 4-bit B packed from [N, K] (a Linear weight) half the time; the same bytes either way. */
        if (f->bits == 8) onboard_q8_pack_b(b, n, false, k, n, packed, NULL);
        else if (c % 2) onboard_q4_pack_b(bt, k, true, k, n, packed, NULL);
        else onboard_q4_pack_b(b, n, false, k, n, packed, NULL);
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
        /* Each part of the epilogue on or off independently of the shape. */
        const uint64_t on = next();
        const onboard_q8_out_type type = (onboard_q8_out_type)(on % 4);
        const int32_t zero_point = type == ONBOARD_Q8_OUT_U8 ? 128 : 0;
        onboard_q8_epilogue e = {
            .col_bias = on & 4 ? col : NULL, .row_bias = on & 8 ? row : NULL, .scale = scale, .scale_per_column = (on & 16) != 0,
            .use_fixed_point = type <= ONBOARD_Q8_OUT_S8 && (on & 32), .multiplier = mult, .shift = shift,
            .f32_bias = on & 64 ? fbias : NULL, .out_zero_point = zero_point,
            .out_min = on & 128 ? zero_point : type == ONBOARD_Q8_OUT_U8 ? 0 : -128, .out_max = type == ONBOARD_Q8_OUT_U8 ? 255 : 127,
            .out_type = type, .tile_bias = (on >> 8) % 4 == 0 ? tile : NULL, .tile_bias_ld = n, .b_fits_7_bits = narrow,
        };
        const size_t bytes = m * n * out_bytes[type];
        uint8_t *expected = malloc(bytes), *got = malloc(bytes);
        if (f->bits == 4) onboard_q4_gemm__scalar(m, n, k, a, lda, b, n, &e, expected, n);
        else onboard_q8_gemm__scalar(m, n, k, a, lda, b, n, &e, expected, n);
        for (size_t p = 0; p < count; p++) {
            onboard_isa_set_cap(kernels[p].isa_flags);
            record(gemm_matches(f, c, m, k, n, a, lda, packed, &e, expected, got), f->op, kernels[p].name, m, k, n);
        }
        onboard_isa_set_cap(ONBOARD_ISA_NO_CAP);
        free(a); free(b); free(bt); free(packed); free(col); free(row); free(tile); free(mult); free(shift); free(scale); free(fbias);
        free(expected); free(got);
    }
}

/* 4-bit packing: both orientations give the same bytes, half of q8's size, and the column sums of
 * the codes, on every column-sum kernel (they sum the packed B, as the arm64 dot-product path does). */
static void check_q4_packing(int cases) {
    onboard_kernel kernels[16];
    const size_t count = runnable("q4_packed_column_sums", kernels);
    for (int c = 0; c < cases; c++) {
        const size_t k = 1 + below(c % 4 ? 100 : 700), n = 1 + below(70), ldb = k + below(5), ldr = n + below(5);
        int8_t *bt = malloc(n * ldb), *b = malloc(k * ldr);
        for (size_t i = 0; i < n * ldb; i++) bt[i] = (int8_t)((int)(next() % 16) - 8);
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < n; j++) b[i * ldr + j] = bt[j * ldb + i];
        const size_t size = onboard_q4_packed_size(k, n);
        uint8_t *expected = malloc(size), *got = malloc(size);
        int32_t *expected_sums = malloc(n * 4), *got_sums = malloc(n * 4);
        for (size_t j = 0; j < n; j++) {
            expected_sums[j] = 0;
            for (size_t i = 0; i < k; i++) expected_sums[j] += bt[j * ldb + i];
        }
        onboard_isa_set_cap(0);
        onboard_q4_pack_b(bt, ldb, true, k, n, expected, got_sums);
        record(size * 2 == onboard_q8_packed_size(k, n) && memcmp(got_sums, expected_sums, n * 4) == 0, "q4 packing",
               "onboard_q4_pack_b", 0, k, n);
        for (size_t p = 0; p < count; p++) { /* the column sums through their list (a packed B's), and both orientations */
            onboard_isa_set_cap(kernels[p].isa_flags);
            memset(got, 0x5A, size);
            memset(got_sums, 0x5A, n * 4);
            onboard_q4_pack_b(b, ldr, false, k, n, got, got_sums);
            record(memcmp(got, expected, size) == 0 && memcmp(got_sums, expected_sums, n * 4) == 0, "q4 packing",
                   kernels[p].name, 0, k, n);
        }
        onboard_isa_set_cap(ONBOARD_ISA_NO_CAP);
        free(bt); free(b); free(expected); free(got); free(expected_sums); free(got_sums);
    }
}

/* Packing a transposed B and the column sums give the scalar kernels' bytes on every kernel. */
static void check_q8_packing(int cases) {
    onboard_kernel kernels[32];
    size_t count = runnable("q8_pack_transposed", kernels);
    count += runnable("q8_packed_column_sums", kernels + count);
    for (int c = 0; c < cases; c++) {
        const size_t k = 1 + below(100), n = 1 + below(70), ldb = k + below(5);
        int8_t *b = malloc(n * ldb);
        for (size_t i = 0; i < n * ldb; i++) b[i] = (int8_t)next();
        const size_t size = onboard_q8_packed_size(k, n);
        int8_t *expected = malloc(size), *got = malloc(size);
        int32_t *expected_sums = malloc(n * 4), *got_sums = malloc(n * 4);
        onboard_isa_set_cap(0);
        onboard_q8_pack_b(b, ldb, true, k, n, expected, expected_sums);
        for (size_t p = 0; p < count; p++) {
            onboard_isa_set_cap(kernels[p].isa_flags);
            memset(got, 0x5A, size);
            memset(got_sums, 0x5A, n * 4);
            onboard_q8_pack_b(b, ldb, true, k, n, got, got_sums);
            record(memcmp(got, expected, size) == 0 && memcmp(got_sums, expected_sums, n * 4) == 0, "q8 packing",
                   kernels[p].name, 0, k, n);
        }
        onboard_isa_set_cap(ONBOARD_ISA_NO_CAP);
        free(b); free(expected); free(got); free(expected_sums); free(got_sums);
    }
}

/* One call of an INT8 row or codec op on the case's inputs. */
typedef struct {
    size_t rows, n;
    uint8_t *x, *x2;
    int32_t *sums, *gm, *gs, *work, *addend, *divisors;
    int64_t *bias;
    int32_t table[256];
    uint8_t lut[256];
    float *floats;
    int c;
    /* The op's parameters, typical or extreme (edge_params): multipliers, shift, zero points, bounds. */
    int32_t m1, m2, shift, zp, zp2, lo, hi, fraction_bits;
    float s1, s2;
    int64_t numerator, epsilon;
} rows_case;

/* Typical values mostly, extreme ones a third of the time. */
static int32_t pick(const int32_t *edges, size_t count, int32_t low, int32_t high) {
    return next() % 3 == 0 ? edges[below(count)] : low + (int32_t)below((size_t)((int64_t)high - low + 1));
}
#define PICK(low, high, ...) pick((const int32_t[]){__VA_ARGS__}, sizeof((const int32_t[]){__VA_ARGS__}) / 4, low, high)

/* Parameters for case t->c of op `o` (the index in check_exact_ops' list), within what each op's reference defines. */
static void edge_params(rows_case *t, size_t o) {
    const float scales[] = {0.05f, 1e-6f, 3.7f, 1e3f, 1e-30f, 1e30f, 0.0371f, 1.5e-45f};
    t->s1 = next() % 2 ? scales[below(8)] : uniform(0.001f, 0.2f);
    t->s2 = next() % 2 ? scales[below(8)] : uniform(0.001f, 0.2f);
    t->zp = PICK(0, 255, 0, 255, 128, -1000, 1000, -300);
    t->zp2 = PICK(0, 255, 0, 255, -1000, 1000);
    t->lo = PICK(0, 20, 0, -128, -100000, 300, 255);
    t->hi = PICK(230, 255, 255, 127, 100000, 10, -5, 1 << 22);
    t->shift = PICK(1, 62, 1, 2, 3, 4, 8, 62);
    t->m1 = PICK(-(1 << 24), 1 << 24, INT32_MIN, INT32_MAX, 0, 1, -1, 1 << 30);
    t->m2 = PICK(-(1 << 24), 1 << 24, INT32_MIN, INT32_MAX, 0, -7654321);
    t->fraction_bits = (int32_t)(1 + below(24));
    t->numerator = (int64_t[]){(int64_t)1 << 52, (int64_t)1 << 40, (int64_t)1 << 61, 12345, -((int64_t)1 << 45),
                               (int64_t)1 << (t->shift < 40 ? t->shift + 16 : 40)}[below(6)]; /* the last: small m, ties */
    t->epsilon = (int64_t[]){0, 1, 1000000, (int64_t)1 << 40}[below(4)];
    if (o == 0) { /* stabilize: multiplier 0 (float) or fixed point with shift <= 31, sums up to +-2^30 */
        t->m1 = PICK(1, INT32_MAX, 0, 0, INT32_MAX, 1, 1518500250, -5, INT32_MIN);
        t->shift = (int32_t)below(34) - 2;
        t->s1 = next() % 2 ? -t->s1 : t->s1;
    }
    if (o == 3) /* divide: |acc m| < 2^63 with |acc| <= 2^30 and divisors from 1 */
        t->numerator = (int64_t[]){(int64_t)1 << 32, -((int64_t)1 << 31), 12345, ((int64_t)1 << 31) + 7,
                                   t->c % 5 == 2 ? 99 : (int64_t)1 << 40}[below(5)];
    if (o == 3 && t->c % 2 && t->divisors[0] > 0) { /* a shift that leaves the first row's codes mostly unclamped */
        double top = 1;
        for (size_t j = 0; j < t->n; j++) top = fmax(top, fabs((double)t->sums[j]));
        const double m = fabs((double)t->numerator) / t->divisors[0];
        const int bits = (int)ceil(log2(m * top + 1)) - 7 + (int)below(5) - 2;
        t->shift = bits < 1 ? 1 : bits > 62 ? 62 : bits;
    }
    if (o == 2 && t->c % 6 == 1) t->fraction_bits = (int32_t)(1 + below(3)); /* with the small gains: ties reach the codes */
    if (o == 9 || o == 10) { /* dyadic adds: wide bounds too */
        t->lo = PICK(0, 20, 0, -128, 3, INT32_MIN, -300);
        t->hi = PICK(230, 255, 255, 250, INT32_MAX, 1000);
    }
}

static size_t run_rows_op(const char *op, const rows_case *t, uint8_t *out) {
    const size_t rows = t->rows, n = t->n, all = rows * n;
    if (!strcmp(op, "q8_stabilize_rows_s32"))
        onboard_q8_stabilize_rows_s32(t->sums, rows, n, t->s1, t->m1, t->shift, out, t->zp, t->lo, t->hi);
    else if (!strcmp(op, "q8_softmax_lut_rows"))
        onboard_q8_softmax_lut_rows(t->x, out, rows, n, t->table, t->numerator, t->shift, t->zp, t->lo, t->hi);
    else if (!strcmp(op, "q8_layernorm_rows"))
        onboard_q8_layernorm_rows(t->x, out, rows, n, t->gm, t->gs, t->bias, t->epsilon, t->fraction_bits, t->zp, t->lo,
                                  t->hi, (int32_t *)t->work);
    else if (!strcmp(op, "q8_divide_rows_s32"))
        onboard_q8_divide_rows_s32(t->sums, rows, n, t->divisors, t->numerator, t->shift, out, t->zp, t->lo, t->hi);
    else if (!strcmp(op, "q8_quantize_u8")) onboard_q8_quantize_u8(t->floats, out, all, t->s1, t->zp, t->lo, t->hi);
    else if (!strcmp(op, "q8_dequantize_u8")) { onboard_q8_dequantize_u8(t->x, (float *)out, all, 0.05f, 128); return all * 4; }
    else if (!strcmp(op, "q8_requantize_u8")) onboard_q8_requantize_u8(t->x, out, all, t->s1, t->zp, t->s2, t->zp2);
    else if (!strcmp(op, "q8_row_sums")) { onboard_q8_row_sums(t->x, rows, n, n, (int32_t *)out); return rows * 4; }
    else if (!strcmp(op, "q8_add_u8"))
        onboard_q8_add_u8(t->x, t->s1, t->zp2, t->x2, t->s2, t->zp, t->c % 2 ? 1 : -1, out, all, t->c % 3 ? 0.06f : t->s1 + t->s2,
                          t->zp, t->lo, t->hi);
    else if (!strcmp(op, "q8_add_u8_dyadic"))
        onboard_q8_add_u8_dyadic(t->x, t->zp2, t->m1, t->x2, t->zp, t->m2, t->shift, out, all, t->zp, t->lo, t->hi);
    else if (!strcmp(op, "q8_add_const_u8_dyadic"))
        onboard_q8_add_const_u8_dyadic(t->x, t->zp2, t->m1, t->addend, t->shift, out, all, t->zp, t->lo, t->hi);
    else if (!strcmp(op, "q8_lookup_u8")) onboard_q8_lookup_u8(t->x, out, all, t->lut);
    return all;
}

/* Every kernel of the integer row and codec ops equals the scalar one bit for bit. */
static void check_exact_ops(int cases) {
    static const char *const ops[] = {
        "q8_stabilize_rows_s32", "q8_softmax_lut_rows", "q8_layernorm_rows", "q8_divide_rows_s32",
        "q8_quantize_u8", "q8_dequantize_u8", "q8_requantize_u8", "q8_row_sums", "q8_add_u8",
        "q8_add_u8_dyadic", "q8_add_const_u8_dyadic", "q8_lookup_u8",
    };
    for (int c = 0; c < cases; c++) {
        rows_case t = {.rows = 1 + below(6), .n = 1 + below(c % 3 ? 300 : 1100), .c = c};
        const size_t all = t.rows * t.n;
        t.x = malloc(all); t.x2 = malloc(all); t.sums = malloc(all * 4); t.addend = malloc(all * 4);
        t.floats = malloc(all * 4); t.divisors = malloc(t.rows * 4);
        t.gm = malloc(t.n * 4); t.gs = malloc(t.n * 4); t.work = malloc((t.n + 16) * 4); t.bias = malloc(t.n * 8);
        uint8_t *expected = malloc(all * 4), *got = malloc(all * 4);
        const int wide = c % 5 == 2, flat = c % 7 == 0; /* sums over +-2^30 and addends over int32; rows of one code */
        for (size_t i = 0; i < all; i++) {
            t.x[i] = flat ? t.x[i - i % t.n] : (uint8_t)next();
            if (flat && i % t.n == 0) t.x[i] = (uint8_t)next();
            t.x2[i] = (uint8_t)next();
            t.sums[i] = wide ? (int32_t)(next() % (1u << 31)) - (1 << 30) : (int32_t)(next() % (1u << 22)) - (1 << 21);
            if (c % 5 == 3) t.sums[i] = -(int32_t)(next() % (1u << (4 + c % 20))); /* close to the top: few codes clamped */
            t.addend[i] = wide ? (int32_t)(uint32_t)next() : (int32_t)(next() % (1u << 24)) - (1 << 23);
            const float special[] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, -0.0f, 2.5f * 0.05f, -3.5f * 0.05f};
            t.floats[i] = next() % 8 == 0 ? special[below(8)] : uniform(-10, 10);
        }
        for (size_t r = 0; r < t.rows; r++) /* powers of two: m too, and rounding ties */
            t.divisors[r] = c % 4 == 3 ? 1 << below(12) : (int32_t)(next() % (c % 3 ? 100000 : 300)) - 10;
        for (size_t j = 0; j < t.n; j++) {
            const int small = c % 6 == 1; /* small odd gains with shifts 1...3: many rounding ties */
            t.gm[j] = small ? PICK(-7, 7, 1, -1, 3, -3, 0) : next() % 4 ? (int32_t)((1u << 30) | (uint32_t)(next() % (1u << 30)))
                                                        : PICK(-(1 << 30), 1 << 30, 0, INT32_MAX, -INT32_MAX);
            t.gs[j] = small ? (int32_t)(1 + below(3)) : next() % 4 ? (int32_t)(20 + next() % 43) : (int32_t)(1 + below(62));
            t.bias[j] = next() % 4 ? (int64_t)(next() % (1u << 20)) - (1 << 19) : (int64_t)(next() % ((uint64_t)1 << 41)) - ((int64_t)1 << 40);
        }
        const double s = 0.01 + (double)(next() % 100) * 1e-3;
        const double one = (double[]){1048576.0, 33554432.0, 255.0, 1073741824.0}[c % 4]; /* 24 bits and beyond */
        for (int d = 0; d < 256; d++) {
            t.table[d] = (int32_t)llround(exp(-s * d) * one);
            t.lut[d] = (uint8_t)next();
        }
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            onboard_kernel kernels[16];
            const size_t count = runnable(ops[o], kernels);
            edge_params(&t, o);
            onboard_isa_set_cap(0);
            memset(expected, 0xAB, all * 4);
            const size_t bytes = run_rows_op(ops[o], &t, expected);
            for (size_t p = 0; p < count; p++) {
                onboard_isa_set_cap(kernels[p].isa_flags);
                memset(got, 0xAB, all * 4);
                run_rows_op(ops[o], &t, got);
                record(memcmp(got, expected, bytes) == 0, ops[o], kernels[p].name, t.rows, 0, t.n);
            }
        }
        onboard_isa_set_cap(ONBOARD_ISA_NO_CAP);
        free(t.x); free(t.x2); free(t.sums); free(t.addend); free(t.floats); free(t.divisors);
        free(t.gm); free(t.gs); free(t.work); free(t.bias); free(expected); free(got);
    }
}

/* Mamba's conv1d sums on every kernel against their formula, causal and reversed, ragged blocks. */
static void check_conv1d_sums(int cases) {
    onboard_kernel kernels[16];
    const size_t count = runnable("q8_causal_conv1d_s32", kernels);
    for (int c = 0; c < cases; c++) {
        const size_t length = 1 + below(40), channels = 1 + below(200), taps = 1 + below(6);
        const size_t t0 = below(length), rows = 1 + below(length - t0), c0 = below(channels), cols = 1 + below(channels - c0);
        const int reverse = c % 2;
        const int32_t zero = (int32_t)below(256);
        uint8_t *x = malloc(length * channels);
        int8_t *w = malloc(taps * channels);
        int32_t *expected = malloc(rows * cols * 4), *got = malloc(rows * cols * 4);
        for (size_t i = 0; i < length * channels; i++) x[i] = (uint8_t)next();
        for (size_t i = 0; i < taps * channels; i++) w[i] = (int8_t)(next() | 1);
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < cols; j++) {
                int64_t sum = 0;
                for (size_t k = 0; k < taps; k++) {
                    const int64_t s = reverse ? (int64_t)(t0 + r + taps - 1 - k) : (int64_t)(t0 + r + k) - (int64_t)(taps - 1);
                    if (s >= 0 && s < (int64_t)length) sum += (int64_t)w[k * channels + c0 + j] * ((int32_t)x[s * channels + c0 + j] - zero);
                }
                expected[r * cols + j] = (int32_t)sum;
            }
        for (size_t p = 0; p < count; p++) {
            onboard_isa_set_cap(kernels[p].isa_flags);
            memset(got, 0xAB, rows * cols * 4);
            onboard_q8_causal_conv1d_s32(x, length, channels, zero, w, taps, reverse, t0, rows, c0, cols, got, cols);
            record(memcmp(got, expected, rows * cols * 4) == 0, "q8_causal_conv1d_s32", kernels[p].name, rows, taps, cols);
        }
        onboard_isa_set_cap(ONBOARD_ISA_NO_CAP);
        free(x); free(w); free(expected); free(got);
    }
}

static void check_f32_gemm(int cases) {
    onboard_kernel kernels[16];
    const size_t count = runnable("f32_gemm", kernels);
    for (int c = 0; c < cases; c++) {
        const size_t m = 1 + below(70), k = c % 11 == 5 ? 0 : 1 + below(300), n = 1 + below(90); /* k 0: bias only */
        float *a = malloc(m * k * 4), *b = malloc(k * n * 4), *bias = malloc(n * 4), *expected = malloc(m * n * 4), *got = malloc(m * n * 4);
        for (size_t i = 0; i < m * k; i++) a[i] = (float)((double)(next() % 2001) / 1000.0 - 1);
        for (size_t i = 0; i < k * n; i++) b[i] = (float)((double)(next() % 2001) / 1000.0 - 1);
        for (size_t j = 0; j < n; j++) bias[j] = (float)((double)(next() % 2001) / 1000.0 - 1);
        onboard_f32_gemm__scalar(m, n, k, a, k, b, n, bias, expected, n);
        for (size_t p = 0; p < count; p++) {
            const size_t nr = kernels[p].nr;
            onboard_isa_set_cap(kernels[p].isa_flags);
            float *packed = malloc(onboard_f32_gemm_packed_size(k, n, nr) * 4);
            onboard_f32_gemm_pack_b(b, n, false, k, n, nr, packed);
            memset(got, 0xFF, m * n * 4);
            onboard_f32_gemm_packed(m, n, k, a, k, packed, nr, bias, got, n, 0, (n + nr - 1) / nr);
            float largest = 0, error = 0;
            for (size_t i = 0; i < m * n; i++) {
                largest = fmaxf(largest, fabsf(expected[i]));
                error = fmaxf(error, isnan(got[i]) ? INFINITY : fabsf(expected[i] - got[i]));
            }
            record(error <= 1e-5f * fmaxf(largest, 1), "f32 gemm", kernels[p].name, m, k, n);
            free(packed);
        }
        onboard_isa_set_cap(ONBOARD_ISA_NO_CAP);
        free(a); free(b); free(bias); free(expected); free(got);
    }
}

/* The fast Hadamard rows against the O(n^2) double definition: n = k p for k in {1, 12} (a +-1
 * matrix for H_k) and p from 1 to 128, so both the in-vector and the cross-vector stages run. */
static void check_f32_hadamard(int cases) {
    static const size_t ps[] = {1, 2, 4, 8, 16, 32, 64, 128};
    for (int c = 0; c < cases; c++) {
        const size_t k = below(2) ? 12 : 1, p = ps[below(8)], n = k * p, rows = 1 + below(3), all = rows * n;
        float *x = malloc(all * 4), *expected = malloc(all * 4), *got = malloc(all * 4), *hk = malloc(k * k * 4), *work = malloc(n * 4);
        for (size_t i = 0; i < all; i++) x[i] = expected[i] = uniform(-6, 6);
        for (size_t i = 0; i < k * k; i++) hk[i] = below(2) ? 1.0f : -1.0f;
        onboard_f32_hadamard_rows__scalar(expected, rows, n, k, hk, work);
        onboard_kernel kernels[16];
        const size_t count = runnable("f32_hadamard_rows", kernels);
        for (size_t q = 0; q < count; q++) {
            onboard_isa_set_cap(kernels[q].isa_flags);
            memcpy(got, x, all * 4);
            onboard_f32_hadamard_rows(got, rows, n, k, hk, work);
            int ok = 1;
            for (size_t i = 0; i < all; i++) ok &= fabsf(got[i] - expected[i]) <= 6e-6f * (1 + log2f((float)n));
            record(ok, "f32_hadamard_rows", kernels[q].name, rows, k, n);
        }
        onboard_isa_set_cap(ONBOARD_ISA_NO_CAP);
        free(x); free(expected); free(got); free(hk); free(work);
    }
}

/* The FP32 math bodies against libm, with the unit tests' tolerances (F32KernelTests). */
static void check_f32_math(int cases) {
    typedef void (*unary)(const float *, float *, size_t);
    static const struct { const char *op; unary fast, reference; float absolute, relative; } unaries[] = {
        {"f32_gelu_erf", onboard_f32_gelu_erf, onboard_f32_gelu_erf__scalar, 2e-7f, 2e-6f},
        {"f32_gelu_tanh", onboard_f32_gelu_tanh, onboard_f32_gelu_tanh__scalar, 4e-7f, 2e-6f},
        {"f32_sigmoid", onboard_f32_sigmoid, onboard_f32_sigmoid__scalar, 1e-7f, 2e-6f},
        {"f32_silu", onboard_f32_silu, onboard_f32_silu__scalar, 1e-7f, 2e-6f},
    };
    for (int c = 0; c < cases; c++) {
        const size_t rows = 1 + below(4), n = 1 + below(200), all = rows * n;
        float *x = malloc(all * 4), *expected = malloc(all * 4), *got = malloc(all * 4), *gamma = malloc(n * 4), *beta = malloc(n * 4);
        for (size_t i = 0; i < all; i++) x[i] = uniform(-6, 6);
        for (size_t j = 0; j < n; j++) { gamma[j] = uniform(-1, 1); beta[j] = uniform(-1, 1); }
        onboard_kernel kernels[16];
        for (size_t u = 0; u < sizeof unaries / sizeof unaries[0]; u++) {
            unaries[u].reference(x, expected, all);
            const size_t count = runnable(unaries[u].op, kernels);
            for (size_t p = 0; p < count; p++) {
                onboard_isa_set_cap(kernels[p].isa_flags);
                unaries[u].fast(x, got, all);
                int ok = 1;
                for (size_t i = 0; i < all; i++)
                    ok &= fabsf(got[i] - expected[i]) <= unaries[u].absolute * (1 + fabsf(x[i])) + unaries[u].relative * fabsf(expected[i]);
                record(ok, unaries[u].op, kernels[p].name, rows, 0, n);
            }
        }
        onboard_f32_softmax_rows__scalar(x, expected, rows, n);
        size_t count = runnable("f32_softmax_rows", kernels);
        for (size_t p = 0; p < count; p++) {
            onboard_isa_set_cap(kernels[p].isa_flags);
            onboard_f32_softmax_rows(x, got, rows, n);
            int ok = 1;
            for (size_t i = 0; i < all; i++) ok &= fabsf(got[i] - expected[i]) <= 1e-7f + 2e-6f * expected[i];
            record(ok, "f32_softmax_rows", kernels[p].name, rows, 0, n);
        }
        onboard_f32_layernorm_rows__scalar(x, expected, rows, n, gamma, beta, 1e-6f);
        count = runnable("f32_layernorm_rows", kernels);
        for (size_t p = 0; p < count; p++) {
            onboard_isa_set_cap(kernels[p].isa_flags);
            onboard_f32_layernorm_rows(x, got, rows, n, gamma, beta, 1e-6f);
            int ok = 1;
            for (size_t i = 0; i < all; i++) ok &= fabsf(got[i] - expected[i]) <= 2e-5f + 2e-5f * fabsf(expected[i]);
            record(ok, "f32_layernorm_rows", kernels[p].name, rows, 0, n);
        }
        onboard_isa_set_cap(ONBOARD_ISA_NO_CAP);
        free(x); free(expected); free(got); free(gamma); free(beta);
    }
    check_f32_hadamard(cases);
}

/* The selective scan of f32_scan.h in double precision over channels [d0, d1), with each output's
 * magnitude: the same sums over absolute values, what rounding errors scale with. */
static void scan_reference(size_t length, size_t state, size_t d0, size_t d1, int reverse, const float *u, size_t su,
                           const float *dt, const float *bias, const float *A, const float *B, const float *C, size_t sbc,
                           const float *D, const float *z, const float *gate_scale, double *y, double *magnitude, size_t sy) {
    double *h = calloc(state + 1, sizeof *h), *h_abs = calloc(state + 1, sizeof *h_abs);
    for (size_t d = d0; d < d1; d++) {
        for (size_t n = 0; n < state; n++) h[n] = h_abs[n] = 0;
        for (size_t step = 0; step < length; step++) {
            const size_t t = reverse ? length - 1 - step : step;
            const double x = (double)dt[t * su + d] + (bias ? bias[d] : 0), v = u[t * su + d];
            const double delta = x > 20 ? x : log1p(exp(x));
            double out = D[d] * v, bound = fabs(out);
            for (size_t n = 0; n < state; n++) {
                const double decay = exp(delta * A[d * state + n]), input = delta * B[t * sbc + n] * v;
                h[n] = decay * h[n] + input;
                h_abs[n] = decay * h_abs[n] + fabs(input);
                out += h[n] * C[t * sbc + n];
                bound += h_abs[n] * fabs(C[t * sbc + n]);
            }
            if (z) {
                const double scale = gate_scale ? gate_scale[d] : 1;
                const double silu = z[t * su + d] / (1 + exp(-scale * z[t * su + d]));
                out *= silu;
                bound *= fabs(silu);
            }
            y[t * sy + d] = out;
            magnitude[t * sy + d] = bound;
        }
    }
    free(h); free(h_abs);
}

/* Every scan kernel on random shapes (any state count, channel sub-ranges, both directions, with
 * and without the gate, its scale and dt bias, dt across softplus's threshold); channels outside
 * the range keep their NaN. */
static void check_f32_scan(int cases) {
    onboard_kernel kernels[16];
    const size_t count = runnable("f32_selective_scan", kernels);
    for (int c = 0; c < cases; c++) {
        const size_t length = 1 + below(c % 4 ? 60 : 200), state = c % 3 ? 16 : below(40), channels = 1 + below(70);
        const size_t d0 = c % 2 ? below(channels) : 0, d1 = d0 + 1 + below(channels - d0);
        const size_t su = channels + below(3), sbc = state + below(4), sy = channels + below(3);
        const int reverse = c % 2, gated = c % 5 != 1;
        float *u = malloc(length * su * 4), *dt = malloc(length * su * 4), *z = malloc(length * su * 4);
        float *bias = malloc(channels * 4), *A = malloc((channels * state + 1) * 4), *D = malloc(channels * 4);
        float *scales = malloc(channels * 4);
        float *B = malloc((length * sbc + 1) * 4), *C = malloc((length * sbc + 1) * 4), *got = malloc(length * sy * 4);
        double *expected = malloc(length * sy * 8), *magnitude = malloc(length * sy * 8);
        const float dt_range = c % 7 == 3 ? 60 : 4;
        for (size_t i = 0; i < length * su; i++) {
            u[i] = uniform(-2, 2);
            dt[i] = uniform(-dt_range, dt_range / 2);
            z[i] = uniform(-6, 6);
        }
        for (size_t i = 0; i < length * sbc; i++) { B[i] = uniform(-1, 1); C[i] = uniform(-1, 1); }
        for (size_t d = 0; d < channels; d++) {
            bias[d] = uniform(-1, 1);
            D[d] = uniform(-1, 1);
            scales[d] = expf(uniform(-2, 2));
            for (size_t n = 0; n < state; n++) A[d * state + n] = -expf(logf((float)(n + 1)) + uniform(-0.5f, 0.5f));
        }
        const float *gate = gated ? z : NULL, *dt_bias = c % 3 == 1 ? NULL : bias, *gate_scale = gated && c % 4 == 2 ? scales : NULL;
        scan_reference(length, state, d0, d1, reverse, u, su, dt, dt_bias, A, B, C, sbc, D, gate, gate_scale, expected, magnitude, sy);
        for (size_t p = 0; p < count; p++) {
            onboard_isa_set_cap(kernels[p].isa_flags);
            for (size_t i = 0; i < length * sy; i++) got[i] = NAN;
            onboard_f32_selective_scan(length, state, d0, d1, reverse, u, su, dt, su, dt_bias, A, B, C, sbc, D, gate, su, gate_scale, got, sy);
            int ok = 1;
            for (size_t t = 0; t < length; t++)
                for (size_t d = 0; d < sy; d++) {
                    const size_t i = t * sy + d;
                    ok &= d < d0 || d >= d1 ? isnan(got[i]) != 0 : fabs(got[i] - expected[i]) <= 1e-5 * magnitude[i] + 1e-30;
                }
            record(ok, "f32_selective_scan", kernels[p].name, length, state, d1 - d0);
        }
        onboard_isa_set_cap(ONBOARD_ISA_NO_CAP);
        free(u); free(dt); free(z); free(bias); free(A); free(D); free(scales); free(B); free(C); free(got); free(expected); free(magnitude);
    }
}

/* Products of two activations (onboard_q8_product_*) under each product kernel's cap (and the
 * widening kernel of the same flags) equal the reference on B shifted to int8, in both
 * orientations of B, int32 out; A of 255s against B of 0 / 255 by depth every ninth case. */
static void check_products(int cases) {
    onboard_kernel kernels[16];
    const size_t count = runnable("q8_product", kernels);
    onboard_q8_epilogue e;
    memset(&e, 0, sizeof e);
    e.out_type = ONBOARD_Q8_OUT_S32;
    for (int c = 0; c < cases; c++) {
        const int edge = c % 2 == 1, extreme = c % 9 == 4;
        const size_t m = edge ? PICK_EDGE(edge_m) : 1 + below(200);
        const size_t k = edge ? PICK_EDGE(edge_k) : 1 + below(200);
        const size_t n = edge ? PICK_EDGE(edge_n) : 1 + below(200);
        uint8_t *a = malloc(m * k), *b = malloc(k * n), *bt = malloc(k * n);
        int8_t *shifted = malloc(k * n);
        int32_t *expected = malloc(m * n * 4), *got = malloc(m * n * 4), *sums = malloc(n * 4);
        void *packed = malloc(onboard_q8_product_packed_size(k, n));
        for (size_t i = 0; i < m * k; i++) a[i] = extreme ? 255 : (uint8_t)next();
        for (size_t i = 0; i < k * n; i++) b[i] = extreme ? ((i / n) % 2 ? 255 : 0) : (uint8_t)next();
        for (size_t i = 0; i < k * n; i++) { shifted[i] = (int8_t)(b[i] ^ 0x80); bt[(i % n) * k + i / n] = b[i]; }
        onboard_isa_set_cap(0);
        onboard_q8_gemm__scalar(m, n, k, a, k, shifted, n, &e, expected, n);
        for (size_t p = 0; p < count; p++) {
            onboard_isa_set_cap(kernels[p].isa_flags);
            for (int transposed = 0; transposed < 2; transposed++) {
                memset(got, 0xAB, m * n * 4);
                onboard_q8_product_pack_b(transposed ? bt : b, transposed ? k : n, transposed, k, n, packed, sums);
                onboard_q8_product(m, n, k, a, k, packed, &e, got, n, 0, (n + ONBOARD_Q8_NR - 1) / ONBOARD_Q8_NR);
                record(memcmp(got, expected, m * n * 4) == 0, "q8 product", kernels[p].name, m, k, n);
            }
        }
        onboard_isa_set_cap(ONBOARD_ISA_NO_CAP);
        free(a); free(b); free(bt); free(shifted); free(expected); free(got); free(sums); free(packed);
    }
}

/* Every transpose kernel equals the scalar one bit for bit, on 1- and 4-byte elements (random
 * bits, so NaN patterns too), with padded leading dimensions; the padding stays untouched. */
static void check_transposes(int cases) {
    for (int c = 0; c < cases; c++) {
        const size_t rows = 1 + below(c % 2 ? 70 : 20), cols = 1 + below(c % 3 ? 70 : 20);
        const size_t lds = cols + below(4), ldd = rows + below(4);
        for (size_t size = 1; size <= 4; size += 3) {
            const char *op = size == 1 ? "transpose_u8" : "transpose_u32";
            uint8_t *src = malloc(rows * lds * size), *expected = malloc(cols * ldd * size), *got = malloc(cols * ldd * size);
            for (size_t i = 0; i < rows * lds * size; i++) src[i] = (uint8_t)next();
            memset(expected, 0xAB, cols * ldd * size);
            if (size == 1) onboard_transpose_u8__scalar(src, lds, expected, ldd, rows, cols);
            else onboard_transpose_u32__scalar((const uint32_t *)(void *)src, lds, (uint32_t *)(void *)expected, ldd, rows, cols);
            onboard_kernel kernels[16];
            const size_t count = runnable(op, kernels);
            for (size_t p = 0; p < count; p++) {
                onboard_isa_set_cap(kernels[p].isa_flags);
                memset(got, 0xAB, cols * ldd * size);
                if (size == 1) onboard_transpose_u8(src, lds, got, ldd, rows, cols);
                else onboard_transpose_u32((const uint32_t *)(void *)src, lds, (uint32_t *)(void *)got, ldd, rows, cols);
                record(memcmp(got, expected, cols * ldd * size) == 0, op, kernels[p].name, rows, 0, cols);
            }
            onboard_isa_set_cap(ONBOARD_ISA_NO_CAP);
            free(src); free(expected); free(got);
        }
    }
}

int main(int argc, char **argv) {
    const int cases = argc > 1 ? atoi(argv[1]) : 300;
    const uint32_t cpu = onboard_cpu_isa_flags();
    printf("kernel check: GEMM kernels this CPU has:");
    for (size_t i = 0; i < onboard_kernel_count(); i++) {
        const onboard_kernel kernel = onboard_kernel_at(i);
        int covered = 0;
        for (int o = 0; o < CHECKED_OPS; o++) covered |= !strcmp(kernel.op, checked_ops[o]);
        record(covered, "no check covers op", kernel.name, 0, 0, 0);
        if ((cpu & kernel.isa_flags) == kernel.isa_flags && kernel.mr) printf(" %s", kernel.name);
    }
    printf("\n");
    int before = passed + failed;
    check_gemm(&q8_family, cases);
    printf("q8 gemm: %d checks\n", passed + failed - before);
    before = passed + failed;
    check_gemm(&q4_family, cases);
    printf("q4 gemm: %d checks\n", passed + failed - before);
    before = passed + failed;
    check_q4_packing(cases / 3);
    printf("q4 packing: %d checks\n", passed + failed - before);
    before = passed + failed;
    check_q8_packing(cases / 3);
    printf("q8 packing: %d checks\n", passed + failed - before);
    before = passed + failed;
    check_products(cases / 3);
    printf("q8 products: %d checks\n", passed + failed - before);
    before = passed + failed;
    check_exact_ops(cases / 3);
    printf("row and codec kernels: %d checks\n", passed + failed - before);
    before = passed + failed;
    check_f32_gemm(cases / 3);
    printf("f32 gemm: %d checks\n", passed + failed - before);
    before = passed + failed;
    check_f32_math(cases / 3);
    printf("f32 math: %d checks\n", passed + failed - before);
    before = passed + failed;
    check_f32_scan(cases / 3);
    printf("f32 selective scan: %d checks\n", passed + failed - before);
    before = passed + failed;
    check_transposes(cases);
    printf("transposes: %d checks\n", passed + failed - before);
    before = passed + failed;
    check_conv1d_sums(cases / 3);
    printf("conv1d sums: %d checks\n", passed + failed - before);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
