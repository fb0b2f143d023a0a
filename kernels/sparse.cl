/* Sparse kernels: a block-sparse row matrix A (BSR: BR x BC blocks, row pointers
 * per block row, one column index per block, each block's values row-major; CSR
 * is BR = BC = 1) times activations. The activations come batch-minor, as X^T
 * [cols x ld]: row k holds input feature k of every batch column (of every output
 * pixel, for a convolution's im2col), so one load brings a vector of batch
 * columns for one weight. Outputs go to y[row * ys_row + col * ys_col] through
 * the epilogue flags of kernels/iface.h (bias per row, ReLU). Every buffer comes
 * with its element offset (tensor views), added on entry. */
#ifndef BR
#define BR 1
#define BC 1
#endif
#ifndef VW /* spmm_cpu: floats per vector over the batch columns */
#define VW 16
#endif
#ifndef NV /* spmm_cpu: vectors per work-item */
#define NV 1
#endif
#define TILE (VW * NV)
#define U 2 /* spmm_cpu: accumulator sets per row, so consecutive blocks do not wait on one FMA chain */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define VEC CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)

inline float sp_epilogue(float v, __global const float *bias, int row, int flags)
{
    if (flags & EPI_BIAS) v += bias[row];
    if (flags & EPI_RELU) v = fmax(v, 0.0f);
    return v;
}

/* X^T [cols x ld] from x [B x cols] (row-major); columns B..ld-1 are zero. A
 * work-item reads 16 consecutive features of each batch row (contiguous) and
 * writes them to 16 rows of X^T. */
__kernel void sp_pack_xt(__global const float *x, const ulong x_off, const int B, const int cols, __global float *xt,
                         const int ld)
{
    x += x_off;
    const int k0 = get_global_id(0) * 16;
    if (k0 >= cols) return;
    const int nk = min(16, cols - k0);
    for (int b = 0; b < ld; b++) {
        float t[16];
        if (b < B && nk == 16) {
            vstore16(vload16(0, x + (size_t)b * cols + k0), 0, t);
        } else {
            for (int i = 0; i < 16; i++) t[i] = b < B && i < nk ? x[(size_t)b * cols + k0 + i] : 0.0f;
        }
        for (int i = 0; i < nk; i++) xt[(size_t)(k0 + i) * ld + b] = t[i];
    }
}

/* One block's contribution to accumulator set `s`: for each of its BC columns, NV
 * vectors of X^T (xv loaded by LOADX) times the BR weights of that column. */
#define BLOCK_FMA(s, j, LOADX)                                                          \
    {                                                                                   \
        __global const float *xr_ = xt + (size_t)ci[j] * BC * ld + col0;                \
        __global const float *vb_ = val + (size_t)(j) * (BR * BC);                      \
        _Pragma("unroll") for (int c_ = 0; c_ < BC; c_++)                               \
        {                                                                               \
            VEC xv_[NV];                                                                \
            _Pragma("unroll") for (int v_ = 0; v_ < NV; v_++) xv_[v_] = LOADX(v_, xr_ + (size_t)c_ * ld); \
            _Pragma("unroll") for (int r_ = 0; r_ < BR; r_++)                           \
            {                                                                           \
                const VEC a_ = (VEC)(vb_[r_ * BC + c_]);                                \
                _Pragma("unroll") for (int v_ = 0; v_ < NV; v_++) acc[s][r_][v_] =      \
                    fma(a_, xv_[v_], acc[s][r_][v_]);                                   \
            }                                                                           \
        }                                                                               \
    }

/* the last, partial tile of batch columns: element loads inside [0, N) */
#define LOAD_FULL(v, p) VLOAD(v, p)
#define LOAD_TAIL(v, p) load_tail(p, col0 + (v) * VW, N, (v) * VW)

inline VEC load_tail(__global const float *p, int col, int N, int off)
{
    float t[VW];
    for (int i = 0; i < VW; i++) t[i] = col + i < N ? p[off + i] : 0.0f;
    return VLOAD(0, t);
}

/* ---- CPU-shaped: a work-item owns RPW block rows x TILE batch columns; per
 * block it does BC x NV vector loads of X^T and BR x BC x NV vector FMAs into
 * registers (U independent sets, so consecutive blocks do not wait on one FMA
 * chain). The results are staged and stored along y's contiguous dimension: with
 * y[b, row] (a dense layer) the rows of one batch column go out together, as
 * stores one row at a time would stride by the layer's width (a power of two
 * maps them all to one cache set). */
#ifndef RPW
#define RPW 8
#endif
__kernel void spmm_cpu(const int mb, const int M, const int N, __global const int *rp, __global const int *ci,
                       __global const float *val, __global const float *xt, const ulong xt_off, const int ld,
                       __global float *y, const ulong y_off, const int ys_row, const int ys_col,
                       __global const float *bias, const ulong bias_off, const int flags)
{
    xt += xt_off;
    y += y_off;
    if (flags & EPI_BIAS) bias += bias_off;
    const int col0 = get_global_id(0) * TILE, br0 = get_global_id(1) * RPW;
    if (col0 >= N || br0 >= mb) return;
    const int full = col0 + TILE <= N, nbr = min(mb - br0, RPW);
    float out[RPW * BR * TILE];
    for (int i = 0; i < nbr; i++) {
        const int br = br0 + i;
        VEC acc[U][BR][NV];
        _Pragma("unroll") for (int s = 0; s < U; s++)
        _Pragma("unroll") for (int r = 0; r < BR; r++)
        _Pragma("unroll") for (int v = 0; v < NV; v++) acc[s][r][v] = 0.0f;
        const int j1 = rp[br + 1];
        int j = rp[br];
        if (full) {
            for (; j + U <= j1; j += U) {
                _Pragma("unroll") for (int s = 0; s < U; s++) BLOCK_FMA(s, j + s, LOAD_FULL)
            }
            for (; j < j1; j++) BLOCK_FMA(0, j, LOAD_FULL)
        } else {
            for (; j < j1; j++) BLOCK_FMA(0, j, LOAD_TAIL)
        }
        _Pragma("unroll") for (int r = 0; r < BR; r++)
        _Pragma("unroll") for (int v = 0; v < NV; v++) {
            VEC sum = acc[0][r][v];
            _Pragma("unroll") for (int s = 1; s < U; s++) sum += acc[s][r][v];
            VSTORE(sum, (i * BR + r) * NV + v, out);
        }
    }
    const int rows = min(M - br0 * BR, nbr * BR), cols = min(N - col0, TILE);
    if (ys_row == 1) {
        for (int q = 0; q < cols; q++)
            for (int r = 0; r < rows; r++)
                y[(size_t)(col0 + q) * ys_col + br0 * BR + r] =
                    sp_epilogue(out[r * TILE + q], bias, br0 * BR + r, flags);
    } else {
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < cols; q++)
                y[(size_t)(br0 * BR + r) * ys_row + (size_t)(col0 + q) * ys_col] =
                    sp_epilogue(out[r * TILE + q], bias, br0 * BR + r, flags);
    }
}

/* ---- CPU-shaped SpMV (batch 1, x contiguous): a work-item owns rows_per_item
 * block rows. A BSR block's BC weights and BC inputs are one vector each (BR rows
 * share the input vector); CSR takes 8 weights and 8 gathered inputs at a time.
 * Two accumulator sets hide the FMA latency. */
#if BC == 1
#define SV 8
#else
#define SV BC
#endif
#define SVEC CAT(float, SV)
#define SVLOAD CAT(vload, SV)
#define SVSTORE CAT(vstore, SV)

inline float hsum(SVEC v)
{
    float t[SV], s = 0.0f;
    SVSTORE(v, 0, t);
    for (int i = 0; i < SV; i++) s += t[i];
    return s;
}

__kernel void spmv_cpu(const int mb, const int M, const int rows_per_item, __global const int *rp,
                       __global const int *ci, __global const float *val, __global const float *x, const ulong x_off,
                       __global float *y, const ulong y_off, __global const float *bias, const ulong bias_off,
                       const int flags)
{
    x += x_off;
    y += y_off;
    if (flags & EPI_BIAS) bias += bias_off;
    const int br0 = get_global_id(0) * rows_per_item;
    for (int br = br0; br < min(mb, br0 + rows_per_item); br++) {
        SVEC acc[2][BR];
        float tail[BR];
        _Pragma("unroll") for (int r = 0; r < BR; r++) acc[0][r] = acc[1][r] = 0.0f, tail[r] = 0.0f;
        const int j1 = rp[br + 1];
        int j = rp[br];
#if BC == 1
        for (; j + 2 * SV <= j1; j += 2 * SV) {
            _Pragma("unroll") for (int s = 0; s < 2; s++) {
                __global const int *c = ci + j + s * SV;
                const float8 xv = (float8)(x[c[0]], x[c[1]], x[c[2]], x[c[3]], x[c[4]], x[c[5]], x[c[6]], x[c[7]]);
                acc[s][0] = fma(vload8(s, val + j), xv, acc[s][0]);
            }
        }
        for (; j < j1; j++) tail[0] = fma(val[j], x[ci[j]], tail[0]);
#else
        for (; j + 2 <= j1; j += 2) {
            _Pragma("unroll") for (int s = 0; s < 2; s++) {
                const SVEC xv = SVLOAD(0, x + (size_t)ci[j + s] * BC);
                _Pragma("unroll") for (int r = 0; r < BR; r++) acc[s][r] =
                    fma(SVLOAD(0, val + (size_t)(j + s) * (BR * BC) + r * BC), xv, acc[s][r]);
            }
        }
        if (j < j1) {
            const SVEC xv = SVLOAD(0, x + (size_t)ci[j] * BC);
            _Pragma("unroll") for (int r = 0; r < BR; r++) acc[0][r] =
                fma(SVLOAD(0, val + (size_t)j * (BR * BC) + r * BC), xv, acc[0][r]);
        }
#endif
        for (int r = 0; r < BR && br * BR + r < M; r++)
            y[br * BR + r] = sp_epilogue(hsum(acc[0][r] + acc[1][r]) + tail[r], bias, br * BR + r, flags);
    }
}

/* ---- GPU-shaped --------------------------------------------------------------
 * spmm_gpu: work-items along dimension 0 are consecutive batch columns of one
 * block row (coalesced X^T loads; every item reads the same weights). */
__kernel void spmm_gpu(const int mb, const int M, const int N, __global const int *rp, __global const int *ci,
                       __global const float *val, __global const float *xt, const ulong xt_off, const int ld,
                       __global float *y, const ulong y_off, const int ys_row, const int ys_col,
                       __global const float *bias, const ulong bias_off, const int flags)
{
    xt += xt_off;
    y += y_off;
    if (flags & EPI_BIAS) bias += bias_off;
    const int b = get_global_id(0), br = get_global_id(1);
    if (b >= N || br >= mb) return;
    float acc[BR];
    for (int r = 0; r < BR; r++) acc[r] = 0.0f;
    for (int j = rp[br]; j < rp[br + 1]; j++) {
        __global const float *vb = val + (size_t)j * (BR * BC);
        for (int c = 0; c < BC; c++) {
            const float xv = xt[((size_t)ci[j] * BC + c) * ld + b];
            for (int r = 0; r < BR; r++) acc[r] = fma(vb[r * BC + c], xv, acc[r]);
        }
    }
    for (int r = 0; r < BR && br * BR + r < M; r++)
        y[(size_t)(br * BR + r) * ys_row + (size_t)b * ys_col] = sp_epilogue(acc[r], bias, br * BR + r, flags);
}

/* spmv_gpu: one work-group per block row; its work-items stride over the row's
 * stored values and sum in local memory (the group size is a power of two). */
__kernel void spmv_gpu(const int mb, const int M, __global const int *rp, __global const int *ci,
                       __global const float *val, __global const float *x, const ulong x_off, __global float *y,
                       const ulong y_off, __global const float *bias, const ulong bias_off, const int flags,
                       __local float *red)
{
    x += x_off;
    y += y_off;
    if (flags & EPI_BIAS) bias += bias_off;
    const int br = get_group_id(0), l = get_local_id(0), ls = get_local_size(0);
    float acc[BR];
    for (int r = 0; r < BR; r++) acc[r] = 0.0f;
    const int e1 = rp[br + 1] * BC;
    for (int e = rp[br] * BC + l; e < e1; e += ls) {
        const int j = e / BC, c = e % BC;
        const float xv = x[(size_t)ci[j] * BC + c];
        for (int r = 0; r < BR; r++) acc[r] = fma(val[(size_t)j * (BR * BC) + r * BC + c], xv, acc[r]);
    }
    for (int r = 0; r < BR; r++) {
        const float s = group_sum(red, acc[r]);
        if (l == 0 && br * BR + r < M) y[br * BR + r] = sp_epilogue(s, bias, br * BR + r, flags);
    }
}
