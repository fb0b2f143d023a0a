/* Elementwise ops (add, mul, relu, gelu): validate -> ref on the host or one
 * vectorized kernel. y may be an input (in place). */
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
    const int vw = ctx->info.type == TC_DEVICE_CPU ? 16 : 4;
    char opts[16];
    snprintf(opts, sizeof opts, "-DVW=%d", vw);
    cl_kernel kern;
    tc_status st = tc_get_kernel(ctx, "eltwise", opts, kernel_names[k], &kern);
    if (st != TC_OK) return st;
    cl_mem ma = tc_buf(a), my = tc_buf(y);
    cl_ulong n = (cl_ulong)a->numel;
    if (b) {
        cl_mem mb = tc_buf(b);
        st = tc_set_args(ctx, kern, 4, TC_ARG(ma), TC_ARG(mb), TC_ARG(my), TC_ARG(n));
    } else {
        st = tc_set_args(ctx, kern, 3, TC_ARG(ma), TC_ARG(my), TC_ARG(n));
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
    tc_op_begin(ctx);
    if (v == TC_VARIANT_REF) {
        const host_args args = {k, a->numel};
        const tc_tensor *in[2] = {a, b};
        st = tc_host_run(ctx, binary ? 2 : 1, in, y, host_fn, &args);
    } else {
        st = run_cl(ctx, k, a, binary ? b : NULL, y);
    }
    return tc_op_end(ctx, op, v, k >= K_GELU_TANH ? 8.0 * n : n, 4.0 * n * (binary ? 3 : 2), st);
}

tc_status tc_add(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor *y)
{
    return eltwise(ctx, K_ADD, a, b, y, TC_VARIANT_AUTO);
}

tc_status tc_mul(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor *y)
{
    return eltwise(ctx, K_MUL, a, b, y, TC_VARIANT_AUTO);
}

tc_status tc_relu(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y)
{
    return eltwise(ctx, K_RELU, x, NULL, y, TC_VARIANT_AUTO);
}

tc_status tc_gelu(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, tc_gelu_mode mode)
{
    if (ctx && mode != TC_GELU_TANH && mode != TC_GELU_ERF)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "gelu: invalid mode %d", (int)mode);
    return eltwise(ctx, mode == TC_GELU_ERF ? K_GELU_ERF : K_GELU_TANH, x, NULL, y, TC_VARIANT_AUTO);
}

/* ---- descriptors: add, mul, relu, gelu --------------------------------------
 * case v[]: kind, rows, cols (a rows x cols tensor; sizes around every vector width) */
static const tc_variant eltwise_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL};

#define SIZES(k)                                                                                     \
    {{k, 1, 1}}, {{k, 1, 3}}, {{k, 17, 1}}, {{k, 3, 127}}, {{k, 1, 1000}}, {{k, 127, 17}}, {{k, 5, 4097}}, \
        {{k, 1, 65537}}
static const tc_case add_cases[] = {SIZES(K_ADD)};
static const tc_case mul_cases[] = {SIZES(K_MUL)};
static const tc_case relu_cases[] = {SIZES(K_RELU)};
static const tc_case gelu_cases[] = {SIZES(K_GELU_TANH), SIZES(K_GELU_ERF)};

static void eltwise_describe(const tc_case *c, char *buf, size_t n)
{
    snprintf(buf, n, "%lldx%lld%s", (long long)c->v[1], (long long)c->v[2], c->v[0] == K_GELU_ERF ? " erf" : "");
}

static void eltwise_json(const tc_case *c, char *buf, size_t n)
{
    snprintf(buf, n, "{\"rows\":%lld,\"cols\":%lld%s}", (long long)c->v[1], (long long)c->v[2],
             c->v[0] == K_GELU_ERF ? ",\"mode\":\"erf\"" : "");
}

/* "N" or "RxC" */
static int parse_kind(const char *spec, tc_case *c, kind k)
{
    memset(c, 0, sizeof *c);
    int64_t d[2];
    int n = tc_parse_dims(spec, d, 2);
    if (n < 1) return -1;
    c->v[0] = k, c->v[1] = n == 2 ? d[0] : 1, c->v[2] = d[n - 1];
    return 0;
}
static int add_parse(const char *spec, tc_case *c) { return parse_kind(spec, c, K_ADD); }
static int mul_parse(const char *spec, tc_case *c) { return parse_kind(spec, c, K_MUL); }
static int relu_parse(const char *spec, tc_case *c) { return parse_kind(spec, c, K_RELU); }
static int gelu_parse(const char *spec, tc_case *c) { return parse_kind(spec, c, K_GELU_TANH); }

static tc_status eltwise_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const kind k = (kind)cs->v[0];
    const int64_t dims[2] = {cs->v[1], cs->v[2]};
    const float r = k >= K_GELU_TANH ? 5.0f : 1.0f; /* GELU: both tails */
    float *a, *b;
    d->cs = *cs;
    tc_status s = tc_layer_input(ctx, d, 2, dims, -r, r, &seed, &a);
    if (s == TC_OK && k <= K_MUL) s = tc_layer_input(ctx, d, 2, dims, -r, r, &seed, &b);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, 2, dims, &seed);
    if (s != TC_OK) return s;
    const host_args args = {k, dims[0] * dims[1]};
    host_fn(d->host_in, d->expected, &args);
    return TC_OK;
}

static tc_status eltwise_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    const kind k = (kind)d->cs.v[0];
    return eltwise(ctx, k, d->in[0], k <= K_MUL ? d->in[1] : NULL, d->out, v);
}

static double eltwise_flops(const tc_case *c) { return (c->v[0] >= K_GELU_TANH ? 8.0 : 1.0) * c->v[1] * c->v[2]; }
static double eltwise_bytes(const tc_case *c) { return 4.0 * (c->v[0] <= K_MUL ? 3 : 2) * c->v[1] * c->v[2]; }

#define ELTWISE_DESC(name, tol)                                                                               \
    const tc_opdesc tc_opdesc_##name = {                                                                      \
        #name,         eltwise_variants, 2, name##_cases, (int)(sizeof name##_cases / sizeof name##_cases[0]), \
        eltwise_describe, eltwise_json,  name##_parse,    eltwise_setup,                                     \
        eltwise_run,   eltwise_flops,    eltwise_bytes,  TC_METRIC_MAXREL,                                    \
        tol,           "N or ROWSxCOLS",                                                                      \
    }
/* add, mul, relu are exact in IEEE single precision. GELU: float rounding of
 * u = sqrt(2 / pi) (x + 0.044715 x^3) is amplified by |2u| <= 17 for |x| <= 5 in
 * exp(-2u), so ~3e-6 relative on the smallest results (a 1-element case) */
ELTWISE_DESC(add, 0.0);
ELTWISE_DESC(mul, 0.0);
ELTWISE_DESC(relu, 0.0);
ELTWISE_DESC(gelu, 1e-5);
