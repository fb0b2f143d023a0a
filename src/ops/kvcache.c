/* The KV cache: per layer a K and a V tensor [batch, heads, capacity, head_dim]
 * allocated once; appends write the new tokens in place (tc_kv_write) after each
 * sequence's length, which the cache keeps on the host, so capacity is checked
 * before anything is enqueued. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/attention.h"
#include "ops/host.h"
#include "ops/layer.h"
#include "ref/ref.h"

struct tc_kv_cache {
    tc_ctx *ctx;
    tc_kv_cache_config cfg;
    float *scales;          /* S8: 2 * layers * head_dim */
    int32_t *zeros;         /* S8: head_dim zero points */
    tc_tensor **k, **v; /* one per layer */
    int32_t *len;       /* [layers][batch]: tokens held */
    int32_t *last;      /* [layers][batch]: tokens of the layer's last append */
    int32_t *pos;       /* [batch]: query positions for tc_kv_cache_attention */
    size_t bytes;
};

/* ---- tc_kv_write ----------------------------------------------------------------- */

/* An f32 -> s8 append: per head_dim channel 1 / scale (rounded to float, as
 * tc_quantize multiplies by) and the zero point of kc's parameters, then of vc's
 * (4 * head_dim values); per-tensor parameters repeated over the channels. */
static tc_status quant_table(tc_ctx *ctx, const tc_tensor *kc, const tc_tensor *vc, float *t)
{
    const int64_t dh = kc->dims[3];
    const tc_tensor *c[2] = {kc, vc};
    for (int j = 0; j < 2; j++) {
        tc_quant q;
        tc_tensor_quant(c[j], &q);
        if (!q.count || (q.axis != -1 && q.axis != 3))
            return tc_fail(ctx, TC_ERR_INVALID_ARG,
                           "kv_cache_append: f32 into an s8 cache needs the cache %s's parameters per tensor or per "
                           "head_dim channel (axis 3)",
                           j ? "v" : "k");
        for (int64_t d = 0; d < dh; d++) {
            const int64_t i = q.axis < 0 ? 0 : d;
            t[(2 * j) * dh + d] = 1.0f / q.scale[i];
            t[(2 * j + 1) * dh + d] = (float)q.zero_point[i];
        }
    }
    return TC_OK;
}

/* quantize: the f32 sources go in quantized with the caches' parameters (tc_ref_quantize,
 * as tc_quantize computes), else they are copied */
static tc_status write_host(tc_tensor *kc, tc_tensor *vc, const tc_tensor *k, const tc_tensor *v,
                            const int32_t *start, const int32_t *count, int64_t n, int blhd, int quantize)
{
    tc_tensor *dst[2] = {kc, vc};
    const tc_tensor *src[2] = {k, v};
    tc_status st = TC_OK;
    int8_t *q = quantize ? malloc((size_t)k->numel) : NULL;
    if (quantize && !q) return tc_fail(kc->ctx, TC_ERR_OUT_OF_MEMORY, "kv_cache_append: out of host memory");
    for (int t = 0; t < 2 && st == TC_OK; t++) {
        void *hs = NULL, *hd = NULL;
        st = tc_host_get(src[t], &hs);
        if (st == TC_OK) st = tc_host_out(dst[t], 1, &hd);
        if (st == TC_OK) {
            tc_quant qp;
            tc_tensor_quant(dst[t], &qp); /* per tensor (count 1) or per head_dim channel, checked by quant_table */
            if (quantize) tc_ref_quantize(hs, q, TC_DTYPE_S8, k->numel, 1, qp.count, qp.scale, qp.zero_point);
            tc_ref_kv_write(hd, quantize ? (void *)q : hs, kc->dims[0], kc->dims[1], kc->dims[2], n, kc->dims[3],
                            start, count, blhd, tc_dtype_size(kc->dtype));
            st = tc_host_commit(dst[t], hd);
        }
        tc_host_put(src[t], hs);
    }
    free(q);
    return st;
}

/* qt: NULL to copy, else the quant_table of an f32 -> s8 append */
static tc_status write_cl(tc_ctx *ctx, tc_tensor *kc, tc_tensor *vc, const tc_tensor *k, const tc_tensor *v,
                          const int32_t *start, const int32_t *count, int64_t n, int blhd, const float *qt)
{
    const int64_t b = kc->dims[0];
    int same = 1, any = 0;
    for (int64_t i = 0; i < b; i++) {
        same = same && start[i] == start[0] && count[i] == count[0];
        any = any || count[i] > 0;
    }
    if (!any) return TC_OK;
    int32_t *pairs = same ? NULL : malloc((size_t)b * 2 * sizeof *pairs);
    if (!same && !pairs) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "kv cache: out of host memory");
    for (int64_t i = 0; !same && i < b; i++) pairs[2 * i] = start[i], pairs[2 * i + 1] = count[i];
    cl_kernel kn;
    cl_mem seq = NULL, kq = NULL;
    size_t wg;
    const char *name = qt ? "kv_append_q" : "kv_append";
    tc_status st = tc_attn_kernel(ctx, kc->dims[3], kc->dtype == TC_DTYPE_S8, name, &kn, &wg);
    if (st == TC_OK && pairs) st = tc_attn_table(ctx, pairs, (size_t)b * 2 * sizeof *pairs, &seq);
    if (st == TC_OK && qt) st = tc_attn_table(ctx, qt, (size_t)(4 * kc->dims[3]) * sizeof *qt, &kq);
    free(pairs);
    if (st != TC_OK) {
        if (seq) clReleaseMemObject(seq);
        return st;
    }
    cl_int8 a;
    memset(&a, 0, sizeof a);
    a.s[0] = (cl_int)b, a.s[1] = (cl_int)kc->dims[1], a.s[2] = (cl_int)kc->dims[2], a.s[3] = (cl_int)n;
    a.s[4] = blhd, a.s[5] = start[0], a.s[6] = count[0];
    cl_mem mk = tc_buf(k), mv = tc_buf(v), mkc = tc_buf(kc), mvc = tc_buf(vc);
    cl_ulong ko = tc_off(k), vo = tc_off(v), kco = tc_off(kc), vco = tc_off(vc);
    st = tc_set_args(ctx, kn, qt ? 11 : 10, TC_ARG(a), TC_ARG(seq), TC_ARG(mk), TC_ARG(ko), TC_ARG(mv), TC_ARG(vo),
                     TC_ARG(mkc), TC_ARG(kco), TC_ARG(mvc), TC_ARG(vco), TC_ARG(kq));
    size_t gws[3] = {(size_t)kc->dims[3], (size_t)n, (size_t)(b * kc->dims[1])};
    if (st == TC_OK) st = tc_launch(ctx, kn, name, 3, gws, NULL);
    if (seq) clReleaseMemObject(seq);
    if (kq) clReleaseMemObject(kq);
    return st;
}

tc_status tc_kv_write(tc_ctx *ctx, tc_tensor *kc, tc_tensor *vc, const tc_tensor *k, const tc_tensor *v,
                      const int32_t *start, const int32_t *count, tc_attn_layout layout, tc_variant variant)
{
    static const char *const op = "kv_cache_append";
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: ctx is NULL", op);
    tc_status st;
    const tc_tensor *t[4] = {kc, vc, k, v};
    static const char *const names[4] = {"kv_cache_append: cache k", "kv_cache_append: cache v",
                                         "kv_cache_append: k", "kv_cache_append: v"};
    /* the caches f32 or s8; the new tokens the caches' dtype (copied), or f32 into s8 (quantized) */
    const tc_dtype dt = kc && kc->dtype == TC_DTYPE_S8 ? TC_DTYPE_S8 : TC_DTYPE_F32;
    const tc_dtype sdt = dt == TC_DTYPE_S8 && k && k->dtype == TC_DTYPE_F32 ? TC_DTYPE_F32 : dt;
    for (int i = 0; i < 4; i++)
        if ((st = tc_check_tensor(ctx, t[i], names[i], i < 2 ? dt : sdt, 4)) != TC_OK) return st;
    const int quantize = sdt != dt;
    if (!start || !count) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: start or count is NULL", op);
    if (layout != TC_ATTN_BHLD && layout != TC_ATTN_BLHD)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: layout %d is neither TC_ATTN_BHLD nor TC_ATTN_BLHD", op,
                       (int)layout);
    const int blhd = layout == TC_ATTN_BLHD;
    const int64_t b = k->dims[0], h = k->dims[blhd ? 2 : 1], n = k->dims[blhd ? 1 : 2], dh = k->dims[3];
    const int64_t cap = kc->dims[2];
    static const char *const what[4] = {"batch", "heads", "", "head_dim"};
    const int64_t got[4] = {b, h, 0, dh};
    for (int i = 0; i < 4; i++)
        if (i != 2 && got[i] != kc->dims[i])
            return tc_fail(ctx, TC_ERR_SHAPE, "%s: k has %s %lld, the cache %lld", op, what[i], (long long)got[i],
                           (long long)kc->dims[i]);
    if ((st = tc_check_same_dims(ctx, op, kc, "cache k", vc, "cache v")) != TC_OK) return st;
    if ((st = tc_check_same_dims(ctx, op, k, "k", v, "v")) != TC_OK) return st;
    for (int i = 0; i < 2; i++)
        for (int j = i + 1; j < 4; j++)
            if ((st = tc_check_no_alias(ctx, op, t[i], names[i] + 17, t[j], names[j] + 17)) != TC_OK) return st;
    if (!ctx->is_ref && (kc->numel > INT_MAX || k->numel > INT_MAX))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "%s: more than 2^31-1 elements on OpenCL", op);
    for (int64_t i = 0; i < b; i++) {
        if (count[i] < 0 || count[i] > n)
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: count[%lld] = %d is outside [0, %lld]", op, (long long)i,
                           (int)count[i], (long long)n);
        if (start[i] < 0 || start[i] > cap)
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: start[%lld] = %d is outside [0, %lld]", op, (long long)i,
                           (int)start[i], (long long)cap);
        if ((int64_t)start[i] + count[i] > cap)
            return tc_fail(ctx, TC_ERR_FULL,
                           "%s: sequence %lld holds %d of %lld positions; %d more do not fit (capacity %lld)", op,
                           (long long)i, (int)start[i], (long long)cap, (int)count[i], (long long)cap);
    }
    if ((st = tc_layer_variant(ctx, op, variant, TC_VARIANT_AUTO, &variant)) != TC_OK) return st;
    float *qt = quantize ? malloc((size_t)(4 * dh) * sizeof *qt) : NULL;
    if (quantize && !qt) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "%s: out of host memory", op);
    if (quantize && (st = quant_table(ctx, kc, vc, qt)) != TC_OK) {
        free(qt);
        return st;
    }
    tc_op_begin(ctx, op, variant, quantize ? 4.0 * (double)k->numel : 0.0,
                2.0 * (double)(tc_dtype_size(sdt) + tc_dtype_size(dt)) * (double)k->numel);
    st = variant == TC_VARIANT_REF ? write_host(kc, vc, k, v, start, count, n, blhd, quantize)
                                   : write_cl(ctx, kc, vc, k, v, start, count, n, blhd, qt);
    free(qt);
    return tc_op_end(ctx, st);
}

/* ---- the cache object ------------------------------------------------------------- */

/* S8: the head_dim scales of layer l's k (which 0) or v (1) */
static const float *layer_scales(const tc_kv_cache *c, size_t l, int which)
{
    return c->scales + (2 * l + (size_t)which) * (size_t)c->cfg.head_dim;
}

static tc_status create(tc_ctx *ctx, const tc_kv_cache_config *cfg, const float *scales, tc_kv_cache **out)
{
    if (out) *out = NULL;
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "kv_cache_create: ctx is NULL");
    if (!cfg || !out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "kv_cache_create: cfg or out is NULL");
    const int64_t v[5] = {cfg->layers, cfg->batch, cfg->heads, cfg->capacity, cfg->head_dim};
    static const char *const names[5] = {"layers", "batch", "heads", "capacity", "head_dim"};
    for (int i = 0; i < 5; i++)
        if (v[i] < 1 || v[i] > INT_MAX)
            return tc_fail(ctx, TC_ERR_SHAPE, "kv_cache_create: %s = %lld is outside [1, 2^31-1]", names[i],
                           (long long)v[i]);
    if (cfg->head_dim > TC_ATTN_MAX_HEAD_DIM)
        return tc_fail(ctx, TC_ERR_SHAPE, "kv_cache_create: head_dim %lld is above %d", (long long)cfg->head_dim,
                       TC_ATTN_MAX_HEAD_DIM);
    if (cfg->dtype != (scales ? TC_DTYPE_S8 : TC_DTYPE_F32))
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "kv_cache_create: dtype %s: tc_kv_cache_create holds f32, "
                       "tc_kv_cache_create_s8 s8", tc_dtype_name(cfg->dtype));
    const int64_t nscales = scales ? 2 * cfg->layers * cfg->head_dim : 0;
    for (int64_t i = 0; i < nscales; i++)
        if (!(isfinite(scales[i]) && scales[i] > 0.0f))
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "kv_cache_create: scales[%lld] = %g is not finite and > 0",
                           (long long)i, (double)scales[i]);
    const int64_t dims[4] = {cfg->batch, cfg->heads, cfg->capacity, cfg->head_dim};
    int64_t numel;
    size_t per, all;
    tc_status st = tc_dims_count(ctx, cfg->dtype, 4, dims, &numel, &per);
    if (st != TC_OK) return st;
    if (__builtin_mul_overflow(per, (size_t)(2 * cfg->layers), &all))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "kv_cache_create: 2 x %lld layers x %zu bytes overflows",
                       (long long)cfg->layers, per);
    if (!ctx->is_ref && numel > INT_MAX)
        return tc_fail(ctx, TC_ERR_OVERFLOW, "kv_cache_create: %lld elements per layer, beyond 2^31-1 on OpenCL",
                       (long long)numel);
    tc_kv_cache *c = calloc(1, sizeof *c);
    const size_t nl = (size_t)cfg->layers, nb = (size_t)cfg->batch;
    if (c) {
        c->k = calloc(nl, sizeof *c->k), c->v = calloc(nl, sizeof *c->v);
        c->len = calloc(nl * nb, sizeof *c->len), c->last = calloc(nl * nb, sizeof *c->last);
        c->pos = calloc(nb, sizeof *c->pos);
        c->scales = nscales ? malloc((size_t)nscales * sizeof *c->scales) : NULL;
        c->zeros = nscales ? calloc((size_t)cfg->head_dim, sizeof *c->zeros) : NULL;
    }
    if (!c || !c->k || !c->v || !c->len || !c->last || !c->pos || (nscales && (!c->scales || !c->zeros))) {
        tc_kv_cache_free(c);
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "kv_cache_create: out of host memory");
    }
    c->ctx = ctx, c->cfg = *cfg, c->bytes = all;
    if (nscales) memcpy(c->scales, scales, (size_t)nscales * sizeof *c->scales);
    for (size_t l = 0; l < nl && st == TC_OK; l++) {
        st = tc_tensor_create(ctx, cfg->dtype, 4, dims, &c->k[l]);
        if (st == TC_OK) st = tc_tensor_create(ctx, cfg->dtype, 4, dims, &c->v[l]);
        if (st == TC_OK && nscales) st = tc_tensor_set_quant(c->k[l], &(tc_quant){3, cfg->head_dim, layer_scales(c, l, 0), c->zeros});
        if (st == TC_OK && nscales) st = tc_tensor_set_quant(c->v[l], &(tc_quant){3, cfg->head_dim, layer_scales(c, l, 1), c->zeros});
    }
    if (st != TC_OK) {
        tc_kv_cache_free(c);
        return st;
    }
    *out = c;
    return TC_OK;
}

tc_status tc_kv_cache_create(tc_ctx *ctx, const tc_kv_cache_config *cfg, tc_kv_cache **out)
{
    return create(ctx, cfg, NULL, out);
}

tc_status tc_kv_cache_create_s8(tc_ctx *ctx, const tc_kv_cache_config *cfg, const float *scales, tc_kv_cache **out)
{
    if (!scales) {
        if (out) *out = NULL;
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "kv_cache_create_s8: scales is NULL");
    }
    return create(ctx, cfg, scales, out);
}

void tc_kv_cache_free(tc_kv_cache *c)
{
    if (!c) return;
    for (int64_t l = 0; c->k && l < c->cfg.layers; l++) tc_tensor_free(c->k[l]);
    for (int64_t l = 0; c->v && l < c->cfg.layers; l++) tc_tensor_free(c->v[l]);
    free(c->k), free(c->v), free(c->len), free(c->last), free(c->pos), free(c->scales), free(c->zeros);
    free(c);
}

static tc_status check_layer(const tc_kv_cache *c, int64_t layer, const char *op)
{
    if (!c) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: cache is NULL", op);
    if (layer < 0 || layer >= c->cfg.layers)
        return tc_fail(c->ctx, TC_ERR_INVALID_ARG, "%s: layer %lld is outside [0, %lld)", op, (long long)layer,
                       (long long)c->cfg.layers);
    return TC_OK;
}

tc_status tc_kv_cache_append(tc_kv_cache *c, int64_t layer, const tc_tensor *k, const tc_tensor *v,
                             const int32_t *counts_host, tc_attn_layout layout)
{
    tc_status st = check_layer(c, layer, "kv_cache_append");
    if (st != TC_OK) return st;
    if ((st = tc_check_tensor(c->ctx, k, "kv_cache_append: k", TC_DTYPE_F32, 4)) != TC_OK) return st;
    int32_t *len = c->len + layer * c->cfg.batch, *last = c->last + layer * c->cfg.batch;
    const int64_t n = k->dims[layout == TC_ATTN_BLHD ? 1 : 2], nb = c->cfg.batch;
    if (k->dims[0] != nb)
        return tc_fail(c->ctx, TC_ERR_SHAPE, "kv_cache_append: k has batch %lld, the cache %lld",
                       (long long)k->dims[0], (long long)nb);
    /* every count as the cache will hold it, checked (TC_ERR_FULL) by tc_kv_write before anything is written */
    for (int64_t b = 0; b < nb; b++) c->pos[b] = counts_host ? counts_host[b] : (int32_t)(n < INT_MAX ? n : INT_MAX);
    /* an s8 cache quantizes the f32 tokens as it writes them, with the layer's parameters */
    st = tc_kv_write(c->ctx, c->k[layer], c->v[layer], k, v, len, c->pos, layout, TC_VARIANT_AUTO);
    if (st == TC_ERR_FULL) {
        char msg[TC_ERR_LEN];
        snprintf(msg, sizeof msg, "%s", tc_last_error(c->ctx));
        return tc_fail(c->ctx, TC_ERR_FULL, "%s (layer %lld; tc_kv_cache_reset empties the cache)", msg,
                       (long long)layer);
    }
    if (st != TC_OK) return st;
    for (int64_t b = 0; b < nb; b++) len[b] += c->pos[b], last[b] = c->pos[b];
    return TC_OK;
}

tc_status tc_kv_cache_attention(tc_kv_cache *c, int64_t layer, const tc_tensor *q, tc_tensor *out,
                                const tc_attention_params *p)
{
    tc_status st = check_layer(c, layer, "kv_cache_attention");
    if (st != TC_OK) return st;
    tc_attention_params pp = tc_attention_defaults();
    pp.causal = 1;
    if (p) pp = *p;
    const int32_t *len = c->len + layer * c->cfg.batch, *last = c->last + layer * c->cfg.batch;
    int64_t held = 0;
    for (int64_t b = 0; b < c->cfg.batch; b++) held += len[b];
    if (!held)
        return tc_fail(c->ctx, TC_ERR_INVALID_ARG, "kv_cache_attention: layer %lld is empty (append before attention)",
                       (long long)layer);
    if (!pp.q_pos_host) {
        for (int64_t b = 0; b < c->cfg.batch; b++) c->pos[b] = len[b] - last[b];
        pp.q_pos_host = c->pos;
    }
    pp.kv_len_host = len;
    return tc_attention(c->ctx, q, c->k[layer], c->v[layer], out, &pp);
}

tc_status tc_kv_cache_views(tc_kv_cache *c, int64_t layer, tc_tensor **k, tc_tensor **v)
{
    tc_status st = check_layer(c, layer, "kv_cache_views");
    if (st != TC_OK) return st;
    if (!k || !v) return tc_fail(c->ctx, TC_ERR_INVALID_ARG, "kv_cache_views: k or v is NULL");
    *k = *v = NULL;
    const tc_tensor *t = c->k[layer];
    st = tc_tensor_view(c->k[layer], 0, 4, t->dims, k);
    if (st == TC_OK) st = tc_tensor_view(c->v[layer], 0, 4, t->dims, v);
    if (st != TC_OK) {
        tc_tensor_free(*k);
        *k = NULL;
    }
    return st;
}

const int32_t *tc_kv_cache_lengths(const tc_kv_cache *c, int64_t layer)
{
    return c && layer >= 0 && layer < c->cfg.layers ? c->len + layer * c->cfg.batch : NULL;
}

tc_status tc_kv_cache_reset(tc_kv_cache *c)
{
    if (!c) return tc_fail(NULL, TC_ERR_INVALID_ARG, "kv_cache_reset: cache is NULL");
    const size_t n = (size_t)(c->cfg.layers * c->cfg.batch);
    memset(c->len, 0, n * sizeof *c->len);
    memset(c->last, 0, n * sizeof *c->last);
    return TC_OK;
}

size_t tc_kv_cache_bytes(const tc_kv_cache *c) { return c ? c->bytes : 0; }

tc_kv_cache_config tc_kv_cache_config_of(const tc_kv_cache *c)
{
    tc_kv_cache_config z;
    memset(&z, 0, sizeof z);
    return c ? c->cfg : z;
}
