/* Conv2d micro-kernels for AVX2 + FMA: 256-bit vectors, 16 registers. */
#ifndef MSPARAM_CONV_AVX2_H
#define MSPARAM_CONV_AVX2_H

#include "conv_microkernels.h"

#if MSP_X86
MSP_DEFINE_CONV_ISA(avx2, MSP_TARGET_AVX2, msp_f8, 8, msp_d4, 4,
                    /* pixel vectors, MR and vectors (float, double): */ 4, 3, 4, 3,
                    /* channel vectors, MR and NR (float, double): */ 16, 6, 8, 6,
                    /* Winograd products, MR and vectors of tiles: */ 12, 1, 6, 2, 4, 3)
#endif

#endif
