"""Activation cells computed with NumPy, and ``get_activation`` (MindSpore's names for Dense).

Each cell maps a float Tensor to a Tensor of the same shape and dtype; float16 is computed in
float32 and rounded once.
"""
import math
import numbers

import numpy as np

from msparam.common.tensor import Tensor, wrap_array
from msparam._validation import check_bool
from msparam.nn._checks import check_number, float_input
from msparam.nn.cell import Cell

__all__ = ["Softmin", "Softmax", "LogSoftmax", "ReLU", "ReLU6", "SiLU", "Tanh", "Tanhshrink", "Hardtanh",
           "GELU", "FastGelu", "ELU", "Sigmoid", "Softsign", "LeakyReLU", "HSwish", "HSigmoid", "LogSigmoid",
           "SoftShrink", "HShrink", "Mish", "get_activation"]


def _check_axis(axis, cls_name):
    if isinstance(axis, bool) or not isinstance(axis, (numbers.Integral, tuple)):
        raise TypeError(f"For '{cls_name}', the 'axis' must be int or tuple of int, but got '{type(axis).__name__}'.")
    return axis


def _sigmoid(x):
    # exp(-log(1 + exp(-x))): no overflow warning for large |x|.
    return np.exp(-np.logaddexp(0.0, -x))


def _relu6(x):
    return np.clip(x, 0.0, 6.0)


class _Elementwise(Cell):
    """An activation ``y = f(x)`` computed in NumPy."""

    def _apply(self, values):
        raise NotImplementedError

    def construct(self, x):
        values = float_input(x, self.cls_name)
        compute = values.astype(np.float32) if values.dtype == np.float16 else values
        with np.errstate(over="ignore", under="ignore"):
            out = self._apply(compute)
        return wrap_array(np.asarray(out, dtype=values.dtype))


class ReLU(_Elementwise):
    r""":math:`\max(0, x)`."""

    def _apply(self, x):
        return np.maximum(x, 0)


class ReLU6(_Elementwise):
    r""":math:`\min(\max(0, x), 6)`."""

    def _apply(self, x):
        return _relu6(x)


class LeakyReLU(_Elementwise):
    r""":math:`x` for :math:`x \ge 0`, else :math:`\alpha x`.

    Parameters
    ----------
    alpha : float, default 0.2
    """

    def __init__(self, alpha=0.2):
        super().__init__()
        self.alpha = check_number(alpha, "alpha", "LeakyReLU")

    def _apply(self, x):
        return np.where(x >= 0, x, self.alpha * x)


class ELU(_Elementwise):
    r""":math:`x` for :math:`x > 0`, else :math:`\alpha (e^x - 1)`.

    Parameters
    ----------
    alpha : float, default 1.0
    """

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = check_number(alpha, "alpha", "ELU")

    def _apply(self, x):
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))


class Sigmoid(_Elementwise):
    r""":math:`1 / (1 + e^{-x})`."""

    def _apply(self, x):
        return _sigmoid(x)


class LogSigmoid(_Elementwise):
    r""":math:`\log(1 / (1 + e^{-x}))`."""

    def _apply(self, x):
        return -np.logaddexp(0.0, -x)


class SiLU(_Elementwise):
    r""":math:`x \cdot \mathrm{sigmoid}(x)`."""

    def _apply(self, x):
        return x * _sigmoid(x)


class Tanh(_Elementwise):
    r""":math:`\tanh(x)`."""

    def _apply(self, x):
        return np.tanh(x)


class Tanhshrink(_Elementwise):
    r""":math:`x - \tanh(x)`."""

    def _apply(self, x):
        return x - np.tanh(x)


class Softsign(_Elementwise):
    r""":math:`x / (1 + |x|)`."""

    def _apply(self, x):
        return x / (1 + np.abs(x))


class Hardtanh(_Elementwise):
    r"""``x`` clipped to ``[min_val, max_val]``.

    Parameters
    ----------
    min_val, max_val : float, default -1.0, 1.0
    """

    def __init__(self, min_val=-1.0, max_val=1.0):
        super().__init__()
        self.min_val = check_number(min_val, "min_val", "Hardtanh")
        self.max_val = check_number(max_val, "max_val", "Hardtanh")
        if self.min_val > self.max_val:
            raise ValueError(f"For 'Hardtanh', the 'min_val' must be <= 'max_val', but got 'min_val': {min_val} "
                             f"and 'max_val': {max_val}.")

    def _apply(self, x):
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

    def __init__(self, approximate=True):
        super().__init__()
        self.approximate = check_bool(approximate, "approximate", "GELU")

    def _apply(self, x):
        if self.approximate:
            return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
        erf = np.frompyfunc(math.erf, 1, 1)(x / math.sqrt(2.0)).astype(x.dtype)
        return 0.5 * x * (1.0 + erf)


class FastGelu(_Elementwise):
    r""":math:`x / (1 + e^{-1.702 |x|}) \cdot e^{0.851 (x - |x|)}`."""

    def _apply(self, x):
        magnitude = np.abs(x)
        return x / (1 + np.exp(-1.702 * magnitude)) * np.exp(0.851 * (x - magnitude))


class HSwish(_Elementwise):
    r""":math:`x \cdot \mathrm{ReLU6}(x + 3) / 6`."""

    def _apply(self, x):
        return x * _relu6(x + 3) / 6


class HSigmoid(_Elementwise):
    r""":math:`\mathrm{ReLU6}(x + 3) / 6`."""

    def _apply(self, x):
        return _relu6(x + 3) / 6


class SoftShrink(_Elementwise):
    r""":math:`x \mp \lambda` where :math:`|x| > \lambda`, else 0.

    Parameters
    ----------
    lambd : float, default 0.5
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = check_number(lambd, "lambd", "SoftShrink")
        if self.lambd < 0:
            raise ValueError(f"For 'SoftShrink', the 'lambd' must be >= 0, but got {lambd}.")

    def _apply(self, x):
        return np.where(x > self.lambd, x - self.lambd, np.where(x < -self.lambd, x + self.lambd, 0))


class HShrink(_Elementwise):
    r""":math:`x` where :math:`|x| > \lambda`, else 0.

    Parameters
    ----------
    lambd : float, default 0.5
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = check_number(lambd, "lambd", "HShrink")

    def _apply(self, x):
        return np.where(np.abs(x) > self.lambd, x, 0)


class Mish(_Elementwise):
    r""":math:`x \tanh(\log(1 + e^x))`."""

    def _apply(self, x):
        return x * np.tanh(np.logaddexp(0.0, x))


class Softmax(_Elementwise):
    r""":math:`e^{x_i} / \sum_j e^{x_j}` along ``axis``.

    Parameters
    ----------
    axis : int or tuple of int, default -1
    """

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = _check_axis(axis, self.cls_name)

    def _apply(self, x):
        shifted = np.exp(x - x.max(axis=self.axis, keepdims=True))
        return shifted / shifted.sum(axis=self.axis, keepdims=True)


class Softmin(Softmax):
    r""":math:`e^{-x_i} / \sum_j e^{-x_j}` along ``axis``."""

    def _apply(self, x):
        return super()._apply(-x)


class LogSoftmax(Softmax):
    r""":math:`x_i - \log \sum_j e^{x_j}` along ``axis``."""

    def _apply(self, x):
        shifted = x - x.max(axis=self.axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))


_ACTIVATIONS = {
    "softmin": Softmin,
    "softmax": Softmax,
    "logsoftmax": LogSoftmax,
    "relu": ReLU,
    "relu6": ReLU6,
    "silu": SiLU,
    "tanh": Tanh,
    "tanhshrink": Tanhshrink,
    "hardtanh": Hardtanh,
    "gelu": GELU,
    "fast_gelu": FastGelu,
    "elu": ELU,
    "sigmoid": Sigmoid,
    "softsign": Softsign,
    "leakyrelu": LeakyReLU,
    "hswish": HSwish,
    "hsigmoid": HSigmoid,
    "logsigmoid": LogSigmoid,
    "softshrink": SoftShrink,
    "hshrink": HShrink,
    "mish": Mish,
}


def get_activation(name, prim_name=None):
    """A new activation cell by MindSpore's name (``'relu'``, ``'gelu'``, ...); None for None.

    Raises
    ------
    ValueError
        If ``name`` is not one of the names (MindSpore raises KeyError).
    """
    if name is None:
        return None
    if name not in _ACTIVATIONS:
        owner = f"For '{prim_name}', the" if prim_name else "The"
        raise ValueError(f"{owner} 'activation' must be one of {list(_ACTIVATIONS)}, but got {name!r}.")
    return _ACTIVATIONS[name]()
