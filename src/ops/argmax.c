/* Argmax over the last dimension: validate -> ref on the host or a row per work-item. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/layer.h"
#include "ref/ref.h"

static int host_fn(void *const *in, void *out, const void *args)
{
    const tc_row_args *a = args;
    tc_ref_argmax(in[0], out, a->rows, a->d);
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

static tc_status argmax(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, tc_variant v)
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
    if (a.d > INT32_MAX)
        return tc_fail(ctx, TC_ERR_OVERFLOW, "argmax: rows of %lld do not fit s32 indices", (long long)a.d);
    if ((st = tc_layer_variant(ctx, "argmax", v, TC_VARIANT_AUTO, &v)) != TC_OK) return st;
    tc_op_begin(ctx);
    st = tc_row_run(ctx, "argmax", v, x, y, host_fn, &a);
    return tc_op_end(ctx, "argmax", v, (double)x->numel, 4.0 * ((double)x->numel + (double)a.rows), st);
}

tc_status tc_argmax(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y) { return argmax(ctx, x, y, TC_VARIANT_AUTO); }

/* ---- descriptor -------------------------------------------------------------
 * case v[]: rows, d, ties (inputs rounded to quarters: few distinct values),
 * nan (NaN sprinkled in, a NaN first in some rows, one row all NaN) */
static const tc_variant argmax_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL};

static const tc_case argmax_cases[] = {
    {{1, 1, 0, 0}},  {{3, 17, 0, 0}},   {{17, 3, 1, 0}},    {{127, 1, 0, 1}}, {{1, 1000, 1, 0}},
    {{64, 127, 1, 1}}, {{5, 32000, 0, 0}}, {{300, 16, 1, 1}}, {{9, 4, 0, 1}},
};

static void argmax_describe(const tc_case *c, char *buf, size_t n)
{
    snprintf(buf, n, "rows=%lld d=%lld%s%s", (long long)c->v[0], (long long)c->v[1], c->v[2] ? " ties" : "",
             c->v[3] ? " nan" : "");
}

static void argmax_json(const tc_case *c, char *buf, size_t n)
{
    snprintf(buf, n, "{\"rows\":%lld,\"d\":%lld,\"ties\":%d,\"nan\":%d}", (long long)c->v[0], (long long)c->v[1],
             (int)c->v[2], (int)c->v[3]);
}

static tc_status argmax_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t rows = cs->v[0], dim = cs->v[1], dx[2] = {rows, dim}, dy[1] = {rows};
    const size_t n = (size_t)(rows * dim);
    float *x = malloc((n ? n : 1) * sizeof *x);
    d->cs = *cs;
    if (!x) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    tc_rand_f32(x, n, -1.0f, 1.0f, &seed);
    for (size_t i = 0; cs->v[2] && i < n; i++) x[i] = roundf(x[i] * 4.0f) / 4.0f;
    for (size_t i = 0; cs->v[3] && i < n; i++)
        if (tc_rng_next(&seed) % 5 == 0 || (i % (size_t)dim == 0 && (i / (size_t)dim) % 3 == 0) ||
            i / (size_t)dim == (size_t)rows / 2)
            x[i] = NAN;
    tc_status s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 2, dx, x);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_S32, 1, dy, &seed);
    if (s == TC_OK) tc_ref_argmax(x, d->expected, rows, dim);
    return s;
}

static tc_status argmax_run(tc_ctx *ctx, tc_opdata *d, tc_variant v) { return argmax(ctx, d->in[0], d->out, v); }

static double argmax_flops(const tc_case *c) { return (double)c->v[0] * (double)c->v[1]; }
static double argmax_bytes(const tc_case *c) { return 4.0 * (double)c->v[0] * (double)(c->v[1] + 1); }

const tc_opdesc tc_opdesc_argmax = {
    "argmax",       argmax_variants, (int)(sizeof argmax_variants / sizeof argmax_variants[0]),
    argmax_cases,   (int)(sizeof argmax_cases / sizeof argmax_cases[0]),
    argmax_describe, argmax_json,    tc_rows_parse,
    argmax_setup,   argmax_run,      argmax_flops,
    argmax_bytes,   TC_METRIC_EXACT, 0.0,
    "ROWSxD",
};
