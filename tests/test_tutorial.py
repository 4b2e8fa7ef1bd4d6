"""The tour prints what MindSpore's r1.9 "Network Arguments" tutorial prints.

The expected texts are the tutorial's ```text blocks. Two lines depend on the installation
(shared/seed/README.md): the class path printed by ``print(type(x))`` and the random weights of
``nn.Dense(3, 4)``; those are checked for form instead of copied.
"""
import re
import subprocess
import sys

import numpy as np
import pytest

from msparam._tour import EXAMPLES, run_examples

EXPECTED = {
    "dtype": "Int32\n",
    "Data Type Conversion API": "<class 'numpy.int32'>\nInt64\n<class 'float'>\n",
    "Parameter Initialization: int and float": (
        "<class 'msparam.common.parameter.Parameter'>\n"
        "Parameter (name=x, shape=(), dtype=Float32, requires_grad=True) value: 2.0\n"
        "Parameter (name=y, shape=(), dtype=Float32, requires_grad=True) value: 5.0\n"
        "Parameter (name=z, shape=(), dtype=Int32, requires_grad=False) value: 5\n"),
    "Parameter Initialization: Tensor": "Parameter (name=tensor, shape=(2, 3), dtype=Int64, requires_grad=True)\n",
    "Parameter Initialization: Initializer": "Parameter (name=x, shape=(1, 2, 3), dtype=Float32, requires_grad=True)\n",
    "Attribute": ("x:  Parameter (name=x, shape=(2, 3), dtype=Int64, requires_grad=True)\n"
                  "x.data:  Parameter (name=x, shape=(2, 3), dtype=Int64, requires_grad=True)\n"),
    "Parameter Operations: clone": (
        "Parameter (name=Parameter, shape=(1, 2, 3), dtype=Float32, requires_grad=True)\n"
        "Parameter (name=x_clone, shape=(1, 2, 3), dtype=Float32, requires_grad=True)\n"),
    "Parameter Operations: set_data": (
        "Parameter (name=x, shape=(1, 2), dtype=Float32, requires_grad=True) [[1. 1.]]\n"
        "Parameter (name=x, shape=(1, 2), dtype=Float32, requires_grad=True) [[0. 0.]]\n"
        "Parameter (name=x, shape=(1, 4), dtype=Float32, requires_grad=True) [[1. 1. 1. 1.]]\n"),
    "Parameter Operations: init_data": "Parameter (name=x, shape=(1, 2), dtype=Float32, requires_grad=True) [[1. 1.]]\n",
    "Parameter Tuple": (
        "(Parameter (name=x, shape=(2, 3), dtype=Int64, requires_grad=True), "
        "Parameter (name=y, shape=(1, 2, 3), dtype=Float32, requires_grad=True), "
        "Parameter (name=z, shape=(), dtype=Float32, requires_grad=True))\n"
        "(Parameter (name=params_copy.x, shape=(2, 3), dtype=Int64, requires_grad=True), "
        "Parameter (name=params_copy.y, shape=(1, 2, 3), dtype=Float32, requires_grad=True), "
        "Parameter (name=params_copy.z, shape=(), dtype=Float32, requires_grad=True))\n"),
    "Initializing Network Arguments: Initializer": "",
    "Initializing Network Arguments: Character String": "",
    "Initializing Network Arguments: Tensor": "",
}

UPDATE_EXPECTED_TAIL = (
    "Parameter update:\n"
    " [[ 0.  1.  2.]\n"
    " [ 3.  4.  5.]\n"
    " [ 6.  7.  8.]\n"
    " [ 9. 10. 11.]]\n")


@pytest.fixture(scope="module")
def printed():
    return {title: text for title, _, text in run_examples()}


def test_every_example_is_checked():
    assert {title for title, _ in EXAMPLES} == set(EXPECTED) | {"Updating Parameters"}


@pytest.mark.parametrize("title", list(EXPECTED))
def test_example_prints_tutorial_text(printed, title):
    assert printed[title] == EXPECTED[title]


def test_parameter_update_prints_tutorial_text(printed):
    text = printed["Updating Parameters"]
    head, tail = text.split("Parameter update:\n", 1)
    assert "Parameter update:\n" + tail == UPDATE_EXPECTED_TAIL
    # The random weights: a 4x3 float32 array printed by NumPy, drawn from N(0, 0.01).
    assert head.startswith("Parameter:\n [[")
    numbers = [float(v) for v in re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?", head)]
    assert len(numbers) == 12
    assert 0 < np.std(numbers) < 0.05


def test_tour_runs_as_module():
    result = subprocess.run([sys.executable, "-m", "msparam"], capture_output=True, text=True, check=True)
    for title, _ in EXAMPLES:
        assert f"## {title}\n" in result.stdout
    assert "not run" not in result.stdout
