"""Initializer fills at 10^6 and 1.6x10^7 float32 elements, through the public API.

msparam: ``initializer(Initializer, shape).init_data()`` for every initializer msparam has. They
are enumerated from msparam's registry (plus exported classes outside it, such as Constant), so
a new initializer gets its cases without editing this file; one that needs constructor
arguments fails here until it has an entry in ``ARGUMENTS``, it is never skipped.

Peers allocate and fill the same shape: MindSpore through the same call, PyTorch with
``torch.nn.init`` on ``torch.empty``, NumPy (where it has the distribution) with its Generator.
Each case calls its fill for 0.1 s (at least once) untimed before its timed rounds
(``peers.warm_up``). Quick mode (``--benchmark-disable``) fills 4,096 elements instead, to check
every case works.
"""
import numpy as np
import pytest

import msparam.common.initializer as msparam_init
from peers import implementations, is_quick, load, record_throughput, warm_up

# Shapes of each size, tried in order: 2-D first (Identity needs it), then 4-D, conv-like (Dirac needs 3-5 dims).
SHAPES = {"1M": [(1000, 1000), (250, 250, 4, 4)], "16M": [(4000, 4000), (1000, 1000, 4, 4)]}
# Quick mode (--benchmark-disable) only checks that every case works: one small size.
QUICK_SHAPES = {"4K": [(64, 64), (16, 16, 4, 4)]}
# Tiny shapes of the same ranks, to learn cheaply which of the shapes an initializer accepts.
RANK_PROBES = [(8, 8), (8, 8, 2, 2)]
# Constructor arguments for initializers without defaults, for every implementation.
ARGUMENTS = {"constant": {"value": 0.5}, "sparse": {"sparsity": 0.1}}


def msparam_initializers():
    """``{lower-case class name: class}`` for every msparam Initializer."""
    classes = set(msparam_init.registered_initializers().values())
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
    "truncatednormal": lambda init, t: init.trunc_normal_(t, 0.0, 0.01, -2.0, 2.0),
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


def pytest_generate_tests(metafunc):
    if metafunc.function is test_fill:
        sizes = QUICK_SHAPES if is_quick(metafunc.config) else SHAPES
        peer_names = {"msparam": set(INITIALIZERS), "mindspore": set(INITIALIZERS), "torch": set(TORCH_FILLS),
                      "numpy": set(NUMPY_DRAWS)}
        metafunc.parametrize(("name", "shapes", "impl"), [
            pytest.param(name, sizes[size], impl, id=f"{name}-{size}-{impl}")
            for name in sorted(INITIALIZERS) for size in sizes
            for impl in implementations("msparam", "numpy", "torch", "mindspore") if name in peer_names[impl]])


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


def accepted_shape(fill, shapes):
    """The first of ``shapes`` whose rank the fill accepts, found on tiny shapes of the same ranks."""
    errors = []
    for probe, shape in zip(RANK_PROBES, shapes):
        try:
            fill(probe)
            return shape
        except ValueError as error:
            errors.append(f"{probe}: {error}")
    raise AssertionError("no benchmark shape fits this initializer:\n" + "\n".join(errors))


def test_fill(benchmark, name, shapes, impl):
    elements = int(np.prod(shapes[0]))
    benchmark.group = f"fill {elements:.2g} elements"
    fill = fill_function(name, impl)
    shape = accepted_shape(fill, shapes)
    warm_up(benchmark, fill, shape)
    filled = benchmark(fill, shape)
    assert tuple(filled.shape) == shape and int(np.prod(shape)) == elements
    record_throughput(benchmark, elements, "elements")
