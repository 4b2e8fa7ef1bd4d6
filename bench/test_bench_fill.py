"""Initializer fills at 10^6 and 1.6x10^7 float32 elements, through the public API.

msparam: ``initializer(Initializer, shape).init_data()`` for every initializer msparam has. They
are enumerated from msparam's registry (plus exported classes outside it, such as Constant), so
a new initializer gets its cases without editing this file; one that needs constructor
arguments fails here until it has an entry in ``ARGUMENTS``, it is never skipped.

Peers allocate and fill the same shape: MindSpore through the same call, PyTorch with
``torch.nn.init`` on ``torch.empty``, NumPy (where it has the distribution) with its Generator.
"""
import numpy as np
import pytest

import msparam.common.initializer as msparam_init
from peers import implementations, load, record_throughput

SIZES = {"1M": 10**6, "16M": 16 * 10**6}
# Shapes tried in order: 2-D first (Identity needs it), 4-D (conv-like) for those needing 3-5 dims (Dirac).
SHAPES = {"1M": [(1000, 1000), (250, 250, 4, 4)], "16M": [(4000, 4000), (1000, 1000, 4, 4)]}
# Constructor arguments for initializers without defaults, for every implementation.
ARGUMENTS = {"constant": {"value": 0.5}, "sparse": {"sparsity": 0.1}}


def msparam_initializers():
    """``{lower-case class name: class}`` for every msparam Initializer."""
    classes = set(msparam_init._REGISTRY.values())
    classes.update(getattr(msparam_init, name) for name in msparam_init.__all__)
    return {cls.__name__.lower(): cls for cls in classes
            if isinstance(cls, type) and issubclass(cls, msparam_init.Initializer) and cls is not msparam_init.Initializer}


INITIALIZERS = msparam_initializers()


# PyTorch's counterpart of each initializer, same parameters: fill(torch.nn.init, tensor).
TORCH_FILLS = {
    "zero": lambda init, t: init.zeros_(t),
    "one": lambda init, t: init.ones_(t),
    "constant": lambda init, t: init.constant_(t, 0.5),
    "normal": lambda init, t: init.normal_(t, 0.0, 0.01),
    "uniform": lambda init, t: init.uniform_(t, -0.07, 0.07),
    "truncatednormal": lambda init, t: init.trunc_normal_(t, 0.0, 0.01, -0.02, 0.02),
    "xavieruniform": lambda init, t: init.xavier_uniform_(t),
    "xaviernormal": lambda init, t: init.xavier_normal_(t),
    "heuniform": lambda init, t: init.kaiming_uniform_(t),
    "henormal": lambda init, t: init.kaiming_normal_(t),
    "orthogonal": lambda init, t: init.orthogonal_(t),
    "dirac": lambda init, t: init.dirac_(t),
    "identity": lambda init, t: init.eye_(t),
    "sparse": lambda init, t: init.sparse_(t, 0.1),
}
# NumPy's Generator draws the standard distributions; scaling to the initializer's bounds is one multiply.
NUMPY_DRAWS = {
    "zero": lambda rng, shape: np.full(shape, 0.0, np.float32),
    "one": lambda rng, shape: np.full(shape, 1.0, np.float32),
    "constant": lambda rng, shape: np.full(shape, 0.5, np.float32),
    "normal": lambda rng, shape: rng.standard_normal(shape, np.float32),
    "uniform": lambda rng, shape: rng.random(shape, np.float32),
}
NUMPY_DRAWS.update({"henormal": NUMPY_DRAWS["normal"], "xaviernormal": NUMPY_DRAWS["normal"],
                    "heuniform": NUMPY_DRAWS["uniform"], "xavieruniform": NUMPY_DRAWS["uniform"]})


def cases():
    peer_names = {"msparam": set(INITIALIZERS), "mindspore": set(INITIALIZERS), "torch": set(TORCH_FILLS),
                  "numpy": set(NUMPY_DRAWS)}
    return [pytest.param(name, size, impl, id=f"{name}-{size}-{impl}")
            for name in sorted(INITIALIZERS) for size in SIZES
            for impl in implementations("msparam", "numpy", "torch", "mindspore") if name in peer_names[impl]]


def fill_function(name, impl):
    """``fill(shape)``: allocate and fill an array of ``shape`` as implementation ``impl`` does it."""
    if impl == "numpy":
        rng, draw = np.random.default_rng(0), NUMPY_DRAWS[name]
        return lambda shape: draw(rng, shape)
    if impl == "torch":
        torch, fill = load("torch"), TORCH_FILLS[name]
        return lambda shape: fill(torch.nn.init, torch.empty(shape))
    if impl == "msparam":
        module, cls = msparam_init, INITIALIZERS[name]
    else:
        module = load("mindspore").common.initializer
        cls = getattr(module, INITIALIZERS[name].__name__)
    initializer = cls(**ARGUMENTS.get(name, {}))
    return lambda shape: module.initializer(initializer, shape).init_data()


def accepted_shape(fill, size):
    """The first of ``SHAPES[size]`` the fill accepts (it runs once here, which also warms it up)."""
    errors = []
    for shape in SHAPES[size]:
        try:
            fill(shape)
            return shape
        except ValueError as error:
            errors.append(f"{shape}: {error}")
    raise AssertionError("no benchmark shape fits this initializer:\n" + "\n".join(errors))


@pytest.mark.parametrize(("name", "size", "impl"), cases())
def test_fill(benchmark, name, size, impl):
    benchmark.group = f"fill {size}"
    fill = fill_function(name, impl)
    shape = accepted_shape(fill, size)
    filled = benchmark(fill, shape)
    assert tuple(filled.shape) == shape
    assert int(np.prod(shape)) == SIZES[size]
    record_throughput(benchmark, SIZES[size], "elements")
