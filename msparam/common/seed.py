"""Global seed, as MindSpore's: set_seed seeds NumPy's global RandomState, and each random fill
draws its own 64-bit stream seed from it.

Threads: every draw msparam makes from the global RandomState holds :data:`draw_lock`, and so
does each sequence of draws that must stay contiguous: set_seed, a fill's stream seed (one NumPy
call, which NumPy's own lock already makes atomic), Sparse's stream seed and its permutations, a
lazy parallel Parameter's snapshot of the state and the draws it skips, and its later replay
(which swaps the global state for a moment). So concurrent fills never corrupt the RandomState,
never receive the same stream seed, and each fill's values are those of one single-threaded fill.
Which fill gets which draws still follows the order in which threads reach the lock, which the
OS scheduler decides: after set_seed, the set of values made by fills started from several
threads at once is fixed, but which Parameter holds which part of it is not.  Fills made from one
thread (or in an order the program enforces) are deterministic, as in MindSpore.  Code calling
np.random directly from another thread meanwhile (RReLU's slopes in training, user code) shifts
the stream, as it does in MindSpore.
"""
import threading

import numpy as np

__all__ = ["set_seed", "get_seed"]

_global_seed = None
# held around every draw from the global RandomState msparam makes, and around each sequence of
# draws that must stay contiguous (reentrant: such a sequence calls next_stream_seed)
draw_lock = threading.RLock()


def set_seed(seed: int) -> None:
    """Set the global seed (an int >= 0); also seeds NumPy's global RandomState, as MindSpore does."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"For 'set_seed', the argument 'seed' must be int, but got {type(seed).__name__}.")
    if seed < 0:
        raise ValueError(f"For 'set_seed', the argument 'seed' must be non-negative, but got {seed}.")
    global _global_seed
    with draw_lock:
        np.random.seed(seed)
        _global_seed = seed


def get_seed() -> int | None:
    """The global seed set by set_seed, or None."""
    return _global_seed


def next_stream_seed() -> int:
    """The 64-bit Philox stream seed of the next random fill (MindSpore 2.10's draw)."""
    with draw_lock:
        return int(np.random.randint(low=1, high=2**63, dtype=np.int64))
