/* Checking a decoder file's records: the generic checks of each record's kind
 * (tc_wlayer_check), then the order of the records and every shape. */
#include <string.h>

#include "model/decoder_file.h"
#include "model/kind.h"
#include "ops/attention.h"

#define BEFORE    2 /* token_embedding, sinusoidal_positions */
#define PER_BLOCK 7
#define AFTER     2 /* layernorm, linear */

typedef struct {
    tc_ctx *ctx;
    const char *path;
    tc_wfile *f;
} reader;

static const tc_wtensor *role(const tc_wlayer *l, tc_tensor_role r)
{
    for (int t = 0; t < l->ntensors; t++)
        if (l->t[t].role == (uint32_t)r) return &l->t[t];
    return NULL;
}

/* Record i, which must be of `type`. */
static tc_status record(reader *r, int i, tc_layer_type type, const tc_wlayer **out)
{
    tc_wlayer *l = &r->f->layers[i];
    tc_status s = tc_wlayer_check(r->ctx, r->path, r->f->version, i, l);
    if (s != TC_OK) return s;
    if (l->type != (uint32_t)type)
        return tc_wfail(r->ctx, r->path, "layer %d is a %s; a decoder file has a %s there", i,
                        tc_layer_name((tc_layer_type)l->type), tc_layer_name(type));
    for (int t = 0; t < l->ntensors; t++)
        if (l->t[t].q.count || l->t[t].role == TC_ROLE_ROW_PTR || l->t[t].role == TC_ROLE_COL_IDX)
            return tc_wfail(r->ctx, r->path, "layer %d (%s): %s %s; decoder tensors are plain dense f32", i,
                            tc_layer_name(type), tc_role_name((tc_tensor_role)l->t[t].role),
                            l->t[t].q.count ? "is quantized" : "makes a weight in CSR");
    *out = l;
    return TC_OK;
}

/* Parameter j of record i equals want (named what). */
static tc_status param_is(reader *r, int i, int j, int64_t want, const char *what)
{
    const tc_wlayer *l = &r->f->layers[i];
    if (l->p[j] == want) return TC_OK;
    return tc_wfail(r->ctx, r->path, "layer %d (%s): parameter %d is %lld; the model's %s is %lld", i,
                    tc_layer_name((tc_layer_type)l->type), j, (long long)l->p[j], what, (long long)want);
}

/* The tensor of `r_` in record i, when present, has dims d0 (and d1 unless 0). */
static tc_status dims_are(reader *r, int i, tc_tensor_role r_, int64_t d0, int64_t d1, const tc_wtensor **out)
{
    const tc_wlayer *l = &r->f->layers[i];
    const tc_wtensor *t = role(l, r_);
    *out = t;
    const int ndim = d1 ? 2 : 1;
    const int64_t want[2] = {d0, d1};
    if (!t || (t->ndim == ndim && memcmp(t->dims, want, (size_t)ndim * sizeof *want) == 0)) return TC_OK;
    char got[96], exp[96];
    tc_fmt_dims(t->dims, t->ndim, got, sizeof got);
    tc_fmt_dims(want, ndim, exp, sizeof exp);
    return tc_wfail(r->ctx, r->path, "layer %d (%s): %s is %s, expected %s", i, tc_layer_name((tc_layer_type)l->type),
                    tc_role_name(r_), got, exp);
}

static tc_status layernorm(reader *r, int i, int64_t d, const tc_wtensor **g, const tc_wtensor **b)
{
    const tc_wlayer *l;
    tc_status s = record(r, i, TC_LAYER_LAYERNORM, &l);
    if (s == TC_OK) s = param_is(r, i, 0, d, "d_model");
    if (s == TC_OK) s = dims_are(r, i, TC_ROLE_GAMMA, d, 0, g);
    if (s == TC_OK) s = dims_are(r, i, TC_ROLE_BETA, d, 0, b);
    return s;
}

/* A linear record from `in` to `out` features; out 0: any (set to the file's). */
static tc_status linear(reader *r, int i, int64_t in, int64_t *out, const tc_wtensor **w, const tc_wtensor **b)
{
    const tc_wlayer *l;
    tc_status s = record(r, i, TC_LAYER_LINEAR, &l);
    if (s == TC_OK) s = param_is(r, i, 0, in, "width here");
    if (s == TC_OK && *out) s = param_is(r, i, 1, *out, "width here");
    if (s != TC_OK) return s;
    if (l->p[1] < 1) return tc_wfail(r->ctx, r->path, "layer %d (linear): 0 output features", i);
    *out = l->p[1];
    s = dims_are(r, i, TC_ROLE_WEIGHT, *out, in, w);
    if (s == TC_OK) s = dims_are(r, i, TC_ROLE_BIAS, *out, 0, b);
    return s;
}

static tc_status block(reader *r, int i, tc_decoder_info *info, tc_dblock_desc *bd)
{
    const int64_t d = info->d_model;
    const tc_wlayer *l;
    tc_status s = layernorm(r, i, d, &bd->ln1_g, &bd->ln1_b);
    if (s == TC_OK) s = record(r, i + 1, TC_LAYER_ATTENTION, &l);
    if (s == TC_OK) s = param_is(r, i + 1, 0, d, "d_model");
    if (s == TC_OK && info->heads) s = param_is(r, i + 1, 1, info->heads, "head count (block 0's)");
    if (s != TC_OK) return s;
    const int64_t h = l->p[1];
    if (h < 1 || d % h || d / h > TC_ATTN_MAX_HEAD_DIM)
        return tc_wfail(r->ctx, r->path,
                        "layer %d (attention): %lld heads do not split d_model %lld into heads of 1..%d dims", i + 1,
                        (long long)h, (long long)d, TC_ATTN_MAX_HEAD_DIM);
    info->heads = h;
    info->head_dim = d / h;
    int64_t dff = info->d_ff, dd = d;
    s = dims_are(r, i + 1, TC_ROLE_WEIGHT, 3 * d, d, &bd->wqkv);
    if (s == TC_OK) s = dims_are(r, i + 1, TC_ROLE_BIAS, 3 * d, 0, &bd->bqkv);
    if (s == TC_OK) s = linear(r, i + 2, d, &dd, &bd->wo, &bd->bo);
    if (s == TC_OK) s = layernorm(r, i + 3, d, &bd->ln2_g, &bd->ln2_b);
    if (s == TC_OK) s = linear(r, i + 4, d, &dff, &bd->w1, &bd->b1);
    if (s == TC_OK) s = record(r, i + 5, TC_LAYER_GELU, &l);
    if (s == TC_OK && l->p[0] != TC_GELU_TANH && l->p[0] != TC_GELU_ERF)
        return tc_wfail(r->ctx, r->path, "layer %d (gelu): mode %lld is neither 0 (tanh) nor 1 (erf)", i + 5,
                        (long long)l->p[0]);
    if (s == TC_OK) bd->gelu = (int)l->p[0];
    if (s == TC_OK) s = linear(r, i + 6, dff, &dd, &bd->w2, &bd->b2);
    info->d_ff = dff;
    return s;
}

tc_status tc_decoder_file_check(tc_ctx *ctx, const char *path, tc_wfile *f, tc_decoder_desc *out)
{
    reader r = {ctx, path, f};
    memset(out, 0, sizeof *out);
    tc_decoder_info *info = &out->info;
    if (f->version != 2) return tc_wfail(ctx, path, "version %d; decoder files are version 2", f->version);
    if (f->in.ndim != 1)
        return tc_wfail(ctx, path, "input rank %d; a decoder file gives its trained context as [tokens]", f->in.ndim);
    info->trained_context = f->in.d[0];
    const tc_wlayer *l;
    tc_status s = record(&r, 0, TC_LAYER_TOKEN_EMBEDDING, &l);
    if (s != TC_OK) return s;
    const int blocks = (f->nlayers - BEFORE - AFTER) / PER_BLOCK;
    if (blocks < 1 || f->nlayers != BEFORE + PER_BLOCK * blocks + AFTER)
        return tc_wfail(ctx, path, "%d records; a decoder file has %d, then %d per block (at least one), then %d",
                        f->nlayers, BEFORE, PER_BLOCK, AFTER);
    info->layers = blocks;
    info->vocab = l->p[0], info->d_model = l->p[1];
    if (info->vocab < 1 || info->d_model < 1)
        return tc_wfail(ctx, path, "layer 0 (token_embedding): vocab %lld and d_model %lld must be >= 1",
                        (long long)info->vocab, (long long)info->d_model);
    const int64_t d = info->d_model;
    s = dims_are(&r, 0, TC_ROLE_WEIGHT, info->vocab, d, &out->embed);
    if (s == TC_OK) s = record(&r, 1, TC_LAYER_SINUSOIDAL_POSITIONS, &l);
    if (s == TC_OK) s = param_is(&r, 1, 0, d, "d_model");
    if (s == TC_OK && d % 2)
        return tc_wfail(ctx, path,
                        "layer 1 (sinusoidal_positions): d_model %lld is odd; positions come in sin/cos "
                        "pairs",
                        (long long)d);
    for (int b = 0; s == TC_OK && b < blocks; b++)
        s = block(&r, BEFORE + PER_BLOCK * b, info, &out->blocks[b]);
    const int at = BEFORE + PER_BLOCK * blocks;
    int64_t vocab = info->vocab;
    if (s == TC_OK) s = layernorm(&r, at, d, &out->lnf_g, &out->lnf_b);
    if (s == TC_OK) s = linear(&r, at + 1, d, &vocab, &out->wl, &out->bl);
    return s;
}
