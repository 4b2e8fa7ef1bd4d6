"""MindSpore's data types: singletons such as ``int32`` (prints ``Int32``) and conversions.

The tables come from ``codegen/generate.py``; this module only turns them into objects.
"""
import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

from msparam._generated import dtype_names as _names, dtype_table as _table

__all__ = ["Type", "dtype_to_nptype", "dtype_to_pytype", "pytype_to_dtype", "get_py_obj_dtype",
           "type_size_in_bytes", "number_type", "int_type", "uint_type", "float_type", "complex_type",
           "all_types", "implicit_conversion_seq"]


class Type:
    """A MindSpore data type. Each exists once: compare with ``==`` or ``is``; pickles by name."""

    __slots__ = ("_name", "_attr", "_nptype", "_pytype", "_itemsize", "_kind", "_code")
    _name: str
    _attr: str
    _nptype: "type[np.generic] | None"
    _pytype: "type | None"
    _itemsize: int
    _kind: "str | None"
    _code: int

    def __init__(self, name: str, attr: str, nptype: "type[np.generic] | None", pytype: "type | None",
                 itemsize: int, kind: "str | None", code: int) -> None:
        self._name, self._attr, self._nptype, self._pytype = name, attr, nptype, pytype
        self._itemsize, self._kind, self._code = itemsize, kind, code

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
    for attr, ms_name, np_name, pytype, itemsize, kind, code, aliases in _table.CONCRETE:
        t = Type(ms_name, attr, np.dtype(np_name).type, pytype, itemsize, kind, code)
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

_BY_NUMPY: "dict[np.dtype[Any], Type]" = {np.dtype(t._nptype): t for t in all_types}
_BY_PYTYPE: "dict[type, Type]" = {py: globals()[attr] for py, attr in _table.PYTHON_TYPES.items()}
_BY_PYTYPE.update({t._nptype: t for t in all_types if t._nptype is not None})
_BY_PYTYPE[np.str_] = globals()["string"]
_BY_NAME: "dict[str, Type]" = {name: t for name, t in globals().items() if isinstance(t, Type) and t.is_concrete}
_BY_NAME.update({t._name.lower(): t for t in all_types})


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
        return _BY_NUMPY[np.dtype(np_dtype)]
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
    elif value is not None and not isinstance(value, builtins.bool):
        try:
            return dtype_from_numpy(value)
        except TypeError:
            pass
    raise TypeError(f"For '{func_name}', '{arg_name}' must be an msparam dtype such as msparam.float32, "
                    f"but got {value!r}.")

