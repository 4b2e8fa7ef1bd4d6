"""The ``msparam`` command end to end, in a subprocess as a user runs it."""
import json
import subprocess
import sys

import numpy as np
import pytest

import msparam as ms


def run(*args):
    return subprocess.run([sys.executable, "-m", "msparam", *map(str, args)], capture_output=True, text=True)


@pytest.fixture
def ckpt(tmp_path):
    path = tmp_path / "model.ckpt"
    ms.save_checkpoint([{"name": "backbone.weight", "data": ms.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))},
                        {"name": "step", "data": ms.Tensor(np.array([7, 8, 9, 10], np.int32))}], str(path))
    return path


def test_inspect_lists_every_tensor_with_totals(ckpt):
    result = run("inspect", ckpt)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["backbone.weight", "Float32"]
    assert lines[1].split()[:2] == ["step", "Int32"]
    assert lines[-1] == "2 tensors, 10 parameters, 40 bytes"


def test_inspect_json_of_a_safetensors_file(ckpt, tmp_path):
    dst = tmp_path / "model.safetensors"
    assert run("convert", ckpt, dst).returncode == 0
    report = json.loads(run("inspect", dst, "--json").stdout)
    assert {t["name"]: (t["dtype"], t["shape"], t["bytes"]) for t in report["tensors"]} == {
        "backbone.weight": ("Float32", [2, 3], 24), "step": ("Int32", [4], 16)}
    assert (report["parameters"], report["bytes"]) == (10, 40)


def test_convert_renames_casts_and_round_trips(ckpt, tmp_path):
    dst = tmp_path / "out.safetensors"
    result = run("convert", ckpt, dst, "--rename", r"^backbone\.=encoder.", "--dtype", "float16")
    assert result.returncode == 0, result.stderr
    loaded = ms.load_checkpoint(str(dst), format="safetensors")
    assert sorted(loaded) == ["encoder.weight", "step"]
    assert loaded["encoder.weight"].dtype == ms.float16
    np.testing.assert_array_equal(loaded["encoder.weight"].asnumpy(), np.arange(6, dtype=np.float16).reshape(2, 3))
    np.testing.assert_array_equal(loaded["step"].asnumpy(), np.array([7, 8, 9, 10], np.float16))


def test_convert_with_a_name_map(ckpt, tmp_path):
    mapping = tmp_path / "names.json"
    mapping.write_text(json.dumps({"step": "global_step"}))
    dst = tmp_path / "renamed.ckpt"
    assert run("convert", ckpt, dst, "--map", mapping).returncode == 0
    assert sorted(ms.load_checkpoint(str(dst))) == ["backbone.weight", "global_step"]


def test_convert_refuses_renames_that_collide(ckpt, tmp_path):
    result = run("convert", ckpt, tmp_path / "x.ckpt", "--rename", "^.*$=same")
    assert result.returncode == 1
    assert "two tensors the name 'same'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.ckpt").exists()


def test_diff_reports_names_mismatches_and_differences(ckpt, tmp_path):
    other = tmp_path / "other.safetensors"
    ms.save_checkpoint([{"name": "backbone.weight", "data": ms.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3) + 0.5)},
                        {"name": "step", "data": ms.Tensor(np.zeros(4, np.float32))},
                        {"name": "extra", "data": ms.Tensor(np.zeros(1, np.float32))}], str(other), format="safetensors")
    result = run("diff", ckpt, other)
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["only in B: extra", "mismatch:  step: Int32[4] vs Float32[4]",
                                          "backbone.weight: max |A-B| = 0.5"]
    same = run("diff", ckpt, ckpt)
    assert same.returncode == 0 and "backbone.weight: max |A-B| = 0" in same.stdout


@pytest.mark.parametrize("args, message", [
    (("inspect", "weights.bin"), "must end in .ckpt, .safetensors, .safetensors.index.json"),
    (("inspect", "missing.ckpt"), "No such file"),
])
def test_bad_arguments_give_one_line_and_status_1(tmp_path, args, message):
    result = run(*args)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_damaged_file_is_an_error_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    result = run("inspect", bad)
    assert result.returncode == 1
    assert "not valid JSON" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [("convert", "a.ckpt", "b.ckpt", "--rename", "nosign"),
                                  ("convert", "a.ckpt", "b.ckpt", "--dtype", "float99"),
                                  ("frobnicate",)])
def test_usage_errors_exit_2(args):
    result = run(*args)
    assert result.returncode == 2 and "usage: msparam" in result.stderr


def test_console_script_is_declared():
    import tomllib
    import pathlib
    project = tomllib.loads((pathlib.Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["msparam"] == "msparam._cli:main"


def test_convert_to_and_from_sharded_safetensors(ckpt, tmp_path):
    index = tmp_path / "sharded" / "model.safetensors.index.json"
    result = run("convert", ckpt, index, "--max-shard-size", "20B")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in index.parent.iterdir()) == [
        "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"]
    inspected = run("inspect", index).stdout.splitlines()
    assert [line.split()[0] for line in inspected[:-1]] == ["backbone.weight", "step"]
    back = tmp_path / "mindspore" / "param_name_map.json"
    assert run("convert", index, back).returncode == 0
    assert run("diff", ckpt, back).returncode == 0


@pytest.mark.parametrize("content, message", [
    ('{"weight_map": {"w": "part7.safetensors"}}', "the shard part7.safetensors is missing"),
    ("{not json", "not valid JSON"),
])
@pytest.mark.parametrize("command", ["inspect", "convert"])
def test_a_bad_shard_index_is_an_error_not_a_traceback(tmp_path, content, message, command):
    index = tmp_path / "param_name_map.json"
    index.write_text(content)
    args = (command, index) if command == "inspect" else (command, index, tmp_path / "out.ckpt")
    result = run(*args)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_max_shard_size_needs_a_sharded_destination(ckpt, tmp_path):
    result = run("convert", ckpt, tmp_path / "one.safetensors", "--max-shard-size", "1GB")
    assert result.returncode == 1 and "needs a sharded DST" in result.stderr


def test_string_entries_are_diffed_as_text_and_kept_by_convert(tmp_path):
    # MindSpore's append_dict writes string entries; diff and convert --dtype raised AttributeError
    # on them (found by the type checker: load_checkpoint's values are Parameters or str).
    a, b = tmp_path / "a.ckpt", tmp_path / "b.ckpt"
    weight = ms.Parameter(ms.Tensor(np.ones(2, np.float32)), name="w")
    ms.save_checkpoint([weight], str(a), append_dict={"note": "first"})
    ms.save_checkpoint([weight], str(b), append_dict={"note": "second"})
    result = run("diff", a, b)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == ["mismatch:  note: 'first' vs 'second'", "w: max |A-B| = 0"]
    assert run("diff", a, a).returncode == 0
    converted = tmp_path / "half.ckpt"
    assert run("convert", a, converted, "--dtype", "float16").returncode == 0
    loaded = ms.load_checkpoint(str(converted))
    assert loaded["note"] == "first" and loaded["w"].dtype == ms.float16


def test_convert_quiet_prints_nothing(ckpt, tmp_path):
    result = run("convert", ckpt, tmp_path / "q.safetensors", "--quiet")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert run("diff", ckpt, tmp_path / "q.safetensors").returncode == 0


def test_diff_counts_nans_at_the_same_positions_as_equal_and_a_nan_against_a_number_as_a_difference(tmp_path):
    values = np.array([np.nan, 1.0, np.inf, -np.inf, 2.0], np.float32)
    a, same, other = tmp_path / "a.ckpt", tmp_path / "same.safetensors", tmp_path / "other.ckpt"
    ms.save_checkpoint([{"name": "w", "data": ms.Tensor(values)}], str(a))
    ms.save_checkpoint([{"name": "w", "data": ms.Tensor(values.copy())}], str(same), format="safetensors")
    shifted = values.copy()
    shifted[[0, 4]] = [3.0, np.nan]  # NaN against a number, both ways
    ms.save_checkpoint([{"name": "w", "data": ms.Tensor(shifted)}], str(other))
    result = run("diff", a, same)
    assert result.returncode == 0 and result.stdout.splitlines() == ["w: max |A-B| = 0"]
    result = run("diff", a, other)
    assert result.returncode == 1 and result.stdout.splitlines() == ["w: max |A-B| = 0, NaN in only one at 2 positions"]
