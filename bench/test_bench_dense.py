"""Dense forward (float32, with bias): msparam ``nn.Dense`` next to NumPy, PyTorch and MindSpore.

Each case reports GFLOP/s (2 * batch * in * out per call) in ``extra_info``. NumPy's
``x @ w.T + b`` is the same arithmetic with nothing around it. Each case calls its forward for
0.1 s untimed before its timed rounds (``peers.warm_up``). When torch is importable the
msparam case also times msparam and PyTorch call by call in alternating rounds (so that the
load of a shared machine hits both alike): ``ratio_msparam_over_torch`` is the median of the
per-round ratios (< 1: msparam is faster).
"""
import statistics
import time

import numpy as np
import pytest

from peers import PRESENT, implementations, load, record_throughput, warm_up

# Time budget of the alternating rounds (seconds); at most this many rounds.
ALTERNATING_SECONDS = 0.5
ALTERNATING_ROUNDS = 2000

SHAPES = {
    # name: (batch, in_channels, out_channels)
    "small": (32, 256, 128),
    "mlp": (128, 1024, 1024),
    "large": (256, 4096, 4096),
}


def dense_forward(impl, x, weight, bias):
    """``forward()``: the Dense layer of implementation ``impl`` with these values, applied to ``x``."""
    if impl == "numpy":
        return lambda: x @ weight.T + bias
    module = load(impl)
    if impl == "torch":
        xt, wt, bt = module.from_numpy(x), module.from_numpy(weight), module.from_numpy(bias)
        linear = module.nn.functional.linear

        def forward():
            with module.no_grad():
                return linear(xt, wt, bt)

        return forward
    layer = module.nn.Dense(weight.shape[1], weight.shape[0])
    layer.weight.set_data(module.Tensor(weight))
    layer.bias.set_data(module.Tensor(bias))
    xt = module.Tensor(x)
    return lambda: layer(xt).asnumpy()  # asnumpy: MindSpore may run asynchronously


def alternating_ratio(ours, theirs):
    """Median over alternating rounds (one call of each, after one untimed call of each) of
    ours' time / theirs'."""
    ours(), theirs()
    ratios, clock = [], time.perf_counter_ns
    deadline = time.perf_counter() + ALTERNATING_SECONDS
    while len(ratios) < ALTERNATING_ROUNDS and (len(ratios) < 5 or time.perf_counter() < deadline):
        start = clock()
        ours()
        middle = clock()
        theirs()
        ratios.append((middle - start) / max(clock() - middle, 1))
    return statistics.median(ratios)


@pytest.mark.parametrize("impl", implementations("msparam", "numpy", "torch", "mindspore"))
@pytest.mark.parametrize("name", SHAPES)
def test_dense_forward(benchmark, name, impl):
    benchmark.group = "dense"
    batch, c_in, c_out = SHAPES[name]
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal((batch, c_in), np.float32), rng.standard_normal((c_out, c_in), np.float32)
    bias = rng.standard_normal(c_out, np.float32)
    forward = dense_forward(impl, x, weight, bias)
    warm_up(benchmark, forward)
    y = benchmark(forward)
    np.testing.assert_allclose(np.asarray(y), x @ weight.T + bias, rtol=1e-3, atol=1e-3 * c_in ** 0.5)
    if impl == "msparam" and "torch" in PRESENT and benchmark.enabled:
        benchmark.extra_info["ratio_msparam_over_torch"] = alternating_ratio(
            forward, dense_forward("torch", x, weight, bias))
    record_throughput(benchmark, 2 * batch * c_in * c_out / 1e9, "GFLOP")
