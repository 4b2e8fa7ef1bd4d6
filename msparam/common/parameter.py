"""Parameter (a named, trainable Tensor whose buffer a compiled Storage owns) and ParameterTuple."""
import functools
import itertools
import numbers
import re
import warnings

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable, Union, cast

import numpy as np
import numpy.typing as npt

from msparam._core._storage import array_copy, array_copy_into, array_empty, array_scalar
from msparam._threads import get_num_threads
from msparam._validation import check_bool
from msparam.common import dtype as mstype
from msparam.common.tensor import Tensor, _to_numpy
from msparam.parallel import defer_fill, parameters_stay_lazy, slice_request

if TYPE_CHECKING:
    from msparam.common.initializer import Initializer

__all__ = ["Parameter", "ParameterTuple"]

# What Parameter.clone and ParameterTuple.clone take as ``init``: 'same', or what initializer() takes.
CloneInit = Union[str, "Initializer", Tensor, float]

PARAMETER_NAME_DEFAULT = "Parameter"
_NAME_MAX_LENGTH = 1024
_FLOAT32 = mstype.float32._code
_INT32 = mstype.int32._code
# MindSpore 2.10's Validator.check_str_by_regular default, used by ParameterTuple.clone (re.match, ASCII).
_CLONE_PREFIX_PATTERN = re.compile(r"^\w+[0-9a-zA-Z\_\.]*$", re.ASCII)
# Unnamed Parameters print as "Parameter" (the r1.9 tutorial) but, like MindSpore's "Parameter#N",
# each carries a serial number that tells them apart.
_UNNAMED_SERIALS = itertools.count(1)


# MindSpore's Parameter words its bool checks so (the Validator's BOOL names the owner instead).
_BOOL_MESSAGE = "The argument `{arg}` must be bool type, but got {type}."


def _check_bool(value: object, arg_name: str) -> bool:
    return check_bool(value, arg_name, message=_BOOL_MESSAGE)


def _check_name(name: object) -> str:
    if name is None:
        return PARAMETER_NAME_DEFAULT
    if not isinstance(name, str):
        raise ValueError(f"The type of the Parameter's name should be 'string' or 'None', but got {type(name)}.")
    name = name.strip()
    if not name:
        return PARAMETER_NAME_DEFAULT
    if len(name) > _NAME_MAX_LENGTH:
        raise ValueError(f"The length of the '{name}' name should be less than {_NAME_MAX_LENGTH}.")
    return name


def _serial_for(name: object) -> int:
    """A new serial number for a Parameter given no name (None or blank), else 0."""
    return next(_UNNAMED_SERIALS) if name is None or isinstance(name, str) and not name.strip() else 0


_DEFAULT_INPUT_TYPES = "['Tensor', 'int', 'float', 'numpy.ndarray', 'list']"


def _storage_for(data: object) -> npt.NDArray[Any]:
    """Aligned storage holding ``data`` as MindSpore's Parameter would convert it."""
    if isinstance(data, bool):
        raise ValueError("Parameter data can not be `bool`")
    if not isinstance(data, (Tensor, numbers.Integral, float, np.ndarray, list)) or isinstance(data, np.generic) \
            and not isinstance(data, float):
        raise TypeError(f"For 'Parameter', the type of the argument 'default_input' must be in "
                        f"{_DEFAULT_INPUT_TYPES}, but got {type(data).__name__}.")
    if isinstance(data, float):
        return array_scalar(data, _FLOAT32)
    if isinstance(data, int):
        try:
            return array_scalar(data, _INT32)
        except OverflowError:
            raise ValueError(f"For 'Parameter', 'default_input' {data} does not fit in Int32.") from None
    if isinstance(data, Tensor):
        if data.dtype is mstype.string:
            raise TypeError("For 'Parameter', 'default_input' must hold numbers: msparam keeps String tensors "
                            "out of Parameters.")
        if data.has_init:
            values = array_empty(data.shape, data.dtype._code)
            cast("Callable[[npt.NDArray[Any]], object]", data.init)(values)
            return values
        values = data._values()
        return array_copy(values, mstype._BY_NUMPY[values.dtype]._code, get_num_threads())
    if isinstance(data, np.ndarray) and data.dtype in mstype._BY_NUMPY:  # one copy, straight into the storage
        return array_copy(data, mstype._BY_NUMPY[data.dtype]._code, get_num_threads())
    values = _to_numpy(data, None)  # the Tensor constructor's TypeError for unsupported arrays and lists
    if values.dtype not in mstype._BY_NUMPY:
        raise TypeError("For 'Parameter', 'default_input' must hold numbers: msparam keeps String tensors out "
                        "of Parameters.")
    return array_copy(values, mstype._BY_NUMPY[values.dtype]._code, get_num_threads())


@functools.cache
def _converts_exactly(source: "np.dtype[Any]", target: "np.dtype[Any]") -> bool:
    """Whether every value of the NumPy dtype ``source`` survives conversion to ``target`` and back
    (NaN stays NaN): tried on every bit pattern of a type of at most 2 bytes. A wider source
    (int32, float32, ...) never fits into bfloat16 or float8, and casts within the implicit
    conversion order never get here; other pairs follow NumPy's safe casting."""
    if source.itemsize > 2:
        return bool(target.itemsize > source.itemsize and np.can_cast(source, target, "safe"))
    if source.kind == "b":
        values = np.array([False, True])
    else:
        values = np.arange(1 << (8 * source.itemsize), dtype=np.uint32).astype(f"u{source.itemsize}").view(source)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # NumPy's ComplexWarning and ml_dtypes' overflow and NaN warnings
        back = values.astype(target).astype(source)
        if source.kind in "biu":
            return bool(np.array_equal(values, back))
        same = (back == values) | (np.isnan(back) & np.isnan(values))
    return bool(same.all())


class Parameter(Tensor):
    """A Tensor that is a network argument: it has a name and may be trained.

    Parameters
    ----------
    default_input : Tensor, int, float, list or numpy.ndarray
        The initial value. An int becomes Int32, a float Float32; a lazy initializer Tensor
        (``initializer(...)``) is drawn now. A bool raises ValueError.
    name : str, optional
        The name; an unnamed Parameter is named ``"Parameter"`` (as in the r1.9 tutorial) and
        takes the attribute name of the Cell it is first assigned to. Unnamed Parameters are
        still told apart (MindSpore names them ``Parameter#N``): a ParameterTuple accepts several.
    requires_grad : bool, default True
        Whether training updates it.
    layerwise_parallel : bool, default False
        Kept for MindSpore compatibility.

    Notes
    -----
    The values live in a 64-byte-aligned buffer owned by the compiled ``Storage`` class;
    ``asnumpy()`` is a view of it.

    In 'semi_auto_parallel' mode (``set_auto_parallel_context``) a Parameter made from a lazy
    initializer Tensor stays lazy, as in MindSpore: it takes its stream seed now, and
    :meth:`init_data` later draws the full tensor or only this rank's slice of it.
    """

    __slots__ = ("_name", "_requires_grad", "_layerwise_parallel", "_sliced", "_serial", "_layout")
    _name: str
    _requires_grad: bool
    _layerwise_parallel: bool
    _sliced: bool
    _serial: int
    _layout: "tuple[Any, ...] | None"
    init: "Callable[[npt.NDArray[Any]], object] | None"  # Tensor's; in parallel mode a DeferredFill
    if TYPE_CHECKING:  # set below the class
        _adopt: "Callable[[npt.NDArray[Any], str], Parameter]"

    def __init__(self, default_input: Any, name: str | None = None, requires_grad: bool = True,
                 layerwise_parallel: bool = False) -> None:
        # MindSpore's order of checks: a bool, then data other than numbers and tuples is converted
        # (its errors first), then the name and flags are checked, then numbers and tuples.
        if isinstance(default_input, bool):
            raise ValueError("Parameter data can not be `bool`")
        array_data = not isinstance(default_input, (numbers.Number, tuple, np.generic))
        if array_data:
            self._take_initial_values(default_input)
        self._name = PARAMETER_NAME_DEFAULT if name is None else _check_name(name)
        self._serial = _serial_for(name)
        self._requires_grad = _check_bool(requires_grad, "requires_grad")
        self._layerwise_parallel = _check_bool(layerwise_parallel, "layerwise_parallel")
        if not array_data:
            self._take_initial_values(default_input)

    def _take_initial_values(self, default_input: object) -> None:
        """Hold ``default_input``'s values, or in parallel mode a lazy initializer's deferred fill."""
        if isinstance(default_input, Tensor) and default_input.has_init and parameters_stay_lazy():
            self._array = None
            self._lazy_shape, self._lazy_dtype = default_input.shape, default_input.dtype
            self.init = defer_fill(default_input)
        else:
            self._array = _storage_for(default_input)
            self.init = None

    # --- attributes ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, name: "str | None") -> None:
        self._name = _check_name(name)
        self._serial = _serial_for(name)

    @property
    def has_generated_name(self) -> bool:
        """True while the Parameter has the name it got for having none (``"Parameter"``).

        A Cell renames such a Parameter when it registers it, as MindSpore renames its
        ``Parameter#N`` names.
        """
        return self._serial != 0 and self._name == PARAMETER_NAME_DEFAULT

    def _identity_key(self) -> tuple[str, int]:
        """What must be unique in a ParameterTuple: the name, and for unnamed Parameters their serial."""
        return (self._name, self._serial)

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._requires_grad = _check_bool(value, "requires_grad")

    @property
    def layerwise_parallel(self) -> bool:
        return self._layerwise_parallel

    @layerwise_parallel.setter
    def layerwise_parallel(self, value: bool) -> None:
        self._layerwise_parallel = _check_bool(value, "layerwise_parallel")

    @property
    def sliced(self) -> bool:
        """Whether the values are this rank's slice (``init_data(layout, set_sliced=True)``)."""
        return getattr(self, "_sliced", False)

    @sliced.setter
    def sliced(self, value: bool) -> None:
        self._sliced = _check_bool(value, "sliced")

    @property
    def data(self) -> "Parameter":
        """The Parameter itself (as MindSpore r1.9 prints it)."""
        return self

    def value(self) -> Tensor:
        """The current value as a Tensor sharing the Parameter's memory."""
        return Tensor._wrap(self._values())

    # --- data operations -----------------------------------------------------------------------
    # MindSpore's Parameter.init_data takes other arguments than its Tensor.init_data
    def init_data(self, layout: "tuple[Any, ...] | None" = None,  # type: ignore[override]
                  set_sliced: bool = False) -> "Parameter":
        """Draw a lazy Parameter's values (parallel mode); returns the Parameter.

        Parameters
        ----------
        layout : tuple, optional
            MindSpore's layout ``(dev_mat, tensor_map, slice_shape, field_size, uniform_split,
            opt_shard_group)``: draw only this rank's slice (``msparam.communication.get_rank``),
            equal bit for bit to the same slice of the single-process tensor; the Parameter then
            has the slice's shape.  None: the full tensor.
        set_sliced : bool, default False
            The value of :attr:`sliced` afterwards.

        Raises
        ------
        TypeError
            If ``layout`` is not a tuple.
        ValueError
            If ``layout`` has fewer than six entries or does not fit the tensor and the group
            (checked before anything is allocated).

        Notes
        -----
        A Parameter that already has values is returned unchanged, as in MindSpore.
        """
        if self._array is None:
            _check_bool(set_sliced, "set_sliced")
            request = slice_request(cast(Any, self.init), layout)  # a lazy Parameter's init is its DeferredFill
            values = array_empty(request.shape, self._lazy_dtype._code)
            request.fill(values)
            self._array, self.init = values, None
            self._sliced, self._layout = set_sliced, request.record
        return self

    def set_data(self, data: "Tensor | float", slice_shape: bool = False) -> "Parameter":
        """Replace the values; returns the Parameter.

        Parameters
        ----------
        data : Tensor, int or float
            The new values. A dtype earlier in MindSpore's implicit conversion order is cast
            to the Parameter's dtype; a later one raises TypeError. Into or out of bfloat16 and
            float8 (not in that order), only a dtype whose every value converts exactly is cast.
        slice_shape : bool, default False
            Allow ``data`` to have another shape.

        Any error leaves the old values untouched.
        """
        _check_bool(slice_shape, "slice_shape")
        if isinstance(data, (int, float)) and not isinstance(data, Tensor):
            if self.dtype in mstype.int_type + mstype.uint_type and isinstance(data, float):
                raise TypeError(f"Parameter {self.name} is {self.dtype}, it can not be set with the float {data}.")
            data = Tensor(data, self.dtype)
        elif not isinstance(data, Tensor):
            raise TypeError(f"Parameter {self.name} data type should be Tensor, int or float, "
                            f"but got {type(data).__name__}.")
        incoming = data._values()
        if incoming.shape != self.shape and not slice_shape:
            raise ValueError(f"Can not change the shape of Parameter which has been initialized. Current shape is "
                             f"{self.shape}, and incoming is {incoming.shape}.")
        incoming_dtype = mstype._BY_NUMPY[incoming.dtype]
        if incoming_dtype is not self.dtype:
            if not self._may_cast_from(incoming_dtype):
                raise TypeError(f"Can not change the Parameter dtype. Current dtype is {self.dtype}, and incoming "
                                f"is {incoming_dtype}. Use .set_dtype(xxx) to change the dtype.")
            incoming = mstype.cast_array(incoming, self.dtype._nptype)
        if self._array is not None and incoming.shape == self._array.shape:
            array_copy_into(self._array, incoming, get_num_threads())
        else:  # a new shape, or a lazy Parameter (parallel mode): its full tensor is never drawn
            self._array = array_copy(incoming, self.dtype._code, get_num_threads())
            self.init = None
        return self

    def _may_cast_from(self, incoming_dtype: mstype.Type) -> bool:
        order = mstype.implicit_conversion_seq
        if self.dtype in order and incoming_dtype in order:
            return order[incoming_dtype] < order[self.dtype]
        return _converts_exactly(np.dtype(incoming_dtype._nptype), np.dtype(self.dtype._nptype))

    # MindSpore's Parameter.set_dtype returns the Parameter, its Tensor.set_dtype the dtype
    def set_dtype(self, dtype: "mstype.Type | npt.DTypeLike") -> "Parameter":  # type: ignore[override]
        """Convert the values to ``dtype`` in place of the old ones; returns the Parameter."""
        target = mstype.to_dtype(dtype, "dtype", "Parameter.set_dtype")
        self._array = array_copy(mstype.cast_array(self._values(), target._nptype), target._code, get_num_threads())
        return self

    def clone(self, init: CloneInit = "same") -> "Parameter":
        """An independent copy with the same name and attributes.

        Parameters
        ----------
        init : str, Initializer, Tensor or number, default 'same'
            ``'same'`` copies the values; anything else initialises the copy with
            ``initializer(init, self.shape, self.dtype)``.
        """
        cloned = Parameter._adopt(array_copy(self._values(), self.dtype._code, get_num_threads()), self._name)
        cloned._serial = self._serial
        cloned._requires_grad = self._requires_grad
        cloned._layerwise_parallel = self._layerwise_parallel
        if not (isinstance(init, str) and init == "same"):
            from msparam.common.initializer import initializer
            cloned.set_data(initializer(init, self.shape, self.dtype))
        return cloned

    def copy(self) -> "Parameter":
        return self.clone()

    def __deepcopy__(self, memo: "dict[int, Any]") -> "Parameter":
        return self.clone()

    def __reduce__(self) -> tuple[Callable[..., "Parameter"], tuple[Any, ...]]:  # type: ignore[override]
        name = None if self.has_generated_name else self._name
        return (_rebuild_parameter, (self._values(), name, self._requires_grad, self._layerwise_parallel))

    def __repr__(self) -> str:
        return (f"Parameter (name={self._name}, shape={self.shape}, dtype={self.dtype}, "
                f"requires_grad={self._requires_grad})")

    __str__ = __repr__


def parameter_from_storage(values: npt.NDArray[Any], name: str) -> Parameter:
    """Package-internal seam: a trainable Parameter that takes ownership of ``values`` (no copy, no checks).

    For callers that allocated ``values`` with ``msparam._core._storage.array_empty`` (dtype from
    ``Type.storage_code``) and filled them: layers, checkpoint loading. ``name`` is a valid name.
    """
    param = Parameter.__new__(Parameter)
    param._array = values
    param.init = None
    param._name = name
    param._requires_grad = True
    param._layerwise_parallel = False
    param._serial = 0
    return param


# Parameter's own methods use the seam under the short private name.
Parameter._adopt = staticmethod(parameter_from_storage)


def parameter_layout(param: Parameter) -> "tuple[Any, ...] | None":
    """Package-internal seam (msparam.parallel): ``(layout tuple, full shape)`` of the slice
    ``param`` holds since ``init_data(layout)`` or a sharded load, or None for a full tensor."""
    return getattr(param, "_layout", None)


def set_parameter_layout(param: Parameter, record: "tuple[Any, ...] | None") -> None:
    """Package-internal seam (msparam.parallel): record what ``parameter_layout`` returns."""
    param._layout = record


def _rebuild_parameter(values: npt.NDArray[Any], name: "str | None", requires_grad: bool,
                       layerwise_parallel: bool) -> Parameter:
    return Parameter(Tensor._wrap(values), name, requires_grad, layerwise_parallel)


class ParameterTuple(tuple[Parameter, ...]):
    """A tuple of Parameters with unique names, with :meth:`clone`.

    Unnamed Parameters (all printed as ``Parameter``) count as distinct, as MindSpore's
    ``Parameter#N`` names are. Assigned to a Cell attribute, the tuple registers its Parameters
    with the cell, renaming unnamed ones ``Parameter$1``, ``Parameter$2``, ... as MindSpore does.
    """

    def __new__(cls, iterable: Iterable[Parameter]) -> "ParameterTuple":
        items = tuple(iterable)
        ids: set[int] = set()
        keys: set[tuple[str, int]] = set()
        for item in items:
            if not isinstance(item, Parameter):
                raise TypeError(f"For 'ParameterTuple', every element must be a Parameter, but got "
                                f"{type(item).__name__}.")
            if id(item) in ids:
                continue
            key = item._identity_key()
            if key in keys:
                raise ValueError(f"For 'ParameterTuple', the name '{item.name}' of {item} already exists. "
                                 f"Please set a unique name for each parameter.")
            keys.add(key)
            ids.add(id(item))
        return tuple.__new__(cls, items)

    def clone(self, prefix: str, init: CloneInit = "same") -> "ParameterTuple":
        """New Parameters named ``prefix + '.' + name``, cloned with ``Parameter.clone(init)``.

        Raises
        ------
        TypeError
            If ``prefix`` is not a str.
        ValueError
            If ``prefix`` does not match MindSpore's ``^\\w+[0-9a-zA-Z\\_\\.]*$`` (ASCII): it
            must start with a letter, digit or '_' and hold only those and '.'.
        """
        if not isinstance(prefix, str):
            raise TypeError(f"For 'ParameterTuple.clone', 'prefix' must be str, but got {type(prefix).__name__}.")
        if not _CLONE_PREFIX_PATTERN.match(prefix):
            raise ValueError(f"For 'ParameterTuple.clone', the prefix {prefix!r} is illegal: it must match "
                             f"{_CLONE_PREFIX_PATTERN.pattern!r} (ASCII).")
        clones = []
        for param in self:
            cloned = param.clone(init)
            cloned._name = _check_name(f"{prefix}.{cloned.name}")  # keeps an unnamed Parameter's serial
            clones.append(cloned)
        return ParameterTuple(clones)

    def __reduce__(self) -> tuple[type["ParameterTuple"], tuple[tuple[Parameter, ...]]]:
        return (ParameterTuple, (tuple(self),))
