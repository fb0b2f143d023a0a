/* Device peaks (include/tinycl/peak.h). A run enqueues k identical commands and
 * waits for them, host-timed; k doubles during the warm-up until a run takes at
 * least 20 ms, so launch overhead and timer resolution stay below 1%. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#define MIN_RUN_MS 20.0
#define MAX_K 65536
#define FMA_ITERS 1024    /* loop iterations of peak_fma (64 FMAs each): long kernels, few launches */
#define INT8_ITERS 512    /* loop iterations of peak_int8 (4 x 32 ops each) */
#define READ_BYTES ((size_t)256 << 20)
#define XFER_BYTES ((size_t)64 << 20)
#define LAUNCH_RUNS 100   /* at least this many single launches */

static const char *const names[TC_PEAK_COUNT] = {"f32_fma", "int8_dot", "read_bw", "h2d_bw", "d2h_bw", "launch_us"};

const char *tc_peak_metric_name(tc_peak_metric m) { return m >= 0 && m < TC_PEAK_COUNT ? names[m] : NULL; }

typedef struct {
    tc_ctx *ctx;
    tc_peak_metric metric;
    cl_kernel kernel;
    size_t gws;
    const size_t *lws;
    cl_mem dev, out; /* out: what the kernels write (dev for fma and int8) */
    void *host;
    size_t bytes;
    int width;
    cl_float fb, fc;
    cl_char16 cb, cstep;
} bench;

static tc_status enqueue(bench *b)
{
    cl_int err;
    switch (b->metric) {
    case TC_PEAK_H2D_BW:
        err = clEnqueueWriteBuffer(b->ctx->queue, b->dev, CL_FALSE, 0, b->bytes, b->host, 0, NULL, NULL);
        break;
    case TC_PEAK_D2H_BW:
        err = clEnqueueReadBuffer(b->ctx->queue, b->dev, CL_FALSE, 0, b->bytes, b->host, 0, NULL, NULL);
        break;
    default: err = clEnqueueNDRangeKernel(b->ctx->queue, b->kernel, 1, NULL, &b->gws, b->lws, 0, NULL, NULL);
    }
    return err == CL_SUCCESS ? TC_OK : tc_fail_cl(b->ctx, err, "peak: enqueue");
}

/* Time of k commands, enqueue to completion. */
static tc_status timed(bench *b, int k, double *ms)
{
    double t0 = tc_now_ms();
    tc_status s = TC_OK;
    for (int i = 0; i < k && s == TC_OK; i++) s = enqueue(b);
    cl_int err = clFinish(b->ctx->queue);
    *ms = tc_now_ms() - t0;
    return s != TC_OK ? s : err == CL_SUCCESS ? TC_OK : tc_fail_cl(b->ctx, err, "peak: clFinish");
}

/* Kernel and buffers of one metric; *work is the flops, ops or bytes of one command. */
static tc_status setup(bench *b, int width, double *work)
{
    tc_ctx *ctx = b->ctx;
    const int cpu = ctx->info.type == TC_DEVICE_CPU;
    const size_t cus = ctx->info.compute_units ? ctx->info.compute_units : 1;
    char opts[64];
    snprintf(opts, sizeof opts, "-DW=%d -DCONTIG=%d", b->metric == TC_PEAK_F32_FMA ? width : 1, cpu);
    const char *kname = b->metric == TC_PEAK_F32_FMA    ? "peak_fma"
                        : b->metric == TC_PEAK_INT8_DOT ? "peak_int8"
                        : b->metric == TC_PEAK_READ_BW  ? "peak_read"
                                                        : "peak_empty";
    cl_int err = CL_SUCCESS;
    tc_status s = TC_OK;
    if (b->metric != TC_PEAK_H2D_BW && b->metric != TC_PEAK_D2H_BW &&
        (s = tc_get_kernel(ctx, "peak", opts, kname, &b->kernel)) != TC_OK)
        return s;
    b->gws = cus * 2048;
    static const size_t cpu_group = 64; /* many groups: a core delayed by other work delays less */
    if (cpu && (b->metric == TC_PEAK_F32_FMA || b->metric == TC_PEAK_INT8_DOT)) b->lws = &cpu_group;
    if (b->metric == TC_PEAK_READ_BW) {
        static const size_t one = 1;
        if (cpu) b->gws = cus * 16, b->lws = &one; /* a few long contiguous streams per core, one per group */
        size_t bytes = READ_BYTES;
        if (ctx->info.max_alloc_bytes && bytes > ctx->info.max_alloc_bytes) bytes = ctx->info.max_alloc_bytes;
        if (ctx->info.global_mem_bytes && bytes > ctx->info.global_mem_bytes / 4) bytes = ctx->info.global_mem_bytes / 4;
        const size_t quantum = 64 * 4 * b->gws; /* whole float16 quads per work-item */
        b->bytes = bytes / quantum * quantum;
        if (!b->bytes) return tc_fail(ctx, TC_ERR_UNSUPPORTED, "peak: device memory too small for read_bw");
    } else if (b->metric == TC_PEAK_H2D_BW || b->metric == TC_PEAK_D2H_BW) {
        b->bytes = XFER_BYTES;
        if (ctx->info.max_alloc_bytes && b->bytes > ctx->info.max_alloc_bytes) b->bytes = ctx->info.max_alloc_bytes;
        b->host = aligned_alloc(4096, b->bytes);
        if (!b->host) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "peak: cannot allocate %zu host bytes", b->bytes);
        memset(b->host, 1, b->bytes);
    } else {
        b->bytes = (b->metric == TC_PEAK_LAUNCH_US ? 1 : b->gws) * sizeof(float);
    }
    b->dev = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, b->bytes, NULL, &err);
    if (err != CL_SUCCESS) return tc_fail_cl(ctx, err, "peak: clCreateBuffer");
    if (b->metric == TC_PEAK_READ_BW) {
        const float one = 1.0f; /* the sum of all elements is then their count, which verify() checks */
        err = clEnqueueFillBuffer(ctx->queue, b->dev, &one, sizeof one, 0, b->bytes, 0, NULL, NULL);
        if (err != CL_SUCCESS) return tc_fail_cl(ctx, err, "peak: clEnqueueFillBuffer");
    }
    const cl_int iters = b->metric == TC_PEAK_F32_FMA ? FMA_ITERS : INT8_ITERS;
    const cl_uint n16 = (cl_uint)(b->bytes / 64);
    b->width = width;
    b->fb = 0.999f, b->fc = 0.001f;
    for (int i = 0; i < 16; i++) b->cb.s[i] = (cl_char)(i * 7 - 50), b->cstep.s[i] = (cl_char)(i % 3 + 1);
    b->out = b->dev;
    switch (b->metric) {
    case TC_PEAK_F32_FMA: {
        *work = (double)b->gws * FMA_ITERS * 64 * width * 2;
        cl_float16 vb, vc; /* floatW arguments: the first W lanes */
        for (int i = 0; i < 16; i++) vb.s[i] = b->fb, vc.s[i] = b->fc;
        return tc_set_args(ctx, b->kernel, 4, TC_ARG(b->dev), sizeof(float) * (size_t)width, (const void *)&vb,
                           sizeof(float) * (size_t)width, (const void *)&vc, TC_ARG(iters));
    }
    case TC_PEAK_INT8_DOT:
        *work = (double)b->gws * INT8_ITERS * 4 * 32;
        return tc_set_args(ctx, b->kernel, 4, TC_ARG(b->dev), TC_ARG(b->cb), TC_ARG(b->cstep), TC_ARG(iters));
    case TC_PEAK_READ_BW:
        if ((s = tc_scratch_get(ctx, 0, b->gws * sizeof(float), &b->out)) != TC_OK) return s;
        *work = (double)b->bytes;
        return tc_set_args(ctx, b->kernel, 3, TC_ARG(b->dev), TC_ARG(b->out), TC_ARG(n16));
    case TC_PEAK_LAUNCH_US:
        b->gws = 1;
        *work = 0;
        return tc_set_args(ctx, b->kernel, 1, TC_ARG(b->dev));
    default: *work = (double)b->bytes; return TC_OK;
    }
}

/* What work-item i of peak_fma and peak_int8 writes, computed on the host. */
static double fma_expected(const bench *b, size_t i)
{
    static const float offset[8] = {0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f}; /* as in the kernel */
    double sum = 0;
    for (int j = 0; j < 8; j++) {
        float a = (float)i * 1e-9f + offset[j];
        for (int k = 0; k < FMA_ITERS * 64 / 8; k++) a = fmaf(a, b->fb, b->fc); /* 64 FMAs an iteration, 8 chains */
        sum += a;
    }
    return sum * b->width;
}

static double int8_expected(const bench *b, size_t i)
{
    int64_t sum = 0;
    for (int j = 0; j < 4; j++)
        for (int l = 0; l < 16; l++) {
            int8_t a = (int8_t)((int8_t)i + j);
            for (int k = 0; k < INT8_ITERS; k++, a = (int8_t)(a + b->cstep.s[l])) sum += (int)a * b->cb.s[l];
        }
    return (double)sum;
}

/* Checks the kernels' results after the first run, so a compiler that skipped
 * work (and a figure too good to be true) is caught. */
static tc_status verify(bench *b)
{
    if (b->metric != TC_PEAK_F32_FMA && b->metric != TC_PEAK_INT8_DOT && b->metric != TC_PEAK_READ_BW) return TC_OK;
    const size_t n = b->gws < 64 ? b->gws : 64;
    float got[64];
    cl_int err = clEnqueueReadBuffer(b->ctx->queue, b->out, CL_TRUE, 0, n * sizeof got[0], got, 0, NULL, NULL);
    if (err != CL_SUCCESS) return tc_fail_cl(b->ctx, err, "peak: clEnqueueReadBuffer");
    for (size_t i = 0; i < n; i++) {
        double want = b->metric == TC_PEAK_F32_FMA    ? fma_expected(b, i)
                      : b->metric == TC_PEAK_INT8_DOT ? int8_expected(b, i)
                                                      : (double)(b->bytes / sizeof(float) / b->gws);
        double g = b->metric == TC_PEAK_INT8_DOT ? (double)((const int32_t *)got)[i] : (double)got[i];
        if (!(fabs(g - want) <= 1e-5 * fabs(want)))
            return tc_fail(b->ctx, TC_ERR_CORRUPT, "peak: %s work-item %zu computed %.9g, expected %.9g",
                           tc_peak_metric_name(b->metric), i, g, want);
    }
    return TC_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

tc_status tc_peak_measure(tc_ctx *ctx, tc_peak_metric metric, int width, int runs, tc_peak_result *out)
{
    if (!ctx || !out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_peak_measure: NULL argument");
    memset(out, 0, sizeof *out);
    if (metric < 0 || metric >= TC_PEAK_COUNT)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_peak_measure: invalid metric %d", (int)metric);
    if (metric == TC_PEAK_F32_FMA ? (width < 1 || width > 16 || (width & (width - 1))) : width != 0)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_peak_measure: width %d (f32_fma takes 1, 2, 4, 8 or 16; the "
                       "others 0)", width);
    if (runs < 1 || runs > TC_PEAK_MAX_RUNS)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_peak_measure: runs %d outside 1..%d", runs, TC_PEAK_MAX_RUNS);
    if (ctx->is_ref) return tc_fail(ctx, TC_ERR_UNSUPPORTED, "tc_peak_measure: ref runs no OpenCL kernels");
    if (metric == TC_PEAK_LAUNCH_US && runs < LAUNCH_RUNS) runs = LAUNCH_RUNS;
    bench b = {.ctx = ctx, .metric = metric};
    double work = 0, ms = 0;
    int k = 1;
    tc_status s = setup(&b, width, &work);
    if (s == TC_OK) s = timed(&b, 1, &ms); /* first use: compiles, touches pages */
    if (s == TC_OK) s = verify(&b);
    if (metric == TC_PEAK_LAUNCH_US) {
        for (int i = 0; i < 10 && s == TC_OK; i++) s = timed(&b, 1, &ms);
    } else {
        while (s == TC_OK && k < MAX_K && (s = timed(&b, k, &ms)) == TC_OK && ms < MIN_RUN_MS) k *= 2;
    }
    for (int i = 0; i < runs && s == TC_OK; i++) s = timed(&b, k, &out->samples_ms[i]);
    if (b.dev) clReleaseMemObject(b.dev);
    free(b.host);
    if (s != TC_OK) return s;
    double sorted[TC_PEAK_MAX_RUNS];
    memcpy(sorted, out->samples_ms, (size_t)runs * sizeof sorted[0]);
    qsort(sorted, (size_t)runs, sizeof sorted[0], cmp_double);
    out->metric = metric;
    out->width = width;
    out->runs = runs;
    out->work = work * k;
    if (metric == TC_PEAK_LAUNCH_US) {
        out->unit = "us";
        out->value = 1e3 * (runs % 2 ? sorted[runs / 2] : 0.5 * (sorted[runs / 2 - 1] + sorted[runs / 2]));
    } else {
        out->unit = metric == TC_PEAK_F32_FMA ? "GFLOP/s" : metric == TC_PEAK_INT8_DOT ? "GOP/s" : "GB/s";
        out->value = out->work / sorted[0] * 1e-6;
    }
    return TC_OK;
}
