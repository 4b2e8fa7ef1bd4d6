"""The msparam benchmark suite (pytest-benchmark): every case on msparam and each peer present.

- A case with an ``impl`` parameter runs once per implementation (``peers.implementations``),
  so msparam and its peers are timed in the same session on the same machine state. At the end
  the terminal shows, per case, msparam's median time divided by each peer's.
- Unless given on the command line, ``--benchmark-min-rounds`` is 3 and ``--benchmark-max-time``
  0.5 s (pytest-benchmark's defaults: 5 and 1.0): the suite's slowest cases (a 1.6x10^7-element
  Orthogonal fill) take seconds per call, and three rounds of them keep a run to minutes.
- Saved runs (``--benchmark-save=NAME``) go to bench/baselines/ unless ``--benchmark-storage`` is
  given; their machine info adds the versions of the implementations and the thread count, and
  each msparam case's extra_info gains ``time_ratio_to_<peer>`` (msparam time / peer time).
- The implementations of one case run back to back, so a change in the machine's load between
  them is unlikely; MindSpore's cases run last of all, because its runtime keeps its threads
  busy for up to a second after its calls, which slowed whatever ran next on 2 cores (an msparam
  Conv2d from 0.04 to 0.9 ms).
- ``--impl=msparam`` (a comma-separated list) runs only those implementations' cases, e.g. to
  compare msparam alone against a baseline without waiting for (or failing on) the peers.
- ``--benchmark-disable`` (quick mode, as CI runs it) runs each case once as a plain test.
"""
import importlib.metadata
import os
import pathlib
import statistics

import pytest

import peers
from msparam import get_num_threads

BASELINES = pathlib.Path(__file__).resolve().parent / "baselines"
PYTEST_BENCHMARK_DEFAULT_STORAGE = "file://./.benchmarks"
SUITE_DEFAULTS = {"benchmark_min_rounds": ("--benchmark-min-rounds", 3),
                  "benchmark_max_time": ("--benchmark-max-time", "0.5")}


def pytest_addoption(parser):
    parser.addoption("--impl", default=",".join(peers.ALL), metavar="NAMES",
                     help="comma-separated implementations whose cases run (default: all installed): "
                          + ", ".join(peers.ALL))


def pytest_configure(config):
    unknown = set(config.getoption("impl").split(",")) - set(peers.ALL)
    if unknown:
        raise pytest.UsageError(f"--impl: unknown implementations {sorted(unknown)}; known: {', '.join(peers.ALL)}")
    # Runs before pytest-benchmark's own (trylast) pytest_configure reads these options.
    if config.getoption("benchmark_storage", None) == PYTEST_BENCHMARK_DEFAULT_STORAGE:
        config.option.benchmark_storage = f"file://{BASELINES}"
    given = [str(arg).split("=")[0] for arg in config.invocation_params.args]
    for option, (flag, value) in SUITE_DEFAULTS.items():
        if flag not in given:
            setattr(config.option, option, value)


def item_impl(item):
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("impl", "msparam") if callspec else "msparam"


def pytest_collection_modifyitems(config, items):
    wanted = set(config.getoption("impl").split(","))
    dropped = [item for item in items if item_impl(item) not in wanted]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = sorted((item for item in items if item_impl(item) in wanted),
                      key=lambda item: item_impl(item) == "mindspore")


def pytest_report_header(config):
    missing = [name for name in peers.ALL if name not in peers.PRESENT]
    return f"msparam bench: implementations {', '.join(peers.PRESENT)}" + (
        f" (not installed: {', '.join(missing)})" if missing else "")


def split_impl(bench):
    """``(case label without the implementation, implementation)``, or None for a case without ``impl``."""
    params = bench["params"] or {}
    if "impl" not in params:
        return None
    impl = params["impl"]
    parts = bench["param"].split("-")
    parts.remove(impl)
    base = bench["name"].split("[")[0]
    return (f"{base}[{'-'.join(parts)}]" if parts else base), impl


def median_times(benchmarks):
    """``{case label: {implementation: median seconds}}`` over the timed cases that have ``impl``."""
    table = {}
    for bench in benchmarks:
        split = split_impl(bench)
        if split is not None and bench["stats"]:
            label, impl = split
            table.setdefault(label, {})[impl] = bench["stats"]["median"]
    return table


def as_plain(bench):
    """The fields of a pytest-benchmark Metadata (live run) that the reports use, as in its JSON."""
    return {"name": bench.name, "param": bench.param, "params": bench.params, "extra_info": bench.extra_info,
            "stats": {"median": bench.stats.median} if bench.stats else None}


def format_seconds(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def format_ratio(ratio):
    return f"{ratio:.2f}" if ratio >= 0.01 else f"{ratio:.1e}"


def ratio_lines(benchmarks):
    """Lines of the summary: per case msparam's median and msparam time / peer time for each peer."""
    table = median_times(benchmarks)
    columns = [name for name in peers.ALL[1:] if any(name in row for row in table.values())]
    width = max([len(label) for label in table] + [4])
    lines = [f"{'case':<{width}}  {'msparam':>10}" + "".join(f"  {name:>9}" for name in columns)]
    ratios = {name: [] for name in columns}
    for label in sorted(table):
        row = table[label]
        if "msparam" not in row:
            continue
        cells = []
        for name in columns:
            if name in row:
                ratio = row["msparam"] / row[name]
                ratios[name].append(ratio)
                cells.append(f"  {format_ratio(ratio):>9}")
            else:
                cells.append(f"  {'-':>9}")
        lines.append(f"{label:<{width}}  {format_seconds(row['msparam']):>10}" + "".join(cells))
    if any(ratios.values()):
        lines.append(f"{'geometric mean':<{width}}  {'':>10}" + "".join(
            f"  {format_ratio(statistics.geometric_mean(ratios[name])):>9}" if ratios[name] else f"  {'-':>9}"
            for name in columns))
    return lines


def yardstick_lines(benchmarks):
    """Cases that also time a yardstick themselves report ``ratio_*`` (yardstick time / msparam time)."""
    lines = []
    for bench in benchmarks:
        found = {key: value for key, value in bench["extra_info"].items() if key.startswith("ratio_")}
        if found:
            lines.append(f"{bench['name']}: " + ", ".join(f"{key} {value:.2f}" for key, value in found.items()))
    return lines


@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(terminalreporter, config):
    # A wrapper, so the ratios print after pytest-benchmark's tables even when its compare-fail raises.
    try:
        return (yield)
    finally:
        session = getattr(config, "_benchmarksession", None)
        benchmarks = [as_plain(bench) for bench in session.benchmarks if bench] if session else []
        if benchmarks:
            loads = [bench["extra_info"]["load_average"] for bench in benchmarks
                     if "load_average" in bench["extra_info"]]
            lines = ratio_lines(benchmarks)
            if len(lines) > 1:
                with_peers = any(len(row) > 1 for row in median_times(benchmarks).values())
                terminalreporter.section("msparam time / peer time, medians (< 1: msparam faster)" if with_peers
                                         else "msparam medians (no peer ran)", sep="-")
                for line in lines:
                    terminalreporter.write_line(line)
                if loads:
                    terminalreporter.write_line(
                        f"1-minute load average during the cases: {min(loads):.1f} to {max(loads):.1f} on "
                        f"{os.cpu_count()} cores (this run's own threads count too; more means other work "
                        f"shared the cores and the times are noisier)")
            lines = yardstick_lines(benchmarks)
            if lines:
                terminalreporter.section("yardstick time / msparam time, timed by the case (> 1: msparam faster)",
                                         sep="-")
                for line in lines:
                    terminalreporter.write_line(line)


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["msparam_threads"] = get_num_threads()
    # No load average here (each case records its own in extra_info): a value that differs on
    # every run made pytest-benchmark warn "machine_info is different" on every compare, and
    # building that warning fails (INTERNALERROR) with storage outside the working directory.
    machine_info["implementations"] = {name: importlib.metadata.version(name) for name in peers.PRESENT}


def pytest_benchmark_compare_machine_info(config, benchmarksession, machine_info, compared_benchmark):
    saved = compared_benchmark["machine_info"].get("msparam_threads")
    if saved is not None and saved != machine_info["msparam_threads"]:
        raise pytest.UsageError(f"the baseline ran msparam on {saved} threads, this run on "
                                f"{machine_info['msparam_threads']}: set OMP_NUM_THREADS={saved} to compare")


def pytest_benchmark_update_json(config, benchmarks, output_json):
    table = median_times(output_json["benchmarks"])
    for bench in output_json["benchmarks"]:
        split = split_impl(bench)
        if split is not None and split[1] == "msparam":
            row = table.get(split[0], {})
            for name, seconds in row.items():
                if name != "msparam":
                    bench["extra_info"][f"time_ratio_to_{name}"] = row["msparam"] / seconds
