/* y[r] = index of the largest x[r, :]: the first on ties, NaN never wins (an
 * all-NaN row gives 0); with `values`, values[r] = x[r, y[r]]. One row per work-item: 16 lanes each keep their own
 * first maximum over a float16 sweep, then the lanes are merged. */
#define NONE INT_MAX

/* Folds (v, j) into the best (m, b) so far; b == NONE: nothing yet. */
inline void take(float *m, int *b, const float v, const int j)
{
    if (!isnan(v) && (*b == NONE || v > *m || (v == *m && j < *b))) {
        *m = v;
        *b = j;
    }
}

__kernel void argmax_rows(__global const float *x, const ulong xo, __global int *y, const ulong yo, const int rows,
                          const int D, __global float *values, const ulong vo, const int has_values)
{
    x += xo;
    y += yo;
    const int r = get_global_id(0);
    if (r >= rows) return;
    __global const float *xr = x + (size_t)r * D;
    const int D16 = D & ~15;
    float16 m16 = (float16)(0.0f);
    int16 b16 = (int16)(NONE);
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int j = 0; j < D16; j += 16) {
        const float16 v = vload16(0, xr + j);
        /* vector comparisons give -1 (true) or 0 per lane */
        const int16 t = isgreater(v, m16) | ((b16 == (int16)(NONE)) & isordered(v, v));
        m16 = select(m16, v, t);
        b16 = select(b16, lane + j, t);
    }
    float m = 0.0f;
    int b = NONE;
    float mv[16];
    int bv[16];
    vstore16(m16, 0, mv);
    vstore16(b16, 0, bv);
    for (int q = 0; q < 16; q++)
        if (bv[q] != NONE) take(&m, &b, mv[q], bv[q]);
    for (int j = D16; j < D; j++) take(&m, &b, xr[j], j);
    if (b == NONE) b = 0;
    y[r] = b;
    if (has_values) values[vo + r] = xr[b];
}
