/* FP32 GEMM on packed B (f32_gemm.h): packing, the driver that runs a microkernel over the
 * product, and the choice of microkernel from the list (f32_gemm_kernels.h). */
#include "f32_gemm.h"
#include "f32_gemm_kernels.h"

#include <string.h>

#define KC 256 /* depth block: one packed panel block (KC x nr) stays in L1 */

size_t onboard_f32_gemm_packed_size(size_t k, size_t n, size_t nr) {
    return ((n + nr - 1) / nr) * nr * k;
}

void onboard_f32_gemm_pack_b(const float *b, size_t ldb, bool transposed, size_t k, size_t n,
                             size_t nr, float *packed) {
    const size_t panels = (n + nr - 1) / nr;
    for (size_t p = 0; p < panels; p++) {
        float *dst = packed + p * nr * k;
        const size_t cols = n - p * nr < nr ? n - p * nr : nr;
        for (size_t t = 0; t < k; t++) {
            float *row = dst + t * nr;
            for (size_t j = 0; j < cols; j++)
                row[j] = transposed ? b[(p * nr + j) * ldb + t] : b[t * ldb + p * nr + j];
            for (size_t j = cols; j < nr; j++) row[j] = 0.0f;
        }
    }
}

typedef void (*f32_gemm_kernel)(size_t kc, const float *a, size_t lda, const float *panel, float *c,
                                size_t ldc, const float *bias, int first);

static const struct {
    f32_gemm_kernel run;
    uint32_t flags;
    size_t mr, nr;
} kernels[] = {
#define ENTRY(op, tile, isa, flags, mr, nr) {onboard_##op##tile##__##isa, flags, mr, nr},
    ONBOARD_F32_GEMM_KERNELS(ENTRY)
#undef ENTRY
};
enum { KERNELS = sizeof kernels / sizeof kernels[0] };

/* Runs `kernel` (mr x nr) over one panel of C, depth-blocked by KC; tiles that overhang M or N
 * go through zero-padded copies of A, bias and C. */
static void panel_driver(f32_gemm_kernel kernel, size_t mr, size_t nr, size_t m, size_t cols, size_t k,
                         const float *a, size_t lda, const float *panel, const float *bias,
                         float *c, size_t ldc) {
    float edge_a[ONBOARD_F32_GEMM_MAX_MR * KC], edge_c[ONBOARD_F32_GEMM_MAX_MR * ONBOARD_F32_GEMM_MAX_NR];
    float edge_bias[ONBOARD_F32_GEMM_MAX_NR];
    const float *tile_bias = bias;
    if (bias && cols < nr) {
        memset(edge_bias, 0, sizeof edge_bias);
        memcpy(edge_bias, bias, cols * sizeof(float));
        tile_bias = edge_bias;
    }
    for (size_t k0 = 0; k0 < k || k0 == 0; k0 += KC) {
        const size_t kc = k - k0 < KC ? k - k0 : KC;
        const float *block = panel + k0 * nr;
        for (size_t i = 0; i < m; i += mr) {
            const size_t rows = m - i < mr ? m - i : mr;
            float *ct = c + i * ldc;
            if (rows == mr && cols == nr) {
                kernel(kc, a + i * lda + k0, lda, block, ct, ldc, tile_bias, k0 == 0);
                continue;
            }
            memset(edge_a, 0, sizeof(float) * mr * KC);
            memset(edge_c, 0, sizeof(float) * mr * nr);
            for (size_t r = 0; r < rows; r++) {
                memcpy(edge_a + r * KC, a + (i + r) * lda + k0, kc * sizeof(float));
                if (k0 > 0) memcpy(edge_c + r * nr, ct + r * ldc, cols * sizeof(float));
            }
            kernel(kc, edge_a, KC, block, edge_c, nr, tile_bias, k0 == 0);
            for (size_t r = 0; r < rows; r++) memcpy(ct + r * ldc, edge_c + r * nr, cols * sizeof(float));
        }
        if (k == 0) break;
    }
}

size_t onboard_f32_gemm_nr(void) {
    for (size_t i = 0; i < KERNELS; i++)
        if (onboard_isa_allows(kernels[i].flags)) return kernels[i].nr;
    return 16; /* unreachable: the scalar kernel needs nothing */
}

size_t onboard_f32_gemm_widest_nr(void) {
    const uint32_t cpu = onboard_cpu_isa_flags();
    size_t widest = 0;
    for (size_t i = 0; i < KERNELS; i++)
        if ((cpu & kernels[i].flags) == kernels[i].flags && kernels[i].nr > widest) widest = kernels[i].nr;
    return widest;
}

/* The first kernel of panel width nr the cap allows. A cap lowered after B was packed may allow
 * none: the kernel B was packed for runs it still, as a packed layout cannot follow the cap. */
static int kernel_for(size_t nr) {
    for (size_t i = 0; i < KERNELS; i++)
        if (kernels[i].nr == nr && onboard_isa_allows(kernels[i].flags)) return (int)i;
    const uint32_t cpu = onboard_cpu_isa_flags();
    for (size_t i = 0; i < KERNELS; i++)
        if (kernels[i].nr == nr && (cpu & kernels[i].flags) == kernels[i].flags) return (int)i;
    return -1;
}

void onboard_f32_gemm_packed(size_t m, size_t n, size_t k, const float *a, size_t lda,
                             const float *packed, size_t nr, const float *bias, float *c, size_t ldc,
                             size_t panel_begin, size_t panel_end) {
    const int chosen = kernel_for(nr);
    if (chosen < 0) return; /* no kernel packs this width: the caller broke the contract */
    for (size_t p = panel_begin; p < panel_end; p++) {
        const size_t cols = n - p * nr < nr ? n - p * nr : nr;
        panel_driver(kernels[chosen].run, kernels[chosen].mr, nr, m, cols, k, a, lda, packed + p * nr * k,
                     bias ? bias + p * nr : NULL, c + p * nr, ldc);
    }
}
