"""The random fills every initializer uses: ``fill_*(seed, out, *params)`` writes float32 values
of MindSpore 2.10's stream ``seed`` into the 1-D contiguous float32 array ``out``.

Arguments are checked here, before the compiled core (msparam._core._philox_fill) runs without the
GIL; the core rounds distribution parameters to float32 first, as MindSpore does.  The checks
take fast paths for the usual types: a small layer's fill should cost little more than the
stream-seed draw.
"""
import functools
import numbers
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from msparam._core import _philox_fill as _core
from msparam._threads import get_num_threads
from msparam._validation import check_real

__all__ = ["fill_uniform", "fill_normal", "fill_truncated_normal", "truncated_normal_reaches"]

_SEED_LIMIT = 2**64
_FLOAT32 = np.dtype(np.float32)


def _check_target(name: str, seed: object, out: object, start: object, starts: object = None) -> None:
    if type(seed) is not int and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"For '{name}', 'seed' must be int, but got {type(seed).__name__}.")
    if not 0 <= cast(int, seed) < _SEED_LIMIT:
        raise ValueError(f"For '{name}', 'seed' must be in [0, 2**64 - 1], but got {seed}.")
    if not isinstance(out, np.ndarray):
        raise TypeError(f"For '{name}', 'out' must be a numpy.ndarray, but got {type(out).__name__}.")
    if out.dtype is not _FLOAT32 and out.dtype != _FLOAT32:
        raise TypeError(f"For '{name}', 'out' must have dtype float32, but got {out.dtype}.")
    if out.ndim != 1 or not out.flags.c_contiguous:
        raise ValueError(f"For '{name}', 'out' must be 1-D and C-contiguous, but got shape "
                         f"{out.shape} with strides {out.strides}.")
    if not out.flags.writeable:
        raise ValueError(f"For '{name}', 'out' must be writeable.")
    if start:
        if isinstance(start, bool) or not isinstance(start, numbers.Integral):
            raise TypeError(f"For '{name}', 'start' must be int, but got {type(start).__name__}.")
        start = cast(int, start)
        if start < 0 or start % 4 or start >= _SEED_LIMIT:
            raise ValueError(f"For '{name}', 'start' must be a multiple of 4 (a Philox block) in "
                             f"[0, 2**64), but got {start}.")
    if starts is not None:
        _check_runs(name, out, starts)


def _check_runs(name: str, out: npt.NDArray[Any], starts: object) -> None:
    """``starts`` (the runs of a slice) must be a 1-D C-contiguous int64 array of indices >= 0
    whose length divides ``out``'s."""
    if not isinstance(starts, np.ndarray) or starts.dtype != np.int64:
        raise TypeError(f"For '{name}', 'starts' must be a numpy.ndarray of int64, but got "
                        f"{getattr(starts, 'dtype', type(starts).__name__)}.")
    if starts.ndim != 1 or not starts.flags.c_contiguous:
        raise ValueError(f"For '{name}', 'starts' must be 1-D and C-contiguous, but got shape {starts.shape}.")
    if starts.size == 0 or out.size % starts.size:
        raise ValueError(f"For '{name}', 'out' ({out.size} elements) must hold a whole number of runs, one per "
                         f"entry of 'starts' ({starts.size}).")
    if starts.min() < 0:
        raise ValueError(f"For '{name}', 'starts' must be >= 0, but got {starts.min()}.")


def fill_uniform(seed: int, out: npt.NDArray[np.float32], a: float, b: float, start: int = 0,
                 starts: "npt.NDArray[np.int64] | None" = None) -> None:
    """Uniform on [a, b): ``(b - a) * u + a`` with u = uint32 / 2^32, in double, then float32.

    Parameters
    ----------
    seed : int
        Stream seed, 0 <= seed < 2**64.
    out : numpy.ndarray
        1-D C-contiguous writeable float32 array, filled in place.
    a, b : float
        Bounds, rounded to float32 first.
    start : int, default 0
        Index of the fill's element written to ``out[0]``, a multiple of 4: a large fill can be
        made piece by piece (the stream skips ahead).
    starts : numpy.ndarray of int64, optional
        Instead of ``start``: ``out`` is ``len(starts)`` runs of equal length, run r being the
        fill's elements from index ``starts[r]`` on (any index): a slice of a larger tensor in
        one call (msparam.parallel).
    """
    _check_target("fill_uniform", seed, out, start, starts)
    check_real(a, "a", "fill_uniform")
    check_real(b, "b", "fill_uniform")
    _core.fill_uniform(seed, out, a, b, get_num_threads(), start=start, starts=starts)


def fill_normal(seed: int, out: npt.NDArray[np.float32], mean: float, sigma: float, start: int = 0,
                starts: "npt.NDArray[np.int64] | None" = None) -> None:
    """Normal(mean, sigma**2) by Box-Muller on pairs of the stream (cos, then sin).

    Parameters
    ----------
    seed : int
        Stream seed, 0 <= seed < 2**64.
    out : numpy.ndarray
        1-D C-contiguous writeable float32 array, filled in place.
    mean, sigma : float
        Rounded to float32 first.
    start, starts
        As for fill_uniform.
    """
    _check_target("fill_normal", seed, out, start, starts)
    check_real(mean, "mean", "fill_normal")
    check_real(sigma, "sigma", "fill_normal")
    _core.fill_normal(seed, out, mean, sigma, get_num_threads(), start=start, starts=starts)


def fill_truncated_normal(seed: int, out: npt.NDArray[np.float32], mean: float, sigma: float, a: float, b: float,
                          start: int = 0, starts: "npt.NDArray[np.int64] | None" = None) -> None:
    """Normal(mean, sigma**2) truncated to [a, b] by MindSpore's inverse CDF, one uint32 per element.

    Parameters
    ----------
    seed : int
        Stream seed, 0 <= seed < 2**64.
    out : numpy.ndarray
        1-D C-contiguous writeable float32 array, filled in place.
    mean, sigma, a, b : float
        Rounded to float32 first; sigma > 0 (checked by the caller); a, b absolute bounds.
    start, starts
        As for fill_uniform.
    """
    _check_target("fill_truncated_normal", seed, out, start, starts)
    for name, value in (("mean", mean), ("sigma", sigma), ("a", a), ("b", b)):
        check_real(value, name, "fill_truncated_normal")
    _core.fill_truncated_normal(seed, out, mean, sigma, a, b, get_num_threads(), start=start, starts=starts)


_LAST_STREAM_NUMBER = 2**32 - 1
_GRID_STEP = 2**16


def _truncated_normal_values(params: "tuple[float, ...]", ks: "Sequence[int] | npt.NDArray[Any]") -> npt.NDArray[np.float32]:
    bits = np.zeros((len(ks) + 3) // 4 * 4, np.uint32)
    bits[:len(ks)] = ks
    values = np.empty(len(ks), np.float32)
    _core.values_from_bits("truncated_normal", bits, values, params)
    return values


def truncated_normal_reaches(mean: float, sigma: float, a: float, b: float) -> bool:
    """Whether some stream number k makes fill_truncated_normal's map land in [a, b] (float32).

    The map is nondecreasing in k while 2 p stays inside (0, 2); where 2 p rounds to 2 (Phi of
    a bound beyond about 8.3 sigma is 1 in double) or to 0, MindSpore's clamp of erfc_inv's
    argument pins the value at mean + 5.2947 sigma or mean - 14 sigma, at the ends of the k
    range.  So: values on a grid of k (both ends included) either hit the window, or the window
    can only be reached between two neighbours that straddle it, searched by bisection.

    The grid costs about a millisecond and every TruncatedNormal asks, mostly with the same few
    arguments: answers are cached, keyed by the arguments as doubles (what the core converts
    them from, so equal doubles share an answer whatever number type carried them).
    """
    return _reaches(float(mean), float(sigma), float(a), float(b))


@functools.lru_cache(maxsize=256)
def _reaches(mean: float, sigma: float, a: float, b: float) -> bool:
    params = (mean, sigma, a, b)
    lower, upper = np.float32(a), np.float32(b)
    ks = np.append(np.arange(0, _LAST_STREAM_NUMBER, _GRID_STEP, dtype=np.uint64), _LAST_STREAM_NUMBER)
    values = _truncated_normal_values(params, ks)
    if ((values >= lower) & (values <= upper)).any():
        return True
    for i in np.flatnonzero((values[:-1] < lower) & (values[1:] > upper)):
        low, high = int(ks[i]), int(ks[i + 1])  # value(low) < a, value(high) > b
        while high - low > 1:
            middle = (low + high) // 2
            value = _truncated_normal_values(params, [middle])[0]
            if lower <= value <= upper:
                return True
            low, high = (middle, high) if value < lower else (low, middle)
    return False
