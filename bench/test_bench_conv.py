"""Conv2d forward (float32, pad_mode 'same', no bias) on issue 5's shapes.

Run: ``python -m pytest bench/test_bench_conv.py --benchmark-only``.  Each case reports in
``extra_info`` its GFLOP/s, the percentage of NumPy's float32 2048x2048 matmul rate measured in the
same run, and, when torch is importable, torch.nn.functional.conv2d's time and the ratio
torch time / msparam time (> 1 means msparam is faster).

The machine may be shared, so the two are timed side by side: rounds alternate between them
(each round a short burst of calls after one untimed call, so each runs in its own steady
state), noise hits both alike, and the ratio is the median of the per-round-pair ratios
(``ratio_torch_over_msparam``); the ratio of the best rounds is reported too.
"""
import math
import statistics
import time

import numpy as np
import pytest

from msparam._core._conv import Conv2dPlan
from msparam._threads import get_num_threads

try:
    import torch
except ImportError:
    torch = None

SHAPES = {
    # name: (input shape, out channels, kernel, stride, group)
    "seed": ((1, 3, 16, 50), 64, 3, 1, 1),
    "res3x3": ((8, 64, 56, 56), 64, 3, 1, 1),
    "deep3x3": ((1, 256, 14, 14), 256, 3, 1, 1),
    "pw1x1": ((8, 256, 28, 28), 64, 1, 1, 1),
    "stem7x7s2": ((1, 3, 224, 224), 64, 7, 2, 1),
    "dw3x3": ((8, 64, 56, 56), 64, 3, 1, 64),
}
ROUNDS = 21


def round_time(fn, min_seconds):
    """Mean time of back-to-back calls lasting ``min_seconds``, after one untimed call."""
    fn()
    start, calls = time.perf_counter(), 0
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls


def interleaved_times(fns, rounds=ROUNDS, min_seconds=0.02):
    """Per-round times of each function, the functions taking turns round by round."""
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, record in zip(fns, times):
            record.append(round_time(fn, min_seconds))
    return times


@pytest.fixture(scope="module")
def sgemm_gflops():
    a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
    seconds = min(interleaved_times([lambda: a @ a], rounds=5, min_seconds=0.1)[0])
    return 2 * 2048 ** 3 / seconds / 1e9


def same_padding(size, kernel, stride):
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


@pytest.mark.parametrize("name", list(SHAPES))
def test_conv2d_forward(benchmark, sgemm_gflops, name):
    shape, c_out, k, s, group = SHAPES[name]
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((c_out, shape[1] // group, k, k), dtype=np.float32)
    padding = same_padding(shape[2], k, s) + same_padding(shape[3], k, s)
    plan = Conv2dPlan(w, None, (s, s), (1, 1), padding, group)
    threads = get_num_threads()
    y = benchmark(plan, x, threads)
    flops = 2 * y.size * (shape[1] // group) * k * k
    info = benchmark.extra_info

    def msparam_conv():
        return plan(x, threads)

    comparators = []
    if torch is not None:
        torch.set_num_threads(threads)
        top, bottom, left, right = padding
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)

        def torch_conv():
            with torch.no_grad():
                if top == bottom and left == right:
                    return torch.nn.functional.conv2d(xt, wt, None, s, (top, left), 1, group)
                xp = torch.nn.functional.pad(xt, (left, right, top, bottom))
                return torch.nn.functional.conv2d(xp, wt, None, s, 0, 1, group)

        np.testing.assert_allclose(y, torch_conv().numpy(), rtol=1e-3,
                                   atol=1e-3 * k * k * shape[1] ** 0.5)
        comparators.append(torch_conv)
    times = interleaved_times([msparam_conv, *comparators])
    seconds = statistics.median(times[0])
    info["msparam_ms"] = seconds * 1e3
    info["gflops"] = flops / seconds / 1e9
    info["sgemm_gflops"] = sgemm_gflops
    info["pct_of_sgemm"] = 100 * info["gflops"] / sgemm_gflops
    if comparators:
        info["torch_ms"] = statistics.median(times[1]) * 1e3
        info["ratio_torch_over_msparam"] = statistics.median(
            t / m for m, t in zip(times[0], times[1]))
        info["ratio_of_best_rounds"] = min(times[1]) / min(times[0])
        print(f"\n{name}: msparam {info['msparam_ms']:.3f} ms, torch {info['torch_ms']:.3f} ms, "
              f"ratio {info['ratio_torch_over_msparam']:.2f} (best rounds "
              f"{info['ratio_of_best_rounds']:.2f}), {info['pct_of_sgemm']:.0f}% of SGEMM")
