#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/host.h"
#include "ops/layer.h"

tc_status tc_layer_variant(tc_ctx *ctx, const char *op, tc_variant v, tc_variant alt, tc_variant *out)
{
    if (v < 0 || v >= TC_VARIANT_COUNT) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: invalid variant %d", op, (int)v);
    if (v == TC_VARIANT_AUTO) {
        const int cpu = ctx->info.type == TC_DEVICE_CPU;
        v = ctx->is_ref ? TC_VARIANT_REF
            : (alt == TC_VARIANT_CPU && cpu) || (alt == TC_VARIANT_GPU && !cpu) ? alt
                                                                                : TC_VARIANT_OPENCL;
    }
    if (v != TC_VARIANT_REF && v != TC_VARIANT_OPENCL && (v != alt || alt == TC_VARIANT_AUTO))
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "%s has no variant '%s'", op, tc_variant_name(v));
    if (ctx->is_ref && v != TC_VARIANT_REF)
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "%s: variant '%s' needs an OpenCL device", op, tc_variant_name(v));
    *out = v;
    return TC_OK;
}

void tc_dims_str(const tc_tensor *t, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", i ? "x" : "", (long long)t->dims[i]);
}

tc_status tc_check_same_dims(tc_ctx *ctx, const char *op, const tc_tensor *a, const char *an, const tc_tensor *b,
                             const char *bn)
{
    int same = a->ndim == b->ndim;
    for (int i = 0; same && i < a->ndim; i++) same = a->dims[i] == b->dims[i];
    if (same) return TC_OK;
    char da[96], db[96];
    tc_dims_str(a, da, sizeof da);
    tc_dims_str(b, db, sizeof db);
    return tc_fail(ctx, TC_ERR_SHAPE, "%s: %s is %s, expected %s (the dims of %s)", op, bn, db, da, an);
}

tc_status tc_check_no_alias(tc_ctx *ctx, const char *op, const tc_tensor *y, const char *yn, const tc_tensor *x,
                            const char *xn)
{
    if (tc_tensors_overlap(x, y))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: %s must not share storage with %s (their elements overlap)", op, yn, xn);
    return TC_OK;
}

tc_status tc_rows_of(tc_ctx *ctx, const char *op, const tc_tensor *t, int64_t *rows, int64_t *d)
{
    *d = t->dims[t->ndim - 1];
    *rows = t->numel / *d;
    if (!ctx->is_ref && (*rows > TC_CL_EXTENT_MAX || *d > TC_CL_EXTENT_MAX))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "%s: %lld rows of %lld are beyond 2^31-1025 on OpenCL", op,
                       (long long)*rows, (long long)*d);
    return TC_OK;
}

tc_status tc_host_run(tc_ctx *ctx, int nin, const tc_tensor *const *in, tc_tensor *out, tc_host_fn fn,
                      const void *args)
{
    void *h[TC_OP_MAX_IN] = {NULL}, *o = NULL;
    if (nin > TC_OP_MAX_IN) return tc_fail(ctx, TC_ERR_INVALID_ARG, "too many inputs");
    tc_status st = TC_OK;
    for (int i = 0; i < nin && st == TC_OK; i++) st = tc_host_get(in[i], &h[i]);
    if (st == TC_OK) st = tc_host_out(out, 0, &o);
    if (st == TC_OK && fn(h, o, args) != 0) {
        tc_host_put(out, o);
        st = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    } else if (st == TC_OK) {
        st = tc_host_commit(out, o);
    }
    for (int i = 0; i < nin; i++) tc_host_put(in[i], h[i]);
    return st;
}

tc_status tc_launch_1d(tc_ctx *ctx, cl_kernel k, const char *name, size_t items)
{
    size_t gws[1] = {(items + 63) / 64 * 64};
    return tc_launch(ctx, k, name, 1, gws, NULL);
}

/* The GPU row kernels' work-group: the table's, or the device's largest power of two below. */
static size_t row_group(tc_ctx *ctx)
{
    size_t wg = (size_t)ctx->params.rows.wg;
    while (wg > 1 && wg > ctx->info.max_work_group) wg /= 2;
    if (wg != (size_t)ctx->params.rows.wg)
        tc_param_note(ctx, &ctx->params.rows.wg, "%zu: the device's max work-group is %zu", wg,
                      ctx->info.max_work_group);
    return wg;
}

tc_status tc_row_kernel(tc_ctx *ctx, const char *program, tc_variant v, cl_kernel *k)
{
    char opts[32], name[64];
    snprintf(name, sizeof name, "%s_%s", program, v == TC_VARIANT_GPU ? "wg" : "rows");
    /* the *_wg kernels are built for their group size: rebuilt smaller if the kernel takes less */
    for (size_t wg = row_group(ctx);; wg /= 2) {
        snprintf(opts, sizeof opts, "-DWG=%zu", wg);
        tc_status st = tc_get_kernel(ctx, program, opts, name, k);
        if (st != TC_OK || v != TC_VARIANT_GPU || wg == 1) return st;
        const size_t max = tc_kernel_wg_max(ctx, *k);
        if (wg <= max) return TC_OK;
        tc_param_note(ctx, &ctx->params.rows.wg, "%zu: CL_KERNEL_WORK_GROUP_SIZE of %s is %zu", wg / 2, name, max);
    }
}

tc_status tc_row_launch(tc_ctx *ctx, cl_kernel k, const char *program, tc_variant v, int64_t rows)
{
    if (v != TC_VARIANT_GPU) return tc_launch_1d(ctx, k, program, (size_t)rows);
    size_t wg[3] = {0, 0, 0}; /* the size the kernel was built for (reqd_work_group_size) */
    cl_int err = clGetKernelWorkGroupInfo(k, ctx->dev, CL_KERNEL_COMPILE_WORK_GROUP_SIZE, sizeof wg, wg, NULL);
    if (err != CL_SUCCESS) return tc_fail_cl(ctx, err, "clGetKernelWorkGroupInfo");
    size_t lws[1] = {wg[0] ? wg[0] : row_group(ctx)}, gws[1] = {(size_t)rows * lws[0]};
    return tc_launch(ctx, k, program, 1, gws, lws);
}

tc_status tc_row_run(tc_ctx *ctx, const char *program, tc_variant v, const tc_tensor *x, tc_tensor *y, tc_host_fn fn,
                     const tc_row_args *a)
{
    if (v == TC_VARIANT_REF) return tc_host_run(ctx, 1, &x, y, fn, a);
    cl_kernel k;
    cl_mem mx = tc_buf(x), my = tc_buf(y);
    cl_ulong xo = tc_off(x), yo = tc_off(y);
    cl_int rows = (cl_int)a->rows, d = (cl_int)a->d;
    tc_status st = tc_row_kernel(ctx, program, v, &k);
    if (st == TC_OK)
        st = tc_set_args(ctx, k, 6, TC_ARG(mx), TC_ARG(xo), TC_ARG(my), TC_ARG(yo), TC_ARG(rows), TC_ARG(d));
    return st == TC_OK ? tc_row_launch(ctx, k, program, v, a->rows) : st;
}

tc_status tc_layer_input(tc_ctx *ctx, tc_opdata *d, int ndim, const int64_t *dims, float lo, float hi,
                         uint64_t *seed, float **host)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    float *h = malloc((size_t)n * sizeof *h);
    *host = h;
    if (!h) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    tc_rand_f32(h, (size_t)n, lo, hi, seed);
    return tc_opdata_input(ctx, d, TC_DTYPE_F32, ndim, dims, h);
}

int tc_parse_dims(const char *spec, int64_t *v, int max)
{
    int n = 0;
    const char *p = spec;
    for (;;) {
        char *end;
        long long x = strtoll(p, &end, 10);
        if (end == p || x < 0 || n == max) return -1;
        v[n++] = x;
        if (*end == '\0') return n;
        if (*end != 'x') return -1;
        p = end + 1;
    }
}

int tc_rows_parse(const char *spec, tc_case *c)
{
    int64_t v[2];
    memset(c, 0, sizeof *c);
    if (tc_parse_dims(spec, v, 2) != 2) return -1;
    tc_case_set(c, "rows", (double)v[0]);
    return tc_case_set(c, "d", (double)v[1]);
}
