"""save_checkpoint / load_checkpoint / load_param_into_net against MindSpore 2.10's own files."""
import errno
import json
import os
import shutil
import tempfile
import zlib
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import msparam as ms
from msparam.common.parameter import Parameter
from msparam.common.tensor import Tensor
from msparam.train import _ckpt_file, _safetensors_file, _tensor_io, serialization

DATA = Path(__file__).resolve().parent.parent / "data" / "ckpt"
ML_DTYPES = [ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2]
ALL_DTYPES = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
              np.float16, np.float32, np.float64, np.complex64, np.complex128, *ML_DTYPES]
SAFETENSORS_DTYPES = [d for d in ALL_DTYPES if d is not np.complex128]
MS_NAMES = {np.bool_: "Bool", np.int8: "Int8", np.int16: "Int16", np.int32: "Int32", np.int64: "Int64",
            np.uint8: "UInt8", np.uint16: "UInt16", np.uint32: "UInt32", np.uint64: "UInt64",
            np.float16: "Float16", np.float32: "Float32", np.float64: "Float64", np.complex64: "Complex64",
            np.complex128: "Complex128", ml_dtypes.bfloat16: "BFloat16", ml_dtypes.float8_e4m3fn: "Float8E4M3FN",
            ml_dtypes.float8_e5m2: "Float8E5M2"}


class StandInCell:
    """The part of MindSpore's Cell API the checkpoint functions use (Cell is not on main yet)."""

    def __init__(self, *params):
        self._params = list(params)

    def parameters_and_names(self):
        return [(p.name, p) for p in self._params]

    def parameters_dict(self):
        return {p.name: p for p in self._params}


def dense_stand_in(in_channels=8, out_channels=4, prefix=""):
    rng = np.random.default_rng(0)
    return StandInCell(
        Parameter(Tensor(rng.standard_normal((out_channels, in_channels)).astype(np.float32)), name=prefix + "weight"),
        Parameter(Tensor(np.zeros(out_channels, np.float32)), name=prefix + "bias"))


def values(param_dict):
    return {name: p.asnumpy() for name, p in param_dict.items()}


def sample(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    if dtype in ML_DTYPES:  # any bit pattern, NaNs and infinities included
        size = np.dtype(dtype).itemsize
        return rng.integers(0, 1 << (8 * size), shape, dtype=f"u{size}").view(dtype)
    if dtype is np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    if np.issubdtype(dtype, np.complexfloating):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


# --- MindSpore's files ---------------------------------------------------------------------------
def test_net_ckpt_loads_exactly():
    expected = np.load(DATA / "net_expected.npz")
    loaded = ms.load_checkpoint(str(DATA / "net.ckpt"))
    assert list(loaded) == ["step", "half", "dbl", "flag", "u8", "conv.weight", "conv.bias", "fc.weight", "fc.bias"]
    assert set(loaded) == set(expected.files)
    for name, param in loaded.items():
        assert isinstance(param, Parameter)
        assert param.name == name
        assert param.dtype == ms.common.dtype.dtype_from_numpy(expected[name].dtype)
        assert param.shape == expected[name].shape
        np.testing.assert_array_equal(param.asnumpy(), expected[name])
        assert param.asnumpy().dtype == expected[name].dtype


def test_list_ckpt_holds_a_matrix_and_a_0d_scalar():
    loaded = ms.load_checkpoint(str(DATA / "list.ckpt"))
    assert list(loaded) == ["a.b", "scalar"]
    np.testing.assert_array_equal(loaded["a.b"].asnumpy(), np.ones((2, 2), np.float32))
    assert loaded["scalar"].shape == ()
    assert loaded["scalar"].dtype == ms.float32
    assert loaded["scalar"].asnumpy()[()] == np.float32(3.5)


def test_dense_ckpt_and_safetensors_hold_the_same_dense():
    from_ckpt = ms.load_checkpoint(str(DATA / "dense.ckpt"))
    from_safetensors = ms.load_checkpoint(str(DATA / "dense.safetensors"), format="safetensors")
    assert from_ckpt["weight"].shape == (4, 8) and from_ckpt["bias"].shape == (4,)
    assert set(from_ckpt) == set(from_safetensors) == {"weight", "bias"}
    for name in from_ckpt:
        assert from_safetensors[name].dtype == from_ckpt[name].dtype == ms.float32
        np.testing.assert_array_equal(from_safetensors[name].asnumpy(), from_ckpt[name].asnumpy())


def with_msparam_crc(mindspore_bytes):
    """What msparam writes for MindSpore's ``mindspore_bytes``: its CRC marker first, its CRC field
    (fixed32, the CRC-32 of everything before it) last."""
    covered = _ckpt_file._CRC_MARKER + mindspore_bytes
    return covered + _ckpt_file._CRC_KEY + zlib.crc32(covered).to_bytes(4, "little")


@pytest.mark.parametrize("name", ["net.ckpt", "list.ckpt", "dense.ckpt"])
def test_saving_what_was_loaded_reproduces_mindspores_bytes(tmp_path, name):
    target = tmp_path / name
    ms.save_checkpoint(ms.load_checkpoint(str(DATA / name)), str(target))
    expected = (DATA / name).read_bytes()
    assert target.read_bytes() == with_msparam_crc(expected)


@pytest.mark.parametrize("name", ["net.ckpt", "list.ckpt", "dense.ckpt"])
def test_crc_check_writes_mindspores_trailer(tmp_path, name):
    target = tmp_path / name
    ms.save_checkpoint(ms.load_checkpoint(str(DATA / name)), str(target), crc_check=True)
    expected = _ckpt_file._CRC_MARKER + (DATA / name).read_bytes()
    assert target.read_bytes() == expected + b"crc_num" + zlib.crc32(expected).to_bytes(10, "big")


def test_saving_a_list_of_dicts_reproduces_list_ckpt(tmp_path):
    target = tmp_path / "list.ckpt"
    ms.save_checkpoint([{"name": "a.b", "data": Tensor(np.ones((2, 2), np.float32))},
                        {"name": "scalar", "data": Tensor(np.array(3.5, np.float32))}], str(target))
    expected = (DATA / "list.ckpt").read_bytes()
    assert target.read_bytes() == with_msparam_crc(expected)


def safetensors_parts(data):
    """(header dict, data bytes) of a safetensors file."""
    length = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + length]), data[8 + length:]


def mindspore_crc_num(tensors):
    """MindSpore's crc_num, computed as its serialization.py does: names sorted, name then bytes."""
    crc = 0
    for name in sorted(tensors):
        crc = zlib.crc32(bytes(np.ascontiguousarray(tensors[name])), zlib.crc32(name.encode("utf-8"), crc))
    return str(crc)


def assert_same_safetensors_but_crc(ours, theirs, tensors):
    """``ours`` is ``theirs`` plus msparam's header CRC (first) and MindSpore's crc_num of
    ``tensors`` (last) in the metadata."""
    our_header, our_data = safetensors_parts(ours)
    their_header, their_data = safetensors_parts(theirs)
    metadata = our_header["__metadata__"]
    assert list(metadata)[0] == "msparam_header_crc32" and list(metadata)[-1] == "crc_num"
    assert metadata.pop("crc_num") == mindspore_crc_num(tensors)
    metadata.pop("msparam_header_crc32")
    assert our_header == their_header and list(our_header) == list(their_header)
    assert our_data == their_data


def test_saving_safetensors_reproduces_mindspores_bytes(tmp_path):
    target = tmp_path / "dense.safetensors"
    loaded = ms.load_checkpoint(str(DATA / "dense.ckpt"))
    ms.save_checkpoint(loaded, str(target), format="safetensors")
    assert_same_safetensors_but_crc(target.read_bytes(), (DATA / "dense.safetensors").read_bytes(),
                                    values(loaded))


def write_safetensors_bytes(tensors, metadata):
    with tempfile.TemporaryFile() as f:
        _safetensors_file.write_safetensors(f, tensors, metadata, with_crc=False)
        f.seek(0)
        return f.read()


def laid_out(array, layout):
    """``array``'s values in a C-contiguous, Fortran-ordered or strided (non-contiguous) buffer."""
    if layout == "fortran":
        return np.asfortranarray(array)
    if layout == "strided" and array.ndim:
        return np.repeat(array, 2, axis=-1)[..., ::2]
    return array


def c_ordered(array):
    """What the safetensors package needs: a C-contiguous buffer (np.ascontiguousarray makes 0-d arrays 1-d)."""
    return np.asarray(array, order="C")


@st.composite
def safetensors_dicts(draw):
    tensors = {}
    for name in draw(st.lists(st.text(max_size=6), max_size=5, unique=True)):
        array = sample(draw(st.sampled_from(SAFETENSORS_DTYPES)), draw(shapes), draw(st.integers(0, 2**32 - 1)))
        tensors[name] = laid_out(array, draw(st.sampled_from(["C", "fortran", "strided"])))
    return tensors


@settings(max_examples=80, deadline=None)
@given(tensors=safetensors_dicts(), metadata=st.sampled_from([None, {"format": "ms"}]))
def test_safetensors_writer_matches_the_safetensors_package_byte_for_byte(tensors, metadata):
    from safetensors.numpy import save

    expected = save({name: c_ordered(array) for name, array in tensors.items()}, metadata)
    assert write_safetensors_bytes(tensors, metadata) == expected


def test_safetensors_save_matches_the_safetensors_package_byte_for_byte(tmp_path):
    from safetensors.numpy import save

    base = np.arange(12, dtype=np.int32).reshape(3, 4)
    # safetensors.numpy has no bfloat16/float8 (tests/train/test_bfloat16_checkpoints.py compares those
    # with files safetensors.torch wrote)
    numpy_dtypes = [d for d in SAFETENSORS_DTYPES if d not in ML_DTYPES]
    originals = {f"z{i}.{np.dtype(d).name}": sample(d, (2, 3), i) for i, d in enumerate(numpy_dtypes)}
    originals.update({"é": np.float32(1.5) * np.ones((1, 2), np.float32), "名前": np.array(7, np.int64),
                      "Ünïcode.bias": np.zeros(3, np.uint8), "a.empty": np.zeros((0, 3), np.float64),
                      "b.zero_d": np.array(True), "transposed": base.T})
    path = tmp_path / "mixed.safetensors"
    ms.save_checkpoint([{"name": name, "data": Tensor(array)} for name, array in originals.items()], str(path),
                       format="safetensors")
    expected = save({name: c_ordered(array) for name, array in originals.items()}, {"format": "ms"})
    assert_same_safetensors_but_crc(path.read_bytes(), expected, originals)
    loaded = values(ms.load_checkpoint(str(path), format="safetensors"))
    assert list(loaded) != list(originals)  # the file is laid out by dtype, then name
    for name, array in originals.items():
        np.testing.assert_array_equal(loaded[name], array)


@pytest.mark.parametrize("fmt", ["ckpt", "safetensors"])
def test_a_repeated_name_is_refused_before_anything_is_written(tmp_path, fmt):
    path = tmp_path / f"twice.{fmt}"
    ms.save_checkpoint([Parameter(Tensor(np.ones(1, np.int8)), name="old")], str(path), format=fmt)
    before = path.read_bytes()
    first, last = np.ones(2, np.float32), np.arange(3, dtype=np.int16)
    with pytest.raises(ValueError, match="'w' appears more than once"):
        ms.save_checkpoint([Parameter(Tensor(first), name="w"), Parameter(Tensor(last), name="w")], str(path),
                           format=fmt)
    with pytest.raises(ValueError, match="'w' appears more than once"):  # also through append_dict
        ms.save_checkpoint([Parameter(Tensor(first), name="w")], str(path), format=fmt, append_dict={"w": 1})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_tensor_type_names_are_mindspores():
    assert {np.dtype(k): v for k, v in MS_NAMES.items()} == _ckpt_file.TYPE_NAMES


# --- round trips ---------------------------------------------------------------------------------
shapes = st.lists(st.integers(0, 5), min_size=0, max_size=4).map(tuple)


@settings(max_examples=60, deadline=None)
@given(dtype=st.sampled_from(ALL_DTYPES), shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_ckpt_round_trip_every_dtype_and_shape(tmp_path_factory, dtype, shape, seed):
    path = str(tmp_path_factory.mktemp("rt") / "x.ckpt")
    original = sample(dtype, shape, seed)
    ms.save_checkpoint([{"name": "p", "data": Tensor(original)}], path)
    loaded = ms.load_checkpoint(path)["p"]
    assert loaded.shape == shape
    assert loaded.asnumpy().dtype == np.dtype(dtype)
    # bit for bit (NaN payloads included): NumPy 2.0 compares ml_dtypes' NaNs as unequal
    assert loaded.asnumpy().tobytes() == original.tobytes()


@settings(max_examples=60, deadline=None)
@given(dtype=st.sampled_from(SAFETENSORS_DTYPES), shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_safetensors_round_trip_every_dtype_and_shape(tmp_path_factory, dtype, shape, seed):
    path = str(tmp_path_factory.mktemp("rt") / "x.safetensors")
    original = sample(dtype, shape, seed)
    ms.save_checkpoint([{"name": "p", "data": Tensor(original)}], path, format="safetensors")
    loaded = ms.load_checkpoint(path, format="safetensors")["p"]
    assert loaded.shape == shape
    assert loaded.asnumpy().dtype == np.dtype(dtype)
    assert loaded.asnumpy().tobytes() == original.tobytes()  # bit for bit, NaN payloads included
    assert loaded.asnumpy().tobytes() == original.tobytes()


@pytest.mark.parametrize("fmt", ["ckpt", "safetensors"])
def test_round_trip_of_every_dtype_in_one_file(tmp_path, fmt):
    dtypes = ALL_DTYPES if fmt == "ckpt" else SAFETENSORS_DTYPES
    originals = {f"p{i}.{np.dtype(d).name}": sample(d, (3, 2), i) for i, d in enumerate(dtypes)}
    originals["zero_d"] = np.array(7, np.int32)
    originals["empty"] = np.zeros((0, 3), np.float32)
    path = str(tmp_path / f"all.{fmt}")
    ms.save_checkpoint([Parameter(Tensor(v), name=k) for k, v in originals.items()], path, format=fmt)
    loaded = values(ms.load_checkpoint(path, format=fmt))
    assert set(loaded) == set(originals)
    for name, array in originals.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].tobytes() == array.tobytes()


@pytest.mark.parametrize("fmt", ["ckpt", "safetensors"])
def test_non_contiguous_tensors_are_saved_in_logical_order(tmp_path, fmt):
    base = np.arange(12, dtype=np.int32).reshape(3, 4)
    path = str(tmp_path / f"t.{fmt}")
    ms.save_checkpoint([{"name": "t", "data": Tensor(base).T}, {"name": "s", "data": Tensor(base)[:, ::2]}], path,
                       format=fmt)
    loaded = values(ms.load_checkpoint(path, format=fmt))
    np.testing.assert_array_equal(loaded["t"], base.T)
    np.testing.assert_array_equal(loaded["s"], base[:, ::2])


def test_safetensors_cannot_hold_complex128(tmp_path):
    with pytest.raises(TypeError, match="safetensors"):
        ms.save_checkpoint([{"name": "c", "data": Tensor(np.ones(2, np.complex128))}],
                           str(tmp_path / "c.safetensors"), format="safetensors")
    assert not list(tmp_path.iterdir())


def test_safetensors_cannot_name_a_tensor_metadata(tmp_path):
    with pytest.raises(ValueError, match="__metadata__"):
        ms.save_checkpoint([{"name": "__metadata__", "data": Tensor(np.ones(2, np.float32))}],
                           str(tmp_path / "m.safetensors"), format="safetensors")
    assert not list(tmp_path.iterdir())


def test_large_tensor_is_cut_into_mindspore_slices_and_joined(tmp_path, monkeypatch):
    monkeypatch.setattr(_ckpt_file, "CHUNK_BYTES", 40)
    original = np.arange(25, dtype=np.float32).reshape(5, 5)  # 100 bytes -> slices of 40, 40, 20
    path = str(tmp_path / "sliced.ckpt")
    ms.save_checkpoint([{"name": "w", "data": Tensor(original)}, {"name": "b", "data": Tensor(np.ones(3, np.int8))}],
                       path)
    assert Path(path).read_bytes().count(b"\x0a\x01w") == 3
    loaded = ms.load_checkpoint(path)
    np.testing.assert_array_equal(loaded["w"].asnumpy(), original)
    np.testing.assert_array_equal(loaded["b"].asnumpy(), np.ones(3, np.int8))


def test_append_dict_and_strings_round_trip(tmp_path):
    path = str(tmp_path / "extra.ckpt")
    ms.save_checkpoint([{"name": "w", "data": Tensor(np.ones(2, np.float32))}], path,
                       append_dict={"epoch": 3, "lr": 0.5, "note": "héllo"})
    loaded = ms.load_checkpoint(path)
    assert loaded["note"] == "héllo"
    assert loaded["epoch"].dtype == ms.int64 and loaded["epoch"].asnumpy()[()] == 3
    assert loaded["lr"].dtype == ms.float32 and loaded["lr"].asnumpy()[()] == 0.5


def test_cell_and_choice_func_and_suffix(tmp_path):
    net = dense_stand_in(prefix="fc.")
    ms.save_checkpoint(net, str(tmp_path / "net"), choice_func=lambda name: name.endswith("weight"))
    loaded = ms.load_checkpoint(str(tmp_path / "net.ckpt"))
    assert list(loaded) == ["fc.weight"]
    np.testing.assert_array_equal(loaded["fc.weight"].asnumpy(), net.parameters_dict()["fc.weight"].asnumpy())


# --- loading into a network ----------------------------------------------------------------------
def test_dense_saved_by_msparam_loads_back_equal(tmp_path):
    path = str(tmp_path / "dense.ckpt")
    source = dense_stand_in()
    ms.save_checkpoint(source, path)
    target = StandInCell(Parameter(Tensor(np.zeros((4, 8), np.float32)), name="weight"),
                         Parameter(Tensor(np.ones(4, np.float32)), name="bias"))
    param_dict = ms.load_checkpoint(path, net=target)
    assert set(param_dict) == {"weight", "bias"}
    for (_, got), (_, want) in zip(target.parameters_and_names(), source.parameters_and_names()):
        np.testing.assert_array_equal(got.asnumpy(), want.asnumpy())


@pytest.mark.parametrize("fmt", ["ckpt", "safetensors"])
def test_tutorial_dense_round_trips_into_a_fresh_dense(tmp_path, fmt):
    """The tutorial's nn.Dense(3, 4), saved and loaded into a new nn.Dense(3, 4) with other weights."""
    from msparam import nn

    ms.set_seed(1)
    source = nn.Dense(3, 4)
    source.bias.set_data(Tensor(np.arange(4, dtype=np.float32)))
    path = str(tmp_path / f"dense.{fmt}")
    ms.save_checkpoint(source, path, format=fmt)
    ms.set_seed(2)
    target = nn.Dense(3, 4)
    assert not np.array_equal(target.weight.asnumpy(), source.weight.asnumpy())
    assert ms.load_param_into_net(target, ms.load_checkpoint(path, format=fmt)) == ([], [])
    assert list(target.parameters_dict()) == list(source.parameters_dict()) == ["weight", "bias"]
    for name, param in target.parameters_dict().items():
        want = source.parameters_dict()[name]
        assert param.dtype == want.dtype == ms.float32
        assert param.asnumpy().tobytes() == want.asnumpy().tobytes()
    x = Tensor(np.ones((2, 3), np.float32))
    assert np.array_equal(target(x).asnumpy(), source(x).asnumpy())


def test_mindspores_dense_loads_into_a_net():
    net = StandInCell(Parameter(Tensor(np.zeros((4, 8), np.float32)), name="weight"),
                      Parameter(Tensor(np.zeros(4, np.float32)), name="bias"))
    param_not_load, ckpt_not_load = ms.load_param_into_net(net, ms.load_checkpoint(str(DATA / "dense.ckpt")))
    assert param_not_load == [] and ckpt_not_load == []
    expected = values(ms.load_checkpoint(str(DATA / "dense.safetensors"), format="safetensors"))
    for name, param in net.parameters_and_names():
        np.testing.assert_array_equal(param.asnumpy(), expected[name])


def test_filter_and_specify_prefix(tmp_path):
    everything = list(ms.load_checkpoint(str(DATA / "net.ckpt")))
    assert list(ms.load_checkpoint(str(DATA / "net.ckpt"), filter_prefix="conv")) == \
        [n for n in everything if not n.startswith("conv")]
    assert list(ms.load_checkpoint(str(DATA / "net.ckpt"), filter_prefix=["conv", "fc."])) == \
        ["step", "half", "dbl", "flag", "u8"]
    assert list(ms.load_checkpoint(str(DATA / "net.ckpt"), specify_prefix=("fc.",))) == ["fc.weight", "fc.bias"]
    assert list(ms.load_checkpoint(str(DATA / "net.ckpt"), choice_func=lambda n: n == "u8")) == ["u8"]
    with pytest.raises(ValueError, match="empty"):
        ms.load_checkpoint(str(DATA / "net.ckpt"), filter_prefix=["s", "h", "d", "f", "u", "c"])
    with pytest.raises(TypeError, match="filter_prefix"):
        ms.load_checkpoint(str(DATA / "net.ckpt"), filter_prefix=3)
    with pytest.raises(ValueError, match="filter_prefix"):
        ms.load_checkpoint(str(DATA / "net.ckpt"), filter_prefix=[])


def test_filtered_parameters_are_reported_as_not_loaded():
    net = StandInCell(Parameter(Tensor(np.zeros((4, 8), np.float32)), name="weight"),
                      Parameter(Tensor(np.zeros(4, np.float32)), name="bias"))
    param_dict = ms.load_checkpoint(str(DATA / "dense.ckpt"), filter_prefix="bias")
    assert ms.load_param_into_net(net, param_dict) == (["bias"], [])
    assert not net.parameters_dict()["bias"].asnumpy().any()


def test_prefix_mismatch_is_resolved_unless_strict():
    param_dict = ms.load_checkpoint(str(DATA / "net.ckpt"), specify_prefix="fc.")
    loose = StandInCell(Parameter(Tensor(np.zeros((4, 8), np.float32)), name="weight"),
                        Parameter(Tensor(np.zeros(4, np.float32)), name="bias"))
    assert ms.load_param_into_net(loose, param_dict)[0] == []
    np.testing.assert_array_equal(loose.parameters_dict()["bias"].asnumpy(), param_dict["fc.bias"].asnumpy())
    strict = StandInCell(Parameter(Tensor(np.zeros(4, np.float32)), name="bias"))
    assert ms.load_param_into_net(strict, param_dict, strict_load=True) == (["bias"], ["fc.weight", "fc.bias"])
    assert not strict.parameters_dict()["bias"].asnumpy().any()


def test_dtype_conversion_only_when_not_strict():
    param_dict = ms.load_checkpoint(str(DATA / "dense.ckpt"))
    half = StandInCell(Parameter(Tensor(np.zeros(4, np.float16)), name="bias"))
    ms.load_param_into_net(half, param_dict)
    np.testing.assert_array_equal(half.parameters_dict()["bias"].asnumpy(),
                                  param_dict["bias"].asnumpy().astype(np.float16))
    with pytest.raises(RuntimeError, match="same type"):
        ms.load_param_into_net(StandInCell(Parameter(Tensor(np.zeros(4, np.float16)), name="bias")), param_dict,
                               strict_load=True)
    with pytest.raises(RuntimeError, match="same type"):
        ms.load_param_into_net(StandInCell(Parameter(Tensor(np.zeros(4, np.int32)), name="bias")), param_dict)


def test_shape_mismatch_raises_and_trailing_ones_are_accepted():
    param_dict = ms.load_checkpoint(str(DATA / "dense.ckpt"))
    with pytest.raises(RuntimeError, match="same shape"):
        ms.load_param_into_net(StandInCell(Parameter(Tensor(np.zeros(5, np.float32)), name="bias")), param_dict)
    wide = {"w": Parameter(Tensor(np.arange(6, dtype=np.float32).reshape(2, 3, 1, 1)), name="w")}
    target = StandInCell(Parameter(Tensor(np.zeros((2, 3), np.float32)), name="w"))
    ms.load_param_into_net(target, wide)
    np.testing.assert_array_equal(target.parameters_dict()["w"].asnumpy(), np.arange(6).reshape(2, 3))


def test_argument_errors(tmp_path):
    with pytest.raises(TypeError, match="net"):
        ms.load_param_into_net(object(), {})
    with pytest.raises(TypeError, match="parameter_dict"):
        ms.load_param_into_net(StandInCell(), [])
    with pytest.raises(TypeError, match="parameter_dict"):
        ms.load_param_into_net(StandInCell(), {"a": np.ones(2)})
    with pytest.raises(TypeError, match="strict_load"):
        ms.load_param_into_net(StandInCell(), {}, strict_load=1)
    with pytest.raises(TypeError, match="save_obj"):
        ms.save_checkpoint(np.ones(2), str(tmp_path / "a.ckpt"))
    with pytest.raises(TypeError, match="ckpt_file_name"):
        ms.save_checkpoint([], 3)
    with pytest.raises(IsADirectoryError):
        ms.save_checkpoint([], str(tmp_path))
    with pytest.raises(ValueError, match="format"):
        ms.save_checkpoint([], str(tmp_path / "a.ckpt"), format="npz")
    with pytest.raises(TypeError, match="ckpt_file_name"):
        ms.load_checkpoint(3)
    # MindSpore 2.10 refuses os.PathLike paths; msparam takes them (issue 16)
    assert list(ms.load_checkpoint(Path(DATA / "net.ckpt"))) == list(ms.load_checkpoint(str(DATA / "net.ckpt")))
    with pytest.raises(ValueError, match="end with '.ckpt'"):
        ms.load_checkpoint(str(DATA / "dense.safetensors"))
    with pytest.raises(ValueError, match="does not exist"):
        ms.load_checkpoint(str(tmp_path / "missing.ckpt"))
    with pytest.raises(NotImplementedError, match="dec_key"):
        ms.load_checkpoint(str(DATA / "net.ckpt"), dec_key=b"0" * 16)


def test_top_level_names():
    assert ms.save_checkpoint is serialization.save_checkpoint
    assert ms.load_checkpoint is serialization.load_checkpoint
    assert ms.load_param_into_net is serialization.load_param_into_net
    assert ms.train.save_checkpoint is serialization.save_checkpoint


# --- damaged, truncated and hostile files --------------------------------------------------------
def bounded_read(path):
    """read_checkpoint, asserting no allocation is larger than the file."""
    size = os.path.getsize(path)

    def allocate(shape, dtype):
        assert int(np.prod(shape, dtype=object)) * dtype.itemsize <= size
        return np.empty(shape, dtype)

    return _ckpt_file.read_checkpoint(path, allocate=allocate)[0]


@pytest.mark.parametrize("name", ["net.ckpt", "list.ckpt", "dense.ckpt"])
def test_truncation_at_every_length_raises_value_error_or_reads_a_prefix(tmp_path, name):
    data = (DATA / name).read_bytes()
    full = bounded_read(str(DATA / name))
    path = tmp_path / name
    for length in range(len(data)):
        path.write_bytes(data[:length])
        try:
            entries = bounded_read(str(path))
        except ValueError as exc:
            assert str(path) in str(exc)
            continue
        # A cut exactly between two Values is a valid, shorter checkpoint.
        assert len(entries) < len(full)
        for (got_name, got), (want_name, want) in zip(entries, full):
            assert got_name == want_name
            np.testing.assert_array_equal(got, want)


def test_load_checkpoint_of_a_truncated_file_names_the_file(tmp_path):
    path = tmp_path / "cut.ckpt"
    path.write_bytes((DATA / "net.ckpt").read_bytes()[:700])
    with pytest.raises(ValueError, match="cut.ckpt"):
        ms.load_checkpoint(str(path))
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        ms.load_checkpoint(str(path))


@pytest.mark.parametrize("name", ["net.ckpt", "list.ckpt"])
@pytest.mark.parametrize("flip", [0xFF, 0x80, 0x01])
def test_flipped_bytes_raise_value_error_or_load(tmp_path, name, flip):
    data = bytearray((DATA / name).read_bytes())
    path = tmp_path / name
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= flip
        path.write_bytes(bytes(damaged))
        try:
            bounded_read(str(path))
        except ValueError as exc:
            assert str(path) in str(exc)


def varint(value):
    return _ckpt_file._varint_bytes(value)


def value_message(tag, dims, type_name, content, content_length=None):
    tensor = b"".join(b"\x08" + varint(d) for d in dims)
    tensor += b"\x12" + varint(len(type_name)) + type_name
    tensor += b"\x1a" + varint(len(content) if content_length is None else content_length) + content
    value = b"\x0a" + varint(len(tag)) + tag + b"\x12" + varint(len(tensor)) + tensor
    return b"\x0a" + varint(len(value)) + value


@pytest.mark.parametrize("payload, message", [
    (value_message(b"w", [2**20, 2**20], b"Float32", b"\0" * 16), "needs"),
    (value_message(b"w", [2**62, 2**62], b"Float64", b"\0" * 8), "large"),
    (value_message(b"w", [4], b"Float32", b"\0" * 16, content_length=2**62), "claims"),
    (value_message(b"w", [4], b"Float32", b"\0" * 16, content_length=2**64 - 1), "claims"),
    (b"\x0a" + b"\xff" * 11, "longer than 10 bytes"),
    (b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f", "claims"),
    (value_message(b"w", [2**64 - 1], b"Float32", b""), "negative"),
    (value_message(b"w", [4], b"Float128", b"\0" * 16), "unsupported dtype 'Float128'"),
    (value_message(b"\xff\xfe", [1], b"Int8", b"\0"), "UTF-8"),
    (value_message(b"w", [1] * 65, b"Int8", b"\0"), "dimensions"),
    (b"\x0a\x0c\x0a\x01w\x12\x07\x0a\x05" + b"\x01" * 5, "has no tensor"),
    (b"\x0a\x49\x0a\x01w\x12\x44\x0a\x42" + b"\x01" * 66, "dimensions"),
    (b"\x0b\x00", "wire type"),
    (b"\x00\x00", "invalid field number 0"),
    (b"\x0a\x02\x12\x00", "no tag"),
    (b"\x0a\x03\x0a\x01w", "no tensor"),
    (value_message(b"w", [2], b"Int8", b"\0\0") + value_message(b"w", [3], b"Int8", b"\0\0\0"), "stored twice in a row"),
    (value_message(b"s", [0], b"str", b"abc"), "UTF-32"),
    (b"\x0a\x0a" + b"\x0a\x01w" + b"\x12\x05" + b"\x0d\x00\x00\x00\x00", "dims"),
])
def test_hostile_files_raise_value_error_naming_the_file(tmp_path, payload, message):
    path = tmp_path / "hostile.ckpt"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=message) as info:
        ms.load_checkpoint(str(path))
    assert str(path) in str(info.value)


def test_packed_dims_and_unknown_fields_are_read_as_protobuf_does(tmp_path):
    tensor = b"\x0a\x02\x02\x03" + b"\x12\x04Int8" + b"\x1a\x06" + bytes(range(6)) + b"\x20\x07"  # field 4: unknown
    value = b"\x0a\x01w" + b"\x12" + varint(len(tensor)) + tensor + b"\x1d\x00\x00\x00\x00"      # field 3 fixed32
    path = tmp_path / "packed.ckpt"
    path.write_bytes(b"\x0a" + varint(len(value)) + value + b"\x11" + b"\0" * 8)                # field 2 fixed64
    np.testing.assert_array_equal(ms.load_checkpoint(str(path))["w"].asnumpy(),
                                  np.arange(6, dtype=np.int8).reshape(2, 3))


def test_bool_bytes_other_than_0_and_1_are_normalised(tmp_path):
    path = tmp_path / "bool.ckpt"
    path.write_bytes(value_message(b"b", [3], b"Bool", b"\x00\x02\x01"))
    loaded = ms.load_checkpoint(str(path))["b"].asnumpy()
    assert loaded.view(np.uint8).tolist() == [0, 1, 1]


@pytest.mark.parametrize("cut", range(0, 304, 7))
def test_truncated_safetensors_raise_value_error(tmp_path, cut):
    path = tmp_path / "cut.safetensors"
    path.write_bytes((DATA / "dense.safetensors").read_bytes()[:cut])
    with pytest.raises(ValueError, match="cut.safetensors"):
        ms.load_checkpoint(str(path), format="safetensors")


def test_hostile_safetensors_header_raises_value_error(tmp_path):
    path = tmp_path / "hostile.safetensors"
    path.write_bytes((2**62).to_bytes(8, "little") + b"{}")
    with pytest.raises(ValueError, match="hostile.safetensors"):
        ms.load_checkpoint(str(path), format="safetensors")
    header = b'{"w":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4]}}'
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 4)
    with pytest.raises(ValueError, match="hostile.safetensors"):
        ms.load_checkpoint(str(path), format="safetensors")


@pytest.mark.parametrize("flip", [0xFF, 0x01])
def test_flipped_safetensors_bytes_raise_value_error_or_load(tmp_path, flip):
    data = (DATA / "dense.safetensors").read_bytes()
    path = tmp_path / "flip.safetensors"
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= flip
        path.write_bytes(bytes(damaged))
        try:
            loaded = ms.load_checkpoint(str(path), format="safetensors")
        except ValueError as exc:
            assert str(path) in str(exc)
            continue
        for param in loaded.values():
            assert param.asnumpy().nbytes <= len(data)


def test_safetensors_dtype_msparam_lacks_raises_value_error(tmp_path):
    header = b'{"w":{"dtype":"F8_E8M0","shape":[2],"data_offsets":[0,2]}}'  # an MX scale msparam does not hold
    path = tmp_path / "e8m0.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 2)
    with pytest.raises(ValueError, match="unsupported dtype 'F8_E8M0'"):
        ms.load_checkpoint(str(path), format="safetensors")


# --- atomic save ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt, original", [("ckpt", "net.ckpt"), ("safetensors", "dense.safetensors")])
@pytest.mark.parametrize("failure", [OSError("No space left on device"), KeyboardInterrupt()])
def test_interrupted_save_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch, failure, fmt, original):
    path = tmp_path / f"model.{fmt}"
    shutil.copy(DATA / original, path)
    before = path.read_bytes()
    real_write_array_bytes = _tensor_io.write_array_bytes
    calls = []

    def write_then_fail(f, data, num_threads=None):
        calls.append(1)
        if len(calls) == 2:
            f.write(b"\x0a\x99\x99")  # a partial tensor on disk, then the failure
            raise failure
        return real_write_array_bytes(f, data, num_threads)

    monkeypatch.setattr(_tensor_io, "write_array_bytes", write_then_fail)
    with pytest.raises(type(failure)):
        ms.save_checkpoint(dense_stand_in(), str(path), format=fmt)
    assert len(calls) == 2
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"model.{fmt}"]


def test_save_replaces_an_existing_read_only_checkpoint(tmp_path):
    path = tmp_path / "model.ckpt"
    ms.save_checkpoint(dense_stand_in(), str(path))
    assert os.stat(path).st_mode & 0o777 == 0o400  # MindSpore leaves checkpoints read-only
    ms.save_checkpoint([{"name": "x", "data": Tensor(np.ones(1, np.int8))}], str(path))
    assert list(ms.load_checkpoint(str(path))) == ["x"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.ckpt"]


@pytest.mark.parametrize("fmt", ["ckpt", "safetensors"])
def test_a_full_disk_fails_before_the_old_checkpoint_is_touched(tmp_path, monkeypatch, fmt):
    path = str(tmp_path / f"net.{fmt}")
    ms.save_checkpoint([{"name": "w", "data": ms.Tensor(np.ones(4, np.float32))}], path, format=fmt)
    before = open(path, "rb").read()

    def no_space(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_tensor_io.os, "posix_fallocate", no_space, raising=False)
    with pytest.raises(OSError) as info:
        ms.save_checkpoint([{"name": "w", "data": ms.Tensor(np.zeros(4, np.float32))}], path, format=fmt)
    assert info.value.errno == errno.ENOSPC
    assert open(path, "rb").read() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"net.{fmt}"]


@pytest.mark.parametrize("fmt", ["ckpt", "safetensors"])
@pytest.mark.parametrize("status, code", [(errno.ENOSPC, errno.ENOSPC), (errno.EFBIG, errno.EFBIG), (errno.EIO, errno.EIO)])
def test_a_failed_tensor_write_raises_oserror_and_keeps_the_old_file(tmp_path, monkeypatch, fmt, status, code):
    path = str(tmp_path / f"net.{fmt}")
    ms.save_checkpoint([{"name": "w", "data": ms.Tensor(np.ones(4, np.float32))}], path, format=fmt)
    before = open(path, "rb").read()
    monkeypatch.setattr(_tensor_io, "write_from", lambda fd, source, offset, num_threads: (status, 0))
    with pytest.raises(OSError, match="could not write 16 bytes") as info:
        ms.save_checkpoint([{"name": "w", "data": ms.Tensor(np.zeros(4, np.float32))}], path, format=fmt)
    assert info.value.errno == code
    assert open(path, "rb").read() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"net.{fmt}"]


MIB = 1024 * 1024


@pytest.mark.parametrize("fmt", ["ckpt", "safetensors"])
@pytest.mark.parametrize("num_threads", [1, 2, 3])
def test_large_tensors_round_trip_through_every_write_piece_size(tmp_path, fmt, num_threads):
    """Sizes either side of the write-behind threshold (1 MiB) and of the 8 MiB write pieces, so
    that whole pieces, short last pieces and unaligned file offsets are all written."""
    sizes = [MIB - 1, MIB, 8 * MIB + 3, 2 * 8 * MIB + 12345]
    rng = np.random.default_rng(num_threads)
    tensors = [rng.integers(0, 256, size, dtype=np.uint8) for size in sizes]
    path = str(tmp_path / f"large.{fmt}")
    previous = ms.set_num_threads(num_threads)
    try:
        ms.save_checkpoint([{"name": f"t{i}", "data": Tensor(t)} for i, t in enumerate(tensors)], path, format=fmt)
        loaded = ms.load_checkpoint(path, format=fmt)
    finally:
        ms.set_num_threads(previous)
    for i, original in enumerate(tensors):
        assert np.array_equal(loaded[f"t{i}"].asnumpy(), original)
