"""Sharded safetensors: Hugging Face's index + shards and MindSpore's param_name_map.json + partN."""
import json
import os
import pathlib

import numpy as np
import pytest
import safetensors.numpy

import msparam as ms
from msparam.train import _sharded, checkpoint_tools

NAMES = ["b", "a", "Z", "é", "c", "a.b"]


def tensors():
    return [{"name": name, "data": ms.Tensor(np.full(100, i, np.float32))} for i, name in enumerate(NAMES)]


@pytest.mark.parametrize("index, shard_files", [
    ("model.safetensors.index.json", ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                                      "model-00003-of-00003.safetensors"]),
    ("param_name_map.json", ["part0.safetensors", "part1.safetensors", "part2.safetensors"]),
])
def test_save_splits_by_max_shard_size_and_load_sorts_by_code_point(tmp_path, index, shard_files):
    path = tmp_path / "ckpt" / index
    path.parent.mkdir()  # as for any save, the directory must exist
    ms.save_checkpoint(tensors(), path, format="safetensors", max_shard_size=800)
    assert sorted(os.listdir(path.parent)) == sorted(shard_files + [index])
    written = json.loads(path.read_text())
    assert written["metadata"] == {"total_size": 2400}
    assert list(written["weight_map"]) == NAMES
    assert [written["weight_map"][n] for n in NAMES] == [shard_files[i // 2] for i in range(6)]
    for shard in shard_files:  # each shard is a safetensors file any reader takes
        assert len(safetensors.numpy.load_file(path.parent / shard)) == 2
    loaded = ms.load_checkpoint(path, format="safetensors")
    assert list(loaded) == sorted(NAMES) == ["Z", "a", "a.b", "b", "c", "é"]
    for i, name in enumerate(NAMES):
        np.testing.assert_array_equal(loaded[name].asnumpy(), np.full(100, i, np.float32))


def test_a_tensor_larger_than_the_limit_gets_its_own_shard(tmp_path):
    path = tmp_path / "model.safetensors.index.json"
    ms.save_checkpoint(tensors(), str(path), format="safetensors", max_shard_size=1)
    assert len(set(json.loads(path.read_text())["weight_map"].values())) == 6


def test_only_the_wanted_tensors_are_read(tmp_path):
    path = tmp_path / "model.safetensors.index.json"
    ms.save_checkpoint(tensors(), path, format="safetensors", max_shard_size=800)
    shard = tmp_path / "model-00002-of-00003.safetensors"  # Z and é: overwrite their data
    raw = bytearray(shard.read_bytes())
    raw[-800:] = b"\xff" * 800
    os.chmod(shard, 0o600)
    shard.write_bytes(bytes(raw))
    loaded = ms.load_checkpoint(path, format="safetensors", specify_prefix="a")
    assert list(loaded) == ["a", "a.b"]
    with pytest.raises(ValueError, match="CRC"):
        ms.load_checkpoint(path, format="safetensors")


def write_index(folder, weight_map, name="model.safetensors.index.json"):
    path = folder / name
    path.write_text(json.dumps({"metadata": {"total_size": 0}, "weight_map": weight_map}))
    return path


def one_shard(folder, name="part0.safetensors"):
    safetensors.numpy.save_file({"w": np.ones(2, np.float32)}, folder / name)


@pytest.mark.parametrize("content, message", [
    ("not json", "not valid JSON"),
    ('["w"]', "no 'weight_map' object"),
    ('{"weight_map": {}}', "weight_map is empty"),
    ('{"weight_map": {"w": 3}}', "not a .safetensors file name"),
    ('{"weight_map": {"w": "../part0.safetensors"}}', "not a file beside the index"),
    ('{"weight_map": {"w": "/etc/part0.safetensors"}}', "not a file beside the index"),
    ('{"weight_map": {"w": "part0.safetensors", "v": "part1.safetensors"}}', "the shard part1.safetensors is missing"),
    ('{"weight_map": {"w": "part0.safetensors", "v": "part0.safetensors"}}', "places 'v' in part0.safetensors"),
])
def test_hostile_indexes_are_clear_value_errors(tmp_path, content, message):
    one_shard(tmp_path)
    path = tmp_path / "param_name_map.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        ms.load_checkpoint(path, format="safetensors")


def test_the_python_api_keeps_the_ckpt_default_and_suffix_errors(tmp_path):
    one_shard(tmp_path)
    path = write_index(tmp_path, {"w": "part0.safetensors"})
    with pytest.raises(ValueError, match="should end with '.ckpt'"):
        ms.load_checkpoint(path)
    with pytest.raises(ValueError, match="should end with '.safetensors'"):
        ms.load_checkpoint(tmp_path / "index.json", format="safetensors")
    assert list(ms.load_checkpoint(pathlib.Path(path), format="safetensors")) == ["w"]


@pytest.mark.parametrize("size", [0, -1, 1.5, "5GB", True])
def test_max_shard_size_must_be_a_positive_int(tmp_path, size):
    with pytest.raises(ValueError, match="max_shard_size"):
        ms.save_checkpoint(tensors(), tmp_path / "model.safetensors.index.json", format="safetensors",
                           max_shard_size=size)


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _save_sharded(path, offset, tmp_path=None):
    ms.save_checkpoint([{"name": name, "data": ms.Tensor(np.full(100, i + offset, np.float32))}
                        for i, name in enumerate(NAMES)], path, format="safetensors", max_shard_size=800)


def _convert_sharded(path, offset, tmp_path):
    source = tmp_path / f"source{offset}.safetensors"
    ms.save_checkpoint([{"name": name, "data": ms.Tensor(np.full(100, i + offset, np.float32))}
                        for i, name in enumerate(NAMES)], source, format="safetensors")
    checkpoint_tools.convert_checkpoint(source, path, max_shard_size=800)


@pytest.mark.parametrize("hard_links", [True, False], ids=["hard_links", "no_hard_links"])
@pytest.mark.parametrize("older", [True, False], ids=["over_an_older_checkpoint", "into_an_empty_folder"])
@pytest.mark.parametrize("index", ["model.safetensors.index.json", "param_name_map.json"])
@pytest.mark.parametrize("writer", [_save_sharded, _convert_sharded], ids=["save_checkpoint", "convert"])
def test_a_failed_rename_of_the_second_shard_leaves_the_destination_as_it_was(tmp_path, monkeypatch, writer,
                                                                             index, older, hard_links):
    path = tmp_path / "ckpt" / index
    path.parent.mkdir()
    if older:
        _save_sharded(path, 100)
    before = _snapshot(path.parent)
    second_shard = _sharded.shard_names(path, 3)[1]
    real_replace = os.replace

    def replace(src, dst, **kwargs):  # the new second shard cannot land (a full disk, a quota, ...)
        if os.path.basename(dst) == second_shard and os.path.basename(src).startswith(f".{second_shard}.") \
                and ".older" not in os.path.basename(src):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, **kwargs)

    def no_link(src, dst, **kwargs):  # a file system without hard links: the older shard is moved aside
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "replace", replace)
    if not hard_links:
        monkeypatch.setattr(os, "link", no_link)
    with pytest.raises(OSError, match="No space left"):
        writer(path, 0, tmp_path)
    assert _snapshot(path.parent) == before  # no new shard, no older shard lost, no temporary left
    monkeypatch.setattr(os, "replace", real_replace)
    writer(path, 0, tmp_path)  # and the next save goes through
    loaded = ms.load_checkpoint(path, format="safetensors")
    assert [float(loaded[name].asnumpy()[0]) for name in NAMES] == list(range(6))
