"""Sharded safetensors: an index (JSON) naming, for every tensor, the safetensors file holding it.

Two writers, one schema: ``{"metadata": {"total_size": bytes}, "weight_map": {name: shard file}}``.
The Hugging Face ecosystem names the index ``model.safetensors.index.json`` and the shards
``model-00001-of-00003.safetensors``; MindSpore 2.10 (``unified_safetensors``) names the index
``param_name_map.json`` and the shards ``part0.safetensors``, ``part1.safetensors``, ... Shards sit
beside the index; a shard name that leaves that folder is refused, so a hostile index cannot make
msparam read an arbitrary file.
"""
import json
import os

from msparam.train import _safetensors_file
from msparam.train._tensor_io import Allocate, Entry, Wanted

__all__ = ["MINDSPORE_INDEX", "HF_INDEX_SUFFIX", "is_index", "read_index", "read_sharded", "plan_shards",
           "shard_names", "index_text"]

MINDSPORE_INDEX = "param_name_map.json"
HF_INDEX_SUFFIX = ".safetensors.index.json"
_INDEX_LIMIT = 100_000_000  # a weight map of a million names is a few tens of MB


def is_index(path: "str | os.PathLike[str]") -> bool:
    """Whether ``path`` names a sharded checkpoint's index (by its file name)."""
    name = os.path.basename(os.fspath(path))
    return name == MINDSPORE_INDEX or name.endswith(HF_INDEX_SUFFIX)


def _error(path: object, what: str) -> ValueError:
    return ValueError(f"Failed to read the sharded checkpoint index {path}: {what}.")


def read_index(path: "str | os.PathLike[str]") -> dict[str, str]:
    """``{name: absolute shard path}`` from the index at ``path``, checked: a JSON object with a
    ``weight_map`` of str -> plain ``.safetensors`` file names, every shard present."""
    path = os.path.abspath(os.fspath(path))
    try:
        if os.path.getsize(path) > _INDEX_LIMIT:
            raise _error(path, f"it is larger than {_INDEX_LIMIT} bytes")
        with open(path, "rb") as f:
            index = json.loads(f.read())
    except FileNotFoundError:
        raise ValueError(f"The sharded checkpoint index {path} does not exist.") from None
    except (ValueError, UnicodeDecodeError) as e:
        if isinstance(e, ValueError) and str(e).startswith("Failed to read"):
            raise
        raise _error(path, "it is not valid JSON") from None
    if not isinstance(index, dict) or not isinstance(index.get("weight_map"), dict):
        raise _error(path, "it has no 'weight_map' object")
    folder = os.path.dirname(path)
    shards = {}
    for name, shard in index["weight_map"].items():
        if not isinstance(shard, str) or not shard.endswith(".safetensors"):
            raise _error(path, f"tensor {name!r} maps to {shard!r}, not a .safetensors file name")
        if os.path.basename(shard) != shard or shard in (".", ".."):
            raise _error(path, f"tensor {name!r} maps to {shard!r}, which is not a file beside the index")
        shards[name] = os.path.join(folder, shard)
    if not shards:
        raise _error(path, "its weight_map is empty")
    for shard in sorted(set(shards.values())):
        if not os.path.isfile(shard):
            raise _error(path, f"the shard {os.path.basename(shard)} is missing")
    return shards


def read_sharded(path: "str | os.PathLike[str]", wanted: Wanted = None, allocate: Allocate = None,
                 crc_check: bool = False) -> "tuple[list[Entry], dict[str, str] | None, bool]":
    """Read the tensors of a sharded checkpoint: ``([(name, array), ...] sorted by name in code-point
    order, remove_redundancy metadata or None, whether every shard read carried a verified CRC)``.

    Only the shards holding wanted tensors are opened, and only the wanted tensors are read.
    """
    shards = read_index(path)
    by_shard: dict[str, set[str]] = {}
    for name in sorted(shards):
        if wanted is None or wanted(name):
            by_shard.setdefault(shards[name], set()).add(name)
    result, metadata, all_verified = [], None, bool(by_shard)
    for shard, names in by_shard.items():
        # a shard read whole has its CRC verified; tensors the index does not place there are ignored
        entries, shard_metadata, verified = _safetensors_file.read_safetensors(
            shard, None if wanted is None else names.__contains__, allocate, crc_check)
        entries = [entry for entry in entries if entry[0] in names]
        missing = names - {name for name, _ in entries}
        if missing:
            raise _error(os.path.abspath(os.fspath(path)),
                         f"it places {min(missing)!r} in {os.path.basename(shard)}, which does not hold it")
        result.extend(entries)
        metadata = metadata or shard_metadata
        all_verified = all_verified and verified
    result.sort(key=lambda entry: entry[0])
    return result, metadata, all_verified


def plan_shards(sizes: "list[tuple[str, int]]", max_shard_size: int) -> list[list[str]]:
    """Split ``[(name, nbytes), ...]`` in order into shards of at most ``max_shard_size`` bytes of
    tensor data; a tensor larger than that gets a shard of its own (as Hugging Face does)."""
    shards: list[list[str]] = []
    current: list[str] = []
    current_size = 0
    for name, nbytes in sizes:
        if current and current_size + nbytes > max_shard_size:
            shards.append(current)
            current, current_size = [], 0
        current.append(name)
        current_size += nbytes
    if current:
        shards.append(current)
    return shards


def shard_names(index_path: "str | os.PathLike[str]", count: int) -> list[str]:
    """The shard file names for an index: MindSpore's ``partN`` or Hugging Face's ``-0000K-of-0000N``."""
    base = os.path.basename(os.fspath(index_path))
    if base == MINDSPORE_INDEX:
        return [f"part{i}.safetensors" for i in range(count)]
    if not base.endswith(HF_INDEX_SUFFIX):
        raise ValueError(f"A sharded checkpoint's index must be named {MINDSPORE_INDEX} or end with "
                         f"{HF_INDEX_SUFFIX}, but got {base!r}.")
    stem = base[:-len(HF_INDEX_SUFFIX)]
    return [f"{stem}-{i + 1:05d}-of-{count:05d}.safetensors" for i in range(count)]


def index_text(weight_map: "dict[str, str]", total_size: int) -> str:
    """The index file's text, as both writers lay it out (4-space indent)."""
    return json.dumps({"metadata": {"total_size": total_size}, "weight_map": weight_map}, indent=4)
