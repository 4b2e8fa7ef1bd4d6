"""Checkpoints: ``save_checkpoint``, ``load_checkpoint``, ``load_param_into_net`` (MindSpore's
``mindspore.train.serialization``), for MindSpore's ``.ckpt`` files and for safetensors.

Files are written atomically: to a hidden temporary file in the target's directory (locked while
it is written), flushed, fsynced and renamed over the target, so an interrupted save never leaves
a broken checkpoint where a good one was; the next save to the same path removes the temporary
files of writers that died. Every file carries a CRC-32 of its contents, verified on load. A
damaged, truncated or hostile file raises ValueError naming the file; nothing is unpickled.
"""
import contextlib
import fcntl
import glob
import logging
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any, Union

import numpy as np
import numpy.typing as npt

from msparam._core._storage import array_empty
from msparam._validation import check_bool
from msparam.common import dtype as mstype
from msparam.common.parameter import Parameter, parameter_from_storage
from msparam.common.tensor import Tensor, wrap_array
from msparam.parallel import sharded_save
from msparam.train import _async_save, _ckpt_file, _safetensors_file, _sharded
from msparam.train._async_save import async_ckpt_thread_status, wait_async_save

if TYPE_CHECKING:
    from msparam.nn.cell import Cell

# What save_checkpoint saves: a Cell, a list of Parameters or of {'name': str, 'data': Tensor}
# dicts, or a dict name -> Parameter (what load_checkpoint returns).
SaveObj = Union["Cell", "list[Any]", "dict[str, Any]"]
# A checkpoint entry's value: a Tensor's array, or a string (MindSpore checkpoints hold both).
_EntryValue = Union[npt.NDArray[Any], str]

__all__ = ["save_checkpoint", "load_checkpoint", "load_param_into_net", "wait_async_save",
           "async_ckpt_thread_status"]

logger: logging.Logger = logging.getLogger("msparam")

_FORMATS = {"ckpt": ".ckpt", "safetensors": ".safetensors"}
_FLOAT_TYPES = (mstype.float16, mstype.float32, mstype.float64, mstype.bfloat16)  # MindSpore 2.10's
_INT_TYPES = (mstype.int8, mstype.int16, mstype.int32, mstype.int64)
_SAFETENSORS_DTYPES = frozenset(_safetensors_file.SAFETENSORS_TYPES.values())  # it has no complex128
_SAFETENSORS_FORMAT = {"format": "ms"}  # what MindSpore writes
_SAVE_KWARGS = ("incremental", "global_step_num", "remove_redundancy",  # what MindSpore 2.10 reads
                "max_shard_size")  # msparam's: sharded safetensors
_MAX_SHARD_SIZE = 5_000_000_000  # the Hugging Face default, "5GB"
_ENC_MODE = "AES-GCM"


# --- argument checks ---------------------------------------------------------------------------
def _check_isinstance(value: Any, arg_name: str, types: "tuple[type, ...]", func_name: str) -> Any:
    """MindSpore's Validator.check_isinstance, which raises ValueError for a wrong type."""
    if not isinstance(value, types):
        names = ", ".join(t.__name__ for t in types)
        raise ValueError(f"For '{func_name}', the argument '{arg_name}' must be isinstance of ({names}), "
                         f"but got {value!r}.")
    return value


def _check_format(format: object, func_name: str) -> str:
    if not isinstance(format, str) or format not in _FORMATS:
        raise ValueError(f"For '{func_name}', 'format' must be 'ckpt' or 'safetensors', but got {format!r}.")
    return format


def _check_safetensors_defaults(func_name: str, **arguments: "tuple[object, object]") -> None:
    """MindSpore refuses these arguments for safetensors unless they keep their defaults."""
    for name, (value, default) in arguments.items():
        if value != default:
            raise ValueError(f"For '{func_name}', when format is 'safetensors', the parameter '{name}' must be set "
                             f"to default value '{default}', but got '{value}'.")


def _is_cell(obj: object) -> bool:
    """MindSpore checks ``isinstance(net, nn.Cell)``; every msparam Cell has parameters_and_names()."""
    return callable(getattr(obj, "parameters_and_names", None))


def _no_encryption(func_name: str, key_name: str, key: object) -> None:
    if key is not None:
        raise NotImplementedError(f"For '{func_name}', encrypted checkpoints ('{key_name}') are not supported "
                                  f"by msparam.")


# --- saving ------------------------------------------------------------------------------------
def _values_of(data: object, name: str) -> _EntryValue:
    """The NumPy array (or str) to write for one entry."""
    if isinstance(data, str):
        return data
    if isinstance(data, Tensor):
        return data.asnumpy()
    raise TypeError(f"For 'save_checkpoint', the data of {name!r} must be a Parameter, Tensor or str, "
                    f"but got {type(data).__name__}.")


def _dict_value(key: str, value: object) -> "Tensor | str":
    if isinstance(value, np.ndarray):
        return Tensor(value)
    if not isinstance(value, (Parameter, str)):
        raise TypeError(f"For 'save_checkpoint', when 'save_obj' is a dict its keys must be str and its "
                        f"values Parameter, but got str and {type(value).__name__}.")
    return value


def _entries(save_obj: SaveObj, choice_func: "Callable[[str], bool] | None",
             append_dict: "dict[str, Any] | None") -> list[tuple[str, _EntryValue]]:
    """``(name, array or str)`` pairs in MindSpore's order for every kind of ``save_obj``."""
    if _is_cell(save_obj):
        pairs: list[tuple[str, Any]] = [(param.name, param) for _, param in save_obj.parameters_and_names()]  # type: ignore[union-attr]
    elif isinstance(save_obj, dict):
        for key, value in save_obj.items():
            if not isinstance(key, str):
                raise TypeError(f"For 'save_checkpoint', when 'save_obj' is a dict its keys must be str and its "
                                f"values Parameter, but got {type(key).__name__} and {type(value).__name__}.")
        pairs = list(save_obj.items())
    elif isinstance(save_obj, list):
        pairs = []
        for item in save_obj:
            if isinstance(item, dict):
                if set(item) != {"name", "data"} or not isinstance(item["name"], str):
                    raise TypeError(f"For 'save_checkpoint', every dict in 'save_obj' must be "
                                    f"{{'name': str, 'data': Parameter or Tensor}}, but got {item!r}.")
                pairs.append((item["name"], item["data"]))
            elif isinstance(item, Parameter):
                pairs.append((item.name, item))
            else:
                raise TypeError(f"For 'save_checkpoint', when 'save_obj' is a list its elements must be Parameters "
                                f"or {{'name', 'data'}} dicts, but got {type(item).__name__}.")
    else:
        raise TypeError(f"For 'save_checkpoint', the argument 'save_obj' must be nn.Cell, list or dict, "
                        f"but got {type(save_obj)}.")
    if choice_func is not None:
        pairs = [(name, data) for name, data in pairs if choice_func(name)]
    if isinstance(save_obj, dict):  # as MindSpore 2.10: the values choice_func keeps; NumPy arrays too
        pairs = [(key, _dict_value(key, value)) for key, value in pairs]
    if append_dict:
        for key, value in append_dict.items():
            pairs.append((key, value if isinstance(value, (str, Tensor)) else Tensor(value)))
    entries = [(name, _values_of(data, name)) for name, data in pairs]
    _check_unique_names(entries)
    return entries


def _check_unique_names(entries: Sequence[tuple[str, object]]) -> None:
    """MindSpore 2.10 writes every record and its reader then keeps the last (or, when the two are
    adjacent, cannot read the file at all): msparam refuses before anything is written."""
    seen: set[str] = set()
    for name, _ in entries:
        if name in seen:
            raise ValueError(f"For 'save_checkpoint', the name {name!r} appears more than once among the parameters "
                             f"(and 'append_dict') to save; a checkpoint holds one value per name. Rename the "
                             f"parameters or leave one of them out (e.g. with 'choice_func').")
        seen.add(name)


def _check_append_dict(append_dict: object) -> "dict[str, Any] | None":
    if append_dict is None:
        return None
    if not isinstance(append_dict, dict):
        raise TypeError(f"For 'save_checkpoint', the argument 'append_dict' must be dict, but got {type(append_dict)}.")
    for key, value in append_dict.items():
        if not isinstance(key, str) or not isinstance(value, (int, float, bool, str, Tensor)):
            raise TypeError(f"For 'save_checkpoint', the type of dict 'append_info' must be key: string, value: int, "
                            f"float, bool, str, Parameter or Tensor, but got key: {type(key)}, value: {type(value)}.")
    return append_dict


def _check_async_save(async_save: object) -> "str | None":
    if not isinstance(async_save, (bool, str)):
        raise TypeError(f"For 'save_checkpoint', the parameter 'async_save' must be bool or str, "
                        f"but got {type(async_save)}.")
    if isinstance(async_save, str) and async_save not in ("process", "thread"):
        raise ValueError(f"For 'save_checkpoint', the argument 'async_save' can only be 'process' or 'thread', "
                         f"but got {async_save}.")
    return "thread" if async_save is True else async_save or None


def _check_save_kwargs(kwargs: "dict[str, Any]") -> tuple[Any, Any, "bool | None", int]:
    unknown = sorted(set(kwargs) - set(_SAVE_KWARGS))
    if unknown:  # MindSpore silently ignores them; a typo then silently changes nothing
        raise TypeError(f"For 'save_checkpoint', got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                        f"the keyword arguments it reads are {', '.join(_SAVE_KWARGS)}.")
    remove_redundancy = _check_isinstance(kwargs.get("remove_redundancy"), "remove_redundancy",
                                          (type(None), bool), "save_checkpoint")
    max_shard_size = kwargs.get("max_shard_size", _MAX_SHARD_SIZE)
    if type(max_shard_size) is not int or max_shard_size <= 0:
        raise ValueError(f"For 'save_checkpoint', 'max_shard_size' must be a positive int (bytes), "
                         f"but got {max_shard_size!r}.")
    return kwargs.get("incremental", False), kwargs.get("global_step_num"), remove_redundancy, max_shard_size


_TEMPORARY_SUFFIX = ".tmp"


def _temporary_prefix(path: str) -> str:
    return f".{os.path.basename(path)}.{os.getpid()}."


def _remove_stale_temporaries(path: str) -> None:
    """Remove the temporary files earlier saves to ``path`` left when they were killed: each is
    locked by its writer while written, and named after the writer's process; one whose lock is
    free and whose process is gone is stale. A live writer's file is never touched."""
    directory = os.path.dirname(path) or "."
    pattern = os.path.join(glob.escape(directory), glob.escape(f".{os.path.basename(path)}.") + "*" + _TEMPORARY_SUFFIX)
    for candidate in glob.glob(pattern):
        pid_text = os.path.basename(candidate)[len(os.path.basename(path)) + 2:].split(".", 1)[0]
        if not pid_text.isdigit() or _process_alive(int(pid_text)):
            continue
        try:
            fd = os.open(candidate, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(candidate)
        except OSError:  # locked by a live writer (e.g. in another PID namespace), or already gone
            pass
        finally:
            os.close(fd)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _atomic_save(path: str, write: "Callable[[IO[bytes]], object]") -> None:
    """Run ``write(file)`` on a locked temporary file, fsync, then rename it over ``path``; on
    failure keep the old file."""
    _atomic_save_all([(path, write)])


def _atomic_save_all(files: "Sequence[tuple[str, Callable[[IO[bytes]], object]]]") -> None:
    """Save several files as one (a sharded checkpoint: its shards, then the index): each
    ``write(file)`` fills a locked temporary, fsynced; only when all are whole are they renamed
    into place, in order. POSIX renames one file at a time, so each file but the last keeps its
    older version under a hard link until the end; a failure among the renames puts back every
    file already renamed (the older version, or nothing where there was none). Only a crash in
    the middle of the renames can leave a mix, and the next save removes its leftovers."""
    temporaries: list[str] = []
    replaced: list[tuple[str, "str | None"]] = []  # (path, its older version's hard link or None)
    with contextlib.ExitStack() as open_files:  # each lock held until the end: marks this writer as alive
        try:
            for path, write in files:
                _remove_stale_temporaries(path)
                fd, temporary = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=_TEMPORARY_SUFFIX,
                                                 dir=os.path.dirname(path) or ".")
                temporaries.append(temporary)
                f = open_files.enter_context(os.fdopen(fd, "wb"))
                fcntl.flock(fd, fcntl.LOCK_EX)
                write(f)
                f.flush()
                os.fsync(fd)
                os.chmod(temporary, stat.S_IRUSR)  # MindSpore leaves checkpoints read-only for their owner
            for number, ((path, _), temporary) in enumerate(zip(files, temporaries)):
                older = None if number == len(files) - 1 else _keep_older_version(path, temporary)
                try:
                    os.replace(temporary, path)
                except BaseException:
                    if older is not None:
                        _put_back(path, older)
                    raise
                replaced.append((path, older))
        except BaseException:
            for path, older in reversed(replaced):
                _put_back(path, older)
            for temporary in temporaries:
                _remove_if_present(temporary)
            raise
    for _, older in replaced:
        if older is not None:
            _remove_if_present(older)
    for directory in sorted({os.path.dirname(path) or "." for path, _ in files}):
        try:
            _fsync_path(directory, os.O_RDONLY)
        except OSError:  # some file systems cannot fsync a directory; the files themselves are durable
            pass


def _keep_older_version(path: str, temporary: str) -> "str | None":
    """A hard link to the file at ``path`` (named as a temporary of this writer, so a crash leaves
    it for the next save to remove), or None when there is none."""
    older = temporary[:-len(_TEMPORARY_SUFFIX)] + ".older" + _TEMPORARY_SUFFIX
    try:
        os.link(path, older)
    except FileNotFoundError:
        return None
    except OSError:  # no hard links here: move it aside (``path`` is missing until the rename)
        try:
            os.replace(path, older)
        except FileNotFoundError:
            return None
    return older


def _put_back(path: str, older: "str | None") -> None:
    if older is None:
        _remove_if_present(path)
    else:
        os.replace(older, path)
        _remove_if_present(older)  # still there when it is a hard link to ``path`` itself: rename does nothing then


def _remove_if_present(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_path(path: str, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _safetensors_tensors(entries: Sequence[tuple[str, _EntryValue]]) -> "dict[str, npt.NDArray[Any]]":
    """Name -> array for safetensors."""
    tensors = {}
    for name, value in entries:
        if isinstance(value, str):
            raise TypeError(f"For 'save_checkpoint', format 'safetensors' cannot store the string entry {name!r}.")
        if name == _safetensors_file.METADATA_KEY:  # the package would write a file no reader accepts
            raise ValueError(f"For 'save_checkpoint', format 'safetensors' reserves the name {name!r} "
                             f"for its metadata; use format 'ckpt' or another name.")
        if value.dtype not in _SAFETENSORS_DTYPES:
            raise TypeError(f"For 'save_checkpoint', format 'safetensors' has no dtype for {name!r} "
                            f"({mstype.dtype_from_numpy(value.dtype)}); use format 'ckpt'.")
        tensors[name] = value
    return tensors


def _save_sharded(index_path: str, tensors: "dict[str, npt.NDArray[Any]]", metadata: "dict[str, str]",
                  max_shard_size: int, num_threads: "int | None") -> None:
    """Shards of at most ``max_shard_size`` bytes of tensor data and their index, saved as one
    (the index renamed last, so a reader never sees an index naming a shard not yet written)."""
    plan = _sharded.plan_shards([(name, array.nbytes) for name, array in tensors.items()], max_shard_size)
    folder = os.path.dirname(index_path)
    os.makedirs(folder, exist_ok=True)  # a sharded checkpoint is a folder of its own
    shards = _sharded.shard_names(index_path, len(plan))
    weight_map = {name: shard for names, shard in zip(plan, shards) for name in names}
    text = _sharded.index_text(weight_map, sum(array.nbytes for array in tensors.values())).encode()

    def shard_writer(names: "list[str]") -> "Callable[[IO[bytes]], None]":
        part = {name: tensors[name] for name in names}
        return lambda f: _safetensors_file.write_safetensors(f, part, metadata, num_threads=num_threads)

    _atomic_save_all([(os.path.join(folder, shard), shard_writer(names)) for names, shard in zip(plan, shards)]
                     + [(index_path, lambda f: f.write(text))])


def _checked_save_path(ckpt_file_name: object, format: str) -> str:
    if isinstance(ckpt_file_name, os.PathLike):
        ckpt_file_name = os.fspath(ckpt_file_name)
    if not isinstance(ckpt_file_name, str):
        raise TypeError(f"For 'save_checkpoint', the argument 'ckpt_file_name' must be string, "
                        f"but got {type(ckpt_file_name)}.")
    path = os.path.abspath(ckpt_file_name)
    if os.path.isdir(path):
        raise IsADirectoryError(f"For 'save_checkpoint', the argument 'ckpt_file_name': {path} is a directory, "
                                f"it must be a file name.")
    if not path.endswith(_FORMATS[format]) and not (format == "safetensors" and _sharded.is_index(path)):
        path += _FORMATS[format]
    return path


def save_checkpoint(save_obj: SaveObj, ckpt_file_name: "str | os.PathLike[str]", integrated_save: bool = True,
                    async_save: "bool | str" = False, append_dict: "dict[str, Any] | None" = None,
                    enc_key: "bytes | None" = None, enc_mode: str = "AES-GCM",
                    choice_func: "Callable[[str], bool] | None" = None, crc_check: bool = False,
                    format: str = "ckpt", **kwargs: Any) -> None:
    """Save parameters to a checkpoint file.

    Parameters
    ----------
    save_obj : Cell, list or dict
        A Cell (its ``parameters_and_names()``, keyed by ``Parameter.name``), a list of Parameters
        or of ``{'name': str, 'data': Parameter or Tensor}`` dicts, or a dict name -> Parameter
        (what :func:`load_checkpoint` returns). Names must be unique (ValueError otherwise).
    ckpt_file_name : str
        The file; ``.ckpt`` (or ``.safetensors``) is appended when missing. An existing file is
        replaced atomically.
    integrated_save : bool, default True
        For a net holding slices (parallel mode, ``init_data(layout)``): True gathers them and
        rank 0 writes the full tensors, as MindSpore; False makes a sharded checkpoint, the
        directory ``ckpt_file_name`` without its suffix, one file per rank
        (``msparam.parallel``). Without slices it changes nothing.
    async_save : bool or {'thread', 'process'}, default False
        Save in the background: the data is snapshotted now (a copy for a thread, a forked
        process's view for 'process'; True means 'thread'). The next save waits for it;
        :func:`wait_async_save` waits for it and raises its error.
    append_dict : dict, optional
        Extra entries name -> int, float, bool, str, Parameter or Tensor.
    enc_key : bytes, optional
        Encryption is not supported (NotImplementedError when a key is given; ValueError with
        safetensors, as MindSpore).
    enc_mode : str, default 'AES-GCM'
        Used only with ``enc_key``; ValueError when changed with safetensors, as MindSpore.
    choice_func : callable, optional
        ``choice_func(name) -> bool``: save only the parameters it accepts.
    crc_check : bool, default False
        Every file carries a CRC-32 of its contents. For ``.ckpt`` it is by default a protobuf
        field every MindSpore version skips; True writes MindSpore 2.x's ``crc_num`` trailer
        instead (MindSpore 2.10 verifies it, MindSpore before 2.3 cannot read it). Safetensors
        files always carry MindSpore's ``crc_num`` metadata and msparam's
        ``msparam_header_crc32`` (a CRC of the header: dtypes, shapes, offsets, metadata).
    format : {'ckpt', 'safetensors'}, default 'ckpt'
        MindSpore's protobuf checkpoint, or safetensors with ``{"format": "ms"}`` metadata.
    **kwargs
        MindSpore's ``incremental`` (bool; map parameters, which msparam has none of),
        ``global_step_num`` (ignored for .ckpt, as MindSpore without AITurbo) and
        ``remove_redundancy`` (None or bool, recorded in safetensors metadata as MindSpore does).

    Raises
    ------
    TypeError
        ``save_obj``, ``ckpt_file_name``, ``integrated_save``, ``async_save`` or ``append_dict`` of a
        wrong type; a dtype safetensors cannot store (complex128, strings); an unknown keyword
        argument (MindSpore ignores it: a deliberate difference).
    ValueError
        An unknown ``format`` or ``async_save`` mode; a name that appears twice (MindSpore keeps
        the last: a deliberate difference); a tensor named ``__metadata__`` in a safetensors file;
        ``enc_key``, ``enc_mode``, ``incremental`` or ``global_step_num`` changed with safetensors;
        ``crc_check``, ``enc_key``, ``enc_mode`` or ``remove_redundancy`` of a wrong type (as MindSpore).
    NotImplementedError
        ``enc_key`` given for a ``.ckpt`` file.
    IsADirectoryError
        ``ckpt_file_name`` is a directory.
    RuntimeError
        An earlier asynchronous save failed (see :func:`wait_async_save`).
    """
    format = _check_format(format, "save_checkpoint")
    if not (_is_cell(save_obj) or isinstance(save_obj, (list, dict))):
        raise TypeError(f"For 'save_checkpoint', the argument 'save_obj' must be nn.Cell, list or dict, "
                        f"but got {type(save_obj)}.")
    path = _checked_save_path(ckpt_file_name, format)
    check_bool(integrated_save, "integrated_save", "save_checkpoint")
    async_mode = _check_async_save(async_save)
    append_dict = _check_append_dict(append_dict)
    _check_isinstance(enc_key, "enc_key", (type(None), bytes), "save_checkpoint")
    _check_isinstance(enc_mode, "enc_mode", (str,), "save_checkpoint")
    _check_isinstance(crc_check, "crc_check", (bool,), "save_checkpoint")
    incremental, global_step_num, remove_redundancy, max_shard_size = _check_save_kwargs(kwargs)
    if format == "safetensors":
        _check_safetensors_defaults("save_checkpoint", enc_key=(enc_key, None), enc_mode=(enc_mode, _ENC_MODE),
                                    map_param_inc=(incremental, False), global_step_num=(global_step_num, None))
    check_bool(incremental, "incremental", "save_checkpoint")  # after the safetensors check, as MindSpore
    _no_encryption("save_checkpoint", "enc_key", enc_key)
    if choice_func is not None and not callable(choice_func):
        raise TypeError(f"For 'save_checkpoint', the argument 'choice_func' must be callable, "
                        f"but got {type(choice_func).__name__}.")

    sharded = sharded_save(save_obj, path, integrated_save, format)
    if sharded is not None:  # slices of a sharded net (msparam.parallel): merged on rank 0, or per rank
        return sharded.run(lambda obj, target: save_checkpoint(obj, target, choice_func=choice_func,
                                                               append_dict=append_dict, crc_check=crc_check,
                                                               format=format))
    entries = _entries(save_obj, choice_func, append_dict)
    if not os.path.isdir(os.path.dirname(path)):  # the arguments and entries first, as MindSpore
        raise FileNotFoundError(f"For 'save_checkpoint', the directory of 'ckpt_file_name' ({os.path.dirname(path)}) "
                                f"does not exist.")
    if format == "ckpt":
        def save(num_threads: "int | None") -> None:
            _atomic_save(path, lambda f: _ckpt_file.write_checkpoint(f, entries, mindspore_crc=crc_check,
                                                                     num_threads=num_threads))
    else:
        tensors = _safetensors_tensors(entries)
        metadata = dict(_SAFETENSORS_FORMAT)
        if remove_redundancy is not None:
            metadata["remove_redundancy"] = str(remove_redundancy)

        def save(num_threads: "int | None") -> None:
            if _sharded.is_index(path):
                _save_sharded(path, tensors, metadata, max_shard_size, num_threads)
            else:
                _atomic_save(path, lambda f: _safetensors_file.write_safetensors(f, tensors, metadata,
                                                                                 num_threads=num_threads))

    if async_mode is None:
        wait_async_save()
        save(None)
        return
    if async_mode == "thread":  # the caller may change the data as soon as we return
        entries[:] = [(name, value if isinstance(value, str) else np.array(value, order="C"))
                      for name, value in entries]
        if format == "safetensors":
            tensors = _safetensors_tensors(entries)
    _async_save.start(path, save, async_mode)


# --- loading -----------------------------------------------------------------------------------
def _check_prefix(prefix: object, arg_name: str) -> "tuple[str, ...] | None":
    if prefix is None:
        return None
    if not isinstance(prefix, (str, list, tuple)):
        raise TypeError(f"For 'load_checkpoint', the type of '{arg_name}' must be string, list[string] or "
                        f"tuple[string], but got {type(prefix)}.")
    if isinstance(prefix, str):
        prefix = (prefix,)
    if not prefix:
        raise ValueError(f"For 'load_checkpoint', the argument '{arg_name}' can't be empty when it is list or tuple.")
    for index, item in enumerate(prefix):
        if not isinstance(item, str):
            raise TypeError(f"For 'load_checkpoint', when '{arg_name}' is list or tuple, the element in it must be "
                            f"string, but got {type(item)} at index {index}.")
        if item == "":
            raise ValueError(f"For 'load_checkpoint', the value of '{arg_name}' can't include ''.")
    return tuple(prefix)


def _selector(specify_prefix: "tuple[str, ...] | None", filter_prefix: "tuple[str, ...] | None",
              choice_func: "Callable[[str], bool] | None") -> "Callable[[str], bool] | None":
    if specify_prefix is None and filter_prefix is None:
        return choice_func

    def wanted(name: str) -> bool:
        if specify_prefix and not name.startswith(specify_prefix):
            return False
        return not (filter_prefix and name.startswith(filter_prefix))

    return wanted


_STORAGE_CODES: "dict[Any, int]" = {}  # NumPy dtype -> msparam storage code: a load of many tiny tensors asks once per dtype


def _allocate(shape: tuple[int, ...], np_dtype: npt.DTypeLike) -> npt.NDArray[Any]:
    code = _STORAGE_CODES.get(np_dtype)
    if code is None:
        code = _STORAGE_CODES[np_dtype] = mstype.dtype_from_numpy(np_dtype).storage_code
    return array_empty(shape, code)


def _check_remove_redundancy_metadata(metadata: "dict[str, str] | None", remove_redundancy: bool) -> bool:
    """MindSpore warns when the file's ``remove_redundancy`` metadata disagrees with the argument."""
    recorded = (metadata or {}).get("remove_redundancy")
    if recorded == "True" and not remove_redundancy:
        logger.warning("For 'load_checkpoint', the safetensors file is deduplicated, but remove_redundancy is set "
                       "to False.")
        return True
    if recorded == "False" and remove_redundancy:
        logger.warning("For 'load_checkpoint', the safetensors file is non-deduplicated, but remove_redundancy is "
                       "set to True.")
        return False
    return remove_redundancy


def load_checkpoint(ckpt_file_name: "str | os.PathLike[str]", net: "Cell | None" = None, strict_load: bool = False,
                    filter_prefix: "str | Sequence[str] | None" = None, dec_key: "bytes | None" = None,
                    dec_mode: str = "AES-GCM", specify_prefix: "str | Sequence[str] | None" = None,
                    choice_func: "Callable[[str], bool] | None" = None, crc_check: bool = False,
                    remove_redundancy: bool = False, format: str = "ckpt") -> "dict[str, Parameter | str]":
    """Load a checkpoint file into a dict name -> Parameter (optionally also into ``net``).

    Parameters
    ----------
    ckpt_file_name : str
        A ``.ckpt`` file (``format='ckpt'``) or a ``.safetensors`` file (``format='safetensors'``).
    net : Cell, optional
        When given, the parameters are also loaded into it with :func:`load_param_into_net`.
    strict_load : bool, default False
        Passed to :func:`load_param_into_net`.
    filter_prefix : str or list/tuple of str, optional
        Skip parameters whose names start with one of these (deprecated in MindSpore).
    dec_key : bytes, optional
        Decryption is not supported (NotImplementedError; ValueError with safetensors, as
        MindSpore). An encrypted file is reported as encrypted.
    dec_mode : str, default 'AES-GCM'
        Used only with ``dec_key``; ValueError when changed with safetensors, as MindSpore.
    specify_prefix : str or list/tuple of str, optional
        Load only parameters whose names start with one of these (deprecated in MindSpore).
    choice_func : callable, optional
        ``choice_func(name) -> bool``; ignored when a prefix is given, as in MindSpore.
    crc_check : bool, default False
        A file that carries a CRC (MindSpore's trailer or metadata, or msparam's field) is always
        verified when it is read whole; True also verifies it when parameters are filtered out
        (reading them for the CRC) and warns, as MindSpore, when the file carries none.
    remove_redundancy : bool, default False
        As MindSpore on one device: compared with a safetensors file's metadata (a warning when
        they disagree); with ``net``, TypeError (deduplicated loading needs a parallel setup).
    format : {'ckpt', 'safetensors'}, default 'ckpt'

    Returns
    -------
    dict
        Name -> Parameter: in file order for ``.ckpt``, sorted by name for safetensors (as
        MindSpore); ``str`` for string entries MindSpore's ``append_dict`` stored, ``bytes`` for
        ``random_op``. Tensor bytes are read straight into each Parameter's storage.

    Raises
    ------
    TypeError
        ``ckpt_file_name`` is not a str; a prefix of a wrong type.
    ValueError
        The file does not exist, has the wrong suffix, is empty, damaged, truncated, encrypted,
        has a CRC that does not match or is not a checkpoint (the message names the file and what
        is wrong), or nothing is left after filtering.
    """
    # The arguments first, then the file, as MindSpore 2.10 (strict_load: by load_param_into_net, with a net).
    specify_prefix = _check_prefix(specify_prefix, "specify_prefix")
    filter_prefix = _check_prefix(filter_prefix, "filter_prefix")
    if choice_func is not None and not callable(choice_func):
        raise TypeError(f"For 'load_checkpoint', the argument 'choice_func' must be callable, "
                        f"but got {type(choice_func).__name__}.")
    _check_isinstance(dec_key, "dec_key", (type(None), bytes), "load_checkpoint")
    _check_isinstance(dec_mode, "dec_mode", (str,), "load_checkpoint")
    _check_isinstance(crc_check, "crc_check", (bool,), "load_checkpoint")
    _check_isinstance(remove_redundancy, "remove_redundancy", (bool,), "load_checkpoint")
    format = _check_format(format, "load_checkpoint")
    if format == "safetensors":
        _check_safetensors_defaults("load_checkpoint", dec_key=(dec_key, None), dec_mode=(dec_mode, _ENC_MODE))
    _no_encryption("load_checkpoint", "dec_key", dec_key)
    if isinstance(ckpt_file_name, os.PathLike):
        ckpt_file_name = os.fspath(ckpt_file_name)
    if not isinstance(ckpt_file_name, str):
        raise TypeError(f"For 'load_checkpoint', the argument 'ckpt_file_name' must be string, "
                        f"but got {type(ckpt_file_name)}.")
    suffix = _FORMATS[format]
    sharded = format == "safetensors" and _sharded.is_index(ckpt_file_name)
    if not ckpt_file_name.endswith(suffix) and not sharded:
        raise ValueError(f"For 'load_checkpoint', the checkpoint file should end with '{suffix}', please input the "
                         f"correct 'ckpt_file_name'.")
    path = os.path.abspath(ckpt_file_name)
    if not os.path.isfile(path):
        raise ValueError(f"For 'load_checkpoint', the checkpoint file: {path} does not exist, please check whether "
                         f"the 'ckpt_file_name' is correct.")
    wanted = _selector(specify_prefix, filter_prefix, choice_func)

    if os.path.getsize(path) == 0:
        raise ValueError(f"Failed to read the checkpoint file {path}: the file is empty.")
    if format == "ckpt":
        entries, crc_kind = _ckpt_file.read_checkpoint(path, wanted, _allocate, crc_check)
        has_crc = crc_kind is not None
    elif sharded:  # names sorted over all shards
        entries, metadata, has_crc = _sharded.read_sharded(path, wanted, _allocate, crc_check)
        remove_redundancy = _check_remove_redundancy_metadata(metadata, remove_redundancy)
    else:
        entries, metadata, has_crc = _safetensors_file.read_safetensors(path, wanted, _allocate, crc_check)
        entries.sort(key=lambda entry: entry[0])  # MindSpore returns safetensors names sorted
        remove_redundancy = _check_remove_redundancy_metadata(metadata, remove_redundancy)
    if crc_check and not has_crc:
        logger.warning("For 'load_checkpoint', the checkpoint file %s does not contain a CRC, please check the "
                       "file.", path)
    parameter_dict: "dict[str, Parameter | str]" = {}
    for name, value in entries:
        parameter_dict[name] = parameter_from_storage(value, name) if isinstance(value, np.ndarray) else value
    if not parameter_dict:
        if not entries and wanted is None:
            raise ValueError(f"Failed to read the checkpoint file {path}: it holds no parameters.")
        raise ValueError("The loaded parameter dict is empty after filter or specify, please check whether "
                         "'filter_prefix' or 'specify_prefix' are set correctly.")
    if net is not None:
        load_param_into_net(net, parameter_dict, strict_load, remove_redundancy)
    return parameter_dict


# --- loading into a network --------------------------------------------------------------------
def _reshape_trailing_ones(param: Parameter, new_param: Parameter) -> "npt.NDArray[Any] | None":
    """MindSpore accepts e.g. (12, 2048, 1, 1) for a (12, 2048) parameter (trailing 1s dropped)."""
    if len(new_param.shape) <= len(param.shape) or new_param.shape[:len(param.shape)] != param.shape:
        return None
    if any(dim != 1 for dim in new_param.shape[len(param.shape):]):
        return None
    return new_param.asnumpy().reshape(param.shape)


def _update_param(param: Parameter, new_param: Parameter, strict_load: bool) -> None:
    values = new_param.asnumpy()
    if values.shape != param.shape:
        reshaped = _reshape_trailing_ones(param, new_param)
        if reshaped is None:
            raise RuntimeError(f"For 'load_param_into_net', {param.name} in the argument 'net' should have the same "
                               f"shape as {param.name} in the argument 'parameter_dict'. But got its shape "
                               f"{param.shape} in the argument 'net' and shape {new_param.shape} in the argument "
                               f"'parameter_dict'.")
        values = reshaped
    if param.dtype != new_param.dtype:
        pair = {param.dtype, new_param.dtype}
        if strict_load or not (pair <= set(_FLOAT_TYPES) or pair <= set(_INT_TYPES)):
            raise RuntimeError(f"For 'load_param_into_net', {param.name} in the argument 'net' should have the same "
                               f"type as {param.name} in the argument 'parameter_dict'. but got its type "
                               f"{param.dtype} in the argument 'net' and type {new_param.dtype} in the argument "
                               f"'parameter_dict'.")
        logger.warning("The type of %s:%s in 'parameter_dict' is different from the type of it in 'net':%s, then "
                       "the type convert from %s to %s in the network.", new_param.name, new_param.dtype,
                       param.dtype, new_param.dtype, param.dtype)
        values = mstype.cast_array(values, mstype.dtype_to_nptype(param.dtype))
    param.set_data(wrap_array(values))


def _load_mismatched_prefix(net: "Cell", parameter_dict: "dict[str, Any]", param_not_load: list[str],
                            strict_load: bool) -> None:
    """Retry unloaded parameters under the prefix by which the checkpoint's names differ from the net's."""
    tried: set[str] = set()
    while param_not_load:
        prefix = None
        for net_name in param_not_load:
            for dict_name in parameter_dict:
                if dict_name.endswith(net_name) and dict_name != net_name:
                    candidate = dict_name[:-len(net_name)]
                    if candidate not in tried:
                        prefix = candidate
                        break
            if prefix is not None:
                break
        if prefix is None:
            return
        tried.add(prefix)
        logger.warning("For 'load_param_into_net', remove parameter prefix name: %s, continue to load.", prefix)
        for _, param in net.parameters_and_names():
            full_name = prefix + param.name
            if param.name in param_not_load and full_name in parameter_dict:
                _update_param(param, parameter_dict[full_name], strict_load)
                param_not_load.remove(param.name)


def load_param_into_net(net: "Cell", parameter_dict: "dict[str, Any]", strict_load: bool = False,
                        remove_redundancy: bool = False) -> tuple[list[str], list[str]]:
    """Load parameters into a network.

    Parameters
    ----------
    net : Cell
        The network (anything with MindSpore's ``parameters_and_names()``).
    parameter_dict : dict
        Name -> Parameter, e.g. from :func:`load_checkpoint`.
    strict_load : bool, default False
        When False, a parameter the net names ``x`` is also found as ``<prefix>x`` in the dict,
        and float<->float or int<->int dtype differences are converted to the net's dtype.
    remove_redundancy : bool, default False
        Deduplicated loading needs a parallel setup: True raises TypeError, as MindSpore 2.10 does
        on one device.

    Returns
    -------
    param_not_load : list of str
        Parameters of ``net`` that were not loaded.
    ckpt_not_load : list of str
        Entries of ``parameter_dict`` that were not loaded into ``net``.

    Raises
    ------
    TypeError
        ``net`` is not a Cell, or ``parameter_dict`` is not a dict of str -> Parameter.
    RuntimeError
        A parameter's shape or dtype does not match the net's (as MindSpore raises).
    """
    if not _is_cell(net):
        raise TypeError(f"For 'load_param_into_net', the argument 'net' should be a Cell, but got {type(net)}.")
    if not isinstance(parameter_dict, dict):
        raise TypeError(f"For 'load_param_into_net', the argument 'parameter_dict' should be a dict, "
                        f"but got {type(parameter_dict)}.")
    for key, value in parameter_dict.items():
        if not isinstance(key, str) or not isinstance(value, (Parameter, str, bytes)):
            raise TypeError(f"For 'parameter_dict', the element in the argument 'parameter_dict' should be a 'str' and "
                            f"'Parameter' , but got {type(key)} and {type(value)}.")
    check_bool(strict_load, "strict_load", "load_param_into_net")
    _check_isinstance(remove_redundancy, "remove_redundancy", (bool,), "load_param_into_net")
    if remove_redundancy:  # MindSpore raises this after loading; msparam before changing anything
        raise TypeError("The deduplication feature for loading checkpoint can only be used in parallel scenarios, "
                        "but got stand_alone.")

    param_not_load = []
    ckpt_not_load = [key for key in parameter_dict if key != _ckpt_file.RANDOM_OP_TAG]
    for _, param in net.parameters_and_names():
        if param.name in parameter_dict:
            new_param = parameter_dict[param.name]
            if not isinstance(new_param, Parameter):
                continue
            _update_param(param, new_param, strict_load)
            ckpt_not_load.remove(param.name)
        else:
            param_not_load.append(param.name)
    if param_not_load and not strict_load:
        _load_mismatched_prefix(net, parameter_dict, param_not_load, strict_load)
    if param_not_load:
        logger.warning("For 'load_param_into_net', %d parameters in the 'net' are not loaded, because they are not "
                       "in the 'parameter_dict': %s", len(param_not_load), param_not_load)
    return param_not_load, ckpt_not_load
