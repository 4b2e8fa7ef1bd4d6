/* Register-blocked Conv2d micro-kernels with run-time ISA dispatch.
 *
 * The Cython driver (_conv.pyx) lays the (padded, stride-phase split) input out so that every
 * convolution reduces to unit-stride reads: output pixel p of a tile reads in[koff[k] + p] for
 * each reduction index k = (input channel, ky, kx), p being its place in the padded grid.  The
 * dense kernel keeps an MR x NR block of accumulators and streams the packed weight panel
 * w[k][MR] (two vector orientations, below).  The depthwise kernel vectorises over the output
 * row.
 *
 * Each kernel is written once as a macro over (element type, vector width, MR, NR) and
 * instantiated per ISA with GCC target attributes; msp_cpu_isa() (cpu_isa.h) picks the widest
 * one the CPU runs, or the cap MSPARAM_CPU_ISA sets.  GCC vector extensions lower to SSE2/NEON
 * in the portable build, so this compiles on any x86-64 and on arm64.
 */
#ifndef MSPARAM_CONV_KERNELS_H
#define MSPARAM_CONV_KERNELS_H

#include <string.h>
#include <stddef.h>

#include "cpu_isa.h"

/* Barrier for all threads of the enclosing OpenMP parallel region (Cython's prange inside a
 * parallel block ends without one). */
static void msp_barrier(void)
{
#ifdef _OPENMP
#pragma omp barrier
#endif
}

/* Two register-blocked dense kernels, both over an MR x NR block (MR output channels, NR output
 * pixels) of accumulators:
 *  - pixel vectors ("pv"): NR = NV vectors of consecutive pixels loaded from the input, MR
 *    weights broadcast; the block leaves as MR contiguous pixel runs, cheap to store in NCHW.
 *  - channel vectors ("cv"): MR channels in vectors loaded from the weight panel, NR pixels
 *    broadcast, each from its own offset, so a block can take consecutive output pixels across
 *    a row end without computing the padding columns in between; but the block leaves
 *    transposed (pixel-major).
 * Block sizes per layout (pv, cv), dtype (float, double) and ISA (base, avx2, avx512). */
static const int msp_dense_mr[2][2][3] = {{{4, 4, 8}, {4, 4, 8}}, {{8, 16, 32}, {4, 8, 16}}};
static const int msp_dense_nr[2][2][3] = {{{8, 24, 48}, {4, 12, 24}}, {{4, 6, 14}, {4, 6, 12}}};

static int msp_conv_mr(int isa, int is_double, int channel_vectors)
{
    return msp_dense_mr[channel_vectors != 0][is_double != 0][isa];
}

static int msp_conv_nr(int isa, int is_double, int channel_vectors)
{
    return msp_dense_nr[channel_vectors != 0][is_double != 0][isa];
}

#define MSP_MAX_NR 16 /* at least every channel-vector NR in msp_dense_nr */

/* Pixel vectors: dst[m*ld + j] = sum_k w[k*MR + m] * in[koff[k] + j] (+ bias[m]) for m < MR,
 * j < NR = NV*VL.  Rows go to a tile (ld = NR, no bias) or, when the block's pixels are
 * consecutive in the output, straight into its NCHW planes (ld = plane size). */
#define MSP_DEFINE_DENSE_PV(NAME, ATTR, T, VT, VL, MR, NV)                                    \
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

typedef float msp_f4 __attribute__((vector_size(16)));
typedef double msp_d2 __attribute__((vector_size(16)));
MSP_DEFINE_DENSE_PV(msp_dense_pv_f32_base, , float, msp_f4, 4, 4, 2)
MSP_DEFINE_DENSE_PV(msp_dense_pv_f64_base, , double, msp_d2, 2, 4, 2)
MSP_DEFINE_DENSE_CV(msp_dense_cv_f32_base, , float, msp_f4, 4, 8, 4)
MSP_DEFINE_DENSE_CV(msp_dense_cv_f64_base, , double, msp_d2, 2, 4, 4)
MSP_DEFINE_DW(msp_dw_f32_base, , float, msp_f4, 4)
MSP_DEFINE_DW(msp_dw_f64_base, , double, msp_d2, 2)
MSP_DEFINE_DW_PLANE(msp_dw_plane_f32_base, , float, msp_f4, 4)
MSP_DEFINE_DW_PLANE(msp_dw_plane_f64_base, , double, msp_d2, 2)
MSP_DEFINE_STORE(msp_store_f32_base, , float, msp_f4, 4)
MSP_DEFINE_STORE(msp_store_f64_base, , double, msp_d2, 2)
MSP_DEFINE_GATHER(msp_gather_f32_base, , float)
MSP_DEFINE_GATHER(msp_gather_f64_base, , double)

#if MSP_X86
typedef float msp_f8 __attribute__((vector_size(32)));
typedef double msp_d4 __attribute__((vector_size(32)));
typedef float msp_f16 __attribute__((vector_size(64)));
typedef double msp_d8 __attribute__((vector_size(64)));
MSP_DEFINE_DENSE_PV(msp_dense_pv_f32_avx2, MSP_TARGET_AVX2, float, msp_f8, 8, 4, 3)
MSP_DEFINE_DENSE_PV(msp_dense_pv_f64_avx2, MSP_TARGET_AVX2, double, msp_d4, 4, 4, 3)
MSP_DEFINE_DENSE_PV(msp_dense_pv_f32_avx512, MSP_TARGET_AVX512, float, msp_f16, 16, 8, 3)
MSP_DEFINE_DENSE_PV(msp_dense_pv_f64_avx512, MSP_TARGET_AVX512, double, msp_d8, 8, 8, 3)
MSP_DEFINE_DENSE_CV(msp_dense_cv_f32_avx2, MSP_TARGET_AVX2, float, msp_f8, 8, 16, 6)
MSP_DEFINE_DENSE_CV(msp_dense_cv_f64_avx2, MSP_TARGET_AVX2, double, msp_d4, 4, 8, 6)
MSP_DEFINE_DENSE_CV(msp_dense_cv_f32_avx512, MSP_TARGET_AVX512, float, msp_f16, 16, 32, 14)
MSP_DEFINE_DENSE_CV(msp_dense_cv_f64_avx512, MSP_TARGET_AVX512, double, msp_d8, 8, 16, 12)
MSP_DEFINE_DW(msp_dw_f32_avx2, MSP_TARGET_AVX2, float, msp_f8, 8)
MSP_DEFINE_DW(msp_dw_f64_avx2, MSP_TARGET_AVX2, double, msp_d4, 4)
MSP_DEFINE_DW(msp_dw_f32_avx512, MSP_TARGET_AVX512, float, msp_f16, 16)
MSP_DEFINE_DW(msp_dw_f64_avx512, MSP_TARGET_AVX512, double, msp_d8, 8)
MSP_DEFINE_DW_PLANE(msp_dw_plane_f32_avx2, MSP_TARGET_AVX2, float, msp_f8, 8)
MSP_DEFINE_DW_PLANE(msp_dw_plane_f64_avx2, MSP_TARGET_AVX2, double, msp_d4, 4)
MSP_DEFINE_DW_PLANE(msp_dw_plane_f32_avx512, MSP_TARGET_AVX512, float, msp_f16, 16)
MSP_DEFINE_DW_PLANE(msp_dw_plane_f64_avx512, MSP_TARGET_AVX512, double, msp_d8, 8)
MSP_DEFINE_STORE(msp_store_f32_avx2, MSP_TARGET_AVX2, float, msp_f8, 8)
MSP_DEFINE_STORE(msp_store_f64_avx2, MSP_TARGET_AVX2, double, msp_d4, 4)
MSP_DEFINE_STORE(msp_store_f32_avx512, MSP_TARGET_AVX512, float, msp_f16, 16)
MSP_DEFINE_STORE(msp_store_f64_avx512, MSP_TARGET_AVX512, double, msp_d8, 8)
MSP_DEFINE_GATHER(msp_gather_f32_avx2, MSP_TARGET_AVX2, float)
MSP_DEFINE_GATHER(msp_gather_f64_avx2, MSP_TARGET_AVX2, double)
MSP_DEFINE_GATHER(msp_gather_f32_avx512, MSP_TARGET_AVX512, float)
MSP_DEFINE_GATHER(msp_gather_f64_avx512, MSP_TARGET_AVX512, double)
#endif

#if MSP_X86
#define MSP_DISPATCH(ISA, STEM, ARGS)                                                       \
    do {                                                                                     \
        if ((ISA) == MSP_ISA_AVX512) STEM##_avx512 ARGS;                                     \
        else if ((ISA) == MSP_ISA_AVX2) STEM##_avx2 ARGS;                                    \
        else STEM##_base ARGS;                                                               \
    } while (0)
#else
#define MSP_DISPATCH(ISA, STEM, ARGS) STEM##_base ARGS
#endif

/* One pixel-vector block of MR channels and NR pixels from in + koff[k]: into a tile (out,
 * ld = NR, bias NULL) or, for NR consecutive output pixels, straight into the output (channel m's
 * pixels at out[m*ld ...], plus bias[m] unless bias is NULL). */
static void msp_dense_pv_f32(int isa, const float *in, const ptrdiff_t *koff, ptrdiff_t K,
                             const float *w, float *out, ptrdiff_t ld, const float *bias)
{
    MSP_DISPATCH(isa, msp_dense_pv_f32, (in, koff, K, w, out, ld, bias));
}

static void msp_dense_pv_f64(int isa, const double *in, const ptrdiff_t *koff, ptrdiff_t K,
                             const double *w, double *out, ptrdiff_t ld, const double *bias)
{
    MSP_DISPATCH(isa, msp_dense_pv_f64, (in, koff, K, w, out, ld, bias));
}

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

/* One channel-vector block of MR channels and output pixels q0..q0+n-1 (see
 * msp_pixel_offsets) into a pixel-major tile. */
static void msp_dense_cv_f32(int isa, const float *in, ptrdiff_t q0, ptrdiff_t n,
                             ptrdiff_t w_out, ptrdiff_t wq, const ptrdiff_t *koff, ptrdiff_t K,
                             const float *w, float *tile)
{
    ptrdiff_t pix[MSP_MAX_NR];
    const int contiguous = msp_pixel_offsets(pix, msp_conv_nr(isa, 0, 1), q0, n, w_out, wq);
    MSP_DISPATCH(isa, msp_dense_cv_f32, (in + (contiguous ? pix[0] : 0), pix, contiguous, koff,
                                         K, w, tile));
}

static void msp_dense_cv_f64(int isa, const double *in, ptrdiff_t q0, ptrdiff_t n,
                             ptrdiff_t w_out, ptrdiff_t wq, const ptrdiff_t *koff, ptrdiff_t K,
                             const double *w, double *tile)
{
    ptrdiff_t pix[MSP_MAX_NR];
    const int contiguous = msp_pixel_offsets(pix, msp_conv_nr(isa, 1, 1), q0, n, w_out, wq);
    MSP_DISPATCH(isa, msp_dense_cv_f64, (in + (contiguous ? pix[0] : 0), pix, contiguous, koff,
                                         K, w, tile));
}

static void msp_dw_f32(int isa, const float *in, const ptrdiff_t *koff, ptrdiff_t K,
                       const float *w, float *out, ptrdiff_t n)
{
    MSP_DISPATCH(isa, msp_dw_f32, (in, koff, K, w, out, n));
}

static void msp_dw_f64(int isa, const double *in, const ptrdiff_t *koff, ptrdiff_t K,
                       const double *w, double *out, ptrdiff_t n)
{
    MSP_DISPATCH(isa, msp_dw_f64, (in, koff, K, w, out, n));
}

static void msp_dw_plane_f32(int isa, const float *in, const msp_dw_geometry *g,
                             const float *w, float bias, float *out)
{
    MSP_DISPATCH(isa, msp_dw_plane_f32, (in, g, w, bias, out));
}

static void msp_dw_plane_f64(int isa, const double *in, const msp_dw_geometry *g,
                             const double *w, double bias, double *out)
{
    MSP_DISPATCH(isa, msp_dw_plane_f64, (in, g, w, bias, out));
}

static void msp_store_f32(int isa, float *dst, ptrdiff_t plane, const float *tile,
                          ptrdiff_t m_step, ptrdiff_t j_step, ptrdiff_t mr, ptrdiff_t run,
                          const float *bias)
{
    MSP_DISPATCH(isa, msp_store_f32, (dst, plane, tile, m_step, j_step, mr, run, bias));
}

static void msp_store_f64(int isa, double *dst, ptrdiff_t plane, const double *tile,
                          ptrdiff_t m_step, ptrdiff_t j_step, ptrdiff_t mr, ptrdiff_t run,
                          const double *bias)
{
    MSP_DISPATCH(isa, msp_store_f64, (dst, plane, tile, m_step, j_step, mr, run, bias));
}

static void msp_gather_f32(int isa, const float *src, ptrdiff_t stride, float *dst, ptrdiff_t n)
{
    MSP_DISPATCH(isa, msp_gather_f32, (src, stride, dst, n));
}

static void msp_gather_f64(int isa, const double *src, ptrdiff_t stride, double *dst,
                           ptrdiff_t n)
{
    MSP_DISPATCH(isa, msp_gather_f64, (src, stride, dst, n));
}

#endif
