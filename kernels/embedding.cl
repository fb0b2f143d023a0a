/* y[i, :] = table[ids[i], :]; ids were checked on the host to lie in [0, V).
 * Work-items (j, i): consecutive j copy consecutive floats of a row. */
__kernel void embedding(__global const float *table, __global const int *ids, __global float *y, const int D)
{
    const int j = get_global_id(0);
    const size_t i = get_global_id(1);
    if (j < D) y[i * D + j] = table[(size_t)ids[i] * D + j];
}
