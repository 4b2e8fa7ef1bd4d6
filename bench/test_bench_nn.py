"""Layer construction overhead: ``nn.Dense(3, 4)`` next to ``torch.nn.Linear(3, 4)`` (and
``nn.Conv2d(3, 64, 3)`` next to ``torch.nn.Conv2d(3, 64, 3)``), timed in the same run.

The machine is shared and noisy, so the two constructors are timed in alternating rounds (each
round the mean of CALLS constructions) and every case reports, in its extra_info and printed:

- ``msparam_us`` / ``torch_us``: the median over ROUNDS of the per-construction time;
- ``ratio``: the median of the per-round ratios msparam / torch (issue 4's target: <= 0.3);
- ``fill_us``, ``seed_us`` and ``fill_share``: the part of msparam's time spent drawing the
  'normal' weight, i.e. ``msparam.common._checked_fill.fill_normal`` on the weight's buffer and the
  stream-seed draw (``next_stream_seed``) that precedes it, measured separately.

torch is optional: without it the msparam timings and the fill share are still reported.
Run: ``python -m pytest bench/test_bench_nn.py``.
"""
import statistics
import time

import numpy as np
import pytest

from msparam import nn
from msparam.common import _checked_fill
from msparam.common.seed import next_stream_seed

try:
    import torch
except ImportError:
    torch = None

ROUNDS = 15
CALLS = 1000

CASES = {
    # name: (msparam constructor, torch constructor name, arguments, weight shape)
    "dense_3_4": (nn.Dense, "Linear", (3, 4), (4, 3)),
    "conv2d_3_64_3": (nn.Conv2d, "Conv2d", (3, 64, 3), (64, 3, 3, 3)),
}


def per_call_seconds(make, calls=CALLS):
    start = time.perf_counter()
    for _ in range(calls):
        make()
    return (time.perf_counter() - start) / calls


def fill_seconds(shape):
    """Median time of the 'normal' fill of a float32 buffer of ``shape``, and of the seed draw."""
    buffer = np.empty(int(np.prod(shape)), np.float32)
    seed = next_stream_seed()
    fills, seeds = [], []
    for _ in range(ROUNDS):
        fills.append(per_call_seconds(lambda: _checked_fill.fill_normal(seed, buffer, 0.0, 0.01)))
        seeds.append(per_call_seconds(next_stream_seed))
    return statistics.median(fills), statistics.median(seeds)


@pytest.mark.parametrize("name", list(CASES))
def test_layer_construction(benchmark, name):
    make_msparam, torch_name, args, weight_shape = CASES[name]
    benchmark(make_msparam, *args)
    make_torch = None
    if torch is not None:
        torch.set_num_threads(1)
        torch_layer = getattr(torch.nn, torch_name)
        make_torch = lambda: torch_layer(*args)  # noqa: E731
        make_torch()
    ours, theirs, ratios = [], [], []
    for _ in range(ROUNDS):
        ours.append(per_call_seconds(lambda: make_msparam(*args)))
        if make_torch is not None:
            theirs.append(per_call_seconds(make_torch))
            ratios.append(ours[-1] / theirs[-1])
    msparam_seconds = statistics.median(ours)
    fill, seed = fill_seconds(weight_shape)
    info = benchmark.extra_info
    info["msparam_us"] = msparam_seconds * 1e6
    info["fill_us"] = fill * 1e6
    info["seed_us"] = seed * 1e6
    info["fill_share"] = (fill + seed) / msparam_seconds
    report = (f"{name}: msparam {info['msparam_us']:.1f} us (weight fill {info['fill_us']:.1f} us + seed draw "
              f"{info['seed_us']:.1f} us = {100 * info['fill_share']:.0f}%)")
    if ratios:
        info["torch_us"] = statistics.median(theirs) * 1e6
        info["ratio"] = statistics.median(ratios)
        report += f", torch {info['torch_us']:.1f} us, ratio msparam/torch {info['ratio']:.3f}"
    print(report)
