"""Initializers: callables that fill a NumPy array in place, as MindSpore's do, and ``initializer()``.

Random fills follow MindSpore 2.10 bit for bit: each fill draws a stream seed from NumPy's global
RandomState (``set_seed`` seeds it), fills float32 from Philox4x32-10, and casts to the output dtype.
"""
import numbers

import numpy as np

from msparam.common import _random
from msparam.common import dtype as mstype
from msparam.common.seed import next_stream_seed
from msparam.common.tensor import Tensor

__all__ = ["Initializer", "initializer", "Zero", "One", "Constant", "Uniform", "Normal", "TruncatedNormal"]

_REGISTRY = {}


def _register(*aliases):
    """Register an Initializer under its lower-cased class name and ``aliases``."""
    def decorate(cls):
        for name in (cls.__name__, *aliases):
            _REGISTRY[name.lower()] = cls
        return cls
    return decorate


class Initializer:
    """Base class: ``init(arr)`` fills the NumPy array ``arr`` in place."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs

    def _initialize(self, arr):
        raise NotImplementedError

    def __call__(self, arr):
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"For '{type(self).__name__}', the input must be a numpy.ndarray, "
                            f"but got {type(arr).__name__}.")
        self._initialize(arr)
        return arr


def _fill_random(arr, fill, *params):
    """Fill ``arr`` by ``fill(seed, out, *params)`` with a fresh stream seed (MindSpore's order).

    Every random fill computes float32 (MindSpore casts float16/float64 from it), so other
    dtypes and non-contiguous arrays go through a float32 buffer.
    """
    seed = next_stream_seed()
    if arr.dtype == np.float32 and arr.flags.c_contiguous:
        fill(seed, arr.reshape(-1), *params)
    else:
        values = np.empty(arr.size, np.float32)
        fill(seed, values, *params)
        arr[...] = values.reshape(arr.shape)


@_register("zeros")
class Zero(Initializer):
    """Fill with 0."""

    def _initialize(self, arr):
        arr.fill(0)


@_register("ones")
class One(Initializer):
    """Fill with 1."""

    def _initialize(self, arr):
        arr.fill(1)


class Constant(Initializer):
    """Fill with ``value``."""

    def __init__(self, value):
        super().__init__(value=value)
        self.value = value

    def _initialize(self, arr):
        arr.fill(self.value)


@_register()
class Uniform(Initializer):
    r"""Uniform on :math:`[-\text{scale}, \text{scale}]`.

    Parameters
    ----------
    scale : float, default 0.07
    """

    def __init__(self, scale=0.07):
        super().__init__(scale=scale)
        self.scale = scale

    def _initialize(self, arr):
        _fill_random(arr, _random.fill_uniform, -self.scale, self.scale)


@_register()
class Normal(Initializer):
    r"""Normal :math:`\mathcal{N}(\text{mean}, \text{sigma}^2)`, by Box-Muller.

    Parameters
    ----------
    sigma : float, default 0.01
    mean : float, default 0.0
    """

    def __init__(self, sigma=0.01, mean=0.0):
        super().__init__(sigma=sigma, mean=mean)
        self.sigma, self.mean = sigma, mean

    def _initialize(self, arr):
        _fill_random(arr, _random.fill_normal, self.mean, self.sigma)


@_register()
class TruncatedNormal(Initializer):
    r"""Normal :math:`\mathcal{N}(\text{mean}, \text{sigma}^2)` truncated to :math:`[a, b]`.

    Parameters
    ----------
    sigma : float, default 0.01
        Standard deviation of the normal before truncation; must be positive.
    mean : float, default 0.0
        Mean of the normal before truncation.
    a, b : float, default -2.0, 2.0
        Lower and upper bound of the values, in the units of the values (not multiples of
        ``sigma``): with the defaults the bounds lie 200 sigma out and cut nothing in practice.

    Raises
    ------
    TypeError
        If an argument is not a real number.
    ValueError
        If ``sigma`` is not positive once rounded to float32 (MindSpore raises when the data
        is made; here at once).

    Notes
    -----
    With :math:`\alpha = (a - \text{mean}) / \text{sigma}`, :math:`\beta = (b - \text{mean}) /
    \text{sigma}` and :math:`\Phi` the standard normal CDF, the density is

    .. math::
        f(x) = \frac{\varphi((x - \text{mean}) / \text{sigma})}
                    {\text{sigma}\,(\Phi(\beta) - \Phi(\alpha))}, \qquad a \le x \le b.

    Each element takes one number :math:`k` of the Philox4x32-10 stream and is
    :math:`\text{mean} + \text{sigma}\,\Phi^{-1}(\Phi(\alpha) + u\,(\Phi(\beta) - \Phi(\alpha)))`
    with :math:`u = k / 2^{32}` (inverse CDF, no rejection), computed in double from the
    float32-rounded arguments exactly as MindSpore 2.10 does, so a fixed seed gives MindSpore's
    values bit for bit.

    Examples
    --------
    >>> import msparam as ms
    >>> from msparam.common.initializer import TruncatedNormal, initializer
    >>> ms.set_seed(1)
    >>> w = initializer(TruncatedNormal(sigma=1.0, mean=0.1, a=-0.5, b=1.5), (2, 3)).init_data()
    >>> bool(((w.asnumpy() >= -0.5) & (w.asnumpy() <= 1.5)).all())
    True
    """

    def __init__(self, sigma=0.01, mean=0.0, a=-2.0, b=2.0):
        for name, value in (("sigma", sigma), ("mean", mean), ("a", a), ("b", b)):
            if not isinstance(value, numbers.Real):
                raise TypeError(f"For 'TruncatedNormal', '{name}' must be a real number, "
                                f"but got {type(value).__name__}.")
        if not np.float32(sigma) > 0:  # MindSpore computes with the float32 value
            raise ValueError(f"For 'TruncatedNormal', 'sigma' must be positive as a float32, but got {sigma}.")
        super().__init__(sigma=sigma, mean=mean, a=a, b=b)
        self.sigma, self.mean, self.a, self.b = sigma, mean, a, b

    def _initialize(self, arr):
        _fill_random(arr, _random.fill_truncated_normal, self.mean, self.sigma, self.a, self.b)


def _check_shape(shape):
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (list, tuple)) or not all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0 for d in shape):
        raise ValueError(f"For 'initializer', 'shape' must be a list or tuple of positive ints, but got {shape!r}.")
    return tuple(int(d) for d in shape)


def initializer(init, shape=None, dtype=mstype.float32):
    """A lazy Tensor of ``shape`` and ``dtype`` that ``init`` fills when its data is needed.

    Parameters
    ----------
    init : Tensor, str, Initializer or number
        A name (case-insensitive, e.g. ``'normal'``, ``'ones'``), an Initializer, a Tensor (its
        values, whose shape must equal ``shape``) or a number (a constant).
    shape : int, list or tuple of int, optional
    dtype : msparam dtype, default float32
    """
    if not isinstance(init, (Tensor, str, Initializer, numbers.Number)) or isinstance(init, bool):
        raise TypeError(f"For 'initializer', 'init' must be a Tensor, str, Initializer or number, "
                        f"but got {type(init).__name__}.")
    if isinstance(init, Tensor):
        if shape is not None and tuple(_check_shape(shape)) != tuple(init.shape):
            raise ValueError(f"For 'initializer', the shape of 'init' {init.shape} must equal 'shape' {shape}.")
        return init
    shape = _check_shape(shape if shape is not None else ())
    if isinstance(init, str):
        try:
            init = _REGISTRY[init.lower()]()
        except KeyError:
            raise ValueError(f"For 'initializer', 'init' {init!r} is not a known initializer name; "
                             f"known names: {sorted(_REGISTRY)}.") from None
    elif isinstance(init, numbers.Number):
        init = Constant(init)
    return Tensor(dtype=dtype, shape=shape, init=init)
