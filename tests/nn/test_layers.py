"""nn layers against MindSpore 2.10's outputs (tests/data/conv.npz, dense.npz) and the tutorial."""
import copy
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import msparam as ms
from msparam import nn
from msparam.common.initializer import Normal

DATA = Path(__file__).parent.parent / "data"
CASES = json.loads((DATA / "cases.json").read_text())["cases"]
CONV, DENSE, INIT = np.load(DATA / "conv.npz"), np.load(DATA / "dense.npz"), np.load(DATA / "init.npz")


def _tuple(value):
    return tuple(value) if isinstance(value, list) else value


@pytest.mark.parametrize("i", range(10))
def test_conv_matches_mindspore(i):
    c = CASES[f"conv{i}"]
    layer = nn.Conv2d(c["cin"], c["cout"], _tuple(c["k"]), stride=_tuple(c["stride"]), pad_mode=c["pad_mode"],
                      padding=_tuple(c["padding"]), dilation=_tuple(c["dilation"]), group=c["group"],
                      has_bias=c["has_bias"], weight_init=ms.Tensor(CONV[f"c{i}_w"]),
                      bias_init=ms.Tensor(CONV[f"c{i}_b"]) if c["has_bias"] else "zeros")
    out = layer(ms.Tensor(CONV[f"c{i}_x"])).asnumpy()
    np.testing.assert_allclose(out, CONV[f"c{i}_y"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("i", range(4))
def test_dense_matches_mindspore(i):
    c = CASES[f"dense{i}"]
    layer = nn.Dense(c["in"], c["out"], weight_init=ms.Tensor(DENSE[f"d{i}_w"]),
                     bias_init=ms.Tensor(DENSE[f"d{i}_b"]) if c["has_bias"] else "zeros",
                     has_bias=c["has_bias"], activation=c["activation"])
    np.testing.assert_allclose(layer(ms.Tensor(DENSE[f"d{i}_x"])).asnumpy(), DENSE[f"d{i}_y"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("seed", [1, 42])
def test_seeded_layer_weights_match_mindspore(seed):
    ms.set_seed(seed)
    conv = nn.Conv2d(3, 64, 3, weight_init=Normal(0.2))
    assert conv.weight.asnumpy().tobytes() == INIT[f"conv_w_{seed}"].tobytes()
    ms.set_seed(seed)
    dense = nn.Dense(3, 4, weight_init="normal")
    assert dense.weight.asnumpy().tobytes() == INIT[f"dense_w_{seed}"].tobytes()


def test_tutorial_conv_with_ones_gives_border_sums():
    net = nn.Conv2d(3, 64, 3, weight_init=ms.Tensor(np.ones([64, 3, 3, 3]), dtype=ms.float32))
    out = net(ms.Tensor(np.ones([1, 3, 16, 50], dtype=np.float32))).asnumpy()
    assert out.shape == (1, 64, 16, 50)
    assert out[0, 0, 0, 0] == 12 and out[0, 0, 0, 1] == 18 and out[0, 0, 1, 1] == 27


def test_conv_plan_follows_weight_changes():
    net = nn.Conv2d(1, 1, 1, weight_init="ones")
    x = ms.Tensor(np.ones([1, 1, 2, 2], np.float32))
    assert np.all(net(x).asnumpy() == 1)
    nn.ParameterUpdate(net.weight)(ms.Tensor(np.full([1, 1, 1, 1], 3.0, np.float32)))
    assert np.all(net(x).asnumpy() == 3)


def test_dense_flattens_leading_dimensions():
    net = nn.Dense(3, 2, weight_init="ones", activation="relu")
    out = net(ms.Tensor(np.ones([4, 5, 3], np.float32))).asnumpy()
    assert out.shape == (4, 5, 2) and np.all(out == 3)


def test_nested_cells_prefix_parameter_names():
    class Block(nn.Cell):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(1, 2, 3)

    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.fc = nn.Dense(2, 3, has_bias=False)
            self.scale = ms.Parameter(1.0, requires_grad=False)

    net = Net()
    assert list(net.parameters_dict()) == ["scale", "block.c1.weight", "fc.weight"]
    assert [p.name for p in net.trainable_params()] == ["block.c1.weight", "fc.weight"]
    assert [p.name for p in net.untrainable_params()] == ["scale"]
    assert [name for name, _ in net.cells_and_names()] == ["", "block", "block.c1", "fc"]
    assert "Conv2d" in repr(net)


def test_parameter_update_rejects_other_shapes_and_keeps_data():
    param = ms.Parameter(ms.Tensor(np.zeros((2, 2), np.float32)), name="p")
    update = nn.ParameterUpdate(param)
    with pytest.raises(ValueError, match="shape"):
        update(ms.Tensor(np.ones((2, 3), np.float32)))
    assert np.all(param.asnumpy() == 0)
    # MindSpore 2.10 returns the input in its own dtype (int64 promotes into float32).
    assert str(update(ms.Tensor(np.arange(4).reshape(2, 2)))) == "[[0 1]\n [2 3]]"
    assert str(param) .startswith("Parameter") and param.asnumpy().tolist() == [[0.0, 1.0], [2.0, 3.0]]


CONV_ARGUMENT_ERRORS = [
    ({"in_channels": 0}, ValueError, "'in_channels'"), ({"in_channels": 3.0}, TypeError, "'in_channels'"),
    ({"in_channels": True}, TypeError, "'in_channels'"), ({"out_channels": -4}, ValueError, "'out_channels'"),
    ({"kernel_size": 0}, ValueError, "'kernel_size'"), ({"kernel_size": (3,)}, TypeError, "'kernel_size'"),
    ({"kernel_size": (3, 0)}, ValueError, "'kernel_size'"), ({"kernel_size": 2.5}, TypeError, "'kernel_size'"),
    ({"kernel_size": [3, 3]}, TypeError, "'kernel_size'"), ({"stride": 0}, ValueError, "'stride'"),
    ({"stride": (1, 2, 3)}, TypeError, "'stride'"), ({"dilation": (1, 0)}, ValueError, "'dilation'"),
    ({"pad_mode": "bad"}, ValueError, "'pad_mode'"), ({"pad_mode": 1}, TypeError, "'pad_mode'"),
    ({"padding": 1}, ValueError, "'padding'"),
    ({"padding": (0, 0, 1, 0), "pad_mode": "valid"}, ValueError, "'padding'"),
    ({"padding": -1, "pad_mode": "pad"}, ValueError, "'padding'"),
    ({"padding": (1, 1), "pad_mode": "pad"}, ValueError, "'padding'"),
    ({"padding": (1, 1, -1, 1), "pad_mode": "pad"}, ValueError, "'padding item'"),
    ({"padding": 1.5, "pad_mode": "pad"}, TypeError, "'padding'"),
    ({"padding": [1, 1, 1, 1], "pad_mode": "pad"}, TypeError, "'padding'"),
    ({"group": 0}, ValueError, "'group'"), ({"group": 2}, ValueError, "'in_channels'.*'group'"),
    ({"in_channels": 4, "out_channels": 3, "group": 2}, ValueError, "'out_channels'.*'group'"),
    ({"data_format": "NHWC"}, ValueError, "'data_format'.*GPU"), ({"data_format": "nchw"}, ValueError, "'data_format'"),
    ({"has_bias": 1}, TypeError, "'has_bias'"),
    ({"weight_init": ms.Tensor(np.ones((4, 3, 3, 2), np.float32))}, ValueError, "'weight_init'"),
    ({"has_bias": True, "bias_init": ms.Tensor(np.ones(3, np.float32))}, ValueError, "'bias_init'"),
    ({"weight_init": "no_such_init"}, ValueError, "no_such_init"), ({"weight_init": object()}, TypeError, "init"),
]


@pytest.mark.parametrize("kwargs, error, message", CONV_ARGUMENT_ERRORS)
def test_conv_argument_errors(kwargs, error, message):
    args = {"in_channels": 3, "out_channels": 4, "kernel_size": 3, **kwargs}
    with pytest.raises(error, match=message):
        nn.Conv2d(**args)


def test_conv_accepts_mindspore_argument_forms():
    net = nn.Conv2d(4, 6, (3, 1), stride=(2, 1), pad_mode="pad", padding=(0, 1, 2, 0), dilation=(1, 2), group=2,
                    has_bias=True, bias_init=ms.Tensor(np.arange(6, dtype=np.float32)))
    assert net.pad_mode == "pad" and net.padding == (0, 1, 2, 0) and net.kernel_size == (3, 1)
    assert net.weight.shape == (6, 2, 3, 1) and net.bias.shape == (6,)
    assert net(ms.Tensor(np.zeros((1, 4, 5, 5), np.float32))).shape == (1, 6, 2, 7)
    depthwise = nn.Conv2d(8, 8, 3, group=8)
    assert depthwise.weight.shape == (8, 1, 3, 3)


INPUT_ERRORS = [
    (np.ones([1, 3, 5, 5], np.float32), TypeError, "Tensor"),
    (ms.Tensor(np.ones([1, 3, 5, 5], np.int32)), TypeError, "dtype"),
    (ms.Tensor(np.ones([3, 5, 5], np.float32)), ValueError, "4-D"),
    (ms.Tensor(np.ones([1, 3, 1, 5, 5], np.float32)), ValueError, "4-D"),
    (ms.Tensor(np.ones([1, 2, 5, 5], np.float32)), ValueError, "'in_channels'"),
    # As MindSpore: 'valid' needs the kernel inside the input, also when it is empty.
    (ms.Tensor(np.ones([1, 3, 0, 5], np.float32)), ValueError, "hold the dilated kernel"),
    (ms.Tensor(np.ones([0, 3, 2, 5], np.float32)), ValueError, "hold the dilated kernel"),
    (ms.Tensor(np.ones([1, 3, 2, 9], np.float32)), ValueError, "hold the dilated kernel"),
]


@pytest.mark.parametrize("x, error, message", INPUT_ERRORS)
def test_conv_input_errors_are_raised_before_the_kernel(x, error, message):
    net = nn.Conv2d(3, 4, 3, pad_mode="valid")
    with pytest.raises(error, match=message):
        net(x)
    assert net(ms.Tensor(np.ones([1, 3, 3, 3], np.float32))).shape == (1, 4, 1, 1)


def test_conv_output_smaller_than_one_pixel_with_dilation():
    # MindSpore 2.10: 5 wide is an error, 6 wide (one stride short of the dilated kernel) 0 pixels.
    net = nn.Conv2d(1, 1, 3, pad_mode="pad", padding=(1, 1, 0, 0), dilation=(1, 3))
    with pytest.raises(ValueError, match="hold the dilated kernel"):
        net(ms.Tensor(np.ones([1, 1, 4, 5], np.float32)))
    assert net(ms.Tensor(np.ones([1, 1, 4, 6], np.float32))).shape == (1, 1, 4, 0)
    assert net(ms.Tensor(np.ones([1, 1, 4, 7], np.float32))).shape == (1, 1, 4, 1)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_conv_keeps_input_dtype(dtype):
    net = nn.Conv2d(2, 3, 3, weight_init="ones", has_bias=True, bias_init="ones")
    out = net(ms.Tensor(np.ones([1, 2, 4, 4], dtype))).asnumpy()
    assert out.dtype == dtype and out[0, 0, 1, 1] == 19 and out[0, 0, 0, 0] == 9


DENSE_ARGUMENT_ERRORS = [
    ({"in_channels": 0}, ValueError, "'in_channels'"), ({"in_channels": 2.0}, TypeError, "'in_channels'"),
    ({"out_channels": -1}, ValueError, "'out_channels'"), ({"has_bias": "yes"}, TypeError, "'has_bias'"),
    ({"activation": "nope"}, KeyError, "'name'"), ({"activation": 3}, TypeError, "'activation'"),
    ({"activation": np.tanh}, TypeError, "'activation'"),
    ({"weight_init": ms.Tensor(np.ones((3, 4), np.float32))}, ValueError, "'weight_init'"),
    ({"bias_init": ms.Tensor(np.ones((4, 1), np.float32))}, ValueError, "'bias_init'"),
]


@pytest.mark.parametrize("kwargs, error, message", DENSE_ARGUMENT_ERRORS)
def test_dense_argument_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        nn.Dense(**{"in_channels": 3, "out_channels": 4, **kwargs})


def test_dense_without_bias_ignores_bias_init():
    net = nn.Dense(3, 4, has_bias=False, bias_init=ms.Tensor(np.ones(7, np.float32)))
    assert net.bias is None and list(net.parameters_dict()) == ["weight"]


@pytest.mark.parametrize("x, error, message", [
    (ms.Tensor(np.float32(1.0)), ValueError, "dimension"), (ms.Tensor(np.ones([4], np.float32)), ValueError, "last"),
    (ms.Tensor(np.ones([2, 4], np.float32)), ValueError, "last dimension"),
    (ms.Tensor(np.ones([2, 3], np.int64)), TypeError, "dtype"),
    ([[1.0, 2.0, 3.0]], TypeError, "Tensor")])
def test_dense_input_errors(x, error, message):
    with pytest.raises(error, match=message):
        nn.Dense(3, 2)(x)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 3), (2, 5, 3), (2, 1, 4, 3)])
def test_dense_matches_float64_product(dtype, shape):
    rng = np.random.default_rng(len(shape))
    weight, bias = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    x = rng.standard_normal(shape).astype(dtype)
    net = nn.Dense(3, 4, weight_init=ms.Tensor(weight), bias_init=ms.Tensor(bias), activation="tanh")
    out = net(ms.Tensor(x)).asnumpy()
    exact = np.tanh(x.astype(np.float64) @ weight.astype(dtype).astype(np.float64).T + bias.astype(dtype))
    assert out.shape == shape[:-1] + (4,) and out.dtype == dtype
    # |x W^T + b| < 8 here; its rounding to the dtype (half an ulp: 2**-9 for float16 at [4, 8)) passes
    # through tanh (1-Lipschitz), plus tanh's own rounding (half an ulp below 1): float16 < 2.5e-3.
    tolerance = {np.float16: 2.5e-3, np.float32: 1e-6, np.float64: 1e-14}[dtype]
    np.testing.assert_allclose(out, exact, rtol=0, atol=tolerance)


def test_dense_activation_by_name_and_cell_agree():
    x = ms.Tensor(np.linspace(-3, 3, 12, dtype=np.float32).reshape(4, 3))
    by_name = nn.Dense(3, 2, weight_init="ones", activation="leakyrelu")
    by_cell = nn.Dense(3, 2, weight_init="ones", activation=nn.LeakyReLU(0.2))
    np.testing.assert_array_equal(by_name(x).asnumpy(), by_cell(x).asnumpy())
    assert isinstance(by_name.activation, nn.LeakyReLU) and by_name.activation_flag
    assert [name for name, _ in by_name.cells_and_names()] == ["", "activation"]


def test_conv_copies_and_pickles_after_running():
    net = nn.Conv2d(2, 3, 3, weight_init="ones")
    x = ms.Tensor(np.ones([1, 2, 4, 4], np.float32))
    before = net(x).asnumpy()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert clone.weight is not net.weight and clone.weight.name == "weight"
        np.testing.assert_array_equal(clone(x).asnumpy(), before)
        clone.weight.set_data(ms.Tensor(np.zeros((3, 2, 3, 3), np.float32)))
        assert np.all(clone(x).asnumpy() == 0)
    np.testing.assert_array_equal(net(x).asnumpy(), before)


@pytest.mark.parametrize("make, x", [
    (lambda: nn.Dense(3, 2), np.ones([1, 3], np.float32)),
    (lambda: nn.Conv2d(3, 2, 3, has_bias=True), np.ones([1, 3, 4, 4], np.float32))])
def test_parameters_reshaped_by_set_data_are_refused(make, x):
    net = make()
    net.bias.set_data(ms.Tensor(np.zeros(5, np.float32)), slice_shape=True)
    with pytest.raises(ValueError, match="'bias' Parameter"):
        net(ms.Tensor(x))
    net.bias.set_data(ms.Tensor(np.zeros(2, np.float32)), slice_shape=True)
    assert net(ms.Tensor(x)).shape[1] == 2


def test_dense_reads_weight_and_bias_as_attribute_lookup_does():
    """Dense reads its Parameters from the Cell's tables; a subclass's own attributes still win."""
    x = ms.Tensor(np.ones([2, 3], np.float32))
    fixed = ms.Parameter(ms.Tensor(np.full((2, 3), 2.0, np.float32)), name="fixed")

    class FixedWeight(nn.Dense):
        @property
        def weight(self):
            return fixed

    np.testing.assert_array_equal(FixedWeight(3, 2)(x).asnumpy(), np.full((2, 2), 6.0, np.float32))
    net = nn.Dense(3, 2, weight_init="ones", has_bias=False)
    np.testing.assert_array_equal(net(x).asnumpy(), np.full((2, 2), 3.0, np.float32))
    net.weight.set_data(ms.Tensor(np.zeros((4, 3), np.float32)), slice_shape=True)
    with pytest.raises(ValueError, match="'weight' Parameter"):
        net(x)


@settings(max_examples=150, deadline=None)
@given(in_channels=st.integers(1, 40), out_channels=st.integers(1, 6),
       leading=st.lists(st.integers(1, 4), min_size=1, max_size=3), has_bias=st.booleans(),
       dtype=st.sampled_from([np.float16, np.float32, np.float64]), transposed=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_dense_matches_float64_reference(in_channels, out_channels, leading, has_bias, dtype, transposed, seed):
    """x W^T + b within the dot-product bound gamma(K + 1) * sum|x w| (+ float16's final rounding)."""
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((out_channels, in_channels)).astype(np.float32)
    bias = rng.standard_normal(out_channels).astype(np.float32)
    values = rng.standard_normal((*leading, in_channels)).astype(dtype)
    x = np.ascontiguousarray(values.T).T if transposed else values
    net = nn.Dense(in_channels, out_channels, weight_init=ms.Tensor(weight), bias_init=ms.Tensor(bias),
                   has_bias=has_bias)
    y = net(ms.Tensor.from_numpy(x)).asnumpy()
    w64 = weight.astype(dtype).astype(np.float64)
    b64 = bias.astype(dtype).astype(np.float64) if has_bias else np.zeros(out_channels)
    exact = values.astype(np.float64) @ w64.T + b64
    magnitude = np.abs(values.astype(np.float64)) @ np.abs(w64).T + np.abs(b64)
    terms = in_channels + 1
    u = np.finfo(np.float32 if dtype == np.float16 else dtype).eps / 2
    bound = terms * u / (1 - terms * u) * magnitude
    if dtype == np.float16:
        bound = bound + np.finfo(np.float16).eps / 2 * (np.abs(exact) + bound) + 2.0 ** -25
    assert y.shape == (*leading, out_channels) and y.dtype == dtype
    assert np.all(np.abs(y.astype(np.float64) - exact) <= bound)


# What MindSpore 2.10's ParameterUpdate accepts, by Parameter dtype (measured on every pair of these
# 13 dtypes): an input is accepted iff type promotion of the two gives the Parameter's dtype.
PARAMETER_UPDATE_ACCEPTS = {
    "bool_": ["bool_"],
    "int8": ["bool_", "int8"],
    "uint8": ["bool_", "uint8"],
    "int16": ["bool_", "int8", "uint8", "int16"],
    "int32": ["bool_", "int8", "uint8", "int16", "int32"],
    "int64": ["bool_", "int8", "uint8", "int16", "int32", "int64"],
    "float16": ["bool_", "int8", "uint8", "int16", "int32", "int64", "float16"],
    "float32": ["bool_", "int8", "uint8", "int16", "int32", "int64", "float16", "float32"],
    "float64": ["bool_", "int8", "uint8", "int16", "int32", "int64", "float16", "float32", "float64"],
    "uint16": ["bool_", "uint16"],
    "uint32": ["bool_", "uint32"],
    "uint64": ["bool_", "uint64"],
    "complex64": ["bool_", "int8", "uint8", "int16", "int32", "int64", "float16", "float32", "complex64"],
}


@pytest.mark.parametrize("param_dtype", list(PARAMETER_UPDATE_ACCEPTS))
@pytest.mark.parametrize("input_dtype", list(PARAMETER_UPDATE_ACCEPTS))
def test_parameter_update_follows_type_promotion(param_dtype, input_dtype):
    target, incoming = getattr(ms, param_dtype), getattr(ms, input_dtype)
    param = ms.Parameter(ms.Tensor(np.zeros(3), target), name="p")
    update = nn.ParameterUpdate(param)
    x = ms.Tensor(np.array([1, 0, 1]), incoming)
    if input_dtype in PARAMETER_UPDATE_ACCEPTS[param_dtype]:
        out = update(x)
        assert out.dtype is incoming and out.asnumpy().tolist() == x.asnumpy().tolist()
        assert param.dtype is target and param.asnumpy().tolist() == x.asnumpy().astype(param.asnumpy().dtype).tolist()
    else:
        with pytest.raises(TypeError, match="ParameterUpdate"):
            update(x)
        assert param.dtype is target and not param.asnumpy().any()


def test_parameter_update_checks_dtype_before_shape():
    update = nn.ParameterUpdate(ms.Parameter(ms.Tensor(np.zeros(3, np.float32)), name="p"))
    with pytest.raises(TypeError):
        update(ms.Tensor(np.zeros(2, np.float64)))


@pytest.mark.parametrize("pad_mode", ["Same", "VALID", "Valid", "PAD", "x"])
def test_conv_pad_mode_is_case_sensitive(pad_mode):
    with pytest.raises(ValueError, match="pad_mode"):
        nn.Conv2d(2, 2, 1, pad_mode=pad_mode)


@pytest.mark.parametrize("arg_name", ["kernel_size", "stride", "dilation"])
@pytest.mark.parametrize("value", [(2,), (1, 2, 3)])
def test_conv_pair_of_wrong_length_is_a_type_error(arg_name, value):
    kwargs = {"kernel_size": 1, arg_name: value}
    with pytest.raises(TypeError, match=arg_name):
        nn.Conv2d(2, 2, **kwargs)


@pytest.mark.parametrize("make", [lambda **kw: nn.Dense(3, 4, has_bias=True, **kw),
                                  lambda **kw: nn.Conv2d(3, 4, 3, has_bias=True, **kw)])
def test_init_none_means_the_default(make):
    ms.set_seed(7)
    default = [p.asnumpy().copy() for p in make().get_parameters()]
    ms.set_seed(7)
    given_none = [p.asnumpy().copy() for p in make(weight_init=None, bias_init=None).get_parameters()]
    assert len(default) == len(given_none) == 2
    for a, b in zip(default, given_none):
        np.testing.assert_array_equal(a, b)
    assert not default[1].any()  # r1.9's default bias: zeros


def test_dense_takes_a_1d_input_as_one_sample():
    # MindSpore 2.10: Dense(3, 2) on shape (3,) gives shape (2,).
    dense = nn.Dense(3, 2, weight_init="ones", bias_init="ones")
    out = dense(ms.Tensor(np.array([1.0, 2.0, 3.0], np.float32)))
    assert out.shape == (2,) and out.asnumpy().tolist() == [7.0, 7.0]
    with pytest.raises(ValueError, match="dimension"):
        dense(ms.Tensor(np.float32(1.0)))


@pytest.mark.parametrize("make, x, name, value", [
    (lambda: nn.Conv2d(2, 2, 3, weight_init="ones"), (1, 2, 8, 8), "stride", (2, 2)),
    (lambda: nn.Conv2d(2, 2, 3, weight_init="ones"), (1, 2, 8, 8), "pad_mode", "valid"),
    (lambda: nn.Conv2d(2, 2, 3, pad_mode="pad", weight_init="ones"), (1, 2, 8, 8), "padding", 1),
    (lambda: nn.Conv2d(2, 2, 3, weight_init="ones"), (1, 2, 8, 8), "dilation", 2),
    (lambda: nn.Conv2d(2, 2, 3, weight_init="ones"), (1, 2, 8, 8), "kernel_size", (1, 1)),
    (lambda: nn.Conv2d(2, 2, 3, weight_init="ones"), (1, 2, 8, 8), "group", 2),
    (lambda: nn.Conv2d(2, 2, 3, weight_init="ones"), (1, 2, 8, 8), "in_channels", 4),
    (lambda: nn.Conv2d(2, 2, 3, weight_init="ones"), (1, 2, 8, 8), "has_bias", True),
    (lambda: nn.Dense(3, 2, weight_init="ones"), (2, 3), "in_channels", 5),
    (lambda: nn.Dense(3, 2, weight_init="ones", bias_init="ones"), (2, 3), "has_bias", False),
])
@pytest.mark.parametrize("after_a_call", [False, True], ids=["before_the_first_call", "after_a_call"])
def test_a_setting_the_layer_was_made_with_cannot_change(make, x, name, value, after_a_call):
    """MindSpore 2.10 keeps the operator it built at construction and silently ignores a new stride,
    padding, ...; msparam's cached plan honoured one only before the first call. Both are refused."""
    net, x = make(), ms.Tensor(np.ones(x, np.float32))
    before = net(x).asnumpy()
    if not after_a_call:
        net = make()
    old = getattr(net, name)
    with pytest.raises(AttributeError, match=f"'{name}' is fixed when the layer is made"):
        setattr(net, name, value)
    assert getattr(net, name) == old
    np.testing.assert_array_equal(net(x).asnumpy(), before)


def test_dropping_a_layers_bias_is_setting_it_to_none():
    net = nn.Dense(3, 2, weight_init="ones", bias_init="ones")
    net.bias = None
    np.testing.assert_array_equal(net(ms.Tensor(np.ones((1, 3), np.float32))).asnumpy(), [[3.0, 3.0]])
