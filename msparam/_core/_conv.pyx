"""Compiled Conv2d forward pass (NCHW): packed weights, register-blocked kernels, OpenMP tiles.

The layer (``msparam.nn.Conv2d``) resolves ``pad_mode`` into explicit paddings and calls
:class:`Conv2dPlan`; this module validates shapes and dtypes itself before any ``nogil`` code.
"""
import math

import numpy as np

cimport numpy as cnp
from cython.parallel cimport parallel, prange, threadid
from openmp cimport omp_get_num_threads
from libc.string cimport memcmp, memcpy, memset

from msparam._core._winograd import winograd_for

cnp.import_array()

ctypedef fused floating:
    float
    double

cdef extern from "conv_kernels.h" nogil:
    int MSP_ISA_BASE
    int MSP_ISA_AVX2
    int MSP_ISA_AVX512
    int msp_cpu_isa()
    void msp_barrier()
    int msp_conv_mr(int isa, int is_double, int channel_vectors)
    int msp_conv_nr(int isa, int is_double, int channel_vectors)
    void msp_dense_pv_f32(int isa, const float *inp, const Py_ssize_t *koff, Py_ssize_t K,
                          const float *w, float *out, Py_ssize_t ld, const float *bias)
    void msp_dense_pv_f64(int isa, const double *inp, const Py_ssize_t *koff, Py_ssize_t K,
                          const double *w, double *out, Py_ssize_t ld, const double *bias)
    void msp_dense_cv_f32(int isa, const float *inp, Py_ssize_t q0, Py_ssize_t n,
                          Py_ssize_t w_out, Py_ssize_t wq, const Py_ssize_t *koff, Py_ssize_t K,
                          const float *w, float *tile)
    void msp_dense_cv_f64(int isa, const double *inp, Py_ssize_t q0, Py_ssize_t n,
                          Py_ssize_t w_out, Py_ssize_t wq, const Py_ssize_t *koff, Py_ssize_t K,
                          const double *w, double *tile)
    void msp_dw_f32(int isa, const float *inp, const Py_ssize_t *koff, Py_ssize_t K,
                    const float *w, float *out, Py_ssize_t n)
    void msp_dw_f64(int isa, const double *inp, const Py_ssize_t *koff, Py_ssize_t K,
                    const double *w, double *out, Py_ssize_t n)
    void msp_store_f32(int isa, float *dst, Py_ssize_t plane, const float *tile,
                       Py_ssize_t m_step, Py_ssize_t j_step, Py_ssize_t mr, Py_ssize_t run,
                       const float *bias)
    void msp_store_f64(int isa, double *dst, Py_ssize_t plane, const double *tile,
                       Py_ssize_t m_step, Py_ssize_t j_step, Py_ssize_t mr, Py_ssize_t run,
                       const double *bias)
    void msp_gather_f32(int isa, const float *src, Py_ssize_t stride, float *dst, Py_ssize_t n)
    void msp_gather_f64(int isa, const double *src, Py_ssize_t stride, double *dst,
                        Py_ssize_t n)
    void msp_pack_panel_f32(const float *w, Py_ssize_t cg_out, Py_ssize_t K, Py_ssize_t mr,
                            Py_ssize_t nb, Py_ssize_t block, float *panels)
    void msp_pack_panel_f64(const double *w, Py_ssize_t cg_out, Py_ssize_t K, Py_ssize_t mr,
                            Py_ssize_t nb, Py_ssize_t block, double *panels)
    ctypedef struct msp_dw_geometry:
        Py_ssize_t H, W, kh, kw, dh, dw, top, left, H_out, W_out
        const void *zeros
    void msp_dw_plane_f32(int isa, const float *inp, const msp_dw_geometry *g, const float *w,
                          float bias, float *out)
    void msp_dw_plane_f64(int isa, const double *inp, const msp_dw_geometry *g,
                          const double *w, double bias, double *out)

__all__ = ["Conv2dPlan", "conv2d_forward", "available_isas"]

_ISA_NAMES = {MSP_ISA_BASE: "base", MSP_ISA_AVX2: "avx2", MSP_ISA_AVX512: "avx512"}
_BEST_ISA = msp_cpu_isa()
# Work (multiply-adds) below which one thread beats waking the OpenMP team.
_TINY_MACS = 1 << 18
# Estimated store cost per output value in multiply-add units, by kernel orientation
# (channel_vectors): pixel-vector blocks copy out as contiguous runs, channel-vector blocks
# are transposed one value at a time.
_STORE_MACS = (2, 32)
_KERNELS = ("pixel_vectors", "channel_vectors")
# Weight sizes (bytes) from which the change check is split across the threads.
cdef Py_ssize_t _PARALLEL_COMPARE_BYTES = 1 << 18
# Element counts beyond this could overflow a byte size or an offset sum in Py_ssize_t.
_MAX_ELEMENTS = (1 << 62) // 16


def available_isas():
    """Names of the SIMD paths this CPU can run, narrowest first (always starts with 'base'),
    up to the cap set by the environment variable ``MSPARAM_CPU_ISA``, if any."""
    return [_ISA_NAMES[i] for i in range(_BEST_ISA + 1)]


cdef inline void _dense_pv(const floating *inp, const Py_ssize_t *koff, Py_ssize_t K,
                           const floating *w, floating *out, Py_ssize_t ld,
                           const floating *bias, int isa) noexcept nogil:
    if floating is float:
        msp_dense_pv_f32(isa, inp, koff, K, w, out, ld, bias)
    else:
        msp_dense_pv_f64(isa, inp, koff, K, w, out, ld, bias)


cdef inline void _dense_cv(const floating *inp, Py_ssize_t q0, Py_ssize_t n, Py_ssize_t W_out,
                           Py_ssize_t Wq, const Py_ssize_t *koff, Py_ssize_t K,
                           const floating *w, floating *tile, int isa) noexcept nogil:
    if floating is float:
        msp_dense_cv_f32(isa, inp, q0, n, W_out, Wq, koff, K, w, tile)
    else:
        msp_dense_cv_f64(isa, inp, q0, n, W_out, Wq, koff, K, w, tile)


cdef inline void _dw(const floating *inp, const Py_ssize_t *koff, Py_ssize_t K,
                     const floating *w, floating *out, Py_ssize_t n, int isa) noexcept nogil:
    if floating is float:
        msp_dw_f32(isa, inp, koff, K, w, out, n)
    else:
        msp_dw_f64(isa, inp, koff, K, w, out, n)


cdef inline void _dw_plane(const floating *inp, const msp_dw_geometry *g, const floating *w,
                           floating bias, floating *out, int isa) noexcept nogil:
    if floating is float:
        msp_dw_plane_f32(isa, inp, g, w, bias, out)
    else:
        msp_dw_plane_f64(isa, inp, g, w, bias, out)


cdef inline void _pad_row(const floating *src, Py_ssize_t H, Py_ssize_t W, floating *dst,
                          Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t Hq, Py_ssize_t Wq,
                          Py_ssize_t top, Py_ssize_t left, Py_ssize_t row, int isa) noexcept nogil:
    """Row ``row`` of the zero-padded copy of one (H, W) plane split into sh*sw stride phases
    of (Hq, Wq): phase (row // Hq) holds input rows a*sh + ph - top, columns b*sw + pw - left."""
    cdef Py_ssize_t phase = row // Hq
    cdef Py_ssize_t y = (row - phase * Hq) * sh + phase // sw - top
    cdef Py_ssize_t pw = phase % sw
    cdef Py_ssize_t b0, b1, b
    cdef floating *out = dst + row * Wq
    cdef const floating *line
    if y < 0 or y >= H:
        memset(out, 0, Wq * sizeof(floating))
        return
    # Columns b0 <= b < b1 fall inside the input row.
    b0 = (left - pw + sw - 1) // sw if left > pw else 0
    b1 = (W + left - pw + sw - 1) // sw
    if b1 > Wq:
        b1 = Wq
    if b0 > b1:
        b0 = b1
    line = src + y * W + pw - left
    memset(out, 0, b0 * sizeof(floating))
    if sw == 1:
        memcpy(out + b0, line + b0, (b1 - b0) * sizeof(floating))
    elif floating is float:
        msp_gather_f32(isa, line + b0 * sw, sw, out + b0, b1 - b0)
    else:
        msp_gather_f64(isa, line + b0 * sw, sw, out + b0, b1 - b0)
    memset(out + b1, 0, (Wq - b1) * sizeof(floating))


cdef inline void _pad_plane(const floating *src, Py_ssize_t H, Py_ssize_t W,
                            floating *dst, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t Hq,
                            Py_ssize_t Wq, Py_ssize_t top, Py_ssize_t left,
                            int isa) noexcept nogil:
    """Zero-padded copy of one (H, W) plane split into sh*sw stride phases of (Hq, Wq)."""
    cdef Py_ssize_t row
    for row in range(sh * sw * Hq):
        _pad_row(src, H, W, dst, sh, sw, Hq, Wq, top, left, row, isa)


cdef void _dense_forward(const floating *x, floating *buf, floating *out,
                         const floating *wpack, const floating *bias, const Py_ssize_t *koff,
                         const Py_ssize_t *tail_koff, Py_ssize_t N, Py_ssize_t C_in,
                         Py_ssize_t H, Py_ssize_t W, Py_ssize_t G, Py_ssize_t Cg_in,
                         Py_ssize_t Cg_out, Py_ssize_t K, Py_ssize_t H_out, Py_ssize_t W_out,
                         Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t Hq, Py_ssize_t Wq,
                         Py_ssize_t top, Py_ssize_t left, bint direct, bint private_pad,
                         Py_ssize_t slack, bint by_row, int isa, bint channel_vectors, int MR, int NR,
                         floating *work, Py_ssize_t work_per_thread,
                         int nthreads) noexcept nogil:
    """Direct convolution over output tiles (image, group, channel block, pixel block).

    Pixel-vector blocks run over the flattened (H_out, Wq) grid (wrap-around columns are
    computed and dropped), or, ``by_row``, over whole segments of one output row; channel-vector
    blocks over the output pixels in order (each pixel read from its own offset, so no padding
    column is computed).

    Unless ``direct`` (1x1, stride 1, no padding: x is read in place), x is copied as
    zero-padded stride-phase planes, so every tap is a unit-stride read: all of it into ``buf``
    up front, or, ``private_pad``, one (image, group) at a time into each thread's work space
    just before the thread computes on it (the copy is then still in its cache).  The
    ``slack`` elements after the planes are zeroed: reads wrap into them.
    """
    cdef Py_ssize_t phases = sh * sw
    cdef Py_ssize_t plane = Hq * Wq
    cdef Py_ssize_t img_stride = C_in * phases * plane
    cdef Py_ssize_t grp_stride = Cg_in * phases * plane
    # Pixels the blocks run over (unless by_row): output pixels, or the flat padded grid.
    cdef Py_ssize_t P = H_out * W_out if channel_vectors else (H_out - 1) * Wq + W_out
    cdef Py_ssize_t S = (W_out + NR - 1) // NR
    cdef Py_ssize_t T = H_out * S if by_row else (P + NR - 1) // NR
    cdef Py_ssize_t segments = S if by_row else T  # pixel blocks per block row
    cdef Py_ssize_t NB = (Cg_out + MR - 1) // MR
    cdef Py_ssize_t total = N * G * T * NB
    cdef Py_ssize_t i, t, r, ob, g, n, p0, c, row, channel, first, last, padded, limit
    cdef Py_ssize_t ts, row0
    cdef const floating *src
    cdef const floating *base
    cdef const floating *panel
    cdef floating *tile
    cdef floating *scratch
    cdef floating *own
    if direct:
        src = x
        img_stride = C_in * H * W
        grp_stride = Cg_in * H * W
    elif not private_pad:
        memset(buf + N * C_in * phases * plane, 0, slack * sizeof(floating))
        src = buf
    # One parallel region per call (fewer thread hand-offs, which a busy machine delays).
    with parallel(num_threads=nthreads):
        if not direct and not private_pad:
            # Pad by rows, so that few large planes (a stem's 3 channels) still split evenly,
            # then wait for the whole copy before any block reads it.
            for row in prange(N * C_in * phases * Hq, schedule="static"):
                channel = row // (phases * Hq)
                _pad_row(x + channel * H * W, H, W, buf + channel * phases * plane, sh, sw, Hq,
                         Wq, top, left, row - channel * phases * Hq, isa)
            msp_barrier()
        # Per-thread work space (allocated by the caller, so nothing here can fail) and an
        # even, contiguous share of the blocks.
        tile = work + threadid() * work_per_thread
        scratch = tile + MR * NR
        own = scratch + K * NR
        if private_pad:
            memset(own + Cg_in * phases * plane, 0, slack * sizeof(floating))
        first = total * threadid() // omp_get_num_threads()
        last = total * (threadid() + 1) // omp_get_num_threads()
        padded = -1
        # Item i is (image-group r = n * G + g, pixel block t, channel block ob): split once
        # here, then stepped like an odometer (divisions per item cost a few % on short
        # reductions).  Pixel block t is segment ts of the blocks starting at flat pixel row0.
        ob = first % NB
        t = first // NB % T
        r = first // (NB * T)
        g = r % G
        n = r // G
        ts = t % segments
        row0 = t // segments * Wq
        for i in range(first, last):
            # Channel blocks innermost: consecutive items reuse one pixel block's input while
            # it is in L1, and the whole reduction runs in one pass (measured faster than
            # splitting it into cache-sized chunks).
            if private_pad:
                if padded != r:
                    for c in range(Cg_in):
                        _pad_plane(x + (r * Cg_in + c) * H * W, H, W, own + c * phases * plane,
                                   sh, sw, Hq, Wq, top, left, isa)
                    padded = r
                base = own
            else:
                base = src + n * img_stride + g * grp_stride
            panel = wpack + (g * NB + ob) * K * MR
            p0 = row0 + ts * NR
            limit = W_out - ts * NR if by_row else P - p0
            if limit > NR:
                limit = NR
            if channel_vectors:
                _dense_cv(base, p0, limit, W_out, Wq, koff, K, panel, tile, isa)
                _store_block(tile, out, bias, p0, 0, limit, n, g, ob, W_out, G, Cg_out, H_out,
                             W_out, MR, NR, True, isa)
            else:
                _pixel_vector_block(base, koff, tail_koff, K, panel, tile, scratch, out, bias, p0,
                                    limit, n, g, ob, G, Cg_out, H_out, W_out, Wq, P, MR, NR,
                                    direct, isa)
            ob = ob + 1
            if ob == NB:
                ob = 0
                t = t + 1
                ts = ts + 1
                if ts == segments:
                    ts = 0
                    row0 = row0 + Wq
                if t == T:
                    t = 0
                    row0 = 0
                    r = r + 1
                    g = g + 1
                    if g == G:
                        g = 0
                        n = n + 1


cdef inline void _pixel_vector_block(const floating *base, const Py_ssize_t *koff,
                                     const Py_ssize_t *tail_koff, Py_ssize_t K,
                                     const floating *panel, floating *tile, floating *scratch,
                                     floating *out, const floating *bias, Py_ssize_t p0,
                                     Py_ssize_t limit, Py_ssize_t n, Py_ssize_t g, Py_ssize_t ob,
                                     Py_ssize_t G, Py_ssize_t Cg_out, Py_ssize_t H_out,
                                     Py_ssize_t W_out, Py_ssize_t Wq, Py_ssize_t P, int MR,
                                     int NR, bint direct, int isa) noexcept nogil:
    """Compute and store the pixel-vector block at flat pixel p0 (``limit`` pixels valid)."""
    cdef Py_ssize_t skip = 0
    cdef Py_ssize_t j, k, oy, ox
    if direct and p0 + NR > P and P >= NR:
        # The last pixel block of an in-place input would read past its end: shift it
        # back to end at the last pixel and store only the pixels not stored yet.
        skip = p0 + NR - P
        p0 = P - NR
        limit = NR
    if direct and p0 + NR > P:
        # An input smaller than one block: gather it, zero-extended.
        for k in range(K):
            for j in range(NR):
                scratch[k * NR + j] = base[koff[k] + p0 + j] if p0 + j < P else 0
        _dense_pv(scratch, tail_koff, K, panel, tile, NR, NULL, isa)
        _store_block(tile, out, bias, p0, skip, limit, n, g, ob, Wq, G, Cg_out, H_out, W_out,
                     MR, NR, False, isa)
        return
    # A whole block of consecutive output pixels (one row, or rows without wrap-around
    # columns) skips the tile and goes straight to the output.
    oy = p0 // Wq
    ox = p0 - oy * Wq
    if (skip == 0 and limit == NR and (ob + 1) * MR <= Cg_out
            and (Wq == W_out or ox + NR <= W_out)):
        _dense_pv(base + p0, koff, K, panel,
                  out + ((n * G + g) * Cg_out + ob * MR) * H_out * W_out + oy * W_out + ox,
                  H_out * W_out, bias + g * Cg_out + ob * MR if bias != NULL else NULL, isa)
    else:
        _dense_pv(base + p0, koff, K, panel, tile, NR, NULL, isa)
        _store_block(tile, out, bias, p0, skip, limit, n, g, ob, Wq, G, Cg_out, H_out, W_out,
                     MR, NR, False, isa)


cdef inline void _store_block(const floating *tile, floating *out, const floating *bias,
                              Py_ssize_t p0, Py_ssize_t j, Py_ssize_t limit, Py_ssize_t n,
                              Py_ssize_t g, Py_ssize_t ob, Py_ssize_t Wq, Py_ssize_t G,
                              Py_ssize_t Cg_out, Py_ssize_t H_out, Py_ssize_t W_out, int MR,
                              int NR, bint channel_vectors, int isa) noexcept nogil:
    """Write pixels j..limit-1 (those in the output) and the valid channels of one MR x NR block
    (+ bias) starting at flat pixel p0 into NCHW output; the block is pixel-major
    (``channel_vectors``) or channel-major."""
    cdef Py_ssize_t mmax = Cg_out - ob * MR
    cdef Py_ssize_t c = g * Cg_out + ob * MR
    cdef floating *dst = out + (n * G * Cg_out + c) * H_out * W_out
    cdef Py_ssize_t p, oy, ox, run
    cdef Py_ssize_t m_step = 1 if channel_vectors else NR
    cdef Py_ssize_t j_step = MR if channel_vectors else 1
    if mmax > MR:
        mmax = MR
    while j < limit:
        # One run of consecutive valid pixels of one output row per pass.
        p = p0 + j
        oy = p // Wq
        ox = p - oy * Wq
        if ox >= W_out:
            j = j + Wq - ox
            continue
        run = W_out - ox
        if run > limit - j:
            run = limit - j
        if floating is float:
            msp_store_f32(isa, dst + oy * W_out + ox, H_out * W_out, tile + j * j_step, m_step,
                          j_step, mmax, run, bias + c if bias != NULL else NULL)
        else:
            msp_store_f64(isa, dst + oy * W_out + ox, H_out * W_out, tile + j * j_step, m_step,
                          j_step, mmax, run, bias + c if bias != NULL else NULL)
        j = j + run


cdef void _depthwise_in_place(const floating *x, floating *out, const floating *w,
                              const floating *bias, const msp_dw_geometry *geometry, Py_ssize_t N,
                              Py_ssize_t C, Py_ssize_t K, int isa, int nthreads) noexcept nogil:
    """Stride-1 depthwise: every plane read in place, padding handled at the borders (no copy
    of the input, output written once)."""
    cdef Py_ssize_t plane_in = geometry.H * geometry.W
    cdef Py_ssize_t plane_out = geometry.H_out * geometry.W_out
    cdef Py_ssize_t i, c
    for i in prange(N * C, num_threads=nthreads, schedule="static"):
        c = i % C
        _dw_plane(x + i * plane_in, geometry, w + c * K, bias[c] if bias != NULL else 0,
                  out + i * plane_out, isa)


cdef void _depthwise_forward(const floating *x, floating *out, const floating *w,
                             const floating *bias, const Py_ssize_t *koff, Py_ssize_t N,
                             Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t K,
                             Py_ssize_t H_out, Py_ssize_t W_out, Py_ssize_t sh, Py_ssize_t sw,
                             Py_ssize_t Hq, Py_ssize_t Wq, Py_ssize_t top, Py_ssize_t left,
                             int isa, floating *work, Py_ssize_t work_per_thread,
                             int nthreads) noexcept nogil:
    """Strided depthwise: pad each plane into a per-thread buffer split into stride phases (it
    stays in cache), then vectorise every output row over its width."""
    cdef Py_ssize_t plane = sh * sw * Hq * Wq
    cdef Py_ssize_t i, c, oy, ox
    cdef floating *buf
    cdef floating *row
    cdef floating b
    cdef Py_ssize_t span = (H_out - 1) * Wq + W_out
    cdef floating *flat = NULL
    buf = NULL
    with parallel(num_threads=nthreads):
        buf = work + threadid() * work_per_thread
        flat = buf + plane + Wq + 64
        for i in prange(N * C, schedule="static"):
            c = i % C
            _pad_plane(x + i * H * W, H, W, buf, sh, sw, Hq, Wq, top, left, isa)
            # All rows in one sweep over the padded width; the wrap-around columns are dropped.
            _dw(buf, koff, K, w + c * K, flat, span, isa)
            b = bias[c] if bias != NULL else 0
            for oy in range(H_out):
                row = out + (i * H_out + oy) * W_out
                if bias != NULL:
                    for ox in range(W_out):
                        row[ox] = flat[oy * Wq + ox] + b
                else:
                    memcpy(row, flat + oy * Wq, W_out * sizeof(floating))


def _pair(value, name):
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(f"For 'Conv2dPlan', '{name}' must be a tuple of ints, but got "
                        f"{type(value).__name__}.") from None
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"For 'Conv2dPlan', '{name}' must contain ints, but got {value!r}.")
    return tuple(int(item) for item in items)


_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


cdef class Conv2dPlan:
    """A Conv2d forward pass planned once for a weight shape and dtype; the weights come with
    every call.

    Parameters
    ----------
    weight_shape : (int, int, int, int)
        (C_out, C_in / group, kh, kw), positive.
    dtype : float16, float32 or float64
        Of the inputs, weights and bias of every call.
    stride : (int, int)
        (sh, sw), positive.
    dilation : (int, int)
        (dh, dw), positive.
    padding : (int, int, int, int)
        (top, bottom, left, right), non-negative.
    group : int
        Positive, divides C_out.
    isa : str or None
        Force a SIMD path from :func:`available_isas` (tests); None picks the widest.
    kernel : {'pixel_vectors', 'channel_vectors'} or None
        Force the dense kernel's vector orientation (tests); None picks, per input size, the
        one with the least estimated work.
    algorithm : {'direct', 'winograd_f2', 'winograd_f4'} or None
        None: 3x3 stride-1 layers of one group (float16/float32) may run Winograd, chosen per
        input shape (``_winograd.WinogradConv``), unless the environment variable
        ``MSPARAM_CONV_ALGORITHM`` is ``direct`` when the plan is built; 'direct' never does
        (the direct convolution's rounding); a Winograd tile size forces it (such layers only).

    Notes
    -----
    Each call computes with the weights and bias it is given, whatever wrote them since the last
    call (``asnumpy()``, the buffer protocol, DLPack, ... leave no trace to check).  The dense
    paths keep their kernels' packed panels of the last weights and a copy of those weights,
    compared byte for byte with each call's (a ``memcmp``, a few per cent of the convolution
    where the weights are largest against the work); any difference packs them again.  The
    depthwise path reads the weights as given.

    float16 is computed in float32 and rounded back once.  Paths (``path`` attribute):
    ``'depthwise'`` (one input and one output channel per group; stride 1 reads the input in
    place), ``'pointwise'`` (1x1, stride 1, no padding: read in place), ``'direct'``
    (everything else, on a zero-padded stride-phase copy).  Inputs whose work is below a small
    threshold run on one thread (``tiny`` in :meth:`path_for`).

    The dense paths use one of two register-blocked kernels, chosen per input size by estimated
    work (:meth:`pixel_blocking`): pixel vectors (output pixels in SIMD registers, weights
    broadcast; contiguous stores) or channel vectors (output channels in SIMD registers;
    blocks of any pixel count, e.g. one 14-pixel row).  Every output value is one dot product
    summed in a fixed order, so results do not depend on the thread count.
    """
    cdef readonly object dtype
    cdef readonly tuple weight_shape
    cdef readonly tuple stride, dilation, padding
    cdef readonly Py_ssize_t group
    cdef readonly str path
    cdef readonly str isa
    cdef tuple _orientations
    cdef int _isa
    cdef int _mr[2]
    cdef int _nr[2]
    cdef object _compute_dtype
    cdef tuple _packed
    cdef dict _tap_cache
    cdef dict _call_cache
    cdef Py_ssize_t _macs_per_output
    cdef object _winograd

    def __init__(self, weight_shape, dtype, stride, dilation, padding, group, isa=None,
                 kernel=None, algorithm=None):
        weight_shape = _pair(weight_shape, "weight_shape")
        if len(weight_shape) != 4 or min(weight_shape) < 1:
            raise ValueError(f"For 'Conv2dPlan', 'weight_shape' must be four positive ints "
                             f"(C_out, C_in/group, kh, kw), but got {weight_shape}.")
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"For 'Conv2dPlan', 'dtype' must be float16, float32 or float64, "
                            f"but got {dtype!r}.") from None
        if dtype not in _DTYPES:
            raise TypeError(f"For 'Conv2dPlan', 'dtype' must be float16, float32 or float64, "
                            f"but got {dtype}.")
        if isinstance(group, bool) or not isinstance(group, (int, np.integer)):
            raise TypeError(f"For 'Conv2dPlan', 'group' must be int, but got "
                            f"{type(group).__name__}.")
        group = int(group)
        if group < 1:
            raise ValueError(f"For 'Conv2dPlan', 'group' must be positive, but got {group}.")
        c_out = weight_shape[0]
        if c_out % group:
            raise ValueError(f"For 'Conv2dPlan', 'group' ({group}) must divide the weight's "
                             f"output channels ({c_out}).")
        stride = _pair(stride, "stride")
        dilation = _pair(dilation, "dilation")
        padding = _pair(padding, "padding")
        if len(stride) != 2 or min(stride) < 1:
            raise ValueError(f"For 'Conv2dPlan', 'stride' must be two positive ints, but got "
                             f"{stride}.")
        if len(dilation) != 2 or min(dilation) < 1:
            raise ValueError(f"For 'Conv2dPlan', 'dilation' must be two positive ints, but "
                             f"got {dilation}.")
        if len(padding) != 4 or min(padding) < 0:
            raise ValueError(f"For 'Conv2dPlan', 'padding' must be four non-negative ints "
                             f"(top, bottom, left, right), but got {padding}.")
        if isa is None:
            self._isa = _BEST_ISA
        else:
            names = available_isas()
            if isa not in names:
                raise ValueError(f"For 'Conv2dPlan', 'isa' must be one of {names}, but got "
                                 f"{isa!r}.")
            self._isa = names.index(isa)
        self.isa = _ISA_NAMES[self._isa]
        if kernel is not None and kernel not in _KERNELS:
            raise ValueError(f"For 'Conv2dPlan', 'kernel' must be one of {list(_KERNELS)} or "
                             f"None, but got {kernel!r}.")
        self._orientations = (0, 1) if kernel is None else (_KERNELS.index(kernel),)
        self._tap_cache = {}
        self._call_cache = {}
        self._packed = (None, [None, None])
        self._macs_per_output = int(np.prod(weight_shape[1:]))
        self.dtype = dtype
        self.weight_shape = weight_shape
        self.stride, self.dilation, self.padding, self.group = stride, dilation, padding, group
        self._compute_dtype = np.dtype(np.float64 if dtype == np.float64 else np.float32)
        is_double = self._compute_dtype == np.float64
        for cv in range(2):
            self._mr[cv] = msp_conv_mr(self._isa, is_double, cv)
            self._nr[cv] = msp_conv_nr(self._isa, is_double, cv)
        _, cg_in, kh, kw = weight_shape
        if cg_in == 1 and c_out == group:
            self.path = "depthwise"
        elif kh == 1 and kw == 1 and stride == (1, 1) and padding == (0, 0, 0, 0):
            self.path = "pointwise"
        else:
            self.path = "direct"
        self._winograd = winograd_for(weight_shape, dtype, stride, dilation, group, self._isa,
                                      algorithm)

    def output_shape(self, input_shape):
        """(N, C_out, H_out, W_out) for an input of shape (N, C_in, H, W) (no validation)."""
        n, _, h, w = input_shape
        kh, kw = self.weight_shape[2:]
        (sh, sw), (dh, dw) = self.stride, self.dilation
        top, bottom, left, right = self.padding
        return (n, self.weight_shape[0], (h + top + bottom - dh * (kh - 1) - 1) // sh + 1,
                (w + left + right - dw * (kw - 1) - 1) // sw + 1)

    def path_for(self, input_shape):
        """The path an input of this shape takes: ``path``, plus ``'-tiny'`` if single-threaded."""
        n, c_out, h_out, w_out = self.output_shape(input_shape)
        macs = n * c_out * h_out * w_out * self._macs_per_output
        tile = 0 if self._winograd is None else self._winograd.tile_size(input_shape, self.padding)
        return (f"winograd_f{tile}" if tile else self.path) + ("-tiny" if macs < _TINY_MACS else "")

    def __call__(self, x, weight, bias, num_threads):
        """The convolution of ``x`` (N, C_in, H, W) with ``weight`` (``weight_shape``) and
        ``bias`` (C_out,) or None, all of the plan's dtype, on up to ``num_threads`` threads."""
        if not isinstance(x, np.ndarray):
            raise TypeError(f"For 'Conv2dPlan', 'x' must be a numpy.ndarray, but got "
                            f"{type(x).__name__}.")
        if x.dtype != self.dtype:
            raise TypeError(f"For 'Conv2dPlan', 'x' dtype ({x.dtype}) must equal the plan's "
                            f"dtype ({self.dtype}).")
        if x.ndim != 4:
            raise ValueError(f"For 'Conv2dPlan', 'x' must be 4-D (N, C_in, H, W), but got "
                             f"shape {x.shape}.")
        if not isinstance(weight, np.ndarray):
            raise TypeError(f"For 'Conv2dPlan', 'weight' must be a numpy.ndarray, but got "
                            f"{type(weight).__name__}.")
        if weight.dtype != self.dtype or weight.shape != self.weight_shape:
            raise ValueError(f"For 'Conv2dPlan', 'weight' must be a {self.dtype} array of shape "
                             f"{self.weight_shape}, but got {weight.dtype} {weight.shape}.")
        if bias is not None:
            if not isinstance(bias, np.ndarray):
                raise TypeError(f"For 'Conv2dPlan', 'bias' must be a numpy.ndarray or None, "
                                f"but got {type(bias).__name__}.")
            if bias.dtype != self.dtype or bias.shape != self.weight_shape[:1]:
                raise ValueError(f"For 'Conv2dPlan', 'bias' must be a {self.dtype} array of "
                                 f"shape {self.weight_shape[:1]}, but got {bias.dtype} "
                                 f"{bias.shape}.")
        if isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer)):
            raise TypeError(f"For 'Conv2dPlan', 'num_threads' must be int, but got "
                            f"{type(num_threads).__name__}.")
        if num_threads < 1:
            raise ValueError(f"For 'Conv2dPlan', 'num_threads' must be positive, but got "
                             f"{num_threads}.")
        # Shape checks and geometry once per (input shape, thread count).
        call = self._call_cache.get((x.shape, num_threads))
        if call is None:
            call = self._prepare_call(x.shape, int(num_threads))
        out = np.empty(call[0], self._compute_dtype)
        if out.size == 0:
            return out.astype(self.dtype, copy=False)
        xc = _kernel_ready(x, self._compute_dtype)
        weight = _kernel_ready(weight, self._compute_dtype)
        if bias is not None:
            bias = _kernel_ready(bias, self._compute_dtype)
        if (self._winograd is not None and self._winograd.tile_size(x.shape, self.padding)
                and self._winograd(xc, weight, bias, out, self.padding, call[1])):
            return out if out.dtype == self.dtype else out.astype(self.dtype)
        panels = None if self.path == "depthwise" else self._panels_for(weight, call[8], call[1])
        if self._compute_dtype == np.float64:
            _run(self, <double *>cnp.PyArray_DATA(xc), <double *>cnp.PyArray_DATA(out),
                 xc.shape, call, weight, bias, panels)
        else:
            _run(self, <float *>cnp.PyArray_DATA(xc), <float *>cnp.PyArray_DATA(out),
                 xc.shape, call, weight, bias, panels)
        return out if out.dtype == self.dtype else out.astype(self.dtype)

    def _panels_for(self, cnp.ndarray weight, bint channel_vectors, int nthreads):
        """The dense kernel's packed panels of ``weight`` (compute dtype, C-contiguous), packed
        again only if its bytes differ from those the cached panels were packed from.  A change
        installs a new (copy, panels) pair rather than writing over the old one, which calls
        running concurrently may still be reading."""
        snapshot, panels = self._packed
        if snapshot is None or not _same_bytes(snapshot, weight, nthreads):
            snapshot = weight.copy()
            panels = [None, None]
            self._packed = (snapshot, panels)
        if panels[channel_vectors] is None:
            panels[channel_vectors] = _packed_panels(snapshot, self.group, self._mr[channel_vectors])
        return panels[channel_vectors]


    def _prepare_call(self, shape, num_threads):
        """Validate an input shape; (output shape, threads, taps...) for it, cached."""
        c_in = self.weight_shape[1] * self.group
        if shape[1] != c_in:
            raise ValueError(f"For 'Conv2dPlan', 'x' must have {c_in} input channels (weight "
                             f"{self.weight_shape}, group {self.group}), but got {shape[1]}.")
        out_shape = self.output_shape(shape)
        # An empty input (a batch of 0, or the 0-high input of a 'same' layer) gives an empty
        # output; any other input must give at least one output pixel.
        smallest = 0 if 0 in shape else 1
        if out_shape[2] < smallest or out_shape[3] < smallest:
            raise ValueError(f"For 'Conv2dPlan', the output would be {out_shape[2]}x"
                             f"{out_shape[3]} (input {shape[2]}x{shape[3]}, kernel "
                             f"{self.weight_shape[2:]}, stride {self.stride}, dilation "
                             f"{self.dilation}, padding {self.padding}); it must be at least "
                             f"{smallest}x{smallest}.")
        if 0 in out_shape:
            call = (out_shape,)
        else:
            self._check_work_size(shape, out_shape, num_threads)
            nthreads = 1 if self.path_for(shape).endswith("-tiny") else num_threads
            call = (out_shape, nthreads) + self._taps(shape[2], shape[3])
        if len(self._call_cache) >= 8:
            self._call_cache.clear()
        self._call_cache[(shape, num_threads)] = call
        return call

    def _check_work_size(self, shape, out_shape, num_threads):
        """Refuse, before any array or C size is formed, an input whose stride-phase planes, tap
        offsets or work space would not fit in Py_ssize_t elements (computed here in Python
        integers, which cannot wrap)."""
        n, c_in, h, w = shape
        kh, kw = self.weight_shape[2:]
        (sh, sw), (dh, dw) = self.stride, self.dilation
        top, bottom, left, right = self.padding
        reach_h, reach_w = dh * (kh - 1), dw * (kw - 1)
        padded_h, padded_w = h + top + bottom, w + left + right
        hq = -(-padded_h // sh)
        wq = -(-padded_w // sw) + reach_w // sw + out_shape[3]  # bounds _shared_padding_width
        plane = sh * sw * hq * wq
        per_thread = (plane + (max(self._mr) + self._macs_per_output) * max(self._nr) + wq + 64)
        elements = (n * c_in * plane + num_threads * per_thread + out_shape[2] * wq
                    + math.prod(out_shape) + self.weight_shape[1] * plane + reach_h * wq)
        if max(reach_h, reach_w, padded_h, padded_w, elements) > _MAX_ELEMENTS:
            raise ValueError(f"For 'Conv2dPlan', 'stride' {self.stride}, 'dilation' "
                             f"{self.dilation} and 'padding' {self.padding} on an input of shape "
                             f"{tuple(shape)} need a work space of {elements} elements, more "
                             f"than the {_MAX_ELEMENTS} the kernels can address; reduce them.")

    def pixel_blocking(self, h, w):
        """(pixels per register block, whether blocks follow output rows, whether the kernel
        holds output channels in vectors) for an (h, w) input.  Channel-vector blocks never
        follow rows: they take consecutive output pixels across row ends."""
        return self._taps(h, w)[4:]

    def _taps(self, h, w):
        """Phase-plane size and per-tap offsets for an (h, w) input, cached per input size."""
        key = (h, w)
        cached = self._tap_cache.get(key)
        if cached is not None:
            return cached
        kh, kw = self.weight_shape[2:]
        (sh, sw), (dh, dw) = self.stride, self.dilation
        top, bottom, left, right = self.padding
        hq = -(-(h + top + bottom) // sh)
        wq = -(-(w + left + right) // sw)
        if self.path == "direct":
            wq = self._shared_padding_width(w)
        ky = np.arange(kh).reshape(kh, 1) * dh
        kx = np.arange(kw).reshape(1, kw) * dw
        taps = ((ky % sh) * sw + kx % sw) * hq * wq + (ky // sh) * wq + kx // sw
        if self.path == "pointwise":
            hq, wq = h, w
            taps = np.zeros((1, 1), np.intp)
        channels = np.arange(self.weight_shape[1]).reshape(-1, 1, 1)
        koff = np.ascontiguousarray((channels * (sh * sw * hq * wq) + taps).ravel(), np.intp)
        nr, by_row, cv = self._blocking(h, w, wq)
        tail_koff = np.arange(koff.size, dtype=np.intp) * nr
        if len(self._tap_cache) >= 8:
            self._tap_cache.clear()
        self._tap_cache[key] = cached = (hq, wq, koff, tail_koff, nr, by_row, cv)
        return cached

    def _shared_padding_width(self, w):
        """Narrowest stride-phase row for an input w wide, given that rows may share their
        padding columns: reads past a row's end wrap into the next row's left zeros (the last
        row's into the zeroed slack after the planes).  Fewer computed-and-dropped pixels."""
        kw, sw, dw = self.weight_shape[3], self.stride[1], self.dilation[1]
        left = self.padding[2]
        w_out = self.output_shape((1, 1, 1, w))[3]
        width = w_out
        for pw in range(sw):
            # The row must hold its last input column.
            if w - 1 + left >= pw:
                width = max(width, (w - 1 + left - pw) // sw + 1)
        # Reads may run past a row only as far as the next row's left zeros; that row can
        # belong to any stride phase (the first row of the next phase plane).
        zeros = min(max(0, -(-(left - pw) // sw)) for pw in range(sw))
        for kx in range(0, kw * dw, dw):
            width = max(width, w_out + kx // sw - zeros)
        return width

    def _blocking(self, h, w, wq):
        """Kernel orientation and pixel blocking with the least estimated work: multiply-adds
        computed (dropped pixels and padded channels included) plus the cost of storing each
        output, which is higher for the transposed blocks of the channel-vector kernel.  That
        kernel runs over the output pixels only, never by rows (which could only tie)."""
        _, _, h_out, w_out = self.output_shape((1, 1, h, w))
        cg_out = self.weight_shape[0] // self.group
        flat_pixels = (h_out - 1) * wq + w_out
        best = None
        for cv in self._orientations:
            mr, nr = self._mr[cv], self._nr[cv]
            per_pixel = -(-cg_out // mr) * mr * (self._macs_per_output + _STORE_MACS[cv])
            candidates = [(-(-(h_out * w_out if cv else flat_pixels) // nr) * nr, False)]
            if self.path != "pointwise" and not cv:
                candidates.append((h_out * -(-w_out // nr) * nr, True))
            for pixels, by_row in candidates:
                best = min(best or (math.inf,), (pixels * per_pixel, nr, by_row, cv))
        return best[1], best[2], bool(best[3])

    def __reduce__(self):
        raise TypeError("Conv2dPlan cannot be pickled; rebuild it from its arguments.")


def conv2d_forward(x, weight, bias, stride, dilation, padding, group, num_threads):
    """``Conv2dPlan(weight.shape, weight.dtype, stride, dilation, padding, group)(x, weight,
    bias, num_threads)``."""
    if not isinstance(weight, np.ndarray):
        raise TypeError(f"For 'Conv2dPlan', 'weight' must be a numpy.ndarray, but got "
                        f"{type(weight).__name__}.")
    plan = Conv2dPlan(weight.shape, weight.dtype, stride, dilation, padding, group)
    return plan(x, weight, bias, num_threads)


cdef bint _same_bytes(cnp.ndarray a, cnp.ndarray b, int nthreads):
    """Whether two C-contiguous arrays of one size hold the same bytes (NaN payloads and the
    sign of zero included), compared in ``nthreads`` slices when large."""
    cdef const char *pa = <const char *>cnp.PyArray_DATA(a)
    cdef const char *pb = <const char *>cnp.PyArray_DATA(b)
    cdef Py_ssize_t nbytes = a.nbytes
    cdef Py_ssize_t slices = nthreads if nbytes >= _PARALLEL_COMPARE_BYTES else 1
    cdef Py_ssize_t i, lo, hi
    cdef int differ = 0
    if slices == 1:
        with nogil:
            differ = memcmp(pa, pb, nbytes)
        return differ == 0
    for i in prange(slices, nogil=True, num_threads=slices, schedule="static"):
        lo = nbytes * i // slices
        hi = nbytes * (i + 1) // slices
        differ += memcmp(pa + lo, pb + lo, hi - lo) != 0
    return differ == 0


cdef object _packed_panels(cnp.ndarray weight, Py_ssize_t group, Py_ssize_t mr):
    """(group, block, K, mr) panels of C-contiguous weights (C_out, C_in/group, kh, kw), output
    channels zero-padded to whole blocks: the dense kernels stream one mr-wide row of weights
    per reduction index."""
    cdef Py_ssize_t cg_out = weight.shape[0] // group
    cdef Py_ssize_t K = weight.size // weight.shape[0]
    cdef Py_ssize_t nb = (cg_out + mr - 1) // mr
    cdef Py_ssize_t block
    cdef cnp.ndarray panels = np.empty(group * nb * K * mr, weight.dtype)
    if weight.dtype == np.float64:
        with nogil:
            for block in range(group * nb):
                msp_pack_panel_f64(<const double *>cnp.PyArray_DATA(weight), cg_out, K, mr, nb,
                                   block, <double *>cnp.PyArray_DATA(panels))
    else:
        with nogil:
            for block in range(group * nb):
                msp_pack_panel_f32(<const float *>cnp.PyArray_DATA(weight), cg_out, K, mr, nb,
                                   block, <float *>cnp.PyArray_DATA(panels))
    return panels


cdef object _kernel_ready(cnp.ndarray values, object dtype):
    """``values`` as the kernels read them: C-contiguous and aligned, of ``dtype`` (a fresh copy
    unless it already is)."""
    if values.dtype == dtype and values.flags.c_contiguous and values.flags.aligned:
        return values
    return np.array(values, dtype=dtype, order="C")


cdef _run(Conv2dPlan plan, const floating *x, floating *out, tuple shape, tuple call,
          object weight, object bias_values, object panels):
    """Allocate the work space and run the plan's path on a C-contiguous input with C-contiguous
    weights and bias of the compute dtype (all validated)."""
    cdef Py_ssize_t N = shape[0], C_in = shape[1], H = shape[2], W = shape[3]
    cdef tuple out_shape = call[0]
    cdef Py_ssize_t C_out = out_shape[1], H_out = out_shape[2], W_out = out_shape[3]
    cdef int nthreads = call[1]
    cdef Py_ssize_t hq = call[2], wq = call[3]
    cdef cnp.ndarray koff = call[4], tail_koff = call[5]
    cdef int nr = call[6]
    cdef bint by_row = call[7]
    cdef bint cv = call[8]
    cdef int mr = plan._mr[cv]
    cdef Py_ssize_t sh = plan.stride[0], sw = plan.stride[1]
    cdef Py_ssize_t top = plan.padding[0], left = plan.padding[2]
    cdef Py_ssize_t G = plan.group, K = koff.shape[0]
    cdef const floating *w = <floating *>cnp.PyArray_DATA(<cnp.ndarray>weight)
    cdef const floating *wpack = NULL
    cdef const floating *bias = NULL
    cdef const Py_ssize_t *taps = <Py_ssize_t *>cnp.PyArray_DATA(koff)
    cdef cnp.ndarray buf, work, zeros
    cdef Py_ssize_t per_thread
    cdef bint direct = plan.path == "pointwise"
    cdef msp_dw_geometry dw_geometry
    if bias_values is not None:
        bias = <floating *>cnp.PyArray_DATA(<cnp.ndarray>bias_values)
    if panels is not None:
        wpack = <floating *>cnp.PyArray_DATA(<cnp.ndarray>panels)
    # The in-place kernel skips padded taps; a non-finite weight there must still give NaN
    # (0 * inf) as on every other path, so such weights take the padded-copy kernel.
    if (plan.path == "depthwise" and sh == 1 and sw == 1
            and (not any(plan.padding) or np.isfinite(weight).all())):
        zeros = np.zeros(W, plan._compute_dtype)
        dw_geometry = msp_dw_geometry(H=H, W=W, kh=plan.weight_shape[2], kw=plan.weight_shape[3],
                                      dh=plan.dilation[0], dw=plan.dilation[1], top=top, left=left,
                                      H_out=H_out, W_out=W_out, zeros=cnp.PyArray_DATA(zeros))
        with nogil:
            _depthwise_in_place(x, out, w, bias, &dw_geometry, N, C_in, K, plan._isa, nthreads)
        return
    if plan.path == "depthwise":
        per_thread = sh * sw * hq * wq + wq + 64 + H_out * wq
        work = np.empty(nthreads * per_thread, plan._compute_dtype)
        with nogil:
            _depthwise_forward(x, out, w, bias, taps, N, C_in, H, W, K, H_out, W_out, sh, sw, hq,
                               wq, top, left, plan._isa, <floating *>cnp.PyArray_DATA(work),
                               per_thread, nthreads)
        return
    # Each thread pads the (image, group)s it works on itself when there are enough of them to
    # share out; otherwise all threads pad the whole input first.
    cdef bint private_pad = not direct and N * G >= nthreads
    cdef Py_ssize_t padded_size = (C_in // G if private_pad else N * C_in) * sh * sw * hq * wq
    cdef Py_ssize_t slack = nr + wq + 64  # read past the planes (zeroed, see _taps)
    per_thread = (mr + K) * nr + (padded_size + slack if private_pad else 0)
    work = np.empty(nthreads * per_thread, plan._compute_dtype)
    buf = np.empty(1 if direct or private_pad else padded_size + slack, plan._compute_dtype)
    with nogil:
        _dense_forward(x, <floating *>cnp.PyArray_DATA(buf), out, wpack, bias, taps,
                       <Py_ssize_t *>cnp.PyArray_DATA(tail_koff), N, C_in, H, W, G, C_in // G,
                       C_out // G, K, H_out, W_out, sh, sw, hq, wq, top, left, direct,
                       private_pad, slack, by_row, plan._isa, cv, mr, nr,
                       <floating *>cnp.PyArray_DATA(work), per_thread, nthreads)
