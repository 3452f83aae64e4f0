#ifndef ONBOARD_ISA_H
#define ONBOARD_ISA_H
#include <stddef.h>
#include <stdint.h>

/* Instruction-set features, as a bitmask ordered from slowest to fastest path. A kernel needs
 * some of them (its line in its family's list, <family>_kernels.h); it runs when the CPU has
 * them and the one cap below allows them. */
enum onboard_isa_flags {
    ONBOARD_ISA_AVX2        = 1u << 0,  /* AVX2 + FMA */
    ONBOARD_ISA_AVX512F     = 1u << 1,  /* AVX-512 F/BW/DQ/VL */
    ONBOARD_ISA_AVXVNNI     = 1u << 2,  /* VEX-encoded VNNI (only with AVX2) */
    ONBOARD_ISA_AVX512VNNI  = 1u << 3,  /* (only with AVX512F) */
    ONBOARD_ISA_AVX512VBMI  = 1u << 4,  /* (only with AVX512F) */
    ONBOARD_ISA_NEON        = 1u << 8,  /* arm64 Advanced SIMD (every arm64 CPU has it) */
    ONBOARD_ISA_NEON_DOT    = 1u << 9,  /* arm64 sdot/udot (Armv8.2 FEAT_DotProd) */
    ONBOARD_ISA_NEON_I8MM   = 1u << 10, /* arm64 smmla/usmmla/usdot (Armv8.6 FEAT_I8MM) */
};

/* The paths ONBOARD_ISA names, slowest first, one line each: the name, the flags a CPU must have
 * for the name to be accepted, and the cap the name sets for every kernel family. */
#define ONBOARD_ISA_LEVELS(X)                                                                           \
    X(scalar,     0,                                          0)                                        \
    X(avx2,       ONBOARD_ISA_AVX2,                           ONBOARD_ISA_AVX2)                         \
    X(avxvnni,    ONBOARD_ISA_AVX2 | ONBOARD_ISA_AVXVNNI,     ONBOARD_ISA_AVX2 | ONBOARD_ISA_AVXVNNI)   \
    X(avx512vnni, ONBOARD_ISA_AVX512F | ONBOARD_ISA_AVX512VNNI,                                        \
                  ONBOARD_ISA_AVX2 | ONBOARD_ISA_AVXVNNI | ONBOARD_ISA_AVX512F | ONBOARD_ISA_AVX512VNNI \
                  | ONBOARD_ISA_AVX512VBMI)                                                             \
    X(neon,       ONBOARD_ISA_NEON,                           ONBOARD_ISA_NEON)                         \
    X(neondot,    ONBOARD_ISA_NEON | ONBOARD_ISA_NEON_DOT,    ONBOARD_ISA_NEON | ONBOARD_ISA_NEON_DOT)  \
    X(i8mm,       ONBOARD_ISA_NEON | ONBOARD_ISA_NEON_DOT | ONBOARD_ISA_NEON_I8MM,                     \
                  ONBOARD_ISA_NEON | ONBOARD_ISA_NEON_DOT | ONBOARD_ISA_NEON_I8MM)

/* Features of the running CPU (and OS state saving), detected once. */
uint32_t onboard_cpu_isa_flags(void);

/* The cap: kernels may use only the flags it holds (ONBOARD_ISA_NO_CAP: all the CPU has). One cap
 * for every family; OnboardGraph's KernelISA sets it from ONBOARD_ISA. Returns the previous cap. */
#define ONBOARD_ISA_NO_CAP 0xFFFFFFFFu
uint32_t onboard_isa_set_cap(uint32_t cap);
/* The CPU's features under the cap. */
uint32_t onboard_isa_usable(void);

/* The ONBOARD_ISA_LEVELS lines, for the names ONBOARD_ISA accepts. */
typedef struct {
    const char *name;
    uint32_t needs;
    uint32_t cap;
} onboard_isa_level;
size_t onboard_isa_level_count(void);
onboard_isa_level onboard_isa_level_at(size_t index);

/* One line of a family's kernel list, as tests and tools iterate over them (every kernel built for
 * this architecture, fastest first within its family and op). */
typedef struct {
    const char *family;  /* "f32_gemm", "f32_math", "f32_scan", "q8_gemm", "q4_gemm", "q8_rows", "q8_codecs", "movement" */
    const char *op;      /* the operation it computes, e.g. "q8_gemm", "q8_layernorm_rows" */
    const char *name;    /* its function: onboard_<op>[_<tile>]__<isa> */
    const char *isa;     /* the name's suffix: scalar, avx2, avx512f, ... */
    uint32_t isa_flags;  /* onboard_isa_flags it needs */
    uint32_t mr, nr;     /* a GEMM kernel's tile (rows x columns of C); 0 elsewhere */
} onboard_kernel;
size_t onboard_kernel_count(void);
onboard_kernel onboard_kernel_at(size_t index);
#endif
