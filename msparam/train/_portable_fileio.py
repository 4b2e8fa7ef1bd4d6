"""The portable fallback of the compiled ``_fileio`` (same functions, same results) where
``pread``/``pwrite`` do not exist and setup.py does not build it: one thread, seek then read or
write, the file position restored afterwards as a positioned call would leave it."""
import errno
import os
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Union, cast

if TYPE_CHECKING:
    import numpy as np
    from typing_extensions import Buffer

    # NumPy's stubs make ndarray a Buffer from Python 3.12 only
    _Bytes = Union[Buffer, np.ndarray[Any, Any]]

__all__ = ["read_into", "write_from", "crc32", "crc32_combine"]

_CRC32_POLYNOMIAL = 0xEDB88320  # reflected, as zlib's


def _at(fd: int, offset: int, move: Callable[[], tuple[int, int]]) -> tuple[int, int]:
    try:
        position = os.lseek(fd, 0, os.SEEK_CUR)
    except OSError as error:
        return error.errno or errno.EIO, 0
    try:
        os.lseek(fd, offset, os.SEEK_SET)
        return move()
    except OSError as error:
        return error.errno or errno.EIO, 0
    finally:
        os.lseek(fd, position, os.SEEK_SET)


def read_into(fd: int, destination: "_Bytes", offset: int, num_threads: int) -> tuple[int, int]:
    """``(0, crc)``, ``(-1, 0)`` when the file ends early, or ``(errno, 0)``."""
    view = memoryview(cast("Buffer", destination)).cast("B")

    def move() -> tuple[int, int]:
        done = 0
        while done < len(view):
            got = os.readv(fd, [view[done:]]) if hasattr(os, "readv") else _read_some(fd, view[done:])
            if got == 0:
                return -1, 0
            done += got
        return 0, zlib.crc32(view)
    return _at(fd, offset, move) if len(view) else (0, 0)


def _read_some(fd: int, view: memoryview) -> int:
    data = os.read(fd, len(view))
    view[:len(data)] = data
    return len(data)


def write_from(fd: int, source: "_Bytes", offset: int, num_threads: int) -> tuple[int, int]:
    """``(0, crc)`` or ``(errno, 0)``."""
    view = memoryview(cast("Buffer", source)).cast("B")

    def move() -> tuple[int, int]:
        done = 0
        while done < len(view):
            put = os.write(fd, view[done:])
            if put == 0:
                return errno.ENOSPC, 0  # a zero-byte write makes no progress
            done += put
        return 0, zlib.crc32(view)
    return _at(fd, offset, move) if len(view) else (0, 0)


def crc32(data: "_Bytes", crc: int = 0, num_threads: int = 1) -> int:
    return zlib.crc32(memoryview(cast("Buffer", data)).cast("B"), crc)


def _times(matrix: list[int], vector: int) -> int:
    total = 0
    row = 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _squared(matrix: list[int]) -> list[int]:
    return [_times(matrix, column) for column in matrix]


def crc32_combine(crc_a: int, crc_b: int, length_b: int) -> int:
    """The CRC-32 of A followed by B from the CRCs of each (zlib's crc32_combine: shift crc_a
    through ``length_b`` zero bytes by squaring the one-zero-bit operator over GF(2))."""
    if length_b <= 0:
        return crc_a
    odd = [_CRC32_POLYNOMIAL] + [1 << row for row in range(31)]  # one zero bit
    even = _squared(odd)  # two zero bits
    odd = _squared(even)  # four
    while True:
        even = _squared(odd)  # apply one zero byte's power of two, then the next
        if length_b & 1:
            crc_a = _times(even, crc_a)
        length_b >>= 1
        if not length_b:
            break
        odd = _squared(even)
        if length_b & 1:
            crc_a = _times(odd, crc_a)
        length_b >>= 1
        if not length_b:
            break
    return crc_a ^ crc_b
