"""Run differential programs under one backend (msparam or MindSpore) and write what each step gave.

Usage: python diff_runner.py {msparam|mindspore} PROGRAMS.json OUT.jsonl [START]

PROGRAMS.json is a list of programs; a program is a list of steps ``[tag, mode, source]``: mode
'exec' runs ``source`` as statements, 'eval' evaluates it as an expression and records the value.
Every step records either a description of its value (JSON) or the exception it raised. One
line of OUT.jsonl per program, flushed at once, so that a backend that crashes the interpreter
(MindSpore does on some bad input) loses only the program it crashed on; the driver restarts the
runner from the next program (START).

This file runs under both interpreters, so it imports nothing from msparam or from the tests.
"""
import hashlib
import json
import os
import sys
import tempfile

import numpy as np


def load_backend(name):
    """The namespace a program runs in: the same names bound to either implementation."""
    if name == "mindspore":
        os.environ.setdefault("GLOG_v", "3")
        import mindspore as ms
        from mindspore import nn
        from mindspore.common import dtype as mstype
        from mindspore.common import initializer as init
        from mindspore.train import serialization
        ms.set_context(mode=ms.PYNATIVE_MODE, device_target="CPU")

        def wait():
            serialization._wait_async_thread_save_ckpt()
            serialization._wait_async_process_save_ckpt()
    else:
        import msparam as ms
        from msparam import nn
        from msparam.common import dtype as mstype
        from msparam.common import initializer as init
        wait = ms.wait_async_save
    return {"ms": ms, "nn": nn, "np": np, "os": os, "mstype": mstype, "init": init, "initializer": init.initializer,
            "Tensor": ms.Tensor, "Parameter": ms.Parameter, "ParameterTuple": ms.ParameterTuple,
            "set_seed": ms.set_seed, "save_checkpoint": ms.save_checkpoint, "load_checkpoint": ms.load_checkpoint,
            "load_param_into_net": ms.load_param_into_net, "wait": wait}


def _sha(array):
    array = np.ascontiguousarray(array)
    return hashlib.sha256(array.tobytes()).hexdigest()[:16] if array.dtype.kind in "biufc" else repr(array.tolist())


def describe(value, space, depth=0):
    """A JSON-able description of ``value`` that two implementations can be compared on."""
    ms = space["ms"]
    if depth > 4:
        return {"deep": type(value).__name__}
    if isinstance(value, ms.Parameter):
        values = value.asnumpy()
        return {"P": repr(value), "shape": list(values.shape), "dtype": str(value.dtype), "sha": _sha(values)}
    if isinstance(value, ms.Tensor):
        values = value.asnumpy()
        out = {"T": str(value.dtype), "shape": list(values.shape), "sha": _sha(values)}
        if values.dtype.kind in "fc" and values.size <= 4096:
            out["values"] = np.asarray(values, np.complex128 if values.dtype.kind == "c" else np.float64).real.ravel().tolist()
        return out
    if isinstance(value, space["nn"].Cell):
        return {"C": type(value).__name__,
                "params": [[path, p.name, list(p.shape), str(p.dtype), _sha(p.asnumpy())]
                           for path, p in value.parameters_and_names()]}
    if isinstance(value, np.ndarray):
        return {"A": value.dtype.str, "shape": list(value.shape), "sha": _sha(value)}
    if isinstance(value, np.generic):
        return {"np": value.dtype.str, "v": repr(value.item())}
    if isinstance(value, float):
        return {"f": repr(value)}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [describe(item, space, depth + 1) for item in value]
    if isinstance(value, dict):
        return {"dict": [[describe(k, space, depth + 1), describe(v, space, depth + 1)] for k, v in value.items()]}
    if isinstance(value, space["mstype"].Type):
        return {"dtype": str(value)}
    if isinstance(value, type):
        return {"type": value.__name__}
    return {"obj": type(value).__name__}


def error_record(exc):
    builtin = [cls.__name__ for cls in type(exc).__mro__ if cls.__module__ == "builtins"]
    return {"E": type(exc).__name__, "bases": builtin, "msg": str(exc)[:240]}


def _saved_file(directory):
    """The one file a save left in ``directory`` (checkpoints go there), or a path that does not exist."""
    names = sorted(name for name in os.listdir(directory) if os.path.isfile(os.path.join(directory, name)))
    return os.path.join(directory, names[0] if names else "nothing-saved.ckpt")


def run_program(program, backend):
    space = dict(load_backend.cache[backend])
    results = []
    with tempfile.TemporaryDirectory(prefix="msparam-diff-step-") as tmp:
        space.update(tmp=tmp, saved=lambda: _saved_file(tmp))
        for tag, mode, source in program:
            try:
                if mode == "exec":
                    exec(source, space)
                    results.append({"ok": True})
                else:
                    results.append({"v": describe(eval(source, space), space)})
            except Exception as exc:  # noqa: BLE001 - every exception class is a result to compare
                results.append(error_record(exc))
        try:
            space["wait"]()  # before the directory goes
        except Exception:  # noqa: BLE001 - a failed async save was reported (or not) by the steps
            pass
    return results


def main(argv):
    backend, programs_path, out_path = argv[1:4]
    start = int(argv[4]) if len(argv) > 4 else 0
    load_backend.cache = {backend: load_backend(backend)}
    with open(programs_path, encoding="utf-8") as f:
        programs = json.load(f)
    with open(out_path, "a", encoding="utf-8") as out:
        for index in range(start, len(programs)):
            out.write(json.dumps({"index": index, "steps": run_program(programs[index], backend)}) + "\n")
            out.flush()


if __name__ == "__main__":
    main(sys.argv)
