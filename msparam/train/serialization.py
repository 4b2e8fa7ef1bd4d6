"""Checkpoints: ``save_checkpoint``, ``load_checkpoint``, ``load_param_into_net`` (MindSpore's
``mindspore.train.serialization``), for MindSpore's ``.ckpt`` files and for safetensors.

Files are written atomically: to a temporary file in the target's directory, flushed, fsynced and
renamed over the target, so an interrupted save never leaves a broken checkpoint where a good one
was. A damaged, truncated or hostile file raises ValueError naming the file; nothing is unpickled.
"""
import logging
import os
import stat
import tempfile

import numpy as np

from msparam._core._storage import array_empty
from msparam._validation import check_bool
from msparam.common import dtype as mstype
from msparam.common.parameter import Parameter, parameter_from_storage
from msparam.common.tensor import Tensor, wrap_array
from msparam.parallel import sharded_save
from msparam.train import _ckpt_format

__all__ = ["save_checkpoint", "load_checkpoint", "load_param_into_net"]

logger = logging.getLogger("msparam")

_FORMATS = {"ckpt": ".ckpt", "safetensors": ".safetensors"}
_FLOAT_TYPES = (mstype.float16, mstype.float32, mstype.float64)
_INT_TYPES = (mstype.int8, mstype.int16, mstype.int32, mstype.int64)
_SAFETENSORS_DTYPES = frozenset(_ckpt_format.SAFETENSORS_TYPES.values())  # it has no complex128
_SAFETENSORS_METADATA = {"format": "ms"}  # what MindSpore writes
_SAFETENSORS_HEADER_KEY = "__metadata__"


# --- argument checks ---------------------------------------------------------------------------
def _check_format(format, func_name):
    if not isinstance(format, str) or format not in _FORMATS:
        raise ValueError(f"For '{func_name}', 'format' must be 'ckpt' or 'safetensors', but got {format!r}.")
    return format


def _is_cell(obj):
    """MindSpore checks ``isinstance(net, nn.Cell)``; every msparam Cell has parameters_and_names()."""
    return callable(getattr(obj, "parameters_and_names", None))


def _check_unsupported(func_name, **options):
    for name, value in options.items():
        if value:
            raise NotImplementedError(f"For '{func_name}', '{name}' is not supported by msparam, but got {value!r}.")


# --- saving ------------------------------------------------------------------------------------
def _values_of(data, name):
    """The NumPy array (or str) to write for one entry."""
    if isinstance(data, str):
        return data
    if isinstance(data, Tensor):
        return data.asnumpy()
    raise TypeError(f"For 'save_checkpoint', the data of {name!r} must be a Parameter, Tensor or str, "
                    f"but got {type(data).__name__}.")


def _entries(save_obj, choice_func, append_dict):
    """``(name, array or str)`` pairs in MindSpore's order for every kind of ``save_obj``."""
    if _is_cell(save_obj):
        pairs = [(param.name, param) for _, param in save_obj.parameters_and_names()]
    elif isinstance(save_obj, dict):
        pairs = []
        for key, value in save_obj.items():
            if not isinstance(key, str) or not isinstance(value, (Parameter, str)):
                raise TypeError(f"For 'save_checkpoint', when 'save_obj' is a dict its keys must be str and its "
                                f"values Parameter, but got {type(key).__name__} and {type(value).__name__}.")
            pairs.append((key, value))
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
    if append_dict:
        for key, value in append_dict.items():
            pairs.append((key, value if isinstance(value, (str, Tensor)) else Tensor(value)))
    return [(name, _values_of(data, name)) for name, data in pairs]


def _check_append_dict(append_dict):
    if append_dict is None:
        return None
    if not isinstance(append_dict, dict):
        raise TypeError(f"For 'save_checkpoint', the argument 'append_dict' must be dict, but got {type(append_dict)}.")
    for key, value in append_dict.items():
        if not isinstance(key, str) or not isinstance(value, (int, float, bool, str, Tensor)):
            raise TypeError(f"For 'save_checkpoint', the type of dict 'append_info' must be key: string, value: int, "
                            f"float, bool, str, Parameter or Tensor, but got key: {type(key)}, value: {type(value)}.")
    return append_dict


def _atomic_save(path, write):
    """Run ``write(file)`` on a temporary file, fsync, then rename it over ``path``; on failure keep the old file."""
    directory = os.path.dirname(path) or "."
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        _fsync_path(temporary, os.O_RDONLY)
        os.chmod(temporary, stat.S_IRUSR)  # MindSpore leaves checkpoints read-only for their owner
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    try:
        _fsync_path(directory, os.O_RDONLY)
    except OSError:  # some file systems cannot fsync a directory; the file itself is already durable
        pass


def _fsync_path(path, flags):
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _safetensors_tensors(entries):
    """Name -> array for safetensors (a repeated name keeps its last value, as in a dict)."""
    tensors = {}
    for name, value in entries:
        if isinstance(value, str):
            raise TypeError(f"For 'save_checkpoint', format 'safetensors' cannot store the string entry {name!r}.")
        if name == _SAFETENSORS_HEADER_KEY:  # the package would write a file no reader accepts
            raise ValueError(f"For 'save_checkpoint', format 'safetensors' reserves the name {name!r} "
                             f"for its metadata; use format 'ckpt' or another name.")
        if value.dtype not in _SAFETENSORS_DTYPES:
            raise TypeError(f"For 'save_checkpoint', format 'safetensors' has no dtype for {name!r} "
                            f"({mstype.dtype_from_numpy(value.dtype)}); use format 'ckpt'.")
        tensors[name] = value
    return tensors


def save_checkpoint(save_obj, ckpt_file_name, integrated_save=True, async_save=False, append_dict=None,
                    enc_key=None, enc_mode="AES-GCM", choice_func=None, crc_check=False, format="ckpt", **kwargs):
    """Save parameters to a checkpoint file.

    Parameters
    ----------
    save_obj : Cell, list or dict
        A Cell (its ``parameters_and_names()``, keyed by ``Parameter.name``), a list of Parameters
        or of ``{'name': str, 'data': Parameter or Tensor}`` dicts, or a dict name -> Parameter
        (what :func:`load_checkpoint` returns).
    ckpt_file_name : str
        The file; ``.ckpt`` (or ``.safetensors``) is appended when missing. An existing file is
        replaced atomically.
    integrated_save : bool, default True
        For a net holding slices (parallel mode, ``init_data(layout)``): True gathers them and
        rank 0 writes the full tensors, as MindSpore; False makes a sharded checkpoint, the
        directory ``ckpt_file_name`` without its suffix, one file per rank
        (``msparam.parallel``).
    async_save : bool, default False
        Accepted for compatibility; msparam always saves before returning.
    append_dict : dict, optional
        Extra entries name -> int, float, bool, str, Parameter or Tensor.
    enc_key, enc_mode, crc_check
        Encryption and CRC are not supported (NotImplementedError when asked for).
    choice_func : callable, optional
        ``choice_func(name) -> bool``: save only the parameters it accepts.
    format : {'ckpt', 'safetensors'}, default 'ckpt'
        MindSpore's protobuf checkpoint, or safetensors with ``{"format": "ms"}`` metadata.

    Raises
    ------
    TypeError
        ``save_obj``, ``ckpt_file_name``, ``integrated_save``, ``async_save`` or ``append_dict`` of a
        wrong type; a dtype safetensors cannot store (complex128, strings).
    ValueError
        An unknown ``format``; a tensor named ``__metadata__`` in a safetensors file.
    IsADirectoryError
        ``ckpt_file_name`` is a directory.
    """
    format = _check_format(format, "save_checkpoint")
    if not (_is_cell(save_obj) or isinstance(save_obj, (list, dict))):
        raise TypeError(f"For 'save_checkpoint', the argument 'save_obj' must be nn.Cell, list or dict, "
                        f"but got {type(save_obj)}.")
    if not isinstance(ckpt_file_name, str):
        raise TypeError(f"For 'save_checkpoint', the argument 'ckpt_file_name' must be string, "
                        f"but got {type(ckpt_file_name)}.")
    path = os.path.abspath(ckpt_file_name)
    if os.path.isdir(path):
        raise IsADirectoryError(f"For 'save_checkpoint', the argument 'ckpt_file_name': {path} is a directory, "
                                f"it must be a file name.")
    if not path.endswith(_FORMATS[format]):
        path += _FORMATS[format]
    check_bool(integrated_save, "integrated_save", "save_checkpoint")
    if not isinstance(async_save, (bool, str)):
        raise TypeError(f"For 'save_checkpoint', the argument 'async_save' must be bool or str, "
                        f"but got {type(async_save).__name__}.")
    append_dict = _check_append_dict(append_dict)
    if enc_key is not None and not isinstance(enc_key, bytes):
        raise TypeError(f"For 'save_checkpoint', the argument 'enc_key' must be bytes or None, "
                        f"but got {type(enc_key).__name__}.")
    if not isinstance(enc_mode, str):
        raise TypeError(f"For 'save_checkpoint', the argument 'enc_mode' must be str, but got {type(enc_mode).__name__}.")
    check_bool(crc_check, "crc_check", "save_checkpoint")
    _check_unsupported("save_checkpoint", enc_key=enc_key, crc_check=crc_check)
    if choice_func is not None and not callable(choice_func):
        raise TypeError(f"For 'save_checkpoint', the argument 'choice_func' must be callable, "
                        f"but got {type(choice_func).__name__}.")

    sharded = sharded_save(save_obj, path, integrated_save, format)
    if sharded is not None:  # slices of a sharded net (msparam.parallel): merged on rank 0, or per rank
        return sharded.run(lambda obj, target: save_checkpoint(obj, target, choice_func=choice_func,
                                                               append_dict=append_dict, format=format))
    entries = _entries(save_obj, choice_func, append_dict)
    if format == "ckpt":
        _atomic_save(path, lambda f: _ckpt_format.write_checkpoint(f, entries))
    else:
        tensors = _safetensors_tensors(entries)
        _atomic_save(path, lambda f: _ckpt_format.write_safetensors(f, tensors, _SAFETENSORS_METADATA))


# --- loading -----------------------------------------------------------------------------------
def _check_prefix(prefix, arg_name):
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


def _selector(specify_prefix, filter_prefix, choice_func):
    if specify_prefix is None and filter_prefix is None:
        return choice_func

    def wanted(name):
        if specify_prefix and not name.startswith(specify_prefix):
            return False
        return not (filter_prefix and name.startswith(filter_prefix))

    return wanted


def _allocate(shape, np_dtype):
    return array_empty(shape, mstype.dtype_from_numpy(np_dtype).storage_code)


def _read_safetensors(path, wanted):
    """Let the safetensors package validate the file, then read each tensor straight into storage."""
    from safetensors import safe_open

    try:
        with safe_open(path, framework="np") as f:
            f.keys()
    except Exception as exc:  # safetensors reports damage as SafetensorError and friends
        raise ValueError(f"Failed to read the safetensors file {path}: {type(exc).__name__}: {exc}. "
                         f"The file is damaged, truncated or not a safetensors file.") from None
    return _ckpt_format.read_safetensors_tensors(path, wanted, _allocate)


def load_checkpoint(ckpt_file_name, net=None, strict_load=False, filter_prefix=None, dec_key=None,
                    dec_mode="AES-GCM", specify_prefix=None, choice_func=None, crc_check=False,
                    remove_redundancy=False, format="ckpt"):
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
    specify_prefix : str or list/tuple of str, optional
        Load only parameters whose names start with one of these (deprecated in MindSpore).
    choice_func : callable, optional
        ``choice_func(name) -> bool``; ignored when a prefix is given, as in MindSpore.
    dec_key, dec_mode, crc_check, remove_redundancy
        Decryption, CRC and redundancy removal are not supported (NotImplementedError when asked for).
    format : {'ckpt', 'safetensors'}, default 'ckpt'

    Returns
    -------
    dict
        Name -> Parameter in file order (``str`` for string entries MindSpore's ``append_dict``
        stored, ``bytes`` for ``random_op``). Tensor bytes are read straight into each
        Parameter's storage.

    Raises
    ------
    TypeError
        ``ckpt_file_name`` is not a str; a prefix of a wrong type.
    ValueError
        The file does not exist, has the wrong suffix, is damaged, truncated or not a checkpoint
        (the message names the file and what is wrong), or nothing is left after filtering.
    """
    format = _check_format(format, "load_checkpoint")
    if not isinstance(ckpt_file_name, str):
        raise TypeError(f"For 'load_checkpoint', the argument 'ckpt_file_name' must be string, "
                        f"but got {type(ckpt_file_name)}.")
    suffix = _FORMATS[format]
    if not ckpt_file_name.endswith(suffix):
        raise ValueError(f"For 'load_checkpoint', the checkpoint file should end with '{suffix}', please input the "
                         f"correct 'ckpt_file_name'.")
    path = os.path.abspath(ckpt_file_name)
    if not os.path.isfile(path):
        raise ValueError(f"For 'load_checkpoint', the checkpoint file: {path} does not exist, please check whether "
                         f"the 'ckpt_file_name' is correct.")
    check_bool(strict_load, "strict_load", "load_checkpoint")
    specify_prefix = _check_prefix(specify_prefix, "specify_prefix")
    filter_prefix = _check_prefix(filter_prefix, "filter_prefix")
    if choice_func is not None and not callable(choice_func):
        raise TypeError(f"For 'load_checkpoint', the argument 'choice_func' must be callable, "
                        f"but got {type(choice_func).__name__}.")
    if dec_key is not None and not isinstance(dec_key, bytes):
        raise TypeError(f"For 'load_checkpoint', the argument 'dec_key' must be bytes or None, "
                        f"but got {type(dec_key).__name__}.")
    _check_unsupported("load_checkpoint", dec_key=dec_key, crc_check=crc_check, remove_redundancy=remove_redundancy)
    wanted = _selector(specify_prefix, filter_prefix, choice_func)

    if format == "ckpt":
        entries = _ckpt_format.read_checkpoint(path, wanted, _allocate)
    else:
        entries = _read_safetensors(path, wanted)
    parameter_dict = {}
    for name, value in entries:
        parameter_dict[name] = parameter_from_storage(value, name) if isinstance(value, np.ndarray) else value
    if not parameter_dict:
        raise ValueError("The loaded parameter dict is empty after filter or specify, please check whether "
                         "'filter_prefix' or 'specify_prefix' are set correctly.")
    if net is not None:
        load_param_into_net(net, parameter_dict, strict_load)
    return parameter_dict


# --- loading into a network --------------------------------------------------------------------
def _reshape_trailing_ones(param, new_param):
    """MindSpore accepts e.g. (12, 2048, 1, 1) for a (12, 2048) parameter (trailing 1s dropped)."""
    if len(new_param.shape) <= len(param.shape) or new_param.shape[:len(param.shape)] != param.shape:
        return None
    if any(dim != 1 for dim in new_param.shape[len(param.shape):]):
        return None
    return new_param.asnumpy().reshape(param.shape)


def _update_param(param, new_param, strict_load):
    values = new_param.asnumpy()
    if values.shape != param.shape:
        values = _reshape_trailing_ones(param, new_param)
        if values is None:
            raise RuntimeError(f"For 'load_param_into_net', {param.name} in the argument 'net' should have the same "
                               f"shape as {param.name} in the argument 'parameter_dict'. But got its shape "
                               f"{param.shape} in the argument 'net' and shape {new_param.shape} in the argument "
                               f"'parameter_dict'.")
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
        values = values.astype(mstype.dtype_to_nptype(param.dtype))
    param.set_data(wrap_array(values))


def _load_mismatched_prefix(net, parameter_dict, param_not_load, strict_load):
    """Retry unloaded parameters under the prefix by which the checkpoint's names differ from the net's."""
    tried = set()
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


def load_param_into_net(net, parameter_dict, strict_load=False, remove_redundancy=False):
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
        Not supported (NotImplementedError when True).

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
    check_bool(remove_redundancy, "remove_redundancy", "load_param_into_net")
    _check_unsupported("load_param_into_net", remove_redundancy=remove_redundancy)

    param_not_load = []
    ckpt_not_load = [key for key in parameter_dict if key != _ckpt_format.RANDOM_OP_TAG]
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
