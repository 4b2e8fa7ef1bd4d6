"""What the ``msparam`` command does with checkpoint files: inspect, convert and diff them.

The format of a file follows from its name: ``.ckpt``, ``.safetensors``, or a sharded safetensors
index (``*.safetensors.index.json`` as Hugging Face writes it, ``param_name_map.json`` as MindSpore
does), as the command promises; the Python API (``load_checkpoint``/``save_checkpoint``) keeps MindSpore's explicit
``format`` argument instead.
"""
import os
import re

import numpy as np

from msparam.common import dtype as mstype
from msparam.common.tensor import Tensor
from msparam.train import _ckpt_file, _safetensors_file, _sharded
from msparam.train.serialization import load_checkpoint, save_checkpoint

__all__ = ["format_of", "inspect_checkpoint", "convert_checkpoint", "diff_checkpoints"]

_SUFFIXES = {".ckpt": "ckpt", ".safetensors": "safetensors"}


def format_of(path, arg_name):
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


def _entry(name, np_dtype, shape):
    count = int(np.prod(shape, dtype=np.int64))
    return {"name": name, "dtype": str(mstype.dtype_from_numpy(np.dtype(np_dtype))), "shape": list(shape),
            "bytes": count * np.dtype(np_dtype).itemsize, "count": count}


def inspect_checkpoint(path):
    """``[{name, dtype, shape, bytes, count}, ...]`` in file order, for the tensors of ``path``.

    Only headers are read: a safetensors file's JSON header, a ``.ckpt`` file's record headers
    (its tensor bytes are skipped), so a file of any size takes a few reads per tensor. The
    file's framing is checked as a load checks it; its CRC is not (that needs every byte).
    """
    path = os.fspath(path)
    if _sharded.is_index(path):
        shards = _sharded.read_index(path)
        described = {}
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


def _inspect_safetensors(path):
    with open(path, "rb", buffering=0) as f:
        _, entries, _ = _safetensors_file.read_header(f.fileno(), os.fstat(f.fileno()).st_size, path)
    return [_entry(name, np_dtype, shape) for name, (shape, np_dtype, _, _) in entries.items()]


def _renamer(renames, name_map):
    patterns = [(re.compile(pattern), replacement) for pattern, replacement in renames]

    def rename(name):
        if name in name_map:
            return name_map[name]
        for pattern, replacement in patterns:
            name = pattern.sub(replacement, name)
        return name
    return rename


def convert_checkpoint(src, dst, renames=(), name_map=None, dtype=None, max_shard_size=None):
    """Write the tensors of ``src`` to ``dst`` (formats from the suffixes), renamed by ``name_map``
    (exact names) or else by the ``(pattern, replacement)`` regular expressions in turn, and cast
    to ``dtype`` (an msparam dtype) when given; a sharded ``dst`` gets shards of at most
    ``max_shard_size`` bytes. Returns the number of tensors written."""
    source = load_checkpoint(src, format=format_of(src, "SRC"))
    target_format = format_of(dst, "DST")
    rename = _renamer(renames, name_map or {})
    out, seen = [], set()
    for name, param in source.items():
        new_name = rename(name)
        if new_name in seen:
            raise ValueError(f"renaming gives two tensors the name {new_name!r}.")
        seen.add(new_name)
        out.append({"name": new_name, "data": param if dtype is None else Tensor(param.asnumpy(), dtype)})
    shard_options = {} if max_shard_size is None else {"max_shard_size": max_shard_size}
    if shard_options and not _sharded.is_index(dst):
        raise ValueError(f"--max-shard-size needs a sharded DST (an index named {_sharded.MINDSPORE_INDEX} or "
                         f"ending with {_sharded.HF_INDEX_SUFFIX}), but got {os.fspath(dst)!r}.")
    # save_checkpoint refuses a missing directory, as MindSpore; the command makes it, as cp -r would.
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    save_checkpoint(out, dst, format=target_format, **shard_options)
    return len(out)


def diff_checkpoints(a, b):
    """Compare two checkpoints: ``{'only_a': [...], 'only_b': [...], 'mismatched': [(name, what), ...],
    'max_abs_diff': {name: float}}`` (the last for tensors of equal shape and dtype)."""
    left = load_checkpoint(a, format=format_of(a, "A"))
    right = load_checkpoint(b, format=format_of(b, "B"))
    result = {"only_a": sorted(set(left) - set(right)), "only_b": sorted(set(right) - set(left)),
              "mismatched": [], "max_abs_diff": {}}
    for name in sorted(set(left) & set(right)):
        x, y = left[name], right[name]
        if x.shape != y.shape or x.dtype != y.dtype:
            result["mismatched"].append((name, f"{x.dtype}{list(x.shape)} vs {y.dtype}{list(y.shape)}"))
            continue
        xa, ya = x.asnumpy(), y.asnumpy()
        if xa.size == 0:
            result["max_abs_diff"][name] = 0.0
        elif xa.dtype.kind == "b":
            result["max_abs_diff"][name] = float(np.any(xa != ya))
        else:
            wide = np.complex128 if xa.dtype.kind == "c" else np.float64
            result["max_abs_diff"][name] = float(np.max(np.abs(xa.astype(wide) - ya.astype(wide))))
    return result
