"""The benchmark harness (bench/conftest.py with pytest-benchmark): baselines, compare-and-fail, ratios.

Each test runs pytest in a subprocess on a two-case synthetic suite written to tmp_path next to
copies of bench/conftest.py and bench/peers.py. The suite is timed by a fake clock that the
benchmarked function advances by a fixed cost, so every run measures exactly the same times:
what is checked is the harness's behaviour, never the machine's speed.
"""
import json
import re
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[1] / "bench"

FAKE_CLOCK = '''
"""A clock that only moves when told to (and by a nanosecond per reading, so it is seen to tick)."""
now = 0.0


def clock():
    global now
    now += 1e-9
    return now


def spend(seconds):
    global now
    now += seconds
'''

SYNTHETIC_SUITE = '''
import pytest

import fakeclock

COST = {"msparam": 0.002, "numpy": 0.001}


@pytest.mark.parametrize("impl", ["msparam", "numpy"])
def test_work(benchmark, impl):
    benchmark(fakeclock.spend, COST[impl])
'''

COMPARE_FAIL = "--benchmark-compare-fail=median:25%"


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    """The synthetic suite, run once with ``--benchmark-save=first``: (folder, exit code, output)."""
    folder = tmp_path_factory.mktemp("synthetic_bench")
    for name in ("conftest.py", "peers.py"):
        shutil.copy(BENCH / name, folder / name)
    (folder / "fakeclock.py").write_text(FAKE_CLOCK)
    (folder / "test_synthetic.py").write_text(SYNTHETIC_SUITE)
    return (folder, *run(folder, "--benchmark-save=first"))


def run(folder, *options):
    """Run the synthetic suite as bench/README.md's commands run bench/; returns (exit code, output)."""
    command = [sys.executable, "-m", "pytest", "test_synthetic.py", "-p", "no:cacheprovider", "-p", "no:randomly",
               "--rootdir", str(folder), "--benchmark-timer=fakeclock.clock", "--benchmark-max-time=0.01", *options]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(folder)})
    return done.returncode, done.stdout + done.stderr


def saved_run(folder):
    (path,) = (folder / "baselines").glob("*/0001_first.json")
    return path, json.loads(path.read_text())


def test_saved_run_lands_in_baselines_with_machine_info_and_ratios(suite):
    folder, code, output = suite
    assert code == 0, output
    _, saved = saved_run(folder)
    assert saved["machine_info"]["implementations"]["numpy"]
    assert saved["machine_info"]["msparam_threads"] >= 1
    by_name = {bench["name"]: bench for bench in saved["benchmarks"]}
    assert by_name["test_work[msparam]"]["extra_info"]["time_ratio_to_numpy"] == pytest.approx(2.0)
    assert "time_ratio_to_numpy" not in by_name["test_work[numpy]"]["extra_info"]
    summary = output[output.index("msparam time / peer time"):]
    assert re.search(r"^test_work +2 ms +2.00$", summary, re.MULTILINE)


def test_compare_passes_on_a_rerun(suite):
    folder = suite[0]
    code, output = run(folder, "--benchmark-compare=0001", COMPARE_FAIL)
    assert code == 0, output
    assert "Comparing against benchmarks from" in output and "Performance has regressed" not in output


def test_compare_fails_on_an_injected_slowdown(suite):
    folder = suite[0]
    path, doctored = saved_run(folder)
    for bench in doctored["benchmarks"]:
        bench["stats"]["median"] /= 1.5  # as if the baseline was 1.5x faster: this run is 50% slower
    path.with_name("0002_doctored.json").write_text(json.dumps(doctored))
    code, output = run(folder, "--benchmark-compare=0002", COMPARE_FAIL)
    assert code != 0
    regressions = output[output.index("Performance has regressed"):]
    assert "test_work[msparam]" in regressions and "test_work[numpy]" in regressions
    assert "msparam time / peer time" in output  # the ratios print even when the comparison fails


def test_compare_refuses_a_baseline_run_on_another_thread_count(suite):
    folder = suite[0]
    path, other = saved_run(folder)
    other["machine_info"]["msparam_threads"] += 1
    path.with_name("0003_threads.json").write_text(json.dumps(other))
    code, output = run(folder, "--benchmark-compare=0003", COMPARE_FAIL)
    assert code != 0
    assert f"set OMP_NUM_THREADS={other['machine_info']['msparam_threads']}" in output
