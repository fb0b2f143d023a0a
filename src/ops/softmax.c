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
    tc_op_begin(ctx, "softmax", v, 5.0 * (double)x->numel, 12.0 * (double)x->numel);
    st = tc_row_run(ctx, "softmax", v, x, y, host_fn, &a);
    return tc_op_end(ctx, st);
}

tc_status tc_softmax(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_op_params *p)
{
    return softmax(ctx, x, y, p ? p->variant : TC_VARIANT_AUTO);
}

/* ---- descriptor -------------------------------------------------------------
 * case keys: rows, d, center: inputs uniform in center +- 10 (+-90 overflows exp
 * without the maximum subtracted) */
static const tc_variant softmax_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL, TC_VARIANT_GPU};

#define SM(r, d_, c) TC_CASE({"rows", r}, {"d", d_}, {"center", c})
static const tc_case softmax_cases[] = {
    SM(1, 1, 0),    SM(3, 17, 0),    SM(17, 3, 0),     SM(127, 1, 0),  SM(1, 1000, 0),
    SM(64, 127, 0), SM(7, 1000, 90), SM(5, 333, -90),  SM(2, 4097, 0), SM(300, 16, 90),
};

static tc_status softmax_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t dims[2] = {tc_case_int(cs, "rows"), tc_case_int(cs, "d")};
    const float c = (float)tc_case_num(cs, "center");
    float *x;
    d->cs = *cs;
    tc_status s = tc_layer_input(ctx, d, 2, dims, c - 10.0f, c + 10.0f, &seed, &x);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, 2, dims, &seed);
    if (s == TC_OK) tc_ref_softmax(x, d->out[0].expected, dims[0], dims[1]);
    return s;
}

/* through the public call, so its params are what the checks exercise */
static tc_status softmax_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    return tc_softmax(ctx, d->in[0], d->out[0].t, &(tc_op_params){v});
}
static double softmax_flops(const tc_case *c) { return 5.0 * tc_case_num(c, "rows") * tc_case_num(c, "d"); }
static double softmax_bytes(const tc_case *c) { return 12.0 * tc_case_num(c, "rows") * tc_case_num(c, "d"); }

/* float exp and sums against double: a few ulps per element */
const tc_opdesc tc_opdesc_softmax = {
    .name = "softmax",
    .variants = softmax_variants,
    .nvariants = TC_COUNT(softmax_variants),
    .cases = softmax_cases,
    .ncases = TC_COUNT(softmax_cases),
    .syntax = TC_ROWS_SYNTAX,
    .parse = tc_rows_parse,
    .setup = softmax_setup,
    .run = softmax_run,
    .flops = softmax_flops,
    .bytes = softmax_bytes,
    .metric = TC_METRIC_MAXREL,
    .tol = 1e-5,
};
