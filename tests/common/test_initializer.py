"""Initializers against arrays MindSpore 2.10 produced (tests/data/init.npz), bit for bit."""
import builtins
import json
import math
from pathlib import Path
import warnings

import numpy as np
import pytest

import msparam as ms
from msparam.common import _checked_fill
from msparam.common import initializer as init_module
from msparam.common.initializer import Constant, Normal, One, TruncatedNormal, Uniform, Zero, initializer
from msparam.common.initializer import (Dirac, HeNormal, HeUniform, Identity, Initializer, Orthogonal, Sparse,
                                        VarianceScaling, XavierNormal, XavierUniform)

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


# --- shaped initializers: Xavier, He, VarianceScaling, Orthogonal, Sparse, Identity, Dirac ----------------------
SHAPED_NAMESPACE = {"XavierNormal": XavierNormal, "HeUniform": HeUniform, "HeNormal": HeNormal,
                    "VarianceScaling": VarianceScaling, "Sparse": Sparse, "Dirac": Dirac}
SHAPED = {"'xavier_uniform'", "XavierNormal(gain=2)", "'he_uniform'", "HeUniform(mode='fan_out', nonlinearity='relu')",
          "'he_normal'", "HeNormal(negative_slope=0.1)",
          "VarianceScaling(scale=2.0, mode='fan_avg', distribution='uniform')",
          "VarianceScaling(distribution='untruncated_normal')", "VarianceScaling(mode='fan_out')",
          "'orthogonal'", "Sparse(sparsity=0.3, sigma=0.5)", "'identity'", "Dirac(groups=2)"}
SHAPED_CASES = sorted(k for k, v in CASES.items() if k.startswith("i") and v["init"] in SHAPED and "error" not in v)
SHAPED_ERRORS = sorted(k for k, v in CASES.items() if k.startswith("i") and v["init"] in SHAPED and "error" in v)


def _golden_init(case):
    ms.set_seed(case["seed"])
    init = eval(case["init"], SHAPED_NAMESPACE)  # the golden file's own expressions
    return initializer(init, case["shape"], getattr(ms, case["dtype"]))


def test_shaped_golden_cases_cover_every_initializer():
    assert len(SHAPED_CASES) + len(SHAPED_ERRORS) == 13 * 16
    assert {CASES[k]["init"] for k in SHAPED_CASES} == SHAPED
    assert {CASES[k]["dtype"] for k in SHAPED_CASES} == {"float16", "float32", "float64"}


@pytest.mark.parametrize("key", SHAPED_CASES)
def test_shaped_matches_mindspore(key):
    case = CASES[key]
    values = _golden_init(case).init_data().asnumpy()
    expected = GOLDEN[key]
    assert values.dtype == expected.dtype and values.shape == expected.shape
    if case["init"] == "'orthogonal'":  # numpy.linalg.qr: the last bits depend on the LAPACK build
        np.testing.assert_allclose(values, expected, rtol=0, atol=1e-5)
    else:
        assert values.tobytes() == expected.tobytes()


@pytest.mark.parametrize("key", SHAPED_ERRORS)
def test_shaped_raises_as_mindspore(key):
    case = CASES[key]
    lazy = _golden_init(case)
    state = np.random.get_state()[1].copy()
    with pytest.raises(getattr(builtins, case["error"])):
        lazy.init_data()
    assert np.array_equal(np.random.get_state()[1], state)  # refused before any draw
    assert lazy.has_init


@pytest.mark.parametrize("shape, fans", [((3, 4), (4, 3)), ((64, 3, 3, 3), (27, 576)), ((2, 3, 4), (12, 8)),
                                         ((2, 3, 4, 5, 6), (360, 240))])
def test_fan_in_and_fan_out(shape, fans):
    assert init_module._calculate_fan_in_and_fan_out(shape) == fans


@pytest.mark.parametrize("shape", [(), (5,)])
def test_fans_need_two_dimensions(shape):
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init_module._calculate_fan_in_and_fan_out(shape)


@pytest.mark.parametrize("nonlinearity, param, gain", [
    ("linear", None, 1), ("conv2d", None, 1), ("conv_transpose3d", 5, 1), ("sigmoid", None, 1),
    ("tanh", None, 5 / 3), ("relu", "ignored", math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / 1.0001)),
    ("leaky_relu", 0, math.sqrt(2)), ("leaky_relu", 0.1, math.sqrt(2 / 1.01)), ("leaky_relu", 2, math.sqrt(0.4))])
def test_gain(nonlinearity, param, gain):
    assert init_module._calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-15)


@pytest.mark.parametrize("nonlinearity, param, match", [
    ("selu", None, "'nonlinearity'"), (None, None, "'nonlinearity'"), ("leaky_relu", True, "'negative_slope'"),
    ("leaky_relu", "0.1", "'negative_slope'"), ("leaky_relu", np.float32(0.1), "'negative_slope'")])
def test_gain_errors(nonlinearity, param, match):
    with pytest.raises(ValueError, match=match):
        init_module._calculate_gain(nonlinearity, param)


def _values(init, shape, seed=5, dtype=ms.float32):
    ms.set_seed(seed)
    return initializer(init, shape, dtype).init_data().asnumpy()


def test_registry_aliases():
    for name, cls in [("xavier_uniform", XavierUniform), ("XavierUniform", XavierUniform),
                      ("xavier_normal", XavierNormal), ("he_uniform", HeUniform), ("he_normal", HeNormal),
                      ("HeNormal", HeNormal), ("identity", Identity), ("dirac", Dirac), ("orthogonal", Orthogonal),
                      ("varianceScaling", VarianceScaling), ("variancescaling", VarianceScaling)]:
        assert type(initializer(name, (2, 2, 2)).init) is cls
    with pytest.raises(TypeError, match="sparsity"):  # a registered name, but Sparse has no default sparsity
        initializer("sparse", (2, 2))
    with pytest.raises(ValueError, match="not a known initializer"):  # MindSpore does not register Constant
        initializer("constant", (2, 2))


def test_all_lists_every_public_initializer():
    public = {name for name, obj in vars(init_module).items()
              if isinstance(obj, type) and issubclass(obj, Initializer) and not name.startswith("_")}
    assert set(init_module.__all__) == public | {"initializer"}
    assert len(init_module.__all__) == len(set(init_module.__all__))


def test_defaults_are_mindspores():
    assert XavierUniform().gain == 1 and XavierNormal().gain == 1 and Orthogonal().gain == 1.0
    for cls in (HeUniform, HeNormal):
        he = cls()
        assert (he.negative_slope, he.mode, he.nonlinearity) == (0, "fan_in", "leaky_relu")
    vs = VarianceScaling()
    assert (vs.scale, vs.mode, vs.distribution) == (1.0, "fan_in", "truncated_normal")
    assert Sparse(0.5).sigma == 0.01 and Dirac().groups == 1


@pytest.mark.parametrize("make, error, match", [
    (lambda: XavierUniform(gain="2"), TypeError, "'gain'"), (lambda: XavierNormal(gain=None), TypeError, "'gain'"),
    (lambda: Orthogonal(gain=[1]), TypeError, "'gain'"),
    (lambda: HeUniform(mode="fan_avg"), ValueError, "'mode'"), (lambda: HeNormal(mode=1), TypeError, "'mode'"),
    (lambda: HeUniform(nonlinearity="gelu"), ValueError, "'nonlinearity'"),
    (lambda: HeNormal(negative_slope="x"), ValueError, "'negative_slope'"),
    (lambda: VarianceScaling(scale=0), ValueError, "'scale'"),
    (lambda: VarianceScaling(scale=-1.0), ValueError, "'scale'"),
    (lambda: VarianceScaling(scale="1"), TypeError, "'scale'"),
    (lambda: VarianceScaling(mode="FAN_IN"), ValueError, "'mode'"),
    (lambda: VarianceScaling(distribution="normal"), ValueError, "'distribution'"),
    (lambda: VarianceScaling(distribution="truncated_norm"), ValueError, "'distribution'"),
    (lambda: Sparse(1.5), ValueError, "'sparsity'"), (lambda: Sparse(-0.1), ValueError, "'sparsity'"),
    (lambda: Sparse("0.1"), TypeError, "'sparsity'"), (lambda: Sparse(0.1, sigma=-1), ValueError, "'sigma'"),
    (lambda: Sparse(0.1, sigma=None), TypeError, "'sigma'"),
    (lambda: Dirac(groups=0), ValueError, "'groups'"), (lambda: Dirac(groups=1.5), TypeError, "'groups'"),
    (lambda: Dirac(groups=True), TypeError, "'groups'")])
def test_argument_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("init, shape, match", [
    (XavierNormal(gain=-1), (3, 4), "'sigma'"), (Normal(sigma=-0.5), (3,), "'sigma'"),
    (Identity(), (2, 2, 2), "2-D"), (Sparse(0.2), (4, 4, 4), "2-D"), (Orthogonal(), (4,), "at least 2"),
    (Dirac(), (4, 4), "3-, 4- or 5-D"), (Dirac(groups=4), (6, 4, 3, 3), "divisible by 'groups'")])
def test_fill_errors_leave_random_state_and_tensor_alone(init, shape, match):
    lazy = initializer(init, shape)
    ms.set_seed(3)
    state = np.random.get_state()[1].copy()
    with pytest.raises(ValueError, match=match):
        lazy.init_data()
    assert np.array_equal(np.random.get_state()[1], state) and lazy.has_init


def test_he_mode_is_case_insensitive_and_slope_ignored_unless_leaky():
    assert np.array_equal(_values(HeUniform(mode="FAN_OUT"), (6, 5)), _values(HeUniform(mode="fan_out"), (6, 5)))
    assert np.array_equal(_values(HeNormal("ignored", nonlinearity="relu"), (6, 5)),
                          _values(HeNormal(nonlinearity="relu"), (6, 5)))


def test_variance_scaling_truncated_normal_draws_uniform_as_mindspore():
    default = _values(VarianceScaling(), (40, 30))
    assert np.array_equal(default, _values(VarianceScaling(distribution="uniform"), (40, 30)))
    assert not np.array_equal(default, _values(VarianceScaling(distribution="untruncated_normal"), (40, 30)))


def test_identity_values():
    assert np.array_equal(_values("identity", (2, 3)), np.eye(2, 3, dtype=np.float32))
    assert np.array_equal(_values(Identity(), (4, 3), dtype=ms.float16), np.eye(4, 3, dtype=np.float16))
    for shape in ((1, 1), (1, 5), (5, 1), (7, 6), (6, 7), (300, 400)):
        assert np.array_equal(_values(Identity(), shape), np.eye(*shape, dtype=np.float32)), shape


def test_identity_fills_a_non_contiguous_array_in_place():
    base = np.full((6, 10), 5.0, np.float32)
    Identity()(base[:, ::2])
    assert np.array_equal(base[:, ::2], np.eye(6, 5, dtype=np.float32)) and np.all(base[:, 1::2] == 5.0)
    tall = np.full((7, 3), 5.0, np.float32)
    Identity()(tall.T)
    assert np.array_equal(tall, np.eye(7, 3, dtype=np.float32))


@pytest.mark.parametrize("shape, groups, ones", [
    ((6, 4, 3, 3), 2, [(0, 0, 1, 1), (1, 1, 1, 1), (2, 2, 1, 1), (3, 0, 1, 1), (4, 1, 1, 1), (5, 2, 1, 1)]),
    ((3, 5, 4), 1, [(0, 0, 2), (1, 1, 2), (2, 2, 2)]),
    ((4, 1, 3, 2, 5), 2, [(0, 0, 1, 1, 2), (2, 0, 1, 1, 2)])])
def test_dirac_values(shape, groups, ones):
    values = _values(Dirac(groups), shape)
    expected = np.zeros(shape, np.float32)
    expected[tuple(np.array(ones).T)] = 1
    assert np.array_equal(values, expected)


def test_dirac_convolution_passes_input_through():
    x = np.random.default_rng(0).standard_normal((4, 7, 7))
    w = _values(Dirac(), (4, 4, 3, 3)).astype(np.float64)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))  # (4, 7, 7, 3, 3)
    assert np.allclose(np.einsum("oikl,ihwkl->ohw", w, windows), x)


@pytest.mark.parametrize("shape, gain", [((50, 20000), 1.0), ((300, 20), 2.0), ((16, 3, 3, 3), 1)])
def test_orthogonal_is_orthogonal(shape, gain):
    flat = _values(Orthogonal(gain), shape).reshape(shape[0], -1).astype(np.float64)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(gram.shape[0]), rtol=0, atol=1e-4 * gain ** 2)


def test_sparse_zeroes_the_same_count_in_every_column():
    values = _values(Sparse(0.25, sigma=0.5), (101, 300))
    zeros = values == 0
    assert np.all(zeros.sum(axis=0) == math.ceil(0.25 * 101))
    assert zeros.sum(axis=1).std() > 0  # different rows in different columns


# --- statistics of a million samples: mean, std and a Kolmogorov-Smirnov statistic ----------------------------------
_KS_CRITICAL = 1.95  # sqrt(-ln(0.0005) / 2): the asymptotic 0.001 quantile of sqrt(n) * D_n
_ERF = np.frompyfunc(math.erf, 1, 1)


def _ks_statistic(samples, cdf):
    """sup |F_n - F| over the sorted samples, both sides of each step of the empirical CDF."""
    x = np.sort(samples)
    f = cdf(x)
    n = x.size
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


def _normal_cdf(sigma):
    return lambda x: 0.5 * (1.0 + _ERF(x / (sigma * math.sqrt(2.0))).astype(np.float64))


def _uniform_cdf(bound):
    return lambda x: np.clip((x + bound) / (2 * bound), 0.0, 1.0)


def _check_statistics(values, std, cdf):
    values = values.astype(np.float64).ravel()
    n = values.size
    assert abs(values.mean()) < 5 * std / math.sqrt(n)
    assert abs(values.std() - std) < 0.005 * std
    assert _ks_statistic(values, cdf) < _KS_CRITICAL / math.sqrt(n)


# (500, 2000): fan_out 500, fan_in 2000, fan_avg 1250
_UNIFORMS = [pytest.param(XavierUniform(), math.sqrt(6 / 2500), id="XavierUniform()"),
             pytest.param(HeUniform(), math.sqrt(3) * math.sqrt(2 / 2000), id="HeUniform()"),
             pytest.param(HeUniform(mode="fan_out", nonlinearity="relu"), math.sqrt(3) * math.sqrt(2 / 500),
                          id="HeUniform(fan_out, relu)"),
             pytest.param(VarianceScaling(2.0, "fan_avg", "uniform"), math.sqrt(6 / 1250),
                          id="VarianceScaling(2, fan_avg, uniform)"),
             pytest.param(VarianceScaling(mode="fan_out"), math.sqrt(3 / 500), id="VarianceScaling(fan_out)")]
_NORMALS = [pytest.param(XavierNormal(gain=2), 2 * math.sqrt(2 / 2500), id="XavierNormal(2)"),
            pytest.param(HeNormal(0.1), math.sqrt(2 / 1.01 / 2000), id="HeNormal(0.1)"),
            pytest.param(HeNormal(mode="fan_out", nonlinearity="tanh"), 5 / 3 / math.sqrt(500),
                         id="HeNormal(fan_out, tanh)"),
            pytest.param(VarianceScaling(distribution="untruncated_normal"), math.sqrt(1 / 2000),
                         id="VarianceScaling(untruncated_normal)")]


@pytest.mark.parametrize("init, bound", _UNIFORMS)
def test_uniform_statistics(init, bound):
    values = _values(init, (500, 2000), seed=11)
    assert values.min() >= -np.float32(bound) and values.max() <= np.float32(bound)
    _check_statistics(values, bound / math.sqrt(3), _uniform_cdf(bound))


@pytest.mark.parametrize("init, sigma", _NORMALS)
def test_normal_statistics(init, sigma):
    _check_statistics(_values(init, (500, 2000), seed=13), sigma, _normal_cdf(sigma))


def test_sparse_statistics():
    values = _values(Sparse(0.3, sigma=0.5), (1000, 1000), seed=17)
    assert np.count_nonzero(values) == 700 * 1000
    _check_statistics(values[values != 0], 0.5, _normal_cdf(0.5))


def test_orthogonal_statistics():
    # The entries of a Haar-random (50, 20000) semi-orthogonal matrix are close to N(0, 1/20000).
    _check_statistics(_values("orthogonal", (50, 20000), seed=19), 1 / math.sqrt(20000),
                      _normal_cdf(1 / math.sqrt(20000)))


def test_every_golden_initializer_case_is_tested():
    keys = {k for k in CASES if k.startswith("i")}
    assert keys == set(INIT_CASES) | set(SHAPED_CASES) | set(SHAPED_ERRORS)


# --- package-internal seams -------------------------------------------------------------------
def test_resolve_reads_init_as_initializer_does():
    assert type(init_module.resolve("HE_uniform")) is HeUniform
    assert init_module.resolve("ones") is not init_module.resolve("ones")  # a new instance each time
    constant = init_module.resolve(2.5)
    assert type(constant) is Constant and constant.value == 2.5
    normal = Normal(0.5)
    assert init_module.resolve(normal) is normal
    with pytest.raises(ValueError, match="'no_such' is not a known initializer name"):
        init_module.resolve("no_such")


def test_registered_initializers_is_a_copy_with_aliases():
    registered = init_module.registered_initializers()
    assert registered["zeros"] is Zero and registered["zero"] is Zero and registered["he_normal"] is HeNormal
    registered.clear()
    assert init_module.registered_initializers()["normal"] is Normal


# MindSpore 2.10 takes a bool wherever an initializer takes a real number, as the number (True is 1):
# checked there with set_seed(3), each pair below gave equal arrays.
@pytest.mark.parametrize("with_bools, with_ints", [
    (lambda: TruncatedNormal(sigma=True), lambda: TruncatedNormal(sigma=1)),
    (lambda: TruncatedNormal(sigma=1, mean=False, a=-True, b=True), lambda: TruncatedNormal(sigma=1, mean=0, a=-1, b=1)),
    (lambda: XavierUniform(gain=True), lambda: XavierUniform(gain=1)),
    (lambda: XavierNormal(gain=True), lambda: XavierNormal(gain=1)),
    (lambda: Orthogonal(gain=True), lambda: Orthogonal(gain=1)),
    (lambda: VarianceScaling(scale=True), lambda: VarianceScaling(scale=1.0)),
    (lambda: Sparse(sparsity=True, sigma=True), lambda: Sparse(sparsity=1, sigma=1)),
    (lambda: Sparse(sparsity=False), lambda: Sparse(sparsity=0)),
    (lambda: Uniform(scale=True), lambda: Uniform(scale=1)),
    (lambda: Normal(sigma=True, mean=False), lambda: Normal(sigma=1, mean=0))])
def test_bools_are_numbers_as_in_mindspore(with_bools, with_ints):
    ms.set_seed(3)
    got = initializer(with_bools(), (4, 5)).init_data().asnumpy()
    ms.set_seed(3)
    want = initializer(with_ints(), (4, 5)).init_data().asnumpy()
    assert got.tobytes() == want.tobytes()


def test_shape_error_has_mindspore_text():
    with pytest.raises(ValueError, match=r"^For 'initializer', the argument 'shape' is invalid, the value of 'shape' "
                                         r"must be positive integer, but got \(2, 0\)\.$"):
        initializer("ones", (2, 0))


def test_truncated_normal_far_tail_warns_and_keeps_mindspores_values():
    # MindSpore 2.10, seed 1: every value 0.10589407 (bits 1037623038), mean + 5.2947 sigma: 2 p
    # rounds to 2 and erfc_inv's argument is clamped to 2 - 2**-23.
    with pytest.warns(RuntimeWarning, match="cannot land"):
        init = TruncatedNormal(sigma=0.02, a=0.17, b=0.2)
    ms.set_seed(1)
    values = initializer(init, (64,)).init_data().asnumpy()
    assert (values.view(np.uint32) == 1037623038).all()


@pytest.mark.parametrize("sigma, mean, a, b", [(1.0, 0.0, 8.5, 9.0), (1.0, 0.0, -40.0, -39.0),
                                               (0.5, 1.0, 6.0, 7.0)])
def test_truncated_normal_unreachable_windows_warn(sigma, mean, a, b):
    with pytest.warns(RuntimeWarning, match="cannot land"):
        TruncatedNormal(sigma=sigma, mean=mean, a=a, b=b)


@pytest.mark.parametrize("sigma, a, b", [(0.01, -2.0, 2.0), (1.0, 8.0, 9.0), (1.0, 5.29, 5.295),
                                         (1.0, 0.125, 0.125), (1.0, 5.4, 6.0)])
def test_truncated_normal_reachable_windows_do_not_warn(sigma, a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TruncatedNormal(sigma=sigma, a=a, b=b)


def test_truncated_normal_warns_every_time_its_cached_check_says_so(monkeypatch):
    """The reachability check is cached per arguments: each far-tail construction still warns,
    a reachable window interleaved with them never does, and repeats skip the 65,537-number grid."""
    computed = []
    real = _checked_fill._truncated_normal_values
    monkeypatch.setattr(_checked_fill, "_truncated_normal_values",
                        lambda params, ks: computed.append(len(ks)) or real(params, ks))
    # arguments no other test uses: none is cached yet
    far, near = dict(sigma=0.021, a=0.19, b=0.2), dict(sigma=0.021, a=-0.04, b=0.04)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for kwargs in (far, near, far, near, far, dict(sigma=np.float32(0.021), a=0.19, b=0.2)):
            TruncatedNormal(**kwargs)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 4 and all("cannot land" in m and "a=0.19" in m for m in messages)
    grids = [n for n in computed if n > 1]
    # far, near and float32 sigma (0.020999999, another double): three grids for six constructions
    assert len(grids) == 3


def test_truncated_normal_refuses_a_above_b():
    with pytest.raises(ValueError, match="'a' must be <= 'b'"):
        TruncatedNormal(a=1.0, b=0.0)


ZERO_SIZE_INITIALIZERS = ["zeros", "ones", "normal", "uniform", "truncatedNormal", "he_uniform", "he_normal",
                          "xavier_uniform", "xavier_normal", "orthogonal", "sparse", "identity", "dirac"]


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0,), (2, 0, 3, 3)])
@pytest.mark.parametrize("name", ZERO_SIZE_INITIALIZERS)
def test_zero_size_shapes_are_refused_as_mindspore_does(name, shape):
    # MindSpore 2.10 raises ValueError "... must be positive integer" for every initializer
    # (He* and Orthogonal used to raise ZeroDivisionError here).
    init = Sparse(0.5) if name == "sparse" else name
    with pytest.raises(ValueError, match="positive integer"):
        initializer(init, shape).init_data()
