/* Pooling on N x C x H x W. Padding never counts: a window is clipped to the
 * input (the op requires pad < kernel, so no window is empty); max takes the
 * largest in-bounds element (NaN if any is NaN, as PyTorch), average divides by
 * their number. x and y come with their element offsets (tensor views). Geometry
 * is int: the host proves every value formed here stays within the padded
 * extents (check_axis in src/ops/pool.c). */

#define MAX_NAN(m, v) ((v) > (m) || isnan(v) ? (v) : (m))

/* (sum, max) over rows [hs, he) x columns [ws, we) of the plane xp. */
inline float2 window(__global const float *xp, const int W, const int hs, const int he, const int ws, const int we)
{
    float sum = 0.0f, m = -INFINITY;
    for (int h = hs; h < he; h++)
        for (int w = ws; w < we; w++) {
            const float v = xp[(size_t)h * W + w];
            sum += v;
            m = MAX_NAN(m, v);
        }
    return (float2)(sum, m);
}

/* The clipped window of the output at (h0, w0), the top-left corner of its window. */
inline float pool_at(__global const float *xp, const int H, const int W, const int KH, const int KW, const int h0,
                     const int w0, const int avg)
{
    const int hs = max(h0, 0), he = min(h0 + KH, H), ws = max(w0, 0), we = min(w0 + KW, W);
    const float2 r = window(xp, W, hs, he, ws, we);
    return avg ? r.x / ((float)(he - hs) * (float)(we - ws)) : r.y;
}

/* One output per work-item: (ow, oh, plane = n * C + c); dimension 0 is rounded up
 * (GPUs: neighbouring work-items read neighbouring columns). */
__kernel void pool2d(__global const float *x, const ulong xo, __global float *y, const ulong yo, const int H,
                     const int W, const int OH, const int OW, const int KH, const int KW, const int SH, const int SW,
                     const int PH, const int PW, const int avg)
{
    x += xo;
    y += yo;
    const int ow = get_global_id(0), oh = get_global_id(1);
    const size_t plane = get_global_id(2);
    if (ow < OW)
        y[(plane * OH + oh) * OW + ow] = pool_at(x + plane * H * W, H, W, KH, KW, oh * SH - PH, ow * SW - PW, avg);
}

/* One output row per work-item: (oh, plane); dimension 0 is rounded up (CPUs:
 * the columns whose window lies inside the row skip the clipping, twice as fast
 * on PoCL). */
__kernel void pool2d_rows(__global const float *x, const ulong xo, __global float *y, const ulong yo, const int H,
                          const int W, const int OH, const int OW, const int KH, const int KW, const int SH,
                          const int SW, const int PH, const int PW, const int avg)
{
    x += xo;
    y += yo;
    const int oh = get_global_id(0);
    const size_t plane = get_global_id(1);
    if (oh >= OH) return;
    const int h0 = oh * SH - PH, hs = max(h0, 0), he = min(h0 + KH, H);
    __global const float *xp = x + plane * H * W;
    __global float *yr = y + (plane * OH + oh) * OW;
    /* inside the row: lo <= ow < hi, where ow * SW - PW >= 0 and ow * SW - PW + KW <= W */
    const int lo = min((PW + SW - 1) / SW, OW);
    const int hi = W + PW >= KW ? clamp((W + PW - KW) / SW + 1, lo, OW) : lo;
    const float inv = 1.0f / ((float)(he - hs) * (float)KW);
    for (int ow = 0; ow < lo; ow++) yr[ow] = pool_at(xp, H, W, KH, KW, h0, ow * SW - PW, avg);
    for (int ow = lo; ow < hi; ow++) {
        float sum = 0.0f, m = -INFINITY;
        for (int h = hs; h < he; h++) {
            __global const float *xr = xp + (size_t)h * W + (ow * SW - PW);
            for (int kw = 0; kw < KW; kw++) {
                const float v = xr[kw];
                sum += v;
                m = MAX_NAN(m, v);
            }
        }
        yr[ow] = avg ? sum * inv : m;
    }
    for (int ow = hi; ow < OW; ow++) yr[ow] = pool_at(xp, H, W, KH, KW, h0, ow * SW - PW, avg);
}

/* One plane of HW elements per work-item, float16 along the plane. */
__kernel void global_avgpool(__global const float *x, const ulong xo, __global float *y, const ulong yo,
                             const ulong planes, const int HW)
{
    x += xo;
    y += yo;
    const size_t p = get_global_id(0);
    if (p >= planes) return;
    __global const float *xp = x + p * HW;
    const int HW16 = HW & ~15;
    float16 s16 = (float16)(0.0f);
    for (int j = 0; j < HW16; j += 16) s16 += vload16(0, xp + j);
    const float4 t = (s16.s0123 + s16.s4567) + (s16.s89ab + s16.scdef);
    float s = (t.x + t.y) + (t.z + t.w);
    for (int j = HW16; j < HW; j++) s += xp[j];
    y[p] = s / HW;
}

#ifdef QT
/* Max pooling of 8-bit values (QT is char or uchar), one output per work-item as
 * pool2d: an int8 model keeps its activations' quantization through it, since the
 * max commutes with the monotonic map between integers and reals. */
__kernel void maxpool2d_q(__global const QT *x, const ulong xo, __global QT *y, const ulong yo, const int H,
                          const int W, const int OH, const int OW, const int KH, const int KW, const int SH,
                          const int SW, const int PH, const int PW)
{
    x += xo;
    y += yo;
    const int ow = get_global_id(0), oh = get_global_id(1);
    const size_t plane = get_global_id(2);
    if (ow >= OW) return;
    const int h0 = oh * SH - PH, w0 = ow * SW - PW;
    const int hs = max(h0, 0), he = min(h0 + KH, H), ws = max(w0, 0), we = min(w0 + KW, W);
    __global const QT *xp = x + plane * H * W;
    QT m = xp[(size_t)hs * W + ws];
    for (int h = hs; h < he; h++)
        for (int w = ws; w < we; w++) m = max(m, xp[(size_t)h * W + w]);
    y[(plane * OH + oh) * OW + ow] = m;
}
#endif
