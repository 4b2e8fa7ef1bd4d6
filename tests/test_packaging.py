"""Packaging: setup.py refuses a tree with nothing to compile, the distribution checker CI runs
(.ci/check_dist.py) finds what it must, and the msparam under test is the one meant.

CI builds the sdist and the wheel and runs the checker on them (.ci/run); these tests keep the
checker and setup.py's guard honest without a build.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import msparam

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("check_dist", ROOT / ".ci" / "check_dist.py")
check_dist = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(check_dist)

GOOD_SDIST = [*check_dist.SDIST_NEEDS, "msparam/__init__.py", "msparam/_core/_storage.pyx",
              "msparam/_core/_storage.pyi", "msparam/_core/philox.h", "tests/test_threads.py"]


def test_the_msparam_under_test_is_the_one_meant():
    # CI runs the suite against installed packages from outside the clone and says where they are.
    package = Path(msparam.__file__).parent
    expected = os.environ.get("MSPARAM_EXPECT_INSTALLED_UNDER")
    if expected:
        assert package.is_relative_to(expected) and "site-packages" in package.parts
    compiled = {path.name.split(".")[0] for path in (package / "_core").glob("_*.so")}
    assert {"_storage", "_philox_fill", "_conv", "_linear"} <= compiled


def test_setup_refuses_a_tree_with_nothing_to_compile(tmp_path):
    # An sdist without its .pyx files once built a pure-Python wheel that could not be imported.
    shutil.copy(ROOT / "setup.py", tmp_path)
    (tmp_path / "msparam" / "_core").mkdir(parents=True)
    (tmp_path / "msparam" / "__init__.py").write_text("")
    result = subprocess.run([sys.executable, "setup.py", "--version"], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "MSPARAM_OPENMP": "0"}, timeout=120)
    assert result.returncode != 0
    assert "no msparam/**/_*.pyx found" in result.stderr and "nothing to compile" in result.stderr


def test_a_complete_sdist_passes_the_check():
    assert check_dist.sdist_problems(GOOD_SDIST) == []


def test_an_sdist_without_sources_or_with_generated_files_fails_the_check():
    names = [name for name in GOOD_SDIST if not name.endswith((".pyx", ".h")) and name != "LICENSE"]
    names += ["msparam/_core/_storage.c", "msparam/_core/_storage.cpython-311-x86_64-linux-gnu.so",
              "msparam/__pycache__/__init__.cpython-311.pyc"]
    problems = check_dist.sdist_problems(names)
    assert "missing LICENSE" in problems
    assert "no .pyx file: a build from it would compile nothing" in problems
    assert "no C header of msparam/_core" in problems
    assert {f"generated file {name}" for name in names[-3:]} <= set(problems)


def test_a_wheel_with_c_sources_and_no_modules_fails_the_check(tmp_path):
    path = tmp_path / "msparam-0.1.0-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("msparam/__init__.py", "")
        wheel.writestr("msparam/_core/_storage.c", "")
        wheel.writestr("msparam-0.1.0.dist-info/METADATA", "Name: msparam\n")
    assert set(check_dist.check(str(path), bundled_openmp=True)) == {
        "C source msparam/_core/_storage.c", "no compiled module",
        "METADATA has no 'License-Expression: Apache-2.0'", "no LICENSE in the wheel",
        f"{path.name} has no manylinux tag", "no OpenMP runtime in msparam.libs/"}


def test_the_version_has_one_source():
    # pyproject.toml reads msparam.__version__; the installed metadata must agree with it.
    from importlib.metadata import version

    assert 'version = { attr = "msparam.__version__" }' in (ROOT / "pyproject.toml").read_text()
    assert version("msparam") == msparam.__version__
