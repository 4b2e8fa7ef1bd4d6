"""Single-device-equal slices, in one process: each rank's slice, drawn alone, equals the same
slice of the tensor one process draws after the same set_seed, bit for bit."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import msparam as ms
from msparam.common import initializer as inits
from msparam.common.seed import next_stream_seed
from msparam.parallel._deferred import DeferredFill
from msparam.parallel._layout import Layout
from msparam.parallel._slices import fill_random_slice, slice_runs
from interleaving import drawing_meanwhile

INITIALIZERS = {
    "zero": inits.Zero(), "one": inits.One(), "constant": inits.Constant(0.3), "uniform": inits.Uniform(0.5),
    "normal": inits.Normal(1.0, 0.5), "truncated_normal": inits.TruncatedNormal(0.5, 0.1, -0.4, 0.9),
    "xavier_uniform": inits.XavierUniform(), "xavier_normal": inits.XavierNormal(2.0),
    "he_uniform": inits.HeUniform(), "he_normal": inits.HeNormal(mode="fan_out"),
    "variance_scaling": inits.VarianceScaling(), "variance_scaling_normal":
        inits.VarianceScaling(2.0, "fan_avg", "untruncated_normal"),
    "identity": inits.Identity(), "orthogonal": inits.Orthogonal(), "sparse": inits.Sparse(0.3, 0.2),
}
DTYPES = [ms.float16, ms.float32, ms.float64]
# (shape, dev_mat, tensor_map): rows, columns, both, replicated axes, a 3-D device matrix,
# a tuple of axes, odd run starts (columns of 2 or 5), a 3-D tensor.
LAYOUTS = [
    ((8, 10), [4], [0, -1]), ((8, 10), [5], [-1, 0]), ((8, 10), [2, 5], [1, 0]), ((8, 10), [2, 2], [1, -1]),
    ((6, 10), [2, 3], [0, -1]), ((8, 10), [2, 2, 2], [2, -1]), ((8, 10), [2, 2, 2], [(2, 0), -1]),
    ((6, 6), [3, 2], [0, 1]), ((4, 6, 3), [2, 3], [1, 0, -1]),
]


def single_process(init, shape, dtype, seed=7):
    """The full tensor and the global RandomState's next draw, as one process makes them."""
    ms.set_seed(seed)
    full = ms.Parameter(inits.initializer(init, shape, dtype)).asnumpy().copy()
    return full, np.random.randint(1 << 30)


def rank_slices(deferred, shape, dev_mat, tensor_map):
    layout = Layout((dev_mat, tensor_map, [], 0, True, ""))
    for rank in range(math.prod(dev_mat)):
        bounds = layout.slice_bounds(shape, rank)
        out = np.empty([stop - start for start, stop in bounds], deferred.nptype)
        deferred.fill_slice(out, bounds)
        yield tuple(slice(*b) for b in bounds), out


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", INITIALIZERS)
def test_every_slice_equals_the_single_process_slice(name, dtype):
    init = INITIALIZERS[name]
    for shape, dev_mat, tensor_map in LAYOUTS:
        if name in ("identity", "sparse") and len(shape) != 2:
            continue
        full, next_draw = single_process(init, shape, dtype)
        ms.set_seed(7)
        deferred = DeferredFill(init, shape, dtype._nptype)
        assert np.random.randint(1 << 30) == next_draw  # the same draws were consumed
        for index, values in rank_slices(deferred, shape, dev_mat, tensor_map):
            assert values.tobytes() == full[index].tobytes(), (shape, dev_mat, tensor_map, index)


@pytest.mark.parametrize("groups, shape", [(1, (4, 4, 3, 3)), (2, (6, 4, 3)), (2, (4, 2, 3, 3, 3))])
def test_dirac_slices(groups, shape):
    init = inits.Dirac(groups)
    full, _ = single_process(init, shape, ms.float32)
    deferred = DeferredFill(init, shape, np.float32)
    dev_mat, tensor_map = [2, 2], [1, 0] + [-1] * (len(shape) - 2)
    for index, values in rank_slices(deferred, shape, dev_mat, tensor_map):
        assert np.array_equal(values, full[index])


def test_an_initializer_of_another_class_is_drawn_whole_at_construction():
    class Halves(inits.Initializer):
        def _initialize(self, arr):
            arr[...] = np.random.random_sample(arr.shape) / 2

    full, next_draw = single_process(Halves(), (4, 6), ms.float32)
    ms.set_seed(7)
    deferred = DeferredFill(Halves(), (4, 6), np.float32)
    assert np.random.randint(1 << 30) == next_draw
    for index, values in rank_slices(deferred, (4, 6), [2, 3], [1, 0]):
        assert np.array_equal(values, full[index])


def test_slices_materialised_in_any_order_match():
    """The stream seed belongs to the Parameter: later draws do not change an earlier slice."""
    full, _ = single_process(inits.Normal(), (8, 8), ms.float32)
    ms.set_seed(7)
    deferred = DeferredFill(inits.Normal(), (8, 8), np.float32)
    np.random.randint(1 << 30, size=100)
    slices = list(rank_slices(deferred, (8, 8), [4], [-1, 0]))
    for index, values in reversed(slices):
        assert np.array_equal(values, full[index])


def test_runs_of_a_slice():
    starts, length = slice_runs((4, 6, 5), ((2, 4), (0, 6), (0, 5)))
    assert starts.tolist() == [60] and length == 60
    starts, length = slice_runs((4, 6, 5), ((0, 2), (3, 6), (0, 5)))
    assert starts.tolist() == [15, 45] and length == 15
    starts, length = slice_runs((4, 6), ((0, 4), (0, 6)))
    assert starts.tolist() == [0] and length == 24


@given(start=st.integers(0, 37), count=st.integers(1, 40), kind=st.sampled_from(["uniform", "normal", "truncated"]))
def test_a_run_at_any_start_equals_the_whole_fill(start, count, kind):
    from msparam.common import _checked_fill
    fill, params = {"uniform": (_checked_fill.fill_uniform, (-1.0, 1.0)), "normal": (_checked_fill.fill_normal, (0.0, 1.0)),
                    "truncated": (_checked_fill.fill_truncated_normal, (0.0, 1.0, -2.0, 2.0))}[kind]
    whole = np.empty(80, np.float32)
    fill(12345, whole, *params)
    out = np.empty(count, np.float32)
    fill_random_slice(out, fill, 12345, params, (80,), ((start, start + count),))
    assert out.tobytes() == whole[start:start + count].tobytes()


@st.composite
def layouts(draw):
    ndim = draw(st.integers(1, 3))
    dev_mat = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    axes = list(range(len(dev_mat)))
    tensor_map = []
    for _ in range(ndim):
        chosen = draw(st.lists(st.sampled_from(axes), max_size=2, unique=True)) if axes else []
        axes = [axis for axis in axes if axis not in chosen]
        tensor_map.append(-1 if not chosen else chosen[0] if len(chosen) == 1 else tuple(chosen))
    splits = Layout((dev_mat, tensor_map, [], 0, True, "")).splits()
    shape = tuple(parts * draw(st.integers(1, 3)) for parts in splits)
    return shape, dev_mat, tensor_map


@given(case=layouts(), dtype=st.sampled_from(DTYPES), name=st.sampled_from(["normal", "uniform", "truncated_normal"]))
def test_any_layout_gives_single_device_slices(case, dtype, name):
    shape, dev_mat, tensor_map = case
    full, _ = single_process(INITIALIZERS[name], shape, dtype)
    ms.set_seed(7)
    deferred = DeferredFill(INITIALIZERS[name], shape, dtype._nptype)
    for index, values in rank_slices(deferred, shape, dev_mat, tensor_map):
        assert values.tobytes() == full[index].tobytes()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("kind", ["uniform", "normal", "truncated"])
def test_many_runs_in_one_compiled_call_on_any_thread_count(threads, kind):
    from msparam.common import _checked_fill
    fill, params = {"uniform": (_checked_fill.fill_uniform, (-1.0, 1.0)), "normal": (_checked_fill.fill_normal, (0.0, 1.0)),
                    "truncated": (_checked_fill.fill_truncated_normal, (0.0, 1.0, -2.0, 2.0))}[kind]
    whole = np.empty(200 * 37, np.float32)
    fill(99, whole, *params)
    starts = np.arange(200, dtype=np.int64) * 37 + 5  # 200 runs of 29 elements, every alignment
    out = np.empty(200 * 29, np.float32)
    previous = ms.set_num_threads(threads)
    try:
        fill(99, out, *params, starts=starts)
    finally:
        ms.set_num_threads(previous)
    assert out.tobytes() == whole.reshape(200, 37)[:, 5:34].tobytes()


def test_run_starts_are_checked():
    from msparam.common import _checked_fill
    out = np.empty(8, np.float32)
    with pytest.raises(TypeError, match="int64"):
        _checked_fill.fill_uniform(1, out, 0.0, 1.0, starts=np.zeros(2, np.int32))
    with pytest.raises(ValueError, match="whole number of runs"):
        _checked_fill.fill_uniform(1, out, 0.0, 1.0, starts=np.zeros(3, np.int64))
    with pytest.raises(ValueError, match=">= 0"):
        _checked_fill.fill_uniform(1, out, 0.0, 1.0, starts=np.array([0, -4], np.int64))
    with pytest.raises(ValueError, match="1-D"):
        _checked_fill.fill_uniform(1, out, 0.0, 1.0, starts=np.zeros((2, 1), np.int64))


def test_a_whole_matrix_fill_replays_its_draws_while_other_threads_draw(monkeypatch):
    """A lazy Orthogonal Parameter snapshots the RandomState, skips its draws, and later replays
    them from the snapshot (swapping the global state for a moment): another thread's draw forced
    into either step must neither shift the snapshot nor draw from the borrowed state."""
    ms.set_seed(9)
    expected_whole = DeferredFill(inits.Orthogonal(), (8, 8), np.float32).whole()
    expected_seeds = [next_stream_seed(), next_stream_seed()]
    ms.set_seed(9)
    seeds, threads = [], []
    monkeypatch.setattr(np.random, "get_state", drawing_meanwhile(np.random.get_state, seeds, threads))
    deferred = DeferredFill(inits.Orthogonal(), (8, 8), np.float32)
    monkeypatch.undo()
    threads[0].join()
    deferred.initializer = drawing_meanwhile(deferred.initializer, seeds, threads)
    whole = deferred.whole()
    threads[1].join()
    assert whole.tobytes() == expected_whole.tobytes()
    assert seeds == expected_seeds
