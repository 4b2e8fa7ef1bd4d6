"""The implementations each benchmark case runs on, side by side in one session.

msparam always runs; NumPy (a dependency of msparam) is the floor for plain array work; PyTorch
and MindSpore join when they are installed (``pip install ".[bench-peers]"`` brings PyTorch).
Peers are found without importing them, since importing torch alone costs about a second, and
are imported by the first case that needs them.
"""
import functools
import importlib
import importlib.util
import os
import time

from msparam import get_num_threads

ALL = ("msparam", "numpy", "torch", "mindspore")
WARM_UP_SECONDS = 0.1
PRESENT = tuple(name for name in ALL if importlib.util.find_spec(name) is not None)


def implementations(*names):
    """The installed ones among ``names``, in that order: the values of a case's ``impl`` parameter."""
    unknown = set(names) - set(ALL)
    if unknown:
        raise ValueError(f"unknown implementations {sorted(unknown)}; known: {ALL}")
    return [name for name in names if name in PRESENT]


@functools.cache
def load(name):
    """Import implementation ``name``, set to msparam's thread count so times compare like for like."""
    module = importlib.import_module(name)
    if name == "torch":
        module.set_num_threads(get_num_threads())
    return module


def as_numpy(impl, value):
    """The values of a tensor, parameter or array of implementation ``impl`` as a NumPy array."""
    if impl == "numpy":
        return value
    if impl == "torch":
        return value.detach().numpy()
    return value.asnumpy()


def record_throughput(benchmark, amount, unit):
    """Store ``amount`` of work and ``amount`` / median time in ``benchmark.extra_info``.

    ``unit`` names what ``amount`` counts ("elements", "GFLOP", "parameters", ...); the
    throughput is stored as ``extra_info['throughput']`` in ``unit``/s. In quick mode
    (``--benchmark-disable``) there is no timing, so only the amount is stored. The 1-minute
    load average goes with it: on a shared machine, other processes taking the cores explain
    most outliers (a 2-thread OpenMP kernel waits a whole time slice for a descheduled thread).
    """
    benchmark.extra_info["load_average"] = os.getloadavg()[0]
    benchmark.extra_info["work"] = amount
    benchmark.extra_info["throughput_unit"] = f"{unit}/s"
    if benchmark.stats is not None:
        benchmark.extra_info["throughput"] = amount / benchmark.stats.stats.median


def is_quick(config):
    """True under ``--benchmark-disable``: every case runs once, untimed, as a plain test."""
    return bool(config.getoption("benchmark_disable")) and not config.getoption("benchmark_enable")


def warm_up(benchmark, fn, *args):
    """Untimed calls of ``fn(*args)`` for WARM_UP_SECONDS (at least one) before a case's timed rounds;
    none in quick mode.

    pytest-benchmark times from its first call. On this shared VM a memory-bound call (a
    1.6x10^7-element fill writes 64 MB) ran its first ~50 ms of calls in a process at up to 2.8x
    its later time (6.5 ms a call, then 2.3 ms), a share of the rounds the median reads.
    """
    if not benchmark.enabled:
        return
    deadline = time.perf_counter() + WARM_UP_SECONDS
    fn(*args)
    while time.perf_counter() < deadline:
        fn(*args)
