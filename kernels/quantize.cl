/* Quantize (f32 -> QT) and dequantize (QT -> f32), VW elements per work-item over
 * a rows x len layout (kernels/iface.h QMODE_*): work-item (i, row) takes elements
 * [i * VW, i * VW + VW) of its row, the last partial vector one by one. Built per
 * integer type: quantize with -DQT=char|uchar -DQMIN -DQMAX, dequantize with
 * -DQT=char|uchar|int -DWT=int|long (the type x - zero_point is exact in), and
 * -DQROUND_ADD on devices whose default rounding is to nearest even.
 * Both compute exactly what the reference does: one correctly rounded float
 * multiply, rint (round half to even), exact integer arithmetic (QUANT in
 * kernels/common.clh); so the results agree bit for bit. Per-tensor parameters come as scalars, per-channel ones as
 * arrays (NULL otherwise). */
#ifndef VW
#define VW 16
#endif
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FV CAT(float, VW)
#define IV CAT(int, VW)
#define QV CAT(QT, VW)
#define LOAD CAT(vload, VW)
#define STORE CAT(vstore, VW)

#ifdef QMIN
__kernel void quantize(__global const float *x, const ulong xo, __global QT *y, const ulong yo, const ulong len,
                       const int mode, const ulong channels, const float inv1, const int zp1,
                       __global const float *inv, __global const int *zp)
{
    const size_t row = get_global_id(1), j = get_global_id(0) * VW;
    if (j >= len) return;
    x += xo + row * len + j;
    y += yo + row * len + j;
    float s = inv1;
    int z = zp1;
    if (mode == QMODE_ROW) {
        s = inv[row % channels];
        z = zp[row % channels];
    }
    if (j + VW <= len) {
        FV vs = (FV)(s), vz = (FV)((float)z);
        if (mode == QMODE_COL) {
            vs = LOAD(0, inv + j);
            vz = CAT(convert_, FV)(LOAD(0, zp + j));
        }
        const FV p = LOAD(0, x) * vs, q = QUANT(p, vz);
        STORE(CAT(convert_, QV)(CAT(convert_, IV)(q)), 0, y);
    } else {
        for (size_t k = 0; k < len - j; k++) {
            if (mode == QMODE_COL) {
                s = inv[j + k];
                z = zp[j + k];
            }
            const float fz = (float)z, p = x[k] * s, q = QUANT(p, fz);
            y[k] = CAT(convert_, QT)((int)q);
        }
    }
}
#endif

#ifdef WT
#define WV CAT(WT, VW)

__kernel void dequantize(__global const QT *x, const ulong xo, __global float *y, const ulong yo, const ulong len,
                         const int mode, const ulong channels, const float scale1, const int zp1,
                         __global const float *scale, __global const int *zp)
{
    const size_t row = get_global_id(1), j = get_global_id(0) * VW;
    if (j >= len) return;
    x += xo + row * len + j;
    y += yo + row * len + j;
    float s = scale1;
    int z = zp1;
    if (mode == QMODE_ROW) {
        s = scale[row % channels];
        z = zp[row % channels];
    }
    if (j + VW <= len) {
        FV vs = (FV)(s);
        WV vz = (WV)(z);
        if (mode == QMODE_COL) {
            vs = LOAD(0, scale + j);
            vz = CAT(convert_, WV)(LOAD(0, zp + j));
        }
        const WV d = CAT(convert_, WV)(LOAD(0, x)) - vz;
        STORE(CAT(convert_, FV)(d) * vs, 0, y);
    } else {
        for (size_t k = 0; k < len - j; k++) {
            if (mode == QMODE_COL) {
                s = scale[j + k];
                z = zp[j + k];
            }
            const WT d = (WT)x[k] - (WT)z;
            y[k] = convert_float(d) * s;
        }
    }
}
#endif
