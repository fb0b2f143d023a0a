/* Pooling on N x C x H x W: validate -> ref on the host or one output per work-item. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/layer.h"
#include "ref/ref.h"

typedef struct {
    int64_t planes, h, w, oh, ow;
    tc_pool2d_params p;
    int avg;
    tc_dtype q8; /* s8 or u8 maxpool; 0 (f32) otherwise */
} host_args;

static int host_fn(void *const *in, void *out, const void *args)
{
    const host_args *a = args;
    if (a->q8)
        tc_ref_maxpool2d_q(in[0], out, a->q8 == TC_DTYPE_S8, a->planes, a->h, a->w, a->oh, a->ow, &a->p);
    else if (a->oh)
        tc_ref_pool2d(in[0], out, a->planes, a->h, a->w, a->oh, a->ow, &a->p, a->avg);
    else
        tc_ref_global_avgpool(in[0], out, a->planes, a->h * a->w);
    return 0;
}

/* f32 x and y; with q8, x may be s8 or u8 (y the same, with x's quantization or none). */
static tc_status check_io(tc_ctx *ctx, const char *op, const tc_tensor *x, const tc_tensor *y, int y_ndim, int q8)
{
    char nx[32], ny[32];
    snprintf(nx, sizeof nx, "%s: x", op);
    snprintf(ny, sizeof ny, "%s: y", op);
    const tc_dtype dt = q8 && x && (x->dtype == TC_DTYPE_S8 || x->dtype == TC_DTYPE_U8) ? x->dtype : TC_DTYPE_F32;
    tc_status st = tc_check_tensor(ctx, x, nx, dt, 4);
    if (st == TC_OK) st = tc_check_tensor(ctx, y, ny, dt, y_ndim);
    if (st == TC_OK) st = tc_check_no_alias(ctx, op, y, "y", x, "x");
    tc_quant qx, qy;
    if (st != TC_OK || dt == TC_DTYPE_F32 || tc_tensor_quant(x, &qx) != TC_OK || tc_tensor_quant(y, &qy) != TC_OK ||
        !qy.count)
        return st;
    int same = qx.count == qy.count && qx.axis == qy.axis;
    for (int64_t i = 0; same && i < qx.count; i++)
        same = qx.scale[i] == qy.scale[i] && qx.zero_point[i] == qy.zero_point[i];
    return same ? TC_OK
                : tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: y's quantization differs from x's, which the max keeps", op);
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

/* Both axes (strides that leave one output become 1); ctx NULL puts the message in
 * the thread's error. */
static tc_status out_dims(tc_ctx *ctx, const char *op, tc_pool2d_params *p, int64_t h, int64_t w, int64_t *oh,
                          int64_t *ow)
{
    tc_status st = check_axis(ctx, op, "height", h, p->kernel_h, &p->stride_h, p->pad_h, oh);
    return st == TC_OK ? check_axis(ctx, op, "width", w, p->kernel_w, &p->stride_w, p->pad_w, ow) : st;
}

tc_status tc_pool2d_out_dims(const tc_pool2d_params *p, int64_t h, int64_t w, int64_t *oh, int64_t *ow)
{
    if (!p || !oh || !ow) return tc_fail(NULL, TC_ERR_INVALID_ARG, "pool2d: params, oh or ow is NULL");
    if (h < 1 || w < 1) return tc_fail(NULL, TC_ERR_SHAPE, "pool2d: input %lldx%lld must be at least 1x1", (long long)h,
                                       (long long)w);
    tc_pool2d_params q = *p;
    return out_dims(NULL, "pool2d", &q, h, w, oh, ow);
}

static tc_status pool2d(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_pool2d_params *p, int avg,
                        tc_variant v)
{
    const char *op = avg ? "avgpool2d" : "maxpool2d";
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: ctx is NULL", op);
    tc_status st = check_io(ctx, op, x, y, 4, !avg);
    if (st != TC_OK) return st;
    if (!p) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: params is NULL", op);
    const tc_dtype q8 = x->dtype == TC_DTYPE_F32 ? TC_DTYPE_F32 : x->dtype;
    host_args a = {x->dims[0] * x->dims[1], x->dims[2], x->dims[3], 0, 0, *p, avg, q8};
    if ((st = out_dims(ctx, op, &a.p, a.h, a.w, &a.oh, &a.ow)) != TC_OK) return st;
    if (y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1] || y->dims[2] != a.oh || y->dims[3] != a.ow) {
        char dy[96];
        tc_dims_str(y, dy, sizeof dy);
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: y is %s, expected %lldx%lldx%lldx%lld", op, dy, (long long)x->dims[0],
                       (long long)x->dims[1], (long long)a.oh, (long long)a.ow);
    }
    /* the 8-bit max has the portable kernel only */
    if ((st = tc_layer_variant(ctx, op, v, q8 ? TC_VARIANT_AUTO : TC_VARIANT_CPU, &v)) != TC_OK) return st;
    const double window = (double)p->kernel_h * p->kernel_w, outs = (double)y->numel;
    tc_op_begin(ctx, op, v, outs * window, (double)tc_dtype_size(x->dtype) * ((double)x->numel + outs));
    if (v == TC_VARIANT_REF) {
        st = tc_host_run(ctx, 1, &x, y, host_fn, &a);
    } else {
        cl_kernel k;
        cl_mem mx = tc_buf(x), my = tc_buf(y);
        cl_ulong xo = tc_off(x), yo = tc_off(y);
        cl_int h = (cl_int)a.h, w = (cl_int)a.w, oh = (cl_int)a.oh, ow = (cl_int)a.ow, av = avg;
        const int rows = v == TC_VARIANT_CPU;
        const char *kn = q8 ? "maxpool2d_q" : rows ? "pool2d_rows" : "pool2d";
        st = tc_get_kernel(ctx, "pool", q8 == TC_DTYPE_S8 ? "-DQT=char" : q8 ? "-DQT=uchar" : "", kn, &k);
        if (st == TC_OK)
            st = tc_set_args(ctx, k, q8 ? 14 : 15, TC_ARG(mx), TC_ARG(xo), TC_ARG(my), TC_ARG(yo), TC_ARG(h),
                             TC_ARG(w), TC_ARG(oh), TC_ARG(ow), TC_ARG(a.p.kernel_h), TC_ARG(a.p.kernel_w),
                             TC_ARG(a.p.stride_h), TC_ARG(a.p.stride_w), TC_ARG(a.p.pad_h), TC_ARG(a.p.pad_w), TC_ARG(av));
        /* dimension 0 (columns, or rows for the row kernel) rounded up to the group, or to 16
         * when the driver chooses the group */
        const int *pwg = &ctx->params.pool.wg;
        const size_t wg = st == TC_OK && *pwg ? tc_fit_wg(ctx, k, kn, pwg, (size_t)*pwg, 0) : 0;
        const size_t r = wg ? wg : 16, lws[3] = {wg, 1, 1};
        size_t gws[3] = {((size_t)(rows ? a.oh : a.ow) + r - 1) / r * r, (size_t)(rows ? a.planes : a.oh),
                         (size_t)a.planes};
        if (st == TC_OK) st = tc_launch(ctx, k, kn, rows ? 2 : 3, gws, wg ? lws : NULL);
    }
    return tc_op_end(ctx, st);
}

tc_status tc_maxpool2d(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_pool2d_params *p)
{
    return pool2d(ctx, x, y, p, 0, p ? p->variant : TC_VARIANT_AUTO);
}

tc_status tc_avgpool2d(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_pool2d_params *p)
{
    return pool2d(ctx, x, y, p, 1, p ? p->variant : TC_VARIANT_AUTO);
}

static tc_status global_avgpool(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, tc_variant v)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "global_avgpool: ctx is NULL");
    tc_status st = check_io(ctx, "global_avgpool", x, y, 2, 0);
    if (st != TC_OK) return st;
    if (y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1]) {
        char dy[96];
        tc_dims_str(y, dy, sizeof dy);
        return tc_fail(ctx, TC_ERR_SHAPE, "global_avgpool: y is %s, expected %lldx%lld", dy, (long long)x->dims[0],
                       (long long)x->dims[1]);
    }
    host_args a = {x->dims[0] * x->dims[1], x->dims[2], x->dims[3], 0, 0, {0, 0, 0, 0, 0, 0, TC_VARIANT_AUTO}, 1, 0};
    if (!ctx->is_ref && a.h * a.w > TC_CL_INT_MAX)
        return tc_fail(ctx, TC_ERR_OVERFLOW, "global_avgpool: planes of %lldx%lld are beyond 2^31-1 on OpenCL",
                       (long long)a.h, (long long)a.w);
    if ((st = tc_layer_variant(ctx, "global_avgpool", v, TC_VARIANT_AUTO, &v)) != TC_OK) return st;
    tc_op_begin(ctx, "global_avgpool", v, (double)x->numel, 4.0 * ((double)x->numel + (double)y->numel));
    if (v == TC_VARIANT_REF) {
        st = tc_host_run(ctx, 1, &x, y, host_fn, &a);
    } else {
        cl_kernel k;
        cl_mem mx = tc_buf(x), my = tc_buf(y);
        cl_ulong planes = (cl_ulong)a.planes, xo = tc_off(x), yo = tc_off(y);
        cl_int hw = (cl_int)(a.h * a.w);
        st = tc_get_kernel(ctx, "pool", "", "global_avgpool", &k);
        if (st == TC_OK)
            st = tc_set_args(ctx, k, 6, TC_ARG(mx), TC_ARG(xo), TC_ARG(my), TC_ARG(yo), TC_ARG(planes), TC_ARG(hw));
        if (st == TC_OK) st = tc_launch_1d(ctx, k, "global_avgpool", (size_t)a.planes);
    }
    return tc_op_end(ctx, st);
}

tc_status tc_global_avgpool(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_op_params *p)
{
    return global_avgpool(ctx, x, y, p ? p->variant : TC_VARIANT_AUTO);
}

/* ---- descriptors: maxpool2d, avgpool2d, global_avgpool ----------------------
 * case keys: n, c, h, w, then kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w
 * (not for global_avgpool); maxpool2d: nan (some inputs NaN), dtype ("u8" or "s8":
 * quantized x and y, exact). Windows overlap, skip inputs, hang over every edge. */
static const tc_variant pool2d_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL, TC_VARIANT_CPU};
static const tc_variant global_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL};

#define PC(n_, c_, h_, w_, kh, kw, sh, sw, ph, pw, ...)                                                       \
    TC_CASE({"n", n_}, {"c", c_}, {"h", h_}, {"w", w_}, {"kernel_h", kh}, {"kernel_w", kw}, {"stride_h", sh},     \
            {"stride_w", sw}, {"pad_h", ph}, {"pad_w", pw}, __VA_ARGS__)
#define POOL_CASES(...)                                                                                          \
    PC(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, __VA_ARGS__), PC(2, 3, 17, 17, 3, 3, 2, 2, 1, 1, __VA_ARGS__), PC(1, 4, 7, 9, 2, 3, 2, 1, 1, 2, __VA_ARGS__), \
        PC(1, 3, 127, 5, 5, 1, 3, 1, 2, 0, __VA_ARGS__), PC(1, 16, 56, 56, 3, 3, 2, 2, 1, 1, __VA_ARGS__),                          \
        PC(2, 1, 13, 11, 13, 11, 1, 1, 0, 0, __VA_ARGS__), PC(1, 2, 10, 10, 4, 4, 3, 3, 3, 3, __VA_ARGS__),                         \
        PC(1, 1, 1, 1000, 1, 7, 1, 5, 0, 6, __VA_ARGS__), PC(3, 5, 8, 8, 2, 2, 2, 2, 0, 0, __VA_ARGS__), PC(1, 1, 3, 3, 3, 3, 5, 5, 2, 2, __VA_ARGS__)
static const tc_case maxpool2d_cases[] = {POOL_CASES({NULL}), PC(2, 3, 17, 17, 3, 3, 2, 2, 1, 1, {"nan", 1}),
                                          PC(1, 2, 10, 10, 4, 4, 3, 3, 3, 3, {"nan", 1}),
                                          POOL_CASES({"dtype", 0, "u8"}), POOL_CASES({"dtype", 0, "s8"})};
static const tc_case avgpool2d_cases[] = {POOL_CASES({NULL})};
#define GC(n_, c_, h_, w_) TC_CASE({"n", n_}, {"c", c_}, {"h", h_}, {"w", w_})
static const tc_case global_avgpool_cases[] = {
    GC(1, 1, 1, 1), GC(2, 3, 7, 7), GC(1, 17, 1, 127), GC(3, 5, 17, 3), GC(1, 64, 56, 56), GC(2, 1000, 1, 1),
};

static int is_global(const tc_case *c) { return tc_case_int(c, "kernel_h") == 0; }

static tc_pool2d_params case_params(const tc_case *c, tc_variant v)
{
    return (tc_pool2d_params){(int)tc_case_int(c, "kernel_h"), (int)tc_case_int(c, "kernel_w"),
                              (int)tc_case_int(c, "stride_h"), (int)tc_case_int(c, "stride_w"),
                              (int)tc_case_int(c, "pad_h"),    (int)tc_case_int(c, "pad_w"),
                              v};
}

/* "NxCxHxW" then square window, stride, pad: "1x64x56x56x3x2x1" (window 2, stride = window, pad 0 by default) */
static int parse_pool(const char *spec, tc_case *c, int global)
{
    int64_t d[7] = {0, 0, 0, 0, 2, 0, 0};
    int n = tc_parse_dims(spec, d, global ? 4 : 7);
    if (n < 4) return -1;
    if (n < 6) d[5] = d[4];
    static const char *const keys[] = {"n", "c", "h", "w", "kernel_h", "kernel_w", "stride_h", "stride_w", "pad_h",
                                       "pad_w"};
    const int64_t v[10] = {d[0], d[1], d[2], d[3], d[4], d[4], d[5], d[5], d[6], d[6]};
    memset(c, 0, sizeof *c);
    for (int i = 0; i < (global ? 4 : 10); i++) tc_case_set(c, keys[i], (double)v[i]);
    return 0;
}
static int pool2d_parse(const char *spec, tc_case *c) { return parse_pool(spec, c, 0); }
static int global_avgpool_parse(const char *spec, tc_case *c) { return parse_pool(spec, c, 1); }

static tc_status setup_pool(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d, int avg)
{
    const int64_t dx[4] = {tc_case_int(cs, "n"), tc_case_int(cs, "c"), tc_case_int(cs, "h"), tc_case_int(cs, "w")};
    const tc_pool2d_params p = case_params(cs, TC_VARIANT_REF);
    host_args a = {dx[0] * dx[1], dx[2], dx[3], 0, 0, p, avg, 0};
    if (p.kernel_h) { /* a bad case is left to the op to reject */
        a.oh = p.stride_h > 0 ? (dx[2] + 2 * p.pad_h - p.kernel_h) / p.stride_h + 1 : 1;
        a.ow = p.stride_w > 0 ? (dx[3] + 2 * p.pad_w - p.kernel_w) / p.stride_w + 1 : 1;
    }
    const int64_t dy[4] = {dx[0], dx[1], a.oh > 0 ? a.oh : 1, a.ow > 0 ? a.ow : 1};
    float *x;
    d->cs = *cs;
    const char *dts = tc_case_str(cs, "dtype");
    if (dts) { /* 8-bit x and y with one scale and zero point, as in int8 models */
        a.q8 = strcmp(dts, "s8") == 0 ? TC_DTYPE_S8 : TC_DTYPE_U8;
        const size_t n = (size_t)(dx[0] * dx[1] * dx[2] * dx[3]);
        unsigned char *h = malloc(n);
        if (!h) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
        for (size_t i = 0; i < n; i++) h[i] = (unsigned char)tc_rng_next(&seed);
        const float scale = 0.05f;
        const int32_t zero = a.q8 == TC_DTYPE_S8 ? -3 : 7;
        const tc_quant q = {-1, 1, &scale, &zero};
        tc_status s = tc_opdata_input(ctx, d, a.q8, 4, dx, h);
        if (s == TC_OK) s = tc_opdata_output(ctx, d, a.q8, 4, dy, &seed);
        if (s == TC_OK) s = tc_tensor_set_quant(d->in[0], &q);
        if (s == TC_OK) s = tc_tensor_set_quant(d->out[0].t, &q);
        if (s == TC_OK && a.oh > 0 && a.ow > 0) host_fn(d->host_in, d->out[0].expected, &a);
        d->out[0].metric = TC_METRIC_EXACT;
        return s;
    }
    tc_status s = tc_layer_input(ctx, d, 4, dx, -1.0f, 1.0f, &seed, &x);
    if (s == TC_OK && tc_case_int(cs, "nan")) {
        for (int64_t i = 0; i < d->in[0]->numel; i += 11) x[i] = NAN;
        s = tc_tensor_write(d->in[0], x, d->in[0]->bytes);
    }
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, p.kernel_h ? 4 : 2, dy, &seed);
    if (s == TC_OK && (!p.kernel_h || (a.oh > 0 && a.ow > 0))) host_fn(d->host_in, d->out[0].expected, &a);
    return s;
}
static tc_status maxpool2d_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    return setup_pool(ctx, cs, seed, d, 0);
}
static tc_status avgpool2d_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    return setup_pool(ctx, cs, seed, d, 1);
}
static tc_status global_avgpool_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    return setup_pool(ctx, cs, seed, d, 1);
}

static tc_status maxpool2d_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    const tc_pool2d_params p = case_params(&d->cs, v);
    return tc_maxpool2d(ctx, d->in[0], d->out[0].t, &p);
}
static tc_status avgpool2d_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    const tc_pool2d_params p = case_params(&d->cs, v);
    return tc_avgpool2d(ctx, d->in[0], d->out[0].t, &p);
}
static tc_status global_avgpool_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    return tc_global_avgpool(ctx, d->in[0], d->out[0].t, &(tc_op_params){v});
}

static double pool_inputs(const tc_case *c)
{
    return tc_case_num(c, "n") * tc_case_num(c, "c") * tc_case_num(c, "h") * tc_case_num(c, "w");
}
static double pool_outputs(const tc_case *c)
{
    const tc_pool2d_params p = case_params(c, TC_VARIANT_AUTO);
    const double planes = tc_case_num(c, "n") * tc_case_num(c, "c");
    if (is_global(c) || p.stride_h < 1 || p.stride_w < 1) return planes;
    return planes * (double)((tc_case_int(c, "h") + 2 * p.pad_h - p.kernel_h) / p.stride_h + 1) *
           (double)((tc_case_int(c, "w") + 2 * p.pad_w - p.kernel_w) / p.stride_w + 1);
}
static double pool_flops(const tc_case *c)
{
    return is_global(c) ? pool_inputs(c)
                        : pool_outputs(c) * tc_case_num(c, "kernel_h") * tc_case_num(c, "kernel_w");
}
static double pool_bytes(const tc_case *c) { return 4.0 * (pool_inputs(c) + pool_outputs(c)); }

/* max is exact; averages are float sums against double */
#define POOL_DESC(op, variants_, syntax_, parse_, tol_)                                                        \
    const tc_opdesc tc_opdesc_##op = {                                                                         \
        .name = #op,                                                                                           \
        .variants = variants_,                                                                                 \
        .nvariants = TC_COUNT(variants_),                                                                      \
        .cases = op##_cases,                                                                                   \
        .ncases = TC_COUNT(op##_cases),                                                                        \
        .syntax = syntax_,                                                                                     \
        .parse = parse_,                                                                                       \
        .setup = op##_setup,                                                                                   \
        .run = op##_run,                                                                                       \
        .flops = pool_flops,                                                                                   \
        .bytes = pool_bytes,                                                                                   \
        .metric = TC_METRIC_MAXREL,                                                                            \
        .tol = tol_,                                                                                           \
    }
#define POOL_SYNTAX "NxCxHxW[xWINDOW[xSTRIDE[xPAD]]] (window 2, stride = window, pad 0 by default)"
POOL_DESC(maxpool2d, pool2d_variants, POOL_SYNTAX, pool2d_parse, 0.0);
POOL_DESC(avgpool2d, pool2d_variants, POOL_SYNTAX, pool2d_parse, 1e-5);
POOL_DESC(global_avgpool, global_variants, "NxCxHxW", global_avgpool_parse, 1e-5);
