"""The parallel checks under ``mpiexec -n 1..4`` (subprocesses; oversubscribing the cores is fine
for correctness).  mpi4py and MPICH's mpiexec come with the test extra (``msparam[mpi]``)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("mpi_worker.py")
# Found next to this interpreter first: pip's mpich wheel installs mpiexec into the venv.
MPIEXEC = shutil.which("mpiexec", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))


def run_ranks(ranks, *checks, worker=WORKER, timeout=300):
    """Run ``worker checks...`` on ``ranks`` processes; the output lines of every rank."""
    assert MPIEXEC, "mpiexec not found: install the test extra (it brings mpi4py and mpich)"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([MPIEXEC, "-n", str(ranks), sys.executable, str(worker), *checks], env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.split("\n")


@pytest.mark.parametrize("ranks", [1, 2, 3, 4])
def test_slices_and_bad_layouts_on_every_rank(ranks):
    lines = run_ranks(ranks, "slices", "bad_layouts")
    for check in ("slices", "bad_layouts"):
        counts = [int(line.split()[3]) for line in lines if line.startswith(f"ok {check} ")]
        assert len(counts) == ranks and min(counts) > 0, lines
