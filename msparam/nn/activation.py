"""Activation cells computed with NumPy, and ``get_activation`` (MindSpore's names for Dense).

Each cell maps a float Tensor to a Tensor of the same shape and dtype; float16 is computed in
float32 and rounded once.
"""
import math
import numbers
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import numpy.typing as npt

from msparam.common import dtype as mstype
from msparam.common.parameter import Parameter
from msparam.common.tensor import Tensor, wrap_array
from msparam._validation import check_bool
from msparam.nn._checks import check_number, check_positive_int, float_input
from msparam.nn.cell import Cell

__all__ = ["Softmin", "Softmax", "Softmax2d", "LogSoftmax", "LogSoftmaxExt", "ReLU", "ReLU6", "RReLU", "SiLU",
           "Tanh", "Tanhshrink", "Hardtanh", "GELU", "FastGelu", "ELU", "Sigmoid", "Softsign", "PReLU", "PReLUExt",
           "LeakyReLU", "HSwish", "HSigmoid", "LogSigmoid", "SoftShrink", "HShrink", "Threshold", "Mish",
           "get_activation"]


# The NumPy values an activation computes on (float32 or float64; float16 is computed in float32).
_Floats = npt.NDArray[Any]
# The scalars PReLU's ``w`` may be, as MindSpore checks them. The class through its dtype: to type
# checkers ``np.float32`` is an alias of a parametrized generic, which ``isinstance`` cannot take.
_PRELU_SCALARS = (float, np.dtype(np.float32).type)


def _check_axis(axis: object, cls_name: str) -> "int | tuple[int, ...]":
    if isinstance(axis, bool) or not isinstance(axis, (numbers.Integral, tuple)):
        raise TypeError(f"For '{cls_name}', the 'axis' must be int or tuple of int, but got '{type(axis).__name__}'.")
    return axis  # type: ignore[return-value]  # an Integral or a tuple, as NumPy's axis takes


def _sigmoid(x: _Floats) -> _Floats:
    # exp(-log(1 + exp(-x))): no overflow warning for large |x|.
    return np.exp(-np.logaddexp(0.0, -x))


def _relu6(x: _Floats) -> _Floats:
    return np.clip(x, 0.0, 6.0)


class _Elementwise(Cell):
    """An activation ``y = f(x)`` computed in NumPy."""

    def _apply(self, x: _Floats) -> _Floats:
        raise NotImplementedError

    if TYPE_CHECKING:  # a call runs construct
        def __call__(self, x: Tensor) -> Tensor: ...

    def construct(self, x: Tensor) -> Tensor:
        values = float_input(x, self.cls_name)
        compute = values.astype(np.float32) if values.dtype == np.float16 else values
        with np.errstate(over="ignore", under="ignore"):
            out = self._apply(compute)
        return wrap_array(np.asarray(out, dtype=values.dtype))


class ReLU(_Elementwise):
    r""":math:`\max(0, x)`."""

    def _apply(self, x: _Floats) -> _Floats:
        return np.maximum(x, 0)


class ReLU6(_Elementwise):
    r""":math:`\min(\max(0, x), 6)`."""

    def _apply(self, x: _Floats) -> _Floats:
        return _relu6(x)


class LeakyReLU(_Elementwise):
    r""":math:`x` for :math:`x \ge 0`, else :math:`\alpha x`.

    Parameters
    ----------
    alpha : float, default 0.2
    """

    alpha: float

    def __init__(self, alpha: float = 0.2) -> None:
        super().__init__()
        self.alpha = check_number(alpha, "alpha", "LeakyReLU")

    def _apply(self, x: _Floats) -> _Floats:
        return np.where(x >= 0, x, self.alpha * x)


class ELU(_Elementwise):
    r""":math:`x` for :math:`x > 0`, else :math:`\alpha (e^x - 1)`.

    Parameters
    ----------
    alpha : float, default 1.0
    """

    alpha: float

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = check_number(alpha, "alpha", "ELU")

    def _apply(self, x: _Floats) -> _Floats:
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))


class Sigmoid(_Elementwise):
    r""":math:`1 / (1 + e^{-x})`."""

    def _apply(self, x: _Floats) -> _Floats:
        return _sigmoid(x)


class LogSigmoid(_Elementwise):
    r""":math:`\log(1 / (1 + e^{-x}))`."""

    def _apply(self, x: _Floats) -> _Floats:
        return -np.logaddexp(0.0, -x)


class SiLU(_Elementwise):
    r""":math:`x \cdot \mathrm{sigmoid}(x)`."""

    def _apply(self, x: _Floats) -> _Floats:
        return x * _sigmoid(x)


class Tanh(_Elementwise):
    r""":math:`\tanh(x)`."""

    def _apply(self, x: _Floats) -> _Floats:
        return np.tanh(x)


class Tanhshrink(_Elementwise):
    r""":math:`x - \tanh(x)`."""

    def _apply(self, x: _Floats) -> _Floats:
        return x - np.tanh(x)


class Softsign(_Elementwise):
    r""":math:`x / (1 + |x|)`."""

    def _apply(self, x: _Floats) -> _Floats:
        return x / (1 + np.abs(x))


class Hardtanh(_Elementwise):
    r"""``x`` clipped to ``[min_val, max_val]``.

    Parameters
    ----------
    min_val, max_val : float, default -1.0, 1.0
    """

    min_val: float
    max_val: float

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__()
        self.min_val = check_number(min_val, "min_val", "Hardtanh")
        self.max_val = check_number(max_val, "max_val", "Hardtanh")
        if self.min_val > self.max_val:
            raise ValueError(f"For 'Hardtanh', the 'min_val' must be <= 'max_val', but got 'min_val': {min_val} "
                             f"and 'max_val': {max_val}.")

    def _apply(self, x: _Floats) -> _Floats:
        return np.clip(x, self.min_val, self.max_val)


class GELU(_Elementwise):
    r"""Gaussian error linear unit :math:`x \Phi(x)`.

    Parameters
    ----------
    approximate : bool, default True
        Use MindSpore's default tanh form
        :math:`0.5 x (1 + \tanh(\sqrt{2/\pi}(x + 0.044715 x^3)))`; otherwise the exact
        :math:`0.5 x (1 + \mathrm{erf}(x / \sqrt{2}))`.
    """

    approximate: bool

    def __init__(self, approximate: bool = True) -> None:
        super().__init__()
        self.approximate = check_bool(approximate, "approximate", "GELU")

    def _apply(self, x: _Floats) -> _Floats:
        if self.approximate:
            return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
        # np.asarray: on a 0-d input the ufunc returns a Python float, not an array
        erf = np.asarray(np.frompyfunc(math.erf, 1, 1)(x / math.sqrt(2.0)), dtype=x.dtype)
        return 0.5 * x * (1.0 + erf)


class FastGelu(_Elementwise):
    r""":math:`x / (1 + e^{-1.702 |x|}) \cdot e^{0.851 (x - |x|)}`."""

    def _apply(self, x: _Floats) -> _Floats:
        magnitude = np.abs(x)
        return x / (1 + np.exp(-1.702 * magnitude)) * np.exp(0.851 * (x - magnitude))


class HSwish(_Elementwise):
    r""":math:`x \cdot \mathrm{ReLU6}(x + 3) / 6`."""

    def _apply(self, x: _Floats) -> _Floats:
        return x * _relu6(x + 3) / 6


class HSigmoid(_Elementwise):
    r""":math:`\mathrm{ReLU6}(x + 3) / 6`."""

    def _apply(self, x: _Floats) -> _Floats:
        return _relu6(x + 3) / 6


class SoftShrink(_Elementwise):
    r""":math:`x \mp \lambda` where :math:`|x| > \lambda`, else 0.

    Parameters
    ----------
    lambd : float, default 0.5
    """

    lambd: float

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = check_number(lambd, "lambd", "SoftShrink")
        if self.lambd < 0:
            raise ValueError(f"For 'SoftShrink', the 'lambd' must be >= 0, but got {lambd}.")

    def _apply(self, x: _Floats) -> _Floats:
        return np.where(x > self.lambd, x - self.lambd, np.where(x < -self.lambd, x + self.lambd, 0))


class HShrink(_Elementwise):
    r""":math:`x` where :math:`|x| > \lambda`, else 0.

    Parameters
    ----------
    lambd : float, default 0.5
    """

    lambd: float

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = check_number(lambd, "lambd", "HShrink")

    def _apply(self, x: _Floats) -> _Floats:
        return np.where(np.abs(x) > self.lambd, x, 0)


class Mish(_Elementwise):
    r""":math:`x \tanh(\log(1 + e^x))`."""

    def _apply(self, x: _Floats) -> _Floats:
        return x * np.tanh(np.logaddexp(0.0, x))


class Softmax(_Elementwise):
    r""":math:`e^{x_i} / \sum_j e^{x_j}` along ``axis``.

    Parameters
    ----------
    axis : int or tuple of int, default -1
    """

    axis: "int | tuple[int, ...]"

    def __init__(self, axis: "int | tuple[int, ...]" = -1) -> None:
        super().__init__()
        self.axis = _check_axis(axis, self.cls_name)

    def _apply(self, x: _Floats) -> _Floats:
        shifted = np.exp(x - x.max(axis=self.axis, keepdims=True))
        return shifted / shifted.sum(axis=self.axis, keepdims=True)


class Softmin(Softmax):
    r""":math:`e^{-x_i} / \sum_j e^{-x_j}` along ``axis``."""

    def _apply(self, x: _Floats) -> _Floats:
        return super()._apply(-x)


class LogSoftmax(Softmax):
    r""":math:`x_i - \log \sum_j e^{x_j}` along ``axis``."""

    def _apply(self, x: _Floats) -> _Floats:
        shifted = x - x.max(axis=self.axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))


class Softmax2d(_Elementwise):
    r"""Softmax over the channel axis (-3) of a (C, H, W) or (N, C, H, W) input."""

    def _apply(self, x: _Floats) -> _Floats:
        if x.ndim not in (3, 4):
            raise ValueError(f"For 'Softmax2d', the in_shape must have 3 or 4 dims, but got {x.ndim}.")
        shifted = np.exp(x - x.max(axis=-3, keepdims=True))
        return shifted / shifted.sum(axis=-3, keepdims=True)


class LogSoftmaxExt(_Elementwise):
    r""":math:`x_i - \log \sum_j e^{x_j}` along ``dim``.

    Parameters
    ----------
    dim : int, optional
        The axis; None takes axis 0 for inputs of rank 0, 1 or 3 and axis 1 otherwise (the rule of
        PyTorch's ``log_softmax``, which MindSpore's Ext operators follow; MindSpore 2.10 has no CPU
        kernel for this cell).
    """

    dim: "int | None"

    def __init__(self, dim: "int | None" = None) -> None:
        super().__init__()
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, numbers.Integral)):
            raise TypeError(f"For 'LogSoftmaxExt', the 'dim' must be int or None, but got '{type(dim).__name__}'.")
        self.dim = dim if dim is None else int(dim)

    def _apply(self, x: _Floats) -> _Floats:
        axis = self.dim
        if axis is None:
            axis = 0 if x.ndim in (0, 1, 3) else 1
        if x.ndim == 0:
            return x - x
        if not -x.ndim <= axis < x.ndim:
            raise ValueError(f"For 'LogSoftmaxExt', the 'dim' must be in range [{-x.ndim}, {x.ndim}), "
                             f"but got {axis}.")
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class RReLU(_Elementwise):
    r"""Randomized leaky ReLU: :math:`x` for :math:`x \ge 0`, else :math:`a x` with a fresh
    :math:`a \sim U(\text{lower}, \text{upper})` per element and call.

    Parameters
    ----------
    lower, upper : float, default 1/8, 1/3

    Notes
    -----
    The slopes come from NumPy's global RandomState (which ``set_seed`` seeds), so a seeded run
    repeats, but they are not MindSpore's values (MindSpore draws them with its own operator).
    """

    lower: float
    upper: float

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3) -> None:
        super().__init__()
        for arg_name, value in (("upper", upper), ("lower", lower)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"For 'RReLU', the '{arg_name}' must be float or int, "
                                f"but got '{type(value).__name__}'.")
        if lower > upper:
            raise ValueError(f"For RReLU, the value of 'upper' must be greater than or equal to 'lower', "
                             f"but got upper: {upper}, lower: {lower}.")
        self.lower, self.upper = float(lower), float(upper)

    def _apply(self, x: _Floats) -> _Floats:
        slopes = np.random.uniform(self.lower, self.upper, size=x.shape).astype(x.dtype)
        return np.where(x >= 0, x, slopes * x)


def _prelu(x: _Floats, weight: _Floats) -> _Floats:
    """``x`` where ``x >= 0``, else ``weight * x`` with one weight per channel (axis 1) or one for all."""
    weight = weight.astype(x.dtype, copy=False)
    if weight.size != 1:
        if x.ndim < 2 or x.shape[1] != weight.size:
            raise ValueError(f"For 'PReLU', the number of weights ({weight.size}) must be 1 or equal the channels "
                             f"(axis 1) of the input of shape {x.shape}.")
        weight = weight.reshape((1, weight.size) + (1,) * (x.ndim - 2))
    else:
        weight = weight.reshape(())
    return np.where(x >= 0, x, weight * x)


class PReLU(_Elementwise):
    r"""Parametric ReLU: :math:`x` for :math:`x \ge 0`, else :math:`w_c x` per channel.

    Parameters
    ----------
    channel : int, default 1
        Number of weights: 1, or the channels (axis 1) of the input.
    w : float, list of float or Tensor, default 0.25
        Initial weights; the Parameter is the attribute ``w``, named ``'a'`` as in MindSpore
        (``activation.w`` inside a Dense).
    """

    w: Parameter

    def __init__(self, channel: int = 1, w: "float | list[float] | Tensor" = 0.25) -> None:
        super().__init__()
        channel = check_positive_int(channel, "channel", "PReLU")
        values: "_Floats | Tensor"
        if isinstance(w, _PRELU_SCALARS):
            values = np.full((channel,), w, np.float32)
        elif isinstance(w, list):
            if len(w) != channel:
                raise ValueError(f"For 'PReLU', the length of 'w' must be equal to the 'channel' when the 'w' is a "
                                 f"list, but got the length of 'w': {len(w)}, the 'channel': {channel}.")
            for item in w:
                if not isinstance(item, _PRELU_SCALARS):
                    raise ValueError(f"For 'PReLU', all elements in 'w' must be float when the 'w' is a list, "
                                     f"but got {item}.")
            values = np.asarray(w, np.float32)
        elif isinstance(w, Tensor):
            if w.dtype not in (mstype.float16, mstype.float32):
                raise ValueError(f"For 'PReLU', the dtype of 'w' must be float16 or float32 when the 'w' is a "
                                 f"tensor, but got {w.dtype}.")
            if len(w.shape) != 1 or w.shape[0] != channel:
                raise ValueError(f"For 'PReLU', the dimension of 'w' must be 1, and the elements number should be "
                                 f"equal to the 'channel' when the 'w' is a tensor, but got 'w' shape {w.shape}, "
                                 f"the 'channel' {channel}.")
            values = w
        else:
            raise TypeError(f"For 'PReLU', the 'w' only supported float, list and tensor, "
                            f"but got {type(w).__name__}.")
        self.w = Parameter(values if isinstance(values, Tensor) else Tensor(values), name="a")

    def _apply(self, x: _Floats) -> _Floats:
        return _prelu(x, self.w.asnumpy())


class PReLUExt(_Elementwise):
    r"""Parametric ReLU with ``num_parameters`` weights (the Parameter ``weight``).

    Parameters
    ----------
    num_parameters : int, default 1
    init : float, default 0.25
    dtype : msparam dtype, optional
        The weights' dtype (float32 when None).
    """

    weight: Parameter

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: "mstype.Type | None" = None) -> None:
        super().__init__()
        num_parameters = check_positive_int(num_parameters, "num_parameters", "PReLUExt")
        init = check_number(init, "init", "PReLUExt")
        self.weight = Parameter(Tensor(np.full((num_parameters,), init, np.float32), dtype=dtype), name="weight")

    def _apply(self, x: _Floats) -> _Floats:
        return _prelu(x, self.weight.asnumpy())


class Threshold(_Elementwise):
    r""":math:`x` where :math:`x > \text{threshold}`, else ``value``.

    Parameters
    ----------
    threshold, value : float or int
        Both required, as in MindSpore (``get_activation('threshold')`` raises TypeError).
    """

    threshold: float
    value: float

    def __init__(self, threshold: float, value: float) -> None:
        super().__init__()
        self.threshold = check_number(threshold, "threshold", "Threshold")
        self.value = check_number(value, "value", "Threshold")

    def _apply(self, x: _Floats) -> _Floats:
        return np.where(x > self.threshold, x, self.value)


_ACTIVATIONS: "dict[str, type[Cell]]" = {
    "softmin": Softmin,
    "softmax": Softmax,
    "softmax2d": Softmax2d,
    "logsoftmax": LogSoftmax,
    "logsoftmaxExt": LogSoftmaxExt,
    "relu": ReLU,
    "relu6": ReLU6,
    "rrelu": RReLU,
    "silu": SiLU,
    "tanh": Tanh,
    "tanhshrink": Tanhshrink,
    "hardtanh": Hardtanh,
    "gelu": GELU,
    "fast_gelu": FastGelu,
    "elu": ELU,
    "sigmoid": Sigmoid,
    "softsign": Softsign,
    "prelu": PReLU,
    "preluExt": PReLUExt,
    "leakyrelu": LeakyReLU,
    "hswish": HSwish,
    "hsigmoid": HSigmoid,
    "logsigmoid": LogSigmoid,
    "softshrink": SoftShrink,
    "hshrink": HShrink,
    "threshold": Threshold,
    "mish": Mish,
}


@overload
def get_activation(name: None, prim_name: "str | None" = None) -> None: ...
@overload
def get_activation(name: str, prim_name: "str | None" = None) -> Cell: ...


def get_activation(name: "str | None", prim_name: "str | None" = None) -> "Cell | None":
    """A new activation cell by MindSpore 2.10's name (``'relu'``, ``'gelu'``, ...); None for None.

    The names are case-sensitive, as MindSpore's (``'logsoftmaxExt'``, ``'preluExt'``).

    Raises
    ------
    KeyError
        If ``name`` is not one of the names, as in MindSpore.
    TypeError
        For ``'threshold'``, whose cell needs arguments (as in MindSpore), or an unhashable ``name``.
    """
    if name is None:
        return None
    if name not in _ACTIVATIONS:
        owner = f"For '{prim_name}', the" if prim_name else "The"
        raise KeyError(f"{owner} 'name' must be in {list(_ACTIVATIONS)}, but got {name}.")
    return _ACTIVATIONS[name]()
