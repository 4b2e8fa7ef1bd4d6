/* Repeats of a 64-byte pattern (a fill value of any numeric itemsize, laid out once): a pattern
 * of one repeated 8-byte word through cpu_isa.h's msp_store_repeated_u64, a wider one (complex128)
 * with the widest vector stores the CPU has.  Copying a filled start forward instead (what a fill did
 * before) reads every byte it writes once more: on AVX-512 hardware that made a 4 MB float32
 * fill of 1.0 about 20 % slower than PyTorch's store loop, while a memset (one repeated byte)
 * was not.  Instantiated per ISA like the other kernels (cpu_isa.h's MSP_TARGET_*). */
#ifndef MSPARAM_FILL_KERNELS_H
#define MSPARAM_FILL_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu_isa.h"

#define MSP_FILL_PATTERN_BYTES 64

/* Stores of VT vectors: a whole pattern per iteration, the tail byte by byte from the pattern. */
#define MSP_DEFINE_PATTERN_FILL(NAME, TARGET, VT)                                          \
    TARGET static void NAME(char *destination, size_t nbytes, const char *pattern)          \
    {                                                                                       \
        enum { LANES = MSP_FILL_PATTERN_BYTES / sizeof(VT) };                               \
        VT repeat[LANES];                                                                   \
        memcpy(repeat, pattern, MSP_FILL_PATTERN_BYTES);                                    \
        size_t done = 0;                                                                    \
        for (; done + MSP_FILL_PATTERN_BYTES <= nbytes; done += MSP_FILL_PATTERN_BYTES)     \
            for (int lane = 0; lane < LANES; ++lane)                                        \
                memcpy(destination + done + lane * sizeof(VT), &repeat[lane], sizeof(VT));  \
        memcpy(destination + done, pattern, nbytes - done);                                 \
    }

MSP_DEFINE_PATTERN_FILL(msp_pattern_fill_base, , msp_f4)
#if MSP_X86
MSP_DEFINE_PATTERN_FILL(msp_pattern_fill_avx2, MSP_TARGET_AVX2, msp_f8)
MSP_DEFINE_PATTERN_FILL(msp_pattern_fill_avx512, MSP_TARGET_AVX512, msp_f16)
#endif

/* Fill nbytes of destination with repeats of the 64-byte pattern, on the kernels of isa (one of
 * MSP_ISA_*, at most msp_cpu_isa()).  A run that starts at a multiple of 64 bytes of a fill
 * continues its repetition. */
static inline void msp_pattern_fill(int isa, char *destination, size_t nbytes, const char *pattern)
{
    if (memcmp(pattern, pattern + 8, MSP_FILL_PATTERN_BYTES - 8) == 0) {
        /* items of at most 8 bytes (all but complex128): a repeated word, stored without reading
           the lines first; the run starts at a multiple of 64 bytes, so its tail is the
           pattern's start */
        uint64_t word;
        memcpy(&word, pattern, 8);
        msp_store_repeated_u64(destination, word, nbytes / 8);
        memcpy(destination + nbytes / 8 * 8, pattern, nbytes % 8);
        return;
    }
#if MSP_X86
    if (isa == MSP_ISA_AVX512) { msp_pattern_fill_avx512(destination, nbytes, pattern); return; }
    if (isa == MSP_ISA_AVX2) { msp_pattern_fill_avx2(destination, nbytes, pattern); return; }
#endif
    (void)isa;
    msp_pattern_fill_base(destination, nbytes, pattern);
}

#endif
