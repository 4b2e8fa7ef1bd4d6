"""set_auto_parallel_context / get_auto_parallel_context / reset_auto_parallel_context, with
MindSpore 2.10's names, for the settings msparam acts on.

In 'semi_auto_parallel' and 'auto_parallel' mode a Parameter made from an initializer stays lazy
(MindSpore's rule): nothing is drawn or allocated until ``init_data`` materialises the full
tensor, or one rank's slice of it.
"""
import numbers
from typing import Any

__all__ = ["set_auto_parallel_context", "get_auto_parallel_context", "reset_auto_parallel_context",
           "parameters_stay_lazy", "layout_rank_and_size"]

_PARALLEL_MODES = ("stand_alone", "data_parallel", "hybrid_parallel", "semi_auto_parallel", "auto_parallel")
_LAZY_MODES = ("semi_auto_parallel", "auto_parallel")
_DEFAULTS = {"parallel_mode": "stand_alone", "device_num": 1, "global_rank": 0, "gradients_mean": False,
             "full_batch": False}
_context: dict[str, Any] = dict(_DEFAULTS)


def _checked(key: str, value: object) -> Any:
    if key == "parallel_mode":
        if not isinstance(value, str):
            raise TypeError(f"The parameter 'parallel_mode' must be {str}, but got {type(value)}")
        if value not in _PARALLEL_MODES:
            raise ValueError(f"The context configuration parameter 'parallel_mode' only support 'stand_alone', "
                             f"'data_parallel', 'hybrid_parallel', 'semi_auto_parallel' and 'auto_parallel', "
                             f"but got the value : {value}.")
        return value
    if key in ("gradients_mean", "full_batch"):
        if not isinstance(value, bool):
            raise TypeError(f"The parameter '{key}' must be {bool}, but got {type(value)}")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"The parameter '{key}' must be {int}, but got {type(value)}")
    low, number = (1 if key == "device_num" else 0), int(value)
    if not low <= number <= 4096 - (1 - low):
        raise ValueError(f"The parameter '{key}' must be in [{low}, {4096 - (1 - low)}], but got {value}.")
    return number


def set_auto_parallel_context(**kwargs: Any) -> None:
    """Set parallel settings: ``parallel_mode``, and MindSpore's ``device_num``, ``global_rank``,
    ``gradients_mean``, ``full_batch``.

    Layouts are resolved against the MPI group (``msparam.communication``).  A process that is
    not part of a larger group uses ``device_num`` and ``global_rank`` instead: it draws rank
    ``global_rank``'s slice of a group of ``device_num`` (offline slicing, tests, benchmarks).

    Raises
    ------
    TypeError
        If a value has the wrong type.
    ValueError
        If a key is unknown (MindSpore's text) or a value is out of range; nothing is set then.
    """
    updates: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key not in _DEFAULTS:
            raise ValueError(f"Set context keyword {key} is not recognized!")
        updates[key] = _checked(key, value)
    _context.update(updates)


def get_auto_parallel_context(attr_key: str) -> Any:
    """The value of setting ``attr_key``."""
    if attr_key not in _DEFAULTS:
        raise ValueError(f"Get context keyword {attr_key} is not recognized!")
    return _context[attr_key]


def reset_auto_parallel_context() -> None:
    """Every setting back to its default ('stand_alone' mode)."""
    _context.clear()
    _context.update(_DEFAULTS)


def parameters_stay_lazy() -> bool:
    """Package-internal seam: whether a Parameter made from an initializer stays lazy now."""
    return _context["parallel_mode"] in _LAZY_MODES


def layout_rank_and_size() -> tuple[int, int]:
    """Package-internal seam: ``(rank, group size)`` that layouts are resolved against: the MPI
    group when it has several ranks, else ``global_rank`` of ``device_num``."""
    from msparam.communication.management import world
    group = world()
    if group.size > 1:
        return group.rank, group.size
    rank, size = _context["global_rank"], _context["device_num"]
    if rank >= size:
        raise ValueError(f"The auto parallel context's 'global_rank' ({rank}) must be less than its "
                         f"'device_num' ({size}).")
    return rank, size
