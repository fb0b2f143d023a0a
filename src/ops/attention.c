/* Scaled dot-product attention: validate -> choose the kernel (tiled for many
 * queries, per-query work-groups or split keys for few) -> launch, or the reference
 * on host copies. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iface.h"
#include "ops/attention.h"
#include "ops/blas.h"
#include "ops/layer.h"
#include "ops/qlayer.h"
#include "ref/ref.h"

#define DEC_MAX_Q 4  /* AUTO: up to this many queries per sequence take the decode kernels */
#define SLOT_PART 2  /* scratch slot of the split records */

tc_attention_params tc_attention_defaults(void)
{
    return (tc_attention_params){.scale = 0.0f, .causal = 0, .layout = TC_ATTN_BHLD, .variant = TC_VARIANT_AUTO};
}

/* A validated call: geometry, the per-sequence table (NULL: (q_pos, Lk) for all) and
 * what the queries see. */
typedef struct {
    tc_attn_dims g;
    int32_t *seq;
    float *kvq;    /* s8 keys and values: scales and zero points per channel (kernels/attention.cl); else NULL */
    int64_t kmax;  /* the most keys one query sees */
    double pairs;  /* visible (query, key) pairs over every head */
    int blas;      /* host code: OpenBLAS's GEMMs (TC_VARIANT_OPENBLAS), else the reference */
} attn_call;

static tc_status check_range(tc_ctx *ctx, const char *what, int64_t at, int64_t x, int64_t hi)
{
    if (x >= 0 && x <= hi) return TC_OK;
    char name[48];
    if (at >= 0)
        snprintf(name, sizeof name, "%s[%lld]", what, (long long)at);
    else
        snprintf(name, sizeof name, "%s", what);
    return tc_fail(ctx, TC_ERR_INVALID_ARG, "attention: %s = %lld is outside [0, %lld]", name, (long long)x,
                   (long long)hi);
}

/* s8 k or v: its parameters per head_dim channel, scales into q[0, dh) and zero points
 * into q[dh, 2 dh). */
static tc_status kv_quant(tc_ctx *ctx, const tc_tensor *t, const char *name, int64_t dh, float *q)
{
    tc_quant p;
    tc_status st = tc_tensor_quant(t, &p);
    if (st != TC_OK) return st;
    if (p.count == 0)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "attention: %s is s8 without quantization parameters", name);
    if (p.axis >= 0 && (p.axis != 3 || p.count != dh))
        return tc_fail(ctx, TC_ERR_INVALID_ARG,
                       "attention: %s's parameters must be per tensor or per head_dim channel (axis 3), not %lld "
                       "along axis %d",
                       name, (long long)p.count, p.axis);
    for (int64_t d = 0; d < dh; d++) {
        q[d] = p.scale[p.axis < 0 ? 0 : d];
        q[dh + d] = (float)p.zero_point[p.axis < 0 ? 0 : d];
    }
    return TC_OK;
}

/* Shapes and per-sequence values; fills c (c->seq and c->kvq to free) or fails with
 * nothing allocated. */
static tc_status check_shapes(tc_ctx *ctx, const tc_tensor *q, const tc_tensor *k, const tc_tensor *v,
                              const tc_tensor *out, const tc_attention_params *p, attn_call *c)
{
    static const char *const names[4] = {"attention: q", "attention: k", "attention: v", "attention: out"};
    const tc_tensor *t[4] = {q, k, v, out};
    const tc_dtype kvt = k && k->dtype == TC_DTYPE_S8 ? TC_DTYPE_S8 : TC_DTYPE_F32;
    tc_status st;
    c->seq = NULL, c->kvq = NULL;
    for (int i = 0; i < 4; i++)
        if ((st = tc_check_tensor(ctx, t[i], names[i], i == 1 || i == 2 ? kvt : TC_DTYPE_F32, 4)) != TC_OK) return st;
    if (p->layout != TC_ATTN_BHLD && p->layout != TC_ATTN_BLHD)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "attention: layout %d is neither TC_ATTN_BHLD nor TC_ATTN_BLHD",
                       (int)p->layout);
    const int blhd = p->layout == TC_ATTN_BLHD;
    tc_attn_dims *g = &c->g;
    g->b = q->dims[0], g->h = q->dims[blhd ? 2 : 1], g->lq = q->dims[blhd ? 1 : 2], g->dh = q->dims[3];
    g->hkv = k->dims[1], g->lk = k->dims[2];
    if (k->dims[0] != g->b)
        return tc_fail(ctx, TC_ERR_SHAPE, "attention: k has batch %lld, q has %lld", (long long)k->dims[0],
                       (long long)g->b);
    if (k->dims[3] != g->dh)
        return tc_fail(ctx, TC_ERR_SHAPE, "attention: k has head_dim %lld, q has %lld", (long long)k->dims[3],
                       (long long)g->dh);
    if (g->h % g->hkv)
        return tc_fail(ctx, TC_ERR_SHAPE, "attention: q's %lld heads are not a multiple of k's %lld", (long long)g->h,
                       (long long)g->hkv);
    if (g->dh > TC_ATTN_MAX_HEAD_DIM)
        return tc_fail(ctx, TC_ERR_SHAPE, "attention: head_dim %lld is above %d", (long long)g->dh,
                       TC_ATTN_MAX_HEAD_DIM);
    if ((st = tc_check_same_dims(ctx, "attention", k, "k", v, "v")) != TC_OK) return st;
    if ((st = tc_check_same_dims(ctx, "attention", q, "q", out, "out")) != TC_OK) return st;
    for (int i = 0; i < 3; i++)
        if ((st = tc_check_no_alias(ctx, "attention", out, "out", t[i], names[i] + 11)) != TC_OK) return st;
    if (!isfinite(p->scale)) return tc_fail(ctx, TC_ERR_INVALID_ARG, "attention: scale %g is not finite", p->scale);
    for (int i = 0; i < 4 && !ctx->is_ref; i++)
        if (t[i]->numel > INT_MAX)
            return tc_fail(ctx, TC_ERR_OVERFLOW, "%s has %lld elements, beyond 2^31-1 on OpenCL", names[i],
                           (long long)t[i]->numel);
    /* the kernels compute positions in int */
    const int64_t pos_hi = INT_MAX - g->lq;
    if (!p->q_pos_host && (st = check_range(ctx, "q_pos", -1, p->q_pos, pos_hi)) != TC_OK) return st;
    for (int64_t b = 0; b < g->b; b++) {
        if (p->q_pos_host && (st = check_range(ctx, "q_pos_host", b, p->q_pos_host[b], pos_hi)) != TC_OK) return st;
        if (p->kv_len_host && (st = check_range(ctx, "kv_len_host", b, p->kv_len_host[b], g->lk)) != TC_OK)
            return st;
    }
    g->qsl = blhd ? g->h * g->dh : g->dh;
    g->qsh = blhd ? g->dh : g->lq * g->dh;
    g->qsb = g->h * g->lq * g->dh;
    g->scale = p->scale != 0.0f ? p->scale : (float)(1.0 / sqrt((double)g->dh));
    g->causal = p->causal != 0;
    g->q_pos = p->q_pos_host ? 0 : p->q_pos;
    g->seq = NULL;
    if (kvt == TC_DTYPE_S8) {
        if (!(c->kvq = malloc((size_t)g->dh * 4 * sizeof *c->kvq)))
            return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "attention: out of host memory");
        if ((st = kv_quant(ctx, k, "k", g->dh, c->kvq)) != TC_OK ||
            (st = kv_quant(ctx, v, "v", g->dh, c->kvq + 2 * g->dh)) != TC_OK) {
            free(c->kvq);
            return st;
        }
    }
    if (p->q_pos_host || p->kv_len_host) {
        if (!(c->seq = malloc((size_t)g->b * 2 * sizeof *c->seq))) {
            free(c->kvq);
            return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "attention: out of host memory");
        }
        for (int64_t b = 0; b < g->b; b++) {
            c->seq[2 * b] = p->q_pos_host ? p->q_pos_host[b] : (int32_t)p->q_pos;
            c->seq[2 * b + 1] = p->kv_len_host ? p->kv_len_host[b] : (int32_t)g->lk;
        }
        g->seq = c->seq;
    }
    c->kmax = 0, c->pairs = 0.0;
    for (int64_t b = 0; b < g->b; b++)
        for (int64_t i = 0; i < g->lq; i++) {
            const int64_t n = tc_attn_keys(g, b, i);
            c->kmax = n > c->kmax ? n : c->kmax;
            c->pairs += (double)n * (double)g->h;
        }
    return TC_OK;
}

static tc_status choose_variant(tc_ctx *ctx, const attn_call *c, tc_variant v, tc_variant *out)
{
    if (v < 0 || v >= TC_VARIANT_COUNT) return tc_fail(ctx, TC_ERR_INVALID_ARG, "attention: invalid variant %d", (int)v);
    if (v == TC_VARIANT_AUTO) {
        const tc_par_attention *pa = &ctx->params.attention;
        const double rows = (double)(c->g.b * c->g.h * c->g.lq);
        if (ctx->is_ref)
            v = ctx->host_blas && tc_blas_attn_fits(&c->g) ? TC_VARIANT_OPENBLAS : TC_VARIANT_REF;
        else if (c->g.lq <= DEC_MAX_Q)
            v = rows < (double)pa->split_groups * ctx->info.compute_units && c->kmax >= 2 * (int64_t)pa->split_keys
                    ? TC_VARIANT_SPLIT
                    : TC_VARIANT_OPENCL;
        else
            v = ctx->info.type == TC_DEVICE_CPU ? TC_VARIANT_CPU : TC_VARIANT_GPU;
    }
    if (v != TC_VARIANT_REF && v != TC_VARIANT_CPU && v != TC_VARIANT_GPU && v != TC_VARIANT_OPENCL &&
        v != TC_VARIANT_SPLIT && v != TC_VARIANT_OPENBLAS)
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "attention has no variant '%s'", tc_variant_name(v));
    tc_status st;
    if ((ctx->is_ref || v == TC_VARIANT_OPENBLAS) &&
        (st = tc_blas_variant_ok(ctx, "attention", v, tc_blas_attn_fits(&c->g))) != TC_OK)
        return st;
    *out = v;
    return TC_OK;
}

/* ---- kernels ----------------------------------------------------------------- */

static size_t pow2_floor(size_t x)
{
    size_t p = 1;
    while (p * 2 <= x) p *= 2;
    return p;
}

tc_status tc_attn_kernel(tc_ctx *ctx, int64_t dh, int s8, const char *name, cl_kernel *k, size_t *wg)
{
    tc_par_attention *pa = &ctx->params.attention;
    const size_t dev_wg = pow2_floor(ctx->info.max_work_group), local = (size_t)ctx->info.local_mem_bytes;
    size_t wq = (size_t)pa->gpu_wq, wd = (size_t)pa->dec_wg, tk = (size_t)pa->gpu_tk, td = (size_t)pa->dec_tk;
    wq = wq < dev_wg ? wq : dev_wg;
    wd = wd < dev_wg ? wd : dev_wg;
    while (tk > 1 && 2 * tk * (size_t)dh * sizeof(float) > local) tk /= 2;
    while (td > 16 && ((size_t)dh + td + wd) * sizeof(float) > local) td /= 2;
    const int gpu = strcmp(name, "attn_gpu") == 0, dec = strcmp(name, "attn_dec") == 0;
    for (;;) {
        char opts[224], qopts[96];
        snprintf(opts, sizeof opts, "-DHEAD_DIM=%lld -DWQ=%zu -DTK=%zu -DWD=%zu -DTD=%zu%s%s", (long long)dh, wq, tk,
                 wd, td, s8 ? " -DKV_S8 " : "", s8 ? tc_quant_options(ctx, TC_DTYPE_S8, qopts, sizeof qopts) : "");
        tc_status st = tc_get_kernel(ctx, "attention", opts, name, k);
        if (st != TC_OK) return st;
        size_t *want = gpu ? &wq : dec ? &wd : NULL;
        *wg = want ? *want : 0;
        if (!want || *want <= tc_kernel_wg_max(ctx, *k)) break;
        if (*want == 1)
            return tc_fail(ctx, TC_ERR_UNSUPPORTED, "attention: %s takes no work-group on this device", name);
        *want /= 2; /* reqd_work_group_size: rebuilt for the smaller group */
    }
    if (wq != (size_t)pa->gpu_wq) tc_param_note(ctx, &pa->gpu_wq, "%zu: the device's work-group limit", wq);
    if (wd != (size_t)pa->dec_wg) tc_param_note(ctx, &pa->dec_wg, "%zu: the device's work-group limit", wd);
    if (tk != (size_t)pa->gpu_tk) tc_param_note(ctx, &pa->gpu_tk, "%zu: local memory at head_dim %lld", tk, (long long)dh);
    if (td != (size_t)pa->dec_tk) tc_param_note(ctx, &pa->dec_tk, "%zu: local memory at head_dim %lld", td, (long long)dh);
    return TC_OK;
}

tc_status tc_attn_table(tc_ctx *ctx, const void *host, size_t bytes, cl_mem *out)
{
    cl_int err;
    *out = clCreateBuffer(ctx->cl, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, (void *)host, &err);
    return err == CL_SUCCESS ? TC_OK : tc_fail_cl(ctx, err, "clCreateBuffer (attention table)");
}

/* The geometry int16 of kernels/attention.cl, laid out by TC_ATTN_GEOMETRY. */
static cl_int16 geometry(const tc_attn_dims *g, int64_t nsplit, int64_t chunk)
{
    const struct {
        int64_t B, H, HKV, LQ, LK, QSB, QSH, QSL, CAUSAL, QPOS, NSPLIT, CHUNK;
    } v = {g->b, g->h, g->hkv, g->lq, g->lk, g->qsb, g->qsh, g->qsl, g->causal, g->q_pos, nsplit, chunk};
    cl_int16 r;
    memset(&r, 0, sizeof r);
#define GEO_SET(name, i) r.s[0x##i] = (cl_int)v.name;
    TC_ATTN_GEOMETRY(GEO_SET)
#undef GEO_SET
    return r;
}

/* SPLIT: enough splits to give the device split_groups work-groups per compute unit,
 * none shorter than split_keys, and at least two. */
static void split_size(const tc_ctx *ctx, const attn_call *c, int64_t *nsplit, int64_t *chunk)
{
    const tc_par_attention *pa = &ctx->params.attention;
    const int64_t rows = c->g.b * c->g.h * c->g.lq, target = (int64_t)pa->split_groups * ctx->info.compute_units;
    int64_t n = (target + rows - 1) / rows;
    if (n > c->kmax / pa->split_keys) n = c->kmax / pa->split_keys;
    if (n < 2) n = 2;
    if (n > c->kmax) n = c->kmax > 0 ? c->kmax : 1;
    *chunk = c->kmax > 0 ? (c->kmax + n - 1) / n : 1;
    *nsplit = c->kmax > 0 ? (c->kmax + *chunk - 1) / *chunk : 1;
}

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

static tc_status run_cl(tc_ctx *ctx, const tc_tensor *q, const tc_tensor *k, const tc_tensor *v, tc_tensor *out,
                        const attn_call *c, tc_variant var)
{
    const tc_attn_dims *g = &c->g;
    int64_t nsplit = 1, chunk = g->lk;
    if (var == TC_VARIANT_SPLIT) split_size(ctx, c, &nsplit, &chunk);
    const int vec = ctx->params.attention.dec_vec;
    const char *name = var == TC_VARIANT_CPU   ? "attn_cpu"
                       : var == TC_VARIANT_GPU ? "attn_gpu"
                       : vec                   ? "attn_dec1"
                                               : "attn_dec";
    cl_kernel kn, km = NULL;
    cl_mem seq = NULL, part = NULL, kvq = NULL;
    size_t wg;
    const size_t rows = (size_t)(g->b * g->h * g->lq);
    const int s8 = c->kvq != NULL;
    tc_status st = tc_attn_kernel(ctx, g->dh, s8, name, &kn, &wg);
    if (st == TC_OK && nsplit > 1) st = tc_attn_kernel(ctx, g->dh, s8, "attn_merge", &km, &(size_t){0});
    if (st == TC_OK && nsplit > 1)
        st = tc_scratch_get(ctx, SLOT_PART, rows * (size_t)nsplit * (size_t)(g->dh + 2) * sizeof(float), &part);
    if (st == TC_OK && g->seq) st = tc_attn_table(ctx, g->seq, (size_t)g->b * 2 * sizeof(cl_int), &seq);
    if (st == TC_OK && s8) st = tc_attn_table(ctx, c->kvq, (size_t)g->dh * 4 * sizeof(float), &kvq);
    if (st != TC_OK) {
        if (seq) clReleaseMemObject(seq);
        return st;
    }
    const cl_int16 geo = geometry(g, nsplit, chunk);
    cl_mem mq = tc_buf(q), mk = tc_buf(k), mv = tc_buf(v), mo = tc_buf(out);
    cl_ulong qo = tc_off(q), ko = tc_off(k), vo = tc_off(v), oo = tc_off(out);
    const cl_float scale = g->scale;
    const int tiled = var == TC_VARIANT_CPU || var == TC_VARIANT_GPU;
    /* the tiled kernels end with (scale, kvq), the decode kernels with (part, scale, kvq) */
    st = tiled ? tc_set_args(ctx, kn, 12, TC_ARG(geo), TC_ARG(seq), TC_ARG(mq), TC_ARG(qo), TC_ARG(mk), TC_ARG(ko),
                             TC_ARG(mv), TC_ARG(vo), TC_ARG(mo), TC_ARG(oo), TC_ARG(scale), TC_ARG(kvq))
               : tc_set_args(ctx, kn, 13, TC_ARG(geo), TC_ARG(seq), TC_ARG(mq), TC_ARG(qo), TC_ARG(mk), TC_ARG(ko),
                             TC_ARG(mv), TC_ARG(vo), TC_ARG(mo), TC_ARG(oo), TC_ARG(part), TC_ARG(scale), TC_ARG(kvq));
    if (st == TC_OK && var == TC_VARIANT_CPU) {
        size_t cw = (size_t)ctx->params.attention.cpu_wg;
        if (cw) cw = tc_fit_wg(ctx, kn, name, &ctx->params.attention.cpu_wg, cw, 0);
        const size_t blocks = (size_t)(g->lq + 15) / 16;
        size_t gws[3] = {cw ? round_up(blocks, cw) : blocks, (size_t)g->h, (size_t)g->b}, lws[3] = {cw, 1, 1};
        st = tc_launch(ctx, kn, name, 3, gws, cw ? lws : NULL);
    } else if (st == TC_OK && var == TC_VARIANT_GPU) {
        size_t gws[3] = {round_up((size_t)g->lq, wg), (size_t)g->h, (size_t)g->b}, lws[3] = {wg, 1, 1};
        st = tc_launch(ctx, kn, name, 3, gws, lws);
    } else if (st == TC_OK) {
        const size_t per = vec ? 1 : wg; /* attn_dec1: one work-item per group */
        size_t gws[3] = {per * (size_t)nsplit, (size_t)g->lq, (size_t)(g->b * g->h)}, lws[3] = {per, 1, 1};
        st = tc_launch(ctx, kn, name, 3, gws, lws);
        if (st == TC_OK && nsplit > 1) {
            size_t mg[3] = {(size_t)g->dh, (size_t)g->lq, (size_t)(g->b * g->h)};
            st = tc_set_args(ctx, km, 4, TC_ARG(geo), TC_ARG(part), TC_ARG(mo), TC_ARG(oo));
            if (st == TC_OK) st = tc_launch(ctx, km, "attn_merge", 3, mg, NULL);
        }
    }
    if (seq) clReleaseMemObject(seq);
    if (kvq) clReleaseMemObject(kvq);
    return st;
}

/* REF, or OPENBLAS when c->blas; s8 keys and values are dequantized first (as the
 * kernels do on load) */
static int host_attention(const attn_call *c, const float *q, const float *k, const float *v, float *out)
{
    return c->blas ? tc_blas_attention(q, k, v, out, &c->g) : tc_ref_attention(q, k, v, out, &c->g);
}

static int host_fn(void *const *in, void *out, const void *args)
{
    const attn_call *c = args;
    if (!c->kvq) return host_attention(c, in[0], in[1], in[2], out);
    const int64_t dh = c->g.dh, n = c->g.b * c->g.hkv * c->g.lk * dh;
    float *k = malloc((size_t)n * sizeof *k), *v = malloc((size_t)n * sizeof *v);
    int32_t *zp = malloc((size_t)dh * 2 * sizeof *zp);
    int r = -1;
    if (k && v && zp) {
        for (int64_t d = 0; d < 2 * dh; d++) zp[d] = (int32_t)c->kvq[(d / dh) * 2 * dh + dh + d % dh];
        tc_ref_dequantize(in[1], TC_DTYPE_S8, k, n, 1, dh, c->kvq, zp);
        tc_ref_dequantize(in[2], TC_DTYPE_S8, v, n, 1, dh, c->kvq + 2 * dh, zp + dh);
        r = host_attention(c, in[0], k, v, out);
    }
    free(k), free(v), free(zp);
    return r;
}

tc_status tc_attention(tc_ctx *ctx, const tc_tensor *q, const tc_tensor *k, const tc_tensor *v, tc_tensor *out,
                       const tc_attention_params *p)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "attention: ctx is NULL");
    const tc_attention_params pp = p ? *p : tc_attention_defaults();
    attn_call c;
    tc_variant var = TC_VARIANT_AUTO;
    tc_status st = check_shapes(ctx, q, k, v, out, &pp, &c);
    if (st != TC_OK) return st;
    if ((st = choose_variant(ctx, &c, pp.variant, &var)) != TC_OK) {
        free(c.seq), free(c.kvq);
        return st;
    }
    const double kv = 2.0 * (double)(c.g.b * c.g.hkv) * (double)c.kmax * (double)c.g.dh * (c.kvq ? 0.25 : 1.0);
    tc_op_begin(ctx, "attention", var, 4.0 * (double)c.g.dh * c.pairs, 4.0 * (2.0 * (double)q->numel + kv));
    if (var == TC_VARIANT_REF || var == TC_VARIANT_OPENBLAS) {
        const tc_tensor *in[3] = {q, k, v};
        c.blas = var == TC_VARIANT_OPENBLAS;
        st = tc_host_run(ctx, 3, in, out, host_fn, &c);
    } else {
        st = run_cl(ctx, q, k, v, out, &c, var);
    }
    free(c.seq), free(c.kvq);
    return tc_op_end(ctx, st);
}
