"""Dense, Conv2d and ParameterUpdate with MindSpore r1.9's arguments and defaults."""
import math

from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from msparam._core._linear import dense_forward
from msparam._core.conv_plan import Conv2dPlan, output_length
from msparam._threads import get_num_threads
from msparam.common import dtype as mstype
from msparam.common.initializer import InitLike
from msparam.common.parameter import Parameter
from msparam.common.tensor import Tensor, wrap_array
from msparam._validation import check_bool
from msparam.nn._checks import check_int_pair, check_non_negative_int, check_positive_int, float_input
from msparam.nn._parameters import layer_parameter
from msparam.nn.activation import get_activation
from msparam.nn.cell import Cell

__all__ = ["Dense", "Conv2d", "ParameterUpdate"]


def _default_init(init: "InitLike | None", default: str) -> InitLike:
    """None stands for the layer's default initializer, as in MindSpore 2.x (msparam keeps r1.9's defaults)."""
    return default if init is None else init


def _check_init_shape(init: InitLike, shape: tuple[int, ...], arg_name: str, cls_name: str) -> None:
    """A Tensor ``init`` must have the parameter's shape (MindSpore checks it before initializer())."""
    if isinstance(init, Tensor) and tuple(init.shape) != tuple(shape):
        raise ValueError(f"For '{cls_name}', the shape of '{arg_name}' must be {tuple(shape)}, "
                         f"but got {tuple(init.shape)}.")


def _check_parameter_shapes(layer: "Dense | Conv2d", weight: Parameter, bias: "Parameter | None",
                            weight_shape: tuple[int, ...]) -> None:
    """The layer's Parameters still have the shapes it was built with (set_data can change them)."""
    for arg_name, param, shape in (("weight", weight, weight_shape), ("bias", bias, (layer.out_channels,))):
        if param is not None and param.shape != shape:
            raise ValueError(f"For '{layer.cls_name}', the '{arg_name}' Parameter must have shape {shape}, "
                             f"but got {param.shape}.")


_FLOAT32 = np.dtype(np.float32)


def _instance_attribute(cell: Cell, name: str) -> Any:
    """``getattr(cell, name)`` for a name its class does not define: from the instance dict, else
    the Parameter table, as Cell.__getattr__ reads it, without the failed lookup (and the
    AttributeError it builds) that precedes Cell.__getattr__: most of a small forward's overhead."""
    state = cell.__dict__
    if name in state:
        return state[name]
    params = state["_params"]
    return params[name] if name in params else getattr(cell, name)


def _fixed_setting(layer: Cell, name: str, fixed: frozenset[str]) -> None:
    """Refuse a new value for a setting the layer was made with. MindSpore 2.10 builds the layer's
    operator from these at construction and silently ignores a new value (a changed ``stride``
    gives the old output); msparam, whose plan is cached, would honour it only until the first call."""
    if name in fixed:
        hint = " (to drop the bias, set 'bias' to None)" if name == "has_bias" else ""
        raise AttributeError(f"For '{layer.cls_name}', '{name}' is fixed when the layer is made: MindSpore keeps "
                             f"the value the layer was made with and ignores a new one; make a new "
                             f"{layer.cls_name} instead{hint}.")


def _float32_values(layer: "Dense", weight: Parameter, bias: "Parameter | None"
                    ) -> "tuple[npt.NDArray[Any], npt.NDArray[Any] | None] | None":
    """``(weight values, bias values or None)`` when both hold float32 values of the layer's
    shapes, else None: a float32 forward with them needs no conversion and no further check."""
    weights = weight.asnumpy()
    if weights.dtype is not _FLOAT32 or weights.shape != (layer.out_channels, layer.in_channels):
        return None
    if bias is None:
        return weights, None
    biases = bias.asnumpy()
    if biases.dtype is not _FLOAT32 or biases.shape != (layer.out_channels,):
        return None
    return weights, biases


def _values_in(param: Parameter, dtype: "np.dtype[Any]") -> npt.NDArray[Any]:
    """A Parameter's current values in ``dtype`` (a view when it already has it).

    Layers read them on every call and keep nothing derived from them: writes through any alias
    of the Parameter's array (``asnumpy()``, ``np.asarray``, the buffer protocol, DLPack) leave
    no trace a cache could check cheaply.
    """
    values = param.asnumpy()
    return values if values.dtype == dtype else values.astype(dtype)


def _as_compute(param: Parameter, dtype: "np.dtype[Any]", compute: npt.DTypeLike) -> npt.NDArray[Any]:
    """A Parameter's values in the input's ``dtype``, then in the ``compute`` dtype (no copy when equal)."""
    values = _values_in(param, dtype)
    return values if dtype == compute else values.astype(compute)


class Dense(Cell):
    r"""Fully connected layer :math:`\text{activation}(x W^T + b)`.

    Parameters
    ----------
    in_channels, out_channels : int
        Input and output features; ``weight`` has shape (out_channels, in_channels).
    weight_init, bias_init : Tensor, str, Initializer, number or None, default 'normal', 'zeros'
        As :func:`msparam.common.initializer.initializer` takes them; None means the default
        (r1.9's defaults: Normal with sigma 0.01 and zeros; MindSpore 2.x defaults differ).
    has_bias : bool, default True
    activation : str or Cell, optional
        A name from :func:`msparam.nn.get_activation` (``'relu'``, ``'gelu'``, ...) or a Cell.

    Notes
    -----
    Inputs have rank >= 1 (a 1-D input is one sample); leading dimensions are flattened and restored. float16, float32 and
    float64 inputs give outputs of their own dtype; the Parameters are used in the input's dtype
    (float16 arithmetic runs in float32, rounded once). Every call reads the Parameters' current
    values. Products run on msparam's own kernels, each output summed in a fixed order (results
    do not depend on the thread count): from 2 rows on, the weights are packed per call into
    panels that every row sweeps (on the thread team from 2**19 multiply-adds); a single row
    takes dot-product blocks on one thread, or NumPy's BLAS where a block of weight rows would
    not stay in L1 (``msparam._core._linear.dense_forward`` decides by shape alone). ``in_channels``,
    ``out_channels`` and ``has_bias`` are fixed once the layer is made (assigning one is an
    AttributeError; set ``bias`` to None to drop the bias).

    Examples
    --------
    >>> net = Dense(3, 4, activation='relu')
    >>> net(Tensor(np.ones((2, 5, 3), np.float32))).shape
    (2, 5, 4)
    """

    in_channels: int
    out_channels: int
    has_bias: bool
    activation: "Cell | None"
    activation_flag: bool
    weight: Parameter
    bias: "Parameter | None"

    def __init__(self, in_channels: int, out_channels: int, weight_init: "InitLike | None" = "normal",
                 bias_init: "InitLike | None" = "zeros", has_bias: bool = True,
                 activation: "str | Cell | None" = None) -> None:
        super().__init__()
        weight_init, bias_init = _default_init(weight_init, "normal"), _default_init(bias_init, "zeros")
        in_channels = check_positive_int(in_channels, "in_channels", "Dense")
        out_channels = check_positive_int(out_channels, "out_channels", "Dense")
        check_bool(has_bias, "has_bias", "Dense")
        if activation is not None and not isinstance(activation, (str, Cell)):
            raise TypeError(f"For 'Dense', the 'activation' must be str or Cell, "
                            f"but got {type(activation).__name__}.")
        _check_init_shape(weight_init, (out_channels, in_channels), "weight_init", "Dense")
        if has_bias:
            _check_init_shape(bias_init, (out_channels,), "bias_init", "Dense")
        # Plain settings skip Cell.__setattr__'s registration checks: construction is a hot path.
        self.__dict__.update(in_channels=in_channels, out_channels=out_channels, has_bias=has_bias,
                             activation=None, activation_flag=activation is not None)
        self._register_layer_parameters(
            weight=layer_parameter(weight_init, (out_channels, in_channels), "weight"),
            bias=layer_parameter(bias_init, (out_channels,), "bias") if has_bias else None)
        if activation is not None:
            self.activation = get_activation(activation, "Dense") if isinstance(activation, str) else activation

    _FIXED = frozenset({"in_channels", "out_channels", "has_bias"})

    def __setattr__(self, name: str, value: Any) -> None:
        _fixed_setting(self, name, Dense._FIXED)
        super().__setattr__(name, value)

    if TYPE_CHECKING:  # a call runs construct
        def __call__(self, x: Tensor) -> Tensor: ...

    def construct(self, x: Tensor) -> Tensor:
        values = float_input(x, "Dense")
        if values.ndim < 1:  # a 1-D input is one sample, as in MindSpore 2.10
            raise ValueError(f"For 'Dense', the dimension of the input 'x' must be at least 1, "
                             f"but got {values.ndim}.")
        if values.shape[-1] != self.in_channels:
            raise ValueError(f"For 'Dense', the last dimension of the input 'x' must equal 'in_channels' "
                             f"({self.in_channels}), but got shape {values.shape}.")
        if type(self) is Dense:  # no subclass attribute can stand in the way of the direct reads
            weight, bias = _instance_attribute(self, "weight"), _instance_attribute(self, "bias")
        else:
            weight, bias = self.weight, self.bias
        dtype = values.dtype
        found = _float32_values(self, weight, bias) if dtype is _FLOAT32 else None
        if found is not None:
            out = dense_forward(values, found[0], found[1], get_num_threads())
        else:
            _check_parameter_shapes(self, weight, bias, (self.out_channels, self.in_channels))
            # As Conv2d: the Parameters in the input's dtype, float16 arithmetic in float32.
            compute = np.float32 if dtype == np.float16 else dtype
            out = dense_forward(values.astype(compute, copy=False), _as_compute(weight, dtype, compute),
                                None if bias is None else _as_compute(bias, dtype, compute), get_num_threads())
            out = out.astype(dtype, copy=False)
        result = wrap_array(out)
        return cast(Cell, self.activation)(result) if self.activation_flag else result

    def extend_repr(self) -> str:
        text = f"input_channels={self.in_channels}, output_channels={self.out_channels}"
        if self.has_bias:
            text += f", has_bias={self.has_bias}"
        if self.activation_flag:
            text += f", activation={self.activation}"
        return text


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """(before, after) padding of pad_mode 'same' along one axis: output ceil(size / stride), odd pixel after."""
    total = max((math.ceil(size / stride) - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


class Conv2d(Cell):
    r"""2-D convolution (cross-correlation) over NCHW input, as MindSpore's ``nn.Conv2d``.

    Parameters
    ----------
    in_channels, out_channels : int
        Both divisible by ``group``.
    kernel_size, stride, dilation : int or tuple of two ints
        (height, width); an int applies to both. ``stride`` and ``dilation`` default to 1.
    pad_mode : {'same', 'valid', 'pad'}, default 'same'
        'same': output size ``ceil(input / stride)``, the padding split evenly with the odd
        pixel at the bottom/right; 'valid': no padding; 'pad': the explicit ``padding``.
    padding : int or tuple of four ints, default 0
        (top, bottom, left, right); must be 0 unless ``pad_mode='pad'``.
    group : int, default 1
        Grouped convolution; ``group == in_channels == out_channels`` is depthwise.
    has_bias : bool, default False
    weight_init, bias_init : Tensor, str, Initializer, number or None, default 'normal', 'zeros'
        ``weight`` has shape (out_channels, in_channels / group, kh, kw); None means the default
        (r1.9's, as in Dense).
    data_format : str, default 'NCHW'
        Only 'NCHW' (MindSpore runs 'NHWC' on GPU only).

    Notes
    -----
    Inputs are float16, float32 or float64 Tensors of shape (N, in_channels, H, W); the output
    has the input's dtype, the Parameters are used in the input's dtype (float16 accumulates in
    float32, rounded once). Every call reads the Parameters' current values, so a write through
    any alias of their arrays takes effect at the next call. An empty batch gives an empty output
    of the right shape. The forward pass is the ``msparam._core.conv_plan.Conv2dPlan``;
    every shape is checked here first. The settings above are fixed once the layer is made
    (assigning one is an AttributeError; MindSpore silently ignores a new value).
    """

    in_channels: int
    out_channels: int
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    group: int
    pad_mode: str
    padding: "int | tuple[int, int, int, int]"
    _pads: tuple[int, int, int, int]
    data_format: str
    has_bias: bool
    weight_init: InitLike
    bias_init: InitLike
    weight: Parameter
    bias: "Parameter | None"
    _planned: "tuple[Conv2dPlan, int, int] | None"
    _plan_key: "tuple[Any, ...] | None"
    _input_key: "tuple[Any, ...] | None"

    def __init__(self, in_channels: int, out_channels: int, kernel_size: "int | tuple[int, int]",
                 stride: "int | tuple[int, int]" = 1, pad_mode: str = "same",
                 padding: "int | tuple[int, int, int, int]" = 0, dilation: "int | tuple[int, int]" = 1,
                 group: int = 1, has_bias: bool = False, weight_init: "InitLike | None" = "normal",
                 bias_init: "InitLike | None" = "zeros", data_format: str = "NCHW") -> None:
        super().__init__()
        weight_init, bias_init = _default_init(weight_init, "normal"), _default_init(bias_init, "zeros")
        in_channels = check_positive_int(in_channels, "in_channels", "Conv2d")
        out_channels = check_positive_int(out_channels, "out_channels", "Conv2d")
        kernel_size = check_int_pair(kernel_size, "kernel_size", "Conv2d")
        group = check_positive_int(group, "group", "Conv2d")
        pad_mode = _check_pad_mode(pad_mode)
        for arg_name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % group:
                raise ValueError(f"For 'Conv2d', the '{arg_name}' must be divisible by 'group', "
                                 f"but got '{arg_name}': {channels} and 'group': {group}.")
        shape = (out_channels, in_channels // group, *kernel_size)
        _check_init_shape(weight_init, shape, "weight_init", "Conv2d")
        if has_bias:
            _check_init_shape(bias_init, (out_channels,), "bias_init", "Conv2d")
        # Plain settings skip Cell.__setattr__'s registration checks: construction is a hot path.
        self.__dict__.update(
            in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size,
            stride=check_int_pair(stride, "stride", "Conv2d"), dilation=check_int_pair(dilation, "dilation", "Conv2d"),
            group=group, pad_mode=pad_mode, padding=padding, _pads=_check_padding(padding, pad_mode),
            data_format=_check_data_format(data_format), has_bias=check_bool(has_bias, "has_bias", "Conv2d"),
            weight_init=weight_init, bias_init=bias_init, _plan_key=None, _input_key=None,
            _planned=None)
        self._register_layer_parameters(
            weight=layer_parameter(weight_init, shape, "weight"),
            bias=layer_parameter(bias_init, (out_channels,), "bias") if has_bias else None)

    def _padding_for(self, height: int, width: int) -> tuple[int, int, int, int]:
        if self.pad_mode == "pad":
            return self._pads
        if self.pad_mode == "valid":
            return (0, 0, 0, 0)
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        return _same_padding(height, kh, sh, dh) + _same_padding(width, kw, sw, dw)

    def _check_input(self, values: npt.NDArray[Any]) -> tuple[tuple[int, int, int, int], int, int]:
        """(padding, output height, output width) for 4-D ``values``, or a ValueError."""
        if values.shape[1] != self.in_channels:
            raise ValueError(f"For 'Conv2d', the input 'x' must have 'in_channels' ({self.in_channels}) channels "
                             f"in dimension 1, but got shape {values.shape}.")
        padding = self._padding_for(*values.shape[2:])
        (sh, sw) = self.stride
        if self.pad_mode == "same":
            return padding, -(-values.shape[2] // sh), -(-values.shape[3] // sw)
        out_h, out_w = (output_length(size, k, s, d, before, after) for size, k, s, d, before, after in zip(
            values.shape[2:], self.kernel_size, self.stride, self.dilation, padding[::2], padding[1::2]))
        # As MindSpore 2.10: a padded input that holds the kernel but falls exactly one stride short
        # of the dilated kernel gives 0 pixels, an empty output; any other shortfall is an error.
        if any(size + before + after < k or out < 0
               or (out == 0 and size + before + after + s != d * (k - 1) + 1)
               for out, size, k, s, d, before, after in zip(
                   (out_h, out_w), values.shape[2:], self.kernel_size, self.stride, self.dilation,
                   padding[::2], padding[1::2])):
            raise ValueError(f"For 'Conv2d', the padded input must hold the dilated kernel, but got an input of "
                             f"{values.shape[2]}x{values.shape[3]} with kernel_size {self.kernel_size}, dilation "
                             f"{self.dilation}, stride {self.stride} and padding {padding}.")
        return padding, out_h, out_w

    def _plan_for(self, values: npt.NDArray[Any]) -> tuple[Conv2dPlan, int, int]:
        """(plan, output height, output width) for ``values``: checked and planned once per input
        dtype and (C, H, W), the last of which the layer keeps."""
        key = (values.dtype, values.shape[1:])
        if key == self._input_key:
            return cast("tuple[Conv2dPlan, int, int]", self._planned)
        padding, out_h, out_w = self._check_input(values)
        # Along an axis with one output pixel any stride past the dilated kernel's last start
        # gives the same pixel, and a one-tap kernel's dilation changes nothing: the smallest
        # such values keep legal but huge ones (2**62) out of the kernels' size arithmetic.
        stride = cast("tuple[int, int]", tuple(s if out > 1 else max(1, min(s, size + before + after - d * (k - 1)))
                       for out, s, size, before, after, d, k in zip(
                           (out_h, out_w), self.stride, values.shape[2:],
                           padding[::2], padding[1::2], self.dilation, self.kernel_size)))
        dilation = cast("tuple[int, int]", tuple(1 if k == 1 else d for k, d in zip(self.kernel_size, self.dilation)))
        # The plan holds geometry only (the weights are read on every call): a new input size
        # keeps it unless the dtype, the padding or the reduced stride and dilation change.
        plan_key = (values.dtype, padding, stride, dilation)
        plan = self._planned[0] if self._planned is not None else None
        if plan is None or plan_key != self._plan_key:
            weight_shape = (self.out_channels, self.in_channels // self.group, *self.kernel_size)
            plan = Conv2dPlan(weight_shape, values.dtype, stride, dilation, padding, self.group)
        self.__dict__.update(_planned=(plan, out_h, out_w), _plan_key=plan_key, _input_key=key)
        return cast("tuple[Conv2dPlan, int, int]", self._planned)

    _FIXED = frozenset({"in_channels", "out_channels", "kernel_size", "stride", "pad_mode", "padding", "dilation",
                        "group", "has_bias", "data_format"})

    def __setattr__(self, name: str, value: Any) -> None:
        _fixed_setting(self, name, Conv2d._FIXED)
        super().__setattr__(name, value)

    if TYPE_CHECKING:  # a call runs construct
        def __call__(self, x: Tensor) -> Tensor: ...

    def construct(self, x: Tensor) -> Tensor:
        values = float_input(x, "Conv2d")
        if values.ndim != 4:
            raise ValueError(f"For 'Conv2d', the input 'x' must be 4-D (N, C, H, W), but got shape {values.shape}.")
        plan, out_h, out_w = self._plan_for(values)
        if out_h == 0 or out_w == 0:
            return wrap_array(np.empty((values.shape[0], self.out_channels, out_h, out_w), values.dtype))
        if type(self) is Conv2d:  # as Dense: no subclass attribute can stand in the way
            weight, bias = _instance_attribute(self, "weight"), _instance_attribute(self, "bias")
        else:
            weight, bias = self.weight, self.bias
        _check_parameter_shapes(self, weight, bias, plan.weight_shape)
        return wrap_array(plan(values, _values_in(weight, values.dtype),
                               None if bias is None else _values_in(bias, values.dtype), get_num_threads()))

    def __getstate__(self) -> dict[str, Any]:
        # The compiled plan cannot be pickled or copied; it is rebuilt on the next call.
        state = self.__dict__.copy()
        state.update(_plan_key=None, _input_key=None, _planned=None)
        return state

    def extend_repr(self) -> str:
        return (f"input_channels={self.in_channels}, output_channels={self.out_channels}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, pad_mode={self.pad_mode}, "
                f"padding={self.padding}, dilation={self.dilation}, group={self.group}, has_bias={self.has_bias}, "
                f"weight_init={self.weight_init}, bias_init={self.bias_init}, format={self.data_format}")


def _check_pad_mode(pad_mode: object) -> str:
    """'same', 'valid' or 'pad', case-sensitive as in MindSpore 2.10 ('Valid' is a ValueError)."""
    if not isinstance(pad_mode, str):
        raise TypeError(f"For 'Conv2d', the 'pad_mode' must be str, but got '{type(pad_mode).__name__}'.")
    if pad_mode not in ("same", "valid", "pad"):
        raise ValueError(f"For 'Conv2d', the 'pad_mode' must be one of 'same', 'valid' or 'pad', "
                         f"but got {pad_mode!r}.")
    return pad_mode


def _check_padding(padding: object, pad_mode: str) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from an int or a tuple of four; nonzero only with pad_mode 'pad'."""
    if isinstance(padding, tuple):
        if len(padding) != 4:
            raise ValueError(f"For 'Conv2d', the 'padding' must be an int or a tuple of four ints, "
                             f"but got {padding!r}.")
        pads: tuple[int, int, int, int] = cast("tuple[int, int, int, int]", tuple(
            check_non_negative_int(p, "padding item", "Conv2d") for p in padding))
    elif isinstance(padding, bool) or not isinstance(padding, int):
        raise TypeError(f"For 'Conv2d', the type of 'padding' must be int or tuple(int), "
                        f"but got {type(padding).__name__}.")
    else:
        side = check_non_negative_int(padding, "padding", "Conv2d")
        pads = (side, side, side, side)
    if pad_mode != "pad" and any(pads):
        raise ValueError(f"For 'Conv2d', the 'padding' must be 0 or (0, 0, 0, 0) when 'pad_mode' is not 'pad', "
                         f"but got 'padding': {padding} and 'pad_mode': {pad_mode!r}.")
    return pads


def _check_data_format(data_format: object) -> str:
    if data_format == "NCHW":
        return "NCHW"
    if data_format == "NHWC":
        raise ValueError("For 'Conv2d', the 'data_format' 'NHWC' is only supported on GPU by MindSpore; msparam "
                         "runs on the CPU and takes 'NCHW' (transpose the input to (N, C, H, W)).")
    raise ValueError(f"For 'Conv2d', the 'data_format' must be 'NCHW', but got {data_format!r}.")


# MindSpore 2.10's type promotion among the types it promotes (an unlisted pair does not promote):
# bool < ints < floats < complex, int8 + uint8 -> int16, complex64 + float64 -> complex128.
# uint16/32/64 promote only with bool and themselves.
_PROMOTION_RANK = {"Bool": 0, "Int8": 1, "UInt8": 1, "Int16": 2, "Int32": 3, "Int64": 4, "Float16": 5,
                   "Float32": 6, "Float64": 7, "Complex64": 8, "Complex128": 9}


def _promotes_to(target: mstype.Type, incoming: mstype.Type) -> bool:
    """True if MindSpore's type promotion of (target, incoming) gives ``target``."""
    if target is incoming or incoming is mstype.bool_:
        return True
    target_rank, incoming_rank = _PROMOTION_RANK.get(str(target)), _PROMOTION_RANK.get(str(incoming))
    if target_rank is None or incoming_rank is None:
        return False
    if target is mstype.complex64 and incoming is mstype.float64:
        return False  # complex64 + float64 -> complex128
    if target_rank == incoming_rank:
        return False  # int8 + uint8 -> int16
    return target_rank > incoming_rank


class ParameterUpdate(Cell):
    """Calling it with a Tensor of the Parameter's shape assigns the values and returns them.

    Parameters
    ----------
    param : Parameter
        Registered as this cell's Parameter ``_param`` (its name is kept).

    Notes
    -----
    As in MindSpore 2.10, the input is accepted when type promotion of (Parameter dtype, input
    dtype) gives the Parameter's dtype (float16 into float32, int64 into float16, bool into any)
    and cast to it; the call returns the input, in its own dtype. Any other dtype raises
    TypeError and any other shape ValueError, both leaving the Parameter unchanged.
    """

    _param: Parameter

    def __init__(self, param: Parameter) -> None:
        super().__init__(auto_prefix=False)
        if not isinstance(param, Parameter):
            raise TypeError(f"For 'ParameterUpdate', the 'param' must be a Parameter, "
                            f"but got {type(param).__name__}.")
        self._param = param

    if TYPE_CHECKING:  # a call runs construct
        def __call__(self, x: Tensor) -> Tensor: ...

    def construct(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"For 'ParameterUpdate', the input 'x' must be a Tensor, but got {type(x).__name__}.")
        param = self._param
        if not _promotes_to(param.dtype, x.dtype):  # checked before the shape, as MindSpore does
            raise TypeError(f"For 'ParameterUpdate', the input 'x' of {x.dtype} cannot update the Parameter "
                            f"'{param.name}' of {param.dtype}: type promotion of the two gives another type.")
        if tuple(x.shape) != tuple(param.shape):
            raise ValueError(f"For 'ParameterUpdate', the shape of the input 'x' must equal the parameter's "
                             f"shape {param.shape}, but got {x.shape}.")
        values = x.asnumpy()
        param.set_data(Tensor(values.astype(param.asnumpy().dtype)))
        return Tensor(values)
