"""Argument rules of nn layers, with MindSpore's messages ("For 'Dense', the 'in_channels' ...").

Bools and real numbers are checked by ``msparam._validation``, shared with the other packages.

A wrong type raises TypeError, a wrong value ValueError, as MindSpore's Validator does.
"""
import numbers
from typing import Any

import numpy as np
import numpy.typing as npt

from msparam._validation import FLOAT_OR_INT, check_real
from msparam.common.tensor import Tensor

__all__ = ["check_positive_int", "check_non_negative_int", "check_number", "check_int_pair", "float_input"]

_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def _integer(value: object, arg_name: str, cls_name: str) -> int:
    if type(value) is int:  # the common case, without the slower ABC check below
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"For '{cls_name}', the '{arg_name}' must be int, but got '{type(value).__name__}'.")
    return int(value)


def check_positive_int(value: object, arg_name: str, cls_name: str) -> int:
    """``value`` as an int > 0."""
    number = _integer(value, arg_name, cls_name)
    if number <= 0:
        raise ValueError(f"For '{cls_name}', the '{arg_name}' must be int and must be > 0, but got {number}.")
    return number


def check_non_negative_int(value: object, arg_name: str, cls_name: str) -> int:
    """``value`` as an int >= 0."""
    number = _integer(value, arg_name, cls_name)
    if number < 0:
        raise ValueError(f"For '{cls_name}', the '{arg_name}' must be int and must be >= 0, but got {number}.")
    return number


def check_number(value: object, arg_name: str, cls_name: str) -> float:
    """``value`` (a real number; MindSpore's layers refuse a bool) as a float."""
    return float(check_real(value, arg_name, cls_name, FLOAT_OR_INT, allow_bool=False))


def check_int_pair(value: object, arg_name: str, cls_name: str) -> tuple[int, int]:
    """A positive int ``k`` as ``(k, k)``, or a tuple of two positive ints."""
    if isinstance(value, tuple):
        if len(value) != 2:  # MindSpore 2.10 raises TypeError here ("input tuple dimension must be 2")
            raise TypeError(f"For '{cls_name}', the '{arg_name}' must be a positive int or a tuple of two "
                            f"positive ints, but got {value!r}.")
        return (check_positive_int(value[0], arg_name, cls_name), check_positive_int(value[1], arg_name, cls_name))
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"For '{cls_name}', the '{arg_name}' must be int or tuple of two ints, "
                        f"but got '{type(value).__name__}'.")
    number = check_positive_int(value, arg_name, cls_name)
    return (number, number)


def float_input(x: object, cls_name: str) -> "npt.NDArray[np.floating[Any]]":
    """The NumPy values of the layer input ``x``: a Tensor of float16, float32 or float64."""
    if not isinstance(x, Tensor):
        raise TypeError(f"For '{cls_name}', the input 'x' must be a Tensor, but got '{type(x).__name__}'.")
    values = x.asnumpy()
    if values.dtype not in _FLOATS:
        raise TypeError(f"For '{cls_name}', the dtype of the input 'x' must be float16, float32 or float64, "
                        f"but got {x.dtype}.")
    return values
