"""MindSpore's ``mindspore.common``: dtype, Tensor, Parameter, ParameterTuple, set_seed/get_seed.

``initializer`` and ``seed`` load on first use, so that importing msparam stays cheap.
"""
import importlib
from typing import TYPE_CHECKING, Any

from msparam.common import dtype
from msparam.common.parameter import Parameter, ParameterTuple
from msparam.common.tensor import Tensor

__all__ = ["dtype", "Tensor", "Parameter", "ParameterTuple", "set_seed", "get_seed"]

_LAZY = {"set_seed": "msparam.common.seed", "get_seed": "msparam.common.seed"}

if TYPE_CHECKING:  # the names loaded on first use, visible to type checkers ("x as x": re-exported)
    from msparam.common.seed import get_seed as get_seed, set_seed as set_seed


def __getattr__(name: str) -> Any:
    # Submodules (initializer, seed, ...) are found by the import system before this runs.
    if name not in _LAZY:
        raise AttributeError(f"module 'msparam.common' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
