/* Pruning a loaded model (tc_model_prune): the model copied into a weight-file
 * description on the host, its linear and conv2d weights pruned on the model's
 * context by the pruning ops (tinycl/sparse.h) and written back, then the pruned
 * model made from the description through the loader's own checks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kind.h"

#define OP "tc_model_prune"

tc_model_prune_options tc_model_prune_defaults(void)
{
    return (tc_model_prune_options){0.5, 0, TC_PRUNE_ELEMENT, 0};
}

static int prunable(const tc_wlayer *l) { return l->type == TC_LAYER_LINEAR || l->type == TC_LAYER_CONV2D; }

static tc_wtensor *role_of(tc_wlayer *l, tc_tensor_role r)
{
    for (int t = 0; t < l->ntensors; t++)
        if (l->t[t].role == (uint32_t)r) return &l->t[t];
    return NULL;
}

/* The tensor of role r of layer l (made dense first) as a new f32 tensor on ctx; NULL when l has none. */
static tc_status upload(tc_ctx *ctx, tc_wlayer *l, tc_tensor_role r, tc_tensor **out)
{
    *out = NULL;
    tc_status s = tc_wlayer_to_dense(ctx, l);
    const tc_wtensor *x = role_of(l, r);
    return s == TC_OK && x ? tc_tensor_from_host(ctx, TC_DTYPE_F32, x->ndim, x->dims, x->data, out) : s;
}

/* t's values and shape into the description's tensor x. */
static tc_status take_back(tc_ctx *ctx, const tc_tensor *t, tc_wtensor *x)
{
    const size_t bytes = tc_tensor_bytes(t);
    void *h = malloc(bytes);
    tc_status s = h ? tc_tensor_read(t, h, bytes) : tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, OP ": out of host memory");
    if (s != TC_OK) {
        free(h);
        return s;
    }
    free((void *)x->data);
    x->data = h;
    x->ndim = t->ndim;
    memcpy(x->dims, t->dims, sizeof x->dims);
    x->numel = t->numel;
    return TC_OK;
}

static tc_status unstructured(tc_ctx *ctx, tc_wfile *f, const tc_model_prune_options *o)
{
    tc_tensor *ws[TC_W_MAX_LAYERS] = {NULL};
    int at[TC_W_MAX_LAYERS], n = 0;
    tc_status s = TC_OK;
    for (int i = 0; s == TC_OK && i < f->nlayers; i++)
        if (prunable(&f->layers[i])) {
            at[n] = i;
            s = upload(ctx, &f->layers[i], TC_ROLE_WEIGHT, &ws[n++]);
        }
    if (s == TC_OK && o->global)
        s = tc_fail_in(ctx, tc_prune_global(ctx, ws, n, o->sparsity, o->pattern), OP);
    for (int k = 0; s == TC_OK && !o->global && k < n; k++)
        s = tc_fail_in(ctx, tc_prune_magnitude(ctx, ws[k], o->sparsity, o->pattern), OP ": layer %d (%s)", at[k],
                       tc_layer_name((tc_layer_type)f->layers[at[k]].type));
    for (int k = 0; s == TC_OK && k < n; k++) s = take_back(ctx, ws[k], role_of(&f->layers[at[k]], TC_ROLE_WEIGHT));
    for (int k = 0; k < n; k++) tc_tensor_free(ws[k]);
    return s;
}

/* Layer a's output channels by L2 norm, with its bias and the inputs of layer b, the next weight layer. */
static tc_status channels(tc_ctx *ctx, tc_wlayer *a, tc_wlayer *b, double sparsity)
{
    /* b's inputs per channel of a: 1 (conv2d, or linear after pooling to [C]), else the H x W a flatten put in a row */
    const int64_t k = a->p[1], group = b->type == TC_LAYER_LINEAR ? b->p[0] / k : 1;
    tc_tensor *w = NULL, *bias = NULL, *wn = NULL, *w2 = NULL, *b2 = NULL, *kept = NULL, *wn2 = NULL;
    tc_status s = upload(ctx, a, TC_ROLE_WEIGHT, &w);
    if (s == TC_OK) s = upload(ctx, a, TC_ROLE_BIAS, &bias);
    if (s == TC_OK) s = upload(ctx, b, TC_ROLE_WEIGHT, &wn);
    if (s == TC_OK) s = tc_prune_channels(ctx, w, bias, sparsity, &w2, bias ? &b2 : NULL, &kept);
    if (s == TC_OK) s = tc_prune_inputs(ctx, wn, kept, group, &wn2);
    if (s == TC_OK) s = take_back(ctx, w2, role_of(a, TC_ROLE_WEIGHT));
    if (s == TC_OK && b2) s = take_back(ctx, b2, role_of(a, TC_ROLE_BIAS));
    if (s == TC_OK) s = take_back(ctx, wn2, role_of(b, TC_ROLE_WEIGHT));
    if (s == TC_OK) {
        a->p[1] = w2->dims[0];
        b->p[0] = wn2->dims[1];
    }
    tc_tensor *all[] = {w, bias, wn, w2, b2, kept, wn2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    return s;
}

/* Kinds that keep each channel apart, so channels can go through them. */
static int per_channel(uint32_t type)
{
    return type == TC_LAYER_RELU || type == TC_LAYER_MAXPOOL2D || type == TC_LAYER_AVGPOOL2D ||
           type == TC_LAYER_FLATTEN || type == TC_LAYER_GLOBAL_AVGPOOL;
}

static tc_status structured(tc_ctx *ctx, tc_wfile *f, const tc_model_prune_options *o)
{
    int at[TC_W_MAX_LAYERS], n = 0;
    for (int i = 0; i < f->nlayers; i++) {
        const tc_wlayer *l = &f->layers[i];
        if (!prunable(l)) continue;
        for (int t = 0; t < l->ntensors; t++)
            if (l->t[t].q.count)
                return tc_fail(ctx, TC_ERR_UNSUPPORTED, OP ": layer %d (%s): its %s carries quantization parameters, "
                               "which structured pruning cannot shrink", i, tc_layer_name((tc_layer_type)l->type),
                               tc_role_name((tc_tensor_role)l->t[t].role));
        for (int j = n ? at[n - 1] + 1 : i; j < i; j++)
            if (!per_channel(f->layers[j].type))
                return tc_fail(ctx, TC_ERR_UNSUPPORTED, OP ": layer %d (%s) between layers %d and %d mixes channels; "
                               "structured pruning removes channels only across relu, pooling and flatten", j,
                               tc_layer_name((tc_layer_type)f->layers[j].type), at[n - 1], i);
        if (n && l->type == TC_LAYER_LINEAR && l->p[0] % f->layers[at[n - 1]].p[1])
            return tc_fail(ctx, TC_ERR_UNSUPPORTED, OP ": layer %d takes %lld inputs, not a multiple of layer %d's %lld "
                           "channels", i, (long long)l->p[0], at[n - 1], (long long)f->layers[at[n - 1]].p[1]);
        at[n++] = i;
    }
    if (n < 2)
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, OP ": structured pruning needs two or more linear or conv2d layers "
                       "(the last keeps its outputs: the classes)");
    tc_status s = TC_OK;
    for (int k = 0; s == TC_OK && k + 1 < n; k++)
        s = tc_fail_in(ctx, channels(ctx, &f->layers[at[k]], &f->layers[at[k + 1]], o->sparsity), OP ": layer %d",
                       at[k]);
    return s;
}

static tc_status check_args(const tc_model *m, const tc_model_prune_options *o)
{
    tc_ctx *ctx = m->ctx;
    if (!(o->sparsity >= 0.0 && o->sparsity < 1.0))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, OP ": sparsity %g is outside [0, 1)", o->sparsity);
    if (o->pattern < 0 || o->pattern >= TC_PRUNE_PATTERN_COUNT)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, OP ": invalid pattern %d", (int)o->pattern);
    if (o->structured && (o->pattern != TC_PRUNE_ELEMENT || o->global))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, OP ": %s applies to unstructured pruning, not structured",
                       o->global ? "global" : "a block pattern");
    int weights = 0;
    for (int i = 0; i < m->n; i++) {
        const uint32_t t = m->layers[i].d.type;
        if (t == TC_LAYER_QLINEAR || t == TC_LAYER_QCONV2D)
            return tc_fail(ctx, TC_ERR_UNSUPPORTED, OP ": layer %d is %s: prune the f32 model, then quantize it", i,
                           tc_layer_name((tc_layer_type)t));
        weights += prunable(&m->layers[i].d);
    }
    if (!weights) return tc_fail(ctx, TC_ERR_UNSUPPORTED, OP ": model %s has no linear or conv2d layer", m->name);
    return TC_OK;
}

/* name + suffix when it fits and is not there yet. */
static void rename_model(tc_wfile *f, const char *suffix)
{
    const size_t n = strlen(f->name), k = strlen(suffix);
    if ((n >= k && strcmp(f->name + n - k, suffix) == 0) || n + k >= sizeof f->name) return;
    memcpy(f->name + n, suffix, k + 1);
}

tc_status tc_model_prune(const tc_model *m, const tc_model_prune_options *o, tc_model **out)
{
    if (!out) return tc_fail(m ? m->ctx : NULL, TC_ERR_INVALID_ARG, OP ": out is NULL");
    *out = NULL;
    if (!m) return tc_fail(NULL, TC_ERR_INVALID_ARG, OP ": model is NULL");
    const tc_model_prune_options def = tc_model_prune_defaults();
    if (!o) o = &def;
    tc_status s = check_args(m, o);
    if (s != TC_OK) return s;
    tc_ctx *ctx = m->ctx;
    tc_wfile *f = malloc(sizeof *f);
    if (!f) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, OP ": out of host memory");
    s = tc_model_to_wfile(m, f);
    const int built = s == TC_OK;
    int64_t before = 0;
    for (int i = 0; i < f->nlayers; i++) before += tc_wlayer_weights(&f->layers[i]);
    if (s == TC_OK) s = o->structured ? structured(ctx, f, o) : unstructured(ctx, f, o);
    if (s == TC_OK) {
        const int was_structured = m->prune.present && m->prune.structured;
        f->prune = (tc_wprune){1, o->structured || was_structured, m->prune.present ? m->prune.original : before};
        rename_model(f, o->structured || was_structured ? "_structured" : "_pruned");
        s = tc_wfile_compact(ctx, f);
    }
    if (s == TC_OK) s = tc_model_from_wfile(ctx, "the pruned model", f, 0, out);
    if (built) tc_wfile_free_data(f);
    free(f);
    return s;
}
