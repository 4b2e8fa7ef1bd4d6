"""Layer Parameters drawn straight into their storage (the hot path of layer construction)."""
from msparam._core._storage import array_empty
from msparam.common import dtype as mstype
from msparam.common.initializer import InitLike, Initializer, initializer, resolve
from msparam.common.parameter import Parameter, parameter_from_storage
from msparam.parallel import parameters_stay_lazy

__all__ = ["layer_parameter"]

_FLOAT32 = mstype.float32.storage_code
# Initializers by name, with default arguments, shared: an Initializer holds only its arguments,
# and creating one costs as much as the rest of a small layer's Parameter.
_BY_NAME: "dict[str, Initializer]" = {}


def _named_initializer(name: str) -> Initializer:
    """The registered Initializer ``name`` (case-insensitive) with default arguments.

    Raises ValueError, as ``initializer()`` does, for a name that is not registered.
    """
    init = _BY_NAME.get(name)
    if init is None:
        init = _BY_NAME[name] = resolve(name)
    return init


def layer_parameter(init: InitLike, shape: tuple[int, ...], name: str) -> Parameter:
    """``Parameter(initializer(init, shape), name=name)`` for a layer's own float32 Parameter.

    An Initializer (or an initializer's name) fills the Parameter's storage directly instead of
    going through the lazy Tensor ``initializer()`` returns: same Initializer, same stream seed
    draw, same values, a fraction of the time. Tensors and numbers take the general path, and so
    does everything in parallel mode, where the Parameter stays lazy.

    Parameters
    ----------
    init : Tensor, str, Initializer or number
    shape : tuple of int
        Already validated (positive ints).
    name : str
    """
    if isinstance(init, str):
        init = _named_initializer(init)
    if isinstance(init, Initializer) and not parameters_stay_lazy():
        values = array_empty(shape, _FLOAT32)
        init(values)
        return parameter_from_storage(values, name)
    return Parameter(initializer(init, list(shape)), name=name)
