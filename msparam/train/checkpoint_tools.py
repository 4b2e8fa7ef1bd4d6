"""What the ``msparam`` command does with checkpoint files: inspect, convert and diff them.

The format of a file follows from its name: ``.ckpt``, ``.safetensors``, or a sharded safetensors
index (``*.safetensors.index.json`` as Hugging Face writes it, ``param_name_map.json`` as MindSpore
does), as the command promises; the Python API (``load_checkpoint``/``save_checkpoint``) keeps MindSpore's explicit
``format`` argument instead.
"""
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any, Protocol

import numpy as np
import numpy.typing as npt

from msparam.common import dtype as mstype
from msparam.common.parameter import Parameter
from msparam.common.tensor import Tensor
from msparam.train import _ckpt_file, _safetensors_file, _sharded, serialization
from msparam.train._tensor_io import Entry, TensorBytes
from msparam.train.serialization import load_checkpoint

_SAFETENSORS_DTYPES = frozenset(_safetensors_file.SAFETENSORS_TYPES.values())

__all__ = ["format_of", "inspect_checkpoint", "convert_checkpoint", "diff_checkpoints"]

_SUFFIXES = {".ckpt": "ckpt", ".safetensors": "safetensors"}
# A tensor as the headers list it, or as a conversion plans it: (name, numpy dtype, shape).
_Listed = tuple[str, "np.dtype[Any]", tuple[int, ...]]
# ``entries(locate)`` of a source: its (name, value) pairs, each value a TensorBytes with locate.
_Entries = Callable[[bool], Iterator[Entry]]


def format_of(path: "str | os.PathLike[str]", arg_name: str) -> str:
    """``'ckpt'`` or ``'safetensors'`` (also for a sharded index) from the name of ``path``;
    ValueError for any other."""
    if _sharded.is_index(path):
        return "safetensors"
    suffix = os.path.splitext(os.fspath(path))[1]
    if suffix not in _SUFFIXES:
        raise ValueError(f"{arg_name} {os.fspath(path)!r} must end in .ckpt, .safetensors, "
                         f"{_sharded.HF_INDEX_SUFFIX} or be named {_sharded.MINDSPORE_INDEX}, "
                         f"but it ends in {suffix or 'no suffix'!r}.")
    return _SUFFIXES[suffix]


def _entry(name: str, np_dtype: npt.DTypeLike, shape: Sequence[int]) -> dict[str, Any]:
    count = int(np.prod(shape, dtype=np.int64))
    return {"name": name, "dtype": str(mstype.dtype_from_numpy(np.dtype(np_dtype))), "shape": list(shape),
            "bytes": count * np.dtype(np_dtype).itemsize, "count": count}


def inspect_checkpoint(path: "str | os.PathLike[str]") -> list[dict[str, Any]]:
    """``[{name, dtype, shape, bytes, count}, ...]`` in file order, for the tensors of ``path``.

    Only headers are read: a safetensors file's JSON header, a ``.ckpt`` file's record headers
    (its tensor bytes are skipped), so a file of any size takes a few reads per tensor. The
    file's framing is checked as a load checks it; its CRC is not (that needs every byte).
    """
    path = os.fspath(path)
    if _sharded.is_index(path):
        shards = _sharded.read_index(path)
        described: dict[str, dict[str, Any]] = {}
        for shard in sorted(set(shards.values())):
            described.update((e["name"], e) for e in _inspect_safetensors(shard))
        missing = sorted(set(shards) - set(described))
        if missing:
            raise ValueError(f"The sharded checkpoint index {os.path.abspath(path)} places {missing[0]!r} in "
                             f"{os.path.basename(shards[missing[0]])}, which does not hold it.")
        return [described[name] for name in sorted(shards)]
    if format_of(path, "FILE") == "safetensors":
        return _inspect_safetensors(path)
    return [_entry(name, _ckpt_file.numpy_dtype(type_name), shape)
            for name, type_name, shape in _ckpt_file.describe_checkpoint(path)]


def _inspect_safetensors(path: str) -> list[dict[str, Any]]:
    with open(path, "rb", buffering=0) as f:
        _, table, _ = _safetensors_file.read_header(f.fileno(), os.fstat(f.fileno()).st_size, path)
    return [_entry(name, np_dtype, shape) for name, shape, np_dtype, _, _ in map(table.located, table.file_order)]


def _renamer(renames: Sequence[tuple[str, str]], name_map: dict[str, str]) -> Callable[[str], str]:
    patterns = [(re.compile(pattern), replacement) for pattern, replacement in renames]

    def rename(name: str) -> str:
        if name in name_map:
            return name_map[name]
        for pattern, replacement in patterns:
            name = pattern.sub(replacement, name)
        return name
    return rename


def _source(src: str) -> "tuple[list[_Listed], _Entries]":
    """``(listing, entries)`` of the checkpoint ``src``: ``[(name, numpy dtype, shape), ...]`` from
    its headers, in the order ``entries(locate)`` (a generator of ``(name, value)``, one tensor in
    memory at a time, or with ``locate`` none, each a ``TensorBytes``; it verifies the CRC at its
    end) yields them."""
    if _sharded.is_index(src):
        placement = _sharded.read_index(src)
    elif format_of(src, "SRC") == "ckpt":
        listing: "list[_Listed]" = [(name, _ckpt_file.numpy_dtype(type_name), shape)
                                    for name, type_name, shape in _ckpt_file.describe_checkpoint(src)]
        return listing, lambda locate: (_ckpt_file.locate_checkpoint(src) if locate
                                        else _ckpt_file.iter_checkpoint(src))
    else:
        with open(src, "rb", buffering=0) as f:
            _, entries, _ = _safetensors_file.read_header(f.fileno(), os.fstat(f.fileno()).st_size, src)
        placement = dict.fromkeys(entries, src)
    headers: "dict[str, _safetensors_file.TensorTable]" = {}
    for shard in sorted(set(placement.values())):
        with open(shard, "rb", buffering=0) as f:
            headers[shard] = _safetensors_file.read_header(f.fileno(), os.fstat(f.fileno()).st_size, shard)[1]
    listing = []
    for name in sorted(placement):
        entry = headers[placement[name]].get(name)
        if entry is None:
            raise ValueError(f"The sharded checkpoint index {os.path.abspath(src)} places {name!r} in "
                             f"{os.path.basename(placement[name])}, which does not hold it.")
        listing.append((name, entry[1], entry[0]))
    return listing, lambda locate: _safetensors_file.iter_placed(placement, locate=locate)


class _Progress(Protocol):
    """What a conversion uses of a tqdm bar."""

    def update(self, n: int) -> object: ...

    def close(self) -> None: ...


def _progress_bar(total_bytes: int, quiet: bool) -> "_Progress | None":
    """A tqdm bar over the tensor bytes when tqdm is installed (``msparam[progress]``), else None."""
    if quiet:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    bar: _Progress = tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024, desc="convert",
                          leave=False)
    return bar


def convert_checkpoint(src: "str | os.PathLike[str]", dst: "str | os.PathLike[str]",
                       renames: Sequence[tuple[str, str]] = (), name_map: "dict[str, str] | None" = None,
                       dtype: "mstype.Type | None" = None, max_shard_size: "int | None" = None,
                       quiet: bool = True) -> int:
    """Write the tensors of ``src`` to ``dst`` (formats from the suffixes), renamed by ``name_map``
    (exact names) or else by the ``(pattern, replacement)`` regular expressions in turn, and cast
    to ``dtype`` (an msparam dtype) when given; a sharded ``dst`` gets shards of at most
    ``max_shard_size`` bytes. Returns the number of entries written.

    Streaming: one tensor is read, cast, written and dropped before the next, so memory stays
    about the largest tensor (two of its size with a cast), whatever the file's size. The names,
    dtypes and shapes come from the headers first, so a safetensors ``dst`` is laid out before any
    byte arrives and every check of the names and dtypes happens before anything is written.
    Without a cast, tensor bytes go file to file (``copy_file_range``: in the kernel, as ``cp``),
    the source read only for their CRCs through a small window. Each file is written to a
    temporary and renamed into place once whole (and the source's CRC verified); a sharded
    ``dst``'s shards and index are renamed only once all are whole, the index last, and a failed
    rename puts back what was there. MindSpore's ``random_op`` state is not
    converted (it is no tensor); string entries go to a ``.ckpt`` only. Without ``quiet``, a tqdm
    progress bar shows on stderr when tqdm is installed.
    """
    target_format = format_of(dst, "DST")
    sharded = _sharded.is_index(dst)
    if max_shard_size is not None and not sharded:
        raise ValueError(f"--max-shard-size needs a sharded DST (an index named {_sharded.MINDSPORE_INDEX} or "
                         f"ending with {_sharded.HF_INDEX_SUFFIX}), but got {os.fspath(dst)!r}.")
    src, dst = os.fspath(src), os.path.abspath(os.fspath(dst))
    listing, open_entries = _source(src)
    rename = _renamer(renames, name_map or {})
    cast = None if dtype is None else np.dtype(mstype.dtype_to_nptype(dtype))
    plan, seen = [], set()
    for name, np_dtype, shape in listing:
        new_name = rename(name)
        if new_name in seen:
            raise ValueError(f"renaming gives two tensors the name {new_name!r}.")
        seen.add(new_name)
        plan.append((new_name, np_dtype if cast is None else cast, tuple(shape)))
    if not plan:
        raise ValueError(f"Failed to read the checkpoint file {os.path.abspath(src)}: it holds no parameters.")
    if target_format == "safetensors":
        _check_safetensors_plan(plan)
    bar = _progress_bar(sum(int(np.prod(shape, dtype=np.int64)) * dt.itemsize for _, dt, shape in plan), quiet)
    # file to file in the kernel when the bytes stay as they are (bools are normalised on the way)
    locate = cast is None and all(dt != np.bool_ for _, dt, _ in listing)

    written: "set[str]" = set()

    def stream() -> "Iterator[Entry]":
        names = written
        for name, value in open_entries(locate):
            if name == _ckpt_file.RANDOM_OP_TAG and isinstance(value, bytes):
                continue
            new_name = rename(name)
            if new_name in names or (isinstance(value, str) and new_name in seen):
                raise ValueError(f"renaming gives two entries the name {new_name!r}.")
            names.add(new_name)
            if not isinstance(value, str):
                if cast is not None:
                    value = Tensor(value, dtype).asnumpy()
                if bar is not None:
                    bar.update(value.nbytes)
            yield new_name, value

    # save_checkpoint refuses a missing directory, as MindSpore; the command makes it, as cp -r would.
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    try:
        with _SourceFiles() as sources:
            if target_format == "ckpt":
                serialization._atomic_save(dst, lambda f: _ckpt_file.write_checkpoint(f, stream(), sources=sources))
            elif sharded:
                _write_sharded(dst, plan, stream(), max_shard_size or serialization._MAX_SHARD_SIZE, sources)
            else:
                serialization._atomic_save(dst, lambda f: _write_safetensors(f, plan, stream(), True, sources))
        return len(written)
    finally:
        if bar is not None:
            bar.close()


def _check_safetensors_plan(plan: "list[_Listed]") -> None:
    for name, np_dtype, _ in plan:
        if name == _safetensors_file.METADATA_KEY:
            raise ValueError(f"format 'safetensors' reserves the name {name!r} for its metadata; "
                             f"rename it (--rename or --map) or convert to .ckpt.")
        if np_dtype not in _SAFETENSORS_DTYPES:
            raise TypeError(f"format 'safetensors' has no dtype for {name!r} "
                            f"({mstype.dtype_from_numpy(np_dtype)}); convert to .ckpt or cast it (--dtype).")


class _SourceFiles(dict[str, int]):
    """The source files a conversion copies from, each opened once: ``sources[path]`` is its fd."""

    def __missing__(self, path: str) -> int:
        fd = self[path] = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        return fd

    def __enter__(self) -> "_SourceFiles":
        return self

    def __exit__(self, *exc_info: object) -> None:
        for fd in self.values():
            os.close(fd)


def _write_safetensors(f: "IO[bytes]", plan: "list[_Listed]", stream: "Iterator[Entry]", exhaust: bool,
                       sources: "Mapping[str, int]") -> None:
    """Write the tensors of ``plan`` as ``stream`` yields them (arrays, or ``TensorBytes`` copied
    from ``sources``); with ``exhaust``, then finish ``stream`` (which verifies the source's CRC)
    before the file is complete."""
    writer = _safetensors_file.StreamWriter(f, {name: (np_dtype, shape) for name, np_dtype, shape in plan})
    for _ in plan:
        name, value = next(stream)
        if isinstance(value, str):
            raise TypeError(f"format 'safetensors' cannot store the string entry {name!r}; convert to .ckpt.")
        if name not in writer.header:
            raise ValueError(f"the source yielded {name!r}, which its headers did not list: it changed while "
                             f"it was converted.")
        if isinstance(value, TensorBytes):
            writer.copy(name, value, sources[value.path])
        else:
            writer.write(name, np.ascontiguousarray(value))
    if exhaust:
        for name, _ in stream:
            raise ValueError(f"the source yielded {name!r}, which its headers did not list: it changed while "
                             f"it was converted.")
    writer.finish()


def _write_sharded(index_path: str, plan: "list[_Listed]", stream: "Iterator[Entry]", max_shard_size: int,
                   sources: "Mapping[str, int]") -> None:
    """Shards in the order the stream fills them (its order is the plan's) and the index, saved as
    one: nothing lands at the destination unless every shard is whole."""
    shards = _sharded.plan_shards([(name, int(np.prod(shape, dtype=np.int64)) * np_dtype.itemsize)
                                   for name, np_dtype, shape in plan], max_shard_size)
    shard_files = _sharded.shard_names(index_path, len(shards))
    folder = os.path.dirname(index_path)
    by_name = {name: (name, np_dtype, shape) for name, np_dtype, shape in plan}

    def shard_writer(names: "list[str]", last: bool) -> "Callable[[IO[bytes]], None]":
        part = [by_name[name] for name in names]
        return lambda f: _write_safetensors(f, part, stream, last, sources)

    weight_map = {name: shard for names, shard in zip(shards, shard_files) for name in names}
    total = sum(int(np.prod(shape, dtype=np.int64)) * np_dtype.itemsize for _, np_dtype, shape in plan)
    text = _sharded.index_text(weight_map, total).encode()
    serialization._atomic_save_all(
        [(os.path.join(folder, shard), shard_writer(names, number == len(shards) - 1))
         for number, (names, shard) in enumerate(zip(shards, shard_files))]
        + [(index_path, lambda f: f.write(text))])


def _described(value: "Parameter | str") -> str:
    return repr(value) if isinstance(value, str) else f"{value.dtype}{list(value.shape)}"


def diff_checkpoints(a: "str | os.PathLike[str]", b: "str | os.PathLike[str]") -> dict[str, Any]:
    """Compare two checkpoints: ``{'only_a': [...], 'only_b': [...], 'mismatched': [(name, what), ...],
    'max_abs_diff': {name: float}, 'nan_in_one': {name: int}}`` (the last two for tensors of equal
    shape and dtype). NaNs at the same positions count as equal, as do equal infinities;
    ``max_abs_diff`` is over the other positions, and ``nan_in_one`` counts, for the tensors that
    have any, the positions holding NaN in one checkpoint and a number in the other."""
    left = load_checkpoint(a, format=format_of(a, "A"))
    right = load_checkpoint(b, format=format_of(b, "B"))
    mismatched: list[tuple[str, str]] = []
    max_abs_diff: dict[str, float] = {}
    nan_in_one: dict[str, int] = {}
    for name in sorted(set(left) & set(right)):
        x, y = left[name], right[name]
        if isinstance(x, str) or isinstance(y, str):  # string entries (append_dict) compare as text
            if x != y:
                mismatched.append((name, f"{_described(x)} vs {_described(y)}"))
            continue
        if x.shape != y.shape or x.dtype != y.dtype:
            mismatched.append((name, f"{_described(x)} vs {_described(y)}"))
            continue
        max_abs_diff[name], nan_count = _differences(x.asnumpy(), y.asnumpy())
        if nan_count:
            nan_in_one[name] = nan_count
    return {"only_a": sorted(set(left) - set(right)), "only_b": sorted(set(right) - set(left)),
            "mismatched": mismatched, "max_abs_diff": max_abs_diff, "nan_in_one": nan_in_one}


def _differences(x: "npt.NDArray[Any]", y: "npt.NDArray[Any]") -> tuple[float, int]:
    """The largest ``|x - y|`` where both hold numbers (0 where they are equal: ``inf - inf`` is
    NaN) or both NaN, and the number of positions where only one holds NaN."""
    if x.size == 0:
        return 0.0, 0
    if x.dtype.kind == "b":
        return float(np.any(x != y)), 0
    wide = np.complex128 if x.dtype.kind == "c" else np.float64
    xw, yw = x.astype(wide), y.astype(wide)
    x_nan, y_nan = np.isnan(xw), np.isnan(yw)
    with np.errstate(invalid="ignore"):
        gap = np.abs(xw - yw)
    gap[(xw == yw) | x_nan | y_nan] = 0
    return float(gap.max()), int(np.count_nonzero(x_nan ^ y_nan))
