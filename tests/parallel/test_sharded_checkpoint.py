"""Sharded checkpoints in one process: merge_sliced_parameter, and the refusals of the loaders."""
import numpy as np
import pytest

import msparam as ms
from msparam import nn


def slices_of(full, layout, size, name="w"):
    from msparam.parallel._layout import parse_layout
    return [ms.Parameter(ms.Tensor(full[tuple(slice(*b) for b in parse_layout(layout, full.shape, rank, size))]),
                         name) for rank in range(size)]


def test_merge_sliced_parameter_by_axis_0_and_by_layout():
    full = np.arange(48, dtype=np.float32).reshape(8, 6)
    merged = ms.merge_sliced_parameter(slices_of(full, ([4], [0, -1], [2, 6], 0, True, ""), 4))
    assert merged.name == "w" and np.array_equal(merged.asnumpy(), full)
    layout = ([2, 2], [0, 1], [4, 3], 0, True, "")
    merged = ms.merge_sliced_parameter(slices_of(full, layout, 4), {"w": layout})
    assert np.array_equal(merged.asnumpy(), full)
    replicated = ([2, 2], [-1, 0], [8, 3], 0, True, "")
    assert np.array_equal(ms.merge_sliced_parameter(slices_of(full, replicated, 4), {"w": replicated}).asnumpy(),
                          full)


def test_merge_sliced_parameter_refusals():
    full = np.zeros((4, 2), np.float32)
    parts = slices_of(full, ([2], [0, -1], [2, 2], 0, True, ""), 2)
    with pytest.raises(TypeError, match="should be list"):
        ms.merge_sliced_parameter(tuple(parts))
    with pytest.raises(ValueError, match="should not be empty"):
        ms.merge_sliced_parameter([])
    with pytest.raises(TypeError, match="'Parameter'"):
        ms.merge_sliced_parameter([parts[0], ms.Tensor(full)])
    with pytest.raises(TypeError, match="should be dict"):
        ms.merge_sliced_parameter(parts, [1])
    with pytest.raises(KeyError, match="should be a key"):
        ms.merge_sliced_parameter(parts, {"other": ([2], [0, -1], [2, 2], 0, True, "")})
    with pytest.raises(ValueError, match="device_count"):
        ms.merge_sliced_parameter(parts, {"w": ([4], [0, -1], [1, 2], 0, True, "")})
    with pytest.raises(ValueError, match="same name"):
        ms.merge_sliced_parameter([parts[0], ms.Parameter(parts[1].asnumpy(), "v")])


def test_loaders_refuse_what_is_not_a_sharded_checkpoint(tmp_path):
    net = nn.Dense(3, 2)
    with pytest.raises(ValueError, match="no manifest.json"):
        ms.load_distributed_checkpoint(net, train_strategy_filename=str(tmp_path))
    with pytest.raises(ValueError, match="either"):
        ms.load_distributed_checkpoint(net)
    with pytest.raises(ValueError, match="list of one"):
        ms.load_distributed_checkpoint(net, ["a.ckpt", "b.ckpt"])
    with pytest.raises(ValueError, match="does not exist"):
        ms.load_distributed_checkpoint(net, [str(tmp_path / "none.ckpt")])
    with pytest.raises(ValueError, match="single-device destination"):
        ms.transform_checkpoints(str(tmp_path), str(tmp_path / "out"), "x", dst_strategy_file="s.json")
    (tmp_path / "manifest.json").write_text("[1, 2]")  # JSON, but not an object (AttributeError before)
    with pytest.raises(ValueError, match="not an msparam sharded-checkpoint manifest"):
        ms.load_distributed_checkpoint(net, train_strategy_filename=str(tmp_path))


def test_one_rank_sharded_save_and_single_file_load(tmp_path):
    ms.set_auto_parallel_context(parallel_mode="semi_auto_parallel")
    try:
        ms.set_seed(3)
        net = nn.Dense(4, 6)
        layout = {"weight": ([1], [0, -1], [6, 4], 0, True, "")}
        net.init_parameters_data(layouts=layout)
        ms.save_checkpoint(net, str(tmp_path / "net.ckpt"), integrated_save=False)
        ms.save_checkpoint(net, str(tmp_path / "full.safetensors"), format="safetensors")
        ms.set_seed(4)
        other = nn.Dense(4, 6)
        ms.load_distributed_checkpoint(other, train_strategy_filename=str(tmp_path / "net"), predict_strategy=layout)
        assert np.array_equal(other.weight.asnumpy(), net.weight.asnumpy())
        assert np.array_equal(other.bias.asnumpy(), net.bias.asnumpy())
        ms.set_seed(4)
        third = nn.Dense(4, 6)
        ms.load_distributed_checkpoint(third, [str(tmp_path / "full.safetensors")], format="safetensors")
        assert np.array_equal(third.weight.asnumpy(), net.weight.asnumpy())
    finally:
        ms.reset_auto_parallel_context()
