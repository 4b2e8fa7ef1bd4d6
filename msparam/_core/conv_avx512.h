/* Conv2d micro-kernels for AVX-512F: 512-bit vectors, 32 registers. */
#ifndef MSPARAM_CONV_AVX512_H
#define MSPARAM_CONV_AVX512_H

#include "conv_microkernels.h"

#if MSP_X86
MSP_DEFINE_CONV_ISA(avx512, MSP_TARGET_AVX512, msp_f16, 16, msp_d8, 8,
                    /* pixel vectors, MR and vectors (float, double): */ 8, 3, 8, 3,
                    /* channel vectors, MR and NR (float, double): */ 32, 14, 16, 12,
                    /* Winograd products, MR and vectors of tiles: */ 16, 1, 12, 2, 6, 4)
#endif

#endif
