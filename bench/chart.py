"""Draw a saved benchmark run: Conv2d GFLOP/s per shape and fill throughput per initializer.

Usage::

    python bench/chart.py bench/baselines/<machine>/0001_<name>.json -o bench/chart.png

Reads the ``throughput`` that every case stores in ``extra_info`` and puts msparam's bar next to
each peer present in the run. Needs matplotlib (``pip install ".[bench-peers]"``).
"""
import argparse
import json
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ORDER = ("msparam", "numpy", "torch", "mindspore")
COLORS = {"msparam": "#d62728", "numpy": "#1f77b4", "torch": "#ff7f0e", "mindspore": "#2ca02c"}


def throughputs(run, test):
    """``{case id without the implementation: {implementation: throughput}}`` for the cases of ``test``."""
    found = {}
    for bench in run["benchmarks"]:
        impl = (bench["params"] or {}).get("impl")
        if bench["name"].split("[")[0] != test or impl is None or "throughput" not in bench["extra_info"]:
            continue
        parts = bench["param"].split("-")
        parts.remove(impl)
        found.setdefault("-".join(parts), {})[impl] = bench["extra_info"]["throughput"]
    return found


def grouped_bars(axis, table, scale, ylabel, title, log=False):
    labels = list(table)
    present = [name for name in ORDER if any(name in row for row in table.values())]
    width = 0.8 / max(len(present), 1)
    for index, impl in enumerate(present):
        positions = [i + (index - (len(present) - 1) / 2) * width for i in range(len(labels))]
        values = [table[label].get(impl, 0.0) * scale for label in labels]
        axis.bar(positions, values, width, label=impl, color=COLORS[impl])
    axis.set_xticks(range(len(labels)))
    axis.set_xticklabels(labels, rotation=30, ha="right")
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    if log:
        axis.set_yscale("log")
    axis.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axis.grid(axis="y", alpha=0.3)


def draw(run, output):
    conv = throughputs(run, "test_conv2d_forward")
    fills = {size: {case.rsplit("-", 1)[0]: row for case, row in sorted(throughputs(run, "test_fill").items())
                    if case.endswith(f"-{size}")} for size in ("1M", "16M")}
    figure, axes = plt.subplots(3, 1, figsize=(11, 13))
    grouped_bars(axes[0], conv, 1.0, "GFLOP/s (direct-convolution count)",
                 "Conv2d forward, float32, pad 'same' (higher is better)")
    for axis, (size, table) in zip(axes[1:], fills.items()):
        grouped_bars(axis, table, 1e-9, "G elements/s (log)",
                     f"initializer fill, {size} float32 elements (higher is better)", log=True)
    machine = run["machine_info"]
    brand = machine.get("cpu", {}).get("brand_raw", machine.get("processor", ""))
    threads = machine.get("msparam_threads", "?")
    figure.suptitle(f"msparam benchmarks, {run['datetime'][:10]}: {brand}, {threads} threads")
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    figure.savefig(output, dpi=80)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=pathlib.Path, help="a JSON file saved by pytest-benchmark from bench/")
    parser.add_argument("-o", "--output", type=pathlib.Path, default=pathlib.Path("bench/chart.png"))
    args = parser.parse_args(argv)
    draw(json.loads(args.run.read_text()), args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
