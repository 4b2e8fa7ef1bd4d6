"""Initializers against arrays MindSpore 2.10 produced (tests/data/init.npz), bit for bit."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

import msparam as ms
from msparam.common.initializer import Constant, Normal, One, TruncatedNormal, Uniform, Zero, initializer

DATA = Path(__file__).parent.parent / "data"
GOLDEN = np.load(DATA / "init.npz")
CASES = json.loads((DATA / "cases.json").read_text())["cases"]
IMPLEMENTED = {"'normal'", "Normal(sigma=0.2, mean=0.5)", "'uniform'", "Uniform(scale=0.5)", "Constant(3)",
               "'ones'", "'zeros'", "2.5", "'truncatedNormal'", "TruncatedNormal(sigma=1.0, mean=0.1, a=-0.5, b=1.5)"}
NAMESPACE = {"Normal": Normal, "Uniform": Uniform, "Constant": Constant, "TruncatedNormal": TruncatedNormal}
INIT_CASES = sorted(k for k, v in CASES.items() if k.startswith("i") and v["init"] in IMPLEMENTED)


def test_golden_cases_cover_every_dtype():
    assert len(INIT_CASES) == 10 * 16
    assert {CASES[k]["dtype"] for k in INIT_CASES} == {"float16", "float32", "float64"}


@pytest.mark.parametrize("key", INIT_CASES)
def test_matches_mindspore_bit_for_bit(key):
    case = CASES[key]
    ms.set_seed(case["seed"])
    init = eval(case["init"], NAMESPACE)  # the golden file's own expressions
    values = initializer(init, case["shape"], getattr(ms, case["dtype"])).init_data().asnumpy()
    expected = GOLDEN[key]
    assert values.dtype == expected.dtype and values.shape == expected.shape
    assert values.tobytes() == expected.tobytes()


@pytest.mark.parametrize("seed", [1, 42])
def test_sequence_after_one_seed(seed):
    ms.set_seed(seed)
    first = initializer("normal", (10, 3)).init_data().asnumpy()
    second = initializer(Uniform(1.0), (5,)).init_data().asnumpy()
    third = initializer(TruncatedNormal(0.5), (9,)).init_data().asnumpy()
    assert first.tobytes() == GOLDEN[f"seq{seed}_0"].tobytes()
    assert second.tobytes() == GOLDEN[f"seq{seed}_1"].tobytes()
    assert third.tobytes() == GOLDEN[f"seq{seed}_2"].tobytes()


def test_lazy_tensor_draws_nothing_until_init_data():
    ms.set_seed(1)
    lazy = initializer("normal", (7,))
    state = np.random.get_state()[1].copy()
    assert lazy.has_init
    assert np.array_equal(np.random.get_state()[1], state)
    assert lazy.init_data().asnumpy().tobytes() == GOLDEN["i0000"].tobytes()


def test_names_are_case_insensitive():
    assert isinstance(initializer("Normal", (2,)).init, Normal)
    assert isinstance(initializer("ONES", (2,)).init, One)
    assert isinstance(initializer("zeros", (2,)).init, Zero)


@pytest.mark.parametrize("init, scale, mean, std", [(Normal(0.5, 1.0), None, 1.0, 0.5),
                                                    (Uniform(2.0), 2.0, 0.0, 2.0 / np.sqrt(3))])
def test_statistics_of_a_million_samples(init, scale, mean, std):
    ms.set_seed(7)
    values = initializer(init, (10**6,)).init_data().asnumpy().astype(np.float64)
    assert abs(values.mean() - mean) < 5 * std / 1000
    assert abs(values.std() - std) < 0.01 * std
    if scale is not None:
        assert values.min() >= -scale and values.max() <= scale
        hist = np.histogram(values, bins=20, range=(-scale, scale))[0]
        assert np.all(np.abs(hist - 50000) < 5 * np.sqrt(50000))


def _std_normal_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _std_normal_pdf(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


@pytest.mark.parametrize("sigma, mean, a, b", [(1.0, 0.1, -0.5, 1.5), (0.5, 0.0, -1.0, 1.0), (2.0, 1.0, 0.0, 9.0)])
def test_truncated_normal_statistics_of_a_million_samples(sigma, mean, a, b):
    ms.set_seed(11)
    n = 10**6
    values = np.sort(initializer(TruncatedNormal(sigma, mean, a, b), (n,)).init_data().asnumpy().astype(np.float64))
    alpha, beta = (a - mean) / sigma, (b - mean) / sigma
    mass = _std_normal_cdf(beta) - _std_normal_cdf(alpha)
    pdf_a, pdf_b = _std_normal_pdf(alpha), _std_normal_pdf(beta)
    expected_mean = mean + sigma * (pdf_a - pdf_b) / mass
    expected_std = sigma * math.sqrt(1 + (alpha * pdf_a - beta * pdf_b) / mass - ((pdf_a - pdf_b) / mass) ** 2)
    assert values[0] >= a and values[-1] <= b
    assert abs(values.mean() - expected_mean) < 5 * expected_std / math.sqrt(n)
    assert abs(values.std() - expected_std) < 0.01 * expected_std
    # Kolmogorov-Smirnov against the truncated-normal CDF; 1.95 / sqrt(n) is the 0.1 % critical value.
    cdf = np.fromiter((_std_normal_cdf((v - mean) / sigma) for v in values.tolist()), np.float64, n)
    cdf = (cdf - _std_normal_cdf(alpha)) / mass
    steps = np.arange(1, n + 1) / n
    distance = max(np.max(steps - cdf), np.max(cdf - (steps - 1.0 / n)))
    assert distance < 1.95 / math.sqrt(n)


def test_truncated_normal_defaults_and_name():
    init = initializer("truncatednormal", (2,)).init
    assert isinstance(init, TruncatedNormal)
    assert (init.sigma, init.mean, init.a, init.b) == (0.01, 0.0, -2.0, 2.0)


@pytest.mark.parametrize("kwargs, error, name", [({"sigma": 0.0}, ValueError, "'sigma'"),
                                                 ({"sigma": -1.0}, ValueError, "'sigma'"),
                                                 ({"sigma": 1e-50}, ValueError, "'sigma'"),
                                                 ({"sigma": float("nan")}, ValueError, "'sigma'"),
                                                 ({"mean": "0"}, TypeError, "'mean'"),
                                                 ({"a": None}, TypeError, "'a'"),
                                                 ({"b": [2.0]}, TypeError, "'b'")])
def test_truncated_normal_bad_arguments(kwargs, error, name):
    state = np.random.get_state()[1].copy()
    with pytest.raises(error, match=name):
        TruncatedNormal(**kwargs)
    assert np.array_equal(np.random.get_state()[1], state)


def test_initializer_fills_a_numpy_array_in_place():
    arr = np.zeros(4, np.float32)
    assert Constant(2)(arr) is arr and np.all(arr == 2)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        One()([1, 2])


def test_tensor_init_must_match_shape():
    t = ms.Tensor(np.ones((2, 3), np.float32))
    assert initializer(t, (2, 3)) is t
    with pytest.raises(ValueError, match="shape"):
        initializer(t, (3, 2))


@pytest.mark.parametrize("bad", [None, True, [1.0], object()])
def test_bad_init_type(bad):
    with pytest.raises(TypeError, match="'init'"):
        initializer(bad, (2,))


def test_unknown_name_and_bad_shape():
    with pytest.raises(ValueError, match="not a known initializer"):
        initializer("no_such_init", (2,))
    with pytest.raises(ValueError, match="'shape'"):
        initializer("ones", (2, -1))


def test_set_seed_validation():
    with pytest.raises(TypeError, match="'seed'"):
        ms.set_seed(1.5)
    with pytest.raises(TypeError, match="'seed'"):
        ms.set_seed(True)
    with pytest.raises(ValueError, match="'seed'"):
        ms.set_seed(-1)
    ms.set_seed(3)
    assert ms.get_seed() == 3
