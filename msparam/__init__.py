"""msparam: MindSpore-shaped network arguments on compiled Cython cores.

``import msparam as ms`` gives MindSpore's names for dtypes, Tensor, Parameter and
ParameterTuple; ``ms.nn``, the initializers, seeding and checkpoints load on first use so that
importing msparam costs little more than importing NumPy.
"""
import importlib

from msparam._threads import get_num_threads, set_num_threads
from msparam.common import dtype
from msparam.common.dtype import *  # noqa: F401,F403  (int32, float32, ..., dtype_to_nptype, ...)
from msparam.common.parameter import Parameter, ParameterTuple
from msparam.common.tensor import Tensor, from_numpy, is_tensor

__version__ = "0.1.0"

# name -> (module, attribute or None for the module itself), imported on first access
_LAZY = {
    "nn": ("msparam.nn", None),
    "train": ("msparam.train", None),
    "set_seed": ("msparam.common.seed", "set_seed"),
    "get_seed": ("msparam.common.seed", "get_seed"),
    "save_checkpoint": ("msparam.train.serialization", "save_checkpoint"),
    "load_checkpoint": ("msparam.train.serialization", "load_checkpoint"),
    "load_param_into_net": ("msparam.train.serialization", "load_param_into_net"),
    "wait_async_save": ("msparam.train.serialization", "wait_async_save"),
    "async_ckpt_thread_status": ("msparam.train.serialization", "async_ckpt_thread_status"),
    "communication": ("msparam.communication", None),
    "parallel": ("msparam.parallel", None),
    "set_auto_parallel_context": ("msparam.parallel", "set_auto_parallel_context"),
    "get_auto_parallel_context": ("msparam.parallel", "get_auto_parallel_context"),
    "reset_auto_parallel_context": ("msparam.parallel", "reset_auto_parallel_context"),
    "merge_sliced_parameter": ("msparam.parallel", "merge_sliced_parameter"),
    "transform_checkpoints": ("msparam.parallel", "transform_checkpoints"),
    "load_distributed_checkpoint": ("msparam.parallel", "load_distributed_checkpoint"),
}


def __getattr__(name):
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'msparam' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
