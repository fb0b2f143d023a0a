/* y[r] = index of the largest x[r, :]: the first on ties, NaN never wins (an
 * all-NaN row gives 0). One row per work-item. */
__kernel void argmax(__global const float *x, __global int *y, const int rows, const int D)
{
    const int r = get_global_id(0);
    if (r >= rows) return;
    __global const float *xr = x + (size_t)r * D;
    int best = -1;
    float m = 0.0f;
    for (int j = 0; j < D; j++) {
        const float v = xr[j];
        if (!isnan(v) && (best < 0 || v > m)) {
            best = j;
            m = v;
        }
    }
    y[r] = max(best, 0);
}
