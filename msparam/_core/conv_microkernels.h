/* Conv2d micro-kernels, each written once as a macro over (element type, vector type, lanes
 * and, for the dense kernels, the register tile MR x NR) and instantiated per ISA by conv_base.h,
 * conv_avx2.h and conv_avx512.h.
 *
 * Every kernel reads its input at unit stride: the driver (_conv.pyx) lays the padded,
 * stride-phase split input out so that output pixel p reads in[koff[k] + p] for each reduction
 * index k = (input channel, ky, kx).  A dense kernel's instantiation also names its tile
 * (NAME_MR, NAME_NR), and MSP_DEFINE_CONV_ISA gathers an ISA's kernels and tiles into one
 * msp_conv_kernels entry, so that the tile a plan blocks for is always the one its kernel
 * computes.
 */
#ifndef MSPARAM_CONV_MICROKERNELS_H
#define MSPARAM_CONV_MICROKERNELS_H

#include <stddef.h>
#include <string.h>

#include "cpu_isa.h"

/* Two register-blocked dense kernels, both over an MR x NR block (MR output channels, NR output
 * pixels) of accumulators:
 *  - pixel vectors ("pv"): NR = NV vectors of consecutive pixels loaded from the input, MR
 *    weights broadcast; the block leaves as MR contiguous pixel runs, cheap to store in NCHW.
 *  - channel vectors ("cv"): MR channels in vectors loaded from the weight panel, NR pixels
 *    broadcast, each from its own offset, so a block can take consecutive output pixels across
 *    a row end without computing the padding columns in between; but the block leaves
 *    transposed (pixel-major). */

#define MSP_MAX_NR 16 /* at least every channel-vector NR (checked by MSP_DEFINE_DENSE_CV) */

/* Pixel vectors: dst[m*ld + j] = sum_k w[k*MR + m] * in[koff[k] + j] (+ bias[m]) for m < MR,
 * j < NR = NV*VL.  Rows go to a tile (ld = NR, no bias) or, when the block's pixels are
 * consecutive in the output, straight into its NCHW planes (ld = plane size). */
#define MSP_DEFINE_DENSE_PV(NAME, ATTR, T, VT, VL, MR, NV)                                    \
    enum { NAME##_MR = (MR), NAME##_NR = (NV) * (VL) };                                       \
    ATTR static void NAME(const T *in, const ptrdiff_t *koff, ptrdiff_t K, const T *w,        \
                          T *dst, ptrdiff_t ld, const T *bias)                               \
    {                                                                                        \
        VT acc[MR][NV];                                                                      \
        _Pragma("GCC unroll 16") for (int m = 0; m < (MR); ++m)                               \
            _Pragma("GCC unroll 4") for (int u = 0; u < (NV); ++u) acc[m][u] = (VT){0};       \
        for (ptrdiff_t k = 0; k < K; ++k) {                                                  \
            const T *src = in + koff[k];                                                     \
            const T *wk = w + k * (MR);                                                      \
            VT xv[NV];                                                                       \
            _Pragma("GCC unroll 4") for (int u = 0; u < (NV); ++u)                            \
                memcpy(&xv[u], src + u * (VL), sizeof(VT));                                  \
            _Pragma("GCC unroll 16") for (int m = 0; m < (MR); ++m) {                         \
                const T b = wk[m];                                                           \
                _Pragma("GCC unroll 4") for (int u = 0; u < (NV); ++u)                        \
                    acc[m][u] += b * xv[u];                                                  \
            }                                                                                \
        }                                                                                    \
        _Pragma("GCC unroll 16") for (int m = 0; m < (MR); ++m) {                             \
            const T b = bias ? bias[m] : (T)0;                                               \
            _Pragma("GCC unroll 4") for (int u = 0; u < (NV); ++u) {                          \
                VT v = acc[m][u] + b;                                                        \
                memcpy(dst + m * ld + u * (VL), &v, sizeof(VT));                             \
            }                                                                                \
        }                                                                                    \
    }

/* Channel vectors: tile[j*MR + m] = sum_k w[k*MR + m] * in[pix[j] + koff[k]] for m < MR,
 * j < NR; pix[j] = j if ``contiguous``.  The two cases are separate loops: the contiguous one
 * addresses every pixel from one register, where NR pointers would not all fit in registers. */
#define MSP_DEFINE_DENSE_CV(NAME, ATTR, T, VT, VL, MR, NR)                                    \
    enum { NAME##_MR = (MR), NAME##_NR = (NR) };                                              \
    _Static_assert((NR) <= MSP_MAX_NR, "a channel-vector block's pixels fit MSP_MAX_NR");     \
    ATTR static inline __attribute__((always_inline)) void NAME##_loop(                      \
        const T *in, const ptrdiff_t *pix, const int contiguous, const ptrdiff_t *koff,       \
        ptrdiff_t K, const T *w, T *tile)                                                    \
    {                                                                                        \
        VT acc[NR][(MR) / (VL)];                                                             \
        const T *src[NR];                                                                    \
        _Pragma("GCC unroll 16") for (int j = 0; j < (NR); ++j)                               \
            src[j] = in + (contiguous ? j : pix[j]);                                         \
        _Pragma("GCC unroll 16") for (int j = 0; j < (NR); ++j)                               \
            _Pragma("GCC unroll 4") for (int v = 0; v < (MR) / (VL); ++v) acc[j][v] = (VT){0}; \
        for (ptrdiff_t k = 0; k < K; ++k) {                                                  \
            const ptrdiff_t off = koff[k];                                                   \
            VT wv[(MR) / (VL)];                                                              \
            _Pragma("GCC unroll 4") for (int v = 0; v < (MR) / (VL); ++v)                     \
                memcpy(&wv[v], w + k * (MR) + v * (VL), sizeof(VT));                         \
            _Pragma("GCC unroll 16") for (int j = 0; j < (NR); ++j) {                         \
                const T b = src[j][off];                                                     \
                _Pragma("GCC unroll 4") for (int v = 0; v < (MR) / (VL); ++v)                 \
                    acc[j][v] += b * wv[v];                                                  \
            }                                                                                \
        }                                                                                    \
        _Pragma("GCC unroll 16") for (int j = 0; j < (NR); ++j)                               \
            _Pragma("GCC unroll 4") for (int v = 0; v < (MR) / (VL); ++v)                     \
                memcpy(tile + j * (MR) + v * (VL), &acc[j][v], sizeof(VT));                   \
    }                                                                                        \
    ATTR static void NAME(const T *in, const ptrdiff_t *pix, int contiguous,                  \
                          const ptrdiff_t *koff, ptrdiff_t K, const T *w, T *tile)           \
    {                                                                                        \
        if (contiguous) NAME##_loop(in, pix, 1, koff, K, w, tile);                           \
        else NAME##_loop(in, pix, 0, koff, K, w, tile);                                      \
    }

/* out[x] = sum_k w[k] * in[koff[k] + x] for x < n (one depthwise output row). */
#define MSP_DEFINE_DW(NAME, ATTR, T, VT, VL)                                                  \
    ATTR static void NAME(const T *in, const ptrdiff_t *koff, ptrdiff_t K, const T *w, T *out, \
                          ptrdiff_t n)                                                       \
    {                                                                                        \
        ptrdiff_t x = 0;                                                                     \
        for (; x + 2 * (VL) <= n; x += 2 * (VL)) {                                           \
            VT a0 = (VT){0}, a1 = (VT){0};                                                   \
            for (ptrdiff_t k = 0; k < K; ++k) {                                              \
                VT s0, s1;                                                                   \
                memcpy(&s0, in + koff[k] + x, sizeof(VT));                                   \
                memcpy(&s1, in + koff[k] + x + (VL), sizeof(VT));                            \
                a0 += w[k] * s0;                                                             \
                a1 += w[k] * s1;                                                             \
            }                                                                                \
            memcpy(out + x, &a0, sizeof(VT));                                                \
            memcpy(out + x + (VL), &a1, sizeof(VT));                                         \
        }                                                                                    \
        for (; x + (VL) <= n; x += (VL)) {                                                   \
            VT a0 = (VT){0};                                                                 \
            for (ptrdiff_t k = 0; k < K; ++k) {                                              \
                VT s0;                                                                       \
                memcpy(&s0, in + koff[k] + x, sizeof(VT));                                   \
                a0 += w[k] * s0;                                                             \
            }                                                                                \
            memcpy(out + x, &a0, sizeof(VT));                                                \
        }                                                                                    \
        for (; x < n; ++x) {                                                                 \
            T a = 0;                                                                         \
            for (ptrdiff_t k = 0; k < K; ++k) a += w[k] * in[koff[k] + x];                   \
            out[x] = a;                                                                      \
        }                                                                                    \
    }

/* dst[m*plane + k] = tile[m*m_step + k*j_step] (+ bias[m]) for m < mr, k < run: one run of
 * pixels of an output row from a computed block into NCHW output.  Contiguous runs move in
 * whole vectors, the last one overlapping the one before rather than going scalar. */
#define MSP_DEFINE_STORE(NAME, ATTR, T, VT, VL)                                               \
    ATTR static void NAME(T *dst, ptrdiff_t plane, const T *tile, ptrdiff_t m_step,           \
                          ptrdiff_t j_step, ptrdiff_t mr, ptrdiff_t run, const T *bias)       \
    {                                                                                        \
        for (ptrdiff_t m = 0; m < mr; ++m) {                                                 \
            T *row = dst + m * plane;                                                        \
            const T *src = tile + m * m_step;                                                \
            const T b = bias ? bias[m] : (T)0;                                               \
            if (j_step != 1 || run < (VL)) {                                                 \
                for (ptrdiff_t k = 0; k < run; ++k)                                          \
                    row[k] = bias ? src[k * j_step] + b : src[k * j_step];                   \
                continue;                                                                    \
            }                                                                                \
            for (ptrdiff_t k = 0; k < run; k += (VL)) {                                      \
                if (k + (VL) > run) k = run - (VL);                                          \
                VT v;                                                                        \
                memcpy(&v, src + k, sizeof(VT));                                             \
                if (bias) v += b;                                                            \
                memcpy(row + k, &v, sizeof(VT));                                             \
            }                                                                                \
        }                                                                                    \
    }

/* dst[b] = src[b * stride] for b < n: one row of a stride phase of the padded input. */
#define MSP_DEFINE_GATHER(NAME, ATTR, T)                                                      \
    ATTR static void NAME(const T *src, ptrdiff_t stride, T *dst, ptrdiff_t n)               \
    {                                                                                        \
        if (stride == 2) /* the common case, as a constant stride the compiler vectorises */  \
            for (ptrdiff_t b = 0; b < n; ++b) dst[b] = src[2 * b];                           \
        else                                                                                 \
            for (ptrdiff_t b = 0; b < n; ++b) dst[b] = src[b * stride];                      \
    }


/* Geometry of one stride-1 depthwise plane: input (H, W), kernel (kh, kw), dilation (dh, dw),
 * top/left zero padding, output (H_out, W_out); ``zeros`` points at W zero elements (a row of
 * vertical padding). */
typedef struct {
    ptrdiff_t H, W, kh, kw, dh, dw, top, left, H_out, W_out;
    const void *zeros;
} msp_dw_geometry;

/* One stride-1 depthwise plane read in place: out = bias + sum of w-weighted shifted input
 * rows.  Padding is never materialised: out-of-range input rows are skipped, the output columns
 * whose taps all fall inside the row are computed in vectors (the last vector overlaps the one
 * before instead of leaving a scalar remainder), the few border columns one at a time. */
#define MSP_DEFINE_DW_PLANE(NAME, ATTR, T, VT, VL)                                            \
    ATTR static inline __attribute__((always_inline)) void NAME##_rows(                      \
        const T *in, const msp_dw_geometry *g, const ptrdiff_t kh, const ptrdiff_t kw,        \
        const T *w, const T bias, T *out)                                                    \
    {                                                                                        \
        /* Geometry in locals: stores to out could otherwise alias it. */                    \
        const ptrdiff_t H = g->H, W = g->W, dh = g->dh, dw = g->dw, top = g->top;            \
        const ptrdiff_t left = g->left, H_out = g->H_out, W_out = g->W_out;                  \
        ptrdiff_t lo = left < W_out ? left : W_out;                                          \
        ptrdiff_t hi = W + left - (kw - 1) * dw;                                             \
        if (hi > W_out) hi = W_out;                                                          \
        if (hi - lo < (VL)) hi = lo;                                                         \
        for (ptrdiff_t oy = 0; oy < H_out; ++oy) {                                           \
            T *o = out + oy * W_out;                                                         \
            ptrdiff_t ky0 = 0, ky1 = kh;                                                     \
            while (ky0 < kh && oy - top + ky0 * dh < 0) ++ky0;                               \
            while (ky1 > ky0 && oy - top + (ky1 - 1) * dh >= H) --ky1;                       \
            const T *base = in + (oy - top) * W - left;                                      \
            for (ptrdiff_t ox = 0; ox < W_out; ++ox) {                                       \
                if (ox == lo && hi > lo) {                                                   \
                    /* Interior: all taps inside the row; the last vector overlaps. */        \
                    for (; ox < hi; ox += (VL)) {                                            \
                        if (ox + (VL) > hi) ox = hi - (VL);                                  \
                        VT acc = (VT){0} + bias;                                             \
                        for (ptrdiff_t ky = ky0; ky < ky1; ++ky)                             \
                            for (ptrdiff_t kx = 0; kx < kw; ++kx) {                          \
                                VT v;                                                        \
                                memcpy(&v, base + ky * dh * W + ox + kx * dw, sizeof(VT));   \
                                acc += w[ky * kw + kx] * v;                                  \
                            }                                                                \
                        memcpy(o + ox, &acc, sizeof(VT));                                    \
                    }                                                                        \
                    if (hi >= W_out) break;                                                  \
                }                                                                            \
                T a = bias;                                                                  \
                for (ptrdiff_t ky = ky0; ky < ky1; ++ky)                                     \
                    for (ptrdiff_t kx = 0; kx < kw; ++kx) {                                  \
                        ptrdiff_t ix = ox - left + kx * dw;                                  \
                        if (ix >= 0 && ix < W)                                               \
                            a += w[ky * kw + kx] * base[ky * dh * W + ox + kx * dw];         \
                    }                                                                        \
                o[ox] = a;                                                                   \
            }                                                                                \
        }                                                                                    \
    }                                                                                        \
    /* 3x3, one column of padding each side ('same'), rows of at least VL + 2: every      \
     * output row from three input row pointers (the zero row standing in for padding),      \
     * weights held in registers, only the first and last column outside the vectors. */     \
    ATTR static void NAME##_3x3(const T *in, const msp_dw_geometry *g, const T *w, T bias,    \
                                T *out)                                                      \
    {                                                                                        \
        const ptrdiff_t H = g->H, W = g->W, top = g->top, H_out = g->H_out;                  \
        const T *zeros = (const T *)g->zeros;                                                \
        const T w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];            \
        const T w6 = w[6], w7 = w[7], w8 = w[8];                                             \
        for (ptrdiff_t oy = 0; oy < H_out; ++oy) {                                           \
            const ptrdiff_t y = oy - top;                                                    \
            const T *r0 = (y >= 0 && y < H) ? in + y * W : zeros;                            \
            const T *r1 = (y + 1 >= 0 && y + 1 < H) ? in + (y + 1) * W : zeros;              \
            const T *r2 = (y + 2 >= 0 && y + 2 < H) ? in + (y + 2) * W : zeros;              \
            T *o = out + oy * W;                                                             \
            o[0] = bias + w1 * r0[0] + w2 * r0[1] + w4 * r1[0] + w5 * r1[1] + w7 * r2[0]      \
                   + w8 * r2[1];                                                             \
            for (ptrdiff_t x = 1; x < W - 1; x += (VL)) {                                    \
                if (x + (VL) > W - 1) x = W - 1 - (VL);                                      \
                VT a, b, c, d, e, f, p, q, r;                                                \
                memcpy(&a, r0 + x - 1, sizeof(VT));                                          \
                memcpy(&b, r0 + x, sizeof(VT));                                              \
                memcpy(&c, r0 + x + 1, sizeof(VT));                                          \
                memcpy(&d, r1 + x - 1, sizeof(VT));                                          \
                memcpy(&e, r1 + x, sizeof(VT));                                              \
                memcpy(&f, r1 + x + 1, sizeof(VT));                                          \
                memcpy(&p, r2 + x - 1, sizeof(VT));                                          \
                memcpy(&q, r2 + x, sizeof(VT));                                              \
                memcpy(&r, r2 + x + 1, sizeof(VT));                                          \
                VT acc = (VT){0} + bias;                                                     \
                acc += w0 * a; acc += w1 * b; acc += w2 * c;                                 \
                acc += w3 * d; acc += w4 * e; acc += w5 * f;                                 \
                acc += w6 * p; acc += w7 * q; acc += w8 * r;                                 \
                memcpy(o + x, &acc, sizeof(VT));                                             \
            }                                                                                \
            o[W - 1] = bias + w0 * r0[W - 2] + w1 * r0[W - 1] + w3 * r1[W - 2]                \
                       + w4 * r1[W - 1] + w6 * r2[W - 2] + w7 * r2[W - 1];                   \
        }                                                                                    \
    }                                                                                        \
    ATTR static void NAME(const T *in, const msp_dw_geometry *g, const T *w, T bias, T *out) \
    {                                                                                        \
        if (g->kh == 3 && g->kw == 3 && g->dh == 1 && g->dw == 1 && g->left == 1             \
            && g->W_out == g->W && g->W >= (VL) + 2)                                         \
            NAME##_3x3(in, g, w, bias, out);                                                 \
        else                                                                                 \
            NAME##_rows(in, g, g->kh, g->kw, w, bias, out);                                  \
    }

/* Winograd product kernel (_winograd.pyx): M[m*ldm + t] = sum_k U[k*MR + m] * V[k*ldv + t]
 * for m < MR, t < NV*VL: one block of the product M[xi] = U[xi] V[xi] at one transform point
 * xi, MR output channels by NV vectors of tiles (tiles in the vectors, weights broadcast; the
 * layout the output transform reads, which is vectorised over tiles too).  Unlike the direct
 * convolution's pixel-vector kernel it reads V at a fixed stride (no offset table), and its
 * shapes are chosen for the few tiles of small images (NV = 1) as well as for many.  Each
 * output is summed over k = 0..K-1 in order, whatever the caller's blocking or threads. */
#define MSP_WINO_PRODUCTS 3 /* product kernel shapes per ISA */
typedef void (*msp_wino_product_fn)(const float *V, ptrdiff_t ldv, ptrdiff_t K, const float *U,
                                    float *M, ptrdiff_t ldm);
#define MSP_DEFINE_WINO_PRODUCT(NAME, ATTR, VT, VL, MR, NV)                                   \
    enum { NAME##_MR = (MR), NAME##_TILES = (NV) * (VL) };                                    \
    ATTR static void NAME(const float *V, ptrdiff_t ldv, ptrdiff_t K, const float *U,        \
                          float *M, ptrdiff_t ldm)                                           \
    {                                                                                        \
        VT acc[MR][NV];                                                                      \
        _Pragma("GCC unroll 16") for (int m = 0; m < (MR); ++m)                               \
            _Pragma("GCC unroll 4") for (int u = 0; u < (NV); ++u) acc[m][u] = (VT){0};       \
        for (ptrdiff_t k = 0; k < K; ++k) {                                                  \
            const float *vk = V + k * ldv;                                                   \
            const float *uk = U + k * (MR);                                                  \
            VT xv[NV];                                                                       \
            _Pragma("GCC unroll 4") for (int u = 0; u < (NV); ++u)                            \
                memcpy(&xv[u], vk + u * (VL), sizeof(VT));                                   \
            _Pragma("GCC unroll 16") for (int m = 0; m < (MR); ++m) {                         \
                const float b = uk[m];                                                       \
                _Pragma("GCC unroll 4") for (int u = 0; u < (NV); ++u)                        \
                    acc[m][u] += b * xv[u];                                                  \
            }                                                                                \
        }                                                                                    \
        _Pragma("GCC unroll 16") for (int m = 0; m < (MR); ++m)                               \
            _Pragma("GCC unroll 4") for (int u = 0; u < (NV); ++u)                            \
                memcpy(M + m * ldm + u * (VL), &acc[m][u], sizeof(VT));                      \
    }

/* One ISA's kernels for float (_f32) and double (_f64), with the dense kernels' register tiles
 * mr[dtype][orientation] x nr[dtype][orientation] (dtype 0 float, 1 double; orientation 0 pixel
 * vectors, 1 channel vectors). */
typedef struct {
    int mr[2][2], nr[2][2];
    void (*dense_pv_f32)(const float *in, const ptrdiff_t *koff, ptrdiff_t K, const float *w,
                         float *dst, ptrdiff_t ld, const float *bias);
    void (*dense_pv_f64)(const double *in, const ptrdiff_t *koff, ptrdiff_t K, const double *w,
                         double *dst, ptrdiff_t ld, const double *bias);
    void (*dense_cv_f32)(const float *in, const ptrdiff_t *pix, int contiguous,
                         const ptrdiff_t *koff, ptrdiff_t K, const float *w, float *tile);
    void (*dense_cv_f64)(const double *in, const ptrdiff_t *pix, int contiguous,
                         const ptrdiff_t *koff, ptrdiff_t K, const double *w, double *tile);
    void (*dw_f32)(const float *in, const ptrdiff_t *koff, ptrdiff_t K, const float *w,
                   float *out, ptrdiff_t n);
    void (*dw_f64)(const double *in, const ptrdiff_t *koff, ptrdiff_t K, const double *w,
                   double *out, ptrdiff_t n);
    void (*dw_plane_f32)(const float *in, const msp_dw_geometry *g, const float *w, float bias,
                         float *out);
    void (*dw_plane_f64)(const double *in, const msp_dw_geometry *g, const double *w,
                         double bias, double *out);
    void (*store_f32)(float *dst, ptrdiff_t plane, const float *tile, ptrdiff_t m_step,
                      ptrdiff_t j_step, ptrdiff_t mr, ptrdiff_t run, const float *bias);
    void (*store_f64)(double *dst, ptrdiff_t plane, const double *tile, ptrdiff_t m_step,
                      ptrdiff_t j_step, ptrdiff_t mr, ptrdiff_t run, const double *bias);
    void (*gather_f32)(const float *src, ptrdiff_t stride, float *dst, ptrdiff_t n);
    void (*gather_f64)(const double *src, ptrdiff_t stride, double *dst, ptrdiff_t n);
    /* Winograd product kernels (float): wino_mr[i] channels by wino_tiles[i] tiles. */
    int wino_mr[MSP_WINO_PRODUCTS], wino_tiles[MSP_WINO_PRODUCTS];
    msp_wino_product_fn wino_product_f32[MSP_WINO_PRODUCTS];
} msp_conv_kernels;

/* Every kernel of one ISA (names msp_*_f32_ISA, msp_*_f64_ISA, target attribute ATTR) on float
 * vectors VF of VLF lanes and double vectors VD of VLD lanes, and msp_conv_kernels_ISA(), their
 * table entry.  The dense tiles: pixel vectors MR x NV vectors, channel vectors MR x NR pixels;
 * the Winograd products: WP_MR* channels x WP_NV* vectors of tiles. */
#define MSP_DEFINE_CONV_ISA(ISA, ATTR, VF, VLF, VD, VLD, PV_MR_F32, PV_NV_F32, PV_MR_F64,        \
                            PV_NV_F64, CV_MR_F32, CV_NR_F32, CV_MR_F64, CV_NR_F64, WP_MR0,       \
                            WP_NV0, WP_MR1, WP_NV1, WP_MR2, WP_NV2)                             \
    MSP_DEFINE_WINO_PRODUCT(msp_wino_product0_##ISA, ATTR, VF, VLF, WP_MR0, WP_NV0)               \
    MSP_DEFINE_WINO_PRODUCT(msp_wino_product1_##ISA, ATTR, VF, VLF, WP_MR1, WP_NV1)               \
    MSP_DEFINE_WINO_PRODUCT(msp_wino_product2_##ISA, ATTR, VF, VLF, WP_MR2, WP_NV2)               \
    MSP_DEFINE_DENSE_PV(msp_dense_pv_f32_##ISA, ATTR, float, VF, VLF, PV_MR_F32, PV_NV_F32)       \
    MSP_DEFINE_DENSE_PV(msp_dense_pv_f64_##ISA, ATTR, double, VD, VLD, PV_MR_F64, PV_NV_F64)      \
    MSP_DEFINE_DENSE_CV(msp_dense_cv_f32_##ISA, ATTR, float, VF, VLF, CV_MR_F32, CV_NR_F32)       \
    MSP_DEFINE_DENSE_CV(msp_dense_cv_f64_##ISA, ATTR, double, VD, VLD, CV_MR_F64, CV_NR_F64)      \
    MSP_DEFINE_DW(msp_dw_f32_##ISA, ATTR, float, VF, VLF)                                        \
    MSP_DEFINE_DW(msp_dw_f64_##ISA, ATTR, double, VD, VLD)                                       \
    MSP_DEFINE_DW_PLANE(msp_dw_plane_f32_##ISA, ATTR, float, VF, VLF)                            \
    MSP_DEFINE_DW_PLANE(msp_dw_plane_f64_##ISA, ATTR, double, VD, VLD)                           \
    MSP_DEFINE_STORE(msp_store_f32_##ISA, ATTR, float, VF, VLF)                                  \
    MSP_DEFINE_STORE(msp_store_f64_##ISA, ATTR, double, VD, VLD)                                 \
    MSP_DEFINE_GATHER(msp_gather_f32_##ISA, ATTR, float)                                         \
    MSP_DEFINE_GATHER(msp_gather_f64_##ISA, ATTR, double)                                        \
    static const msp_conv_kernels *msp_conv_kernels_##ISA(void)                                  \
    {                                                                                           \
        static const msp_conv_kernels entry = {                                                 \
            {{msp_dense_pv_f32_##ISA##_MR, msp_dense_cv_f32_##ISA##_MR},                        \
             {msp_dense_pv_f64_##ISA##_MR, msp_dense_cv_f64_##ISA##_MR}},                       \
            {{msp_dense_pv_f32_##ISA##_NR, msp_dense_cv_f32_##ISA##_NR},                        \
             {msp_dense_pv_f64_##ISA##_NR, msp_dense_cv_f64_##ISA##_NR}},                       \
            msp_dense_pv_f32_##ISA, msp_dense_pv_f64_##ISA, msp_dense_cv_f32_##ISA,              \
            msp_dense_cv_f64_##ISA, msp_dw_f32_##ISA, msp_dw_f64_##ISA, msp_dw_plane_f32_##ISA,  \
            msp_dw_plane_f64_##ISA, msp_store_f32_##ISA, msp_store_f64_##ISA,                    \
            msp_gather_f32_##ISA, msp_gather_f64_##ISA,                                         \
            {msp_wino_product0_##ISA##_MR, msp_wino_product1_##ISA##_MR,                        \
             msp_wino_product2_##ISA##_MR},                                                     \
            {msp_wino_product0_##ISA##_TILES, msp_wino_product1_##ISA##_TILES,                  \
             msp_wino_product2_##ISA##_TILES},                                                  \
            {msp_wino_product0_##ISA, msp_wino_product1_##ISA, msp_wino_product2_##ISA}};       \
        return &entry;                                                                          \
    }

#endif
