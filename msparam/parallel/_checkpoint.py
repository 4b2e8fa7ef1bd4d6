"""Sharded checkpoints: save the slices of a sharded net, load them onto any group size or layout.

``save_checkpoint(net, "out/net.ckpt", integrated_save=True)`` (MindSpore's default) gathers every
slice to rank 0, which writes the single-device file, as MindSpore does.  With
``integrated_save=False`` every rank writes its own slices, and the checkpoint is the directory
``out/net``::

    out/net -> .net.<generation>/          a symlink, swapped atomically by rank 0
    out/.net.<generation>/rank_<r>/net.ckpt   rank r's slices (MindSpore's rank_<r> layout)
    out/.net.<generation>/manifest.json       full shapes, dtypes and layouts, written last

Rank 0 writes the manifest only after every rank's file is durable (a barrier), then swaps the
symlink and removes the previous generation: a crash at any point leaves the previous checkpoint
whole and loadable.  Loading reads, on each rank, only the parts of the source files its own
slices need (safetensors files through ``safetensors.safe_open`` slices; a .ckpt file has no
index, so each needed tensor of it is read whole and cut).
"""
import json
import math
import os
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from msparam.common.dtype import dtype_to_nptype, to_dtype
from msparam.common.parameter import Parameter, parameter_layout, set_parameter_layout
from msparam.common.tensor import Tensor
from msparam.communication._world import ProcessGroup
from msparam.communication.management import world
from msparam.parallel._context import layout_rank_and_size
from msparam.parallel._layout import Layout
from msparam.parallel._slices import slice_of

# The sliced Parameters of a save_obj: name -> (Parameter, its Layout, the full shape).
_Sliced = dict[str, tuple[Parameter, Layout, tuple[int, ...]]]

if TYPE_CHECKING:
    from msparam.nn.cell import Cell

__all__ = ["sharded_save", "load_sharded", "merge_sliced_parameter", "transform_checkpoints",
           "load_distributed_checkpoint"]

MANIFEST = "manifest.json"
_MANIFEST_FORMAT = "msparam-sharded-1"
_SUFFIX = {"ckpt": ".ckpt", "safetensors": ".safetensors"}


# --- what a save_obj holds -------------------------------------------------------------------
def _named_parameters(save_obj: Any) -> list[tuple[str, Parameter]]:
    """``(name, Parameter)`` of the Parameters in a save_obj (Cell, list or dict)."""
    if hasattr(save_obj, "parameters_and_names"):
        return [(param.name, param) for _, param in save_obj.parameters_and_names()]
    items = save_obj.items() if isinstance(save_obj, dict) else (
        (entry.get("name"), entry.get("data")) if isinstance(entry, dict) else (getattr(entry, "name", None), entry)
        for entry in save_obj)
    return [(cast(str, name), value) for name, value in items if isinstance(value, Parameter)]


def _sliced(save_obj: Any) -> _Sliced:
    """``{name: (Parameter, Layout, full shape)}`` of the sliced Parameters in ``save_obj``."""
    found: _Sliced = {}
    for name, param in _named_parameters(save_obj):
        record = parameter_layout(param)
        if record is not None:
            found[name] = (param, Layout(tuple(record[0])), tuple(record[1]))
    return found


def _replace_entries(save_obj: Any, replacements: "dict[str, Tensor]") -> list[dict[str, Any]]:
    """``save_obj`` as a list of ``{'name', 'data'}`` entries, some replaced, order kept."""
    entries: list[dict[str, Any]] = []
    for name, value in (save_obj.items() if isinstance(save_obj, dict) else
                        ((param.name, param) for _, param in save_obj.parameters_and_names())
                        if hasattr(save_obj, "parameters_and_names") else
                        ((entry["name"], entry["data"]) if isinstance(entry, dict) else (entry.name, entry)
                         for entry in save_obj)):
        entries.append({"name": name, "data": replacements.get(name, value)})
    return entries


# --- saving ----------------------------------------------------------------------------------
class ShardedSave:
    """A save of a save_obj that holds slices: ``run(write)`` calls ``write(save_obj, path)`` with
    what this rank writes (nothing when rank 0 writes the merged file), then agrees with the
    other ranks and, for per-rank files, commits the checkpoint directory."""

    group: ProcessGroup
    format: str
    save_obj: "list[dict[str, Any]] | None"
    path: str
    directory: "str | None"
    link: str
    relative: str
    parameters: dict[str, dict[str, Any]]

    def __init__(self, save_obj: Any, path: str, integrated_save: bool, format: str) -> None:
        self.group = world()
        self.format = format
        sliced = _sliced(save_obj)
        for name, (_, layout, _) in sliced.items():
            if layout.device_count != self.group.size:
                raise ValueError(f"For 'save_checkpoint', the Parameter {name!r} holds a slice for a group of "
                                 f"{layout.device_count} ranks, but this group has {self.group.size}: a sharded "
                                 "save needs every rank (mpiexec).")
        if integrated_save:
            self.save_obj, self.path = self._gathered(save_obj, sliced), path
            self.directory = None
        else:
            self._prepare_directory(path)
            # plain Tensors (no copy): the nested save_checkpoint must not take them for slices again
            self.save_obj = _replace_entries(save_obj, {name: Tensor.from_numpy(param.asnumpy())
                                                        for name, (param, _, _) in sliced.items()})
            self.parameters = {}
            for entry in self.save_obj:
                name, data = entry["name"], entry["data"]
                layout_tuple, full_shape = (sliced[name][1].as_tuple(), sliced[name][2]) if name in sliced else (
                    None, data.shape)
                self.parameters[name] = {"shape": list(full_shape), "dtype": str(data.dtype),
                                         "layout": None if layout_tuple is None else list(layout_tuple)}

    def run(self, write: "Callable[[Any, str], object]") -> None:
        """``write(save_obj, path)`` where this rank writes, then ``finish``; returns None."""
        error = None
        if self.save_obj is not None:
            try:
                write(self.save_obj, self.path)
            except Exception as exc:  # every rank must learn of it before anyone commits
                error = exc
        self.finish(error)

    def _gathered(self, save_obj: Any, sliced: _Sliced) -> "list[dict[str, Any]] | None":
        """Rank 0: the save_obj with every sliced Parameter merged to its full tensor."""
        group = self.group
        merged: dict[str, Tensor] = {}
        for name, (param, layout, full_shape) in sliced.items():
            values = param.asnumpy()
            if group.rank == 0:
                full = np.empty(full_shape, values.dtype)
                full[slice_of(layout.slice_bounds(full_shape, 0))] = values
                piece = np.empty(values.shape, values.dtype)
                for rank in range(1, group.size):
                    group.recv_array_into(piece, rank)
                    full[slice_of(layout.slice_bounds(full_shape, rank))] = piece
                merged[name] = Parameter(Tensor.from_numpy(full), name, param.requires_grad)
            else:
                group.send_array(values, 0)
        return _replace_entries(save_obj, merged) if group.rank == 0 else None

    def _prepare_directory(self, path: str) -> None:
        stem = os.path.splitext(os.path.basename(path))[0]
        parent = os.path.dirname(path)
        generation = self.group.bcast(secrets.token_hex(6) if self.group.rank == 0 else None)
        self.link = os.path.join(parent, stem)
        self.directory = os.path.join(parent, f".{stem}.{generation}")
        self.relative = os.path.join(f"rank_{self.group.rank}", stem + _SUFFIX[self.format])
        rank_dir = os.path.join(self.directory, f"rank_{self.group.rank}")
        os.makedirs(rank_dir, exist_ok=True)
        self.path = os.path.join(self.directory, self.relative)

    def finish(self, error: "BaseException | None" = None) -> None:
        """After this rank's write (``error``: what it raised): agree, then commit the directory."""
        self.group.agree(error)
        if self.directory is None:
            return
        files = self.group.gather(self.relative)
        if self.group.rank == 0:
            self._commit(files)
        self.group.barrier()

    def _commit(self, files: "list[str] | None") -> None:
        directory = cast(str, self.directory)  # set for per-rank files, the only saves that commit
        manifest = {"format": _MANIFEST_FORMAT, "group_size": self.group.size, "ckpt_format": self.format,
                    "files": files, "parameters": self.parameters}
        _write_durably(os.path.join(directory, MANIFEST), json.dumps(manifest, indent=1).encode())
        temporary = f"{self.link}.{os.path.basename(directory)}.link"
        os.symlink(os.path.basename(directory), temporary)
        os.replace(temporary, self.link)
        _fsync_directory(os.path.dirname(self.link) or ".")
        # the previous generation, and any left by a save that crashed before its commit
        parent, prefix = os.path.dirname(self.link), f".{os.path.basename(self.link)}."
        current = os.path.basename(directory)
        for name in os.listdir(parent):
            if name.startswith(prefix) and name != current and len(name) == len(current) and \
                    os.path.isdir(os.path.join(parent, name)):
                _remove_tree(os.path.join(parent, name))


def _write_durably(path: str, data: bytes) -> None:
    temporary = path + ".tmp"
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
    _fsync_directory(os.path.dirname(path))


def _fsync_directory(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_tree(path: str) -> None:
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            os.remove(os.path.join(root, name))
        for name in dirs:
            os.rmdir(os.path.join(root, name))
    os.rmdir(path)


def sharded_save(save_obj: object, path: str, integrated_save: bool, format: str) -> "ShardedSave | None":
    """Package-internal seam for ``save_checkpoint``: a ShardedSave when ``save_obj`` holds sliced
    Parameters (``init_data(layout)``), else None (an ordinary save)."""
    if isinstance(save_obj, (list, dict)) or hasattr(save_obj, "parameters_and_names"):
        if _sliced(save_obj):
            return ShardedSave(save_obj, path, integrated_save, format)
    return None


# --- loading ---------------------------------------------------------------------------------
def _read_manifest(checkpoint_dir: str) -> dict[str, Any]:
    path = checkpoint_dir if checkpoint_dir.endswith(MANIFEST) else os.path.join(checkpoint_dir, MANIFEST)
    try:
        with open(path, "rb") as f:
            manifest = json.loads(f.read())
    except FileNotFoundError:
        raise ValueError(f"{checkpoint_dir!r} is not a sharded checkpoint: it has no {MANIFEST}.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != _MANIFEST_FORMAT:
        raise ValueError(f"{path!r} is not an msparam sharded-checkpoint manifest.")
    root = os.path.dirname(path)
    manifest["files"] = [os.path.join(root, name) for name in manifest["files"]]
    for name in manifest["files"]:
        if not os.path.isfile(name):
            raise ValueError(f"The sharded checkpoint {checkpoint_dir!r} misses the shard {name!r}.")
    return manifest


class _SourceFiles:
    """Reads parts of the tensors of checkpoint files, each file opened once."""

    def __init__(self, ckpt_format: str) -> None:
        self.ckpt_format = ckpt_format
        self.open: dict[str, Any] = {}

    def read(self, path: str, name: str, local_index: "tuple[slice, ...]") -> Any:
        """``tensor[local_index]`` of tensor ``name`` in file ``path``."""
        if self.ckpt_format == "safetensors":
            from safetensors import safe_open
            handle = self.open.get(path)
            if handle is None:
                handle = self.open[path] = safe_open(path, framework="numpy")
            if name not in handle.keys():
                raise ValueError(f"The shard {path!r} has no tensor {name!r}.")
            return handle.get_slice(name)[local_index]
        from msparam.train.serialization import load_checkpoint
        loaded = load_checkpoint(path, choice_func=lambda candidate: candidate == name)
        value = loaded.get(name)
        if not isinstance(value, Parameter):  # missing, or a string entry
            raise ValueError(f"The shard {path!r} has no tensor {name!r}.")
        return value.asnumpy()[local_index]


def _read_region(entry: dict[str, Any], files: list[str], sources: _SourceFiles,
                 bounds: "tuple[tuple[int, int], ...]", nptype: npt.DTypeLike) -> npt.NDArray[Any]:
    """The part ``bounds`` of one tensor of a sharded checkpoint, from the shards that hold it."""
    out = np.empty([stop - start for start, stop in bounds], nptype)
    full_shape = tuple(entry["shape"])
    if entry["layout"] is None:
        out[...] = sources.read(files[0], entry["name"], slice_of(bounds))
        return out
    layout = Layout(tuple(entry["layout"]))
    covered: set[tuple[tuple[int, int], ...]] = set()
    for rank, path in enumerate(files):
        source = layout.slice_bounds(full_shape, rank)
        if source in covered:  # a replica of a slice already read
            continue
        covered.add(source)
        overlap = [(max(a, c), min(b, d)) for (a, b), (c, d) in zip(bounds, source)]
        if any(start >= stop for start, stop in overlap):
            continue
        local = tuple(slice(start - s, stop - s) for (start, stop), (s, _) in zip(overlap, source))
        target = tuple(slice(start - b, stop - b) for (start, stop), (b, _) in zip(overlap, bounds))
        out[target] = sources.read(path, entry["name"], local)
    return out


def load_sharded(checkpoint_dir: str, net: "Cell | None" = None, layouts: "dict[str, tuple[Any, ...]] | None" = None,
                 strict_load: bool = False) -> dict[str, Parameter]:
    """Load a sharded checkpoint (``integrated_save=False``) on any group size and layout.

    Parameters
    ----------
    checkpoint_dir : str
        The checkpoint directory (or its manifest.json).
    net : Cell, optional
        Load into its Parameters of the same names.  A Parameter named in ``layouts``, or one
        holding a slice already (``init_data(layout)``), gets this rank's slice of that layout;
        any other gets the full tensor.
    layouts : dict, optional
        Parameter name -> MindSpore layout tuple for this group.
    strict_load : bool, default False
        Raise ValueError if ``net`` has a Parameter the checkpoint lacks.

    Returns
    -------
    dict
        name -> Parameter holding what this rank loaded.

    Raises
    ------
    ValueError
        A missing or foreign manifest, a missing shard or tensor, a layout that does not fit;
        on every rank when any rank fails, and nothing is loaded into ``net`` then.
    """
    group = world()
    error, loaded = None, {}
    targets = {param.name: param for param in net.get_parameters()} if net is not None else {}
    try:
        manifest = _read_manifest(checkpoint_dir)
        files, sources = manifest["files"], _SourceFiles(manifest["ckpt_format"])
        if strict_load:
            missing = sorted(set(targets) - set(manifest["parameters"]))
            if missing:
                raise ValueError(f"The sharded checkpoint {checkpoint_dir!r} lacks the Parameters {missing}.")
        layouts = dict(layouts or {})
        for name, entry in manifest["parameters"].items():
            full_shape = tuple(entry["shape"])
            layout = layouts.get(name)
            held = parameter_layout(targets[name]) if name in targets else None
            if layout is None and held is not None:
                layout = tuple(held[0])
            record = None
            if layout is None:
                bounds = tuple((0, size) for size in full_shape)
            else:
                rank, size = layout_rank_and_size()
                checked = Layout(tuple(layout))
                checked.check(full_shape, size)
                bounds = checked.slice_bounds(full_shape, rank)
                record = (checked.as_tuple(), full_shape)
            nptype = _nptype_named(entry["dtype"])
            values = _read_region(dict(entry, name=name), files, sources, bounds, nptype)
            param = Parameter(Tensor.from_numpy(values), name)
            set_parameter_layout(param, record)
            loaded[name] = param
    except (OSError, ValueError, TypeError, KeyError) as exc:
        error = exc if not isinstance(exc, (OSError, KeyError)) else ValueError(
            f"The sharded checkpoint {checkpoint_dir!r} cannot be read: {exc}")
    group.agree(error)
    if net is not None:
        for name, param in loaded.items():
            if name in targets:
                target = targets[name]
                target.set_data(param, slice_shape=True)
                set_parameter_layout(target, parameter_layout(param))
    return loaded


def _nptype_named(text: str) -> "type[np.generic]":
    """The NumPy type of the msparam dtype named ``text`` in a manifest ('Float32')."""
    return dtype_to_nptype(to_dtype(text, "dtype", "load_distributed_checkpoint"))


# --- MindSpore's names -------------------------------------------------------------------------
def merge_sliced_parameter(sliced_parameters: list[Parameter],
                           strategy: "dict[str, tuple[Any, ...]] | None" = None) -> Parameter:
    """Merge the slices of one Parameter (in rank order) into the full Parameter, as MindSpore.

    Parameters
    ----------
    sliced_parameters : list of Parameter
        One slice per rank, in rank order, all with the same name.
    strategy : dict, optional
        Parameter name -> layout tuple (msparam's form of MindSpore's strategy).  None: the
        slices are concatenated along axis 0.

    Raises
    ------
    TypeError
        ``sliced_parameters`` is not a list of Parameters, or ``strategy`` is not a dict.
    ValueError
        An empty list; slices of different names or shapes; a layout that does not fit.
    KeyError
        The Parameter's name is not in ``strategy``.
    """
    if not isinstance(sliced_parameters, list):
        raise TypeError(f"For 'merge_sliced_parameter', the argument 'sliced_parameters' should be list, "
                        f"but got {type(sliced_parameters)}.")
    if not sliced_parameters:
        raise ValueError("For 'merge_sliced_parameter', the argument 'sliced_parameters' should not be empty.")
    if strategy and not isinstance(strategy, dict):
        raise TypeError(f"For 'merge_sliced_parameter', the argument 'strategy' should be dict, "
                        f"but got {type(strategy)}.")
    for index, param in enumerate(sliced_parameters):
        if not isinstance(param, Parameter):
            raise TypeError(f"For 'merge_sliced_parameter', the element in 'sliced_parameters' should be "
                            f"'Parameter', but got {type(param)} at index {index}.")
    first = sliced_parameters[0]
    for index, param in enumerate(sliced_parameters):
        if param.name != first.name or param.shape[1:] != first.shape[1:] or len(param.shape) != len(first.shape):
            raise ValueError(f"For 'merge_sliced_parameter', please make sure that the elements in "
                             f"'slice_parameters' have the same name, dimension length and shape except 0 axis, "
                             f"but got {param} at index {index} and {first} at index 0.")
    slices = [param.asnumpy() for param in sliced_parameters]
    if not strategy:
        merged = np.concatenate(slices)
    else:
        if first.name not in strategy:
            raise KeyError(f"For 'merge_sliced_parameter', the parameter name {first.name} should be a key in "
                           f"the 'strategy'. Please check 'sliced_parameter' and 'strategy'.")
        layout = Layout(tuple(strategy[first.name]))
        if len(slices) != layout.device_count:
            raise ValueError(f"For 'merge_sliced_parameter', the length of 'sliced_parameters' should be equal to "
                             f"device_count. The length of 'sliced_parameters' is {len(slices)}, but device_count "
                             f"is {layout.device_count}.")
        full_shape = tuple(size * parts for size, parts in zip(first.shape, layout.splits()))
        layout.check(full_shape, layout.device_count)
        for index, values in enumerate(slices):
            if values.shape != first.shape:
                raise ValueError(f"For 'merge_sliced_parameter', every slice must have shape {first.shape} "
                                 f"(even splits), but got {values.shape} at index {index}.")
        merged = np.empty(full_shape, slices[0].dtype)
        for rank, values in enumerate(slices):
            merged[slice_of(layout.slice_bounds(full_shape, rank))] = values
    return Parameter(Tensor.from_numpy(merged), first.name, first.requires_grad, first.layerwise_parallel)


def transform_checkpoints(src_checkpoints_dir: str, dst_checkpoints_dir: str, ckpt_prefix: str,
                          src_strategy_file: "str | None" = None, dst_strategy_file: None = None,
                          process_num: int = 1, output_format: str = "ckpt") -> None:
    """Turn a sharded checkpoint into one single-device checkpoint (run on one process).

    Parameters
    ----------
    src_checkpoints_dir : str
        The sharded checkpoint directory (``save_checkpoint(..., integrated_save=False)``).
    dst_checkpoints_dir : str
        Receives ``rank_0/<ckpt_prefix>0.<output_format>``, MindSpore's naming.
    ckpt_prefix : str
    src_strategy_file : str, optional
        msparam keeps the strategy in the checkpoint's manifest: must be None or that manifest.
    dst_strategy_file : None
        Only the single-device destination is supported (ValueError otherwise); to load onto
        another layout, load the sharded checkpoint directly (``load_distributed_checkpoint``).
    process_num : int, default 1
    output_format : {'ckpt', 'safetensors'}, default 'ckpt'
    """
    from msparam.train.serialization import save_checkpoint
    if not isinstance(ckpt_prefix, str):
        raise TypeError(f"For 'transform_checkpoints', 'ckpt_prefix' must be str, but got {type(ckpt_prefix)}.")
    if dst_strategy_file is not None:
        raise ValueError("For 'transform_checkpoints', only the single-device destination (dst_strategy_file=None) "
                         "is supported; load the sharded checkpoint onto another layout with "
                         "load_distributed_checkpoint.")
    if src_strategy_file is not None and os.path.abspath(src_strategy_file) != os.path.abspath(
            os.path.join(src_checkpoints_dir, MANIFEST)):
        raise ValueError("For 'transform_checkpoints', the strategy of a sharded checkpoint is its own manifest; "
                         f"'src_strategy_file' must be None, but got {src_strategy_file!r}.")
    if output_format not in _SUFFIX:
        raise ValueError(f"For 'transform_checkpoints', 'output_format' must be 'ckpt' or 'safetensors', "
                         f"but got {output_format!r}.")
    manifest = _read_manifest(src_checkpoints_dir)
    sources = _SourceFiles(manifest["ckpt_format"])
    entries = []
    for name, entry in manifest["parameters"].items():
        bounds = tuple((0, size) for size in entry["shape"])
        values = _read_region(dict(entry, name=name), manifest["files"], sources, bounds,
                              _nptype_named(entry["dtype"]))
        entries.append({"name": name, "data": Tensor.from_numpy(values)})
    target = os.path.join(dst_checkpoints_dir, "rank_0")
    os.makedirs(target, exist_ok=True)
    save_checkpoint(entries, os.path.join(target, f"{ckpt_prefix}0{_SUFFIX[output_format]}"), format=output_format)


def load_distributed_checkpoint(network: "Cell", checkpoint_filenames: "list[str] | tuple[str, ...] | None" = None,
                                predict_strategy: "dict[str, tuple[Any, ...]] | None" = None,
                                train_strategy_filename: "str | None" = None, strict_load: bool = False,
                                format: str = "ckpt") -> dict[str, Parameter]:
    """Load a checkpoint into a sharded ``network``, each rank reading only its slices.

    Parameters
    ----------
    network : Cell
    checkpoint_filenames : list of str, optional
        One single-device checkpoint file (the reverse of a merge): each rank reads only its
        slices of it (safetensors: only those bytes).
    predict_strategy : dict, optional
        Parameter name -> layout tuple of this group (Parameters already sliced keep theirs).
    train_strategy_filename : str, optional
        A sharded checkpoint directory (or its manifest), instead of ``checkpoint_filenames``.
    strict_load : bool, default False
    format : {'ckpt', 'safetensors'}, default 'ckpt'
        The format of ``checkpoint_filenames``.

    Raises
    ------
    ValueError
        Neither or both sources, or what ``load_sharded`` raises.
    """
    if (checkpoint_filenames is None) == (train_strategy_filename is None):
        raise ValueError("For 'load_distributed_checkpoint', give either 'checkpoint_filenames' (one "
                         "single-device file) or 'train_strategy_filename' (a sharded checkpoint directory).")
    if train_strategy_filename is not None:
        return load_sharded(train_strategy_filename, network, predict_strategy, strict_load)
    if not isinstance(checkpoint_filenames, (list, tuple)) or len(checkpoint_filenames) != 1:
        raise ValueError("For 'load_distributed_checkpoint', 'checkpoint_filenames' must be a list of one "
                         "single-device checkpoint file; for per-rank files use 'train_strategy_filename'.")
    return _load_single_file(network, checkpoint_filenames[0], predict_strategy, strict_load, format)


def _load_single_file(network: "Cell", path: str, predict_strategy: "dict[str, tuple[Any, ...]] | None",
                      strict_load: bool, format: str) -> dict[str, Parameter]:
    group = world()
    error, loaded = None, {}
    targets = {param.name: param for param in network.get_parameters()}
    layouts = dict(predict_strategy or {})
    try:
        if format not in _SUFFIX:
            raise ValueError(f"For 'load_distributed_checkpoint', 'format' must be 'ckpt' or 'safetensors', "
                             f"but got {format!r}.")
        if not os.path.isfile(path):
            raise ValueError(f"For 'load_distributed_checkpoint', the file {path!r} does not exist.")
        sources = _SourceFiles(format)
        for name, target in targets.items():
            layout = layouts.get(name)
            held = parameter_layout(target)
            if layout is None and held is not None:
                layout = tuple(held[0])
            full_shape = tuple(held[1]) if held else tuple(target.shape)
            record = None
            if layout is None:
                index = tuple(slice(None) for _ in full_shape)
            else:
                rank, size = layout_rank_and_size()
                checked = Layout(tuple(layout))
                checked.check(full_shape, size)
                index = slice_of(checked.slice_bounds(full_shape, rank))
                record = (checked.as_tuple(), full_shape)
            try:
                values = np.ascontiguousarray(sources.read(path, name, index))
            except ValueError:
                if strict_load:
                    raise
                continue
            param = Parameter(Tensor.from_numpy(values), name)
            set_parameter_layout(param, record)
            loaded[name] = param
    except (OSError, ValueError, TypeError, KeyError) as exc:
        error = exc if isinstance(exc, (ValueError, TypeError)) else ValueError(f"{path!r} cannot be read: {exc}")
    group.agree(error)
    for name, param in loaded.items():
        targets[name].set_data(param, slice_shape=True)
        set_parameter_layout(targets[name], parameter_layout(param))
    return loaded
