/* INT8 GEMM (u8 x s8 -> s32) on packed B (q8_gemm.h): the driver that runs the microkernels of
 * the list (q8_gemm_kernels.h) over the product, and the one epilogue every path shares. */
#include "q8_gemm_kernels.h"
#include "q8_gemm_x86.h"
#include "q8_rounding.h"

#include <stdlib.h>

/* No fused multiply-adds behind our back: every path must round exactly like the reference. */
#pragma clang fp contract(off)

/* ---- epilogue (shared by every path, so all paths agree bit for bit) ---- */

int32_t onboard_q8_fixed_point_multiply(int32_t x, int32_t multiplier, int32_t shift) {
    return q8_fixed_point_multiply_inline(x, multiplier, shift);
}

static inline int32_t clamp32(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The branches are hoisted out of the column loops so those vectorize; built once portable and
 * once inside the AVX2 one for its last columns, the same integer and float steps (no FMA) either
 * way. */
static inline __attribute__((always_inline)) void store_tile(const int32_t *acc, size_t ldacc, size_t rows, size_t cols,
                                                             size_t i0, size_t j0, const onboard_q8_epilogue *e, void *c,
                                                             size_t ldc, size_t origin) {
    int32_t v[32];
    float f[32];
    const float s0 = e->scale ? e->scale[0] : 1.0f;
    for (size_t r = 0; r < rows; r++) {
        const int32_t rb = e->row_bias ? e->row_bias[i0 + r] : 0;
        const int32_t *a = acc + r * ldacc;
        if (e->col_bias) { for (size_t j = 0; j < cols; j++) v[j] = a[j] + rb + e->col_bias[j0 + j]; }
        else { for (size_t j = 0; j < cols; j++) v[j] = a[j] + rb; }
        if (e->tile_bias) {
            const int32_t *tb = e->tile_bias + (i0 + r) * e->tile_bias_ld + j0;
            for (size_t j = 0; j < cols; j++) v[j] += tb[j];
        }
        const size_t at = (i0 + r) * ldc + j0 - origin;
        if (e->out_type == ONBOARD_Q8_OUT_S32) {
            memcpy((int32_t *)c + at, v, cols * sizeof(int32_t));
            continue;
        }
        if (e->out_type == ONBOARD_Q8_OUT_F32) {
            float *y = (float *)c + at;
            if (e->scale_per_column) { for (size_t j = 0; j < cols; j++) y[j] = (float)v[j] * e->scale[j0 + j]; }
            else { for (size_t j = 0; j < cols; j++) y[j] = (float)v[j] * s0; }
            if (e->f32_bias) for (size_t j = 0; j < cols; j++) y[j] += e->f32_bias[j0 + j];
            continue;
        }
        if (e->use_fixed_point) {
            for (size_t j = 0; j < cols; j++) {
                const size_t si = e->scale_per_column ? j0 + j : 0;
                v[j] = q8_fixed_point_multiply_inline(v[j], e->multiplier[si], e->shift[si]);
            }
        } else {
            if (e->scale_per_column) { for (size_t j = 0; j < cols; j++) f[j] = (float)v[j] * e->scale[j0 + j]; }
            else { for (size_t j = 0; j < cols; j++) f[j] = (float)v[j] * s0; }
            for (size_t j = 0; j < cols; j++) v[j] = (int32_t)q8_round_even_fast(f[j]);
        }
        for (size_t j = 0; j < cols; j++) v[j] = clamp32(v[j] + e->out_zero_point, e->out_min, e->out_max);
        if (e->out_type == ONBOARD_Q8_OUT_U8) { uint8_t *y = (uint8_t *)c + at; for (size_t j = 0; j < cols; j++) y[j] = (uint8_t)v[j]; }
        else { int8_t *y = (int8_t *)c + at; for (size_t j = 0; j < cols; j++) y[j] = (int8_t)v[j]; }
    }
}

#if defined(__x86_64__)
/* 8 columns at a time through the AVX2 epilogue (q8_gemm_x86.h); the remaining columns, and u8 /
 * s8 codes clamped outside their type, take the loops. */
static AVX2_ATTR void store_tile__avx2(const int32_t *acc, size_t ldacc, size_t rows, size_t cols, size_t i0, size_t j0,
                                       const onboard_q8_epilogue *e, void *c, size_t ldc, size_t origin) {
    if (!q8_store8_takes(e)) {
        store_tile(acc, ldacc, rows, cols, i0, j0, e, c, ldc, origin);
        return;
    }
    const size_t full = cols & ~(size_t)7;
    for (size_t r = 0; r < rows; r++) {
        const __m256i rb = _mm256_set1_epi32(e->row_bias ? e->row_bias[i0 + r] : 0);
        const int32_t *a = acc + r * ldacc;
        const size_t at = (i0 + r) * ldc + j0 - origin;
        for (size_t j = 0; j < full; j += 8) {
            __m256i v = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(a + j)), rb);
            if (e->col_bias) v = _mm256_add_epi32(v, _mm256_loadu_si256((const __m256i *)(e->col_bias + j0 + j)));
            if (e->tile_bias)
                v = _mm256_add_epi32(v, _mm256_loadu_si256((const __m256i *)(e->tile_bias + (i0 + r) * e->tile_bias_ld + j0 + j)));
            q8_store8__avx2(e->out_type, v, e, j0 + j, c, at + j, 0);
        }
    }
    if (full < cols) store_tile(acc + full, ldacc, rows, cols - full, i0, j0 + full, e, c, ldc, origin);
}
#endif

#if defined(__x86_64__)
/* Float output 16 columns at a time (the last ones masked), the shared epilogue's steps: int32
 * sums with their biases, converted, times the scale, plus the float bias. */
static __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl"))) void
store_tile_f32__avx512(const int32_t *acc, size_t ldacc, size_t rows, size_t cols, size_t i0, size_t j0,
                       const onboard_q8_epilogue *e, float *c, size_t ldc, size_t origin) {
    for (size_t r = 0; r < rows; r++) {
        const __m512i rb = _mm512_set1_epi32(e->row_bias ? e->row_bias[i0 + r] : 0);
        const int32_t *a = acc + r * ldacc;
        float *y = c + (i0 + r) * ldc + j0 - origin;
        for (size_t j = 0; j < cols; j += 16) {
            const __mmask16 mask = (__mmask16)(cols - j >= 16 ? 0xFFFF : (1u << (cols - j)) - 1);
            __m512i v = _mm512_add_epi32(_mm512_maskz_loadu_epi32(mask, a + j), rb);
            if (e->col_bias) v = _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(mask, e->col_bias + j0 + j));
            if (e->tile_bias) v = _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(mask, e->tile_bias + (i0 + r) * e->tile_bias_ld + j0 + j));
            const __m512 scale = e->scale_per_column ? _mm512_maskz_loadu_ps(mask, e->scale + j0 + j)
                                                     : _mm512_set1_ps(e->scale ? e->scale[0] : 1.0f);
            __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), scale);
            if (e->f32_bias) f = _mm512_add_ps(f, _mm512_maskz_loadu_ps(mask, e->f32_bias + j0 + j));
            _mm512_mask_storeu_ps(y + j, mask, f);
        }
    }
}
#endif

void q8_store_tile(const int32_t *acc, size_t ldacc, size_t rows, size_t cols, size_t i0, size_t j0,
                   const onboard_q8_epilogue *e, void *c, size_t ldc, size_t origin) {
#if defined(__x86_64__)
    if (e->out_type == ONBOARD_Q8_OUT_F32 && onboard_isa_allows(ONBOARD_ISA_AVX512F)) {
        store_tile_f32__avx512(acc, ldacc, rows, cols, i0, j0, e, (float *)c, ldc, origin);
        return;
    }
    if (onboard_isa_allows(ONBOARD_ISA_AVX2)) {
        store_tile__avx2(acc, ldacc, rows, cols, i0, j0, e, c, ldc, origin);
        return;
    }
#endif
    store_tile(acc, ldacc, rows, cols, i0, j0, e, c, ldc, origin);
}

static const q8_kernel_entry kernels[] = {ONBOARD_Q8_GEMM_KERNELS(ONBOARD_Q8_KERNEL_ENTRY)};
static const q8_kernel_entry b7_kernels[] = {ONBOARD_Q8_GEMM_B7_KERNELS(ONBOARD_Q8_KERNEL_ENTRY)};
static const q8_a_packer a_packers[] = {ONBOARD_Q8_GEMM_A_PACKERS(ONBOARD_Q8_A_PACKER) {NULL, NULL, 1, 0, 1}};
#define ONBOARD_Q8_WIDENED_ENTRY(kernel) kernel,
static const q8_gemm_kernel b_widened[] = {ONBOARD_Q8_GEMM_B_WIDENED(ONBOARD_Q8_WIDENED_ENTRY) NULL};
#undef ONBOARD_Q8_WIDENED_ENTRY

static const q8_gemm_family q8_family = {
    kernels, sizeof kernels / sizeof kernels[0], b7_kernels, sizeof b7_kernels / sizeof b7_kernels[0], a_packers, 8,
    q8_packed_column_sums, b_widened,
};

/* The first kernel of `list` the cap allows whose width is at most `widest` (the scalar one needs nothing). */
static const q8_kernel_entry *first_allowed_of(const q8_kernel_entry *list, size_t count, size_t widest) {
    for (size_t i = 0; i < count; i++)
        if (list[i].nr <= widest && onboard_isa_allows(list[i].flags)) return &list[i];
    return &list[count - 1];
}

/* For 7-bit B, a narrow-range kernel replaces the general one when it needs at least the general
 * one's flags (so an int8 dot-product kernel, exact on any B, keeps precedence). */
static const q8_kernel_entry *b7_instead(const q8_gemm_family *f, const q8_kernel_entry *general) {
    if (!f->b7_count) return general;
    const q8_kernel_entry *b7 = first_allowed_of(f->b7_kernels, f->b7_count, general->nr);
    return (b7->nr == general->nr && (b7->flags & general->flags) == general->flags) ? b7 : general;
}

bool onboard_q8_b_fits_7_bits(const int8_t *b, size_t ldb, size_t rows, size_t cols) {
    int fits = 1;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) fits &= b[i * ldb + j] >= -64 && b[i * ldb + j] <= 64;
    return fits;
}

/* The family's kernels that read A packed (ONBOARD_Q8_GEMM_A_PACKERS), and the work they need per
 * call: the packed rows of one row block, and for a packer that flips A the column bias plus 128 x
 * B's column sums. */
static const q8_a_packer *packer_of(const q8_gemm_family *f, const q8_kernel_entry *kernel) {
    for (size_t i = 0; f->a_packers[i].run; i++)
        if (f->a_packers[i].run == kernel->run) return &f->a_packers[i];
    return NULL;
}

/* Whether the kernel reads B's panels widened to int16 pairs (ONBOARD_Q8_GEMM_B_WIDENED). */
static int reads_b_widened(const q8_gemm_family *f, const q8_kernel_entry *kernel) {
    for (size_t i = 0; f->b_widened && f->b_widened[i]; i++)
        if (f->b_widened[i] == kernel->run) return 1;
    return 0;
}

/* Bytes of one packed panel of the family. */
static inline size_t panel_bytes(const q8_gemm_family *f, size_t k) { return NR * q8_padded_depth(k) * f->code_bits / 8; }

/* The work buffer of a packing kernel (NULL if it cannot be had): room for `rows` packed rows,
 * and for a flipping packer the product's column bias with 128 x the column sums of panels
 * [panel_begin, panel_end) added, which *e then points to (through `corrected`). */
static uint8_t *a_packing_work(const q8_gemm_family *f, const q8_a_packer *pa, size_t rows, size_t n, size_t k,
                               const int8_t *packed, size_t panel_begin, size_t panel_end,
                               const onboard_q8_epilogue **e, onboard_q8_epilogue *corrected) {
    const size_t bias_bytes = pa->flips ? n * sizeof(int32_t) : 0;
    const size_t row_bytes = (k + pa->depth - 1) / pa->depth * pa->depth * pa->code_bytes;
    uint8_t *work = malloc(bias_bytes + rows * row_bytes);
    if (!work || !pa->flips) return work;
    int32_t *bias = (int32_t *)work;
    const size_t j_begin = panel_begin * NR, j_end = n < panel_end * NR ? n : panel_end * NR;
    f->column_sums(packed + panel_begin * panel_bytes(f, k), k, j_end - j_begin, bias + j_begin);
    for (size_t j = j_begin; j < j_end; j++)
        bias[j] = (int32_t)(((uint32_t)bias[j] << 7) + (uint32_t)((*e)->col_bias ? (*e)->col_bias[j] : 0));
    *corrected = **e;
    corrected->col_bias = bias;
    *e = corrected;
    return work;
}

/* Above this many bytes of int32 output, C would only evict the operands from the caches. */
#define STREAM_OUTPUT_BYTES ((size_t)4 << 20)

void q8_gemm_run(const q8_gemm_family *f, size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                 const int8_t *packed, const onboard_q8_epilogue *e, void *c, size_t ldc, size_t panel_begin,
                 size_t panel_end, size_t origin) {
    const q8_kernel_entry *widest = first_allowed_of(f->kernels, f->count, 2 * NR);
    const q8_kernel_entry *single = first_allowed_of(f->kernels, f->count, NR);
    if (e->b_fits_7_bits) {
        widest = b7_instead(f, widest);
        single = b7_instead(f, single);
    }
    /* One panel widened at a time: 2 x NR x padded depth bytes, about 3 % of a row block's work. */
    int16_t *widened = reads_b_widened(f, single) ? malloc(2 * NR * q8_padded_depth(k)) : NULL;
    if (reads_b_widened(f, single) && !widened) widest = single = &f->kernels[f->count - 1];
    const size_t panel = panel_bytes(f, k);
    const int stream = e->out_type == ONBOARD_Q8_OUT_S32 && m * ldc * sizeof(int32_t) > STREAM_OUTPUT_BYTES;
    int32_t acc[ONBOARD_Q8_MAX_MR * ONBOARD_Q8_ACC_LD];
    const uint8_t *row[ONBOARD_Q8_MAX_MR];
    /* Row blocks of MC rows (a multiple of every mr) keep their slice of A in L2 while all the
     * panels pass over it, instead of streaming all of A once per panel. */
    const size_t mc = 96;
    const q8_a_packer *pa = packer_of(f, single);
    onboard_q8_epilogue corrected;
    uint8_t *work = pa ? a_packing_work(f, pa, mc, n, k, packed, panel_begin, panel_end, &e, &corrected) : NULL;
    if (pa || packer_of(f, widest)) widest = single; /* packed A serves one kernel */
    if (pa && !work) { widest = single = &f->kernels[f->count - 1]; pa = NULL; }
    uint8_t *packed_a = work && pa->flips ? work + n * sizeof(int32_t) : work;
    const size_t packed_row = pa ? (k + pa->depth - 1) / pa->depth * pa->depth * pa->code_bytes : 0;
    for (size_t i0 = 0; i0 < m; i0 += mc)
    for (size_t p = panel_begin; p < panel_end;) {
        if (pa && p == panel_begin) pa->pack(a + i0 * lda, lda, m - i0 < mc ? m - i0 : mc, k, packed_a);
        const q8_kernel_entry *kernel = widest->nr == 2 * NR && p + 1 < panel_end ? widest : single;
        const size_t step = kernel->nr / NR, mr = kernel->mr;
        const size_t j0 = p * NR;
        const size_t cols = (n - j0 < step * NR) ? n - j0 : step * NR;
        const int8_t *p0 = packed + p * panel, *p1 = step == 2 ? p0 + panel : p0;
        if (widened) {
            q8_widen_groups(p0, q8_padded_depth(k) / 4, widened);
            p0 = p1 = (const int8_t *)widened;
        }
        const size_t i_end = m - i0 < mc ? m : i0 + mc;
        for (size_t i = i0; i < i_end; i += mr) {
            const size_t rows = i_end - i < mr ? i_end - i : mr;
            if (pa) row[0] = packed_a + (i - i0) * packed_row;
            else for (size_t r = 0; r < mr; r++) row[r] = a + (i + (r < rows ? r : 0)) * lda;
            const q8_tile_out out = { e, c, ldc, i, j0, rows, cols, origin, stream };
            if (!kernel->run(k, row, p0, p1, acc, &out))
                q8_store_tile(acc, ONBOARD_Q8_ACC_LD, rows, cols, i, j0, e, c, ldc, origin);
        }
        p += step;
    }
    free(work);
    free(widened);
#if defined(__x86_64__)
    if (stream) _mm_sfence(); /* non-temporal stores are weakly ordered: publish them before returning */
#endif
}

void onboard_q8_gemm(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *packed,
                     const onboard_q8_epilogue *e, void *c, size_t ldc, size_t panel_begin, size_t panel_end) {
    q8_gemm_run(&q8_family, m, n, k, a, lda, packed, e, c, ldc, panel_begin, panel_end, 0);
}

void onboard_q8_gemm_panels_into(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *packed,
                                 const onboard_q8_epilogue *e, void *c, size_t ldc, size_t panel_begin, size_t panel_end) {
    q8_gemm_run(&q8_family, m, n, k, a, lda, packed, e, c, ldc, panel_begin, panel_end, panel_begin * NR);
}
