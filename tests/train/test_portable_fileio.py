"""The portable file I/O (used where setup.py cannot build the pread/pwrite module) gives the
compiled module's results: statuses, CRCs, and the file position left alone."""
import os
import zlib

import numpy as np
import pytest

from msparam.train import _fileio, _portable_fileio

MODULES = [_fileio, _portable_fileio]


@pytest.mark.parametrize("module", MODULES, ids=["compiled", "portable"])
def test_write_then_read_back_with_crc(tmp_path, module):
    data = np.random.default_rng(0).integers(0, 256, 70_001, dtype=np.uint8)
    with open(tmp_path / "f", "w+b") as f:
        f.write(b"head")
        assert module.write_from(f.fileno(), data, 4, 2) == (0, zlib.crc32(data))
        assert f.tell() == 4
        back = np.empty_like(data)
        assert module.read_into(f.fileno(), back, 4, 2) == (0, zlib.crc32(data))
        np.testing.assert_array_equal(back, data)
        assert module.read_into(f.fileno(), np.empty(10, np.uint8), len(data), 1)[0] == -1  # file ends early
        assert f.tell() == 4


@pytest.mark.parametrize("module", MODULES, ids=["compiled", "portable"])
def test_bad_descriptor_reports_its_errno(tmp_path, module):
    fd = os.open(tmp_path / "f", os.O_RDONLY | os.O_CREAT)
    os.close(fd)
    assert module.read_into(fd, np.empty(4, np.uint8), 0, 1)[0] == 9  # EBADF


@pytest.mark.parametrize("length_b", [0, 1, 3, 4, 5, 1000, 65_537])
def test_crc32_combine_agrees(length_b):
    a, b = os.urandom(13), os.urandom(length_b)
    expected = zlib.crc32(a + b)
    for module in MODULES:
        assert module.crc32_combine(zlib.crc32(a), zlib.crc32(b), length_b) == expected
        assert module.crc32(np.frombuffer(b, np.uint8), zlib.crc32(a)) == expected
