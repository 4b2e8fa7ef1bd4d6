"""Initializers: callables that fill a NumPy array in place, as MindSpore's do, and ``initializer()``.

Random fills follow MindSpore 2.10 bit for bit: each fill draws a stream seed from NumPy's global
RandomState (``set_seed`` seeds it), fills float32 from Philox4x32-10, and casts to the output dtype.
"""
import math
import numbers
import warnings

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, Union, cast

import numpy as np
import numpy.typing as npt
# numpy.random's __all__ leaves the legacy generator's accessor out; mtrand, its home, exports it
from numpy.random.mtrand import get_bit_generator

from msparam._core._legacy_shuffle import zero_permuted_rows
from msparam._core._storage import array_fill
from msparam._threads import get_num_threads
from msparam._validation import check_real, check_shape
from msparam.common import _checked_fill
from msparam.common import dtype as mstype
from msparam.common.seed import draw_lock, next_stream_seed
from msparam.common.tensor import Tensor

__all__ = ["Initializer", "initializer", "Zero", "One", "Constant", "Uniform", "Normal", "TruncatedNormal", "XavierUniform",
           "XavierNormal", "HeUniform", "HeNormal", "Identity", "Sparse", "Dirac", "Orthogonal", "VarianceScaling"]

_REGISTRY: "dict[str, type[Initializer]]" = {}
_InitializerClass = TypeVar("_InitializerClass", bound="type[Initializer]")


def _register(*aliases: str) -> Callable[[_InitializerClass], _InitializerClass]:
    """Register an Initializer under its lower-cased class name and ``aliases``."""
    def decorate(cls: _InitializerClass) -> _InitializerClass:
        for name in (cls.__name__, *aliases):
            _REGISTRY[name.lower()] = cls
        return cls
    return decorate


class Initializer:
    """Base class: ``init(arr)`` fills the NumPy array ``arr`` in place."""

    def _initialize(self, arr: npt.NDArray[Any]) -> None:
        raise NotImplementedError

    def __call__(self, arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"For '{type(self).__name__}', the input must be a numpy.ndarray, "
                            f"but got {type(arr).__name__}.")
        self._initialize(arr)
        return arr


# What initializer() and the layers' weight_init/bias_init take: a Tensor (its values), an
# initializer's name ('normal', 'zeros', ...), an Initializer, or a number (a constant).
InitLike = Union[Tensor, str, Initializer, complex]


# float32 values per staging piece of a fill into another dtype or a non-contiguous array.
_STAGING_PIECE = 1 << 18


def _fill_random(arr: npt.NDArray[Any], fill: Callable[..., None], *params: float) -> None:
    """Fill ``arr`` by ``fill(seed, out, *params, start=...)`` with a fresh stream seed (MindSpore's order).

    Every random fill computes float32 (MindSpore casts float16/float64 from it), so other
    dtypes and non-contiguous arrays are filled through a float32 piece at most 1 MB large,
    the stream skipping ahead to each piece: no temporary as large as the output.
    """
    seed = next_stream_seed()
    if arr.dtype == np.float32 and arr.flags.c_contiguous:
        fill(seed, arr.reshape(-1), *params)
        return
    flat: Any = arr.reshape(-1) if arr.flags.c_contiguous else arr.flat
    piece = np.empty(min(arr.size, _STAGING_PIECE), np.float32)
    for start in range(0, arr.size, _STAGING_PIECE):
        values = piece[:min(_STAGING_PIECE, arr.size - start)]
        fill(seed, values, *params, start=start)
        flat[start:start + values.size] = values


def _normal(mean: float, sigma: float) -> tuple[Callable[..., None], float, float]:
    """``(fill, mean, sigma)`` of a normal fill; a negative ``sigma`` is refused before any draw."""
    if sigma < 0:
        raise ValueError(f"The standard deviation 'sigma' of a normal fill must be >= 0, but got {sigma}.")
    return _checked_fill.fill_normal, mean, sigma


def _fill_normal(arr: npt.NDArray[Any], mean: float, sigma: float) -> None:
    """Fill ``arr`` from Normal(mean, sigma**2)."""
    _fill_random(arr, *_normal(mean, sigma))


class _OneRandomFill(Initializer):
    """An initializer that is one random fill: ``_distribution(shape)`` gives ``(fill, *params)``
    for an array of ``shape``, so a slice of the array can be filled alone (msparam.parallel)."""

    def _distribution(self, shape: tuple[int, ...]) -> "tuple[Any, ...]":
        raise NotImplementedError

    def _initialize(self, arr: npt.NDArray[Any]) -> None:
        _fill_random(arr, *self._distribution(arr.shape))


def _calculate_fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    r"""The numbers of input and output units of a weight of ``shape``.

    Parameters
    ----------
    shape : tuple of int
        At least 2 dimensions: ``(out, in)`` for a dense weight, ``(out, in, *kernel)`` for a
        convolution weight.

    Returns
    -------
    fan_in, fan_out : int
        With the receptive field :math:`r = \prod_{i \ge 2} \text{shape}[i]` (1 for 2-D),
        :math:`\text{fan\_in} = \text{shape}[1] \cdot r` and :math:`\text{fan\_out} = \text{shape}[0] \cdot r`.

    Raises
    ------
    ValueError
        If ``shape`` has fewer than 2 dimensions.
    """
    if len(shape) < 2:
        raise ValueError("'fan_in' and 'fan_out' can not be computed for a tensor with fewer than 2 dimensions, "
                         f"but got {len(shape)} dimensions (shape {tuple(shape)}).")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fan_mode(owner: str, mode: object) -> str:
    """``mode`` lower-cased, which must then be 'fan_in' or 'fan_out' (MindSpore accepts any case)."""
    if not isinstance(mode, str):
        raise TypeError(f"For '{owner}', 'mode' must be a str, but got {type(mode).__name__}.")
    if mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"For '{owner}', 'mode' must be 'fan_in' or 'fan_out', but got {mode!r}.")
    return mode.lower()


_UNIT_GAIN_NONLINEARITIES = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                          "conv_transpose3d", "sigmoid")


def _calculate_gain(nonlinearity: str, param: "float | None" = None) -> float:
    r"""The recommended gain for ``nonlinearity``: the factor that keeps the activations' variance.

    Parameters
    ----------
    nonlinearity : str
        'linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d',
        'conv_transpose3d', 'sigmoid', 'tanh', 'relu' or 'leaky_relu'.
    param : int or float, optional
        The negative slope of 'leaky_relu' (default 0.01); ignored otherwise.

    Returns
    -------
    float
        1 for the linear ones and sigmoid, :math:`5/3` for tanh, :math:`\sqrt{2}` for relu and
        :math:`\sqrt{2 / (1 + \text{param}^2)}` for leaky_relu.

    Raises
    ------
    ValueError
        If ``nonlinearity`` is not one of these, or, for 'leaky_relu', ``param`` is neither None,
        an int (not bool) nor a float (MindSpore's rule: a numpy.float32 is refused too).
    """
    if nonlinearity in _UNIT_GAIN_NONLINEARITIES:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            param = 0.01
        elif isinstance(param, bool) or not isinstance(param, (int, float)):
            raise ValueError(f"'negative_slope' must be an int or float when 'nonlinearity' is 'leaky_relu', "
                             f"but got {param!r} of type {type(param).__name__}.")
        return math.sqrt(2.0 / (1 + param ** 2))
    raise ValueError(f"'nonlinearity' must be one of {[*_UNIT_GAIN_NONLINEARITIES, 'tanh', 'relu', 'leaky_relu']}, "
                     f"but got {nonlinearity!r}.")


@_register("zeros")
class Zero(Initializer):
    """Fill with 0."""

    def _initialize(self, arr: npt.NDArray[Any]) -> None:
        array_fill(arr, 0, get_num_threads())


@_register("ones")
class One(Initializer):
    """Fill with 1."""

    def _initialize(self, arr: npt.NDArray[Any]) -> None:
        array_fill(arr, 1, get_num_threads())


class Constant(Initializer):
    """Fill with ``value``."""

    value: complex

    def __init__(self, value: complex) -> None:
        self.value = value

    def _initialize(self, arr: npt.NDArray[Any]) -> None:
        array_fill(arr, mstype.cast_scalar(self.value, arr.dtype), get_num_threads())


@_register()
class Uniform(_OneRandomFill):
    r"""Uniform on :math:`[-\text{scale}, \text{scale}]`.

    Parameters
    ----------
    scale : float, default 0.07
    """

    scale: float

    def __init__(self, scale: float = 0.07) -> None:
        self.scale = scale

    def _distribution(self, shape: tuple[int, ...]) -> "tuple[Any, ...]":
        return _checked_fill.fill_uniform, -self.scale, self.scale


@_register()
class Normal(_OneRandomFill):
    r"""Normal :math:`\mathcal{N}(\text{mean}, \text{sigma}^2)`, by Box-Muller.

    Parameters
    ----------
    sigma : float, default 0.01
    mean : float, default 0.0
    """

    sigma: float
    mean: float

    def __init__(self, sigma: float = 0.01, mean: float = 0.0) -> None:
        self.sigma, self.mean = sigma, mean

    def _distribution(self, shape: tuple[int, ...]) -> "tuple[Any, ...]":
        return _normal(self.mean, self.sigma)


@_register("xavier_uniform")
class XavierUniform(_OneRandomFill):
    r"""Xavier (Glorot) uniform: :math:`U(-b, b)`.

    .. math:: b = \text{gain} \sqrt{6 / (\text{fan\_in} + \text{fan\_out})}

    Parameters
    ----------
    gain : float, default 1
        A scaling factor.

    Raises
    ------
    ValueError
        When filling an array of fewer than 2 dimensions (its fans are undefined).

    Notes
    -----
    One uniform fill (one stream seed); fan_in and fan_out as in ``_calculate_fan_in_and_fan_out``.

    References
    ----------
    Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural networks", 2010.

    Examples
    --------
    >>> import msparam as ms
    >>> from msparam.common.initializer import XavierUniform, initializer
    >>> ms.set_seed(1)
    >>> w = initializer(XavierUniform(), (64, 3, 3, 3)).init_data()  # or 'xavier_uniform'
    """

    gain: float

    def __init__(self, gain: float = 1) -> None:
        check_real(gain, "gain", "XavierUniform")
        self.gain = gain

    def _distribution(self, shape: tuple[int, ...]) -> "tuple[Any, ...]":
        fan_in, fan_out = _calculate_fan_in_and_fan_out(shape)
        boundary = self.gain * math.sqrt(6.0 / (fan_in + fan_out))
        return _checked_fill.fill_uniform, -boundary, boundary


@_register("xavier_normal")
class XavierNormal(_OneRandomFill):
    r"""Xavier (Glorot) normal: :math:`N(0, \sigma^2)`.

    .. math:: \sigma = \text{gain} \sqrt{2 / (\text{fan\_in} + \text{fan\_out})}

    Parameters
    ----------
    gain : float, default 1
        A scaling factor.

    Raises
    ------
    ValueError
        When filling an array of fewer than 2 dimensions, or if ``gain`` < 0 (a negative sigma).

    References
    ----------
    Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural networks", 2010.

    Examples
    --------
    >>> import msparam as ms
    >>> from msparam.common.initializer import XavierNormal, initializer
    >>> ms.set_seed(1)
    >>> w = initializer(XavierNormal(gain=2), (33, 17)).init_data()  # or 'xavier_normal'
    """

    gain: float

    def __init__(self, gain: float = 1) -> None:
        check_real(gain, "gain", "XavierNormal")
        self.gain = gain

    def _distribution(self, shape: tuple[int, ...]) -> "tuple[Any, ...]":
        fan_in, fan_out = _calculate_fan_in_and_fan_out(shape)
        return _normal(0, self.gain * math.sqrt(2.0 / float(fan_in + fan_out)))


# The Parameters, Raises and References sections both He initializers' docstrings share.
_HE_ARGUMENTS_DOC = """
    Parameters
    ----------
    negative_slope : int or float, default 0
        The negative slope of the rectifier after this layer (only used for 'leaky_relu').
    mode : {'fan_in', 'fan_out'}, default 'fan_in'
        Which fan (any letter case): 'fan_in' keeps the forward variance, 'fan_out' the backward one.
    nonlinearity : str, default 'leaky_relu'
        The activation whose gain (``_calculate_gain``) is used; 'relu' or 'leaky_relu' are usual.

    Raises
    ------
    TypeError
        If ``mode`` is not a str.
    ValueError
        If ``mode`` or ``nonlinearity`` is unknown, ``negative_slope`` is not an int or float for
        'leaky_relu', or when filling an array of fewer than 2 dimensions.

    References
    ----------
    He et al., "Delving Deep into Rectifiers", 2015, https://arxiv.org/abs/1502.01852.
"""


class _HeInitializer(_OneRandomFill):
    """The arguments He (Kaiming) initializers share, checked once, and their standard deviation."""

    negative_slope: float
    mode: str
    nonlinearity: str

    def __init__(self, negative_slope: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> None:
        # Checked now rather than at the first fill, with the helpers that the fill uses.
        _fan_mode(type(self).__name__, mode)
        _calculate_gain(nonlinearity, negative_slope)
        self.negative_slope, self.mode, self.nonlinearity = negative_slope, mode, nonlinearity

    def _std(self, shape: tuple[int, ...]) -> float:
        mode = _fan_mode(type(self).__name__, self.mode)
        fan_in, fan_out = _calculate_fan_in_and_fan_out(shape)
        fan = fan_in if mode == "fan_in" else fan_out
        return _calculate_gain(self.nonlinearity, self.negative_slope) / math.sqrt(fan)


@_register("he_uniform")
class HeUniform(_HeInitializer):
    __doc__ = r"""He (Kaiming) uniform: :math:`U(-b, b)` with
    :math:`b = \sqrt{3} \cdot \text{gain} / \sqrt{\text{fan}}`.
""" + _HE_ARGUMENTS_DOC + """
    Examples
    --------
    >>> import msparam as ms
    >>> from msparam.common.initializer import HeUniform, initializer
    >>> ms.set_seed(1)
    >>> w = initializer(HeUniform(mode='fan_out', nonlinearity='relu'), (33, 17)).init_data()
    """

    def _distribution(self, shape: tuple[int, ...]) -> "tuple[Any, ...]":
        boundary = math.sqrt(3.0) * self._std(shape)
        return _checked_fill.fill_uniform, -boundary, boundary


@_register("he_normal")
class HeNormal(_HeInitializer):
    __doc__ = r"""He (Kaiming) normal: :math:`N(0, \sigma^2)` with :math:`\sigma = \text{gain} / \sqrt{\text{fan}}`.
""" + _HE_ARGUMENTS_DOC + """
    Examples
    --------
    >>> import msparam as ms
    >>> from msparam.common.initializer import HeNormal, initializer
    >>> ms.set_seed(1)
    >>> w = initializer(HeNormal(negative_slope=0.1), (64, 3, 3, 3)).init_data()  # or 'he_normal'
    """

    def _distribution(self, shape: tuple[int, ...]) -> "tuple[Any, ...]":
        return _normal(0, self._std(shape))


@_register()
class Identity(Initializer):
    """The 2-D identity: 1 where row == column, 0 elsewhere (``numpy.eye``, also for non-square shapes).

    Raises
    ------
    ValueError
        When filling an array that is not 2-D.

    Examples
    --------
    >>> from msparam.common.initializer import Identity, initializer
    >>> initializer(Identity(), (2, 3)).init_data().asnumpy()  # or 'identity'
    array([[1., 0., 0.],
           [0., 1., 0.]], dtype=float32)
    """

    def _unit_positions(self, shape: tuple[int, ...]) -> tuple[npt.NDArray[np.intp], ...]:
        """The indices of the ones in an array of ``shape`` (all else is 0)."""
        if len(shape) != 2:
            raise ValueError(f"For 'Identity', the initialized tensor must be 2-D, but got {len(shape)} dimensions.")
        diagonal = np.arange(min(shape))
        return diagonal, diagonal

    def _initialize(self, arr: npt.NDArray[Any]) -> None:
        positions = self._unit_positions(arr.shape)
        array_fill(arr, 0, get_num_threads())
        if arr.flags.c_contiguous:  # every (cols + 1)-th item of the flat view: a tenth of fill_diagonal's time
            step = arr.shape[1] + 1
            arr.reshape(-1)[:positions[0].size * step:step] = 1
        else:
            arr[positions] = 1


@_register()
class Sparse(Initializer):
    r"""A 2-D sparse matrix: :math:`N(0, \text{sigma}^2)` values, with
    :math:`\lceil \text{sparsity} \cdot \text{rows} \rceil` zeros in each column.

    Parameters
    ----------
    sparsity : float
        The fraction of each column set to zero, in [0, 1].
    sigma : float, default 0.01
        The standard deviation of the non-zero values.

    Raises
    ------
    TypeError
        If ``sparsity`` or ``sigma`` is not a real number.
    ValueError
        If ``sparsity`` is outside [0, 1], ``sigma`` < 0, or when filling an array that is not 2-D.

    Notes
    -----
    As MindSpore: one normal fill of the whole (rows, cols) matrix (one stream seed), then, column by
    column, the first zero-count rows of ``numpy.random.permutation(rows)`` (NumPy's global
    RandomState) are set to 0.

    Examples
    --------
    >>> import msparam as ms
    >>> from msparam.common.initializer import Sparse, initializer
    >>> ms.set_seed(1)
    >>> w = initializer(Sparse(sparsity=0.3, sigma=0.5), (33, 17)).init_data()
    """

    sparsity: float
    sigma: float

    def __init__(self, sparsity: float, sigma: float = 0.01) -> None:
        check_real(sparsity, "sparsity", "Sparse")
        check_real(sigma, "sigma", "Sparse")
        if not 0 <= sparsity <= 1:
            raise ValueError(f"For 'Sparse', 'sparsity' must be in [0, 1], but got {sparsity}.")
        if sigma < 0:
            raise ValueError(f"For 'Sparse', 'sigma' must be >= 0, but got {sigma}.")
        self.sparsity, self.sigma = sparsity, sigma

    def _initialize(self, arr: npt.NDArray[Any]) -> None:
        if arr.ndim != 2:
            raise ValueError(f"For 'Sparse', the initialized tensor must be 2-D, but got {arr.ndim} dimensions.")
        values = np.empty(arr.shape, np.float32)
        with draw_lock:  # the stream seed and the permutations: one block of the global stream
            _fill_normal(values, 0, self.sigma)
            self._zero_rows(arr.shape, values)
        arr[...] = values

    def _zero_rows(self, shape: tuple[int, ...], values: "npt.NDArray[Any] | None" = None) -> None:
        """Column by column, set the first rows of ``numpy.random.permutation(rows)`` of ``values``
        to 0 (``values`` None: only draw). The draws are NumPy's global RandomState's, made by
        compiled code under its lock (msparam._core._legacy_shuffle: the same numbers as those
        ``rows``-long permutations, without 1000 calls' overhead for 1000 columns)."""
        rows, cols = shape
        zero_permuted_rows(get_bit_generator(), rows, cols, int(np.ceil(self.sparsity * rows)), values)

    def _skip_draws(self, shape: tuple[int, ...]) -> None:
        """Consume exactly the global draws a fill of ``shape`` makes, without filling."""
        if len(shape) != 2:
            raise ValueError(f"For 'Sparse', the initialized tensor must be 2-D, but got {len(shape)} dimensions.")
        with draw_lock:
            next_stream_seed()
            self._zero_rows(shape)


@_register()
class Dirac(Initializer):
    r"""The Dirac delta for convolution weights: a convolution that passes its input through.

    For an array of shape ``(out, in, *kernel)`` and ``groups`` g, with :math:`m = \text{out} / g`:
    :math:`w[k m + i, i, c_1, \ldots] = 1` for each group k and :math:`i < \min(m, \text{in})`, at the
    kernel centre :math:`c_j = \lfloor \text{kernel}_j / 2 \rfloor`; 0 elsewhere.

    Parameters
    ----------
    groups : int, default 1
        The number of groups of the convolution; each group is preserved on its own.

    Raises
    ------
    TypeError
        If ``groups`` is not an int.
    ValueError
        If ``groups`` < 1, or when filling an array that is not 3-, 4- or 5-D or whose first
        dimension ``groups`` does not divide.

    Examples
    --------
    >>> import msparam as ms
    >>> from msparam.common.initializer import Dirac, initializer
    >>> ms.set_seed(1)
    >>> w = initializer(Dirac(groups=2), (6, 4, 3, 3)).init_data()  # or 'dirac' for groups=1
    """

    groups: int

    def __init__(self, groups: int = 1) -> None:
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
            raise TypeError(f"For 'Dirac', 'groups' must be an int, but got {type(groups).__name__}.")
        if groups < 1:
            raise ValueError(f"For 'Dirac', 'groups' must be >= 1, but got {groups}.")
        self.groups = int(groups)

    def _unit_positions(self, shape: tuple[int, ...]) -> tuple[npt.NDArray[np.intp], ...]:
        """The indices of the ones in an array of ``shape`` (all else is 0)."""
        if len(shape) not in (3, 4, 5):
            raise ValueError(f"For 'Dirac', the initialized tensor must be 3-, 4- or 5-D, but got {len(shape)} "
                             "dimensions.")
        if shape[0] % self.groups:
            raise ValueError(f"For 'Dirac', the first dimension of the initialized tensor ({shape[0]}) must "
                             f"be divisible by 'groups' ({self.groups}).")
        per_group = shape[0] // self.groups
        diagonal = np.arange(min(per_group, shape[1]))
        out_channels = (np.arange(self.groups)[:, None] * per_group + diagonal).ravel()
        centre = tuple(np.full(out_channels.size, size // 2) for size in shape[2:])
        return (out_channels, np.tile(diagonal, self.groups)) + centre

    def _initialize(self, arr: npt.NDArray[Any]) -> None:
        positions = self._unit_positions(arr.shape)
        array_fill(arr, 0, get_num_threads())
        arr[positions] = 1


@_register()
class Orthogonal(Initializer):
    r"""A (semi-)orthogonal matrix :math:`Q \cdot \text{gain}`, the trailing dimensions flattened.

    With rows = shape[0] and cols the product of the others, :math:`A \sim N(0, 1)` of shape
    (rows, cols) (transposed when rows < cols) is factored :math:`A = QR` and each column of Q
    multiplied by :math:`\operatorname{sign}(R_{ii})`, so that Q is uniformly (Haar) distributed.

    Parameters
    ----------
    gain : float, default 1.0
        A scaling factor.

    Raises
    ------
    ValueError
        When filling an array of fewer than 2 dimensions.

    Notes
    -----
    As MindSpore: one normal fill in float32 (one stream seed) and ``numpy.linalg.qr`` in float32,
    so the last bits depend on the LAPACK build.

    References
    ----------
    Saxe et al., "Exact solutions to the nonlinear dynamics of learning in deep linear neural
    networks", 2013, https://arxiv.org/abs/1312.6120.

    Examples
    --------
    >>> import msparam as ms
    >>> from msparam.common.initializer import Orthogonal, initializer
    >>> ms.set_seed(1)
    >>> w = initializer(Orthogonal(gain=2.0), (20, 3, 4)).init_data()  # or 'orthogonal'
    """

    gain: float

    def __init__(self, gain: float = 1.) -> None:
        check_real(gain, "gain", "Orthogonal")
        self.gain = gain

    def _initialize(self, arr: npt.NDArray[Any]) -> None:
        if arr.ndim < 2:
            raise ValueError(f"For 'Orthogonal', the initialized tensor must have at least 2 dimensions, "
                             f"but got {arr.ndim}.")
        rows = arr.shape[0]
        values = np.empty((rows, arr.size // rows), np.float32)
        _fill_normal(values, 0, 1)
        wide = values.shape[0] < values.shape[1]
        q, r = np.linalg.qr(values.T if wide else values)
        q *= np.sign(np.diag(r))
        arr[...] = ((q.T if wide else q) * self.gain).reshape(arr.shape)

    def _skip_draws(self, shape: tuple[int, ...]) -> None:
        """Consume exactly the global draws a fill of ``shape`` makes, without filling."""
        if len(shape) < 2:
            raise ValueError(f"For 'Orthogonal', the initialized tensor must have at least 2 dimensions, "
                             f"but got {len(shape)}.")
        next_stream_seed()


@_register()
class VarianceScaling(_OneRandomFill):
    r"""Variance scaling: values of variance :math:`\text{scale} / n`, with n the fan given by ``mode``.

    - 'untruncated_normal': :math:`N(0, \sigma^2)`, :math:`\sigma = \sqrt{\text{scale} / n}`;
    - 'uniform' and 'truncated_normal': :math:`U(-l, l)`, :math:`l = \sqrt{3 \, \text{scale} / n}`;

    where n is :math:`\max(1, \text{fan\_in})`, :math:`\max(1, \text{fan\_out})` or
    :math:`\max(1, (\text{fan\_in} + \text{fan\_out}) / 2)`.

    Parameters
    ----------
    scale : float, default 1.0
        The scaling factor, > 0.
    mode : {'fan_in', 'fan_out', 'fan_avg'}, default 'fan_in'
        Which fan n is (lower case only, as MindSpore).
    distribution : {'truncated_normal', 'untruncated_normal', 'uniform'}, default 'truncated_normal'

    Raises
    ------
    TypeError
        If ``scale`` is not a real number.
    ValueError
        If ``scale`` <= 0, ``mode`` or ``distribution`` is unknown, or when filling an array of
        fewer than 2 dimensions.

    Notes
    -----
    MindSpore 2.10 samples 'truncated_normal' from the uniform distribution above: its code tests
    for the name 'truncated_norm', which the argument check never lets through. msparam follows it
    (MindSpore's own arrays confirm it bit for bit), so ``VarianceScaling()`` equals
    ``VarianceScaling(distribution='uniform')``.

    Examples
    --------
    >>> import msparam as ms
    >>> from msparam.common.initializer import VarianceScaling, initializer
    >>> ms.set_seed(1)
    >>> w = initializer(VarianceScaling(2.0, 'fan_avg', 'uniform'), (33, 17)).init_data()
    """

    scale: float
    mode: str
    distribution: str

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal") -> None:
        check_real(scale, "scale", "VarianceScaling")
        if scale <= 0:
            raise ValueError(f"For 'VarianceScaling', 'scale' must be > 0, but got {scale}.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"For 'VarianceScaling', 'mode' must be 'fan_in', 'fan_out' or 'fan_avg', "
                             f"but got {mode!r}.")
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"For 'VarianceScaling', 'distribution' must be 'uniform', 'truncated_normal' or "
                             f"'untruncated_normal', but got {distribution!r}.")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def _distribution(self, shape: tuple[int, ...]) -> "tuple[Any, ...]":
        fan_in, fan_out = _calculate_fan_in_and_fan_out(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.}[self.mode]
        scale = self.scale / max(1., fan)
        if self.distribution == "untruncated_normal":
            return _normal(0, np.sqrt(scale))
        limit = np.sqrt(3.0 * scale)
        return _checked_fill.fill_uniform, -limit, limit


@_register()
class TruncatedNormal(_OneRandomFill):
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
        is made; here at once), or if ``a > b`` (MindSpore accepts it silently).

    Warns
    -----
    RuntimeWarning
        If no value of the algorithm below can land inside ``[a, b]`` (a window far in a tail,
        e.g. ``sigma=0.02, a=0.17, b=0.2``: every value is 0.105894).  The values are still
        MindSpore's, bit for bit.

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
    values bit for bit.  The algorithm clamps :math:`2p` to :math:`[2^{-149}, 2 - 2^{-23}]`, so
    no value lies above about mean + 5.3 sigma or below about mean - 14 sigma, and
    :math:`\Phi` rounds to 1 in double beyond about 8.3 sigma: a window outside that range
    gets values outside ``[a, b]`` (the RuntimeWarning above).

    Examples
    --------
    >>> import msparam as ms
    >>> from msparam.common.initializer import TruncatedNormal, initializer
    >>> ms.set_seed(1)
    >>> w = initializer(TruncatedNormal(sigma=1.0, mean=0.1, a=-0.5, b=1.5), (2, 3)).init_data()
    >>> bool(((w.asnumpy() >= -0.5) & (w.asnumpy() <= 1.5)).all())
    True
    """

    sigma: float
    mean: float
    a: float
    b: float

    def __init__(self, sigma: float = 0.01, mean: float = 0.0, a: float = -2.0, b: float = 2.0) -> None:
        for name, value in (("sigma", sigma), ("mean", mean), ("a", a), ("b", b)):
            check_real(value, name, "TruncatedNormal")
        if not np.float32(sigma) > 0:  # MindSpore computes with the float32 value
            raise ValueError(f"For 'TruncatedNormal', 'sigma' must be positive as a float32, but got {sigma}.")
        if a > b:
            raise ValueError(f"For 'TruncatedNormal', 'a' must be <= 'b', but got a={a}, b={b}.")
        if not _checked_fill.truncated_normal_reaches(mean, sigma, a, b):
            warnings.warn(f"TruncatedNormal(sigma={sigma}, mean={mean}, a={a}, b={b}): the window [a, b] lies "
                          "where MindSpore's inverse-CDF algorithm cannot land (too far in a tail); "
                          "no value will be inside [a, b].", RuntimeWarning, stacklevel=2)
        self.sigma, self.mean, self.a, self.b = sigma, mean, a, b

    def _distribution(self, shape: tuple[int, ...]) -> "tuple[Any, ...]":
        return _checked_fill.fill_truncated_normal, self.mean, self.sigma, self.a, self.b


_CONSTANT_FILLS: "dict[type[Initializer], Callable[[Any], complex]]" = {Zero: lambda init: 0, One: lambda init: 1, Constant: lambda init: init.value}
_ONE_RANDOM_FILLS = (Uniform, Normal, TruncatedNormal, XavierUniform, XavierNormal, HeUniform, HeNormal,
                     VarianceScaling)


def fill_plan(init: Initializer, shape: Sequence[int]) -> "tuple[Any, ...] | None":
    """Package-internal seam for msparam.parallel: how ``init`` fills an array of ``shape``, in a
    form that lets any slice of that array be filled alone, bit-equal to the whole fill.

    Parameters
    ----------
    init : Initializer
    shape : tuple of int
        The full array's shape.

    Returns
    -------
    tuple or None
        ``("constant", value)``; ``("random", fill, params)``: one fill
        ``fill(seed, out, *params, start=...)`` of the stream seed the caller draws with
        ``next_stream_seed()``; ``("units", positions)``: zeros with ones at the index arrays
        ``positions``; ``("whole", skip_draws)``: needs the whole array, and ``skip_draws()``
        consumes exactly the global draws a fill makes; None for an initializer of another class
        (fill the whole array with it).

    Raises
    ------
    ValueError
        What a fill of ``shape`` raises for a shape it cannot fill, before anything is drawn.
    """
    kind = type(init)
    if kind in _CONSTANT_FILLS:
        return "constant", _CONSTANT_FILLS[kind](init)
    if kind in _ONE_RANDOM_FILLS:
        fill, *params = cast(_OneRandomFill, init)._distribution(tuple(shape))
        return "random", fill, tuple(params)
    if kind in (Identity, Dirac):
        return "units", cast("Identity | Dirac", init)._unit_positions(tuple(shape))
    if kind in (Orthogonal, Sparse):
        whole = cast("Orthogonal | Sparse", init)
        return "whole", lambda: whole._skip_draws(tuple(shape))
    return None


# MindSpore's text; it raises ValueError for any shape that is not of positive ints.
_SHAPE_MESSAGE = ("For 'initializer', the argument 'shape' is invalid, the value of 'shape' must be positive "
                  "integer, but got {shape!r}.")


def _check_shape(shape: object) -> tuple[int, ...]:
    return check_shape(shape, 1, _SHAPE_MESSAGE, _SHAPE_MESSAGE, type_error=ValueError)


def initializer(init: InitLike, shape: int | Sequence[int] | None = None,
                dtype: mstype.Type = mstype.float32) -> Tensor:
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
    return Tensor(dtype=dtype, shape=shape, init=resolve(init))


def resolve(init: "str | Initializer | complex") -> Initializer:
    """Package-internal seam: the Initializer that ``init`` stands for, as ``initializer()`` reads it.

    Parameters
    ----------
    init : str, Initializer or number
        A registered name (case-insensitive) gives a new instance with default arguments, a
        number a :class:`Constant`, an Initializer itself.

    Raises
    ------
    ValueError
        If ``init`` is a str that names no initializer.
    """
    if isinstance(init, Initializer):  # first: the check against numbers.Number below is slower
        return init
    if isinstance(init, str):
        try:
            return _REGISTRY[init.lower()]()
        except KeyError:
            raise ValueError(f"For 'initializer', 'init' {init!r} is not a known initializer name; "
                             f"known names: {sorted(_REGISTRY)}.") from None
    if isinstance(init, Initializer):
        return init
    return Constant(init)


def registered_initializers() -> "dict[str, type[Initializer]]":
    """Package-internal seam: ``{name: Initializer class}`` for every name ``initializer()`` accepts
    (lower case; aliases such as ``'zeros'`` included). A new dict each call."""
    return dict(_REGISTRY)
