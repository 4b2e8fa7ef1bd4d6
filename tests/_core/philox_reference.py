"""Independent reference for the compiled random core: Philox4x32-10 vectorised in NumPy and
MindSpore 2.10's uniform/normal maps written straight from the formulas.

log, cos and sin come from Python's math module (the C library, as in MindSpore), not NumPy,
whose SIMD float64 log differs from the C library's in the last bit for some inputs.
"""
import math

import numpy as np

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)
_log, _cos, _sin = (np.frompyfunc(f, 1, 1) for f in (math.log, math.cos, math.sin))


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
    mean, sigma = float(np.float32(mean)), float(np.float32(sigma))
    pairs = (count + 1) // 2
    bits = philox_uint32(seed, 2 * pairs).reshape(pairs, 2)
    u1 = np.maximum(_unit_float(bits[:, 0]), np.float32(1e-7)).astype(np.float64)
    u2 = _unit_float(bits[:, 1]).astype(np.float64)
    r = np.sqrt(-2.0 * _log(u1).astype(np.float64)) * sigma
    theta = 2.0 * float(np.float32(3.1415926)) * u2
    out = np.empty((pairs, 2), np.float64)
    out[:, 0] = mean + r * _cos(theta).astype(np.float64)
    out[:, 1] = mean + r * _sin(theta).astype(np.float64)
    with np.errstate(over="ignore"):  # a huge sigma overflows float32 to inf, as in MindSpore
        return out.reshape(-1)[:count].astype(np.float32)
