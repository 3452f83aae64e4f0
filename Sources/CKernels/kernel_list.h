/* Private to CKernels: what the kernel lists (<family>_kernels.h) and their dispatch share.
 *
 * A kernel is named by its spec: onboard_<op>[_<tile>]__<isa>, where <tile> is a GEMM's MRxNR (c4:
 * four depths per 32-bit lane), u<N>, the elements one step of a hand-written vector kernel takes,
 * or c<N>, the channels one step of a scan carries; no tile: the family's portable loops compiled
 * for <isa> (auto-vectorized). `__scalar` is the portable build, the one ONBOARD_ISA=scalar runs.
 * Each ISA's kernels of a family are in <family>__<isa>.c, with per-function target attributes. */
#ifndef ONBOARD_KERNEL_LIST_H
#define ONBOARD_KERNEL_LIST_H
#include "isa.h"

#include <stdbool.h>

/* List lines of one architecture's kernels, dropped when building for another. */
#if defined(__x86_64__)
#define ONBOARD_X86(...) __VA_ARGS__
#else
#define ONBOARD_X86(...)
#endif
#if defined(__aarch64__)
#define ONBOARD_ARM64(...) __VA_ARGS__
#else
#define ONBOARD_ARM64(...)
#endif

/* Whether the CPU has, and the cap allows, every flag in `flags`. */
static inline bool onboard_isa_allows(uint32_t flags) { return (onboard_isa_usable() & flags) == flags; }

/* Dispatch along an op's list of (op, tile, isa, flags) lines: every kernel of an op takes the op's
 * arguments and returns false when they are outside what it covers (then the next one runs them;
 * the scalar one covers all). Used as LIST(ONBOARD_RUN_FIRST_THAT_TAKES) inside the op's public
 * function, with ARGS defined as its argument list. */
#define ONBOARD_RUN_FIRST_THAT_TAKES(op, tile, isa, flags) \
    if (onboard_isa_allows(flags) && onboard_##op##tile##__##isa(ARGS)) return;

#endif
