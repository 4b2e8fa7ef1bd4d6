"""msparam dtypes: MindSpore's names, singletons, aliases and the three conversion functions."""
import copy
import pickle

import ml_dtypes
import numpy as np
import pytest

import msparam as ms
from msparam.common import dtype as mstype
from msparam.common.initializer import initializer

CONCRETE = [("bool_", "Bool", np.bool_), ("int8", "Int8", np.int8), ("int16", "Int16", np.int16),
            ("int32", "Int32", np.int32), ("int64", "Int64", np.int64), ("uint8", "UInt8", np.uint8),
            ("uint16", "UInt16", np.uint16), ("uint32", "UInt32", np.uint32), ("uint64", "UInt64", np.uint64),
            ("float16", "Float16", np.float16), ("float32", "Float32", np.float32),
            ("float64", "Float64", np.float64), ("bfloat16", "BFloat16", ml_dtypes.bfloat16),
            ("complex64", "Complex64", np.complex64), ("complex128", "Complex128", np.complex128),
            ("float8_e4m3fn", "Float8E4M3FN", ml_dtypes.float8_e4m3fn), ("float8_e5m2", "Float8E5M2", ml_dtypes.float8_e5m2)]


@pytest.mark.parametrize("attr, name, nptype", CONCRETE)
def test_each_dtype_prints_its_mindspore_name_and_maps_to_numpy(attr, name, nptype):
    t = getattr(ms, attr)
    assert str(t) == name
    assert ms.dtype_to_nptype(t) is nptype
    assert mstype.dtype_from_numpy(np.dtype(nptype)) is t
    assert ms.pytype_to_dtype(nptype) is t
    assert ms.type_size_in_bytes(t) == np.dtype(nptype).itemsize
    assert getattr(ms.dtype, attr) is t and getattr(mstype, attr) is t


@pytest.mark.parametrize("alias, attr", [("half", "float16"), ("single", "float32"), ("double", "float64"),
                                         ("byte", "int8"), ("short", "int16"), ("intc", "int32"),
                                         ("ubyte", "uint8"), ("cfloat", "complex64")])
def test_aliases_are_the_same_object(alias, attr):
    assert getattr(ms, alias) is getattr(ms, attr)


def test_generic_types_print_their_names():
    assert [str(t) for t in (ms.number, ms.int_, ms.uint, ms.float_)] == ["Number", "Int", "UInt", "Float"]
    assert not ms.float_.is_concrete and ms.float32.is_concrete
    assert ms.dtype_to_pytype(ms.float_) is float


def test_singletons_hash_and_compare_by_identity():
    assert ms.int32 == ms.int32 and ms.int32 != ms.int64 and ms.int32 != "Int32" and ms.int32 != np.int32
    assert len({ms.int32, ms.int32, ms.float32}) == 2
    for t in mstype.all_types + (ms.float_,):
        assert pickle.loads(pickle.dumps(t)) is t
        assert copy.copy(t) is t and copy.deepcopy(t) is t


def test_dtypes_are_immutable():
    with pytest.raises(AttributeError):
        ms.int32._name = "Int33"


def test_the_tutorials_conversions():
    assert ms.dtype_to_nptype(ms.int32) is np.int32
    assert ms.pytype_to_dtype(int) is ms.int64
    assert ms.pytype_to_dtype(float) is ms.float64  # as MindSpore; Tensor(1.5) is Float32 on its own rule
    assert ms.pytype_to_dtype(bool) is ms.bool_
    assert ms.dtype_to_pytype(ms.float64) is float
    assert ms.dtype_to_pytype(ms.bool_) is bool
    assert ms.dtype_to_pytype(ms.complex64) is complex


@pytest.mark.parametrize("func, bad", [(ms.dtype_to_nptype, np.int32), (ms.dtype_to_nptype, ms.float_),
                                       (ms.dtype_to_nptype, "int32"), (ms.dtype_to_pytype, int),
                                       (ms.dtype_to_pytype, ms.number), (ms.pytype_to_dtype, dict),
                                       (ms.pytype_to_dtype, 3)])
def test_unsupported_input_raises_type_error_naming_it(func, bad):
    with pytest.raises(TypeError, match=func.__name__):
        func(bad)


def test_get_py_obj_dtype():
    assert ms.dtype.get_py_obj_dtype(1) is ms.int64
    assert ms.dtype.get_py_obj_dtype(np.float16(1)) is ms.float16
    assert ms.dtype.get_py_obj_dtype(ms.Tensor([1, 2], ms.uint8)) is ms.uint8


def test_to_dtype_accepts_names_and_numpy_types_and_rejects_the_rest():
    assert mstype.to_dtype("float16", "dtype", "f") is ms.float16
    assert mstype.to_dtype(np.float64, "dtype", "f") is ms.float64
    assert mstype.to_dtype(np.dtype("int8"), "dtype", "f") is ms.int8
    for bad in (None, True, ms.float_, "float128", object()):
        with pytest.raises(TypeError, match="'dtype'"):
            mstype.to_dtype(bad, "dtype", "f")


def test_type_groups():
    assert ms.int32 in mstype.int_type and ms.uint8 in mstype.uint_type
    # MindSpore 2.10's float_type, without hifloat8 (no NumPy type)
    assert mstype.float_type == (ms.float16, ms.float32, ms.float64, ms.bfloat16, ms.float8_e4m3fn, ms.float8_e5m2)
    assert ms.bool_ not in mstype.number_type
    assert set(mstype.number_type) | {ms.bool_} == set(mstype.all_types)


def test_storage_code_is_read_only_and_generic_types_have_none():
    from msparam._core._storage import array_empty
    assert array_empty((2,), ms.float64.storage_code).dtype == np.float64
    assert ms.number.storage_code == -1
    with pytest.raises(AttributeError):
        ms.float32.storage_code = 3


@pytest.mark.parametrize("attr, name, pytype", [("list_", "List", list), ("tuple_", "Tuple", tuple),
                                                ("string", "String", str), ("type_none", "None", type(None))])
def test_non_number_dtypes(attr, name, pytype):
    dtype = getattr(ms, attr)
    assert dtype is getattr(ms.dtype, attr) and str(dtype) == name and not dtype.is_concrete
    assert ms.dtype_to_pytype(dtype) is pytype and ms.pytype_to_dtype(pytype) is dtype
    assert dtype not in ms.dtype.number_type and dtype not in ms.dtype.all_types
    with pytest.raises(KeyError):
        ms.dtype_to_nptype(dtype)  # MindSpore's class; msparam's error is also a TypeError
    with pytest.raises(TypeError):
        ms.Tensor([1.0], dtype=dtype)


@pytest.mark.parametrize("obj, attr", [([1], "list_"), ((1,), "tuple_"), ("a", "string"), (None, "type_none"),
                                       (np.str_, "string"), (list, "list_")])
def test_get_py_obj_dtype_of_non_numbers(obj, attr):
    assert ms.get_py_obj_dtype(obj) is getattr(ms, attr)


@pytest.mark.parametrize("call", [lambda: ms.dtype_to_pytype(int), lambda: ms.dtype_to_pytype(ms.number),
                                  lambda: ms.dtype_to_nptype("int32"),
                                  lambda: initializer("ones", [2], ms.list_)])
def test_dtype_lookups_raise_mindspores_key_error_which_is_also_a_type_error(call):
    with pytest.raises(KeyError):
        call()
    with pytest.raises(TypeError):
        call()
