"""The compiled random core against an independent NumPy/libm reference, across ISAs, sizes and
thread counts, and the exactness of its fast normal path."""
import numpy as np
import pytest

import msparam as ms
from msparam._core import _random as core
from msparam.common import _random
from msparam.common.seed import next_stream_seed
from philox_reference import normal, uniform

ISAS = core.available_isas()
FAST_ISAS = [isa for isa in ISAS if isa != "base"]
CHUNK = core.CHUNK
SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 33, 1023, 2049, 4099, CHUNK - 1, CHUNK + 6]
SEEDS = [0, 1, 2**32 - 1, 2**32, 2**63 - 1, 2**64 - 1, 0x0123456789ABCDEF]


def fill(kind, seed, n, params, num_threads=1, isa=None):
    out = np.full(n, np.nan, np.float32)
    getattr(core, f"fill_{kind}")(seed, out, *(float(np.float32(p)) for p in params), num_threads, isa)
    return out


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("kind, reference, params", [("uniform", uniform, (-0.07, 0.07)),
                                                     ("normal", normal, (0.5, 0.2))])
def test_matches_reference_on_golden_stream_seeds(isa, kind, reference, params):
    for golden_seed in (1, 42, 123):
        ms.set_seed(golden_seed)
        seed = next_stream_seed()
        for n in SIZES:
            assert same_bits(fill(kind, seed, n, params, isa=isa), reference(seed, n, *params)), n


@pytest.mark.parametrize("isa", ISAS)
def test_matches_reference_on_edge_seeds_and_parameters(isa):
    rng = np.random.default_rng(3)
    for seed in SEEDS:
        n = int(rng.integers(1, 3000))
        for a, b in [(-1.0, 1.0), (2.5, -3.0), (0.0, 1e-30), (1e6, 1e6 + 1)]:
            assert same_bits(fill("uniform", seed, n, (a, b), isa=isa), uniform(seed, n, a, b))
        for mean, sigma in [(0.0, 1.0), (-3.0, 0.01), (1e4, 7.0), (0.0, -2.0), (1.0, 0.0)]:
            assert same_bits(fill("normal", seed, n, (mean, sigma), isa=isa),
                             normal(seed, n, mean, sigma))


@pytest.mark.parametrize("kind", ["uniform", "normal"])
@pytest.mark.parametrize("isa", ISAS)
def test_result_never_depends_on_thread_count(kind, isa):
    n = 5 * CHUNK + 7
    one = fill(kind, 99, n, (0.0, 1.0), 1, isa)
    for num_threads in (2, 3):
        assert same_bits(fill(kind, 99, n, (0.0, 1.0), num_threads, isa), one)
    # A long fill starts with the same numbers as a short one of the same stream.
    assert same_bits(one[:4099], fill(kind, 99, 4099, (0.0, 1.0), 1, isa))


@pytest.mark.parametrize("isa", FAST_ISAS)
def test_fast_normal_equals_libm_path_on_ten_million_values(isa):
    n = 1 << 22
    params = [(0.0, 1.0), (0.5, 0.2), (-1e3, 3e-3)]
    for i, (mean, sigma) in enumerate(params):
        assert same_bits(fill("normal", 1000 + i, n, (mean, sigma), 2, isa),
                         fill("normal", 1000 + i, n, (mean, sigma), 2, "base"))
    assert n * len(params) >= 10**7


@pytest.mark.parametrize("isa", FAST_ISAS)
def test_fast_normal_parts_are_within_the_assumed_error_over_every_input(isa):
    # Premise of the exactness argument in random_simd.h: over all 2^23 values of u1 and of u2,
    # radius and cos/sin differ from the C library path by at most 2^-50, which with the
    # roundings of r * c and mean + r * c stays well under the tolerance the kernel uses.
    radius_rel, trig_abs = core.normal_part_errors(isa)
    assert 0 < radius_rel <= 2.0**-50 and 0 < trig_abs <= 2.0**-50
    assert radius_rel + trig_abs + 2.0**-50 <= core.NORMAL_TOLERANCE / 16


@pytest.mark.parametrize("isa", ISAS)
def test_unsure_values_fall_back_to_the_exact_path(isa):
    # NaN parameters make every fast result "unsure": all pairs take the scalar path.
    n = 1000
    out = fill("normal", 5, n, (0.0, np.nan), 1, isa)
    assert np.isnan(out).all() and same_bits(out, fill("normal", 5, n, (0.0, np.nan), 1, "base"))
    huge = fill("normal", 5, n, (0.0, 3e38), 1, isa)
    assert np.isinf(huge).any() and same_bits(huge, normal(5, n, 0.0, 3e38))


def test_fill_functions_write_in_place_from_python():
    out = np.empty(11, np.float32)
    _random.fill_normal(7, out, 0.5, 0.2)
    assert same_bits(out, normal(7, 11, 0.5, 0.2))
    _random.fill_uniform(2**64 - 1, out, -1, 1)
    assert same_bits(out, uniform(2**64 - 1, 11, -1.0, 1.0))


@pytest.mark.parametrize("seed, error, match", [(1.0, TypeError, "'seed'"), (True, TypeError, "'seed'"),
                                                (-1, ValueError, "'seed'"), (2**64, ValueError, "'seed'")])
def test_bad_seed(seed, error, match):
    with pytest.raises(error, match=match):
        _random.fill_uniform(seed, np.empty(3, np.float32), 0, 1)


@pytest.mark.parametrize("out, error", [([0.0], TypeError), (np.empty(3, np.float64), TypeError),
                                        (np.empty((2, 2), np.float32), ValueError),
                                        (np.empty(6, np.float32)[::2], ValueError)])
def test_bad_output(out, error):
    with pytest.raises(error, match="'out'"):
        _random.fill_normal(1, out, 0, 1)


def test_read_only_output_and_bad_parameters():
    frozen = np.zeros(3, np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        _random.fill_uniform(1, frozen, 0, 1)
    assert not frozen.any()
    with pytest.raises(TypeError, match="'sigma'"):
        _random.fill_normal(1, np.empty(3, np.float32), 0, "1")
    with pytest.raises(TypeError, match="'a'"):
        _random.fill_uniform(1, np.empty(3, np.float32), None, 1)
    with pytest.raises(ValueError, match="'isa'"):
        core.fill_uniform(1, np.empty(3, np.float32), 0.0, 1.0, 1, "sse9")
