#ifndef ONBOARD_F32_GEMM_H
#define ONBOARD_F32_GEMM_H
#include <stddef.h>
#include <stdbool.h>

/* Single-precision GEMM on a pre-packed right-hand side:
 *   C[M,N] = A[M,K] · B[K,N] (+ bias[N])
 * B is packed once into column panels of width `nr` (zero padded), each panel K-major:
 * packed[p][k][j] = B[k][p*nr + j]. A and C are row-major with leading dimensions. */

/* Panel width of the kernel the ISA cap selects (32 with AVX-512, 16 otherwise). */
size_t onboard_f32_gemm_nr(void);

/* The widest panel of any kernel this CPU has, whatever the cap: scratch sized for packing at it
 * fits a pack made under any cap set later. */
size_t onboard_f32_gemm_widest_nr(void);

/* Floats needed for a packed B of K x N with panel width nr. */
size_t onboard_f32_gemm_packed_size(size_t k, size_t n, size_t nr);

/* Packs B. With `transposed`, B is given as [N, K] (row n holds column n), as PyTorch's
 * Linear weight is. */
void onboard_f32_gemm_pack_b(const float *b, size_t ldb, bool transposed, size_t k, size_t n,
                             size_t nr, float *packed);

/* Computes the columns of panels [panel_begin, panel_end) of C; panels are independent, so
 * threads may split them. `bias` may be NULL. `nr` is the one B was packed with, normally
 * onboard_f32_gemm_nr() at packing time: the first kernel of that width the cap allows runs. */
void onboard_f32_gemm_packed(size_t m, size_t n, size_t k, const float *a, size_t lda,
                             const float *packed, size_t nr, const float *bias, float *c, size_t ldc,
                             size_t panel_begin, size_t panel_end);

/* Reference: plain triple loop on unpacked row-major B (K x N), double accumulation. */
void onboard_f32_gemm__scalar(size_t m, size_t n, size_t k, const float *a, size_t lda,
                              const float *b, size_t ldb, const float *bias, float *c, size_t ldc);
#endif
