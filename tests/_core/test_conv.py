"""Conv2d forward core against a float64 NumPy reference and MindSpore 2.10's golden outputs."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from msparam._core.conv_plan import Conv2dPlan, available_isas, conv2d_forward

DATA = Path(__file__).resolve().parents[1] / "data"
KERNELS = ["pixel_vectors", "channel_vectors"]


def reference_conv2d(x, weight, bias, stride, dilation, padding, group, magnitude=False):
    """float64 convolution by summing shifted slices; ``magnitude`` convolves |x| with |w|."""
    x = np.asarray(x, np.float64)
    weight = np.asarray(weight, np.float64)
    if magnitude:
        x, weight = np.abs(x), np.abs(weight)
    top, bottom, left, right = padding
    x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, _, h, w = x.shape
    c_out, cg_in, kh, kw = weight.shape
    (sh, sw), (dh, dw) = stride, dilation
    h_out = (h - dh * (kh - 1) - 1) // sh + 1
    w_out = (w - dw * (kw - 1) - 1) // sw + 1
    cg_out = c_out // group
    out = np.zeros((n, c_out, h_out, w_out))
    for g in range(group):
        xs = x[:, g * cg_in:(g + 1) * cg_in]
        ws = weight[g * cg_out:(g + 1) * cg_out]
        for ky in range(kh):
            for kx in range(kw):
                patch = xs[:, :, ky * dh:ky * dh + sh * (h_out - 1) + 1:sh,
                           kx * dw:kx * dw + sw * (w_out - 1) + 1:sw]
                out[:, g * cg_out:(g + 1) * cg_out] += np.einsum("nchw,oc->nohw", patch,
                                                                 ws[:, :, ky, kx])
    if bias is not None:
        b = np.asarray(bias, np.float64)
        out += np.abs(b)[:, None, None] if magnitude else b[:, None, None]
    return out


def assert_close_to_reference(y, x, weight, bias, stride, dilation, padding, group):
    """Forward error bound of a K-term dot product: |y - exact| <= K * u * sum|x w| (+ the final
    rounding to float16, whose arithmetic is float32)."""
    exact = reference_conv2d(x, weight, bias, stride, dilation, padding, group)
    magnitude = reference_conv2d(x, weight, bias, stride, dilation, padding, group, True)
    assert y.shape == exact.shape and y.dtype == x.dtype and y.flags.c_contiguous
    terms = int(np.prod(weight.shape[1:])) + 1
    if x.dtype == np.float16:
        u32 = np.finfo(np.float32).eps / 2
        bound = terms * u32 * magnitude * 1.01 + np.finfo(np.float16).eps / 2 * np.abs(exact) \
            + 2.0 ** -25
    else:
        bound = terms * np.finfo(x.dtype).eps / 2 * magnitude * 1.01
    error = np.abs(y.astype(np.float64) - exact)
    assert np.all(error <= bound), f"max excess {np.max(error - bound)}"


@st.composite
def conv_configs(draw):
    depthwise = draw(st.booleans())
    if depthwise:
        group = draw(st.integers(1, 12))
        cg_in, cg_out = 1, 1
    else:
        group = draw(st.integers(1, 3))
        cg_in = draw(st.integers(1, 5))
        cg_out = draw(st.one_of(st.integers(1, 6), st.integers(7, 40)))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, 3)) for _ in range(4))
    need_h = max(1, dilation[0] * (kh - 1) + 1 - padding[0] - padding[1])
    need_w = max(1, dilation[1] * (kw - 1) + 1 - padding[2] - padding[3])
    h = draw(st.integers(need_h, need_h + 14))
    w = draw(st.integers(need_w, need_w + 20))
    n = draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
    return dict(shape=(n, group * cg_in, h, w), weight_shape=(group * cg_out, cg_in, kh, kw),
                stride=stride, dilation=dilation, padding=padding, group=group, dtype=dtype,
                bias=draw(st.booleans()), layout=draw(st.sampled_from(["c", "strided", "nhwc"])),
                isa=draw(st.sampled_from(available_isas())),
                kernel=draw(st.sampled_from([None, *KERNELS])), num_threads=draw(st.integers(1, 3)),
                seed=draw(st.integers(0, 2 ** 32 - 1)))


def make_input(rng, shape, dtype, layout):
    if layout == "strided":
        n, c, h, w = shape
        return rng.uniform(-1, 1, (n, c, h, 2 * w)).astype(dtype)[..., ::2]
    if layout == "nhwc":
        n, c, h, w = shape
        return rng.uniform(-1, 1, (n, h, w, c)).astype(dtype).transpose(0, 3, 1, 2)
    return rng.uniform(-1, 1, shape).astype(dtype)


@settings(max_examples=400, deadline=None)
@given(conv_configs())
def test_matches_float64_reference(cfg):
    rng = np.random.default_rng(cfg["seed"])
    dtype = cfg["dtype"]
    x = make_input(rng, cfg["shape"], dtype, cfg["layout"])
    weight = rng.uniform(-1, 1, cfg["weight_shape"]).astype(dtype)
    bias = rng.uniform(-1, 1, cfg["weight_shape"][0]).astype(dtype) if cfg["bias"] else None
    plan = Conv2dPlan(weight.shape, dtype, cfg["stride"], cfg["dilation"], cfg["padding"],
                      cfg["group"], isa=cfg["isa"], kernel=cfg["kernel"])
    y = plan(x, weight, bias, cfg["num_threads"])
    assert_close_to_reference(y, x, weight, bias, cfg["stride"], cfg["dilation"], cfg["padding"],
                              cfg["group"])


def test_thread_count_does_not_change_result():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 16, 20, 21)).astype(np.float32)
    w = rng.standard_normal((40, 16, 3, 3)).astype(np.float32)
    plan = Conv2dPlan(w.shape, w.dtype, (1, 1), (1, 1), (1, 1, 1, 1), 1)
    assert np.array_equal(plan(x, w, None, 1), plan(x, w, None, 2))
    assert np.array_equal(plan(x, w, None, 1), plan(x, w, None, 3))


def same_padding(size, kernel, stride, dilation):
    total = max((math.ceil(size / stride) - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def golden_cases():
    cases = json.loads((DATA / "conv_cases.json").read_text())
    return sorted(cases.items())


@pytest.mark.parametrize("name, case", golden_cases())
def test_mindspore_golden(name, case):
    data = np.load(DATA / "conv.npz")
    i = name[len("conv"):]
    x, w, b, expected = (data[f"c{i}_{s}"] for s in "xwby")
    kh, kw = w.shape[2:]
    pair = lambda v: tuple(v) if isinstance(v, list) else (v, v)
    stride, dilation = pair(case["stride"]), pair(case["dilation"])
    if case["pad_mode"] == "same":
        padding = (same_padding(x.shape[2], kh, stride[0], dilation[0])
                   + same_padding(x.shape[3], kw, stride[1], dilation[1]))
    elif case["pad_mode"] == "valid":
        padding = (0, 0, 0, 0)
    else:
        p = case["padding"]
        padding = tuple(p) if isinstance(p, list) else (p,) * 4
    bias = b if case["has_bias"] else None
    for isa in available_isas():
        y = Conv2dPlan(w.shape, w.dtype, stride, dilation, padding, case["group"], isa=isa)(x, w, bias, 2)
        np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
    y = conv2d_forward(x, w, bias, stride, dilation, padding, case["group"], 2)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)


PATH_CASES = [
    # (input shape, weight shape, stride, padding, group, expected path)
    ((2, 64, 20, 20), (64, 64, 1, 1), (1, 1), (0, 0, 0, 0), 1, "pointwise"),
    ((1, 8, 5, 7), (16, 8, 1, 1), (1, 1), (0, 0, 0, 0), 1, "pointwise-tiny"),
    ((2, 32, 30, 30), (32, 1, 3, 3), (1, 1), (1, 1, 1, 1), 32, "depthwise"),
    ((1, 4, 6, 6), (4, 1, 3, 3), (2, 2), (1, 1, 1, 1), 4, "depthwise-tiny"),
    # Rows wide enough for several vectors of every ISA between the padded borders.
    ((4, 16, 10, 70), (16, 1, 3, 3), (1, 1), (1, 1, 1, 1), 16, "depthwise"),
    ((6, 8, 9, 75), (8, 1, 2, 5), (1, 1), (0, 1, 2, 0), 8, "depthwise"),
    ((1, 3, 64, 64), (32, 3, 7, 7), (2, 2), (3, 3, 3, 3), 1, "direct"),
    ((1, 3, 10, 10), (8, 3, 3, 3), (1, 1), (1, 1, 1, 1), 1, "direct-tiny"),
    ((2, 32, 24, 24), (48, 16, 3, 3), (1, 1), (1, 1, 1, 1), 2, "direct"),
    ((2, 32, 16, 16), (64, 32, 1, 1), (2, 2), (0, 0, 0, 0), 1, "direct"),
]


@pytest.mark.parametrize("isa", available_isas())
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, group, path", PATH_CASES)
def test_every_path_and_isa(isa, x_shape, w_shape, stride, padding, group, path):
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, x_shape).astype(np.float32)
    w = rng.uniform(-1, 1, w_shape).astype(np.float32)
    b = rng.uniform(-1, 1, w_shape[0]).astype(np.float32)
    plan = Conv2dPlan(w.shape, w.dtype, stride, (1, 1), padding, group, isa=isa)
    assert plan.isa == isa
    assert plan.path_for(x.shape) == path
    assert_close_to_reference(plan(x, w, b, 2), x, w, b, stride, (1, 1), padding, group)


BLOCKING_SIZES = [(14, 14), (9, 28), (16, 50), (7, 13), (30, 3), (4, 24), (5, 48)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("isa", available_isas())
def test_every_kernel_and_pixel_blocking(isa, kernel, dtype):
    rng = np.random.default_rng(5)
    weight = rng.uniform(-1, 1, (40, 24, 3, 3)).astype(dtype)
    plan = Conv2dPlan(weight.shape, dtype, (1, 1), (1, 1), (1, 1, 1, 1), 1, isa=isa, kernel=kernel)
    row_blocked = set()
    for h, w in BLOCKING_SIZES:
        x = rng.uniform(-1, 1, (2, 24, h, w)).astype(dtype)
        nr, by_row, channel_vectors = plan.pixel_blocking(h, w)
        assert channel_vectors == (kernel == "channel_vectors")
        row_blocked.add(by_row)
        assert_close_to_reference(plan(x, weight, None, 2), x, weight, None, (1, 1), (1, 1), (1, 1, 1, 1), 1)
    # Channel-vector blocks run over output pixels, never by rows.
    assert row_blocked == ({False, True} if kernel == "pixel_vectors" else {False})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("isa", available_isas())
def test_channel_vector_blocks_cross_row_ends(isa, dtype):
    # Blocks of consecutive output pixels span row ends (skipping the padding columns between
    # rows) and stop at the last pixel, also of an input read in place (pointwise).
    rng = np.random.default_rng(9)
    for x_shape, w_shape, padding in [((2, 8, 5, 7), (16, 8, 1, 1), (0, 0, 0, 0)),
                                      ((1, 6, 7, 9), (24, 6, 3, 3), (1, 1, 1, 1))]:
        x = rng.uniform(-1, 1, x_shape).astype(dtype)
        w = rng.uniform(-1, 1, w_shape).astype(dtype)
        plan = Conv2dPlan(w.shape, dtype, (1, 1), (1, 1), padding, 1, isa=isa, kernel="channel_vectors")
        nr, by_row, channel_vectors = plan.pixel_blocking(*x_shape[2:])
        assert channel_vectors and not by_row
        assert x_shape[3] % nr and x_shape[2] * x_shape[3] % nr
        assert_close_to_reference(plan(x, w, None, 2), x, w, None, (1, 1), (1, 1), padding, 1)


def test_blocking_follows_estimated_work():
    weight = np.zeros((64, 64, 3, 3), np.float32)
    plan = Conv2dPlan(weight.shape, weight.dtype, (1, 1), (1, 1), (1, 1, 1, 1), 1)
    if plan.isa == "avx512":
        # Narrow rows favour channel-vector blocks, which compute no padding column; wide
        # rows the pixel-vector kernel's cheap contiguous stores.
        assert plan.pixel_blocking(14, 14) == (14, False, True)
        assert plan.pixel_blocking(56, 56) == (48, False, False)
    narrow = Conv2dPlan((8, 64, 3, 3), np.float32, (1, 1), (1, 1), (1, 1, 1, 1), 1)
    assert not narrow.pixel_blocking(56, 56)[2]


def test_widest_isa_is_default():
    assert Conv2dPlan((4, 1, 1, 1), np.float32, (1, 1), (1, 1), (0, 0, 0, 0), 1).isa == available_isas()[-1]
    assert available_isas()[0] == "base"


def test_ones_border_values():
    # The tutorial's Conv2d(3, 64, 3) with unit weights on ones, 'same' padding: 12/18/27.
    y = conv2d_forward(np.ones((1, 3, 16, 50), np.float32), np.ones((64, 3, 3, 3), np.float32),
                       None, (1, 1), (1, 1), (1, 1, 1, 1), 1, 2)
    assert y[0, 0, 0, 0] == 12 and y[0, 5, 0, 7] == 18 and y[0, 63, 7, 7] == 27


W = np.zeros((4, 2, 3, 3), np.float32)
GOOD = dict(weight_shape=W.shape, dtype=np.float32, stride=(1, 1), dilation=(1, 1), padding=(0, 0, 0, 0),
            group=1)


@pytest.mark.parametrize("change, error, word", [
    (dict(weight_shape=1), TypeError, "weight_shape"),
    (dict(weight_shape=(4, 2, 3)), ValueError, "weight_shape"),
    (dict(weight_shape=(0, 2, 3, 3)), ValueError, "weight_shape"),
    (dict(weight_shape=(4, 2.0, 3, 3)), TypeError, "weight_shape"),
    (dict(dtype=np.int32), TypeError, "dtype"),
    (dict(dtype="bad"), TypeError, "dtype"),
    (dict(stride=(0, 1)), ValueError, "stride"),
    (dict(stride=(1,)), ValueError, "stride"),
    (dict(stride=1), TypeError, "stride"),
    (dict(stride=(1.0, 1)), TypeError, "stride"),
    (dict(dilation=(1, -1)), ValueError, "dilation"),
    (dict(padding=(0, 0, -1, 0)), ValueError, "padding"),
    (dict(padding=(0, 0)), ValueError, "padding"),
    (dict(group=3), ValueError, "group"),
    (dict(group=0), ValueError, "group"),
    (dict(group=True), TypeError, "group"),
    (dict(kernel="rows"), ValueError, "kernel"),
])
def test_bad_plan_arguments(change, error, word):
    with pytest.raises(error, match=word):
        Conv2dPlan(**{**GOOD, **change})


X = np.zeros((1, 2, 5, 5), np.float32)


@pytest.mark.parametrize("x, weight, bias, threads, error, word", [
    ([[1.0]], W, None, 1, TypeError, "'x'"),
    (X.astype(np.float64), W, None, 1, TypeError, "dtype"),
    (np.zeros((2, 5, 5), np.float32), W, None, 1, ValueError, "4-D"),
    (np.zeros((1, 3, 5, 5), np.float32), W, None, 1, ValueError, "input channels"),
    (np.zeros((1, 2, 2, 5), np.float32), W, None, 1, ValueError, "1x1"),
    (X, [[1.0]], None, 1, TypeError, "'weight'"),
    (X, W.astype(np.float64), None, 1, ValueError, "'weight'"),
    (X, W[:3], None, 1, ValueError, "'weight'"),
    (X, W, [0.0] * 4, 1, TypeError, "'bias'"),
    (X, W, np.zeros(4, np.float64), 1, ValueError, "'bias'"),
    (X, W, np.zeros(3, np.float32), 1, ValueError, "'bias'"),
    (X, W, None, 0, ValueError, "num_threads"),
    (X, W, None, 1.5, TypeError, "num_threads"),
])
def test_bad_call_arguments(x, weight, bias, threads, error, word):
    with pytest.raises(error, match=word):
        Conv2dPlan(**GOOD)(x, weight, bias, threads)


def test_conv2d_forward_needs_an_array_weight():
    with pytest.raises(TypeError, match="'weight'"):
        conv2d_forward(X, [[1.0]], None, (1, 1), (1, 1), (0, 0, 0, 0), 1, 1)


@pytest.mark.parametrize("x_shape, padding, out_shape", [
    ((0, 2, 5, 5), (0, 0, 0, 0), (0, 4, 3, 3)),
    ((0, 2, 5, 5), (1, 1, 1, 1), (0, 4, 5, 5)),
    ((0, 2, 2, 5), (0, 0, 0, 0), (0, 4, 0, 3)),
    # A 'same' layer's padding for an input 0 high: no output rows.
    ((1, 2, 0, 4), (1, 1, 1, 1), (1, 4, 0, 4)),
])
def test_empty_input_gives_empty_output(x_shape, padding, out_shape):
    plan = Conv2dPlan(W.shape, np.float32, (1, 1), (1, 1), padding, 1)
    y = plan(np.zeros(x_shape, np.float32), W, None, 2)
    assert y.shape == out_shape and y.dtype == np.float32


def test_group_must_divide_input_channels():
    plan = Conv2dPlan((4, 3, 1, 1), np.float32, (1, 1), (1, 1), (0, 0, 0, 0), 2)
    with pytest.raises(ValueError, match="input channels"):
        plan(np.zeros((1, 5, 4, 4), np.float32), np.zeros((4, 3, 1, 1), np.float32), None, 1)


def test_unaligned_and_foreign_layout_inputs_match_a_plain_copy():
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, (2, 6, 9, 11)).astype(np.float32)
    raw = np.zeros(x.nbytes + 1, np.uint8)[1:]
    unaligned = raw.view(np.float32).reshape(x.shape)
    unaligned[...] = x
    assert not unaligned.flags.aligned
    for path_weight in [(8, 6, 3, 3), (8, 6, 1, 1), (6, 1, 3, 3)]:
        w = rng.uniform(-1, 1, path_weight).astype(np.float32)
        group = 6 if path_weight[1] == 1 else 1
        pad = (1, 1, 1, 1) if path_weight[2] == 3 else (0, 0, 0, 0)
        plan = Conv2dPlan(w.shape, w.dtype, (1, 1), (1, 1), pad, group)
        expected = plan(x, w, None, 2)
        assert np.array_equal(plan(unaligned, w, None, 2), expected)
        assert np.array_equal(plan(np.asfortranarray(x), w, None, 2), expected)
        # Weights of any layout and alignment too.
        unaligned_w = np.zeros(w.nbytes + 1, np.uint8)[1:].view(np.float32).reshape(w.shape)
        unaligned_w[...] = w
        assert np.array_equal(plan(x, unaligned_w, None, 2), expected)
        assert np.array_equal(plan(x, np.asfortranarray(w), None, 2), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("isa", available_isas())
def test_depthwise_3x3_rows_of_every_width(isa, dtype):
    # 'same' 3x3 depthwise has its own row kernel for rows of at least one vector plus the two
    # border columns; widths on both sides of that limit for every ISA, and every vertical
    # padding split.
    rng = np.random.default_rng(13)
    weight = rng.uniform(-1, 1, (6, 1, 3, 3)).astype(dtype)
    bias = rng.uniform(-1, 1, 6).astype(dtype)
    for width in [1, 2, 3, 5, 6, 9, 10, 11, 17, 18, 19, 40]:
        for padding in [(1, 1, 1, 1), (0, 2, 1, 1), (2, 0, 1, 1)]:
            plan = Conv2dPlan(weight.shape, dtype, (1, 1), (1, 1), padding, 6, isa=isa)
            x = rng.uniform(-1, 1, (1, 6, 5, width)).astype(dtype)
            assert_close_to_reference(plan(x, weight, bias, 2), x, weight, bias, (1, 1), (1, 1), padding, 6)


@pytest.mark.parametrize("isa", available_isas())
@pytest.mark.parametrize("x_shape, w_shape, stride, dilation, padding", [
    # Padded rows share padding columns; reads past a row's end must land on zeros, including
    # past the last row of a stride-phase plane into the next phase's first row.
    ((1, 1, 1, 1), (2, 1, 1, 2), (1, 2), (1, 2), (0, 0, 1, 1)),
    ((1, 3, 30, 30), (16, 3, 7, 7), (2, 2), (1, 1), (2, 3, 2, 3)),
    ((2, 4, 9, 21), (8, 4, 3, 3), (1, 1), (1, 1), (0, 0, 1, 1)),
    ((2, 4, 9, 21), (8, 4, 3, 5), (1, 3), (2, 1), (1, 0, 3, 1)),
    ((1, 2, 6, 17), (8, 2, 2, 3), (2, 2), (1, 2), (0, 1, 0, 4)),
])
def test_rows_sharing_padding_columns(isa, x_shape, w_shape, stride, dilation, padding):
    rng = np.random.default_rng(17)
    x = rng.uniform(-1, 1, x_shape).astype(np.float32)
    w = rng.uniform(-1, 1, w_shape).astype(np.float32)
    for kernel in KERNELS:
        plan = Conv2dPlan(w.shape, w.dtype, stride, dilation, padding, 1, isa=isa, kernel=kernel)
        assert_close_to_reference(plan(x, w, None, 2), x, w, None, stride, dilation, padding, 1)


@pytest.mark.parametrize("isa", available_isas())
@pytest.mark.parametrize("kernel", [(3, 3), (2, 3)])
def test_depthwise_non_finite_weight_on_a_padded_tap_gives_nan_on_every_path(isa, kernel):
    # 0 * inf is NaN: a padded tap with an infinite weight poisons the border outputs.
    weight = np.ones((4, 1, *kernel), np.float32)
    weight[:, 0, 0, 0] = np.inf
    x = np.ones((1, 4, 12, 12), np.float32)
    for stride in ((1, 1), (2, 2)):
        plan = Conv2dPlan(weight.shape, np.float32, stride, (1, 1), (1, 1, 1, 1), 4, isa=isa)
        out = plan(x, weight, None, 1)
        assert np.isnan(out[:, :, 0, :]).all() and np.isnan(out[:, :, :, 0]).all()
        assert np.isposinf(out[:, :, 1:, 1:]).all()
