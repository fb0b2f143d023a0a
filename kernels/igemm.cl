/* Integer GEMM: packing with row / column sums, the output stage (IG_* flags and the
 * per-column parameter layout come from kernels/iface.h) and four GEMM shapes:
 * portable (igemm_opencl), GPU tiles (igemm_gpu), and on PoCL's CPU device the VNNI
 * micro-kernels (igemm_vnni, built with -DIG_VNNI=512 or 256).
 *
 * Every kernel multiplies u8 by s8: an s8 A is packed as a + 128 (its zero point moves
 * by 128 too), so one set of kernels serves u8 and s8 activations. */

/* ---- packing ------------------------------------------------------------------
 * X (rows x K) is stored in panels of ph rows; inside a panel the kq consecutive k of
 * one row are contiguous ("k-quads" for kq = 4, what vpdpbusd and dot() consume):
 *   X[r][k] at (r / ph) * ph * Kp + (k / kq) * ph * kq + (r % ph) * kq + k % kq,
 * zero-padded to Kp (a multiple of 16) and to rows_p rows. A is packed as X = A, B as
 * X = op(B)^T (a row per output column). sums[r] = sum over k of X[r][k] for r < rows,
 * as unsigned bytes (A, after the flip) or signed (B, sgn). */

inline int ig_sum16(int16 s)
{
    const int8 a = s.lo + s.hi;
    const int4 b = a.lo + a.hi;
    return b.x + b.y + b.z + b.w;
}

/* X[r][k] = src[r * ld + k] (A, or B given as N x K): a work-item per row. */
__kernel void pack_rows(__global const uchar *src, const ulong src_off, const int ld, const int rows, const int K,
                        const int rows_p, const int Kp, const int ph, const int kq, const uchar flip, const int sgn,
                        __global uchar *dst, __global int *sums)
{
    src += src_off;
    const int r = get_global_id(0);
    if (r >= rows_p) return; /* the grid is rounded up to the work-group */
    __global const uchar *s = src + (size_t)r * ld;
    __global uchar *d = dst + (size_t)(r / ph) * ph * Kp + (size_t)(r % ph) * kq;
    int16 sum = 0;
    for (int k0 = 0; k0 < Kp; k0 += 16) {
        uchar16 v;
        if (r < rows && k0 + 16 <= K) {
            v = vload16(0, s + k0) ^ (uchar16)(flip);
        } else {
            uchar t[16];
            for (int i = 0; i < 16; i++) t[i] = (r < rows && k0 + i < K) ? (uchar)(s[k0 + i] ^ flip) : 0;
            v = vload16(0, t);
        }
        sum += sgn ? convert_int16(as_char16(v)) : convert_int16(v);
        if (kq == 4) {
            const uint4 u = as_uint4(v);
            __global uint *q = (__global uint *)(d + (size_t)(k0 / 4) * ph * 4);
            const size_t step = (size_t)ph; /* uints between the quads of one row */
            q[0] = u.x, q[step] = u.y, q[2 * step] = u.z, q[3 * step] = u.w;
        } else {
            uchar t[16];
            vstore16(v, 0, t);
            for (int i = 0; i < 16; i++) d[(size_t)(k0 + i) * ph] = t[i];
        }
    }
    if (r < rows) sums[r] = ig_sum16(sum);
}

/* X[j][k] = src[k * ld + j] (B given as K x N): a work-item per 16 columns, reading
 * 16 contiguous bytes of each k-row. */
__kernel void pack_cols(__global const char *src, const ulong src_off, const int ld, const int rows, const int K,
                        const int rows_p, const int Kp, const int ph, const int kq, __global uchar *dst,
                        __global int *sums)
{
    src += src_off;
    const int j0 = get_global_id(0) * 16;
    if (j0 >= rows_p) return;
    const int full = j0 + 16 <= rows, vec = ph % 16 == 0; /* vec: the 16 columns are adjacent in a panel */
    __global uchar *d = dst + (size_t)(j0 / ph) * ph * Kp + (size_t)(j0 % ph) * kq;
    int16 sum = 0;
    for (int k0 = 0; k0 < Kp; k0 += kq) {
        uint16 u = 0;
        for (int kk = 0; kk < kq; kk++) {
            const int k = k0 + kk;
            char16 v = 0;
            if (k < K && full) {
                v = vload16(0, src + (size_t)k * ld + j0);
            } else if (k < K) {
                char t[16];
                for (int i = 0; i < 16; i++) t[i] = j0 + i < rows ? src[(size_t)k * ld + j0 + i] : 0;
                v = vload16(0, t);
            }
            sum += convert_int16(v);
            u |= convert_uint16(as_uchar16(v)) << (uint16)(8 * kk);
        }
        if (kq == 1 && vec) {
            vstore16(convert_uchar16(u), 0, d + (size_t)k0 * ph);
        } else if (vec) {
            vstore16(u, 0, (__global uint *)(d + (size_t)k0 * ph));
        } else {
            uint t[16];
            vstore16(u, 0, t);
            for (int i = 0; i < 16 && j0 + i < rows_p; i++) {
                const int j = j0 + i;
                __global uchar *o = dst + (size_t)(j / ph) * ph * Kp + (size_t)k0 * ph + (size_t)(j % ph) * kq;
                if (kq == 4)
                    *(__global uint *)o = t[i];
                else
                    *o = (uchar)t[i];
            }
        }
    }
    int t[16];
    vstore16(sum, 0, t);
    for (int i = 0; i < 16 && j0 + i < rows; i++) sums[j0 + i] = t[i];
}

/* ---- output stage ---------------------------------------------------------------
 * gemmlowp's SaturatingRoundingDoublingHighMul and RoundingDivideByPOT on 64-bit
 * intermediates; the multiplier is >= 0, so the one overflowing product
 * (INT_MIN * INT_MIN) cannot occur. */
inline int ig_requant(int v, int mult, int shift)
{
    const long x = clamp((long)v << max(shift, 0), (long)INT_MIN, (long)INT_MAX);
    const long ab = x * mult;
    const long hi = (ab + (ab >= 0 ? (1L << 30) : 1 - (1L << 30))) / (1L << 31);
    const int e = max(-shift, 0);
    const long mask = (1L << e) - 1, rem = hi & mask, threshold = (mask >> 1) + (hi < 0 ? 1 : 0);
    return (int)((hi >> e) + (rem > threshold ? 1 : 0));
}

/* C[i][j] from acc = sum a * b (a as u8, b as s8, over the padded K): the zero points
 * applied through the sums in wrapping unsigned arithmetic, exact because the true
 * result fits (K <= TC_IGEMM_MAX_K), then the stage chosen by flags. */
inline void ig_store(int acc, int i, int j, const int N, const int K, const int rs, __global const int *colp,
                     __global uchar *C, const int za, const int zc, const int qmin, const int qmax, const int flags)
{
    const uint zb = (uint)colp[IG_ZB * N + j];
    const uint t = (uint)acc - (uint)za * (uint)colp[IG_COLSUM * N + j] - zb * (uint)rs + (uint)K * (uint)za * zb;
    const int v = add_sat(as_int(t), colp[IG_BIAS * N + j]);
    const size_t at = (size_t)i * N + j;
    const int mode = flags & IG_OUT_MASK;
    if (mode == IG_OUT_S32) {
        ((__global int *)C)[at] = (flags & IG_RELU) ? max(v, 0) : v;
    } else if (mode == IG_OUT_F32) {
        const float y = (float)v * as_float(colp[IG_SCALE * N + j]);
        ((__global float *)C)[at] = (flags & IG_RELU) && y < 0.0f ? 0.0f : y;
    } else {
        const long q = (long)ig_requant(v, colp[IG_MULT * N + j], colp[IG_SHIFT * N + j]) + zc;
        C[at] = (uchar)clamp(q, (long)qmin, (long)qmax);
    }
}

/* The byte address of C's first element: offsets count elements of C's dtype. */
inline __global uchar *ig_c(__global uchar *C, const ulong c_off, const int flags)
{
    return C + c_off * ((flags & IG_OUT_MASK) == IG_OUT_Q8 ? 1 : 4);
}

/* The same on 16 columns col..col+15 (all < N) of `rows` rows from row0: per-column
 * parameters loaded once, then vector arithmetic per row. acc holds the rows' sums
 * for these columns with a stride of ld ints. */
typedef struct {
    int16 mult, ls, e, mask, hi_lim, lo_lim; /* per column: what the shifts make of it */
    int left;                                 /* some column shifts left */
} ig_rq16;

inline ig_rq16 ig_rq16_of(int16 mult, int16 shift)
{
    ig_rq16 q;
    q.mult = mult;
    q.ls = max(shift, 0);
    q.e = max(-shift, 0);
    q.mask = as_int16((as_uint16((int16)(1)) << as_uint16(q.e)) - 1);
    q.hi_lim = (int16)(INT_MAX) >> q.ls;
    q.lo_lim = (int16)(INT_MIN) >> q.ls;
    q.left = any(shift > 0);
    return q;
}

inline int16 ig_requant16(int16 v, const ig_rq16 *q)
{
    int16 x = v;
    if (q->left) { /* saturating v << ls (unsigned shifts: no overflow) */
        x = as_int16(as_uint16(v) << as_uint16(q->ls));
        x = select(x, (int16)(INT_MAX), v > q->hi_lim);
        x = select(x, (int16)(INT_MIN), v < q->lo_lim);
    }
    /* gemmlowp's nudged, truncating division by 2^31 equals floor((x m + 2^30) / 2^31) */
    const int16 hi = convert_int16((convert_long16(x) * convert_long16(q->mult) + (1L << 30)) >> 31);
    const int16 threshold = (q->mask >> 1) - (hi < 0); /* relations give -1 for true */
    return (hi >> q->e) - ((hi & q->mask) > threshold);
}

inline void ig_store16(const int *acc, const int ld, const int rows, const int row0, const int col, const int N,
                       const int K, __global const int *rowsum, __global const int *colp, __global uchar *C,
                       const int za, const int zc, const int qmin, const int qmax, const int flags)
{
    /* per-column values loaded once: the stores to C could alias them for the compiler */
    const uint16 zb = as_uint16(vload16(0, colp + IG_ZB * N + col));
    const uint16 corr = (uint)K * (uint)za * zb - (uint)za * as_uint16(vload16(0, colp + IG_COLSUM * N + col));
    const int16 bias = vload16(0, colp + IG_BIAS * N + col);
    const float16 scale = as_float16(vload16(0, colp + IG_SCALE * N + col));
    const ig_rq16 rq = ig_rq16_of(vload16(0, colp + IG_MULT * N + col), vload16(0, colp + IG_SHIFT * N + col));
    const int mode = flags & IG_OUT_MASK;
    for (int i = 0; i < rows; i++) {
        const int r = row0 + i;
        const uint rs = (flags & IG_NO_ROWSUM) ? 0 : (uint)rowsum[r];
        const uint16 t = as_uint16(vload16(0, acc + i * ld)) + corr - zb * rs;
        const int16 v = add_sat(as_int16(t), bias);
        const size_t at = (size_t)r * N + col;
        if (mode == IG_OUT_S32) {
            vstore16((flags & IG_RELU) ? max(v, 0) : v, 0, (__global int *)C + at);
        } else if (mode == IG_OUT_F32) {
            const float16 y = convert_float16(v) * scale;
            vstore16((flags & IG_RELU) ? select(y, (float16)(0.0f), y < 0.0f) : y, 0, (__global float *)C + at);
        } else {
            /* saturating: the clamp below gives what an exact sum would */
            const int16 q = add_sat(ig_requant16(v, &rq), (int16)(zc));
            const uchar16 b = convert_uchar16(clamp(q, qmin, qmax) & 0xff);
            if ((size_t)(C + at) % 16 == 0) /* PoCL's vstore16 of bytes stores them one by one */
                *(__global uchar16 *)(C + at) = b;
            else
                vstore16(b, 0, C + at);
        }
    }
}

/* Stores an mr x nr tile of accumulators (row-major in acc) at (row0, col0): whole
 * 16-column groups as vectors, the columns past the last whole group one by one. */
inline void ig_store_tile(const int *acc, const int mr, const int nr, const int row0, const int col0, const int M,
                          const int N, const int K, __global const int *rowsum, __global const int *colp,
                          __global uchar *C, const int za, const int zc, const int qmin, const int qmax,
                          const int flags)
{
    const int rows = min(mr, M - row0);
    for (int j = 0; j < nr && col0 + j < N; j += 16) {
        if (col0 + j + 16 <= N) {
            ig_store16(acc + j, nr, rows, row0, col0 + j, N, K, rowsum, colp, C, za, zc, qmin, qmax, flags);
            continue;
        }
        for (int i = 0; i < rows; i++)
            for (int jj = j; col0 + jj < N; jj++)
                ig_store(acc[i * nr + jj], row0 + i, col0 + jj, N, K, (flags & IG_NO_ROWSUM) ? 0 : rowsum[row0 + i],
                         colp, C, za, zc, qmin, qmax, flags);
    }
}

/* ---- portable: 8 x 32 outputs per work-item in int16 accumulators ---------------
 * A in k-quads (8 rows x 4 k per 32 bytes), B k-major (32 columns per k): each k
 * widens two char16 of B to int16 and multiplies them by one byte of A per row. */
#define IG_ROW(i, a)                  \
    c##i##0 += (int16)((int)(a)) * b0; \
    c##i##1 += (int16)((int)(a)) * b1;
#define IG_STEP(kk, e0, e1, e2, e3)                                                              \
    {                                                                                            \
        const int16 b0 = convert_int16(vload16(2 * (kk), bp)), b1 = convert_int16(vload16(2 * (kk) + 1, bp)); \
        IG_ROW(0, a0.s##e0) IG_ROW(1, a0.s##e1) IG_ROW(2, a0.s##e2) IG_ROW(3, a0.s##e3)           \
        IG_ROW(4, a1.s##e0) IG_ROW(5, a1.s##e1) IG_ROW(6, a1.s##e2) IG_ROW(7, a1.s##e3)           \
    }

__kernel void igemm_opencl(const int M, const int N, const int K, const int Kp, __global const uchar *Ap,
                           __global const char *Bp, __global const int *rowsum, __global const int *colp,
                           __global uchar *C, const ulong c_off, const int za, const int zc, const int qmin,
                           const int qmax, const int flags)
{
    const int col0 = get_global_id(0) * 32, row0 = get_global_id(1) * 8;
    if (row0 >= M) return; /* the rows are rounded up to whole groups */
    __global const uchar *ap = Ap + (size_t)row0 * Kp;
    __global const char *bp = Bp + (size_t)col0 * Kp;
    int16 c00 = 0, c01 = 0, c10 = 0, c11 = 0, c20 = 0, c21 = 0, c30 = 0, c31 = 0;
    int16 c40 = 0, c41 = 0, c50 = 0, c51 = 0, c60 = 0, c61 = 0, c70 = 0, c71 = 0;
    for (int q = 0; q < Kp / 4; q++, ap += 32, bp += 128) {
        const uchar16 a0 = vload16(0, ap), a1 = vload16(1, ap); /* rows 0-3, rows 4-7 */
        IG_STEP(0, 0, 4, 8, c) IG_STEP(1, 1, 5, 9, d) IG_STEP(2, 2, 6, a, e) IG_STEP(3, 3, 7, b, f)
    }
    int acc[8 * 32];
    vstore16(c00, 0, acc); vstore16(c01, 1, acc); vstore16(c10, 2, acc); vstore16(c11, 3, acc);
    vstore16(c20, 4, acc); vstore16(c21, 5, acc); vstore16(c30, 6, acc); vstore16(c31, 7, acc);
    vstore16(c40, 8, acc); vstore16(c41, 9, acc); vstore16(c50, 10, acc); vstore16(c51, 11, acc);
    vstore16(c60, 12, acc); vstore16(c61, 13, acc); vstore16(c70, 14, acc); vstore16(c71, 15, acc);
    ig_store_tile(acc, 8, 32, row0, col0, M, N, K, rowsum, colp, ig_c(C, c_off, flags), za, zc, qmin, qmax, flags);
}

/* ---- GPU-shaped: TS x TS tiles of k-quads in local memory, WPT x WPT per item ----
 * A and op(B)^T are rows of Kp / 4 quads (uint). The 4-byte dot product is the
 * device's own where its compiler offers cl_khr_integer_dot_product, else four
 * widened products. */
#if defined(__opencl_c_integer_dot_product_input_4x8bit_packed)
#define IG_DOT4(a, b) dot_4x8packed_us_int(a, b)
#elif defined(__opencl_c_integer_dot_product_input_4x8bit)
#define IG_DOT4(a, b) dot(as_uchar4(a), as_char4(b))
#else
inline int ig_dot4(uint a, uint b)
{
    const int4 p = convert_int4(as_uchar4(a)) * convert_int4(as_char4(b));
    return p.x + p.y + p.z + p.w;
}
#define IG_DOT4(a, b) ig_dot4(a, b)
#endif

__kernel void igemm_gpu(const int M, const int N, const int K, const int Kp, __global const uint *Aq,
                        __global const uint *Bq, __global const int *rowsum, __global const int *colp,
                        __global uchar *C, const ulong c_off, const int za, const int zc, const int qmin,
                        const int qmax, const int flags)
{
    const int tx = get_local_id(0), ty = get_local_id(1), Kq = Kp / 4;
    const int col0 = get_group_id(0) * TS, row0 = get_group_id(1) * TS;
    __local uint As[TSK][TS + 1];
    __local uint Bs[TSK][TS + 1];
    int acc[WPT][WPT];
    for (int i = 0; i < WPT; i++)
        for (int j = 0; j < WPT; j++) acc[i][j] = 0;
    for (int q0 = 0; q0 < Kq; q0 += TSK) {
        for (int l = ty * RTS + tx; l < TS * TSK; l += RTS * RTS) {
            const int kk = l % TSK, r = l / TSK, q = q0 + kk; /* consecutive l walk along k */
            As[kk][r] = (row0 + r < M && q < Kq) ? Aq[(size_t)(row0 + r) * Kq + q] : 0;
            Bs[kk][r] = (col0 + r < N && q < Kq) ? Bq[(size_t)(col0 + r) * Kq + q] : 0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TSK; kk++) {
            uint a[WPT], b[WPT];
            for (int w = 0; w < WPT; w++) a[w] = As[kk][ty + w * RTS], b[w] = Bs[kk][tx + w * RTS];
            for (int i = 0; i < WPT; i++)
                for (int j = 0; j < WPT; j++) acc[i][j] += IG_DOT4(a[i], b[j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    __global uchar *c = ig_c(C, c_off, flags);
    for (int i = 0; i < WPT; i++) {
        const int r = row0 + ty + i * RTS;
        if (r >= M) continue;
        const int rs = rowsum[r];
        for (int j = 0; j < WPT; j++) {
            const int col = col0 + tx + j * RTS;
            if (col < N) ig_store(acc[i][j], r, col, N, K, rs, colp, c, za, zc, qmin, qmax, flags);
        }
    }
}

/* ---- VNNI on PoCL's CPU device ---------------------------------------------------
 * PoCL compiles for its LLVM target (skylake-avx512 here) and never emits vpdpbusd
 * itself; a noinline function with a target attribute may (the host checked the CPU).
 * Each work-item computes an IG_MR x IG_NR tile over all of K from k-quad panels:
 * per quad, IG_NR / VL vectors of B, one broadcast quad of A per row, one vpdpbusd
 * per (row, vector). The work-items of a group share one B panel. */
#ifdef IG_VNNI
#if IG_VNNI == 512
#define IG_MR 8
#define IG_NR 32
#define IG_VL 16
typedef int ig_vec __attribute__((vector_size(64)));
#define IG_VT int16
#define IG_TARGET "avx512f,avx512vnni"
#define IG_DPBUSD(acc, a, b) as_int16(__builtin_ia32_vpdpbusd512((ig_vec)(acc), (ig_vec)(a), (ig_vec)(b)))
#define IG_VSTORE vstore16
#else
/* 6 x 16 in 12 ymm accumulators: fits the 16 vector registers of a CPU without AVX-512 */
#define IG_MR 6
#define IG_NR 16
#define IG_VL 8
typedef int ig_vec __attribute__((vector_size(32)));
#define IG_VT int8
#if IG_AVXVNNI
#define IG_TARGET "avxvnni"
#else
#define IG_TARGET "avx512vl,avx512vnni"
#endif
#define IG_DPBUSD(acc, a, b) as_int8(__builtin_ia32_vpdpbusd256((ig_vec)(acc), (ig_vec)(a), (ig_vec)(b)))
#define IG_VSTORE vstore8
#endif
#define IG_NV (IG_NR / IG_VL)

/* A's quads: row i's quad q at ap[i * rs + q * qs] (packed panel: rs 1, qs IG_MR;
 * A read in place: rs its row stride, qs 1); rows from `rows` on repeat the last one. */
__attribute__((noinline, target(IG_TARGET))) void ig_tile(__global const int *ap, const int rs, const int qs,
                                                             const int rows, __global const IG_VT *bp, const int kq,
                                                             int *out)
{
    IG_VT acc[IG_MR][IG_NV]; /* unrolled, so the accumulators live in registers */
    size_t off[IG_MR];
#pragma unroll
    for (int i = 0; i < IG_MR; i++) {
        off[i] = (size_t)min(i, rows - 1) * rs;
#pragma unroll
        for (int v = 0; v < IG_NV; v++) acc[i][v] = 0;
    }
    for (int q = 0; q < kq; q++, ap += qs, bp += IG_NV) {
        IG_VT b[IG_NV];
#pragma unroll
        for (int v = 0; v < IG_NV; v++) b[v] = bp[v];
#pragma unroll
        for (int i = 0; i < IG_MR; i++) {
            const IG_VT a = (IG_VT)(ap[off[i]]);
#pragma unroll
            for (int v = 0; v < IG_NV; v++) acc[i][v] = IG_DPBUSD(acc[i][v], a, b[v]);
        }
    }
#pragma unroll
    for (int i = 0; i < IG_MR; i++)
#pragma unroll
        for (int v = 0; v < IG_NV; v++) IG_VSTORE(acc[i][v], i * IG_NV + v, out);
}

/* lda > 0: A is read in place (u8, K a multiple of 4, rows 4-byte aligned at a_off
 * bytes, lda bytes apart) instead of from its packed panels; then every zb is 0
 * (IG_NO_ROWSUM) and A's row sums are not needed. */
__kernel void igemm_vnni(const int M, const int N, const int K, const int Kp, __global const uchar *Ap,
                         __global const char *Bp, __global const int *rowsum, __global const int *colp,
                         __global uchar *C, const ulong c_off, const int za, const int zc, const int qmin,
                         const int qmax, const int flags, const int lda, const ulong a_off)
{
    const int col0 = get_global_id(0) * IG_NR, row0 = get_global_id(1) * IG_MR;
    if (row0 >= M) return; /* the rows are rounded up to whole groups */
    int acc[IG_MR * IG_NR];
    __global const IG_VT *bp = (__global const IG_VT *)(Bp + (size_t)col0 * Kp);
    if (lda > 0)
        ig_tile((__global const int *)(Ap + a_off + (size_t)min(row0, M - 1) * lda), lda / 4, 1, M - row0, bp, K / 4,
                acc);
    else
        ig_tile((__global const int *)(Ap + (size_t)row0 * Kp), 1, IG_MR, IG_MR, bp, Kp / 4, acc);
    ig_store_tile(acc, IG_MR, IG_NR, row0, col0, M, N, K, rowsum, colp, ig_c(C, c_off, flags), za, zc, qmin, qmax,
                  flags);
}
#endif
