"""What the two checkpoint formats share: errors that say what is wrong with a file, moving tensor
bytes between files and arrays (with their CRC-32), and the CRC of file ranges.

Files are read with ``pread`` into buffers the loader owns, never through ``mmap``: a file cut
short while it is being read (another process rewriting it) must give a ``ValueError``, not
SIGBUS, and a size check before a mapped access cannot help, since the file can shrink in between.
"""
import errno
import os
from collections.abc import Callable
from typing import IO, Any, NamedTuple, Optional

import numpy as np
import numpy.typing as npt

from msparam._threads import get_num_threads
if os.name == "posix":  # setup.py builds the pread/pwrite module only there (POSIX_ONLY)
    from msparam.train._fileio import crc32, crc32_combine, read_into, write_from
else:
    from msparam.train._portable_fileio import crc32, crc32_combine, read_into, write_from

__all__ = ["MAX_NDIM", "damaged", "truncated", "crc_mismatch", "unsupported_dtype", "check_size",
           "read_exact", "write_array_bytes", "pwrite_array_bytes", "reserve", "normalise_bools", "crc32",
           "crc32_combine", "RangeReader", "ENCRYPTION_MAGICS", "check_not_encrypted", "TensorBytes", "copy_range"]

# A reader's filter, ``wanted(name) -> bool`` (None: every tensor), and its destination maker,
# ``allocate(shape, numpy dtype) -> C-contiguous writable array`` (None: numpy.empty).
Wanted = Optional[Callable[[str], bool]]
Allocator = Callable[[tuple[int, ...], npt.DTypeLike], npt.NDArray[Any]]
Allocate = Optional[Allocator]
# What a reader returns per entry: the tensor's array, or a string entry's text.
Entry = tuple[str, Any]

MAX_NDIM = 64
_INT64_LIMIT = 1 << 63
_READ_CHUNK = 4 * 1024 * 1024  # bytes read at a time when only their CRC is wanted

# MindSpore's encrypted checkpoints start with one of these little-endian 32-bit magics.
ENCRYPTION_MAGICS = {0x7F3A5ED8: "AES-GCM", 0x7F3A5ED9: "AES-CBC", 0x7F3A5EDA: "SM4-CBC"}


def damaged(path: str, what: str, kind: str = "MindSpore checkpoint") -> ValueError:
    """The ValueError for a file that is not what it claims: names the file and the fault."""
    return ValueError(f"Failed to read the checkpoint file {path}: {what}. "
                      f"The file is damaged, truncated or not a {kind}.")


def truncated(path: str, offset: int, wanted: int, kind: str = "MindSpore checkpoint") -> ValueError:
    return ValueError(f"Failed to read the checkpoint file {path}: it is truncated at byte {offset} "
                      f"({wanted} more bytes were expected there; the file may have been cut short or "
                      f"rewritten while it was read). The file is damaged or not a {kind}.")


def crc_mismatch(path: str, stored: "int | None", computed: "int | None") -> ValueError:
    return ValueError(f"For 'load_checkpoint', the CRC of the checkpoint file {path} does not match: the file "
                      f"records CRC-32 {stored}, its bytes give {computed}. The file is damaged.")


def unsupported_dtype(path: str, name: str, type_name: str) -> ValueError:
    return ValueError(f"Failed to read the checkpoint file {path}: parameter {name!r} has the unsupported dtype "
                      f"{type_name!r}, which msparam cannot store.")


def check_not_encrypted(path: str, head: bytes) -> None:
    """``head``: the file's first bytes. MindSpore's encrypted files are refused by name."""
    if len(head) >= 4:
        mode = ENCRYPTION_MAGICS.get(int.from_bytes(head[:4], "little"))
        if mode is not None:
            raise ValueError(f"Failed to read the checkpoint file {path}: it is encrypted ({mode}, MindSpore's "
                             f"enc_key); msparam cannot decrypt checkpoints. Decrypt it with MindSpore first.")


def check_size(path: str, name: str, dims: "list[int] | tuple[int, ...]", np_dtype: "np.dtype[Any]",
               content_bytes: "int | None", type_name: str, kind: str = "MindSpore checkpoint") -> int:
    """``content_bytes`` must be exactly what ``dims`` of ``np_dtype`` need; returns that size."""
    count = 1
    for dim in dims:
        if dim:
            count *= dim
    if count * np_dtype.itemsize >= _INT64_LIMIT:
        raise damaged(path, f"parameter {name!r} has the impossibly large shape {tuple(dims)}", kind)
    nbytes = (0 if 0 in dims else count) * np_dtype.itemsize
    if content_bytes is not None and nbytes != content_bytes:
        raise damaged(path, f"parameter {name!r} of shape {tuple(dims)} and type {type_name} needs {nbytes} "
                            f"bytes, but the file holds {content_bytes}", kind)
    return nbytes


def read_exact(fd: int, view: npt.NDArray[np.uint8], offset: int, path: str, kind: str = "MindSpore checkpoint") -> int:
    """Fill ``view`` (a writable uint8 array) with the file's bytes from ``offset``; returns their CRC-32."""
    status, crc = read_into(fd, view, offset, get_num_threads())
    if status < 0:
        raise truncated(path, offset, len(view), kind)
    if status:
        raise OSError(status, f"could not read {len(view)} bytes at byte {offset} of {path}: {os.strerror(status)}")
    return crc


class RangeReader:
    """Reads a file's bytes through a window the reader owns (``pread``), so the small fields of
    a header cost one system call per window, not one per field. A reader that skips tensor
    bytes takes a smaller ``window``, so as not to read the bytes behind each header."""

    WINDOW = 1 << 20

    def __init__(self, fd: int, size: int, path: str, kind: str = "MindSpore checkpoint", window: int = WINDOW) -> None:
        self.fd, self.size, self.path, self.kind, self.window = fd, size, path, kind, window
        self.base = 0
        self.buf = b""

    def at(self, pos: int, need: int) -> tuple[bytes, int]:
        """``(buf, index)`` with ``buf[index:index + need]`` the file's bytes at ``pos``."""
        if pos < self.base or pos + need > self.base + len(self.buf):
            length = max(need, min(self.window, self.size - pos))
            data = os.pread(self.fd, length, pos)
            if len(data) < need:
                raise truncated(self.path, pos + len(data), need - len(data), self.kind)
            self.buf, self.base = data, pos
        return self.buf, pos - self.base

    def read(self, pos: int, length: int) -> bytes:
        """The file's bytes ``[pos, pos + length)`` (the caller checked they are in the file)."""
        if length <= self.window:
            buf, index = self.at(pos, length)
            return buf[index:index + length]
        data = os.pread(self.fd, length, pos)
        if len(data) < length:
            raise truncated(self.path, pos + len(data), length - len(data), self.kind)
        return data

    def crc_of(self, start: int, end: int, crc: int = 0) -> int:
        """Extend ``crc`` over the file's bytes ``[start, end)``, in bounded pieces."""
        while start < end:
            step = min(end - start, _READ_CHUNK)
            crc = crc32(self.read(start, step), crc)
            start += step
        return crc


class TensorBytes(NamedTuple):
    """A tensor left in its file: its dtype and shape, the ``(offset, length)`` pieces of ``path``
    its bytes fill in order (one, or MindSpore's slices), and their CRC-32."""
    dtype: "np.dtype[Any]"
    shape: tuple[int, ...]
    ranges: tuple[tuple[int, int], ...]
    crc: int
    path: str

    def copy_to(self, source_fd: int, dest_fd: int, offset: int) -> None:
        """Copy the bytes (``path`` open as ``source_fd``) to ``offset`` of ``dest_fd``, in order."""
        for start, length in self.ranges:
            copy_range(source_fd, start, length, dest_fd, offset, self.path)
            offset += length

    @property
    def nbytes(self) -> int:
        return sum(length for _, length in self.ranges)


_COPY_PIECE = 8 * 1024 * 1024  # bytes moved per call: a reused buffer when the kernel cannot copy
_NO_KERNEL_COPY = {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF, errno.EPERM}


def copy_range(source_fd: int, source_offset: int, length: int, dest_fd: int, dest_offset: int,
               path: str) -> None:
    """Copy ``length`` bytes of the file ``path`` (open as ``source_fd``) from ``source_offset`` to
    ``dest_offset`` of ``dest_fd``: in the kernel (``copy_file_range``, no copy through this
    process, as ``cp`` does) where it can, else through one reused buffer. A source that ends
    early is reported as truncated."""
    done = 0
    kernel = hasattr(os, "copy_file_range")
    buffer = None
    while done < length:
        step = min(length - done, 1 << 30)
        if kernel:
            try:
                moved = os.copy_file_range(source_fd, dest_fd, step, source_offset + done, dest_offset + done)
            except OSError as exc:
                if exc.errno not in _NO_KERNEL_COPY:
                    raise
                kernel = False
                continue
            if moved == 0:
                raise truncated(path, source_offset + done, length - done)
        else:
            if buffer is None:
                buffer = np.empty(min(length, _COPY_PIECE), np.uint8)
            piece = buffer[:min(length - done, len(buffer))]
            read_exact(source_fd, piece, source_offset + done, path)
            pwrite_array_bytes(dest_fd, piece, dest_offset + done)
            moved = len(piece)
        done += moved


def reserve(fd: int, offset: int, length: int) -> None:
    """Allocate the file's blocks before writing them: the write then only copies (about 1.5x
    faster on ext4), and a full disk fails here, before any tensor byte is written."""
    if not hasattr(os, "posix_fallocate"):  # macOS, Windows
        return
    try:
        os.posix_fallocate(fd, offset, length)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise
        # file systems without fallocate (EOPNOTSUPP, EINVAL) simply write as usual


def write_array_bytes(f: "IO[bytes]", data: "npt.NDArray[np.uint8] | memoryview", num_threads: "int | None" = None) -> int:
    """Write ``data`` (a C-contiguous uint8 array) at ``f``'s position straight from its buffer
    (parallel ``pwrite``, its blocks reserved first), leave ``f`` just after it and return the
    bytes' CRC-32."""
    if not len(data):
        return 0
    f.flush()
    position = f.tell()
    reserve(f.fileno(), position, len(data))
    crc = pwrite_array_bytes(f.fileno(), data, position, num_threads)
    f.seek(position + len(data))
    return crc


def pwrite_array_bytes(fd: int, data: "npt.NDArray[np.uint8] | memoryview", offset: int,
                       num_threads: "int | None" = None) -> int:
    """Write ``data`` (a C-contiguous uint8 array) at byte ``offset`` of ``fd`` (parallel
    ``pwrite``); returns the bytes' CRC-32."""
    if not len(data):
        return 0
    status, crc = write_from(fd, data, offset, get_num_threads() if num_threads is None else num_threads)
    if status:
        raise OSError(status, f"could not write {len(data)} bytes to the checkpoint ({os.strerror(status)})")
    return crc


def normalise_bools(array: npt.NDArray[Any]) -> None:
    """Only 0/1 are valid bools; map any other byte to 1, as a C++ reader would see it."""
    raw = array.reshape(-1).view(np.uint8)
    if raw.size and raw.max() > 1:
        np.not_equal(raw, 0, out=array.reshape(-1))
