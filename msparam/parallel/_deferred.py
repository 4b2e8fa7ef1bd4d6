"""What a lazy Parameter keeps in parallel mode instead of its values, and how one rank fills its
slice from it.

The Parameter takes what its fill needs from the global RandomState when it is constructed, as
in single-process mode: the stream seed of a random fill, or for initializers that need the
whole matrix (Orthogonal, Sparse) the RandomState itself before their draws, which are then
skipped.  So every rank consumes the same draws in the same order as one process does, whatever
its slice and whenever the slice is made.
"""
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from msparam.common.dtype import cast_scalar
from msparam.common.initializer import Initializer, fill_plan
from msparam.common.seed import draw_lock, next_stream_seed
from msparam.communication.management import world
from msparam.parallel._context import layout_rank_and_size
from msparam.parallel._layout import Layout
from msparam.parallel._slices import fill_random_slice, slice_of

__all__ = ["DeferredFill", "SliceRequest"]


class DeferredFill:
    """The fill of one lazy Parameter, its global draws already taken.

    Parameters
    ----------
    initializer : Initializer
    shape : tuple of int
        The full tensor's shape.
    nptype : numpy.dtype
        The values' dtype.

    Notes
    -----
    Zero, One, Constant, Identity, Dirac and the one-fill random initializers fill any slice
    alone, in time and memory proportional to the slice.  Orthogonal and Sparse compute the
    whole matrix once (on rank 0, which sends each rank its slice).  An initializer of any other
    class is run on the full array now, on every rank, and sliced later.
    """

    __slots__ = ("initializer", "shape", "nptype", "kind", "detail", "seed", "rng_state", "values")
    initializer: Initializer
    shape: tuple[int, ...]
    nptype: "np.dtype[Any]"
    kind: str
    detail: "tuple[Any, ...]"
    seed: "int | None"
    rng_state: Any
    values: "npt.NDArray[Any] | None"

    def __init__(self, initializer: Initializer, shape: "tuple[int, ...]", nptype: npt.DTypeLike) -> None:
        self.initializer, self.shape, self.nptype = initializer, tuple(shape), np.dtype(nptype)
        self.seed = self.rng_state = self.values = None
        plan = fill_plan(initializer, self.shape)
        if plan is None:
            self.kind, self.detail = "computed", ()
            self.values = np.empty(self.shape, self.nptype)
            initializer(self.values)
            return
        self.kind, self.detail = plan[0], plan[1:]
        if self.kind == "random":
            self.seed = next_stream_seed()
        elif self.kind == "whole":
            with draw_lock:  # the snapshot must be the state the skipped draws start from
                self.rng_state = np.random.get_state()
                self.detail[0]()

    @property
    def needs_whole(self) -> bool:
        """Whether a slice needs the whole matrix computed first (Orthogonal, Sparse)."""
        return self.kind == "whole"

    def whole(self) -> npt.NDArray[Any]:
        """The full tensor, drawn from the RandomState as it was when the Parameter was made."""
        if self.values is not None:
            return self.values
        values = np.empty(self.shape, self.nptype)
        with draw_lock:  # no other thread may draw from the borrowed state, nor see its own draw undone
            current = np.random.get_state()
            np.random.set_state(self.rng_state)
            try:
                self.initializer(values)
            finally:
                np.random.set_state(current)
        return values

    def fill_slice(self, out: npt.NDArray[Any], bounds: tuple[tuple[int, int], ...]) -> None:
        """Fill ``out`` (C-contiguous, the slice's shape) with ``full[bounds]``, computing only
        the slice where the initializer allows it."""
        if self.kind == "constant":
            out[...] = cast_scalar(self.detail[0], out.dtype)
        elif self.kind == "random":
            fill, params = self.detail
            fill_random_slice(out, fill, cast(int, self.seed), params, self.shape, bounds)
        elif self.kind == "units":
            out[...] = 0
            positions = self.detail[0]
            inside = np.ones(positions[0].size, bool)
            for index, (start, stop) in zip(positions, bounds):
                inside &= (index >= start) & (index < stop)
            out[tuple(index[inside] - start for index, (start, _) in zip(positions, bounds))] = 1
        else:
            out[...] = self.whole()[slice_of(bounds)]

    def __call__(self, arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Fill the full array ``arr`` (``Tensor.init_data`` without a layout)."""
        self.fill_slice(arr, tuple((0, size) for size in self.shape))
        return arr


class SliceRequest:
    """This rank's part of a lazy Parameter: ``shape`` to allocate, then ``fill(out)``.

    Parameters
    ----------
    deferred : DeferredFill
    layout : tuple or None
        MindSpore's layout tuple; None for the full tensor.

    Attributes
    ----------
    shape : tuple of int
        The slice's shape.
    record : tuple or None
        ``(layout as plain data, full shape)`` for a slice, None for the full tensor.

    Raises
    ------
    TypeError, ValueError
        For a bad layout, before anything is allocated; when the fill needs the whole matrix (a
        collective), every rank raises if any rank's layout is bad, so none is left waiting.
    """

    everyone: "list[tuple[tuple[int, int], ...]] | None"

    bounds: "tuple[tuple[int, int], ...]"
    shape: "tuple[int, ...]"

    def __init__(self, deferred: DeferredFill, layout: "tuple[Any, ...] | None") -> None:
        self.deferred = deferred
        group = world()
        full_shape = deferred.shape
        self.record: "tuple[tuple[Any, ...], tuple[int, ...]] | None" = None
        if layout is None:
            self.bounds = tuple((0, size) for size in full_shape)
            self.everyone = None
        else:
            error = None
            try:
                rank, size = layout_rank_and_size()
                checked = Layout(layout)
                checked.check(full_shape, size)
                self.bounds = checked.slice_bounds(full_shape, rank)
                self.record = (checked.as_tuple(), full_shape)
            except (TypeError, ValueError) as exc:
                error = exc
            if deferred.needs_whole and group.size > 1:
                group.agree(error)
                self.everyone = group.allgather(self.bounds)
            else:
                if error is not None:
                    raise error
                self.everyone = None
        self.shape = tuple(stop - start for start, stop in self.bounds)

    def fill(self, out: npt.NDArray[Any]) -> None:
        """Fill ``out`` (allocated with ``shape``, C-contiguous) with this rank's slice."""
        deferred = self.deferred
        if self.everyone is None:
            deferred.fill_slice(out, self.bounds)
            return
        group = world()
        if group.rank == 0:
            full = deferred.whole()
            for rank, bounds in enumerate(self.everyone):
                if rank:
                    group.send_array(full[slice_of(bounds)], rank)
            out[...] = full[slice_of(self.bounds)]
        else:
            group.recv_array_into(out, 0)
