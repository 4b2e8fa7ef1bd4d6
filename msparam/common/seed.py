"""Global seed, as MindSpore's: set_seed seeds NumPy's global RandomState, and each random fill
draws its own 64-bit stream seed from it.

Threads: each stream-seed draw, and set_seed itself, holds one lock, so concurrent fills never
corrupt NumPy's global RandomState or receive the same stream seed.  Which fill gets which seed
still follows the order in which threads reach the lock, which the OS scheduler decides: after
set_seed, the set of values made by fills started from several threads at once is fixed, but
which Parameter holds which part of it is not.  Fills made from one thread (or in an order the
program enforces) are deterministic, as in MindSpore.  Code calling np.random directly from
another thread meanwhile shifts the stream, as it does in MindSpore.
"""
import threading

import numpy as np

__all__ = ["set_seed", "get_seed"]

_global_seed = None
_draw_lock = threading.Lock()


def set_seed(seed: int) -> None:
    """Set the global seed (an int >= 0); also seeds NumPy's global RandomState, as MindSpore does."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"For 'set_seed', the argument 'seed' must be int, but got {type(seed).__name__}.")
    if seed < 0:
        raise ValueError(f"For 'set_seed', the argument 'seed' must be non-negative, but got {seed}.")
    global _global_seed
    with _draw_lock:
        np.random.seed(seed)
        _global_seed = seed


def get_seed() -> int | None:
    """The global seed set by set_seed, or None."""
    return _global_seed


def next_stream_seed() -> int:
    """The 64-bit Philox stream seed of the next random fill (MindSpore 2.10's draw)."""
    with _draw_lock:
        return int(np.random.randint(low=1, high=2**63, dtype=np.int64))
