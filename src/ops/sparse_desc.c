/* Check descriptors of the sparse ops (check/opdesc.h): spmv, spmm, sparse_linear
 * (through a plan) and sparse_conv2d (through a plan). Weights are random, pruned
 * on the device under test by tc_prune_magnitude (blocks for a BSR format) and
 * read back; the expected outputs come from the dense references on those pruned
 * weights, so the sparse formats, kernels and references are all checked
 * against code that knows nothing of sparsity. */
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "ops/layer.h"
#include "ops/sparse.h"

/* Case keys: batch (not spmv), out, in, sparsity (a fraction), format (a name),
 * empty (rows r with r % empty == 0 are zero before pruning; 1: all-zero
 * weights), bias, relu; sparse_conv2d: conv2d's keys, sparsity and format. */

static const tc_variant sparse_variants[] = {TC_VARIANT_REF, TC_VARIANT_CPU, TC_VARIANT_GPU};
static const tc_variant plan_variants[] = {TC_VARIANT_AUTO, TC_VARIANT_REF, TC_VARIANT_CPU, TC_VARIANT_GPU};

static tc_sparse_format case_format(const tc_case *c)
{
    tc_sparse_format f = TC_SPARSE_AUTO;
    const char *name = tc_case_str(c, "format");
    if (name && tc_sparse_format_parse(name, &f) != TC_OK) f = TC_SPARSE_FORMAT_COUNT;
    return f;
}

/* the pruning pattern whose blocks a format stores */
static tc_prune_pattern pattern_of(tc_sparse_format f)
{
    switch (f) {
    case TC_SPARSE_BSR_1X4: return TC_PRUNE_BLOCK_1X4;
    case TC_SPARSE_BSR_1X8: return TC_PRUNE_BLOCK_1X8;
    case TC_SPARSE_BSR_4X4: return TC_PRUNE_BLOCK_4X4;
    default: return TC_PRUNE_ELEMENT;
    }
}

/* Prunes input i (the weights) on the context and refreshes its host copy. */
static tc_status prune_input(tc_ctx *ctx, tc_opdata *d, int i)
{
    const tc_sparse_format f = case_format(&d->cs);
    if (f == TC_SPARSE_FORMAT_COUNT)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "unknown format '%s'", tc_case_str(&d->cs, "format"));
    tc_status st = tc_prune_magnitude(ctx, d->in[i], tc_case_num(&d->cs, "sparsity"), pattern_of(f));
    return st == TC_OK ? tc_tensor_read(d->in[i], d->host_in[i], tc_tensor_bytes(d->in[i])) : st;
}

/* ---- spmv, spmm, sparse_linear ------------------------------------------------ */

#define SV(o, i, s, f, e, b, r)                                                                                   \
    TC_CASE({"out", o}, {"in", i}, {"sparsity", s}, {"format", 0, f}, {"empty", e}, {"bias", b}, {"relu", r})
static const tc_case spmv_cases[] = {
    SV(1, 1, 0, "csr", 0, 0, 0),         SV(17, 33, 0.5, "csr", 0, 1, 0),    SV(127, 1000, 0.9, "csr", 3, 0, 1),
    SV(1000, 127, 0.99, "csr", 0, 1, 1), SV(1000, 1000, 0.999, "csr", 0, 1, 0), SV(64, 64, 0.9, "bsr1x4", 0, 1, 0),
    SV(33, 64, 0.5, "bsr4x4", 5, 1, 1),  SV(40, 128, 0.9, "bsr1x8", 0, 0, 1), SV(9, 16, 0, "auto", 1, 1, 0),
    SV(50, 60, 0.9, "auto", 0, 0, 0),
};

#define SM(bt, o, i, s, f, e, b, r)                                                                              \
    TC_CASE({"batch", bt}, {"out", o}, {"in", i}, {"sparsity", s}, {"format", 0, f}, {"empty", e}, {"bias", b},  \
            {"relu", r})
static const tc_case spmm_cases[] = {
    SM(2, 17, 33, 0.5, "csr", 0, 1, 0),     SM(3, 127, 100, 0.9, "csr", 3, 0, 1),
    SM(16, 64, 64, 0.9, "bsr1x4", 0, 1, 0), SM(17, 33, 64, 0.5, "bsr4x4", 0, 1, 1),
    SM(32, 200, 256, 0.9, "csr", 0, 1, 1),  SM(33, 40, 128, 0.99, "bsr1x8", 2, 0, 0),
    SM(100, 96, 257, 0.7, "csr", 0, 0, 1),  SM(5, 9, 16, 0, "auto", 1, 1, 0),
    SM(1, 50, 60, 0.9, "csr", 0, 1, 0),     SM(8, 300, 64, 0, "csr", 0, 0, 0),
};

static const tc_case sparse_linear_cases[] = {
    SM(1, 128, 64, 0.9, "csr", 0, 1, 1),  SM(3, 127, 17, 0.5, "auto", 0, 1, 0),
    SM(9, 33, 100, 0.99, "csr", 4, 0, 1), SM(32, 64, 128, 0.9, "bsr4x4", 0, 1, 1),
    SM(17, 40, 64, 0, "csr", 0, 1, 0),    SM(8, 96, 256, 0.95, "bsr1x4", 0, 0, 0),
};

/* ":SPARSITY[:FORMAT]" (format csr when left out) into the keys sparsity and format */
static int parse_tail(const char *tail, tc_case *c)
{
    char *end;
    tc_sparse_format f = TC_SPARSE_CSR;
    if (*tail != ':') return -1;
    const double s = strtod(tail + 1, &end);
    if (end == tail + 1 || (*end && (*end != ':' || tc_sparse_format_parse(end + 1, &f) != TC_OK))) return -1;
    tc_case_set(c, "sparsity", s);
    return tc_case_set_str(c, "format", tc_sparse_format_name(f));
}

/* "OUTxIN:SPARSITY[:FORMAT]", or with BATCHx in front (batched ops), with bias and ReLU */
static int parse_sparse(const char *spec, tc_case *c, int batched)
{
    int64_t v[3];
    char dims[64];
    memset(c, 0, sizeof *c);
    const char *colon = strchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof dims) return -1;
    memcpy(dims, spec, (size_t)(colon - spec));
    dims[colon - spec] = '\0';
    if (tc_parse_dims(dims, v, 3) != 2 + batched) return -1;
    if (batched) tc_case_set(c, "batch", (double)v[0]);
    tc_case_set(c, "out", (double)v[batched]);
    tc_case_set(c, "in", (double)v[batched + 1]);
    tc_case_set(c, "bias", 1);
    tc_case_set(c, "relu", 1);
    return parse_tail(colon, c);
}

static int spmv_parse(const char *spec, tc_case *c) { return parse_sparse(spec, c, 0); }
static int spmm_parse(const char *spec, tc_case *c) { return parse_sparse(spec, c, 1); }

static tc_status sparse_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int batched = tc_case_int(cs, "batch") > 0;
    const int64_t b = batched ? tc_case_int(cs, "batch") : 1, in = tc_case_int(cs, "in"), out = tc_case_int(cs, "out");
    const int64_t empty = tc_case_int(cs, "empty");
    const int64_t dx[2] = {b, in}, dw[2] = {out, in}, dbias[1] = {out}, dy[2] = {b, out};
    d->cs = *cs;
    float *x, *bias, *w = malloc((size_t)(out * in) * sizeof *w);
    if (!w) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    tc_rand_f32(w, (size_t)(out * in), -1.0f, 1.0f, &seed);
    for (int64_t r = 0; empty > 0 && r < out; r += empty) memset(w + r * in, 0, (size_t)in * sizeof *w);
    tc_status s = tc_layer_input(ctx, d, batched ? 2 : 1, batched ? dx : dx + 1, -1.0f, 1.0f, &seed, &x);
    if (s == TC_OK) s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 2, dw, w);
    else free(w);
    if (s == TC_OK) s = tc_layer_input(ctx, d, 1, dbias, -1.0f, 1.0f, &seed, &bias);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, batched ? 2 : 1, batched ? dy : dy + 1, &seed);
    if (s == TC_OK) s = prune_input(ctx, d, 1);
    if (s == TC_OK && tc_ref_linear(x, w, tc_case_int(cs, "bias") ? bias : NULL, d->out[0].expected, b, out, in,
                                    (int)tc_case_int(cs, "relu")) != 0)
        s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    return s;
}

static void matrix_free(void *a) { tc_sparse_free(a); }

/* The matrix is built on the first run and kept for every variant. */
static tc_status sparse_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    if (!d->prep) {
        tc_status st = tc_sparse_from_dense(ctx, d->in[1], case_format(&d->cs), (tc_sparse **)&d->prep);
        if (st != TC_OK) return st;
        d->prep_free = matrix_free;
    }
    const tc_spmm_params p = {tc_case_int(&d->cs, "bias") ? d->in[2] : NULL, (int)tc_case_int(&d->cs, "relu"), v};
    return (d->in[0]->ndim == 1 ? tc_spmv : tc_spmm)(ctx, d->prep, d->in[0], d->out[0].t, &p);
}

static void linear_plan_free(void *plan) { tc_sparse_linear_plan_free(plan); }

static tc_status sparse_linear_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    if (!d->prep || d->prep_variant != v) {
        const tc_sparse_linear_params p = {(int)tc_case_int(&d->cs, "relu"), case_format(&d->cs), v};
        tc_sparse_linear_plan *plan = NULL;
        tc_status st = tc_sparse_linear_plan_create(ctx, d->in[1], tc_case_int(&d->cs, "bias") ? d->in[2] : NULL,
                                                    &p, &plan);
        if (st != TC_OK) return st;
        if (d->prep_free) d->prep_free(d->prep);
        d->prep = plan, d->prep_variant = v, d->prep_free = linear_plan_free;
    }
    return tc_sparse_linear_plan_run(d->prep, d->in[0], d->out[0].t);
}

/* useful work: the non-zero weights' products */
static double sparse_flops(const tc_case *c)
{
    const double b = tc_case_int(c, "batch") > 0 ? tc_case_num(c, "batch") : 1.0;
    return 2.0 * b * tc_case_num(c, "in") * tc_case_num(c, "out") * (1.0 - tc_case_num(c, "sparsity"));
}

/* CSR's bytes (value and index per non-zero, row pointers) plus x and y */
static double sparse_bytes(const tc_case *c)
{
    const double b = tc_case_int(c, "batch") > 0 ? tc_case_num(c, "batch") : 1.0;
    const double in = tc_case_num(c, "in"), out = tc_case_num(c, "out");
    return 8.0 * in * out * (1.0 - tc_case_num(c, "sparsity")) + 4.0 * (out + 1 + b * (in + out));
}

#define SPARSE_DESC(name_, variants_, cases_, syntax_, parse_, run_)                                              \
    {                                                                                                               \
        .name = name_, .variants = variants_, .nvariants = TC_COUNT(variants_), .cases = cases_,                   \
        .ncases = TC_COUNT(cases_), .syntax = syntax_, .parse = parse_, .setup = sparse_setup, .run = run_,         \
        .flops = sparse_flops, .bytes = sparse_bytes, .metric = TC_METRIC_MAXREL, .tol = 1e-4,                      \
    }
/* float sums of the non-zero products in another order than the dense reference */
const tc_opdesc tc_opdesc_spmv = SPARSE_DESC("spmv", sparse_variants, spmv_cases,
                                             "OUTxIN:SPARSITY[:FORMAT] (with bias and ReLU; FORMAT csr, bsr1x4, "
                                             "bsr1x8, bsr4x4, auto)",
                                             spmv_parse, sparse_run);
const tc_opdesc tc_opdesc_spmm = SPARSE_DESC("spmm", sparse_variants, spmm_cases,
                                             "BATCHxOUTxIN:SPARSITY[:FORMAT] (as spmv)", spmm_parse, sparse_run);
const tc_opdesc tc_opdesc_sparse_linear =
    SPARSE_DESC("sparse_linear", plan_variants, sparse_linear_cases,
                "BATCHxOUTxIN:SPARSITY[:FORMAT] (through a tc_sparse_linear_plan; auto runs dense below the "
                "device's breakeven)",
                spmm_parse, sparse_linear_run);

/* ---- sparse_conv2d ----------------------------------------------------------- */

extern const tc_opdesc tc_opdesc_conv2d;

#define SC(n_, c_, h_, w_, k_, r_, s_, st_, pad_, dil_, g_, bias_, relu_, sp_, f_)                                 \
    TC_CASE({"n", n_}, {"c", c_}, {"h", h_}, {"w", w_}, {"k", k_}, {"r", r_}, {"s", s_}, {"stride_h", st_},        \
            {"stride_w", st_}, {"pad_h", pad_}, {"pad_w", pad_}, {"dil_h", dil_}, {"dil_w", dil_}, {"groups", g_},  \
            {"bias", bias_}, {"relu", relu_}, {"sparsity", sp_}, {"format", 0, f_})
static const tc_case sparse_conv2d_cases[] = {
    SC(1, 3, 7, 7, 8, 3, 3, 1, 1, 1, 1, 1, 0, 0.5, "csr"),
    SC(2, 8, 9, 9, 16, 3, 3, 2, 1, 1, 1, 1, 1, 0.9, "bsr4x4"),
    SC(1, 16, 5, 5, 17, 1, 1, 1, 0, 1, 1, 0, 1, 0.9, "csr"),
    SC(1, 8, 6, 6, 8, 3, 3, 1, 1, 1, 2, 1, 0, 0.7, "csr"),
    SC(1, 8, 10, 10, 8, 3, 3, 1, 1, 1, 2, 0, 1, 0.9, "bsr4x4"),
    SC(2, 4, 1, 1, 6, 1, 1, 1, 0, 1, 1, 1, 0, 0.5, "csr"),
    SC(1, 32, 14, 14, 32, 1, 1, 1, 0, 1, 1, 1, 0, 0.99, "bsr1x8"),
    SC(1, 3, 17, 17, 8, 3, 3, 1, 2, 2, 1, 0, 0, 0.8, "auto"),
};

/* conv2d's spec, then :SPARSITY[:FORMAT], e.g. n1c64h56w56k64r3s3pad1:0.9:csr */
static int sparse_conv2d_parse(const char *spec, tc_case *c)
{
    char conv[128];
    const char *colon = strchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof conv) return -1;
    memcpy(conv, spec, (size_t)(colon - spec));
    conv[colon - spec] = '\0';
    return tc_opdesc_conv2d.parse(conv, c) != 0 ? -1 : parse_tail(colon, c);
}

static tc_status sparse_conv2d_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    tc_status s = tc_opdesc_conv2d.setup(ctx, cs, seed, d);
    if (s == TC_OK) s = prune_input(ctx, d, 1);
    if (s != TC_OK) return s;
    const tc_tensor *x = d->in[0], *w = d->in[1], *y = d->out[0].t;
    const tc_conv_dims g = {x->dims[0], x->dims[1], x->dims[2], x->dims[3], w->dims[0], w->dims[2], w->dims[3],
                            y->dims[2], y->dims[3], tc_case_int(cs, "stride_h"), tc_case_int(cs, "stride_w"),
                            tc_case_int(cs, "pad_h"), tc_case_int(cs, "pad_w"), tc_case_int(cs, "dil_h"),
                            tc_case_int(cs, "dil_w"), tc_case_int(cs, "groups")};
    tc_ref_conv2d(d->host_in[0], d->host_in[1], tc_case_int(cs, "bias") ? d->host_in[2] : NULL, d->out[0].expected, &g,
                  (int)tc_case_int(cs, "relu"));
    return TC_OK;
}

static void conv_plan_free(void *plan) { tc_sparse_conv2d_plan_free(plan); }

static tc_status sparse_conv2d_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    if (!d->prep || d->prep_variant != v) {
        const tc_case *c = &d->cs;
        const tc_conv2d_params p = {(int)tc_case_int(c, "stride_h"), (int)tc_case_int(c, "stride_w"),
                                    (int)tc_case_int(c, "pad_h"),    (int)tc_case_int(c, "pad_w"),
                                    (int)tc_case_int(c, "dil_h"),    (int)tc_case_int(c, "dil_w"),
                                    (int)tc_case_int(c, "groups"),   tc_case_int(c, "bias") ? d->in[2] : NULL,
                                    (int)tc_case_int(c, "relu"),     v};
        tc_sparse_conv2d_plan *plan = NULL;
        tc_status st = tc_sparse_conv2d_plan_create(ctx, d->in[1], d->in[0]->dims + 1, &p, case_format(c), &plan);
        if (st != TC_OK) return st;
        if (d->prep_free) d->prep_free(d->prep);
        d->prep = plan, d->prep_variant = v, d->prep_free = conv_plan_free;
    }
    return tc_sparse_conv2d_plan_run(d->prep, d->in[0], d->out[0].t);
}

static double sparse_conv2d_flops(const tc_case *c)
{
    return tc_opdesc_conv2d.flops(c) * (1.0 - tc_case_num(c, "sparsity"));
}

/* conv2d's bytes with the dense weights replaced by CSR's value and index per non-zero */
static double sparse_conv2d_bytes(const tc_case *c)
{
    const double w = tc_case_num(c, "k") * tc_case_num(c, "c") / tc_case_num(c, "groups") * tc_case_num(c, "r") *
                     tc_case_num(c, "s");
    return tc_opdesc_conv2d.bytes(c) - 4.0 * w + 8.0 * w * (1.0 - tc_case_num(c, "sparsity"));
}

const tc_opdesc tc_opdesc_sparse_conv2d = {
    .name = "sparse_conv2d",
    .variants = sparse_variants,
    .nvariants = TC_COUNT(sparse_variants),
    .cases = sparse_conv2d_cases,
    .ncases = TC_COUNT(sparse_conv2d_cases),
    .syntax = "conv2d's spec, then :SPARSITY[:FORMAT], e.g. n1c64h56w56k64r3s3pad1:0.9:csr",
    .parse = sparse_conv2d_parse,
    .setup = sparse_conv2d_setup,
    .run = sparse_conv2d_run,
    .flops = sparse_conv2d_flops,
    .bytes = sparse_conv2d_bytes,
    .metric = TC_METRIC_MAXREL,
    .tol = 1e-4,
};
