/* Conv2d micro-kernels of the portable build: 128-bit vectors (SSE2 on x86-64, NEON on arm64).
 * The tiles are the widest whose accumulators fit 16 vector registers. */
#ifndef MSPARAM_CONV_BASE_H
#define MSPARAM_CONV_BASE_H

#include "conv_microkernels.h"

MSP_DEFINE_CONV_ISA(base, , msp_f4, 4, msp_d2, 2,
                    /* pixel vectors, MR and vectors (float, double): */ 4, 2, 4, 2,
                    /* channel vectors, MR and NR (float, double): */ 8, 4, 4, 4,
                    /* Winograd products, MR and vectors of tiles: */ 12, 1, 6, 2, 4, 3)

#endif
