"""checkpoint_tools in process: inspect reads headers only, convert streams tensor by tensor."""
import json
import os
import sys

import numpy as np
import pytest

import msparam as ms
from msparam.train import _ckpt_file, checkpoint_tools

MIB = 1 << 20
BIG_TENSORS = 20           # 20 x 512 MiB: a 10 GiB file, sparse on disk (its tensor bytes are holes)
BIG_ELEMENTS = 128 * MIB   # float32


def varint(value):
    return _ckpt_file._varint_bytes(value)


def write_sparse_ckpt(path):
    """A 10 GiB .ckpt as MindSpore lays it out (one record per 512 MiB tensor), holes for the bytes."""
    with open(path, "wb") as f:
        for i in range(BIG_TENSORS):
            tag = b"layer%d.weight" % i
            content_length = BIG_ELEMENTS * 4
            tensor_head = b"\x08" + varint(BIG_ELEMENTS) + b"\x12\x07Float32" + b"\x1a" + varint(content_length)
            value_head = b"\x0a" + varint(len(tag)) + tag + b"\x12" + varint(len(tensor_head) + content_length)
            f.write(b"\x0a" + varint(len(value_head) + len(tensor_head) + content_length) + value_head + tensor_head)
            f.seek(content_length, os.SEEK_CUR)
        f.truncate()


def write_sparse_safetensors(path):
    header = {f"layer{i}.weight": {"dtype": "F32", "shape": [BIG_ELEMENTS],
                                   "data_offsets": [i * BIG_ELEMENTS * 4, (i + 1) * BIG_ELEMENTS * 4]}
              for i in range(BIG_TENSORS)}
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(len(encoded).to_bytes(8, "little") + encoded)
        f.truncate(8 + len(encoded) + BIG_TENSORS * BIG_ELEMENTS * 4)


@pytest.fixture
def counted_reads(monkeypatch):
    """The bytes every ``os.pread`` and ``os.read`` of the test asks for, in total."""
    asked = []
    real_pread, real_read = os.pread, os.read
    monkeypatch.setattr(os, "pread", lambda fd, n, offset: (asked.append(n), real_pread(fd, n, offset))[1])
    monkeypatch.setattr(os, "read", lambda fd, n: (asked.append(n), real_read(fd, n))[1])
    return asked


@pytest.mark.parametrize("suffix, writer", [(".ckpt", write_sparse_ckpt), (".safetensors", write_sparse_safetensors)])
def test_inspect_reads_headers_not_tensor_bytes(tmp_path, counted_reads, suffix, writer):
    path = tmp_path / f"big{suffix}"
    writer(path)
    assert path.stat().st_size > 10 * 1024 * MIB
    entries = checkpoint_tools.inspect_checkpoint(path)
    assert [(e["name"], e["dtype"], e["shape"], e["bytes"]) for e in entries] == [
        (f"layer{i}.weight", "Float32", [BIG_ELEMENTS], BIG_ELEMENTS * 4) for i in range(BIG_TENSORS)]
    # a page or two per tensor, against 512 MiB of tensor bytes each
    assert sum(counted_reads) <= BIG_TENSORS * 8192 + 8192, sum(counted_reads)


def test_inspect_of_a_ckpt_still_checks_its_framing(tmp_path):
    path = tmp_path / "cut.ckpt"
    write_sparse_ckpt(path)
    os.truncate(path, path.stat().st_size - 1)
    with pytest.raises(ValueError, match="layer19.weight|claims"):
        checkpoint_tools.inspect_checkpoint(path)


def test_inspect_of_a_sliced_ckpt_gives_the_whole_tensor(tmp_path, monkeypatch):
    """MindSpore cuts a large tensor into several records of one tag: inspect shows one tensor."""
    monkeypatch.setattr(_ckpt_file, "CHUNK_BYTES", 1000)
    path = tmp_path / "sliced.ckpt"
    ms.save_checkpoint([{"name": "w", "data": ms.Tensor(np.ones((50, 30), np.float32))},
                        {"name": "b", "data": ms.Tensor(np.ones(3, np.int8))}], str(path))
    entries = checkpoint_tools.inspect_checkpoint(path)
    assert [(e["name"], e["shape"], e["bytes"]) for e in entries] == [("w", [50, 30], 6000), ("b", [3], 3)]


# --- convert streams: memory about the largest tensor, not the file ---------------------------------
STREAM_TENSORS, STREAM_ELEMENTS = 16, MIB  # 16 float32 tensors of 4 MiB: a 64 MiB file

CONVERT_PEAK = """
    import sys
    import msparam as ms
    from msparam.train import checkpoint_tools

    def status(field):  # VmHWM, not ru_maxrss: that one keeps the forking parent's peak across exec
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))

    before = status("VmRSS")
    dtype = None if sys.argv[3] == "none" else getattr(ms, sys.argv[3])
    checkpoint_tools.convert_checkpoint(sys.argv[1], sys.argv[2], dtype=dtype, max_shard_size=
                                        (20 << 20) if sys.argv[2].endswith(".json") else None)
    print(status("VmHWM") - before)
"""


@pytest.fixture(scope="module")
def stream_sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stream")
    rng = np.random.default_rng(0)
    params = [{"name": f"block{i}.weight", "data": ms.Tensor(rng.standard_normal(STREAM_ELEMENTS, np.float32))}
              for i in range(STREAM_TENSORS)]
    params.append({"name": "step", "data": ms.Tensor(np.array([3], np.int64))})
    paths = {"ckpt": folder / "model.ckpt", "safetensors": folder / "model.safetensors",
             "sharded": folder / "hf" / "model.safetensors.index.json"}
    paths["sharded"].parent.mkdir()
    ms.save_checkpoint(params, str(paths["ckpt"]))
    ms.save_checkpoint(params, str(paths["safetensors"]), format="safetensors")
    ms.save_checkpoint(params, str(paths["sharded"]), format="safetensors", max_shard_size=20 << 20)
    return paths, {p["name"]: p["data"].asnumpy() for p in params}


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the resident size from /proc (Linux)")
@pytest.mark.parametrize("source, target, dtype", [
    ("ckpt", "out.safetensors", "none"),
    ("safetensors", "out.ckpt", "none"),
    ("ckpt", "hf/model.safetensors.index.json", "none"),
    ("sharded", "out.ckpt", "none"),
    ("ckpt", "out.safetensors", "float16"),
    ("sharded", "out.ckpt", "float16"),
])
def test_convert_peak_memory_is_about_the_largest_tensor(tmp_path, stream_sources, source, target, dtype):
    import subprocess
    import sys
    import textwrap

    paths, expected = stream_sources
    dst = tmp_path / target
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:  # CI's sanitizer run: ASan's quarantine keeps freed blocks resident by design
        env["ASAN_OPTIONS"] += ":quarantine_size_mb=0"
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(CONVERT_PEAK), str(paths[source]), str(dst),
                             dtype], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    largest, file_bytes = STREAM_ELEMENTS * 4, STREAM_TENSORS * STREAM_ELEMENTS * 4
    growth = int(result.stdout)
    # the tensor being moved, its cast, and the reader's 1 MiB window: far below the 64 MiB file
    assert growth <= 2 * largest + 16 * MIB < file_bytes, growth
    fmt = "ckpt" if target.endswith(".ckpt") else "safetensors"
    loaded = ms.load_checkpoint(str(dst), format=fmt)
    assert sorted(loaded) == sorted(expected)
    for name, values in expected.items():
        want = values if dtype == "none" else values.astype(np.float16)
        np.testing.assert_array_equal(loaded[name].asnumpy(), want)


class RecordingBar:
    """Stands in for tqdm.tqdm (an optional dependency): records what a bar would show."""
    made = []

    def __init__(self, total, **options):
        self.total, self.done, self.closed = total, 0, False
        RecordingBar.made.append(self)

    def update(self, amount):
        self.done += amount

    def close(self):
        self.closed = True


@pytest.mark.parametrize("quiet", [False, True])
def test_convert_shows_a_tqdm_bar_over_the_tensor_bytes_unless_quiet(tmp_path, monkeypatch, quiet):
    import types

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=RecordingBar))
    RecordingBar.made.clear()
    src = tmp_path / "a.ckpt"
    ms.save_checkpoint([{"name": "w", "data": ms.Tensor(np.ones((3, 5), np.float32))},
                        {"name": "b", "data": ms.Tensor(np.ones(7, np.int8))}], str(src))
    checkpoint_tools.convert_checkpoint(src, tmp_path / "a.safetensors", quiet=quiet)
    if quiet:
        assert RecordingBar.made == []
    else:
        [bar] = RecordingBar.made
        assert (bar.total, bar.done, bar.closed) == (67, 67, True)


def test_convert_without_tqdm_is_silent(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    src = tmp_path / "a.ckpt"
    ms.save_checkpoint([{"name": "w", "data": ms.Tensor(np.ones(4, np.float32))}], str(src))
    assert checkpoint_tools.convert_checkpoint(src, tmp_path / "b.ckpt", quiet=False) == 1
    assert capsys.readouterr() == ("", "")


def test_a_crc_mismatch_in_the_source_leaves_no_destination(tmp_path):
    """The CRC is verified after the last tensor is streamed: the half-written file is removed."""
    src = tmp_path / "a.ckpt"
    ms.save_checkpoint([{"name": "w", "data": ms.Tensor(np.arange(1000, dtype=np.float32))}], str(src))
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0x01  # a tensor byte: the framing stays valid, the CRC does not
    src.write_bytes(bytes(data))
    for dst in (tmp_path / "b.safetensors", tmp_path / "b.ckpt", tmp_path / "hf" / "m.safetensors.index.json"):
        with pytest.raises(ValueError, match="CRC"):
            checkpoint_tools.convert_checkpoint(src, dst)
        assert not dst.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.ckpt", "hf"]


@pytest.mark.parametrize("kernel_copy", ["copy_file_range", "EXDEV", "absent"])
def test_convert_copies_tensor_bytes_file_to_file_with_or_without_the_kernel(tmp_path, monkeypatch, kernel_copy):
    """Without a cast, tensor bytes go file to file (copy_file_range, else a reused buffer):
    every slice of a sliced .ckpt tensor lands in order, and the CRC the copy records is right;
    into a .ckpt, a tensor of more than one slice is read whole and written as slices again."""
    import errno

    if kernel_copy == "EXDEV":
        def refuse(*args):
            raise OSError(errno.EXDEV, "cross-device")
        monkeypatch.setattr(os, "copy_file_range", refuse, raising=False)
    elif kernel_copy == "absent":
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    monkeypatch.setattr(_ckpt_file, "CHUNK_BYTES", 1000)  # the 6000-byte tensor is written as 6 slices
    rng = np.random.default_rng(1)
    params = {"w": rng.standard_normal((50, 30)).astype(np.float32), "b": np.arange(5, dtype=np.int16)}
    src = tmp_path / "a.ckpt"
    ms.save_checkpoint([{"name": k, "data": ms.Tensor(v)} for k, v in params.items()], str(src))
    for dst in (tmp_path / "a.safetensors", tmp_path / "hf" / "m.safetensors.index.json", tmp_path / "c.ckpt"):
        checkpoint_tools.convert_checkpoint(src, dst, max_shard_size=100 if dst.name.endswith(".json") else None)
        fmt = "ckpt" if dst.suffix == ".ckpt" else "safetensors"
        loaded = ms.load_checkpoint(str(dst), format=fmt, crc_check=True)
        for name, values in params.items():
            np.testing.assert_array_equal(loaded[name].asnumpy(), values)
    back = tmp_path / "b.safetensors"
    checkpoint_tools.convert_checkpoint(tmp_path / "a.safetensors", back)
    assert back.read_bytes() == (tmp_path / "a.safetensors").read_bytes()
    again = tmp_path / "d.ckpt"
    checkpoint_tools.convert_checkpoint(tmp_path / "c.ckpt", again)
    assert again.read_bytes() == (tmp_path / "c.ckpt").read_bytes() == src.read_bytes()


@pytest.mark.parametrize("dtype", [ms.float32, ms.float16, ms.bfloat16, ms.float64], ids=str)
def test_diff_takes_equal_nans_and_infinities_as_equal(tmp_path, dtype):
    values = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.5, 1.0], np.float32)
    other = values.copy()
    other[[4, 5]] = [np.nan, 1.25]
    a, b = tmp_path / "a.ckpt", tmp_path / "b.ckpt"
    ms.save_checkpoint([{"name": "w", "data": ms.Tensor(values, dtype)}], str(a))
    ms.save_checkpoint([{"name": "w", "data": ms.Tensor(other, dtype)}], str(b))
    assert checkpoint_tools.diff_checkpoints(a, a) == {"only_a": [], "only_b": [], "mismatched": [],
                                                       "max_abs_diff": {"w": 0.0}, "nan_in_one": {}}
    result = checkpoint_tools.diff_checkpoints(a, b)
    assert result["max_abs_diff"] == {"w": 0.25} and result["nan_in_one"] == {"w": 1}
