/* Conv2d kernels for the driver (_conv.pyx): the per-ISA micro-kernel table, the geometry of a
 * call, and the ISA-independent helpers (weight packing, pixel offsets, the OpenMP barrier).
 *
 * The driver lays the (padded, stride-phase split) input out so that every convolution reduces
 * to unit-stride reads (conv_microkernels.h).  A plan (conv_plan.py) resolves its ISA's entry of
 * the table once, msp_conv_kernels_for(): the kernels and the tile shapes they
 * compute travel together.  The ISAs' kernels are instantiated with GCC target attributes
 * (conv_base.h, conv_avx2.h, conv_avx512.h), never -march flags, so the module stays portable.
 */
#ifndef MSPARAM_CONV_KERNELS_H
#define MSPARAM_CONV_KERNELS_H

#include <stddef.h>
#include <string.h>

#include "cpu_isa.h"
#include "conv_microkernels.h"
#include "conv_base.h"
#include "conv_avx2.h"
#include "conv_avx512.h"

/* The kernels of an ISA (one of MSP_ISA_*, at most msp_cpu_isa()). */
static const msp_conv_kernels *msp_conv_kernels_for(int isa)
{
#if MSP_X86
    if (isa == MSP_ISA_AVX512) return msp_conv_kernels_avx512();
    if (isa == MSP_ISA_AVX2) return msp_conv_kernels_avx2();
#endif
    (void)isa;
    return msp_conv_kernels_base();
}

/* One Conv2d call as planned (conv_plan.py): input (N, C_in, H, W) in G groups of Cg_in
 * channels, Cg_out output channels per group, kernel (kh, kw) so K = Cg_in * kh * kw reduction
 * indices, stride (sh, sw), dilation (dh, dw), top/left zero padding, output (H_out, W_out).
 * The padded input is read as sh * sw stride-phase planes of (Hq, Wq) each; the dense kernel
 * holds output channels in vectors (channel_vectors) or output pixels, and its pixel blocks
 * follow output rows (by_row) or the flat padded grid; ``in_place``: x itself is that grid
 * (1x1, stride 1, no padding).  nthreads: the OpenMP team. */
typedef struct {
    ptrdiff_t N, C_in, H, W, G, Cg_in, Cg_out, K;
    ptrdiff_t kh, kw, sh, sw, dh, dw, top, left;
    ptrdiff_t H_out, W_out, Hq, Wq;
    int channel_vectors, by_row, in_place, nthreads;
} msp_conv_geometry;

/* Barrier for all threads of the enclosing OpenMP parallel region (Cython's prange inside a
 * parallel block ends without one). */
static void msp_barrier(void)
{
#ifdef _OPENMP
#pragma omp barrier
#endif
}

/* Weight panel ``block`` (= group * nb + channel block) of the dense kernels, packed from the
 * weights w (C_out, K) of the current call: panel[k*mr + m] = w[(g*cg_out + ob*mr + m)*K + k],
 * zero for the channels past cg_out that pad the last block.  Reads go in short runs along k
 * so that each of the mr source rows streams whole cache lines. */
#define MSP_PACK_RUN 16
#define MSP_DEFINE_PACK(NAME, T)                                                              \
    static void NAME(const T *w, ptrdiff_t cg_out, ptrdiff_t K, ptrdiff_t mr, ptrdiff_t nb,  \
                     ptrdiff_t block, T *panels)                                             \
    {                                                                                        \
        const ptrdiff_t g = block / nb, ob = block - g * nb;                                 \
        const ptrdiff_t rows = cg_out - ob * mr < mr ? cg_out - ob * mr : mr;                \
        const T *src = w + (g * cg_out + ob * mr) * K;                                       \
        T *dst = panels + block * K * mr;                                                    \
        for (ptrdiff_t k0 = 0; k0 < K; k0 += MSP_PACK_RUN) {                                 \
            const ptrdiff_t k1 = k0 + MSP_PACK_RUN < K ? k0 + MSP_PACK_RUN : K;              \
            for (ptrdiff_t m = 0; m < rows; ++m)                                             \
                for (ptrdiff_t k = k0; k < k1; ++k) dst[k * mr + m] = src[m * K + k];        \
            for (ptrdiff_t m = rows; m < mr; ++m)                                            \
                for (ptrdiff_t k = k0; k < k1; ++k) dst[k * mr + m] = 0;                     \
        }                                                                                    \
    }
MSP_DEFINE_PACK(msp_pack_panel_f32, float)
MSP_DEFINE_PACK(msp_pack_panel_f64, double)

/* Offsets of output pixels q0..q0+n-1 (n >= 1) in rows w_out wide laid out wq apart (the
 * last one repeated up to nr, so that a short block reads nothing past it); whether they are
 * the nr consecutive offsets pix[0] + j (all in one row). */
static int msp_pixel_offsets(ptrdiff_t *pix, int nr, ptrdiff_t q0, ptrdiff_t n,
                             ptrdiff_t w_out, ptrdiff_t wq)
{
    ptrdiff_t oy = q0 / w_out, ox = q0 - oy * w_out;
    const int contiguous = n == nr && ox + nr <= w_out;
    for (int j = 0; j < nr; ++j) {
        pix[j] = oy * wq + ox;
        if (j + 1 < n && ++ox == w_out) {
            ox = 0;
            ++oy;
        }
    }
    return contiguous;
}

/* One channel-vector block of the kernels' MR channels and output pixels q0..q0+n-1 (see
 * msp_pixel_offsets) into a pixel-major tile; D: 0 float, 1 double. */
#define MSP_DEFINE_CV_BLOCK(S, T, D)                                                          \
    static void msp_dense_cv_block_##S(const msp_conv_kernels *k, const T *in, ptrdiff_t q0,  \
                                       ptrdiff_t n, ptrdiff_t w_out, ptrdiff_t wq,            \
                                       const ptrdiff_t *koff, ptrdiff_t K, const T *w,        \
                                       T *tile)                                               \
    {                                                                                        \
        ptrdiff_t pix[MSP_MAX_NR];                                                           \
        const int contiguous = msp_pixel_offsets(pix, k->nr[D][1], q0, n, w_out, wq);        \
        k->dense_cv_##S(in + (contiguous ? pix[0] : 0), pix, contiguous, koff, K, w, tile);   \
    }
MSP_DEFINE_CV_BLOCK(f32, float, 0)
MSP_DEFINE_CV_BLOCK(f64, double, 1)

#endif
