"""Independent reference for the compiled random core (msparam/_core/_philox_fill.pyx): Philox4x32-10
vectorised in NumPy and MindSpore 2.10's uniform/normal/truncated-normal maps written straight
from the formulas.

log, cos and sin come from Python's math module (the C library, as in MindSpore), not NumPy,
whose SIMD float64 log differs from the C library's in the last bit for about 1 input in 2000.
"""
import math

import numpy as np

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)


def _libm(function, x):
    """``function`` (math.log, math.cos, ...: the C library's, as MindSpore calls it) elementwise."""
    return np.fromiter(map(function, x.tolist()), np.float64, x.size)


def philox_uint32(seed, count):
    """The first ``count`` uint32 numbers of the stream: key = (seed lo, hi), counter = (i, 0, lo, hi)."""
    lo, hi = np.uint32(seed & 0xFFFFFFFF), np.uint32(seed >> 32)
    blocks = (count + 3) // 4
    index = np.arange(blocks, dtype=np.uint64)
    c0 = (index & _MASK32).astype(np.uint32)
    c1 = (index >> np.uint64(32)).astype(np.uint32)
    c2 = np.full(blocks, lo, np.uint32)
    c3 = np.full(blocks, hi, np.uint32)
    k0, k1 = lo, hi
    with np.errstate(over="ignore"):
        for round_ in range(10):
            p0 = _M0 * c0.astype(np.uint64)
            p1 = _M1 * c2.astype(np.uint64)
            hi0, lo0 = (p0 >> np.uint64(32)).astype(np.uint32), (p0 & _MASK32).astype(np.uint32)
            hi1, lo1 = (p1 >> np.uint64(32)).astype(np.uint32), (p1 & _MASK32).astype(np.uint32)
            c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
            if round_ < 9:
                k0, k1 = np.uint32(k0 + _W0), np.uint32(k1 + _W1)
    return np.stack([c0, c1, c2, c3], axis=1).reshape(-1)[:count]


def uniform(seed, count, a, b):
    a, b = float(np.float32(a)), float(np.float32(b))
    u = philox_uint32(seed, count).astype(np.float64) / 2.0**32
    return ((b - a) * u + a).astype(np.float32)


def _unit_float(bits):
    return ((bits & np.uint32(0x7FFFFF)) | np.uint32(0x3F800000)).view(np.float32) - np.float32(1.0)


def normal(seed, count, mean, sigma):
    return normal_from_bits(philox_uint32(seed, 2 * ((count + 1) // 2)), count, mean, sigma)


def normal_from_bits(words, count, mean, sigma):
    """``count`` normal values from the uint32 numbers ``words`` (pairs (words[2k], words[2k + 1]))."""
    mean, sigma = float(np.float32(mean)), float(np.float32(sigma))
    pairs = (count + 1) // 2
    bits = words[:2 * pairs].reshape(pairs, 2)
    # MindSpore clamps both uniforms below at 1e-7f (u2 = 0 gives a sine of about 6.3e-7 r).
    u1 = np.maximum(_unit_float(bits[:, 0]), np.float32(1e-7)).astype(np.float64)
    u2 = np.maximum(_unit_float(bits[:, 1]), np.float32(1e-7)).astype(np.float64)
    r = np.sqrt(-2.0 * _libm(math.log, u1)) * sigma
    theta = 2.0 * float(np.float32(3.1415926)) * u2
    out = np.empty((pairs, 2), np.float64)
    out[:, 0] = mean + r * _libm(math.cos, theta)
    out[:, 1] = mean + r * _libm(math.sin, theta)
    with np.errstate(over="ignore"):  # a huge sigma overflows float32 to inf, as in MindSpore
        return out.reshape(-1)[:count].astype(np.float32)


# Truncated normal: the NumPy twin of msparam/_core/truncated_normal.h (see there for MindSpore's
# formula).  Same operations in the same order, so the two agree bit for bit.
_ROOT_TWO = float(np.float32(1.4142135))
_Z_MIN = float(np.nextafter(np.float32(0), np.float32(2)))
_Z_MAX = float(np.nextafter(np.float32(2), np.float32(0)))

# boost's erf_inv_imp rational approximations: (Y, P, Q, shift) per interval, coefficients from
# the constant term up.
_CENTRE = (0.0891314744949340820313,
           (-0.000508781949658280665617, -0.00836874819741736770379, 0.0334806625409744615033,
            -0.0126926147662974029034, -0.0365637971411762664006, 0.0219878681111168899165,
            0.00822687874676915743155, -0.00538772965071242932965),
           (1.0, -0.970005043303290640362, -1.56574558234175846809, 1.56221558398423026363,
            0.662328840472002992063, -0.71228902341542847553, -0.0527396382340099713954,
            0.0795283687341571680018, -0.00233393759374190016776, 0.000886216390456424707504))
_SHOULDER = (2.249481201171875,
             (-0.202433508355938759655, 0.105264680699391713268, 8.37050328343119927838,
              17.6447298408374015486, -18.8510648058714251895, -44.6382324441786960818,
              17.445385985570866523, 21.1294655448340526258, -3.67192254707729348546),
             (1.0, 6.24264124854247537712, 3.9713437953343869095, -28.6608180499800029974,
              -20.1432634680485188801, 48.5609213108739935468, 10.8268667355460159008,
              -22.6436933413139721736, 1.72114765761200282724))
# Tails, by x = sqrt(-log q): [lower bound of x, Y, P, Q, shift].  q >= 4.9e-324 keeps x < 27.3,
# so boost's x >= 44 interval never applies.
_TAILS = (
    (0.0, 0.807220458984375,
     (-0.131102781679951906451, -0.163794047193317060787, 0.117030156341995252019,
      0.387079738972604337464, 0.337785538912035898924, 0.142869534408157156766,
      0.0290157910005329060432, 0.00214558995388805277169, -0.679465575181126350155e-6,
      0.285225331782217055858e-7, -0.681149956853776992068e-9),
     (1.0, 3.46625407242567245975, 5.38168345707006855425, 4.77846592945843778382,
      2.59301921623620271374, 0.848854343457902036425, 0.152264338295331783612,
      0.01105924229346489121), 1.125),
    (3.0, 0.93995571136474609375,
     (-0.0350353787183177984712, -0.00222426529213447927281, 0.0185573306514231072324,
      0.00950804701325919603619, 0.00187123492819559223345, 0.000157544617424960554631,
      0.460469890584317994083e-5, -0.230404776911882601748e-9, 0.266339227425782031962e-11),
     (1.0, 1.3653349817554063097, 0.762059164553623404043, 0.220091105764131249824,
      0.0341589143670947727934, 0.00263861676657015992959, 0.764675292302794483503e-4), 3.0),
    (6.0, 0.98362827301025390625,
     (-0.0167431005076633737133, -0.00112951438745580278863, 0.00105628862152492910091,
      0.000209386317487588078668, 0.149624783758342370182e-4, 0.449696789927706453732e-6,
      0.462596163522878599135e-8, -0.281128735628831791805e-13, 0.99055709973310326855e-16),
     (1.0, 0.591429344886417493481, 0.138151865749083321638, 0.0160746087093676504695,
      0.000964011807005165528527, 0.275335474764726041141e-4, 0.282243172016108031869e-6), 6.0),
    (18.0, 0.99714565277099609375,
     (-0.0024978212791898131227, -0.779190719229053954292e-5, 0.254723037413027451751e-4,
      0.162397777342510920873e-5, 0.396341011304801168516e-7, 0.411632831190944208473e-9,
      0.145596286718675035587e-11, -0.116765012397184275695e-17),
     (1.0, 0.207123112214422517181, 0.0169410838120975906478, 0.000690538265622684595676,
      0.145007359818232637924e-4, 0.144437756628144157666e-6, 0.509761276599778486139e-9), 18.0),
)


def _horner(coefficients, x):
    total = np.full_like(x, coefficients[-1])
    for c in coefficients[-2::-1]:
        total *= x
        total += c
    return total


def _erf_inv_imp(p, q):
    """erf^-1(p) with q = 1 - p (boost's erf_inv_imp), elementwise."""
    out = np.empty_like(p)
    centre = p <= 0.5
    y, pc, qc = _CENTRE
    g = p[centre] * (p[centre] + 10.0)
    out[centre] = g * y + g * (_horner(pc, p[centre]) / _horner(qc, p[centre]))
    shoulder = ~centre & (q >= 0.25)
    y, pc, qc = _SHOULDER
    qs = q[shoulder]
    shifted = qs - 0.25
    out[shoulder] = np.sqrt(-2.0 * _libm(math.log, qs)) / (y + _horner(pc, shifted) / _horner(qc, shifted))
    tail = np.flatnonzero(~centre & ~shoulder)
    x = np.sqrt(-_libm(math.log, q[tail]))
    # Interval k holds x < bound of interval k + 1; anything else (NaN) lands in the last one.
    interval = np.full(x.shape, len(_TAILS) - 1)
    for k in range(len(_TAILS) - 2, -1, -1):
        interval[x < _TAILS[k + 1][0]] = k
    for k, (_, y, pc, qc, shift) in enumerate(_TAILS):
        mine = interval == k
        xk = x[mine]
        r = _horner(pc, xk - shift) / _horner(qc, xk - shift)
        out[tail[mine]] = y * xk + r * xk
    return out


def _erfc_inv(z):
    """erfc^-1(z) after MindSpore's clamp of z into [_Z_MIN, _Z_MAX], elementwise."""
    z = np.where(z <= 0.0, _Z_MIN, np.where(z >= 2.0, _Z_MAX, z))
    upper = z > 1.0
    q = np.where(upper, 2.0 - z, z)
    value = _erf_inv_imp(1.0 - q, q)
    return np.where(upper, -value, value)


def _std_normal_cdf(x):
    return math.erfc(-(x / _ROOT_TWO)) / 2.0


def truncated_normal(seed, count, mean, sigma, a, b):
    """MindSpore's inverse-CDF truncated normal: one uint32 per element, bounds a, b absolute."""
    mean, sigma, a, b = (float(np.float32(v)) for v in (mean, sigma, a, b))
    cdf_lower = _std_normal_cdf((a - mean) / sigma)
    cdf_span = _std_normal_cdf((b - mean) / sigma) - cdf_lower
    u = philox_uint32(seed, count).astype(np.float64) / 2.0**32
    x = -_erfc_inv(2.0 * (cdf_lower + u * cdf_span)) * _ROOT_TWO
    return (mean + x * sigma).astype(np.float32)
