"""Compiled Conv2d forward pass (NCHW): packed weights, register-blocked kernels, OpenMP tiles.

The planning (validation, geometry, kernel choice) is plain Python in conv_plan.py; this module
only runs a planned call.  Its callers hand it arrays the plan has checked (C-contiguous,
aligned, of the compute dtype, of the planned shapes) and one :class:`ConvGeometry`; nothing
here validates again before the ``nogil`` code.
"""
import numpy as np

cimport numpy as cnp
from cython.parallel cimport parallel, prange, threadid
from openmp cimport omp_get_num_threads
from libc.string cimport memcmp, memcpy, memset

from msparam._core.conv_kernels cimport (
    msp_barrier, msp_conv_geometry, msp_conv_kernels, msp_conv_kernels_for, msp_dense_cv_block_f32,
    msp_dense_cv_block_f64, msp_dw_geometry, msp_pack_panel_f32, msp_pack_panel_f64)

cnp.import_array()

ctypedef fused floating:
    float
    double

__all__ = ["ConvKernels", "ConvGeometry", "same_bytes"]

# Weight sizes (bytes) from which the change check is split across the threads.
cdef Py_ssize_t _PARALLEL_COMPARE_BYTES = 1 << 18


cdef class ConvGeometry:
    """One planned call (conv_kernels.h's msp_conv_geometry, from a dict of its fields) and its
    tap offsets: ``koff[k]`` the offset of reduction index k in the padded input, ``tail_koff``
    the same in a gathered block of ``nr`` pixels per index."""
    cdef msp_conv_geometry c
    cdef readonly cnp.ndarray koff, tail_koff

    def __cinit__(self, dict fields, cnp.ndarray koff, cnp.ndarray tail_koff):
        self.c = fields
        self.koff, self.tail_koff = koff, tail_koff


cdef class ConvKernels:
    """The micro-kernels of one ISA (cpu_isa.h's MSP_ISA_*) and compute dtype, resolved once per
    plan, with their register tiles: ``mr[o]`` output channels by ``nr[o]`` pixels for
    orientation o (0: pixel vectors, 1: channel vectors)."""
    cdef const msp_conv_kernels *k
    cdef bint is_double
    cdef readonly tuple mr, nr

    def __cinit__(self, int isa, bint is_double):
        self.k = msp_conv_kernels_for(isa)
        self.is_double = is_double
        self.mr = (self.k.mr[is_double][0], self.k.mr[is_double][1])
        self.nr = (self.k.nr[is_double][0], self.k.nr[is_double][1])

    def pack(self, cnp.ndarray weight, Py_ssize_t group, bint channel_vectors):
        """(group, block, K, mr) panels of C-contiguous weights (C_out, C_in/group, kh, kw),
        output channels zero-padded to whole blocks: the dense kernels stream one mr-wide row of
        weights per reduction index."""
        cdef Py_ssize_t mr = self.mr[channel_vectors]
        cdef Py_ssize_t cg_out = weight.shape[0] // group
        cdef Py_ssize_t K = weight.size // weight.shape[0]
        cdef Py_ssize_t nb = (cg_out + mr - 1) // mr
        cdef Py_ssize_t block
        cdef cnp.ndarray panels = np.empty(group * nb * K * mr, weight.dtype)
        if self.is_double:
            with nogil:
                for block in range(group * nb):
                    msp_pack_panel_f64(<const double *>cnp.PyArray_DATA(weight), cg_out, K, mr,
                                       nb, block, <double *>cnp.PyArray_DATA(panels))
        else:
            with nogil:
                for block in range(group * nb):
                    msp_pack_panel_f32(<const float *>cnp.PyArray_DATA(weight), cg_out, K, mr,
                                       nb, block, <float *>cnp.PyArray_DATA(panels))
        return panels

    def dense(self, cnp.ndarray x, cnp.ndarray out, cnp.ndarray panels, bias,
              ConvGeometry geometry):
        """Run a dense (pointwise or direct) call into ``out`` with packed ``panels``."""
        if self.is_double:
            _dense(self.k, <const double *>cnp.PyArray_DATA(x), <double *>cnp.PyArray_DATA(out),
                   panels, bias, geometry, x.dtype)
        else:
            _dense(self.k, <const float *>cnp.PyArray_DATA(x), <float *>cnp.PyArray_DATA(out),
                   panels, bias, geometry, x.dtype)

    def depthwise(self, cnp.ndarray x, cnp.ndarray out, cnp.ndarray weight, bias,
                  ConvGeometry geometry, bint in_place):
        """Run a depthwise call into ``out``: read in place (stride 1; padding handled at the
        borders, padded taps skipped) or from padded stride-phase copies."""
        if self.is_double:
            _depthwise(self.k, <const double *>cnp.PyArray_DATA(x),
                       <double *>cnp.PyArray_DATA(out), weight, bias, geometry, in_place, x.dtype)
        else:
            _depthwise(self.k, <const float *>cnp.PyArray_DATA(x),
                       <float *>cnp.PyArray_DATA(out), weight, bias, geometry, in_place, x.dtype)


def same_bytes(cnp.ndarray a, cnp.ndarray b, int nthreads):
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


# The drivers below are written once over ``floating``; each kernel call picks the entry's
# float or double kernel by it.

cdef inline void _tile(const msp_conv_kernels *k, bint cv, Py_ssize_t *mr, Py_ssize_t *nr,
                       const floating *typed) noexcept nogil:
    """The register tile (mr, nr) of orientation ``cv`` (``typed`` picks the dtype)."""
    cdef int is_double = floating is double
    mr[0] = k.mr[is_double][cv]
    nr[0] = k.nr[is_double][cv]


cdef inline void _dense_pv(const msp_conv_kernels *k, const floating *inp,
                           const Py_ssize_t *koff, Py_ssize_t K, const floating *w,
                           floating *out, Py_ssize_t ld, const floating *bias) noexcept nogil:
    if floating is float:
        k.dense_pv_f32(inp, koff, K, w, out, ld, bias)
    else:
        k.dense_pv_f64(inp, koff, K, w, out, ld, bias)


cdef inline void _dense_cv(const msp_conv_kernels *k, const floating *inp, Py_ssize_t q0,
                           Py_ssize_t n, Py_ssize_t W_out, Py_ssize_t Wq, const Py_ssize_t *koff,
                           Py_ssize_t K, const floating *w, floating *tile) noexcept nogil:
    if floating is float:
        msp_dense_cv_block_f32(k, inp, q0, n, W_out, Wq, koff, K, w, tile)
    else:
        msp_dense_cv_block_f64(k, inp, q0, n, W_out, Wq, koff, K, w, tile)


cdef inline void _dw(const msp_conv_kernels *k, const floating *inp, const Py_ssize_t *koff,
                     Py_ssize_t K, const floating *w, floating *out, Py_ssize_t n) noexcept nogil:
    if floating is float:
        k.dw_f32(inp, koff, K, w, out, n)
    else:
        k.dw_f64(inp, koff, K, w, out, n)


cdef inline void _dw_plane(const msp_conv_kernels *k, const floating *inp,
                           const msp_dw_geometry *plane, const floating *w, floating bias,
                           floating *out) noexcept nogil:
    if floating is float:
        k.dw_plane_f32(inp, plane, w, bias, out)
    else:
        k.dw_plane_f64(inp, plane, w, bias, out)


cdef inline void _store(const msp_conv_kernels *k, floating *dst, Py_ssize_t plane,
                        const floating *tile, Py_ssize_t m_step, Py_ssize_t j_step,
                        Py_ssize_t mr, Py_ssize_t run, const floating *bias) noexcept nogil:
    if floating is float:
        k.store_f32(dst, plane, tile, m_step, j_step, mr, run, bias)
    else:
        k.store_f64(dst, plane, tile, m_step, j_step, mr, run, bias)


cdef inline void _gather(const msp_conv_kernels *k, const floating *src, Py_ssize_t stride,
                         floating *dst, Py_ssize_t n) noexcept nogil:
    if floating is float:
        k.gather_f32(src, stride, dst, n)
    else:
        k.gather_f64(src, stride, dst, n)


cdef _dense(const msp_conv_kernels *k, const floating *x, floating *out, cnp.ndarray panels, bias,
            ConvGeometry geometry, dtype):
    """Allocate the work space of a dense call and run it."""
    cdef const msp_conv_geometry *g = &geometry.c
    cdef Py_ssize_t mr, nr
    _tile(k, g.channel_vectors, &mr, &nr, x)
    cdef Py_ssize_t plane = g.sh * g.sw * g.Hq * g.Wq
    # Each thread pads the (image, group)s it works on itself when there are enough of them to
    # share out; otherwise all threads pad the whole input first.
    cdef bint private_pad = not g.in_place and g.N * g.G >= g.nthreads
    cdef Py_ssize_t padded_size = (g.Cg_in if private_pad else g.N * g.C_in) * plane
    cdef Py_ssize_t slack = nr + g.Wq + 64  # read past the planes (zeroed, see conv_plan)
    cdef Py_ssize_t per_thread = (mr + g.K) * nr + (padded_size + slack if private_pad else 0)
    cdef cnp.ndarray work = np.empty(g.nthreads * per_thread, dtype)
    cdef cnp.ndarray buf = np.empty(1 if g.in_place or private_pad else padded_size + slack,
                                    dtype)
    cdef const floating *bias_data = NULL
    if bias is not None:
        bias_data = <const floating *>cnp.PyArray_DATA(<cnp.ndarray>bias)
    with nogil:
        _dense_forward(k, g, x, <floating *>cnp.PyArray_DATA(buf), out,
                       <const floating *>cnp.PyArray_DATA(panels), bias_data,
                       <const Py_ssize_t *>cnp.PyArray_DATA(geometry.koff),
                       <const Py_ssize_t *>cnp.PyArray_DATA(geometry.tail_koff), private_pad,
                       slack, <floating *>cnp.PyArray_DATA(work), per_thread)


cdef _depthwise(const msp_conv_kernels *k, const floating *x, floating *out, cnp.ndarray weight, bias,
                ConvGeometry geometry, bint in_place, dtype):
    """Allocate the work space of a depthwise call and run it."""
    cdef const msp_conv_geometry *g = &geometry.c
    cdef const floating *w = <const floating *>cnp.PyArray_DATA(weight)
    cdef const floating *bias_data = NULL
    cdef cnp.ndarray work, zeros
    cdef msp_dw_geometry plane
    cdef Py_ssize_t per_thread
    if bias is not None:
        bias_data = <const floating *>cnp.PyArray_DATA(<cnp.ndarray>bias)
    if in_place:
        zeros = np.zeros(g.W, dtype)
        plane = msp_dw_geometry(H=g.H, W=g.W, kh=g.kh, kw=g.kw, dh=g.dh, dw=g.dw, top=g.top,
                                left=g.left, H_out=g.H_out, W_out=g.W_out,
                                zeros=cnp.PyArray_DATA(zeros))
        with nogil:
            _depthwise_in_place(k, x, out, w, bias_data, &plane, g.N, g.C_in, g.K, g.nthreads)
        return
    per_thread = g.sh * g.sw * g.Hq * g.Wq + g.Wq + 64 + g.H_out * g.Wq
    work = np.empty(g.nthreads * per_thread, dtype)
    with nogil:
        _depthwise_forward(k, g, x, out, w, bias_data,
                           <const Py_ssize_t *>cnp.PyArray_DATA(geometry.koff),
                           <floating *>cnp.PyArray_DATA(work), per_thread)


cdef inline void _pad_row(const msp_conv_kernels *k, const floating *src, const msp_conv_geometry *g,
                          floating *dst, Py_ssize_t row) noexcept nogil:
    """Row ``row`` of the zero-padded copy of one (H, W) plane split into sh*sw stride phases
    of (Hq, Wq): phase (row // Hq) holds input rows a*sh + ph - top, columns b*sw + pw - left."""
    cdef Py_ssize_t H = g.H, W = g.W, sw = g.sw, Hq = g.Hq, Wq = g.Wq, left = g.left
    cdef Py_ssize_t phase = row // Hq
    cdef Py_ssize_t y = (row - phase * Hq) * g.sh + phase // sw - g.top
    cdef Py_ssize_t pw = phase % sw
    cdef Py_ssize_t b0, b1
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
    else:
        _gather(k, line + b0 * sw, sw, out + b0, b1 - b0)
    memset(out + b1, 0, (Wq - b1) * sizeof(floating))


cdef inline void _pad_plane(const msp_conv_kernels *k, const floating *src,
                            const msp_conv_geometry *g, floating *dst) noexcept nogil:
    """Zero-padded copy of one (H, W) plane split into sh*sw stride phases of (Hq, Wq)."""
    cdef Py_ssize_t row
    for row in range(g.sh * g.sw * g.Hq):
        _pad_row(k, src, g, dst, row)


cdef void _dense_forward(const msp_conv_kernels *k, const msp_conv_geometry *g, const floating *x,
                         floating *buf, floating *out, const floating *wpack,
                         const floating *bias, const Py_ssize_t *koff,
                         const Py_ssize_t *tail_koff, bint private_pad, Py_ssize_t slack,
                         floating *work, Py_ssize_t work_per_thread) noexcept nogil:
    """Direct convolution over output tiles (image, group, channel block, pixel block).

    Pixel-vector blocks run over the flattened (H_out, Wq) grid (wrap-around columns are
    computed and dropped), or, ``by_row``, over whole segments of one output row; channel-vector
    blocks over the output pixels in order (each pixel read from its own offset, so no padding
    column is computed).

    Unless ``in_place`` (1x1, stride 1, no padding: x is read in place), x is copied as
    zero-padded stride-phase planes, so every tap is a unit-stride read: all of it into ``buf``
    up front, or, ``private_pad``, one (image, group) at a time into each thread's work space
    just before the thread computes on it (the copy is then still in its cache).  The
    ``slack`` elements after the planes are zeroed: reads wrap into them.
    """
    cdef bint cv = g.channel_vectors
    cdef bint by_row = g.by_row
    cdef Py_ssize_t MR, NR
    _tile(k, cv, &MR, &NR, x)
    cdef Py_ssize_t N = g.N, C_in = g.C_in, G = g.G, Cg_in = g.Cg_in, Cg_out = g.Cg_out
    cdef Py_ssize_t K = g.K, H_out = g.H_out, W_out = g.W_out, Wq = g.Wq
    cdef Py_ssize_t phases = g.sh * g.sw
    cdef Py_ssize_t plane = g.Hq * Wq
    cdef Py_ssize_t img_stride = C_in * phases * plane
    cdef Py_ssize_t grp_stride = Cg_in * phases * plane
    # Pixels the blocks run over (unless by_row): output pixels, or the flat padded grid.
    cdef Py_ssize_t P = H_out * W_out if cv else (H_out - 1) * Wq + W_out
    cdef Py_ssize_t S = (W_out + NR - 1) // NR
    cdef Py_ssize_t T = H_out * S if by_row else (P + NR - 1) // NR
    cdef Py_ssize_t segments = S if by_row else T  # pixel blocks per block row
    cdef Py_ssize_t NB = (Cg_out + MR - 1) // MR
    cdef Py_ssize_t total = N * G * T * NB
    cdef Py_ssize_t i, t, r, ob, gi, n, p0, c, row, channel, first, last, padded, limit
    cdef Py_ssize_t ts, row0
    cdef const floating *src
    cdef const floating *base
    cdef const floating *panel
    cdef floating *tile
    cdef floating *scratch
    cdef floating *own
    if g.in_place:
        src = x
        img_stride = C_in * g.H * g.W
        grp_stride = Cg_in * g.H * g.W
    elif not private_pad:
        memset(buf + N * C_in * phases * plane, 0, slack * sizeof(floating))
        src = buf
    # One parallel region per call (fewer thread hand-offs, which a busy machine delays).
    with parallel(num_threads=g.nthreads):
        if not g.in_place and not private_pad:
            # Pad by rows, so that few large planes (a stem's 3 channels) still split evenly,
            # then wait for the whole copy before any block reads it.
            for row in prange(N * C_in * phases * g.Hq, schedule="static"):
                channel = row // (phases * g.Hq)
                _pad_row(k, x + channel * g.H * g.W, g, buf + channel * phases * plane,
                         row - channel * phases * g.Hq)
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
        # Item i is (image-group r = n * G + gi, pixel block t, channel block ob): split once
        # here, then stepped like an odometer (divisions per item cost a few % on short
        # reductions).  Pixel block t is segment ts of the blocks starting at flat pixel row0.
        ob = first % NB
        t = first // NB % T
        r = first // (NB * T)
        gi = r % G
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
                        _pad_plane(k, x + (r * Cg_in + c) * g.H * g.W, g,
                                   own + c * phases * plane)
                    padded = r
                base = own
            else:
                base = src + n * img_stride + gi * grp_stride
            panel = wpack + (gi * NB + ob) * K * MR
            p0 = row0 + ts * NR
            limit = W_out - ts * NR if by_row else P - p0
            if limit > NR:
                limit = NR
            if cv:
                _dense_cv(k, base, p0, limit, W_out, Wq, koff, K, panel, tile)
                _store_block(k, g, tile, out, bias, p0, 0, limit, n, gi, ob, W_out)
            else:
                _pixel_vector_block(k, g, base, koff, tail_koff, panel, tile, scratch, out, bias,
                                    p0, limit, n, gi, ob, P)
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
                    gi = gi + 1
                    if gi == G:
                        gi = 0
                        n = n + 1


cdef inline void _pixel_vector_block(const msp_conv_kernels *k, const msp_conv_geometry *g,
                                     const floating *base, const Py_ssize_t *koff,
                                     const Py_ssize_t *tail_koff, const floating *panel,
                                     floating *tile, floating *scratch, floating *out,
                                     const floating *bias, Py_ssize_t p0, Py_ssize_t limit,
                                     Py_ssize_t n, Py_ssize_t gi, Py_ssize_t ob,
                                     Py_ssize_t P) noexcept nogil:
    """Compute and store the pixel-vector block at flat pixel p0 (``limit`` pixels valid)."""
    cdef Py_ssize_t MR, NR
    cdef Py_ssize_t K = g.K, Wq = g.Wq, W_out = g.W_out, H_out = g.H_out, Cg_out = g.Cg_out
    cdef Py_ssize_t skip = 0
    cdef Py_ssize_t j, kk, oy, ox
    _tile(k, False, &MR, &NR, base)
    if g.in_place and p0 + NR > P and P >= NR:
        # The last pixel block of an in-place input would read past its end: shift it
        # back to end at the last pixel and store only the pixels not stored yet.
        skip = p0 + NR - P
        p0 = P - NR
        limit = NR
    if g.in_place and p0 + NR > P:
        # An input smaller than one block: gather it, zero-extended.
        for kk in range(K):
            for j in range(NR):
                scratch[kk * NR + j] = base[koff[kk] + p0 + j] if p0 + j < P else 0
        _dense_pv(k, scratch, tail_koff, K, panel, tile, NR, NULL)
        _store_block(k, g, tile, out, bias, p0, skip, limit, n, gi, ob, Wq)
        return
    # A whole block of consecutive output pixels (one row, or rows without wrap-around
    # columns) skips the tile and goes straight to the output.
    oy = p0 // Wq
    ox = p0 - oy * Wq
    if (skip == 0 and limit == NR and (ob + 1) * MR <= Cg_out
            and (Wq == W_out or ox + NR <= W_out)):
        _dense_pv(k, base + p0, koff, K, panel,
                   out + ((n * g.G + gi) * Cg_out + ob * MR) * H_out * W_out + oy * W_out + ox,
                   H_out * W_out, bias + gi * Cg_out + ob * MR if bias != NULL else NULL)
    else:
        _dense_pv(k, base + p0, koff, K, panel, tile, NR, NULL)
        _store_block(k, g, tile, out, bias, p0, skip, limit, n, gi, ob, Wq)


cdef inline void _store_block(const msp_conv_kernels *k, const msp_conv_geometry *g,
                              const floating *tile, floating *out, const floating *bias,
                              Py_ssize_t p0, Py_ssize_t j, Py_ssize_t limit, Py_ssize_t n,
                              Py_ssize_t gi, Py_ssize_t ob, Py_ssize_t Wq) noexcept nogil:
    """Write pixels j..limit-1 (those in the output) and the valid channels of one MR x NR block
    (+ bias) starting at flat pixel p0, in rows Wq apart, into NCHW output; the block is
    pixel-major (channel vectors) or channel-major."""
    cdef bint cv = g.channel_vectors
    cdef Py_ssize_t MR, NR
    cdef Py_ssize_t Cg_out = g.Cg_out, H_out = g.H_out, W_out = g.W_out
    cdef Py_ssize_t mmax, c, m_step, j_step
    cdef floating *dst
    cdef Py_ssize_t p, oy, ox, run
    _tile(k, cv, &MR, &NR, tile)
    mmax = Cg_out - ob * MR
    c = gi * Cg_out + ob * MR
    dst = out + (n * g.G * Cg_out + c) * H_out * W_out
    m_step = 1 if cv else NR
    j_step = MR if cv else 1
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
        _store(k, dst + oy * W_out + ox, H_out * W_out, tile + j * j_step, m_step, j_step, mmax,
                run, bias + c if bias != NULL else NULL)
        j = j + run


cdef void _depthwise_in_place(const msp_conv_kernels *k, const floating *x, floating *out,
                              const floating *w, const floating *bias,
                              const msp_dw_geometry *plane, Py_ssize_t N, Py_ssize_t C,
                              Py_ssize_t K, int nthreads) noexcept nogil:
    """Stride-1 depthwise: every plane read in place, padding handled at the borders (no copy
    of the input, output written once)."""
    cdef Py_ssize_t plane_in = plane.H * plane.W
    cdef Py_ssize_t plane_out = plane.H_out * plane.W_out
    cdef Py_ssize_t i, c
    for i in prange(N * C, num_threads=nthreads, schedule="static"):
        c = i % C
        _dw_plane(k, x + i * plane_in, plane, w + c * K, bias[c] if bias != NULL else 0,
                   out + i * plane_out)


cdef void _depthwise_forward(const msp_conv_kernels *k, const msp_conv_geometry *g, const floating *x,
                             floating *out, const floating *w, const floating *bias,
                             const Py_ssize_t *koff, floating *work,
                             Py_ssize_t work_per_thread) noexcept nogil:
    """Strided depthwise: pad each plane into a per-thread buffer split into stride phases (it
    stays in cache), then vectorise every output row over its width."""
    cdef Py_ssize_t C = g.C_in, K = g.K, H_out = g.H_out, W_out = g.W_out, Wq = g.Wq
    cdef Py_ssize_t plane = g.sh * g.sw * g.Hq * Wq
    cdef Py_ssize_t i, c, oy, ox
    cdef floating *buf
    cdef floating *row
    cdef floating b
    cdef Py_ssize_t span = (H_out - 1) * Wq + W_out
    cdef floating *flat = NULL
    buf = NULL
    with parallel(num_threads=g.nthreads):
        buf = work + threadid() * work_per_thread
        flat = buf + plane + Wq + 64
        for i in prange(g.N * C, schedule="static"):
            c = i % C
            _pad_plane(k, x + i * g.H * g.W, g, buf)
            # All rows in one sweep over the padded width; the wrap-around columns are dropped.
            _dw(k, buf, koff, K, w + c * K, flat, span)
            b = bias[c] if bias != NULL else 0
            for oy in range(H_out):
                row = out + (i * H_out + oy) * W_out
                if bias != NULL:
                    for ox in range(W_out):
                        row[ox] = flat[oy * Wq + ox] + b
                else:
                    memcpy(row, flat + oy * Wq, W_out * sizeof(floating))
