/* Winograd transforms of 3x3 stride-1 convolutions, F(2x2,3x3) and F(4x4,3x3) (Lavin & Gray,
 * "Fast Algorithms for Convolutional Neural Networks", 2016), float32, with run-time ISA dispatch.
 *
 * An output tile of m x m pixels (m = 2 or 4) is A^T [(G g G^T) . (B^T d B)] A, d the
 * (m+2) x (m+2) input patch, g the 3x3 kernel.  The Cython driver (_winograd.pyx) transforms the
 * weights once per weight change (in NumPy, float64 rounded once), and per tile group runs three
 * phases: the input transform below, one matrix product per transform position xi < (m+2)^2
 * (M[xi] = U[xi] V[xi], the Winograd product kernels of conv_kernels.h's per-ISA table), and
 * the output transform below.
 *
 * Both transforms work on one row of tiles of one channel at a time, vectorised over the tiles
 * of the row (vectors of 4, 8 or 16 tiles, the plan's choice for the row length): transformed
 * values are laid out as buf[xi * xi_stride + t] for tile t.  The input rows are first copied,
 * zero-padded, into m column phases (phase p holds padded columns q*m + p), so that element j
 * of every tile of a vector is one unit-stride load.
 */
#ifndef MSPARAM_WINOGRAD_KERNELS_H
#define MSPARAM_WINOGRAD_KERNELS_H

#include <stddef.h>
#include <string.h>

#include "cpu_isa.h"

/* Length of one column phase of a tile row of ``ntiles`` tiles: whole vectors of vl tiles, each
 * tile reading its phase's column q and q + 1. */
static ptrdiff_t msp_wino_phase_length(ptrdiff_t ntiles, int vl)
{
    return (ntiles + vl - 1) / vl * vl + 1;
}


/* The 4x4 transpose of rows a, b, c, d into o0..o3 (o0 = a0 b0 c0 d0, ...). */
#define MSP_WINO_TRANSPOSE4(a, b, c, d, o0, o1, o2, o3)                                       \
    do {                                                                                     \
        const msp_f4 ab01_ = MSP_SHUFFLE2(msp_m4, a, b, 0, 4, 1, 5);                         \
        const msp_f4 ab23_ = MSP_SHUFFLE2(msp_m4, a, b, 2, 6, 3, 7);                         \
        const msp_f4 cd01_ = MSP_SHUFFLE2(msp_m4, c, d, 0, 4, 1, 5);                         \
        const msp_f4 cd23_ = MSP_SHUFFLE2(msp_m4, c, d, 2, 6, 3, 7);                         \
        o0 = MSP_SHUFFLE2(msp_m4, ab01_, cd01_, 0, 1, 4, 5);                                 \
        o1 = MSP_SHUFFLE2(msp_m4, ab01_, cd01_, 2, 3, 6, 7);                                 \
        o2 = MSP_SHUFFLE2(msp_m4, ab23_, cd23_, 0, 1, 4, 5);                                 \
        o3 = MSP_SHUFFLE2(msp_m4, ab23_, cd23_, 2, 3, 6, 7);                                 \
    } while (0)

/* dst[p*len + q] = src[q*M + p] for qa <= q < qb, p < M: four groups of M at a time split by
 * shuffles (a 4x4 transpose for M = 4), the rest one by one. */
#define MSP_WINO_SPLIT2(src, dst, len, qa, qb)                                                \
    do {                                                                                     \
        ptrdiff_t q = (qa);                                                                  \
        for (; q + 4 <= (qb); q += 4) {                                                      \
            msp_f4 a, b;                                                                     \
            memcpy(&a, (src) + 2 * q, sizeof a);                                             \
            memcpy(&b, (src) + 2 * q + 4, sizeof b);                                         \
            const msp_f4 even = MSP_SHUFFLE2(msp_m4, a, b, 0, 2, 4, 6);                      \
            const msp_f4 odd = MSP_SHUFFLE2(msp_m4, a, b, 1, 3, 5, 7);                       \
            memcpy((dst) + q, &even, sizeof even);                                           \
            memcpy((dst) + (len) + q, &odd, sizeof odd);                                     \
        }                                                                                    \
        for (; q < (qb); ++q) {                                                              \
            (dst)[q] = (src)[2 * q];                                                         \
            (dst)[(len) + q] = (src)[2 * q + 1];                                             \
        }                                                                                    \
    } while (0)
#define MSP_WINO_SPLIT4(src, dst, len, qa, qb)                                                \
    do {                                                                                     \
        ptrdiff_t q = (qa);                                                                  \
        for (; q + 4 <= (qb); q += 4) {                                                      \
            msp_f4 a, b, c, d;                                                               \
            memcpy(&a, (src) + 4 * q, sizeof a);                                             \
            memcpy(&b, (src) + 4 * q + 4, sizeof b);                                         \
            memcpy(&c, (src) + 4 * q + 8, sizeof c);                                         \
            memcpy(&d, (src) + 4 * q + 12, sizeof d);                                        \
            msp_f4 p0, p1, p2, p3;                                                           \
            MSP_WINO_TRANSPOSE4(a, b, c, d, p0, p1, p2, p3);                                 \
            memcpy((dst) + q, &p0, sizeof p0);                                               \
            memcpy((dst) + (len) + q, &p1, sizeof p1);                                       \
            memcpy((dst) + 2 * (len) + q, &p2, sizeof p2);                                   \
            memcpy((dst) + 3 * (len) + q, &p3, sizeof p3);                                   \
        }                                                                                    \
        for (; q < (qb); ++q)                                                                \
            for (int p = 0; p < 4; ++p) (dst)[p * (len) + q] = (src)[4 * q + p];             \
    } while (0)

/* dst[t*M + j] = src[j*vl + t] for t < vl (a multiple of 4), j < M: the columns of output
 * tiles (src: column j of vl tiles) interleaved into an output row. */
#define MSP_WINO_MERGE2(src, dst, vl)                                                         \
    do {                                                                                     \
        for (int c = 0; c < (vl); c += 4) {                                                  \
            msp_f4 a, b;                                                                     \
            memcpy(&a, (src) + c, sizeof a);                                                 \
            memcpy(&b, (src) + (vl) + c, sizeof b);                                          \
            const msp_f4 lo = MSP_SHUFFLE2(msp_m4, a, b, 0, 4, 1, 5);                        \
            const msp_f4 hi = MSP_SHUFFLE2(msp_m4, a, b, 2, 6, 3, 7);                        \
            memcpy((dst) + 2 * c, &lo, sizeof lo);                                           \
            memcpy((dst) + 2 * c + 4, &hi, sizeof hi);                                       \
        }                                                                                    \
    } while (0)
#define MSP_WINO_MERGE4(src, dst, vl)                                                         \
    do {                                                                                     \
        for (int c = 0; c < (vl); c += 4) {                                                  \
            msp_f4 a, b, c_, d, o0, o1, o2, o3;                                              \
            memcpy(&a, (src) + c, sizeof a);                                                 \
            memcpy(&b, (src) + (vl) + c, sizeof b);                                          \
            memcpy(&c_, (src) + 2 * (vl) + c, sizeof c_);                                    \
            memcpy(&d, (src) + 3 * (vl) + c, sizeof d);                                      \
            MSP_WINO_TRANSPOSE4(a, b, c_, d, o0, o1, o2, o3);                                \
            memcpy((dst) + 4 * c, &o0, sizeof o0);                                           \
            memcpy((dst) + 4 * c + 4, &o1, sizeof o1);                                       \
            memcpy((dst) + 4 * c + 8, &o2, sizeof o2);                                       \
            memcpy((dst) + 4 * c + 12, &o3, sizeof o3);                                      \
        }                                                                                    \
    } while (0)

/* dst[x] = src[x] for x < n: eight at a time (vector moves in every target; a row is too short
 * for a call of memcpy to pay), the last eight overlapping the ones before. */
#define MSP_WINO_COPY_ROW(dst, src, n)                                                        \
    do {                                                                                     \
        float *d_ = (dst);                                                                   \
        const float *s_ = (src);                                                             \
        const ptrdiff_t n_ = (n);                                                            \
        if (n_ < 8) {                                                                        \
            for (ptrdiff_t x_ = 0; x_ < n_; ++x_) d_[x_] = s_[x_];                           \
            break;                                                                           \
        }                                                                                    \
        for (ptrdiff_t x_ = 0; x_ < n_; x_ += 8) {                                           \
            if (x_ + 8 > n_) x_ = n_ - 8;                                                    \
            msp_f8 v_;                                                                       \
            memcpy(&v_, s_ + x_, sizeof v_);                                                 \
            memcpy(d_ + x_, &v_, sizeof v_);                                                 \
        }                                                                                    \
    } while (0)

/* NAME(plane, H, W, y0, nrows, left, len, phases, padded): input rows y0 .. y0+nrows-1 of a
 * plane (H, W), zero-padded (rows outside 0..H-1, columns outside 0..W-1) and split into M
 * column phases: phases[(i*M + p)*len + q] = row y0+i, column q*M + p - left.  Each row is
 * first copied into ``padded`` (scratch of M*len floats, whose zero margins are written once),
 * so that SPLIT (MSP_WINO_SPLIT2 or 4) takes every column in vectors, padding included. */
#define MSP_DEFINE_WINO_PHASES(NAME, ATTR, M, SPLIT)                                          \
    ATTR static void NAME(const float *plane, ptrdiff_t H, ptrdiff_t W, ptrdiff_t y0,         \
                          ptrdiff_t nrows, ptrdiff_t left, ptrdiff_t len, float *phases,     \
                          float *padded)                                                     \
    {                                                                                        \
        const ptrdiff_t width = (M) * len;                                                   \
        /* input column x lands at padded[x + left]; those past the width are never read */  \
        const ptrdiff_t lead = left < width ? left : width;                                  \
        const ptrdiff_t copy = width - lead < W ? width - lead : W;                          \
        memset(padded, 0, (size_t)lead * sizeof(float));                                     \
        memset(padded + lead + copy, 0, (size_t)(width - lead - copy) * sizeof(float));      \
        for (ptrdiff_t i = 0; i < nrows; ++i) {                                              \
            const ptrdiff_t y = y0 + i;                                                      \
            float *dst = phases + i * width;                                                 \
            if (y < 0 || y >= H) {                                                           \
                memset(dst, 0, (size_t)width * sizeof(float));                               \
                continue;                                                                    \
            }                                                                                \
            MSP_WINO_COPY_ROW(padded + lead, plane + y * W, copy);                           \
            SPLIT(padded, dst, len, 0, len);                                                 \
        }                                                                                    \
    }

/* Input transform V = B^T d B of the tiles of one tile row, one vector of VL tiles at a time,
 * only the ``ntiles`` valid tiles stored (rows of other threads may follow in ``out``).  The
 * one-dimensional transforms, applied to the rows of d and then to the columns:
 *   F(2,3): (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
 *   F(4,3): (4d0 - 5d2 + d4, (d4 - 4d2) + (d3 - 4d1), (d4 - 4d2) - (d3 - 4d1),
 *            (d4 - d2) + 2(d3 - d1), (d4 - d2) - 2(d3 - d1), 4d1 - 5d3 + d5). */
#define MSP_WINO_BT2(VT, o, d)                                                                \
    do {                                                                                     \
        o[0] = d[0] - d[2];                                                                  \
        o[1] = d[1] + d[2];                                                                  \
        o[2] = d[2] - d[1];                                                                  \
        o[3] = d[1] - d[3];                                                                  \
    } while (0)
#define MSP_WINO_BT4(VT, o, d)                                                                \
    do {                                                                                     \
        const VT p_ = d[4] - 4.0f * d[2], q_ = d[3] - 4.0f * d[1];                           \
        const VT r_ = d[4] - d[2], s_ = 2.0f * (d[3] - d[1]);                                \
        o[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];                                             \
        o[1] = p_ + q_;                                                                      \
        o[2] = p_ - q_;                                                                      \
        o[3] = r_ + s_;                                                                      \
        o[4] = r_ - s_;                                                                      \
        o[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];                                             \
    } while (0)

/* Output transform A^T M A, the one-dimensional transforms:
 *   F(2,3): (m0 + m1 + m2, m1 - m2 - m3)
 *   F(4,3): (m0 + (m1 + m2) + (m3 + m4), (m1 - m2) + 2(m3 - m4), (m1 + m2) + 4(m3 + m4),
 *            (m1 - m2) + 8(m3 - m4) + m5). */
#define MSP_WINO_AT2(VT, o, s)                                                                \
    do {                                                                                     \
        o[0] = s[0] + s[1] + s[2];                                                           \
        o[1] = s[1] - s[2] - s[3];                                                           \
    } while (0)
#define MSP_WINO_AT4(VT, o, s)                                                                \
    do {                                                                                     \
        const VT a_ = s[1] + s[2], b_ = s[1] - s[2], c_ = s[3] + s[4], d_ = s[3] - s[4];     \
        o[0] = s[0] + a_ + c_;                                                               \
        o[1] = b_ + 2.0f * d_;                                                               \
        o[2] = a_ + 4.0f * c_;                                                               \
        o[3] = b_ + 8.0f * d_ + s[5];                                                        \
    } while (0)

/* Whether any lane of ``poison`` (a sum of values times 0) is NaN: one of the values was
 * infinite or NaN. */
#define MSP_WINO_POISONED(VT, VL, poison)                                                     \
    do {                                                                                     \
        float lanes_[VL];                                                                    \
        memcpy(lanes_, &(poison), sizeof(VT));                                               \
        for (int l_ = 0; l_ < (VL); ++l_)                                                    \
            if (lanes_[l_] != lanes_[l_]) return 1;                                          \
        return 0;                                                                            \
    } while (0)

/* NAME(phases, len, rows, ntiles, out, xi_stride): out[xi*xi_stride + r*ntiles + t] = V[xi] of
 * tile t < ntiles of tile row r < rows, whose input rows start at phase row r*M; xi = 6*k + l
 * for F(4,3) (row k, column l of the transformed tile), 4*k + l for F(2,3).  Whole vectors are
 * stored: the lanes past a row's last tile are overwritten by the next row or fall past the
 * last (the caller leaves room).  1 if a value of V is not finite (the lanes past the last tile
 * included: they hold input values of valid tiles and zeros only), else 0. */
#define MSP_DEFINE_WINO_INPUT(NAME, ATTR, VT, VL, M, BT)                                     \
    ATTR static int NAME(const float *phases, ptrdiff_t len, ptrdiff_t rows, ptrdiff_t ntiles, \
                         float *out, ptrdiff_t xi_stride)                                    \
    {                                                                                        \
        enum { A = (M) + 2 };                                                                \
        VT poison = (VT){0};                                                                 \
        for (ptrdiff_t r = 0; r < rows; ++r) {                                               \
            const float *base = phases + r * (M) * (M) * len;                                \
            float *dst = out + r * ntiles;                                                   \
            for (ptrdiff_t t0 = 0; t0 < ntiles; t0 += (VL)) {                                \
                VT part[A][A];                                                               \
                _Pragma("GCC unroll 6") for (int i = 0; i < A; ++i) {                        \
                    VT d[A];                                                                 \
                    _Pragma("GCC unroll 6") for (int j = 0; j < A; ++j)                      \
                        memcpy(&d[j], base + ((ptrdiff_t)i * (M) + j % (M)) * len + j / (M) + t0, \
                               sizeof(VT));                                                  \
                    BT(VT, part[i], d);                                                      \
                }                                                                            \
                _Pragma("GCC unroll 6") for (int l = 0; l < A; ++l) {                        \
                    VT col[A], v[A];                                                         \
                    _Pragma("GCC unroll 6") for (int i = 0; i < A; ++i) col[i] = part[i][l]; \
                    BT(VT, v, col);                                                          \
                    _Pragma("GCC unroll 6") for (int k = 0; k < A; ++k) {                    \
                        poison += v[k] * 0.0f;                                               \
                        memcpy(dst + (k * A + l) * xi_stride + t0, &v[k], sizeof(VT));       \
                    }                                                                        \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
        MSP_WINO_POISONED(VT, VL, poison);                                                   \
    }

/* NAME(in, xi_stride, rows, ntiles, bias, out, W_out, H_rest): the output tiles of tile rows
 * r < rows of one channel, from in[xi*xi_stride + r*ntiles + t] (whole vectors read: the caller
 * leaves room), plus bias, into output rows out[(r*M + i)*W_out ...] for r*M + i < H_rest,
 * columns < W_out.  1 if a value is not finite (the lanes past the last tile included: the
 * driver keeps them finite unless a valid tile's input is not), else 0. */
#define MSP_DEFINE_WINO_OUTPUT(NAME, ATTR, VT, VL, M, AT, MERGE)                             \
    ATTR static int NAME(const float *in, ptrdiff_t xi_stride, ptrdiff_t rows, ptrdiff_t ntiles, \
                         float bias, float *out, ptrdiff_t W_out, ptrdiff_t H_rest)          \
    {                                                                                        \
        enum { A = (M) + 2 };                                                                \
        VT poison = (VT){0};                                                                 \
        for (ptrdiff_t r = 0; r < rows; ++r) {                                               \
            const float *src = in + r * ntiles;                                              \
            const ptrdiff_t height = H_rest - r * (M) < (M) ? H_rest - r * (M) : (M);        \
            for (ptrdiff_t t0 = 0; t0 < ntiles; t0 += (VL)) {                                \
                VT half[A][M];                                                               \
                _Pragma("GCC unroll 6") for (int k = 0; k < A; ++k) {                        \
                    VT s[A];                                                                 \
                    _Pragma("GCC unroll 6") for (int l = 0; l < A; ++l)                      \
                        memcpy(&s[l], src + (k * A + l) * xi_stride + t0, sizeof(VT));       \
                    AT(VT, half[k], s);                                                      \
                }                                                                            \
                /* columns[i][j][t]: output row i, column (t0 + t)*M + j */                  \
                float columns[M][M][VL];                                                     \
                _Pragma("GCC unroll 4") for (int j = 0; j < (M); ++j) {                      \
                    VT col[A], y[M];                                                         \
                    _Pragma("GCC unroll 6") for (int k = 0; k < A; ++k) col[k] = half[k][j]; \
                    AT(VT, y, col);                                                          \
                    _Pragma("GCC unroll 4") for (int i = 0; i < (M); ++i) {                  \
                        const VT v = y[i] + bias;                                            \
                        poison += v * 0.0f;                                                  \
                        memcpy(columns[i][j], &v, sizeof(VT));                               \
                    }                                                                        \
                }                                                                            \
                const ptrdiff_t x0 = t0 * (M);                                               \
                const ptrdiff_t run = W_out - x0 < (VL) * (M) ? W_out - x0 : (VL) * (M);     \
                for (ptrdiff_t i = 0; i < height; ++i) {                                     \
                    float row[(VL) * (M)];                                                   \
                    MERGE(&columns[i][0][0], row, (VL));                                     \
                    float *dst = out + (r * (M) + i) * W_out + x0;                           \
                    if (run == (VL) * (M))                                                   \
                        memcpy(dst, row, sizeof row);                                        \
                    else                                                                     \
                        for (ptrdiff_t x = 0; x < run; ++x) dst[x] = row[x];                 \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
        MSP_WINO_POISONED(VT, VL, poison);                                                   \
    }

MSP_DEFINE_WINO_PHASES(msp_wino_phases2_base, , 2, MSP_WINO_SPLIT2)
MSP_DEFINE_WINO_PHASES(msp_wino_phases4_base, , 4, MSP_WINO_SPLIT4)

/* The transforms of one ISA (target attribute ATTR) on vectors of VL tiles (names _ISA_VL). */
#define MSP_DEFINE_WINO_TRANSFORMS(ISA, ATTR, VT, VL)                                         \
    MSP_DEFINE_WINO_INPUT(msp_wino_input2_##ISA##_##VL, ATTR, VT, VL, 2, MSP_WINO_BT2)         \
    MSP_DEFINE_WINO_INPUT(msp_wino_input4_##ISA##_##VL, ATTR, VT, VL, 4, MSP_WINO_BT4)         \
    MSP_DEFINE_WINO_OUTPUT(msp_wino_output2_##ISA##_##VL, ATTR, VT, VL, 2, MSP_WINO_AT2,       \
                           MSP_WINO_MERGE2)                                                  \
    MSP_DEFINE_WINO_OUTPUT(msp_wino_output4_##ISA##_##VL, ATTR, VT, VL, 4, MSP_WINO_AT4,       \
                           MSP_WINO_MERGE4)

MSP_DEFINE_WINO_TRANSFORMS(base, , msp_f4, 4)

#if MSP_X86
MSP_DEFINE_WINO_PHASES(msp_wino_phases2_avx2, MSP_TARGET_AVX2, 2, MSP_WINO_SPLIT2)
MSP_DEFINE_WINO_PHASES(msp_wino_phases4_avx2, MSP_TARGET_AVX2, 4, MSP_WINO_SPLIT4)
MSP_DEFINE_WINO_PHASES(msp_wino_phases2_avx512, MSP_TARGET_AVX512, 2, MSP_WINO_SPLIT2)
MSP_DEFINE_WINO_PHASES(msp_wino_phases4_avx512, MSP_TARGET_AVX512, 4, MSP_WINO_SPLIT4)
/* Narrower vectors too: a row of a small image has few tiles (4 for F(4x4,3x3) on 14x14). */
MSP_DEFINE_WINO_TRANSFORMS(avx2, MSP_TARGET_AVX2, msp_f4, 4)
MSP_DEFINE_WINO_TRANSFORMS(avx2, MSP_TARGET_AVX2, msp_f8, 8)
MSP_DEFINE_WINO_TRANSFORMS(avx512, MSP_TARGET_AVX512, msp_f4, 4)
MSP_DEFINE_WINO_TRANSFORMS(avx512, MSP_TARGET_AVX512, msp_f8, 8)
MSP_DEFINE_WINO_TRANSFORMS(avx512, MSP_TARGET_AVX512, msp_f16, 16)
#define MSP_WINO_PHASES(ISA, STEM, ARGS)                                                     \
    ((ISA) == MSP_ISA_AVX512 ? STEM##_avx512 ARGS                                            \
     : (ISA) == MSP_ISA_AVX2 ? STEM##_avx2 ARGS : STEM##_base ARGS)
#define MSP_WINO_DISPATCH(ISA, VL, STEM, ARGS)                                               \
    ((ISA) == MSP_ISA_AVX512                                                                 \
         ? ((VL) == 16 ? STEM##_avx512_16 ARGS                                               \
            : (VL) == 8 ? STEM##_avx512_8 ARGS : STEM##_avx512_4 ARGS)                       \
     : (ISA) == MSP_ISA_AVX2 ? ((VL) == 8 ? STEM##_avx2_8 ARGS : STEM##_avx2_4 ARGS)          \
                             : STEM##_base_4 ARGS)
#else
#define MSP_WINO_PHASES(ISA, STEM, ARGS) STEM##_base ARGS
#define MSP_WINO_DISPATCH(ISA, VL, STEM, ARGS) STEM##_base_4 ARGS
#endif

/* The widest transform vector of an ISA, in tiles; narrower ones (down to 4) exist too. */
static int msp_wino_vector_tiles(int isa)
{
    return isa == MSP_ISA_AVX512 ? 16 : isa == MSP_ISA_AVX2 ? 8 : 4;
}

/* Floats of scratch msp_wino_input_rows needs for ``rows`` tile rows of ``ntiles`` tiles with
 * transform vectors of vl tiles: the phases of rows*m + 2 input rows, then one padded row. */
static ptrdiff_t msp_wino_phase_size(int vl, int m, ptrdiff_t rows, ptrdiff_t ntiles)
{
    return (rows * m + 3) * m * msp_wino_phase_length(ntiles, vl);
}

/* Input transform of ``rows`` tile rows of one channel plane (H, W) into
 * out[xi*xi_stride + r*ntiles + t], on vectors of vl tiles (4, 8 or 16, at most
 * msp_wino_vector_tiles(isa)): tile row r starts at input row y0 + r*m (top padding: y0 < 0),
 * tile t at column t*m - left; ``phases`` is scratch of msp_wino_phase_size floats, and out has
 * room for a vector of tiles past the last.  1 if a transformed value is not finite (an input
 * value is not, or the transform overflowed). */
static int msp_wino_input_rows(int isa, int vl, int m, const float *plane, ptrdiff_t H,
                               ptrdiff_t W, ptrdiff_t y0, ptrdiff_t left, ptrdiff_t rows,
                               ptrdiff_t ntiles, float *phases, float *out, ptrdiff_t xi_stride)
{
    const ptrdiff_t len = msp_wino_phase_length(ntiles, vl);
    float *padded = phases + (rows * m + 2) * m * len;
    if (m == 4) {
        MSP_WINO_PHASES(isa, msp_wino_phases4, (plane, H, W, y0, rows * 4 + 2, left, len, phases, padded));
        return MSP_WINO_DISPATCH(isa, vl, msp_wino_input4, (phases, len, rows, ntiles, out, xi_stride));
    }
    MSP_WINO_PHASES(isa, msp_wino_phases2, (plane, H, W, y0, rows * 2 + 2, left, len, phases, padded));
    return MSP_WINO_DISPATCH(isa, vl, msp_wino_input2, (phases, len, rows, ntiles, out, xi_stride));
}

/* Output transform of ``rows`` tile rows of one channel (see MSP_DEFINE_WINO_OUTPUT), on
 * vectors of vl tiles, into the output rows from ``out`` on, H_rest of them left in the plane;
 * 1 if an output value is not finite. */
static int msp_wino_output_rows(int isa, int vl, int m, const float *in, ptrdiff_t xi_stride,
                                ptrdiff_t rows, ptrdiff_t ntiles, float bias, float *out,
                                ptrdiff_t W_out, ptrdiff_t H_rest)
{
    if (m == 4)
        return MSP_WINO_DISPATCH(isa, vl, msp_wino_output4, (in, xi_stride, rows, ntiles, bias, out, W_out, H_rest));
    return MSP_WINO_DISPATCH(isa, vl, msp_wino_output2, (in, xi_stride, rows, ntiles, bias, out, W_out, H_rest));
}

#endif
