"""Sharded initialisation: one rank's slice of a 2^28-element float32 TruncatedNormal weight split
64 ways, against the full tensor's fill on the same machine.

Targets (issue 17): the slice takes at most 1.25x (full-tensor time / 64), and its peak traced
memory is at most 1.1x the slice's bytes.  ``rows`` splits dimension 0 (one run of consecutive
elements), ``columns`` the last dimension (16,384 runs of 256 elements, each filled from its own
start).  One process plays rank ``RANK`` of 64 through ``set_auto_parallel_context(device_num=64,
global_rank=RANK)``; no MPI is needed.  The full fill and the slice alternate for ROUNDS rounds
and each case records both medians and ``ratio = slice / (full / 64)`` in extra_info.  The peak
is traced on one call of its own; the case's own timing (what a regression compare reads) is
TIMED_ROUNDS untraced rounds after one untimed round.
Run: ``python -m pytest bench/test_bench_parallel.py``.
"""
import statistics
import time
import tracemalloc

import pytest

import msparam as ms
from msparam.common.initializer import TruncatedNormal, initializer

SHAPE = (1 << 14, 1 << 14)  # 2^28 elements, 1 GiB of float32
WAYS = 64
RANK = 37
ROUNDS = 3
# The slice's own timing (what the regression compare reads), after one untimed round: a single
# round made the median one sample, which moved 30-60% between runs of the same code.
TIMED_ROUNDS = 7
LAYOUTS = {"rows": ([WAYS], [0, -1], [SHAPE[0] // WAYS, SHAPE[1]], 0, True, ""),
           "columns": ([WAYS], [-1, 0], [SHAPE[0], SHAPE[1] // WAYS], 0, True, "")}


@pytest.fixture
def rank_of_64():
    ms.set_auto_parallel_context(parallel_mode="semi_auto_parallel", device_num=WAYS, global_rank=RANK)
    yield
    ms.reset_auto_parallel_context()


def draw_slice(layout):
    param = ms.Parameter(initializer(TruncatedNormal(0.02), SHAPE), name="w")
    return param.init_data(layout)


def draw_full():
    return initializer(TruncatedNormal(0.02), SHAPE).init_data()


def seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@pytest.mark.parametrize("split", list(LAYOUTS))
def test_one_rank_slice_of_64(benchmark, rank_of_64, split):
    layout = LAYOUTS[split]
    slice_bytes = SHAPE[0] * SHAPE[1] * 4 // WAYS
    tracemalloc.start()
    param = draw_slice(layout)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert param.shape == tuple(layout[2])
    del param
    # Timed apart from the peak: with several rounds, each round's result lives until the next returns.
    benchmark.pedantic(lambda: draw_slice(layout), rounds=TIMED_ROUNDS, warmup_rounds=1, iterations=1)
    info = benchmark.extra_info
    info["peak_over_slice"] = peak / slice_bytes
    print(f"\n{split}: peak traced memory {peak / slice_bytes:.3f}x the slice")
    if not benchmark.enabled:  # quick mode: the case only has to work, without the 1 GiB fill
        return
    times = [(seconds(lambda: draw_slice(layout)), seconds(draw_full)) for _ in range(ROUNDS)]
    slice_s = statistics.median(t for t, _ in times)
    full_s = statistics.median(t for _, t in times)
    info.update(slice_ms=slice_s * 1e3, full_ms=full_s * 1e3, ratio=slice_s / (full_s / WAYS))
    print(f"{split}: slice {slice_s * 1e3:.1f} ms, full {full_s * 1e3:.0f} ms, "
          f"ratio to full/64 {slice_s / (full_s / WAYS):.2f}")
