/* Dense matmul kernels: C = alpha * op(A) * op(B) + beta * C (+ bias) (ReLU).
 * Epilogue flags: bit 0 = bias, bit 1 = ReLU, bit 2 = beta != 0 (C is read),
 * bit 3 = the bias is per row (conv: one per output channel) instead of per column.
 * Buffers come with element offsets (`*_off`) so callers can address slices. */

#define EPI_BIAS 1
#define EPI_RELU 2
#define EPI_BETA 4
#define EPI_BIAS_ROW 8

inline float epilogue(float acc, int row, int col, int N, __global float *C, __global const float *bias,
                      float alpha, float beta, int flags)
{
    float v = alpha * acc;
    if (flags & EPI_BETA) v += beta * C[(size_t)row * N + col];
    if (flags & EPI_BIAS) v += bias[(flags & EPI_BIAS_ROW) ? row : col];
    if (flags & EPI_RELU) v = fmax(v, 0.0f);
    return v;
}

/* ---- packing for the CPU-shaped kernel ------------------------------------ */

/* op(A) (rows x cols) into a zero-padded row-major rows_p x cols_p matrix. */
__kernel void pack_rows(__global const float *src, const int src_off, const int rows, const int cols,
                        const int trans, __global float *dst, const int cols_p)
{
    src += src_off;
    const int c = get_global_id(0), r = get_global_id(1);
    float v = 0.0f;
    if (r < rows && c < cols) v = trans ? src[(size_t)c * rows + r] : src[(size_t)r * cols + c];
    dst[(size_t)r * cols_p + c] = v;
}

/* op(B) (K x N) into column panels of 32: dst[(j / 32) * Kp * 32 + k * 32 + j % 32], zero-padded. */
__kernel void pack_panels(__global const float *src, const int src_off, const int K, const int N,
                          const int trans, __global float *dst, const int Kp)
{
    src += src_off;
    const int j = get_global_id(0), k = get_global_id(1);
    float v = 0.0f;
    if (k < K && j < N) v = trans ? src[(size_t)j * K + k] : src[(size_t)k * N + j];
    dst[(size_t)(j / 32) * Kp * 32 + (size_t)k * 32 + (j % 32)] = v;
}

/* ---- CPU-shaped: 8 x 32 outputs per work-item in float16 accumulators -------
 * Work-items of a group share one 32-column panel of B, staged in local memory
 * KC rows at a time; PoCL runs the group as a loop on one core. */
#ifndef KC
#define KC 128
#endif

#define ROW_FMA(i)                                        \
    {                                                     \
        const float a = ap[(size_t)(i) * Kp];             \
        c##i##0 = fma((float16)(a), b0, c##i##0);         \
        c##i##1 = fma((float16)(a), b1, c##i##1);         \
    }

#define ROW_STORE(i)                                                                          \
    {                                                                                         \
        const int r = row0 + (i);                                                             \
        if (r < M) {                                                                          \
            float t[32];                                                                      \
            vstore16(c##i##0, 0, t);                                                          \
            vstore16(c##i##1, 0, t + 16);                                                     \
            for (int q = 0; q < 32 && col0 + q < N; q++)                                      \
                C[(size_t)r * N + col0 + q] = epilogue(t[q], r, col0 + q, N, C, bias, alpha, beta, flags); \
        }                                                                                     \
    }

__kernel void gemm_cpu(const int M, const int N, const int Kp, __global const float *Ap,
                       __global const float *Bp, __global float *C, const int c_off, __global const float *bias,
                       const float alpha, const float beta, const int flags, __local float16 *panel)
{
    C += c_off;
    const int jb = get_global_id(0);
    const int row0 = get_global_id(1) * 8;
    const int col0 = jb * 32;
    const int lid = get_local_id(1), lsz = get_local_size(1);
    __global const float16 *bp = (__global const float16 *)(Bp + (size_t)jb * Kp * 32);
    float16 c00 = 0, c01 = 0, c10 = 0, c11 = 0, c20 = 0, c21 = 0, c30 = 0, c31 = 0;
    float16 c40 = 0, c41 = 0, c50 = 0, c51 = 0, c60 = 0, c61 = 0, c70 = 0, c71 = 0;
    for (int k0 = 0; k0 < Kp; k0 += KC) {
        const int kc = min(KC, Kp - k0);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int q = lid; q < 2 * kc; q += lsz) panel[q] = bp[2 * k0 + q];
        barrier(CLK_LOCAL_MEM_FENCE);
        __global const float *ap = Ap + (size_t)row0 * Kp + k0;
        for (int k = 0; k < kc; k++, ap++) {
            const float16 b0 = panel[2 * k], b1 = panel[2 * k + 1];
            ROW_FMA(0) ROW_FMA(1) ROW_FMA(2) ROW_FMA(3) ROW_FMA(4) ROW_FMA(5) ROW_FMA(6) ROW_FMA(7)
        }
    }
    ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5) ROW_STORE(6) ROW_STORE(7)
}

/* ---- GPU-shaped: TS x TS tiles in local memory, WPT x WPT outputs per item --- */
#ifndef TS
#define TS 64
#endif
#ifndef WPT
#define WPT 4
#endif
#define RTS (TS / WPT)
#define TSK 16

__kernel void gemm_gpu(const int M, const int N, const int K, const int ta, const int tb,
                       __global const float *A, const int a_off, __global const float *B, const int b_off,
                       __global float *C, const int c_off, __global const float *bias, const float alpha,
                       const float beta, const int flags)
{
    A += a_off;
    B += b_off;
    C += c_off;
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
        for (int kk = 0; kk < TSK; kk++) {
            float a[WPT], b[WPT];
            for (int w = 0; w < WPT; w++) {
                a[w] = As[kk][ty + w * RTS];
                b[w] = Bs[kk][tx + w * RTS];
            }
            for (int i = 0; i < WPT; i++)
                for (int j = 0; j < WPT; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
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

/* ---- memory-bound, M <= 8: stream the weights once --------------------------
 * B not transposed (K x N): each work-item owns 16 columns and walks down K.
 * B transposed (N x K, weight rows): each work-item owns one output column and
 * streams its contiguous weight row. A is tiny and stays in cache. */
#define GEMV_MAX_M 8

__kernel void gemv_n(const int M, const int N, const int K, const int ta, __global const float *A,
                     const int a_off, __global const float *B, const int b_off, __global float *C, const int c_off,
                     __global const float *bias, const float alpha, const float beta, const int flags)
{
    A += a_off;
    B += b_off;
    C += c_off;
    const int col0 = get_global_id(0) * 16;
    if (col0 >= N) return;
    float16 acc[GEMV_MAX_M];
    for (int m = 0; m < GEMV_MAX_M; m++) acc[m] = 0;
    if (col0 + 16 <= N) {
        for (int k = 0; k < K; k++) {
            const float16 b = vload16(0, B + (size_t)k * N + col0);
            for (int m = 0; m < M; m++) acc[m] = fma((float16)(ta ? A[(size_t)k * M + m] : A[(size_t)m * K + k]), b, acc[m]);
        }
    } else {
        for (int k = 0; k < K; k++) {
            float t[16];
            for (int q = 0; q < 16; q++) t[q] = col0 + q < N ? B[(size_t)k * N + col0 + q] : 0.0f;
            const float16 b = vload16(0, t);
            for (int m = 0; m < M; m++) acc[m] = fma((float16)(ta ? A[(size_t)k * M + m] : A[(size_t)m * K + k]), b, acc[m]);
        }
    }
    for (int m = 0; m < M; m++) {
        float t[16];
        vstore16(acc[m], 0, t);
        for (int q = 0; q < 16 && col0 + q < N; q++)
            C[(size_t)m * N + col0 + q] = epilogue(t[q], m, col0 + q, N, C, bias, alpha, beta, flags);
    }
}

__kernel void gemv_t(const int M, const int N, const int K, const int ta, __global const float *A,
                     const int a_off, __global const float *B, const int b_off, __global float *C, const int c_off,
                     __global const float *bias, const float alpha, const float beta, const int flags)
{
    A += a_off;
    B += b_off;
    C += c_off;
    const int n = get_global_id(0);
    if (n >= N) return;
    __global const float *w = B + (size_t)n * K;
    float16 acc[GEMV_MAX_M];
    float tail[GEMV_MAX_M];
    for (int m = 0; m < GEMV_MAX_M; m++) {
        acc[m] = 0;
        tail[m] = 0.0f;
    }
    const int K16 = K & ~15;
    for (int k = 0; k < K16; k += 16) {
        const float16 b = vload16(0, w + k);
        for (int m = 0; m < M; m++) {
            float16 a;
            if (ta) {
                float t[16];
                for (int q = 0; q < 16; q++) t[q] = A[(size_t)(k + q) * M + m];
                a = vload16(0, t);
            } else {
                a = vload16(0, A + (size_t)m * K + k);
            }
            acc[m] = fma(a, b, acc[m]);
        }
    }
    for (int k = K16; k < K; k++)
        for (int m = 0; m < M; m++) tail[m] = fma(ta ? A[(size_t)k * M + m] : A[(size_t)m * K + k], w[k], tail[m]);
    for (int m = 0; m < M; m++) {
        float16 s = acc[m];
        float8 s8 = s.lo + s.hi;
        float4 s4 = s8.lo + s8.hi;
        float2 s2 = s4.lo + s4.hi;
        const float v = s2.x + s2.y + tail[m];
        C[(size_t)m * N + n] = epilogue(v, m, n, N, C, bias, alpha, beta, flags);
    }
}

/* bias + ReLU on C (after CLBlast, which has no epilogue) */
__kernel void bias_relu(const int M, const int N, __global float *C, const int c_off, __global const float *bias,
                        const int flags)
{
    const int c = get_global_id(0), r = get_global_id(1);
    if (r >= M || c >= N) return;
    C += c_off;
    float v = C[(size_t)r * N + c];
    if (flags & EPI_BIAS) v += bias[(flags & EPI_BIAS_ROW) ? r : c];
    if (flags & EPI_RELU) v = fmax(v, 0.0f);
    C[(size_t)r * N + c] = v;
}
