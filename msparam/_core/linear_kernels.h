/* Dense (fully connected) forward kernels: out[i, o] = sum_k x[i, k] * w[o, k] (+ bias[o]),
 * reading x (M rows of K) and the weights w (C_out rows of K) exactly as the layer holds them.
 *
 * Both operands run along k at unit stride, so nothing is packed or transposed per call and no
 * copy of the weights is kept (a layer's weights can change through any alias between calls,
 * tests/nn/test_layer_weight_writes.py).  A register block of MR rows of x by NR rows of w keeps
 * MR * NR vector accumulators of lane-wise partial sums over k; at the end of the row a
 * transposing reduction folds every VL of them into one vector of VL dot products, a few
 * shuffles and adds per output, small against K / VL fused multiply-adds.
 *
 * Every output is one dot product summed in a fixed order (lanes k mod VL, then a fixed tree
 * over the lanes), whichever block or thread computes it: results do not depend on the thread
 * count.  The kernels are instantiated per ISA with GCC target attributes (never -march flags)
 * and picked at run time, msp_linear_kernels_for().
 */
#ifndef MSPARAM_LINEAR_KERNELS_H
#define MSPARAM_LINEAR_KERNELS_H

#include <stddef.h>
#include <string.h>

#include "cpu_isa.h"

/* Shuffle indices of one fold level of the transposing reduction, by lanes VL and half-block
 * width h: FOLD_P picks the lower h lanes of each 2h-lane block of x, then of y; FOLD_Q the
 * upper h lanes; P + Q holds x's pairwise block sums in each block's lower half and y's in its
 * upper half.  Folding VL vectors level by level (h = VL/2 ... 1) leaves one vector whose lane
 * l sums input vector bitrev(l) (checked by tests/_core/test_linear.py through the results). */
#define MSP_FOLD_P_16_8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define MSP_FOLD_Q_16_8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define MSP_FOLD_P_16_4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define MSP_FOLD_Q_16_4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define MSP_FOLD_P_16_2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define MSP_FOLD_Q_16_2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define MSP_FOLD_P_16_1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define MSP_FOLD_Q_16_1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define MSP_FOLD_P_8_4 0, 1, 2, 3, 8, 9, 10, 11
#define MSP_FOLD_Q_8_4 4, 5, 6, 7, 12, 13, 14, 15
#define MSP_FOLD_P_8_2 0, 1, 8, 9, 4, 5, 12, 13
#define MSP_FOLD_Q_8_2 2, 3, 10, 11, 6, 7, 14, 15
#define MSP_FOLD_P_8_1 0, 8, 2, 10, 4, 12, 6, 14
#define MSP_FOLD_Q_8_1 1, 9, 3, 11, 5, 13, 7, 15
#define MSP_FOLD_P_4_2 0, 1, 4, 5
#define MSP_FOLD_Q_4_2 2, 3, 6, 7
#define MSP_FOLD_P_4_1 0, 4, 2, 6
#define MSP_FOLD_Q_4_1 1, 5, 3, 7
#define MSP_FOLD_P_2_1 0, 2
#define MSP_FOLD_Q_2_1 1, 3

/* One fold level: v[p] = fold(v[2p], v[2p+1]) for the n vectors of v (MT: the integer vector
 * type of VT's lane count and lane size, as GCC's shuffle wants the indices). */
#define MSP_FOLD_LEVEL(VT, MT, v, n, VL, H)                                                   \
    _Pragma("GCC unroll 16") for (int p_ = 0; p_ < (n) / 2; ++p_)                             \
        v[p_] = MSP_SHUFFLE2(MT, v[2 * p_], v[2 * p_ + 1], MSP_FOLD_P_##VL##_##H)              \
                + MSP_SHUFFLE2(MT, v[2 * p_], v[2 * p_ + 1], MSP_FOLD_Q_##VL##_##H);

/* NAME(v): the VL lane sums of the VL vectors v[bitrev(l)], l < VL, as one vector (lane l);
 * v is overwritten. */
#define MSP_DEFINE_LANE_SUMS_16(NAME, ATTR, VT, MT)                                           \
    ATTR static inline __attribute__((always_inline)) VT NAME(VT *v)                         \
    {                                                                                        \
        MSP_FOLD_LEVEL(VT, MT, v, 16, 16, 8)                                                 \
        MSP_FOLD_LEVEL(VT, MT, v, 8, 16, 4)                                                  \
        MSP_FOLD_LEVEL(VT, MT, v, 4, 16, 2)                                                  \
        MSP_FOLD_LEVEL(VT, MT, v, 2, 16, 1)                                                  \
        return v[0];                                                                         \
    }
#define MSP_DEFINE_LANE_SUMS_8(NAME, ATTR, VT, MT)                                            \
    ATTR static inline __attribute__((always_inline)) VT NAME(VT *v)                         \
    {                                                                                        \
        MSP_FOLD_LEVEL(VT, MT, v, 8, 8, 4)                                                   \
        MSP_FOLD_LEVEL(VT, MT, v, 4, 8, 2)                                                   \
        MSP_FOLD_LEVEL(VT, MT, v, 2, 8, 1)                                                   \
        return v[0];                                                                         \
    }
#define MSP_DEFINE_LANE_SUMS_4(NAME, ATTR, VT, MT)                                            \
    ATTR static inline __attribute__((always_inline)) VT NAME(VT *v)                         \
    {                                                                                        \
        MSP_FOLD_LEVEL(VT, MT, v, 4, 4, 2)                                                   \
        MSP_FOLD_LEVEL(VT, MT, v, 2, 4, 1)                                                   \
        return v[0];                                                                         \
    }
#define MSP_DEFINE_LANE_SUMS_2(NAME, ATTR, VT, MT)                                            \
    ATTR static inline __attribute__((always_inline)) VT NAME(VT *v)                         \
    {                                                                                        \
        MSP_FOLD_LEVEL(VT, MT, v, 2, 2, 1)                                                   \
        return v[0];                                                                         \
    }

/* The bit reversal of j < vl (a power of two): the input slot of lane j's vector. */
static inline int msp_bit_reverse(int j, int vl)
{
    int r = 0;
    for (int bit = 1; bit < vl; bit <<= 1) r = (r << 1) | ((j & bit) != 0);
    return r;
}

/* NAME(x, rows, w, cols, K, bias, out, ldo): the block out[i*ldo + o] = x[i*K:] . w[o*K:]
 * (+ bias[o]) for i < rows <= MR, o < cols <= NR (1 <= rows, cols).  K is a multiple of VL and
 * x and w are aligned to whole vectors (the driver pads rows with zeros where they are not):
 * a 64-byte load that straddles two cache lines costs the AVX-512 loop half its speed.  A short
 * block repeats its last row of x or w in the missing slots (computed, not stored): one code
 * path for every block. */
#define MSP_DEFINE_LINEAR_BLOCK(NAME, ATTR, T, VT, MT, VL, MR, NR)                            \
    _Static_assert(((MR) * (NR)) % (VL) == 0, "a block folds into whole vectors of sums");   \
    enum { NAME##_MR = (MR), NAME##_NR = (NR) };                                              \
    MSP_DEFINE_LANE_SUMS_##VL(NAME##_lane_sums, ATTR, VT, MT)                                 \
    ATTR static void NAME(const T *x, ptrdiff_t rows, const T *w, ptrdiff_t cols, ptrdiff_t K, \
                          const T *bias, T *out, ptrdiff_t ldo)                              \
    {                                                                                        \
        const T *xr[MR], *wr[NR];                                                            \
        _Pragma("GCC unroll 16") for (int i = 0; i < (MR); ++i)                               \
            xr[i] = x + (i < rows ? i : rows - 1) * K;                                       \
        _Pragma("GCC unroll 16") for (int o = 0; o < (NR); ++o)                               \
            wr[o] = w + (o < cols ? o : cols - 1) * K;                                       \
        VT acc[(MR) * (NR)];                                                                 \
        _Pragma("GCC unroll 32") for (int a = 0; a < (MR) * (NR); ++a) acc[a] = (VT){0};      \
        for (ptrdiff_t k = 0; k < K; k += (VL)) {                                            \
            VT xv[MR];                                                                       \
            _Pragma("GCC unroll 16") for (int i = 0; i < (MR); ++i)                           \
                memcpy(&xv[i], xr[i] + k, sizeof(VT));                                       \
            _Pragma("GCC unroll 16") for (int o = 0; o < (NR); ++o) {                         \
                VT wv;                                                                       \
                memcpy(&wv, wr[o] + k, sizeof(VT));                                          \
                _Pragma("GCC unroll 16") for (int i = 0; i < (MR); ++i)                       \
                    acc[i * (NR) + o] += xv[i] * wv;                                         \
            }                                                                                \
        }                                                                                    \
        T sums[(MR) * (NR)];                                                                 \
        _Pragma("GCC unroll 4") for (int g = 0; g < (MR) * (NR) / (VL); ++g) {                \
            VT v[VL];                                                                        \
            _Pragma("GCC unroll 16") for (int j = 0; j < (VL); ++j)                           \
                v[j] = acc[g * (VL) + msp_bit_reverse(j, (VL))];                             \
            VT s = NAME##_lane_sums(v);                                                      \
            memcpy(sums + g * (VL), &s, sizeof(VT));                                         \
        }                                                                                    \
        if (rows == (MR) && cols == (NR)) { /* whole blocks: fixed trip counts, vectorised */  \
            _Pragma("GCC unroll 16") for (int i = 0; i < (MR); ++i)                           \
                _Pragma("GCC unroll 16") for (int o = 0; o < (NR); ++o)                       \
                    out[i * ldo + o] = bias ? sums[i * (NR) + o] + bias[o] : sums[i * (NR) + o]; \
            return;                                                                          \
        }                                                                                    \
        for (ptrdiff_t i = 0; i < rows; ++i)                                                 \
            for (ptrdiff_t o = 0; o < cols; ++o)                                             \
                out[i * ldo + o] = bias ? sums[i * (NR) + o] + bias[o] : sums[i * (NR) + o];  \
    }

/* Panel kernels, for products large enough that a copy of the weights pays: the weights of NR
 * output features and KC inputs are packed once per call into a panel laid out k-major (NR
 * consecutive features per k, zeros past the last feature), and every row of x sweeps that
 * panel while it stays in cache.  A register block of MR rows by NR features (NV vectors) keeps
 * MR * NV accumulators; per k it loads NV vectors of the panel and broadcasts one input of each
 * row: MR * NV multiply-adds for MR + NV loads, where the dot-product block above needs one load
 * per NR or MR multiply-adds and a reduction per output.
 *
 * Every output is summed in one fixed order: within a panel of KC inputs k ascending from zero,
 * then added to the sum of the panels before it (out += block), the bias last; the block sizes
 * depend on the ISA alone, so results do not depend on the thread count. */

/* NAME(x, ldx, rows, panel, kc, out, ldo, cols, accumulate, bias): for i < rows <= MR and
 * o < cols <= NR, s = sum over k < kc of x[i * ldx + k] * panel[k * NR + o] (k ascending), then
 * out[i * ldo + o] = (accumulate ? out[i * ldo + o] + s : s) (+ bias[o] when bias is given).
 * A short block repeats its last row of x in the missing rows (computed, not stored). */
#define MSP_DEFINE_PANEL_BLOCK(NAME, ATTR, T, VT, VL, MR, NV)                                  \
    enum { NAME##_MR = (MR), NAME##_NR = (NV) * (VL) };                                        \
    ATTR static void NAME(const T *x, ptrdiff_t ldx, ptrdiff_t rows, const T *panel,           \
                          ptrdiff_t kc, T *out, ptrdiff_t ldo, ptrdiff_t cols, int accumulate, \
                          const T *bias)                                                     \
    {                                                                                        \
        const T *xr[MR];                                                                     \
        _Pragma("GCC unroll 16") for (int i = 0; i < (MR); ++i)                               \
            xr[i] = x + (i < rows ? i : rows - 1) * ldx;                                     \
        VT acc[(MR) * (NV)];                                                                 \
        _Pragma("GCC unroll 32") for (int a = 0; a < (MR) * (NV); ++a) acc[a] = (VT){0};      \
        _Pragma("GCC unroll 2") for (ptrdiff_t k = 0; k < kc; ++k) {                         \
            VT b[NV];                                                                        \
            _Pragma("GCC unroll 4") for (int j = 0; j < (NV); ++j)                            \
                memcpy(&b[j], panel + k * (NV) * (VL) + j * (VL), sizeof(VT));               \
            _Pragma("GCC unroll 16") for (int i = 0; i < (MR); ++i) {                         \
                T a = xr[i][k];                                                              \
                _Pragma("GCC unroll 4") for (int j = 0; j < (NV); ++j)                        \
                    acc[i * (NV) + j] += b[j] * a;                                           \
            }                                                                                \
        }                                                                                    \
        if (cols == (NV) * (VL)) { /* whole vectors of features: load, add and store them */   \
            _Pragma("GCC unroll 16") for (int i = 0; i < (MR); ++i) {                         \
                if (i >= rows) break;                                                        \
                _Pragma("GCC unroll 4") for (int j = 0; j < (NV); ++j) {                      \
                    VT v = acc[i * (NV) + j], t;                                             \
                    if (accumulate) {                                                        \
                        memcpy(&t, out + i * ldo + j * (VL), sizeof(VT));                    \
                        v = t + v;                                                           \
                    }                                                                        \
                    if (bias) {                                                              \
                        memcpy(&t, bias + j * (VL), sizeof(VT));                             \
                        v = v + t;                                                           \
                    }                                                                        \
                    memcpy(out + i * ldo + j * (VL), &v, sizeof(VT));                        \
                }                                                                            \
            }                                                                                \
            return;                                                                          \
        }                                                                                    \
        T sums[(MR) * (NV) * (VL)];                                                          \
        memcpy(sums, acc, sizeof(sums));                                                     \
        for (ptrdiff_t i = 0; i < rows; ++i)                                                 \
            for (ptrdiff_t o = 0; o < cols; ++o) {                                           \
                T v = sums[i * (NV) * (VL) + o];                                             \
                if (accumulate) v = out[i * ldo + o] + v;                                    \
                if (bias) v = v + bias[o];                                                   \
                out[i * ldo + o] = v;                                                        \
            }                                                                                \
    }

/* NAME(w, ldw, cols, k0, kc, panel): panel[k * NR + o] = w[o * ldw + k0 + k] for k < kc and
 * o < cols <= NR, zero for cols <= o < NR.  Whole VL x VL tiles are transposed in registers
 * (log2(VL) levels of two-vector shuffles, each exchanging blocks of h lanes between rows h
 * apart); the rest element by element. */
#define MSP_DEFINE_PANEL_PACK(NAME, ATTR, T, VT, MT, VL, NV, LEVELS)                           \
    ATTR static void NAME(const T *w, ptrdiff_t ldw, ptrdiff_t cols, ptrdiff_t k0,            \
                          ptrdiff_t kc, T *panel)                                            \
    {                                                                                        \
        const ptrdiff_t nr = (NV) * (VL);                                                    \
        ptrdiff_t whole = cols / (VL) * (VL), k_whole = kc / (VL) * (VL);                    \
        for (ptrdiff_t g = 0; g < whole; g += (VL))                                          \
            for (ptrdiff_t k = 0; k < k_whole; k += (VL)) {                                  \
                VT v[VL];                                                                    \
                _Pragma("GCC unroll 16") for (int r = 0; r < (VL); ++r)                       \
                    memcpy(&v[r], w + (g + r) * ldw + k0 + k, sizeof(VT));                   \
                LEVELS                                                                       \
                _Pragma("GCC unroll 16") for (int r = 0; r < (VL); ++r)                       \
                    memcpy(panel + (k + r) * nr + g, &v[r], sizeof(VT));                     \
            }                                                                                \
        for (ptrdiff_t k = 0; k < kc; ++k) {                                                 \
            ptrdiff_t o = k < k_whole ? whole : 0;                                           \
            for (; o < cols; ++o) panel[k * nr + o] = w[o * ldw + k0 + k];                   \
            for (; o < nr; ++o) panel[k * nr + o] = 0;                                       \
        }                                                                                    \
    }

/* One transpose level: rows r and r + H (r's bit H clear) exchange blocks of H lanes; lane l of
 * the new row r is (l & H ? row r + H's lane l - H : row r's lane l), of the new row r + H
 * (l & H ? row r + H's lane l : row r's lane l + H): the fold's lane picks, MSP_FOLD_P/Q. */
#define MSP_TRANSPOSE_LEVEL(MT, v, VL, H)                                                     \
    _Pragma("GCC unroll 16") for (int r_ = 0; r_ < (VL); ++r_)                                \
        if (!(r_ & (H))) {                                                                   \
            __typeof__(v[0]) lo_ = MSP_SHUFFLE2(MT, v[r_], v[r_ + (H)], MSP_FOLD_P_##VL##_##H);    \
            __typeof__(v[0]) hi_ = MSP_SHUFFLE2(MT, v[r_], v[r_ + (H)], MSP_FOLD_Q_##VL##_##H);    \
            v[r_] = lo_;                                                                     \
            v[r_ + (H)] = hi_;                                                               \
        }
#define MSP_TRANSPOSE_16(MT, v) MSP_TRANSPOSE_LEVEL(MT, v, 16, 8) MSP_TRANSPOSE_LEVEL(MT, v, 16, 4) \
    MSP_TRANSPOSE_LEVEL(MT, v, 16, 2) MSP_TRANSPOSE_LEVEL(MT, v, 16, 1)
#define MSP_TRANSPOSE_8(MT, v) MSP_TRANSPOSE_LEVEL(MT, v, 8, 4) MSP_TRANSPOSE_LEVEL(MT, v, 8, 2) \
    MSP_TRANSPOSE_LEVEL(MT, v, 8, 1)
#define MSP_TRANSPOSE_4(MT, v) MSP_TRANSPOSE_LEVEL(MT, v, 4, 2) MSP_TRANSPOSE_LEVEL(MT, v, 4, 1)
#define MSP_TRANSPOSE_2(MT, v) MSP_TRANSPOSE_LEVEL(MT, v, 2, 1)

/* One ISA's kernels for float (_f32) and double (_f64), their register blocks (mr[dtype] rows
 * of x by nr[dtype] rows of w; dtype 0 float, 1 double) and the alignment and multiple of row
 * length in bytes they need, vector_bytes. */
typedef struct {
    int mr[2], nr[2], vector_bytes;
    void (*block_f32)(const float *x, ptrdiff_t rows, const float *w, ptrdiff_t cols,
                      ptrdiff_t K, const float *bias, float *out, ptrdiff_t ldo);
    void (*block_f64)(const double *x, ptrdiff_t rows, const double *w, ptrdiff_t cols,
                      ptrdiff_t K, const double *bias, double *out, ptrdiff_t ldo);
    int panel_mr[2], panel_nr[2], panel_tail_mr[2];
    void (*panel_f32)(const float *x, ptrdiff_t ldx, ptrdiff_t rows, const float *panel,
                      ptrdiff_t kc, float *out, ptrdiff_t ldo, ptrdiff_t cols, int accumulate,
                      const float *bias);
    void (*panel_f64)(const double *x, ptrdiff_t ldx, ptrdiff_t rows, const double *panel,
                      ptrdiff_t kc, double *out, ptrdiff_t ldo, ptrdiff_t cols, int accumulate,
                      const double *bias);
    void (*panel_tail_f32)(const float *x, ptrdiff_t ldx, ptrdiff_t rows, const float *panel,
                           ptrdiff_t kc, float *out, ptrdiff_t ldo, ptrdiff_t cols,
                           int accumulate, const float *bias);
    void (*panel_tail_f64)(const double *x, ptrdiff_t ldx, ptrdiff_t rows, const double *panel,
                           ptrdiff_t kc, double *out, ptrdiff_t ldo, ptrdiff_t cols,
                           int accumulate, const double *bias);
    void (*pack_f32)(const float *w, ptrdiff_t ldw, ptrdiff_t cols, ptrdiff_t k0, ptrdiff_t kc,
                     float *panel);
    void (*pack_f64)(const double *w, ptrdiff_t ldw, ptrdiff_t cols, ptrdiff_t k0, ptrdiff_t kc,
                     double *panel);
} msp_linear_kernels;

/* The kernels of one ISA on float vectors VF (VLF lanes, index vectors MF) and double vectors
 * VD (VLD lanes, index vectors MD): dot-product blocks MR x NR, panel blocks PMR rows by two
 * vectors of features, and TMR rows for the last rows of x (fewer than PMR); msp_linear_kernels_ISA(), their entry. */
#define MSP_DEFINE_LINEAR_ISA(ISA, ATTR, VF, MF, VLF, VD, MD, VLD, MR_F32, NR_F32, MR_F64,      \
                              NR_F64, PMR, TMR, PNV)                                          \
    MSP_DEFINE_LINEAR_BLOCK(msp_linear_f32_##ISA, ATTR, float, VF, MF, VLF, MR_F32, NR_F32)    \
    MSP_DEFINE_LINEAR_BLOCK(msp_linear_f64_##ISA, ATTR, double, VD, MD, VLD, MR_F64, NR_F64)   \
    MSP_DEFINE_PANEL_BLOCK(msp_panel_f32_##ISA, ATTR, float, VF, VLF, PMR, PNV)                \
    MSP_DEFINE_PANEL_BLOCK(msp_panel_f64_##ISA, ATTR, double, VD, VLD, PMR, PNV)               \
    MSP_DEFINE_PANEL_BLOCK(msp_panel_tail_f32_##ISA, ATTR, float, VF, VLF, TMR, PNV)           \
    MSP_DEFINE_PANEL_BLOCK(msp_panel_tail_f64_##ISA, ATTR, double, VD, VLD, TMR, PNV)          \
    MSP_DEFINE_PANEL_PACK(msp_pack_f32_##ISA, ATTR, float, VF, MF, VLF, PNV,                   \
                          MSP_TRANSPOSE_##VLF(MF, v))                                        \
    MSP_DEFINE_PANEL_PACK(msp_pack_f64_##ISA, ATTR, double, VD, MD, VLD, PNV,                  \
                          MSP_TRANSPOSE_##VLD(MD, v))                                        \
    static const msp_linear_kernels *msp_linear_kernels_##ISA(void)                           \
    {                                                                                        \
        static const msp_linear_kernels entry = {                                            \
            {msp_linear_f32_##ISA##_MR, msp_linear_f64_##ISA##_MR},                          \
            {msp_linear_f32_##ISA##_NR, msp_linear_f64_##ISA##_NR},                          \
            (int)sizeof(VF),                                                                 \
            msp_linear_f32_##ISA, msp_linear_f64_##ISA,                                      \
            {msp_panel_f32_##ISA##_MR, msp_panel_f64_##ISA##_MR},                            \
            {msp_panel_f32_##ISA##_NR, msp_panel_f64_##ISA##_NR},                            \
            {msp_panel_tail_f32_##ISA##_MR, msp_panel_tail_f64_##ISA##_MR},                  \
            msp_panel_f32_##ISA, msp_panel_f64_##ISA,                                        \
            msp_panel_tail_f32_##ISA, msp_panel_tail_f64_##ISA,                              \
            msp_pack_f32_##ISA, msp_pack_f64_##ISA};                                         \
        return &entry;                                                                       \
    }

/* Dot-product blocks: the most accumulators that leave registers for one vector of each row of
 * x (the weights' vectors can be memory operands of the multiply-adds).  Panel blocks: MR rows
 * by NV vectors, MR * NV accumulators plus the NV panel vectors and a broadcast in registers
 * (16 on SSE and AVX2: 6 x 2; 32 on AVX-512: 6 x 4, 64 features a panel, which took a
 * 256 x 4096 x 4096 product from 62 to 57 ms on one core against 12 x 2, 8 x 3 within 2 %;
 * from 5 vectors on GCC no longer keeps the block in registers); the last rows go in blocks
 * of a third of MR, so 32 rows cost 6 * 5 + 2, not 36. */
MSP_DEFINE_LINEAR_ISA(base, , msp_f4, msp_m4, 4, msp_d2, msp_i2, 2, 2, 4, 2, 4, 6, 2, 2)
#if MSP_X86
MSP_DEFINE_LINEAR_ISA(avx2, MSP_TARGET_AVX2, msp_f8, msp_m8, 8, msp_d4, msp_i4, 4, 2, 4, 2, 4, 6, 2, 2)
MSP_DEFINE_LINEAR_ISA(avx512, MSP_TARGET_AVX512, msp_f16, msp_m16, 16, msp_d8, msp_i8, 8, 4, 4,
                      4, 4, 6, 2, 4)
#endif

/* dst row r = src row r (row_bytes) then zeros up to padded_bytes, for r < rows: the kernels'
 * aligned, vector-multiple copy of an operand whose rows are not. */
static void msp_linear_pad_rows(const void *src, ptrdiff_t rows, size_t row_bytes,
                                size_t padded_bytes, void *dst)
{
    for (ptrdiff_t r = 0; r < rows; ++r) {
        char *to = (char *)dst + (size_t)r * padded_bytes;
        memcpy(to, (const char *)src + (size_t)r * row_bytes, row_bytes);
        memset(to + row_bytes, 0, padded_bytes - row_bytes);
    }
}

/* The kernels of an ISA (one of MSP_ISA_*, at most msp_cpu_isa()). */
static const msp_linear_kernels *msp_linear_kernels_for(int isa)
{
#if MSP_X86
    if (isa == MSP_ISA_AVX512) return msp_linear_kernels_avx512();
    if (isa == MSP_ISA_AVX2) return msp_linear_kernels_avx2();
#endif
    (void)isa;
    return msp_linear_kernels_base();
}

#endif
