"""Parameter storage: one 64-byte-aligned buffer owned by a cdef class.

Python code sees the buffer as a NumPy array (``Storage.array()``, zero-copy, the array keeps the
storage alive); Cython code sees it through the buffer protocol as a typed memoryview, e.g.
``cdef float[:, ::1] w = storage``. Callers validate dtype codes and shapes before they get here.

Buffers of 256 KiB and more come from, and return to, a bounded cache of freed blocks
(alloc_cache.h: why, bounds, threads, fork, sanitizers); ``trim_alloc_cache`` empties it.
"""
cimport numpy as cnp
import os

import numpy as np
from cython.parallel cimport prange
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.mem cimport PyMem_RawCalloc, PyMem_RawFree, PyMem_RawMalloc
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF
from libc.stdint cimport uintptr_t
from libc.string cimport memcpy, memset

from msparam._generated.dtypes cimport DT_COUNT, dtype_itemsize
from msparam._generated.dtype_table import CONCRETE

cdef extern from *:
    """
    #if defined(__linux__)
    #include <sys/mman.h>
    #include <stdint.h>
    /* Ask for transparent huge pages on the 2 MiB-aligned interior of a large buffer (as NumPy does):
       the first touch then faults once per 2 MiB instead of once per 4 KiB. Advice only. */
    static void msparam_advise_huge_pages(char* start, size_t length) {
        const uintptr_t huge = (uintptr_t)2 << 20;
        uintptr_t first = ((uintptr_t)start + huge - 1) & ~(huge - 1);
        uintptr_t last = ((uintptr_t)start + length) & ~(huge - 1);
        if (last > first) (void)madvise((void*)first, last - first, MADV_HUGEPAGE);
    }
    #else
    static void msparam_advise_huge_pages(char* start, size_t length) { (void)start; (void)length; }
    #endif
    /* The symbol by which threadpoolctl tells this module from other "_storage" modules
       (msparam/_threads.py registers the controller that looks for it). */
    Py_EXPORTED_SYMBOL const int msparam_thread_count_controlled_by_msparam_threads = 1;
    """
    void msparam_advise_huge_pages(char* start, size_t length) nogil

cdef extern from "fill_kernels.h" nogil:
    enum: PATTERN "MSP_FILL_PATTERN_BYTES"  # bytes of the repeated fill pattern: a multiple of every numeric itemsize
    int msp_cpu_isa()
    void msp_pattern_fill(int isa, char* destination, size_t nbytes, const char* pattern)

# The vector stores fills use: read once, like every kernel's ISA (MSPARAM_CPU_ISA caps it).
cdef int _FILL_ISA = msp_cpu_isa()

cdef extern from "alloc_cache.h":
    ctypedef struct msparam_cache_stats:
        size_t limit, bytes
        int blocks
        unsigned long long hits, misses
    int msparam_cache_init(int enabled)
    void msparam_cache_after_fork_in_child()
    void* msparam_cache_take(size_t need, size_t* capacity)
    void msparam_cache_give(void* raw, size_t capacity)
    size_t msparam_cache_trim(size_t keep)
    size_t msparam_cache_set_limit(size_t limit)
    msparam_cache_stats msparam_cache_read_stats()
    const int msparam_cache_under_asan
    const size_t MSPARAM_CACHE_DEFAULT_LIMIT
    const size_t MSPARAM_CACHE_MIN_BLOCK

cdef extern from "numpy/arrayobject.h":
    # Not declared by NumPy's .pxd. Steals a reference to descr.
    object PyArray_NewFromDescr(PyTypeObject* subtype, PyObject* descr, int nd, cnp.npy_intp* dims,
                                cnp.npy_intp* strides, void* data, int flags, PyObject* obj)

cnp.import_array()

# MSPARAM_ALLOC_CACHE=0 turns the block cache off for the process (read once, here).
if msparam_cache_init(os.environ.get("MSPARAM_ALLOC_CACHE", "").strip() != "0") != 0:
    raise MemoryError("msparam._core._storage: cannot create the block cache's lock")
os.register_at_fork(after_in_child=lambda: msparam_cache_after_fork_in_child())

# The NumPy dtype of each type code, looked up at run time rather than compiled in as NPY_* type
# numbers: ml_dtypes (bfloat16, float8) gets its type numbers from NumPy when it registers, and is
# imported only when first needed. NumPy's own are here from the start; the others (None) come
# from the resolver msparam.common.dtype registers, which loads ml_dtypes.
cdef list _NUMPY_DTYPES = [np.dtype(getattr(np, row[2].split(".")[1])) if row[2].startswith("numpy.") else None
                           for row in CONCRETE]
cdef object _resolve_dtype = None


def set_dtype_resolver(resolver):
    """Package-internal: ``resolver(code) -> numpy.dtype`` for the codes whose NumPy type is loaded
    on first use (msparam.common.dtype registers it when imported)."""
    global _resolve_dtype
    _resolve_dtype = resolver


cdef object _numpy_dtype(int code):
    descr = _NUMPY_DTYPES[code]
    if descr is None:
        if _resolve_dtype is None:
            raise RuntimeError(f"Storage: the NumPy type of dtype code {code} is loaded by msparam.common.dtype, "
                               f"which has not been imported")
        descr = _NUMPY_DTYPES[code] = _resolve_dtype(code)
    return descr

cdef enum:
    ALIGNMENT = 64      # a cache line: what SIMD loads and the Conv2d/RNG kernels want
    MAX_NDIM = 64       # NumPy 2's NPY_MAXDIMS
    PARALLEL_MIN = 1 << 20  # bytes below which one thread copies or fills faster than a team starts
    BLOCK = 1 << 18     # bytes per parallel piece; a multiple of every itemsize, and stays in L2
    FILL_MIN = 1 << 16  # bytes from which the pattern fill beats NumPy's fill (set-up included)
    HUGE_PAGES_MIN = 4 << 20  # NumPy's threshold for huge-page advice


cdef inline char* _aligned(void* raw) noexcept nogil:
    return <char*>((<uintptr_t>raw + ALIGNMENT) & ~(<uintptr_t>ALIGNMENT - 1))


cdef class Storage:
    """A C-contiguous buffer of one dtype and shape."""
    cdef void* _raw
    cdef size_t _capacity  # bytes of _raw when it came from (and goes back to) the block cache, else 0
    cdef char* _data
    cdef readonly Py_ssize_t nbytes
    cdef readonly Py_ssize_t itemsize
    cdef readonly int code
    cdef int _ndim
    cdef Py_ssize_t _shape[MAX_NDIM]
    cdef Py_ssize_t _strides[MAX_NDIM]

    def __cinit__(self, int code, tuple shape, bint zero=False):
        cdef Py_ssize_t n, nonzero = 1, dim, max_elements
        cdef size_t size
        cdef bint warm
        cdef int i
        if code < 0 or code >= DT_COUNT:
            raise ValueError(f"Storage: unknown dtype code {code}")
        if len(shape) > MAX_NDIM:
            raise ValueError(f"Storage: at most {MAX_NDIM} dimensions, got {len(shape)}")
        self.code = code
        self.itemsize = dtype_itemsize(code)
        self._ndim = len(shape)
        for i in range(self._ndim):
            dim = shape[i]
            if dim < 0:
                raise ValueError(f"Storage: negative dimension in shape {shape}")
            self._shape[i] = dim
        # Every size used below (bytes, strides, the allocation with its alignment slack) must fit
        # in a Py_ssize_t. As NumPy does, the nonzero dimensions' product must fit even when a zero
        # dimension makes the storage empty: the strides are built from it.
        max_elements = (PY_SSIZE_T_MAX - ALIGNMENT) // self.itemsize
        for i in range(self._ndim):
            if self._shape[i] == 0:
                continue
            if nonzero > max_elements // self._shape[i]:
                raise ValueError(f"Storage: shape {shape} of {self.itemsize}-byte items is too large "
                                 f"(more than {max_elements} items)")
            nonzero *= self._shape[i]
        n = 0 if 0 in shape else nonzero
        for i in range(self._ndim - 1, -1, -1):
            self._strides[i] = self.itemsize if i == self._ndim - 1 else self._strides[i + 1] * self._shape[i + 1]
        self.nbytes = n * self.itemsize
        self._raw = msparam_cache_take(self.nbytes + ALIGNMENT, &self._capacity)
        warm = self._raw != NULL
        if not warm:
            size = self._capacity if self._capacity else self.nbytes + ALIGNMENT
            self._raw = PyMem_RawCalloc(size, 1) if zero else PyMem_RawMalloc(size)
            if self._raw == NULL:
                self._capacity = 0
                raise MemoryError(f"Storage: cannot allocate {self.nbytes} bytes")
        self._data = _aligned(self._raw)
        if warm and zero:
            memset(self._data, 0, self.nbytes)
        if not warm and self.nbytes >= HUGE_PAGES_MIN:  # a cached block keeps the advice it had
            msparam_advise_huge_pages(self._data, self.nbytes)

    def __dealloc__(self):
        # Only here does a block go back to the cache: every view of the storage holds it as its
        # base object, so none is left pointing into the block.
        if self._capacity:
            msparam_cache_give(self._raw, self._capacity)
        else:
            PyMem_RawFree(self._raw)

    def array(self):
        """A new writable NumPy view of the storage (zero-copy; the view keeps the storage alive).

        The storage does not cache it: an ndarray is invisible to the garbage collector, so a
        storage -> array -> storage cycle would never be freed. Owners cache the view instead.
        """
        cdef object descr = _numpy_dtype(self.code)
        Py_INCREF(descr)  # PyArray_NewFromDescr steals it
        cdef cnp.ndarray arr = PyArray_NewFromDescr(
            <PyTypeObject*>cnp.ndarray, <PyObject*>descr, self._ndim, <cnp.npy_intp*>self._shape, NULL,
            self._data, cnp.NPY_ARRAY_CARRAY, NULL)
        Py_INCREF(self)
        cnp.PyArray_SetBaseObject(arr, self)
        return arr

    @property
    def shape(self):
        return tuple(self._shape[i] for i in range(self._ndim))


cdef void _copy_blocks(char* destination, const char* source, Py_ssize_t nbytes,
                       int num_threads) noexcept nogil:
    """Copy ``nbytes`` from ``source`` to ``destination`` in BLOCK-sized pieces shared by
    ``num_threads`` threads."""
    cdef Py_ssize_t blocks = (nbytes + BLOCK - 1) // BLOCK, i, length
    if num_threads > blocks:  # never start threads that would get no block
        num_threads = <int>blocks
    for i in prange(blocks, num_threads=num_threads, schedule="static"):
        length = nbytes - i * BLOCK
        if length > BLOCK:
            length = BLOCK
        memcpy(destination + i * BLOCK, source + i * BLOCK, length)


cdef void _fill_pattern(char* destination, Py_ssize_t nbytes, const char* pattern,
                        int num_threads) noexcept nogil:
    """Fill ``nbytes`` of ``destination`` with repeats of the PATTERN-byte ``pattern``, split into
    one contiguous run of whole BLOCKs per thread (a run starts at a multiple of PATTERN, so every
    run continues the same repetition). A pattern of one repeated byte (zeros above all) is a memset."""
    cdef Py_ssize_t blocks = (nbytes + BLOCK - 1) // BLOCK, per_thread, start, length
    cdef int thread, i
    cdef bint one_byte = True
    for i in range(1, <int>PATTERN):
        one_byte = one_byte and pattern[i] == pattern[0]
    if num_threads > blocks:
        num_threads = <int>blocks
    if num_threads <= 1:
        if one_byte:
            memset(destination, pattern[0], nbytes)
        else:
            msp_pattern_fill(_FILL_ISA, destination, nbytes, pattern)
        return
    per_thread = (blocks + num_threads - 1) // num_threads * BLOCK
    for thread in prange(num_threads, num_threads=num_threads, schedule="static"):
        start = thread * per_thread
        length = min(per_thread, nbytes - start)
        if length > 0:
            if one_byte:
                memset(destination + start, pattern[0], length)
            else:
                msp_pattern_fill(_FILL_ISA, destination + start, length, pattern)


def array_copy(cnp.ndarray source not None, int code, int num_threads=1):
    """A view of a new Storage holding a copy of ``source``, which must have the storage's dtype.

    Copied as by :func:`array_copy_into` (large C-contiguous sources by ``num_threads`` threads).
    """
    cdef Storage storage = Storage(code, (<object>source).shape)
    view = storage.array()
    if storage.nbytes < PARALLEL_MIN and cnp.PyArray_IS_C_CONTIGUOUS(source):
        memcpy(storage._data, cnp.PyArray_DATA(source), storage.nbytes)  # small: skip NumPy's copy machinery
    else:
        array_copy_into(view, source, num_threads)
    return view


cdef bint _plain_bytes(cnp.ndarray array):
    """Values that a byte copy may move: a numeric dtype (no object references, whole items per
    PATTERN, and so per BLOCK; bfloat16 and float8 are kind 'V' to NumPy), C-contiguous and writable."""
    return ((array.dtype.kind in "biufc" or array.dtype in _NUMPY_DTYPES) and PATTERN % array.itemsize == 0
            and cnp.PyArray_IS_C_CONTIGUOUS(array) and cnp.PyArray_ISWRITEABLE(array))


def array_copy_into(cnp.ndarray destination not None, cnp.ndarray source not None, int num_threads=1):
    """``numpy.copyto(destination, source)``. Large numeric arrays of one dtype and shape (at least
    PARALLEL_MIN bytes, both C-contiguous, the destination writable) are copied by ``num_threads``
    threads; everything else, errors included, is NumPy's."""
    cdef Py_ssize_t nbytes = cnp.PyArray_NBYTES(destination)
    cdef char* target
    cdef const char* data
    if (nbytes < PARALLEL_MIN or num_threads <= 1 or not _plain_bytes(destination)
            or not cnp.PyArray_IS_C_CONTIGUOUS(source) or destination.dtype != source.dtype
            or (<object>destination).shape != (<object>source).shape):
        cnp.PyArray_CopyInto(destination, source)
        return
    target = <char*>cnp.PyArray_DATA(destination)
    data = <const char*>cnp.PyArray_DATA(source)
    with nogil:
        _copy_blocks(target, data, nbytes, num_threads)


def array_fill(cnp.ndarray target not None, value, int num_threads=1):
    """``target.fill(value)``. A numeric target of at least FILL_MIN bytes (C-contiguous, writable)
    is filled by repeating its first PATTERN bytes, which NumPy's ``fill`` sets (so the value
    converts, or fails to, exactly as there); from PARALLEL_MIN bytes ``num_threads`` threads share
    the work. Everything else, errors included, is NumPy's."""
    cdef Py_ssize_t nbytes = cnp.PyArray_NBYTES(target)
    cdef char pattern[PATTERN]
    if nbytes < FILL_MIN or not _plain_bytes(target):
        target.fill(value)
        return
    target.reshape(-1)[:PATTERN // target.itemsize].fill(value)
    cdef char* base = <char*>cnp.PyArray_DATA(target)
    memcpy(pattern, base, PATTERN)
    if nbytes < PARALLEL_MIN:
        num_threads = 1
    with nogil:
        _fill_pattern(base, nbytes, pattern, num_threads)


def alloc_cache_info():
    """The block cache's state: ``limit`` (bytes it may hold; 0 when off), ``bytes`` and ``blocks``
    held now, ``hits`` and ``misses`` (allocations of a cached size that did and did not reuse a
    block), ``min_block`` (smaller allocations bypass it) and ``asan`` (built with AddressSanitizer,
    where it starts off)."""
    cdef msparam_cache_stats stats = msparam_cache_read_stats()
    return {"limit": stats.limit, "bytes": stats.bytes, "blocks": stats.blocks, "hits": stats.hits,
            "misses": stats.misses, "min_block": MSPARAM_CACHE_MIN_BLOCK, "asan": bool(msparam_cache_under_asan)}


def trim_alloc_cache(keep=0):
    """Free the cached blocks, oldest first, until at most ``keep`` bytes stay, and have the C
    allocator return its free pages to the OS (glibc's ``malloc_trim``). Returns the bytes freed."""
    if isinstance(keep, bool) or not isinstance(keep, int):
        raise TypeError(f"trim_alloc_cache: keep must be an int, got {type(keep).__name__}")
    if keep < 0:
        raise ValueError(f"trim_alloc_cache: keep must be >= 0, got {keep}")
    return msparam_cache_trim(min(keep, <object>PY_SSIZE_T_MAX))


def set_alloc_cache_limit(limit):
    """Bound the block cache to ``limit`` bytes (0 turns it off), trimming it to that; returns the
    previous bound. The default is 64 MiB (0 under AddressSanitizer or with MSPARAM_ALLOC_CACHE=0)."""
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"set_alloc_cache_limit: limit must be an int, got {type(limit).__name__}")
    if limit < 0:
        raise ValueError(f"set_alloc_cache_limit: limit must be >= 0, got {limit}")
    return msparam_cache_set_limit(min(limit, <object>PY_SSIZE_T_MAX))


def array_empty(tuple shape, int code, bint zero=False):
    """A view of a new Storage of ``shape``, uninitialised (or zeroed)."""
    return Storage(code, shape, zero).array()


def array_scalar(value, int code):
    """A view of a new 0-d Storage holding ``value`` converted to the storage's dtype."""
    view = Storage(code, ()).array()
    view[()] = value
    return view
