"""Differential testing of msparam against MindSpore 2.10: run seeded random programs under both and
compare, step by step, Parameters and initializer values bit for bit, layer outputs within the
Conv2d tests' tolerance, printed text, exception classes and parameter names.

Command line (thousands of programs; MindSpore in its own interpreter)::

    python tests/differential/differential.py --mindspore-python /tmp/ms/bin/python --count 5000

Every divergence is either a bug or one of the deliberate differences in README.md ("Deliberate
differences from MindSpore"); the latter are listed in DOCUMENTED below, each with its README row.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from diff_programs import generate  # noqa: E402

RUNNER = HERE / "diff_runner.py"
# The tolerance of the Conv2d tests (tests/_core/test_conv.py): summation order differs by design.
RTOL = ATOL = 1e-4
# MindSpore raises these for some bad input where msparam gives the precise TypeError/ValueError.
IMPRECISE = {"RuntimeError", "SystemError"}


def _normalise(value):
    """MindSpore's side in msparam's spelling: module names, and unnamed Parameters' 'Parameter#N'."""
    if isinstance(value, str):
        return re.sub(r"Parameter#\d+", "Parameter", value.replace("mindspore", "msparam"))
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items() if key != "msg"}
    return value


def _strip_messages(value):
    if isinstance(value, list):
        return [_strip_messages(item) for item in value]
    if isinstance(value, dict):
        return {key: _strip_messages(item) for key, item in value.items() if key != "msg"}
    return value


def _close(a, b):
    """Tensors alike within the tolerance: same dtype and shape, values within RTOL/ATOL (NaN == NaN)."""
    if isinstance(a, dict) and isinstance(b, dict) and "T" in a and "T" in b:
        if (a["T"], a["shape"]) != (b["T"], b["shape"]) or ("values" in a) != ("values" in b):
            return False
        if "values" not in a:
            return a["sha"] == b["sha"]
        return all(x == y or (math.isnan(x) and math.isnan(y)) or abs(x - y) <= ATOL + RTOL * abs(y)
                   for x, y in zip(a["values"], b["values"]))
    return a == b


# Deliberate differences (README "Deliberate differences from MindSpore"): (README row, predicate on
# (tag, source, MindSpore's result, msparam's result)). A divergence one of them covers is documented.
def _error(result, *names):
    return "E" in result and bool(set(names) & {result["E"], *result.get("bases", ())})


def _value(result):
    return "v" in result


def _set_data_rules(tag, source, ms, mp):
    """MindSpore 2.10's set_data casts any dtype its Cast kernel has (bool into int8 it has not) and takes any
    shape (a scalar makes the Parameter 0-d); msparam keeps r1.9's rules."""
    return (source.startswith("p.set_data(") or ".set_data(" in source and "slice_shape=1" in source) and (
        _value(ms) and _error(mp, "TypeError", "ValueError") or _error(ms, "TypeError") and _value(mp))


def _mixed_dtype_forward(tag, source, ms, mp):
    """Dense and Conv2d compute in the input's float dtype; MindSpore refuses a float64 input to float32 weights."""
    return tag == "forward" and "float64" in source and _error(ms, "TypeError")


def _string_parameter(tag, source, ms, mp):
    """A Parameter holds numbers: msparam refuses String data."""
    return tag == "param" and "np.array(['a', 'bc'])" in source and _error(mp, "TypeError")


def _nan_where_msparam_is_finite(ms, mp):
    """Alike within the tolerance except where MindSpore has NaN and msparam a finite value (Mish above ~44)."""
    a, b = ms.get("v"), mp.get("v")
    if not (isinstance(a, dict) and isinstance(b, dict) and "values" in a and "values" in b):
        return False
    if (a["T"], a["shape"]) != (b["T"], b["shape"]):
        return False
    pairs = list(zip(a["values"], b["values"]))
    nan_only_there = [math.isnan(x) and math.isfinite(y) for x, y in pairs]
    return any(nan_only_there) and all(
        skip or _close({**a, "values": [x]}, {**b, "values": [y]}) for skip, (x, y) in zip(nan_only_there, pairs))


def _mindspore_fails_on_valid_input(tag, source, ms, mp):
    """MindSpore 2.10 raises an internal error (no CPU kernel, a kernel failure; a 1-D input to Dense, whose reshape
    fails on NumPy 2) or computes NaN where msparam computes."""
    if tag == "forward" and _nan_where_msparam_is_finite(ms, mp):
        return True
    return tag in ("forward", "act", "api_err") and _error(ms, *IMPRECISE) and _value(mp)


def _cell_repr(tag, source, ms, mp):
    return tag == "print" and source.startswith("repr(nn.")


def _data_is_the_parameter(tag, source, ms, mp):
    return tag == "data" and "T" in ms.get("v", {}) and "P" in mp.get("v", {})


def _layer_defaults(tag, source, ms, mp):
    """Same Parameters (paths, names, shapes, dtypes), other values: MindSpore 2.x's default initializers."""
    if tag != "defaults" or not (_value(ms) and _value(mp)) or "params" not in ms["v"]:
        return False
    return [p[:4] for p in ms["v"]["params"]] == [p[:4] for p in mp["v"].get("params", [])]


def _int_beyond_int32(tag, source, ms, mp):
    return tag == "param" and "2**" in source and "name='big'" in source and _value(ms) and _error(mp, "ValueError")


_ACTIVATION_CONSTRUCTORS = ("nn.LeakyReLU(", "nn.ELU(", "nn.SoftShrink(", "nn.Hardtanh(", "nn.GELU(", "nn.RReLU(",
                            "nn.Softmax(", "nn.PReLU(", "nn.Threshold(")


def _checked_at_construction(tag, source, ms, mp):
    """An activation cell's bad argument: msparam refuses it when the cell is made, MindSpore when it runs."""
    return (tag == "api_err" and source.startswith(_ACTIVATION_CONSTRUCTORS) and source.endswith(")")
            and source.count("(") == 1 and _value(ms) and _error(mp, "TypeError", "ValueError"))


def _precise_error(tag, source, ms, mp):
    if source == "set_seed(2**64)":
        return _error(ms, "TypeError") and _error(mp, "ValueError")
    if tag != "ckpt" or not _error(mp, "TypeError", "ValueError", "FileNotFoundError"):
        return False
    # save_checkpoint: a dict of non-Parameters (UnboundLocalError, or a later one writes the previous entry
    # again), a missing directory for safetensors
    # (SafetensorError) or with async_save (fails in the background, unreported); a choice_func that is not
    # callable (a ValueError from the failed read, or accepted where MindSpore never calls it).
    return (_error(ms, "UnboundLocalError", "SafetensorError")
            or "values Parameter" in mp.get("msg", "") and not _error(ms, "TypeError")  # the previous entry again
            or "choice_func=1" in source and (_error(ms, "ValueError") or _value(ms)) and _error(mp, "TypeError")
            or "async_save=" in source and "sub/" in source and _value(ms) and _error(mp, "FileNotFoundError"))


def _duplicate_names(tag, source, ms, mp):
    return (tag == "ckpt" and source.startswith("save_checkpoint(") and _error(mp, "ValueError")
            and "appears more than once" in mp.get("msg", "") and not _error(ms, "ValueError"))


def _unknown_keyword(tag, source, ms, mp):
    return tag == "ckpt" and "unknown_keyword=" in source and _error(mp, "TypeError")


def _no_encryption(tag, source, ms, mp):
    return tag == "ckpt" and ("enc_key=b" in source or "dec_key=b" in source) and _error(mp, "NotImplementedError")


def _incremental_is_a_bool(tag, source, ms, mp):
    return tag == "ckpt" and "incremental=1" in source and not _error(ms, "TypeError") and _error(mp, "TypeError")


def _loaded(result):
    """A load_checkpoint result as {key: (Parameter name, shape, dtype, values)}."""
    return {key["v"] if isinstance(key, dict) else key: (re.sub(r"name=[^,]*", "", value.get("P", "")),
                                                         value.get("shape"), value.get("dtype"), value.get("sha"))
            for key, value in result["v"]["dict"]} if _value(result) and isinstance(result["v"], dict) else None


def _safetensors_names(tag, source, ms, mp):
    """The same entries, but MindSpore leaves the Parameters read from safetensors unnamed."""
    if tag != "ckpt" or not source.startswith("load_checkpoint(") or "format='safetensors'" not in source:
        return False
    return _loaded(ms) is not None and _loaded(ms) == _loaded(mp) and ms != mp


def _safetensors_prefixes(tag, source, ms, mp):
    """MindSpore ignores specify_prefix and filter_prefix for safetensors; msparam selects with them."""
    if tag != "ckpt" or "format='safetensors'" not in source or "_prefix=" not in source:
        return False
    if _error(mp, "ValueError") and _value(ms):  # everything filtered out
        return True
    ms_entries, mp_entries = _loaded(ms), _loaded(mp)
    return (ms_entries is not None and mp_entries is not None
            and all(ms_entries.get(key) == entry for key, entry in mp_entries.items()))


DOCUMENTED = [
    ("arguments checked at construction", _checked_at_construction),
    ("precise TypeError/ValueError", _precise_error),
    ("`Cell` repr", _cell_repr),
    ("`Parameter.data` is the Parameter", _data_is_the_parameter),
    ("r1.9 layer defaults", _layer_defaults),
    ("`Parameter(int)` beyond Int32", _int_beyond_int32),
    ("set_data shape and dtype rules", _set_data_rules),
    ("layers take float16/32/64 input", _mixed_dtype_forward),
    ("no String Parameters", _string_parameter),
    ("duplicate names refused on save", _duplicate_names),
    ("unknown keywords refused", _unknown_keyword),
    ("no encryption", _no_encryption),
    ("`incremental` must be a bool", _incremental_is_a_bool),
    ("Parameters loaded from safetensors are named by their keys", _safetensors_names),
    ("`specify_prefix`/`filter_prefix` select safetensors entries too", _safetensors_prefixes),
    ("computes where MindSpore fails", _mindspore_fails_on_valid_input),
]


# Rows whose divergent step changes nothing later steps see: the comparison goes on after them.
SIDE_EFFECT_FREE = {"arguments checked at construction", "precise TypeError/ValueError", "`Cell` repr", "`Parameter.data` is the Parameter", "r1.9 layer defaults",
                    "`Parameter(int)` beyond Int32", "computes where MindSpore fails", "no String Parameters",
                    "Parameters loaded from safetensors are named by their keys"}


def step_matches(tag, source, ms, mp):
    if "E" in ms and "E" in mp:
        return ms["E"] in mp["bases"] or (ms["E"] in IMPRECISE and {"TypeError", "ValueError"} & set(mp["bases"]))
    if tag == "forward" and "v" in ms and "v" in mp:
        return _close(ms["v"], mp["v"])
    return ms == mp


def documented(tag, source, ms, mp):
    for row, predicate in DOCUMENTED:
        if predicate(tag, source, ms, mp):
            return row
    return None


def run_backend(python, backend, programs, workdir, env=None):
    """Each program's step results under ``backend``; a program that crashed the interpreter gets None."""
    programs_path = Path(workdir) / "programs.json"
    programs_path.write_text(json.dumps(programs), encoding="utf-8")
    out_path = Path(workdir) / f"{backend}.jsonl"
    out_path.unlink(missing_ok=True)
    results = [None] * len(programs)
    start = 0
    while start < len(programs):
        subprocess.run([python, str(RUNNER), backend, str(programs_path), str(out_path), str(start)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        done = [json.loads(line) for line in out_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for record in done:
            results[record["index"]] = record["steps"]
        last = max((record["index"] for record in done), default=start - 1)
        start = max(last + 2, start + 1)  # skip the program that crashed the interpreter, if one did
    return results


def compare(programs, ms_results, mp_results):
    """(undocumented divergences, documented ones by README row, programs MindSpore crashed on)."""
    undocumented, by_row, crashed = [], {}, []
    for index, program in enumerate(programs):
        ms_steps, mp_steps = ms_results[index], mp_results[index]
        if ms_steps is None:
            crashed.append(index)
            continue
        if mp_steps is None:
            undocumented.append((index, None, "msparam crashed the interpreter"))
            continue
        for step, ((tag, mode, source), ms, mp) in enumerate(zip(program, ms_steps, mp_steps)):
            ms, mp_clean = _normalise(ms), _strip_messages(mp)
            if step_matches(tag, source, ms, mp_clean):
                continue
            row = documented(tag, source, ms, mp)
            if row is not None:
                by_row[row] = by_row.get(row, 0) + 1
                if row in SIDE_EFFECT_FREE and not (source.startswith("save_checkpoint(") and _value(ms)):
                    continue  # (a save MindSpore made and msparam refused leaves a file behind)
            else:
                undocumented.append((index, step, source, ms, mp))
            break  # later steps depend on this one: the first divergence of a program is the one to judge
    return undocumented, by_row, crashed


def mindspore_python():
    """A Python interpreter with MindSpore: $MSPARAM_MINDSPORE_PYTHON, or this one if it has MindSpore."""
    candidate = os.environ.get("MSPARAM_MINDSPORE_PYTHON")
    if candidate:
        return candidate
    import importlib.util
    return sys.executable if importlib.util.find_spec("mindspore") else None


def run(count, first_seed, ms_python, mp_python=sys.executable):
    programs = [generate(seed) for seed in range(first_seed, first_seed + count)]
    with tempfile.TemporaryDirectory(prefix="msparam-diff-") as workdir:
        ms_results = run_backend(ms_python, "mindspore", programs, workdir)
        mp_results = run_backend(mp_python, "msparam", programs, workdir)
    return programs, compare(programs, ms_results, mp_results)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mindspore-python", default=mindspore_python())
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=20, help="undocumented divergences to print")
    args = parser.parse_args(argv)
    if not args.mindspore_python:
        parser.error("no Python with MindSpore: pass --mindspore-python or set MSPARAM_MINDSPORE_PYTHON")
    programs, (undocumented, by_row, crashed) = run(args.count, args.first_seed, args.mindspore_python)
    steps = sum(len(p) for p in programs)
    print(f"{len(programs)} programs, {steps} steps; MindSpore crashed on {len(crashed)}; "
          f"documented divergences {sum(by_row.values())} {by_row}; undocumented {len(undocumented)}")
    for item in undocumented[:args.show]:
        print(json.dumps(item)[:1500])
    return 1 if undocumented else 0


if __name__ == "__main__":
    sys.exit(main())
