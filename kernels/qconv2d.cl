/* The quantized conv2d's data movement around the integer GEMM: the input moved to
 * NHWC bytes (and quantized on the way when it is f32), im2col into patch rows (the
 * GEMM's A: one row of R*S*C bytes per output pixel, ordered [r][s][c] so that each
 * tap is one contiguous run of C bytes), and the GEMM's [N, P*Q, K] result moved to
 * y [N, K, P, Q]. Geometry: one int16 laid out by TC_CONV_GEOMETRY (kernels/iface.h;
 * groups 1). Built with -DT=uchar or -DT=uint (the element to_nchw moves) and, to
 * quantize an f32 input, with tc_quantize's options (-DQT -DQMIN -DQMAX). */

#define CONV_FIELD(name, i) const int G##name = d.s##i;
#define CONV_GEOMETRY TC_CONV_GEOMETRY(CONV_FIELD)

#ifdef QMIN
#define XT float
#define QCAT_(a, b) a##b
#define QCAT(a, b) QCAT_(a, b)
#else
#define XT uchar
#endif

/* 16 bytes from p to q, one 16-byte access each where both are 16-byte aligned
 * (PoCL splits vload16 / vstore16 of bytes into single bytes). */
inline void copy16(__global uchar *q, __global const uchar *p)
{
    if ((((size_t)p | (size_t)q) & 15) == 0)
        *(__global uint4 *)q = *(__global const uint4 *)p;
    else
        for (int i = 0; i < 16; i++) q[i] = p[i];
}

/* The same from a 16-byte aligned private row. */
inline void store16(__global uchar *q, const uchar *p)
{
    if (((size_t)q & 15) == 0)
        *(__global uint4 *)q = *(const uint4 *)p;
    else
        for (int i = 0; i < 16; i++) q[i] = p[i];
}

/* Work-item (b, g, n) moves a tile of 16 pixels [16 b, 16 b + 16) x 16 channels
 * [16 g, 16 g + 16) of image n from x (NCHW) to xh[n][i][c] (NHWC) through private
 * memory, so that both sides are read and written 16 consecutive elements at a
 * time; an f32 x is quantized by 1 / scale `inv` and zero point zp exactly as
 * tc_quantize does, bytes (s8 or u8) are copied. */
__kernel void to_nhwc(__global const XT *x, const ulong xo, __global uchar *xh, const int HW, const int C,
                      const float inv, const int zp)
{
    const int i0 = get_global_id(0) * 16, c0 = get_global_id(1) * 16;
    const size_t n = get_global_id(2);
    if (i0 >= HW) return;
    const int mi = min(16, HW - i0), mc = min(16, C - c0);
    uchar t[16][16] __attribute__((aligned(16)));
    for (int c = 0; c < mc; c++) {
        __global const XT *src = x + xo + (n * C + c0 + c) * HW + i0;
#ifdef QMIN
        if (mi == 16) { /* a whole row: one vector load and quantization */
            const float16 fz = (float16)((float)zp), q = QUANT(vload16(0, src) * inv, fz);
            uchar b[16] __attribute__((aligned(16)));
            *(uchar16 *)b = as_uchar16(QCAT(QCAT(convert_, QT), 16_sat)(convert_int16(q))); /* in range: exact */
            for (int j = 0; j < 16; j++) t[j][c] = b[j];
            continue;
        }
#endif
        for (int j = 0; j < mi; j++) {
#ifdef QMIN
            const float fz = (float)zp, q = QUANT(src[j] * inv, fz);
            t[j][c] = as_uchar((QT)(int)q);
#else
            t[j][c] = src[j];
#endif
        }
    }
    for (int j = 0; j < mi; j++) {
        __global uchar *dst = xh + (n * HW + i0 + j) * C + c0;
        if (mc == 16)
            store16(dst, t[j]);
        else
            for (int c = 0; c < mc; c++) dst[c] = t[j][c];
    }
}

/* Work-item (p * Q + q, n) writes the patch row of output pixel (p, q) of image n
 * from the NHWC input: for each tap (r, s) the C bytes of the input pixel it reads,
 * or the zero point (real zero) in the padding. */
__kernel void im2row(const int16 d, __global const uchar *xh, __global uchar *cols, const uchar zp)
{
    CONV_GEOMETRY
    const int pq = get_global_id(0);
    const size_t n = get_global_id(1);
    if (pq >= GP * GQ) return;
    const int p = pq / GQ, q = pq % GQ, h0 = p * GSH - GPH, w0 = q * GSW - GPW;
    __global uchar *row = cols + (n * GP * GQ + pq) * (size_t)(GR * GS * GC);
    if ((GC & 15) == 0) { /* every run 16-byte aligned (the buffers are): whole uint4 */
        const uint4 zv = (uint4)(zp * 0x01010101u);
        const int nv = GC / 16;
        for (int r = 0; r < GR; r++) {
            const int ih = h0 + r * GDH;
            for (int s = 0; s < GS; s++, row += GC) {
                const int iw = w0 + s * GDW;
                __global uint4 *dst = (__global uint4 *)row;
                if (ih >= 0 && ih < GH && iw >= 0 && iw < GW) {
                    __global const uint4 *src = (__global const uint4 *)(xh + ((n * GH + ih) * GW + iw) * (size_t)GC);
                    for (int v = 0; v < nv; v++) dst[v] = src[v];
                } else {
                    for (int v = 0; v < nv; v++) dst[v] = zv;
                }
            }
        }
        return;
    }
    uchar z[16];
    for (int i = 0; i < 16; i++) z[i] = zp;
    for (int r = 0; r < GR; r++) {
        const int ih = h0 + r * GDH;
        for (int s = 0; s < GS; s++, row += GC) {
            const int iw = w0 + s * GDW;
            const int in = ih >= 0 && ih < GH && iw >= 0 && iw < GW;
            __global const uchar *src = xh + ((n * GH + (in ? ih : 0)) * GW + (in ? iw : 0)) * (size_t)GC;
            int c = 0;
            for (; c + 16 <= GC; c += 16)
                if (in)
                    copy16(row + c, src + c);
                else
                    for (int i = 0; i < 16; i++) row[c + i] = z[i];
            for (; c < GC; c++) row[c] = in ? src[c] : zp;
        }
    }
}

/* Work-item (b, g, n) moves a tile of 16 pixels [16 b, 16 b + 16) x 16 channels
 * [16 g, 16 g + 16) from t[n][i][k] to y[n][k][i] through private memory. */
__kernel void to_nchw(__global const T *t, __global T *y, const ulong yo, const int PQ, const int K)
{
    const int i0 = get_global_id(0) * 16, k0 = get_global_id(1) * 16;
    const size_t n = get_global_id(2);
    if (i0 >= PQ) return;
    const int mi = min(16, PQ - i0), mk = min(16, K - k0);
    T tile[16][16] __attribute__((aligned(64)));
    if (sizeof(T) == 4 && mi == 16 && mk == 16) { /* a whole tile of 32-bit values: vector loads and stores
                                                    (PoCL splits those of bytes into single bytes) */
        for (int j = 0; j < 16; j++) vstore16(vload16(0, t + (n * PQ + i0 + j) * K + k0), 0, tile[j]);
        for (int k = 0; k < 16; k++) {
            T col[16] __attribute__((aligned(64)));
            for (int j = 0; j < 16; j++) col[j] = tile[j][k];
            vstore16(vload16(0, col), 0, y + yo + (n * K + k0 + k) * PQ + i0);
        }
        return;
    }
    for (int j = 0; j < mi; j++) {
        __global const T *src = t + (n * PQ + i0 + j) * K + k0;
        for (int k = 0; k < mk; k++) tile[k][j] = src[k];
    }
    for (int k = 0; k < mk; k++) {
        __global T *dst = y + yo + (n * K + k0 + k) * PQ + i0;
        for (int j = 0; j < mi; j++) dst[j] = tile[k][j];
    }
}
