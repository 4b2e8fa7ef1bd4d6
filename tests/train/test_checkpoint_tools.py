"""checkpoint_tools in process: inspect reads headers only, convert streams tensor by tensor."""
import json
import os

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
