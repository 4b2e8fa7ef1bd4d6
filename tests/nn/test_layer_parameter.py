"""layer_parameter (the construction fast path) equals Parameter(initializer(init, shape), name)."""
import numpy as np
import pytest

import msparam as ms
from msparam.common.initializer import Normal, Uniform, initializer, registered_initializers
from msparam.nn._parameters import layer_parameter

INITS = sorted(registered_initializers()) + ["NORMAL", "Ones", Normal(0.2, 1.0), Uniform(3.0), 0.5, 7,
                            ms.Tensor(np.arange(12, dtype=np.float32).reshape(4, 3))]


def outcome(make):
    """The Parameters ``make`` returns, or the type of error it raises."""
    try:
        return make()
    except (TypeError, ValueError) as error:
        return type(error)


@pytest.mark.parametrize("shape", [(4, 3), (4, 4, 3, 3)])
@pytest.mark.parametrize("init", INITS, ids=repr)
def test_same_values_as_the_general_path(init, shape):
    if isinstance(init, ms.Tensor):
        shape = init.shape
    ms.set_seed(5)
    fast = outcome(lambda: [layer_parameter(init, shape, "weight") for _ in range(2)])
    ms.set_seed(5)
    general = outcome(lambda: [ms.Parameter(initializer(init, list(shape)), name="weight") for _ in range(2)])
    if not isinstance(general, list):  # an initializer that does not apply to this shape
        assert fast is general
        return
    for got, want in zip(fast, general):
        assert got.asnumpy().tobytes() == want.asnumpy().tobytes()
        assert (got.name, got.dtype, got.shape, got.requires_grad) == (want.name, want.dtype, want.shape,
                                                                        want.requires_grad)
        assert got.asnumpy().flags.c_contiguous and got.asnumpy().ctypes.data % 64 == 0


def test_parameters_do_not_share_storage():
    first, second = layer_parameter("zeros", (3,), "bias"), layer_parameter("zeros", (3,), "bias")
    first.set_data(ms.Tensor(np.ones(3, np.float32)))
    assert np.all(second.asnumpy() == 0)


def test_unknown_name_raises_as_initializer_does():
    with pytest.raises(ValueError, match="no_such"):
        layer_parameter("no_such", (2,), "w")
