/* Dense matmul kernels: C = alpha * op(A) * op(B) + beta * C (+ bias) (ReLU).
 * Epilogue flags (EPI_*) come from kernels/iface.h, shared with the host code.
 * Buffers come with 64-bit element offsets (`*_off`, tensor views) that each kernel
 * adds to its pointers on entry; indices after that stay below 2^30 (the host checks). */

inline float epilogue(float acc, int row, int col, int N, __global float *C, __global const float *bias,
                      float alpha, float beta, int flags)
{
    float v = alpha * acc;
    if (flags & EPI_BETA) v += beta * C[(size_t)row * N + col];
    if (flags & EPI_BIAS) v += bias[(flags & EPI_BIAS_ROW) ? row : col];
    if (flags & EPI_RELU) v = fmax(v, 0.0f);
    return v;
}

/* The same on 16 consecutive columns of one row, stored. */
inline void store16(float16 acc, int row, int col, int N, __global float *C, __global const float *bias, float alpha,
                    float beta, int flags)
{
    __global float *c = C + (size_t)row * N + col;
    float16 v = alpha * acc;
    if (flags & EPI_BETA) v += beta * vload16(0, c);
    if (flags & EPI_BIAS) v += (flags & EPI_BIAS_ROW) ? (float16)(bias[row]) : vload16(0, bias + col);
    if (flags & EPI_RELU) v = fmax(v, 0.0f);
    vstore16(v, 0, c);
}

/* ---- packing for the CPU-shaped kernel ------------------------------------
 * X (rows x cols) is stored in panels of ph rows, zero-padded:
 * dst[(r / ph) * cols_p * ph + c * ph + r % ph]. A is packed as X = op(A) with
 * ph = 8 (the 8 row values of one k are contiguous), B as X = op(B)^T with ph = 32
 * (one k-row of a 32-column panel is contiguous); ph = 1 is plain row-major. */

/* X = src^T (src is cols x rows, leading dimension ld): a panel row is contiguous in src. */
__kernel void pack_copy(__global const float *src, const ulong off, const int ld, const int rows, const int cols,
                        __global float *dst, const int rows_p, const int cols_p, const int ph)
{
    src += off;
    const int p = get_global_id(0), c = get_global_id(1);
    if (p * ph >= rows_p || c >= cols_p) return; /* the grid is rounded up to the work-group */
    const int r0 = p * ph;
    __global const float *s = src + (size_t)c * ld + r0;
    __global float *d = dst + ((size_t)p * cols_p + c) * ph;
    if (ph % 8 == 0 && c < cols && r0 + ph <= rows) {
        for (int i = 0; i < ph; i += 8) vstore8(vload8(0, s + i), 0, d + i);
    } else {
        for (int i = 0; i < ph; i++) d[i] = (c < cols && r0 + i < rows) ? s[i] : 0.0f;
    }
}

/* X = src (rows x cols, leading dimension ld): each work-item reads 16 columns of
 * the ph rows of one panel and writes them transposed (16 x ph contiguous). */
__kernel void pack_tr(__global const float *src, const ulong off, const int ld, const int rows, const int cols,
                      __global float *dst, const int rows_p, const int cols_p, const int ph)
{
    src += off;
    const int c0 = get_global_id(0) * 16, p = get_global_id(1);
    if (p * ph >= rows_p || c0 >= cols_p) return; /* the grid is rounded up to the work-group */
    __global float *d = dst + ((size_t)p * cols_p + c0) * ph;
    for (int i = 0; i < ph; i++) {
        const int r = p * ph + i;
        __global const float *s = src + (size_t)r * ld + c0;
        float t[16];
        if (r < rows && c0 + 16 <= cols) {
            vstore16(vload16(0, s), 0, t);
        } else {
            for (int j = 0; j < 16; j++) t[j] = (r < rows && c0 + j < cols) ? s[j] : 0.0f;
        }
        for (int j = 0; j < 16; j++) d[j * ph + i] = t[j];
    }
}

/* ---- CPU-shaped: 8 x 32 outputs per work-item in float16 accumulators -------
 * Work-items of a group share one 32-column panel of B, staged in local memory
 * kc_max rows at a time (PoCL runs the group as a loop on one core, so the panel
 * stays in L1); each work-item streams its own 8-row panel of A. */

#define ROW_FMA(i)                                        \
    {                                                     \
        const float a = ap[i];                            \
        c##i##0 = fma((float16)(a), b0, c##i##0);         \
        c##i##1 = fma((float16)(a), b1, c##i##1);         \
    }

__kernel void gemm_cpu(const int M, const int N, const int Kp, __global const float *Ap,
                       __global const float *Bp, __global float *C, const ulong c_off, __global const float *bias,
                       const ulong bias_off, const float alpha, const float beta, const int flags, const int kc_max,
                       __local float16 *panel)
{
    C += c_off;
    if (flags & EPI_BIAS) bias += bias_off;
    const int jb = get_global_id(0);
    const int row0 = get_global_id(1) * 8;
    const int col0 = jb * 32;
    const int lid = get_local_id(1), lsz = get_local_size(1);
    __global const float16 *bp = (__global const float16 *)(Bp + (size_t)jb * Kp * 32);
    float16 c00 = 0, c01 = 0, c10 = 0, c11 = 0, c20 = 0, c21 = 0, c30 = 0, c31 = 0;
    float16 c40 = 0, c41 = 0, c50 = 0, c51 = 0, c60 = 0, c61 = 0, c70 = 0, c71 = 0;
    for (int k0 = 0; k0 < Kp; k0 += kc_max) {
        const int kc = min(kc_max, Kp - k0);
        /* each work-item copies one contiguous piece of the panel */
        const int per = (2 * kc + lsz - 1) / lsz, q1 = min(2 * kc, (lid + 1) * per);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int q = lid * per; q < q1; q++) panel[q] = bp[2 * k0 + q];
        barrier(CLK_LOCAL_MEM_FENCE);
        __global const float *ap = Ap + (size_t)row0 * Kp + (size_t)k0 * 8;
        __local const float16 *pk = panel;
        for (int k = 0; k < kc; k++, ap += 8, pk += 2) {
            const float16 b0 = pk[0], b1 = pk[1];
            ROW_FMA(0) ROW_FMA(1) ROW_FMA(2) ROW_FMA(3) ROW_FMA(4) ROW_FMA(5) ROW_FMA(6) ROW_FMA(7)
        }
    }
    /* one epilogue loop instead of eight unrolled copies: smaller code, faster PoCL builds */
    float out[8 * 32];
    vstore16(c00, 0, out); vstore16(c01, 1, out); vstore16(c10, 2, out); vstore16(c11, 3, out);
    vstore16(c20, 4, out); vstore16(c21, 5, out); vstore16(c30, 6, out); vstore16(c31, 7, out);
    vstore16(c40, 8, out); vstore16(c41, 9, out); vstore16(c50, 10, out); vstore16(c51, 11, out);
    vstore16(c60, 12, out); vstore16(c61, 13, out); vstore16(c70, 14, out); vstore16(c71, 15, out);
    for (int i = 0; i < 8 && row0 + i < M; i++) {
        if (col0 + 32 <= N) {
            store16(vload16(2 * i, out), row0 + i, col0, N, C, bias, alpha, beta, flags);
            store16(vload16(2 * i + 1, out), row0 + i, col0 + 16, N, C, bias, alpha, beta, flags);
        } else {
            for (int q = 0; col0 + q < N; q++)
                C[(size_t)(row0 + i) * N + col0 + q] =
                    epilogue(out[32 * i + q], row0 + i, col0 + q, N, C, bias, alpha, beta, flags);
        }
    }
}

/* ---- GPU-shaped: TS x TS tiles in local memory, WPT x WPT outputs per item --- */
__kernel void gemm_gpu(const int M, const int N, const int K, const int ta, const int tb,
                       __global const float *A, const ulong a_off, __global const float *B, const ulong b_off,
                       __global float *C, const ulong c_off, __global const float *bias, const ulong bias_off,
                       const float alpha, const float beta, const int flags)
{
    A += a_off;
    B += b_off;
    C += c_off;
    if (flags & EPI_BIAS) bias += bias_off;
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int col0 = get_group_id(0) * TS, row0 = get_group_id(1) * TS;
    __local float As[TSK][TS + 1];
    __local float Bs[TSK][TS + 1];
    float acc[WPT][WPT];
    for (int i = 0; i < WPT; i++)
        for (int j = 0; j < WPT; j++) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TSK) {
        for (int l = ty * RTS + tx; l < TS * TSK; l += RTS * RTS) {
            /* consecutive l walk along k when the operand is k-contiguous, else along rows/cols */
            int r, kk;
            if (ta) { r = l % TS; kk = l / TS; } else { kk = l % TSK; r = l / TSK; }
            int gr = row0 + r, gk = k0 + kk;
            As[kk][r] = (gr < M && gk < K) ? (ta ? A[(size_t)gk * M + gr] : A[(size_t)gr * K + gk]) : 0.0f;
            int c, kb;
            if (tb) { kb = l % TSK; c = l / TSK; } else { c = l % TS; kb = l / TS; }
            int gc = col0 + c, gkb = k0 + kb;
            Bs[kb][c] = (gc < N && gkb < K) ? (tb ? B[(size_t)gc * K + gkb] : B[(size_t)gkb * N + gc]) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        TILE_FMA(As, Bs, acc, tx, ty)
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < WPT; i++) {
        const int r = row0 + ty + i * RTS;
        if (r >= M) continue;
        for (int j = 0; j < WPT; j++) {
            const int c = col0 + tx + j * RTS;
            if (c < N) C[(size_t)r * N + c] = epilogue(acc[i][j], r, c, N, C, bias, alpha, beta, flags);
        }
    }
}

/* ---- memory-bound, M <= 8: stream B once -----------------------------------
 * Built for GM = 1, 2, 4 or 8 rows (M rounded up) so the accumulators are
 * registers; rows from M to GM repeat row M - 1 and are not stored. The host
 * picks the widths (GV_NV float16 columns per gemv_n work-item, GV_RT rows of B
 * per gemv_t work-item) so GM x width accumulators fit the vector registers. */
#ifndef GM
#define GM 1
#define GV_NV 8
#define GV_RT 8
#endif
#define GV_SLAB 16 /* gemv_n: rows of B between barriers */

/* B is K x N. Each work-item owns 16 * GV_NV columns over all of K. The barrier
 * every GV_SLAB rows makes PoCL run a group's work-items slab by slab, so the
 * group reads a slab's rows contiguously (4 KB pages stay in the TLB and the
 * prefetchers see streams). A is read with strides (sm, sk) so op(A) needs no copy. */
__kernel void gemv_n(const int M, const int N, const int K, __global const float *A, const ulong a_off, const int sm,
                     const int sk, __global const float *B, const ulong b_off, __global float *C, const ulong c_off,
                     __global const float *bias, const ulong bias_off, const float alpha, const float beta,
                     const int flags)
{
    A += a_off;
    B += b_off;
    C += c_off;
    if (flags & EPI_BIAS) bias += bias_off;
    const int col0 = get_global_id(0) * 16 * GV_NV;
    const int full = col0 + 16 * GV_NV <= N;
    float16 acc[GM][GV_NV];
#pragma unroll
    for (int m = 0; m < GM; m++)
#pragma unroll
        for (int v = 0; v < GV_NV; v++) acc[m][v] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += GV_SLAB) {
        const int k1 = min(K, k0 + GV_SLAB);
        for (int k = k0; k < k1 && col0 < N; k++) {
            __global const float *b = B + (size_t)k * N + col0;
            float16 bv[GV_NV];
            if (full) {
#pragma unroll
                for (int v = 0; v < GV_NV; v++) bv[v] = vload16(v, b);
            } else {
                float t[16 * GV_NV];
                for (int q = 0; q < 16 * GV_NV; q++) t[q] = col0 + q < N ? b[q] : 0.0f;
#pragma unroll
                for (int v = 0; v < GV_NV; v++) bv[v] = vload16(v, t);
            }
#pragma unroll
            for (int m = 0; m < GM; m++) {
                const float a = A[(size_t)min(m, M - 1) * sm + (size_t)k * sk];
#pragma unroll
                for (int v = 0; v < GV_NV; v++) acc[m][v] = fma((float16)(a), bv[v], acc[m][v]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    /* the epilogue runs once per output: scalar code is cheap here and compiles fast */
    float out[GM * 16 * GV_NV];
#pragma unroll
    for (int m = 0; m < GM; m++)
#pragma unroll
        for (int v = 0; v < GV_NV; v++) vstore16(acc[m][v], m * GV_NV + v, out);
    for (int m = 0; m < M; m++)
        for (int q = 0; q < 16 * GV_NV && col0 + q < N; q++)
            C[(size_t)m * N + col0 + q] = epilogue(out[m * 16 * GV_NV + q], m, col0 + q, N, C, bias, alpha, beta, flags);
}

/* B is N x K (weight rows). Each work-item streams GV_RT contiguous rows of B
 * against op(A), which is row-major M x K here (the caller packs a transposed A). */
__kernel void gemv_t(const int M, const int N, const int K, __global const float *A, const ulong a_off,
                     __global const float *B, const ulong b_off, __global float *C, const ulong c_off,
                     __global const float *bias, const ulong bias_off, const float alpha, const float beta,
                     const int flags)
{
    A += a_off;
    B += b_off;
    C += c_off;
    if (flags & EPI_BIAS) bias += bias_off;
    const int n0 = get_global_id(0) * GV_RT;
    if (n0 >= N) return;
    float16 acc[GM][GV_RT];
#pragma unroll
    for (int m = 0; m < GM; m++)
#pragma unroll
        for (int r = 0; r < GV_RT; r++) acc[m][r] = 0.0f;
    const int K16 = K & ~15;
    for (int k = 0; k < K16; k += 16) {
        float16 b[GV_RT];
#pragma unroll
        for (int r = 0; r < GV_RT; r++) b[r] = vload16(0, B + (size_t)min(n0 + r, N - 1) * K + k);
#pragma unroll
        for (int m = 0; m < GM; m++) {
            const float16 a = vload16(0, A + (size_t)min(m, M - 1) * K + k);
#pragma unroll
            for (int r = 0; r < GV_RT; r++) acc[m][r] = fma(a, b[r], acc[m][r]);
        }
    }
    float out[GM * GV_RT];
#pragma unroll
    for (int m = 0; m < GM; m++)
#pragma unroll
        for (int r = 0; r < GV_RT; r++) {
            const float8 s8 = acc[m][r].lo + acc[m][r].hi;
            const float4 s4 = s8.lo + s8.hi;
            const float2 s2 = s4.lo + s4.hi;
            out[m * GV_RT + r] = s2.x + s2.y;
        }
    for (int m = 0; m < M; m++)
        for (int n = n0; n < min(N, n0 + GV_RT); n++) {
            float v = out[m * GV_RT + n - n0];
            for (int k = K16; k < K; k++) v = fma(A[(size_t)m * K + k], B[(size_t)n * K + k], v);
            C[(size_t)m * N + n] = epilogue(v, m, n, N, C, bias, alpha, beta, flags);
        }
}

/* bias + ReLU on C (after CLBlast, which has no epilogue) */
__kernel void bias_relu(const int M, const int N, __global float *C, const ulong c_off, __global const float *bias,
                        const ulong bias_off, const int flags)
{
    const int c = get_global_id(0), r = get_global_id(1);
    if (r >= M || c >= N) return;
    C += c_off;
    if (flags & EPI_BIAS) bias += bias_off;
    float v = C[(size_t)r * N + c];
    if (flags & EPI_BIAS) v += bias[(flags & EPI_BIAS_ROW) ? r : c];
    if (flags & EPI_RELU) v = fmax(v, 0.0f);
    C[(size_t)r * N + c] = v;
}
