"""The typed public API: mypy --strict and pyright (strict mode) check a correct user script clean
and report each deliberate mistake in a copy of it, against the msparam this interpreter imports;
and pyright in its default mode finds no error in the package itself."""
import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import msparam
from msparam._generated import dtype_names
from msparam.common import dtype as mstype

# The tutorial's kind of code (/work/shared/seed: dtypes, Parameter, ParameterTuple, initializers,
# Dense/Conv2d, ParameterUpdate), a Cell with containers and activations, and checkpoints.
CORRECT = textwrap.dedent("""\
    import os
    import tempfile
    from collections import OrderedDict

    import numpy as np

    import msparam as ms
    from msparam import nn
    from msparam.common import initializer as init
    from msparam.common.initializer import HeUniform, Normal, TruncatedNormal, initializer
    from msparam.communication import get_group_size, get_rank


    class Net(nn.Cell):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, weight_init=init.Normal(0.2))
            self.fc = nn.Dense(4 * 4 * 4, 2, weight_init=HeUniform(), activation="relu")
            self.head = nn.SequentialCell([nn.Dense(2, 2), nn.ReLU()])

        def construct(self, x: ms.Tensor) -> ms.Tensor:
            features = self.conv(x).reshape(x.shape[0], -1)
            result: ms.Tensor = self.head(self.fc(features))
            return result


    ms.set_seed(1)
    np_type = ms.dtype_to_nptype(ms.int32)
    py_type = ms.dtype_to_pytype(ms.float64)
    weight = ms.Parameter(initializer(Normal(0.02), [4, 3], ms.float32), name="w")
    bias = ms.Parameter(default_input=2.0, name="b", requires_grad=False)
    clone = weight.clone()
    clone.name = "w_clone"
    weight.set_data(ms.Tensor(np.zeros((4, 3)), ms.float32))
    params = ms.ParameterTuple((weight, bias, clone))
    params_copy = params.clone("params_copy", init="ones")
    x = ms.Tensor(np.ones((2, 3), dtype=np.float32), ms.float32)
    dense = nn.Dense(3, 4, weight_init=weight, bias_init="zeros")
    y: ms.Tensor = dense(x) * 2.0 + 1
    update = nn.ParameterUpdate(dense.parameters_dict()["weight"])
    update(ms.Tensor(np.arange(12).reshape((4, 3)), ms.float32))
    net = Net()
    out = net(ms.Tensor(np.ones((1, 3, 4, 4), np.float32)))
    blocks = nn.CellList([nn.Dense(2, 2), nn.Tanh()])
    blocks.append(nn.Sigmoid())
    first: nn.Cell = blocks[0]
    layers = nn.SequentialCell(OrderedDict([("fc", nn.Dense(2, 2)), ("act", nn.GELU())]))
    names = [name for name, _ in net.parameters_and_names()]
    trainable = net.trainable_params()
    lazy = initializer(TruncatedNormal(0.02), (2, 2), ms.float16).init_data()
    shape: tuple[int, ...] = x.shape
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "net.ckpt")
        ms.save_checkpoint(net, path)
        loaded = ms.load_checkpoint(path)
        not_loaded, unused = ms.load_param_into_net(net, loaded, strict_load=True)
    print(np_type, py_type, y, out.shape, first, layers, names, len(trainable), lazy.dtype, shape,
          params_copy, not_loaded, unused, get_rank(), get_group_size(), ms.get_seed())
    """)

# (line of CORRECT, its mistaken copy, what mypy's message says, what pyright's says)
MISTAKES = [
    (27, "ms.set_sed(1)", 'has no attribute "set_sed"', '"set_sed" is not a known attribute'),
    (27, 'ms.set_seed("1")', 'incompatible type "str"; expected "int"', 'parameter "seed" of type "int"'),
    (30, 'weight = ms.Parameter(initializer(Normal(0.02), [4, 3], ms.flaot32), name="w")', '"flaot32"',
     '"flaot32" is not a known attribute'),
    (30, "weight = ms.Parameter(initializer(Normal(0.02), [4, 3], ms.float32), name=3)",
     'Argument "name" to "Parameter" has incompatible type "int"', 'parameter "name" of type "str | None"'),
    (30, 'weight = ms.Parameter(initializer(Normal(0.02), [4, 3], ms.float32), name="w", requires_grad="yes")',
     'Argument "requires_grad" to "Parameter" has incompatible type "str"', 'parameter "requires_grad" of type "bool"'),
    (37, 'x = ms.Tensor(np.ones((2, 3), dtype=np.float32), "float32")', 'Argument 2 to "Tensor"',
     'parameter "dtype" of type "Type | None"'),
    (38, 'dense = nn.Dense("3", 4, weight_init=weight, bias_init="zeros")',
     'Argument 1 to "Dense" has incompatible type "str"', 'parameter "in_channels" of type "int"'),
    (51, "shape: str = x.shape", "Incompatible types in assignment", 'is not assignable to declared type "str"'),
    (17, "        self.conv = nn.Conv2d(3, 4, 3.0, weight_init=init.Normal(0.2))",
     'Argument 3 to "Conv2d" has incompatible type "float"', 'parameter "kernel_size"'),
    (18, '        self.fc = nn.Dense(4 * 4 * 4, 2, weight_init=HeUniform(mode=0), activation="relu")',
     'Argument "mode" to "HeUniform" has incompatible type "int"', 'parameter "mode" of type "str"'),
    (22, "        features = self.conv(x).reshape(x.shape[0], -1).asnumpi()", '"Tensor" has no attribute "asnumpi"',
     'Cannot access attribute "asnumpi" for class "Tensor"'),
    (35, "params = ms.ParameterTuple((weight, bias, 3))", 'Argument 1 to "ParameterTuple" has incompatible type',
     'parameter "iterable"'),
    (36, 'params_copy = params.clone(1, init="ones")', 'Argument 1 to "clone" of "ParameterTuple"',
     'parameter "prefix" of type "str"'),
    (39, 'y: ms.Tensor = dense(x) * "2.0" + 1', "Unsupported operand types", 'Operator "+" not supported'),
    (40, 'update = nn.ParameterUpdate(dense.parameters_dict()["weight"].asnumpy())',
     'Argument 1 to "ParameterUpdate" has incompatible type', 'parameter "param" of type "Parameter"'),
    (42, "net = Net(); net.fc.wieght", '"Dense" has no attribute "wieght"', 'Cannot access attribute "wieght"'),
    (44, "blocks = nn.CellList([nn.Dense(2, 2), nn.tanh()])", 'has no attribute "tanh"',
     '"tanh" is not a known attribute'),
    (46, 'first: nn.Cell = blocks["0"]', 'No overload variant of "__getitem__" of "CellList"',
     'No overloads for "__getitem__"'),
    (48, "names = [name for name, _ in net.parameters_and_name()]", 'has no attribute "parameters_and_name"',
     'Cannot access attribute "parameters_and_name"'),
    (50, 'lazy = initializer(TruncatedNormal(0.02), (2, 2), "float16").init_data()',
     'Argument 3 to "initializer" has incompatible type "str"', 'parameter "dtype" of type "Type"'),
    (54, "    ms.save_checkpoint(net, path, async_save=1.0)", 'Argument "async_save" to "save_checkpoint"',
     'parameter "async_save" of type "bool | str"'),
    (55, "    loaded = ms.load_checkpoint(path, net=dense.weight)", 'Argument "net" to "load_checkpoint"',
     'parameter "net" of type "Cell | None"'),
    (56, "    not_loaded, unused = ms.load_param_into_net(net, path, strict_load=True)",
     'Argument 2 to "load_param_into_net" has incompatible type "str"', 'parameter "parameter_dict"'),
]


def package_root():
    """The directory msparam is imported from, when that is a source tree (an editable install,
    which neither checker can follow); None for an installed package, found in site-packages."""
    root = Path(msparam.__file__).parent.parent
    return None if "site-packages" in root.parts else root


def write_scripts(folder, mistakes):
    """The correct script, and one copy per mistake (one mistake each, so each report is its own)."""
    folder.mkdir()
    (folder / "user_script.py").write_text(CORRECT)
    lines = CORRECT.splitlines()
    for number, (line, mistaken, *_) in enumerate(mistakes):
        copy = lines.copy()
        copy[line - 1] = mistaken
        (folder / f"mistake_{number:02d}.py").write_text("\n".join(copy) + "\n")


def mypy(folder, files):
    """``{(file, line): [messages]}`` from ``mypy --strict`` over ``files`` in ``folder``, its output,
    and whether its summary says every file checked clean."""
    env = dict(os.environ)
    if package_root() is not None:
        env["MYPYPATH"] = str(package_root())
    # follow-imports=silent: only the user's scripts are reported, as for any installed package
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
                             "--cache-dir", os.devnull, "--python-executable", sys.executable, *files],
                            capture_output=True, text=True, cwd=folder, env=env)
    errors = {}
    for row in result.stdout.splitlines():
        file, line, kind, message = (row.split(":", 3) + ["", "", ""])[:4]
        if kind.strip() == "error":
            errors.setdefault((file, int(line)), []).append(message)
    clean = f"Success: no issues found in {len(files)} source file" in result.stdout
    return errors, result.stdout + result.stderr, clean


def pyright(folder, files, mode="strict"):
    """``{(file, line): [messages]}`` of pyright's errors over ``files`` in ``mode`` (None: its
    default), its output, and whether it analysed every file and found no error."""
    config = {"pythonVersion": f"{sys.version_info[0]}.{sys.version_info[1]}"}
    if mode is not None:
        config["typeCheckingMode"] = mode
    if package_root() is not None:
        config["extraPaths"] = [str(package_root())]
    (folder / "pyrightconfig.json").write_text(json.dumps(config))
    result = subprocess.run([sys.executable, "-m", "pyright", "--outputjson", "--pythonpath", sys.executable, *files],
                            capture_output=True, text=True, cwd=folder)
    report = json.loads(result.stdout)
    errors = {}
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            key = (Path(diagnostic["file"]).name, diagnostic["range"]["start"]["line"] + 1)
            errors.setdefault(key, []).append(diagnostic["message"])
    summary = report["summary"]
    clean = summary["errorCount"] == 0 and summary["filesAnalyzed"] >= len(files)
    return errors, result.stdout + result.stderr, clean


# The checkers a user's editor or CI runs, and which message of a MISTAKES row each reports.
CHECKERS = {"mypy": (mypy, 2), "pyright": (pyright, 3)}


def test_the_correct_script_runs(tmp_path):
    script = tmp_path / "user_script.py"
    script.write_text(CORRECT)
    env = dict(os.environ)
    if package_root() is not None:
        env["PYTHONPATH"] = str(package_root())
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("checker", CHECKERS)
def test_correct_script_checks_clean_in_strict_mode(tmp_path, checker):
    check, _ = CHECKERS[checker]
    write_scripts(tmp_path / "scripts", [])
    errors, output, clean = check(tmp_path / "scripts", ["user_script.py"])
    assert not errors and clean, output


@pytest.mark.parametrize("checker", CHECKERS)
def test_each_mistake_is_reported(tmp_path, checker):
    check, message_column = CHECKERS[checker]
    write_scripts(tmp_path / "scripts", MISTAKES)
    files = [f"mistake_{number:02d}.py" for number in range(len(MISTAKES))]
    errors, output, _ = check(tmp_path / "scripts", files)
    for file, mistake in zip(files, MISTAKES):
        line, mistaken, message = mistake[0], mistake[1], mistake[message_column]
        assert any(message in row for row in errors.get((file, line), [])), (mistaken, output)


def test_the_package_checks_clean_under_pyright_in_its_default_mode(tmp_path):
    # what a user's editor shows when it opens msparam's code (mypy --strict over the package is CI's own stage)
    errors, output, clean = pyright(tmp_path, [str(Path(msparam.__file__).parent)], mode=None)
    assert not errors and clean, output


def test_dtype_names_declared_for_type_checkers_are_the_ones_made_at_run_time():
    tree = ast.parse(Path(dtype_names.__file__).read_text())
    declared = {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)}
    made = {name for name, value in vars(mstype).items() if isinstance(value, mstype.Type)}
    assert declared == set(dtype_names.__all__) == made
    assert made <= set(mstype.__all__) and made <= set(msparam.__all__)


def test_public_names_are_exported_and_importable():
    for name in msparam.__all__:
        assert getattr(msparam, name) is not None, name
