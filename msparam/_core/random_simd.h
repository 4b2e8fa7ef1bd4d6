/* Vector Philox and distribution maps, written once and compiled per instruction set.
 *
 * random_kernels.h includes this file once per ISA (no include guard, on purpose) after defining
 *   MSP_ISA_NAME        suffix of the generated names (avx2, avx512)
 *   MSP_TARGET          the GCC target attribute of every function here
 *   MSP_VL              lanes per vector (doubles, uint64s; floats and uint32s use the low MSP_VL)
 *   msp_vd, msp_vu, msp_vi, msp_vf, msp_vw, msp_vm
 *                       vectors of MSP_VL double, uint64, int64, float, uint32, int32
 *   MSP_MUL32(a, b)     full uint64 products of the low 32 bits of each uint64 lane
 *   MSP_FMA(a, b, c)    a * b + c rounded once (only inside approximations)
 *   MSP_SQRT(x)         correctly rounded square root
 *   MSP_ANY(m)          nonzero if any lane of the float comparison mask m is set
 *   MSP_ZIP_LO, MSP_ZIP_HI  msp_vu shuffle masks interleaving the lanes of two vectors
 *   msp_vkey, MSP_LOOKUP_KEY(slot), MSP_LOOKUP(row, key)
 *                       row[slot] per lane from a row of 8 doubles (slot: msp_vi, 0 .. 7;
 *                       the key is the slots prepared once for many lookups)
 *   MSP_LOOKUP_NEAR(row, key), MSP_LOOKUP_NEAR_SLOTS
 *                       the same, possibly cheaper, right only for slots below the count
 *
 * Exactness of the normal map.  It evaluates the reference formula of distributions.h with
 * vector approximations of log, cos and sin in place of the C library's.  Over every input
 * they can see (u1 and u2 take 2^23 values each, 0 clamped to 1e-7f) their parts differ from
 * the reference's by at most MSP_NORMAL_PART_ERROR = 2^-50, relative for the radius
 * sqrt(-2 log u1) and absolute for cos and sin, which tests/_core/test_random_core.py checks
 * exhaustively with msp_normal_part_errors.  Carrying
 * those errors and the extra roundings through r * sigma, r * c and mean + r * c bounds the
 * difference of the double results by 2^-48 (|r| + |y|).  The map allows sixteen times that,
 * MSP_NORMAL_TOLERANCE (|r| + |y|) with MSP_NORMAL_TOLERANCE = 2^-44, which also covers the
 * rounding of y +- tolerance.  Rounding to float32 is monotonic, so when y - tolerance and
 * y + tolerance round to the same float, so does the reference's y; otherwise (about 3 pairs
 * in 100,000, and every NaN or overflow) the pair is recomputed by msp_normal_pair.
 *
 * Exactness of the truncated normal map.  It performs msp_truncnorm_sample's double operations
 * in the same order without FMA (so u, p, z, q, the centre interval and every Horner step give the
 * scalar bits), except that log is msp_log.  Only lanes outside the centre interval use log, with
 * |log q| >= log 2; there msp_log and the C library's log, each within about 1 ulp of the truth,
 * differ by at most eps = 2^-51 relative.  Carried through the rest:
 *   shoulder  g = sqrt(-2 log q) moves by eps/2 + 2^-52 relative, the rational part does not
 *             depend on log, so g / (y + r) moves by at most eps/2 + 2^-51 < 2^-50;
 *   tails     x = sqrt(-log q) moves by d = eps/2 + 2^-52 relative; x (y + r(x - shift)) has
 *             relative condition <= 1.47 in x; each Horner sum (at most 11 steps) at either
 *             input is off by <= h = 22 * 2^-53 times sum|c_i| t^i, which for Q (positive
 *             coefficients, t >= 0) is Q itself and for P is at most 0.17 |value| Q / x (max
 *             over each interval of x sum|p_i| t^i / (Q |value|): 0.17, 0.039, 0.017, 0.0025),
 *             and |r| <= 0.17 |y + r|; so the value moves by at most
 *             1.47 d + 2 h (0.17 + 0.17) + 4 * 2^-53 < 2^-48 relative (constants checked by
 *             test_truncated_normal_error_budget).
 * So erf^-1 moves by less than MSP_TRUNCNORM_ERF_INV_ERROR = 2^-48 relative, which
 * tests/_core/test_random_core.py checks on erf^-1 itself (measured: 2^-51).  With the
 * roundings of * sqrt(2), * sigma and mean + the result y moves by less than 2^-47
 * (|scaled| + |y|), 2^-7 of MSP_TRUNCNORM_TOLERANCE.  As for the normal map, a lane whose
 * y +- tolerance round to different floats (about 1 in 20,000), whose x lies within
 * MSP_TRUNCNORM_TOLERANCE x of an interval switch (3, 6, 18) or whose q is subnormal or NaN
 * (outside msp_log's domain) is recomputed by msp_truncnorm_sample.
 */

#define MSP_JOIN_(a, b) a##_##b
#define MSP_JOIN(a, b) MSP_JOIN_(a, b)
#define MSP_NAME(stem) MSP_JOIN(stem, MSP_ISA_NAME)

/* Bitwise select: lanes of a where m is all ones, of b where it is zero. */
MSP_TARGET static inline msp_vd MSP_NAME(msp_select)(msp_vi m, msp_vd a, msp_vd b)
{
    return (msp_vd)(((msp_vi)a & m) | ((msp_vi)b & ~m));
}

MSP_TARGET static inline msp_vd MSP_NAME(msp_abs)(msp_vd x)
{
    return (msp_vd)((msp_vu)x & 0x7FFFFFFFFFFFFFFFu);
}

/* Exact double of integers below 2^52 held in uint64 lanes (exponent-field trick). */
MSP_TARGET static inline msp_vd MSP_NAME(msp_to_double)(msp_vu x)
{
    return (msp_vd)(x | 0x4330000000000000u) - 0x1p52;
}

/* The stream's uint32 numbers 4 * first .. 4 * (first + nblocks) - 1 into out, MSP_VL blocks
 * at a time: lane j of c0..c3 holds word 0..3 of block j in its low 32 bits (the high bits
 * carry junk that MSP_MUL32 ignores and the final packing drops). */
MSP_TARGET static void MSP_NAME(msp_philox_blocks)(uint64_t seed, uint64_t first,
                                                   ptrdiff_t nblocks, uint32_t *out)
{
    msp_vu k0[MSP_PHILOX_ROUNDS], k1[MSP_PHILOX_ROUNDS], lane;
    msp_philox4x32_key key = msp_philox_key(seed);
    for (int r = 0; r < MSP_PHILOX_ROUNDS; ++r) {
        k0[r] = (msp_vu){0} + key.v[0];
        k1[r] = (msp_vu){0} + key.v[1];
        key = msp_philox4x32_bumpkey(key);
    }
    for (int j = 0; j < MSP_VL; ++j) lane[j] = (uint64_t)j;
    ptrdiff_t b = 0;
    /* Two independent groups of MSP_VL blocks per step: the rounds are one long dependency
     * chain, so interleaving two keeps the multipliers busy. */
    for (; b + 2 * MSP_VL <= nblocks; b += 2 * MSP_VL) {
        msp_vu c0[2], c1[2], c2[2], c3[2];
        for (int g = 0; g < 2; ++g) {
            const msp_vu index = lane + (first + (uint64_t)(b + g * MSP_VL));
            c0[g] = index & 0xFFFFFFFFu;
            c1[g] = index >> 32;
            c2[g] = (msp_vu){0} + (seed & 0xFFFFFFFFu);
            c3[g] = (msp_vu){0} + (seed >> 32);
        }
        _Pragma("GCC unroll 10") for (int r = 0; r < MSP_PHILOX_ROUNDS; ++r) {
            _Pragma("GCC unroll 2") for (int g = 0; g < 2; ++g) {
                const msp_vu p0 = MSP_MUL32(c0[g], MSP_PHILOX_M0);
                const msp_vu p1 = MSP_MUL32(c2[g], MSP_PHILOX_M1);
                c0[g] = (p1 >> 32) ^ c1[g] ^ k0[r];
                c1[g] = p1;
                c2[g] = (p0 >> 32) ^ c3[g] ^ k1[r];
                c3[g] = p0;
            }
        }
        /* Words (0, 1) and (2, 3) of each block as uint64s, then interleaved block by block. */
        for (int g = 0; g < 2; ++g) {
            const msp_vu low = (c0[g] & 0xFFFFFFFFu) | (c1[g] << 32);
            const msp_vu high = (c2[g] & 0xFFFFFFFFu) | (c3[g] << 32);
            const msp_vu first_half = MSP_ZIP_LO(low, high);
            const msp_vu second_half = MSP_ZIP_HI(low, high);
            memcpy(out + 4 * (b + g * MSP_VL), &first_half, sizeof first_half);
            memcpy(out + 4 * (b + g * MSP_VL) + 2 * MSP_VL, &second_half, sizeof second_half);
        }
    }
    msp_philox_blocks_scalar(seed, first + (uint64_t)b, nblocks - b, out + 4 * b);
}

MSP_TARGET static void MSP_NAME(msp_uniform_map)(const uint32_t *bits, float *out, ptrdiff_t n,
                                                 const void *params)
{
    const double a = ((const double *)params)[0], b = ((const double *)params)[1];
    ptrdiff_t i = 0;
    for (; i + MSP_VL <= n; i += MSP_VL) {
        msp_vw w;
        memcpy(&w, bits + i, sizeof w);
        const msp_vd u = MSP_NAME(msp_to_double)(MSP_CONVERT(w, msp_vu)) * 0x1p-32;
        const msp_vf y = MSP_CONVERT((b - a) * u + a, msp_vf);
        memcpy(out + i, &y, sizeof y);
    }
    for (; i < n; ++i) out[i] = msp_uniform_value(bits[i], a, b);
}

/* c[n-1] x^(n-1) + ... + c[0] by Horner with fused steps (approximations only). */
MSP_TARGET static inline msp_vd MSP_NAME(msp_horner)(msp_vd x, const double *c, int n)
{
    msp_vd sum = (msp_vd){0} + c[n - 1];
    for (int i = n - 2; i >= 0; --i) sum = MSP_FMA(sum, x, (msp_vd){0} + c[i]);
    return sum;
}

/* log(x) for normal positive x: x = 2^k m with m in [sqrt(2)/2, sqrt(2)), f = m - 1,
 * log(1 + f) = 2 atanh(s) with s = f / (2 + f) and a degree-14 odd polynomial (fdlibm's
 * e_log.c coefficients and final sum). */
MSP_TARGET static inline msp_vd MSP_NAME(msp_log)(msp_vd x)
{
    static const double odd[] = {6.666666666666735130e-01, 2.857142874366239149e-01,
                                 1.818357216161805012e-01, 1.479819860511658591e-01};
    static const double even[] = {3.999999999940941908e-01, 2.222219843214978396e-01,
                                  1.531383769920937332e-01};
    const msp_vu ix = (msp_vu)x + ((uint64_t)(0x3FF00000 - 0x3FE6A09E) << 32);
    const msp_vd k = (msp_vd)((ix >> 52) | 0x4330000000000000u) - (0x1p52 + 1023.0);
    const msp_vd f = (msp_vd)((ix & 0x000FFFFFFFFFFFFFu) + 0x3FE6A09E00000000u) - 1.0;
    const msp_vd s = f / (2.0 + f), z = s * s, w = z * z;
    const msp_vd tail = z * MSP_NAME(msp_horner)(w, odd, 4) + w * MSP_NAME(msp_horner)(w, even, 3);
    const msp_vd hfsq = 0.5 * f * f;
    return k * 6.93147180369123816490e-01 /* ln 2, high and low parts */
           - ((hfsq - (s * (hfsq + tail) + k * 1.90821492927058770002e-10)) - f);
}

/* sin and cos of 0 <= x < 8: x = n pi/2 + r with |r| <= ~pi/4 (Cody-Waite with a 33-bit
 * leading part of pi/2, so n * part and x - n * part are exact), fdlibm's k_sin/k_cos
 * polynomials on r, then the quadrant's swap and signs. */
MSP_TARGET static inline void MSP_NAME(msp_sincos)(msp_vd x, msp_vd *sin_x, msp_vd *cos_x)
{
    static const double sin_c[] = {-1.66666666666666324348e-01, 8.33333333332248946124e-03,
                                   -1.98412698298579493134e-04, 2.75573137070700676789e-06,
                                   -2.50507602534068634195e-08, 1.58969099521155010221e-10};
    static const double cos_c[] = {4.16666666666666019037e-02, -1.38888888888741095749e-03,
                                   2.48015872894767294178e-05, -2.75573143513906633035e-07,
                                   2.08757232129817482790e-09, -1.13596475577881948265e-11};
    const msp_vd shifted = x * 6.36619772367581382433e-01 + 0x1.8p52; /* x * 2 / pi */
    const msp_vu n = (msp_vu)shifted;                                  /* low bits: quadrant */
    const msp_vd dn = shifted - 0x1.8p52;
    const msp_vd r = (x - dn * 1.57079632673412561417e+00) - dn * 6.07710050650619224932e-11;
    const msp_vd z = r * r;
    const msp_vd sin_r = r + (z * r) * MSP_NAME(msp_horner)(z, sin_c, 6);
    const msp_vd hz = 0.5 * z, w = 1.0 - hz;
    const msp_vd cos_r = w + (((1.0 - w) - hz) + (z * z) * MSP_NAME(msp_horner)(z, cos_c, 6));
    const msp_vi odd = (msp_vi)((msp_vu){0} - (n & 1));
    *sin_x = (msp_vd)((msp_vu)MSP_NAME(msp_select)(odd, cos_r, sin_r) ^ ((n & 2) << 62));
    *cos_x = (msp_vd)((msp_vu)MSP_NAME(msp_select)(odd, sin_r, cos_r) ^ (((n + 1) & 2) << 62));
}

/* msp_normal_uniform per lane: the low 23 bits as a unit float, clamped below at
 * MSP_NORMAL_U_MIN (both Box-Muller uniforms are, as in MindSpore). */
MSP_TARGET static inline msp_vd MSP_NAME(msp_normal_uniform)(msp_vu x)
{
    const msp_vd u = MSP_NAME(msp_to_double)(x & 0x7FFFFFu) * 0x1p-23;
    return MSP_NAME(msp_select)((msp_vi)(u < MSP_NORMAL_U_MIN), (msp_vd){0} + MSP_NORMAL_U_MIN, u);
}

/* The Box-Muller radius sqrt(-2 log u1) (before sigma) of the low 23 bits of each lane. */
MSP_TARGET static inline msp_vd MSP_NAME(msp_radius)(msp_vu x1)
{
    return MSP_SQRT(-2.0 * MSP_NAME(msp_log)(MSP_NAME(msp_normal_uniform)(x1)));
}

/* The Box-Muller angle 2 pi u2 of the low 23 bits of each lane. */
MSP_TARGET static inline msp_vd MSP_NAME(msp_theta)(msp_vu x2)
{
    return MSP_NORMAL_TWO_PI * MSP_NAME(msp_normal_uniform)(x2);
}

MSP_TARGET static void MSP_NAME(msp_normal_map)(const uint32_t *bits, float *out, ptrdiff_t n,
                                                const void *params)
{
    const double mean = ((const double *)params)[0], sigma = ((const double *)params)[1];
    ptrdiff_t i = 0;
    for (; i + 2 * MSP_VL <= n; i += 2 * MSP_VL) {
        msp_vu pairs; /* lane j: x1 of pair j in the low half, x2 in the high half */
        memcpy(&pairs, bits + i, sizeof pairs);
        const msp_vd r = MSP_NAME(msp_radius)(pairs) * sigma;
        msp_vd s, c;
        MSP_NAME(msp_sincos)(MSP_NAME(msp_theta)(pairs >> 32), &s, &c);
        const msp_vd yc = mean + r * c, ys = mean + r * s;
        const msp_vd tol_c = MSP_NORMAL_TOLERANCE * (MSP_NAME(msp_abs)(r) + MSP_NAME(msp_abs)(yc));
        const msp_vd tol_s = MSP_NORMAL_TOLERANCE * (MSP_NAME(msp_abs)(r) + MSP_NAME(msp_abs)(ys));
        const msp_vf fc = MSP_CONVERT(yc, msp_vf);
        const msp_vf fs = MSP_CONVERT(ys, msp_vf);
        const msp_vm unsure = (msp_vm)(
            (MSP_CONVERT(yc - tol_c, msp_vf) != MSP_CONVERT(yc + tol_c, msp_vf))
            | (MSP_CONVERT(ys - tol_s, msp_vf) != MSP_CONVERT(ys + tol_s, msp_vf)));
        /* Lane j as uint64 = (cos, sin) of pair j: elements 2j and 2j + 1 in memory order. */
        const msp_vu packed = MSP_CONVERT((msp_vw)fc, msp_vu)
                              | (MSP_CONVERT((msp_vw)fs, msp_vu) << 32);
        memcpy(out + i, &packed, sizeof packed);
        if (MSP_ANY(unsure))
            for (int j = 0; j < MSP_VL; ++j)
                if (unsure[j])
                    msp_normal_pair(bits[i + 2 * j], bits[i + 2 * j + 1], mean, sigma,
                                    out + i + 2 * j, 1);
    }
    msp_normal_map_base(bits + i, out + i, n - i, params);
}

/* Largest differences between this file's radius, cos and sin and the C library path of
 * msp_normal_pair, over all 2^23 values of u1 and of u2 (clamped as the map clamps them): the
 * radius relative, cos and sin absolute (the premise of the normal map's exactness argument
 * above). */
MSP_TARGET static void MSP_NAME(msp_normal_part_errors)(double *radius_rel, double *trig_abs)
{
    msp_vu lane;
    for (int j = 0; j < MSP_VL; ++j) lane[j] = (uint64_t)j;
    double worst_radius = 0.0, worst_trig = 0.0;
    for (uint32_t k = 0; k < (1u << 23); k += MSP_VL) {
        const msp_vu x = lane + k;
        const msp_vd radius = MSP_NAME(msp_radius)(x);
        msp_vd s, c;
        MSP_NAME(msp_sincos)(MSP_NAME(msp_theta)(x), &s, &c);
        for (int j = 0; j < MSP_VL; ++j) {
            const double exact = sqrt(-2.0 * log(msp_normal_uniform(k + (uint32_t)j)));
            const double angle = MSP_NORMAL_TWO_PI * msp_normal_uniform(k + (uint32_t)j);
            const double radius_err = fabs(radius[j] - exact) / exact;
            const double trig_err = fmax(fabs(s[j] - sin(angle)), fabs(c[j] - cos(angle)));
            if (radius_err > worst_radius) worst_radius = radius_err;
            if (trig_err > worst_trig) worst_trig = trig_err;
        }
    }
    *radius_rel = worst_radius;
    *trig_abs = worst_trig;
}

/* num = P(x), den = Q(x) of each lane's interval, by Horner from the tables; ``near`` (constant
 * after inlining) says every slot is within MSP_LOOKUP_NEAR's reach. */
MSP_TARGET static inline __attribute__((always_inline)) void MSP_NAME(msp_tn_rationals)(
    const msp_tn_tables *t, const msp_vkey *key, const msp_vd *x, msp_vd *num, msp_vd *den,
    int near)
{
#define MSP_TN_ROW(row, g) (near ? MSP_LOOKUP_NEAR(row, key[g]) : MSP_LOOKUP(row, key[g]))
    for (int g = 0; g < MSP_TN_GROUPS; ++g) {
        num[g] = MSP_TN_ROW(t->p[MSP_TN_P_TERMS - 1], g);
        den[g] = MSP_TN_ROW(t->q[MSP_TN_Q_TERMS - 1], g);
    }
    _Pragma("GCC unroll 10") for (int i = MSP_TN_P_TERMS - 2; i >= 0; --i) {
        _Pragma("GCC unroll 4") for (int g = 0; g < MSP_TN_GROUPS; ++g) {
            num[g] = num[g] * x[g] + MSP_TN_ROW(t->p[i], g);
            if (i < MSP_TN_Q_TERMS - 1) den[g] = den[g] * x[g] + MSP_TN_ROW(t->q[i], g);
        }
    }
#undef MSP_TN_ROW
}

/* boost's erf^-1(p), q = 1 - p, per lane (msp_tn_erf_inv_imp's vector form), for MSP_TN_GROUPS
 * vectors at once: each Horner sum is one long dependency chain, so interleaving several keeps
 * the units busy.
 * Every lane looks up its interval's coefficients in the prepared tables and runs the same
 * steps, so mixed lanes cost one evaluation.  Only log is approximate; a lane whose result could
 * differ from the scalar path's for that reason beyond the map's tolerance, or whose interval
 * choice could, is flagged in unsure[]. */
MSP_TARGET static inline void MSP_NAME(msp_tn_erf_inv)(const msp_tn_tables *t, const msp_vd *q,
                                                        msp_vd *v, msp_vi *unsure)
{
    msp_vkey key[MSP_TN_GROUPS];
    msp_vd p[MSP_TN_GROUPS], x[MSP_TN_GROUPS], root[MSP_TN_GROUPS];
    msp_vd num[MSP_TN_GROUPS], den[MSP_TN_GROUPS];
    msp_vi centre[MSP_TN_GROUPS], shoulder[MSP_TN_GROUPS];
    int deep = 0;
    for (int g = 0; g < MSP_TN_GROUPS; ++g) {
        p[g] = 1.0 - q[g];
        centre[g] = (msp_vi)(p[g] <= 0.5);
        shoulder[g] = ~centre[g] & (msp_vi)(q[g] >= 0.25);
        const msp_vd log_q = MSP_NAME(msp_log)(q[g]);
        root[g] = MSP_SQRT(MSP_NAME(msp_select)(shoulder[g], -2.0 * log_q, -log_q));
        const msp_vi tail = (msp_vi){0} + MSP_TN_TAIL1 - (msp_vi)(root[g] >= 3.0)
                            - (msp_vi)(root[g] >= 6.0) - (msp_vi)(root[g] >= 18.0);
        const msp_vi interval = (centre[g] & MSP_TN_CENTRE) | (shoulder[g] & MSP_TN_SHOULDER)
                                | (~(centre[g] | shoulder[g]) & tail);
        key[g] = MSP_LOOKUP_KEY(interval);
        const msp_vd base = MSP_NAME(msp_select)(centre[g], p[g],
                                                 MSP_NAME(msp_select)(shoulder[g], q[g], root[g]));
        x[g] = base - MSP_LOOKUP(t->shift, key[g]);
        deep |= MSP_ANY(MSP_CONVERT(interval >= MSP_LOOKUP_NEAR_SLOTS, msp_vm));
    }
    /* Lanes beyond MSP_LOOKUP_NEAR's reach are in the deep tails (x >= 6): rare. */
    if (MSP_LOOKUP_NEAR_SLOTS < MSP_TN_INTERVALS && deep)
        MSP_NAME(msp_tn_rationals)(t, key, x, num, den, 0);
    else
        MSP_NAME(msp_tn_rationals)(t, key, x, num, den, 1);
    for (int g = 0; g < MSP_TN_GROUPS; ++g) {
        const msp_vd r = num[g] / den[g], y = MSP_LOOKUP(t->y, key[g]);
        const msp_vd f = MSP_NAME(msp_select)(centre[g], p[g] * (p[g] + 10.0), root[g]);
        /* msp_log needs a normal q (not NaN either: it would make a finite value); the tails
         * switch interval at root = 3, 6, 18. */
        const msp_vd near = MSP_TRUNCNORM_TOLERANCE * root[g];
        unsure[g] = (~centre[g] & ~(msp_vi)(q[g] >= 0x1p-1022))
                    | (msp_vi)(MSP_NAME(msp_abs)(root[g] - 3.0) <= near)
                    | (msp_vi)(MSP_NAME(msp_abs)(root[g] - 6.0) <= near)
                    | (msp_vi)(MSP_NAME(msp_abs)(root[g] - 18.0) <= near);
        v[g] = MSP_NAME(msp_select)(shoulder[g], f / (y + r), f * y + f * r);
    }
}

/* params: a msp_truncnorm_t from msp_truncnorm_prepare.  Same steps as msp_truncnorm_sample; a
 * lane is recomputed by it when the tolerance test or msp_tn_erf_inv cannot vouch for its bits. */
MSP_TARGET static void MSP_NAME(msp_truncated_normal_map)(const uint32_t *bits, float *out,
                                                          ptrdiff_t n, const void *params)
{
    const msp_truncnorm_t *t = (const msp_truncnorm_t *)params;
    ptrdiff_t i = 0;
    for (; i + MSP_TN_GROUPS * MSP_VL <= n; i += MSP_TN_GROUPS * MSP_VL) {
        msp_vd q[MSP_TN_GROUPS], v[MSP_TN_GROUPS];
        msp_vi upper[MSP_TN_GROUPS], unsure_inv[MSP_TN_GROUPS];
        for (int g = 0; g < MSP_TN_GROUPS; ++g) {
            msp_vw w;
            memcpy(&w, bits + i + g * MSP_VL, sizeof w);
            const msp_vd u = MSP_NAME(msp_to_double)(MSP_CONVERT(w, msp_vu)) * 0x1p-32;
            msp_vd z = 2.0 * (t->cdf_lower + u * t->cdf_span);
            z = MSP_NAME(msp_select)((msp_vi)(z <= 0.0), (msp_vd){0} + MSP_TN_Z_MIN,
                                     MSP_NAME(msp_select)((msp_vi)(z >= 2.0),
                                                          (msp_vd){0} + MSP_TN_Z_MAX, z));
            upper[g] = (msp_vi)(z > 1.0);
            q[g] = MSP_NAME(msp_select)(upper[g], 2.0 - z, z);
        }
        MSP_NAME(msp_tn_erf_inv)(&t->tables, q, v, unsure_inv);
        for (int g = 0; g < MSP_TN_GROUPS; ++g) {
            /* -erfc_inv(z) * sqrt(2), erfc_inv(z) = -v above 1 and v below. */
            const msp_vd scaled =
                (MSP_NAME(msp_select)(upper[g], v[g], -v[g]) * MSP_TN_ROOT_TWO) * t->sigma;
            const msp_vd y = t->mean + scaled;
            const msp_vd tol = MSP_TRUNCNORM_TOLERANCE * (MSP_NAME(msp_abs)(scaled)
                                                          + MSP_NAME(msp_abs)(y));
            const msp_vf f = MSP_CONVERT(y, msp_vf);
            const msp_vm unsure = (msp_vm)(MSP_CONVERT(y - tol, msp_vf)
                                           != MSP_CONVERT(y + tol, msp_vf))
                                  | MSP_CONVERT(unsure_inv[g], msp_vm);
            float *dst = out + i + g * MSP_VL;
            memcpy(dst, &f, sizeof f);
            if (MSP_ANY(unsure))
                for (int j = 0; j < MSP_VL; ++j)
                    if (unsure[j]) dst[j] = msp_truncnorm_sample(t, bits[dst - out + j]);
        }
    }
    for (; i < n; ++i) out[i] = msp_truncnorm_sample(t, bits[i]);
}

/* Largest relative difference between msp_tn_erf_inv and the scalar msp_tn_erf_inv_imp over
 * q[0 .. n-1] (lanes it flags as unsure excluded: the map recomputes those), and how many lanes
 * it flagged. */
MSP_TARGET static double MSP_NAME(msp_tn_erf_inv_error)(const msp_tn_tables *t, const double *q,
                                                        ptrdiff_t n, ptrdiff_t *flagged)
{
    double worst = 0.0;
    *flagged = 0;
    for (ptrdiff_t i = 0; i + MSP_TN_GROUPS * MSP_VL <= n; i += MSP_TN_GROUPS * MSP_VL) {
        msp_vd qv[MSP_TN_GROUPS], v[MSP_TN_GROUPS];
        msp_vi unsure[MSP_TN_GROUPS];
        memcpy(qv, q + i, sizeof qv);
        MSP_NAME(msp_tn_erf_inv)(t, qv, v, unsure);
        for (int j = 0; j < MSP_TN_GROUPS * MSP_VL; ++j) {
            if (unsure[j / MSP_VL][j % MSP_VL]) {
                ++*flagged;
                continue;
            }
            const double exact = msp_tn_erf_inv_imp(1.0 - q[i + j], q[i + j]);
            const double error = fabs(v[j / MSP_VL][j % MSP_VL] - exact) / fabs(exact);
            if (error > worst) worst = error;
        }
    }
    return worst;
}
