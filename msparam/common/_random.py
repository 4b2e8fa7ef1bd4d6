"""The random fills every initializer uses: ``fill_*(seed, out, *params)`` writes float32 values
of MindSpore 2.10's stream ``seed`` into the 1-D contiguous float32 array ``out``.

Interim: backed by the vectorised NumPy reference until the compiled core lands.
"""
from msparam.common import _philox_numpy as philox

__all__ = ["fill_uniform", "fill_normal", "fill_truncated_normal"]


def fill_uniform(seed, out, a, b):
    """Uniform on [a, b) (a, b rounded to float32 first, as MindSpore)."""
    out[...] = philox.uniform(seed, out.size, a, b)


def fill_normal(seed, out, mean, sigma):
    """Normal(mean, sigma**2) by Box-Muller on pairs."""
    out[...] = philox.normal(seed, out.size, mean, sigma)


def fill_truncated_normal(seed, out, mean, sigma, a, b):
    """Normal(mean, sigma**2) truncated to [a, b], by the inverse CDF (sigma > 0, checked by the caller)."""
    out[...] = philox.truncated_normal(seed, out.size, mean, sigma, a, b)
