"""bfloat16 and float8 (ml_dtypes' NumPy types): MindSpore 2.10's names, its casts and its bfloat16
initializer values bit for bit (tests/data/bfloat16/, made by MindSpore beside NumPy 1.x), and
msparam's own float8 initializer values."""
import copy
import hashlib
import json
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

import msparam as ms
from msparam.common import dtype as mstype
from msparam.common.initializer import (Constant, HeNormal, Normal, Sparse, TruncatedNormal, Uniform,
                                        VarianceScaling, initializer)

DATA = Path(__file__).parent.parent / "data" / "bfloat16"
GOLDEN = np.load(DATA / "mindspore_bfloat16.npz")
CASES = json.loads((DATA / "mindspore_bfloat16.json").read_text())["cases"]
NAMESPACE = {"Normal": Normal, "Uniform": Uniform, "TruncatedNormal": TruncatedNormal, "HeNormal": HeNormal,
             "VarianceScaling": VarianceScaling, "Sparse": Sparse, "Constant": Constant}
LOW_PRECISION = [ms.bfloat16, ms.float8_e4m3fn, ms.float8_e5m2]
EVERY_BFLOAT16 = (np.arange(1 << 16, dtype=np.uint32) << 16).view(np.float32)  # float32 holding each pattern


def bits(array):
    return array.view(f"u{array.itemsize}")


def sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def cases(kind):
    return sorted(key for key, case in CASES.items() if case["kind"] == kind)


# --- the dtypes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, name, nptype, size", [
    (ms.bfloat16, "BFloat16", ml_dtypes.bfloat16, 2), (ms.float8_e4m3fn, "Float8E4M3FN", ml_dtypes.float8_e4m3fn, 1),
    (ms.float8_e5m2, "Float8E5M2", ml_dtypes.float8_e5m2, 1)])
def test_mindspores_names_sizes_and_groups(dtype, name, nptype, size):
    assert str(dtype) == name and repr(dtype) == f"msparam.{dtype._attr}"
    assert ms.dtype_to_nptype(dtype) is nptype and ms.dtype_to_pytype(dtype) is float
    assert ms.pytype_to_dtype(nptype) is dtype and mstype.dtype_from_numpy(np.dtype(nptype)) is dtype
    assert ms.type_size_in_bytes(dtype) == size
    assert dtype in mstype.float_type and dtype in mstype.number_type and dtype in mstype.all_types
    assert dtype not in mstype.implicit_conversion_seq
    assert mstype.to_dtype(name, "dtype", "f") is dtype and mstype.to_dtype(dtype._attr, "dtype", "f") is dtype
    assert pickle.loads(pickle.dumps(dtype)) is dtype and copy.deepcopy(dtype) is dtype


@pytest.mark.parametrize("name", ["hifloat8", "qint4x2"])
def test_mindspores_dtypes_without_a_numpy_type_are_reported_as_unsupported(name):
    for module in (ms, ms.dtype):
        with pytest.raises(AttributeError, match=f"does not support MindSpore's dtype '{name}'.*no NumPy type"):
            getattr(module, name)
        assert not hasattr(module, name)
    with pytest.raises(TypeError, match="no NumPy type"):
        ms.Tensor([1.0]).astype(name)
    with pytest.raises(AttributeError, match="has no attribute 'flaot32'"):
        ms.flaot32


@pytest.mark.parametrize("first_use, expected", [
    ("ms.Tensor(dtype=ms.bfloat16, shape=(2,)).dtype", "BFloat16"),
    ("ms.Tensor(np.zeros(2, np.float32), ms.float8_e5m2).dtype", "Float8E5M2"),
    ("ms.dtype_to_nptype(ms.float8_e4m3fn).__name__", "float8_e4m3fn"),
    ("ms.Parameter(__import__('ml_dtypes').bfloat16(1.5), name='w')", "TypeError"),  # a NumPy scalar, as MindSpore
    ("ms.Parameter(np.ones(2, __import__('ml_dtypes').bfloat16), name='w').dtype", "BFloat16"),
    ("ms.Tensor.from_numpy(np.ones(2, __import__('ml_dtypes').float8_e4m3fn)).dtype", "Float8E4M3FN"),
    ("ms.pytype_to_dtype(__import__('ml_dtypes').bfloat16)", "BFloat16"),
    ("ms.dtype.dtype_from_numpy(np.dtype(__import__('ml_dtypes').float8_e5m2))", "Float8E5M2")])
def test_ml_dtypes_loads_on_first_use_and_not_with_msparam(first_use, expected):
    """ml_dtypes 0.7 takes several times NumPy's import time: ``import msparam`` leaves it alone, and
    whichever use comes first (msparam's or an array someone else made) brings its types in."""
    script = f"""
import sys
import numpy as np
import msparam as ms
assert "ml_dtypes" not in sys.modules
try:
    print({first_use})
except TypeError:
    print("TypeError")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


# --- Tensor and Parameter -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", LOW_PRECISION)
def test_tensor_and_parameter_hold_every_bit_pattern(dtype):
    patterns = np.arange(1 << (8 * dtype._itemsize), dtype=np.uint32).astype(f"u{dtype._itemsize}")
    array = patterns.view(dtype._nptype).reshape(-1, 16)
    for holder in (ms.Tensor(array), ms.Tensor.from_numpy(array), ms.Parameter(array, name="w"),
                   ms.Parameter(ms.Tensor(array), name="w")):
        assert holder.dtype is dtype and holder.shape == array.shape
        assert holder.asnumpy().dtype == dtype._nptype
        assert bits(holder.asnumpy()).tobytes() == patterns.tobytes()
        assert holder.itemsize == dtype._itemsize and holder.nbytes == patterns.nbytes
    parameter = ms.Parameter(array, name="w")
    assert parameter.asnumpy().ctypes.data % 64 == 0  # msparam's aligned storage, for these types too
    for other in (pickle.loads(pickle.dumps(parameter)), copy.deepcopy(parameter), parameter.clone()):
        assert other.dtype is dtype and bits(other.asnumpy()).tobytes() == patterns.tobytes()


@pytest.mark.parametrize("key", cases("cast"))
def test_conversion_into_bfloat16_matches_mindspore(key):
    """float32 rounds to nearest even; float64, Python floats and ints go through float32 first
    (rounding twice, as MindSpore's Cast); every NaN becomes 0x7FC0."""
    case = CASES[key]
    if key == "cast_every_float16":
        values = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
        assert sha256(bits(ms.Tensor(values, ms.bfloat16).asnumpy())) == case["sha256"]
        return
    values = GOLDEN[case["input"]]
    if key == "cast_pyfloat":
        values = values.tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy reports float32 overflow to inf
        converted = ms.Tensor(values, ms.bfloat16).asnumpy()
    assert bits(converted).tobytes() == GOLDEN[key].tobytes()


@pytest.mark.parametrize("key", cases("from_bfloat16"))
def test_conversion_out_of_bfloat16_matches_mindspore(key):
    every = ms.Tensor(EVERY_BFLOAT16, ms.bfloat16)
    target = getattr(ms, CASES[key]["dtype"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert sha256(every.astype(target).asnumpy()) == CASES[key]["sha256"]
        copy_ = ms.Tensor(every.asnumpy())
        assert copy_.set_dtype(target) is target and sha256(copy_.asnumpy()) == CASES[key]["sha256"]


def test_float64_rounds_twice_into_bfloat16_as_mindspore_and_nan_is_canonical():
    above_a_tie = 1 + 2.0 ** -8 + 2.0 ** -30  # float32 rounds it onto the tie, which rounds to even
    assert bits(ms.Tensor(above_a_tie, ms.bfloat16).asnumpy()) == 0x3F80
    assert bits(ms.Tensor(np.float32(above_a_tie), ms.bfloat16).asnumpy()) == 0x3F80
    assert bits(ms.Tensor(above_a_tie, ms.float32).astype(ms.bfloat16).asnumpy()) == 0x3F80  # (ml_dtypes 0.7 rounds once: 0x3F81)
    nans = np.array([0x7FC00000, 0xFFC00000, 0x7F800001, 0xFFFFFFFF], np.uint32).view(np.float32)
    assert bits(ms.Tensor(nans, ms.bfloat16).asnumpy()).tolist() == [0x7FC0] * 4
    assert bits(ms.Tensor(nans, ms.float8_e4m3fn).asnumpy()).tolist() == [0x7F, 0xFF, 0x7F, 0xFF]
    assert bits(ms.Tensor(nans, ms.float8_e5m2).asnumpy()).tolist() == [0x7F, 0xFF, 0x7F, 0xFF]


def test_float8_conversions_overflow_as_mindspore():
    values = np.array([448, 464, 465, 1e6, -1e6, 57344, 61440, np.inf], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        e4m3 = ms.Tensor(values, ms.float8_e4m3fn).asnumpy().astype(np.float32)
        e5m2 = ms.Tensor(values, ms.float8_e5m2).asnumpy().astype(np.float32)
    # 464 is the tie between 448 and 480 (which is e4m3fn's NaN): to even, 448; beyond it NaN,
    # as no infinity exists and MindSpore's Cast does not saturate
    assert e4m3[:2].tolist() == [448, 448] and np.isnan(e4m3[2:]).all()
    assert e5m2.tolist() == [448, 448, 448, np.inf, -np.inf, 57344, np.inf, np.inf]


def test_repr_prints_like_mindspore():
    t = ms.Tensor(np.array([1.0, 2.5, -0.1], np.float32), ms.bfloat16)
    assert repr(t) == "Tensor(shape=[3], dtype=BFloat16, value= [        1,       2.5, -0.100098])"
    assert repr(ms.Tensor([1.0, 2.5], ms.float8_e4m3fn)) == "Tensor(shape=[2], dtype=Float8E4M3FN, value= [  1, 2.5])"
    assert repr(ms.Parameter(t, name="p")) == "Parameter (name=p, shape=(3,), dtype=BFloat16, requires_grad=True)"
    large = repr(ms.Tensor(np.full((40, 40), 1.5, np.float32), ms.bfloat16))
    assert "..." in large and "1.5" in large


def test_dlpack_export_is_refused_clearly():
    with pytest.raises(BufferError, match="DLPack"):
        np.from_dlpack(ms.Tensor([1.0], ms.bfloat16))


@pytest.mark.parametrize("dtype", LOW_PRECISION)
def test_set_dtype_to_and_from_float32_round_trips(dtype):
    values = np.array([0.5, -1.25, 2.0, 0.0], np.float32)  # exact in every one of the three types
    tensor = ms.Tensor(values)
    assert tensor.set_dtype(dtype) is dtype and tensor.dtype is dtype
    assert tensor.asnumpy().astype(np.float32).tolist() == values.tolist()
    parameter = ms.Parameter(values, name="w")
    assert parameter.set_dtype(dtype) is parameter and parameter.dtype is dtype
    assert parameter.asnumpy().ctypes.data % 64 == 0
    parameter.set_dtype(ms.float32)
    assert parameter.asnumpy().tolist() == values.tolist()


@pytest.mark.parametrize("target, source, allowed", [
    (ms.bfloat16, ms.float32, False), (ms.bfloat16, ms.float16, False), (ms.bfloat16, ms.int16, False),
    (ms.bfloat16, ms.int8, True), (ms.bfloat16, ms.uint8, True), (ms.bfloat16, ms.bool_, True),
    (ms.bfloat16, ms.float8_e4m3fn, True), (ms.bfloat16, ms.float8_e5m2, True),
    (ms.float32, ms.bfloat16, True), (ms.float64, ms.bfloat16, True), (ms.complex64, ms.bfloat16, True),
    (ms.float16, ms.bfloat16, False), (ms.int32, ms.bfloat16, False),
    (ms.float16, ms.float8_e4m3fn, True), (ms.float16, ms.float8_e5m2, True), (ms.float32, ms.float8_e4m3fn, True),
    (ms.float8_e4m3fn, ms.int8, False), (ms.float8_e4m3fn, ms.float8_e5m2, False),
    (ms.float8_e5m2, ms.float8_e4m3fn, False), (ms.float8_e5m2, ms.bfloat16, False), (ms.float8_e4m3fn, ms.bool_, True)])
def test_set_data_casts_only_what_converts_exactly(target, source, allowed):
    """MindSpore 2.10 casts any dtype; msparam, as for the other dtypes, refuses a lossy implicit cast."""
    parameter = ms.Parameter(ms.Tensor(np.full(3, 2.0, np.float32), target), name="w")
    incoming = ms.Tensor(np.array([1, 0, 1]), source)
    if allowed:
        parameter.set_data(incoming)
        assert parameter.dtype is target and np.real(parameter.asnumpy()).astype(np.float64).tolist() == [1, 0, 1]
    else:
        with pytest.raises(TypeError, match="Use .set_dtype"):
            parameter.set_data(incoming)
        assert parameter.asnumpy().astype(np.float64).tolist() == [2, 2, 2]


def test_set_data_with_a_python_float_rounds_as_mindspore():
    parameter = ms.Parameter(ms.Tensor(np.float32(0), ms.bfloat16), name="w")
    parameter.set_data(0.1)
    assert bits(parameter.asnumpy()) == 0x3DCD  # MindSpore 2.10's bits


# --- initializers -------------------------------------------------------------------------------
@pytest.mark.parametrize("key", cases("init"))
def test_bfloat16_initializers_match_mindspore_bit_for_bit(key):
    case = CASES[key]
    ms.set_seed(case["seed"])
    values = initializer(eval(case["init"], NAMESPACE), case["shape"], ms.bfloat16).init_data().asnumpy()
    assert values.dtype == ml_dtypes.bfloat16 and values.shape == tuple(case["shape"])
    if "sha256" in case:
        assert sha256(bits(values)) == case["sha256"]
    else:
        assert bits(values).tobytes() == GOLDEN[key].tobytes()


def test_fills_of_several_dtypes_after_one_seed_match_mindspore():
    ms.set_seed(7)
    sequence = [initializer("normal", (5, 3), ms.bfloat16), initializer("uniform", (4,), ms.float16),
                initializer("truncatedNormal", (9,), ms.bfloat16)]
    drawn = np.concatenate([bits(t.init_data().asnumpy()).ravel() for t in sequence])
    assert drawn.tobytes() == GOLDEN["sequence"].tobytes()


@pytest.mark.parametrize("dtype", [ms.float8_e4m3fn, ms.float8_e5m2])
@pytest.mark.parametrize("init", ["normal", "uniform", "truncatedNormal", "he_uniform", "xavier_normal",
                                  "Sparse(sparsity=0.3, sigma=0.5)", "Constant(0.3)", "ones", "identity"])
def test_float8_initializers_are_the_float32_fill_rounded_to_nearest_even(dtype, init):
    """msparam's own values (MindSpore 2.10's initializers refuse float8): the same float32 fill
    as for float32, cast as MindSpore's Cast casts float32 to float8."""
    init = eval(init, NAMESPACE) if "(" in init else init
    ms.set_seed(3)
    values = initializer(init, (48, 40), dtype).init_data().asnumpy()
    ms.set_seed(3)
    reference = initializer(init, (48, 40), ms.float32).init_data().asnumpy()
    assert values.dtype == dtype._nptype
    assert bits(values).tobytes() == bits(reference.astype(dtype._nptype)).tobytes()
    assert bits(values).tobytes() == bits(mstype.cast_array(reference, dtype._nptype)).tobytes()


def test_a_float8_fill_large_enough_to_be_staged_is_the_whole_fill_rounded():
    ms.set_seed(5)
    values = initializer("normal", (700, 500), ms.float8_e4m3fn).init_data().asnumpy()
    ms.set_seed(5)
    reference = initializer("normal", (700, 500), ms.float32).init_data().asnumpy()
    assert bits(values).tobytes() == bits(reference.astype(ml_dtypes.float8_e4m3fn)).tobytes()


@pytest.mark.parametrize("dtype", LOW_PRECISION)
def test_parameters_from_initializers_and_constants(dtype):
    ms.set_seed(1)
    parameter = ms.Parameter(initializer("he_normal", (6, 5), dtype), name="w")
    assert parameter.dtype is dtype and parameter.asnumpy().ctypes.data % 64 == 0
    ms.set_seed(1)
    assert bits(parameter.asnumpy()).tobytes() == \
        bits(initializer("he_normal", (6, 5), dtype).init_data().asnumpy()).tobytes()
    constant = initializer(Constant(float("nan")), (2,), dtype).init_data().asnumpy()
    assert bits(constant).tolist() == [mstype._THROUGH_FLOAT32[np.dtype(dtype._nptype)][0]] * 2
