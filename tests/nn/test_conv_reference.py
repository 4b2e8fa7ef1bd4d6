"""nn.Conv2d against a float64 NumPy convolution on random configurations (hypothesis).

Every pad mode, stride, dilation, group (depthwise included), kernel sizes 1..5, odd sizes,
batch 1-4, float16/32/64 inputs, and inputs that are transposed, sliced or reversed views.

Tolerance: each output is a sum of K = C_in/group * kh * kw products plus the bias. Whatever
order the kernel sums in (blocked, SIMD, FMA), the standard bound for a computed dot product
holds: |y - exact| <= gamma(K + 1) * sum|x * w| + |bias| terms, gamma(n) = n*u / (1 - n*u), with
u the unit roundoff of the arithmetic (float32 for float16 inputs, whose products are exact in
float32). float16 outputs are then rounded once more: + u16 * |y| (relative) and, in the
subnormal range, at most half the smallest subnormal (2**-25).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import msparam as ms
from msparam import nn

DTYPES = (np.float16, np.float32, np.float64)
LAYOUTS = ("contiguous", "transposed", "sliced", "reversed")


def mindspore_padding(size, kernel, stride, dilation, pad_mode, pads):
    """(before, after) padding along one axis as MindSpore's Conv2D documents it."""
    if pad_mode == "pad":
        return pads
    if pad_mode == "valid":
        return 0, 0
    out = math.ceil(size / stride)
    needed = max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size)
    return needed // 2, needed - needed // 2


def reference_conv2d(x, weight, bias, stride, dilation, padding, group):
    """float64 cross-correlation: every (dilated) window of the padded input times the kernel."""
    (sh, sw), (dh, dw) = stride, dilation
    top, bottom, left, right = padding
    x = np.pad(np.asarray(x, np.float64), ((0, 0), (0, 0), (top, bottom), (left, right)))
    weight = np.asarray(weight, np.float64)
    c_out, cg_in, kh, kw = weight.shape
    windows = sliding_window_view(x, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    windows = windows[:, :, ::sh, ::sw, ::dh, ::dw]  # (N, C_in, H_out, W_out, kh, kw)
    n, _, h_out, w_out = windows.shape[:4]
    grouped = windows.reshape(n, group, cg_in, h_out, w_out, kh, kw)
    kernels = weight.reshape(group, c_out // group, cg_in, kh, kw)
    out = np.einsum("ngcyxij,gocij->ngoyx", grouped, kernels).reshape(n, c_out, h_out, w_out)
    if bias is not None:
        out = out + np.asarray(bias, np.float64)[:, None, None]
    return out


def gamma(terms, unit_roundoff):
    return terms * unit_roundoff / (1 - terms * unit_roundoff)


def error_bound(x, weight, bias, stride, dilation, padding, group, exact, dtype):
    magnitude = reference_conv2d(np.abs(x.astype(np.float64)), np.abs(weight), None if bias is None else np.abs(bias),
                                 stride, dilation, padding, group)
    terms = weight[0].size + 1
    arithmetic = np.float32 if dtype == np.float16 else dtype
    bound = gamma(terms, np.finfo(arithmetic).eps / 2) * magnitude
    if dtype == np.float16:
        u16 = np.finfo(np.float16).eps / 2
        bound = bound + u16 * (np.abs(exact) + bound) + 2.0 ** -25
    return bound


def input_view(values, layout):
    """``values`` (N, C, H, W) as a non-contiguous view with the same contents, per ``layout``."""
    if layout == "transposed":
        return np.ascontiguousarray(values.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    if layout == "sliced":
        n, c, h, w = values.shape
        wide = np.zeros((n, 2 * c, h + 1, 2 * w), values.dtype)
        wide[:, ::2, 1:, 1::2] = values
        return wide[:, ::2, 1:, 1::2]
    if layout == "reversed":
        return np.ascontiguousarray(values[:, :, ::-1, ::-1])[:, :, ::-1, ::-1]
    return values


@st.composite
def conv_cases(draw):
    group = draw(st.sampled_from([1, 1, 2, 3]))
    depthwise = draw(st.booleans()) and group > 1
    cg_in = 1 if depthwise else draw(st.integers(1, 3))
    cg_out = draw(st.integers(1, 2)) if depthwise else draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pad_mode = draw(st.sampled_from(["same", "valid", "pad"]))
    padding = 0
    if pad_mode == "pad":
        padding = draw(st.one_of(st.integers(0, 3), st.tuples(*[st.integers(0, 3)] * 4)))
    pads = (padding,) * 4 if isinstance(padding, int) else padding
    # Heights and widths that leave at least one output pixel (valid mode needs the dilated kernel).
    sizes = []
    for axis in range(2):
        reach = (kernel[axis] - 1) * dilation[axis] + 1
        smallest = 1 if pad_mode == "same" else max(1, reach - (pads[2 * axis] + pads[2 * axis + 1]))
        sizes.append(draw(st.integers(smallest, smallest + 9)))
    return {
        "batch": draw(st.integers(1, 4)), "in_channels": group * cg_in, "out_channels": group * cg_out,
        "kernel_size": kernel, "stride": stride, "dilation": dilation, "pad_mode": pad_mode, "padding": padding,
        "pads": pads, "group": group, "size": tuple(sizes), "has_bias": draw(st.booleans()),
        "dtype": draw(st.sampled_from(DTYPES)), "layout": draw(st.sampled_from(LAYOUTS)),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


@settings(max_examples=300, deadline=None)
@given(conv_cases())
def test_conv2d_matches_float64_reference(case):
    rng = np.random.default_rng(case["seed"])
    dtype = case["dtype"]
    c_in, c_out, group = case["in_channels"], case["out_channels"], case["group"]
    kh, kw = case["kernel_size"]
    weight = rng.standard_normal((c_out, c_in // group, kh, kw)).astype(np.float32)
    bias = rng.standard_normal(c_out).astype(np.float32) if case["has_bias"] else None
    values = rng.standard_normal((case["batch"], c_in, *case["size"])).astype(dtype)
    x = input_view(values, case["layout"])
    assert np.array_equal(x, values)
    net = nn.Conv2d(c_in, c_out, case["kernel_size"], stride=case["stride"], pad_mode=case["pad_mode"],
                    padding=case["padding"], dilation=case["dilation"], group=group, has_bias=case["has_bias"],
                    weight_init=ms.Tensor(weight), bias_init=ms.Tensor(bias) if bias is not None else "zeros")

    y = net(ms.Tensor.from_numpy(x)).asnumpy()

    (sh, sw), (dh, dw), pads = case["stride"], case["dilation"], case["pads"]
    h, w = case["size"]
    padding = (mindspore_padding(h, kh, sh, dh, case["pad_mode"], pads[:2])
               + mindspore_padding(w, kw, sw, dw, case["pad_mode"], pads[2:]))
    # The layer computes with the Parameters rounded to the input's dtype.
    weight_used = weight.astype(dtype)
    bias_used = None if bias is None else bias.astype(dtype)
    exact = reference_conv2d(values, weight_used, bias_used, case["stride"], case["dilation"], padding, group)
    if case["pad_mode"] == "same":
        assert exact.shape[2:] == (math.ceil(h / sh), math.ceil(w / sw))
    if case["pad_mode"] == "valid":
        assert exact.shape[2:] == (math.ceil((h - dh * (kh - 1)) / sh), math.ceil((w - dw * (kw - 1)) / sw))
    assert y.shape == exact.shape
    assert y.dtype == dtype
    bound = error_bound(values, weight_used.astype(np.float64), bias_used, case["stride"], case["dilation"],
                        padding, group, exact, dtype)
    error = np.abs(y.astype(np.float64) - exact)
    assert np.all(error <= bound), f"worst excess {np.max(error - bound)} for {case}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c_in, c_out, kernel, group", [(32, 8, 5, 1), (24, 12, 3, 3), (16, 16, 3, 16)])
def test_long_reductions_match_float64_reference(dtype, c_in, c_out, kernel, group):
    """Reductions of hundreds of terms (the kernel's chunked path), within the same derived bound."""
    rng = np.random.default_rng(c_in * kernel)
    weight = rng.standard_normal((c_out, c_in // group, kernel, kernel)).astype(np.float32)
    bias = rng.standard_normal(c_out).astype(np.float32)
    values = rng.standard_normal((2, c_in, 9, 11)).astype(dtype)
    net = nn.Conv2d(c_in, c_out, kernel, pad_mode="pad", padding=(1, 2, 0, 1), group=group, has_bias=True,
                    weight_init=ms.Tensor(weight), bias_init=ms.Tensor(bias))
    y = net(ms.Tensor(values)).asnumpy()
    weight_used, bias_used = weight.astype(dtype), bias.astype(dtype)
    exact = reference_conv2d(values, weight_used, bias_used, (1, 1), (1, 1), (1, 2, 0, 1), group)
    bound = error_bound(values, weight_used.astype(np.float64), bias_used, (1, 1), (1, 1), (1, 2, 0, 1), group,
                        exact, dtype)
    assert y.shape == exact.shape and y.dtype == dtype
    assert np.all(np.abs(y.astype(np.float64) - exact) <= bound)


# Empty inputs, with the output shapes and errors MindSpore 2.10 gives (nn.Conv2d(3, 4, 3, ...)).
EMPTY_INPUTS = [
    ((0, 3, 5, 5), dict(pad_mode="valid"), (0, 4, 3, 3)),
    ((0, 3, 5, 5), dict(pad_mode="pad", padding=1), (0, 4, 5, 5)),
    ((0, 3, 5, 5), dict(pad_mode="same", stride=2), (0, 4, 3, 3)),
    ((1, 3, 0, 0), dict(pad_mode="same"), (1, 4, 0, 0)),
    ((0, 3, 0, 5), dict(pad_mode="same"), (0, 4, 0, 5)),
    ((0, 3, 2, 5), dict(pad_mode="valid"), ValueError),
    ((1, 3, 0, 5), dict(pad_mode="pad", padding=1), ValueError),
    # A padded input exactly one stride short of the dilated kernel: 0 pixels; any other shortfall: an error.
    ((1, 3, 3, 5), dict(pad_mode="valid", dilation=(2, 1), stride=2), (1, 4, 0, 2)),
    ((2, 3, 4, 5), dict(pad_mode="valid", dilation=2), (2, 4, 0, 1)),
    ((0, 3, 4, 5), dict(pad_mode="valid", dilation=2), (0, 4, 0, 1)),
    ((1, 3, 1, 5), dict(pad_mode="pad", padding=1, dilation=(2, 1), stride=2), (1, 4, 0, 3)),
    ((1, 3, 8, 5), dict(pad_mode="valid", dilation=(6, 1), stride=5), (1, 4, 0, 1)),
    ((1, 3, 3, 5), dict(pad_mode="valid", dilation=(2, 1)), ValueError),
    ((1, 3, 1, 5), dict(pad_mode="pad", padding=1, dilation=(2, 1)), ValueError),
    ((1, 3, 9, 5), dict(pad_mode="valid", dilation=(6, 1), stride=3), ValueError),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, arguments, expected", EMPTY_INPUTS)
def test_empty_inputs_give_empty_outputs(shape, arguments, expected, dtype):
    net = nn.Conv2d(3, 4, 3, has_bias=True, **arguments)
    x = ms.Tensor(np.ones(shape, dtype))
    if expected is ValueError:
        with pytest.raises(ValueError, match="hold the dilated kernel"):
            net(x)
        return
    y = net(x).asnumpy()
    assert y.shape == expected and y.dtype == dtype


_OVERFLOW_SCRIPT = """
import sys, numpy as np, msparam as ms
from msparam import nn
kind = sys.argv[1]
x = ms.Tensor(np.ones((1, 128, 1, 1), np.float32))
try:
    if kind == "pad":
        nn.Conv2d(128, 1, (2, 1), pad_mode="pad", padding=(2**57, 0, 0, 0), dilation=(2**57, 1))(x)
    else:
        nn.Conv2d(128, 1, (2, 1), pad_mode="same", dilation=(2**58, 1))(x)
except ValueError as error:
    print("ValueError", error)
"""


@pytest.mark.parametrize("kind", ["pad", "same"])
def test_conv2d_sizes_beyond_the_kernels_are_a_value_error_not_a_crash(kind):
    # A subprocess, so that a regression to the old heap overflow cannot kill pytest.
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", _OVERFLOW_SCRIPT, kind], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ValueError") and "'dilation'" in done.stdout, done.stdout


@pytest.mark.parametrize("stride, dilation", [(2**62, 1), ((1, 2**62), (2**40, 1))])
def test_conv2d_huge_stride_or_dilation_with_one_output_pixel_is_legal(stride, dilation):
    x = np.arange(1.0, 5.0, dtype=np.float32).reshape(1, 1, 2, 2)
    net = nn.Conv2d(1, 1, (1, 2), stride=stride, dilation=dilation, pad_mode="valid")
    w = net.weight.asnumpy()
    out = net(ms.Tensor(x)).asnumpy()
    expected = nn.Conv2d(1, 1, (1, 2), pad_mode="valid")
    expected.weight.set_data(ms.Tensor(w))
    want = expected(ms.Tensor(x)).asnumpy()
    sh = stride if isinstance(stride, int) else stride[0]
    assert out.shape == (1, 1, 1 if sh > 1 else 2, 1)
    np.testing.assert_array_equal(out, want[:, :, :out.shape[2]])
