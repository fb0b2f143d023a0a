/* The quantized conv2d's data movement around the integer GEMM: im2col of an 8-bit
 * input into patch rows (the GEMM's A, one row per output pixel) and the GEMM's
 * [N, P*Q, K] result moved to y [N, K, P, Q]. Geometry: one int16 laid out by
 * TC_CONV_GEOMETRY (kernels/iface.h; groups 1). Built with -DT=uchar or -DT=uint
 * (the element moved by to_nchw: 8-bit or 32-bit outputs). */

#define CONV_FIELD(name, i) const int G##name = d.s##i;
#define CONV_GEOMETRY TC_CONV_GEOMETRY(CONV_FIELD)

/* Work-item (p * Q + q, c, n) writes the R x S taps of channel c for output pixel
 * (p, q) of image n: cols[(n * P*Q + p * Q + q) * C*R*S + (c * R + r) * S + s]; taps
 * in the padding get the zero point (real zero). Signed and unsigned bytes alike. */
__kernel void im2row(const int16 d, __global const uchar *x, const ulong xo, __global uchar *cols, const uchar zp)
{
    CONV_GEOMETRY
    const int pq = get_global_id(0), c = get_global_id(1);
    const size_t n = get_global_id(2);
    if (pq >= GP * GQ) return;
    const int p = pq / GQ, q = pq % GQ, h0 = p * GSH - GPH, w0 = q * GSW - GPW;
    __global const uchar *xc = x + xo + (n * GC + c) * GH * GW;
    __global uchar *row = cols + (n * GP * GQ + pq) * (size_t)(GC * GR * GS) + c * GR * GS;
    for (int r = 0; r < GR; r++) {
        const int ih = h0 + r * GDH;
        const int in_h = ih >= 0 && ih < GH;
        for (int s = 0; s < GS; s++) {
            const int iw = w0 + s * GDW;
            row[r * GS + s] = in_h && iw >= 0 && iw < GW ? xc[(size_t)ih * GW + iw] : zp;
        }
    }
}

/* Work-item (i, k, n): y[n][k][i] = t[n][i][k] over i < PQ; consecutive work-items
 * write consecutive elements of y. */
__kernel void to_nchw(__global const T *t, __global T *y, const ulong yo, const int PQ, const int K)
{
    const int i = get_global_id(0), k = get_global_id(1);
    const size_t n = get_global_id(2);
    if (i < PQ) y[yo + (n * K + k) * PQ + i] = t[(n * PQ + i) * K + k];
}
