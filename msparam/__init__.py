"""msparam: MindSpore-shaped network arguments on compiled Cython cores.

``import msparam as ms`` gives MindSpore's names for dtypes, Tensor, Parameter and
ParameterTuple; ``ms.nn``, the initializers, seeding and checkpoints load on first use so that
importing msparam costs little more than importing NumPy.
"""
import importlib
from typing import TYPE_CHECKING

from msparam._threads import get_num_threads, set_num_threads
from msparam.common import dtype
from msparam.common.dtype import *  # noqa: F401,F403  (int32, float32, ..., dtype_to_nptype, ...)
from msparam.common.parameter import Parameter, ParameterTuple
from msparam.common.tensor import Tensor, from_numpy, is_tensor

__version__ = "0.1.0"

if TYPE_CHECKING:  # the lazily loaded names below, visible to type checkers ("x as x": re-exported)
    from msparam._generated.dtype_names import *  # noqa: F401,F403  (dtype's __all__ adds them too late for mypy)
    from msparam import communication as communication, nn as nn, parallel as parallel, train as train
    from msparam.common.seed import get_seed as get_seed, set_seed as set_seed
    from msparam.parallel import (get_auto_parallel_context as get_auto_parallel_context,
                                  load_distributed_checkpoint as load_distributed_checkpoint,
                                  merge_sliced_parameter as merge_sliced_parameter,
                                  reset_auto_parallel_context as reset_auto_parallel_context,
                                  set_auto_parallel_context as set_auto_parallel_context,
                                  transform_checkpoints as transform_checkpoints)
    from msparam.train.serialization import (async_ckpt_thread_status as async_ckpt_thread_status,
                                             load_checkpoint as load_checkpoint,
                                             load_param_into_net as load_param_into_net,
                                             save_checkpoint as save_checkpoint, wait_async_save as wait_async_save)

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

__all__ = ["__version__", "dtype", "Tensor", "Parameter", "ParameterTuple", "from_numpy", "is_tensor",
           "get_num_threads", "set_num_threads", *dtype.__all__, *_LAZY]


if not TYPE_CHECKING:  # a type checker sees the names above, and reports any other
    def __getattr__(name):
        try:
            module_name, attribute = _LAZY[name]
        except KeyError:
            raise dtype.missing_attribute("msparam", name) from None
        module = importlib.import_module(module_name)
        value = module if attribute is None else getattr(module, attribute)
        globals()[name] = value
        return value


    def __dir__():
        return sorted(set(globals()) | set(_LAZY))
