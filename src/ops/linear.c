/* Dense layer on the project's GEMM (weights [out, in], so B is transposed), and
 * the flatten view. */
#include <stdio.h>
#include <string.h>

#include "ops/blas.h"
#include "ops/gemm.h"
#include "ops/layer.h"
#include "ops/linear.h"
#include "ref/ref.h"

static int host_fn(void *const *in, void *out, const void *args)
{
    const tc_linear_shape *a = args;
    return tc_ref_linear(in[0], in[1], in[2], out, a->b, a->out, a->in, a->relu);
}

tc_status tc_linear_check_weights(tc_ctx *ctx, const char *op, const tc_tensor *w, const tc_tensor *bias,
                                  tc_linear_shape *s)
{
    char name[32];
    tc_status st;
    snprintf(name, sizeof name, "%s: w", op);
    if ((st = tc_check_tensor(ctx, w, name, TC_DTYPE_F32, 2)) != TC_OK) return st;
    if ((st = tc_gemm_check_extent(ctx, name, w)) != TC_OK) return st;
    s->out = w->dims[0], s->in = w->dims[1];
    if (!bias) return TC_OK;
    snprintf(name, sizeof name, "%s: bias", op);
    if ((st = tc_check_tensor(ctx, bias, name, TC_DTYPE_F32, 0)) != TC_OK) return st;
    if (bias->numel != s->out)
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: bias has %lld elements, expected %lld", op, (long long)bias->numel,
                       (long long)s->out);
    return tc_gemm_check_extent(ctx, name, bias);
}

tc_status tc_linear_check_io(tc_ctx *ctx, const char *op, const tc_tensor *x, const tc_tensor *y,
                             const tc_tensor *w, const tc_tensor *bias, tc_linear_shape *s)
{
    char xn[32], yn[32];
    tc_status st;
    snprintf(xn, sizeof xn, "%s: x", op);
    snprintf(yn, sizeof yn, "%s: y", op);
    if ((st = tc_check_tensor(ctx, x, xn, TC_DTYPE_F32, 2)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, y, yn, TC_DTYPE_F32, 2)) != TC_OK) return st;
    if (x->dims[1] != s->in)
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: x has %lld features, w has %lld (w is %lldx%lld)", op,
                       (long long)x->dims[1], (long long)s->in, (long long)s->out, (long long)s->in);
    s->b = x->dims[0];
    if (y->dims[0] != s->b || y->dims[1] != s->out)
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: y is %lldx%lld, expected %lldx%lld", op, (long long)y->dims[0],
                       (long long)y->dims[1], (long long)s->b, (long long)s->out);
    if ((st = tc_gemm_check_extent(ctx, xn, x)) != TC_OK) return st;
    if ((st = tc_gemm_check_extent(ctx, yn, y)) != TC_OK) return st;
    if ((st = tc_check_no_alias(ctx, op, y, "y", x, "x")) != TC_OK) return st;
    if ((st = tc_check_no_alias(ctx, op, y, "y", w, "w")) != TC_OK) return st;
    return tc_check_no_alias(ctx, op, y, "y", bias, "bias");
}

tc_status tc_linear_variant(tc_ctx *ctx, const char *op, tc_variant v, int64_t b, const tc_linear_shape *s,
                            tc_variant *out)
{
    const int fits = tc_blas_fits(b, s->out, s->in);
    if (v == TC_VARIANT_AUTO)
        v = ctx->host_blas && fits ? TC_VARIANT_OPENBLAS
            : ctx->is_ref          ? TC_VARIANT_REF
                                   : tc_gemm_auto(ctx, b, s->out, s->in);
    switch (v) {
    case TC_VARIANT_REF: break;
    case TC_VARIANT_OPENBLAS: {
        tc_status st = tc_blas_variant_ok(ctx, op, v, fits);
        if (st != TC_OK) return st;
        break;
    }
    case TC_VARIANT_CPU:
    case TC_VARIANT_GPU:
    case TC_VARIANT_GEMV:
    case TC_VARIANT_CLBLAST:
        if (ctx->is_ref)
            return tc_fail(ctx, TC_ERR_UNSUPPORTED, "%s: variant '%s' needs an OpenCL device", op,
                           tc_variant_name(v));
        break;
    default:
        if (v < 0 || v >= TC_VARIANT_COUNT) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: invalid variant %d", op, (int)v);
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "%s has no variant '%s'", op, tc_variant_name(v));
    }
    *out = v;
    return TC_OK;
}

tc_status tc_linear_launch(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *w, const tc_tensor *w_packed,
                           const tc_tensor *bias, tc_tensor *y, const tc_linear_shape *s, tc_variant v)
{
    if (v == TC_VARIANT_GEMV && s->b > TC_GEMV_MAX_M)
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "linear: the gemv variant needs batch <= %d (batch %lld)",
                       TC_GEMV_MAX_M, (long long)s->b);
    /* a plan chose OpenBLAS for batches whose x and y fit its ints; a larger one runs the reference */
    if (v == TC_VARIANT_OPENBLAS && !tc_blas_fits(s->b, s->out, s->in)) v = TC_VARIANT_REF;
    const double flops = 2.0 * (double)s->b * (double)s->out * (double)s->in;
    const double bytes = 4.0 * ((double)x->numel + (double)w->numel + (double)y->numel);
    tc_status st;
    tc_op_begin(ctx, "linear", v, flops, bytes);
    if (v == TC_VARIANT_REF) {
        const tc_tensor *in[3] = {x, w, bias};
        st = tc_host_run(ctx, 3, in, y, host_fn, s);
    } else if (v == TC_VARIANT_OPENBLAS) {
        const tc_blas_gemm_desc g = {.m = s->b, .n = s->out, .k = s->in, .trans_b = 1, .alpha = 1.0f, .a = tc_host(x),
                                     .b = tc_host(w), .c = tc_host(y), .bias = bias ? tc_host(bias) : NULL,
                                     .lda = s->in, .ldb = s->in, .ldc = s->out, .relu = s->relu};
        tc_blas_gemm(&g);
        st = TC_OK;
    } else {
        const int packed = v == TC_VARIANT_CPU && w_packed;
        const tc_gemm_desc g = {.m = s->b, .n = s->out, .k = s->in, .trans_b = 1, .alpha = 1.0f, .a = tc_buf(x),
                                .b = tc_buf(packed ? w_packed : w), .c = tc_buf(y),
                                .bias = bias ? tc_buf(bias) : NULL, .a_off = tc_off(x),
                                .b_off = packed ? tc_off(w_packed) : tc_off(w), .c_off = tc_off(y),
                                .bias_off = bias ? tc_off(bias) : 0, .relu = s->relu, .b_packed = packed};
        st = tc_gemm_cl(ctx, v, &g);
    }
    return tc_op_end(ctx, st);
}

tc_linear_params tc_linear_defaults(void) { return (tc_linear_params){0, TC_VARIANT_AUTO}; }

tc_status tc_linear(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *w, const tc_tensor *bias, tc_tensor *y,
                    const tc_linear_params *p)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "linear: ctx is NULL");
    const tc_linear_params q = p ? *p : tc_linear_defaults();
    tc_linear_shape s = {0, 0, 0, q.relu != 0};
    tc_variant v;
    tc_status st = tc_linear_check_weights(ctx, "linear", w, bias, &s);
    if (st == TC_OK) st = tc_linear_check_io(ctx, "linear", x, y, w, bias, &s);
    if (st == TC_OK) st = tc_linear_variant(ctx, "linear", q.variant, s.b, &s, &v);
    return st == TC_OK ? tc_linear_launch(ctx, x, w, NULL, bias, y, &s, v) : st;
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
 * case keys: batch, in, out, bias, relu, plan (1: through a tc_linear_plan made
 * on the first run of a variant and reused by later runs, as a model does) */
/* CLBLAST runs too (`tinycl bench linear --variants clblast`) but is left out here:
 * matmul's transposed-B cases check the same call, and building CLBlast's kernels
 * on a cold PoCL cache costs ~40 s under ASan. */
static const tc_variant linear_variants[] = {TC_VARIANT_REF, TC_VARIANT_CPU, TC_VARIANT_GPU, TC_VARIANT_GEMV,
                                             TC_VARIANT_OPENBLAS};

#define LC(b, i, o, bias_, relu_) TC_CASE({"batch", b}, {"in", i}, {"out", o}, {"bias", bias_}, {"relu", relu_})
#define LP(b, i, o, bias_, relu_) \
    TC_CASE({"batch", b}, {"in", i}, {"out", o}, {"bias", bias_}, {"relu", relu_}, {"plan", 1})
static const tc_case linear_cases[] = {
    LC(1, 1, 1, 0, 0),     LC(1, 1000, 17, 1, 0),  LC(3, 17, 127, 0, 1), LC(8, 127, 1000, 1, 1),
    LC(17, 3, 1000, 1, 0), LC(127, 1000, 3, 1, 1), LC(33, 64, 65, 0, 0), LC(100, 257, 96, 1, 1),
    LP(1, 64, 128, 1, 1),  LP(3, 17, 127, 1, 0),   LP(8, 1000, 17, 0, 1), LP(9, 33, 65, 1, 0),
    LP(17, 3, 1000, 1, 1), LP(100, 257, 96, 0, 0),
};

/* "BATCHxINxOUT", with bias and ReLU; ":plan" runs it through a plan */
static int linear_parse(const char *spec, tc_case *c)
{
    int64_t v[3];
    char dims[64];
    const char *tail = strchr(spec, ':');
    const size_t len = tail ? (size_t)(tail - spec) : strlen(spec);
    memset(c, 0, sizeof *c);
    if (len >= sizeof dims || (tail && strcmp(tail, ":plan") != 0)) return -1;
    memcpy(dims, spec, len);
    dims[len] = '\0';
    if (tc_parse_dims(dims, v, 3) != 3) return -1;
    if (tail) tc_case_set(c, "plan", 1);
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

static void plan_free(void *plan) { tc_linear_plan_free(plan); }

static tc_status linear_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    const tc_linear_params p = {(int)tc_case_int(&d->cs, "relu"), v};
    const tc_tensor *bias = tc_case_int(&d->cs, "bias") ? d->in[2] : NULL;
    if (!tc_case_int(&d->cs, "plan")) return tc_linear(ctx, d->in[0], d->in[1], bias, d->out[0].t, &p);
    if (!d->prep || d->prep_variant != v) {
        tc_linear_plan *plan = NULL;
        tc_status st = tc_linear_plan_create(ctx, d->in[1], bias, &p, &plan);
        if (st != TC_OK) return st;
        if (d->prep_free) d->prep_free(d->prep);
        d->prep = plan, d->prep_variant = v, d->prep_free = plan_free;
    }
    return tc_linear_plan_run(d->prep, d->in[0], d->out[0].t);
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
    .syntax = "BATCHxINxOUT[:plan] (with bias and ReLU; :plan through a tc_linear_plan)",
    .parse = linear_parse,
    .setup = linear_setup,
    .run = linear_run,
    .flops = linear_flops,
    .bytes = linear_bytes,
    .metric = TC_METRIC_MAXREL,
    .tol = 1e-4,
};
