/* CPU feature detection (onboard_cpu_isa_flags in isa.h). */
#include "isa.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>

static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static uint32_t detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 0;
    const uint64_t xcr0 = read_xcr0();
    const int ymm_state = (xcr0 & 0x6) == 0x6;
    const int zmm_state = (xcr0 & 0xE6) == 0xE6;
    if (!ymm_state) return 0;

    unsigned a7 = 0, b7 = 0, c7 = 0, d7 = 0, a71 = 0, b71 = 0, c71 = 0, d71 = 0;
    __cpuid_count(7, 0, a7, b7, c7, d7);
    __cpuid_count(7, 1, a71, b71, c71, d71);
    uint32_t flags = 0;
    if (((b7 >> 5) & 1) && fma) flags |= ONBOARD_ISA_AVX2;
    const int avx512 = zmm_state && ((b7 >> 16) & 1) /* F */ && ((b7 >> 17) & 1) /* DQ */
                       && ((b7 >> 30) & 1) /* BW */ && ((b7 >> 31) & 1) /* VL */;
    if (avx512) flags |= ONBOARD_ISA_AVX512F;
    if ((flags & ONBOARD_ISA_AVX2) && ((a71 >> 4) & 1)) flags |= ONBOARD_ISA_AVXVNNI;
    if (avx512 && ((c7 >> 11) & 1)) flags |= ONBOARD_ISA_AVX512VNNI;
    if (avx512 && ((c7 >> 1) & 1)) flags |= ONBOARD_ISA_AVX512VBMI;
    return flags;
}

#elif defined(__aarch64__)
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif
static uint32_t detect(void) {
    uint32_t flags = ONBOARD_ISA_NEON;
    if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) flags |= ONBOARD_ISA_NEON_DOT;
    if ((flags & ONBOARD_ISA_NEON_DOT) && (getauxval(AT_HWCAP2) & HWCAP2_I8MM)) flags |= ONBOARD_ISA_NEON_I8MM;
    return flags;
}
#elif defined(__APPLE__)
#include <sys/sysctl.h>
static uint32_t detect(void) { /* every Apple arm64 core has dot product; i8mm from M2 on */
    int i8mm = 0;
    size_t size = sizeof i8mm;
    if (sysctlbyname("hw.optional.arm.FEAT_I8MM", &i8mm, &size, NULL, 0) != 0) i8mm = 0;
    return ONBOARD_ISA_NEON | ONBOARD_ISA_NEON_DOT | (i8mm ? ONBOARD_ISA_NEON_I8MM : 0);
}
#else
static uint32_t detect(void) { return ONBOARD_ISA_NEON; }
#endif

#else
static uint32_t detect(void) { return 0; }
#endif

uint32_t onboard_cpu_isa_flags(void) {
    static volatile int cached = -1;
    if (cached < 0) cached = (int)detect();
    return (uint32_t)cached;
}
