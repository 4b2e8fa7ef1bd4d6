"""Compiled random fills: MindSpore 2.10's Philox4x32-10 streams mapped to float32 distributions.

The numerics live in C headers (philox.h: the generator; distributions.h and truncated_normal.h:
the exact uniform, normal and truncated normal maps; random_simd.h: their vector forms).  A distribution is a map
from the stream's uint32 numbers to float32 values, so adding one is a map plus a fill function
here; the generator and the parallel split stay as they are.

This module only splits a fill into block-aligned chunks over OpenMP threads; every chunk skips
ahead to its own place in the stream, so the result never depends on the thread count.  Callers
(msparam.common._checked_fill) validate arguments first.
"""
from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.string cimport memcpy
from cython.parallel cimport prange

from msparam._core._cpu_isa import available_isas, isa_index

cdef extern from "random_kernels.h" nogil:
    double MSP_NORMAL_TOLERANCE
    double MSP_TRUNCNORM_TOLERANCE
    double MSP_NORMAL_PART_ERROR
    double MSP_TRUNCNORM_ERF_INV_ERROR
    ctypedef void (*msp_generator_fn)(uint64_t seed, uint64_t first, Py_ssize_t nblocks,
                                      uint32_t *out)
    ctypedef void (*msp_map_fn)(const uint32_t *bits, float *out, Py_ssize_t n,
                                const void *params)
    msp_generator_fn msp_generator_for(int isa)
    msp_map_fn msp_uniform_map_for(int isa)
    msp_map_fn msp_normal_map_for(int isa)
    void msp_normal_part_errors(int isa, double *radius_rel, double *trig_abs)
    ctypedef struct msp_truncnorm_t:
        pass
    msp_truncnorm_t msp_truncnorm_prepare(float a, float b, float mean, float sigma)
    msp_map_fn msp_truncated_normal_map_for(int isa)
    double msp_truncnorm_erf_inv_error(int isa, const double *q, Py_ssize_t n,
                                       Py_ssize_t *flagged)
    void msp_fill_range(msp_generator_fn generate, msp_map_fn map, const void *params,
                        uint64_t seed, float *out, uint64_t start, Py_ssize_t count)

__all__ = ["fill_uniform", "fill_normal", "fill_truncated_normal", "values_from_bits",
           "stream_numbers", "available_isas", "normal_part_errors", "truncated_normal_erf_inv_error", "NORMAL_TOLERANCE",
           "TRUNCNORM_TOLERANCE", "NORMAL_PART_ERROR", "TRUNCNORM_ERF_INV_ERROR", "CHUNK"]

NORMAL_TOLERANCE = MSP_NORMAL_TOLERANCE
TRUNCNORM_TOLERANCE = MSP_TRUNCNORM_TOLERANCE
# The error bounds of the vector parts that the exactness arguments assume (random_kernels.h).
NORMAL_PART_ERROR = MSP_NORMAL_PART_ERROR
TRUNCNORM_ERF_INV_ERROR = MSP_TRUNCNORM_ERF_INV_ERROR

# Elements per parallel chunk: a multiple of 4, so every chunk starts on a Philox block (and a
# normal pair).  A fill of one chunk or less runs on the calling thread: no OpenMP team to wake.
# Chunks are handed out dynamically: on a shared machine one thread may run slower than another.
cdef enum:
    _CHUNK = 1 << 15
CHUNK = _CHUNK


cdef int _check_start(uint64_t start) except -1:
    if start % 4:
        raise ValueError(f"'start' must be a multiple of 4 (a Philox block), but got {start}.")
    return 0


cdef void _fill(msp_generator_fn generate, msp_map_fn map, const void *params, uint64_t seed,
                float *out, Py_ssize_t n, uint64_t start, int num_threads) noexcept nogil:
    """Elements start .. start + n - 1 of the fill into out[0 .. n - 1]."""
    cdef Py_ssize_t chunks = (n + _CHUNK - 1) // _CHUNK
    cdef Py_ssize_t c
    if chunks <= 1 or num_threads <= 1:
        msp_fill_range(generate, map, params, seed, out, start, n)
        return
    if num_threads > chunks:
        num_threads = <int>chunks
    for c in prange(chunks, num_threads=num_threads, schedule="dynamic"):
        msp_fill_range(generate, map, params, seed, out + c * _CHUNK, start + c * _CHUNK,
                       min(<Py_ssize_t>_CHUNK, n - c * _CHUNK))


cdef Py_ssize_t _fill_head(msp_generator_fn generate, msp_map_fn map, const void *params, uint64_t seed,
                           float *out, uint64_t start, Py_ssize_t n) noexcept nogil:
    """Elements ``start ..`` up to the next multiple of 4 (at most ``n``) from their Philox block
    (a normal pair never straddles a block); returns how many were written."""
    cdef uint32_t bits[4]
    cdef float block[4]
    cdef Py_ssize_t offset = <Py_ssize_t>(start % 4)
    cdef Py_ssize_t taken = min(4 - offset, n) if offset else 0
    if taken:
        generate(seed, (start - <uint64_t>offset) // 4, 1, bits)
        map(bits, block, 4, params)
        memcpy(out, block + offset, taken * sizeof(float))
    return taken


cdef void _fill_runs(msp_generator_fn generate, msp_map_fn map, const void *params, uint64_t seed,
                     float *out, const int64_t *starts, Py_ssize_t nruns, Py_ssize_t length,
                     int num_threads) noexcept nogil:
    """Run r (elements starts[r] .. starts[r] + length - 1, any start) into out[r * length ..]:
    runs in parallel when there are several per thread, else each run's chunks."""
    cdef Py_ssize_t r, taken
    cdef uint64_t start
    if nruns < 4 * num_threads:
        for r in range(nruns):
            start = <uint64_t>starts[r]
            taken = _fill_head(generate, map, params, seed, out + r * length, start, length)
            _fill(generate, map, params, seed, out + r * length + taken, length - taken, start + taken,
                  num_threads)
        return
    for r in prange(nruns, num_threads=num_threads, schedule="static"):
        start = <uint64_t>starts[r]
        taken = _fill_head(generate, map, params, seed, out + r * length, start, length)
        msp_fill_range(generate, map, params, seed, out + r * length + taken, start + taken, length - taken)


cdef int _fill_checked(int index, msp_map_fn map, const void *params, uint64_t seed, float[::1] out,
                       uint64_t start, int num_threads, starts=None) except -1:
    """The fill functions' common tail: check ``start``, then fill ``out`` with ISA ``index``'s
    generator and ``map`` (nothing to do for an empty ``out``); with ``starts``, ``out`` is
    ``len(starts)`` equal runs, each from its own start (checked by the caller)."""
    cdef const int64_t[::1] run_starts
    cdef Py_ssize_t nruns
    if starts is not None:
        run_starts = starts
        nruns = run_starts.shape[0]
        if nruns and out.shape[0]:
            with nogil:
                _fill_runs(msp_generator_for(index), map, params, seed, &out[0], &run_starts[0], nruns,
                           out.shape[0] // nruns, num_threads)
        return 0
    _check_start(start)
    if out.shape[0]:
        with nogil:
            _fill(msp_generator_for(index), map, params, seed, &out[0], out.shape[0], start, num_threads)
    return 0


def fill_uniform(uint64_t seed, float[::1] out, float a, float b, int num_threads, isa=None,
                 uint64_t start=0, starts=None):
    """Uniform: out[i] = (float)((b - a) * u_i + a), u_i = uint32 number i of stream ``seed`` / 2^32.

    Parameters
    ----------
    seed : int
        Stream seed (0 .. 2**64 - 1).
    out : float32 array, 1-D, C-contiguous
        Filled in place.
    a, b : float
        Rounded to float32 on the way in (C float arguments), then used in double.
    num_threads : int
        Upper bound on the OpenMP threads; fills of one chunk or less use the calling thread.
    isa : str, optional
        One of available_isas() (default: the widest); every ISA gives the same bits.
    start : int, default 0
        Index of the fill's element that goes to out[0] (a multiple of 4): a fill can be made
        piece by piece.
    starts : int64 array, optional
        Instead of ``start``: ``out`` holds ``len(starts)`` runs of equal length, run r being
        the fill's elements from ``starts[r]`` on (any index): a slice of a larger tensor.
    """
    cdef int index = isa_index(isa)
    cdef double params[2]
    params[0] = a
    params[1] = b
    _fill_checked(index, msp_uniform_map_for(index), params, seed, out, start, num_threads, starts)


def fill_normal(uint64_t seed, float[::1] out, float mean, float sigma, int num_threads,
                isa=None, uint64_t start=0, starts=None):
    """Normal by Box-Muller on the stream's pairs (see distributions.h): element 2k is
    mean + r cos(theta), element 2k + 1 is mean + r sin(theta) of pair k.

    Arguments as for fill_uniform; ``mean`` and ``sigma`` are rounded to float32 on the way in.
    """
    cdef int index = isa_index(isa)
    cdef double params[2]
    params[0] = mean
    params[1] = sigma
    _fill_checked(index, msp_normal_map_for(index), params, seed, out, start, num_threads, starts)


def fill_truncated_normal(uint64_t seed, float[::1] out, float mean, float sigma, float a,
                          float b, int num_threads, isa=None, uint64_t start=0, starts=None):
    """Truncated normal on [a, b] by MindSpore's inverse CDF (truncated_normal.h), sigma > 0.

    Arguments as for fill_uniform.
    """
    cdef int index = isa_index(isa)
    cdef msp_truncnorm_t prepared = msp_truncnorm_prepare(a, b, mean, sigma)
    _fill_checked(index, msp_truncated_normal_map_for(index), &prepared, seed, out, start, num_threads,
                  starts)


def stream_numbers(uint64_t seed, uint32_t[::1] out, isa=None, uint64_t start=0):
    """The raw uint32 numbers start .. start + len(out) - 1 of stream ``seed`` (what the maps of
    the fills consume), from ``isa``'s generator; len(out) and ``start`` multiples of 4."""
    cdef int index = isa_index(isa)
    _check_start(start)
    if out.shape[0] % 4:
        raise ValueError(f"len(out) must be a multiple of 4 (whole Philox blocks), but got {out.shape[0]}.")
    if out.shape[0]:
        with nogil:
            msp_generator_for(index)(seed, start // 4, out.shape[0] // 4, &out[0])


def values_from_bits(kind, const uint32_t[::1] bits, float[::1] out, params, isa=None):
    """``out[i]``: the value fill_<kind> makes from stream number ``bits[i]``, through ``isa``'s map.

    The fills' maps applied to given numbers instead of a Philox stream: a value can be asked
    for at any input, e.g. a stream number whose low 23 bits are all zero (the Box-Muller clamp)
    in any vector lane, or the extreme numbers 0 and 2**32 - 1 of a truncated normal.

    Parameters
    ----------
    kind : {'uniform', 'normal', 'truncated_normal'}
    bits : uint32 array, 1-D, C-contiguous
        len(out) rounded up to a multiple of 4 numbers; normal pairs are (bits[2k], bits[2k + 1]).
    out : float32 array, 1-D, C-contiguous
        Filled in place.
    params : tuple of float
        As the fill takes them after ``out``: (a, b), (mean, sigma) or (mean, sigma, a, b);
        rounded to float32.
    isa : str, optional
        As for fill_uniform.
    """
    cdef int index = isa_index(isa)
    cdef Py_ssize_t n = out.shape[0]
    if bits.shape[0] != (n + 3) // 4 * 4:
        raise ValueError(f"len(bits) must be len(out) rounded up to a multiple of 4 ({(n + 3) // 4 * 4}), "
                         f"but got {bits.shape[0]}.")
    cdef double pair[2]  # (a, b) or (mean, sigma), rounded to float32 as the fills round them
    cdef msp_truncnorm_t prepared
    cdef const void *prepared_params
    cdef msp_map_fn map
    cdef float mean, sigma, a, b
    if kind == "uniform" or kind == "normal":
        a, b = params
        pair[0] = a
        pair[1] = b
        prepared_params = pair
        map = msp_uniform_map_for(index) if kind == "uniform" else msp_normal_map_for(index)
    elif kind == "truncated_normal":
        mean, sigma, a, b = params
        prepared = msp_truncnorm_prepare(a, b, mean, sigma)
        prepared_params = &prepared
        map = msp_truncated_normal_map_for(index)
    else:
        raise ValueError(f"'kind' must be 'uniform', 'normal' or 'truncated_normal', but got {kind!r}.")
    if n:
        with nogil:
            map(&bits[0], &out[0], n, prepared_params)


def normal_part_errors(isa):
    """(radius relative error, cos/sin absolute error) of ``isa``'s fast normal path against the
    C library, maximised over all 2^23 inputs each; (0, 0) for 'base'."""
    cdef int index = isa_index(isa)
    cdef double radius_rel, trig_abs
    with nogil:
        msp_normal_part_errors(index, &radius_rel, &trig_abs)
    return radius_rel, trig_abs


def truncated_normal_erf_inv_error(isa, const double[::1] q):
    """(largest relative difference, lanes flagged unsure) of ``isa``'s vector erf^-1 (the fast
    truncated normal path) against the scalar one, over erf^-1(1 - q) for the given q (len(q) a
    multiple of 32); (0, 0) for 'base'."""
    cdef int index = isa_index(isa)
    if q.shape[0] % 32:
        raise ValueError(f"len(q) must be a multiple of 32, but got {q.shape[0]}.")
    cdef Py_ssize_t flagged = 0
    cdef double worst = 0.0
    if q.shape[0]:
        with nogil:
            worst = msp_truncnorm_erf_inv_error(index, &q[0], q.shape[0], &flagged)
    return worst, flagged
