"""Winograd 3x3 stride-1 convolutions (msparam/_core/_winograd.pyx) against a float64 reference.

Two bounds are checked on random inputs: the error bound of WinogradConv's docstring (in terms
of the magnitudes its transforms combine, any channel count) and, for every shape the plan
picks Winograd for by itself, the bound the direct convolution is tested against
(test_conv.assert_close_to_reference).
"""
import numpy as np
import pytest

from msparam._core.conv_plan import Conv2dPlan, available_isas
from msparam._core._winograd import ALGORITHMS, MIN_CHANNELS, SHARINGS
from test_conv import assert_close_to_reference, reference_conv2d

# The transform matrices of Lavin & Gray (2016), as the docstring's bound uses them.
BT = {2: np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float),
      4: np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                   [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], float)}
G = {2: np.array([[2, 0, 0], [1, 1, 1], [1, -1, 1], [0, 0, 2]]) / 2,
     4: np.array([[6, 0, 0], [-4, -4, -4], [-4, 4, -4], [1, 2, 4], [1, -2, 4], [0, 0, 24]]) / 24}
AT = {2: np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float),
      4: np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
                   [0, 1, -1, 8, -8, 1]], float)}
ROUNDINGS = {2: 9, 4: 27}  # c_m of the docstring's bound


def winograd_magnitude(x, weight, padding, m):
    """|A^T| (sum_c |G||g_c||G^T| . |B^T||d_c||B|) |A| per output (float64), the bracket of the
    docstring's bound."""
    top, bottom, left, right = padding
    x = np.abs(np.pad(np.asarray(x, np.float64), ((0, 0), (0, 0), (top, bottom), (left, right))))
    n, _, h, w = x.shape
    h_out, w_out = h - 2, w - 2
    th, tw = -(-h_out // m), -(-w_out // m)
    x = np.pad(x, ((0, 0), (0, 0), (0, th * m + 2 - h), (0, tw * m + 2 - w)))
    a = m + 2
    rows = (np.arange(th) * m)[:, None] + np.arange(a)
    cols = (np.arange(tw) * m)[:, None] + np.arange(a)
    d = x[:, :, rows[:, :, None, None], cols[None, None]]  # n, c, th, a, tw, a
    bt, g, at = np.abs(BT[m]), np.abs(G[m]), np.abs(AT[m])
    v = np.einsum("ki,ncyixj,lj->nckylx", bt, d, bt)
    u = np.einsum("ki,ocij,lj->ockl", g, np.abs(np.asarray(weight, np.float64)), g)
    mm = np.einsum("ockl,nckylx->noykxl", u, v)
    y = np.einsum("ik,noykxl,jl->noyixj", at, mm, at)
    return y.reshape(n, weight.shape[0], th * m, tw * m)[:, :, :h_out, :w_out]


def assert_within_winograd_bound(y, x, weight, bias, padding, m):
    exact = reference_conv2d(x, weight, bias, (1, 1), (1, 1), padding, 1)
    u = np.finfo(np.float32).eps / 2
    bound = (weight.shape[1] + ROUNDINGS[m]) * u * winograd_magnitude(x, weight, padding, m) * 1.01
    if bias is not None:
        bound += u * np.abs(np.asarray(bias, np.float64))[:, None, None]
    if x.dtype == np.float16:
        bound += np.finfo(np.float16).eps / 2 * np.abs(exact) + 2.0 ** -25
    error = np.abs(y.astype(np.float64) - exact)
    assert np.all(error <= bound), f"max excess {np.max(error - bound)}"


def random_case(rng, shape, c_out, dtype=np.float32, bias=True, scale=1.0, offset=0.0):
    x = (offset + scale * rng.uniform(-1, 1, shape)).astype(dtype)
    w = rng.uniform(-1, 1, (c_out, shape[1], 3, 3)).astype(dtype)
    b = rng.uniform(-1, 1, c_out).astype(dtype) if bias else None
    return x, w, b


PADDINGS = [(1, 1, 1, 1), (0, 0, 0, 0), (2, 0, 1, 2), (0, 1, 3, 0)]


@pytest.mark.parametrize("isa", available_isas())
@pytest.mark.parametrize("m", [2, 4])
def test_forced_tile_size_within_its_error_bound(isa, m):
    # Every channel count (even those the plan leaves on the direct path), odd sizes, paddings
    # that are not 'same', bias or not, float16 and float32, 1 to 3 threads.
    rng = np.random.default_rng(m)
    for i, (shape, c_out) in enumerate([((1, 1, 5, 5), 1), ((2, 3, 9, 11), 5), ((1, 8, 13, 17), 12),
                                        ((3, 20, 7, 30), 33), ((1, 5, 3, 40), 2)]):
        padding = PADDINGS[i % len(PADDINGS)]
        dtype = np.float16 if i == 2 else np.float32
        x, w, b = random_case(rng, shape, c_out, dtype, bias=i % 2 == 0)
        plan = Conv2dPlan(w.shape, dtype, (1, 1), (1, 1), padding, 1, isa=isa,
                          algorithm=f"winograd_f{m}")
        assert plan.path_for(shape).startswith(f"winograd_f{m}")
        assert_within_winograd_bound(plan(x, w, b, 1 + i % 3), x, w, b, padding, m)


# (input shape, output channels): channel counts at and above the plan's minimums.
CHOSEN = [((2, 16, 20, 21), 16), ((1, 32, 14, 14), 48), ((2, 64, 12, 9), 64), ((1, 128, 7, 7), 96)]


@pytest.mark.parametrize("isa", available_isas())
@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("kind", ["uniform", "positive", "offset"])
def test_within_the_direct_tolerance_where_the_plan_may_pick_it(isa, m, kind):
    rng = np.random.default_rng(11)
    for shape, c_out in CHOSEN:
        if shape[1] < MIN_CHANNELS[m]:
            continue
        scale, offset = {"uniform": (1, 0), "positive": (0.5, 0.5), "offset": (1, 100)}[kind]
        x, w, b = random_case(rng, shape, c_out, scale=scale, offset=offset)
        plan = Conv2dPlan(w.shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1, isa=isa,
                          algorithm=f"winograd_f{m}")
        y = plan(x, w, b, 2)
        assert_close_to_reference(y, x, w, b, (1, 1), (1, 1), (1, 1, 1, 1), 1)
        assert_within_winograd_bound(y, x, w, b, (1, 1, 1, 1), m)


@pytest.mark.parametrize("shape, c_out", [((8, 64, 56, 56), 64), ((1, 256, 14, 14), 256)])
def test_bench_shapes_take_winograd_on_every_isa(shape, c_out):
    for isa in available_isas():
        plan = Conv2dPlan((c_out, shape[1], 3, 3), np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1,
                          isa=isa)
        assert plan.path_for(shape).startswith("winograd_f")


def test_few_channels_keep_the_direct_path():
    for c_in in (1, 8, 15):
        plan = Conv2dPlan((64, c_in, 3, 3), np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1)
        assert plan.path_for((8, c_in, 56, 56)) == "direct"
    plan = Conv2dPlan((64, 16, 3, 3), np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1)
    assert plan.path_for((8, 16, 56, 56)) != "winograd_f4"  # F(4x4) needs 32 channels


def test_auto_plan_on_a_random_layer_within_the_direct_tolerance():
    rng = np.random.default_rng(4)
    x, w, b = random_case(rng, (2, 64, 32, 36), 64)
    for isa in available_isas():
        plan = Conv2dPlan(w.shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1, isa=isa)
        assert plan.path_for(x.shape).startswith("winograd_f")
        assert_close_to_reference(plan(x, w, b, 2), x, w, b, (1, 1), (1, 1), (1, 1, 1, 1), 1)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_direct_switches(monkeypatch, algorithm):
    shape, weight_shape = (2, 64, 20, 20), (64, 64, 3, 3)
    plan = Conv2dPlan(weight_shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1, algorithm=algorithm)
    assert plan.path_for(shape).startswith(algorithm)
    monkeypatch.setenv("MSPARAM_CONV_ALGORITHM", "direct")
    plan = Conv2dPlan(weight_shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1, algorithm=algorithm)
    # The environment switch stands in for a missing argument; an explicit one wins.
    assert plan.path_for(shape).startswith(algorithm)
    assert Conv2dPlan(weight_shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1).path_for(shape) == "direct"


def test_direct_switch_reproduces_the_direct_bits(monkeypatch):
    rng = np.random.default_rng(2)
    x, w, b = random_case(rng, (2, 64, 32, 36), 64)
    direct = Conv2dPlan(w.shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1, algorithm="direct")
    winograd = Conv2dPlan(w.shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1)
    assert winograd.path_for(x.shape).startswith("winograd")
    assert not np.array_equal(direct(x, w, b, 2), winograd(x, w, b, 2))
    monkeypatch.setenv("MSPARAM_CONV_ALGORITHM", "DIRECT")
    switched = Conv2dPlan(w.shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1)
    assert np.array_equal(direct(x, w, b, 2), switched(x, w, b, 2))


@pytest.mark.parametrize("isa", available_isas())
@pytest.mark.parametrize("algorithm", ["winograd_f2", "winograd_f4"])
def test_thread_count_does_not_change_result(isa, algorithm):
    # One image (all threads share each tile group: its input split among them, or transformed
    # by each) and eight (each thread its own groups): every way of sharing a call out.
    rng = np.random.default_rng(3)
    sharings = set()
    for shape, c_out in [((1, 48, 19, 23), 40), ((8, 32, 18, 14), 24), ((3, 32, 9, 9), 8),
                         ((1, 256, 6, 6), 256)]:
        x, w, b = random_case(rng, shape, c_out)
        plan = Conv2dPlan(w.shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1, isa=isa,
                          algorithm=algorithm)
        first = plan(x, w, b, 1)
        for threads in (2, 3, 5):
            sharings.add(plan._winograd.sharing(shape, (1, 1, 1, 1), threads))
            assert np.array_equal(first, plan(x, w, b, threads))
    assert sharings == set(SHARINGS)


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("algorithm", ["winograd_f2", "winograd_f4"])
def test_non_finite_values_give_the_direct_results(value, algorithm):
    # A transform spreads one infinite input over its whole tile (inf - inf); such calls run
    # the direct convolution, whose non-finite outputs are those of the taps that read it.
    rng = np.random.default_rng(5)
    x, w, b = random_case(rng, (1, 16, 10, 12), 8)
    direct = Conv2dPlan(w.shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1, algorithm="direct")
    plan = Conv2dPlan(w.shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1, algorithm=algorithm)
    bad_x = x.copy()
    bad_x[0, 3, 4, 5] = value
    assert np.array_equal(plan(bad_x, w, b, 2), direct(bad_x, w, b, 2), equal_nan=True)
    bad_w = w.copy()
    bad_w[2, 1, 0, 2] = value
    assert np.array_equal(plan(x, bad_w, b, 2), direct(x, bad_w, b, 2), equal_nan=True)
    # An overflow inside the transforms: finite input, infinite transformed values.
    huge = np.full_like(x, np.finfo(np.float32).max / 2)
    assert np.array_equal(plan(huge, w, b, 2), direct(huge, w, b, 2), equal_nan=True)
    # The next finite call runs Winograd again.
    assert_within_winograd_bound(plan(x, w, b, 2), x, w, b, (1, 1, 1, 1), int(algorithm[-1]))


def test_weights_written_in_place_are_transformed_again():
    rng = np.random.default_rng(6)
    x, w, b = random_case(rng, (1, 32, 12, 12), 16)
    plan = Conv2dPlan(w.shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1, algorithm="winograd_f4")
    plan(x, w, b, 2)
    w[3, 7, 1, 1] += 5
    assert_within_winograd_bound(plan(x, w, b, 2), x, w, b, (1, 1, 1, 1), 4)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_large_weights_compared_in_slices_are_transformed_again(threads):
    # Weights of 288 KiB are compared with the kept copy by all the call's threads, a slice
    # each, inside the call: a change in any slice (first byte, last byte) gives the results of
    # a plan that never saw the old weights, and so does writing them back.
    rng = np.random.default_rng(7)
    x, w, b = random_case(rng, (1, 128, 6, 6), 64)
    assert w.nbytes >= 1 << 18
    plan = Conv2dPlan(w.shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1, algorithm="winograd_f4")
    original = w.copy()
    first = plan(x, w, b, threads)
    for index in [(0, 0, 0, 0), (63, 127, 2, 2), (31, 64, 1, 1)]:
        w[index] += 3
        fresh = Conv2dPlan(w.shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1,
                           algorithm="winograd_f4")
        assert np.array_equal(plan(x, w, b, threads), fresh(x, w, b, threads))
        w[:] = original
        assert np.array_equal(plan(x, w, b, threads), first)


def test_float64_and_other_layers_stay_direct():
    assert Conv2dPlan((64, 64, 3, 3), np.float64, (1, 1), (1, 1), (1, 1, 1, 1), 1).path_for(
        (8, 64, 56, 56)) == "direct"
    for stride, dilation, group, kernel in [((2, 2), (1, 1), 1, 3), ((1, 1), (2, 2), 1, 3),
                                           ((1, 1), (1, 1), 2, 3), ((1, 1), (1, 1), 1, 5)]:
        weight_shape = (64, 64 // group, kernel, kernel)
        plan = Conv2dPlan(weight_shape, np.float32, stride, dilation, (1, 1, 1, 1), group)
        assert not plan.path_for((2, 64, 30, 30)).startswith("winograd")
        with pytest.raises(ValueError, match="'algorithm' 'winograd_f2' needs a 3x3 kernel"):
            Conv2dPlan(weight_shape, np.float32, stride, dilation, (1, 1, 1, 1), group,
                       algorithm="winograd_f2")
    with pytest.raises(ValueError, match="needs a 3x3 kernel, stride 1, dilation 1, one group and float16"):
        Conv2dPlan((8, 8, 3, 3), np.float64, (1, 1), (1, 1), (1, 1, 1, 1), 1, algorithm="winograd_f4")


@pytest.mark.parametrize("algorithm", ["winograd", "F4", 4, "Direct"])
def test_bad_algorithm_is_a_value_error(algorithm):
    with pytest.raises(ValueError, match="'algorithm' must be one of"):
        Conv2dPlan((8, 8, 3, 3), np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1, algorithm=algorithm)


def test_layer_runs_winograd_within_the_direct_tolerance(monkeypatch):
    import msparam as ms
    from msparam import nn

    rng = np.random.default_rng(8)
    layer = nn.Conv2d(32, 24, 3, pad_mode="same", has_bias=True, bias_init="normal")
    x = rng.uniform(-1, 1, (2, 32, 15, 18)).astype(np.float32)
    y = layer(ms.Tensor(x)).asnumpy()
    w, b = layer.weight.asnumpy(), layer.bias.asnumpy()
    assert_close_to_reference(y, x, w, b, (1, 1), (1, 1), (1, 1, 1, 1), 1)
    monkeypatch.setenv("MSPARAM_CONV_ALGORITHM", "direct")
    direct = nn.Conv2d(32, 24, 3, pad_mode="same", has_bias=True, weight_init=ms.Tensor(w),
                       bias_init=ms.Tensor(b))
    expected = Conv2dPlan(w.shape, np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1, algorithm="direct")(
        x, w, b, ms.get_num_threads())
    assert np.array_equal(direct(ms.Tensor(x)).asnumpy(), expected)
