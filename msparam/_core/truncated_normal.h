/* MindSpore 2.10's truncated normal distribution as a pure function of one Philox uint32.
 *
 * MindSpore (mindspore/ccsrc/include/common/random.h, TruncatedNormal<double>) samples by the
 * inverse CDF, one uint32 per element and no rejection, everything in double:
 *
 *     alpha = (a - mean) / sigma,  beta = (b - mean) / sigma     (a, b, mean, sigma: float32)
 *     Phi(x) = erfc(-(x / R)) / 2                                (R = (double)1.4142135f)
 *     u = bits / 2^32
 *     p = Phi(alpha) + u * (Phi(beta) - Phi(alpha))
 *     value = (float)(mean + (-erfc_inv(2 p) * R) * sigma)
 *
 * so a and b are absolute bounds.  erfc_inv is boost's erf_inv_imp: its rational approximations
 * (boost/math/special_functions/detail/erf_inv.hpp, 64-bit coefficient set) evaluated by plain
 * Horner, a[n-1] first, one multiply and one add per step.  Bit-identity needs exactly that
 * order and no fused multiply-add: every module including this header is built with
 * -ffp-contract=off (setup.py), as distributions.h explains.  erfc and log are the C
 * library's, as in MindSpore.
 *
 * Use: msp_truncnorm_prepare() once per fill, then msp_truncnorm_sample() for stream value i
 * into element i; samples are independent, so any split over threads gives the same result.
 * This scalar form is the reference; random_simd.h vectorises it from the same interval tables
 * and falls back to msp_truncnorm_sample wherever it cannot prove the same bits.
 */
#ifndef MSPARAM_TRUNCATED_NORMAL_H
#define MSPARAM_TRUNCATED_NORMAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* MindSpore's sqrt(2), a float literal widened to double. */
#define MSP_TN_ROOT_TWO ((double)1.4142135f)
/* MindSpore clamps erfc_inv's argument to nextafterf(0.0f, 2.0f) .. nextafterf(2.0f, 0.0f). */
#define MSP_TN_Z_MIN 0x1p-149
#define MSP_TN_Z_MAX (2.0 - 0x1p-23)

/* boost's rational approximations, one per interval of erf_inv_imp: erf^-1 is
 * g y + g P(t) / Q(t) (g / (y + P(t) / Q(t)) on the shoulder) with t = base - shift, coefficients
 * from the constant term up.  The vector path (random_simd.h) evaluates every lane from these
 * same tables. */
typedef struct {
    const double *p, *q;
    int np_, nq;
    double y, shift;
} msp_tn_interval;

enum { MSP_TN_CENTRE, MSP_TN_SHOULDER, MSP_TN_TAIL1, MSP_TN_TAIL3, MSP_TN_TAIL6, MSP_TN_TAIL18,
       MSP_TN_INTERVALS };

static const double msp_tn_p_centre[] = {
    -0.000508781949658280665617, -0.00836874819741736770379, 0.0334806625409744615033,
    -0.0126926147662974029034, -0.0365637971411762664006, 0.0219878681111168899165,
    0.00822687874676915743155, -0.00538772965071242932965};
static const double msp_tn_q_centre[] = {
    1.0, -0.970005043303290640362, -1.56574558234175846809, 1.56221558398423026363,
    0.662328840472002992063, -0.71228902341542847553, -0.0527396382340099713954,
    0.0795283687341571680018, -0.00233393759374190016776, 0.000886216390456424707504};
static const double msp_tn_p_shoulder[] = {
    -0.202433508355938759655, 0.105264680699391713268, 8.37050328343119927838,
    17.6447298408374015486, -18.8510648058714251895, -44.6382324441786960818,
    17.445385985570866523, 21.1294655448340526258, -3.67192254707729348546};
static const double msp_tn_q_shoulder[] = {
    1.0, 6.24264124854247537712, 3.9713437953343869095, -28.6608180499800029974,
    -20.1432634680485188801, 48.5609213108739935468, 10.8268667355460159008,
    -22.6436933413139721736, 1.72114765761200282724};
static const double msp_tn_p_tail1[] = {
    -0.131102781679951906451, -0.163794047193317060787, 0.117030156341995252019,
    0.387079738972604337464, 0.337785538912035898924, 0.142869534408157156766,
    0.0290157910005329060432, 0.00214558995388805277169, -0.679465575181126350155e-6,
    0.285225331782217055858e-7, -0.681149956853776992068e-9};
static const double msp_tn_q_tail1[] = {
    1.0, 3.46625407242567245975, 5.38168345707006855425, 4.77846592945843778382,
    2.59301921623620271374, 0.848854343457902036425, 0.152264338295331783612,
    0.01105924229346489121};
static const double msp_tn_p_tail3[] = {
    -0.0350353787183177984712, -0.00222426529213447927281, 0.0185573306514231072324,
    0.00950804701325919603619, 0.00187123492819559223345, 0.000157544617424960554631,
    0.460469890584317994083e-5, -0.230404776911882601748e-9, 0.266339227425782031962e-11};
static const double msp_tn_q_tail3[] = {
    1.0, 1.3653349817554063097, 0.762059164553623404043, 0.220091105764131249824,
    0.0341589143670947727934, 0.00263861676657015992959, 0.764675292302794483503e-4};
static const double msp_tn_p_tail6[] = {
    -0.0167431005076633737133, -0.00112951438745580278863, 0.00105628862152492910091,
    0.000209386317487588078668, 0.149624783758342370182e-4, 0.449696789927706453732e-6,
    0.462596163522878599135e-8, -0.281128735628831791805e-13, 0.99055709973310326855e-16};
static const double msp_tn_q_tail6[] = {
    1.0, 0.591429344886417493481, 0.138151865749083321638, 0.0160746087093676504695,
    0.000964011807005165528527, 0.275335474764726041141e-4, 0.282243172016108031869e-6};
static const double msp_tn_p_tail18[] = {
    -0.0024978212791898131227, -0.779190719229053954292e-5, 0.254723037413027451751e-4,
    0.162397777342510920873e-5, 0.396341011304801168516e-7, 0.411632831190944208473e-9,
    0.145596286718675035587e-11, -0.116765012397184275695e-17};
static const double msp_tn_q_tail18[] = {
    1.0, 0.207123112214422517181, 0.0169410838120975906478, 0.000690538265622684595676,
    0.145007359818232637924e-4, 0.144437756628144157666e-6, 0.509761276599778486139e-9};

#define MSP_TN_INTERVAL(name, y, shift)                                                  \
    {msp_tn_p_##name, msp_tn_q_##name, (int)(sizeof msp_tn_p_##name / sizeof(double)), \
     (int)(sizeof msp_tn_q_##name / sizeof(double)), y, shift}
/* Bases: p (centre), q (shoulder), x = sqrt(-log q) (tails; x >= 3, 6, 18 for the last three). */
static const msp_tn_interval msp_tn_intervals[MSP_TN_INTERVALS] = {
    MSP_TN_INTERVAL(centre, 0.0891314744949340820313, 0.0),
    MSP_TN_INTERVAL(shoulder, 2.249481201171875, 0.25),
    MSP_TN_INTERVAL(tail1, 0.807220458984375, 1.125),
    MSP_TN_INTERVAL(tail3, 0.93995571136474609375, 3.0),
    MSP_TN_INTERVAL(tail6, 0.98362827301025390625, 6.0),
    MSP_TN_INTERVAL(tail18, 0.99714565277099609375, 18.0),
};
#undef MSP_TN_INTERVAL

/* c[n-1] x^(n-1) + ... + c[0], Horner from the top coefficient. */
static inline double msp_tn_horner(const double *c, int n, double x)
{
    double sum = c[n - 1];
    for (int i = n - 2; i >= 0; --i) {
        sum *= x;
        sum += c[i];
    }
    return sum;
}

/* P(t) / Q(t) of interval k. */
static inline double msp_tn_ratio(int k, double t)
{
    const msp_tn_interval *v = &msp_tn_intervals[k];
    return msp_tn_horner(v->p, v->np_, t) / msp_tn_horner(v->q, v->nq, t);
}

/* erf^-1(p) given p and q = 1 - p, 0 <= p < 1 (boost's erf_inv_imp).  q is a positive double,
 * so x = sqrt(-log q) < sqrt(-log(4.9e-324)) < 27.3 and boost's x >= 44 interval never applies. */
static inline double msp_tn_erf_inv_imp(double p, double q)
{
    if (p <= 0.5) {
        const double y = msp_tn_intervals[MSP_TN_CENTRE].y;
        const double g = p * (p + 10.0);
        const double r = msp_tn_ratio(MSP_TN_CENTRE, p);
        return g * y + g * r;
    }
    if (q >= 0.25) {
        const double y = msp_tn_intervals[MSP_TN_SHOULDER].y;
        const double g = sqrt(-2.0 * log(q));
        const double r = msp_tn_ratio(MSP_TN_SHOULDER, q - 0.25);
        return g / (y + r);
    }
    const double x = sqrt(-log(q));
    const int k = x < 3.0 ? MSP_TN_TAIL1 : x < 6.0 ? MSP_TN_TAIL3 : x < 18.0 ? MSP_TN_TAIL6
                                                                            : MSP_TN_TAIL18;
    const double y = msp_tn_intervals[k].y;
    const double r = msp_tn_ratio(k, x - msp_tn_intervals[k].shift);
    return y * x + r * x;
}

/* erfc^-1(z), z first clamped into [float min denormal, nextafterf(2, 0)] as MindSpore does. */
static inline double msp_tn_erfc_inv(double z)
{
    if (z <= 0.0) {
        z = MSP_TN_Z_MIN;
    } else if (z >= 2.0) {
        z = MSP_TN_Z_MAX;
    }
    if (z > 1.0) {
        const double q = 2.0 - z;
        return -msp_tn_erf_inv_imp(1.0 - q, q);
    }
    return msp_tn_erf_inv_imp(1.0 - z, z);
}

/* Standard normal CDF as MindSpore writes it. */
static inline double msp_tn_std_normal_cdf(double x)
{
    return erfc(-(x / MSP_TN_ROOT_TWO)) / 2.0;
}

/* The interval tables laid out for per-lane lookup by the vector path: row i holds coefficient i
 * of every interval (zero above an interval's degree: a Horner sum that starts with zeros stays
 * +-0 until the top coefficient is added, so it is bit for bit the shorter one). */
#define MSP_TN_P_TERMS 11
#define MSP_TN_Q_TERMS 10
#define MSP_TN_SLOTS 8 /* MSP_TN_INTERVALS rounded up to a vector of 8 doubles */
typedef struct {
    double p[MSP_TN_P_TERMS][MSP_TN_SLOTS], q[MSP_TN_Q_TERMS][MSP_TN_SLOTS];
    double y[MSP_TN_SLOTS], shift[MSP_TN_SLOTS];
} msp_tn_tables;

typedef struct {
    double mean, sigma;
    double cdf_lower;  /* Phi(alpha) */
    double cdf_span;   /* Phi(beta) - Phi(alpha) */
    msp_tn_tables tables;
} msp_truncnorm_t;

static inline void msp_tn_fill_tables(msp_tn_tables *t)
{
    memset(t, 0, sizeof *t);
    for (int k = 0; k < MSP_TN_INTERVALS; ++k) {
        const msp_tn_interval *v = &msp_tn_intervals[k];
        for (int i = 0; i < v->np_; ++i) t->p[i][k] = v->p[i];
        for (int i = 0; i < v->nq; ++i) t->q[i][k] = v->q[i];
        t->y[k] = v->y;
        t->shift[k] = v->shift;
    }
}

/* Per-fill constants; the caller has checked sigma > 0 and passes float32 parameters. */
static inline msp_truncnorm_t msp_truncnorm_prepare(float a, float b, float mean, float sigma)
{
    msp_truncnorm_t t;
    t.mean = (double)mean;
    t.sigma = (double)sigma;
    const double alpha = ((double)a - t.mean) / t.sigma;
    const double beta = ((double)b - t.mean) / t.sigma;
    t.cdf_lower = msp_tn_std_normal_cdf(alpha);
    t.cdf_span = msp_tn_std_normal_cdf(beta) - t.cdf_lower;
    msp_tn_fill_tables(&t.tables);
    return t;
}

/* The element MindSpore makes from stream value ``bits``. */
static inline float msp_truncnorm_sample(const msp_truncnorm_t *t, uint32_t bits)
{
    const double u = (double)bits / 4294967296.0;
    const double p = t->cdf_lower + u * t->cdf_span;
    const double x = -msp_tn_erfc_inv(2.0 * p) * MSP_TN_ROOT_TWO;
    return (float)(t->mean + x * t->sigma);
}


#endif /* MSPARAM_TRUNCATED_NORMAL_H */
