/* Elementwise ops (add, mul, relu, gelu): validate -> ref on the host or one
 * vectorized kernel. y may be an input (in place). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/layer.h"
#include "ref/ref.h"

typedef enum { K_ADD, K_MUL, K_RELU, K_GELU_TANH, K_GELU_ERF } kind;
static const char *const kernel_names[] = {"add", "mul", "relu", "gelu_tanh", "gelu_erf"};
static const char *const op_names[] = {"add", "mul", "relu", "gelu", "gelu"};

typedef struct {
    kind k;
    int64_t n;
} host_args;

static int host_fn(void *const *in, void *out, const void *args)
{
    const host_args *a = args;
    switch (a->k) {
    case K_ADD: tc_ref_add(in[0], in[1], out, a->n); break;
    case K_MUL: tc_ref_mul(in[0], in[1], out, a->n); break;
    case K_RELU: tc_ref_relu(in[0], out, a->n); break;
    case K_GELU_TANH: tc_ref_gelu(in[0], out, a->n, TC_GELU_TANH); break;
    case K_GELU_ERF: tc_ref_gelu(in[0], out, a->n, TC_GELU_ERF); break;
    }
    return 0;
}

static tc_status run_cl(tc_ctx *ctx, kind k, const tc_tensor *a, const tc_tensor *b, tc_tensor *y)
{
    const int vw = ctx->params.eltwise.vw;
    char opts[16];
    snprintf(opts, sizeof opts, "-DVW=%d", vw);
    cl_kernel kern;
    tc_status st = tc_get_kernel(ctx, "eltwise", opts, kernel_names[k], &kern);
    if (st != TC_OK) return st;
    cl_mem ma = tc_buf(a), my = tc_buf(y);
    cl_ulong n = (cl_ulong)a->numel, ao = tc_off(a), yo = tc_off(y);
    if (b) {
        cl_mem mb = tc_buf(b);
        cl_ulong bo = tc_off(b);
        st = tc_set_args(ctx, kern, 7, TC_ARG(ma), TC_ARG(ao), TC_ARG(mb), TC_ARG(bo), TC_ARG(my), TC_ARG(yo), TC_ARG(n));
    } else {
        st = tc_set_args(ctx, kern, 5, TC_ARG(ma), TC_ARG(ao), TC_ARG(my), TC_ARG(yo), TC_ARG(n));
    }
    if (st != TC_OK) return st;
    return tc_launch_1d(ctx, kern, kernel_names[k], ((size_t)a->numel + (size_t)vw - 1) / (size_t)vw);
}

/* b is used by the binary kinds only. */
static tc_status eltwise(tc_ctx *ctx, kind k, const tc_tensor *a, const tc_tensor *b, tc_tensor *y, tc_variant v)
{
    const char *op = op_names[k];
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: ctx is NULL", op);
    const int binary = k == K_ADD || k == K_MUL;
    const char *an = binary ? "a" : "x";
    char na[32], nb[32], ny[32];
    snprintf(na, sizeof na, "%s: %s", op, an);
    snprintf(nb, sizeof nb, "%s: b", op);
    snprintf(ny, sizeof ny, "%s: y", op);
    tc_status st;
    if ((st = tc_check_tensor(ctx, a, na, TC_DTYPE_F32, 0)) != TC_OK) return st;
    if (binary && (st = tc_check_tensor(ctx, b, nb, TC_DTYPE_F32, 0)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, y, ny, TC_DTYPE_F32, 0)) != TC_OK) return st;
    if (binary && (st = tc_check_same_dims(ctx, op, a, an, b, "b")) != TC_OK) return st;
    if ((st = tc_check_same_dims(ctx, op, a, an, y, "y")) != TC_OK) return st;
    if ((st = tc_layer_variant(ctx, op, v, TC_VARIANT_AUTO, &v)) != TC_OK) return st;
    const double n = (double)a->numel;
    tc_op_begin(ctx, op, v, k >= K_GELU_TANH ? 8.0 * n : n, 4.0 * n * (binary ? 3 : 2));
    if (v == TC_VARIANT_REF) {
        const host_args args = {k, a->numel};
        const tc_tensor *in[2] = {a, b};
        st = tc_host_run(ctx, binary ? 2 : 1, in, y, host_fn, &args);
    } else {
        st = run_cl(ctx, k, a, binary ? b : NULL, y);
    }
    return tc_op_end(ctx, st);
}

tc_op_params tc_op_defaults(void) { return (tc_op_params){TC_VARIANT_AUTO}; }
tc_gelu_params tc_gelu_defaults(void) { return (tc_gelu_params){TC_GELU_TANH, TC_VARIANT_AUTO}; }

static tc_variant variant_of(const tc_op_params *p) { return p ? p->variant : TC_VARIANT_AUTO; }

tc_status tc_add(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor *y, const tc_op_params *p)
{
    return eltwise(ctx, K_ADD, a, b, y, variant_of(p));
}

tc_status tc_mul(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor *y, const tc_op_params *p)
{
    return eltwise(ctx, K_MUL, a, b, y, variant_of(p));
}

tc_status tc_relu(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_op_params *p)
{
    return eltwise(ctx, K_RELU, x, NULL, y, variant_of(p));
}

tc_status tc_gelu(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_gelu_params *p)
{
    const tc_gelu_params g = p ? *p : tc_gelu_defaults();
    if (ctx && g.mode != TC_GELU_TANH && g.mode != TC_GELU_ERF)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "gelu: invalid mode %d", (int)g.mode);
    return eltwise(ctx, g.mode == TC_GELU_ERF ? K_GELU_ERF : K_GELU_TANH, x, NULL, y, g.variant);
}

/* ---- descriptors: add, mul, relu, gelu --------------------------------------
 * case keys: rows, cols (a rows x cols tensor; sizes around every vector width);
 * gelu: mode "tanh" or "erf" */
static const tc_variant eltwise_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL};

/* the last argument: one more key, or {NULL} */
#define SIZE(r, c, ...) TC_CASE({"rows", r}, {"cols", c}, __VA_ARGS__)
#define SIZES(...)                                                                                             \
    SIZE(1, 1, __VA_ARGS__), SIZE(1, 3, __VA_ARGS__), SIZE(17, 1, __VA_ARGS__), SIZE(3, 127, __VA_ARGS__),    \
        SIZE(1, 1000, __VA_ARGS__), SIZE(127, 17, __VA_ARGS__), SIZE(5, 4097, __VA_ARGS__),                   \
        SIZE(1, 65537, __VA_ARGS__)
static const tc_case plain_cases[] = {SIZES({NULL})};
static const tc_case gelu_cases[] = {SIZES({"mode", 0, "tanh"}), SIZES({"mode", 0, "erf"})};

static kind gelu_kind(const tc_case *c)
{
    const char *m = tc_case_str(c, "mode");
    return m && strcmp(m, "erf") == 0 ? K_GELU_ERF : K_GELU_TANH;
}

/* "N" or "RxC" */
static int parse_size(const char *spec, tc_case *c)
{
    memset(c, 0, sizeof *c);
    int64_t d[2];
    int n = tc_parse_dims(spec, d, 2);
    if (n < 1) return -1;
    tc_case_set(c, "rows", (double)(n == 2 ? d[0] : 1));
    tc_case_set(c, "cols", (double)d[n - 1]);
    return 0;
}

static int gelu_parse(const char *spec, tc_case *c)
{
    if (parse_size(spec, c) != 0) return -1;
    return tc_case_set_str(c, "mode", "tanh");
}

static int64_t case_numel(const tc_case *c) { return tc_case_int(c, "rows") * tc_case_int(c, "cols"); }

static tc_status setup_kind(tc_ctx *ctx, kind k, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t dims[2] = {tc_case_int(cs, "rows"), tc_case_int(cs, "cols")};
    const float r = k >= K_GELU_TANH ? 5.0f : 1.0f; /* GELU: both tails */
    float *a, *b;
    d->cs = *cs;
    tc_status s = tc_layer_input(ctx, d, 2, dims, -r, r, &seed, &a);
    if (s == TC_OK && k <= K_MUL) s = tc_layer_input(ctx, d, 2, dims, -r, r, &seed, &b);
    /* relu: NaN propagates (a few inputs are NaN) */
    if (s == TC_OK && k == K_RELU) {
        for (int64_t i = 3; i < dims[0] * dims[1]; i += 7) a[i] = NAN;
        s = tc_tensor_write(d->in[0], a, d->in[0]->bytes);
    }
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, 2, dims, &seed);
    if (s != TC_OK) return s;
    const host_args args = {k, dims[0] * dims[1]};
    host_fn(d->host_in, d->out[0].expected, &args);
    return TC_OK;
}

/* through the public calls, so their params are what the checks exercise */
static tc_status run_kind(tc_ctx *ctx, kind k, tc_opdata *d, tc_variant v)
{
    const tc_op_params p = {v};
    switch (k) {
    case K_ADD: return tc_add(ctx, d->in[0], d->in[1], d->out[0].t, &p);
    case K_MUL: return tc_mul(ctx, d->in[0], d->in[1], d->out[0].t, &p);
    case K_RELU: return tc_relu(ctx, d->in[0], d->out[0].t, &p);
    default: return tc_gelu(ctx, d->in[0], d->out[0].t, &(tc_gelu_params){k == K_GELU_ERF ? TC_GELU_ERF : TC_GELU_TANH, v});
    }
}

#define KIND_FNS(name, k)                                                                                     \
    static tc_status name##_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)                 \
    {                                                                                                          \
        return setup_kind(ctx, k, cs, seed, d);                                                                \
    }                                                                                                          \
    static tc_status name##_run(tc_ctx *ctx, tc_opdata *d, tc_variant v) { return run_kind(ctx, k, d, v); }   \
    static double name##_flops(const tc_case *c) { return (k >= K_GELU_TANH ? 8.0 : 1.0) * (double)case_numel(c); } \
    static double name##_bytes(const tc_case *c) { return 4.0 * (k <= K_MUL ? 3 : 2) * (double)case_numel(c); }
KIND_FNS(add, K_ADD)
KIND_FNS(mul, K_MUL)
KIND_FNS(relu, K_RELU)

static tc_status gelu_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    return setup_kind(ctx, gelu_kind(cs), cs, seed, d);
}
static tc_status gelu_run(tc_ctx *ctx, tc_opdata *d, tc_variant v) { return run_kind(ctx, gelu_kind(&d->cs), d, v); }
static double gelu_flops(const tc_case *c) { return 8.0 * (double)case_numel(c); }
static double gelu_bytes(const tc_case *c) { return 8.0 * (double)case_numel(c); }

#define ELTWISE_DESC(op, cases_, parse_, tol_)                                                                 \
    const tc_opdesc tc_opdesc_##op = {                                                                         \
        .name = #op,                                                                                           \
        .variants = eltwise_variants,                                                                          \
        .nvariants = TC_COUNT(eltwise_variants),                                                               \
        .cases = cases_,                                                                                       \
        .ncases = TC_COUNT(cases_),                                                                            \
        .syntax = "N or ROWSxCOLS",                                                                            \
        .parse = parse_,                                                                                       \
        .setup = op##_setup,                                                                                   \
        .run = op##_run,                                                                                       \
        .flops = op##_flops,                                                                                   \
        .bytes = op##_bytes,                                                                                   \
        .metric = TC_METRIC_MAXREL,                                                                            \
        .tol = tol_,                                                                                           \
    }
/* add, mul, relu are exact in IEEE single precision. GELU: float rounding of
 * u = sqrt(2 / pi) (x + 0.044715 x^3) is amplified by |2u| <= 17 for |x| <= 5 in
 * exp(-2u), so ~3e-6 relative on the smallest results (a 1-element case) */
ELTWISE_DESC(add, plain_cases, parse_size, 0.0);
ELTWISE_DESC(mul, plain_cases, parse_size, 0.0);
ELTWISE_DESC(relu, plain_cases, parse_size, 0.0);
ELTWISE_DESC(gelu, gelu_cases, gelu_parse, 1e-5);
