/* Random fills: a Philox generator feeding a distribution map, chosen per ISA at run time.
 *
 * msp_fill_range() produces elements start .. start + count - 1 of a fill: it asks the generator
 * for the stream's uint32 numbers in L1-sized pieces and hands each piece to the distribution's
 * map (distributions.h).  Element i depends only on the seed and i, so a caller may split a fill
 * into block-aligned ranges on any number of threads and get the same bits.
 *
 * The generator and the maps come in an exact scalar form (base, portable) and in vector forms
 * (random_simd.h) compiled with GCC target attributes for AVX2 and AVX-512; msp_cpu_isa()
 * (cpu_isa.h) picks the widest one the CPU runs.  No -march flags: the module stays portable.
 */
#ifndef MSPARAM_RANDOM_KERNELS_H
#define MSPARAM_RANDOM_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu_isa.h"
#include "philox.h"
#include "distributions.h"
#include "truncated_normal.h"

typedef void (*msp_generator_fn)(uint64_t seed, uint64_t first, ptrdiff_t nblocks, uint32_t *out);

/* See random_simd.h: the normal and truncated normal maps' margins for their own approximation
 * errors, relative to the result, and the bounds on the vector parts' errors their exactness
 * arguments assume (tests/_core/test_random_core.py measures the parts against these): the
 * normal's radius (relative) and cos/sin (absolute), and the truncated normal's erf^-1
 * (relative). */
#define MSP_NORMAL_TOLERANCE 0x1p-44
#define MSP_TRUNCNORM_TOLERANCE 0x1p-40
#define MSP_NORMAL_PART_ERROR 0x1p-50
#define MSP_TRUNCNORM_ERF_INV_ERROR 0x1p-48
/* Vectors the truncated normal map works on at once (its Horner chains are interleaved). */
#define MSP_TN_GROUPS 4

#if MSP_X86
#include <immintrin.h>

/* Per-lane lookup in a row of 8 doubles (the truncated normal's interval tables).  AVX2 permutes
 * 8 floats, so a key holds the 32-bit indices (2 k, 2 k + 1) of slot k: they pick slot k mod 4
 * of a half row, bit 3 tells the half.  MSP_LOOKUP_NEAR reads the first half only (one
 * instruction, right for slots below 4); the full lookup blends in the second.  AVX-512 has a
 * one-instruction permute of all 8. */
MSP_TARGET_AVX2 static inline __m256i msp_lookup_key4(msp_i4 slot)
{
    const msp_u4 low = (msp_u4)slot * 2;
    return (__m256i)(low | ((low + 1) << 32));
}

MSP_TARGET_AVX2 static inline msp_d4 msp_lookup_near4(const double *row,
                                                                          __m256i key)
{
    return (msp_d4)_mm256_permutevar8x32_ps(_mm256_loadu_ps((const float *)row), key);
}

MSP_TARGET_AVX2 static inline msp_d4 msp_lookup4(const double *row,
                                                                     __m256i key)
{
    const __m256 high = _mm256_permutevar8x32_ps(_mm256_loadu_ps((const float *)(row + 4)), key);
    return (msp_d4)_mm256_blendv_pd((__m256d)msp_lookup_near4(row, key), (__m256d)high,
                                    (__m256d)((msp_u4)key << 60));
}

#define MSP_ISA_NAME avx2
#define MSP_TARGET MSP_TARGET_AVX2
#define MSP_VL 4
#define msp_vd msp_d4
#define msp_vu msp_u4
#define msp_vi msp_i4
#define msp_vf msp_f4
#define msp_vw msp_w4
#define msp_vm msp_m4
#define MSP_MUL32(a, m) ((msp_vu)_mm256_mul_epu32((__m256i)(a), _mm256_set1_epi64x(m)))
#define MSP_FMA(a, b, c) ((msp_vd)_mm256_fmadd_pd((__m256d)(a), (__m256d)(b), (__m256d)(c)))
#define MSP_SQRT(x) ((msp_vd)_mm256_sqrt_pd((__m256d)(x)))
#define MSP_ANY(m) _mm_movemask_ps((__m128)(m))
#define MSP_ZIP_LO(a, b) MSP_SHUFFLE2(msp_vu, a, b, 0, 4, 1, 5)
#define MSP_ZIP_HI(a, b) MSP_SHUFFLE2(msp_vu, a, b, 2, 6, 3, 7)
#define msp_vkey __m256i
#define MSP_LOOKUP_KEY(slot) msp_lookup_key4(slot)
#define MSP_LOOKUP(row, key) msp_lookup4(row, key)
#define MSP_LOOKUP_NEAR(row, key) msp_lookup_near4(row, key)
#define MSP_LOOKUP_NEAR_SLOTS 4
#include "random_simd.h"
#undef MSP_ISA_NAME
#undef MSP_TARGET
#undef MSP_VL
#undef msp_vd
#undef msp_vu
#undef msp_vi
#undef msp_vf
#undef msp_vw
#undef msp_vm
#undef MSP_MUL32
#undef MSP_FMA
#undef MSP_SQRT
#undef MSP_ANY
#undef MSP_ZIP_LO
#undef MSP_ZIP_HI
#undef msp_vkey
#undef MSP_LOOKUP_KEY
#undef MSP_LOOKUP
#undef MSP_LOOKUP_NEAR
#undef MSP_LOOKUP_NEAR_SLOTS

#define MSP_ISA_NAME avx512
#define MSP_TARGET MSP_TARGET_AVX512
#define MSP_VL 8
#define msp_vd msp_d8
#define msp_vu msp_u8
#define msp_vi msp_i8
#define msp_vf msp_f8
#define msp_vw msp_w8
#define msp_vm msp_m8
#define MSP_MUL32(a, m) ((msp_vu)_mm512_mul_epu32((__m512i)(a), _mm512_set1_epi64(m)))
#define MSP_FMA(a, b, c) ((msp_vd)_mm512_fmadd_pd((__m512d)(a), (__m512d)(b), (__m512d)(c)))
#define MSP_SQRT(x) ((msp_vd)_mm512_sqrt_pd((__m512d)(x)))
#define MSP_ANY(m) _mm256_movemask_ps((__m256)(m))
#define MSP_ZIP_LO(a, b) MSP_SHUFFLE2(msp_vu, a, b, 0, 8, 1, 9, 2, 10, 3, 11)
#define MSP_ZIP_HI(a, b) MSP_SHUFFLE2(msp_vu, a, b, 4, 12, 5, 13, 6, 14, 7, 15)
#define msp_vkey msp_i8
#define MSP_LOOKUP_KEY(slot) (slot)
#define MSP_LOOKUP(row, key) ((msp_vd)_mm512_permutexvar_pd((__m512i)(key), _mm512_loadu_pd(row)))
#define MSP_LOOKUP_NEAR MSP_LOOKUP
#define MSP_LOOKUP_NEAR_SLOTS 8
#include "random_simd.h"
#endif

#if MSP_X86
#define MSP_PICK(ISA, STEM) \
    ((ISA) == MSP_ISA_AVX512 ? STEM##_avx512 : (ISA) == MSP_ISA_AVX2 ? STEM##_avx2 : STEM##_base)
#else
#define MSP_PICK(ISA, STEM) STEM##_base
#endif

/* params: a msp_truncnorm_t from msp_truncnorm_prepare. */
static void msp_truncated_normal_map_base(const uint32_t *bits, float *out, ptrdiff_t n,
                                          const void *params)
{
    const msp_truncnorm_t *t = (const msp_truncnorm_t *)params;
    for (ptrdiff_t i = 0; i < n; ++i) out[i] = msp_truncnorm_sample(t, bits[i]);
}

#define msp_philox_blocks_base msp_philox_blocks_scalar /* the portable generator */
static msp_generator_fn msp_generator_for(int isa) { return MSP_PICK(isa, msp_philox_blocks); }
static msp_map_fn msp_uniform_map_for(int isa) { return MSP_PICK(isa, msp_uniform_map); }
static msp_map_fn msp_normal_map_for(int isa) { return MSP_PICK(isa, msp_normal_map); }
static msp_map_fn msp_truncated_normal_map_for(int isa)
{
    return MSP_PICK(isa, msp_truncated_normal_map);
}

/* Largest part errors of the ISA's fast normal path (zero for base, which is the reference). */
static void msp_normal_part_errors(int isa, double *radius_rel, double *trig_abs)
{
    *radius_rel = *trig_abs = 0.0;
#if MSP_X86
    if (isa == MSP_ISA_AVX512) msp_normal_part_errors_avx512(radius_rel, trig_abs);
    if (isa == MSP_ISA_AVX2) msp_normal_part_errors_avx2(radius_rel, trig_abs);
#endif
}

/* Largest relative difference of the ISA's vector erf^-1 from the scalar one over q[0 .. n-1]
 * (n a multiple of 32), lanes it flags excluded and counted in *flagged; zero for base. */
static double msp_truncnorm_erf_inv_error(int isa, const double *q, ptrdiff_t n,
                                          ptrdiff_t *flagged)
{
    msp_tn_tables tables;
    msp_tn_fill_tables(&tables);
    *flagged = 0;
#if MSP_X86
    if (isa == MSP_ISA_AVX512) return msp_tn_erf_inv_error_avx512(&tables, q, n, flagged);
    if (isa == MSP_ISA_AVX2) return msp_tn_erf_inv_error_avx2(&tables, q, n, flagged);
#endif
    (void)isa, (void)q, (void)n;
    return 0.0;
}

/* uint32 numbers per generator call: a multiple of 4 (whole blocks) that stays in L1. */
#define MSP_PIECE_WORDS 2048

/* Elements start .. start + count - 1 of a fill into out[0 .. count - 1]; start must be a
 * multiple of 4 (a block boundary, hence also a normal pair boundary). */
static void msp_fill_range(msp_generator_fn generate, msp_map_fn map, const void *params,
                           uint64_t seed, float *out, uint64_t start, ptrdiff_t count)
{
    uint32_t bits[MSP_PIECE_WORDS];
    for (ptrdiff_t done = 0; done < count; done += MSP_PIECE_WORDS) {
        const ptrdiff_t n = count - done < MSP_PIECE_WORDS ? count - done : MSP_PIECE_WORDS;
        generate(seed, (start + (uint64_t)done) / 4, (n + 3) / 4, bits);
        map(bits, out + done, n, params);
    }
}

#endif
