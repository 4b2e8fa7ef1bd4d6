"""The compiled storage's copy and fill: every dtype, either side of the parallel threshold, any thread count."""
import re
import sys

import numpy as np
import pytest

from msparam._core._storage import array_copy, array_copy_into, array_empty, array_fill
from msparam.common import dtype as mstype

PARALLEL_MIN = 1 << 20  # _storage.pyx: below this one thread does the work
BLOCK = 1 << 18         # _storage.pyx: bytes per parallel piece
FILL_MIN = 1 << 16      # _storage.pyx: below this NumPy fills
PATTERN = 64            # fill_kernels.h: bytes of the pattern a fill stores
DTYPES = [np.dtype(t._nptype) for t in mstype.all_types]


def counts(dtype):
    """Element counts around the thresholds: tiny, just under/over PARALLEL_MIN, a partial last block."""
    per_min = PARALLEL_MIN // dtype.itemsize
    return [0, 1, per_min - 1, per_min, per_min + 1, (3 * PARALLEL_MIN + BLOCK // 2) // dtype.itemsize + 3]


def random_values(count, dtype):
    raw = np.random.default_rng(count).integers(0, 256, count * dtype.itemsize, dtype=np.uint8)
    return raw.view(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("num_threads", [1, 2, 3])
def test_array_copy_is_an_exact_copy(dtype, num_threads):
    code = mstype.dtype_from_numpy(dtype)._code
    for count in counts(dtype):
        source = random_values(count, dtype)
        copy = array_copy(source, code, num_threads)
        assert copy.dtype == dtype and copy.shape == source.shape
        assert copy.tobytes() == source.tobytes()
        assert not np.shares_memory(copy, source)


@pytest.mark.parametrize("num_threads", [1, 2])
def test_array_copy_of_non_contiguous_and_multi_dimensional_sources(num_threads):
    base = random_values(3 * PARALLEL_MIN // 4, np.dtype(np.float32)).reshape(768, 1024)
    for source in (base.T, base[::2, ::3], base[:, 1:]):
        copy = array_copy(source, mstype.float32._code, num_threads)
        assert copy.flags.c_contiguous and copy.shape == source.shape
        assert np.array_equal(copy, source, equal_nan=True)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("num_threads", [1, 2, 3])
def test_array_copy_into_equals_numpy_copyto(dtype, num_threads):
    code = mstype.dtype_from_numpy(dtype)._code
    for count in counts(dtype):
        source = random_values(count, dtype)
        destination = array_empty((count,), code)
        destination[...] = random_values(count + 1, dtype)[1:]  # stale bytes, so a block left uncopied shows
        array_copy_into(destination, source, num_threads)
        assert destination.tobytes() == source.tobytes()


@pytest.mark.parametrize("num_threads", [1, 2])
def test_array_copy_into_non_contiguous_arrays(num_threads):
    source = random_values(512 * 256, np.dtype(np.float64)).reshape(512, 256)  # PARALLEL_MIN bytes
    for destination_of, source_view in ((lambda: np.zeros((256, 512)), source.T),
                                        (lambda: np.zeros((512, 512))[:, ::2], source)):
        destination = destination_of()
        array_copy_into(destination, source_view, num_threads)
        assert np.array_equal(destination, source_view, equal_nan=True)


def fill_counts(dtype):
    """counts() plus the fill's own thresholds: NumPy's fill below FILL_MIN bytes, a run shorter
    than one pattern past FILL_MIN, a last run of one odd item."""
    per_fill_min = FILL_MIN // dtype.itemsize
    return counts(dtype) + [per_fill_min - 1, per_fill_min, per_fill_min + 1,
                            (FILL_MIN + PATTERN // 2) // dtype.itemsize,
                            (2 * PARALLEL_MIN + BLOCK) // dtype.itemsize + 1]


def fill_values(dtype):
    """Values whose bytes differ within an item (the copied pattern) and zero (one repeated byte)."""
    if dtype == np.bool_:
        return [True, False]
    if dtype.kind == "c":
        return [dtype.type(1 / 3 - 2j), dtype.type(0)]
    if mstype.dtype_from_numpy(dtype)._kind == "f":  # also bfloat16 and float8 (NumPy kind 'V')
        return [dtype.type(1 / 3), dtype.type(-0.0), dtype.type(0)]
    return [dtype.type(3), dtype.type(-1) if dtype.kind == "i" else np.iinfo(dtype).max, dtype.type(0)]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("num_threads", [1, 2, 3])
def test_array_fill_equals_numpy_fill(dtype, num_threads):
    code = mstype.dtype_from_numpy(dtype)._code
    for count in fill_counts(dtype):
        for value in fill_values(dtype):
            target = array_empty((count,), code)
            target[...] = random_values(count, dtype)  # stale bytes, so a block left unfilled shows
            array_fill(target, value, num_threads)
            expected = np.empty(count, dtype)
            expected.fill(value)
            assert target.tobytes() == expected.tobytes(), (count, value)


@pytest.mark.parametrize("dtype, value", [(np.int8, 300), (np.uint16, -1), (np.float32, "one"), (np.int32, 1.5j)])
def test_array_fill_of_a_value_the_dtype_cannot_hold_fails_as_numpy_and_leaves_the_target(dtype, value):
    target = np.arange(PARALLEL_MIN, dtype=np.uint8).view(dtype).copy()
    before = target.copy()
    with pytest.raises(Exception) as numpy_error:
        before.copy().fill(value)
    with pytest.raises(type(numpy_error.value), match=re.escape(str(numpy_error.value))):
        array_fill(target, value, 2)
    assert target.tobytes() == before.tobytes()


def test_array_fill_of_a_non_contiguous_view_fills_only_the_view():
    target = np.zeros((1024, 1024), np.float32)
    array_fill(target[:, ::2], 7.0, 2)
    assert np.all(target[:, ::2] == 7.0) and np.all(target[:, 1::2] == 0.0)


def test_fill_and_copy_of_non_numeric_arrays_stay_numpys():
    # Object references must be counted and odd itemsizes do not tile a block: no byte copies.
    strings = np.zeros(400_000, "S3")  # 1.2 MB, itemsize 3
    array_fill(strings, b"abc", 2)
    assert np.all(strings == b"abc")
    # The reference counts must move exactly as NumPy's own fill and copyto move them (NumPy 1.x's
    # fill keeps one reference of its own to the value: the same happens here, no more).
    count = PARALLEL_MIN // 8 + 5
    expected, marker = reference_deltas(count, np.ndarray.fill, np.copyto), object()
    before = sys.getrefcount(marker)
    objects = np.empty(count, object)
    array_fill(objects, marker, 2)
    assert all(item is marker for item in objects)
    filled = sys.getrefcount(marker) - before
    copied = np.empty_like(objects)
    array_copy_into(copied, objects, 2)
    both = sys.getrefcount(marker) - before
    del objects, copied
    assert (filled, both, sys.getrefcount(marker) - before) == expected


def reference_deltas(count, fill, copy):
    """How the reference count of an object grows when ``fill`` puts it in ``count`` slots, when
    ``copy`` copies those, and what remains after both arrays are gone."""
    marker = object()
    before = sys.getrefcount(marker)
    objects = np.empty(count, object)
    fill(objects, marker)
    filled = sys.getrefcount(marker) - before
    copied = np.empty_like(objects)
    copy(copied, objects)
    both = sys.getrefcount(marker) - before
    del objects, copied
    return filled, both, sys.getrefcount(marker) - before


@pytest.mark.parametrize("num_threads", [1, 2])
def test_read_only_destinations_raise_at_any_size(num_threads):
    for count in (10, PARALLEL_MIN):
        destination = np.zeros(count, np.float32)
        destination.setflags(write=False)
        with pytest.raises(ValueError, match="read-only"):
            array_copy_into(destination, np.ones(count, np.float32), num_threads)
        with pytest.raises(ValueError, match="read-only"):
            array_fill(destination, 1.0, num_threads)
        assert not destination.any()


def test_copy_into_another_shape_of_the_same_size_is_numpys_broadcast_error():
    with pytest.raises(ValueError, match="broadcast"):
        array_copy_into(np.zeros((512, 1024), np.float32), np.ones((1024, 512), np.float32), 2)


@pytest.mark.parametrize("dtype, shape", [
    (np.float64, (2**61 + 1,)),          # 8 * (2**61 + 1) wraps to 8 bytes
    (np.float64, (2**60, 8)),            # the product wraps only after the last dimension
    (np.float32, (2**31, 2**31)),
    (np.float16, (2**62 + 1,)),
    (np.uint8, (2**63 - 1,)),            # fits a Py_ssize_t, but not with the alignment slack
    (np.float64, (0, 2**61 + 1)),        # empty, yet its strides would wrap (NumPy refuses it too)
])
def test_sizes_whose_bytes_overflow_are_refused(dtype, shape):
    code = mstype.dtype_from_numpy(np.dtype(dtype))._code
    with pytest.raises(ValueError, match="too large"):
        array_empty(shape, code)


def test_the_largest_empty_shapes_still_work():
    view = array_empty((0, 2**40), mstype.float64._code)
    assert view.shape == (0, 2**40) and view.nbytes == 0
