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
                          bias ? tc_buf(bias) : NULL, tc_off(x), tc_off(w), tc_off(y), 0, a.relu};
        st = tc_gemm_cl(ctx, v, &g);
        if (st == TC_ERR_UNSUPPORTED && v != TC_VARIANT_GEMV)
            st = tc_fail(ctx, TC_ERR_UNSUPPORTED, "linear has no variant '%s'", tc_variant_name(v));
    }
    return tc_op_end(ctx, "linear", v, flops, bytes, st);
}

tc_linear_params tc_linear_defaults(void) { return (tc_linear_params){0, TC_VARIANT_AUTO}; }

tc_status tc_linear(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *w, const tc_tensor *bias, tc_tensor *y,
                    const tc_linear_params *p)
{
    const tc_linear_params q = p ? *p : tc_linear_defaults();
    return linear(ctx, x, w, bias, y, q.relu, q.variant);
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
 * case keys: batch, in, out, bias, relu */
/* CLBLAST runs too (`tinycl bench linear --variants clblast`) but is left out here:
 * matmul's transposed-B cases check the same call, and building CLBlast's kernels
 * on a cold PoCL cache costs ~40 s under ASan. */
static const tc_variant linear_variants[] = {TC_VARIANT_REF, TC_VARIANT_CPU, TC_VARIANT_GPU, TC_VARIANT_GEMV};

#define LC(b, i, o, bias_, relu_) TC_CASE({"batch", b}, {"in", i}, {"out", o}, {"bias", bias_}, {"relu", relu_})
static const tc_case linear_cases[] = {
    LC(1, 1, 1, 0, 0),     LC(1, 1000, 17, 1, 0),  LC(3, 17, 127, 0, 1), LC(8, 127, 1000, 1, 1),
    LC(17, 3, 1000, 1, 0), LC(127, 1000, 3, 1, 1), LC(33, 64, 65, 0, 0), LC(100, 257, 96, 1, 1),
};

/* "BATCHxINxOUT", with bias and ReLU */
static int linear_parse(const char *spec, tc_case *c)
{
    int64_t v[3];
    memset(c, 0, sizeof *c);
    if (tc_parse_dims(spec, v, 3) != 3) return -1;
    tc_case_set(c, "batch", (double)v[0]);
    tc_case_set(c, "in", (double)v[1]);
    tc_case_set(c, "out", (double)v[2]);
    tc_case_set(c, "bias", 1);
    return tc_case_set(c, "relu", 1);
}

static tc_status linear_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t b = tc_case_int(cs, "batch"), in = tc_case_int(cs, "in"), out = tc_case_int(cs, "out");
    const int64_t dx[2] = {b, in}, dw[2] = {out, in}, db[1] = {out}, dy[2] = {b, out};
    float *x, *w, *bias;
    d->cs = *cs;
    tc_status s = tc_layer_input(ctx, d, 2, dx, -1.0f, 1.0f, &seed, &x);
    if (s == TC_OK) s = tc_layer_input(ctx, d, 2, dw, -1.0f, 1.0f, &seed, &w);
    if (s == TC_OK) s = tc_layer_input(ctx, d, 1, db, -1.0f, 1.0f, &seed, &bias);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, 2, dy, &seed);
    if (s == TC_OK && tc_ref_linear(x, w, tc_case_int(cs, "bias") ? bias : NULL, d->out[0].expected, b, out, in,
                                    (int)tc_case_int(cs, "relu")) != 0)
        s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    return s;
}

static tc_status linear_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    return linear(ctx, d->in[0], d->in[1], tc_case_int(&d->cs, "bias") ? d->in[2] : NULL, d->out[0].t,
                  (int)tc_case_int(&d->cs, "relu"), v);
}

static double linear_flops(const tc_case *c)
{
    return 2.0 * tc_case_num(c, "batch") * tc_case_num(c, "in") * tc_case_num(c, "out");
}

static double linear_bytes(const tc_case *c)
{
    const double b = tc_case_num(c, "batch"), in = tc_case_num(c, "in"), out = tc_case_num(c, "out");
    return 4.0 * (b * in + out * in + b * out);
}

/* as matmul: float sums of `in` products in another order than the reference */
const tc_opdesc tc_opdesc_linear = {
    .name = "linear",
    .variants = linear_variants,
    .nvariants = TC_COUNT(linear_variants),
    .cases = linear_cases,
    .ncases = TC_COUNT(linear_cases),
    .syntax = "BATCHxINxOUT (with bias and ReLU)",
    .parse = linear_parse,
    .setup = linear_setup,
    .run = linear_run,
    .flops = linear_flops,
    .bytes = linear_bytes,
    .metric = TC_METRIC_MAXREL,
    .tol = 1e-4,
};
