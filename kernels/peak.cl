/* Device peaks for `tinycl peak`: f32 FMA throughput per vector width, int8 dot
 * products, global-memory read bandwidth and an empty kernel for launch latency.
 * Each loop carries enough independent chains to hide the latency of one FMA
 * (or multiply-add) on two pipes, and every result reaches memory so the
 * compiler keeps the work. Built with -DW=<floats per vector> for peak_fma and
 * -DCONTIG=1 (CPUs: one contiguous chunk per work-item) or 0 (GPUs: coalesced). */

#ifndef W
#define W 1
#endif
#ifndef CONTIG
#define CONTIG 0
#endif

#if W == 1
#define VT float
#define SUM(v) (v)
#elif W == 2
#define VT float2
#define SUM(v) ((v).s0 + (v).s1)
#elif W == 4
#define VT float4
#define SUM(v) ((v).s0 + (v).s1 + (v).s2 + (v).s3)
#elif W == 8
#define VT float8
#define SUM(v) (SUM4((v).lo) + SUM4((v).hi))
#elif W == 16
#define VT float16
#define SUM(v) (SUM4((v).lo.lo) + SUM4((v).lo.hi) + SUM4((v).hi.lo) + SUM4((v).hi.hi))
#endif
#define SUM4(v) ((v).s0 + (v).s1 + (v).s2 + (v).s3)

#define FMA8(b, c)                                                                                            \
    a0 = fma(a0, b, c), a1 = fma(a1, b, c), a2 = fma(a2, b, c), a3 = fma(a3, b, c), a4 = fma(a4, b, c),     \
    a5 = fma(a5, b, c), a6 = fma(a6, b, c), a7 = fma(a7, b, c)

/* 64 FMAs of W lanes per iteration: 8 chains, unrolled 8 times */
__kernel void peak_fma(__global float *out, const VT vb, const VT vc, int iters)
{
    VT a0 = (VT)((float)get_global_id(0) * 1e-9f), a1 = a0 + 0.1f, a2 = a0 + 0.2f, a3 = a0 + 0.3f;
    VT a4 = a0 + 0.4f, a5 = a0 + 0.5f, a6 = a0 + 0.6f, a7 = a0 + 0.7f;
    for (int i = 0; i < iters; i++) {
        FMA8(vb, vc);
        FMA8(vb, vc);
        FMA8(vb, vc);
        FMA8(vb, vc);
        FMA8(vb, vc);
        FMA8(vb, vc);
        FMA8(vb, vc);
        FMA8(vb, vc);
    }
    out[get_global_id(0)] = SUM(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
}

/* 8-bit products summed in pairs into 32-bit lanes (the shape of a widening
 * dot-product instruction): 4 chains of 16 multiplies and 16 adds per step.
 * The inputs change every step (one char16 add, not counted) so nothing is hoisted. */
#define DOT16(acc, a, b)                                                                                      \
    do {                                                                                                      \
        const short16 x = convert_short16(a), y = convert_short16(b);                                         \
        acc += convert_int8(x.even) * convert_int8(y.even) + convert_int8(x.odd) * convert_int8(y.odd);       \
    } while (0)

__kernel void peak_int8(__global int *out, char16 b, char16 step, int iters)
{
    char16 a0 = (char16)((char)get_global_id(0)), a1 = a0 + (char)1, a2 = a0 + (char)2, a3 = a0 + (char)3;
    int8 s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int i = 0; i < iters; i++) {
        DOT16(s0, a0, b);
        DOT16(s1, a1, b);
        DOT16(s2, a2, b);
        DOT16(s3, a3, b);
        a0 += step, a1 += step, a2 += step, a3 += step;
    }
    const int8 s = s0 + s1 + s2 + s3;
    out[get_global_id(0)] = SUM4(s.lo) + SUM4(s.hi);
}

/* Sums n float16 (a multiple of 4 x the work-items): contiguous chunks or a
 * grid-stride loop. */
__kernel void peak_read(__global const float16 *x, __global float *out, uint n)
{
    const uint gid = get_global_id(0), items = get_global_size(0);
    float16 s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#if CONTIG
    const uint seg = n / items / 4; /* four streams in parallel, as a CPU's prefetchers like */
    __global const float16 *p = x + (size_t)gid * 4 * seg;
    for (uint i = 0; i < seg; i++) {
        s0 += p[i];
        s1 += p[i + seg];
        s2 += p[i + 2 * seg];
        s3 += p[i + 3 * seg];
    }
#else
    for (uint i = gid; i < n; i += 4 * items) {
        s0 += x[i];
        s1 += x[i + items];
        s2 += x[i + 2 * items];
        s3 += x[i + 3 * items];
    }
#endif
    const float16 s = s0 + s1 + s2 + s3;
    out[gid] = SUM4(s.lo.lo) + SUM4(s.lo.hi) + SUM4(s.hi.lo) + SUM4(s.hi.hi);
}

__kernel void peak_empty(__global float *out)
{
    if (get_global_id(0) == 0xFFFFFFFFu) out[0] = 0.0f;
}
