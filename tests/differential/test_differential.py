"""The differential tester (differential.py) as tests.

The comparison with MindSpore 2.10 runs only where MindSpore is importable: in this interpreter, or
in the one $MSPARAM_MINDSPORE_PYTHON names (MindSpore needs its own venv: it pins NumPy and Python
versions of its own). CI has neither, so there only the msparam side runs, to keep the tester from
rotting. Thousands of programs: ``python tests/differential/differential.py --count 5000``.
"""
import json
import subprocess
import sys

import pytest

from diff_programs import generate
from differential import DOCUMENTED, RUNNER, mindspore_python, run

MINDSPORE_PYTHON = mindspore_python()


def test_programs_are_reproducible_and_varied():
    assert generate(3) == generate(3) and generate(3) != generate(4)
    tags = {tag for seed in range(300) for tag, _, _ in generate(seed)}
    assert {"init", "param", "tensor", "tensor_ops", "set_data", "pupdate", "dense", "forward", "conv", "act",
            "cell", "cell_err", "prefix", "tuple", "dtype", "container", "ckpt"} <= tags


def test_msparam_runs_every_program_without_crashing(tmp_path):
    programs = [generate(seed) for seed in range(60)]
    (tmp_path / "programs.json").write_text(json.dumps(programs))
    out = tmp_path / "out.jsonl"
    subprocess.run([sys.executable, str(RUNNER), "msparam", str(tmp_path / "programs.json"), str(out)], check=True)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["index"] for r in records] == list(range(60))
    assert all(len(r["steps"]) == len(p) for r, p in zip(records, programs))


def test_every_documented_difference_names_a_readme_row():
    readme = (RUNNER.parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Deliberate differences from MindSpore", 1)[1]
    for row, _ in DOCUMENTED:
        assert row in table, row


@pytest.mark.skipif(MINDSPORE_PYTHON is None, reason="MindSpore 2.10 is not importable (set MSPARAM_MINDSPORE_PYTHON)")
def test_no_undocumented_divergence_from_mindspore():
    programs, (undocumented, _, _) = run(300, 20_000, MINDSPORE_PYTHON)
    assert undocumented == [], json.dumps(undocumented[:5])[:4000]
