/* y[i, :] = table[ids[i], :]; ids were checked on the host to lie in [0, V).
 * Work-item (j, i) copies VW floats of row i from column j * VW (16 on CPUs, 4
 * on GPUs), the last partial vector one by one. */
#ifndef VW
#define VW 16
#endif
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

__kernel void embedding(__global const float *table, const ulong to, __global const int *ids, const ulong io,
                        __global float *y, const ulong yo, const int D)
{
    table += to;
    ids += io;
    y += yo;
    const int j = get_global_id(0) * VW;
    const size_t i = get_global_id(1);
    __global const float *src = table + (size_t)ids[i] * D;
    __global float *dst = y + i * D;
    if (j + VW <= D)
        CAT(vstore, VW)(CAT(vload, VW)(0, src + j), 0, dst + j);
    else
        for (int q = j; q < D; q++) dst[q] = src[q];
}
