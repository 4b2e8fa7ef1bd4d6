"""MindSpore's ``.ckpt`` container, a protobuf ``Checkpoint`` message, read and written by hand.

The schema (MindSpore's ``checkpoint.proto``, proto2)::

    message Checkpoint { message Value { required string tag = 1; required TensorProto tensor = 2; }
                         repeated Value value = 1; }
    message TensorProto { repeated int64 dims = 1; required string tensor_type = 2;
                          required bytes tensor_content = 3; }

A file is the concatenation of one-``Value`` ``Checkpoint`` messages (which protobuf reads as one
message). MindSpore cuts a tensor larger than 512 MiB into several consecutive ``Value``s with the
same tag and full ``dims``, each holding a slice of the bytes; the reader joins them.

Checksums. msparam ends every file it writes with the CRC-32 of all the bytes before it, in a
top-level field (:data:`CRC_FIELD`, fixed32) that the ``Checkpoint`` schema does not define, so
that every protobuf reader, MindSpore's of every version included, skips it as an unknown field.
With ``crc_check=True`` it writes MindSpore 2.x's trailer instead: ``b"crc_num"`` and the CRC as a
10-byte big-endian integer (MindSpore 2.10 verifies it; MindSpore before 2.3 cannot read it).
Either way the file begins with a marker (field :data:`CRC_FIELD` as a varint, value 1, also
skipped by every reader) saying that a CRC ends it, so that a file cut at a record boundary,
which is still valid protobuf, is not taken for a shorter checkpoint. The reader verifies
whichever CRC a file carries.

Safety: the file is streamed with ``pread`` into buffers the reader owns (no ``mmap``); every
length is checked against the bytes left before anything is allocated, so a hostile file can make
the reader allocate at most what the file itself holds, and the reader keeps no per-record state
beyond the tensor it is filling. Nothing is ever unpickled.
"""
import os
from collections.abc import Generator, Iterable, Iterator
from typing import IO, Any, Callable, cast

import numpy as np
import numpy.typing as npt

from msparam.common import dtype as mstype
from msparam.train import _tensor_io as io
from msparam.train._ckpt_scan import plain_entries

__all__ = ["TYPE_NAMES", "STRING_TYPE", "RANDOM_OP_TAG", "CHUNK_BYTES", "CRC_FIELD", "MINDSPORE_CRC_TRAILER",
           "numpy_dtype", "write_checkpoint", "read_checkpoint", "iter_checkpoint", "describe_checkpoint",
           "locate_checkpoint"]

# MindSpore writes str(dtype) as tensor_type: "Float32", "Int8", "UInt8", "Bool", "Complex64", ...
TYPE_NAMES = {np.dtype(mstype.dtype_to_nptype(t)): str(t) for t in mstype.all_types}
_NUMPY_BY_NAME = {name: dt for dt, name in TYPE_NAMES.items()}
_PLAIN_TYPES = {name.encode(): (dt, name) for dt, name in TYPE_NAMES.items()}  # what the compiled scan reads
STRING_TYPE = "str"          # append_dict strings: UTF-32 bytes of a NumPy '<U' scalar, dims [0]
RANDOM_OP_TAG = "random_op"  # raw random-generator state MindSpore may append

CHUNK_BYTES = 512 * 1024 * 1024  # MindSpore's slice size for one Value's tensor_content
CRC_FIELD = 20251201             # msparam's CRC field: fixed32, after everything it covers
MINDSPORE_CRC_TRAILER = b"crc_num"
_MINDSPORE_TRAILER_BYTES = len(MINDSPORE_CRC_TRAILER) + 10
_MAX_FIELD = (1 << 29) - 1       # protobuf's largest field number

_SMALL_CONTENT = 64 * 1024  # tensor bytes copied from the read window rather than read on their own
_WIRE_VARINT, _WIRE_FIXED64, _WIRE_BYTES, _WIRE_FIXED32 = 0, 1, 2, 5
_INT64_LIMIT = 1 << 63
# A TensorProto as read: {"dims": list of int, "type": str or None, "content": (start, length) or None}.
_Tensor = dict[str, Any]
# A walk's batch of entries, as its mode gives them: (name, value), or (name, type name, shape)
# when describing.
_Batch = list[Any]


def numpy_dtype(type_name: str) -> "np.dtype[Any]":
    """The NumPy dtype of a tensor_type name (``"Float32"``) that :func:`describe_checkpoint` gave."""
    return _NUMPY_BY_NAME[type_name]


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_CRC_KEY = _varint_bytes((CRC_FIELD << 3) | _WIRE_FIXED32)
_CRC_FIELD_BYTES = len(_CRC_KEY) + 4
_CRC_MARKER = _varint_bytes(CRC_FIELD << 3 | _WIRE_VARINT) + b"\x01"  # "a CRC ends this file"
# what precedes msparam's CRC field where MindSpore looks for its trailer (17 bytes from the end)
_TAIL_BYTES = _MINDSPORE_TRAILER_BYTES - _CRC_FIELD_BYTES


class _Parser:
    """Bounds-checked protobuf field reader over a file read through a :class:`RangeReader`."""

    def __init__(self, reader: io.RangeReader) -> None:
        self.reader = reader
        self.path = reader.path

    def error(self, what: str) -> ValueError:
        return io.damaged(self.path, what)

    def varint(self, pos: int, end: int, what: str) -> tuple[int, int]:
        reader = self.reader
        buf, base = reader.buf, reader.base
        stop = min(end, pos + 10)
        if pos < base or stop > base + len(buf):
            buf, _ = reader.at(pos, stop - pos)
            base = reader.base
        i, stop = pos - base, stop - base
        result = shift = 0
        while i < stop:
            byte = buf[i]
            i += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result & 0xFFFFFFFFFFFFFFFF, base + i
            shift += 7
        if stop - (pos - base) == 10:
            raise self.error(f"{what} has a varint longer than 10 bytes at byte {pos}")
        raise self.error(f"{what} is cut off (truncated varint at byte {pos})")

    def field_at(self, pos: int, end: int, what: str) -> tuple[int, int, int, int, int, int]:
        """``(field, wire, value, length, key_start, next_pos)`` of the field at ``pos``: for
        length-delimited and fixed fields value is the start of the payload; fields protobuf
        rejects raise."""
        key_start = pos
        key, pos = self.varint(pos, end, f"a field key in {what}")
        field, wire = key >> 3, key & 7
        if key >> 32 or field > _MAX_FIELD or field == 0:
            raise self.error(f"{what} has the invalid field number {field} at byte {key_start}")
        if wire == _WIRE_VARINT:
            value, pos = self.varint(pos, end, f"field {field} of {what}")
            return field, wire, value, 0, key_start, pos
        if wire == _WIRE_BYTES:
            length, pos = self.varint(pos, end, f"the length of field {field} of {what}")
            if length > end - pos:
                raise self.error(f"field {field} of {what} claims {length} bytes at byte {pos}, "
                                 f"but only {end - pos} are left")
            return field, wire, pos, length, key_start, pos + length
        if wire in (_WIRE_FIXED64, _WIRE_FIXED32):
            size = 8 if wire == _WIRE_FIXED64 else 4
            if size > end - pos:
                raise self.error(f"field {field} of {what} is cut off at byte {pos}")
            return field, wire, pos, size, key_start, pos + size
        raise self.error(f"{what} has field {field} with unsupported wire type {wire} at byte {key_start}")

    def fields(self, pos: int, end: int, what: str) -> Iterator[tuple[int, int, int, int, int]]:
        """Yield ``(field, wire, value, length, key_start)`` of every field in ``[pos, end)``."""
        while pos < end:
            field, wire, value, length, key_start, pos = self.field_at(pos, end, what)
            yield field, wire, value, length, key_start

    def text(self, start: int, length: int, what: str) -> str:
        try:
            return self.reader.read(start, length).decode("utf-8")
        except UnicodeDecodeError:
            raise self.error(f"{what} at byte {start} is not valid UTF-8") from None

    def expect_bytes(self, field: int, wire: int, what: str) -> None:
        if wire != _WIRE_BYTES:
            raise self.error(f"field {field} of {what} has wire type {wire}, expected length-delimited")

    def add_dim(self, tensor: _Tensor, value: int) -> None:
        if value >= _INT64_LIMIT:
            value -= 1 << 64
        if value < 0:
            raise self.error(f"a tensor has the negative dimension {value}")
        if len(tensor["dims"]) == io.MAX_NDIM:
            raise self.error(f"a tensor has more than {io.MAX_NDIM} dimensions")
        tensor["dims"].append(value)

    def tensor(self, start: int, end: int, tensor: _Tensor) -> None:
        """Merge one TensorProto occurrence into ``tensor`` (dims, type, content), as protobuf merges."""
        for field, wire, value, length, _ in self.fields(start, end, "a TensorProto"):
            if field == 1:
                if wire == _WIRE_VARINT:
                    self.add_dim(tensor, value)
                elif wire == _WIRE_BYTES:  # packed encoding: also legal for a repeated int64
                    packed_end = value + length
                    pos = value
                    while pos < packed_end:
                        dim, pos = self.varint(pos, packed_end, "packed dims")
                        self.add_dim(tensor, dim)
                else:
                    raise self.error(f"the dims of a TensorProto have wire type {wire}")
            elif field == 2:
                self.expect_bytes(field, wire, "a TensorProto")
                tensor["type"] = self.text(value, length, "a tensor_type")
            elif field == 3:
                self.expect_bytes(field, wire, "a TensorProto")
                tensor["content"] = (value, length)

    def value(self, start: int, end: int) -> tuple[str, _Tensor]:
        """``(tag, tensor)`` of the Checkpoint.Value at ``[start, end)``."""
        tag = None
        tensor: _Tensor = {"dims": [], "type": None, "content": None}
        seen_tensor = False
        for field, wire, value, length, _ in self.fields(start, end, "a Checkpoint.Value"):
            if field == 1:
                self.expect_bytes(field, wire, "a Checkpoint.Value")
                tag = self.text(value, length, "a parameter name (tag)")
            elif field == 2:
                self.expect_bytes(field, wire, "a Checkpoint.Value")
                self.tensor(value, value + length, tensor)
                seen_tensor = True
        if tag is None:
            raise self.error(f"a Checkpoint.Value at byte {start} has no tag (parameter name)")
        if not seen_tensor or tensor["type"] is None or tensor["content"] is None:
            raise self.error(f"parameter {tag!r} has no tensor, tensor_type or tensor_content "
                             f"(map parameters are not supported)")
        return tag, tensor


class _Crc:
    """The CRC-32 of the file's bytes from 0 up to ``done``, extended in file order."""

    def __init__(self, reader: io.RangeReader, active: bool) -> None:
        self.reader, self.active = reader, active
        self.value = self.done = 0

    def through(self, end: int) -> None:
        """Extend over the file's bytes up to ``end``, reading them."""
        if self.active and end > self.done:
            self.value = self.reader.crc_of(self.done, end, self.value)
        self.done = max(self.done, end)

    def add(self, crc: int, length: int) -> None:
        """Extend over the next ``length`` bytes, whose CRC-32 is ``crc`` (they were read elsewhere)."""
        if self.active:
            self.value = io.crc32_combine(self.value, crc, length)
        self.done += length


class _Run:
    """The tensor being filled: one record, or the consecutive same-tag slices of a large one."""

    def __init__(self, tag: str, dims: list[int], type_name: str, start: int, keep: bool,
                 array: "npt.NDArray[Any] | None" = None, nbytes: "int | None" = None,
                 small: "bytearray | None" = None) -> None:
        self.tag, self.dims, self.type_name, self.start, self.keep = tag, dims, type_name, start, keep
        self.array, self.nbytes = array, nbytes  # tensors: the destination (None when skipped), its size
        self.small = small                       # strings and random_op: their bytes (None when skipped)
        self.filled = self.records = 0
        self.yielded = False  # a record the compiled scan read: its entry is out already
        # when locating: where its bytes lie, their CRC-32
        self.ranges: "list[tuple[int, int]] | None" = None
        self.content_crc = 0


def _trailer(reader: io.RangeReader, size: int) -> "tuple[int, int | None, str | None]":
    """``(protobuf_end, stored_crc, kind)`` from the file's tail: msparam's field, MindSpore's
    trailer, or no checksum (kind None).

    msparam's field is looked for first: where its key would be, MindSpore's trailer holds the
    high bytes of a 32-bit CRC in 10 bytes, always zero, so a file ending in msparam's field is
    never MindSpore's; but the bytes before msparam's field are the last tensor's, which may end
    in ``crc_num`` and two bytes (a file msparam wrote would otherwise be read wrongly)."""
    if size >= _CRC_FIELD_BYTES:
        tail = reader.read(size - _CRC_FIELD_BYTES, _CRC_FIELD_BYTES)
        if tail[:len(_CRC_KEY)] == _CRC_KEY:
            return size, int.from_bytes(tail[len(_CRC_KEY):], "little"), "msparam"
    if size >= _MINDSPORE_TRAILER_BYTES:
        tail = reader.read(size - _MINDSPORE_TRAILER_BYTES, _MINDSPORE_TRAILER_BYTES)
        if tail[:len(MINDSPORE_CRC_TRAILER)] == MINDSPORE_CRC_TRAILER:
            return size - _MINDSPORE_TRAILER_BYTES, int.from_bytes(tail[len(MINDSPORE_CRC_TRAILER):], "big"), \
                "MindSpore"
    return size, None, None


def read_checkpoint(path: str, wanted: "io.Wanted" = None, allocate: "io.Allocate" = None,
                    crc_check: bool = False) -> "tuple[list[io.Entry], str | None]":
    """Read a ``.ckpt`` file into a list of ``(name, value)``, in file order.

    Parameters
    ----------
    path : str
        The file.
    wanted : callable, optional
        ``wanted(name) -> bool``; tensors not wanted are skipped without being kept.
    allocate : callable, optional
        ``allocate(shape, numpy_dtype) -> ndarray``: a C-contiguous writable destination that the
        tensor bytes are read into (default ``numpy.empty``).
    crc_check : bool, default False
        Also verify the CRC when ``wanted`` skips tensors (which then are read for it); a file
        read whole is always verified when it carries a CRC.

    Returns
    -------
    list of (str, numpy.ndarray | str | bytes), and the kind of CRC verified ('MindSpore',
    'msparam' or None)
        Arrays for tensors, ``str`` for MindSpore's string entries, ``bytes`` for ``random_op``.

    Raises
    ------
    ValueError
        The file is damaged, truncated, encrypted, holds the same name in two adjacent records,
        has a CRC that does not match, or is not a checkpoint; the message names the file.
    """
    batches = _walk(path, wanted, allocate or np.empty, crc_check, _READ)
    result = []
    while True:
        try:
            result.extend(next(batches))
        except StopIteration as finished:
            return result, finished.value


def iter_checkpoint(path: str, wanted: "io.Wanted" = None, allocate: "io.Allocate" = None,
                    crc_check: bool = False) -> "Generator[io.Entry, None, str | None]":
    """:func:`read_checkpoint` one entry at a time: a generator of ``(name, value)`` that keeps no
    entry it has yielded (memory: the largest tensor) and returns the kind of CRC verified. The
    CRC is verified after the last entry, so a consumer must finish the generator before trusting
    what it wrote."""
    return _one_by_one(_walk(path, wanted, allocate or np.empty, crc_check, _READ))


def locate_checkpoint(path: str) -> "Generator[io.Entry, None, str | None]":
    """:func:`iter_checkpoint` with each tensor as a :class:`~msparam.train._tensor_io.TensorBytes`
    (where its bytes lie in the file, and their CRC-32) instead of an array: the bytes are read for
    their CRC through a small window, never held, so they can be copied file to file."""
    return _one_by_one(_walk(path, None, np.empty, False, _LOCATE))


def describe_checkpoint(path: str) -> "list[tuple[str, str, tuple[int, ...]]]":
    """``[(name, type name, shape), ...]`` of the tensors of a ``.ckpt`` file, in file order, from
    its record headers alone: tensor bytes are skipped, not read (nor is the CRC verified), so a
    10 GB file takes a few reads per tensor. Strings and ``random_op`` are left out."""
    return list(_one_by_one(_walk(path, None, np.empty, False, _DESCRIBE)))


def _one_by_one(batches: "Generator[_Batch, None, str | None]") -> "Generator[Any, None, str | None]":
    """The entries of a walk's batches one at a time; returns what the walk returns."""
    while True:
        try:
            batch = next(batches)
        except StopIteration as finished:
            crc_kind: "str | None" = finished.value
            return crc_kind
        yield from batch


_DESCRIBE_WINDOW = 4096  # header reads when describing: a page, not the megabyte of tensor bytes behind it


_READ, _DESCRIBE, _LOCATE = "read", "describe", "locate"  # what a walk does with each tensor's bytes


def _walk(path: str, wanted: "io.Wanted", allocate: "io.Allocator", crc_check: bool,
          mode: str) -> "Generator[_Batch, None, str | None]":
    """The one pass every reader of a ``.ckpt`` file makes: a generator of entry batches that
    returns the kind of CRC verified (a described file's CRC is not: that needs every byte).
    ``allocate`` is called only when reading (located and described tensors are left in the file)."""
    describe = mode == _DESCRIBE
    with open(path, "rb", buffering=0) as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        reader = io.RangeReader(fd, size, path, window=_DESCRIBE_WINDOW if describe else io.RangeReader.WINDOW)
        if size == 0:
            return None
        io.check_not_encrypted(path, reader.read(0, min(4, size)))
        end, stored_crc, crc_kind = _trailer(reader, size)
        if crc_kind is None and reader.read(0, min(len(_CRC_MARKER), size)) == _CRC_MARKER:
            raise io.damaged(path, f"it begins with msparam's CRC marker, but its end ({size} bytes) holds no CRC: "
                                     f"the file is truncated or damaged")
        verify = stored_crc is not None and not describe and (wanted is None or crc_check)
        crc_end = size - _CRC_FIELD_BYTES if crc_kind == "msparam" else end
        crc = _Crc(reader, verify)
        walk = _Walk(_Parser(reader), crc, wanted, allocate, mode)
        try:
            yield from walk.records(size, end, crc_kind)
            crc.through(crc_end)
        except ValueError as error:
            # a flipped bit usually breaks the framing first: when the CRC disagrees, say so
            computed = reader.crc_of(0, crc_end) if stored_crc is not None and not describe else None
            if computed is not None and computed != stored_crc:
                raise io.crc_mismatch(path, stored_crc, computed) from error
            raise
        if verify and crc.value != stored_crc:
            raise io.crc_mismatch(path, stored_crc, crc.value)
        return crc_kind if verify else None


class _Walk:
    """One pass over a file's records: the compiled scan takes the plain ones straight out of the
    read window, the Python parser each one it stops at (with its exact errors). Entries are
    yielded in lists (a scan's batch, or one entry) as their last record is read; only the open
    run (the tensor being filled) is kept."""

    def __init__(self, parser: _Parser, crc: _Crc, wanted: "io.Wanted", allocate: "io.Allocator", mode: str) -> None:
        self.parser, self.reader, self.crc = parser, parser.reader, crc
        self.wanted, self.allocate, self.mode = wanted, allocate, mode
        self.describe = mode != _READ  # the scan describes the tensors instead of reading them
        self.scan_ahead = self.reader.window // 16  # the scan re-reads the window when less is left

    def keep(self, tag: str) -> bool:
        return self.mode == _READ and (self.wanted is None or self.wanted(tag))

    def records(self, size: int, end: int, crc_kind: "str | None") -> "Generator[_Batch, None, None]":
        parser = self.parser
        run = None
        pos = 0
        while pos < end:
            run, pos = yield from self.plain_records(pos, end, run)
            if pos >= end:
                break
            field, wire, start, length, key_start, pos = parser.field_at(pos, end, "the Checkpoint message")
            if field == CRC_FIELD and wire == _WIRE_FIXED32 and crc_kind == "msparam":
                if start + 4 != size:
                    raise parser.error(f"msparam's CRC field at byte {key_start} is not at the end of the file")
                break
            if field == 1:  # any other field is unknown: protobuf skips it
                parser.expect_bytes(field, wire, "the Checkpoint message")
                tag, tensor = parser.value(start, start + length)
                if run is not None and run.tag == tag:
                    self.continue_run(run, tensor, key_start)
                else:
                    if run is not None:
                        yield list(self.finish_run(run))
                    run = self.start_run(tag, tensor, key_start, end)
            self.crc.through(pos)
        if run is not None:
            yield list(self.finish_run(run))

    def plain_records(self, pos: int, end: int,
                      run: "_Run | None") -> "Generator[_Batch, None, tuple[_Run | None, int]]":
        """Read the plain records from ``pos`` on (see ``_ckpt_scan``) and yield their entries (one
        list); the CRC then runs through the last of them. Returns the open run (the last record,
        already yielded, kept to refuse a record with its tag that would follow) and where the
        scan stopped."""
        window, index = self.reader.at(pos, min(self.scan_ahead, end - pos))  # re-reads only when the window runs low
        base = pos - index
        entries, last, scanned_to = plain_entries(window, base, pos, end, io.MAX_NDIM, _PLAIN_TYPES,
                                                  None if run is None else run.tag, RANDOM_OP_TAG,
                                                  self.wanted, self.allocate, self.describe)
        if last is not None:
            batch = [] if run is None else list(self.finish_run(run))
            batch.extend(entries if self.mode == _READ else self.described(entries, window, base))
            yield batch
            key_start, tag, shape, type_name, length = last
            run = _Run(tag, list(shape), type_name, key_start, keep=False, nbytes=length)
            run.filled, run.records, run.yielded = length, 1, True
        self.crc.through(scanned_to)
        return run, scanned_to

    def described(self, entries: "list[tuple[Any, ...]]", window: bytes,
                  index_base: int) -> "Iterator[tuple[Any, ...]]":
        """The scan's descriptions as :func:`describe_checkpoint` or :func:`locate_checkpoint` gives them."""
        if self.mode == _DESCRIBE:
            for tag, _, type_name, shape, _, _ in entries:
                yield tag, type_name, shape
            return
        view = memoryview(window)
        for tag, np_dtype, _, shape, index, length in entries:
            yield tag, io.TensorBytes(np_dtype, shape, ((index_base + index, length),),
                                      io.crc32(view[index:index + length]), self.parser.path)

    def read_content(self, run: _Run, content: tuple[int, int]) -> None:
        """Read one record's tensor_content into ``run`` (or only its CRC when the tensor is skipped)."""
        reader, crc = self.reader, self.crc
        start, length = content
        crc.through(start)
        if run.array is not None:
            destination = run.array.reshape(-1).view(np.uint8)[run.filled:run.filled + length]
            if length <= _SMALL_CONTENT:  # most likely in the window already: no system call
                data = reader.read(start, length)
                destination[:] = np.frombuffer(data, np.uint8)
                crc.add(io.crc32(data), length)
            else:
                crc.add(io.read_exact(reader.fd, destination, start, reader.path), length)
        elif run.small is not None:
            data = reader.read(start, length)
            run.small += data
            crc.add(io.crc32(data), length)
        elif run.ranges is not None:
            content_crc = reader.crc_of(start, start + length)
            run.ranges.append((start, length))
            run.content_crc = io.crc32_combine(run.content_crc, content_crc, length)
            crc.add(content_crc, length)
        else:
            crc.through(start + length)
        run.filled += length
        run.records += 1

    def start_run(self, tag: str, tensor: _Tensor, key_start: int, end: int) -> _Run:
        parser = self.parser
        type_name = tensor["type"]
        start, length = tensor["content"]
        keep = self.keep(tag)
        if type_name == STRING_TYPE or tag == RANDOM_OP_TAG:
            keep = keep or self.mode == _LOCATE  # located walks give these small entries as values
            run = _Run(tag, tensor["dims"], type_name, key_start, keep, small=bytearray() if keep else None)
        else:
            np_dtype = _NUMPY_BY_NAME.get(type_name)
            if np_dtype is None:
                raise io.unsupported_dtype(parser.path, tag, type_name)
            nbytes = io.check_size(parser.path, tag, tensor["dims"], np_dtype, None, type_name)
            # the slices that follow cannot hold more than the file has left: allocate only that much
            if nbytes < length or nbytes - length > end - (start + length):
                raise parser.error(f"parameter {tag!r} of shape {tuple(tensor['dims'])} and type {type_name} needs "
                                   f"{nbytes} bytes, but the file holds {length}")
            array = self.allocate(tuple(tensor["dims"]), np_dtype) if keep else None
            run = _Run(tag, tensor["dims"], type_name, key_start, keep, array=array, nbytes=nbytes)
            if self.mode == _LOCATE:
                run.ranges, run.content_crc = [], 0
        self.read_content(run, tensor["content"])
        return run

    def continue_run(self, run: _Run, tensor: _Tensor, key_start: int) -> None:
        parser, tag = self.parser, run.tag
        if run.nbytes is not None and run.filled == run.nbytes:
            raise parser.error(f"parameter {tag!r} is stored twice in a row (the records at bytes {run.start} and "
                               f"{key_start} each hold all of its {run.nbytes} bytes): the file holds two "
                               f"parameters with the same name, which the format cannot tell from the slices of "
                               f"one large tensor")
        if tensor["dims"] != run.dims or tensor["type"] != run.type_name:
            raise parser.error(f"parameter {tag!r} has adjacent records of different shape or type (bytes "
                               f"{run.start} and {key_start}): the file holds two parameters with the same name")
        length = tensor["content"][1]
        if run.nbytes is not None and run.filled + length > run.nbytes:
            raise parser.error(f"the {run.records + 1} adjacent records of parameter {tag!r} (from byte "
                               f"{run.start}) hold more than its {run.nbytes} bytes: the file holds the same "
                               f"name twice")
        self.read_content(run, tensor["content"])

    def finish_run(self, run: _Run) -> "Iterator[tuple[Any, ...]]":
        """Yield the entry ``run`` filled (its description when describing), once it is whole."""
        parser = self.parser
        if run.yielded:
            return
        if run.nbytes is not None and run.filled != run.nbytes:
            raise parser.error(f"parameter {run.tag!r} of shape {tuple(run.dims)} and type {run.type_name} needs "
                               f"{run.nbytes} bytes, but the file holds {run.filled}")
        if self.mode == _DESCRIBE:
            if run.nbytes is not None:
                yield run.tag, run.type_name, tuple(run.dims)
        elif run.ranges is not None:
            yield run.tag, io.TensorBytes(_NUMPY_BY_NAME[run.type_name], tuple(run.dims), tuple(run.ranges),
                                          run.content_crc, self.parser.path)
        elif run.small is not None:  # a kept string or random_op
            data = bytes(run.small)
            yield run.tag, data if run.tag == RANDOM_OP_TAG else _decode_string(parser, run.tag, data)
        elif run.array is not None:  # a kept tensor
            if run.array.dtype == np.bool_:
                io.normalise_bools(run.array)
            yield run.tag, run.array


def _decode_string(parser: _Parser, tag: str, data: bytes) -> str:
    if len(data) % 4:
        raise parser.error(f"string entry {tag!r} has {len(data)} bytes, not a whole number of UTF-32 characters")
    try:
        return data.decode("utf-32-le").rstrip("\x00")
    except UnicodeDecodeError:
        raise parser.error(f"string entry {tag!r} is not valid UTF-32") from None


def _length_delimited(field: int, payload_length: int) -> bytes:
    return _varint_bytes((field << 3) | _WIRE_BYTES) + _varint_bytes(payload_length)


def _value_head(tag_field: bytes, dims_field: bytes, type_field: bytes, content_length: int) -> bytes:
    """The bytes of ``Checkpoint{value: Value{tag, tensor{dims, tensor_type, tensor_content}}}``
    up to the content itself."""
    tensor_head = dims_field + type_field + _length_delimited(3, content_length)
    tensor_length = len(tensor_head) + content_length
    value_head = tag_field + _length_delimited(2, tensor_length)
    return _length_delimited(1, len(value_head) + tensor_length) + value_head + tensor_head


def _write_value(f: "IO[bytes]", tag_field: bytes, dims_field: bytes, type_field: bytes,
                 chunk: "npt.NDArray[np.uint8]", crc: int, num_threads: "int | None") -> "tuple[int, bytes]":
    """One record holding ``chunk``; returns ``crc`` extended over its bytes, and its last bytes
    (at most :data:`_TAIL_BYTES`)."""
    head = _value_head(tag_field, dims_field, type_field, len(chunk))
    f.write(head)
    crc = io.crc32(head, crc)
    tail = (head + chunk[-_TAIL_BYTES:].tobytes())[-_TAIL_BYTES:]
    return io.crc32_combine(crc, io.write_array_bytes(f, chunk, num_threads), len(chunk)), tail


def _copy_value(f: "IO[bytes]", tag_field: bytes, dims_field: bytes, type_field: bytes, tensor: io.TensorBytes,
                source_fd: int, crc: int) -> "tuple[int, bytes]":
    """One record whose content is copied from another file (``tensor``, a ``TensorBytes``);
    returns ``crc`` extended over its bytes, and its last bytes (at most :data:`_TAIL_BYTES`)."""
    head = _value_head(tag_field, dims_field, type_field, tensor.nbytes)
    f.write(head)
    f.flush()
    position = f.tell()
    io.reserve(f.fileno(), position, tensor.nbytes)
    tensor.copy_to(source_fd, f.fileno(), position)
    f.seek(position + tensor.nbytes)
    tail = (head + _last_bytes(tensor, source_fd, _TAIL_BYTES))[-_TAIL_BYTES:]
    return io.crc32_combine(io.crc32(head, crc), tensor.crc, tensor.nbytes), tail


def _last_bytes(tensor: io.TensorBytes, source_fd: int, count: int) -> bytes:
    """The last ``count`` bytes of ``tensor`` (fewer when it is shorter), read from its file."""
    last = b""
    for start, length in reversed(tensor.ranges):
        take = min(count - len(last), length)
        last = os.pread(source_fd, take, start + length - take) + last
        if len(last) >= count:
            break
    return last


def _read_whole(tensor: io.TensorBytes, source_fd: int) -> npt.NDArray[Any]:
    array = np.empty(tensor.shape, tensor.dtype)
    data, filled = array.reshape(-1).view(np.uint8), 0
    for start, length in tensor.ranges:
        io.read_exact(source_fd, data[filled:filled + length], start, tensor.path)
        filled += length
    return array


def _dims_field(shape: "tuple[int, ...]") -> bytes:
    return b"".join(b"\x08" + _varint_bytes(dim) for dim in shape)


def write_checkpoint(f: "IO[bytes]", items: "Iterable[tuple[str, Any]]", mindspore_crc: bool = False,
                     num_threads: "int | None" = None, sources: "dict[str, int] | None" = None) -> None:
    """Write ``(name, value)`` pairs to the binary file ``f`` as MindSpore does, then the CRC.

    ``value`` is a NumPy array of a dtype in :data:`TYPE_NAMES` or a ``str``. Array bytes go from
    the array's own buffer to the file (parallel ``pwrite``, their CRC-32 computed on the way;
    no copy for C-contiguous arrays), cut into MindSpore's 512 MiB slices. The file ends with
    msparam's CRC field, or with MindSpore's ``crc_num`` trailer when ``mindspore_crc``. ``f``
    must be a real file (it needs a file descriptor). A ``value`` may also be a
    :class:`~msparam.train._tensor_io.TensorBytes` whose file is open as ``sources[value.path]``:
    its bytes are copied file to file (read whole first when they need more than one slice).
    """
    f.write(_CRC_MARKER)
    crc = io.crc32(_CRC_MARKER)
    tail = _CRC_MARKER
    for name, value in items:
        encoded_name = name.encode("utf-8")
        tag_field = _length_delimited(1, len(encoded_name)) + encoded_name
        if isinstance(value, io.TensorBytes):
            if sources is None:
                raise TypeError(f"write_checkpoint: {name!r} is a TensorBytes, which needs 'sources' (the "
                                f"descriptor its file is open as)")
            encoded_type = TYPE_NAMES[value.dtype].encode("ascii")
            type_field = _length_delimited(2, len(encoded_type)) + encoded_type
            if value.nbytes <= CHUNK_BYTES:
                crc, tail = _copy_value(f, tag_field, _dims_field(value.shape), type_field, value,
                                        sources[value.path], crc)
                continue
            value = _read_whole(value, sources[value.path])
        if isinstance(value, str):
            data = np.frombuffer(np.array(value).tobytes(), np.uint8)
            dims_field = b"\x08\x00"
            type_name = STRING_TYPE
        else:
            array = np.asarray(value, order="C")
            type_name = TYPE_NAMES[array.dtype]
            dims_field = _dims_field(array.shape)
            data = array.reshape(-1).view(np.uint8)
        encoded_type = type_name.encode("ascii")
        type_field = _length_delimited(2, len(encoded_type)) + encoded_type
        crc, tail = _write_value(f, tag_field, dims_field, type_field, data[:CHUNK_BYTES], crc, num_threads)
        for start in range(CHUNK_BYTES, len(data), CHUNK_BYTES):
            crc, tail = _write_value(f, tag_field, dims_field, type_field, data[start:start + CHUNK_BYTES], crc,
                                     num_threads)
    if mindspore_crc:
        f.write(MINDSPORE_CRC_TRAILER + crc.to_bytes(10, "big"))
        return
    if tail.startswith(MINDSPORE_CRC_TRAILER):
        # MindSpore would take "crc_num" 9 bytes before the end for its trailer and fail to parse
        # the rest: an unknown field (the marker again) moves the bytes it looks at
        f.write(_CRC_MARKER)
        crc = io.crc32(_CRC_MARKER, crc)
    f.write(_CRC_KEY + crc.to_bytes(4, "little"))
