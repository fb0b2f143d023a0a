/* Check descriptors of attention (check/opdesc.h): tc_attention on its own, and
 * attention_cached, new keys and values appended into a cache then attended to (three
 * outputs: out and both caches). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "ops/attention.h"
#include "ops/layer.h"
#include "ref/ref.h"
#include "tinycl/quantize.h"

static const tc_variant attention_variants[] = {TC_VARIANT_REF,   TC_VARIANT_CPU,  TC_VARIANT_GPU,
                                                TC_VARIANT_OPENCL, TC_VARIANT_SPLIT, TC_VARIANT_OPENBLAS};

/* ---- attention ----------------------------------------------------------------
 * case keys: b, h, hkv, lq, lk, dh; causal; qpos (position of the first query);
 * ragged: 1 = sequence s has keys lk * (3 - s % 3) / 3 (at least 1) and its queries
 * are its last lq keys, 2 = the same but the last sequence has no keys; blhd (q and
 * out as [b, lq, h, dh]); qmax (q uniform in +-qmax: 60 gives scores whose exp
 * overflows float without the maximum subtracted); s8: keys and values quantized
 * to s8 with symmetric parameters per head_dim channel (1) or per tensor (2), the
 * expected result from their dequantized values. f32 keys and values past a
 * sequence's length are NaN, so a kernel that reads one fails. */
#define AT(b_, h_, hkv_, lq_, lk_, dh_, c_, qp, rg, bl, qm, s8_)                                                 \
    TC_CASE({"b", b_}, {"h", h_}, {"hkv", hkv_}, {"lq", lq_}, {"lk", lk_}, {"dh", dh_}, {"causal", c_},          \
            {"qpos", qp}, {"ragged", rg}, {"blhd", bl}, {"qmax", qm}, {"s8", s8_})
static const tc_case attention_cases[] = {
    AT(1, 1, 1, 1, 1, 32, 0, 0, 0, 0, 3, 0),        AT(1, 2, 2, 2, 2, 64, 1, 0, 0, 0, 3, 0),
    AT(3, 2, 1, 17, 17, 80, 1, 0, 0, 0, 3, 0),      AT(3, 4, 2, 17, 17, 32, 0, 0, 1, 1, 3, 0),
    AT(1, 2, 2, 1000, 1000, 32, 1, 0, 0, 0, 3, 0),  AT(1, 2, 2, 1, 1000, 64, 1, 999, 0, 0, 3, 0),
    AT(3, 2, 2, 1, 1000, 80, 1, 0, 1, 0, 3, 0),     AT(3, 3, 1, 2, 17, 64, 1, 15, 0, 1, 3, 0),
    AT(1, 2, 2, 17, 1000, 128, 1, 983, 0, 0, 3, 0), AT(3, 2, 2, 17, 17, 64, 1, 0, 2, 0, 3, 0),
    AT(1, 2, 1, 33, 40, 32, 0, 7, 0, 0, 60, 0),     AT(2, 1, 1, 1, 2, 80, 0, 0, 0, 1, 3, 0),
    AT(3, 2, 2, 2, 1000, 32, 0, 0, 1, 0, 3, 0),     AT(1, 2, 2, 1, 1000, 64, 1, 999, 0, 0, 3, 1),
    AT(3, 4, 2, 17, 40, 80, 1, 23, 1, 1, 3, 1),     AT(2, 2, 1, 5, 5, 30, 1, 0, 0, 0, 3, 2),
};

/* Per-sequence (position of the first query, keys) of a case; NULL when uniform. */
static int32_t *case_seq(const tc_case *cs)
{
    const int64_t b = tc_case_int(cs, "b"), lq = tc_case_int(cs, "lq"), lk = tc_case_int(cs, "lk");
    const int64_t ragged = tc_case_int(cs, "ragged");
    if (!ragged || b < 1) return NULL;
    int32_t *seq = malloc((size_t)b * 2 * sizeof *seq);
    for (int64_t s = 0; seq && s < b; s++) {
        int64_t n = lk * (3 - s % 3) / 3;
        n = n < 1 ? 1 : n;
        if (ragged == 2 && s == b - 1) n = 0;
        seq[2 * s] = (int32_t)(n > lq ? n - lq : 0);
        seq[2 * s + 1] = (int32_t)n;
    }
    return seq;
}

static tc_attn_dims case_dims(const tc_case *cs, const int32_t *seq)
{
    const int blhd = tc_case_int(cs, "blhd") != 0;
    tc_attn_dims g = {.b = tc_case_int(cs, "b"), .h = tc_case_int(cs, "h"), .hkv = tc_case_int(cs, "hkv"),
                      .lq = tc_case_int(cs, "lq"), .lk = tc_case_int(cs, "lk"), .dh = tc_case_int(cs, "dh"),
                      .causal = tc_case_int(cs, "causal") != 0, .q_pos = tc_case_int(cs, "qpos"), .seq = seq};
    g.qsl = blhd ? g.h * g.dh : g.dh;
    g.qsh = blhd ? g.dh : g.lq * g.dh;
    g.qsb = g.h * g.lq * g.dh;
    g.scale = g.dh > 0 ? (float)(1.0 / sqrt((double)g.dh)) : 1.0f;
    return g;
}

/* "BxHxLQxLKxDH[:causal][:s8]": the queries are the last LQ of LK keys; s8 keys and
 * values per head_dim channel */
static int attention_parse(const char *spec, tc_case *c)
{
    int64_t v[5];
    const char *colon = strchr(spec, ':');
    char dims[64];
    int causal = 0, s8 = 0;
    memset(c, 0, sizeof *c);
    for (const char *o = colon; o; o = strchr(o + 1, ':')) {
        const size_t len = strcspn(o + 1, ":");
        if (len == 6 && strncmp(o + 1, "causal", 6) == 0)
            causal = 1;
        else if (len == 2 && strncmp(o + 1, "s8", 2) == 0)
            s8 = 1;
        else
            return -1;
    }
    snprintf(dims, sizeof dims, "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
    if (tc_parse_dims(dims, v, 5) != 5 || v[2] > v[3]) return -1;
    static const char *const keys[5] = {"b", "h", "lq", "lk", "dh"};
    for (int i = 0; i < 5; i++) tc_case_set(c, keys[i], (double)v[i]);
    tc_case_set(c, "hkv", (double)v[1]);
    tc_case_set(c, "causal", causal);
    tc_case_set(c, "qpos", (double)(v[3] - v[2]));
    tc_case_set(c, "ragged", 0);
    tc_case_set(c, "blhd", 0);
    tc_case_set(c, "s8", s8);
    return tc_case_set(c, "qmax", 3);
}

/* An s8 input quantized from x (n values, symmetric; per head_dim channel, or per
 * tensor when per_tensor) carrying its parameters; x becomes its dequantized values. */
static tc_status s8_input(tc_ctx *ctx, tc_opdata *d, const int64_t *dims, float *x, size_t n, int per_tensor)
{
    const int64_t dh = dims[3], ch = per_tensor ? 1 : dh;
    int8_t *q = malloc(n);
    float *lo = malloc((size_t)dh * 3 * sizeof *lo), *hi = lo + dh, *scale = lo + 2 * dh;
    int32_t *zp = malloc((size_t)dh * sizeof *zp);
    tc_status s = q && lo && zp ? TC_OK : tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int64_t c = 0; s == TC_OK && c < ch; c++) lo[c] = hi[c] = 0.0f;
    for (size_t i = 0; s == TC_OK && i < n; i++) {
        const int64_t c = per_tensor ? 0 : (int64_t)(i % (size_t)dh);
        lo[c] = fminf(lo[c], x[i]), hi[c] = fmaxf(hi[c], x[i]);
    }
    if (s == TC_OK) s = tc_quant_params_from_ranges(ch, lo, hi, TC_DTYPE_S8, 1, scale, zp);
    if (s == TC_OK) {
        tc_ref_quantize(x, q, TC_DTYPE_S8, (int64_t)n, 1, ch, scale, zp);
        tc_ref_dequantize(q, TC_DTYPE_S8, x, (int64_t)n, 1, ch, scale, zp);
        s = tc_opdata_input(ctx, d, TC_DTYPE_S8, 4, dims, q); /* owns q from here */
        q = NULL;
    }
    if (s == TC_OK) s = tc_tensor_set_quant(d->in[d->nin - 1], &(tc_quant){per_tensor ? -1 : 3, ch, scale, zp});
    free(q), free(lo), free(zp);
    return s;
}

/* Keys and values [b, hkv, lk, dh] in +-1: f32 with NaN past each sequence's keys,
 * or s8 (then *hk and *hv are their dequantized values, the caller's to free). */
static tc_status kv_inputs(tc_ctx *ctx, tc_opdata *d, const tc_attn_dims *g, int s8, uint64_t *seed, float **hk,
                           float **hv)
{
    const int64_t dims[4] = {g->b, g->hkv, g->lk, g->dh};
    const size_t n = (size_t)(g->b * g->hkv * g->lk * g->dh);
    float *h[2] = {NULL, NULL};
    tc_status s = TC_OK;
    *hk = *hv = NULL;
    for (int t = 0; t < 2 && s == TC_OK; t++) {
        if (!(h[t] = malloc(n * sizeof *h[t]))) s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
        if (s != TC_OK) break;
        tc_rand_f32(h[t], n, -1.0f, 1.0f, seed);
        for (int64_t b = 0; !s8 && g->seq && b < g->b; b++)
            for (int64_t hh = 0; hh < g->hkv; hh++) {
                const int64_t j0 = g->seq[2 * b + 1], row = (b * g->hkv + hh) * g->lk;
                for (size_t e = (size_t)((row + j0) * g->dh); e < (size_t)((row + g->lk) * g->dh); e++) h[t][e] = NAN;
            }
        /* f32: the input owns h[t] from here */
        s = s8 ? s8_input(ctx, d, dims, h[t], n, s8 == 2) : tc_opdata_input(ctx, d, TC_DTYPE_F32, 4, dims, h[t]);
    }
    *hk = h[0], *hv = h[1];
    return s;
}

static tc_status attention_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    int32_t *seq = case_seq(cs);
    const tc_attn_dims g = case_dims(cs, seq);
    const int blhd = tc_case_int(cs, "blhd") != 0;
    const int64_t dq[4] = {g.b, blhd ? g.lq : g.h, blhd ? g.h : g.lq, g.dh};
    const float qm = (float)tc_case_num(cs, "qmax");
    float *hq, *hk = NULL, *hv = NULL;
    d->cs = *cs;
    d->prep = seq, d->prep_free = free; /* the table the runs pass */
    if (tc_case_int(cs, "ragged") && !seq) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    tc_status s = tc_layer_input(ctx, d, 4, dq, -qm, qm, &seed, &hq);
    const int s8 = (int)tc_case_int(cs, "s8");
    if (s == TC_OK) s = kv_inputs(ctx, d, &g, s8, &seed, &hk, &hv);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, 4, dq, &seed);
    if (s == TC_OK && tc_ref_attention(hq, hk, hv, d->out[0].expected, &g) != 0)
        s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s8) free(hk), free(hv);
    return s;
}

/* The params of a case: its per-sequence table as host arrays. */
static tc_attention_params case_params(const tc_case *cs, const int32_t *seq, int32_t *pos, int32_t *len,
                                       tc_variant v)
{
    tc_attention_params p = tc_attention_defaults();
    p.causal = (int)tc_case_int(cs, "causal");
    p.q_pos = tc_case_int(cs, "qpos");
    p.layout = tc_case_int(cs, "blhd") ? TC_ATTN_BLHD : TC_ATTN_BHLD;
    p.variant = v;
    if (seq) {
        for (int64_t b = 0; b < tc_case_int(cs, "b"); b++) pos[b] = seq[2 * b], len[b] = seq[2 * b + 1];
        p.q_pos_host = pos, p.kv_len_host = len;
    }
    return p;
}

static tc_status attention_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    const int64_t b = tc_case_int(&d->cs, "b");
    int32_t *pos = malloc((size_t)b * 2 * sizeof *pos);
    if (!pos) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    const tc_attention_params p = case_params(&d->cs, d->prep, pos, pos + b, v);
    tc_status st = tc_attention(ctx, d->in[0], d->in[1], d->in[2], d->out[0].t, &p);
    free(pos);
    return st;
}

/* 4 flops per visible (query, key) pair and head element */
static double attention_flops(const tc_case *cs)
{
    int32_t *seq = case_seq(cs);
    const tc_attn_dims g = case_dims(cs, seq);
    double pairs = 0;
    for (int64_t b = 0; b < g.b; b++)
        for (int64_t i = 0; i < g.lq; i++) pairs += (double)tc_attn_keys(&g, b, i);
    free(seq);
    return 4.0 * pairs * (double)g.h * (double)g.dh;
}

static double attention_bytes(const tc_case *cs)
{
    const tc_attn_dims g = case_dims(cs, NULL);
    const double kv = tc_case_int(cs, "s8") ? 1.0 : 4.0;
    return (double)g.dh * (8.0 * (double)(g.b * g.h * g.lq) + 2.0 * kv * (double)(g.b * g.hkv * g.lk));
}

/* f32 dot products of up to 256 terms and online sums over up to 1000 keys against
 * double: a few float ulps of the largest output */
const tc_opdesc tc_opdesc_attention = {
    .name = "attention",
    .variants = attention_variants,
    .nvariants = TC_COUNT(attention_variants),
    .cases = attention_cases,
    .ncases = TC_COUNT(attention_cases),
    .syntax = "BxHxLQxLKxDH[:causal][:s8]",
    .parse = attention_parse,
    .setup = attention_setup,
    .run = attention_run,
    .flops = attention_flops,
    .bytes = attention_bytes,
    .metric = TC_METRIC_MAXREL,
    .tol = 2e-5,
};

/* ---- attention_cached -----------------------------------------------------------
 * case keys: b, h, cap, n (new tokens), dh, ragged, blhd, causal, s8. Sequence s
 * holds start(s) tokens (the caches' random contents) and appends count(s) of the n
 * new ones: uniform, start = cap - n (the append fills the cache); ragged, start =
 * (cap - n) * (s % 3) / 2 and count = n - s % 2. Then its queries, at the appended
 * positions, attend to everything held. s8: the caches are s8 with parameters per
 * head_dim channel (scales that clip some of the new values, zero points -2..2); the
 * f32 tokens are quantized as they are written, exactly as tc_quantize does. */
#define CA(b_, h_, cap_, n_, dh_, rg, bl, c_, s8_)                                                                \
    TC_CASE({"b", b_}, {"h", h_}, {"cap", cap_}, {"n", n_}, {"dh", dh_}, {"ragged", rg}, {"blhd", bl},           \
            {"causal", c_}, {"s8", s8_})
static const tc_case cached_cases[] = {
    CA(1, 2, 1, 1, 32, 0, 0, 1, 0),    CA(3, 2, 40, 17, 64, 1, 1, 1, 0),  CA(3, 4, 1000, 1, 80, 1, 0, 1, 0),
    CA(1, 2, 1000, 1, 64, 0, 0, 1, 0), CA(2, 1, 20, 2, 128, 0, 1, 0, 0),  CA(3, 2, 40, 17, 64, 1, 1, 1, 1),
    CA(3, 4, 1000, 1, 80, 1, 0, 1, 1), CA(1, 1, 5, 5, 30, 0, 0, 1, 1),
};

static void cached_seq(const tc_case *cs, int64_t s, int32_t *start, int32_t *count)
{
    const int64_t cap = tc_case_int(cs, "cap"), n = tc_case_int(cs, "n");
    const int ragged = tc_case_int(cs, "ragged") != 0;
    *start = (int32_t)(ragged ? (cap - n) * (s % 3) / 2 : cap - n);
    *count = (int32_t)(ragged ? n - s % 2 : n);
}

/* start[], count[], then (position, keys) pairs for the attention; NULL out of memory */
static int32_t *cached_tables(const tc_case *cs)
{
    const int64_t b = tc_case_int(cs, "b");
    int32_t *t = malloc((size_t)b * 4 * sizeof *t);
    for (int64_t s = 0; t && s < b; s++) {
        cached_seq(cs, s, &t[s], &t[b + s]);
        t[2 * b + 2 * s] = t[s];
        t[2 * b + 2 * s + 1] = t[s] + t[b + s];
    }
    return t;
}

/* out[0]'s expected value: the queries hq against the caches ck, cv (f32) */
static tc_status cached_expected_out(tc_ctx *ctx, tc_opdata *d, const float *hq, const float *ck, const float *cv,
                                     const int32_t *t)
{
    const tc_case *cs = &d->cs;
    const int64_t b = tc_case_int(cs, "b"), h = tc_case_int(cs, "h"), n = tc_case_int(cs, "n"),
                  dh = tc_case_int(cs, "dh");
    const int blhd = tc_case_int(cs, "blhd") != 0;
    tc_attn_dims g = {.b = b, .h = h, .hkv = h, .lq = n, .lk = tc_case_int(cs, "cap"), .dh = dh,
                      .causal = (int)tc_case_int(cs, "causal"), .seq = t + 2 * b};
    g.qsl = blhd ? h * dh : dh, g.qsh = blhd ? dh : n * dh, g.qsb = h * n * dh;
    g.scale = (float)(1.0 / sqrt((double)dh));
    if (tc_ref_attention(hq, ck, cv, d->out[0].expected, &g) != 0)
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    return TC_OK;
}

/* s8 caches: their parameters, the new tokens quantized into the expected caches,
 * and the attention over their dequantized contents */
static tc_status cached_setup_s8(tc_ctx *ctx, tc_opdata *d, const float *hq, const float *hk, const float *hv,
                                 const int32_t *t, uint64_t *seed)
{
    const tc_case *cs = &d->cs;
    const int64_t b = tc_case_int(cs, "b"), h = tc_case_int(cs, "h"), cap = tc_case_int(cs, "cap");
    const int64_t n = tc_case_int(cs, "n"), dh = tc_case_int(cs, "dh"), nc = b * h * cap * dh, nn = b * h * n * dh;
    const int blhd = tc_case_int(cs, "blhd") != 0;
    float *scale = malloc((size_t)dh * sizeof *scale), *f[2] = {malloc((size_t)nc * sizeof(float)),
                                                                 malloc((size_t)nc * sizeof(float))};
    int32_t *zp = malloc((size_t)dh * sizeof *zp);
    int8_t *q = malloc((size_t)nn);
    tc_status s = scale && zp && q && f[0] && f[1] ? TC_OK : tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    const float *src[2] = {hk, hv};
    for (int i = 0; i < 2 && s == TC_OK; i++) {
        for (int64_t c = 0; c < dh; c++) { /* ranges of 0.6 to 1.4 against values in +-1: some clip */
            scale[c] = (0.6f + 0.8f * (float)(tc_rng_next(seed) >> 40) * 0x1.0p-24f) / 127.0f;
            zp[c] = (int32_t)(c % 5) - 2;
        }
        s = tc_tensor_set_quant(d->out[1 + i].t, &(tc_quant){3, dh, scale, zp});
        if (s != TC_OK) break;
        tc_ref_quantize(src[i], q, TC_DTYPE_S8, nn, 1, dh, scale, zp);
        tc_ref_kv_write(d->out[1 + i].expected, q, b, h, cap, n, dh, t, t + b, blhd, 1);
        tc_ref_dequantize(d->out[1 + i].expected, TC_DTYPE_S8, f[i], nc, 1, dh, scale, zp);
    }
    if (s == TC_OK) s = cached_expected_out(ctx, d, hq, f[0], f[1], t);
    free(scale), free(zp), free(q), free(f[0]), free(f[1]);
    return s;
}

static tc_status cached_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t b = tc_case_int(cs, "b"), h = tc_case_int(cs, "h"), cap = tc_case_int(cs, "cap");
    const int64_t n = tc_case_int(cs, "n"), dh = tc_case_int(cs, "dh");
    const int blhd = tc_case_int(cs, "blhd") != 0;
    const int64_t dn[4] = {b, blhd ? n : h, blhd ? h : n, dh}, dc[4] = {b, h, cap, dh};
    int32_t *t = cached_tables(cs);
    d->cs = *cs;
    d->prep = t, d->prep_free = free;
    if (!t) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    float *hq, *hk, *hv;
    tc_status s = tc_layer_input(ctx, d, 4, dn, -3.0f, 3.0f, &seed, &hq);
    if (s == TC_OK) s = tc_layer_input(ctx, d, 4, dn, -1.0f, 1.0f, &seed, &hk);
    if (s == TC_OK) s = tc_layer_input(ctx, d, 4, dn, -1.0f, 1.0f, &seed, &hv);
    const int s8 = tc_case_int(cs, "s8") != 0;
    for (int i = 0; i < 3 && s == TC_OK; i++)
        s = tc_opdata_output(ctx, d, i && s8 ? TC_DTYPE_S8 : TC_DTYPE_F32, 4, i ? dc : dn, &seed);
    if (s != TC_OK) return s;
    for (int i = 1; i < 3; i++) /* copies, or integers: exact */
        d->out[i].metric = s8 ? TC_METRIC_EXACT : TC_METRIC_MAXREL, d->out[i].tol = 0.0;
    if (s8) return cached_setup_s8(ctx, d, hq, hk, hv, t, &seed);
    tc_ref_kv_write(d->out[1].expected, hk, b, h, cap, n, dh, t, t + b, blhd, sizeof(float));
    tc_ref_kv_write(d->out[2].expected, hv, b, h, cap, n, dh, t, t + b, blhd, sizeof(float));
    return cached_expected_out(ctx, d, hq, d->out[1].expected, d->out[2].expected, t);
}

static tc_status cached_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    const int64_t b = tc_case_int(&d->cs, "b");
    const int32_t *t = d->prep;
    int32_t *pairs = malloc((size_t)b * 2 * sizeof *pairs);
    if (!pairs) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int64_t s = 0; s < b; s++) pairs[s] = t[2 * b + 2 * s], pairs[b + s] = t[2 * b + 2 * s + 1];
    tc_attention_params p = tc_attention_defaults();
    p.causal = (int)tc_case_int(&d->cs, "causal");
    p.layout = tc_case_int(&d->cs, "blhd") ? TC_ATTN_BLHD : TC_ATTN_BHLD;
    p.q_pos_host = pairs, p.kv_len_host = pairs + b, p.variant = v;
    tc_status st = tc_kv_write(ctx, d->out[1].t, d->out[2].t, d->in[1], d->in[2], t, t + b, p.layout,
                               v == TC_VARIANT_REF ? TC_VARIANT_REF : TC_VARIANT_AUTO);
    if (st == TC_OK) st = tc_attention(ctx, d->in[0], d->out[1].t, d->out[2].t, d->out[0].t, &p);
    free(pairs);
    return st;
}

static double cached_flops(const tc_case *cs)
{
    const int64_t b = tc_case_int(cs, "b"), n = tc_case_int(cs, "n");
    const int causal = tc_case_int(cs, "causal") != 0;
    double pairs = 0;
    for (int64_t s = 0; s < b; s++) {
        int32_t start, count;
        cached_seq(cs, s, &start, &count);
        for (int64_t i = 0; i < n; i++) pairs += causal && start + i + 1 < start + count ? start + i + 1 : start + count;
    }
    return 4.0 * pairs * tc_case_num(cs, "h") * tc_case_num(cs, "dh");
}

static double cached_bytes(const tc_case *cs)
{
    const double bh = tc_case_num(cs, "b") * tc_case_num(cs, "h") * tc_case_num(cs, "dh");
    return 4.0 * bh * (6.0 * tc_case_num(cs, "n") + 2.0 * tc_case_num(cs, "cap"));
}

/* "BxHxCAPxNxDH": uniform sequences, causal */
static int cached_parse(const char *spec, tc_case *c)
{
    int64_t v[5];
    memset(c, 0, sizeof *c);
    if (tc_parse_dims(spec, v, 5) != 5 || v[3] > v[2]) return -1;
    static const char *const keys[5] = {"b", "h", "cap", "n", "dh"};
    for (int i = 0; i < 5; i++) tc_case_set(c, keys[i], (double)v[i]);
    tc_case_set(c, "ragged", 0);
    tc_case_set(c, "blhd", 0);
    tc_case_set(c, "s8", 0);
    return tc_case_set(c, "causal", 1);
}

const tc_opdesc tc_opdesc_attention_cached = {
    .name = "attention_cached",
    .variants = attention_variants,
    .nvariants = TC_COUNT(attention_variants),
    .cases = cached_cases,
    .ncases = TC_COUNT(cached_cases),
    .syntax = "BxHxCAPxNxDH",
    .parse = cached_parse,
    .setup = cached_setup,
    .run = cached_run,
    .flops = cached_flops,
    .bytes = cached_bytes,
    .metric = TC_METRIC_MAXREL,
    .tol = 2e-5,
};
