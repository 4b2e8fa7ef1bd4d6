"""NumPy's legacy permutations, drawn from a NumPy bit generator in compiled code.

MindSpore's Sparse initializer zeroes, column by column, the first rows of
``numpy.random.permutation(rows)``. That call shuffles ``arange(rows)`` as NumPy's legacy
``RandomState`` does (frozen since NumPy 1.17, NEP 19): for ``i`` from ``rows - 1`` down to 1,
swap item ``i`` with item ``j``, where ``j`` is the legacy bounded draw on ``[0, i]`` (the
smallest all-ones mask covering ``i``, applied to ``next_uint32`` draws, or to ``next_uint64``
draws when ``i`` exceeds 2**32 - 1, until the result is at most ``i``). This module makes the
same draws on the same generator, through the capsule NumPy documents for extending its random
module, so the values and the generator's state after them are NumPy's, without NumPy's
per-call overhead (which is most of the cost: a 1000 x 1000 Sparse fill makes 1000 calls).
"""
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, malloc
from numpy.random cimport bitgen_t


cdef inline uint64_t _legacy_bounded(bitgen_t* generator, uint64_t high) noexcept nogil:
    """A draw on [0, high] as NumPy's legacy ``random_interval``: masked rejection."""
    cdef uint64_t mask = high, value
    if high == 0:
        return 0
    mask |= mask >> 1
    mask |= mask >> 2
    mask |= mask >> 4
    mask |= mask >> 8
    mask |= mask >> 16
    mask |= mask >> 32
    if high <= <uint64_t>0xFFFFFFFFu:
        while True:
            value = generator.next_uint32(generator.state) & mask
            if value <= high:
                return value
    while True:
        value = generator.next_uint64(generator.state) & mask
        if value <= high:
            return value


cdef void _legacy_permutation(bitgen_t* generator, Py_ssize_t* items, Py_ssize_t count) noexcept nogil:
    """``items`` = ``numpy.random.permutation(count)`` of a RandomState on ``generator``."""
    cdef Py_ssize_t i, j, swapped
    for i in range(count):
        items[i] = i
    for i in range(count - 1, 0, -1):
        j = <Py_ssize_t>_legacy_bounded(generator, <uint64_t>i)
        swapped = items[j]
        items[j] = items[i]
        items[i] = swapped


def zero_permuted_rows(bit_generator, Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t zeros_per_column,
                       float[:, :] values=None):
    """For each of ``cols`` columns in turn, draw ``numpy.random.permutation(rows)`` from
    ``bit_generator`` (a NumPy BitGenerator, e.g. ``numpy.random.get_bit_generator()``) and set
    its first ``zeros_per_column`` rows of that column of ``values`` to 0.

    ``values`` None makes the draws alone. The generator's lock is held throughout, so no other
    user of the generator interleaves draws. The caller checks that ``values`` has shape
    ``(rows, cols)`` and that ``0 <= zeros_per_column <= rows``.
    """
    cdef bitgen_t* generator = <bitgen_t*>PyCapsule_GetPointer(bit_generator.capsule, "BitGenerator")
    cdef Py_ssize_t* items
    cdef Py_ssize_t col, k
    cdef bint fill = values is not None
    if rows < 1 or cols < 1:
        return
    items = <Py_ssize_t*>malloc(rows * sizeof(Py_ssize_t))
    if items == NULL:
        raise MemoryError(f"zero_permuted_rows: cannot allocate {rows} row indices")
    try:
        with bit_generator.lock, nogil:
            for col in range(cols):
                _legacy_permutation(generator, items, rows)
                if fill:
                    for k in range(zeros_per_column):
                        values[items[k], col] = 0
    finally:
        free(items)
