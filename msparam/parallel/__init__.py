"""Parallel mode: lazy Parameters whose ``init_data(layout)`` draws only this rank's slice.

``set_auto_parallel_context``, ``get_auto_parallel_context`` and ``reset_auto_parallel_context``
(also at ``msparam.*``, as MindSpore has them) switch it on.  Package-internal seams for
``msparam.common`` and ``msparam.nn``: ``parameters_stay_lazy()``, ``defer_fill(tensor)``,
``slice_request(deferred, layout)`` and ``check_layout(layout, full_shape)``.
"""
from msparam.parallel._context import (get_auto_parallel_context, parameters_stay_lazy,
                                       reset_auto_parallel_context, set_auto_parallel_context)

__all__ = ["set_auto_parallel_context", "get_auto_parallel_context", "reset_auto_parallel_context"]


def defer_fill(tensor):
    """The fill a lazy Parameter made from the lazy Tensor ``tensor`` keeps (its draws taken now)."""
    from msparam.common.dtype import dtype_to_nptype
    from msparam.parallel._deferred import DeferredFill
    if isinstance(tensor.init, DeferredFill):
        return tensor.init
    return DeferredFill(tensor.init, tensor.shape, dtype_to_nptype(tensor.dtype))


def slice_request(deferred, layout):
    """This rank's part of a lazy Parameter's tensor (``layout`` None: all of it): its ``shape``,
    then ``fill(out)``.  Checks the layout first (TypeError/ValueError)."""
    from msparam.parallel._deferred import SliceRequest
    return SliceRequest(deferred, layout)


def check_layout(layout, full_shape):
    """Raise TypeError/ValueError unless ``layout`` fits a tensor of ``full_shape`` on this group."""
    from msparam.communication import get_group_size
    from msparam.parallel._layout import Layout
    Layout(layout).check(full_shape, get_group_size())
