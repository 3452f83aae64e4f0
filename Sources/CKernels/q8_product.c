/* Products of two activations (q8_gemm.h, onboard_q8_product_*): q8's GEMM where an int8 dot
 * product multiplies full-range codes exactly; elsewhere a family on int16 pairs of B, which
 * vpmaddwd multiplies exactly without widening anything in its loop (q8's kernel there widens
 * both operands as it goes). Same shifted codes, column sums and epilogue either way. */
#include "q8_gemm_kernels.h"

static const q8_kernel_entry kernels[] = {ONBOARD_Q8_PRODUCT_KERNELS(ONBOARD_Q8_KERNEL_ENTRY)};
static const q8_a_packer a_packers[] = {ONBOARD_Q8_PRODUCT_A_PACKERS(ONBOARD_Q8_A_PACKER) {NULL, NULL, 1, 0, 1}};
static const q8_kernel_entry q8_kernels[] = {ONBOARD_Q8_GEMM_KERNELS(ONBOARD_Q8_KERNEL_ENTRY)};

static const q8_gemm_family wide_family = {
    kernels, sizeof kernels / sizeof kernels[0], NULL, 0, a_packers, 16, q8_packed_column_sums,
};

static const q8_kernel_entry *first_allowed(const q8_kernel_entry *list, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (onboard_isa_allows(list[i].flags)) return &list[i];
    return &list[count - 1];
}

/* The int16 family when its kernel needs at least what q8's best kernel needs, as for 7-bit B: a
 * dot-product kernel keeps precedence, and under the scalar cap both families run plain loops. */
bool onboard_q8_product_is_wide(void) {
    const q8_kernel_entry *wide = first_allowed(kernels, sizeof kernels / sizeof kernels[0]);
    const q8_kernel_entry *q8 = first_allowed(q8_kernels, sizeof q8_kernels / sizeof q8_kernels[0]);
    return (wide->flags & q8->flags) == q8->flags;
}

/* Room for either layout: int16 pairs take twice q8's panels. */
size_t onboard_q8_product_packed_size(size_t k, size_t n) { return 2 * onboard_q8_packed_size(k, n); }

void q8_widen_groups(const int8_t *groups, size_t count, int16_t *dst) {
#define ARGS groups, count, dst
    ONBOARD_Q8_PRODUCT_WIDEN_KERNELS(ONBOARD_RUN_FIRST_THAT_TAKES)
#undef ARGS
}

void onboard_q8_product_pack_b(const uint8_t *b, size_t ldb, bool transposed, size_t k, size_t n, void *packed,
                               int32_t *col_sums) {
    if (!onboard_q8_product_is_wide()) {
        onboard_q8_pack_b_u8(b, ldb, transposed, k, n, packed, col_sums);
        return;
    }
    /* q8's packing into the upper half, widened group by group from the front: of G groups, group
     * g's output [128 g, 128 (g + 1)) ends at or below the next group's input (64 (G + g + 1)), and
     * the widening kernels read a group whole before they write it. */
    const size_t bytes = onboard_q8_packed_size(k, n);
    int8_t *codes = (int8_t *)packed + bytes;
    onboard_q8_pack_b_u8(b, ldb, transposed, k, n, codes, col_sums);
    q8_widen_groups(codes, bytes / (NR * 4), packed);
}

void onboard_q8_product(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const void *packed,
                        const onboard_q8_epilogue *e, void *c, size_t ldc, size_t panel_begin, size_t panel_end) {
    if (!onboard_q8_product_is_wide()) {
        onboard_q8_gemm(m, n, k, a, lda, packed, e, c, ldc, panel_begin, panel_end);
        return;
    }
    q8_gemm_run(&wide_family, m, n, k, a, lda, packed, e, c, ldc, panel_begin, panel_end, 0);
}
