/* Conv2d micro-kernels of the portable build: 128-bit vectors (SSE2 on x86-64, NEON on arm64).
 * The tiles are the widest whose accumulators fit 16 vector registers. */
#ifndef MSPARAM_CONV_BASE_H
#define MSPARAM_CONV_BASE_H

#include "conv_microkernels.h"

MSP_DEFINE_DENSE_PV(msp_dense_pv_f32_base, , float, msp_f4, 4, 4, 2)
MSP_DEFINE_DENSE_PV(msp_dense_pv_f64_base, , double, msp_d2, 2, 4, 2)
MSP_DEFINE_DENSE_CV(msp_dense_cv_f32_base, , float, msp_f4, 4, 8, 4)
MSP_DEFINE_DENSE_CV(msp_dense_cv_f64_base, , double, msp_d2, 2, 4, 4)
MSP_DEFINE_DW(msp_dw_f32_base, , float, msp_f4, 4)
MSP_DEFINE_DW(msp_dw_f64_base, , double, msp_d2, 2)
MSP_DEFINE_DW_PLANE(msp_dw_plane_f32_base, , float, msp_f4, 4)
MSP_DEFINE_DW_PLANE(msp_dw_plane_f64_base, , double, msp_d2, 2)
MSP_DEFINE_STORE(msp_store_f32_base, , float, msp_f4, 4)
MSP_DEFINE_STORE(msp_store_f64_base, , double, msp_d2, 2)
MSP_DEFINE_GATHER(msp_gather_f32_base, , float)
MSP_DEFINE_GATHER(msp_gather_f64_base, , double)

MSP_DEFINE_CONV_KERNELS(f32, base)
MSP_DEFINE_CONV_KERNELS(f64, base)

#endif
