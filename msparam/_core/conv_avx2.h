/* Conv2d micro-kernels for AVX2 + FMA: 256-bit vectors, 16 registers. */
#ifndef MSPARAM_CONV_AVX2_H
#define MSPARAM_CONV_AVX2_H

#include "conv_microkernels.h"

#if MSP_X86
MSP_DEFINE_DENSE_PV(msp_dense_pv_f32_avx2, MSP_TARGET_AVX2, float, msp_f8, 8, 4, 3)
MSP_DEFINE_DENSE_PV(msp_dense_pv_f64_avx2, MSP_TARGET_AVX2, double, msp_d4, 4, 4, 3)
MSP_DEFINE_DENSE_CV(msp_dense_cv_f32_avx2, MSP_TARGET_AVX2, float, msp_f8, 8, 16, 6)
MSP_DEFINE_DENSE_CV(msp_dense_cv_f64_avx2, MSP_TARGET_AVX2, double, msp_d4, 4, 8, 6)
MSP_DEFINE_DW(msp_dw_f32_avx2, MSP_TARGET_AVX2, float, msp_f8, 8)
MSP_DEFINE_DW(msp_dw_f64_avx2, MSP_TARGET_AVX2, double, msp_d4, 4)
MSP_DEFINE_DW_PLANE(msp_dw_plane_f32_avx2, MSP_TARGET_AVX2, float, msp_f8, 8)
MSP_DEFINE_DW_PLANE(msp_dw_plane_f64_avx2, MSP_TARGET_AVX2, double, msp_d4, 4)
MSP_DEFINE_STORE(msp_store_f32_avx2, MSP_TARGET_AVX2, float, msp_f8, 8)
MSP_DEFINE_STORE(msp_store_f64_avx2, MSP_TARGET_AVX2, double, msp_d4, 4)
MSP_DEFINE_GATHER(msp_gather_f32_avx2, MSP_TARGET_AVX2, float)
MSP_DEFINE_GATHER(msp_gather_f64_avx2, MSP_TARGET_AVX2, double)

MSP_DEFINE_CONV_KERNELS(f32, avx2)
MSP_DEFINE_CONV_KERNELS(f64, avx2)
#endif

#endif
