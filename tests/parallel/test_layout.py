"""The layout tuple's arithmetic: every rank's slice as MindSpore 2.10 cuts it, and every bad
layout refused with the error class and a message naming what is wrong."""
import json
from pathlib import Path

import numpy as np
import pytest

from msparam.parallel._layout import Layout, parse_layout

GOLDEN = json.loads((Path(__file__).parents[1] / "data" / "parallel" / "layout_slices.json").read_text())


def layout_of(dev_mat, tensor_map, shape):
    splits = Layout((dev_mat, tensor_map, [], 0, True, "")).splits()
    return (dev_mat, tensor_map, [size // parts for size, parts in zip(shape, splits)], 0, True, "")


@pytest.mark.parametrize("case", GOLDEN, ids=lambda case: f"{case['dev_mat']}-{case['tensor_map']}-{case['shape']}")
def test_every_rank_gets_mindspores_slice(case):
    shape = tuple(case["shape"])
    full = np.arange(np.prod(shape)).reshape(shape)
    layout = layout_of(case["dev_mat"], case["tensor_map"], shape)
    for rank, expected in enumerate(case["slices"]):
        bounds = parse_layout(layout, shape, rank, len(case["slices"]))
        assert full[tuple(slice(*b) for b in bounds)].reshape(-1).tolist() == expected


def test_coordinates_are_row_major_last_axis_fastest():
    layout = Layout(([2, 3], [1, 0], [1, 1], 0, True, ""))
    assert [layout.coordinates(rank) for rank in range(6)] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]


def test_replicated_axis_gives_equal_slices_to_its_ranks():
    layout = ([2, 2], [-1, 0], [4, 3], 0, True, "")
    bounds = [parse_layout(layout, (4, 6), rank, 4) for rank in range(4)]
    assert bounds[0] == bounds[2] and bounds[1] == bounds[3] and bounds[0] != bounds[1]


def test_extra_entries_are_ignored_as_mindspore_does():
    assert parse_layout(([2], [0], [2], 0, True, "", "more"), (4,), 1, 2) == ((2, 4),)


@pytest.mark.parametrize("layout, error, words", [
    ([[2], [0], [2], 0, True, ""], TypeError, "should be tuple"),
    (([2], [0], [2]), ValueError, "larger than 5"),
    (([2], [0], [2], 0, True, "group"), ValueError, "opt_shard_group"),
    (([2], [0], [2], 0, False, ""), ValueError, "uniform_split"),
    (([2], [0], [2], -1, True, ""), ValueError, "field_size"),
    (([], [-1], [4], 0, True, ""), ValueError, "dev_mat"),
    (([2, 0], [0], [4], 0, True, ""), ValueError, "dev_mat"),
    (([2.0], [0], [2], 0, True, ""), ValueError, "dev_mat"),
    (([2], 0, [2], 0, True, ""), ValueError, "tensor_map"),
    (([2], ["a"], [2], 0, True, ""), ValueError, "tensor_map"),
    (([2], [1], [2], 0, True, ""), ValueError, "axis 1"),
    (([2], [-2], [2], 0, True, ""), ValueError, "axis -2"),
    (([2], [(0, 0)], [1], 0, True, ""), ValueError, "more than one split"),
    (([2], [0], (2.5,), 0, True, ""), ValueError, "slice_shape"),
])
def test_malformed_layouts_raise_before_anything_else(layout, error, words):
    with pytest.raises(error, match=words):
        parse_layout(layout, (4,), 0, 2)


@pytest.mark.parametrize("layout, shape, size, words", [
    (([2, 2], [1, 0], [2, 2], 0, True, ""), (4, 4), 2, "4 devices, but the group has 2 ranks"),
    (([4], [0, -1], [2, 4], 0, True, ""), (6, 4), 4, "do not divide 6"),
    (([2], [0], [2], 0, True, ""), (4, 4), 2, "1 entries, but the tensor has 2 dimensions"),
    (([2], [0, -1], [2, 2], 0, True, ""), (4, 4), 2, r"slice_shape \[2, 2\] .* \[2, 4\]"),
    (([2, 2], [(1, 0), -1], [4, 3], 0, True, ""), (8, 3), 4, r"slice_shape \[4, 3\] .* \[2, 3\]"),
])
def test_inconsistent_layouts_raise_value_error(layout, shape, size, words):
    with pytest.raises(ValueError, match=words):
        parse_layout(layout, shape, 0, size)
