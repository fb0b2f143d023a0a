/* Softmax over the last dimension: validate -> ref on the host, a row per
 * work-item (CPUs) or a row per work-group (GPUs). y may be x (in place). */
#include <stdio.h>
#include <string.h>

#include "ops/layer.h"
#include "ref/ref.h"

static int host_fn(void *const *in, void *out, const void *args)
{
    const tc_row_args *a = args;
    tc_ref_softmax(in[0], out, a->rows, a->d);
    return 0;
}

static tc_status softmax(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, tc_variant v)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "softmax: ctx is NULL");
    tc_status st;
    tc_row_args a = {0, 0, 0.0f};
    if ((st = tc_check_tensor(ctx, x, "softmax: x", TC_DTYPE_F32, 0)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, y, "softmax: y", TC_DTYPE_F32, 0)) != TC_OK) return st;
    if ((st = tc_check_same_dims(ctx, "softmax", x, "x", y, "y")) != TC_OK) return st;
    if ((st = tc_rows_of(ctx, "softmax", x, &a.rows, &a.d)) != TC_OK) return st;
    if ((st = tc_layer_variant(ctx, "softmax", v, TC_VARIANT_GPU, &v)) != TC_OK) return st;
    tc_op_begin(ctx);
    st = tc_row_run(ctx, "softmax", v, x, y, host_fn, &a);
    return tc_op_end(ctx, "softmax", v, 5.0 * (double)x->numel, 12.0 * (double)x->numel, st);
}

tc_status tc_softmax(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y) { return softmax(ctx, x, y, TC_VARIANT_AUTO); }

/* ---- descriptor -------------------------------------------------------------
 * case v[]: rows, d, offset: inputs uniform in offset +- 10 (+-90 overflows exp
 * without the maximum subtracted) */
static const tc_variant softmax_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL, TC_VARIANT_GPU};

static const tc_case softmax_cases[] = {
    {{1, 1, 0}},   {{3, 17, 0}},     {{17, 3, 0}},   {{127, 1, 0}},  {{1, 1000, 0}},
    {{64, 127, 0}}, {{7, 1000, 90}}, {{5, 333, -90}}, {{2, 4097, 0}}, {{300, 16, 90}},
};

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
    tc_rows_describe, tc_rows_json,    tc_rows_parse,
    softmax_setup,   softmax_run,      softmax_flops,
    softmax_bytes,   TC_METRIC_MAXREL, 1e-5,
    "ROWSxD",
};
