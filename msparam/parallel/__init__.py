"""Parallel mode: lazy Parameters whose ``init_data(layout)`` draws only this rank's slice.

``set_auto_parallel_context``, ``get_auto_parallel_context`` and ``reset_auto_parallel_context``
(also at ``msparam.*``, as MindSpore has them) switch it on.  Sharded checkpoints:
``merge_sliced_parameter``, ``transform_checkpoints``, ``load_distributed_checkpoint``
(MindSpore's names) and ``load_sharded``.

Package-internal seams for ``msparam.common``, ``msparam.nn`` and ``msparam.train``:
``parameters_stay_lazy()``, ``defer_fill(tensor)``, ``slice_request(deferred, layout)``,
``check_layout(layout, full_shape)`` and ``sharded_save(save_obj, path, integrated_save, format)``.
"""
from typing import TYPE_CHECKING, Any, cast

import numpy.typing as npt

from msparam.parallel._context import (get_auto_parallel_context, layout_rank_and_size,
                                       parameters_stay_lazy as parameters_stay_lazy,  # a seam (see above)
                                       reset_auto_parallel_context, set_auto_parallel_context)

__all__ = ["set_auto_parallel_context", "get_auto_parallel_context", "reset_auto_parallel_context",
           "merge_sliced_parameter", "transform_checkpoints", "load_distributed_checkpoint", "load_sharded"]

if TYPE_CHECKING:  # the names loaded on first use, visible to type checkers ("x as x": re-exported)
    from msparam.common.initializer import Initializer
    from msparam.common.tensor import Tensor
    from msparam.parallel._checkpoint import (load_distributed_checkpoint as load_distributed_checkpoint,
                                              load_sharded as load_sharded,
                                              merge_sliced_parameter as merge_sliced_parameter,
                                              sharded_save as sharded_save,
                                              transform_checkpoints as transform_checkpoints)
    from msparam.parallel._deferred import DeferredFill, SliceRequest

# imported on first use: the checkpoint module needs Parameter, whose module imports this package
_CHECKPOINT_NAMES = ("merge_sliced_parameter", "transform_checkpoints", "load_distributed_checkpoint",
                     "load_sharded", "sharded_save")


if not TYPE_CHECKING:  # a type checker sees the names above, and reports any other
    def __getattr__(name):
        if name in _CHECKPOINT_NAMES:
            from msparam.parallel import _checkpoint
            return getattr(_checkpoint, name)
        raise AttributeError(f"module 'msparam.parallel' has no attribute {name!r}")


def defer_fill(tensor: "Tensor") -> "DeferredFill":
    """The fill a lazy Parameter made from the lazy Tensor ``tensor`` keeps (its draws taken now)."""
    from msparam.common.dtype import dtype_to_nptype
    from msparam.parallel._deferred import DeferredFill
    if isinstance(tensor.init, DeferredFill):
        return tensor.init
    return DeferredFill(cast("Initializer", tensor.init), tensor.shape, dtype_to_nptype(tensor.dtype))


def slice_request(deferred: "DeferredFill", layout: "tuple[Any, ...] | None") -> "SliceRequest":
    """This rank's part of a lazy Parameter's tensor (``layout`` None: all of it): its ``shape``,
    then ``fill(out)``.  Checks the layout first (TypeError/ValueError)."""
    from msparam.parallel._deferred import SliceRequest
    return SliceRequest(deferred, layout)


def check_layout(layout: "tuple[Any, ...]", full_shape: tuple[int, ...]) -> None:
    """Raise TypeError/ValueError unless ``layout`` fits a tensor of ``full_shape`` on this group."""
    from msparam.parallel._layout import Layout
    Layout(layout).check(full_shape, layout_rank_and_size()[1])
