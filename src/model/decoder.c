/* The decoder-only transformer: weights uploaded once with a linear plan per
 * projection; a step runs B sequences of T positions through every block, with
 * each block's keys and values appended to a KV cache that attention reads, and
 * every residual add fused into the LayerNorm that follows it.
 * Without the cache a generation step is a whole-sequence pass: the cache is
 * emptied first and only serves as the keys' and values' layout for attention. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/decoder.h"
#include "model/decoder_file.h"
#include "tinycl/attention.h"

void tc_decoder_free(tc_decoder *d)
{
    if (!d) return;
    tc_tensor *t[] = {d->embed, d->pe, d->lnf_g, d->lnf_b};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        tc_tensor_free(t[i]);
    tc_linear_plan_free(d->logits);
    for (int64_t l = 0; l < d->info.layers; l++) {
        tc_dblock *b = &d->blocks[l];
        tc_tensor_free(b->ln1_g), tc_tensor_free(b->ln1_b), tc_tensor_free(b->ln2_g), tc_tensor_free(b->ln2_b);
        tc_linear_plan *p[] = {b->qkv, b->proj[0], b->proj[1], b->proj[2], b->out, b->fc1, b->fc2};
        for (size_t i = 0; i < sizeof p / sizeof *p; i++)
            tc_linear_plan_free(p[i]);
    }
    free(d->kv_scales);
    free(d);
}

static tc_status upload(tc_ctx *ctx, const tc_wtensor *w, tc_tensor **out)
{
    *out = NULL;
    return w ? tc_tensor_from_host(ctx, TC_DTYPE_F32, w->ndim, w->dims, w->data, out) : TC_OK;
}

/* Plans of rows [row0, row0 + rows) of w (and those elements of bias), as views:
 * the plans hold their own references, the caller's may go. */
static tc_status plan_rows(tc_tensor *w, tc_tensor *bias, int64_t row0, int64_t rows, tc_linear_plan **out)
{
    tc_tensor *vw = NULL, *vb = NULL;
    tc_status s = tc_tensor_view(w, row0 * w->dims[1], 2, (const int64_t[]){rows, w->dims[1]}, &vw);
    if (s == TC_OK && bias) s = tc_tensor_view(bias, row0, 1, &rows, &vb);
    if (s == TC_OK) s = tc_linear_plan_create(w->ctx, vw, vb, NULL, out);
    tc_tensor_free(vw);
    tc_tensor_free(vb);
    return s;
}

/* A plan of the file's w and bias; with `blocks`, also one plan per block of
 * w->dims[0] / blocks rows (the same uploaded tensors). */
static tc_status plan(tc_ctx *ctx, const tc_wtensor *w, const tc_wtensor *bias, tc_linear_plan **out, int blocks,
                      tc_linear_plan **parts)
{
    tc_tensor *tw = NULL, *tb = NULL;
    tc_status s = upload(ctx, w, &tw);
    if (s == TC_OK) s = upload(ctx, bias, &tb);
    if (s == TC_OK) s = plan_rows(tw, tb, 0, w->dims[0], out);
    for (int j = 0; j < blocks && s == TC_OK; j++)
        s = plan_rows(tw, tb, j * (w->dims[0] / blocks), w->dims[0] / blocks, &parts[j]);
    tc_tensor_free(tw);
    tc_tensor_free(tb);
    return s;
}

static tc_status load_block(tc_ctx *ctx, const tc_dblock_desc *bd, tc_dblock *b)
{
    tc_status s = upload(ctx, bd->ln1_g, &b->ln1_g);
    if (s == TC_OK) s = upload(ctx, bd->ln1_b, &b->ln1_b);
    if (s == TC_OK) s = upload(ctx, bd->ln2_g, &b->ln2_g);
    if (s == TC_OK) s = upload(ctx, bd->ln2_b, &b->ln2_b);
    if (s == TC_OK) s = plan(ctx, bd->wqkv, bd->bqkv, &b->qkv, 3, b->proj);
    if (s == TC_OK) s = plan(ctx, bd->wo, bd->bo, &b->out, 0, NULL);
    if (s == TC_OK) s = plan(ctx, bd->w1, bd->b1, &b->fc1, 0, NULL);
    if (s == TC_OK) s = plan(ctx, bd->w2, bd->b2, &b->fc2, 0, NULL);
    b->gelu = (tc_gelu_mode)bd->gelu;
    return s;
}

/* pe[pos, 2i] = sin(pos / 10000^(2i/d)), pe[pos, 2i + 1] = cos(same), in double
 * and rounded to f32, as the training script computes them. */
static tc_status positions(tc_decoder *d)
{
    const int64_t dm = d->info.d_model, dims[2] = {d->info.capacity, dm};
    int64_t numel;
    size_t bytes;
    tc_status s = tc_dims_count(d->ctx, TC_DTYPE_F32, 2, dims, &numel, &bytes);
    float *pe = s == TC_OK ? malloc(bytes) : NULL;
    if (s == TC_OK && !pe) s = tc_fail(d->ctx, TC_ERR_OUT_OF_MEMORY, "decoder: cannot allocate %zu bytes", bytes);
    if (s != TC_OK) return s;
    for (int64_t i = 0; i < dm; i += 2) {
        const double freq = pow(10000.0, -(double)i / (double)dm);
        for (int64_t p = 0; p < dims[0]; p++) {
            pe[p * dm + i] = (float)sin((double)p * freq);
            pe[p * dm + i + 1] = (float)cos((double)p * freq);
        }
    }
    s = tc_tensor_from_host(d->ctx, TC_DTYPE_F32, 2, dims, pe, &d->pe);
    free(pe);
    return s;
}

static tc_status build(tc_ctx *ctx, const tc_wfile *f, const tc_decoder_desc *desc, int64_t capacity, tc_decoder *d)
{
    d->ctx = ctx;
    memcpy(d->name, f->name, sizeof d->name);
    d->info = desc->info;
    d->info.capacity = capacity;
    tc_status s = upload(ctx, desc->embed, &d->embed);
    if (s == TC_OK) s = positions(d);
    for (int64_t l = 0; l < d->info.layers && s == TC_OK; l++)
        s = load_block(ctx, &desc->blocks[l], &d->blocks[l]);
    if (s == TC_OK) s = upload(ctx, desc->lnf_g, &d->lnf_g);
    if (s == TC_OK) s = upload(ctx, desc->lnf_b, &d->lnf_b);
    if (s == TC_OK) s = plan(ctx, desc->wl, desc->bl, &d->logits, 0, NULL);
    return s;
}

tc_status tc_decoder_load(tc_ctx *ctx, const char *path, int64_t capacity, tc_decoder **out)
{
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_decoder_load: out is NULL");
    *out = NULL;
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_decoder_load: ctx is NULL");
    if (!path) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_decoder_load: path is NULL");
    if (capacity < 1 || capacity > INT_MAX)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_decoder_load: capacity %lld is outside [1, 2^31-1]",
                       (long long)capacity);
    tc_wfile *f = malloc(sizeof *f);
    tc_decoder_desc *desc = malloc(sizeof *desc);
    tc_decoder *d = calloc(1, sizeof *d);
    tc_status s = f && desc && d ? TC_OK : tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == TC_OK) s = tc_wfile_read(ctx, path, f);
    if (s == TC_OK) {
        s = tc_decoder_file_check(ctx, path, f, desc);
        if (s == TC_OK) s = build(ctx, f, desc, capacity, d);
        free(f->buf);
    }
    free(f);
    free(desc);
    if (s != TC_OK) {
        tc_decoder_free(d);
        return s;
    }
    *out = d;
    return TC_OK;
}

tc_decoder_info tc_decoder_info_of(const tc_decoder *d)
{
    tc_decoder_info z;
    memset(&z, 0, sizeof z);
    return d ? d->info : z;
}

const char *tc_decoder_name(const tc_decoder *d)
{
    return d ? d->name : "";
}

/* ------------------------------------------------------------ a run: activations and the cache */

void tc_decoder_run_free(tc_decoder_run *r)
{
    if (!r) return;
    tc_tensor *t[] = {r->ids, r->pos, r->x, r->h, r->qkv, r->att, r->f, r->logits};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        tc_tensor_free(t[i]);
    tc_kv_cache_free(r->kv);
    free(r->hids);
    free(r->hpos);
    free(r->counts);
    memset(r, 0, sizeof *r);
}

tc_status tc_decoder_run_init(tc_decoder *d, int64_t batch, int64_t rows, int64_t positions, tc_dtype kv_dtype,
                              tc_decoder_run *r)
{
    memset(r, 0, sizeof *r);
    tc_ctx *ctx = d->ctx;
    const tc_decoder_info *in = &d->info;
    const int64_t dm = in->d_model;
    int64_t qkv_rows;
    if (__builtin_mul_overflow(rows, 3, &qkv_rows))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "decoder: %lld rows overflow", (long long)rows);
    r->d = d;
    r->batch = batch;
    r->rows = rows;
    tc_status s = tc_tensor_create(ctx, TC_DTYPE_S32, 1, &rows, &r->ids);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_S32, 1, &rows, &r->pos);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){rows, dm}, &r->x);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){rows, dm}, &r->h);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){qkv_rows, dm}, &r->qkv);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){rows, dm}, &r->att);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){rows, in->d_ff}, &r->f);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){rows, in->vocab}, &r->logits);
    const tc_kv_cache_config kc = {in->layers, batch, in->heads, positions, in->head_dim, kv_dtype};
    if (s == TC_OK)
        s = kv_dtype == TC_DTYPE_S8 ? tc_kv_cache_create_s8(ctx, &kc, d->kv_scales, &r->kv)
                                    : tc_kv_cache_create(ctx, &kc, &r->kv);
    if (s == TC_OK) {
        r->hids = malloc((size_t)rows * sizeof *r->hids);
        r->hpos = malloc((size_t)rows * sizeof *r->hpos);
        r->counts = malloc((size_t)batch * sizeof *r->counts);
        if (!r->hids || !r->hpos || !r->counts) s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    if (s != TC_OK) tc_decoder_run_free(r);
    return s;
}

/* Views of a step's rows: every view a step makes, freed together. */
#define MAX_VIEWS 16
typedef struct {
    tc_tensor *v[MAX_VIEWS];
    int n;
    tc_status s;
} views;

static tc_tensor *view(views *vs, tc_tensor *t, int64_t offset, int ndim, const int64_t *dims)
{
    tc_tensor *out = NULL;
    if (vs->s == TC_OK) vs->s = tc_tensor_view(t, offset, ndim, dims, &out);
    if (out) vs->v[vs->n++] = out;
    return out;
}

static void views_free(views *vs)
{
    for (int i = 0; i < vs->n; i++)
        tc_tensor_free(vs->v[i]);
}

/* y = LayerNorm(x += h): the residual add of what the last sublayer left in h,
 * fused into the next LayerNorm (one launch); h NULL: nothing pending. */
static tc_status add_norm(tc_ctx *ctx, tc_tensor *x, const tc_tensor *h, const tc_tensor *g, const tc_tensor *b,
                          tc_tensor *y)
{
    tc_layernorm_params p = tc_layernorm_defaults();
    p.residual = h;
    p.sum = h ? x : NULL;
    return tc_layernorm(ctx, x, g, b, y, &p);
}

/* Block l (rows = batch * t): the residual stream is x plus the pending one (h or
 * NULL); the block leaves its MLP's output pending in h. a: the normalized rows,
 * then the heads' outputs. */
static tc_status run_block(tc_decoder_run *r, views *vs, int64_t l, int64_t t, tc_tensor *x, const tc_tensor *pending,
                           tc_tensor *h, tc_tensor *a)
{
    tc_decoder *d = r->d;
    tc_ctx *ctx = d->ctx;
    const tc_dblock *b = &d->blocks[l];
    const int64_t rows = r->batch * t, dm = d->info.d_model, hh = d->info.heads, hd = d->info.head_dim;
    const int64_t d4[4] = {r->batch, t, hh, hd};
    tc_tensor *q4 = view(vs, r->qkv, 0, 4, d4), *k4 = view(vs, r->qkv, rows * dm, 4, d4),
              *v4 = view(vs, r->qkv, 2 * rows * dm, 4, d4), *a4 = view(vs, r->att, 0, 4, d4),
              *f = view(vs, r->f, 0, 2, (const int64_t[]){rows, d->info.d_ff});
    tc_status s = vs->s;
    if (s == TC_OK) s = add_norm(ctx, x, pending, b->ln1_g, b->ln1_b, a);
    if (s == TC_OK && rows == 1) {
        tc_tensor *qkv = view(vs, r->qkv, 0, 2, (const int64_t[]){1, 3 * dm});
        s = vs->s == TC_OK ? tc_linear_plan_run(b->qkv, a, qkv) : vs->s;
    }
    for (int j = 0; j < 3 && s == TC_OK && rows > 1; j++) {
        tc_tensor *o = view(vs, r->qkv, j * rows * dm, 2, (const int64_t[]){rows, dm});
        s = vs->s == TC_OK ? tc_linear_plan_run(b->proj[j], a, o) : vs->s;
    }
    if (s == TC_OK) s = tc_kv_cache_append(r->kv, l, k4, v4, r->counts, TC_ATTN_BLHD);
    tc_attention_params ap = tc_attention_defaults();
    ap.causal = 1;
    ap.layout = TC_ATTN_BLHD;
    if (s == TC_OK) s = tc_kv_cache_attention(r->kv, l, q4, a4, &ap);
    if (s == TC_OK) s = tc_linear_plan_run(b->out, a, h);
    if (s == TC_OK) s = add_norm(ctx, x, h, b->ln2_g, b->ln2_b, a);
    if (s == TC_OK) s = tc_linear_plan_run(b->fc1, a, f);
    tc_gelu_params gp = tc_gelu_defaults();
    gp.mode = b->gelu;
    if (s == TC_OK) s = tc_gelu(ctx, f, f, &gp);
    if (s == TC_OK) s = tc_linear_plan_run(b->fc2, f, h);
    return s;
}

/* x[b] = E[id_b] + P[pos_b] for a decode step's few rows: one add of two table
 * rows each, with no ids to upload (and check on the device, which reads them back). */
static tc_status embed_rows(tc_decoder_run *r)
{
    tc_decoder *d = r->d;
    const int64_t dm = d->info.d_model;
    tc_status s = TC_OK;
    for (int64_t b = 0; b < r->batch && s == TC_OK; b++) {
        views vs = {{0}, 0, TC_OK};
        tc_tensor *e = view(&vs, d->embed, r->hids[b] * dm, 1, &dm), *p = view(&vs, d->pe, r->hpos[b] * dm, 1, &dm),
                  *x = view(&vs, r->x, b * dm, 1, &dm);
        s = vs.s == TC_OK ? tc_add(d->ctx, e, p, x, NULL) : vs.s;
        views_free(&vs);
    }
    return s;
}

/* Up to this many rows a decode step embeds row by row (embed_rows). */
#define ROW_EMBED_MAX 4

tc_status tc_decoder_step(tc_decoder_run *r, int64_t t)
{
    tc_decoder *d = r->d;
    tc_ctx *ctx = d->ctx;
    const int64_t rows = r->batch * t, dm = d->info.d_model;
    views vs = {{0}, 0, TC_OK};
    tc_tensor *ids = view(&vs, r->ids, 0, 1, &rows), *pos = view(&vs, r->pos, 0, 1, &rows),
              *x = view(&vs, r->x, 0, 2, (const int64_t[]){rows, dm}),
              *h = view(&vs, r->h, 0, 2, (const int64_t[]){rows, dm}),
              *a = view(&vs, r->att, 0, 2, (const int64_t[]){rows, dm}),
              *lg = view(&vs, r->logits, 0, 2, (const int64_t[]){rows, d->info.vocab});
    tc_status s = vs.s;
    const tc_tensor *pending = NULL;
    if (s == TC_OK && t == 1 && rows <= ROW_EMBED_MAX) {
        s = embed_rows(r);
    } else if (s == TC_OK) {
        const size_t idb = (size_t)rows * sizeof *r->hids;
        s = tc_tensor_write(ids, r->hids, idb);
        if (s == TC_OK) s = tc_tensor_write(pos, r->hpos, idb);
        if (s == TC_OK) s = tc_embedding(ctx, d->embed, ids, x, NULL);
        if (s == TC_OK) s = tc_embedding(ctx, d->pe, pos, h, NULL);
        pending = h; /* block 0 adds the positions */
    }
    for (int64_t l = 0; l < d->info.layers && s == TC_OK; l++) {
        views bv = {{0}, 0, TC_OK};
        s = run_block(r, &bv, l, t, x, l ? h : pending, h, a);
        views_free(&bv);
    }
    if (s == TC_OK) s = add_norm(ctx, x, h, d->lnf_g, d->lnf_b, a);
    if (s == TC_OK) s = tc_linear_plan_run(d->logits, a, lg);
    views_free(&vs);
    return s;
}

tc_status tc_decoder_read_rows(tc_decoder_run *r, int64_t row, int64_t n, float *out)
{
    const int64_t v = r->d->info.vocab;
    tc_tensor *t = NULL;
    tc_status s = tc_tensor_view(r->logits, row * v, 2, (const int64_t[]){n, v}, &t);
    if (s == TC_OK) s = tc_tensor_read(t, out, (size_t)(n * v) * sizeof *out);
    tc_tensor_free(t);
    return s;
}
