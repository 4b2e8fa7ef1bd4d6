"""The one place that decides how many threads a compiled kernel may use.

Kernels never ask OpenMP themselves; they take ``num_threads`` as an argument and pass it
to ``prange(..., num_threads=n)``, so results and tests can pin the count.

The count is bounded (:func:`max_num_threads`): an OpenMP team of 100,000 threads does not start,
it crashes inside the runtime. ``threadpoolctl.threadpool_limits`` caps it like any OpenMP pool
(msparam registers a controller with threadpoolctl), and :func:`set_num_threads` also sets the
thread count of the BLAS that NumPy's matmul (and so ``nn.Dense``) runs on.
"""
import os
import warnings

import threadpoolctl

__all__ = ["get_num_threads", "set_num_threads", "max_num_threads"]

# Teams larger than this many threads per CPU only add start-up and contention; far larger ones
# exhaust the runtime's stacks (a crash, not an error).
_THREADS_PER_CPU = 4


def _positive_int(text: str) -> "int | None":
    text = text.split(",")[0].strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def max_num_threads() -> int:
    """The largest thread count msparam accepts: 4 per CPU of the machine, or ``OMP_THREAD_LIMIT``
    (OpenMP's own limit) when that is lower."""
    limit = _THREADS_PER_CPU * (os.cpu_count() or 1)
    omp_limit = _positive_int(os.environ.get("OMP_THREAD_LIMIT", ""))
    return min(limit, omp_limit) if omp_limit else limit


def _from_environment() -> int:
    requested = _positive_int(os.environ.get("OMP_NUM_THREADS", ""))
    if requested is None:
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return min(usable, max_num_threads())
    if requested > max_num_threads():
        warnings.warn(f"msparam: OMP_NUM_THREADS={requested} is more than the {max_num_threads()} threads msparam "
                      f"allows ({_THREADS_PER_CPU} per CPU or OMP_THREAD_LIMIT); using {max_num_threads()}.",
                      RuntimeWarning, stacklevel=2)
        return max_num_threads()
    return requested


_num_threads = _from_environment()
_forked_child = False


def _single_threaded_after_fork() -> None:
    # GNU OpenMP cannot start a thread team in a child forked after the parent used one: it would
    # hang. A forked worker (multiprocessing's default on Linux) runs its kernels on one thread,
    # as PyTorch's do, and set_num_threads refuses more there (it would bring the hang back).
    global _num_threads, _forked_child
    _num_threads = 1
    _forked_child = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_single_threaded_after_fork)


def get_num_threads() -> int:
    """Number of threads compiled kernels use (``OMP_NUM_THREADS``, else the usable CPUs)."""
    return _num_threads


def set_num_threads(num_threads: int) -> int:
    """Set the number of threads compiled kernels and the BLAS under ``nn.Dense`` use.

    Parameters
    ----------
    num_threads : int
        A positive integer, at most :func:`max_num_threads`; 1 in a process forked from another.

    Returns
    -------
    int
        The previous value.

    Raises
    ------
    TypeError
        If ``num_threads`` is not an int.
    ValueError
        If ``num_threads`` is not positive or above :func:`max_num_threads`.
    RuntimeError
        If ``num_threads`` > 1 in a forked child process (GNU OpenMP would hang there).
    """
    global _num_threads
    if isinstance(num_threads, bool) or not isinstance(num_threads, int):
        raise TypeError(f"For 'set_num_threads', 'num_threads' must be int, but got {type(num_threads).__name__}.")
    if num_threads < 1:
        raise ValueError(f"For 'set_num_threads', 'num_threads' must be positive, but got {num_threads}.")
    if num_threads > max_num_threads():
        raise ValueError(f"For 'set_num_threads', 'num_threads' must be at most {max_num_threads()} "
                         f"({_THREADS_PER_CPU} per CPU, or OMP_THREAD_LIMIT), but got {num_threads}.")
    if num_threads > 1 and _forked_child:
        raise RuntimeError(f"For 'set_num_threads', 'num_threads' must be 1 in a process started by fork, but got "
                           f"{num_threads}: the OpenMP runtime cannot start threads there. Start workers with the "
                           f"'spawn' or 'forkserver' method to use more.")
    previous, _num_threads = _num_threads, num_threads
    threadpoolctl.threadpool_limits(limits=num_threads, user_api="blas")
    return previous


class _MsparamController(threadpoolctl.LibController):  # type: ignore[misc]  # threadpoolctl is untyped
    """threadpoolctl's handle on msparam's kernels: ``threadpool_limits(n)`` (or with
    ``user_api="openmp"``) caps them as it caps the OpenMP runtime. Found through a symbol that only
    msparam's storage module exports."""

    user_api = "openmp"
    internal_api = "msparam"
    filename_prefixes = ("_storage.",)
    check_symbols = ("msparam_thread_count_controlled_by_msparam_threads",)

    def get_num_threads(self) -> int:  # pyright: ignore[reportIncompatibleMethodOverride]  (untyped base)
        return get_num_threads()

    def set_num_threads(self, num_threads: int) -> None:
        # A limit, not a request: clamp to what this process allows instead of raising.
        global _num_threads
        _num_threads = max(1, min(int(num_threads), 1 if _forked_child else max_num_threads()))

    def get_version(self) -> "str | None":  # pyright: ignore[reportIncompatibleMethodOverride]
        from importlib.metadata import PackageNotFoundError, version
        try:
            return version("msparam")
        except PackageNotFoundError:
            return None


threadpoolctl.register(_MsparamController)
