"""Compiled Dense forward pass: ``out = x @ weight.T (+ bias)`` on linear_kernels.h's blocks.

For the products where a BLAS call costs more in dispatch, packing and waking threads than in
arithmetic: :func:`dense_forward` (``msparam.nn.Dense``'s forward) decides by shape alone
(:meth:`LinearKernels.threads_for`), and leaves the larger ones to NumPy's BLAS.  The weights
are read as given on every call: nothing derived from them is kept, so a write through any
alias of a Parameter's array counts at the next call.
"""
import numpy as np

cimport numpy as cnp
from cython.parallel cimport prange
from cpython.pyport cimport PY_SSIZE_T_MAX
from libc.string cimport memcpy

cnp.import_array()

cdef extern from "linear_kernels.h" nogil:
    ctypedef struct msp_linear_kernels:
        int mr[2]
        int nr[2]
        int vector_bytes
        void (*block_f32)(const float *x, Py_ssize_t rows, const float *w, Py_ssize_t cols,
                          Py_ssize_t K, const float *bias, float *out,
                          Py_ssize_t ldo) noexcept nogil
        void (*block_f64)(const double *x, Py_ssize_t rows, const double *w, Py_ssize_t cols,
                          Py_ssize_t K, const double *bias, double *out,
                          Py_ssize_t ldo) noexcept nogil
        int panel_mr[2]
        int panel_nr[2]
        int panel_tail_mr[2]
        void (*panel_f32)(const float *x, Py_ssize_t ldx, Py_ssize_t rows, const float *panel,
                          Py_ssize_t kc, float *out, Py_ssize_t ldo, Py_ssize_t cols,
                          int accumulate, const float *bias) noexcept nogil
        void (*panel_f64)(const double *x, Py_ssize_t ldx, Py_ssize_t rows,
                          const double *panel, Py_ssize_t kc, double *out, Py_ssize_t ldo,
                          Py_ssize_t cols, int accumulate, const double *bias) noexcept nogil
        void (*panel_tail_f32)(const float *x, Py_ssize_t ldx, Py_ssize_t rows,
                               const float *panel, Py_ssize_t kc, float *out, Py_ssize_t ldo,
                               Py_ssize_t cols, int accumulate, const float *bias) noexcept nogil
        void (*panel_tail_f64)(const double *x, Py_ssize_t ldx, Py_ssize_t rows,
                               const double *panel, Py_ssize_t kc, double *out, Py_ssize_t ldo,
                               Py_ssize_t cols, int accumulate, const double *bias) noexcept nogil
        void (*pack_f32)(const float *w, Py_ssize_t ldw, Py_ssize_t cols, Py_ssize_t k0,
                         Py_ssize_t kc, float *panel) noexcept nogil
        void (*pack_f64)(const double *w, Py_ssize_t ldw, Py_ssize_t cols, Py_ssize_t k0,
                         Py_ssize_t kc, double *panel) noexcept nogil
    const msp_linear_kernels *msp_linear_kernels_for(int isa)
    void msp_linear_pad_rows(const void *src, Py_ssize_t rows, size_t row_bytes,
                             size_t padded_bytes, void *dst)

ctypedef fused floating:
    float
    double

__all__ = ["LinearKernels", "dense_forward"]

cdef enum:
    # Products of more vector multiply-adds (rows x features x inputs / vector lanes) are left
    # to NumPy's BLAS, whose cache blocking pays off there, as are those whose block of weight
    # rows (NR x inputs) would not stay in L1 while the rows of x stream past it.
    _KERNEL_MAX_VECTOR_MACS = 1 << 20
    _WEIGHT_BLOCK_BYTES = 1 << 14
    # From this many multiply-adds on (8 MFLOP, about 25 us on one core at the AVX-512 peak) a
    # thread team pays: waking and joining a warm OpenMP team costs 1-3 us on an idle machine,
    # but on a busy one the second core may be taken for a whole time slice (a 1M
    # multiply-add product measured at 12 us on one thread, 16 us to 20 ms on two).
    _PARALLEL_MACS = 1 << 22
    # Rows of x per pass over a thread's weight blocks: a pass's rows stay in L1.
    _ROW_CHUNK_BYTES = 1 << 15
    # From this many rows of x on, the product runs on panels (linear_kernels.h): packing the
    # weights costs about what ten rows of multiply-adds do, yet the panel blocks measured
    # ahead of the dot-product blocks from 4 rows on (8 x 256 x 128: 8.5 against 10.1 us) and
    # of NumPy's OpenBLAS from 2 rows on (2 x 4096 x 4096: 2.6 against 5.9 ms; 128 x 1024 x
    # 1024: 0.9 against 1.4 ms), as OpenBLAS packs too.  A single row is a matrix-vector
    # product, where reading the weights once without a copy wins (OpenBLAS's sgemv: 1.3 ms
    # against the panels' 2.6 ms for 4096 x 4096).
    _PANEL_MIN_ROWS = 2
    # From this many multiply-adds on a panel product runs on the thread team: 32 x 256 x 128
    # (2^20) took 12.5 us on two threads against 18.8 us on one, 16 x 256 x 128 7.9 against
    # 12.3 us (PyTorch runs these on its two threads too, 19-26 us).
    _PANEL_PARALLEL_MACS = 1 << 19
    # Inputs per panel (KC): a panel of KC x NR values (32-256 KiB by ISA) and the rows' KC inputs
    # stay in L2 while the rows pass.  Every KC inputs the outputs are read and written
    # once more: against 256, 1024 took a 256 x 4096 x 4096 product from 65 to 60 ms on one
    # core (products of up to 1024 inputs are one pass either way).
    _PANEL_INPUTS = 1024

cdef extern from "cpu_isa.h" nogil:
    int msp_cpu_isa()


cdef class LinearKernels:
    """The Dense kernels of one ISA (cpu_isa.h's MSP_ISA_*): ``mr[d]`` rows of x by ``nr[d]``
    output features per dot-product block, ``panel_mr[d]`` by ``panel_nr[d]`` per panel block,
    d = 0 for float32, 1 for float64."""
    cdef const msp_linear_kernels *k
    cdef readonly tuple mr, nr, panel_mr, panel_nr

    def __cinit__(self, int isa):
        if isa < 0 or isa > msp_cpu_isa():
            raise ValueError(f"For 'LinearKernels', 'isa' must be from 0 to {msp_cpu_isa()} (the "
                             f"SIMD paths this CPU runs), but got {isa}.")
        self.k = msp_linear_kernels_for(isa)
        self.mr = (self.k.mr[0], self.k.mr[1])
        self.nr = (self.k.nr[0], self.k.nr[1])
        self.panel_mr = (self.k.panel_mr[0], self.k.panel_mr[1])
        self.panel_nr = (self.k.panel_nr[0], self.k.panel_nr[1])

    def threads_for(self, Py_ssize_t rows, Py_ssize_t features, Py_ssize_t inputs,
                    Py_ssize_t itemsize, int num_threads):
        """The threads a (rows, inputs) x (inputs, features) product of ``itemsize``-byte floats
        runs on with these kernels (1, or ``num_threads`` when the work far outweighs waking a
        team), or 0 where NumPy's BLAS is faster: a rule on the shape alone, so a shape
        always takes the same path.  From _PANEL_MIN_ROWS rows on the panels run it, below
        that the dot-product blocks or, past their limits, BLAS."""
        if itemsize != 4 and itemsize != 8:
            raise ValueError(f"For 'LinearKernels.threads_for', 'itemsize' must be 4 or 8, but got "
                             f"{itemsize}.")
        if rows >= _PANEL_MIN_ROWS:
            return 1 if <double>rows * features * inputs < _PANEL_PARALLEL_MACS else num_threads
        cdef Py_ssize_t lanes = self.k.vector_bytes // itemsize
        cdef double vector_macs = <double>rows * features * inputs / lanes
        if (vector_macs > _KERNEL_MAX_VECTOR_MACS
                or <double>self.k.nr[itemsize == 8] * inputs * itemsize > _WEIGHT_BLOCK_BYTES):
            return 0
        return 1 if <double>rows * features * inputs < _PARALLEL_MACS else num_threads

    def forward(self, cnp.ndarray x, cnp.ndarray weight, object bias, int num_threads,
                object panels=None):
        """``x @ weight.T (+ bias)``: x (..., K) of rank >= 1, weight (C_out, K), bias (C_out,)
        or None, all float32 or all float64 (strided arrays are copied first); the output has
        shape (..., C_out).  On up to ``num_threads`` threads, which split the output features
        between them: the result is the same on any number.  ``panels``: run the panel blocks
        (True) or the dot-product blocks (False); None picks by the number of rows, as
        :meth:`threads_for`.  Anything else is a TypeError or ValueError, raised before the
        kernels run."""
        cdef int typenum = cnp.PyArray_TYPE(x)
        if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
            raise TypeError(f"For 'LinearKernels.forward', 'x' must be float32 or float64, but got "
                            f"{x.dtype}.")
        cdef cnp.ndarray b = None
        if bias is not None:
            if not isinstance(bias, np.ndarray):
                raise TypeError(f"For 'LinearKernels.forward', 'bias' must be a numpy.ndarray or "
                                f"None, but got {type(bias).__name__}.")
            b = _kernel_ready(<cnp.ndarray>bias, "bias", typenum)
        weight = _kernel_ready(weight, "weight", typenum)
        x = _kernel_ready(x, "x", typenum)
        cdef int ndim = cnp.PyArray_NDIM(x)
        if ndim < 1 or cnp.PyArray_NDIM(weight) != 2 or (b is not None and cnp.PyArray_NDIM(b) != 1):
            raise ValueError(f"For 'LinearKernels.forward', 'x' must have rank >= 1, 'weight' 2 "
                             f"and 'bias' 1, but got {ndim}, {cnp.PyArray_NDIM(weight)} and "
                             f"{None if b is None else cnp.PyArray_NDIM(b)}.")
        cdef Py_ssize_t K = x.shape[ndim - 1], C = weight.shape[0]
        cdef Py_ssize_t M = 1
        cdef int axis
        for axis in range(ndim - 1):
            M *= x.shape[axis]
        if weight.shape[1] != K or (b is not None and b.shape[0] != C):
            raise ValueError(f"For 'LinearKernels.forward', 'weight' must have shape (C_out, "
                             f"{K}) and 'bias' (C_out,), but got {(<object>weight).shape} and "
                             f"{None if b is None else (<object>b).shape}.")
        if num_threads < 1:
            raise ValueError(f"For 'LinearKernels.forward', 'num_threads' must be positive, but "
                             f"got {num_threads}.")
        cdef cnp.npy_intp dims[64]  # NumPy's largest rank (32 before NumPy 2)
        memcpy(dims, cnp.PyArray_DIMS(x), ndim * sizeof(cnp.npy_intp))
        dims[ndim - 1] = C
        cdef cnp.ndarray out = cnp.PyArray_EMPTY(ndim, dims, typenum, 0)
        if M == 0 or C == 0:
            return out
        if K == 0:
            out[...] = 0 if b is None else b
            return out
        cdef const void *bias_data = NULL
        if b is not None:
            bias_data = cnp.PyArray_DATA(b)
        if (M >= _PANEL_MIN_ROWS) if panels is None else panels:
            _run_panels(self.k, x, weight, bias_data, out, M, C, K, num_threads)
            return out
        # The kernels read whole, aligned vectors: rows of x and weight that are not go through
        # zero-padded, aligned copies (a row's zeros add nothing to its dot products).
        cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(x), align = self.k.vector_bytes
        cdef Py_ssize_t lanes = align // item
        cdef Py_ssize_t Kp = K + (lanes - K % lanes) % lanes
        if Kp > (PY_SSIZE_T_MAX - align) // item // max(M, C):
            raise ValueError(f"For 'LinearKernels.forward', the inputs ({M} x {K}, weight {C} x "
                             f"{K}) are too large for the kernels' padded copies.")
        cdef cnp.ndarray x_copy = None, w_copy = None
        cdef const void *xp = cnp.PyArray_DATA(x)
        cdef const void *wp = cnp.PyArray_DATA(weight)
        if Kp != K or <size_t>xp % align:
            x_copy = np.empty(M * Kp * item + align, np.uint8)
            xp = _padded_rows(xp, M, K * item, Kp * item, x_copy, align)
        if Kp != K or <size_t>wp % align:
            w_copy = np.empty(C * Kp * item + align, np.uint8)
            wp = _padded_rows(wp, C, K * item, Kp * item, w_copy, align)
        if typenum == cnp.NPY_FLOAT32:
            with nogil:
                _forward(self.k, <const float *>xp, <const float *>wp, <const float *>bias_data,
                         <float *>cnp.PyArray_DATA(out), M, C, Kp, num_threads)
        else:
            with nogil:
                _forward(self.k, <const double *>xp, <const double *>wp,
                         <const double *>bias_data, <double *>cnp.PyArray_DATA(out), M, C, Kp,
                         num_threads)
        return out


cdef const void *_padded_rows(const void *src, Py_ssize_t rows, Py_ssize_t row_bytes,
                              Py_ssize_t padded_bytes, cnp.ndarray buffer, Py_ssize_t align):
    """Copy ``rows`` rows of ``row_bytes`` into rows of ``padded_bytes`` (zero-filled) at the
    first ``align``-byte boundary of ``buffer``; returns where they start."""
    cdef size_t start = <size_t>cnp.PyArray_DATA(buffer)
    cdef void *dst = <void *>((start + align - 1) // align * align)
    with nogil:
        msp_linear_pad_rows(src, rows, row_bytes, padded_bytes, dst)
    return dst


cdef void _run_panels(const msp_linear_kernels *k, cnp.ndarray x, cnp.ndarray weight,
                      const void *bias, cnp.ndarray out, Py_ssize_t M, Py_ssize_t C, Py_ssize_t K,
                      int num_threads) except *:
    """The product on the panel blocks, each thread packing its panels into its own buffer."""
    cdef bint is_double = cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT64
    cdef Py_ssize_t NR = k.panel_nr[is_double], item = cnp.PyArray_ITEMSIZE(x)
    cdef Py_ssize_t panels = (C + NR - 1) // NR
    cdef int teams = num_threads if num_threads < panels else <int>panels
    # A panel of at most K inputs: a product of few inputs allocates no more than it packs.
    cdef Py_ssize_t buffer_items = (K if K < _PANEL_INPUTS else _PANEL_INPUTS) * NR
    cdef cnp.ndarray buffers = np.empty(teams * buffer_items * item + 64, np.uint8)
    cdef size_t start = <size_t>cnp.PyArray_DATA(buffers)
    cdef void *aligned = <void *>((start + 63) // 64 * 64)
    if is_double:
        with nogil:
            _panel_product(k, <const double *>cnp.PyArray_DATA(x),
                           <const double *>cnp.PyArray_DATA(weight), <const double *>bias,
                           <double *>cnp.PyArray_DATA(out), M, C, K, teams,
                           <double *>aligned, buffer_items)
    else:
        with nogil:
            _panel_product(k, <const float *>cnp.PyArray_DATA(x),
                           <const float *>cnp.PyArray_DATA(weight), <const float *>bias,
                           <float *>cnp.PyArray_DATA(out), M, C, K, teams,
                           <float *>aligned, buffer_items)


cdef void _panel_product(const msp_linear_kernels *k, const floating *x, const floating *w,
                         const floating *bias, floating *out, Py_ssize_t M, Py_ssize_t C,
                         Py_ssize_t K, int teams, floating *buffers,
                         Py_ssize_t buffer_items) noexcept nogil:
    """The product on ``teams`` threads, each taking an even, contiguous share of the panels
    (NR output features each): every output is summed by one thread in the same order on any
    number of them."""
    cdef Py_ssize_t NR = k.panel_nr[floating is double]
    cdef Py_ssize_t panels = (C + NR - 1) // NR
    cdef Py_ssize_t t
    if teams == 1:
        _panel_range(k, x, w, bias, out, M, C, K, 0, panels, buffers)
        return
    for t in prange(teams, num_threads=teams, schedule="static"):
        _panel_range(k, x, w, bias, out, M, C, K, panels * t // teams,
                     panels * (t + 1) // teams, buffers + t * buffer_items)


cdef void _panel_range(const msp_linear_kernels *k, const floating *x, const floating *w,
                       const floating *bias, floating *out, Py_ssize_t M, Py_ssize_t C,
                       Py_ssize_t K, Py_ssize_t first, Py_ssize_t last,
                       floating *panel) noexcept nogil:
    """Output features of panels first .. last - 1 for every row: _PANEL_INPUTS inputs at a
    time (their columns of x stay in L2 across the panels), each panel packed once and swept
    by every row while it stays in cache."""
    cdef int is_double = floating is double
    cdef Py_ssize_t MR = k.panel_mr[is_double], NR = k.panel_nr[is_double]
    cdef Py_ssize_t TMR = k.panel_tail_mr[is_double]
    cdef Py_ssize_t k0 = 0, kc, p, c0, cols, i0, rows
    cdef bint whole
    cdef const floating *panel_bias
    while k0 < K:
        kc = K - k0 if K - k0 < _PANEL_INPUTS else _PANEL_INPUTS
        for p in range(first, last):
            c0 = p * NR
            cols = C - c0 if C - c0 < NR else NR
            panel_bias = bias + c0 if bias != NULL and k0 + kc == K else NULL
            _pack(k, w + c0 * K, K, cols, k0, kc, panel)
            i0 = 0
            while i0 < M:
                # Whole register blocks, then the last rows in blocks of TMR.
                whole = M - i0 >= MR
                rows = MR if whole else (M - i0 if M - i0 < TMR else TMR)
                _panel_block(k, whole, x + i0 * K + k0, K, rows, panel, kc,
                             out + i0 * C + c0, C, cols, k0 > 0, panel_bias)
                i0 += rows
        k0 += kc


cdef LinearKernels _BEST = LinearKernels(msp_cpu_isa())


def dense_forward(cnp.ndarray x, cnp.ndarray weight, object bias, int num_threads):
    """``x @ weight.T (+ bias)`` as :meth:`LinearKernels.forward` with the widest ISA's kernels
    (``MSPARAM_CPU_ISA`` caps it), or by NumPy's BLAS where :meth:`LinearKernels.threads_for`
    says so."""
    cdef int ndim = cnp.PyArray_NDIM(x)
    cdef Py_ssize_t K = x.shape[ndim - 1] if ndim else 0
    cdef Py_ssize_t rows = cnp.PyArray_SIZE(x) // K if K else 0
    cdef int typenum = cnp.PyArray_TYPE(x)
    cdef int threads = 1  # other dtypes go to forward, which refuses them
    if typenum == cnp.NPY_FLOAT32 or typenum == cnp.NPY_FLOAT64:
        threads = _BEST.threads_for(rows, weight.shape[0] if cnp.PyArray_NDIM(weight) else 0, K,
                                    cnp.PyArray_ITEMSIZE(x), num_threads)
    if threads:
        return _BEST.forward(x, weight, bias, threads)
    # np.dot reaches the same sgemm as matmul with less dispatch; it is the matrix product only
    # for 2-D operands.
    out = np.dot(x, weight.T) if ndim == 2 else x @ weight.T
    if bias is not None:
        out += bias
    return out


cdef cnp.ndarray _kernel_ready(cnp.ndarray array, str name, int typenum):
    """``array`` as the kernels read it, C-contiguous and aligned (a copy if it is not), once
    its dtype is checked."""
    if cnp.PyArray_TYPE(array) != typenum:
        raise TypeError(f"For 'LinearKernels.forward', '{name}' must have the dtype of 'x' "
                        f"({cnp.PyArray_DescrFromType(typenum)}), but got {array.dtype}.")
    if cnp.PyArray_ISCARRAY_RO(array):
        return array
    return cnp.PyArray_NewCopy(array, cnp.NPY_CORDER)


cdef inline void _pack(const msp_linear_kernels *k, const floating *w, Py_ssize_t ldw,
                       Py_ssize_t cols, Py_ssize_t k0, Py_ssize_t kc,
                       floating *panel) noexcept nogil:
    if floating is float:
        k.pack_f32(w, ldw, cols, k0, kc, panel)
    else:
        k.pack_f64(w, ldw, cols, k0, kc, panel)


cdef inline void _panel_block(const msp_linear_kernels *k, bint whole, const floating *x,
                              Py_ssize_t ldx, Py_ssize_t rows, const floating *panel,
                              Py_ssize_t kc, floating *out, Py_ssize_t ldo, Py_ssize_t cols,
                              int accumulate, const floating *bias) noexcept nogil:
    """A panel block of ``rows`` rows: the MR-row kernel for a whole block, else the tail's."""
    if floating is float:
        if whole:
            k.panel_f32(x, ldx, rows, panel, kc, out, ldo, cols, accumulate, bias)
        else:
            k.panel_tail_f32(x, ldx, rows, panel, kc, out, ldo, cols, accumulate, bias)
    else:
        if whole:
            k.panel_f64(x, ldx, rows, panel, kc, out, ldo, cols, accumulate, bias)
        else:
            k.panel_tail_f64(x, ldx, rows, panel, kc, out, ldo, cols, accumulate, bias)


cdef inline void _block(const msp_linear_kernels *k, const floating *x, Py_ssize_t rows,
                        const floating *w, Py_ssize_t cols, Py_ssize_t K,
                        const floating *bias, floating *out, Py_ssize_t ldo) noexcept nogil:
    if floating is float:
        k.block_f32(x, rows, w, cols, K, bias, out, ldo)
    else:
        k.block_f64(x, rows, w, cols, K, bias, out, ldo)


cdef void _rows_of_blocks(const msp_linear_kernels *k, const floating *x, const floating *w,
                          const floating *bias, floating *out, Py_ssize_t M, Py_ssize_t C,
                          Py_ssize_t K, Py_ssize_t first, Py_ssize_t last) noexcept nogil:
    """Output features of weight blocks first .. last - 1 (NR features each) for every row.
    Rows go in chunks that stay in L1; within a chunk each block of weight rows stays in L1
    while the chunk's rows stream past it."""
    cdef int is_double = floating is double
    cdef Py_ssize_t MR = k.mr[is_double], NR = k.nr[is_double]
    cdef Py_ssize_t chunk = _ROW_CHUNK_BYTES // (K * <Py_ssize_t>sizeof(floating)) // MR * MR
    cdef Py_ssize_t r0, r1, ob, o0, i0
    if chunk < MR:
        chunk = MR
    r0 = 0
    while r0 < M:
        r1 = r0 + chunk if M - r0 > chunk else M
        for ob in range(first, last):
            o0 = ob * NR
            i0 = r0
            while i0 < r1:
                _block(k, x + i0 * K, r1 - i0 if r1 - i0 < MR else MR, w + o0 * K,
                       C - o0 if C - o0 < NR else NR, K, bias + o0 if bias != NULL else NULL,
                       out + i0 * C + o0, C)
                i0 += MR
        r0 = r1


cdef void _forward(const msp_linear_kernels *k, const floating *x, const floating *w,
                   const floating *bias, floating *out, Py_ssize_t M, Py_ssize_t C,
                   Py_ssize_t K, int num_threads) noexcept nogil:
    """The product on ``num_threads`` threads, each taking an even, contiguous share of the
    weight blocks: every output is computed by one block call whichever thread runs it."""
    cdef Py_ssize_t NR = k.nr[floating is double]
    cdef Py_ssize_t blocks = (C + NR - 1) // NR
    cdef Py_ssize_t teams = num_threads if num_threads < blocks else blocks
    cdef Py_ssize_t t
    if teams == 1:
        _rows_of_blocks(k, x, w, bias, out, M, C, K, 0, blocks)
        return
    for t in prange(teams, num_threads=teams, schedule="static"):
        _rows_of_blocks(k, x, w, bias, out, M, C, K, blocks * t // teams,
                        blocks * (t + 1) // teams)
