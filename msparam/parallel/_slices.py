"""A slice of a tensor as runs of its C-order elements, and random fills of exactly those runs.

A slice ``bounds = ((start, stop), ...)`` of a C-contiguous tensor is a set of equal-length runs of
consecutive flat indices: the dimensions after the last one that is cut are whole and join the
run.  msparam's random fills are counter-based (element i of a stream depends only on the seed and
i, and a fill can start at any multiple of 4), so each run is filled from its own start and the
slice equals ``full[slice]`` bit for bit, at a cost proportional to the slice.
"""
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["slice_runs", "fill_random_slice", "slice_of"]

# float32 values per staging piece when the slice is not float32: as initializer.py's fills.
_STAGING_PIECE = 1 << 18


def slice_of(bounds: "tuple[tuple[int, int], ...]") -> "tuple[slice, ...]":
    """The NumPy index of ``bounds``."""
    return tuple(slice(start, stop) for start, stop in bounds)


def slice_runs(full_shape: "tuple[int, ...]", bounds: "tuple[tuple[int, int], ...]") -> "tuple[npt.NDArray[np.int64], int]":
    """``(starts, length)``: the flat indices in ``full_shape`` where each run of the slice starts
    (an int64 array, in the slice's C order) and the common run length."""
    full_shape = tuple(full_shape)
    cut = [dim for dim, (size, (start, stop)) in enumerate(zip(full_shape, bounds)) if stop - start != size]
    if not cut:
        return np.zeros(1, np.int64), math.prod(full_shape)
    last = cut[-1]
    inner = math.prod(full_shape[last + 1:])
    length = (bounds[last][1] - bounds[last][0]) * inner
    starts = np.array([bounds[last][0] * inner], np.int64)
    stride = inner * full_shape[last]
    for dim in range(last - 1, -1, -1):
        start, stop = bounds[dim]
        offsets = np.arange(start, stop, dtype=np.int64) * stride
        starts = (offsets[:, None] + starts[None, :]).reshape(-1)
        stride *= full_shape[dim]
    return starts, length


def fill_random_slice(out: "npt.NDArray[Any]", fill: "Callable[..., None]", seed: int, params: "tuple[float, ...]",
                      full_shape: "tuple[int, ...]", bounds: "tuple[tuple[int, int], ...]") -> None:
    """Fill ``out`` (C-contiguous, the slice's shape, any float dtype) with ``full[slice]`` of the
    random fill ``fill(seed, ..., *params)`` of an array of ``full_shape``: one compiled call
    fills every run from its own start."""
    starts, length = slice_runs(full_shape, bounds)
    flat = out.reshape(-1)
    if not flat.size:
        return
    if out.dtype == np.float32:
        fill(seed, flat, *params, starts=starts)
        return
    # Other dtypes: float32 values through a bounded staging piece (whole runs, or pieces of one
    # long run), cast as the whole fill casts.
    if length <= _STAGING_PIECE:
        per_piece = max(1, _STAGING_PIECE // length)
        piece = np.empty(min(starts.size, per_piece) * length, np.float32)
        for first in range(0, starts.size, per_piece):
            chunk = starts[first:first + per_piece]
            values = piece[:chunk.size * length]
            fill(seed, values, *params, starts=chunk)
            flat[first * length:first * length + values.size] = values
        return
    piece = np.empty(_STAGING_PIECE, np.float32)
    for index, start in enumerate(starts.tolist()):
        for offset in range(0, length, _STAGING_PIECE):
            values = piece[:min(_STAGING_PIECE, length - offset)]
            fill(seed, values, *params, starts=np.array([start + offset], np.int64))
            position = index * length + offset
            flat[position:position + values.size] = values
