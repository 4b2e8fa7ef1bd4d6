"""Layer Parameters drawn straight into their storage (the hot path of layer construction)."""
from msparam._core._storage import array_empty
from msparam.common import dtype as mstype
from msparam.common.initializer import _REGISTRY, Initializer, initializer
from msparam.common.parameter import Parameter

__all__ = ["layer_parameter"]

_FLOAT32 = mstype.float32._code


def layer_parameter(init, shape, name):
    """``Parameter(initializer(init, shape), name=name)`` for a layer's own float32 Parameter.

    An Initializer (or an initializer's name) fills the Parameter's storage directly instead of
    going through the lazy Tensor ``initializer()`` returns: same Initializer, same stream seed
    draw, same values, a fraction of the time. Tensors and numbers take the general path.

    Parameters
    ----------
    init : Tensor, str, Initializer or number
    shape : tuple of int
        Already validated (positive ints).
    name : str
    """
    if isinstance(init, str):
        registered = _REGISTRY.get(init.lower())
        if registered is not None:
            init = registered()
    if isinstance(init, Initializer):
        values = array_empty(shape, _FLOAT32)
        init(values)
        return Parameter._adopt(values, name)
    return Parameter(initializer(init, list(shape)), name=name)
