/* Layer normalization over the last dimension D:
 * y = (x - mean) / sqrt(var + eps) * gamma + beta. Deviations are taken from the
 * row's first element, t = x - x[0], so that x - mean = t - mean(t) keeps its
 * digits when |mean| is large against the spread (mean rounded to float would
 * not); the variance comes from a second pass. y may be x: every element is read
 * before the work-item that owns it writes it.
 *   layernorm_rows: one work-item per row, float16 along the row (CPUs).
 *   layernorm_wg:   one work-group of WG (a power of two) per row, local-memory
 *                   reductions (GPUs). */
#ifndef WG
#define WG 256
#endif

inline float hsum16(float16 v)
{
    const float4 t = (v.s0123 + v.s4567) + (v.s89ab + v.scdef);
    return (t.x + t.y) + (t.z + t.w);
}

/* Sum over the row of ((x - shift) - c)^p, p = 1 or 2. */
inline float row_sum(__global const float *xr, const int D, const float shift, const float c, const int p)
{
    const int D16 = D & ~15;
    float16 s16 = (float16)(0.0f);
    for (int j = 0; j < D16; j += 16) {
        const float16 t = (vload16(0, xr + j) - shift) - c;
        s16 += p == 2 ? t * t : t;
    }
    float s = hsum16(s16);
    for (int j = D16; j < D; j++) {
        const float t = (xr[j] - shift) - c;
        s += p == 2 ? t * t : t;
    }
    return s;
}

__kernel void layernorm_rows(__global const float *x, const ulong xo, __global const float *gamma, const ulong go,
                             __global const float *beta, const ulong bo, __global float *y, const ulong yo,
                             const int rows, const int D, const float eps)
{
    x += xo;
    gamma += go;
    beta += bo;
    y += yo;
    const int r = get_global_id(0);
    if (r >= rows) return;
    __global const float *xr = x + (size_t)r * D;
    __global float *yr = y + (size_t)r * D;
    const float shift = xr[0];
    const float mean = row_sum(xr, D, shift, 0.0f, 1) / D; /* of t */
    const float inv = rsqrt(row_sum(xr, D, shift, mean, 2) / D + eps);
    const int D16 = D & ~15;
    for (int j = 0; j < D16; j += 16) {
        const float16 t = (vload16(0, xr + j) - shift) - mean;
        vstore16(t * inv * vload16(0, gamma + j) + vload16(0, beta + j), 0, yr + j);
    }
    for (int j = D16; j < D; j++) yr[j] = ((xr[j] - shift) - mean) * inv * gamma[j] + beta[j];
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void layernorm_wg(
    __global const float *x, const ulong xo, __global const float *gamma, const ulong go, __global const float *beta,
    const ulong bo, __global float *y, const ulong yo, const int rows, const int D, const float eps)
{
    x += xo;
    gamma += go;
    beta += bo;
    y += yo;
    __local float red[WG];
    const int l = get_local_id(0);
    __global const float *xr = x + (size_t)get_group_id(0) * D;
    __global float *yr = y + (size_t)get_group_id(0) * D;
    const float shift = xr[0];
    float s = 0.0f;
    for (int j = l; j < D; j += WG) s += xr[j] - shift;
    const float mean = group_sum(red, s) / D; /* of t */
    float q = 0.0f;
    for (int j = l; j < D; j += WG) {
        const float t = (xr[j] - shift) - mean;
        q += t * t;
    }
    const float inv = rsqrt(group_sum(red, q) / D + eps);
    for (int j = l; j < D; j += WG) yr[j] = ((xr[j] - shift) - mean) * inv * gamma[j] + beta[j];
}
