"""Tensor: construction rules, lazy init, conversions, protocols, operators and printing."""
import copy
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import msparam as ms
from msparam.common.initializer import One

from strategies import DLPACK_DTYPES, arrays, msdtype, same_values


@pytest.mark.parametrize("value, dtype", [(1, ms.int64), (2.5, ms.float32), (True, ms.bool_),
                                          ([1, 2], ms.int64), ([1, 2.5], ms.float32), ([[True], [False]], ms.bool_),
                                          ((1.0, 2.0), ms.float32), (1 + 2j, ms.complex128),
                                          (np.float64(1.5), ms.float64), (np.ones(2, np.float64), ms.float64),
                                          (np.ones(2, np.uint16), ms.uint16)])
def test_default_dtypes_follow_mindspore(value, dtype):
    assert ms.Tensor(value).dtype is dtype


def test_dtype_argument_converts():
    t = ms.Tensor([1.7, -2.2], ms.int32)
    assert t.dtype is ms.int32 and t.asnumpy().tolist() == [1, -2]
    assert ms.Tensor(ms.Tensor([1, 2]), ms.float16).dtype is ms.float16


def test_construction_copies_a_numpy_array():
    source = np.arange(3.0)
    t = ms.Tensor(source)
    source[0] = 9
    assert t.asnumpy()[0] == 0


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(input_data="text"), TypeError, "'input_data'"),
    (dict(input_data=None), TypeError, "'input_data'"),
    (dict(input_data={1: 2}), TypeError, "'input_data'"),
    (dict(input_data=[1, 2], dtype=np.float32), TypeError, "'dtype'"),
    (dict(input_data=[1, 2], dtype=ms.float_), TypeError, "'dtype'"),
    (dict(input_data=[[1, 2], [3]]), TypeError, "unsupported element"),
    (dict(input_data=np.array(["a"]), dtype=ms.float32), TypeError, "String"),
    (dict(input_data=[1], shape=(1,)), ValueError, "'shape'"),
    (dict(dtype=ms.float32, shape=(2,), init=One(), input_data=[1, 2]), ValueError, "'init'"),
    (dict(dtype=ms.float32, init=One()), ValueError, "'shape'"),
    (dict(dtype=ms.float32, shape=(2, -1), init=One()), ValueError, "'shape'"),
    (dict(dtype=ms.float32, shape=(2.0,), init=One()), TypeError, "'shape'"),
    (dict(dtype=ms.float32, shape=(2,), init="ones"), TypeError, "'init'"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ms.Tensor(**kwargs)


def test_lazy_tensor_draws_only_on_init_data():
    calls = []

    class Counting(One):
        def _initialize(self, arr):
            calls.append(arr.shape)
            super()._initialize(arr)

    t = ms.Tensor(dtype=ms.float16, shape=(2, 3), init=Counting())
    assert t.has_init and t.shape == (2, 3) and t.dtype is ms.float16 and t.size == 6 and t.ndim == 2
    assert "uninitialized" in str(t) and not calls
    assert t.init_data() is t and calls == [(2, 3)]
    t.init_data()
    assert calls == [(2, 3)] and not t.has_init
    assert t.asnumpy().dtype == np.float16 and np.all(t.asnumpy() == 1)


def test_attributes():
    t = ms.Tensor(np.zeros((2, 3, 4), np.float64))
    assert (t.shape, t.ndim, t.size, t.itemsize, t.nbytes, t.dtype) == ((2, 3, 4), 3, 24, 8, 192, ms.float64)
    assert ms.Tensor(5).shape == () and ms.Tensor(np.zeros((0, 3))).size == 0


def test_astype_copy_and_reshape():
    t = ms.Tensor([1.5, 2.5])
    assert t.astype(ms.int32).asnumpy().tolist() == [1, 2]
    assert t.astype("float16").dtype is ms.float16 and t.astype(np.float64).dtype is ms.float64
    assert t.astype(ms.float32, copy=False) is t
    with pytest.raises(TypeError, match="'dtype'"):
        t.astype("float128")
    c = t.copy()
    c.asnumpy()[0] = 7
    assert t.asnumpy()[0] == 1.5
    assert ms.Tensor(np.arange(6)).reshape(2, 3).shape == (2, 3)
    assert ms.Tensor(np.arange(6)).reshape((3, 2)).shape == (3, 2)


def test_str_is_numpy_text_and_repr_is_mindspores():
    t = ms.Tensor(np.array([1.0, 2.0, 3.0], np.float32))
    assert str(t) == str(np.array([1.0, 2.0, 3.0], np.float32))
    assert repr(t) == "Tensor(shape=[3], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00,  3.00000000e+00])"
    assert repr(ms.Tensor([1, 2])) == "Tensor(shape=[2], dtype=Int64, value= [1, 2])"
    assert repr(ms.Tensor([[True]])) == "Tensor(shape=[1, 1], dtype=Bool, value=\n[[ True]])"


def test_operators_return_tensors():
    a, b = ms.Tensor([1.0, 2.0]), ms.Tensor([3.0, 5.0])
    for result, expected in ((a + b, [4, 7]), (b - a, [2, 3]), (a * 2, [2, 4]), (2 * a, [2, 4]), (b / a, [3, 2.5]),
                             (-a, [-1, -2]), (abs(-a), [1, 2]), (a ** 2, [1, 4]), (1 - a, [0, -1]),
                             (a @ b, 13.0)):
        assert isinstance(result, ms.Tensor)
        assert np.array_equal(result.asnumpy(), expected)
    assert (a < b).dtype is ms.bool_ and (a == ms.Tensor([1.0, 0.0])).asnumpy().tolist() == [True, False]
    assert a + np.float32(1) is not NotImplemented
    with pytest.raises(TypeError):
        a + "x"


def test_indexing_and_iteration():
    t = ms.Tensor(np.arange(6).reshape(2, 3))
    assert isinstance(t[0], ms.Tensor) and t[0, 1].asnumpy() == 1 and t[0].shape == (3,)
    assert [row.shape for row in t] == [(3,), (3,)] and len(t) == 2
    t[1] = 0
    assert t.asnumpy()[1].tolist() == [0, 0, 0]
    assert int(ms.Tensor(3)) == 3 and float(ms.Tensor(2.5)) == 2.5 and bool(ms.Tensor(True))
    with pytest.raises(TypeError):
        len(ms.Tensor(1))


def test_in_looks_for_tensors_and_numbers_only():
    # MindSpore 2.10's Tensor.__contains__: a list, tuple, array or string is never in a Tensor.
    t = ms.Tensor([1, 2])
    assert 1 in t and ms.Tensor(1) in t and ms.Tensor([1]) in t and np.float32(2) in t and True in t
    assert 3 not in t and ms.Tensor([3]) not in t and np.int64(5) not in t
    assert [1] not in t and (1,) not in t and np.array(1) not in t and "a" not in t and None not in t
    with pytest.raises(ValueError):
        ms.Tensor([1, 2, 3]) in t


@given(arrays())
def test_numpy_round_trip(array):
    t = ms.Tensor(array)
    assert t.dtype is msdtype(array) and t.shape == array.shape
    assert same_values(t.asnumpy(), array) and same_values(np.asarray(t), array)
    assert same_values(ms.Tensor(t).asnumpy(), array)


@given(arrays())
def test_pickle_and_deepcopy_round_trip(array):
    t = ms.Tensor(array)
    for other in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t), t.copy()):
        assert isinstance(other, ms.Tensor) and other.dtype is t.dtype
        assert same_values(other.asnumpy(), array)
        assert other.size == 0 or not np.shares_memory(other.asnumpy(), t.asnumpy())


@given(arrays(st.sampled_from(DLPACK_DTYPES)))
def test_dlpack_round_trip_shares_memory(array):
    if array.dtype == np.bool_ and np.lib.NumpyVersion(np.__version__) < "1.25.0":
        return
    t = ms.Tensor(array)
    back = np.from_dlpack(t)
    assert same_values(back, array)
    assert back.size == 0 or np.shares_memory(back, t.asnumpy())
    assert t.__dlpack_device__() == (1, 0)


def test_lazy_tensor_pickles_lazily():
    t = ms.Tensor(dtype=ms.float32, shape=(2,), init=One())
    restored = pickle.loads(pickle.dumps(t))
    assert restored.has_init and restored.init_data().asnumpy().tolist() == [1, 1]
    assert t.has_init


def test_wrap_array_shares_the_array():
    from msparam.common.tensor import wrap_array
    values = np.arange(4, dtype=np.int32)
    tensor = wrap_array(values)
    assert type(tensor) is ms.Tensor and tensor.asnumpy() is values and tensor.dtype == ms.int32


def test_set_dtype_converts_in_place_and_returns_the_dtype():
    t = ms.Tensor(np.array([1.7, -2.5, 3.2], np.float32))
    assert t.set_dtype(ms.int32) is ms.int32
    assert t.dtype is ms.int32 and t.asnumpy().tolist() == [1, -2, 3]
    with pytest.raises(TypeError, match="set_dtype"):
        t.set_dtype("int32")
    with pytest.raises(TypeError, match="set_dtype"):
        t.set_dtype(ms.list_)


def test_assign_value_takes_values_shape_and_dtype():
    t = ms.Tensor(np.zeros(3, np.float32))
    source = ms.Tensor(np.arange(2, dtype=np.int32))
    assert t.assign_value(source) is t
    assert t.dtype is ms.int32 and t.shape == (2,) and t.asnumpy().tolist() == [0, 1]
    with pytest.raises(TypeError, match="assign_value"):
        t.assign_value(np.ones(2))  # MindSpore 2.10 crashes the process here


@pytest.mark.parametrize("make, strides", [(lambda: ms.Tensor(np.ones((2, 3), np.float32)), (12, 4)),
                                           (lambda: ms.Tensor(np.ones((2, 3), np.float64).T), (16, 8)),
                                           (lambda: ms.Tensor(1.0), ()),
                                           (lambda: ms.Tensor(np.zeros((0, 3), np.float32)), (12, 4)),
                                           (lambda: ms.Tensor(np.ones((2, 3), np.float32))[:, ::2], (8, 4))])
def test_strides_are_those_of_a_c_contiguous_tensor(make, strides):
    assert make().strides == strides


def test_from_numpy_shares_contiguous_arrays_and_copies_others():
    a = np.ones((2, 3), np.float32)
    for make in (ms.Tensor.from_numpy, ms.from_numpy):
        t = make(a)
        a[0, 0] = 7
        assert t.asnumpy()[0, 0] == 7
    t = ms.Tensor.from_numpy(a.T)
    assert t.shape == (3, 2) and t.asnumpy().flags["C_CONTIGUOUS"] and not np.shares_memory(t.asnumpy(), a)
    with pytest.raises(TypeError):
        ms.Tensor.from_numpy([1, 2])
    with pytest.raises(TypeError, match="numpy array failed"):
        ms.Tensor.from_numpy(np.array([1, "a"], dtype=object))


def test_is_tensor():
    t = ms.Tensor(1.0)
    assert ms.is_tensor(t) and ms.is_tensor(ms.Parameter(t, name="p"))
    assert not ms.is_tensor(np.ones(2)) and not ms.is_tensor(1)


@pytest.mark.parametrize("dtype", [ms.float32, ms.int32, ms.bool_, ms.float16])
@pytest.mark.parametrize("shape, expected", [((2, 3), (2, 3)), ([2], (2,)), (3, (3,)), ((0, 2), (0, 2))])
def test_dtype_and_shape_without_data_give_zeros(dtype, shape, expected):
    t = ms.Tensor(dtype=dtype, shape=shape)
    assert t.dtype is dtype and t.shape == expected and not t.asnumpy().any()
    assert not t.has_init


def test_string_arrays_are_string_tensors():
    t = ms.Tensor(np.array(["a", "bc"]))
    assert t.dtype is ms.string and t.shape == (2,) and t.asnumpy().tolist() == ["a", "bc"]
    assert repr(t) == "Tensor(shape=[2], dtype=String, value= ['a', 'bc'])" and str(t) == "['a' 'bc']"
    assert ms.Tensor(np.array([b"a"])).dtype is ms.string
    with pytest.raises(TypeError, match="String"):
        ms.Parameter(t, name="s")


@pytest.mark.parametrize("data", [[[1, 2], [3]], [1, "a"], [1, None], [1, [2]], ["a", "b"], ((1, 2), (3,)), [2**70]])
def test_ragged_or_mixed_lists_are_type_errors(data):
    with pytest.raises(TypeError, match="contain unsupported element"):
        ms.Tensor(data)


@pytest.mark.parametrize("array", [np.zeros(2, dtype=[("a", "i4"), ("b", "f4")]), np.array([1, "a"], dtype=object),
                                   np.array([1, 2], dtype=object), np.array([1, 2], dtype="m8[s]"),
                                   np.array([1, 2], dtype="M8[s]"), np.arange(3, dtype=">f4")])
def test_unsupported_arrays_say_the_numpy_array_failed(array):
    with pytest.raises(TypeError, match="initializing the tensor from the numpy array failed"):
        ms.Tensor(array)


def test_dtype_without_shape_or_data_is_refused():
    # MindSpore 2.10 makes a dynamic-shape placeholder (shape [-2]); msparam has no dynamic shapes.
    with pytest.raises(TypeError, match="'shape'"):
        ms.Tensor(dtype=ms.float32)
