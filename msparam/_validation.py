"""Argument checks every msparam package shares: bools, real numbers and shapes.

Each check takes the message it raises as a template, because MindSpore words the same check
differently in different places (``Parameter``, its ``Validator``, ``initializer``); the common
wordings are the constants below. Templates are ``str.format`` strings over ``{owner}`` (the
function or class), ``{arg}`` (the argument), ``{type}`` (the type name of the value) and, for
shapes, ``{shape}`` (the value). A wrong type raises TypeError, a wrong value ValueError, as
MindSpore's Validator does, unless a template's owner raises otherwise (see ``check_shape``).
"""
import numbers
from typing import cast

__all__ = ["BOOL", "FLOAT_OR_INT", "REAL_NUMBER", "check_bool", "check_real", "check_shape"]

# MindSpore's Validator.check_bool.
BOOL = "For '{owner}', the '{arg}' must be a bool, but got {type}."
# MindSpore's initializers take any real number; msparam names the argument that is not one.
REAL_NUMBER = "For '{owner}', '{arg}' must be a real number, but got {type}."
# MindSpore's Validator.check_value_type(arg, value, [float, int]), which refuses bools.
FLOAT_OR_INT = "For '{owner}', the '{arg}' must be float or int, but got '{type}'."


def check_bool(value: object, arg_name: str, owner: "str | None" = None, message: str = BOOL) -> bool:
    """``value`` if it is a bool, else TypeError with ``message``."""
    if value is True or value is False:
        return value
    raise TypeError(message.format(owner=owner, arg=arg_name, type=type(value).__name__))


def check_real(value: object, arg_name: str, owner: "str | None", message: str = REAL_NUMBER,
               allow_bool: bool = True) -> float:
    """``value`` if it is a real number (``numbers.Real``: int, float, NumPy scalars), else TypeError.

    Parameters
    ----------
    allow_bool : bool, default True
        A bool is a real number to Python and to MindSpore's initializers (True is 1); MindSpore's
        layers refuse it (``FLOAT_OR_INT``).
    """
    kind = type(value)
    if kind is float or kind is int:  # the usual case first: layer construction calls this
        return cast(float, value)
    if (kind is bool and not allow_bool) or not isinstance(value, numbers.Real):
        raise TypeError(message.format(owner=owner, arg=arg_name, type=kind.__name__))
    return cast(float, value)  # a numbers.Real: int, float, a NumPy real scalar


def check_shape(shape: object, minimum: int, type_message: str, range_message: str,
                type_error: "type[Exception]" = TypeError) -> tuple[int, ...]:
    """``shape`` (an int, or a list or tuple of ints; bools refused) as a tuple of int.

    Parameters
    ----------
    minimum : int
        The smallest dimension allowed: 0 for a Tensor, 1 for ``initializer`` (MindSpore's rules).
    type_message, range_message : str
        Templates over ``{shape}`` for an element that is not an int and for a dimension below
        ``minimum``; the second always raises ValueError.
    type_error : type, default TypeError
        The class raised for a wrong element: MindSpore's ``initializer`` raises ValueError.
    """
    if type(shape) is tuple and all(type(d) is int and d >= minimum for d in shape):
        return shape  # the common case, without the slower checks below
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (list, tuple)) or not all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in shape):
        raise type_error(type_message.format(shape=shape))
    dims = tuple(int(cast(numbers.Integral, d)) for d in shape)
    if any(d < minimum for d in dims):
        raise ValueError(range_message.format(shape=shape))
    return dims
