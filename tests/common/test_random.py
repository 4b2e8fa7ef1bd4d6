"""The fills behind the initializers: parts the golden arrays are too small to reach."""
import math

import numpy as np

from msparam.common import _philox_numpy, _random

EPS = np.finfo(np.float64).eps


def test_erfc_inv_is_accurate_on_every_interval():
    # Down to 1e-300 reaches every tail interval MindSpore can use (sqrt(-log q) up to 26.3).
    z = np.concatenate([np.logspace(-300, 0, 4001), 2.0 - np.logspace(-15, 0, 1001)])
    x = _philox_numpy._erfc_inv(z)
    # One Newton step on erfc(x) = z estimates the error of x.
    error = [(math.erfc(xi) - zi) / (2.0 / math.sqrt(math.pi) * math.exp(-xi * xi))
             for xi, zi in zip(x.tolist(), z.tolist())]
    assert np.all(np.abs(error) <= 8 * EPS * np.abs(x))
    assert abs(x).max() > 18.0  # the last interval was exercised


def test_erfc_inv_clamps_z_into_float32_open_interval():
    # MindSpore clamps z to the float32 neighbours of 0 and 2, so the ends stay finite.
    z = np.array([-1.0, 0.0, 2.0, 3.0])
    ends = _philox_numpy._erfc_inv(z)
    inner = _philox_numpy._erfc_inv(np.array([_philox_numpy._Z_MIN, _philox_numpy._Z_MAX]))
    assert np.all(np.isfinite(ends))
    assert ends.tolist() == [inner[0], inner[0], inner[1], inner[1]]


def test_truncated_normal_rounds_parameters_to_float32_first():
    exact = np.empty(1000, np.float32)
    rounded = np.empty(1000, np.float32)
    _random.fill_truncated_normal(5, exact, 0.1, 0.3, -0.2, 0.7)
    _random.fill_truncated_normal(5, rounded, *(float(np.float32(v)) for v in (0.1, 0.3, -0.2, 0.7)))
    assert exact.tobytes() == rounded.tobytes()
    assert exact.min() >= np.float32(-0.2) and exact.max() <= np.float32(0.7)


def test_truncated_normal_element_i_uses_stream_number_i():
    # Each element depends on its own uint32 only, so a prefix fill is a prefix of a longer one.
    short, long = np.empty(7, np.float32), np.empty(4099, np.float32)
    _random.fill_truncated_normal(9, short, 0.0, 1.0, -1.0, 2.0)
    _random.fill_truncated_normal(9, long, 0.0, 1.0, -1.0, 2.0)
    assert short.tobytes() == long[:7].tobytes()
