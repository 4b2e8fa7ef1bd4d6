/* The instruction sets msparam's kernels are compiled for, and the widest one to use.
 *
 * Kernels are instantiated per ISA with GCC target attributes (MSP_TARGET_*), never with -march
 * flags, so every module stays portable; msp_cpu_isa() picks the instantiation at run time.
 */
#ifndef MSPARAM_CPU_ISA_H
#define MSPARAM_CPU_ISA_H

#include <ctype.h>
#include <stdlib.h>

#define MSP_ISA_BASE 0
#define MSP_ISA_AVX2 1
#define MSP_ISA_AVX512 2

#if defined(__GNUC__) && defined(__x86_64__)
#define MSP_X86 1
#define MSP_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define MSP_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#else
#define MSP_X86 0
#endif

/* Lanes of the concatenation a:b picked by constant indices.  GCC's __builtin_shuffle takes the
 * indices as a vector of type VT, clang's __builtin_shufflevector as arguments (GCC has the
 * latter only from GCC 12, older manylinux toolchains lack it). */
#if defined(__clang__)
#define MSP_SHUFFLE2(VT, a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define MSP_SHUFFLE2(VT, a, b, ...) __builtin_shuffle(a, b, (VT){__VA_ARGS__})
#endif

/* Widest ISA this CPU (and OS) supports, one of MSP_ISA_*. */
static int msp_cpu_supported_isa(void)
{
#if MSP_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return MSP_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return MSP_ISA_AVX2;
#endif
    return MSP_ISA_BASE;
}

/* The ISA the kernels use: the widest supported one, capped by the environment variable
 * MSPARAM_CPU_ISA = base | avx2 | avx512 (any case), so that a user or a benchmark can run the
 * narrower paths of a wide CPU (like PyTorch's ATEN_CPU_CAPABILITY).  The cap never raises the
 * ISA above what the CPU supports; an unset, empty or unknown value leaves it uncapped. */
static int msp_cpu_isa(void)
{
    static const char *const names[] = {"base", "avx2", "avx512"};
    int isa = msp_cpu_supported_isa();
    const char *cap = getenv("MSPARAM_CPU_ISA");
    if (cap == NULL) return isa;
    for (int i = 0; i < isa; ++i) {
        /* case-insensitive comparison (strcasecmp is POSIX only) */
        const char *a = cap, *b = names[i];
        while (*a && tolower((unsigned char)*a) == *b) ++a, ++b;
        if (*a == 0 && *b == 0) return i;
    }
    return isa;
}

#endif
