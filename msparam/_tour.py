"""The tour: MindSpore's r1.9 "Network Arguments" tutorial, run end to end on msparam.

Each example is the tutorial's code with ``mindspore`` imports spelled ``msparam``; like the
tutorial (a notebook), all examples share one namespace.
"""
import contextlib
import io
from collections.abc import Iterator

EXAMPLES = (
    ("dtype", """\
import msparam as ms
data_type = ms.int32
print(data_type)
"""),
    ("Data Type Conversion API", """\
import msparam as ms
np_type = ms.dtype_to_nptype(ms.int32)
ms_type = ms.pytype_to_dtype(int)
py_type = ms.dtype_to_pytype(ms.float64)
print(np_type)
print(ms_type)
print(py_type)
"""),
    ("Parameter Initialization: int and float", """\
import msparam as ms
x = ms.Parameter(default_input=2.0, name='x')
y = ms.Parameter(default_input=5.0, name='y')
z = ms.Parameter(default_input=5, name='z', requires_grad=False)
print(type(x))
print(x, "value:", x.asnumpy())
print(y, "value:", y.asnumpy())
print(z, "value:", z.asnumpy())
"""),
    ("Parameter Initialization: Tensor", """\
import numpy as np
import msparam as ms
my_tensor = ms.Tensor(np.arange(2 * 3).reshape((2, 3)))
x = ms.Parameter(default_input=my_tensor, name="tensor")
print(x)
"""),
    ("Parameter Initialization: Initializer", """\
from msparam.common.initializer import initializer as init
import msparam as ms
x = ms.Parameter(default_input=init('ones', [1, 2, 3], ms.float32), name='x')
print(x)
"""),
    ("Attribute", """\
my_tensor = ms.Tensor(np.arange(2 * 3).reshape((2, 3)))
x = ms.Parameter(default_input=my_tensor, name="x")
print("x: ", x)
print("x.data: ", x.data)
"""),
    ("Parameter Operations: clone", """\
x = ms.Parameter(default_input=init('ones', [1, 2, 3], ms.float32))
x_clone = x.clone()
x_clone.name = "x_clone"
print(x)
print(x_clone)
"""),
    ("Parameter Operations: set_data", """\
x = ms.Parameter(ms.Tensor(np.ones((1, 2)), ms.float32), name="x", requires_grad=True)
print(x, x.asnumpy())
y = x.set_data(ms.Tensor(np.zeros((1, 2)), ms.float32))
print(y, y.asnumpy())
z = x.set_data(ms.Tensor(np.ones((1, 4)), ms.float32), slice_shape=True)
print(z, z.asnumpy())
"""),
    ("Parameter Operations: init_data", """\
x = ms.Parameter(ms.Tensor(np.ones((1, 2)), ms.float32), name="x", requires_grad=True)
print(x.init_data(), x.init_data().asnumpy())
"""),
    ("Updating Parameters", """\
import numpy as np
import msparam as ms
from msparam import nn
# Build a network.
network = nn.Dense(3, 4)
# Obtain the weight argument of a network.
param = network.parameters_dict()['weight']
print("Parameter:\\n", param.asnumpy())
# Update the weight argument.
update = nn.ParameterUpdate(param)
weight = ms.Tensor(np.arange(12).reshape((4, 3)), ms.float32)
output = update(weight)
print("Parameter update:\\n", output)
"""),
    ("Parameter Tuple", """\
import numpy as np
import msparam as ms
from msparam.common.initializer import initializer
# Create.
x = ms.Parameter(default_input=ms.Tensor(np.arange(2 * 3).reshape((2, 3))), name="x")
y = ms.Parameter(default_input=initializer('ones', [1, 2, 3], ms.float32), name='y')
z = ms.Parameter(default_input=2.0, name='z')
params = ms.ParameterTuple((x, y, z))
# Clone from params and change the name to "params_copy".
params_copy = params.clone("params_copy")
print(params)
print(params_copy)
"""),
    ("Initializing Network Arguments: Initializer", """\
import numpy as np
import msparam.nn as nn
import msparam as ms
from msparam.common import initializer as init
ms.set_seed(1)
input_data = ms.Tensor(np.ones([1, 3, 16, 50], dtype=np.float32))
# Convolutional layer. The number of input channels is 3, the number of output channels is 64, the size of the convolution kernel is 3 x 3, and the weight argument is a random number generated in normal distribution.
net = nn.Conv2d(3, 64, 3, weight_init=init.Normal(0.2))
# Network output
output = net(input_data)
"""),
    ("Initializing Network Arguments: Character String", """\
import numpy as np
import msparam.nn as nn
import msparam as ms
ms.set_seed(1)
input_data = ms.Tensor(np.ones([1, 3, 16, 50], dtype=np.float32))
net = nn.Conv2d(3, 64, 3, weight_init='Normal')
output = net(input_data)
"""),
    ("Initializing Network Arguments: Tensor", """\
import numpy as np
import msparam.nn as nn
import msparam as ms
init_data = ms.Tensor(np.ones([64, 3, 3, 3]), dtype=ms.float32)
input_data = ms.Tensor(np.ones([1, 3, 16, 50], dtype=np.float32))
net = nn.Conv2d(3, 64, 3, weight_init=init_data)
output = net(input_data)
"""),
)


def run_examples() -> "Iterator[tuple[str, str, str]]":
    """Run every example in one namespace; yield (title, code, printed text)."""
    namespace = {"__name__": "__tour__"}
    for title, code in EXAMPLES:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"<tour: {title}>", "exec"), namespace)
        yield title, code, out.getvalue()


def main() -> None:
    for title, code, printed in run_examples():
        print(f"## {title}")
        print("```python")
        print(code, end="")
        print("```")
        if printed:
            print("```text")
            print(printed, end="")
            print("```")
        print()


if __name__ == "__main__":
    main()
