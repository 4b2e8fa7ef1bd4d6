"""Winograd forward pass of 3x3 stride-1 convolutions (float32 arithmetic), for Conv2dPlan.

:class:`Conv2dPlan` (``conv_plan.py``) builds a :class:`WinogradConv` for the layers it may use and
asks it, per input shape, for the tile size (:meth:`WinogradConv.tile_size`, 0: keep the direct
convolution); the transforms are in ``winograd_kernels.h``, the matrix products are the
Winograd product kernels of ``conv_kernels.h``'s table entry for the ISA.
"""
import math
import os

import numpy as np

from msparam._core._conv import same_bytes

from libc.string cimport memcmp

cimport numpy as cnp
from cython.parallel cimport parallel, prange, threadid

from msparam._core.conv_kernels cimport (
    msp_barrier, msp_conv_kernels, msp_conv_kernels_for, msp_wino_product_fn)

cnp.import_array()

cdef extern from "winograd_kernels.h" nogil:
    int msp_wino_vector_tiles(int isa)
    Py_ssize_t msp_wino_phase_size(int vl, int m, Py_ssize_t rows, Py_ssize_t ntiles)
    int msp_wino_input_rows(int isa, int vl, int m, const float *plane, Py_ssize_t H,
                            Py_ssize_t W, Py_ssize_t y0, Py_ssize_t left, Py_ssize_t rows,
                            Py_ssize_t ntiles, float *phases, float *out, Py_ssize_t xi_stride)
    int msp_wino_output_rows(int isa, int vl, int m, const float *inp, Py_ssize_t xi_stride,
                             Py_ssize_t rows, Py_ssize_t ntiles, float bias, float *out,
                             Py_ssize_t W_out, Py_ssize_t H_rest)

__all__ = ["ALGORITHMS", "MIN_CHANNELS", "SHARINGS", "WinogradConv", "winograd_for"]

# Conv2dPlan's ``algorithm`` values: None picks per input shape.
ALGORITHMS = ("direct", "winograd_f2", "winograd_f4")
# How a call shares its work among threads (WinogradConv.sharing).
SHARINGS = ("private_groups", "replicated_input", "shared_input")
# The environment switch read when a plan is built: 'direct' keeps every layer on the direct
# convolution (its rounding), as ``algorithm='direct'``.
ALGORITHM_ENV = "MSPARAM_CONV_ALGORITHM"

# The 1-D transform matrices (Lavin & Gray 2016): interpolation points 0, +-1 (F(2,3)) and
# 0, +-1, +-2, infinity with the scaling of winograd_kernels.h (F(4,3)).
_G = {2: np.array([[2, 0, 0], [1, 1, 1], [1, -1, 1], [0, 0, 2]]) / 2.0,
      4: np.array([[6, 0, 0], [-4, -4, -4], [-4, 4, -4], [1, 2, 4], [1, -2, 4], [0, 0, 24]]) / 24.0}

# Smallest input channel count for which the plan picks each tile size by itself: on random
# inputs (uniform, positive, offset, checkerboard) the largest error there is under 1/10 of the
# bound the direct convolution is tested against ((9*C_in + 1) u sum|x w|), and shrinks with
# more channels; fewer channels keep the direct convolution.  A forced tile size has no minimum.
MIN_CHANNELS = {2: 16, 4: 32}
# Cost model, in multiply-adds of the product kernels (one AVX-512 cycle is 32 of them).  The
# transforms per tile and channel, for vectors of the ISA's width, are their share of the
# profile (perf, one thread) of the bench's res3x3 (16-tile vectors) and deep3x3 (4-tile
# vectors) next to the products', whose rate is known; a vector of vl tiles costs about
# sqrt(vl / widest) of a widest one.  AVX2 is taken to give the same figures in its own units.
# The weight and spill terms were fitted (for the direct path's kernels, before the product
# kernels) so that the plan's choice was the fastest schedule, or near it, on res3x3, deep3x3
# and four other layers (32 to 512 channels, 7x7 to 56x56), timed on one thread with AVX-512
# and AVX2; with the product kernels only the bench's two shapes were checked, one thread:
# F(4x4) is chosen for both; it was the fastest except on AVX2 deep3x3, where F(2x2) timed
# about 5% faster under a loaded machine (to re-check when it is quiet).
_INPUT_MACS = {2: 340, 4: 750}
_OUTPUT_MACS = {2: 250, 4: 700}
# Transform vector widths (tiles) an ISA may use, by its widest (msp_wino_vector_tiles).
_VECTOR_TILES = {4: (4,), 8: (4, 8), 16: (4, 8, 16)}
# The product kernels' loads per multiply-add fall with the vectors of tiles they hold (NV):
# the cost of a product computed, in eighths, by NV (timed: a 1-vector kernel reaches ~0.9 of
# the 4-vector one's rate on the same padded work).
_PRODUCT_EIGHTHS = {1: 9, 2: 8.5, 3: 8.3, 4: 8.2}
_WEIGHT_MACS = 4  # per transformed weight read (from L3) by each tile group
_LINE_FLOATS = 16  # a 64-byte cache line
# A group too small to share out whole has its input transform run by every thread into its own
# V (no barrier: a thread the machine delays holds up only its own blocks) when that transform
# costs at most this share of the group's products; otherwise the threads split it and meet.
_REPLICATE_SHARE = 0.25
_SPILL_MACS = 8  # per element of V and M of a group larger than _GROUP_BYTES
_GROUP_BYTES = 1 << 20
# Element counts beyond this could overflow a byte size or an offset sum in Py_ssize_t.
_MAX_ELEMENTS = (1 << 62) // 16
# Weight sizes (bytes) from which the weight-change check is split across the threads (as
# _conv.same_bytes).
_PARALLEL_COMPARE_BYTES = 1 << 18


ctypedef struct WinoGeometry:
    Py_ssize_t N, C_in, H, W, C_out, H_out, W_out, top, left
    const msp_conv_kernels *k
    # tile size, ISA, product kernel (index into k.wino_*), its register tile (MR channels by
    # NT tiles), transform vector width (tiles)
    int m, isa, product, MR, NT, vl
    Py_ssize_t A2, TW, TH, R, groups_per_image, groups, Ts, NB
    # distance between the transform points' matrices in V and M (floats)
    Py_ssize_t v_step, m_step
    Py_ssize_t v_size, m_size, phase_size


def winograd_for(weight_shape, dtype, stride, dilation, group, isa, algorithm):
    """The :class:`WinogradConv` a Conv2dPlan may use, or None: 3x3, stride 1, dilation 1, one
    group, float16 or float32, and ``algorithm`` (or, when it is None, the environment variable
    MSPARAM_CONV_ALGORITHM) not 'direct'.  A forced Winograd algorithm on another layer is a
    ValueError."""
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise ValueError(f"For 'Conv2dPlan', 'algorithm' must be one of {list(ALGORITHMS)} or "
                         f"None, but got {algorithm!r}.")
    if algorithm is None and os.environ.get(ALGORITHM_ENV, "").strip().lower() == "direct":
        algorithm = "direct"
    if algorithm == "direct":
        return None
    eligible = (tuple(weight_shape[2:]) == (3, 3) and tuple(stride) == (1, 1)
                and tuple(dilation) == (1, 1) and group == 1 and np.dtype(dtype) != np.float64)
    if not eligible:
        if algorithm is not None:
            raise ValueError(f"For 'Conv2dPlan', 'algorithm' {algorithm!r} needs a 3x3 kernel, "
                             f"stride 1, dilation 1, one group and float16 or float32, but got "
                             f"kernel {tuple(weight_shape[2:])}, stride {tuple(stride)}, "
                             f"dilation {tuple(dilation)}, group {group} and {np.dtype(dtype)}.")
        return None
    return WinogradConv(weight_shape, isa, None if algorithm is None else int(algorithm[len("winograd_f"):]))


cdef class WinogradConv:
    """Winograd convolution F(m x m, 3 x 3) of one layer (3x3 kernel, stride 1, dilation 1, one
    group), float32 arithmetic; the weights come with every call.

    Parameters
    ----------
    weight_shape : (C_out, C_in, 3, 3)
    isa : int
        The ``MSP_ISA_*`` of the kernels.
    tile_size : {2, 4} or None
        Force F(2x2, 3x3) or F(4x4, 3x3) for every input; None picks per input shape.

    Notes
    -----
    A tile of m x m outputs is ``A^T [sum_c (G g_c G^T) . (B^T d_c B)] A`` (d_c the (m+2)^2
    input patch of channel c, g_c its 3x3 kernel): (m+2)^2 multiplications per tile instead of
    9 m^2, 2.25 (F(2x2,3x3)) or 4 times (F(4x4,3x3)) fewer.  The weights' transform is computed
    in float64 and rounded once; inputs, products and outputs in float32.

    **Error bound** (first order in u = 2^-24; for float16 inputs then + the final rounding):
    each output y of tile position (i, j), against the exact (float64) convolution, satisfies

        |y - exact| <= (C_in + c_m) u  [|A^T| (sum_c |G||g_c||G^T| . |B^T||d_c||B|) |A|]_ij
                       + u |bias|

    with c_2 = 9 and c_4 = 27 (the roundings of the transforms and the product).  The bracket
    holds every product of a weight and an input value the transforms combine, so it exceeds
    the direct convolution's sum |x w| by a factor that grows with m; on random inputs the
    error stays far inside the direct convolution's own bound for the channel counts the plan
    picks each tile size at (``MIN_CHANNELS``), and below them the plan keeps the direct path.

    Choice per input shape (:meth:`tile_size`): estimated work, in the kernels' multiply-adds,
    of the direct convolution and of each Winograd schedule (tile size, product kernel, width
    of the transforms' vectors, tile rows per group: matrix products with their padded blocks,
    transforms per vector and channel, measured), the least wins.  It depends on the shapes and
    the ISA only, never on the thread count; so does every output's arithmetic (each product
    value is one kernel's sum over the input channels in order, whichever thread computes it,
    see :meth:`sharing`), so results do not depend on the thread count.

    The products M[xi] = U[xi] V[xi] at the (m+2)^2 transform points are the Winograd product
    kernels of the ISA's conv kernel table (``conv_microkernels.h``): tiles in vectors, weights
    broadcast, register tiles for few tiles (one vector) and for many.  Per tile group and block
    of output channels they stream that block's transformed weights (contiguous, point after
    point) past the group's transformed input, which stays in cache, and the block's outputs
    are transformed while its products are still in cache.  The transformed weights are kept
    until the weights' bytes change (compared with a copy on each call, as Conv2dPlan's packed
    panels).
    """
    cdef readonly tuple weight_shape
    cdef int _isa
    # The ISA's table entry and its Winograd product kernels' register tiles: kernel p computes
    # _mr[p] output channels by _tiles[p] tiles.
    cdef const msp_conv_kernels *_kernels
    cdef tuple _mr, _tiles
    cdef object _forced
    cdef tuple _packed
    cdef dict _schedules
    cdef object _spare

    def __init__(self, weight_shape, int isa, tile_size=None):
        self.weight_shape = tuple(weight_shape)
        self._isa = isa
        self._kernels = msp_conv_kernels_for(isa)
        self._mr = tuple(self._kernels.wino_mr[p] for p in range(3))
        self._tiles = tuple(self._kernels.wino_tiles[p] for p in range(3))
        self._forced = tile_size
        self._packed = (None, {})
        self._schedules = {}
        self._spare = None

    def tile_size(self, input_shape, padding):
        """m of the F(m x m, 3 x 3) an (N, C_in, H, W) input with ``padding`` runs, or 0 for the
        direct convolution."""
        return self._schedule(tuple(input_shape), tuple(padding))[0]

    def _schedule(self, shape, padding):
        key = (shape, padding)
        cached = self._schedules.get(key)
        if cached is None:
            cached = self._plan(shape, padding)
            if len(self._schedules) >= 8:
                self._schedules.clear()
            self._schedules[key] = cached
        return cached

    def _plan(self, shape, padding):
        """(m, p, vl, R, Ts) of the least estimated work, (0,) if the direct convolution
        wins."""
        return min(self._estimates(shape, padding))[1]

    def _estimates(self, shape, padding):
        """[(estimated work, schedule)] of the direct convolution (schedule (0,), unless a tile
        size is forced) and of each Winograd schedule (m, p, vl, R, Ts): tile size m, product
        kernel p, transform vectors of vl tiles, R tile rows per group, Ts the row stride of V
        and M.  Work is in the kernels' multiply-adds: padded matrix products, transforms, the
        transformed weights streamed once per group and, for a group whose V and M outgrow a
        core's L2 cache, their trip through L3."""
        n, c_in, h, w = shape
        c_out = self.weight_shape[0]
        top, bottom, left, right = padding
        h_out, w_out = h + top + bottom - 2, w + left + right - 2
        if min(n, h_out, w_out) < 1:
            return [(0, (0,))]
        widest = msp_wino_vector_tiles(self._isa)
        estimates = [] if self._forced else [(n * c_out * h_out * w_out * c_in * 9, (0,))]
        for m in (2, 4):
            if self._forced not in (None, m) or (self._forced is None and c_in < MIN_CHANNELS[m]):
                continue
            a2 = (m + 2) ** 2
            th, tw = (h_out + m - 1) // m, (w_out + m - 1) // m
            for vl in _VECTOR_TILES[widest]:
                transforms = int(n * th * ((tw + vl - 1) // vl) * widest * (vl / widest) ** 0.5
                                 * (c_in * _INPUT_MACS[m] + c_out * _OUTPUT_MACS[m]))
                for p in range(3):
                    mr, nt = self._mr[p], self._tiles[p]
                    cout_p = (c_out + mr - 1) // mr * mr
                    eighths = _PRODUCT_EIGHTHS[nt // widest]
                    for rows in range(1, th + 1):
                        tiles = rows * tw
                        # V and M rows hold the products' whole blocks of nt tiles and the
                        # transforms' whole vectors (of a row's tiles, from its first)
                        ts = max((tiles + nt - 1) // nt * nt,
                                 tiles - tw + (tw + vl - 1) // vl * vl)
                        full, rest = divmod(th, rows)
                        blocks = full * ((tiles + nt - 1) // nt) + (rest * tw + nt - 1) // nt
                        groups = n * (full + (rest > 0))
                        cost = (int(blocks * nt * a2 * cout_p * c_in * eighths) // 8
                                + transforms + groups * a2 * cout_p * c_in * _WEIGHT_MACS)
                        group_size = a2 * (c_in + mr) * ts
                        if group_size * 4 > _GROUP_BYTES:
                            cost += groups * group_size * _SPILL_MACS
                        estimates.append((cost, (m, p, vl, rows, ts)))
        return estimates

    def __call__(self, cnp.ndarray x, cnp.ndarray weight, object bias, cnp.ndarray out,
                 padding, int nthreads):
        """Write into ``out`` (N, C_out, H_out, W_out) the convolution of ``x`` with ``weight``
        and ``bias`` (or None): float32, C-contiguous, validated by Conv2dPlan, for an input
        shape whose :meth:`tile_size` is not 0.  False if a transformed weight or input value
        or an output is not finite (infinite or NaN inputs or weights, or an overflow): the
        caller then runs the direct convolution, whose non-finite results Winograd would not
        reproduce (its transforms spread one infinite input over a whole tile)."""
        cdef WinoGeometry g
        cdef int *poison_flags
        cdef int mode
        cdef Py_ssize_t per_thread
        m, product, vl, rows, ts = self._schedule((<object>x).shape, tuple(padding))
        self._check_work_size((<object>x).shape, (<object>out).shape, m, product, rows, ts,
                              nthreads)
        g.N, g.C_in, g.H, g.W = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
        g.C_out, g.H_out, g.W_out = out.shape[1], out.shape[2], out.shape[3]
        g.top, g.left = padding[0], padding[2]
        g.k, g.m, g.isa, g.product, g.vl = self._kernels, m, self._isa, product, vl
        g.MR, g.NT = self._mr[product], self._tiles[product]
        g.A2 = (m + 2) * (m + 2)
        # (a + b - 1) // b: C division (cdivision) truncates, so -(-a // b) would not round up
        g.TH, g.TW = (g.H_out + g.m - 1) // g.m, (g.W_out + g.m - 1) // g.m
        g.R = rows
        g.groups_per_image = (g.TH + g.R - 1) // g.R
        g.groups = g.N * g.groups_per_image
        g.Ts = ts
        g.NB = (g.C_out + g.MR - 1) // g.MR
        # A transform writes (reads) one vector per point xi, (m+2)^2 vectors v_step (m_step)
        # apart: a step of a whole number of 4 KiB pages would put them all in one L1 set, so
        # it is one cache line longer.
        g.v_step = g.C_in * ts + _LINE_FLOATS
        g.m_step = g.MR * ts + _LINE_FLOATS
        g.v_size = g.A2 * g.v_step
        g.m_size = g.A2 * g.m_step
        g.phase_size = msp_wino_phase_size(vl, g.m, g.R, g.TW)
        # The transformed weights kept from an earlier call are used if the weights' bytes are
        # still those they came from; the comparison runs in the call's own parallel region (a
        # region of its own costs a wake-up of the threads, milliseconds on a busy machine),
        # which skips its work if they differ; the call then runs again on new ones.
        packed = self._packed
        fresh = packed[0] is None
        if fresh:
            packed = self._renew(weight)
        u = self._panels_of(packed, m, g.MR)
        if u is None and not fresh and not same_bytes(packed[0], weight, nthreads):
            packed = self._renew(weight)
            fresh = True
            u = self._panels_of(packed, m, g.MR)
        if u is None:
            return False
        mode = SHARINGS.index(self.sharing((<object>x).shape, tuple(padding), nthreads))
        # 16 floats between a thread's buffers: whole-vector reads past one stay inside
        per_thread = g.phase_size + 16 + g.m_size + (g.v_size if mode != _SHARED_INPUT else 0)
        shared_size = g.v_size if mode == _SHARED_INPUT else 1
        # The work space of the last call that met only finite values, if large enough (a call
        # running concurrently takes none and allocates its own); new ones are zeroed: the tiles
        # past a group's last one are computed from and into them and dropped, and must stay
        # finite.
        spare, self._spare = self._spare, None
        if spare is None or spare[0].size < shared_size or spare[1].size < nthreads * per_thread:
            spare = (np.zeros(shared_size, np.float32), np.zeros(nthreads * per_thread, np.float32))
        shared, work = spare
        poisoned = np.zeros(nthreads, np.intc)
        poison_flags = <int *>cnp.PyArray_DATA(<cnp.ndarray>poisoned)
        cdef const float *b = NULL
        if bias is not None:
            b = <const float *>cnp.PyArray_DATA(<cnp.ndarray>bias)
        cdef Py_ssize_t nbytes = weight.nbytes
        cdef Py_ssize_t slices = nthreads if nbytes >= _PARALLEL_COMPARE_BYTES else 1
        differ = np.zeros(slices, np.intc)
        cdef const char *kept = NULL if fresh else <const char *>cnp.PyArray_DATA(
            <cnp.ndarray>packed[0])
        with nogil:
            _forward(<const float *>cnp.PyArray_DATA(x), <float *>cnp.PyArray_DATA(out),
                     <const float *>cnp.PyArray_DATA(<cnp.ndarray>u), b, &g,
                     <float *>cnp.PyArray_DATA(<cnp.ndarray>shared),
                     <float *>cnp.PyArray_DATA(<cnp.ndarray>work), per_thread, mode,
                     poison_flags, nthreads, kept, <const char *>cnp.PyArray_DATA(weight),
                     nbytes, slices, <int *>cnp.PyArray_DATA(<cnp.ndarray>differ))
        if differ.any():
            u = self._panels_of(self._renew(weight), m, g.MR)
            if u is None:
                return False
            with nogil:
                _forward(<const float *>cnp.PyArray_DATA(x), <float *>cnp.PyArray_DATA(out),
                         <const float *>cnp.PyArray_DATA(<cnp.ndarray>u), b, &g,
                         <float *>cnp.PyArray_DATA(<cnp.ndarray>shared),
                         <float *>cnp.PyArray_DATA(<cnp.ndarray>work), per_thread, mode,
                         poison_flags, nthreads, NULL, NULL, 0, 1, NULL)
        if poisoned.any():
            return False
        self._spare = spare
        return True

    def sharing(self, input_shape, padding, int nthreads):
        """How a call on ``nthreads`` threads shares its work out (one of ``SHARINGS``, see
        _forward), for an input shape whose :meth:`tile_size` is not 0."""
        n, c_in, h, w = input_shape
        m, product, vl, rows, ts = self._schedule(tuple(input_shape), tuple(padding))
        top, bottom, left, right = padding
        th = (h + top + bottom - 2 + m - 1) // m
        tw = (w + left + right - 2 + m - 1) // m
        groups = n * ((th + rows - 1) // rows)
        if groups >= 4 * nthreads or (groups >= nthreads and groups % nthreads == 0):
            return "private_groups"
        widest = msp_wino_vector_tiles(self._isa)
        mr, nt = self._mr[product], self._tiles[product]
        cout_p = (self.weight_shape[0] + mr - 1) // mr * mr
        transform = rows * ((tw + vl - 1) // vl) * widest * (vl / widest) ** 0.5 * (
            c_in * _INPUT_MACS[m])
        products = (rows * tw + nt - 1) // nt * nt * (m + 2) ** 2 * cout_p * c_in
        return "replicated_input" if transform <= _REPLICATE_SHARE * products else "shared_input"

    def _check_work_size(self, shape, out_shape, m, product, rows, ts, nthreads):
        """Refuse, before any C size is formed, a call whose work space or offsets would not fit
        in Py_ssize_t elements (bounds computed in Python integers, which cannot wrap)."""
        n, c_in, h, w = shape
        a2, mr = (m + 2) ** 2, self._mr[product]
        tw = (out_shape[3] + m - 1) // m
        per_thread = (rows * m + 3) * m * (tw + 35) + 64 + a2 * ((mr + c_in) * ts + 32)
        elements = (nthreads * per_thread + a2 * (c_in * ts + 16)
                    + a2 * (out_shape[1] + mr) * c_in
                    + n * c_in * h * w + math.prod(out_shape))
        if elements > _MAX_ELEMENTS:
            raise ValueError(f"For 'Conv2dPlan', an input of shape {tuple(shape)} needs a "
                             f"Winograd work space of {elements} elements, more than the "
                             f"{_MAX_ELEMENTS} the kernels can address.")

    def _renew(self, cnp.ndarray weight):
        """Keep a copy of ``weight`` and no transformed weights yet: a new (copy, panels) pair,
        as Conv2dPlan's packed panels, since calls running concurrently may still read the
        old one."""
        packed = (weight.copy(), {})
        self._packed = packed
        return packed

    def _panels_of(self, packed, int m, int mr):
        """Panels (channel block, xi, C_in, mr) of the transformed weights G g G^T of the kept
        weights ``packed`` for tile size m, output channels zero-padded to whole blocks (a
        block's panels are one contiguous run: one stream for the prefetchers when they come
        from memory), transformed on first use; None if one is not finite."""
        snapshot, panels = packed
        key = (m, mr)
        if key not in panels:
            c_out, c_in = snapshot.shape[:2]
            g = _G[m]
            u = np.einsum("ai,ocij,bj->aboc", g, snapshot.astype(np.float64), g)
            u = u.reshape((m + 2) ** 2, c_out, c_in)
            nb = ((c_out + mr - 1) // mr)
            padded = np.zeros(((m + 2) ** 2, nb * mr, c_in))
            padded[:, :c_out] = u
            packed = np.ascontiguousarray(
                padded.reshape((m + 2) ** 2, nb, mr, c_in).transpose(1, 0, 3, 2), np.float32)
            panels[key] = packed if np.isfinite(packed).all() else None
        return panels[key]

    def __reduce__(self):
        raise TypeError("WinogradConv cannot be pickled; rebuild it from its arguments.")


cdef inline Py_ssize_t _group_rows(const WinoGeometry *g, Py_ssize_t gi,
                                   Py_ssize_t *n, Py_ssize_t *ty) noexcept nogil:
    """Image n, first tile row ty and tile row count of tile group ``gi``."""
    n[0] = gi // g.groups_per_image
    ty[0] = (gi - n[0] * g.groups_per_image) * g.R
    return g.TH - ty[0] if g.TH - ty[0] < g.R else g.R


cdef inline int _input_item(const float *x, const WinoGeometry *g, Py_ssize_t gi,
                            Py_ssize_t c, float *phases, float *V) noexcept nogil:
    """Input transform of channel ``c`` of tile group ``gi`` into V; 1 if a value is not
    finite."""
    cdef Py_ssize_t n, ty
    cdef Py_ssize_t rows = _group_rows(g, gi, &n, &ty)
    return msp_wino_input_rows(g.isa, g.vl, g.m, x + (n * g.C_in + c) * g.H * g.W, g.H, g.W,
                               ty * g.m - g.top, g.left, rows, g.TW, phases, V + c * g.Ts,
                               g.v_step)


cdef inline int _block_item(const float *u, float *out, const float *bias,
                            const WinoGeometry *g, Py_ssize_t gi, Py_ssize_t cb, const float *V,
                            float *M) noexcept nogil:
    """Output channel block ``cb`` of tile group ``gi``: the products M[xi] = U[xi] V[xi] of its
    MR channels for every xi (into the thread's M, which stays in cache; each xi's weight panel
    stays in L1 while it meets every block of NT tiles), then their output transforms; 1 if an
    output value is not finite."""
    cdef Py_ssize_t n, ty
    cdef Py_ssize_t rows = _group_rows(g, gi, &n, &ty)
    cdef Py_ssize_t tiles = rows * g.TW
    cdef Py_ssize_t xi, p0, co, last
    cdef const float *panel
    cdef const float *src
    cdef float *dst
    cdef int poisoned = 0
    cdef msp_wino_product_fn product = g.k.wino_product_f32[g.product]
    for xi in range(g.A2):
        panel = u + (cb * g.A2 + xi) * g.C_in * g.MR
        src = V + xi * g.v_step
        dst = M + xi * g.m_step
        p0 = 0
        while p0 < tiles:
            product(src + p0, g.Ts, g.C_in, panel, dst + p0, g.Ts)
            p0 = p0 + g.NT
    last = g.C_out - cb * g.MR if g.C_out - cb * g.MR < g.MR else g.MR
    for co in range(last):
        poisoned |= msp_wino_output_rows(
            g.isa, g.vl, g.m, M + co * g.Ts, g.m_step, rows, g.TW,
            bias[cb * g.MR + co] if bias != NULL else 0,
            out + ((n * g.C_out + cb * g.MR + co) * g.H_out + ty * g.m) * g.W_out, g.W_out,
            g.H_out - ty * g.m)
    return poisoned


cdef enum:
    # How _forward shares a call out (SHARINGS, in this order; chosen per call, never changing
    # any output's arithmetic)
    _PRIVATE_GROUPS, _REPLICATED_INPUT, _SHARED_INPUT


cdef void _forward(const float *x, float *out, const float *u, const float *bias,
                   const WinoGeometry *g, float *shared, float *work,
                   Py_ssize_t per_thread, int mode, int *poisoned, int nthreads,
                   const char *kept, const char *weight, Py_ssize_t nbytes, Py_ssize_t slices,
                   int *differ) noexcept nogil:
    """Per tile group, the input transform of every input channel into V, then the output
    channel blocks (products and output transform).  _PRIVATE_GROUPS: each thread runs whole
    groups of its own (with its own V), when there are enough to share out; otherwise the
    threads share each group's output channel blocks, after each transformed the group's whole
    input into its own V (_REPLICATED_INPUT, when that is cheap) or all shared the input
    channels into one V and met at a barrier (_SHARED_INPUT).  Work is handed out as threads
    come free (a thread the machine delays holds up no fixed share); which thread computes an
    output never changes its arithmetic (a V is the same whichever thread computes it).
    poisoned[thread] becomes nonzero if the thread met a value that is not finite.
    Unless ``kept`` is NULL, the threads first compare the ``nbytes`` of ``weight`` with those
    of ``kept`` (the weights ``u`` came from) in ``slices`` slices, differ[slice] becoming
    nonzero where they differ, and then skip all work if any does."""
    cdef Py_ssize_t gi, group, item, job, c, i, lo, hi
    cdef int changed
    cdef float *own
    cdef float *phases
    cdef float *V
    cdef float *M
    with parallel(num_threads=nthreads):
        own = work + threadid() * per_thread
        phases = own
        M = own + g.phase_size + 16
        changed = 0
        if kept != NULL:
            for i in prange(slices, schedule="static"):
                lo = nbytes * i // slices
                hi = nbytes * (i + 1) // slices
                differ[i] = memcmp(kept + lo, weight + lo, hi - lo) != 0
            msp_barrier()
            for c in range(slices):
                changed = changed | differ[c]
        if changed:
            pass
        elif mode == _PRIVATE_GROUPS:
            V = M + g.m_size
            for group in prange(g.groups, schedule="dynamic"):
                for item in range(g.C_in):
                    poisoned[threadid()] |= _input_item(x, g, group, item, phases, V)
                for item in range(g.NB):
                    poisoned[threadid()] |= _block_item(u, out, bias, g, group, item, V, M)
        elif mode == _REPLICATED_INPUT:
            V = M + g.m_size
            for gi in range(g.groups):
                for c in range(g.C_in):
                    poisoned[threadid()] |= _input_item(x, g, gi, c, phases, V)
                for job in prange(g.NB, schedule="dynamic"):
                    poisoned[threadid()] |= _block_item(u, out, bias, g, gi, job, V, M)
        else:
            V = shared
            for gi in range(g.groups):
                for job in prange(g.C_in, schedule="dynamic", chunksize=8):
                    poisoned[threadid()] |= _input_item(x, g, gi, job, phases, V)
                msp_barrier()
                for job in prange(g.NB, schedule="dynamic"):
                    poisoned[threadid()] |= _block_item(u, out, bias, g, gi, job, V, M)
                if gi + 1 < g.groups:
                    msp_barrier()
