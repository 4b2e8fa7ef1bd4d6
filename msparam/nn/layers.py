"""Dense, Conv2d and ParameterUpdate with MindSpore r1.9's arguments and defaults."""
import math
import numbers

import numpy as np

from msparam._core._conv import Conv2dPlan
from msparam._threads import get_num_threads
from msparam.common import dtype as mstype
from msparam.common.initializer import initializer
from msparam.common.parameter import Parameter
from msparam.common.tensor import Tensor
from msparam.nn.cell import Cell

__all__ = ["Dense", "Conv2d", "ParameterUpdate", "ACTIVATIONS"]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "softmax": _softmax,
    "gelu": lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))),
}


def _positive_int(value, arg_name, cls_name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"For '{cls_name}', '{arg_name}' must be a positive int, but got {value!r}.")
    return int(value)


def _pair(value, arg_name, cls_name):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, tuple) or len(value) != 2:
        raise ValueError(f"For '{cls_name}', '{arg_name}' must be a positive int or a tuple of two, but got {value!r}.")
    return tuple(_positive_int(v, arg_name, cls_name) for v in value)


def _values(x, cls_name):
    if not isinstance(x, Tensor):
        raise TypeError(f"For '{cls_name}', the input must be a Tensor, but got {type(x).__name__}.")
    return x.asnumpy()


class Dense(Cell):
    """Fully connected layer: ``activation(x @ weight.T + bias)``; weight (out_channels, in_channels)."""

    def __init__(self, in_channels, out_channels, weight_init="normal", bias_init="zeros", has_bias=True,
                 activation=None):
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels", "Dense")
        self.out_channels = _positive_int(out_channels, "out_channels", "Dense")
        if not isinstance(has_bias, bool):
            raise TypeError(f"For 'Dense', 'has_bias' must be bool, but got {type(has_bias).__name__}.")
        if isinstance(activation, str):
            if activation.lower() not in ACTIVATIONS:
                raise ValueError(f"For 'Dense', 'activation' {activation!r} is not one of {sorted(ACTIVATIONS)}.")
            activation = ACTIVATIONS[activation.lower()]
        elif activation is not None and not callable(activation):
            raise TypeError(f"For 'Dense', 'activation' must be a str or a Cell, but got {type(activation).__name__}.")
        self.activation = activation
        self.has_bias = has_bias
        self.weight = Parameter(initializer(weight_init, [self.out_channels, self.in_channels]), name="weight")
        self.bias = Parameter(initializer(bias_init, [self.out_channels]), name="bias") if has_bias else None

    def construct(self, x):
        values = _values(x, "Dense")
        if values.ndim < 2 or values.shape[-1] != self.in_channels:
            raise ValueError(f"For 'Dense', the input must have rank >= 2 and last dimension {self.in_channels}, "
                             f"but got shape {values.shape}.")
        compute = values.astype(np.float32) if values.dtype == np.float16 else values
        out = compute @ self.weight.asnumpy().astype(compute.dtype).T
        if self.bias is not None:
            out = out + self.bias.asnumpy().astype(compute.dtype)
        if isinstance(self.activation, Cell):
            out = self.activation(Tensor._wrap(out)).asnumpy()
        elif self.activation is not None:
            out = self.activation(out)
        return Tensor._wrap(np.asarray(out, dtype=values.dtype))

    def extend_repr(self):
        return f"input_channels={self.in_channels}, output_channels={self.out_channels}, has_bias={self.has_bias}"


def _same_padding(size, kernel, stride, dilation):
    total = max((math.ceil(size / stride) - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


class Conv2d(Cell):
    """2-D convolution over NCHW input; weight (out_channels, in_channels / group, kh, kw)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, pad_mode="same", padding=0, dilation=1,
                 group=1, has_bias=False, weight_init="normal", bias_init="zeros", data_format="NCHW"):
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels", "Conv2d")
        self.out_channels = _positive_int(out_channels, "out_channels", "Conv2d")
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = _pair(stride, "stride", "Conv2d")
        self.dilation = _pair(dilation, "dilation", "Conv2d")
        self.group = _positive_int(group, "group", "Conv2d")
        if pad_mode not in ("same", "valid", "pad"):
            raise ValueError(f"For 'Conv2d', 'pad_mode' must be 'same', 'valid' or 'pad', but got {pad_mode!r}.")
        if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
            padding = (padding,) * 4
        if not (isinstance(padding, tuple) and len(padding) == 4 and all(
                isinstance(p, numbers.Integral) and not isinstance(p, bool) and p >= 0 for p in padding)):
            raise ValueError(f"For 'Conv2d', 'padding' must be a non-negative int or a tuple of four, "
                             f"but got {padding!r}.")
        if pad_mode != "pad" and any(padding):
            raise ValueError(f"For 'Conv2d', 'padding' must be 0 when 'pad_mode' is {pad_mode!r}, but got {padding}.")
        if self.in_channels % self.group or self.out_channels % self.group:
            raise ValueError(f"For 'Conv2d', 'in_channels' {in_channels} and 'out_channels' {out_channels} must be "
                             f"divisible by 'group' {group}.")
        if data_format != "NCHW":
            raise ValueError(f"For 'Conv2d', 'data_format' must be 'NCHW' on CPU, but got {data_format!r}.")
        if not isinstance(has_bias, bool):
            raise TypeError(f"For 'Conv2d', 'has_bias' must be bool, but got {type(has_bias).__name__}.")
        self.pad_mode, self.padding, self.has_bias = pad_mode, tuple(int(p) for p in padding), has_bias
        shape = [self.out_channels, self.in_channels // self.group, *self.kernel_size]
        self.weight = Parameter(initializer(weight_init, shape), name="weight")
        self.bias = Parameter(initializer(bias_init, [self.out_channels]), name="bias") if has_bias else None
        self._plan_key = None

    def _padding_for(self, height, width):
        if self.pad_mode == "pad":
            return self.padding
        if self.pad_mode == "valid":
            return (0, 0, 0, 0)
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        return _same_padding(height, kh, sh, dh) + _same_padding(width, kw, sw, dw)

    def construct(self, x):
        values = _values(x, "Conv2d")
        if values.ndim != 4 or values.shape[1] != self.in_channels:
            raise ValueError(f"For 'Conv2d', the input must be 4-D NCHW with {self.in_channels} channels, "
                             f"but got shape {values.shape}.")
        if values.dtype not in (np.float16, np.float32, np.float64):
            raise TypeError(f"For 'Conv2d', the input dtype must be float16, float32 or float64, "
                            f"but got {mstype.dtype_from_numpy(values.dtype)}.")
        padding = self._padding_for(*values.shape[2:])
        bias = self.bias
        key = (values.dtype, padding, self.weight._version, id(self.weight._array),
               None if bias is None else (bias._version, id(bias._array)))
        if key != self._plan_key:
            weight = np.ascontiguousarray(self.weight.asnumpy(), dtype=values.dtype)
            bias_values = None if bias is None else np.ascontiguousarray(bias.asnumpy(), dtype=values.dtype)
            object.__setattr__(self, "_plan", Conv2dPlan(weight, bias_values, self.stride, self.dilation, padding,
                                                         self.group))
            object.__setattr__(self, "_plan_key", key)
        return Tensor._wrap(self._plan(values, get_num_threads()))

    def extend_repr(self):
        return (f"input_channels={self.in_channels}, output_channels={self.out_channels}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, pad_mode={self.pad_mode}, "
                f"padding={self.padding}, dilation={self.dilation}, group={self.group}, has_bias={self.has_bias}")


class ParameterUpdate(Cell):
    """Calling it with a Tensor of the Parameter's shape assigns the values and returns them."""

    def __init__(self, param):
        super().__init__(auto_prefix=False)
        if not isinstance(param, Parameter):
            raise TypeError(f"For 'ParameterUpdate', 'param' must be a Parameter, but got {type(param).__name__}.")
        object.__setattr__(self, "_param", param)

    def construct(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"For 'ParameterUpdate', the input must be a Tensor, but got {type(x).__name__}.")
        if tuple(x.shape) != tuple(self._param.shape):
            raise ValueError(f"For 'ParameterUpdate', the input shape {x.shape} must equal the parameter's shape "
                             f"{self._param.shape}.")
        values = x.asnumpy().astype(self._param.asnumpy().dtype)
        self._param.set_data(Tensor._wrap(values))
        return Tensor._wrap(self._param.asnumpy().copy())
