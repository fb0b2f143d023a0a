/* Sequential models: weights from a checked .tcw file, activations allocated
 * per batch size, each layer run by the context's op. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/format.h"

typedef struct {
    tc_wlayer d;     /* d.data is dead after loading */
    tc_tensor *w, *b;
    tc_tensor *out;  /* [batch, d.out]; NULL for the last layer (it writes y) and for flatten */
    tc_tensor *view; /* flatten: a view of its input from the last forward */
} layer;

struct tc_model {
    tc_ctx *ctx;
    char name[33];
    tc_shape in;
    int64_t classes;
    int n;
    layer *layers;
    int64_t batch;     /* batch size the activations are allocated for; 0: none */
    tc_tensor *logits; /* predict's [batch, classes] */
};

static void free_batch(tc_model *m)
{
    for (int i = 0; i < m->n; i++) {
        tc_tensor_free(m->layers[i].out);
        tc_tensor_free(m->layers[i].view);
        m->layers[i].out = m->layers[i].view = NULL;
    }
    tc_tensor_free(m->logits);
    m->logits = NULL;
    m->batch = 0;
}

void tc_model_free(tc_model *m)
{
    if (!m) return;
    free_batch(m);
    for (int i = 0; i < m->n; i++) {
        tc_tensor_free(m->layers[i].w);
        tc_tensor_free(m->layers[i].b);
    }
    free(m->layers);
    tc_ctx_free(m->ctx);
    free(m);
}

static tc_status upload(tc_model *m, const tc_wlayer *d, layer *l)
{
    tc_tensor **dst[2] = {&l->w, &l->b};
    for (int t = 0; t < d->ntensors; t++) {
        tc_status s = tc_tensor_from_host(m->ctx, TC_DTYPE_F32, d->tndim[t], d->tdims[t], d->data[t], dst[t]);
        if (s != TC_OK) return s;
    }
    l->d = *d;
    l->d.data[0] = l->d.data[1] = NULL;
    return TC_OK;
}

tc_status tc_model_load(tc_ctx *ctx, const char *path, tc_model **out)
{
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_model_load: out is NULL");
    *out = NULL;
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_model_load: ctx is NULL");
    if (!path) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_model_load: path is NULL");
    tc_wfile *f = malloc(sizeof *f);
    if (!f) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    tc_status s = tc_wfile_read(ctx, path, f);
    tc_model *m = s == TC_OK ? calloc(1, sizeof *m) : NULL;
    if (s == TC_OK && (!m || !(m->layers = calloc((size_t)f->nlayers, sizeof *m->layers))))
        s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == TC_OK) {
        m->ctx = ctx;
        tc_ctx_retain(ctx);
        memcpy(m->name, f->name, sizeof m->name);
        m->in = f->in;
        m->classes = f->layers[f->nlayers - 1].out.d[0];
        m->n = f->nlayers;
        for (int i = 0; s == TC_OK && i < m->n; i++) s = upload(m, &f->layers[i], &m->layers[i]);
    }
    free(f->buf);
    free(f);
    if (s != TC_OK) {
        tc_model_free(m);
        return s;
    }
    *out = m;
    return TC_OK;
}

const char *tc_model_name(const tc_model *m) { return m ? m->name : ""; }
int64_t tc_model_input_numel(const tc_model *m) { return m ? tc_shape_numel(&m->in) : 0; }
int64_t tc_model_classes(const tc_model *m) { return m ? m->classes : 0; }

void tc_model_summary(const tc_model *m, char *buf, size_t n)
{
    if (!buf || !n) return;
    buf[0] = '\0';
    size_t at = 0;
    for (int i = 0; m && i < m->n && at < n; i++) {
        const tc_wlayer *d = &m->layers[i].d;
        long long p[TC_W_PARAMS];
        for (int j = 0; j < TC_W_PARAMS; j++) p[j] = d->p[j];
        at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? " > " : "", tc_layer_name(d->type));
        if (at >= n) break;
        if (d->type == TC_LAYER_LINEAR)
            at += (size_t)snprintf(buf + at, n - at, "(%lld->%lld)", p[0], p[1]);
        else if (d->type == TC_LAYER_CONV2D)
            at += (size_t)snprintf(buf + at, n - at, "(%lld->%lld, %lldx%lld, stride %lld, pad %lld)", p[0], p[1],
                                   p[2], p[3], p[4], p[5]);
        else if (d->type == TC_LAYER_MAXPOOL2D || d->type == TC_LAYER_AVGPOOL2D)
            at += (size_t)snprintf(buf + at, n - at, "(%lldx%lld, stride %lld, pad %lld)", p[0], p[1], p[2], p[3]);
        if (at < n && d->relu) at += (size_t)snprintf(buf + at, n - at, "+relu");
    }
}

static tc_status alloc_batch(tc_model *m, int64_t batch)
{
    if (batch == m->batch) return TC_OK;
    free_batch(m);
    tc_status s = tc_tensor_create(m->ctx, TC_DTYPE_F32, 2, (const int64_t[]){batch, m->classes}, &m->logits);
    for (int i = 0; s == TC_OK && i + 1 < m->n; i++) {
        layer *l = &m->layers[i];
        if (l->d.type == TC_LAYER_FLATTEN) continue;
        int64_t dims[1 + TC_SAMPLE_DIMS] = {batch};
        memcpy(dims + 1, l->d.out.d, (size_t)l->d.out.ndim * sizeof *dims);
        s = tc_tensor_create(m->ctx, TC_DTYPE_F32, 1 + l->d.out.ndim, dims, &l->out);
    }
    if (s != TC_OK) free_batch(m);
    else m->batch = batch;
    return s;
}

/* x: [B, one sample's elements in any shape]; y: [B, classes] (f32) or [B] (s32). */
static tc_status check_io(tc_model *m, const tc_tensor *x, const tc_tensor *y, tc_dtype ydt, const char *fn)
{
    if (!m) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: model is NULL", fn);
    tc_ctx *ctx = m->ctx;
    const int yndim = ydt == TC_DTYPE_F32 ? 2 : 1;
    char got[96], want[96];
    snprintf(got, sizeof got, "%s: x", fn);
    snprintf(want, sizeof want, "%s: %s", fn, ydt == TC_DTYPE_F32 ? "y" : "pred");
    tc_status s = tc_check_tensor(ctx, x, got, TC_DTYPE_F32, 0);
    if (s == TC_OK) s = tc_check_tensor(ctx, y, want, ydt, yndim);
    if (s != TC_OK) return s;
    const int64_t batch = x->dims[0], want_y[2] = {batch, m->classes};
    if (x->ndim < 2 || x->numel / batch != tc_shape_numel(&m->in)) {
        tc_fmt_dims(x->dims, x->ndim, got, sizeof got);
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: x is %s; model %s takes [batch, %lld elements per sample]", fn, got,
                       m->name, (long long)tc_shape_numel(&m->in));
    }
    if (memcmp(y->dims, want_y, (size_t)yndim * sizeof *want_y) != 0) {
        tc_fmt_dims(y->dims, y->ndim, got, sizeof got);
        tc_fmt_dims(want_y, yndim, want, sizeof want);
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: %s is %s; expected %s for x's batch of %lld", fn,
                       yndim == 2 ? "y" : "pred", got, want, (long long)batch);
    }
    return tc_fail_in(ctx, alloc_batch(m, batch), "%s: activations", fn);
}

static tc_status run_layer(tc_model *m, const layer *l, const tc_tensor *x, tc_tensor *y)
{
    tc_ctx *ctx = m->ctx;
    const int64_t *p = l->d.p;
    switch (l->d.type) {
    case TC_LAYER_LINEAR: {
        tc_linear_params lp = tc_linear_defaults();
        lp.relu = l->d.relu;
        return tc_linear(ctx, x, l->w, l->b, y, &lp);
    }
    case TC_LAYER_CONV2D: {
        tc_conv2d_params cp = tc_conv2d_defaults();
        cp.stride_h = cp.stride_w = (int)p[4];
        cp.pad_h = cp.pad_w = (int)p[5];
        cp.bias = l->b;
        cp.relu = l->d.relu;
        return tc_conv2d(ctx, x, l->w, y, &cp);
    }
    case TC_LAYER_RELU: return tc_relu(ctx, x, y, NULL);
    case TC_LAYER_SOFTMAX: return tc_softmax(ctx, x, y, NULL);
    case TC_LAYER_GLOBAL_AVGPOOL: return tc_global_avgpool(ctx, x, y, NULL);
    case TC_LAYER_MAXPOOL2D:
    case TC_LAYER_AVGPOOL2D: {
        tc_pool2d_params pp = {(int)p[0], (int)p[1], (int)p[2], (int)p[2], (int)p[3], (int)p[3], TC_VARIANT_AUTO};
        return l->d.type == TC_LAYER_MAXPOOL2D ? tc_maxpool2d(ctx, x, y, &pp) : tc_avgpool2d(ctx, x, y, &pp);
    }
    default: return tc_fail(ctx, TC_ERR_INVALID_ARG, "layer type %d has no op", (int)l->d.type);
    }
}

/* Runs every layer; an error names fn and the layer. */
static tc_status forward(tc_model *m, const tc_tensor *x, tc_tensor *y, const char *fn)
{
    int64_t dims[1 + TC_SAMPLE_DIMS] = {m->batch};
    memcpy(dims + 1, m->in.d, (size_t)m->in.ndim * sizeof *dims);
    tc_tensor *in;
    /* a view in the model's input shape; x is only read */
    tc_status s = tc_fail_in(m->ctx, tc_tensor_reshape((tc_tensor *)x, 1 + m->in.ndim, dims, &in), "%s: x", fn);
    const tc_tensor *cur = in;
    for (int i = 0; s == TC_OK && i < m->n; i++) {
        layer *l = &m->layers[i];
        if (l->d.type == TC_LAYER_FLATTEN) {
            tc_tensor_free(l->view);
            s = tc_flatten((tc_tensor *)cur, &l->view);
            cur = l->view;
        } else {
            tc_tensor *o = i + 1 == m->n ? y : l->out;
            s = run_layer(m, l, cur, o);
            cur = o;
        }
        s = tc_fail_in(m->ctx, s, "%s: layer %d (%s)", fn, i, tc_layer_name(l->d.type));
    }
    tc_tensor_free(in);
    return s;
}

tc_status tc_model_forward(tc_model *m, const tc_tensor *x, tc_tensor *y)
{
    tc_status s = check_io(m, x, y, TC_DTYPE_F32, "tc_model_forward");
    return s == TC_OK ? forward(m, x, y, "tc_model_forward") : s;
}

tc_status tc_model_predict(tc_model *m, const tc_tensor *x, tc_tensor *pred)
{
    tc_status s = check_io(m, x, pred, TC_DTYPE_S32, "tc_model_predict");
    if (s == TC_OK) s = forward(m, x, m->logits, "tc_model_predict");
    return s == TC_OK ? tc_fail_in(m->ctx, tc_argmax(m->ctx, m->logits, pred, NULL), "tc_model_predict") : s;
}

tc_status tc_dataset_load(tc_ctx *ctx, const char *path, tc_tensor **images, tc_tensor **labels)
{
    if (!images || !labels) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_dataset_load: images or labels is NULL");
    *images = *labels = NULL;
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_dataset_load: ctx is NULL");
    if (!path) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_dataset_load: path is NULL");
    tc_dfile f;
    tc_status s = tc_dfile_read(ctx, path, &f);
    if (s != TC_OK) return s;
    int64_t dims[1 + TC_SAMPLE_DIMS] = {f.count};
    memcpy(dims + 1, f.sample.d, (size_t)f.sample.ndim * sizeof *dims);
    s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 1 + f.sample.ndim, dims, f.images, images);
    if (s == TC_OK) s = tc_tensor_from_host(ctx, TC_DTYPE_S32, 1, &f.count, f.labels, labels);
    free(f.buf);
    if (s != TC_OK) {
        tc_tensor_free(*images);
        *images = NULL;
    }
    return s;
}
