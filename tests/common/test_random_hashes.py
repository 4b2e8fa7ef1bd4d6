"""Large fills against SHA-256 hashes of MindSpore 2.10's arrays (tests/data/random_hashes.json,
made by tests/data/make_random_hashes.py): at >= 16M elements the fills meet Box-Muller pairs
whose uniforms MindSpore clamps, and truncated-normal tails, that small golden arrays never reach."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import msparam as ms
from msparam.common import initializer as init_module

DATA = json.loads((Path(__file__).parents[1] / "data" / "random_hashes.json").read_text())
CASES = DATA["cases"]


def _sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()


def _blas():
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return f"{blas['name']} {blas['version']}"


def _case_id(case):
    return f"{case['init']}-{'x'.join(map(str, case['shape']))}-{case['dtype']}-{case['seed']}"


def test_the_cases_cover_every_random_initializer_dtype_and_both_clamps():
    names = {case["init"].split("(")[0] for case in CASES}
    assert names == {"Normal", "Uniform", "TruncatedNormal", "XavierUniform", "XavierNormal", "HeUniform",
                     "HeNormal", "VarianceScaling", "Sparse", "Orthogonal"}
    for name in names:
        assert {case["dtype"] for case in CASES if case["init"].startswith(name + "(")} == {
            "float16", "float32", "float64"}, name
    assert all(np.prod(case["shape"]) >= 2**24 for case in CASES)
    assert sum(case.get("clamped_u2_pairs", 0) for case in CASES) > 0
    assert sum(case.get("clamped_u1_pairs", 0) for case in CASES) > 0


@pytest.mark.large_fills
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_large_fill_matches_mindspore_hash(case):
    namespace = vars(init_module)
    ms.set_seed(case["seed"])
    init = eval(case["init"], namespace)  # the recipe's expressions, trusted test data
    values = init_module.initializer(init, tuple(case["shape"]), getattr(ms, case["dtype"])).init_data().asnumpy()
    if case["init"].startswith("Orthogonal(") and (case["numpy"], case["blas"]) != (np.__version__, _blas()):
        pytest.skip("Orthogonal's hash depends on the LAPACK behind numpy.linalg.qr")
    assert _sha256(values) == case["sha256"]
