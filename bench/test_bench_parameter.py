"""Tensor and Parameter life cycle: creation, clone, set_data, ParameterTuple.clone, Cell.parameters_dict.

Peers do the same job their own way: PyTorch ``torch.tensor``, ``nn.Parameter``,
``detach().clone()``, ``copy_``, ``nn.Sequential.named_parameters``; MindSpore the very calls
msparam mirrors. NumPy, which has no parameters, gives the floor: the bare array copy each
operation has to make (``np.array``, ``ndarray.copy``, ``np.copyto``).
"""
import numpy as np
import pytest

from peers import as_numpy, implementations, load, record_throughput

# The tiny size shows per-call overhead, the large one the copy rate.
SIZES = {"64": (8, 8), "1M": (1000, 1000)}
ALL = implementations("msparam", "numpy", "torch", "mindspore")


def values(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


def parameter_factory(impl):
    """``make(array, name)``: a new parameter of implementation ``impl`` holding a copy of ``array``."""
    module = load(impl)
    if impl == "torch":
        return lambda array, name: module.nn.Parameter(module.tensor(array))
    return lambda array, name: module.Parameter(array, name=name)


@pytest.mark.parametrize("impl", ALL)
@pytest.mark.parametrize("size", SIZES)
def test_tensor_create(benchmark, size, impl):
    benchmark.group = f"tensor/parameter {size}"
    array = values(SIZES[size])
    if impl == "numpy":
        create = np.array
    else:
        module = load(impl)
        create = module.tensor if impl == "torch" else module.Tensor
    created = benchmark(create, array)
    assert tuple(created.shape) == array.shape
    record_throughput(benchmark, array.size, "elements")


@pytest.mark.parametrize("impl", ALL)
@pytest.mark.parametrize("size", SIZES)
def test_parameter_create(benchmark, size, impl):
    benchmark.group = f"tensor/parameter {size}"
    array = values(SIZES[size])
    if impl == "numpy":
        created = benchmark(np.array, array)
    else:
        created = benchmark(parameter_factory(impl), array, "w")
    assert tuple(created.shape) == array.shape
    record_throughput(benchmark, array.size, "elements")


@pytest.mark.parametrize("impl", implementations("msparam", "torch", "mindspore"))
def test_parameter_from_a_float(benchmark, impl):
    """Issue 2's overhead case: ``Parameter(2.0)`` against ``torch.nn.Parameter(torch.tensor(2.0))``."""
    benchmark.group = "parameter from a float"
    module = load(impl)
    if impl == "torch":
        created = benchmark(lambda: module.nn.Parameter(module.tensor(2.0)))
    else:
        created = benchmark(module.Parameter, 2.0)
    assert float(as_numpy(impl, created)) == 2.0
    record_throughput(benchmark, 1, "parameters")


@pytest.mark.parametrize("impl", ALL)
@pytest.mark.parametrize("size", SIZES)
def test_parameter_clone(benchmark, size, impl):
    benchmark.group = f"tensor/parameter {size}"
    array = values(SIZES[size])
    if impl == "numpy":
        clone = array.copy
    elif impl == "torch":
        torch, original = load(impl), parameter_factory(impl)(array, "w")
        clone = lambda: torch.nn.Parameter(original.detach().clone())  # noqa: E731
    else:
        clone = parameter_factory(impl)(array, "w").clone
    cloned = benchmark(clone)
    assert tuple(cloned.shape) == array.shape
    record_throughput(benchmark, array.size, "elements")


@pytest.mark.parametrize("impl", ALL)
@pytest.mark.parametrize("size", SIZES)
def test_parameter_set_data(benchmark, size, impl):
    benchmark.group = f"tensor/parameter {size}"
    array, incoming = values(SIZES[size]), values(SIZES[size], seed=1)
    if impl == "numpy":
        benchmark(np.copyto, array, incoming)
        result = array
    elif impl == "torch":
        torch = load(impl)
        result, source = parameter_factory(impl)(array, "w"), torch.tensor(incoming)

        def set_data():
            with torch.no_grad():
                result.copy_(source)

        benchmark(set_data)
    else:
        module = load(impl)
        result, source = parameter_factory(impl)(array, "w"), module.Tensor(incoming)
        benchmark(result.set_data, source)
    np.testing.assert_array_equal(as_numpy(impl, result), incoming)
    record_throughput(benchmark, array.size, "elements")


@pytest.mark.parametrize("impl", ALL)
def test_parameter_tuple_clone(benchmark, impl):
    """ParameterTuple.clone of 1,000 small parameters (PyTorch: clone each into a new nn.Parameter)."""
    benchmark.group = "collections"
    arrays = [values((16, 16), seed) for seed in range(1000)]
    if impl == "numpy":
        clone = lambda: [array.copy() for array in arrays]  # noqa: E731
    elif impl == "torch":
        torch, make = load(impl), parameter_factory(impl)
        originals = [make(array, f"p{i}") for i, array in enumerate(arrays)]
        clone = lambda: [torch.nn.Parameter(p.detach().clone()) for p in originals]  # noqa: E731
    else:
        module, make = load(impl), parameter_factory(impl)
        originals = module.ParameterTuple([make(array, f"p{i}") for i, array in enumerate(arrays)])
        clone = lambda: originals.clone("copy")  # noqa: E731
    assert len(benchmark(clone)) == len(arrays)
    record_throughput(benchmark, len(arrays), "parameters")


def deep_network(impl, layers):
    """``layers`` Dense(16, 16) layers in one network (PyTorch: nn.Sequential of nn.Linear)."""
    nn = load(impl).nn
    if impl == "torch":
        return nn.Sequential(*[nn.Linear(16, 16) for _ in range(layers)])

    class Deep(nn.Cell):
        def __init__(self):
            super().__init__()
            for index in range(layers):
                setattr(self, f"layer{index}", nn.Dense(16, 16))

        def construct(self, x):
            for index in range(layers):
                x = getattr(self, f"layer{index}")(x)
            return x

    return Deep()


@pytest.mark.parametrize("impl", implementations("msparam", "torch", "mindspore"))
def test_parameters_dict(benchmark, impl):
    """Cell.parameters_dict() of a 100-layer network (PyTorch: dict(named_parameters()))."""
    benchmark.group = "collections"
    network = deep_network(impl, 100)
    collect = (lambda: dict(network.named_parameters())) if impl == "torch" else network.parameters_dict
    assert len(benchmark(collect)) == 200
    record_throughput(benchmark, 200, "parameters")
