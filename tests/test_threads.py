"""The one thread-count helper."""
import os
import subprocess
import sys

import numpy as np
import pytest
import threadpoolctl

import msparam as ms
from msparam._threads import max_num_threads


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


def run_python(code, **env):
    return subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120)


def test_the_thread_limit_is_a_few_per_cpu_or_openmps_limit():
    assert max_num_threads() == 4 * os.cpu_count()
    out = run_python("from msparam._threads import max_num_threads; print(max_num_threads())", OMP_THREAD_LIMIT="3")
    assert out.stdout.strip() == "3"


def test_absurd_thread_counts_are_refused_before_a_team_starts():
    # Without the limit, a 100,000-thread team crashed inside libgomp (SIGSEGV): run it apart.
    code = """
import numpy as np, msparam as ms
try:
    ms.set_num_threads(100000)
except ValueError as error:
    print("ValueError:", error)
ms.Parameter(np.ones(1 << 22, np.float32))
print(ms.get_num_threads())
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    refused, count = result.stdout.strip().splitlines()
    assert refused.startswith("ValueError: For 'set_num_threads', 'num_threads' must be at most")
    assert int(count) <= max_num_threads()
    with pytest.raises(ValueError, match=f"at most {max_num_threads()}"):
        ms.set_num_threads(max_num_threads() + 1)


def test_an_absurd_omp_num_threads_is_capped_with_a_warning():
    code = "import numpy as np, msparam as ms; ms.Parameter(np.ones(1 << 22, np.float32)); print(ms.get_num_threads())"
    result = run_python(code, OMP_NUM_THREADS="100000")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == max_num_threads()
    assert "RuntimeWarning: msparam: OMP_NUM_THREADS=100000 is more than" in result.stderr


def test_a_forked_child_refuses_more_threads_with_an_error():
    # GNU OpenMP hangs when a forked child starts a team after its parent did: refuse, do not hang.
    code = """
import os, numpy as np, msparam as ms
ms.set_num_threads(2)
ms.Parameter(np.ones(1 << 22, np.float32))  # the parent's team exists before the fork
pid = os.fork()
if pid == 0:
    try:
        ms.set_num_threads(2)
        ms.Parameter(np.ones(1 << 22, np.float32))
        os._exit(3)
    except RuntimeError as error:
        ok = "must be 1 in a process started by fork" in str(error) and ms.set_num_threads(1) == 1
        os._exit(0 if ok else 4)
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def kernel_and_blas_threads():
    info = threadpoolctl.threadpool_info()
    return ([entry["num_threads"] for entry in info if entry["internal_api"] == "msparam"],
            [entry["num_threads"] for entry in info if entry["user_api"] == "blas"])


@pytest.mark.parametrize("user_api", [None, "openmp"])
def test_threadpool_limits_caps_msparams_kernels(user_api):
    previous = ms.set_num_threads(2)
    try:
        assert kernel_and_blas_threads()[0] == [2]
        with threadpoolctl.threadpool_limits(limits=1, user_api=user_api):
            assert ms.get_num_threads() == 1
            ms.Parameter(np.ones(1 << 20, np.float32))
        assert ms.get_num_threads() == 2
        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
            assert ms.get_num_threads() == 2
        with threadpoolctl.threadpool_limits(limits=10**6):  # a limit, not a request: clamped
            assert ms.get_num_threads() == max_num_threads()
    finally:
        ms.set_num_threads(previous)


def test_set_num_threads_also_sets_the_blas_under_dense():
    blas = kernel_and_blas_threads()[1]
    assert blas, "NumPy's BLAS is visible to threadpoolctl"
    with threadpoolctl.threadpool_limits(limits=None):  # restores the BLAS count afterwards
        previous = ms.set_num_threads(1)
        try:
            assert kernel_and_blas_threads() == ([1], [1] * len(blas))
            ms.set_num_threads(2)
            assert kernel_and_blas_threads() == ([2], [2] * len(blas))
        finally:
            ms.set_num_threads(previous)
