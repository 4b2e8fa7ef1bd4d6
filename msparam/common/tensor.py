"""Tensor: an n-dimensional array with an msparam dtype, held as a NumPy array on the CPU."""
import numbers
import operator

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Union, cast

import numpy as np
import numpy.typing as npt

from msparam._core._storage import array_copy, array_empty
from msparam._threads import get_num_threads
from msparam._validation import check_shape
from msparam.common import dtype as mstype

__all__ = ["Tensor", "from_numpy", "is_tensor"]

# What Tensor's arithmetic and comparison operators take besides a Tensor (NumPy's rules apply).
TensorOperand = Union["Tensor", npt.NDArray[Any], complex, "np.generic", "list[Any]", "tuple[Any, ...]"]

_NOT_GIVEN = object()


_STRING_KINDS = ("U", "S")


def _is_string_array(array: npt.NDArray[Any]) -> bool:
    """True for NumPy str/bytes arrays, which MindSpore holds as String tensors."""
    return array.dtype.kind in _STRING_KINDS


def _unsupported_array(array: npt.NDArray[Any]) -> TypeError:
    """The TypeError MindSpore raises for an ndarray whose element type it cannot hold."""
    order = {">": "big-endian ", "<": "little-endian "}.get(array.dtype.byteorder, "")
    return TypeError(f"For 'Tensor', initializing the tensor from the numpy array failed: its data type "
                     f"{array.dtype} ({order}{array.dtype.name}) is not supported. Supported are native-endian "
                     f"bool, int8-64, uint8-64, float16-64, complex64/128, ml_dtypes' bfloat16, float8_e4m3fn and "
                     f"float8_e5m2, and str/bytes (String) arrays.")


def _from_sequence(input_data: "Sequence[Any]") -> npt.NDArray[Any]:
    """A list or tuple as an array; ragged or non-number content raises MindSpore's TypeError."""
    try:
        array = np.asarray(input_data)
    except (ValueError, TypeError, OverflowError):
        array = None
    if array is None or array.dtype.kind not in "biufc":
        raise TypeError(f"For Tensor, the input_data is {input_data!r} that contain unsupported element.")
    return array


def _to_numpy(input_data: object, dtype: "mstype.Type | None") -> npt.NDArray[Any]:
    """Convert Tensor constructor input to a new NumPy array of a dtype msparam stores.

    MindSpore's defaults for Python values: int -> Int64, float -> Float32 (also inside lists),
    bool -> Bool. NumPy str/bytes arrays are kept as they are (String tensors).
    """
    if isinstance(input_data, Tensor):
        array = input_data.asnumpy()
    elif isinstance(input_data, np.ndarray):
        array = input_data
        if _is_string_array(array):
            if dtype is not None:
                raise TypeError(f"For 'Tensor', a String tensor cannot be converted to {dtype}.")
            return array.copy()
        if array.dtype not in mstype._BY_NUMPY and not mstype.knows_numpy_dtype(array.dtype):
            raise _unsupported_array(array)
    elif isinstance(input_data, (list, tuple)):
        array = _from_sequence(input_data)
        if dtype is None and array.dtype == np.float64:
            return array.astype(np.float32)
        if dtype is None and array.dtype in mstype._BY_NUMPY:
            return array
    elif isinstance(input_data, (numbers.Number, np.generic)) and not isinstance(input_data, (np.str_, np.bytes_)):
        try:
            array = np.asarray(input_data)
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"For 'Tensor', 'input_data' cannot be converted to an array: {exc}") from None
        if array.dtype not in mstype._BY_NUMPY and not mstype.knows_numpy_dtype(array.dtype):
            raise TypeError(f"For 'Tensor', 'input_data' {input_data!r} has a type msparam does not support: "
                            f"{array.dtype}.")
        if dtype is None and array.dtype == np.float64 and not isinstance(input_data, np.generic):
            return array.astype(np.float32)
        if dtype is None:
            return array
    else:
        raise TypeError(f"For 'Tensor', 'input_data' must be a Tensor, numpy.ndarray, list, tuple, int, float, "
                        f"bool or complex, but got {type(input_data).__name__}.")
    if dtype is not None:
        if _is_string_array(array):
            raise TypeError(f"For 'Tensor', a String tensor cannot be converted to {dtype}.")
        try:
            return mstype.cast_array(array, dtype._nptype)
        except (ValueError, OverflowError, TypeError) as exc:
            raise ValueError(f"For 'Tensor', 'input_data' cannot be converted to {dtype}: {exc}") from None
    if _is_string_array(array):
        return array.copy()
    return array_copy(array, mstype._BY_NUMPY[array.dtype]._code, get_num_threads())


_PRINT_THRESHOLD, _PRINT_EDGE_ITEMS = 1000, 3


def _printed_part(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The elements ``repr`` shows: all, or those at the edges of each axis beyond the threshold."""
    if values.size <= _PRINT_THRESHOLD:
        return values
    for axis, size in enumerate(values.shape):
        if size > 2 * _PRINT_EDGE_ITEMS:
            edges = np.r_[:_PRINT_EDGE_ITEMS, size - _PRINT_EDGE_ITEMS:size]
            values = values.take(edges, axis=axis)
    return values


def _contiguous_strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    strides, step = [], itemsize
    for dim in reversed(shape):
        strides.append(step)
        step *= max(dim, 1)
    return tuple(reversed(strides))


def _check_shape(shape: "int | Sequence[int]") -> tuple[int, ...]:
    return check_shape(shape, 0, "For 'Tensor', 'shape' must be an int or a list/tuple of int, but got {shape!r}.",
                       "For 'Tensor', 'shape' must not have negative dimensions, but got {shape!r}.")


class Tensor:
    """An n-dimensional array with an msparam dtype.

    Parameters
    ----------
    input_data : Tensor, numpy.ndarray, list, tuple, int, float, bool or complex, optional
        The values. Python ints become Int64, floats Float32 (also inside lists), bools Bool.
    dtype : msparam dtype, optional
        Convert the values to this dtype.
    shape : int, list or tuple of int, optional
        With ``dtype`` and no ``input_data``: the shape of a tensor of zeros, or with ``init``
        the shape of the lazily initialised tensor.
    init : Initializer, optional
        With ``dtype`` and ``shape`` instead of ``input_data``: nothing is drawn until
        :meth:`init_data` (or anything that needs the values) runs.

    Raises
    ------
    TypeError
        For a ragged or non-number list (MindSpore's "... contain unsupported element"), and for
        NumPy arrays of a type msparam cannot hold (structured, object, datetime/timedelta,
        big-endian), as MindSpore.

    Notes
    -----
    ``asnumpy()`` shares memory with the tensor, as MindSpore's does on the CPU. NumPy str and
    bytes arrays become String tensors (``dtype`` ``msparam.string``), which hold and print
    their values and convert to nothing else.
    """

    __slots__ = ("_array", "init", "_lazy_shape", "_lazy_dtype", "__weakref__")
    __array_priority__ = 100
    _array: "npt.NDArray[Any] | None"
    init: "Callable[[npt.NDArray[Any]], object] | None"
    _lazy_shape: tuple[int, ...]
    _lazy_dtype: mstype.Type

    def __init__(self, input_data: Any = None, dtype: mstype.Type | None = None,
                 shape: int | Sequence[int] | None = None, init: Any = None) -> None:
        if dtype is not None:
            if not isinstance(dtype, mstype.Type):
                raise TypeError(f"For 'Tensor', 'dtype' must be a concrete msparam dtype such as msparam.float32, "
                                f"but got {dtype!r}.")
            if not dtype.is_concrete:  # MindSpore: TypeError here, KeyError where initializer() looks it up
                raise mstype.DtypeLookupError(f"For 'Tensor', 'dtype' must be a concrete msparam dtype such as "
                                              f"msparam.float32, but got {dtype!r}.")
        if init is not None:
            if input_data is not None:
                raise ValueError("For 'Tensor', 'input_data' and 'init' cannot both be given.")
            if shape is None or dtype is None:
                raise ValueError("For 'Tensor', 'init', 'dtype' and 'shape' must be given together.")
            if not callable(init):
                raise TypeError(f"For 'Tensor', 'init' must be an Initializer, but got {type(init).__name__}.")
            self._array = None
            self.init = init
            self._lazy_shape = _check_shape(shape)
            self._lazy_dtype = dtype
            return
        if input_data is None:
            if dtype is None or shape is None:
                raise TypeError("For 'Tensor', 'input_data' must be given unless 'dtype' and 'shape' are.")
            self._array = array_empty(_check_shape(shape), dtype._code, zero=True)
            self.init = None
            return
        if shape is not None:
            raise ValueError("For 'Tensor', 'shape' must be None when 'input_data' is given.")
        self._array = _to_numpy(input_data, dtype)
        self.init = None

    @staticmethod
    def from_numpy(array: npt.NDArray[Any]) -> "Tensor":
        """A Tensor sharing memory with the NumPy array ``array`` (a C-contiguous copy of any other)."""
        if not isinstance(array, np.ndarray):
            raise TypeError(f"For 'Tensor.from_numpy', 'array' must be a numpy.ndarray, but got {type(array).__name__}.")
        if (array.dtype not in mstype._BY_NUMPY and not _is_string_array(array)
                and not mstype.knows_numpy_dtype(array.dtype)):
            raise _unsupported_array(array)
        return Tensor._wrap(np.ascontiguousarray(array))

    # --- lazy initialisation -------------------------------------------------------------------
    @property
    def has_init(self) -> bool:
        """True while the tensor is a lazy initializer that has not drawn its values."""
        return self._array is None

    def init_data(self, slice_index: "int | None" = None, shape: "Sequence[int] | None" = None,
                  opt_shard_group: "str | None" = None) -> "Tensor":
        """Draw the values of a lazy tensor once; returns the tensor."""
        if self._array is None:
            array = array_empty(self._lazy_shape, self._lazy_dtype._code)  # from Storage's block cache
            fill = cast("Callable[[npt.NDArray[Any]], object]", self.init)  # a lazy tensor has its init
            fill(array)
            self._array = array
            self.init = None
        return self

    def _values(self) -> npt.NDArray[Any]:
        return cast(npt.NDArray[Any], self.init_data()._array) if self._array is None else self._array

    # --- attributes ----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._lazy_shape if self._array is None else self._array.shape

    @property
    def dtype(self) -> mstype.Type:
        if self._array is None:
            return self._lazy_dtype
        found = mstype._BY_NUMPY.get(self._array.dtype)
        # every array a Tensor holds has a type in the table, or is a String tensor's
        return mstype.string if found is None and _is_string_array(self._array) else cast(mstype.Type, found)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def itemsize(self) -> int:
        return self._lazy_dtype._itemsize if self._array is None else self._array.itemsize

    @property
    def strides(self) -> tuple[int, ...]:
        """Bytes to step in each dimension, as MindSpore's (always C-contiguous) layout has them."""
        return _contiguous_strides(self.shape, self.itemsize)

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    @property
    def T(self) -> "Tensor":
        return Tensor._wrap(self._values().T)

    # --- conversion ----------------------------------------------------------------------------
    def asnumpy(self) -> npt.NDArray[Any]:
        """The values as a NumPy array sharing memory with the tensor."""
        return self._values()

    def numpy(self) -> npt.NDArray[Any]:
        return self._values()

    def item(self, index: "int | tuple[int, ...] | None" = None) -> Any:
        values = self._values()
        return values.item() if index is None else values.item(index)

    def tolist(self) -> Any:
        return self._values().tolist()

    def astype(self, dtype: "mstype.Type | npt.DTypeLike", copy: bool = True) -> "Tensor":
        """A Tensor of the same values converted to ``dtype`` (msparam/NumPy dtype or name)."""
        target = mstype.to_dtype(dtype, "dtype", "Tensor.astype")
        values = self._values()
        if not copy and values.dtype == target._nptype:
            return self
        return Tensor._wrap(mstype.cast_array(values, target._nptype))

    def copy(self) -> "Tensor":
        return Tensor._wrap(self._values().copy())

    def set_dtype(self, dtype: mstype.Type) -> mstype.Type:
        """Convert the values to ``dtype`` (an msparam dtype) in place; returns the dtype."""
        if not isinstance(dtype, mstype.Type) or not dtype.is_concrete:
            raise TypeError(f"For 'Tensor.set_dtype', 'dtype' must be a concrete msparam dtype such as "
                            f"msparam.float32, but got {dtype!r}.")
        values = self._values()
        if _is_string_array(values):
            raise TypeError(f"For 'Tensor.set_dtype', a String tensor cannot be converted to {dtype}.")
        self._array = array_copy(mstype.cast_array(values, dtype._nptype, copy=False), dtype._code, get_num_threads())
        return dtype

    def assign_value(self, value: "Tensor") -> "Tensor":
        """Take the values, shape and dtype of the Tensor ``value`` (copied); returns this tensor."""
        if not isinstance(value, Tensor):
            raise TypeError(f"For 'Tensor.assign_value', 'value' must be a Tensor, but got {type(value).__name__}.")
        values = value._values()
        if _is_string_array(values):
            self._array = values.copy()
        else:
            self._array = array_copy(values, mstype._BY_NUMPY[values.dtype]._code, get_num_threads())
        self.init = None
        return self

    def reshape(self, *shape: "int | Sequence[int]") -> "Tensor":
        dims = shape[0] if len(shape) == 1 and isinstance(shape[0], (list, tuple)) else shape
        return Tensor._wrap(self._values().reshape(cast("Sequence[int]", dims)))

    def __array__(self, dtype: "npt.DTypeLike | None" = None, copy: "bool | None" = None) -> npt.NDArray[Any]:
        values = self._values()
        if dtype is not None and values.dtype != dtype:
            if copy is False:
                raise ValueError("Tensor.__array__: a dtype change needs a copy")
            return values.astype(dtype)
        return values.copy() if copy else values

    def __dlpack__(self, *, stream: object = None, max_version: "tuple[int, int] | None" = None,
                   dl_device: "tuple[int, int] | None" = None, copy: "bool | None" = None) -> Any:
        kwargs: dict[str, Any] = {"stream": stream}
        if max_version is not None:
            kwargs["max_version"] = max_version
        if dl_device is not None:
            kwargs["dl_device"] = dl_device
        if copy is not None:
            kwargs["copy"] = copy
        return self._values().__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._values().__dlpack_device__()

    def __reduce__(self) -> tuple[type["Tensor"], tuple[Any, ...]]:
        if self._array is None:
            return (Tensor, (None, self._lazy_dtype, self._lazy_shape, self.init))
        return (Tensor, (self._array,))

    def __deepcopy__(self, memo: "dict[int, Any]") -> "Tensor":
        if self._array is None:
            from copy import deepcopy
            return Tensor(None, self._lazy_dtype, self._lazy_shape, deepcopy(self.init, memo))
        return Tensor._wrap(self._array.copy())

    # --- printing ------------------------------------------------------------------------------
    def __str__(self) -> str:
        if self._array is None:
            return f"Tensor(shape={list(self.shape)}, dtype={self.dtype}, value=<uninitialized>)"
        return str(self._array)

    def __repr__(self) -> str:
        if self._array is None:
            return str(self)
        values = self._array
        if values.dtype in mstype._THROUGH_FLOAT32:  # bfloat16, float8: MindSpore prints %g, right-aligned
            wide = values.astype(np.float32)
            width = max((len(f"{x:g}") for x in _printed_part(wide).flat), default=0)
            text = np.array2string(wide, separator=", ", formatter={"float_kind": lambda x: f"{x:g}".rjust(width)},
                                   threshold=_PRINT_THRESHOLD, edgeitems=_PRINT_EDGE_ITEMS)
        elif values.dtype.kind in "fc":
            text = np.array2string(values, separator=", ", formatter={"float_kind": "{: .8e}".format},
                                   threshold=_PRINT_THRESHOLD, edgeitems=_PRINT_EDGE_ITEMS)
        else:
            text = np.array2string(values, separator=", ", threshold=_PRINT_THRESHOLD, edgeitems=_PRINT_EDGE_ITEMS)
        joiner = " " if values.ndim < 2 else "\n"
        return f"Tensor(shape={list(values.shape)}, dtype={self.dtype}, value={joiner}{text})"

    # --- container protocol --------------------------------------------------------------------
    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d Tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        return (Tensor._wrap(row) if isinstance(row, np.ndarray) else Tensor._wrap(np.asarray(row))
                for row in self._values())

    def __contains__(self, element: object) -> bool:
        # As MindSpore 2.10: only a Tensor or a number is looked for; a list, tuple or array is never in.
        if isinstance(element, Tensor):
            element = element._values()
        elif not isinstance(element, numbers.Number):
            return False
        return bool(np.any(self._values() == element))

    def __getitem__(self, index: Any) -> "Tensor":
        if isinstance(index, Tensor):
            index = index._values()
        return Tensor._wrap(np.asarray(self._values()[index]))

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, Tensor):
            index = index._values()
        self._values()[index] = value._values() if isinstance(value, Tensor) else value

    def __bool__(self) -> bool:
        return bool(self._values())

    def __int__(self) -> int:
        return int(self._values())

    def __float__(self) -> float:
        return float(self._values())

    def __index__(self) -> int:
        return operator.index(self._values()[()]) if self.shape == () else operator.index(self._values())

    def __hash__(self) -> int:  # by identity, as object's: == compares elementwise
        return object.__hash__(self)

    if TYPE_CHECKING:  # set below the class from operator's functions; declared here for type checkers
        _wrap: "Callable[[npt.NDArray[Any]], Tensor]"

        def __add__(self, other: TensorOperand) -> "Tensor": ...
        def __radd__(self, other: TensorOperand) -> "Tensor": ...
        def __sub__(self, other: TensorOperand) -> "Tensor": ...
        def __rsub__(self, other: TensorOperand) -> "Tensor": ...
        def __mul__(self, other: TensorOperand) -> "Tensor": ...
        def __rmul__(self, other: TensorOperand) -> "Tensor": ...
        def __truediv__(self, other: TensorOperand) -> "Tensor": ...
        def __rtruediv__(self, other: TensorOperand) -> "Tensor": ...
        def __floordiv__(self, other: TensorOperand) -> "Tensor": ...
        def __rfloordiv__(self, other: TensorOperand) -> "Tensor": ...
        def __mod__(self, other: TensorOperand) -> "Tensor": ...
        def __rmod__(self, other: TensorOperand) -> "Tensor": ...
        def __pow__(self, other: TensorOperand) -> "Tensor": ...
        def __rpow__(self, other: TensorOperand) -> "Tensor": ...
        def __matmul__(self, other: TensorOperand) -> "Tensor": ...
        def __rmatmul__(self, other: TensorOperand) -> "Tensor": ...
        def __and__(self, other: TensorOperand) -> "Tensor": ...
        def __rand__(self, other: TensorOperand) -> "Tensor": ...
        def __or__(self, other: TensorOperand) -> "Tensor": ...
        def __ror__(self, other: TensorOperand) -> "Tensor": ...
        def __xor__(self, other: TensorOperand) -> "Tensor": ...
        def __rxor__(self, other: TensorOperand) -> "Tensor": ...
        def __eq__(self, other: object) -> "Tensor": ...  # type: ignore[override]  # elementwise, as NumPy
        def __ne__(self, other: object) -> "Tensor": ...  # type: ignore[override]
        def __lt__(self, other: TensorOperand) -> "Tensor": ...
        def __le__(self, other: TensorOperand) -> "Tensor": ...
        def __gt__(self, other: TensorOperand) -> "Tensor": ...
        def __ge__(self, other: TensorOperand) -> "Tensor": ...
        def __neg__(self) -> "Tensor": ...
        def __pos__(self) -> "Tensor": ...
        def __abs__(self) -> "Tensor": ...
        def __invert__(self) -> "Tensor": ...


def wrap_array(array: npt.NDArray[Any]) -> Tensor:
    """Package-internal seam: a Tensor around the NumPy ``array`` itself (no copy, no checks).

    For values msparam computed or allocated itself (layer outputs, checkpoint data): ``array``
    must have a dtype msparam stores. ``Tensor.from_numpy`` is the checked public counterpart.
    """
    tensor = object.__new__(Tensor)
    tensor._array = array
    tensor.init = None
    return tensor


# Tensor's own methods use the seam under the short private name.
Tensor._wrap = staticmethod(wrap_array)


def from_numpy(array: npt.NDArray[Any]) -> Tensor:
    """``Tensor.from_numpy(array)``: a Tensor sharing memory with a C-contiguous NumPy array."""
    return Tensor.from_numpy(array)


def is_tensor(obj: object) -> bool:
    """True if ``obj`` is a Tensor (a Parameter included)."""
    return isinstance(obj, Tensor)


def _unwrap(value: object) -> object:
    return value._values() if isinstance(value, Tensor) else value


def _binary(op: Callable[[Any, Any], Any], name: str) -> tuple[Callable[[Tensor, object], object], ...]:
    def forward(self: Tensor, other: object) -> object:
        if not isinstance(other, (Tensor, np.ndarray, numbers.Number, np.generic, list, tuple)):
            return NotImplemented
        return Tensor._wrap(np.asarray(op(self._values(), _unwrap(other))))

    def reflected(self: Tensor, other: object) -> object:
        if not isinstance(other, (np.ndarray, numbers.Number, np.generic, list, tuple)):
            return NotImplemented
        return Tensor._wrap(np.asarray(op(other, self._values())))

    forward.__name__, reflected.__name__ = f"__{name}__", f"__r{name}__"
    return forward, reflected


for _name, _op in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("floordiv", operator.floordiv), ("mod", operator.mod),
                   ("pow", operator.pow), ("matmul", operator.matmul), ("and", operator.and_),
                   ("or", operator.or_), ("xor", operator.xor)):
    _forward, _reflected = _binary(_op, _name)
    setattr(Tensor, f"__{_name}__", _forward)
    setattr(Tensor, f"__r{_name}__", _reflected)

for _name, _op in (("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt), ("le", operator.le),
                   ("gt", operator.gt), ("ge", operator.ge)):
    setattr(Tensor, f"__{_name}__", _binary(_op, _name)[0])

for _name, _unary in (("neg", operator.neg), ("pos", operator.pos), ("abs", operator.abs),
                      ("invert", operator.invert)):
    setattr(Tensor, f"__{_name}__", (lambda op: lambda self: Tensor._wrap(np.asarray(op(self._values()))))(_unary))

del _name, _op, _unary, _forward, _reflected
