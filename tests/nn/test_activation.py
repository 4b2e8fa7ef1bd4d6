"""Activation cells against the outputs MindSpore's documentation prints, and get_activation."""
import numpy as np
import pytest

import msparam as ms
from msparam import nn

ROW = [-1, -2, 0, 2, 1]
MATRIX = [[-1.0, 4.0, -8.0], [2.0, -5.0, 9.0]]

# (cell, input, dtype, printed output) from the Examples of mindspore.nn's activation docs.
DOCUMENTED = [
    (nn.ReLU(), [-1, 2, -3, 2, -1], np.float16, [0, 2, 0, 2, 0]),
    (nn.ReLU6(), ROW, np.float16, [0, 0, 0, 2, 1]),
    (nn.LeakyReLU(), MATRIX, np.float32, [[-0.2, 4.0, -1.6], [2.0, -1.0, 9.0]]),
    (nn.ELU(), ROW, np.float32, [-0.63212055, -0.86466473, 0.0, 2.0, 1.0]),
    (nn.Sigmoid(), ROW, np.float16, [0.2688, 0.11914, 0.5, 0.881, 0.7305]),
    (nn.SiLU(), [-1, 2, -3, 2, -1], np.float16, [-0.269, 1.762, -0.1423, 1.762, -0.269]),
    (nn.Tanh(), [1, 2, 3, 2, 1], np.float16, [0.7617, 0.964, 0.995, 0.964, 0.7617]),
    (nn.Tanhshrink(), [1, 2, 3, 2, 1], np.float16, [0.2383, 1.036, 2.004, 1.036, 0.2383]),
    (nn.Hardtanh(), ROW, np.float16, [-1, -1, 0, 1, 1]),
    (nn.Softsign(), [0, -1, 2, 30, -30], np.float32, [0.0, -0.5, 0.6666667, 0.9677419, -0.9677419]),
    (nn.Softmax(), ROW, np.float16, [0.03168, 0.01166, 0.0861, 0.636, 0.2341]),
    (nn.Softmin(), ROW, np.float16, [0.2341, 0.636, 0.0862, 0.01165, 0.03168]),
    (nn.LogSoftmax(), MATRIX, np.float32, [[-5.00672150e+00, -6.72150636e-03, -1.20067215e+01],
                                           [-7.00091219e+00, -1.40009127e+01, -9.12250078e-04]]),
    # The docs print -0.0033576 for mish(-5), a dropped digit: -5 * tanh(log1p(exp(-5))) = -0.0335762.
    (nn.Mish(), MATRIX, np.float32, [[-0.3034014, 3.9974129, -0.0026832], [1.9439590, -0.0335762, 9.0]]),
    (nn.GELU(), MATRIX, np.float32, [[-1.5880802e-01, 3.9999299e+00, -3.1077917e-21],
                                     [1.9545976e+00, -2.2918017e-07, 9.0]]),
    (nn.GELU(approximate=False), MATRIX, np.float32, [[-1.5865526e-01, 3.9998732e+00, 0.0],
                                                      [1.9544997e+00, -1.4901161e-06, 9.0]]),
]


@pytest.mark.parametrize("cell, values, dtype, printed", DOCUMENTED, ids=lambda v: type(v).__name__)
def test_documented_outputs(cell, values, dtype, printed):
    out = cell(ms.Tensor(np.array(values, dtype))).asnumpy()
    assert out.dtype == dtype and out.shape == np.shape(printed)
    # The docs print about 4 significant digits for float16 and 8 for float32; values far below
    # the largest output (the float32 tails near 1e-6 and smaller) only need to agree absolutely.
    rtol = 1e-3 if dtype == np.float16 else 1e-6
    np.testing.assert_allclose(out, printed, rtol=rtol, atol=1e-6)


def test_formulas_without_documented_output():
    x = np.linspace(-4, 4, 17)
    cases = {
        "hswish": x * np.clip(x + 3, 0, 6) / 6,
        "hsigmoid": np.clip(x + 3, 0, 6) / 6,
        "logsigmoid": -np.log1p(np.exp(-x)),
        "softshrink": np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
        "hshrink": np.where(np.abs(x) > 0.5, x, 0),
        "fast_gelu": x / (1 + np.exp(-1.702 * np.abs(x))) * np.exp(0.851 * (x - np.abs(x))),
    }
    for name, expected in cases.items():
        np.testing.assert_allclose(nn.get_activation(name)(ms.Tensor(x)).asnumpy(), expected, rtol=1e-12,
                                   atol=1e-15, err_msg=name)


def test_get_activation_names():
    assert isinstance(nn.get_activation("relu"), nn.ReLU)
    assert isinstance(nn.get_activation("silu"), nn.SiLU)
    assert isinstance(nn.get_activation("leakyrelu"), nn.LeakyReLU)
    assert nn.get_activation(None) is None
    assert nn.get_activation("relu") is not nn.get_activation("relu")
    with pytest.raises(KeyError, match="'name'.*swish"):
        nn.get_activation("swish")


def test_no_overflow_warnings_at_extremes():
    x = ms.Tensor(np.array([-1e4, 1e4], np.float32))
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(nn.Sigmoid()(x).asnumpy(), [0, 1])
        np.testing.assert_array_equal(nn.SiLU()(x).asnumpy(), [0, 1e4])


@pytest.mark.parametrize("value, error", [(np.ones(3), TypeError), (ms.Tensor(np.ones(3, np.int32)), TypeError)])
def test_input_errors(value, error):
    with pytest.raises(error, match="ReLU"):
        nn.ReLU()(value)


@pytest.mark.parametrize("make, error", [
    (lambda: nn.LeakyReLU("0.1"), TypeError), (lambda: nn.Hardtanh(1.0, -1.0), ValueError),
    (lambda: nn.GELU(approximate=1), TypeError), (lambda: nn.Softmax(axis=1.5), TypeError),
    (lambda: nn.SoftShrink(-1), ValueError)])
def test_argument_errors(make, error):
    with pytest.raises(error):
        make()


MINDSPORE_2_10_NAMES = ["softmin", "softmax", "softmax2d", "logsoftmax", "logsoftmaxExt", "relu", "relu6", "rrelu",
                        "silu", "tanh", "tanhshrink", "hardtanh", "gelu", "fast_gelu", "elu", "sigmoid", "softsign",
                        "prelu", "preluExt", "leakyrelu", "hswish", "hsigmoid", "logsigmoid", "softshrink",
                        "hshrink", "threshold", "mish"]


@pytest.mark.parametrize("name", [n for n in MINDSPORE_2_10_NAMES if n != "threshold"])
def test_every_mindspore_name_gives_a_cell(name):
    cell = nn.get_activation(name)
    x = ms.Tensor(np.linspace(-3, 3, 24, dtype=np.float32).reshape(1, 2, 3, 4))
    out = cell(x)
    assert isinstance(cell, nn.Cell) and out.shape == x.shape and out.dtype == ms.float32


def test_threshold_needs_its_arguments():
    with pytest.raises(TypeError, match="threshold"):
        nn.get_activation("threshold")
    cell = nn.Threshold(0.5, -1.0)
    np.testing.assert_array_equal(cell(ms.Tensor(np.array([0.0, 0.5, 1.0], np.float32))).asnumpy(), [-1.0, -1.0, 1.0])


@pytest.mark.parametrize("name", ["Relu", "RELU", "logsoftmaxext", "PReLU", "swish", ""])
def test_unknown_or_wrongly_cased_name_is_a_key_error(name):
    with pytest.raises(KeyError):
        nn.get_activation(name)
    with pytest.raises(KeyError, match="For 'Dense'"):
        nn.Dense(3, 2, activation=name or "x")


def test_prelu_parameter_names_as_mindspore():
    cell = nn.PReLU()
    assert [(path, p.name, p.shape) for path, p in cell.parameters_and_names()] == [("w", "a", (1,))]
    assert cell.w.asnumpy().tolist() == [0.25]
    assert list(nn.Dense(3, 4, activation="prelu").parameters_dict()) == ["weight", "bias", "activation.w"]
    assert list(nn.Dense(3, 4, activation="preluExt").parameters_dict()) == ["weight", "bias", "activation.weight"]
    x = np.array([[-2.0, 3.0], [4.0, -1.0]], np.float32)
    np.testing.assert_allclose(nn.PReLU(2, [0.5, 0.1])(ms.Tensor(x)).asnumpy(), [[-1.0, 3.0], [4.0, -0.1]])
    with pytest.raises(TypeError, match="'w'"):
        nn.PReLU(1, 1)


def test_softmax2d_and_logsoftmax_ext():
    x = np.random.RandomState(0).randn(2, 3, 2, 2).astype(np.float32)
    out = nn.Softmax2d()(ms.Tensor(x)).asnumpy()
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="3 or 4 dims"):
        nn.Softmax2d()(ms.Tensor(x[0, 0]))
    row = np.array([[1.0, 2.0, 3.0]], np.float32)
    np.testing.assert_allclose(nn.LogSoftmaxExt()(ms.Tensor(row)).asnumpy(),
                               row - np.log(np.exp(row).sum()), rtol=1e-6)  # rank 2: dim None is axis 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mish_is_finite_for_large_inputs(dtype):
    # MindSpore 2.10's CPU kernel gives NaN above about 44 (float32); mish(x) -> x as x grows.
    x = np.array([44.8, 88.0, 100.0, 1e30], dtype)
    assert np.array_equal(nn.Mish()(ms.Tensor(x)).asnumpy(), x)


def test_rrelu_keeps_positives_and_scales_negatives_within_bounds():
    x = np.linspace(-3, 3, 61, dtype=np.float32)
    out = nn.RReLU(0.1, 0.3)(ms.Tensor(x)).asnumpy()
    np.testing.assert_array_equal(out[x >= 0], x[x >= 0])
    slopes = out[x < 0] / x[x < 0]
    assert np.all((slopes >= 0.1 - 1e-6) & (slopes <= 0.3 + 1e-6))
    with pytest.raises(ValueError, match="upper"):
        nn.RReLU(0.5, 0.1)


# MindSpore 2.10's LeakyReLU, ELU and Hardtanh refuse a bool argument (TypeError, when called);
# msparam refuses it at construction, as it checks every layer argument.
@pytest.mark.parametrize("make", [lambda: nn.LeakyReLU(True), lambda: nn.ELU(alpha=False),
                                  lambda: nn.Hardtanh(False, 1.0)])
def test_bool_is_not_a_number_for_layers(make):
    with pytest.raises(TypeError, match="must be float or int, but got 'bool'"):
        make()


def test_bool_check_has_mindspore_text():
    with pytest.raises(TypeError, match=r"^For 'GELU', the 'approximate' must be a bool, but got int\.$"):
        nn.GELU(approximate=1)


def test_exact_gelu_of_a_0d_tensor():
    # NumPy's frompyfunc returns a Python float for a 0-d input; msparam raised AttributeError
    # there (found by the type checker). MindSpore 2.10 prints 0.841345 for gelu(1.0).
    out = nn.GELU(approximate=False)(ms.Tensor(np.array(1.0, np.float32)))
    assert out.shape == () and out.dtype == ms.float32
    np.testing.assert_allclose(out.asnumpy(), 0.8413447, rtol=1e-6)
