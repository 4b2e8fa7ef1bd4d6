"""The one thread-count helper."""
import subprocess
import sys

import pytest

import msparam as ms


def test_set_num_threads_returns_the_previous_value():
    previous = ms.set_num_threads(3)
    try:
        assert ms.get_num_threads() == 3
        assert ms.set_num_threads(1) == 3
    finally:
        ms.set_num_threads(previous)


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-2, ValueError), (1.0, TypeError), (True, TypeError),
                                        ("2", TypeError)])
def test_bad_thread_counts(bad, error):
    with pytest.raises(error, match="num_threads"):
        ms.set_num_threads(bad)


@pytest.mark.parametrize("env, expected", [("3", 3), ("2,1", 2)])
def test_omp_num_threads_sets_the_default(env, expected):
    code = "import msparam; print(msparam.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], env={"OMP_NUM_THREADS": env, "PATH": ""},
                         capture_output=True, text=True, check=True).stdout
    assert int(out) == expected
