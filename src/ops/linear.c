/* Dense layer on the project's GEMM (weights [out, in], so B is transposed), and
 * the flatten view. */
#include <stdio.h>
#include <string.h>

#include "ops/gemm.h"
#include "ops/layer.h"
#include "ref/ref.h"

typedef struct {
    int64_t b, in, out;
    int relu;
} host_args;

static int host_fn(void *const *in, void *out, const void *args)
{
    const host_args *a = args;
    return tc_ref_linear(in[0], in[1], in[2], out, a->b, a->out, a->in, a->relu);
}

static tc_status validate(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *w, const tc_tensor *bias,
                          const tc_tensor *y, host_args *a)
{
    tc_status st;
    if ((st = tc_check_tensor(ctx, x, "linear: x", TC_DTYPE_F32, 2)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, w, "linear: w", TC_DTYPE_F32, 2)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, y, "linear: y", TC_DTYPE_F32, 2)) != TC_OK) return st;
    a->b = x->dims[0], a->in = x->dims[1], a->out = w->dims[0];
    if (w->dims[1] != a->in)
        return tc_fail(ctx, TC_ERR_SHAPE, "linear: w is %lldx%lld, expected %lld columns (x has %lld features)",
                       (long long)w->dims[0], (long long)w->dims[1], (long long)a->in, (long long)a->in);
    if (y->dims[0] != a->b || y->dims[1] != a->out)
        return tc_fail(ctx, TC_ERR_SHAPE, "linear: y is %lldx%lld, expected %lldx%lld", (long long)y->dims[0],
                       (long long)y->dims[1], (long long)a->b, (long long)a->out);
    if (bias) {
        if ((st = tc_check_tensor(ctx, bias, "linear: bias", TC_DTYPE_F32, 0)) != TC_OK) return st;
        if (bias->numel != a->out)
            return tc_fail(ctx, TC_ERR_SHAPE, "linear: bias has %lld elements, expected %lld",
                           (long long)bias->numel, (long long)a->out);
    }
    if ((st = tc_check_no_alias(ctx, "linear", y, "y", x, "x")) != TC_OK) return st;
    if ((st = tc_check_no_alias(ctx, "linear", y, "y", w, "w")) != TC_OK) return st;
    if ((st = tc_check_no_alias(ctx, "linear", y, "y", bias, "bias")) != TC_OK) return st;
    /* the GEMM kernels index with ints; padded sizes must fit too */
    const int64_t lim = (int64_t)1 << 30;
    if (!ctx->is_ref && (x->numel >= lim || w->numel >= lim || y->numel >= lim))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "linear: tensors beyond 2^30 elements are not supported on OpenCL");
    return TC_OK;
}

static tc_status linear(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *w, const tc_tensor *bias, tc_tensor *y,
                        int relu, tc_variant v)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "linear: ctx is NULL");
    host_args a = {0, 0, 0, relu != 0};
    tc_status st = validate(ctx, x, w, bias, y, &a);
    if (st != TC_OK) return st;
    if (v < 0 || v >= TC_VARIANT_COUNT) return tc_fail(ctx, TC_ERR_INVALID_ARG, "linear: invalid variant %d", (int)v);
    if (v == TC_VARIANT_AUTO) v = ctx->is_ref ? TC_VARIANT_REF : tc_gemm_auto(ctx, a.b, a.out, a.in);
    if (ctx->is_ref && v != TC_VARIANT_REF)
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "linear: variant '%s' needs an OpenCL device", tc_variant_name(v));
    const double flops = 2.0 * (double)a.b * (double)a.out * (double)a.in;
    const double bytes = 4.0 * ((double)x->numel + (double)w->numel + (double)y->numel);
    tc_op_begin(ctx);
    if (v == TC_VARIANT_REF) {
        const tc_tensor *in[3] = {x, w, bias};
        st = tc_host_run(ctx, 3, in, y, host_fn, &a);
    } else {
        tc_gemm_desc g = {a.b, a.out, a.in, 0, 1, 1.0f, 0.0f, tc_buf(x), tc_buf(w), tc_buf(y),
                          bias ? tc_buf(bias) : NULL, 0, 0, 0, 0, a.relu};
        st = tc_gemm_cl(ctx, v, &g);
        if (st == TC_ERR_UNSUPPORTED && v != TC_VARIANT_GEMV)
            st = tc_fail(ctx, TC_ERR_UNSUPPORTED, "linear has no variant '%s'", tc_variant_name(v));
    }
    return tc_op_end(ctx, "linear", v, flops, bytes, st);
}

tc_status tc_linear(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *w, const tc_tensor *bias, tc_tensor *y, int relu)
{
    return linear(ctx, x, w, bias, y, relu, TC_VARIANT_AUTO);
}

tc_status tc_flatten(tc_tensor *x, tc_tensor **out)
{
    if (!out) return tc_fail(x ? x->ctx : NULL, TC_ERR_INVALID_ARG, "flatten: out is NULL");
    *out = NULL;
    if (!x) return tc_fail(NULL, TC_ERR_INVALID_ARG, "flatten: x is NULL");
    const int64_t dims[2] = {x->dims[0], x->numel / x->dims[0]};
    return tc_tensor_reshape(x, 2, dims, out);
}

/* ---- descriptor -------------------------------------------------------------
 * case v[]: batch, in, out, bias, relu */
/* CLBLAST runs too (`tinycl bench linear --variants clblast`) but is left out here:
 * matmul's transposed-B cases check the same call, and building CLBlast's kernels
 * on a cold PoCL cache costs ~40 s under ASan. */
static const tc_variant linear_variants[] = {TC_VARIANT_REF, TC_VARIANT_CPU, TC_VARIANT_GPU, TC_VARIANT_GEMV};

static const tc_case linear_cases[] = {
    {{1, 1, 1, 0, 0}},      {{1, 1000, 17, 1, 0}}, {{3, 17, 127, 0, 1}}, {{8, 127, 1000, 1, 1}},
    {{17, 3, 1000, 1, 0}},  {{127, 1000, 3, 1, 1}}, {{33, 64, 65, 0, 0}}, {{100, 257, 96, 1, 1}},
};

static void linear_describe(const tc_case *c, char *buf, size_t n)
{
    snprintf(buf, n, "batch=%lld in=%lld out=%lld%s%s", (long long)c->v[0], (long long)c->v[1], (long long)c->v[2],
             c->v[3] ? " bias" : "", c->v[4] ? " relu" : "");
}

static void linear_json(const tc_case *c, char *buf, size_t n)
{
    snprintf(buf, n, "{\"batch\":%lld,\"in\":%lld,\"out\":%lld,\"bias\":%d,\"relu\":%d}", (long long)c->v[0],
             (long long)c->v[1], (long long)c->v[2], (int)c->v[3], (int)c->v[4]);
}

/* "BATCHxINxOUT", with bias and ReLU */
static int linear_parse(const char *spec, tc_case *c)
{
    memset(c, 0, sizeof *c);
    if (tc_parse_dims(spec, c->v, 3) != 3) return -1;
    c->v[3] = c->v[4] = 1;
    return 0;
}

static tc_status linear_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t dx[2] = {cs->v[0], cs->v[1]}, dw[2] = {cs->v[2], cs->v[1]}, db[1] = {cs->v[2]};
    const int64_t dy[2] = {cs->v[0], cs->v[2]};
    float *x, *w, *b;
    d->cs = *cs;
    tc_status s = tc_layer_input(ctx, d, 2, dx, -1.0f, 1.0f, &seed, &x);
    if (s == TC_OK) s = tc_layer_input(ctx, d, 2, dw, -1.0f, 1.0f, &seed, &w);
    if (s == TC_OK) s = tc_layer_input(ctx, d, 1, db, -1.0f, 1.0f, &seed, &b);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, 2, dy, &seed);
    if (s == TC_OK && tc_ref_linear(x, w, cs->v[3] ? b : NULL, d->expected, dx[0], dy[1], dx[1], (int)cs->v[4]) != 0)
        s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    return s;
}

static tc_status linear_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    return linear(ctx, d->in[0], d->in[1], d->cs.v[3] ? d->in[2] : NULL, d->out, (int)d->cs.v[4], v);
}

static double linear_flops(const tc_case *c) { return 2.0 * (double)c->v[0] * (double)c->v[1] * (double)c->v[2]; }
static double linear_bytes(const tc_case *c)
{
    return 4.0 * ((double)c->v[0] * (double)c->v[1] + (double)c->v[2] * (double)c->v[1] +
                  (double)c->v[0] * (double)c->v[2]);
}

/* as matmul: float sums of `in` products in another order than the reference */
const tc_opdesc tc_opdesc_linear = {
    "linear",       linear_variants, (int)(sizeof linear_variants / sizeof linear_variants[0]),
    linear_cases,   (int)(sizeof linear_cases / sizeof linear_cases[0]),
    linear_describe, linear_json,    linear_parse,
    linear_setup,   linear_run,      linear_flops,
    linear_bytes,   TC_METRIC_MAXREL, 1e-4,
    "BATCHxINxOUT (with bias and ReLU)",
};
