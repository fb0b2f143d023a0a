/* Pooling on N x C x H x W: validate -> ref on the host or one output per work-item. */
#include <stdio.h>
#include <string.h>

#include "ops/layer.h"
#include "ref/ref.h"

typedef struct {
    int64_t planes, h, w, oh, ow;
    tc_pool2d_params p;
    int avg;
} host_args;

static int host_fn(void *const *in, void *out, const void *args)
{
    const host_args *a = args;
    if (a->oh)
        tc_ref_pool2d(in[0], out, a->planes, a->h, a->w, a->oh, a->ow, &a->p, a->avg);
    else
        tc_ref_global_avgpool(in[0], out, a->planes, a->h * a->w);
    return 0;
}

static tc_status check_io(tc_ctx *ctx, const char *op, const tc_tensor *x, const tc_tensor *y, int y_ndim)
{
    char nx[32], ny[32];
    snprintf(nx, sizeof nx, "%s: x", op);
    snprintf(ny, sizeof ny, "%s: y", op);
    tc_status st = tc_check_tensor(ctx, x, nx, TC_DTYPE_F32, 4);
    if (st == TC_OK) st = tc_check_tensor(ctx, y, ny, TC_DTYPE_F32, y_ndim);
    if (st == TC_OK) st = tc_check_no_alias(ctx, op, y, "y", x, "x");
    return st;
}

/* One spatial axis: window k, stride *s, pad p over n inputs -> *out outputs.
 * Kernels compute in int; the host proves every value they form fits: the padded
 * extent n + 2p is checked, and with one output the stride (then unused) becomes
 * 1, so with more outputs s <= n + 2p - k and p + s stays below the extent too;
 * the rounded-up grid over outputs stays below 2^31. */
static tc_status check_axis(tc_ctx *ctx, const char *op, const char *axis, int64_t n, int k, int *s, int p,
                            int64_t *out)
{
    if (k < 1 || *s < 1 || p < 0 || p >= k)
        return tc_fail(ctx, TC_ERR_INVALID_ARG,
                       "%s: %s window %d, stride %d, pad %d: need window >= 1, stride >= 1, 0 <= pad < window", op,
                       axis, k, *s, p);
    const int64_t span = tc_sat_add(n, 2 * (int64_t)p);
    if (span > TC_CL_INT_MAX)
        return tc_fail(ctx, TC_ERR_OVERFLOW, "%s: padded %s %lld + 2 * %d is beyond 2^31-1", op, axis,
                       (long long)n, p);
    if (span < k)
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: %s window %d is larger than the padded input (%lld + 2 * %d)", op,
                       axis, k, (long long)n, p);
    *out = (span - k) / *s + 1;
    if (*out > TC_CL_EXTENT_MAX) /* the grid over outputs is rounded up */
        return tc_fail(ctx, TC_ERR_OVERFLOW, "%s: %lld outputs along the %s are beyond 2^31-1025", op,
                       (long long)*out, axis);
    if (*out == 1) *s = 1;
    return TC_OK;
}

static tc_status pool2d(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_pool2d_params *p, int avg,
                        tc_variant v)
{
    const char *op = avg ? "avgpool2d" : "maxpool2d";
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: ctx is NULL", op);
    tc_status st = check_io(ctx, op, x, y, 4);
    if (st != TC_OK) return st;
    if (!p) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: params is NULL", op);
    host_args a = {x->dims[0] * x->dims[1], x->dims[2], x->dims[3], 0, 0, *p, avg};
    if ((st = check_axis(ctx, op, "height", a.h, p->kernel_h, &a.p.stride_h, p->pad_h, &a.oh)) != TC_OK) return st;
    if ((st = check_axis(ctx, op, "width", a.w, p->kernel_w, &a.p.stride_w, p->pad_w, &a.ow)) != TC_OK) return st;
    if (y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1] || y->dims[2] != a.oh || y->dims[3] != a.ow) {
        char dy[96];
        tc_dims_str(y, dy, sizeof dy);
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: y is %s, expected %lldx%lldx%lldx%lld", op, dy, (long long)x->dims[0],
                       (long long)x->dims[1], (long long)a.oh, (long long)a.ow);
    }
    if ((st = tc_layer_variant(ctx, op, v, TC_VARIANT_CPU, &v)) != TC_OK) return st;
    const double window = (double)p->kernel_h * p->kernel_w, outs = (double)y->numel;
    tc_op_begin(ctx);
    if (v == TC_VARIANT_REF) {
        st = tc_host_run(ctx, 1, &x, y, host_fn, &a);
    } else {
        cl_kernel k;
        cl_mem mx = tc_buf(x), my = tc_buf(y);
        cl_int h = (cl_int)a.h, w = (cl_int)a.w, oh = (cl_int)a.oh, ow = (cl_int)a.ow, av = avg;
        const int rows = v == TC_VARIANT_CPU;
        st = tc_get_kernel(ctx, "pool", "", rows ? "pool2d_rows" : "pool2d", &k);
        if (st == TC_OK)
            st = tc_set_args(ctx, k, 13, TC_ARG(mx), TC_ARG(my), TC_ARG(h), TC_ARG(w), TC_ARG(oh), TC_ARG(ow),
                             TC_ARG(a.p.kernel_h), TC_ARG(a.p.kernel_w), TC_ARG(a.p.stride_h), TC_ARG(a.p.stride_w),
                             TC_ARG(a.p.pad_h), TC_ARG(a.p.pad_w), TC_ARG(av));
        /* dimension 0 (columns, or rows for the row kernel) rounded up */
        size_t gws[3] = {((size_t)(rows ? a.oh : a.ow) + 15) / 16 * 16, (size_t)(rows ? a.planes : a.oh),
                         (size_t)a.planes};
        if (st == TC_OK) st = tc_launch(ctx, k, rows ? "pool2d_rows" : "pool2d", rows ? 2 : 3, gws, NULL);
    }
    return tc_op_end(ctx, op, v, outs * window, 4.0 * ((double)x->numel + outs), st);
}

tc_status tc_maxpool2d(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_pool2d_params *p)
{
    return pool2d(ctx, x, y, p, 0, TC_VARIANT_AUTO);
}

tc_status tc_avgpool2d(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_pool2d_params *p)
{
    return pool2d(ctx, x, y, p, 1, TC_VARIANT_AUTO);
}

static tc_status global_avgpool(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, tc_variant v)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "global_avgpool: ctx is NULL");
    tc_status st = check_io(ctx, "global_avgpool", x, y, 2);
    if (st != TC_OK) return st;
    if (y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1]) {
        char dy[96];
        tc_dims_str(y, dy, sizeof dy);
        return tc_fail(ctx, TC_ERR_SHAPE, "global_avgpool: y is %s, expected %lldx%lld", dy, (long long)x->dims[0],
                       (long long)x->dims[1]);
    }
    host_args a = {x->dims[0] * x->dims[1], x->dims[2], x->dims[3], 0, 0, {0, 0, 0, 0, 0, 0}, 1};
    if (!ctx->is_ref && a.h * a.w > TC_CL_INT_MAX)
        return tc_fail(ctx, TC_ERR_OVERFLOW, "global_avgpool: planes of %lldx%lld are beyond 2^31-1 on OpenCL",
                       (long long)a.h, (long long)a.w);
    if ((st = tc_layer_variant(ctx, "global_avgpool", v, TC_VARIANT_AUTO, &v)) != TC_OK) return st;
    tc_op_begin(ctx);
    if (v == TC_VARIANT_REF) {
        st = tc_host_run(ctx, 1, &x, y, host_fn, &a);
    } else {
        cl_kernel k;
        cl_mem mx = tc_buf(x), my = tc_buf(y);
        cl_ulong planes = (cl_ulong)a.planes;
        cl_int hw = (cl_int)(a.h * a.w);
        st = tc_get_kernel(ctx, "pool", "", "global_avgpool", &k);
        if (st == TC_OK) st = tc_set_args(ctx, k, 4, TC_ARG(mx), TC_ARG(my), TC_ARG(planes), TC_ARG(hw));
        if (st == TC_OK) st = tc_launch_1d(ctx, k, "global_avgpool", (size_t)a.planes);
    }
    return tc_op_end(ctx, "global_avgpool", v, (double)x->numel, 4.0 * ((double)x->numel + (double)y->numel), st);
}

tc_status tc_global_avgpool(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y)
{
    return global_avgpool(ctx, x, y, TC_VARIANT_AUTO);
}

/* ---- descriptors: maxpool2d, avgpool2d, global_avgpool ----------------------
 * case v[]: avg, n, c, h, w, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
 * global_avgpool: kernel_h == 0. Windows overlap, skip inputs, hang over every edge. */
static const tc_variant pool2d_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL, TC_VARIANT_CPU};
static const tc_variant global_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL};

#define POOL_CASES(avg)                                                                                         \
    {{avg, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}}, {{avg, 2, 3, 17, 17, 3, 3, 2, 2, 1, 1}},                            \
        {{avg, 1, 4, 7, 9, 2, 3, 2, 1, 1, 2}}, {{avg, 1, 3, 127, 5, 5, 1, 3, 1, 2, 0}},                        \
        {{avg, 1, 16, 56, 56, 3, 3, 2, 2, 1, 1}}, {{avg, 2, 1, 13, 11, 13, 11, 1, 1, 0, 0}},                   \
        {{avg, 1, 2, 10, 10, 4, 4, 3, 3, 3, 3}}, {{avg, 1, 1, 1, 1000, 1, 7, 1, 5, 0, 6}},                     \
        {{avg, 3, 5, 8, 8, 2, 2, 2, 2, 0, 0}}, {{avg, 1, 1, 3, 3, 3, 3, 5, 5, 2, 2}}
static const tc_case maxpool2d_cases[] = {POOL_CASES(0)};
static const tc_case avgpool2d_cases[] = {POOL_CASES(1)};
static const tc_case global_avgpool_cases[] = {
    {{1, 1, 1, 1, 1}}, {{1, 2, 3, 7, 7}}, {{1, 1, 17, 1, 127}}, {{1, 3, 5, 17, 3}}, {{1, 1, 64, 56, 56}},
    {{1, 2, 1000, 1, 1}},
};

static tc_pool2d_params case_params(const tc_case *c)
{
    tc_pool2d_params p = {(int)c->v[5], (int)c->v[6], (int)c->v[7], (int)c->v[8], (int)c->v[9], (int)c->v[10]};
    return p;
}

static void pool_describe(const tc_case *c, char *buf, size_t n)
{
    int len = snprintf(buf, n, "%lldx%lldx%lldx%lld", (long long)c->v[1], (long long)c->v[2], (long long)c->v[3],
                       (long long)c->v[4]);
    if (c->v[5] && len >= 0 && (size_t)len < n)
        snprintf(buf + len, n - (size_t)len, " k%lldx%lld s%lldx%lld p%lldx%lld", (long long)c->v[5],
                 (long long)c->v[6], (long long)c->v[7], (long long)c->v[8], (long long)c->v[9],
                 (long long)c->v[10]);
}

static void pool_json(const tc_case *c, char *buf, size_t n)
{
    snprintf(buf, n, "{\"n\":%lld,\"c\":%lld,\"h\":%lld,\"w\":%lld,\"kernel\":[%lld,%lld],\"stride\":[%lld,%lld],"
                     "\"pad\":[%lld,%lld]}",
             (long long)c->v[1], (long long)c->v[2], (long long)c->v[3], (long long)c->v[4], (long long)c->v[5],
             (long long)c->v[6], (long long)c->v[7], (long long)c->v[8], (long long)c->v[9], (long long)c->v[10]);
}

/* "NxCxHxW" then square window, stride, pad: "1x64x56x56x3x2x1" (window 2, stride = window, pad 0 by default) */
static int parse_pool(const char *spec, tc_case *c, int avg, int global)
{
    int64_t d[7] = {0, 0, 0, 0, 2, 0, 0};
    int n = tc_parse_dims(spec, d, global ? 4 : 7);
    if (n < 4) return -1;
    if (n < 6) d[5] = d[4];
    const int64_t v[11] = {avg, d[0], d[1], d[2], d[3], global ? 0 : d[4], global ? 0 : d[4], d[5], d[5], d[6], d[6]};
    memset(c, 0, sizeof *c);
    memcpy(c->v, v, sizeof v);
    return 0;
}
static int maxpool2d_parse(const char *spec, tc_case *c) { return parse_pool(spec, c, 0, 0); }
static int avgpool2d_parse(const char *spec, tc_case *c) { return parse_pool(spec, c, 1, 0); }
static int global_avgpool_parse(const char *spec, tc_case *c) { return parse_pool(spec, c, 1, 1); }

static tc_status pool_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t dx[4] = {cs->v[1], cs->v[2], cs->v[3], cs->v[4]};
    const tc_pool2d_params p = case_params(cs);
    host_args a = {dx[0] * dx[1], dx[2], dx[3], 0, 0, p, (int)cs->v[0]};
    if (p.kernel_h) { /* a bad case is left to the op to reject */
        a.oh = p.stride_h > 0 ? (dx[2] + 2 * p.pad_h - p.kernel_h) / p.stride_h + 1 : 1;
        a.ow = p.stride_w > 0 ? (dx[3] + 2 * p.pad_w - p.kernel_w) / p.stride_w + 1 : 1;
    }
    const int64_t dy[4] = {dx[0], dx[1], a.oh > 0 ? a.oh : 1, a.ow > 0 ? a.ow : 1};
    float *x;
    d->cs = *cs;
    tc_status s = tc_layer_input(ctx, d, 4, dx, -1.0f, 1.0f, &seed, &x);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, p.kernel_h ? 4 : 2, dy, &seed);
    if (s == TC_OK && (!p.kernel_h || (a.oh > 0 && a.ow > 0))) host_fn(d->host_in, d->expected, &a);
    return s;
}

static tc_status pool_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    if (!d->cs.v[5]) return global_avgpool(ctx, d->in[0], d->out, v);
    const tc_pool2d_params p = case_params(&d->cs);
    return pool2d(ctx, d->in[0], d->out, &p, (int)d->cs.v[0], v);
}

static double pool_outputs(const tc_case *c)
{
    if (!c->v[5]) return (double)c->v[1] * (double)c->v[2];
    return (double)c->v[1] * (double)c->v[2] * (double)((c->v[3] + 2 * c->v[9] - c->v[5]) / c->v[7] + 1) *
           (double)((c->v[4] + 2 * c->v[10] - c->v[6]) / c->v[8] + 1);
}
static double pool_flops(const tc_case *c)
{
    return c->v[5] ? pool_outputs(c) * (double)(c->v[5] * c->v[6])
                   : (double)c->v[1] * (double)c->v[2] * (double)c->v[3] * (double)c->v[4];
}
static double pool_bytes(const tc_case *c)
{
    return 4.0 * ((double)c->v[1] * (double)c->v[2] * (double)c->v[3] * (double)c->v[4] + pool_outputs(c));
}

/* max is exact; averages are float sums against double */
#define POOL_DESC(name, variants, tol)                                                                         \
    const tc_opdesc tc_opdesc_##name = {                                                                      \
        #name,        variants,     (int)(sizeof variants / sizeof variants[0]),                              \
        name##_cases, (int)(sizeof name##_cases / sizeof name##_cases[0]),                                    \
        pool_describe, pool_json,   name##_parse,                                                             \
        pool_setup,   pool_run,     pool_flops,                                                               \
        pool_bytes,   TC_METRIC_MAXREL, tol,                                                                  \
    }
POOL_DESC(maxpool2d, pool2d_variants, 0.0);
POOL_DESC(avgpool2d, pool2d_variants, 1e-5);
POOL_DESC(global_avgpool, global_variants, 1e-5);
