"""The packages meet at documented seams: no package of msparam (nor bench/) uses an underscore name
that another msparam package defines (STYLE.md, "Package-internal seams"; issue 13 §1).

A package may use its own underscore names. An underscore attribute counts as the package's own
when the package defines it somewhere (a def, a class, an assignment, a ``"_name"`` key or slot).
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "msparam"


def sources(folder):
    return sorted(p for p in folder.rglob("*.py"))


def own_underscore_names(files):
    """Every underscore identifier the files define or name as a string (slots, ``__dict__`` keys)."""
    names = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.keyword) and node.arg:  # self.__dict__.update(_name=...)
                names.add(node.arg)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
                names.add(node.value)
    return {name for name in names if name.startswith("_")}


def is_private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def reach_ins(path, own_names, own_module_prefixes):
    """``(line, text)`` for each use in ``path`` of another package's underscore name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("msparam"):
            if any(node.module == prefix.rstrip(".") or node.module.startswith(prefix)
                   for prefix in own_module_prefixes):
                continue
            found += [(node.lineno, f"from {node.module} import {alias.name}")
                      for alias in node.names if is_private(alias.name)]
        elif isinstance(node, ast.Attribute) and is_private(node.attr) and node.attr not in own_names:
            found.append((node.lineno, ast.unparse(node)))
    return found


# The private modules every package may import by module path: their public names are the
# msparam-wide internal API (compiled cores, the thread-count helper, generated tables, validation).
SHARED_MODULES = ("msparam._core.", "msparam._threads", "msparam._generated", "msparam._validation")


# Every Python package of msparam (the compiled and generated ones hold no Python of their own), and bench/.
FOLDERS = sorted(p.relative_to(ROOT).as_posix() for p in PACKAGE.iterdir()
                 if (p / "__init__.py").exists() and p.name not in ("_core", "_generated")) + ["bench"]


def test_the_packages_are_found():
    assert {"msparam/common", "msparam/nn", "msparam/train"} <= set(FOLDERS)


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_cross_package_underscore_names(folder):
    files = sources(ROOT / folder)
    assert files
    own_names = own_underscore_names(files)
    own_prefixes = SHARED_MODULES + ((folder.replace("/", ".") + ".",) if folder.startswith("msparam") else ())
    problems = [f"{path.relative_to(ROOT)}:{line}: {text}"
                for path in files for line, text in reach_ins(path, own_names, own_prefixes)]
    assert not problems, "cross-package underscore names:\n" + "\n".join(problems)


def test_the_check_finds_a_reach_in(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from msparam.common.initializer import _REGISTRY\n"
                      "from msparam.common import dtype\n"
                      "code = dtype.float32._code\n"
                      "def f(param):\n"
                      "    return param._version, self._mine\n")
    found = [text for _, text in reach_ins(sample, {"_mine"}, ("msparam.nn.",))]
    assert found == ["from msparam.common.initializer import _REGISTRY", "dtype.float32._code", "param._version"]
