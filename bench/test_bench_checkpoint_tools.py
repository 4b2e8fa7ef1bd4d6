"""The .ckpt framing parser and ``msparam convert``, each against its named comparator.

- many tiny: ``load_checkpoint`` of 20,000 tensors of 4 floats (the framing parser's per-record
  cost), on msparam and on MindSpore when installed. msparam's case also times, in alternating
  rounds, protobuf's own C parser (upb, when ``protobuf`` is installed) parsing the same file with
  MindSpore's ``Checkpoint`` schema plus ``np.frombuffer`` per tensor, and reports
  ``ratio_to_upb = upb time / msparam time`` (> 1: msparam is faster). The schema is built here
  from the message definitions (MindSpore's ``checkpoint.proto``), so MindSpore is not needed.
- many tiny safetensors: ``load_checkpoint`` of the same 20,000 tensors from a safetensors file
  (the header parser's per-entry cost), against the safetensors package's ``load_file`` in
  alternating rounds: ``ratio_to_package = package time / msparam time``.
- convert: ``msparam convert`` of a 1 GiB .ckpt (``MSPARAM_BENCH_CKPT_MB`` overrides) to
  safetensors, against a plain copy of the same file on the same disk (``shutil.copyfile``, which
  copies in the kernel, plus the fsync every msparam save does), in alternating rounds:
  ``ratio_to_copy = copy time / convert time`` (the target is >= 0.5).

Every round starts with no destination file and dirty pages flushed; each case's own timing (what
a regression compare reads) is ROUNDS rounds after an untimed one (one run's three convert
rounds took 1.0, 1.6 and 2.2 s, so the median was whichever came second). Quick mode
(``--benchmark-disable``) runs each case once on 4 MiB, untimed.
"""
import os
import shutil
import statistics
import time

import numpy as np
import pytest

import msparam as ms
from msparam.train import checkpoint_tools
from peers import implementations, is_quick, load, record_throughput

TINY_TENSORS = 20_000
ROUNDS = 5


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("ckpt_tools_bench")


@pytest.fixture(scope="module")
def tiny_file(folder):
    path = str(folder / "tiny.ckpt")
    ms.save_checkpoint([{"name": f"layer{i}.weight", "data": ms.Tensor(np.full(4, i, np.float32))}
                        for i in range(TINY_TENSORS)], path)
    return path


@pytest.fixture(scope="module")
def tiny_safetensors(folder):
    path = str(folder / "tiny.safetensors")
    ms.save_checkpoint([{"name": f"layer{i}.weight", "data": ms.Tensor(np.full(4, i, np.float32))}
                        for i in range(TINY_TENSORS)], path, format="safetensors")
    return path


def upb_loader():
    """``path -> {name: array}`` through protobuf's C parser, or None without protobuf (or with
    its pure-Python parser, which is no yardstick)."""
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
        from google.protobuf.internal import api_implementation
    except ImportError:
        return None
    if api_implementation.Type() != "upb":
        return None
    field = descriptor_pb2.FieldDescriptorProto
    schema = descriptor_pb2.FileDescriptorProto(name="msparam_bench_checkpoint.proto", package="bench",
                                                syntax="proto2")
    tensor = schema.message_type.add(name="TensorProto")
    tensor.field.add(name="dims", number=1, type=field.TYPE_INT64, label=field.LABEL_REPEATED)
    tensor.field.add(name="tensor_type", number=2, type=field.TYPE_STRING, label=field.LABEL_REQUIRED)
    tensor.field.add(name="tensor_content", number=3, type=field.TYPE_BYTES, label=field.LABEL_REQUIRED)
    checkpoint = schema.message_type.add(name="Checkpoint")
    value = checkpoint.nested_type.add(name="Value")
    value.field.add(name="tag", number=1, type=field.TYPE_STRING, label=field.LABEL_REQUIRED)
    value.field.add(name="tensor", number=2, type=field.TYPE_MESSAGE, label=field.LABEL_REQUIRED,
                    type_name=".bench.TensorProto")
    checkpoint.field.add(name="value", number=1, type=field.TYPE_MESSAGE, label=field.LABEL_REPEATED,
                         type_name=".bench.Checkpoint.Value")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(schema)
    message = message_factory.GetMessageClass(pool.FindMessageTypeByName("bench.Checkpoint"))
    numpy_types = {"Float32": np.float32}

    def load_with_upb(path):
        parsed = message()
        with open(path, "rb") as f:
            parsed.ParseFromString(f.read())
        return {v.tag: np.frombuffer(v.tensor.tensor_content, numpy_types[v.tensor.tensor_type])
                .reshape(tuple(v.tensor.dims)) for v in parsed.value}
    return load_with_upb


def alternating_ratio(ours, theirs, rounds, setup=lambda: None):
    """Median (and range) over rounds of ``theirs`` time / ``ours`` time, each round timing both
    back to back, each call after an untimed ``setup()``."""
    ratios = []
    for _ in range(rounds):
        setup()
        start = time.perf_counter()
        theirs()
        theirs_seconds = time.perf_counter() - start
        setup()
        start = time.perf_counter()
        ours()
        ratios.append(theirs_seconds / (time.perf_counter() - start))
    return statistics.median(ratios), min(ratios), max(ratios)


@pytest.mark.parametrize("impl", implementations("msparam", "mindspore"))
def test_load_many_tiny(benchmark, tiny_file, impl):
    benchmark.group = "checkpoint many tiny"
    loader = load(impl).load_checkpoint
    loaded = benchmark.pedantic(loader, args=(tiny_file,), rounds=ROUNDS, warmup_rounds=1, iterations=1)
    assert len(loaded) == TINY_TENSORS
    np.testing.assert_array_equal(loaded["layer7.weight"].asnumpy(), np.full(4, 7, np.float32))
    record_throughput(benchmark, TINY_TENSORS, "tensors")
    upb = upb_loader()
    if impl == "msparam" and upb is not None:
        assert set(upb(tiny_file)) == set(loaded)
        if benchmark.enabled:
            median, low, high = alternating_ratio(lambda: loader(tiny_file), lambda: upb(tiny_file), ROUNDS)
            benchmark.extra_info.update({"ratio_to_upb": median, "ratio_to_upb_min": low, "ratio_to_upb_max": high})
            print(f"\nmany tiny: ratio_to_upb {median:.2f} (rounds {low:.2f}-{high:.2f})")


def test_load_many_tiny_safetensors(benchmark, tiny_safetensors):
    from safetensors.numpy import load_file

    benchmark.group = "checkpoint many tiny"
    loaded = benchmark.pedantic(ms.load_checkpoint, args=(tiny_safetensors,), kwargs={"format": "safetensors"},
                                rounds=ROUNDS, warmup_rounds=1, iterations=1)
    assert set(loaded) == set(load_file(tiny_safetensors))
    np.testing.assert_array_equal(loaded["layer7.weight"].asnumpy(), np.full(4, 7, np.float32))
    record_throughput(benchmark, TINY_TENSORS, "tensors")
    if benchmark.enabled:
        median, low, high = alternating_ratio(lambda: ms.load_checkpoint(tiny_safetensors, format="safetensors"),
                                              lambda: load_file(tiny_safetensors), ROUNDS)
        benchmark.extra_info.update({"ratio_to_package": median, "ratio_to_package_min": low,
                                     "ratio_to_package_max": high})
        print(f"\nmany tiny safetensors: ratio_to_package {median:.2f} (rounds {low:.2f}-{high:.2f})")


def test_convert_against_a_plain_copy(benchmark, folder, request):
    megabytes = 4 if is_quick(request.config) else int(os.environ.get("MSPARAM_BENCH_CKPT_MB", "1024"))
    benchmark.group = f"convert {megabytes}MiB"
    source = str(folder / "source.ckpt")
    rng = np.random.default_rng(0)
    ms.save_checkpoint([{"name": f"block{i}.weight", "data": ms.Tensor(rng.standard_normal(1 << 20, np.float32))}
                        for i in range(megabytes // 4)], source)
    target, copy_target = str(folder / "target.safetensors"), str(folder / "copy.bin")

    def fresh():
        for path in (target, copy_target):
            if os.path.exists(path):
                os.unlink(path)
        os.sync()

    def convert():
        return checkpoint_tools.convert_checkpoint(source, target)

    def copy():
        shutil.copyfile(source, copy_target)
        fd = os.open(copy_target, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    assert benchmark.pedantic(convert, setup=fresh, rounds=ROUNDS, warmup_rounds=1) == megabytes // 4
    assert os.path.getsize(target) >= megabytes << 20
    record_throughput(benchmark, megabytes << 20, "bytes")
    if benchmark.enabled:
        median, low, high = alternating_ratio(convert, copy, ROUNDS, fresh)
        benchmark.extra_info.update({"ratio_to_copy": median, "ratio_to_copy_min": low, "ratio_to_copy_max": high})
        print(f"\nconvert {megabytes} MiB: ratio_to_copy {median:.2f} (rounds {low:.2f}-{high:.2f})")
