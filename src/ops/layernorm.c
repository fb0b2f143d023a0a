/* Layer normalization over the last dimension: validate -> ref on the host, a row
 * per work-item (CPUs) or a row per work-group (GPUs). y may be x (in place). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/layer.h"
#include "ref/ref.h"

static int host_fn(void *const *in, void *out, const void *args)
{
    const tc_row_args *a = args;
    tc_ref_layernorm(in[0], in[1], in[2], out, a->rows, a->d, a->eps);
    return 0;
}

static tc_status check_param(tc_ctx *ctx, const tc_tensor *p, const char *name, const tc_tensor *y, int64_t d)
{
    char full[32];
    snprintf(full, sizeof full, "layernorm: %s", name);
    tc_status st = tc_check_tensor(ctx, p, full, TC_DTYPE_F32, 0);
    if (st == TC_OK && p->numel != d)
        st = tc_fail(ctx, TC_ERR_SHAPE, "layernorm: %s has %lld elements, expected D = %lld", name,
                     (long long)p->numel, (long long)d);
    if (st == TC_OK) st = tc_check_no_alias(ctx, "layernorm", y, "y", p, name);
    return st;
}

static tc_status layernorm(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *gamma, const tc_tensor *beta,
                           tc_tensor *y, float eps, tc_variant v)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "layernorm: ctx is NULL");
    tc_status st;
    tc_row_args a = {0, 0, eps};
    if ((st = tc_check_tensor(ctx, x, "layernorm: x", TC_DTYPE_F32, 0)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, y, "layernorm: y", TC_DTYPE_F32, 0)) != TC_OK) return st;
    if ((st = tc_check_same_dims(ctx, "layernorm", x, "x", y, "y")) != TC_OK) return st;
    if ((st = tc_rows_of(ctx, "layernorm", x, &a.rows, &a.d)) != TC_OK) return st;
    if ((st = check_param(ctx, gamma, "gamma", y, a.d)) != TC_OK) return st;
    if ((st = check_param(ctx, beta, "beta", y, a.d)) != TC_OK) return st;
    if (!isfinite(eps) || eps < 0.0f)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "layernorm: eps must be finite and >= 0 (got %g)", (double)eps);
    if ((st = tc_layer_variant(ctx, "layernorm", v, TC_VARIANT_GPU, &v)) != TC_OK) return st;
    tc_op_begin(ctx, "layernorm", v, 8.0 * (double)x->numel, 12.0 * (double)x->numel);
    if (v == TC_VARIANT_REF) {
        const tc_tensor *in[3] = {x, gamma, beta};
        st = tc_host_run(ctx, 3, in, y, host_fn, &a);
    } else {
        cl_kernel k;
        cl_mem mx = tc_buf(x), mg = tc_buf(gamma), mb = tc_buf(beta), my = tc_buf(y);
        cl_ulong xo = tc_off(x), go = tc_off(gamma), bo = tc_off(beta), yo = tc_off(y);
        cl_int rows = (cl_int)a.rows, d = (cl_int)a.d;
        st = tc_row_kernel(ctx, "layernorm", v, &k);
        if (st == TC_OK)
            st = tc_set_args(ctx, k, 11, TC_ARG(mx), TC_ARG(xo), TC_ARG(mg), TC_ARG(go), TC_ARG(mb), TC_ARG(bo),
                             TC_ARG(my), TC_ARG(yo), TC_ARG(rows), TC_ARG(d), TC_ARG(eps));
        if (st == TC_OK) st = tc_row_launch(ctx, k, "layernorm", v, a.rows);
    }
    return tc_op_end(ctx, st);
}

tc_layernorm_params tc_layernorm_defaults(void) { return (tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}; }

tc_status tc_layernorm(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *gamma, const tc_tensor *beta, tc_tensor *y,
                       const tc_layernorm_params *p)
{
    const tc_layernorm_params q = p ? *p : tc_layernorm_defaults();
    return layernorm(ctx, x, gamma, beta, y, q.eps, q.variant);
}

/* ---- descriptor -------------------------------------------------------------
 * case keys: rows, d, center: inputs uniform in center +- 1 (their mean), eps */
static const tc_variant layernorm_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL, TC_VARIANT_GPU};

#define LN(r, d_, c) TC_CASE({"rows", r}, {"d", d_}, {"center", c}, {"eps", 1e-5})
static const tc_case layernorm_cases[] = {
    LN(1, 1, 0),      LN(3, 17, 0),    LN(17, 3, 10),  LN(127, 2, -3), LN(1, 1000, 50),
    LN(64, 127, 100), LN(5, 768, -20), LN(2, 4097, 0), LN(300, 16, 7),
};

static tc_status layernorm_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t dims[2] = {tc_case_int(cs, "rows"), tc_case_int(cs, "d")}, pd[1] = {dims[1]};
    const float mean = (float)tc_case_num(cs, "center");
    float *x, *g, *b;
    d->cs = *cs;
    tc_status s = tc_layer_input(ctx, d, 2, dims, mean - 1.0f, mean + 1.0f, &seed, &x);
    if (s == TC_OK) s = tc_layer_input(ctx, d, 1, pd, 0.5f, 1.5f, &seed, &g);
    if (s == TC_OK) s = tc_layer_input(ctx, d, 1, pd, -1.0f, 1.0f, &seed, &b);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, 2, dims, &seed);
    if (s == TC_OK) tc_ref_layernorm(x, g, b, d->out[0].expected, dims[0], dims[1], (float)tc_case_num(cs, "eps"));
    return s;
}

static tc_status layernorm_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    const tc_layernorm_params p = {(float)tc_case_num(&d->cs, "eps"), v};
    return tc_layernorm(ctx, d->in[0], d->in[1], d->in[2], d->out[0].t, &p);
}

static int layernorm_parse(const char *spec, tc_case *c)
{
    if (tc_rows_parse(spec, c) != 0) return -1;
    return tc_case_set(c, "eps", 1e-5);
}

static double layernorm_flops(const tc_case *c) { return 8.0 * tc_case_num(c, "rows") * tc_case_num(c, "d"); }
static double layernorm_bytes(const tc_case *c) { return 12.0 * tc_case_num(c, "rows") * tc_case_num(c, "d"); }

/* float sums of D shifted terms against double: the error grows with D, not with the mean */
const tc_opdesc tc_opdesc_layernorm = {
    .name = "layernorm",
    .variants = layernorm_variants,
    .nvariants = TC_COUNT(layernorm_variants),
    .cases = layernorm_cases,
    .ncases = TC_COUNT(layernorm_cases),
    .syntax = TC_ROWS_SYNTAX,
    .parse = layernorm_parse,
    .setup = layernorm_setup,
    .run = layernorm_run,
    .flops = layernorm_flops,
    .bytes = layernorm_bytes,
    .metric = TC_METRIC_MAXREL,
    .tol = 1e-5,
};
