"""MindSpore 2.10's parameter layout tuple and the slice of a tensor it gives one rank.

A layout is ``(dev_mat, tensor_map, slice_shape, field_size, uniform_split, opt_shard_group)``:

- ``dev_mat``: the device matrix; its product is the group size.  A rank's coordinates in it
  are the rank in row-major order (last axis fastest), as
  ``mindspore.parallel._tensor._rank_to_coordinate`` computes them.
- ``tensor_map[i]``: the device-matrix axis (counted from the right) that splits tensor
  dimension ``i``; ``-1`` leaves it whole; a tuple of axes splits it by their product, the first
  axis outermost.
- ``slice_shape``: the shape of one rank's slice, which must follow from the two above.
- ``field_size`` and ``uniform_split``: carried along (only uniform splits exist here).
- ``opt_shard_group``: optimizer sharding, not supported (must be empty).

Everything is checked here, in Python, before any memory for a slice is allocated; each rank
checks the same tuple, so a bad layout raises on every rank.
"""
import math
import numbers
from typing import Any, cast

__all__ = ["Layout", "parse_layout"]


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _int_sequence(value: object, what: str) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or not all(_is_int(item) for item in value):
        raise ValueError(f"The layout's {what} must be a list or tuple of ints, but got {value!r}.")
    return tuple(int(cast(numbers.Integral, item)) for item in value)


class Layout:
    """A checked layout tuple: the device matrix, the split axes of each tensor dimension, and
    the slice shape it promises.

    Parameters
    ----------
    layout : tuple
        MindSpore's six-entry layout tuple (extra entries are ignored, as MindSpore does).

    Raises
    ------
    TypeError
        If ``layout`` is not a tuple (MindSpore's class and text).
    ValueError
        If it has fewer than six entries, or any entry is malformed, or ``opt_shard_group`` is
        not empty.
    """

    __slots__ = ("dev_mat", "tensor_map", "slice_shape", "field_size", "uniform_split")
    dev_mat: tuple[int, ...]
    tensor_map: tuple[tuple[int, ...], ...]
    slice_shape: tuple[int, ...]
    field_size: int
    uniform_split: bool

    def __init__(self, layout: object) -> None:
        if not isinstance(layout, tuple):
            raise TypeError(f"The argument 'layout' should be tuple, but got {type(layout)}.")
        if len(layout) < 6:
            raise ValueError(f"The length of 'layout' must be larger than 5, but got {len(layout)}.")
        dev_mat, tensor_map, slice_shape, field_size, uniform_split, opt_shard_group = layout[:6]
        self.dev_mat = _int_sequence(dev_mat, "dev_mat")
        if not self.dev_mat or any(size < 1 for size in self.dev_mat):
            raise ValueError(f"The layout's dev_mat must be non-empty with every size >= 1, but got {dev_mat!r}.")
        self.tensor_map = self._split_axes(tensor_map)
        self.slice_shape = _int_sequence(slice_shape, "slice_shape")
        if not _is_int(field_size) or field_size < 0:
            raise ValueError(f"The layout's field_size must be an int >= 0, but got {field_size!r}.")
        self.field_size = int(field_size)
        if not isinstance(uniform_split, (bool, numbers.Integral)) or not uniform_split:
            raise ValueError(f"The layout's uniform_split must be True: only uniform splits are supported, "
                             f"but got {uniform_split!r}.")
        self.uniform_split = True
        if opt_shard_group:
            raise ValueError(f"The layout's opt_shard_group must be empty: optimizer sharding is not supported, "
                             f"but got {opt_shard_group!r}.")

    def _split_axes(self, tensor_map: object) -> tuple[tuple[int, ...], ...]:
        """tensor_map as a tuple of tuples of device-matrix axes (empty: not split)."""
        if not isinstance(tensor_map, (list, tuple)):
            raise ValueError(f"The layout's tensor_map must be a list or tuple, but got {tensor_map!r}.")
        axes_per_dim: list[tuple[int, ...]] = []
        used: set[int] = set()
        for entry in tensor_map:
            axes = entry if isinstance(entry, (list, tuple)) else (entry,)
            if not all(_is_int(axis) for axis in axes):
                raise ValueError(f"The layout's tensor_map entries must be ints or tuples of ints, "
                                 f"but got {tensor_map!r}.")
            axes = tuple(int(cast(numbers.Integral, axis)) for axis in axes if axis != -1)
            for axis in axes:
                if not 0 <= axis < len(self.dev_mat):
                    raise ValueError(f"The layout's tensor_map {tensor_map!r} names device-matrix axis {axis}, "
                                     f"but dev_mat {self.dev_mat} has {len(self.dev_mat)} axes "
                                     f"(valid: -1 .. {len(self.dev_mat) - 1}).")
                if axis in used:
                    raise ValueError(f"The layout's tensor_map {tensor_map!r} uses device-matrix axis {axis} "
                                     "for more than one split.")
                used.add(axis)
            axes_per_dim.append(axes)
        return tuple(axes_per_dim)

    @property
    def device_count(self) -> int:
        return math.prod(self.dev_mat)

    def _axis_size(self, axis: int) -> int:
        return self.dev_mat[len(self.dev_mat) - 1 - axis]

    def splits(self) -> tuple[int, ...]:
        """How many parts each tensor dimension is cut into."""
        return tuple(math.prod(self._axis_size(axis) for axis in axes) for axes in self.tensor_map)

    def check(self, full_shape: tuple[int, ...], group_size: int) -> None:
        """Raise ValueError unless this layout splits ``full_shape`` over ``group_size`` ranks
        evenly and its slice_shape is the slice's shape."""
        full_shape = tuple(full_shape)
        if self.device_count != group_size:
            raise ValueError(f"The layout's dev_mat {self.dev_mat} has {self.device_count} devices, but the group "
                             f"has {group_size} ranks (get_group_size()).")
        if len(self.tensor_map) != len(full_shape):
            raise ValueError(f"The layout's tensor_map has {len(self.tensor_map)} entries, but the tensor has "
                             f"{len(full_shape)} dimensions (shape {full_shape}).")
        splits = self.splits()
        for dim, (size, parts) in enumerate(zip(full_shape, splits)):
            if size % parts:
                raise ValueError(f"The layout splits dimension {dim} of shape {full_shape} into {parts} parts, "
                                 f"which do not divide {size}.")
        expected = tuple(size // parts for size, parts in zip(full_shape, splits))
        if self.slice_shape != expected:
            raise ValueError(f"The layout's slice_shape {list(self.slice_shape)} does not match the slice of shape "
                             f"{full_shape} it describes: {list(expected)}.")

    def coordinates(self, rank: int) -> tuple[int, ...]:
        """The rank's coordinates in the device matrix, row-major (the last axis fastest)."""
        coordinate = []
        for size in reversed(self.dev_mat):
            coordinate.append(rank % size)
            rank //= size
        return tuple(reversed(coordinate))

    def slice_bounds(self, full_shape: tuple[int, ...], rank: int) -> tuple[tuple[int, int], ...]:
        """``((start, stop), ...)``: the part of each dimension of ``full_shape`` that ``rank``
        holds (the layout must have passed ``check``)."""
        coordinate = self.coordinates(rank)
        bounds = []
        for size, parts, axes in zip(full_shape, self.splits(), self.tensor_map):
            index = 0
            for axis in axes:
                index = index * self._axis_size(axis) + coordinate[len(coordinate) - 1 - axis]
            step = size // parts
            bounds.append((index * step, (index + 1) * step))
        return tuple(bounds)

    def as_tuple(self) -> tuple[Any, ...]:
        """The layout as plain data (for manifests and messages)."""
        tensor_map = [-1 if not axes else axes[0] if len(axes) == 1 else list(axes) for axes in self.tensor_map]
        return (list(self.dev_mat), tensor_map, list(self.slice_shape), self.field_size, True, "")


def parse_layout(layout: object, full_shape: tuple[int, ...], rank: int,
                 group_size: int) -> tuple[tuple[int, int], ...]:
    """Check ``layout`` for a tensor of ``full_shape`` and return this rank's slice bounds."""
    checked = Layout(layout)
    checked.check(full_shape, group_size)
    return checked.slice_bounds(full_shape, rank)
