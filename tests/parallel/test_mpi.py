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
        counts = [list(map(int, line.split()[2:])) for line in lines if line.startswith(f"ok {check} ")]
        assert len(counts) == 1 and len(counts[0]) == ranks and min(counts[0]) > 0, lines


CKPT_WORKER = WORKER.with_name("mpi_ckpt_worker.py")


def run_ckpt(ranks, mode, directory):
    lines = [line for line in run_ranks(ranks, mode, str(directory), worker=CKPT_WORKER)
             if line.startswith(f"ok {mode} ")]
    assert len(lines) == 1
    counts = list(map(int, lines[0].split()[2:]))
    assert len(counts) == ranks
    return counts


def test_sharded_checkpoints_save_on_4_load_on_1_and_2_merge_and_survive_a_killed_rank(tmp_path):
    import numpy as np

    import msparam as ms
    sys.path.insert(0, str(WORKER.parent))
    try:
        import mpi_ckpt_worker
    finally:
        sys.path.pop(0)
    reference = mpi_ckpt_worker.single_process_net(5)
    ms.save_checkpoint(reference, str(tmp_path / "single.ckpt"))
    ms.save_checkpoint(reference, str(tmp_path / "single.safetensors"), format="safetensors")

    assert min(run_ckpt(4, "save", tmp_path)) == 5
    # integrated_save: rank 0 wrote the single-process file, byte for byte
    assert (tmp_path / "merged.ckpt").read_bytes() == (tmp_path / "single.ckpt").read_bytes()
    # per-rank files merge to the same file
    for source in ("net", "net_st"):
        ms.transform_checkpoints(str(tmp_path / source), str(tmp_path / f"out_{source}"), "net")
        assert (tmp_path / f"out_{source}" / "rank_0" / "net0.ckpt").read_bytes() == \
            (tmp_path / "single.ckpt").read_bytes()
    files = sorted(p.relative_to(tmp_path / "net") for p in (tmp_path / "net").rglob("*") if p.is_file())
    assert [str(f) for f in files] == ["manifest.json"] + [f"rank_{r}/net.ckpt" for r in range(4)]

    for ranks in (1, 2, 4):
        assert min(run_ckpt(ranks, "load", tmp_path)) == 20

    # a rank killed during a sharded save: the previous checkpoint is still whole
    env = dict(os.environ, OMP_NUM_THREADS="1")
    killed = subprocess.run([MPIEXEC, "-n", "4", sys.executable, str(CKPT_WORKER), "save_and_die", str(tmp_path)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert killed.returncode != 0
    assert min(run_ckpt(2, "load", tmp_path)) == 20

    # a missing shard: a clear error on every rank, nothing loaded
    target = os.path.realpath(tmp_path / "net")
    os.remove(os.path.join(target, "rank_3", "net.ckpt"))
    assert run_ckpt(2, "missing_shard", tmp_path) == [1, 1]
    with pytest.raises(ValueError, match="misses the shard"):
        ms.load_distributed_checkpoint(mpi_ckpt_worker.single_process_net(1),
                                       train_strategy_filename=str(tmp_path / "net"))
    assert np.array_equal(reference.first.weight.asnumpy(),
                          ms.load_checkpoint(str(tmp_path / "merged.ckpt"))["first.weight"].asnumpy())
