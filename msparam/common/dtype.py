"""MindSpore's data types: singletons such as ``int32`` (prints ``Int32``) and conversions.

The tables come from ``codegen/generate.py``; this module only turns them into objects.
``bfloat16``, ``float8_e4m3fn`` and ``float8_e5m2`` are NumPy dtypes from ``ml_dtypes`` (the
extension JAX and TensorFlow use), imported when one of them is first needed (ml_dtypes 0.7 takes
several times NumPy's own import time to load); MindSpore's ``hifloat8`` and ``qint4x2`` have no
NumPy type and are reported as unsupported.
"""
import builtins
import importlib
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from msparam._core import _storage
from msparam._generated import dtype_names as _names, dtype_table as _table

__all__ = ["Type", "dtype_to_nptype", "dtype_to_pytype", "pytype_to_dtype", "get_py_obj_dtype",
           "type_size_in_bytes", "number_type", "int_type", "uint_type", "float_type", "complex_type",
           "all_types", "implicit_conversion_seq"]


class Type:
    """A MindSpore data type. Each exists once: compare with ``==`` or ``is``; pickles by name."""

    __slots__ = ("_name", "_attr", "_numpy_type", "_pytype", "_itemsize", "_kind", "_code")
    _name: str
    _attr: str
    _numpy_type: "type[np.generic] | None"
    _pytype: "type | None"
    _itemsize: int
    _kind: "str | None"
    _code: int

    def __init__(self, name: str, attr: str, nptype: "type[np.generic] | None", pytype: "type | None",
                 itemsize: int, kind: "str | None", code: int) -> None:
        self._name, self._attr, self._numpy_type, self._pytype = name, attr, nptype, pytype
        self._itemsize, self._kind, self._code = itemsize, kind, code

    @property
    def _nptype(self) -> "type[np.generic] | None":
        """The NumPy scalar type (None for types without storage); ml_dtypes' load on first use."""
        if self._numpy_type is None and self._code >= 0:
            _load_extension_types()
        return self._numpy_type

    def __str__(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"msparam.{self._attr}"

    def __reduce__(self) -> str:
        return self._attr

    def __copy__(self) -> "Type":
        return self

    def __deepcopy__(self, memo: object) -> "Type":
        return self

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, "_code"):
            raise AttributeError("msparam dtypes are immutable")
        object.__setattr__(self, name, value)

    @property
    def storage_code(self) -> int:
        """Package-internal: the code by which the compiled cores (``msparam._core``) know this dtype.

        Pass it to ``array_empty``/``array_copy``; -1 for the generic types, which have no storage.
        """
        return self._code

    @property
    def is_concrete(self) -> bool:
        """True for types with storage (every type but the generic Number/Int/UInt/Float)."""
        return self._code >= 0


class UnsupportedTypeError(TypeError, NotImplementedError):
    """Raised for a type with no MindSpore counterpart; MindSpore raises NotImplementedError there."""


class DtypeLookupError(UnsupportedTypeError, KeyError):
    """Raised where MindSpore looks a dtype up in a table and raises KeyError (dtype_to_nptype,
    dtype_to_pytype, a dtype without storage where one is needed); also a TypeError, the precise class."""


def _publish() -> "dict[str, Type]":
    names = {}
    for attr, ms_name, nptype, pytype, itemsize, kind, code, aliases in _table.CONCRETE:
        module, name = nptype.split(".")
        t = Type(ms_name, attr, getattr(np, name) if module == "numpy" else None, pytype, itemsize, kind, code)
        names[attr] = t
        names.update(dict.fromkeys(aliases, t))
    typeless: "tuple[tuple[str, str, type | None], ...]" = _table.GENERIC + _table.NON_NUMBER
    for attr, ms_name, typeless_pytype in typeless:
        names[attr] = Type(ms_name, attr, None, typeless_pytype, 0, None, -1)
    return names


globals().update(_publish())
if TYPE_CHECKING:  # _publish() made these names; the generated module declares them for type checkers
    from msparam._generated.dtype_names import *  # noqa: F401,F403
__all__ += _names.__all__

all_types: "tuple[Type, ...]" = tuple(globals()[row[0]] for row in _table.CONCRETE)
int_type: "tuple[Type, ...]" = tuple(t for t in all_types if t._kind == "i")
uint_type: "tuple[Type, ...]" = tuple(t for t in all_types if t._kind == "u")
float_type: "tuple[Type, ...]" = tuple(t for t in all_types if t._kind == "f")
complex_type: "tuple[Type, ...]" = tuple(t for t in all_types if t._kind == "c")
number_type: "tuple[Type, ...]" = int_type + uint_type + float_type + complex_type
implicit_conversion_seq: "dict[Type, int]" = {globals()[attr]: i for i, attr in enumerate(_table.IMPLICIT_CONVERSION)}

# NumPy's types now; ml_dtypes' join when it is loaded (_load_extension_types)
_BY_NUMPY: "dict[np.dtype[Any], Type]" = {np.dtype(t._numpy_type): t for t in all_types if t._numpy_type is not None}
_BY_PYTYPE: "dict[type, Type]" = {py: globals()[attr] for py, attr in _table.PYTHON_TYPES.items()}
_BY_PYTYPE.update({t._numpy_type: t for t in all_types if t._numpy_type is not None})
_BY_PYTYPE[np.str_] = globals()["string"]
_BY_NAME: "dict[str, Type]" = {name: t for name, t in globals().items() if isinstance(t, Type) and t.is_concrete}
_BY_NAME.update({t._name.lower(): t for t in all_types})
_UNSUPPORTED = {name: reason for attr, ms_name, reason in _table.UNSUPPORTED for name in (attr, ms_name.lower())}


def missing_attribute(module: str, name: str) -> AttributeError:
    """Package-internal: the AttributeError for ``module.name``, saying why for MindSpore's dtypes
    that msparam cannot store (``hifloat8``, ``qint4x2``)."""
    reason = _UNSUPPORTED.get(name)
    if reason is not None:
        return AttributeError(f"msparam does not support MindSpore's dtype {name!r}: {reason}, so msparam "
                              f"cannot store it.")
    return AttributeError(f"module {module!r} has no attribute {name!r}")


if not TYPE_CHECKING:  # a type checker knows the dtypes above, and reports any other name
    def __getattr__(name: str) -> Any:
        raise missing_attribute(__name__, name)


# NumPy dtype -> (its NaN's bits, whether the NaN keeps the input's sign), for MindSpore's Cast;
# filled when ml_dtypes is loaded (an array of those types cannot exist before).
_THROUGH_FLOAT32: "dict[np.dtype[Any], tuple[int, bool]]" = {}
_FLOAT32 = np.dtype(np.float32)
_EXTENSION_MODULE = "ml_dtypes"
_EXTENSION_LOCK = threading.Lock()


def _load_extension_types() -> None:
    """Import ml_dtypes and enter its types in every table (once; a no-op afterwards)."""
    with _EXTENSION_LOCK:
        if _THROUGH_FLOAT32:
            return
        module = importlib.import_module(_EXTENSION_MODULE)
        loaded: "dict[np.dtype[Any], Type]" = {}
        for attr, _, nptype, *_ in _table.CONCRETE:
            t = globals()[attr]
            if t._numpy_type is None:
                object.__setattr__(t, "_numpy_type", getattr(module, nptype.split(".")[1]))
                loaded[np.dtype(t._numpy_type)] = t
        _BY_NUMPY.update(loaded)
        _BY_PYTYPE.update({np_dtype.type: t for np_dtype, t in loaded.items()})
        _THROUGH_FLOAT32.update({np.dtype(globals()[attr]._numpy_type): (nan_bits, keeps_sign)
                                 for attr, nan_bits, keeps_sign in _table.CAST_THROUGH_FLOAT32})


def knows_numpy_dtype(np_dtype: "np.dtype[Any]") -> bool:
    """Package-internal: whether msparam stores ``np_dtype`` (a ``numpy.dtype``). Callers test
    ``np_dtype in _BY_NUMPY`` first; this is the slow path, which loads ml_dtypes' types into the
    tables when ``np_dtype`` is one of them (an array someone else made)."""
    if np_dtype in _BY_NUMPY:
        return True
    if getattr(np_dtype.type, "__module__", None) == _EXTENSION_MODULE:
        _load_extension_types()
    return np_dtype in _BY_NUMPY


def _numpy_dtype_of_code(code: int) -> "np.dtype[Any]":
    """The NumPy dtype of a storage code, for the compiled storage (loads ml_dtypes if needed)."""
    return np.dtype(all_types[code]._nptype)


_storage.set_dtype_resolver(_numpy_dtype_of_code)


def cast_array(values: "npt.NDArray[Any]", nptype: "npt.DTypeLike | None", copy: bool = True) -> "npt.NDArray[Any]":
    """Package-internal: ``values.astype(nptype)`` as MindSpore 2.10's Cast converts.

    Into bfloat16 and float8 every other type goes through float32 first, so a float64 value
    rounds twice (to float32, then to nearest even in the target), which can differ from ml_dtypes'
    direct rounding in the last bit; and every NaN becomes MindSpore's one NaN of the type
    (bfloat16: 0x7FC0 whatever the sign; float8: 0x7F with the input's sign), where ml_dtypes
    keeps part of the payload.
    """
    target = np.dtype(nptype)
    nan = _THROUGH_FLOAT32.get(target)
    if nan is None or values.dtype == target:
        return values.astype(target, copy=copy)
    if values.dtype != _FLOAT32:
        values = values.astype(_FLOAT32)
    with np.errstate(invalid="ignore"):  # ml_dtypes flags each NaN it converts; its bits are set below
        result = values.astype(target)
    is_nan = np.isnan(values)
    if is_nan.any():
        nan_bits, keeps_sign = nan
        bits = result.view(f"u{target.itemsize}")
        bits[is_nan] = nan_bits
        if keeps_sign:
            bits[is_nan & np.signbit(values)] |= 1 << (8 * target.itemsize - 1)
    return result


def cast_scalar(value: object, nptype: "npt.DTypeLike | None") -> object:
    """Package-internal: the number ``value`` as MindSpore's Cast stores it in an array of
    ``nptype`` (for bfloat16 and float8, a 0-d array converted by :func:`cast_array`)."""
    if np.dtype(nptype) in _THROUGH_FLOAT32:
        return cast_array(np.asarray(value), nptype)
    return value


def dtype_to_nptype(type_: Type) -> "type[np.generic]":
    """Convert a MindSpore dtype to the NumPy scalar type, e.g. ``int32`` -> ``numpy.int32``."""
    if isinstance(type_, Type) and type_._nptype is not None:
        return type_._nptype
    raise DtypeLookupError(f"For 'dtype_to_nptype', 'type_' must be a concrete msparam dtype, but got {type_!r}.")


def dtype_to_pytype(type_: Type) -> type:
    """Convert a MindSpore dtype to the Python built-in type, e.g. ``float64`` -> ``float``."""
    if isinstance(type_, Type) and type_._pytype is not None:
        return type_._pytype
    raise DtypeLookupError(f"For 'dtype_to_pytype', 'type_' must be an msparam dtype with a Python "
                               f"counterpart, but got {type_!r}.")


def pytype_to_dtype(obj: object) -> Type:
    """Convert a Python or NumPy type to a MindSpore dtype, e.g. ``int`` -> ``Int64``."""
    if isinstance(obj, np.dtype):
        obj = obj.type
    if isinstance(obj, Type):
        return obj
    if not isinstance(obj, type):
        raise TypeError(f"For 'pytype_to_dtype', the argument 'obj' must be a python type object, "
                        f"such as int, float, bool, but got {type(obj).__name__}.")
    if obj not in _BY_PYTYPE and getattr(obj, "__module__", None) == _EXTENSION_MODULE:
        _load_extension_types()
    try:
        return _BY_PYTYPE[obj]
    except KeyError:
        raise UnsupportedTypeError(f"For 'pytype_to_dtype', the python type {obj} cannot be converted "
                                   f"to an msparam dtype.") from None


def get_py_obj_dtype(obj: object) -> Type:
    """The MindSpore dtype of a Python/NumPy value or type (a Tensor gives its own dtype)."""
    own_dtype = getattr(obj, "dtype", None)
    if isinstance(own_dtype, Type):
        return own_dtype
    if isinstance(obj, Type):
        return obj
    return pytype_to_dtype(obj if isinstance(obj, type) else type(obj))


def type_size_in_bytes(dtype: Type) -> int:
    """Item size of a concrete dtype in bytes."""
    if not isinstance(dtype, Type) or not dtype.is_concrete:
        raise TypeError(f"For 'type_size_in_bytes', 'dtype' must be a concrete msparam dtype, but got {dtype!r}.")
    return dtype._itemsize


def dtype_from_numpy(np_dtype: Any) -> Type:
    """The msparam dtype of a NumPy dtype; TypeError for types msparam does not store."""
    try:
        np_dtype = np.dtype(np_dtype)
        if not knows_numpy_dtype(np_dtype):
            raise KeyError(np_dtype)
        return _BY_NUMPY[np_dtype]
    except (KeyError, TypeError):
        raise UnsupportedTypeError(f"msparam has no dtype for NumPy type {np_dtype!r}.") from None


def to_dtype(value: object, arg_name: str, func_name: str) -> Type:
    """Resolve ``value`` (msparam dtype, NumPy dtype/type, or name such as ``'float32'``) to a concrete dtype."""
    if isinstance(value, Type):
        if value.is_concrete:
            return value
    elif isinstance(value, builtins.str):
        found = _BY_NAME.get(value.lower())
        if found is not None:
            return found
        if value.lower() in _UNSUPPORTED:
            raise UnsupportedTypeError(f"For '{func_name}', '{arg_name}' {value!r} is not supported: "
                                       f"{_UNSUPPORTED[value.lower()]}.")
    elif value is not None and not isinstance(value, builtins.bool):
        try:
            return dtype_from_numpy(value)
        except TypeError:
            pass
    raise TypeError(f"For '{func_name}', '{arg_name}' must be an msparam dtype such as msparam.float32, "
                    f"but got {value!r}.")

