"""Cython declarations of conv_kernels.h (the per-ISA Conv2d kernel table, the geometry of a
call, the ISA-independent helpers), for the modules that run its kernels: _conv (the direct
convolution) and _winograd (whose matrix products are the dense kernels)."""

cdef extern from "conv_kernels.h" nogil:
    ctypedef struct msp_dw_geometry:
        Py_ssize_t H, W, kh, kw, dh, dw, top, left, H_out, W_out
        const void *zeros
    ctypedef void (*msp_wino_product_fn)(const float *V, Py_ssize_t ldv, Py_ssize_t K,
                                         const float *U, float *M,
                                         Py_ssize_t ldm) noexcept nogil
    ctypedef struct msp_conv_kernels:
        int mr[2][2]
        int nr[2][2]
        void (*dense_pv_f32)(const float *inp, const Py_ssize_t *koff, Py_ssize_t K,
                             const float *w, float *dst, Py_ssize_t ld,
                             const float *bias) noexcept nogil
        void (*dense_pv_f64)(const double *inp, const Py_ssize_t *koff, Py_ssize_t K,
                             const double *w, double *dst, Py_ssize_t ld,
                             const double *bias) noexcept nogil
        void (*dw_f32)(const float *inp, const Py_ssize_t *koff, Py_ssize_t K, const float *w,
                       float *out, Py_ssize_t n) noexcept nogil
        void (*dw_f64)(const double *inp, const Py_ssize_t *koff, Py_ssize_t K,
                       const double *w, double *out, Py_ssize_t n) noexcept nogil
        void (*dw_plane_f32)(const float *inp, const msp_dw_geometry *g, const float *w,
                             float bias, float *out) noexcept nogil
        void (*dw_plane_f64)(const double *inp, const msp_dw_geometry *g, const double *w,
                             double bias, double *out) noexcept nogil
        void (*store_f32)(float *dst, Py_ssize_t plane, const float *tile, Py_ssize_t m_step,
                          Py_ssize_t j_step, Py_ssize_t mr, Py_ssize_t run,
                          const float *bias) noexcept nogil
        void (*store_f64)(double *dst, Py_ssize_t plane, const double *tile,
                          Py_ssize_t m_step, Py_ssize_t j_step, Py_ssize_t mr, Py_ssize_t run,
                          const double *bias) noexcept nogil
        void (*gather_f32)(const float *src, Py_ssize_t stride, float *dst,
                           Py_ssize_t n) noexcept nogil
        void (*gather_f64)(const double *src, Py_ssize_t stride, double *dst,
                           Py_ssize_t n) noexcept nogil
        int wino_mr[3]
        int wino_tiles[3]
        msp_wino_product_fn wino_product_f32[3]
    ctypedef struct msp_conv_geometry:
        Py_ssize_t N, C_in, H, W, G, Cg_in, Cg_out, K
        Py_ssize_t kh, kw, sh, sw, dh, dw, top, left
        Py_ssize_t H_out, W_out, Hq, Wq
        int channel_vectors, by_row, in_place, nthreads
    const msp_conv_kernels *msp_conv_kernels_for(int isa)
    void msp_barrier()
    void msp_dense_cv_block_f32(const msp_conv_kernels *k, const float *inp, Py_ssize_t q0,
                                Py_ssize_t n, Py_ssize_t w_out, Py_ssize_t wq,
                                const Py_ssize_t *koff, Py_ssize_t K, const float *w,
                                float *tile)
    void msp_dense_cv_block_f64(const msp_conv_kernels *k, const double *inp, Py_ssize_t q0,
                                Py_ssize_t n, Py_ssize_t w_out, Py_ssize_t wq,
                                const Py_ssize_t *koff, Py_ssize_t K, const double *w,
                                double *tile)
    void msp_pack_panel_f32(const float *w, Py_ssize_t cg_out, Py_ssize_t K, Py_ssize_t mr,
                            Py_ssize_t nb, Py_ssize_t block, float *panels)
    void msp_pack_panel_f64(const double *w, Py_ssize_t cg_out, Py_ssize_t K, Py_ssize_t mr,
                            Py_ssize_t nb, Py_ssize_t block, double *panels)
