"""safetensors files, read and written by hand, byte for byte as the safetensors package lays them
out; the header is parsed once and checked by the package's own rules.

Layout: an 8-byte little-endian header length, a JSON object (``__metadata__``: str -> str, and per
tensor ``dtype``, ``shape``, ``data_offsets`` into the data that follows), padded with spaces.

Checksums: MindSpore's metadata ``crc_num``, the decimal CRC-32 chained over the sorted names
(UTF-8), then each tensor's bytes (MindSpore 2.10 writes and checks it with ``crc_check=True``).
It leaves the rest of the header unchecked (a dtype ``F32`` damaged into ``I32`` keeps it), and a
file whose ``crc_num`` key is damaged looks like one written without it. So msparam also writes
:data:`HEADER_CRC_KEY`, the first metadata key: a CRC-32 of the header's meaning (every other
metadata entry, ``crc_num`` included, and each tensor's name, dtype, shape and data_offsets), as
ten decimal digits. A file carrying it must carry a matching header and a decimal ``crc_num``.
The two keys are 16 bytes of the header apart (``crc_num`` is the last metadata key), so one run
of damage shorter than 18 bytes cannot remove both. msparam verifies whichever a file carries;
other readers ignore metadata.
"""
import array
import bisect
import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from json.encoder import encode_basestring_ascii
from typing import IO, Any, cast

import numpy as np
import numpy.typing as npt

from msparam.common.dtype import bfloat16, dtype_to_nptype, float8_e4m3fn, float8_e5m2
from msparam.train import _json_stream
from msparam.train import _tensor_io as io

__all__ = ["SAFETENSORS_TYPES", "METADATA_KEY", "CRC_KEY", "HEADER_CRC_KEY", "HEADER_LIMIT", "read_header",
           "tensors_crc", "TensorTable", "header_crc", "write_safetensors", "StreamWriter", "read_safetensors",
           "iter_placed"]

# safetensors' dtype names for the dtypes msparam stores (it has no complex128), in the order of its
# Dtype enum (increasing alignment): its writer lays tensors out by that order, descending. F8_E4M3
# is PyTorch's float8_e4m3fn (no infinities), as safetensors.torch maps it.
SAFETENSORS_TYPES = {"BOOL": np.dtype(np.bool_), "U8": np.dtype(np.uint8), "I8": np.dtype(np.int8),
                     "F8_E5M2": np.dtype(dtype_to_nptype(float8_e5m2)),
                     "F8_E4M3": np.dtype(dtype_to_nptype(float8_e4m3fn)),
                     "I16": np.dtype(np.int16), "U16": np.dtype(np.uint16), "F16": np.dtype(np.float16),
                     "BF16": np.dtype(dtype_to_nptype(bfloat16)), "I32": np.dtype(np.int32), "U32": np.dtype(np.uint32),
                     "F32": np.dtype(np.float32), "C64": np.dtype(np.complex64), "F64": np.dtype(np.float64),
                     "I64": np.dtype(np.int64), "U64": np.dtype(np.uint64)}
_SAFETENSORS_NAMES = {dt: name for name, dt in SAFETENSORS_TYPES.items()}
_SAFETENSORS_RANK = {dt: rank for rank, dt in enumerate(SAFETENSORS_TYPES.values())}
_ALIGNMENT = 8  # the header is padded with spaces to a multiple of this
METADATA_KEY = "__metadata__"
CRC_KEY = "crc_num"
HEADER_CRC_KEY = "msparam_header_crc32"
_HEADER_CRC_DIGITS = 10  # fixed width: the value keeps the two CRC keys 16 bytes apart
HEADER_LIMIT = 100_000_000  # the safetensors package refuses larger headers
_KIND = "safetensors file"
_HEADER_WINDOW = 4096  # the first read: small headers in one call, without the tensor bytes behind them


def _error(path: str, what: str) -> ValueError:
    return io.damaged(path, what, _KIND)


def tensors_crc(names_and_crcs: "Iterable[tuple[str, int, int]]") -> int:
    """MindSpore's ``crc_num`` from ``(name, crc32 of its bytes, nbytes)`` in any order."""
    crc = 0
    for name, tensor_crc, nbytes in sorted(names_and_crcs, key=lambda item: item[0]):
        crc = io.crc32_combine(io.crc32(name.encode("utf-8"), crc), tensor_crc, nbytes)
    return crc


def _entry_text(name: str, dtype_name: str, shape: str, start: int, end: int) -> bytes:
    """A tensor's canonical JSON ``[name, dtype, shape, data_offsets]`` (ASCII, no spaces), from
    its ``shape`` as decimal dims joined by commas."""
    return f'[{encode_basestring_ascii(name)},"{dtype_name}",[{shape}],[{start},{end}]]'.encode("ascii")


def header_crc(metadata: "dict[str, str] | None", entry_texts: "Iterable[bytes]") -> str:
    """The value of :data:`HEADER_CRC_KEY`: CRC-32 of the canonical JSON ``[metadata items but
    that key, sorted; [name, dtype, shape, data_offsets] per tensor, sorted by name]`` (ASCII),
    as ten decimal digits. ``entry_texts``: :func:`_entry_text` of each tensor, sorted by name."""
    # the JSON text is fed to the CRC entry by entry: a hostile header of a million entries must
    # not be held a second time, as one list and one string
    items = sorted([key, value] for key, value in (metadata or {}).items() if key != HEADER_CRC_KEY)
    crc = io.crc32(b"[" + json.dumps(items, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b",[")
    for i, text in enumerate(entry_texts):  # names are unique: the order of the [name, ...] lists
        crc = io.crc32((b"," if i else b"") + text, crc)
    return str(io.crc32(b"]]", crc)).zfill(_HEADER_CRC_DIGITS)


def _layout(specs: "dict[str, tuple[np.dtype[Any], tuple[int, ...]]]") -> "tuple[list[str], dict[str, Any]]":
    """``(ordered names, header dict without metadata)`` for ``{name: (numpy dtype, shape)}``:
    tensors sorted as the safetensors package sorts them (dtype alignment descending, then the
    UTF-8 bytes of the name, which is code-point order), offsets tiling the data."""
    ordered = sorted(specs, key=lambda name: (-_SAFETENSORS_RANK[specs[name][0]], name))
    header: "dict[str, Any]" = {}
    offset = 0
    for name in ordered:
        np_dtype, shape = specs[name]
        nbytes = int(np.prod(shape, dtype=np.int64)) * np_dtype.itemsize
        header[name] = {"dtype": _SAFETENSORS_NAMES[np_dtype], "shape": list(shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    return ordered, header


def _encoded_header(header: "dict[str, Any]", metadata: "dict[str, str] | None", length: "int | None" = None) -> bytes:
    """The 8-byte length and the compact JSON header, padded with spaces to a multiple of 8 (or to
    ``length`` bytes, when given and long enough)."""
    full: "dict[str, Any]" = {} if metadata is None else {METADATA_KEY: metadata}
    full.update(header)
    encoded = json.dumps(full, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    encoded += b" " * ((length - len(encoded)) if length is not None else -len(encoded) % _ALIGNMENT)
    return len(encoded).to_bytes(8, "little") + encoded


def _with_crcs(metadata: "dict[str, str] | None", header: "dict[str, Any]", crc: int) -> "dict[str, str]":
    """``metadata`` with MindSpore's ``crc_num`` (``crc``, the tensors' CRC) and, first,
    msparam's :data:`HEADER_CRC_KEY` over the rest of the header (``header`` without metadata)."""
    checked = {key: value for key, value in (metadata or {}).items() if key not in (CRC_KEY, HEADER_CRC_KEY)}
    checked[CRC_KEY] = str(crc)
    texts = (_entry_text(name, header[name]["dtype"], ",".join(map(str, header[name]["shape"])),
                         *header[name]["data_offsets"]) for name in sorted(header))
    return {HEADER_CRC_KEY: header_crc(checked, texts), **checked}


def write_safetensors(f: "IO[bytes]", tensors: "dict[str, npt.NDArray[Any]]", metadata: "dict[str, str] | None" = None,
                      with_crc: bool = True, num_threads: "int | None" = None) -> None:
    """Write ``tensors`` (name other than ``__metadata__`` -> NumPy array of a dtype in
    :data:`SAFETENSORS_TYPES`) to the binary file ``f`` as ``safetensors.numpy.save(tensors,
    metadata)`` lays it out, adding MindSpore's ``crc_num`` to the metadata when ``with_crc``.

    As the safetensors package does: tensors sorted by dtype alignment (descending), then by the
    UTF-8 bytes of their names; a compact JSON header with ``__metadata__`` first, then each
    tensor's ``dtype``, ``shape``, ``data_offsets``; non-ASCII left unescaped; the header padded
    with spaces to a multiple of 8 after its 8-byte little-endian length. (The package writes
    several metadata keys in hash order; msparam writes them in the order given.) Array bytes go
    from the array's own buffer to the file (parallel ``pwrite``); ``f`` must be a real file.
    """
    threads = num_threads
    arrays = {name: np.asarray(array, order="C") for name, array in tensors.items()}
    ordered, header = _layout({name: (array.dtype, array.shape) for name, array in arrays.items()})
    if with_crc:
        from msparam._threads import get_num_threads
        crc_threads = get_num_threads() if threads is None else threads
        crc = tensors_crc((name, io.crc32(arrays[name].reshape(-1).view(np.uint8), 0, crc_threads),
                           arrays[name].nbytes) for name in ordered)
        metadata = _with_crcs(metadata, header, crc)
    f.write(_encoded_header(header, metadata))
    for name in ordered:
        io.write_array_bytes(f, arrays[name].reshape(-1).view(np.uint8), threads)


class StreamWriter:
    """Write a safetensors file tensor by tensor, in any order, holding none of them.

    The layout follows from ``specs`` (``{name: (numpy dtype, shape)}``) alone, so each tensor
    goes straight to its place (``pwrite``) as it arrives; MindSpore's ``crc_num`` is combined
    from the tensors' CRC-32s, and the header is written last. Its room is reserved for a
    10-digit CRC: a shorter one leaves a few more spaces of padding than :func:`write_safetensors`
    (the file is the same to every reader).
    """

    def __init__(self, f: "IO[bytes]", specs: "dict[str, tuple[np.dtype[Any], tuple[int, ...]]]",
                 metadata: "dict[str, str] | None" = None) -> None:
        self.f, self.metadata = f, dict(metadata or {})
        self.ordered, self.header = _layout(specs)
        # room for the widest CRC values: crc_num has up to 10 digits, the header CRC always 10
        self.header_length = len(_encoded_header(self.header, _with_crcs(self.metadata, self.header, 4294967295))) - 8
        self.crcs: "dict[str, int]" = {}
        data_bytes = self.header[self.ordered[-1]]["data_offsets"][1] if self.ordered else 0
        io.reserve(f.fileno(), 0, 8 + self.header_length + data_bytes)

    def write(self, name: str, array: npt.NDArray[Any]) -> None:
        """Write the tensor ``name`` (a C-contiguous array of the dtype and shape of its spec)."""
        start, end = self.header[name]["data_offsets"]
        data = array.reshape(-1).view(np.uint8)
        if name in self.crcs or len(data) != end - start:
            raise ValueError(f"safetensors stream: {name!r} is written twice or has {len(data)} bytes, "
                             f"not {end - start}")
        self.crcs[name] = io.pwrite_array_bytes(self.f.fileno(), data, 8 + self.header_length + start)

    def copy(self, name: str, tensor: io.TensorBytes, source_fd: int) -> None:
        """Write the tensor ``name`` from where its bytes lie in another file (``tensor``, a
        :class:`~msparam.train._tensor_io.TensorBytes`, its file open as ``source_fd``)."""
        start, end = self.header[name]["data_offsets"]
        if name in self.crcs or tensor.nbytes != end - start:
            raise ValueError(f"safetensors stream: {name!r} is written twice or has {tensor.nbytes} bytes, "
                             f"not {end - start}")
        tensor.copy_to(source_fd, self.f.fileno(), 8 + self.header_length + start)
        self.crcs[name] = tensor.crc

    def finish(self) -> None:
        """Write the header, once every tensor is written; leaves ``f`` at the end of the file."""
        missing = set(self.ordered) - set(self.crcs)
        if missing:
            raise ValueError(f"safetensors stream: {min(missing)!r} was never written")
        nbytes = {name: info["data_offsets"][1] - info["data_offsets"][0] for name, info in self.header.items()}
        crc = tensors_crc((name, crc, nbytes[name]) for name, crc in self.crcs.items())
        head = _encoded_header(self.header, _with_crcs(self.metadata, self.header, crc), self.header_length)
        self.f.seek(0)
        self.f.write(head)
        self.f.seek(0, os.SEEK_END)


def _entry(path: str, name: str, info: object) -> "tuple[str, list[int], int, int]":
    """``(dtype name, shape, start, end)`` of a tensor's header entry, checked."""
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise _error(path, f"tensor {name!r} has a malformed header entry")
    type_name, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if not isinstance(type_name, str):
        raise _error(path, f"tensor {name!r} has a malformed dtype")
    if (not isinstance(shape, list) or len(shape) > io.MAX_NDIM
            or not all(type(dim) is int and dim >= 0 for dim in shape)):
        raise _error(path, f"tensor {name!r} has the invalid shape {shape!r}")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(type(offset) is int and offset >= 0 for offset in offsets) or offsets[0] > offsets[1]
            or offsets[1] >= _OFFSET_LIMIT):
        raise _error(path, f"tensor {name!r} has the invalid data_offsets {offsets!r}")
    np_dtype = SAFETENSORS_TYPES.get(type_name)
    if np_dtype is None:
        raise io.unsupported_dtype(path, name, type_name)
    io.check_size(path, name, shape, np_dtype, offsets[1] - offsets[0], type_name, _KIND)
    return type_name, shape, offsets[0], offsets[1]


_DTYPE_NAMES = list(SAFETENSORS_TYPES)  # a tensor's dtype code is its index here
_DTYPE_CODES = {name: code for code, name in enumerate(_DTYPE_NAMES)}
_DTYPES = list(SAFETENSORS_TYPES.values())
_OFFSET_LIMIT = 1 << 63  # offsets are kept as int64 (a file cannot hold more bytes)


class TensorTable(Mapping[str, "tuple[tuple[int, ...], np.dtype[Any], int, int]"]):
    """The tensors of a safetensors header, held compactly: about 40 bytes per tensor besides its
    name and its shape's digits, less than the header's own text (dicts of a ``json.loads`` held
    ~15x the text of a header of tiny entries, and a header may have 100 MB). Names lie in one UTF-8 blob, shapes in one ASCII blob (each as its
    decimal dims joined by commas, never longer than in the JSON), dtypes and offsets in arrays.

    As a mapping: name -> ``(shape, numpy dtype, start, end)``, iterated in file order (by start
    offset). :meth:`located` walks it without looking each name up."""

    def __init__(self) -> None:
        self.names, self.shapes, self.codes = bytearray(), bytearray(), bytearray()
        self.name_ends, self.shape_ends = array.array("q", [0]), array.array("q", [0])
        self.starts, self.ends = array.array("q"), array.array("q")
        self.file_order: "npt.NDArray[np.intp]" = np.empty(0, np.intp)
        self.name_order: "npt.NDArray[np.intp]" = np.empty(0, np.intp)

    def add(self, name: bytes, type_name: str, shape: "list[int]", start: int, end: int) -> None:
        self.names += name
        self.name_ends.append(len(self.names))
        self.shapes += ",".join(map(str, shape)).encode("ascii")
        self.shape_ends.append(len(self.shapes))
        self.codes.append(_DTYPE_CODES[type_name])
        self.starts.append(start)
        self.ends.append(end)

    def seal(self, path: str) -> None:
        """Order the tensors by start offset and by name; duplicate names are refused."""
        self.file_order = np.argsort(np.frombuffer(self.starts, np.int64), kind="stable")
        # a sort of the names as bytes objects (UTF-8 order is code-point order): ~50 bytes each
        # for the length of the sort, and no Python object per tensor is kept
        names = np.fromiter((self.name_bytes(i) for i in range(len(self))), object, len(self))
        self.name_order = np.argsort(names, kind="stable")
        ordered = names[self.name_order]
        same = np.flatnonzero(ordered[1:] == ordered[:-1])
        if len(same):
            name = cast(bytes, ordered[same[0]])
            raise _error(path, f"its header names the tensor {name.decode()!r} twice")

    def name_bytes(self, index: "int | np.integer[Any]") -> bytes:
        return bytes(self.names[self.name_ends[index]:self.name_ends[index + 1]])

    def shape(self, index: "int | np.integer[Any]") -> "tuple[int, ...]":
        text = self.shapes[self.shape_ends[index]:self.shape_ends[index + 1]]
        return tuple(map(int, text.split(b","))) if text else ()

    def nbytes(self, index: "int | np.integer[Any]") -> int:
        return self.ends[index] - self.starts[index]

    def located(self, index: "int | np.integer[Any]") -> "tuple[str, tuple[int, ...], np.dtype[Any], int, int]":
        """``(name, shape, numpy dtype, start, end)`` of the tensor ``index``."""
        return (self.name_bytes(index).decode("utf-8"), self.shape(index), _DTYPES[self.codes[index]],
                self.starts[index], self.ends[index])

    def index(self, name: str) -> int:
        """The index of the tensor ``name`` (a binary search of the names); KeyError if none."""
        target = name.encode("utf-8", "surrogatepass")
        position = bisect.bisect_left(self.name_order, target, key=self.name_bytes)
        if position == len(self) or self.name_bytes(self.name_order[position]) != target:
            raise KeyError(name)
        return int(self.name_order[position])

    def __getitem__(self, name: str) -> "tuple[tuple[int, ...], np.dtype[Any], int, int]":
        _, shape, np_dtype, start, end = self.located(self.index(name))
        return shape, np_dtype, start, end

    def __len__(self) -> int:
        return len(self.starts)

    def __iter__(self) -> "Iterator[str]":
        return (self.name_bytes(i).decode("utf-8") for i in self.file_order)

    def entry_texts(self) -> "Iterator[bytes]":
        """:func:`_entry_text` of each tensor, in name order (what :func:`header_crc` reads)."""
        for i in self.name_order:
            shape = self.shapes[self.shape_ends[i]:self.shape_ends[i + 1]].decode("ascii")
            yield _entry_text(self.name_bytes(i).decode("utf-8"), _DTYPE_NAMES[self.codes[i]], shape,
                              self.starts[i], self.ends[i])

    def crc_num(self, crcs: "npt.NDArray[np.uint32]") -> int:
        """MindSpore's ``crc_num`` from each tensor's CRC-32 (``crcs[index]``), as :func:`tensors_crc`."""
        crc = 0
        for i in self.name_order:
            crc = io.crc32_combine(io.crc32(self.name_bytes(i), crc), int(crcs[i]), self.nbytes(i))
        return crc

    def check_tiling(self, path: str, size: int, data_start: int) -> None:
        """The tensors must tile the file's bytes after the header exactly, without gaps or overlaps."""
        starts, ends = np.frombuffer(self.starts, np.int64), np.frombuffer(self.ends, np.int64)
        order = np.lexsort((ends, starts))
        previous_ends = np.concatenate(([0], ends[order]))[:-1]
        gaps = np.flatnonzero(starts[order] != previous_ends)
        if len(gaps):
            i = int(order[gaps[0]])
            raise _error(path, f"tensor {self.name_bytes(i).decode()!r} starts at data byte {self.starts[i]}, but "
                               f"the previous tensor ends at {previous_ends[gaps[0]]} (tensors must tile the data "
                               f"without gaps or overlaps)")
        position, data_bytes = (int(ends[order[-1]]) if len(self) else 0), size - data_start
        if position > data_bytes:
            raise io.truncated(path, size, position - data_bytes, _KIND)
        if position != data_bytes:
            raise _error(path, f"the tensors cover {position} data bytes, but the file holds {data_bytes}")


def _check_header_crc(path: str, metadata: "dict[str, str]", table: TensorTable) -> None:
    """A file carrying :data:`HEADER_CRC_KEY` must carry a decimal ``crc_num`` and a header that
    gives the same CRC."""
    stored = metadata[HEADER_CRC_KEY]
    if CRC_KEY not in metadata:
        raise _error(path, f"it carries msparam's {HEADER_CRC_KEY} but no {CRC_KEY} (msparam writes both: "
                           f"the {CRC_KEY} key is damaged)")
    if not (metadata[CRC_KEY].isascii() and metadata[CRC_KEY].isdigit()):
        raise _error(path, f"its {CRC_KEY} {metadata[CRC_KEY]!r} is not a decimal number")
    computed = header_crc(metadata, table.entry_texts())
    if stored != computed:
        raise _error(path, f"its header does not match its {HEADER_CRC_KEY} (the file records {stored!r}, "
                           f"its header gives {computed!r})")


def read_header(fd: int, size: int, path: str) -> "tuple[dict[str, str] | None, TensorTable, int]":
    """Parse and check a safetensors header once: ``(metadata or None, the tensors' table,
    data_start)``, by the safetensors package's rules (a JSON object of at most 100 MB, tensors
    tiling the data exactly, no byte left over), and msparam's header CRC when the file carries it.

    The header is parsed one member at a time (:mod:`._json_stream`): what a load holds of it is
    the compact :class:`TensorTable`, whatever its size. Stricter than the package: a tensor name
    appearing twice, a key or value of more than a million characters (metadata included) and
    text that is not strict UTF-8 are refused."""
    if size < 8:
        raise io.truncated(path, size, 8 - size, _KIND)
    head = io.RangeReader(fd, size, path, _KIND, window=_HEADER_WINDOW).read(0, 8)
    io.check_not_encrypted(path, head[:4])
    header_length = int.from_bytes(head, "little")
    if header_length > HEADER_LIMIT:
        raise _error(path, f"the header claims {header_length} bytes, more than safetensors allows")
    if header_length > size - 8:
        raise io.truncated(path, size, header_length - (size - 8), _KIND)
    data_start = 8 + header_length
    metadata: "dict[str, str] | None" = None
    table = TensorTable()
    for name, info in _json_stream.object_members(fd, 8, data_start, lambda what: _error(path, what)):
        if name != METADATA_KEY:
            try:
                encoded = name.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate escape: no file system or reader spells it
                raise _error(path, f"the tensor name {name!r} is not valid Unicode") from None
            table.add(encoded, *_entry(path, name, info))
        elif metadata is not None:
            raise _error(path, "the header holds two __metadata__")
        elif not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
            raise _error(path, "the __metadata__ is not a map of strings")
        else:
            metadata = info
    table.seal(path)
    if metadata is not None and HEADER_CRC_KEY in metadata:
        _check_header_crc(path, metadata, table)
    table.check_tiling(path, size, data_start)
    return metadata, table, data_start


def read_safetensors(path: str, wanted: "io.Wanted" = None, allocate: "io.Allocate" = None,
                     crc_check: bool = False) -> "tuple[list[io.Entry], dict[str, str] | None, bool]":
    """Read a safetensors file tensor by tensor, straight into ``allocate(shape, dtype)`` buffers.

    Returns ``([(name, array), ...] in file order, metadata or None, crc_verified)``. A file
    carrying ``crc_num`` is verified when it is read whole, or with ``crc_check`` (skipped tensors
    are then read for the CRC); a mismatch raises ValueError.
    """
    make = allocate or np.empty
    with open(path, "rb", buffering=0) as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        metadata, table, data_start = read_header(fd, size, path)
        stored = (metadata or {}).get(CRC_KEY, "")
        verify = CRC_KEY in (metadata or {}) and (wanted is None or crc_check)
        if verify and not (stored.isascii() and stored.isdigit()):
            raise _error(path, f"its crc_num {stored!r} is not a decimal number")
        reader = io.RangeReader(fd, size, path, _KIND)
        result: list[io.Entry] = []
        crcs = np.zeros(len(table) if verify else 0, np.uint32)  # by tensor index
        for index in table.file_order:
            name, shape, np_dtype, start, end = table.located(index)
            if wanted is None or wanted(name):
                array = make(shape, np_dtype)
                crc = io.read_exact(fd, array.reshape(-1).view(np.uint8), data_start + start, path, _KIND)
                if np_dtype == np.bool_:
                    io.normalise_bools(array)
                result.append((name, array))
            elif verify:
                crc = reader.crc_of(data_start + start, data_start + end)
            else:
                continue
            if verify:
                crcs[index] = crc
        if verify:
            computed = table.crc_num(crcs)
            if computed != int(stored):
                raise io.crc_mismatch(path, int(stored), computed)
        return result, metadata, verify


def iter_placed(placement: "Mapping[str, str]", allocate: "io.Allocate" = None,
                locate: bool = False) -> "Iterator[io.Entry]":
    """Yield ``(name, array)`` for ``placement`` (``{name: safetensors file}``), one tensor at a
    time in code-point order of the names, keeping none. Every file that carries ``crc_num`` is
    verified after the last tensor (tensors a file holds but ``placement`` does not name are read
    for it), so a consumer must finish the generator before trusting what it wrote. With
    ``locate``, each tensor is a :class:`~msparam.train._tensor_io.TensorBytes` instead (its bytes
    read for their CRC through a small window, never held)."""
    allocate = allocate or np.empty
    with contextlib.ExitStack() as files:
        # path -> (fd, size, table, data start, stored crc_num, CRC of each tensor read by index, which were read)
        opened: "dict[str, tuple[int, int, TensorTable, int, str | None, npt.NDArray[np.uint32], npt.NDArray[np.bool_]]]"
        opened = {}
        for path in sorted(set(placement.values())):
            fd = files.enter_context(open(path, "rb", buffering=0)).fileno()
            size = os.fstat(fd).st_size
            metadata, table, data_start = read_header(fd, size, path)
            stored = (metadata or {}).get(CRC_KEY)
            if stored is not None and not (stored.isascii() and stored.isdigit()):
                raise _error(path, f"its crc_num {stored!r} is not a decimal number")
            opened[path] = (fd, size, table, data_start, stored, np.zeros(len(table), np.uint32),
                            np.zeros(len(table), np.bool_))
        for name in sorted(placement):
            path = placement[name]
            fd, size, table, data_start, _, crcs, read = opened[path]
            try:
                index = table.index(name)
            except KeyError:
                raise ValueError(f"The sharded checkpoint places {name!r} in {os.path.basename(path)}, "
                                 f"which does not hold it.") from None
            _, shape, np_dtype, start, end = table.located(index)
            read[index] = True
            if locate:
                crcs[index] = io.RangeReader(fd, size, path, _KIND).crc_of(data_start + start, data_start + end)
                yield name, io.TensorBytes(np_dtype, shape, ((data_start + start, end - start),), int(crcs[index]),
                                           path)
                continue
            array = allocate(shape, np_dtype)
            crcs[index] = io.read_exact(fd, array.reshape(-1).view(np.uint8), data_start + start, path, _KIND)
            if np_dtype == np.bool_:
                io.normalise_bools(array)
            yield name, array
        for path, (fd, size, table, data_start, stored, crcs, read) in opened.items():
            if stored is None:
                continue
            reader = io.RangeReader(fd, size, path, _KIND)
            for unread in np.flatnonzero(~read):
                crcs[unread] = reader.crc_of(data_start + table.starts[unread], data_start + table.ends[unread])
            computed = table.crc_num(crcs)
            if computed != int(stored):
                raise io.crc_mismatch(path, int(stored), computed)
