"""Parameter and ParameterTuple: MindSpore's construction rules, attributes, set_data, clone."""
import copy
import pickle
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import msparam as ms
from msparam.common.initializer import initializer

from strategies import DLPACK_DTYPES, NUMPY_DTYPES, arrays, msdtype, same_values


@pytest.mark.parametrize("value, dtype, shape", [(2, ms.int32, ()), (2.0, ms.float32, ()),
                                                 ([1, 2, 3], ms.int64, (3,)), ([1.0, 2.5], ms.float32, (2,)),
                                                 (np.zeros((2, 3), np.float16), ms.float16, (2, 3)),
                                                 (ms.Tensor(np.ones((2, 3)), ms.int64), ms.int64, (2, 3))])
def test_accepted_inputs_and_their_dtypes(value, dtype, shape):
    p = ms.Parameter(value)
    assert p.dtype is dtype and p.shape == shape


@pytest.mark.parametrize("bad, error", [(True, ValueError), (None, TypeError), ("1", TypeError),
                                        (b"1", TypeError), (object(), TypeError), ({1: 2}, TypeError),
                                        (2**40, ValueError)])
def test_rejected_inputs(bad, error):
    with pytest.raises(error):
        ms.Parameter(bad)


def test_repr_str_name_and_data():
    p = ms.Parameter(ms.Tensor(np.zeros((2, 3), np.int64)), name="x")
    assert repr(p) == str(p) == "Parameter (name=x, shape=(2, 3), dtype=Int64, requires_grad=True)"
    assert p.data is p and str(p.data) == str(p)
    assert ms.Parameter(1).name == "Parameter"
    assert ms.Parameter(1, name="  ").name == "Parameter"
    assert isinstance(p, ms.Tensor) and isinstance(p.value(), ms.Tensor)
    assert np.shares_memory(p.value().asnumpy(), p.asnumpy())


@pytest.mark.parametrize("kwargs, error, match", [(dict(name=3), ValueError, "name"),
                                                  (dict(name="n" * 1025), ValueError, "name"),
                                                  (dict(requires_grad=1), TypeError, "requires_grad"),
                                                  (dict(layerwise_parallel="no"), TypeError, "layerwise_parallel")])
def test_bad_attributes(kwargs, error, match):
    with pytest.raises(error, match=match):
        ms.Parameter(1.0, **kwargs)


def test_attribute_setters_validate():
    p = ms.Parameter(1.0, name="w")
    p.name = "v"
    p.requires_grad = False
    assert (p.name, p.requires_grad, p.layerwise_parallel) == ("v", False, False)
    with pytest.raises(TypeError, match="requires_grad"):
        p.requires_grad = "yes"
    with pytest.raises(ValueError, match="name"):
        p.name = 1


def test_storage_is_aligned_and_lazy_initializers_are_drawn_at_construction():
    p = ms.Parameter(initializer("ones", (3, 5), ms.float64))
    assert p.asnumpy().ctypes.data % 64 == 0 and p.asnumpy().flags.c_contiguous
    assert p.dtype is ms.float64 and np.all(p.asnumpy() == 1)
    assert p.init_data() is p


def test_set_data_converts_up_the_implicit_order_and_rejects_down():
    p = ms.Parameter(np.zeros(3, np.float32), name="w")
    assert p.set_data(ms.Tensor(np.array([1, 2, 3], np.int32))) is p
    assert p.dtype is ms.float32 and p.asnumpy().tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="shape"):
        p.set_data(4.0)  # a scalar is shape (), not (3,)
    with pytest.raises(TypeError, match="dtype"):
        p.set_data(ms.Tensor(np.ones(3, np.float64)))
    assert p.asnumpy().tolist() == [1, 2, 3]


@pytest.mark.parametrize("bad, error", [(ms.Tensor(np.ones(4, np.float32)), ValueError),
                                        (ms.Tensor(np.ones(3, np.float64)), TypeError),
                                        ([1.0, 2.0, 3.0], TypeError), ("x", TypeError)])
def test_a_failed_set_data_leaves_the_old_values(bad, error):
    p = ms.Parameter(np.array([1, 2, 3], np.float32))
    before = p.asnumpy().copy()
    with pytest.raises(error):
        p.set_data(bad)
    assert same_values(p.asnumpy(), before)


def test_set_data_with_slice_shape_changes_the_shape():
    p = ms.Parameter(np.zeros(3, np.float32))
    p.set_data(ms.Tensor(np.ones((2, 2), np.float32)), slice_shape=True)
    assert p.shape == (2, 2) and p.asnumpy().ctypes.data % 64 == 0
    with pytest.raises(TypeError, match="slice_shape"):
        p.set_data(ms.Tensor(np.ones((2, 2), np.float32)), slice_shape=1)


def test_int_parameter_rejects_a_float():
    p = ms.Parameter(2)
    with pytest.raises(TypeError):
        p.set_data(2.5)
    assert p.set_data(5).asnumpy() == 5


def test_clone_is_independent_with_the_same_attributes():
    p = ms.Parameter(np.arange(4.0, dtype=np.float32), name="w", requires_grad=False)
    c = p.clone()
    assert (c.name, c.requires_grad, c.dtype, c.shape) == ("w", False, ms.float32, (4,))
    c.asnumpy()[0] = 10
    assert p.asnumpy()[0] == 0
    ones = p.clone(init="ones")
    assert np.all(ones.asnumpy() == 1) and np.all(p.asnumpy() == np.arange(4))


def test_parameter_works_as_a_tensor():
    p = ms.Parameter(np.array([1.0, 2.0], np.float32))
    assert isinstance(p + 1, ms.Tensor) and (p * p).asnumpy().tolist() == [1, 4]
    assert np.asarray(p).tolist() == [1, 2]


def test_parameter_tuple():
    a, b = ms.Parameter(1.0, name="a"), ms.Parameter(2.0, name="b")
    pt = ms.ParameterTuple((a, b))
    assert isinstance(pt, tuple) and pt == (a, b)
    clones = pt.clone(prefix="net", init="zeros")
    assert [c.name for c in clones] == ["net.a", "net.b"] and all(c.asnumpy() == 0 for c in clones)
    assert a.asnumpy() == 1
    assert pickle.loads(pickle.dumps(pt))[1].name == "b"
    assert len(ms.ParameterTuple([a, a])) == 2  # the same Parameter twice is not a name clash


@pytest.mark.parametrize("items, error", [([1.0], TypeError), ([ms.Tensor(1.0)], TypeError)])
def test_parameter_tuple_takes_parameters_only(items, error):
    with pytest.raises(error, match="Parameter"):
        ms.ParameterTuple(items)


def test_parameter_tuple_rejects_duplicate_names_and_bad_prefixes():
    with pytest.raises(ValueError, match="'a'"):
        ms.ParameterTuple([ms.Parameter(1.0, name="a"), ms.Parameter(2.0, name="a")])
    pt = ms.ParameterTuple([ms.Parameter(1.0, name="a")])
    with pytest.raises(TypeError, match="'prefix'"):
        pt.clone(1)
    with pytest.raises(ValueError, match="prefix"):
        pt.clone("")


@given(arrays())
def test_numpy_round_trip(array):
    p = ms.Parameter(array, name="p")
    assert p.dtype is msdtype(array) and same_values(p.asnumpy(), array)
    assert p.asnumpy().ctypes.data % 64 == 0
    assert p.size == 0 or not np.shares_memory(p.asnumpy(), array)


@given(arrays())
def test_pickle_deepcopy_clone_round_trip(array):
    p = ms.Parameter(array, name="p", requires_grad=False)
    for other in (pickle.loads(pickle.dumps(p)), copy.deepcopy(p), p.clone()):
        assert isinstance(other, ms.Parameter)
        assert (other.name, other.requires_grad) == ("p", False)
        assert same_values(other.asnumpy(), array)
        assert other.size == 0 or not np.shares_memory(other.asnumpy(), p.asnumpy())


@given(arrays(st.sampled_from(DLPACK_DTYPES)))
def test_dlpack_shares_the_parameters_memory(array):
    p = ms.Parameter(array)
    back = np.from_dlpack(p)
    assert same_values(back, array)
    assert back.size == 0 or np.shares_memory(back, p.asnumpy())


@given(arrays(), st.sampled_from(NUMPY_DTYPES))
def test_set_data_from_any_dtype_converts_or_refuses_and_keeps_the_old_values(array, new_dtype):
    p = ms.Parameter(array)
    before = p.asnumpy().copy()
    incoming = ms.Tensor(np.zeros(array.shape, new_dtype))
    try:
        p.set_data(incoming)
    except TypeError:
        assert same_values(p.asnumpy(), before)
    else:
        assert p.dtype is msdtype(array) and np.all(p.asnumpy() == 0)


# --- package-internal seams -------------------------------------------------------------------
def test_parameter_from_storage_owns_the_array():
    from msparam.common.parameter import parameter_from_storage
    values = np.arange(3, dtype=np.float32)
    p = parameter_from_storage(values, "w")
    assert p.asnumpy() is values
    assert (type(p), p.name, p.requires_grad, p.layerwise_parallel) == (ms.Parameter, "w", True, False)


@pytest.mark.parametrize("bad", [1 + 2j, (1, 2), np.float32(1.5), np.int64(3), np.bool_(True)])
def test_parameter_refuses_what_mindspore_refuses(bad):
    with pytest.raises(TypeError, match="default_input"):
        ms.Parameter(bad)


@pytest.mark.parametrize("array", [np.arange(3, dtype=">f4"), np.array([1, 2], dtype="m8[s]"),
                                   np.zeros(2, dtype=[("a", "i4")]), np.array([1, "a"], dtype=object)])
def test_parameter_of_unsupported_array_says_why(array):
    with pytest.raises(TypeError, match="initializing the tensor from the numpy array failed.*" + re.escape(str(array.dtype))):
        ms.Parameter(array, name="p")


def test_name_is_checked_before_number_data_as_in_mindspore():
    with pytest.raises(ValueError, match="name"):
        ms.Parameter(1 + 2j, name=3)
    with pytest.raises(TypeError, match="numpy array failed"):
        ms.Parameter(np.array([1, 2], dtype="m8[s]"), name=3)


def test_unnamed_parameters_print_parameter_and_stay_distinct():
    a, b = ms.Parameter(1.0), ms.Parameter(2.0)
    assert a.name == b.name == "Parameter" and repr(a).startswith("Parameter (name=Parameter,")
    pt = ms.ParameterTuple([a, b])
    assert list(pt) == [a, b]
    assert [p.name for p in pt.clone("pre")] == ["pre.Parameter", "pre.Parameter"]
    named = ms.Parameter(3.0, name="Parameter")
    assert list(ms.ParameterTuple([a, named])) == [a, named]
    with pytest.raises(ValueError, match="'n'"):
        ms.ParameterTuple([ms.Parameter(1.0, name="n"), ms.Parameter(2.0, name="n")])


@pytest.mark.parametrize("prefix, ok", [("a", True), ("a.b", True), ("_", True), ("1a", True), ("a..", True),
                                        ("", False), ("-", False), ("a-b", False), (".a", False), ("a b", False),
                                        ("é", False)])
def test_clone_prefix_rule_is_mindspores(prefix, ok):
    pt = ms.ParameterTuple([ms.Parameter(1.0, name="w")])
    if ok:
        assert [p.name for p in pt.clone(prefix)] == [f"{prefix}.w"]
    else:
        with pytest.raises(ValueError, match="prefix"):
            pt.clone(prefix)
