"""nn layers against MindSpore 2.10's outputs (tests/data/conv.npz, dense.npz) and the tutorial."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

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


def test_seeded_layer_weights_match_mindspore():
    ms.set_seed(42)
    conv = nn.Conv2d(3, 64, 3, weight_init=Normal(0.2))
    assert conv.weight.asnumpy().tobytes() == INIT["conv_w_42"].tobytes()
    ms.set_seed(42)
    dense = nn.Dense(3, 4, weight_init="normal")
    assert dense.weight.asnumpy().tobytes() == INIT["dense_w_42"].tobytes()


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
    assert str(update(ms.Tensor(np.arange(4).reshape(2, 2)))) == "[[0. 1.]\n [2. 3.]]"


@pytest.mark.parametrize("kwargs, error", [
    ({"pad_mode": "bad"}, ValueError), ({"padding": 1}, ValueError), ({"group": 2}, ValueError),
    ({"stride": 0}, ValueError), ({"kernel_size": (3,)}, ValueError), ({"data_format": "NHWC"}, ValueError),
    ({"has_bias": 1}, TypeError)])
def test_conv_argument_errors(kwargs, error):
    args = {"in_channels": 3, "out_channels": 4, "kernel_size": 3, **kwargs}
    with pytest.raises(error):
        nn.Conv2d(**args)


def test_conv_input_errors():
    net = nn.Conv2d(3, 4, 3, pad_mode="valid")
    with pytest.raises(ValueError, match="channels"):
        net(ms.Tensor(np.ones([1, 2, 5, 5], np.float32)))
    with pytest.raises(ValueError, match="4-D"):
        net(ms.Tensor(np.ones([3, 5, 5], np.float32)))
    with pytest.raises(ValueError):
        net(ms.Tensor(np.ones([1, 3, 2, 2], np.float32)))
    with pytest.raises(TypeError):
        net(np.ones([1, 3, 5, 5], np.float32))


def test_dense_errors():
    with pytest.raises(ValueError, match="in_channels"):
        nn.Dense(0, 3)
    with pytest.raises(ValueError, match="activation"):
        nn.Dense(3, 3, activation="nope")
    with pytest.raises(ValueError, match="last dimension"):
        nn.Dense(3, 2)(ms.Tensor(np.ones([2, 4], np.float32)))
