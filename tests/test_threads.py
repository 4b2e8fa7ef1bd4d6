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


FORKED_WORKERS = """
import multiprocessing as mp, os, tempfile
import numpy as np
import msparam as ms
from msparam import nn
from msparam.common.initializer import initializer

def threaded_paths():
    big = np.arange(1 << 20, dtype=np.float32)  # 4 MiB: above every parallel threshold
    ms.Tensor(big)
    initializer("zeros", (1024, 1024), ms.float32).init_data()
    nn.Dense(1024, 1024)
    nn.Conv2d(16, 32, 3)(ms.Tensor(np.ones((2, 16, 64, 64), np.float32)))
    ms.Parameter(big).set_data(ms.Tensor(big + 1))
    path = os.path.join(tempfile.mkdtemp(), "w.ckpt")
    ms.save_checkpoint([{"name": "w", "data": ms.Tensor(np.ones(3 << 20, np.float32))}], path)
    return ms.get_num_threads(), float(ms.load_checkpoint(path)["w"].asnumpy().sum())

if __name__ == "__main__":
    ms.set_num_threads(2)
    threaded_paths()  # the parent's OpenMP team exists before the fork
    with mp.get_context("fork").Pool(2) as pool:
        print(pool.apply_async(threaded_paths).get(timeout=30))
"""


def test_forked_workers_run_single_threaded_instead_of_hanging(tmp_path):
    # GNU OpenMP hangs when a child forked after the parent's team starts its own: msparam's
    # kernels run on one thread in forked workers (multiprocessing's default on Linux).
    script = tmp_path / "fork_workers.py"
    script.write_text(FORKED_WORKERS)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.strip() == f"(1, {float(3 << 20)})"
