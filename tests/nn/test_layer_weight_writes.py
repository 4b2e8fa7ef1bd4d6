"""Layers compute with their Parameters' current values, whichever alias wrote them (issue 12 §2).

Each case writes new weights (and bias) in place through one kind of alias after a first call,
then checks the next call against a fresh layer built from the new values. A layer that caches
anything derived from the values (packed weights, converted copies) keyed on a version counter
fails here: none of these writes goes through the Parameter.
"""
import ctypes
import zlib

import numpy as np
import pytest

import msparam as ms
from msparam import nn


def write_item(param, values):
    param.asnumpy()[...] = values


def write_asarray(param, values):
    np.asarray(param)[...] = values


def write_copyto(param, values):
    np.copyto(param.asnumpy(), values)


def write_fill(param, values):
    param.asnumpy().fill(values.flat[0])


def write_dlpack(param, values):
    np.from_dlpack(param)[...] = values


def write_buffer(param, values):
    memoryview(param.asnumpy()).cast("B")[:] = np.ascontiguousarray(values, param.asnumpy().dtype).tobytes()


def write_ctypes(param, values):
    target = param.asnumpy()
    source = np.ascontiguousarray(values, target.dtype)
    ctypes.memmove(target.ctypes.data, source.ctypes.data, source.nbytes)


def write_in_place_arithmetic(param, values):
    array = param.asnumpy()
    array *= 0
    array += values


def write_through_view(param, values):
    # A view taken before the first call, written after it.
    view = param.asnumpy().reshape(-1)
    view[:] = values.reshape(-1)


def write_set_data(param, values):
    param.set_data(ms.Tensor(values))


def write_parameter_update(param, values):
    nn.ParameterUpdate(param)(ms.Tensor(values))


# NumPy before 2.3 imports every DLPack capsule read-only, so there the alias cannot write at all
# (test_a_read_only_dlpack_import_refuses_writes holds that); from 2.3 it writes and is covered here.
DLPACK_WRITES = np.from_dlpack(ms.Parameter(np.zeros(1, np.float32), name="probe")).flags.writeable
WRITERS = [write_item, write_asarray, write_copyto, write_fill, *([write_dlpack] if DLPACK_WRITES else []),
           write_buffer, write_ctypes, write_in_place_arithmetic, write_through_view, write_set_data,
           write_parameter_update]


def test_a_read_only_dlpack_import_refuses_writes():
    param = ms.Parameter(np.zeros(3, np.float32), name="w")
    imported = np.from_dlpack(param)
    if imported.flags.writeable:
        imported[...] = 5
        assert np.array_equal(param.asnumpy(), np.full(3, 5, np.float32))
    else:
        with pytest.raises(ValueError, match="read-only"):
            imported[...] = 5
        assert np.array_equal(param.asnumpy(), np.zeros(3, np.float32))

LAYERS = {
    # name: (constructor taking weight_init/bias_init, input shape)
    "conv_direct": (lambda **init: nn.Conv2d(4, 8, 3, has_bias=True, **init), (2, 4, 9, 10)),
    "conv_direct_large": (lambda **init: nn.Conv2d(16, 40, 3, has_bias=True, **init), (2, 16, 20, 21)),
    "conv_strided": (lambda **init: nn.Conv2d(3, 16, 7, stride=2, has_bias=True, **init), (1, 3, 30, 30)),
    "conv_pointwise": (lambda **init: nn.Conv2d(32, 24, 1, has_bias=True, **init), (2, 32, 20, 20)),
    "conv_pointwise_tiny": (lambda **init: nn.Conv2d(2, 2, 1, has_bias=True, **init), (1, 2, 1, 1)),
    "conv_grouped": (lambda **init: nn.Conv2d(8, 12, 3, group=2, has_bias=True, **init), (2, 8, 11, 11)),
    "conv_depthwise": (lambda **init: nn.Conv2d(16, 16, 3, group=16, has_bias=True, **init), (2, 16, 30, 30)),
    "conv_depthwise_strided": (lambda **init: nn.Conv2d(6, 6, 3, stride=2, group=6, has_bias=True, **init),
                               (1, 6, 12, 12)),
    "dense": (lambda **init: nn.Dense(5, 3, **init), (4, 5)),
    "dense_activation": (lambda **init: nn.Dense(6, 4, activation="relu", **init), (2, 3, 6)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("writer", WRITERS, ids=lambda writer: writer.__name__)
@pytest.mark.parametrize("layer_name", list(LAYERS))
def test_next_call_uses_the_written_values(layer_name, writer, dtype):
    make, x_shape = LAYERS[layer_name]
    rng = np.random.default_rng(zlib.crc32(f"{layer_name} {writer.__name__}".encode()))
    layer = make()
    shapes = {name: param.shape for name, param in layer.parameters_and_names()}
    x = ms.Tensor(rng.uniform(-1, 1, x_shape).astype(dtype))
    before = layer(x).asnumpy()
    new = {name: rng.uniform(1, 2, shape).astype(np.float32) for name, shape in shapes.items()}
    if writer is write_fill:
        new = {name: np.full(values.shape, values.flat[0], np.float32) for name, values in new.items()}
    for name, param in layer.parameters_and_names():
        writer(param, new[name])
    after = layer(x).asnumpy()
    fresh = make(weight_init=ms.Tensor(new["weight"]), bias_init=ms.Tensor(new["bias"]))
    assert np.array_equal(after, fresh(x).asnumpy())
    assert not np.array_equal(after, before)


@pytest.mark.parametrize("layer_name", ["conv_direct", "conv_pointwise", "conv_depthwise"])
def test_weights_written_between_calls_of_other_input_sizes(layer_name):
    # Each input size has its own cached geometry; none of it may hold values.
    make, x_shape = LAYERS[layer_name]
    layer = make(weight_init="ones", bias_init="zeros")
    small = ms.Tensor(np.ones(x_shape, np.float32))
    large = ms.Tensor(np.ones(x_shape[:2] + (x_shape[2] + 3, x_shape[3] + 5), np.float32))
    layer(small), layer(large)
    layer.weight.asnumpy()[...] = 2
    expected = make(weight_init=ms.Tensor(np.full(layer.weight.shape, 2, np.float32)), bias_init="zeros")
    for x in (small, large):
        assert np.array_equal(layer(x).asnumpy(), expected(x).asnumpy())


def test_issue_example():
    conv = nn.Conv2d(2, 2, 1, weight_init="ones")
    x = ms.Tensor(np.ones((1, 2, 1, 1), np.float32))
    assert conv(x).asnumpy().ravel().tolist() == [2, 2]
    conv.weight.asnumpy()[...] = 5
    assert conv(x).asnumpy().ravel().tolist() == [10, 10]
