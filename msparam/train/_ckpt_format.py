"""MindSpore's ``.ckpt`` container (a protobuf ``Checkpoint`` message) and safetensors files, read
and written by hand.

The schema (MindSpore's ``checkpoint.proto``, proto2)::

    message Checkpoint { message Value { required string tag = 1; required TensorProto tensor = 2; }
                         repeated Value value = 1; }
    message TensorProto { repeated int64 dims = 1; required string tensor_type = 2;
                          required bytes tensor_content = 3; }

A file is the concatenation of one-``Value`` ``Checkpoint`` messages (which protobuf reads as one
message). MindSpore cuts a tensor larger than 512 MiB into several consecutive ``Value``s with the
same tag and full ``dims``, each holding a slice of the bytes; the reader joins them.

Safety: every length is checked against the bytes left before anything is allocated, so a
hostile file can make the reader allocate at most what the file itself holds. Tensor bytes move
straight between the file and the arrays' buffers (parallel ``pread``/``pwrite`` in the compiled
``_fileio``), never through Python objects, and nothing is ever unpickled.
"""
import errno
import json
import mmap
import os

import numpy as np

from msparam._threads import get_num_threads
from msparam.common import dtype as mstype
from msparam.train._fileio import read_into, write_from

__all__ = ["TYPE_NAMES", "write_checkpoint", "read_checkpoint", "SAFETENSORS_TYPES", "write_safetensors",
           "read_safetensors_tensors", "CHUNK_BYTES"]

# MindSpore writes str(dtype) as tensor_type: "Float32", "Int8", "UInt8", "Bool", "Complex64", ...
TYPE_NAMES = {np.dtype(mstype.dtype_to_nptype(t)): str(t) for t in mstype.all_types}
_NUMPY_BY_NAME = {name: dt for dt, name in TYPE_NAMES.items()}
STRING_TYPE = "str"          # append_dict strings: UTF-32 bytes of a NumPy '<U' scalar, dims [0]
RANDOM_OP_TAG = "random_op"  # raw random-generator state MindSpore may append

CHUNK_BYTES = 512 * 1024 * 1024  # MindSpore's slice size for one Value's tensor_content
_MAX_NDIM = 64
_INT64_LIMIT = 1 << 63

_WIRE_VARINT, _WIRE_FIXED64, _WIRE_BYTES, _WIRE_FIXED32 = 0, 1, 2, 5


class _Parser:
    """Bounds-checked protobuf field reader over a byte buffer (an mmap of the file)."""

    def __init__(self, buf, path):
        self.buf = buf
        self.path = path

    def error(self, what):
        return ValueError(f"Failed to read the checkpoint file {self.path}: {what}. "
                          f"The file is damaged, truncated or not a MindSpore checkpoint.")

    def varint(self, pos, end, what):
        buf = self.buf
        result = shift = 0
        while True:
            if pos >= end:
                raise self.error(f"{what} is cut off (truncated varint at byte {pos})")
            byte = buf[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result & 0xFFFFFFFFFFFFFFFF, pos
            shift += 7
            if shift >= 70:
                raise self.error(f"{what} has a varint longer than 10 bytes at byte {pos}")

    def fields(self, pos, end, what):
        """Yield ``(field, wire, value, length)``: for length-delimited fields value is the start."""
        while pos < end:
            key, pos = self.varint(pos, end, f"a field key in {what}")
            field, wire = key >> 3, key & 7
            if field == 0:
                raise self.error(f"{what} has a field numbered 0 at byte {pos}")
            if wire == _WIRE_VARINT:
                value, pos = self.varint(pos, end, f"field {field} of {what}")
                yield field, wire, value, 0
            elif wire == _WIRE_BYTES:
                length, pos = self.varint(pos, end, f"the length of field {field} of {what}")
                if length > end - pos:
                    raise self.error(f"field {field} of {what} claims {length} bytes at byte {pos}, "
                                     f"but only {end - pos} are left")
                yield field, wire, pos, length
                pos += length
            elif wire in (_WIRE_FIXED64, _WIRE_FIXED32):
                size = 8 if wire == _WIRE_FIXED64 else 4
                if size > end - pos:
                    raise self.error(f"field {field} of {what} is cut off at byte {pos}")
                yield field, wire, pos, size
                pos += size
            else:
                raise self.error(f"{what} has field {field} with unsupported wire type {wire} at byte {pos}")

    def text(self, start, length, what):
        try:
            return bytes(self.buf[start:start + length]).decode("utf-8")
        except UnicodeDecodeError:
            raise self.error(f"{what} is not valid UTF-8") from None

    def expect_bytes(self, field, wire, what):
        if wire != _WIRE_BYTES:
            raise self.error(f"field {field} of {what} has wire type {wire}, expected length-delimited")

    def add_dim(self, tensor, value):
        if value >= _INT64_LIMIT:
            value -= 1 << 64
        if value < 0:
            raise self.error(f"a tensor has the negative dimension {value}")
        if len(tensor["dims"]) == _MAX_NDIM:
            raise self.error(f"a tensor has more than {_MAX_NDIM} dimensions")
        tensor["dims"].append(value)

    def tensor(self, start, end, tensor):
        """Merge one TensorProto occurrence into ``tensor`` (dims, type, content)."""
        for field, wire, value, length in self.fields(start, end, "a TensorProto"):
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

    def value(self, start, end):
        tag = None
        tensor = {"dims": [], "type": None, "content": None}
        seen_tensor = False
        for field, wire, value, length in self.fields(start, end, "a Checkpoint.Value"):
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

    def values(self, size):
        for field, wire, value, length in self.fields(0, size, "the Checkpoint message"):
            if field == 1:
                self.expect_bytes(field, wire, "the Checkpoint message")
                yield self.value(value, value + length)


def _records(parser, size):
    """Join consecutive Values with the same tag into ``(tag, dims, type, [(offset, length), ...])``."""
    records = []
    for tag, tensor in parser.values(size):
        if records and records[-1][0] == tag:
            last = records[-1]
            if last[1] != tensor["dims"] or last[2] != tensor["type"]:
                raise parser.error(f"the slices of parameter {tag!r} disagree on shape or type")
            last[3].append(tensor["content"])
        else:
            records.append((tag, tensor["dims"], tensor["type"], [tensor["content"]]))
    return records


def _check_size(parser, tag, dims, np_dtype, content_bytes):
    count = 1
    for dim in dims:
        if dim:
            count *= dim
    if count * np_dtype.itemsize >= _INT64_LIMIT:
        raise parser.error(f"parameter {tag!r} has the impossibly large shape {tuple(dims)}")
    nbytes = (0 if 0 in dims else count) * np_dtype.itemsize
    if nbytes != content_bytes:
        raise parser.error(f"parameter {tag!r} of shape {tuple(dims)} and type {TYPE_NAMES[np_dtype]} "
                           f"needs {nbytes} bytes, but the file holds {content_bytes}")


def _read_exact(fd, view, offset, parser):
    """Fill ``view`` (a writable uint8 array) with the file's bytes from ``offset``."""
    status = read_into(fd, view, offset, get_num_threads())
    if status:
        reason = "the file ended" if status < 0 else os.strerror(status)
        raise parser.error(f"could not read {len(view)} bytes at byte {offset} ({reason})")


def read_checkpoint(path, wanted=None, allocate=None):
    """Read a ``.ckpt`` file into a list of ``(name, value)``, in file order.

    Parameters
    ----------
    path : str
        The file.
    wanted : callable, optional
        ``wanted(name) -> bool``; tensors not wanted are skipped without being read.
    allocate : callable, optional
        ``allocate(shape, numpy_dtype) -> ndarray``: a C-contiguous writable destination that the
        tensor bytes are read into (default ``numpy.empty``).

    Returns
    -------
    list of (str, numpy.ndarray | str | bytes)
        Arrays for tensors, ``str`` for MindSpore's string entries, ``bytes`` for ``random_op``.

    Raises
    ------
    ValueError
        The file is damaged, truncated or not a checkpoint; the message names the file.
    """
    allocate = allocate or np.empty
    with open(path, "rb", buffering=0) as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        parser = _Parser(b"", path)
        if size == 0:
            return []
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped:
            parser.buf = mapped
            records = _records(parser, size)
            # Only names, types and small payloads are taken from the map; tensor bytes are read below.
            small = {}
            for tag, dims, type_name, pieces in records:
                if type_name == STRING_TYPE or tag == RANDOM_OP_TAG:
                    small[tag] = b"".join(mapped[start:start + length] for start, length in pieces)
        parser.buf = b""
        result = []
        for tag, dims, type_name, pieces in records:
            if wanted is not None and not wanted(tag):
                continue
            if tag == RANDOM_OP_TAG:
                result.append((tag, small[tag]))
                continue
            if type_name == STRING_TYPE:
                result.append((tag, _decode_string(parser, tag, small[tag])))
                continue
            np_dtype = _NUMPY_BY_NAME.get(type_name)
            if np_dtype is None:
                raise parser.error(f"parameter {tag!r} has the unknown tensor_type {type_name!r}")
            content_bytes = sum(length for _, length in pieces)
            _check_size(parser, tag, dims, np_dtype, content_bytes)
            array = allocate(tuple(dims), np_dtype)
            if content_bytes:
                destination = array.reshape(-1).view(np.uint8)
                filled = 0
                for start, length in pieces:
                    _read_exact(fd, destination[filled:filled + length], start, parser)
                    filled += length
                if np_dtype == np.bool_:
                    _normalise_bools(array)
            result.append((tag, array))
        return result


def _decode_string(parser, tag, data):
    if len(data) % 4:
        raise parser.error(f"string entry {tag!r} has {len(data)} bytes, not a whole number of UTF-32 characters")
    try:
        return data.decode("utf-32-le").rstrip("\x00")
    except UnicodeDecodeError:
        raise parser.error(f"string entry {tag!r} is not valid UTF-32") from None


def _varint_bytes(value):
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(field, payload_length):
    return _varint_bytes((field << 3) | _WIRE_BYTES) + _varint_bytes(payload_length)


def _reserve(fd, offset, length):
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


def _write_array_bytes(f, data):
    """Write ``data`` (a C-contiguous uint8 array) at ``f``'s position straight from its buffer
    (parallel ``pwrite``, its blocks reserved first) and leave ``f`` just after it."""
    if not len(data):
        return
    f.flush()
    position = f.tell()
    _reserve(f.fileno(), position, len(data))
    status = write_from(f.fileno(), data, position, get_num_threads())
    if status:
        code = status if status > 0 else errno.EIO
        raise OSError(code, f"could not write {len(data)} bytes to the checkpoint ({os.strerror(code)})")
    f.seek(position + len(data))


def _write_value(f, tag_field, dims_field, type_field, chunk):
    """One ``Checkpoint{value: Value{tag, tensor{dims, tensor_type, tensor_content=chunk}}}``."""
    tensor_head = dims_field + type_field + _length_delimited(3, len(chunk))
    tensor_length = len(tensor_head) + len(chunk)
    value_head = tag_field + _length_delimited(2, tensor_length)
    value_length = len(value_head) + tensor_length
    f.write(_length_delimited(1, value_length) + value_head + tensor_head)
    _write_array_bytes(f, chunk)


def write_checkpoint(f, items):
    """Write ``(name, value)`` pairs to the binary file ``f`` as MindSpore does.

    ``value`` is a NumPy array of a dtype in :data:`TYPE_NAMES` or a ``str``. Array bytes go from
    the array's own buffer to the file (parallel ``pwrite``; no copy for C-contiguous arrays), cut
    into MindSpore's 512 MiB slices. ``f`` must be a real file (it needs a file descriptor).
    """
    for name, value in items:
        encoded_name = name.encode("utf-8")
        tag_field = _length_delimited(1, len(encoded_name)) + encoded_name
        if isinstance(value, str):
            data = np.frombuffer(np.array(value).tobytes(), np.uint8)
            dims_field = b"\x08\x00"
            type_name = STRING_TYPE
        else:
            array = np.asarray(value, order="C")
            type_name = TYPE_NAMES[array.dtype]
            dims_field = b"".join(b"\x08" + _varint_bytes(dim) for dim in array.shape)
            data = array.reshape(-1).view(np.uint8)
        encoded_type = type_name.encode("ascii")
        type_field = _length_delimited(2, len(encoded_type)) + encoded_type
        _write_value(f, tag_field, dims_field, type_field, data[:CHUNK_BYTES])
        for start in range(CHUNK_BYTES, len(data), CHUNK_BYTES):
            _write_value(f, tag_field, dims_field, type_field, data[start:start + CHUNK_BYTES])


# safetensors' dtype names for the dtypes msparam stores (it has no complex128), in the order of its
# Dtype enum (increasing alignment): its writer lays tensors out by that order, descending.
SAFETENSORS_TYPES = {"BOOL": np.dtype(np.bool_), "U8": np.dtype(np.uint8), "I8": np.dtype(np.int8),
                     "I16": np.dtype(np.int16), "U16": np.dtype(np.uint16), "F16": np.dtype(np.float16),
                     "I32": np.dtype(np.int32), "U32": np.dtype(np.uint32), "F32": np.dtype(np.float32),
                     "C64": np.dtype(np.complex64), "F64": np.dtype(np.float64), "I64": np.dtype(np.int64),
                     "U64": np.dtype(np.uint64)}
_SAFETENSORS_NAMES = {dt: name for name, dt in SAFETENSORS_TYPES.items()}
_SAFETENSORS_RANK = {dt: rank for rank, dt in enumerate(SAFETENSORS_TYPES.values())}
_SAFETENSORS_ALIGNMENT = 8  # the header is padded with spaces to a multiple of this


def write_safetensors(f, tensors, metadata=None):
    """Write ``tensors`` (name other than ``__metadata__`` -> NumPy array of a dtype in
    :data:`SAFETENSORS_TYPES`) to the binary file ``f``, byte for byte as
    ``safetensors.numpy.save(tensors, metadata)`` lays it out.

    As the safetensors package does: tensors sorted by dtype alignment (descending), then by the
    UTF-8 bytes of their names; a compact JSON header with ``__metadata__`` first, then each
    tensor's ``dtype``, ``shape``, ``data_offsets``; non-ASCII left unescaped; the header padded
    with spaces to a multiple of 8 after its 8-byte little-endian length. ``metadata`` should have
    at most one key, since the package writes several in hash order. Array bytes go from the
    array's own buffer to the file (parallel ``pwrite``); ``f`` must be a real file.
    """
    # str order is code-point order, which is the UTF-8 byte order Rust compares names in
    ordered = sorted(((name, np.asarray(array, order="C")) for name, array in tensors.items()),
                     key=lambda item: (-_SAFETENSORS_RANK[item[1].dtype], item[0]))
    header = {} if metadata is None else {"__metadata__": metadata}
    offset = 0
    for name, array in ordered:
        header[name] = {"dtype": _SAFETENSORS_NAMES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    encoded_header = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    encoded_header += b" " * (-len(encoded_header) % _SAFETENSORS_ALIGNMENT)
    f.write(len(encoded_header).to_bytes(8, "little") + encoded_header)
    for _, array in ordered:
        _write_array_bytes(f, array.reshape(-1).view(np.uint8))


def read_safetensors_tensors(path, wanted=None, allocate=None):
    """Read a safetensors file (already validated by the safetensors package) tensor by tensor.

    The header (8-byte length, JSON) gives each tensor's dtype, shape and byte range; every range
    is checked again against the file before its bytes are read straight into ``allocate(...)``.
    Returns ``[(name, array), ...]`` in file order.
    """
    allocate = allocate or np.empty
    parser = _Parser(b"", path)
    with open(path, "rb", buffering=0) as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        head = os.pread(fd, 8, 0)
        if len(head) < 8:
            raise parser.error("the safetensors header length is cut off")
        header_length = int.from_bytes(head, "little")
        if header_length > size - 8:
            raise parser.error(f"the safetensors header claims {header_length} bytes, but the file has {size - 8}")
        try:
            header = json.loads(os.pread(fd, header_length, 8))
        except (ValueError, UnicodeDecodeError):
            raise parser.error("the safetensors header is not valid JSON") from None
        if not isinstance(header, dict):
            raise parser.error("the safetensors header is not a JSON object")
        base = 8 + header_length
        entries = []
        for name, info in header.items():
            if name == "__metadata__" or (wanted is not None and not wanted(name)):
                continue
            try:
                type_name, shape, (start, end) = info["dtype"], info["shape"], info["data_offsets"]
                shape = tuple(int(dim) for dim in shape)
                start, end = int(start), int(end)
            except (KeyError, TypeError, ValueError):
                raise parser.error(f"tensor {name!r} has a malformed safetensors header entry") from None
            np_dtype = SAFETENSORS_TYPES.get(type_name)
            if np_dtype is None:
                raise parser.error(f"tensor {name!r} has dtype {type_name!r}, which msparam does not store")
            if any(dim < 0 for dim in shape) or len(shape) > _MAX_NDIM:
                raise parser.error(f"tensor {name!r} has the invalid shape {shape}")
            if not 0 <= start <= end <= size - base:
                raise parser.error(f"tensor {name!r} has bytes {start}..{end} outside the {size - base} data bytes")
            _check_size(parser, name, shape, np_dtype, end - start)
            entries.append((start, name, shape, np_dtype))
        result = []
        for start, name, shape, np_dtype in sorted(entries, key=lambda entry: entry[0]):
            array = allocate(shape, np_dtype)
            if array.nbytes:
                _read_exact(fd, array.reshape(-1).view(np.uint8), base + start, parser)
                if np_dtype == np.bool_:
                    _normalise_bools(array)
            result.append((name, array))
        return result


def _normalise_bools(array):
    """Only 0/1 are valid bools; map any other byte to 1, as a C++ reader would see it."""
    raw = array.reshape(-1).view(np.uint8)
    if raw.max() > 1:
        np.not_equal(raw, 0, out=array.reshape(-1))
