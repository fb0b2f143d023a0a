/* Argmax over the last dimension: validate -> ref on the host or a row per work-item. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/layer.h"
#include "ref/ref.h"

static int host_indices(void *const *in, void *out, const void *args)
{
    const tc_row_args *a = args;
    tc_ref_argmax(in[0], out, NULL, a->rows, a->d);
    return 0;
}

static int host_values(void *const *in, void *out, const void *args)
{
    const tc_row_args *a = args;
    tc_ref_argmax(in[0], NULL, out, a->rows, a->d);
    return 0;
}

/* y has x's dims without the last one, or with the last one 1 (1-D x: y is [1]). */
static int y_fits(const tc_tensor *x, const tc_tensor *y)
{
    const int lead = x->ndim - 1;
    int ok = y->ndim == lead || (y->ndim == x->ndim && y->dims[lead] == 1);
    for (int i = 0; ok && i < lead; i++) ok = y->dims[i] == x->dims[i];
    return ok;
}

static tc_status run_cl(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, tc_tensor *values, const tc_row_args *a)
{
    cl_kernel k;
    cl_mem mx = tc_buf(x), my = tc_buf(y), mv = values ? tc_buf(values) : NULL;
    cl_ulong xo = tc_off(x), yo = tc_off(y), vo = values ? tc_off(values) : 0;
    cl_int rows = (cl_int)a->rows, d = (cl_int)a->d, hv = values != NULL;
    tc_status st = tc_row_kernel(ctx, "argmax", TC_VARIANT_OPENCL, &k);
    if (st == TC_OK)
        st = tc_set_args(ctx, k, 9, TC_ARG(mx), TC_ARG(xo), TC_ARG(my), TC_ARG(yo), TC_ARG(rows), TC_ARG(d), TC_ARG(mv),
                         TC_ARG(vo), TC_ARG(hv));
    return st == TC_OK ? tc_row_launch(ctx, k, "argmax", TC_VARIANT_OPENCL, a->rows) : st;
}

static tc_status argmax(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, tc_tensor *values, tc_variant v)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "argmax: ctx is NULL");
    tc_status st;
    tc_row_args a = {0, 0, 0.0f};
    if ((st = tc_check_tensor(ctx, x, "argmax: x", TC_DTYPE_F32, 0)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, y, "argmax: y", TC_DTYPE_S32, 0)) != TC_OK) return st;
    if ((st = tc_rows_of(ctx, "argmax", x, &a.rows, &a.d)) != TC_OK) return st;
    if (!y_fits(x, y)) {
        char dx[96], dy[96];
        tc_dims_str(x, dx, sizeof dx);
        tc_dims_str(y, dy, sizeof dy);
        return tc_fail(ctx, TC_ERR_SHAPE, "argmax: y is %s; for x %s it needs x's dims without the last (or it as 1)",
                       dy, dx);
    }
    if (values) {
        if ((st = tc_check_tensor(ctx, values, "argmax: values", TC_DTYPE_F32, 0)) != TC_OK) return st;
        if ((st = tc_check_same_dims(ctx, "argmax", y, "y", values, "values")) != TC_OK) return st;
        if ((st = tc_check_no_alias(ctx, "argmax", values, "values", x, "x")) != TC_OK) return st;
        if ((st = tc_check_no_alias(ctx, "argmax", values, "values", y, "y")) != TC_OK) return st;
    }
    if ((st = tc_check_no_alias(ctx, "argmax", y, "y", x, "x")) != TC_OK) return st;
    if (a.d > INT32_MAX)
        return tc_fail(ctx, TC_ERR_OVERFLOW, "argmax: rows of %lld do not fit s32 indices", (long long)a.d);
    if ((st = tc_layer_variant(ctx, "argmax", v, TC_VARIANT_AUTO, &v)) != TC_OK) return st;
    const double outs = (double)a.rows * (values ? 2 : 1);
    tc_op_begin(ctx, "argmax", v, (double)x->numel, 4.0 * ((double)x->numel + outs));
    if (v == TC_VARIANT_REF) {
        st = tc_host_run(ctx, 1, &x, y, host_indices, &a);
        if (st == TC_OK && values) st = tc_host_run(ctx, 1, &x, values, host_values, &a);
    } else {
        st = run_cl(ctx, x, y, values, &a);
    }
    return tc_op_end(ctx, st);
}

tc_argmax_params tc_argmax_defaults(void) { return (tc_argmax_params){NULL, TC_VARIANT_AUTO}; }

tc_status tc_argmax(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_argmax_params *p)
{
    const tc_argmax_params q = p ? *p : tc_argmax_defaults();
    return argmax(ctx, x, y, q.values, q.variant);
}

/* ---- descriptor -------------------------------------------------------------
 * case keys: rows, d, ties (inputs rounded to quarters: few distinct values),
 * nan (NaN sprinkled in, a NaN first in some rows, one row all NaN), values (the
 * second output: the maxima) */
static const tc_variant argmax_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL};

#define AM(r, d_, t, n, v) TC_CASE({"rows", r}, {"d", d_}, {"ties", t}, {"nan", n}, {"values", v})
static const tc_case argmax_cases[] = {
    AM(1, 1, 0, 0, 0),    AM(3, 17, 0, 0, 1),    AM(17, 3, 1, 0, 0),   AM(127, 1, 0, 1, 1),
    AM(1, 1000, 1, 0, 0), AM(64, 127, 1, 1, 1),  AM(5, 32000, 0, 0, 1), AM(300, 16, 1, 1, 0),
    AM(9, 4, 0, 1, 1),
};

static tc_status argmax_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t rows = tc_case_int(cs, "rows"), dim = tc_case_int(cs, "d"), dx[2] = {rows, dim}, dy[1] = {rows};
    const int ties = tc_case_int(cs, "ties") != 0, nan = tc_case_int(cs, "nan") != 0;
    const size_t n = (size_t)(rows * dim);
    float *x = malloc((n ? n : 1) * sizeof *x);
    d->cs = *cs;
    if (!x) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    tc_rand_f32(x, n, -1.0f, 1.0f, &seed);
    for (size_t i = 0; ties && i < n; i++) x[i] = roundf(x[i] * 4.0f) / 4.0f;
    for (size_t i = 0; nan && i < n; i++)
        if (tc_rng_next(&seed) % 5 == 0 || (i % (size_t)dim == 0 && (i / (size_t)dim) % 3 == 0) ||
            i / (size_t)dim == (size_t)rows / 2)
            x[i] = NAN;
    tc_status s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 2, dx, x);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_S32, 1, dy, &seed);
    if (s == TC_OK && tc_case_int(cs, "values")) {
        s = tc_opdata_output(ctx, d, TC_DTYPE_F32, 1, dy, &seed);
        if (s == TC_OK) d->out[1].metric = TC_METRIC_EXACT; /* a copy of an input: bit-exact, NaN included */
    }
    if (s == TC_OK) tc_ref_argmax(x, d->out[0].expected, d->nout > 1 ? d->out[1].expected : NULL, rows, dim);
    return s;
}

static tc_status argmax_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    const tc_argmax_params p = {d->nout > 1 ? d->out[1].t : NULL, v};
    return tc_argmax(ctx, d->in[0], d->out[0].t, &p);
}
static double argmax_flops(const tc_case *c) { return tc_case_num(c, "rows") * tc_case_num(c, "d"); }
static double argmax_bytes(const tc_case *c)
{
    return 4.0 * tc_case_num(c, "rows") * (tc_case_num(c, "d") + 1 + (tc_case_int(c, "values") ? 1 : 0));
}

const tc_opdesc tc_opdesc_argmax = {
    .name = "argmax",
    .variants = argmax_variants,
    .nvariants = TC_COUNT(argmax_variants),
    .cases = argmax_cases,
    .ncases = TC_COUNT(argmax_cases),
    .syntax = TC_ROWS_SYNTAX,
    .parse = tc_rows_parse,
    .setup = argmax_setup,
    .run = argmax_run,
    .flops = argmax_flops,
    .bytes = argmax_bytes,
    .metric = TC_METRIC_EXACT,
    .tol = 0.0,
};
