"""The compiled random core against an independent NumPy/libm reference, across ISAs, sizes and
thread counts, and the exactness of its fast normal path."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import msparam as ms
from msparam._core import _philox_fill as core
from msparam.common.seed import next_stream_seed
import philox_reference
from philox_reference import normal, normal_from_bits, truncated_normal, uniform

EPS = np.finfo(np.float64).eps
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


@pytest.mark.parametrize("kind, params", [("uniform", (0.0, 1.0)), ("normal", (0.5, 0.2)),
                                           ("truncated_normal", (0.0, 1.0, -1.0, 2.0))])
def test_start_skips_ahead_in_the_stream(kind, params):
    whole = fill(kind, 8, 3 * CHUNK + 9, params, 2)
    for start, n in [(0, 5), (4, 1), (1000, 4099), (CHUNK - 4, 9), (2 * CHUNK + 12, CHUNK - 3)]:
        out = np.empty(n, np.float32)
        getattr(core, f"fill_{kind}")(8, out, *params, 2, start=start)
        assert same_bits(out, whole[start:start + n]), (start, n)
    with pytest.raises(ValueError, match="'start'"):
        getattr(core, f"fill_{kind}")(8, out, *params, 1, start=6)


LOW23 = np.uint32(0x7FFFFF)


@pytest.mark.parametrize("mean, sigma", [(0.0, 1.0), (0.5, 2.0)])
@pytest.mark.parametrize("isa", ISAS)
def test_both_box_muller_uniforms_are_clamped_in_every_lane(isa, mean, sigma):
    # MindSpore clamps u1 AND u2 below at 1e-7f.  Crafted stream numbers put a pair whose u1
    # (k % 3 == 0), u2 (k % 3 == 1) or both (k % 3 == 2) have all low 23 bits zero into every
    # lane of the vector loop and into the scalar tail (n odd: the last pair gives its cosine only).
    n = 16 * 12 + 7
    words = np.random.default_rng(12).integers(0, 2**32, (n + 3) // 4 * 4, dtype=np.uint32)
    pair = np.arange(words.size // 2)
    words[0::2][pair % 3 != 1] &= ~LOW23
    words[1::2][pair % 3 != 0] &= ~LOW23
    out = np.full(n, np.nan, np.float32)
    core.values_from_bits("normal", words, out, (mean, sigma), isa)
    assert same_bits(out, normal_from_bits(words, n, mean, sigma))
    # A clamped u2 gives theta = 2 pi 1e-7f, so its sine element is not mean + r sin(0) = mean.
    sines = out[1::2]
    clamped_u2 = (pair[:sines.size] % 3 != 0)
    assert clamped_u2.sum() >= 16 * 12 // 3 and np.all(sines[clamped_u2] != np.float32(mean))


# Where MindSpore 2.10 itself showed the u2 clamp: ms.set_seed(1487730662), then
# initializer(Normal(1.0), (29202,)) has 6.869749e-07 (r sin(2 pi 1e-7f)) at index 29201.
MINDSPORE_U2_CLAMP = {"seed": 1487730662, "index": 29201, "value": np.float32(6.869749e-07)}
# In a fresh interpreter (the MSPARAM_CPU_ISA cap is read at import): that element through the public
# initializer, then through core fills whose start puts its pair into every even lane of the
# vector loop (starts are whole blocks, two pairs) and into the scalar tail; one hex word each.
U2_CLAMP_PROBE = """
import sys
import numpy as np
import msparam as ms
from msparam._core import _philox_fill
from msparam.common.initializer import Normal, initializer
from msparam.common.seed import next_stream_seed
seed, index = int(sys.argv[1]), int(sys.argv[2])
ms.set_seed(seed)
values = [initializer(Normal(1.0), (index + 1,)).init_data().asnumpy()[index]]
ms.set_seed(seed)
stream = next_stream_seed()
pair_start = index - index % 2
for before in range(0, 64, 4):
    for after in (2, 34):
        out = np.empty(before + after, np.float32)
        _philox_fill.fill_normal(stream, out, 0.0, 1.0, 1, start=pair_start - before)
        values.append(out[before + index % 2])
print(_philox_fill.available_isas()[-1], " ".join(f"{v.view(np.uint32):08x}" for v in values))
"""


@pytest.mark.parametrize("isa", ISAS)
def test_mindspore_u2_clamp_case_on_every_isa_path(isa):
    env = dict(os.environ, MSPARAM_CPU_ISA=isa)
    done = subprocess.run([sys.executable, "-c", U2_CLAMP_PROBE, str(MINDSPORE_U2_CLAMP["seed"]),
                           str(MINDSPORE_U2_CLAMP["index"])], env=env, capture_output=True, text=True,
                          check=True)
    ran, *words = done.stdout.split()
    assert ran == isa and len(words) == 1 + 16 * 2
    assert set(words) == {f"{MINDSPORE_U2_CLAMP['value'].view(np.uint32):08x}"}


def stream(seed, n):
    """The first n (a multiple of 4) uint32 numbers of stream ``seed``."""
    words = np.empty(n, np.uint32)
    core.stream_numbers(seed, words)
    return words


# (stream seed, mean, sigma): seeds whose first 2^22 numbers hold pairs with a clamped u1 and
# with a clamped u2 (found with stream_numbers; the test checks it).
NORMAL_STREAMS = [(1008, 0.0, 1.0), (1027, 0.5, 0.2), (1066, -1e3, 3e-3)]


@pytest.mark.parametrize("isa", FAST_ISAS)
def test_fast_normal_equals_libm_path_on_ten_million_values(isa):
    n = 1 << 22
    compared = clamped_u1 = clamped_u2 = 0
    for seed, mean, sigma in NORMAL_STREAMS:
        fast = fill("normal", seed, n, (mean, sigma), 2, isa)
        assert same_bits(fast, fill("normal", seed, n, (mean, sigma), 2, "base"))
        compared += fast.size
        zero_low_bits = (stream(seed, n) & LOW23) == 0
        clamped_u1 += int(zero_low_bits[0::2].sum())
        clamped_u2 += int(zero_low_bits[1::2].sum())
    # Ten million values, among them pairs with each Box-Muller clamp.
    assert compared >= 10**7 and clamped_u1 >= 3 and clamped_u2 >= 3


@pytest.mark.parametrize("isa", FAST_ISAS)
def test_fast_normal_parts_are_within_the_assumed_error_over_every_input(isa):
    # Premise of the exactness argument in random_simd.h: over all 2^23 values of u1 and of u2,
    # radius and cos/sin differ from the C library path by at most NORMAL_PART_ERROR, which with
    # the roundings of r * c and mean + r * c (2^-50) stays well under the kernel's tolerance.
    radius_rel, trig_abs = core.normal_part_errors(isa)
    assert 0 < radius_rel <= core.NORMAL_PART_ERROR and 0 < trig_abs <= core.NORMAL_PART_ERROR
    assert radius_rel + trig_abs + 2.0**-50 <= core.NORMAL_TOLERANCE / 16


@pytest.mark.parametrize("isa", ISAS)
def test_unsure_values_fall_back_to_the_exact_path(isa):
    # NaN parameters make every fast result "unsure": all pairs take the scalar path.
    n = 1000
    out = fill("normal", 5, n, (0.0, np.nan), 1, isa)
    assert np.isnan(out).all() and same_bits(out, fill("normal", 5, n, (0.0, np.nan), 1, "base"))
    huge = fill("normal", 5, n, (0.0, 3e38), 1, isa)
    assert np.isinf(huge).any() and same_bits(huge, normal(5, n, 0.0, 3e38))


@pytest.mark.parametrize("isa", ISAS)
def test_truncated_normal_matches_reference(isa):
    for seed in SEEDS:
        for params in [(0.0, 1.0, -2.0, 2.0), (0.5, 0.2, 0.1, 3.0), (0.0, 1e-3, -1.0, 1.0),
                       (0.0, 1.0, 5.0, 9.0), (0.0, 1.0, -30.0, -20.0)]:
            for n in (1, 7, 4099):
                out = fill("truncated_normal", seed, n, params, 1, isa)
                assert same_bits(out, truncated_normal(seed, n, *params)), (seed, params, n)
    n = 3 * CHUNK + 5
    one = fill("truncated_normal", 11, n, (0.0, 1.0, -2.0, 2.0), 1, isa)
    assert same_bits(fill("truncated_normal", 11, n, (0.0, 1.0, -2.0, 2.0), 3, isa), one)


# The fast truncated normal map (random_simd.h) against the exact scalar path.  Parameters (mean,
# sigma, a, b): MindSpore's default, wide bounds reaching the clamps of erfc_inv's argument, a
# one-sided bound, and bounds putting every sample in the x >= 3, 6 and 18 tail intervals.
TRUNCATED_NORMAL_CASES = [(0.0, 0.01, -2.0, 2.0), (0.0, 1.0, -40.0, 40.0), (0.5, 0.2, 0.1, 3.0),
                          (0.0, 1.0, 5.0, 9.0), (1.0, 2.0, -13.0, -9.0), (0.0, 1.0, -30.0, -20.0),
                          (0.0, 1.0, -37.0, -26.0)]


def erf_inv_intervals(words, mean, sigma, a, b):
    """How many of the stream numbers ``words`` land in each of erf_inv's intervals (centre,
    shoulder, tails from 1, 3, 6, 18), classified as truncated_normal.h does (NumPy's log: it
    may differ from the C library's in the last bit, which cannot move a count much)."""
    mean, sigma, a, b = (float(np.float32(v)) for v in (mean, sigma, a, b))
    lower = philox_reference._std_normal_cdf((a - mean) / sigma)
    span = philox_reference._std_normal_cdf((b - mean) / sigma) - lower
    z = 2.0 * (lower + words.astype(np.float64) / 2.0**32 * span)
    z = np.where(z <= 0.0, philox_reference._Z_MIN, np.where(z >= 2.0, philox_reference._Z_MAX, z))
    q = np.where(z > 1.0, 2.0 - z, z)
    centre = 1.0 - q <= 0.5
    shoulder = ~centre & (q >= 0.25)
    root = np.sqrt(-np.log(q[~centre & ~shoulder]))
    tails = np.bincount(np.searchsorted([3.0, 6.0, 18.0], root, side="right"), minlength=4)
    return [int(centre.sum()), int(shoulder.sum()), *tails.tolist()]


@pytest.mark.parametrize("isa", FAST_ISAS)
def test_fast_truncated_normal_equals_scalar_path_on_ten_million_values(isa):
    n = 1 << 21
    compared, intervals = 0, np.zeros(6, np.int64)
    for i, params in enumerate(TRUNCATED_NORMAL_CASES):
        exact = fill("truncated_normal", 2000 + i, n, params, 2, "base")
        fast = fill("truncated_normal", 2000 + i, n, params, 1 + i % 3, isa)
        assert same_bits(fast, exact), params
        compared += fast.size
        intervals += erf_inv_intervals(stream(2000 + i, n), *params)
    # Ten million values, reaching every interval of boost's erf_inv (thousands in each).
    assert compared >= 10**7 and intervals.min() >= 1000, intervals


@pytest.mark.parametrize("isa", FAST_ISAS)
def test_fast_erf_inv_is_within_the_assumed_error(isa):
    # Premise of the truncated normal map's exactness argument (random_simd.h): away from the
    # lanes it flags, the vector erf^-1 (fast log) is within TRUNCNORM_ERF_INV_ERROR of the
    # scalar one (C library log), relative.  q log-uniform over every interval's range, and q
    # where the tails switch interval (x = sqrt(-log q) = 3, 6, 18), which must be flagged.
    rng = np.random.default_rng(4)
    spread = np.exp(rng.uniform(math.log(2.0**-1022), math.log(0.5), 1 << 18))
    worst, flagged = core.truncated_normal_erf_inv_error(isa, spread)
    assert 0 < worst <= core.TRUNCNORM_ERF_INV_ERROR and flagged == 0
    steps = np.arange(-64, 64) * 2.0**-52
    switches = np.concatenate([np.exp(-x * x) * (1 + steps) for x in (3.0, 6.0, 18.0)])
    worst, flagged = core.truncated_normal_erf_inv_error(isa, switches)
    assert worst <= core.TRUNCNORM_ERF_INV_ERROR and flagged >= 3
    # Subnormal or NaN q: outside the fast log's domain, so every lane is flagged.
    for q in (1e-310, np.nan):
        assert core.truncated_normal_erf_inv_error(isa, np.full(32, q))[1] == 32


def test_truncated_normal_error_budget():
    # The constants of the tail bound in random_simd.h, from boost's tables on a fine grid of
    # x = sqrt(-log q), q < 0.25: the relative condition of x (y + r(x - shift)) in x, the
    # rounding noise factor of P, x sum|p_i| t^i / (Q(t) |value|), and |r| / |y + r|.
    condition = noise = ratio = 0.0
    ends = [math.sqrt(math.log(4.0)), 3.0, 6.0, 18.0, math.sqrt(-math.log(5e-324))]
    for (_, y, p, q, shift), lo, hi in zip(philox_reference._TAILS, ends, ends[1:]):
        x = np.linspace(lo, hi, 100001)
        t = x - shift
        assert (t >= 0).all() and min(q) > 0
        r = philox_reference._horner(p, t) / philox_reference._horner(q, t)
        value = x * (y + r)
        condition = max(condition, np.max(np.abs(x * np.gradient(value, x) / value)))
        noise = max(noise, np.max(x * philox_reference._horner(np.abs(p), t)
                                  / philox_reference._horner(q, t) / np.abs(value)))
        ratio = max(ratio, np.max(np.abs(r / (y + r))))
    assert condition <= 1.47 and noise <= 0.17 and ratio <= 0.17
    d, h = 2.0**-52 + 2.0**-52, 22 * 2.0**-53
    assert condition * d + 2 * h * (noise + ratio) + 4 * 2.0**-53 < core.TRUNCNORM_ERF_INV_ERROR
    # The roundings after erf^-1 at most double that: 2^-7 of the kernel's tolerance.
    assert 2 * core.TRUNCNORM_ERF_INV_ERROR <= core.TRUNCNORM_TOLERANCE / 128


@pytest.mark.parametrize("isa", ISAS)
def test_truncated_normal_unsure_values_fall_back_to_the_exact_path(isa):
    n = 1000
    # NaN parameters: every fast result is unsure (the NaNs' sign bits are the C path's).  A NaN
    # bound leaves mean and sigma finite: only the NaN q can tell.
    for params in [(np.nan, 1.0, -2.0, 2.0), (0.0, 1.0, np.nan, 2.0), (0.0, 1.0, -2.0, np.nan)]:
        nan = fill("truncated_normal", 6, n, params, 1, isa)
        assert np.isnan(nan).all()
        assert same_bits(nan, fill("truncated_normal", 6, n, params, 1, "base"))
    # Bounds near -38 sigma make q subnormal, which the fast log does not handle.
    deep = fill("truncated_normal", 6, n, (0.0, 1.0, -38.5, -37.9), 1, isa)
    assert np.all((deep >= -38.5) & (deep <= -37.9))
    assert same_bits(deep, truncated_normal(6, n, 0.0, 1.0, -38.5, -37.9))


def test_unknown_isa():
    with pytest.raises(ValueError, match="'isa'"):
        core.fill_uniform(1, np.empty(3, np.float32), 0.0, 1.0, 1, "sse9")


# The reference's erfc_inv (boost's approximations) against erfc itself.
def test_erfc_inv_is_accurate_on_every_interval():
    # Down to 1e-300 reaches every tail interval MindSpore can use (sqrt(-log q) up to 26.3).
    z = np.concatenate([np.logspace(-300, 0, 4001), 2.0 - np.logspace(-15, 0, 1001)])
    x = philox_reference._erfc_inv(z)
    # One Newton step on erfc(x) = z estimates the error of x.
    error = [(math.erfc(xi) - zi) / (2.0 / math.sqrt(math.pi) * math.exp(-xi * xi))
             for xi, zi in zip(x.tolist(), z.tolist())]
    assert np.all(np.abs(error) <= 8 * EPS * np.abs(x))
    assert abs(x).max() > 18.0  # the last interval was exercised


def test_erfc_inv_clamps_z_into_float32_open_interval():
    # MindSpore clamps z to the float32 neighbours of 0 and 2, so the ends stay finite.
    z = np.array([-1.0, 0.0, 2.0, 3.0])
    ends = philox_reference._erfc_inv(z)
    inner = philox_reference._erfc_inv(np.array([philox_reference._Z_MIN, philox_reference._Z_MAX]))
    assert np.all(np.isfinite(ends))
    assert ends.tolist() == [inner[0], inner[0], inner[1], inner[1]]
