/* Pooling on N x C x H x W. Padding never counts: a window is clipped to the
 * input (the op requires pad < kernel, so no window is empty); max takes the
 * largest in-bounds element, average divides by their number. */

/* One output per work-item: (ow, oh, plane = n * C + c); dimension 0 is rounded up. */
__kernel void pool2d(__global const float *x, __global float *y, const int H, const int W, const int OH,
                     const int OW, const int KH, const int KW, const int SH, const int SW, const int PH,
                     const int PW, const int avg)
{
    const int ow = get_global_id(0), oh = get_global_id(1);
    const size_t plane = get_global_id(2);
    if (ow >= OW) return;
    const int h0 = oh * SH - PH, w0 = ow * SW - PW;
    const int hs = max(h0, 0), ws = max(w0, 0), he = min(h0 + KH, H), we = min(w0 + KW, W);
    __global const float *xp = x + plane * H * W;
    float sum = 0.0f, m = -INFINITY;
    for (int h = hs; h < he; h++)
        for (int w = ws; w < we; w++) {
            const float v = xp[(size_t)h * W + w];
            sum += v;
            m = v > m ? v : m;
        }
    y[(plane * OH + oh) * OW + ow] = avg ? sum / ((float)(he - hs) * (float)(we - ws)) : m;
}

/* One plane of HW elements per work-item, float16 along the plane. */
__kernel void global_avgpool(__global const float *x, __global float *y, const ulong planes, const int HW)
{
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
