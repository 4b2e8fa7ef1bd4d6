"""The one place that decides how many threads a compiled kernel may use.

Kernels never ask OpenMP themselves; they take ``num_threads`` as an argument and pass it
to ``prange(..., num_threads=n)``, so results and tests can pin the count.
"""
import os

__all__ = ["get_num_threads", "set_num_threads"]


def _from_environment():
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


_num_threads = _from_environment()


def _single_threaded_after_fork():
    # GNU OpenMP cannot start a thread team in a child forked after the parent used one: it would
    # hang. A forked worker (multiprocessing's default on Linux) runs its kernels on one thread,
    # as PyTorch's do; set_num_threads in the child would bring the hang back.
    global _num_threads
    _num_threads = 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_single_threaded_after_fork)


def get_num_threads():
    """Number of threads compiled kernels use (``OMP_NUM_THREADS``, else the usable CPUs)."""
    return _num_threads


def set_num_threads(num_threads):
    """Set the number of threads compiled kernels use; returns the previous value.

    Parameters
    ----------
    num_threads : int
        A positive integer.
    """
    global _num_threads
    if isinstance(num_threads, bool) or not isinstance(num_threads, int):
        raise TypeError(f"For 'set_num_threads', 'num_threads' must be int, but got {type(num_threads).__name__}.")
    if num_threads < 1:
        raise ValueError(f"For 'set_num_threads', 'num_threads' must be positive, but got {num_threads}.")
    previous, _num_threads = _num_threads, num_threads
    return previous
