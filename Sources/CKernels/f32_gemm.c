/* FP32 GEMM on packed B: scalar reference, a portable body (auto-vectorized, nr = 16), and
 * register-blocked microkernels for AVX2 (6x16) and AVX-512 (12x32), chosen at run time. */
#include "CKernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define KC 256 /* depth block: one packed panel block (KC x nr) stays in L1 */

void onboard_f32_gemm__scalar(size_t m, size_t n, size_t k, const float *a, size_t lda,
                              const float *b, size_t ldb, const float *bias, float *c, size_t ldc) {
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = bias ? bias[j] : 0.0;
            for (size_t t = 0; t < k; t++) s += (double)a[i * lda + t] * b[t * ldb + j];
            c[i * ldc + j] = (float)s;
        }
}

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

/* ---- portable body: one row x 16 columns at a time ---- */

static void tile_generic(size_t rows, size_t cols, size_t k, const float *a, size_t lda,
                         const float *panel, const float *bias, float *c, size_t ldc) {
    for (size_t i = 0; i < rows; i++) {
        float acc[16];
        for (size_t j = 0; j < 16; j++) acc[j] = bias && j < cols ? bias[j] : 0.0f;
        for (size_t t = 0; t < k; t++) {
            const float av = a[i * lda + t];
            const float *bp = panel + t * 16;
            for (size_t j = 0; j < 16; j++) acc[j] += av * bp[j];
        }
        for (size_t j = 0; j < cols; j++) c[i * ldc + j] = acc[j];
    }
}

#if defined(__x86_64__)
/* The microkernels below always compute a full MR-row tile with constant loop bounds, so the
 * accumulators stay in registers; edge tiles go through zero-padded copies (edge_tile). */

/* ---- AVX2 + FMA: 6 rows x 16 columns, 12 accumulators ---- */

#define AVX2_ATTR __attribute__((target("avx2,fma")))
#define MR2 6

/* c[0..6)[0..16) (+)= a[0..6)[0..kc) · panel[0..kc)[0..16); init: bias row (or zero) when first. */
static AVX2_ATTR void kernel_6x16__avx2(size_t kc, const float *a, size_t lda, const float *panel,
                                        float *c, size_t ldc, const float *bias, int first) {
    __m256 acc[MR2][2];
    for (int i = 0; i < MR2; i++) {
        acc[i][0] = first ? (bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps()) : _mm256_loadu_ps(c + i * ldc);
        acc[i][1] = first ? (bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps()) : _mm256_loadu_ps(c + i * ldc + 8);
    }
    for (size_t t = 0; t < kc; t++) {
        const __m256 b0 = _mm256_loadu_ps(panel + t * 16), b1 = _mm256_loadu_ps(panel + t * 16 + 8);
        for (int i = 0; i < MR2; i++) {
            const __m256 av = _mm256_broadcast_ss(a + i * lda + t);
            acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < MR2; i++) {
        _mm256_storeu_ps(c + i * ldc, acc[i][0]);
        _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
    }
}

/* ---- AVX-512: 12 rows x 32 columns, 24 accumulators ---- */

#define AVX512_ATTR __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
#define MR5 12

static AVX512_ATTR void kernel_12x32__avx512(size_t kc, const float *a, size_t lda, const float *panel,
                                             float *c, size_t ldc, const float *bias, int first) {
    __m512 acc[MR5][2];
    for (int i = 0; i < MR5; i++) {
        acc[i][0] = first ? (bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps()) : _mm512_loadu_ps(c + i * ldc);
        acc[i][1] = first ? (bias ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps()) : _mm512_loadu_ps(c + i * ldc + 16);
    }
    for (size_t t = 0; t < kc; t++) {
        const __m512 b0 = _mm512_loadu_ps(panel + t * 32), b1 = _mm512_loadu_ps(panel + t * 32 + 16);
        for (int i = 0; i < MR5; i++) {
            const __m512 av = _mm512_set1_ps(a[i * lda + t]);
            acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < MR5; i++) {
        _mm512_storeu_ps(c + i * ldc, acc[i][0]);
        _mm512_storeu_ps(c + i * ldc + 16, acc[i][1]);
    }
}
#endif

typedef void (*tile_kernel)(size_t kc, const float *a, size_t lda, const float *panel, float *c,
                            size_t ldc, const float *bias, int first);

/* Runs `kernel` (mr x nr) over one panel of C, depth-blocked by KC; tiles that overhang M or N
 * go through zero-padded copies of A, bias and C. */
static void panel_driver(tile_kernel kernel, size_t mr, size_t nr, size_t m, size_t cols, size_t k,
                         const float *a, size_t lda, const float *panel, const float *bias,
                         float *c, size_t ldc) {
    float edge_a[12 * KC], edge_c[12 * 32], edge_bias[32];
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
#if defined(__x86_64__)
    if (onboard_f32_usable_isa() & ONBOARD_ISA_AVX512F) return 32;
#endif
    return 16;
}

void onboard_f32_gemm_packed(size_t m, size_t n, size_t k, const float *a, size_t lda,
                             const float *packed, size_t nr, const float *bias, float *c, size_t ldc,
                             size_t panel_begin, size_t panel_end) {
    tile_kernel kernel = NULL;
    size_t mr = 0;
#if defined(__x86_64__)
    const unsigned isa = onboard_f32_usable_isa();
    if (nr == 32 && (isa & ONBOARD_ISA_AVX512F)) { kernel = kernel_12x32__avx512; mr = MR5; }
    else if (nr == 16 && (isa & ONBOARD_ISA_AVX2)) { kernel = kernel_6x16__avx2; mr = MR2; }
#endif
    for (size_t p = panel_begin; p < panel_end; p++) {
        const size_t cols = n - p * nr < nr ? n - p * nr : nr;
        const float *panel = packed + p * nr * k;
        const float *pb = bias ? bias + p * nr : NULL;
        if (kernel) {
            panel_driver(kernel, mr, nr, m, cols, k, a, lda, panel, pb, c + p * nr, ldc);
        } else if (nr == 16) {
            tile_generic(m, cols, k, a, lda, panel, pb, c + p * nr, ldc);
        }
        /* Any other nr was packed for a kernel this CPU lacks: the caller broke the contract. */
    }
}
