/* Conv2d micro-kernels for AVX-512F: 512-bit vectors, 32 registers. */
#ifndef MSPARAM_CONV_AVX512_H
#define MSPARAM_CONV_AVX512_H

#include "conv_microkernels.h"

#if MSP_X86
MSP_DEFINE_DENSE_PV(msp_dense_pv_f32_avx512, MSP_TARGET_AVX512, float, msp_f16, 16, 8, 3)
MSP_DEFINE_DENSE_PV(msp_dense_pv_f64_avx512, MSP_TARGET_AVX512, double, msp_d8, 8, 8, 3)
MSP_DEFINE_DENSE_CV(msp_dense_cv_f32_avx512, MSP_TARGET_AVX512, float, msp_f16, 16, 32, 14)
MSP_DEFINE_DENSE_CV(msp_dense_cv_f64_avx512, MSP_TARGET_AVX512, double, msp_d8, 8, 16, 12)
MSP_DEFINE_DW(msp_dw_f32_avx512, MSP_TARGET_AVX512, float, msp_f16, 16)
MSP_DEFINE_DW(msp_dw_f64_avx512, MSP_TARGET_AVX512, double, msp_d8, 8)
MSP_DEFINE_DW_PLANE(msp_dw_plane_f32_avx512, MSP_TARGET_AVX512, float, msp_f16, 16)
MSP_DEFINE_DW_PLANE(msp_dw_plane_f64_avx512, MSP_TARGET_AVX512, double, msp_d8, 8)
MSP_DEFINE_STORE(msp_store_f32_avx512, MSP_TARGET_AVX512, float, msp_f16, 16)
MSP_DEFINE_STORE(msp_store_f64_avx512, MSP_TARGET_AVX512, double, msp_d8, 8)
MSP_DEFINE_GATHER(msp_gather_f32_avx512, MSP_TARGET_AVX512, float)
MSP_DEFINE_GATHER(msp_gather_f64_avx512, MSP_TARGET_AVX512, double)

MSP_DEFINE_CONV_KERNELS(f32, avx512)
MSP_DEFINE_CONV_KERNELS(f64, avx512)
#endif

#endif
