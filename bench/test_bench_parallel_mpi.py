"""Sharded init and sharded save/load under ``mpiexec -n 2`` against the same script run as one
process (issue 17 §7).  bench/mpi_bench_worker.py times each phase inside the ranks (the slowest
rank counts; interpreter start-up and MPI wiring are not timed).  Each case records both medians
over ROUNDS launches and ``ratio = two ranks / one process`` in extra_info; the case's own timing
(a whole ``mpiexec -n 2`` launch, what a regression compare reads) is the median of ROUNDS
launches, not of one.
Run: ``python -m pytest bench/test_bench_parallel_mpi.py``.
"""
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

WORKER = Path(__file__).with_name("mpi_bench_worker.py")
MPIEXEC = shutil.which("mpiexec", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
ROUNDS = 3
PHASES = ("init", "save", "load")


def phase_seconds(command, directory):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([*command, sys.executable, str(WORKER), str(directory)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    line, = [line for line in done.stdout.split("\n") if line.startswith("times ")]
    return dict(zip(PHASES, map(float, line.split()[1:])))


def test_two_ranks_against_one_process(benchmark, tmp_path):
    assert MPIEXEC, "mpiexec not found: install the test extra (it brings mpi4py and mpich)"
    benchmark.pedantic(lambda: phase_seconds([MPIEXEC, "-n", "2"], tmp_path / "two"), rounds=ROUNDS, iterations=1)
    if not benchmark.enabled:  # quick mode: the case only has to work
        return
    runs = [(phase_seconds([MPIEXEC, "-n", "2"], tmp_path / "two"), phase_seconds([], tmp_path / "one"))
            for _ in range(ROUNDS)]
    for phase in PHASES:
        two_s = statistics.median(t[phase] for t, _ in runs)
        one_s = statistics.median(o[phase] for _, o in runs)
        benchmark.extra_info.update({f"{phase}_two_ms": two_s * 1e3, f"{phase}_one_ms": one_s * 1e3,
                                     f"{phase}_ratio": two_s / one_s})
        print(f"\n{phase}: two ranks {two_s * 1e3:.1f} ms, one process {one_s * 1e3:.1f} ms, ratio {two_s / one_s:.2f}")
