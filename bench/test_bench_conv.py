"""Conv2d forward (float32, pad_mode 'same', no bias) on issue 5's six shapes, msparam next to its peers.

msparam and MindSpore run their ``nn.Conv2d``; PyTorch ``torch.nn.functional.conv2d`` (oneDNN)
with the same padding. Each case reports GFLOP/s in ``extra_info`` and the percentage of NumPy's
float32 2048x2048 matmul rate measured in the same run (``pct_of_sgemm``); the session summary
shows msparam time / PyTorch time per shape. When torch is importable the msparam case also
checks its output against PyTorch's and, since the machine may be shared, times the two again
in alternating rounds (each a short burst after one untimed call), so that load hits both alike:
``ratio_torch_over_msparam`` is the median of the per-round ratios (> 1: msparam is faster),
``ratio_of_best_rounds`` the ratio of the best rounds. Each case calls its forward for 0.1 s
untimed before its timed rounds (``peers.warm_up``).
"""
import math
import statistics
import time

import numpy as np
import pytest

from peers import PRESENT, implementations, is_quick, load, record_throughput, warm_up

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
def sgemm_gflops(request):
    """NumPy's float32 2048x2048 matmul rate now, the yardstick of the dense kernels (None in quick mode)."""
    if is_quick(request.config):
        return None
    a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
    return 2 * 2048 ** 3 / min(interleaved_times([lambda: a @ a], rounds=5, min_seconds=0.1)[0]) / 1e9


def same_padding(size, kernel, stride):
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def torch_conv2d(x, w, stride, group):
    """``forward()`` of torch.nn.functional.conv2d with 'same' padding (padded first when uneven)."""
    torch = load("torch")
    top, bottom = same_padding(x.shape[2], w.shape[2], stride)
    left, right = same_padding(x.shape[3], w.shape[3], stride)
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)

    def forward():
        with torch.no_grad():
            if top == bottom and left == right:
                return torch.nn.functional.conv2d(xt, wt, None, stride, (top, left), 1, group)
            padded = torch.nn.functional.pad(xt, (left, right, top, bottom))
            return torch.nn.functional.conv2d(padded, wt, None, stride, 0, 1, group)

    return forward


def conv2d_forward(impl, x, w, stride, group):
    """``forward()``: the Conv2d of implementation ``impl`` with weight ``w``, applied to ``x``."""
    if impl == "torch":
        return torch_conv2d(x, w, stride, group)
    module = load(impl)
    layer = module.nn.Conv2d(x.shape[1], w.shape[0], w.shape[2], stride=stride, pad_mode="same", group=group,
                             has_bias=False)
    layer.weight.set_data(module.Tensor(w))
    xt = module.Tensor(x)
    return lambda: layer(xt).asnumpy()  # asnumpy: MindSpore may run asynchronously


@pytest.mark.parametrize("impl", implementations("msparam", "torch", "mindspore"))
@pytest.mark.parametrize("name", list(SHAPES))
def test_conv2d_forward(benchmark, sgemm_gflops, name, impl):
    benchmark.group = "conv2d"
    shape, c_out, k, s, group = SHAPES[name]
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((c_out, shape[1] // group, k, k), dtype=np.float32)
    forward = conv2d_forward(impl, x, w, s, group)
    warm_up(benchmark, forward)
    y = np.asarray(benchmark(forward))
    info = benchmark.extra_info
    if impl == "msparam" and "torch" in PRESENT:
        torch_forward = torch_conv2d(x, w, s, group)
        np.testing.assert_allclose(y, torch_forward().numpy(), rtol=1e-3, atol=1e-3 * k * k * shape[1] ** 0.5)
        if benchmark.enabled:
            ours, theirs = interleaved_times([forward, torch_forward])
            info["ratio_torch_over_msparam"] = statistics.median(t / m for m, t in zip(ours, theirs))
            info["ratio_of_best_rounds"] = min(theirs) / min(ours)
    record_throughput(benchmark, 2 * y.size * (shape[1] // group) * k * k / 1e9, "GFLOP")
    if sgemm_gflops is not None:
        info["sgemm_gflops"] = sgemm_gflops
        info["pct_of_sgemm"] = 100 * info["throughput"] / sgemm_gflops
