/* Softmax over the last dimension: validate -> ref on the host, a row per
 * work-item (CPUs) or a row per work-group (GPUs). y may be x (in place). */
#include <stdio.h>
#include <string.h>

#include "ops/layer.h"
#include "ref/ref.h"

typedef struct {
    int64_t rows, d;
} host_args;

static int host_fn(void *const *in, void *out, const void *args)
{
    const host_args *a = args;
    tc_ref_softmax(in[0], out, a->rows, a->d);
    return 0;
}

static tc_status softmax(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, tc_variant v)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "softmax: ctx is NULL");
    tc_status st;
    host_args a;
    if ((st = tc_check_tensor(ctx, x, "softmax: x", TC_DTYPE_F32, 0)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, y, "softmax: y", TC_DTYPE_F32, 0)) != TC_OK) return st;
    if ((st = tc_check_same_dims(ctx, "softmax", x, "x", y, "y")) != TC_OK) return st;
    if ((st = tc_rows_of(ctx, "softmax", x, &a.rows, &a.d)) != TC_OK) return st;
    if ((st = tc_layer_variant(ctx, "softmax", v, TC_VARIANT_GPU, &v)) != TC_OK) return st;
    tc_op_begin(ctx);
    if (v == TC_VARIANT_REF) {
        st = tc_host_run(ctx, 1, &x, y, host_fn, &a);
    } else {
        cl_kernel k;
        cl_mem mx = tc_buf(x), my = tc_buf(y);
        cl_int rows = (cl_int)a.rows, d = (cl_int)a.d;
        st = tc_row_kernel(ctx, "softmax", v, &k);
        if (st == TC_OK) st = tc_set_args(ctx, k, 4, TC_ARG(mx), TC_ARG(my), TC_ARG(rows), TC_ARG(d));
        if (st == TC_OK) st = tc_row_launch(ctx, k, "softmax", v, a.rows);
    }
    return tc_op_end(ctx, "softmax", v, 5.0 * (double)x->numel, 12.0 * (double)x->numel, st);
}

tc_status tc_softmax(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y) { return softmax(ctx, x, y, TC_VARIANT_AUTO); }

/* ---- descriptor -------------------------------------------------------------
 * case v[]: rows, d, centre of the inputs (uniform in centre +- 10: +-90 overflows
 * exp without the maximum subtracted) */
static const tc_variant softmax_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL, TC_VARIANT_GPU};

static const tc_case softmax_cases[] = {
    {{1, 1, 0}},   {{3, 17, 0}},     {{17, 3, 0}},   {{127, 1, 0}},  {{1, 1000, 0}},
    {{64, 127, 0}}, {{7, 1000, 90}}, {{5, 333, -90}}, {{2, 4097, 0}}, {{300, 16, 90}},
};

static void softmax_describe(const tc_case *c, char *buf, size_t n)
{
    snprintf(buf, n, "rows=%lld d=%lld centre=%lld", (long long)c->v[0], (long long)c->v[1], (long long)c->v[2]);
}

static void softmax_json(const tc_case *c, char *buf, size_t n)
{
    snprintf(buf, n, "{\"rows\":%lld,\"d\":%lld,\"centre\":%lld}", (long long)c->v[0], (long long)c->v[1],
             (long long)c->v[2]);
}

/* "ROWSxD" */
static int softmax_parse(const char *spec, tc_case *c)
{
    memset(c, 0, sizeof *c);
    return tc_parse_dims(spec, c->v, 2) == 2 ? 0 : -1;
}

static tc_status softmax_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t dims[2] = {cs->v[0], cs->v[1]};
    const float c = (float)cs->v[2];
    float *x;
    d->cs = *cs;
    tc_status s = tc_layer_input(ctx, d, 2, dims, c - 10.0f, c + 10.0f, &seed, &x);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, 2, dims, &seed);
    if (s == TC_OK) tc_ref_softmax(x, d->expected, dims[0], dims[1]);
    return s;
}

static tc_status softmax_run(tc_ctx *ctx, tc_opdata *d, tc_variant v) { return softmax(ctx, d->in[0], d->out, v); }

static double softmax_flops(const tc_case *c) { return 5.0 * (double)c->v[0] * (double)c->v[1]; }
static double softmax_bytes(const tc_case *c) { return 12.0 * (double)c->v[0] * (double)c->v[1]; }

/* float exp and sums against double: a few ulps per element */
const tc_opdesc tc_opdesc_softmax = {
    "softmax",       softmax_variants, (int)(sizeof softmax_variants / sizeof softmax_variants[0]),
    softmax_cases,   (int)(sizeof softmax_cases / sizeof softmax_cases[0]),
    softmax_describe, softmax_json,    softmax_parse,
    softmax_setup,   softmax_run,      softmax_flops,
    softmax_bytes,   TC_METRIC_MAXREL, 1e-5,
};
