/* MindSpore 2.10's uniform and normal distributions as exact scalar maps from Philox uint32s.
 *
 * These are the reference numerics (double arithmetic, the C library's log, cos and sin, every
 * product and sum rounded on its own: the module is built with -ffp-contract=off).  The vector
 * kernels (random_simd.h) must give the same float32 bits; they fall back to these functions
 * whenever their own result is not provably the same.
 *
 * A distribution is a map ``(bits, out, n, params)``: element i of ``out`` from the stream's
 * numbers at ``bits``, where bits[0] is the first number of a Philox block (so normal pairs
 * start at even positions) and ``bits`` holds n rounded up to a whole block.  ``params`` points
 * to what the distribution needs (two doubles for uniform and normal).
 */
#ifndef MSPARAM_DISTRIBUTIONS_H
#define MSPARAM_DISTRIBUTIONS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef void (*msp_map_fn)(const uint32_t *bits, float *out, ptrdiff_t n, const void *params);

/* MindSpore's pi: a float literal widened to double. */
#define MSP_NORMAL_TWO_PI (2.0 * (double)3.1415926f)
/* MindSpore clamps BOTH Box-Muller uniforms below at 1e-7f: u1 (log(0) otherwise) and u2 too.
 * A unit23 value is 0 or at least 2^-23 > 1e-7, so the clamp changes exactly the value 0 (the
 * low 23 bits all zero, one number in 2^23): u2 = 0 gives theta = 2 pi 1e-7f, not 0, and the
 * sine element r sin(theta) ~ 6.3e-7 r instead of 0. */
#define MSP_NORMAL_U_MIN ((double)1e-7f)

/* u = bits / 2^32 (exact in double), then (b - a) * u + a, then float32. */
static inline float msp_uniform_value(uint32_t bits, double a, double b)
{
    return (float)((b - a) * ((double)bits * 0x1p-32) + a);
}

/* The float in [0, 1) made of the low 23 bits of ``bits``: ((bits & 0x7fffff) | 1.0f) - 1.0f,
 * which is exactly (bits & 0x7fffff) / 2^23. */
static inline double msp_unit23(uint32_t bits)
{
    return (double)(bits & 0x7FFFFFu) * 0x1p-23;
}

/* A Box-Muller uniform: msp_unit23 clamped below at MSP_NORMAL_U_MIN (std::max in MindSpore). */
static inline double msp_normal_uniform(uint32_t bits)
{
    const double u = msp_unit23(bits);
    return u < MSP_NORMAL_U_MIN ? MSP_NORMAL_U_MIN : u;
}

/* Box-Muller on the pair (x1, x2): out[0] = mean + r cos(theta) and, if ``both``, out[1] =
 * mean + r sin(theta), with r = sqrt(-2 log u1) * sigma, theta = 2 pi u2, both uniforms clamped
 * by msp_normal_uniform. */
static inline void msp_normal_pair(uint32_t x1, uint32_t x2, double mean, double sigma,
                                   float *out, int both)
{
    const double r = sqrt(-2.0 * log(msp_normal_uniform(x1))) * sigma;
    const double theta = MSP_NORMAL_TWO_PI * msp_normal_uniform(x2);
    out[0] = (float)(mean + r * cos(theta));
    if (both) out[1] = (float)(mean + r * sin(theta));
}

/* params: {a, b} */
static void msp_uniform_map_base(const uint32_t *bits, float *out, ptrdiff_t n,
                                 const void *params)
{
    const double *p = (const double *)params;
    for (ptrdiff_t i = 0; i < n; ++i) out[i] = msp_uniform_value(bits[i], p[0], p[1]);
}

/* params: {mean, sigma}; an odd n uses only the cosine of the last pair. */
static void msp_normal_map_base(const uint32_t *bits, float *out, ptrdiff_t n,
                                const void *params)
{
    const double *p = (const double *)params;
    for (ptrdiff_t i = 0; i < n; i += 2)
        msp_normal_pair(bits[i], bits[i + 1], p[0], p[1], out + i, i + 1 < n);
}

#endif
