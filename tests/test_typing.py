"""The typed public API: mypy --strict checks a correct user script clean and reports each
deliberate mistake in a copy of it, against the msparam this interpreter imports."""
import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import msparam
from msparam._generated import dtype_names
from msparam.common import dtype as mstype


# The tutorial's kind of code: seed, an initializer, a Parameter, a Tensor, a layer, a checkpoint.
CORRECT = textwrap.dedent("""\
    import numpy as np

    import msparam as ms
    from msparam import nn
    from msparam.common.initializer import Normal, initializer

    ms.set_seed(1)
    weight = ms.Parameter(initializer(Normal(0.02), [4, 3], ms.float32), name="w")
    x = ms.Tensor(np.ones((2, 3), dtype=np.float32), ms.float32)
    net = nn.Dense(3, 4, weight_init=weight)
    y = net(x)
    shape: tuple[int, ...] = x.shape
    print(y, shape, weight.asnumpy().sum(), ms.get_seed())
    """)

# (line of CORRECT, its mistaken copy, what mypy's message names)
MISTAKES = [
    (7, "ms.set_sed(1)", 'has no attribute "set_sed"'),
    (7, 'ms.set_seed("1")', 'incompatible type "str"; expected "int"'),
    (8, 'weight = ms.Parameter(initializer(Normal(0.02), [4, 3], ms.flaot32), name="w")', '"flaot32"'),
    (8, "weight = ms.Parameter(initializer(Normal(0.02), [4, 3], ms.float32), name=3)",
     'Argument "name" to "Parameter" has incompatible type "int"'),
    (9, 'x = ms.Tensor(np.ones((2, 3), dtype=np.float32), "float32")', 'Argument 2 to "Tensor"'),
    (10, 'net = nn.Dense("3", 4, weight_init=weight)', 'Argument 1 to "Dense" has incompatible type "str"'),
    (12, "shape: str = x.shape", "Incompatible types in assignment"),
]


def mypy(tmp_path, source):
    script = tmp_path / "user_script.py"
    script.write_text(source)
    package_root = Path(msparam.__file__).parent.parent
    env = dict(os.environ)
    if "site-packages" not in package_root.parts:  # a source tree (editable install): mypy finds it here
        env["MYPYPATH"] = str(package_root)
    # follow-imports=silent: only the user's script is reported, as for any installed package
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
                             "--cache-dir", os.devnull, "--python-executable", sys.executable, str(script)],
                            capture_output=True, text=True, cwd=tmp_path, env=env)
    return result.returncode, result.stdout + result.stderr


def test_correct_script_checks_clean_under_strict(tmp_path):
    returncode, output = mypy(tmp_path, CORRECT)
    assert returncode == 0, output
    assert "no issues found" in output


def test_each_mistake_is_reported(tmp_path):
    lines = CORRECT.splitlines()
    # one mistake per copy of the script, so each report is the mistake's own
    for line, mistaken, message in MISTAKES:
        copy = lines.copy()
        copy[line - 1] = mistaken
        returncode, output = mypy(tmp_path, "\n".join(copy) + "\n")
        reported = [row for row in output.splitlines() if row.startswith(f"user_script.py:{line}: error:")]
        assert returncode == 1 and any(message in row for row in reported), (mistaken, output)


def test_dtype_names_declared_for_type_checkers_are_the_ones_made_at_run_time():
    tree = ast.parse(Path(dtype_names.__file__).read_text())
    declared = {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)}
    made = {name for name, value in vars(mstype).items() if isinstance(value, mstype.Type)}
    assert declared == set(dtype_names.__all__) == made
    assert made <= set(mstype.__all__) and made <= set(msparam.__all__)


def test_public_names_are_exported_and_importable():
    for name in msparam.__all__:
        assert getattr(msparam, name) is not None, name
