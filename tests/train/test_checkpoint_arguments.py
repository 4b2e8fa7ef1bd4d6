"""save_checkpoint / load_checkpoint arguments as MindSpore 2.10 has them (issue 12 §3-§4), async
saves, and the checksums every file carries (issue 14 item 5, issue 16 §2)."""
import json
import logging
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

import msparam as ms
from msparam.common.parameter import Parameter
from msparam.common.tensor import Tensor
from msparam.train import _ckpt_file, _safetensors_file, _tensor_io, serialization

DATA = Path(__file__).resolve().parent.parent / "data" / "ckpt"


def params(scale=1.0):
    return [Parameter(Tensor(np.arange(6, dtype=np.float32).reshape(2, 3) * scale), name="w"),
            Parameter(Tensor(np.array([3, 1, 2], np.int8)), name="b")]


def loaded_values(path, **kwargs):
    return {name: p.asnumpy() for name, p in ms.load_checkpoint(str(path), **kwargs).items()}


class StandInCell:
    def __init__(self, *parameters):
        self._params = list(parameters)

    def parameters_and_names(self):
        return [(p.name, p) for p in self._params]


# --- keyword arguments ---------------------------------------------------------------------------
def test_unknown_keyword_is_a_type_error(tmp_path):
    """MindSpore 2.10 silently ignores it: a deliberate difference (README)."""
    with pytest.raises(TypeError, match="'bogus'"):
        ms.save_checkpoint(params(), str(tmp_path / "a.ckpt"), bogus=1)
    assert not list(tmp_path.iterdir())


def test_mindspores_keywords_are_accepted_for_ckpt(tmp_path):
    path = tmp_path / "a.ckpt"
    ms.save_checkpoint(params(), str(path), incremental=False, global_step_num=3, remove_redundancy=True)
    assert list(loaded_values(path)) == ["w", "b"]
    with pytest.raises(TypeError, match="incremental"):
        ms.save_checkpoint(params(), str(path), incremental=1)
    with pytest.raises(ValueError, match="remove_redundancy"):  # MindSpore's class for this check
        ms.save_checkpoint(params(), str(path), remove_redundancy=1)


@pytest.mark.parametrize("argument, value", [("enc_key", b"0" * 16), ("enc_mode", "AES-CBC"), ("incremental", True),
                                             ("global_step_num", 3)])
def test_safetensors_refuses_what_mindspore_refuses(tmp_path, argument, value):
    name = "map_param_inc" if argument == "incremental" else argument
    with pytest.raises(ValueError, match=f"when format is 'safetensors', the parameter '{name}'"):
        ms.save_checkpoint(params(), str(tmp_path / "a.safetensors"), format="safetensors", **{argument: value})


@pytest.mark.parametrize("argument, value", [("dec_key", b"0" * 16), ("dec_mode", "AES-CBC")])
def test_safetensors_load_refuses_what_mindspore_refuses(tmp_path, argument, value):
    path = tmp_path / "a.safetensors"
    ms.save_checkpoint(params(), str(path), format="safetensors")
    with pytest.raises(ValueError, match=f"when format is 'safetensors', the parameter '{argument}'"):
        ms.load_checkpoint(str(path), format="safetensors", **{argument: value})


def test_encryption_is_refused_clearly(tmp_path):
    path = tmp_path / "a.ckpt"
    with pytest.raises(NotImplementedError, match="enc_key"):
        ms.save_checkpoint(params(), str(path), enc_key=b"0" * 16)
    ms.save_checkpoint(params(), str(path))
    with pytest.raises(NotImplementedError, match="dec_key"):
        ms.load_checkpoint(str(path), dec_key=b"0" * 16)


@pytest.mark.parametrize("call", [
    lambda p: ms.save_checkpoint(params(), p, crc_check=1),
    lambda p: ms.save_checkpoint(params(), p, enc_key="key"),
    lambda p: ms.save_checkpoint(params(), p, enc_mode=1),
    lambda p: ms.load_checkpoint(p, crc_check=1),
    lambda p: ms.load_checkpoint(p, dec_key="key"),
    lambda p: ms.load_checkpoint(p, dec_mode=None),
    lambda p: ms.load_checkpoint(p, remove_redundancy=None),
])
def test_wrong_types_raise_value_error_as_mindspores_validator(tmp_path, call):
    path = str(tmp_path / "a.ckpt")
    ms.save_checkpoint(params(), path)
    with pytest.raises(ValueError, match="must be isinstance of"):
        call(path)


@pytest.mark.parametrize("value", [0, None, 1, True])
def test_integrated_save_must_be_bool(tmp_path, value):
    path = str(tmp_path / "a.ckpt")
    if isinstance(value, bool):
        ms.save_checkpoint(params(), path, integrated_save=value)
        assert list(loaded_values(path)) == ["w", "b"]
    else:
        with pytest.raises(TypeError, match="integrated_save"):
            ms.save_checkpoint(params(), path, integrated_save=value)


def test_remove_redundancy_is_recorded_in_safetensors_metadata_as_mindspore(tmp_path, caplog):
    from safetensors import safe_open

    for value in (True, False):
        path = tmp_path / f"{value}.safetensors"
        ms.save_checkpoint(params(), str(path), format="safetensors", remove_redundancy=value)
        with safe_open(str(path), "np") as f:
            assert f.metadata()["remove_redundancy"] == str(value)
            assert f.metadata()["format"] == "ms"
    path = tmp_path / "none.safetensors"
    ms.save_checkpoint(params(), str(path), format="safetensors")
    with safe_open(str(path), "np") as f:
        assert "remove_redundancy" not in f.metadata()
    with caplog.at_level(logging.WARNING, logger="msparam"):
        ms.load_checkpoint(str(tmp_path / "True.safetensors"), format="safetensors")
    assert "deduplicated, but remove_redundancy is set to False" in caplog.text


def test_remove_redundancy_loads_alone_and_refuses_a_net_on_one_device(tmp_path):
    path = str(tmp_path / "a.ckpt")
    ms.save_checkpoint(params(), path)
    assert list(ms.load_checkpoint(path, remove_redundancy=True)) == ["w", "b"]
    net = StandInCell(*params(scale=0))
    with pytest.raises(TypeError, match="parallel scenarios, but got stand_alone"):
        ms.load_checkpoint(path, net=net, remove_redundancy=True)
    assert not net._params[0].asnumpy().any()  # nothing was loaded
    with pytest.raises(TypeError, match="stand_alone"):
        ms.load_param_into_net(net, ms.load_checkpoint(path), remove_redundancy=True)


def test_safetensors_names_are_returned_sorted_as_mindspore(tmp_path):
    path = tmp_path / "a.safetensors"
    names = ["zeta", "Alpha", "mid.x", "a", "é", "b.0"]
    ms.save_checkpoint([Parameter(Tensor(np.full(2, i, np.float64 if i % 2 else np.int8)), name=n)
                        for i, n in enumerate(names)], str(path), format="safetensors")
    assert list(ms.load_checkpoint(str(path), format="safetensors")) == sorted(names)
    ckpt = tmp_path / "a.ckpt"
    ms.save_checkpoint([Parameter(Tensor(np.full(2, i)), name=n) for i, n in enumerate(names)], str(ckpt))
    assert list(ms.load_checkpoint(str(ckpt))) == names  # .ckpt keeps file order, as MindSpore


# --- async saves ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [True, "thread", "process"])
@pytest.mark.parametrize("fmt", ["ckpt", "safetensors"])
def test_async_save_writes_the_data_as_it_was_at_the_call(tmp_path, mode, fmt):
    original = params()
    expected = {p.name: p.asnumpy().copy() for p in original}
    path = tmp_path / f"a.{fmt}"
    ms.save_checkpoint(original, str(path), async_save=mode, format=fmt)
    for p in original:
        p.asnumpy()[...] = 0  # changed right after the call: the file must not see it
    ms.wait_async_save()
    got = loaded_values(path, format=fmt)
    assert set(got) == set(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(got[name], value)
    assert not ms.async_ckpt_thread_status()


def test_the_next_save_waits_for_the_async_one(tmp_path, monkeypatch):
    events = []
    real = _ckpt_file.write_checkpoint

    def slow_write(f, items, **kwargs):
        name = items[0][0]
        events.append(("start", name))
        time.sleep(0.3)
        real(f, items, **kwargs)
        events.append(("end", name))

    monkeypatch.setattr(_ckpt_file, "write_checkpoint", slow_write)
    ms.save_checkpoint([Parameter(Tensor(np.ones(2)), name="first")], str(tmp_path / "a.ckpt"), async_save=True)
    assert ms.async_ckpt_thread_status()
    ms.save_checkpoint([Parameter(Tensor(np.ones(2)), name="second")], str(tmp_path / "b.ckpt"))
    assert events == [("start", "first"), ("end", "first"), ("start", "second"), ("end", "second")]


def test_a_failed_async_save_is_raised_by_wait_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "a.ckpt"
    ms.save_checkpoint(params(), str(path))
    before = path.read_bytes()

    def fail(f, items, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_ckpt_file, "write_checkpoint", fail)
    ms.save_checkpoint(params(2.0), str(path), async_save="thread")
    with pytest.raises(RuntimeError, match="asynchronous save to .*a.ckpt failed: OSError"):
        ms.wait_async_save()
    ms.wait_async_save()  # reported once
    assert path.read_bytes() == before


def test_a_failed_async_process_save_is_raised_by_the_next_save(tmp_path, monkeypatch):
    def fail(f, items, **kwargs):  # the forked child inherits it
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_ckpt_file, "write_checkpoint", fail)
    ms.save_checkpoint(params(), str(tmp_path / "a.ckpt"), async_save="process")
    monkeypatch.undo()
    with pytest.raises(RuntimeError, match="exited with code"):
        ms.save_checkpoint(params(), str(tmp_path / "b.ckpt"))


@pytest.mark.parametrize("value, error", [(1, TypeError), (None, TypeError), ("Thread", ValueError)])
def test_async_save_values(tmp_path, value, error):
    with pytest.raises(error, match="async_save"):
        ms.save_checkpoint(params(), str(tmp_path / "a.ckpt"), async_save=value)


# --- checksums -----------------------------------------------------------------------------------
EXPECTED = dict(np.load(DATA / "mindspore_crc_expected.npz"))


@pytest.mark.parametrize("crc_check", [False, True])
def test_mindspores_crc_files_load_exactly(crc_check):
    for name, fmt in [("mindspore_crc.ckpt", "ckpt"), ("mindspore_crc.safetensors", "safetensors")]:
        got = loaded_values(DATA / name, format=fmt, crc_check=crc_check)
        assert set(got) == set(EXPECTED)
        for key, value in EXPECTED.items():
            np.testing.assert_array_equal(got[key], value)


@pytest.mark.parametrize("name, fmt, position", [
    ("mindspore_crc.ckpt", "ckpt", 40), ("mindspore_crc.ckpt", "ckpt", -1),
    ("mindspore_crc.safetensors", "safetensors", -3)])
def test_a_crc_mismatch_in_mindspores_files_is_a_value_error(tmp_path, name, fmt, position):
    data = bytearray((DATA / name).read_bytes())
    data[position] ^= 0x10
    path = tmp_path / name
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="CRC of the checkpoint file .* does not match"):
        ms.load_checkpoint(str(path), format=fmt)


def test_any_flipped_byte_of_a_mindspore_crc_ckpt_is_reported_as_a_crc_mismatch(tmp_path):
    """Framing bytes too: a flip that breaks the protobuf is still reported as the CRC mismatch it is."""
    original = (DATA / "mindspore_crc.ckpt").read_bytes()
    path = tmp_path / "flipped.ckpt"
    for position in range(len(original) - 17):
        data = bytearray(original)
        data[position] ^= 0x10
        path.write_bytes(bytes(data))
        with pytest.raises(ValueError, match="CRC of the checkpoint file .* does not match"):
            ms.load_checkpoint(str(path))


@pytest.mark.parametrize("crc_check", [False, True])
@pytest.mark.parametrize("fmt", ["ckpt", "safetensors"])
def test_every_file_msparam_writes_carries_a_crc_it_verifies(tmp_path, fmt, crc_check):
    path = tmp_path / f"a.{fmt}"
    ms.save_checkpoint(params(), str(path), format=fmt, crc_check=crc_check)
    data = path.read_bytes()
    if fmt == "ckpt" and crc_check:
        assert data[-17:-10] == b"crc_num" and int.from_bytes(data[-10:], "big") == zlib.crc32(data[:-17])
    elif fmt == "ckpt":
        field = len(_ckpt_file._CRC_KEY) + 4
        assert data[-field:] == _ckpt_file._CRC_KEY + zlib.crc32(data[:-field]).to_bytes(4, "little")
    else:
        with open(path, "rb") as f:
            header = _safetensors_file.read_header(f.fileno(), len(data), str(path))[0]
        crc = 0
        for name, value in sorted((p.name, p.asnumpy()) for p in params()):
            crc = zlib.crc32(value.tobytes(), zlib.crc32(name.encode(), crc))
        assert header["crc_num"] == str(crc)
        # msparam's header CRC: over the metadata but itself and each tensor's entry, in canonical JSON
        raw = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
        metadata = raw.pop("__metadata__")
        canonical = [sorted([key, value] for key, value in metadata.items() if key != "msparam_header_crc32"),
                     sorted([name, entry["dtype"], entry["shape"], entry["data_offsets"]]
                            for name, entry in raw.items())]
        text = json.dumps(canonical, separators=(",", ":")).encode("ascii")
        assert metadata["msparam_header_crc32"] == "%010d" % zlib.crc32(text)
    # a flipped value byte is caught, whatever crc_check says
    damaged = bytearray(data)
    damaged[data.index(np.float32(5).tobytes())] ^= 1
    path.chmod(0o600)
    path.write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match="does not match"):
        ms.load_checkpoint(str(path), format=fmt, crc_check=crc_check)


def test_msparams_crc_field_is_verified_also_for_filtered_loads_with_crc_check(tmp_path):
    path = tmp_path / "a.ckpt"
    ms.save_checkpoint(params(), str(path))
    data = bytearray(path.read_bytes())
    data[data.index(np.float32(5).tobytes())] ^= 1  # inside 'w', which the filter skips
    path.chmod(0o600)
    path.write_bytes(bytes(data))
    assert list(ms.load_checkpoint(str(path), choice_func=lambda n: n == "b")) == ["b"]  # not read: not checked
    with pytest.raises(ValueError, match="does not match"):
        ms.load_checkpoint(str(path), choice_func=lambda n: n == "b", crc_check=True)


@pytest.mark.parametrize("name, fmt", [("net.ckpt", "ckpt"), ("dense.safetensors", "safetensors")])
def test_crc_check_on_a_file_without_a_crc_warns_as_mindspore(caplog, name, fmt):
    with caplog.at_level(logging.WARNING, logger="msparam"):
        ms.load_checkpoint(str(DATA / name), format=fmt, crc_check=True)
    assert "does not contain a CRC" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="msparam"):
        ms.load_checkpoint(str(DATA / name), format=fmt)
    assert "CRC" not in caplog.text


@pytest.mark.parametrize("name, mode", [("mindspore_aes_gcm.ckpt", "AES-GCM"), ("mindspore_aes_cbc.ckpt", "AES-CBC")])
def test_encrypted_files_are_reported_as_encrypted(name, mode):
    with pytest.raises(ValueError, match=f"it is encrypted \\({mode}"):
        ms.load_checkpoint(str(DATA / name))


def test_sm4_and_safetensors_magics_are_reported_as_encrypted(tmp_path):
    path = tmp_path / "sm4.ckpt"
    path.write_bytes((0x7F3A5EDA).to_bytes(4, "little") + b"\0" * 40)
    with pytest.raises(ValueError, match="encrypted \\(SM4-CBC"):
        ms.load_checkpoint(str(path))


def test_an_empty_file_says_it_is_empty_and_garbage_says_what_is_wrong(tmp_path):
    path = tmp_path / "empty.ckpt"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.ckpt: the file is empty"):
        ms.load_checkpoint(str(path))
    path = tmp_path / "garbage.ckpt"
    path.write_bytes(b"\x12\x00")  # a valid protobuf message with no Value at all
    with pytest.raises(ValueError, match="garbage.ckpt: it holds no parameters"):
        ms.load_checkpoint(str(path))
    path.write_bytes(b"hello world, not a checkpoint")
    with pytest.raises(ValueError, match="garbage.ckpt: .*(wire type|field)"):
        ms.load_checkpoint(str(path))


def test_field_numbers_protobuf_rejects_are_rejected(tmp_path):
    path = tmp_path / "big_field.ckpt"
    key = _ckpt_file._varint_bytes((((1 << 29) - 1 + 1) << 3) | 0)  # field 2^29: not a valid field number
    good = (DATA / "net.ckpt").read_bytes()
    path.write_bytes(good + key + b"\x01")
    with pytest.raises(ValueError, match="invalid field number 536870912"):
        ms.load_checkpoint(str(path))
    path.write_bytes(good + _ckpt_file._varint_bytes((((1 << 29) - 1) << 3) | 0) + b"\x01")
    assert list(ms.load_checkpoint(str(path))) == list(ms.load_checkpoint(str(DATA / "net.ckpt")))


def test_crc32_matches_zlib_on_every_path():
    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, 3 * 8 * 1024 * 1024 + 77, dtype=np.uint8)
    for length in list(range(0, 200)) + [4095, 65536 + 13, len(data)]:
        for start in (0, 1, 7):
            piece = data[start:start + length]
            for crc in (0, 0xFFFFFFFF, 12345):
                expected = zlib.crc32(piece.tobytes(), crc)
                assert _tensor_io.crc32(piece, crc) == expected
                assert _tensor_io.crc32(piece, crc, 3) == expected
    a, b = data[:1000].tobytes(), data[1000:5000].tobytes()
    assert _tensor_io.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)
    assert _tensor_io.crc32_combine(zlib.crc32(a), 0, 0) == zlib.crc32(a)


def test_async_saves_from_several_threads_each_land(tmp_path):
    errors = []

    def worker(i):
        try:
            ms.save_checkpoint(params(i), str(tmp_path / f"{i}.ckpt"), async_save=True)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ms.wait_async_save()
    assert not errors
    for i in range(4):
        np.testing.assert_array_equal(loaded_values(tmp_path / f"{i}.ckpt")["w"], params(i)[0].asnumpy())
