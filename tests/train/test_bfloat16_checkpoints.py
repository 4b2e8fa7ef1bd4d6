"""bfloat16 and float8 checkpoints, both ways, bit for bit: files MindSpore 2.10 and
safetensors.torch (PyTorch 2.13) wrote (tests/data/ckpt/, recipes beside them), round trips, and
msparam's files read back by MindSpore 2.10 and PyTorch where those interpreters are named
($MSPARAM_MINDSPORE_PYTHON: MindSpore beside NumPy 1.x, which its bfloat16 needs;
$MSPARAM_TORCH_PYTHON: PyTorch with safetensors)."""
import json
import os
import subprocess
import textwrap
import warnings
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

import msparam as ms
from msparam.common import dtype as mstype
from msparam.train import _ckpt_file, _safetensors_file
from msparam.train.checkpoint_tools import convert_checkpoint, diff_checkpoints, inspect_checkpoint

DATA = Path(__file__).resolve().parent.parent / "data"
MINDSPORE_EXPECTED = np.load(DATA / "ckpt" / "mindspore_bfloat16_expected.npz")
MINDSPORE_CASTS = np.load(DATA / "bfloat16" / "mindspore_bfloat16.npz")
TORCH_FILE = DATA / "ckpt" / "torch_bf16_f8.safetensors"
TORCH_EXPECTED = np.load(DATA / "ckpt" / "torch_bf16_f8_expected.npz")
MINDSPORE_PYTHON = os.environ.get("MSPARAM_MINDSPORE_PYTHON")
TORCH_PYTHON = os.environ.get("MSPARAM_TORCH_PYTHON")


def bits(array):
    array = np.asarray(array)
    return array.view(f"u{array.itemsize}") if array.dtype.kind in "fV" else array


def loaded_values(path, **kwargs):
    return {name: p.asnumpy() for name, p in ms.load_checkpoint(str(path), **kwargs).items()}


def every_pattern(dtype, shape):
    """Every bit pattern of a bfloat16/float8 dtype, NaNs and infinities included, in ``shape``."""
    size = np.dtype(dtype).itemsize
    return np.arange(1 << (8 * size), dtype=np.uint32).astype(f"u{size}").view(dtype).reshape(shape)


# --- files MindSpore 2.10 wrote ------------------------------------------------------------------
@pytest.mark.parametrize("name, fmt", [("mindspore_bfloat16.ckpt", "ckpt"), ("mindspore_bfloat16_crc.ckpt", "ckpt"),
                                       ("mindspore_bfloat16.safetensors", "safetensors")])
def test_mindspores_bfloat16_files_load_exactly(name, fmt):
    values = loaded_values(DATA / "ckpt" / name, format=fmt, crc_check=True)
    assert set(values) == set(MINDSPORE_EXPECTED.files)
    for key, array in values.items():
        expected = MINDSPORE_EXPECTED[key]
        if key.startswith("layer."):
            assert array.dtype == ml_dtypes.bfloat16 and expected.dtype == np.uint16
        assert array.shape == expected.shape and bits(array).tobytes() == expected.tobytes()


def test_a_damaged_mindspore_bfloat16_crc_file_is_refused(tmp_path):
    data = bytearray((DATA / "ckpt" / "mindspore_bfloat16_crc.ckpt").read_bytes())
    position = data.index(b"BFloat16") + len(b"BFloat16") + 3  # inside layer.bias's values
    data[position] ^= 0x01
    path = tmp_path / "damaged.ckpt"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="CRC .*does not match"):
        ms.load_checkpoint(str(path))


def test_mindspores_float8_ckpt_loads_and_holds_mindspores_casts():
    """MindSpore 2.10 writes float8 .ckpt files that it cannot load back: msparam reads them, and
    its own casts of the same float32/float64 inputs give the same bytes."""
    values = loaded_values(DATA / "ckpt" / "mindspore_float8.ckpt")
    assert sorted(values) == ["float8_e4m3fn.from_float32", "float8_e4m3fn.from_float64", "float8_e5m2.from_float32",
                              "float8_e5m2.from_float64"]
    for name, array in values.items():
        dtype, source = name.split(".from_")
        assert array.dtype == getattr(ml_dtypes, dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # float64 inputs beyond float32's range
            ours = ms.Tensor(MINDSPORE_CASTS[f"input_{source}"], getattr(ms, dtype)).asnumpy()
        assert bits(array).tobytes() == bits(ours).tobytes()


def test_hifloat8_in_a_ckpt_is_reported_as_an_unsupported_dtype(tmp_path):
    varint = _ckpt_file._varint_bytes
    tensor = b"\x08\x04" + b"\x12\x08HiFloat8" + b"\x1a\x04" + bytes(4)  # dims [4], tensor_type, content
    value = b"\x0a\x01w" + b"\x12" + varint(len(tensor)) + tensor
    path = tmp_path / "hifloat8.ckpt"
    path.write_bytes(b"\x0a" + varint(len(value)) + value)
    with pytest.raises(ValueError, match="'w' has the unsupported dtype 'HiFloat8'"):
        ms.load_checkpoint(str(path))


# --- files safetensors.torch wrote ---------------------------------------------------------------
def test_torch_bf16_and_f8_safetensors_load_exactly():
    values = loaded_values(TORCH_FILE, format="safetensors")
    names = [name for name in TORCH_EXPECTED.files if not name.startswith("input_")]
    assert sorted(values) == sorted(names)
    kinds = {"model.embed.weight": ml_dtypes.bfloat16, "model.from_float64": ml_dtypes.bfloat16,
             "model.e4m3": ml_dtypes.float8_e4m3fn, "model.scale": ml_dtypes.float8_e4m3fn,
             "model.e5m2": ml_dtypes.float8_e5m2, "model.bias": np.float32, "model.steps": np.int64}
    for name, array in values.items():
        assert array.dtype == kinds[name] and array.shape == TORCH_EXPECTED[name].shape
        assert bits(array).tobytes() == TORCH_EXPECTED[name].tobytes()


def test_msparam_writes_torchs_file_byte_for_byte(tmp_path):
    tensors = loaded_values(TORCH_FILE, format="safetensors")
    path = tmp_path / "again.safetensors"
    with open(path, "wb") as f:
        _safetensors_file.write_safetensors(f, tensors, with_crc=False)  # as safetensors.torch: no metadata
    assert path.read_bytes() == TORCH_FILE.read_bytes()


def test_torchs_casts_and_mindspores_where_they_differ():
    """PyTorch 2.13 rounds float32 and float64 to BF16 and F8_E5M2 as MindSpore (float64 through
    float32) except for the NaN it writes; to F8_E4M3 it saturates at +-448 where MindSpore's Cast,
    and so msparam's, gives NaN. Loading keeps whatever the file holds."""
    inputs = TORCH_EXPECTED["input_float32"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours = {name: bits(ms.Tensor(inputs, dtype).asnumpy()) for name, dtype in
                (("model.embed.weight", ms.bfloat16), ("model.e4m3", ms.float8_e4m3fn), ("model.e5m2", ms.float8_e5m2))}
    ours["model.from_float64"] = bits(ms.Tensor(TORCH_EXPECTED["input_float64"], ms.bfloat16).asnumpy())
    theirs = {name: TORCH_EXPECTED[name].reshape(-1) for name in ours}
    nan = np.isnan(inputs)
    assert (ours["model.embed.weight"] != theirs["model.embed.weight"]).sum() == nan.sum() == 1
    assert ours["model.embed.weight"][nan] == 0x7FC0
    assert np.array_equal(ours["model.e5m2"], theirs["model.e5m2"])
    assert np.array_equal(ours["model.from_float64"], theirs["model.from_float64"])
    overflow = np.abs(inputs) > 464  # beyond the tie between 448 and e4m3fn's NaN
    assert np.array_equal(ours["model.e4m3"][~overflow], theirs["model.e4m3"][~overflow])
    saturated = theirs["model.e4m3"][overflow & ~nan] & 0x7F
    assert (saturated == 0x7E).all() and (ours["model.e4m3"][overflow] & 0x7F == 0x7F).all()


# --- round trips ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["ckpt", "safetensors"])
@pytest.mark.parametrize("crc_check", [False, True])
def test_every_bit_pattern_round_trips(tmp_path, fmt, crc_check):
    originals = {"bf16": every_pattern(ml_dtypes.bfloat16, (256, 256)),
                 "e4m3": every_pattern(ml_dtypes.float8_e4m3fn, (16, 16)),
                 "e5m2": every_pattern(ml_dtypes.float8_e5m2, (256,)),
                 "bf16_scalar": np.array(1.5, ml_dtypes.bfloat16), "bf16_empty": np.zeros((0, 2), ml_dtypes.bfloat16)}
    path = tmp_path / f"all.{fmt}"
    ms.save_checkpoint([ms.Parameter(array, name=name) for name, array in originals.items()], str(path),
                       format=fmt, crc_check=crc_check)
    loaded = loaded_values(path, format=fmt, crc_check=True)
    for name, array in originals.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        assert loaded[name].tobytes() == array.tobytes()


def test_a_safetensors_file_records_the_dtype_names_pytorch_reads(tmp_path):
    path = tmp_path / "names.safetensors"
    ms.save_checkpoint([ms.Parameter(np.zeros(2, dtype), name=name) for name, dtype in
                        (("a", ml_dtypes.bfloat16), ("b", ml_dtypes.float8_e4m3fn), ("c", ml_dtypes.float8_e5m2))],
                       str(path), format="safetensors")
    with open(path, "rb") as f:
        _, entries, _ = _safetensors_file.read_header(f.fileno(), path.stat().st_size, str(path))
    header = json.loads(path.read_bytes()[8:8 + int.from_bytes(path.read_bytes()[:8], "little")])
    assert {name: header[name]["dtype"] for name in entries} == {"a": "BF16", "b": "F8_E4M3", "c": "F8_E5M2"}


def test_a_ckpt_records_mindspores_tensor_types(tmp_path):
    path = tmp_path / "names.ckpt"
    ms.save_checkpoint([ms.Parameter(np.zeros(2, dtype), name=name) for name, dtype in
                        (("a", ml_dtypes.bfloat16), ("b", ml_dtypes.float8_e4m3fn), ("c", ml_dtypes.float8_e5m2))],
                       str(path))
    data = path.read_bytes()
    for type_name in (b"BFloat16", b"Float8E4M3FN", b"Float8E5M2"):
        assert b"\x12" + bytes([len(type_name)]) + type_name in data


def test_a_bfloat16_checkpoint_loads_into_a_float32_net_as_mindspore(tmp_path):
    """MindSpore 2.10's load_param_into_net converts between its float types, bfloat16 included."""
    values = np.array([1.5, -0.099609375, 3.0], np.float32)  # exact in bfloat16
    path = tmp_path / "bf16.ckpt"
    ms.save_checkpoint([ms.Parameter(ms.Tensor(values, ms.bfloat16), name="w")], str(path))
    net = ms.nn.Cell()
    net.w = ms.Parameter(np.zeros(3, np.float32), name="w")
    assert ms.load_param_into_net(net, ms.load_checkpoint(str(path))) == ([], [])
    assert net.w.dtype is ms.float32 and net.w.asnumpy().tolist() == values.tolist()
    with pytest.raises(RuntimeError, match="same type"):
        ms.load_param_into_net(net, ms.load_checkpoint(str(path)), strict_load=True)


# --- the checkpoint tools ------------------------------------------------------------------------
def test_inspect_convert_and_diff_bfloat16(tmp_path):
    assert [(e["name"], e["dtype"], e["bytes"]) for e in inspect_checkpoint(TORCH_FILE)
            if e["name"] in ("model.embed.weight", "model.e5m2")] == \
        [("model.embed.weight", "BFloat16", 224), ("model.e5m2", "Float8E5M2", 112)]
    as_ckpt = tmp_path / "model.ckpt"
    assert convert_checkpoint(TORCH_FILE, as_ckpt) == 7
    assert bits(loaded_values(as_ckpt)["model.e4m3"]).tobytes() == TORCH_EXPECTED["model.e4m3"].tobytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN - NaN in the tensors that hold NaN
        assert diff_checkpoints(TORCH_FILE, as_ckpt)["max_abs_diff"]["model.from_float64"] == 0
    source = tmp_path / "f32.ckpt"
    ms.save_checkpoint([ms.Parameter(np.array([1 + 2 ** -8 + 2 ** -20, 0.1], np.float32), name="w")], str(source))
    halved = tmp_path / "bf16.safetensors"
    convert_checkpoint(source, halved, dtype=ms.bfloat16)
    assert bits(loaded_values(halved, format="safetensors")["w"]).tolist() == [0x3F81, 0x3DCD]
    assert diff_checkpoints(source, halved)["mismatched"] == [("w", "Float32[2] vs BFloat16[2]")]


# --- MindSpore 2.10 and PyTorch read msparam's files ---------------------------------------------
def run_peer(python, script, tmp_path):
    result = subprocess.run([python, "-c", textwrap.dedent(script), str(tmp_path)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def mixed_parameters():
    rng = np.random.default_rng(5)
    return {"layer.weight": ms.Tensor(rng.standard_normal((4, 6)).astype(np.float32), ms.bfloat16),
            "layer.bias": ms.Tensor(np.array([0.1, -2.5, np.inf, 65504.0], np.float32), ms.bfloat16),
            "head.scale": ms.Tensor(rng.standard_normal(3).astype(np.float32))}


@pytest.mark.skipif(MINDSPORE_PYTHON is None, reason="MindSpore 2.10 beside NumPy 1.x is not named "
                                                     "(set MSPARAM_MINDSPORE_PYTHON)")
def test_mindspore_loads_msparams_bfloat16_checkpoints(tmp_path):
    tensors = mixed_parameters()
    params = [ms.Parameter(t, name=name) for name, t in tensors.items()]
    ms.save_checkpoint(params, str(tmp_path / "plain.ckpt"))
    ms.save_checkpoint(params, str(tmp_path / "crc.ckpt"), crc_check=True)
    ms.save_checkpoint(params, str(tmp_path / "model.safetensors"), format="safetensors")
    seen = run_peer(MINDSPORE_PYTHON, """
        import json, sys
        import numpy as np
        import mindspore as ms
        out = {}
        # MindSpore 2.10 cannot verify a BF16 safetensors file's crc_num (its check takes bytes() of a
        # NumPy bfloat16 array, which has no buffer format): that one loads unverified
        for name, kwargs in (("plain.ckpt", {}), ("crc.ckpt", {"crc_check": True}),
                             ("model.safetensors", {"format": "safetensors"})):
            loaded = ms.load_checkpoint(sys.argv[1] + "/" + name, **kwargs)
            out[name] = {key: [str(p.dtype), p.astype(ms.float32).asnumpy().view(np.uint32).tolist()]
                         for key, p in loaded.items()}
        print(json.dumps(out))
        """, tmp_path)
    expected = {name: [str(t.dtype), bits(t.asnumpy().astype(np.float32)).ravel().tolist()]
                for name, t in tensors.items()}
    for name in ("plain.ckpt", "crc.ckpt", "model.safetensors"):
        got = {key: [dtype, np.asarray(values).ravel().tolist()] for key, (dtype, values) in seen[name].items()}
        assert got == expected, name


@pytest.mark.skipif(TORCH_PYTHON is None, reason="PyTorch with safetensors is not named (set MSPARAM_TORCH_PYTHON)")
def test_pytorch_loads_msparams_bf16_and_f8_safetensors(tmp_path):
    originals = {"bf16": every_pattern(ml_dtypes.bfloat16, (1 << 16,)),
                 "e4m3": every_pattern(ml_dtypes.float8_e4m3fn, (256,)),
                 "e5m2": every_pattern(ml_dtypes.float8_e5m2, (16, 16))}
    ms.save_checkpoint([ms.Parameter(a, name=n) for n, a in originals.items()], str(tmp_path / "m.safetensors"),
                       format="safetensors")
    seen = run_peer(TORCH_PYTHON, """
        import json, sys
        import torch
        from safetensors.torch import load_file
        tensors = load_file(sys.argv[1] + "/m.safetensors")
        unsigned = {2: torch.int16, 1: torch.uint8}
        print(json.dumps({name: [str(t.dtype), list(t.shape),
                                 t.view(unsigned[t.element_size()]).reshape(-1).tolist()]
                          for name, t in tensors.items()}))
        """, tmp_path)
    assert {name: value[0] for name, value in seen.items()} == \
        {"bf16": "torch.bfloat16", "e4m3": "torch.float8_e4m3fn", "e5m2": "torch.float8_e5m2"}
    for name, array in originals.items():
        assert seen[name][1] == list(array.shape)
        as_torch_views = bits(array).view(np.int16) if array.itemsize == 2 else bits(array)
        assert seen[name][2] == as_torch_views.ravel().tolist(), name
