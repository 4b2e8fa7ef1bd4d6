/* The portability header of msparam's C kernels: the instruction sets they are compiled for and
 * the widest one to use, the vector types, and every compiler builtin they need.  No other
 * header names a builtin or declares a vector type.
 *
 * Kernels are instantiated per ISA with GCC target attributes (MSP_TARGET_*), never with -march
 * flags, so every module stays portable; msp_cpu_isa() picks the instantiation at run time.
 * GCC vector extensions (clang has them too) lower to SSE2/NEON in the portable build.
 */
#ifndef MSPARAM_CPU_ISA_H
#define MSPARAM_CPU_ISA_H

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MSP_ISA_BASE 0
#define MSP_ISA_AVX2 1
#define MSP_ISA_AVX512 2
#define MSP_ISA_COUNT 3

/* The names of MSP_ISA_*, as MSPARAM_CPU_ISA and the modules' available_isas() spell them. */
static const char *const msp_isa_names[MSP_ISA_COUNT] = {"base", "avx2", "avx512"};

#if defined(__GNUC__) && defined(__x86_64__)
#define MSP_X86 1
#define MSP_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define MSP_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#else
#define MSP_X86 0
#endif

/* Vectors of 16, 32 and 64 bytes: float (f), double (d), uint64 (u), int64 (i), uint32 (w) and
 * int32 (m), named by lane count. */
typedef float msp_f4 __attribute__((vector_size(16)));
typedef float msp_f8 __attribute__((vector_size(32)));
typedef float msp_f16 __attribute__((vector_size(64)));
typedef double msp_d2 __attribute__((vector_size(16)));
typedef double msp_d4 __attribute__((vector_size(32)));
typedef double msp_d8 __attribute__((vector_size(64)));
typedef int64_t msp_i2 __attribute__((vector_size(16)));
typedef uint64_t msp_u4 __attribute__((vector_size(32)));
typedef uint64_t msp_u8 __attribute__((vector_size(64)));
typedef int64_t msp_i4 __attribute__((vector_size(32)));
typedef int64_t msp_i8 __attribute__((vector_size(64)));
typedef uint32_t msp_w4 __attribute__((vector_size(16)));
typedef uint32_t msp_w8 __attribute__((vector_size(32)));
typedef int32_t msp_m4 __attribute__((vector_size(16)));
typedef int32_t msp_m8 __attribute__((vector_size(32)));
typedef int32_t msp_m16 __attribute__((vector_size(64)));

/* Lane-wise conversion of vector v to vector type VT (same lane count). */
#define MSP_CONVERT(v, VT) __builtin_convertvector(v, VT)

/* The bytes of a uint32 in reverse order. */
#define MSP_BSWAP32(x) __builtin_bswap32(x)

/* Lanes of the concatenation a:b picked by constant indices.  GCC's __builtin_shuffle takes the
 * indices as a vector of type VT, clang's __builtin_shufflevector as arguments (GCC has the
 * latter only from GCC 12, older manylinux toolchains lack it). */
#if defined(__clang__)
#define MSP_SHUFFLE2(VT, a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define MSP_SHUFFLE2(VT, a, b, ...) __builtin_shuffle(a, b, (VT){__VA_ARGS__})
#endif

/* count 8-byte words of value stored from destination.  On x86 this is rep stosq: its
 * fast-string microcode writes whole cache lines without reading them first (what glibc's
 * memset does for large sizes), about 20 % faster than vector stores for a 4 MB fill; a plain
 * loop elsewhere.  The asm writes exactly count words (the sanitizers do not see it). */
static inline void msp_store_repeated_u64(void *destination, uint64_t value, size_t count)
{
#if MSP_X86
    __asm__ volatile("rep stosq" : "+D"(destination), "+c"(count) : "a"(value) : "memory");
#else
    unsigned char *bytes = (unsigned char *)destination;
    for (size_t i = 0; i < count; ++i)
        memcpy(bytes + 8 * i, &value, 8);
#endif
}

/* Widest ISA this CPU (and OS) supports, one of MSP_ISA_*. */
static inline int msp_cpu_supported_isa(void)
{
#if MSP_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return MSP_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return MSP_ISA_AVX2;
#endif
    return MSP_ISA_BASE;
}

/* Whether the CPU has carry-less multiply with SSE4.1 (crc32.h's folding path). */
static inline int msp_cpu_has_clmul(void)
{
#if MSP_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#else
    return 0;
#endif
}

/* The ISA the kernels use: the widest supported one, capped by the environment variable
 * MSPARAM_CPU_ISA = base | avx2 | avx512 (any case), so that a user or a benchmark can run the
 * narrower paths of a wide CPU (like PyTorch's ATEN_CPU_CAPABILITY).  The cap never raises the
 * ISA above what the CPU supports; an unset, empty or unknown value leaves it uncapped. */
static inline int msp_cpu_isa(void)
{
    int isa = msp_cpu_supported_isa();
    const char *cap = getenv("MSPARAM_CPU_ISA");
    if (cap == NULL) return isa;
    for (int i = 0; i < isa; ++i) {
        /* case-insensitive comparison (strcasecmp is POSIX only) */
        const char *a = cap, *b = msp_isa_names[i];
        while (*a && tolower((unsigned char)*a) == *b) ++a, ++b;
        if (*a == 0 && *b == 0) return i;
    }
    return isa;
}

#endif
