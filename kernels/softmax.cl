/* Softmax over the last dimension, the row maximum subtracted (no overflow for
 * any finite input). y may be x: every element is read before the work-item that
 * owns it writes it.
 *   softmax_rows: one work-item per row, float16 along the row (CPUs).
 *   softmax_wg:   one work-group of WG (a power of two) per row, local-memory
 *                 reductions (GPUs). */

inline float hmax16(float16 v)
{
    const float4 t = fmax(fmax(v.s0123, v.s4567), fmax(v.s89ab, v.scdef));
    return fmax(fmax(t.x, t.y), fmax(t.z, t.w));
}

inline float hsum16(float16 v)
{
    const float4 t = (v.s0123 + v.s4567) + (v.s89ab + v.scdef);
    return (t.x + t.y) + (t.z + t.w);
}

__kernel void softmax_rows(__global const float *x, const ulong xo, __global float *y, const ulong yo, const int rows,
                           const int D)
{
    x += xo;
    y += yo;
    const int r = get_global_id(0);
    if (r >= rows) return;
    __global const float *xr = x + (size_t)r * D;
    __global float *yr = y + (size_t)r * D;
    const int D16 = D & ~15;
    float16 m16 = (float16)(-INFINITY);
    for (int j = 0; j < D16; j += 16) m16 = fmax(m16, vload16(0, xr + j));
    float m = hmax16(m16);
    for (int j = D16; j < D; j++) m = fmax(m, xr[j]);
    float16 s16 = (float16)(0.0f);
    for (int j = 0; j < D16; j += 16) {
        const float16 e = exp(vload16(0, xr + j) - m);
        vstore16(e, 0, yr + j);
        s16 += e;
    }
    float s = hsum16(s16);
    for (int j = D16; j < D; j++) {
        const float e = exp(xr[j] - m);
        yr[j] = e;
        s += e;
    }
    const float inv = 1.0f / s;
    for (int j = 0; j < D16; j += 16) vstore16(vload16(0, yr + j) * inv, 0, yr + j);
    for (int j = D16; j < D; j++) yr[j] *= inv;
}

#ifndef WG
#define WG 256
#endif

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void softmax_wg(__global const float *x, const ulong xo,
                                                                         __global float *y, const ulong yo,
                                                                         const int rows, const int D)
{
    x += xo;
    y += yo;
    __local float red[WG];
    const int l = get_local_id(0);
    __global const float *xr = x + (size_t)get_group_id(0) * D;
    __global float *yr = y + (size_t)get_group_id(0) * D;
    float m = -INFINITY;
    for (int j = l; j < D; j += WG) m = fmax(m, xr[j]);
    m = group_max(red, m);
    float s = 0.0f;
    for (int j = l; j < D; j += WG) {
        const float e = exp(xr[j] - m);
        yr[j] = e;
        s += e;
    }
    const float inv = 1.0f / group_sum(red, s);
    for (int j = l; j < D; j += WG) yr[j] *= inv;
}
