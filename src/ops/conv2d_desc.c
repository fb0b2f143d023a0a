/* The check descriptors of conv2d and conv2d_plan (check/opdesc.h): the same cases,
 * inputs and counts, run through tc_conv2d or through a plan. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "ref/ref.h"

/* Case keys: n, c, h, w, k, r, s, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w,
 * groups, bias, relu. Bench size spec: keys with values, in any order, e.g.
 * n1c64h56w56k64r3s3pad1: n (default 1) c h w k r s (required), st (stride), pad,
 * dil, g (groups), and the words bias and relu. */

static const tc_variant conv2d_variants[] = {TC_VARIANT_REF,    TC_VARIANT_CPU,     TC_VARIANT_GPU,
                                             TC_VARIANT_IM2COL, TC_VARIANT_CLBLAST, TC_VARIANT_OPENBLAS};

#define CV(n_, c_, h_, w_, k_, r_, s_, sth, stw, ph, pw, dh, dw, g_, bias_, relu_)                                \
    TC_CASE({"n", n_}, {"c", c_}, {"h", h_}, {"w", w_}, {"k", k_}, {"r", r_}, {"s", s_}, {"stride_h", sth},        \
            {"stride_w", stw}, {"pad_h", ph}, {"pad_w", pw}, {"dil_h", dh}, {"dil_w", dw}, {"groups", g_},          \
            {"bias", bias_}, {"relu", relu_})
static const tc_case conv2d_cases[] = {
    CV(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0),
    CV(1, 3, 7, 7, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0),
    CV(2, 17, 13, 13, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    CV(1, 16, 13, 7, 17, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1),
    CV(3, 4, 9, 11, 8, 5, 5, 2, 2, 2, 2, 1, 1, 1, 1, 0),
    CV(1, 3, 17, 17, 8, 7, 7, 2, 2, 3, 3, 1, 1, 1, 1, 1),
    CV(1, 6, 13, 13, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1, 0, 0),
    CV(2, 8, 7, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, 1, 0),
    CV(1, 17, 13, 13, 17, 3, 3, 1, 1, 1, 1, 1, 1, 17, 1, 1),
    CV(2, 32, 14, 14, 32, 3, 3, 2, 2, 1, 1, 1, 1, 32, 0, 1),
    CV(1, 5, 13, 9, 7, 3, 1, 2, 1, 1, 0, 2, 1, 1, 1, 0),
    CV(1, 64, 20, 20, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0),
    CV(1, 8, 1, 1, 9, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0),
    CV(2, 3, 5, 5, 16, 3, 3, 3, 3, 0, 0, 1, 1, 1, 0, 0),
    CV(1, 12, 7, 7, 24, 3, 3, 1, 1, 1, 1, 1, 1, 3, 1, 1),
    CV(1, 17, 30, 30, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    CV(1, 2, 1, 7, 3, 1, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0),
    CV(1, 4, 16, 16, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0),
    CV(1, 4, 9, 20, 6, 3, 3, 1, 2, 0, 1, 1, 1, 1, 0, 0),
    CV(1, 16, 9, 9, 16, 1, 1, 2, 2, 0, 0, 1, 1, 4, 0, 1),
    CV(2, 3, 5, 1, 2, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 0),
    CV(1, 7, 11, 12, 5, 3, 3, 3, 3, 2, 2, 2, 2, 1, 0, 1),
    CV(1, 2, 12, 10, 9, 9, 9, 1, 1, 4, 4, 1, 1, 1, 1, 1),
};

static int conv2d_parse(const char *spec, tc_case *c)
{
    /* spec key -> the case keys it sets */
    static const char *const keys[] = {"n", "c", "h", "w", "k", "r", "s", "st", "pad", "dil", "g"};
    static const char *const set[][2] = {{"n", NULL},        {"c", NULL},          {"h", NULL},
                                         {"w", NULL},        {"k", NULL},          {"r", NULL},
                                         {"s", NULL},        {"stride_h", "stride_w"}, {"pad_h", "pad_w"},
                                         {"dil_h", "dil_w"}, {"groups", NULL}};
    static const char *const init[] = {"n", "stride_h", "stride_w", "dil_h", "dil_w", "groups"};
    memset(c, 0, sizeof *c);
    static const char *const all[] = {"n", "c", "h", "w", "k", "r", "s", "stride_h", "stride_w", "pad_h", "pad_w",
                                      "dil_h", "dil_w", "groups", "bias", "relu"};
    for (int i = 0; i < TC_COUNT(all); i++) tc_case_set(c, all[i], 0);
    for (int i = 0; i < TC_COUNT(init); i++) tc_case_set(c, init[i], 1);
    unsigned seen = 0;
    while (*spec) {
        size_t kl = strspn(spec, "abcdefghijklmnopqrstuvwxyz");
        if (kl >= 4 && (strncmp(spec, "bias", 4) == 0 || strncmp(spec, "relu", 4) == 0)) {
            tc_case_set(c, spec[0] == 'b' ? "bias" : "relu", 1);
            spec += 4;
            continue;
        }
        int key = -1;
        for (int i = 0; i < TC_COUNT(keys); i++)
            if (strlen(keys[i]) == kl && strncmp(spec, keys[i], kl) == 0) key = i;
        char *end;
        long long val = key >= 0 ? strtoll(spec + kl, &end, 10) : 0;
        if (key < 0 || end == spec + kl || val < (key == 8 ? 0 : 1) || val > INT_MAX) return -1;
        for (int j = 0; j < 2 && set[key][j]; j++) tc_case_set(c, set[key][j], (double)val);
        seen |= 1u << key;
        spec = end;
    }
    const unsigned need = 0x7eu; /* c h w k r s */
    return (seen & need) == need ? 0 : -1;
}

static tc_conv2d_params conv2d_case_params(const tc_opdata *d, tc_variant v)
{
    const tc_case *c = &d->cs;
    tc_conv2d_params p = {(int)tc_case_int(c, "stride_h"), (int)tc_case_int(c, "stride_w"),
                          (int)tc_case_int(c, "pad_h"),    (int)tc_case_int(c, "pad_w"),
                          (int)tc_case_int(c, "dil_h"),    (int)tc_case_int(c, "dil_w"),
                          (int)tc_case_int(c, "groups"),   tc_case_int(c, "bias") ? d->in[2] : NULL,
                          (int)tc_case_int(c, "relu"),     v};
    return p;
}

static int case_dims(const tc_case *cs, tc_conv_dims *d)
{
    *d = (tc_conv_dims){tc_case_int(cs, "n"), tc_case_int(cs, "c"), tc_case_int(cs, "h"), tc_case_int(cs, "w"),
                        tc_case_int(cs, "k"), tc_case_int(cs, "r"), tc_case_int(cs, "s"), 0, 0,
                        (int)tc_case_int(cs, "stride_h"), (int)tc_case_int(cs, "stride_w"),
                        (int)tc_case_int(cs, "pad_h"), (int)tc_case_int(cs, "pad_w"),
                        (int)tc_case_int(cs, "dil_h"), (int)tc_case_int(cs, "dil_w"), tc_case_int(cs, "groups")};
    if (d->groups < 1 || d->c % d->groups || d->k % d->groups) return -1;
    return tc_conv2d_out_size(d->h, d->r, d->stride_h, d->pad_h, d->dil_h, &d->p) == TC_OK &&
                   tc_conv2d_out_size(d->w, d->s, d->stride_w, d->pad_w, d->dil_w, &d->q) == TC_OK
               ? 0
               : -1;
}
static tc_status conv2d_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    tc_conv_dims g;
    if (case_dims(cs, &g) != 0) return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: the case's shape does not fit together");
    d->cs = *cs;
    const int64_t dx[4] = {g.n, g.c, g.h, g.w}, dw[4] = {g.k, g.c / g.groups, g.r, g.s}, db[1] = {g.k};
    const int64_t dy[4] = {g.n, g.k, g.p, g.q};
    const size_t nx = (size_t)(g.n * g.c * g.h * g.w), nw = (size_t)(g.k * dw[1] * g.r * g.s);
    float *hx = malloc(nx * sizeof *hx), *hw = malloc(nw * sizeof *hw), *hb = malloc((size_t)g.k * sizeof *hb);
    if (!hx || !hw || !hb) {
        free(hx), free(hw), free(hb);
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    tc_rand_f32(hx, nx, -1.0f, 1.0f, &seed);
    tc_rand_f32(hw, nw, -1.0f, 1.0f, &seed);
    tc_rand_f32(hb, (size_t)g.k, -1.0f, 1.0f, &seed);
    tc_status s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 4, dx, hx);
    if (s == TC_OK) s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 4, dw, hw);
    else free(hw);
    if (s == TC_OK) s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 1, db, hb);
    else free(hb);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, 4, dy, &seed);
    if (s != TC_OK) return s;
    tc_ref_conv2d(hx, hw, tc_case_int(cs, "bias") ? hb : NULL, d->out[0].expected, &g, (int)tc_case_int(cs, "relu"));
    return TC_OK;
}

static tc_status conv2d_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    tc_conv2d_params p = conv2d_case_params(d, v);
    return tc_conv2d(ctx, d->in[0], d->in[1], d->out[0].t, &p);
}

static double conv2d_flops(const tc_case *c)
{
    tc_conv_dims d;
    if (case_dims(c, &d) != 0) return 0;
    return 2.0 * (double)d.n * (double)d.k * (double)(d.p * d.q) * (double)(d.c / d.groups * d.r * d.s);
}

static double conv2d_bytes(const tc_case *c)
{
    tc_conv_dims d;
    if (case_dims(c, &d) != 0) return 0;
    return 4.0 * ((double)(d.n * d.c * d.h * d.w) + (double)(d.k * d.c / d.groups * d.r * d.s) +
                  (double)(d.n * d.k * d.p * d.q) + (tc_case_int(c, "bias") ? (double)d.k : 0));
}

/* conv2d_plan: a plan made on a variant's first run and kept in d->prep, so that
 * later runs (`tinycl bench conv2d_plan`) time tc_conv2d_plan_run alone. */
static void plan_free(void *plan) { tc_conv2d_plan_free(plan); }

static tc_status conv2d_plan_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    if (!d->prep || d->prep_variant != v) {
        tc_conv2d_params p = conv2d_case_params(d, v);
        tc_conv2d_plan *plan = NULL;
        tc_status st = tc_conv2d_plan_create(ctx, d->in[1], d->in[0]->dims + 1, &p, &plan);
        if (st != TC_OK) return st;
        if (d->prep_free) d->prep_free(d->prep);
        d->prep = plan, d->prep_variant = v, d->prep_free = plan_free;
    }
    return tc_conv2d_plan_run(d->prep, d->in[0], d->out[0].t);
}

#define CONV2D_DESC(name_, run_)                                                                                  \
    {                                                                                                               \
        .name = name_, .variants = conv2d_variants, .nvariants = TC_COUNT(conv2d_variants), .cases = conv2d_cases, \
        .ncases = TC_COUNT(conv2d_cases),                                                                           \
        .syntax = "keys with values in any order: n (default 1) c h w k r s, st (stride), pad, dil, g (groups), "  \
                  "and the words bias and relu, e.g. n1c64h56w56k64r3s3pad1",                                      \
        .parse = conv2d_parse, .setup = conv2d_setup, .run = run_, .flops = conv2d_flops, .bytes = conv2d_bytes,  \
        .metric = TC_METRIC_MAXREL, .tol = 1e-4,                                                                    \
    }
const tc_opdesc tc_opdesc_conv2d = CONV2D_DESC("conv2d", conv2d_run);
const tc_opdesc tc_opdesc_conv2d_plan = CONV2D_DESC("conv2d_plan", conv2d_plan_run);
