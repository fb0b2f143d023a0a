/* The integer GEMM's check descriptor: cases, inputs and expected outputs for tests,
 * `tinycl check` and `tinycl bench igemm`.
 *
 * case keys: m, n, k; a ("u8", "s8"); out ("s32", "s8", "u8", "f32"); tb (B is N x K);
 * bias (1: |bias| < 2^20, 2: near the s32 limits, so the add saturates); relu; za, zb,
 * zc (zero points; with pc a nonzero zb varies by column, 0 stays symmetric); pc
 * (per-channel B); scale ("mid":
 * outputs spread over the 8-bit range, "sat": most saturate, "spread": per-channel
 * multipliers from 1e-6 to 1e3); explicit (zero points and multipliers in the params
 * instead of metadata); plan (run through tc_igemm_plan); worst (inputs and zero points
 * that make every |term| 255 * 255, the largest sums K allows). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "ops/igemm.h"
#include "ref/ref.h"

static const tc_variant igemm_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL, TC_VARIANT_GPU, TC_VARIANT_VNNI,
                                            TC_VARIANT_VNNI256};

#define IG(m_, n_, k_, a_, out_, ...) \
    TC_CASE({"m", m_}, {"n", n_}, {"k", k_}, {"a", 0, a_}, {"out", 0, out_}, __VA_ARGS__)
static const tc_case igemm_cases[] = {
    IG(1, 1, 1, "u8", "s32", {"za", 3}, {"zb", -2}),
    IG(3, 17, 127, "u8", "s8", {"za", 255}, {"zb", -128}, {"zc", -128}, {"pc", 1}, {"scale", 0, "mid"}),
    IG(17, 3, 1000, "s8", "u8", {"za", -128}, {"zb", 127}, {"zc", 255}, {"tb", 1}, {"bias", 1}, {"relu", 1},
       {"scale", 0, "mid"}),
    IG(127, 1000, 3, "u8", "f32", {"za", 0}, {"zb", 5}, {"pc", 1}, {"bias", 1}, {"relu", 1}),
    IG(1000, 17, 127, "s8", "s8", {"za", 127}, {"zb", -1}, {"zc", 3}, {"tb", 1}, {"bias", 2}, {"scale", 0, "sat"}),
    IG(64, 64, 64, "u8", "s32", {"za", 128}, {"bias", 2}, {"relu", 1}),
    IG(33, 65, 129, "u8", "s8", {"za", 100}, {"zb", 0}, {"zc", 0}, {"pc", 1}, {"tb", 1}, {"bias", 2},
       {"scale", 0, "spread"}),
    IG(100, 96, 257, "s8", "u8", {"za", 7}, {"zb", -3}, {"zc", 128}, {"pc", 1}, {"bias", 1}, {"explicit", 1},
       {"scale", 0, "mid"}),
    IG(5, 33, 64, "u8", "s8", {"za", 1}, {"zb", 2}, {"zc", -5}, {"explicit", 1}, {"plan", 1}, {"scale", 0, "mid"}),
    IG(255, 31, 33, "s8", "f32", {"za", -7}, {"zb", 9}, {"tb", 1}, {"plan", 1}, {"bias", 1}),
    IG(9, 4097, 5, "u8", "u8", {"za", 200}, {"zb", 1}, {"zc", 10}, {"pc", 1}, {"relu", 1}, {"scale", 0, "spread"}),
    IG(2, 513, 300, "s8", "s32", {"za", 0}, {"zb", -100}, {"tb", 1}, {"pc", 1}, {"plan", 1}),
    IG(127, 127, 1000, "u8", "s8", {"za", 128}, {"zb", 0}, {"zc", -1}, {"relu", 1}, {"plan", 1}, {"bias", 1},
       {"scale", 0, "sat"}),
    IG(1000, 40, 64, "u8", "u8", {"za", 3}, {"zc", 7}, {"relu", 1}, {"bias", 1}, {"scale", 0, "mid"}),
    IG(3, 5, 33025, "u8", "s32", {"za", 255}, {"zb", -128}, {"worst", 1}, {"tb", 1}),
    IG(2, 33, 33025, "s8", "s32", {"za", 127}, {"zb", 127}, {"worst", 1}, {"bias", 1}),
};

static tc_dtype dtype_of(const char *s)
{
    return !s ? TC_DTYPE_S32
           : strcmp(s, "s8") == 0 ? TC_DTYPE_S8
           : strcmp(s, "u8") == 0 ? TC_DTYPE_U8
           : strcmp(s, "f32") == 0 ? TC_DTYPE_F32
                                   : TC_DTYPE_S32;
}

/* "MxNxK[:tb][:plan][:s32|:s8|:u8|:f32]": u8 A with zero point 128, per-channel symmetric s8
 * B, s32 bias, s8 C (or the C named); :tb gives B as N x K, :plan runs through a plan
 * (B packed once) */
static int igemm_parse(const char *spec, tc_case *c)
{
    static const char *const outs[] = {"s32", "s8", "u8", "f32"};
    long long m, n, k;
    int used = 0, tb = 0, plan = 0;
    const char *out = "s8";
    memset(c, 0, sizeof *c);
    if (sscanf(spec, "%lldx%lldx%lld%n", &m, &n, &k, &used) != 3 || m < 1 || n < 1 || k < 1) return -1;
    for (const char *t = spec + used; *t;) {
        const size_t len = strcspn(t + 1, ":") + 1;
        int known = len == 3 && strncmp(t, ":tb", 3) == 0 ? (tb = 1) : len == 5 && strncmp(t, ":plan", 5) == 0 ? (plan = 1) : 0;
        for (int i = 0; i < 4 && !known; i++)
            if (len == strlen(outs[i]) + 1 && strncmp(t + 1, outs[i], len - 1) == 0) out = outs[i], known = 1;
        if (t[0] != ':' || !known) return -1;
        t += len;
    }
    tc_case_set(c, "m", (double)m);
    tc_case_set(c, "n", (double)n);
    tc_case_set(c, "k", (double)k);
    tc_case_set_str(c, "a", "u8");
    tc_case_set_str(c, "out", out);
    tc_case_set(c, "tb", tb);
    tc_case_set(c, "plan", plan);
    tc_case_set(c, "bias", 1);
    tc_case_set(c, "za", 128);
    tc_case_set(c, "pc", 1);
    return tc_case_set_str(c, "scale", "mid");
}

static int32_t clamp_zero(int64_t z, tc_dtype d)
{
    const int64_t lo = d == TC_DTYPE_S8 ? -128 : d == TC_DTYPE_U8 ? 0 : INT32_MIN;
    const int64_t hi = d == TC_DTYPE_S8 ? 127 : d == TC_DTYPE_U8 ? 255 : INT32_MAX;
    return (int32_t)(z < lo ? lo : z > hi ? hi : z);
}

static double uniform(uint64_t *seed) { return (double)(tc_rng_next(seed) >> 11) * (1.0 / 9007199254740992.0); }

/* Everything a case's run needs besides its tensors: kept in the last input's host
 * copy (an s32 tensor of 2n + 3 values: multipliers, shifts, za, zb, zc). */
static tc_status igemm_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t m = tc_case_int(cs, "m"), n = tc_case_int(cs, "n"), k = tc_case_int(cs, "k");
    const int a_signed = dtype_of(tc_case_str(cs, "a")) == TC_DTYPE_S8, tb = tc_case_int(cs, "tb") != 0;
    const tc_dtype out = dtype_of(tc_case_str(cs, "out"));
    const int pc = tc_case_int(cs, "pc") != 0, meta = !tc_case_int(cs, "explicit");
    const int q8 = out == TC_DTYPE_S8 || out == TC_DTYPE_U8, worst = tc_case_int(cs, "worst") != 0;
    const char *scale = tc_case_str(cs, "scale") ? tc_case_str(cs, "scale") : "mid";
    d->cs = *cs;
    const int32_t za = clamp_zero(tc_case_int(cs, "za"), a_signed ? TC_DTYPE_S8 : TC_DTYPE_U8);
    const int32_t zb0 = clamp_zero(tc_case_int(cs, "zb"), TC_DTYPE_S8), zc = clamp_zero(tc_case_int(cs, "zc"), out);
    uint8_t *a = malloc((size_t)(m * k));
    int8_t *b = malloc((size_t)(k * n));
    int32_t *bias = malloc((size_t)n * sizeof *bias), *extra = malloc((size_t)(2 * n + 3) * sizeof *extra);
    int32_t *zb = malloc((size_t)n * sizeof *zb), *v = malloc((size_t)(m * n) * sizeof *v);
    float *sb = malloc((size_t)n * sizeof *sb), *fscale = malloc((size_t)n * sizeof *fscale);
    double *real = malloc((size_t)n * sizeof *real);
    tc_status s = TC_OK;
    if (!a || !b || !bias || !extra || !zb || !v || !sb || !fscale || !real) {
        free(a), free(b), free(bias), free(extra);
        s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
        goto done;
    }
    for (int64_t j = 0; j < n; j++) zb[j] = pc && meta && zb0 ? clamp_zero((int64_t)zb0 - j % 3, TC_DTYPE_S8) : zb0;
    for (int64_t i = 0; i < m * k; i++) {
        /* worst: a - za is +-255 everywhere (za at one end, a at the other) */
        const uint8_t r = (uint8_t)tc_rng_next(&seed);
        a[i] = worst ? (uint8_t)(a_signed ? (za > 0 ? 0x80 : 0x7f) : (za > 127 ? 0 : 255)) : r;
    }
    for (int64_t i = 0; i < k * n; i++) {
        const int8_t r = (int8_t)tc_rng_next(&seed);
        b[i] = worst ? (zb0 < 0 ? 127 : -128) : r;
    }
    const int bias_kind = (int)tc_case_int(cs, "bias");
    for (int64_t j = 0; j < n; j++) {
        const int32_t r = (int32_t)(tc_rng_next(&seed) >> 32);
        bias[j] = bias_kind == 2 ? (j % 2 ? INT32_MAX - (r & 0xffff) : INT32_MIN + (r & 0xffff)) : r >> 12;
    }
    /* the s32 result first: it sets the output scale of the 8-bit cases */
    tc_ref_igemm_acc(a, a_signed, b, tb, za, zb, bias_kind ? bias : NULL, v, m, n, k);
    double vmax = 1;
    for (int64_t i = 0; i < m * n; i++) vmax = fmax(vmax, fabs((double)v[i]));
    const float sa = 0.05f, sc = 0.1f;
    for (int64_t j = 0; j < n; j++) {
        const double r = strcmp(scale, "spread") == 0 ? pow(10.0, -6.0 + 9.0 * uniform(&seed))
                         : strcmp(scale, "sat") == 0 ? 3000.0 / vmax
                                                     : 100.0 / vmax * (pc ? 0.5 + 1.5 * uniform(&seed) : 1.0);
        sb[j] = pc || j == 0 ? (float)(r * sc / sa) : sb[0];
        real[j] = (double)sa * (double)sb[j] / (double)sc;
        fscale[j] = sa * sb[j];
        if (q8 && tc_igemm_multiplier(real[j], &extra[j], &extra[n + j]) != TC_OK) {
            s = tc_fail(ctx, TC_ERR_INVALID_ARG, "igemm case: multiplier %g", real[j]);
            free(a), free(b), free(bias), free(extra);
            goto done;
        }
        if (!q8) extra[j] = extra[n + j] = 0;
    }
    extra[2 * n + 0] = za, extra[2 * n + 1] = zb0, extra[2 * n + 2] = zc;
    const int64_t da[2] = {m, k}, db[2] = {tb ? n : k, tb ? k : n}, dn[1] = {n}, dx[1] = {2 * n + 3}, dc[2] = {m, n};
    s = tc_opdata_input(ctx, d, a_signed ? TC_DTYPE_S8 : TC_DTYPE_U8, 2, da, a);
    if (s == TC_OK) s = tc_opdata_input(ctx, d, TC_DTYPE_S8, 2, db, b);
    else free(b);
    if (s == TC_OK) s = tc_opdata_input(ctx, d, TC_DTYPE_S32, 1, dn, bias);
    else free(bias);
    if (s == TC_OK) s = tc_opdata_input(ctx, d, TC_DTYPE_S32, 1, dx, extra);
    else free(extra);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, out, 2, dc, &seed);
    if (s == TC_OK && meta) {
        const tc_quant qa = {-1, 1, &sa, &za}, qc = {-1, 1, &sc, &zc};
        const tc_quant qb = {pc ? (tb ? 0 : 1) : -1, pc ? n : 1, sb, zb};
        s = tc_tensor_set_quant(d->in[0], &qa);
        if (s == TC_OK) s = tc_tensor_set_quant(d->in[1], &qb);
        if (s == TC_OK && q8) s = tc_tensor_set_quant(d->out[0].t, &qc);
    }
    if (s == TC_OK) {
        int32_t lo = out == TC_DTYPE_S8 ? -128 : 0, hi = out == TC_DTYPE_S8 ? 127 : 255;
        if (tc_case_int(cs, "relu") && zc > lo) lo = zc;
        int32_t *shifts = extra + n;
        if (!pc && q8) /* one multiplier for every column */
            for (int64_t j = 1; j < n; j++) extra[j] = extra[0], shifts[j] = shifts[0];
        const tc_ref_igemm_out o = {extra, shifts, fscale, zc, lo, hi, tc_case_int(cs, "relu") != 0};
        tc_ref_igemm_stage(v, d->out[0].expected, out, m, n, &o);
        if (q8) d->out[0].metric = TC_METRIC_LSB, d->out[0].tol = 1;
    }
done:
    free(zb), free(v), free(sb), free(fscale), free(real);
    return s;
}

static void plan_free(void *plan) { tc_igemm_plan_free(plan); }

static tc_status igemm_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    const tc_case *cs = &d->cs;
    const int64_t n = tc_case_int(cs, "n");
    const int32_t *extra = d->host_in[3];
    tc_igemm_params p = tc_igemm_defaults();
    p.trans_b = tc_case_int(cs, "tb") != 0;
    p.bias = tc_case_int(cs, "bias") ? d->in[2] : NULL;
    p.relu = tc_case_int(cs, "relu") != 0;
    p.variant = v;
    if (tc_case_int(cs, "explicit")) {
        p.a_zero_point = extra[2 * n], p.b_zero_point = extra[2 * n + 1], p.c_zero_point = extra[2 * n + 2];
        if (d->out[0].t->dtype == TC_DTYPE_S8 || d->out[0].t->dtype == TC_DTYPE_U8)
            p.multiplier = extra, p.shift = extra + n, p.nmult = tc_case_int(cs, "pc") ? n : 1;
    }
    if (!tc_case_int(cs, "plan")) return tc_igemm(ctx, d->in[0], d->in[1], d->out[0].t, &p);
    if (!d->prep || d->prep_variant != v) { /* one plan per variant, reused by later runs */
        tc_igemm_plan *plan = NULL;
        tc_status s = tc_igemm_plan_create(ctx, d->in[1], &p, &plan);
        if (s != TC_OK) return s;
        if (d->prep_free) d->prep_free(d->prep);
        d->prep = plan, d->prep_variant = v, d->prep_free = plan_free;
    }
    return tc_igemm_plan_run(d->prep, d->in[0], d->out[0].t);
}

static double igemm_flops(const tc_case *c)
{
    return 2.0 * tc_case_num(c, "m") * tc_case_num(c, "n") * tc_case_num(c, "k");
}

static double igemm_bytes(const tc_case *c)
{
    const double m = tc_case_num(c, "m"), n = tc_case_num(c, "n"), k = tc_case_num(c, "k");
    return m * k + k * n + m * n * (double)tc_dtype_size(dtype_of(tc_case_str(c, "out")));
}

const tc_opdesc tc_opdesc_igemm = {
    .name = "igemm",
    .variants = igemm_variants,
    .nvariants = TC_COUNT(igemm_variants),
    .cases = igemm_cases,
    .ncases = TC_COUNT(igemm_cases),
    .syntax = "MxNxK[:tb][:plan][:s32|:s8|:u8|:f32] (u8 A, per-channel s8 B, s32 bias, requantized s8 C unless "
              "named; :plan packs B once)",
    .parse = igemm_parse,
    .setup = igemm_setup,
    .run = igemm_run,
    .flops = igemm_flops,
    .bytes = igemm_bytes,
    .metric = TC_METRIC_EXACT,
    .tol = 0.0,
};
