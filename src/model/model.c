/* Sequential models: weights from a checked .tcw file, activations allocated
 * per batch size, each layer run by the context's op. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kind.h"

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
        tc_mlayer *l = &m->layers[i];
        if (l->plan) l->kind->release(l->plan);
        for (int t = 0; t < l->d.ntensors; t++) tc_tensor_free(l->t[t]);
    }
    free(m->layers);
    tc_ctx_free(m->ctx);
    free(m);
}

static tc_status upload(tc_model *m, const tc_wlayer *d, tc_mlayer *l)
{
    l->kind = tc_layer_kind_of(d->type);
    l->d = *d;
    l->weights = tc_wlayer_weights(d);
    l->nonzero = tc_wlayer_nonzero(d);
    for (int t = 0; t < d->ntensors; t++) l->csr |= d->t[t].role == TC_ROLE_ROW_PTR;
    for (int t = 0; t < d->ntensors; t++) {
        const tc_wtensor *x = &d->t[t];
        l->d.t[t].data = NULL; /* the tensor holds the values and the quantization */
        l->d.t[t].q = (tc_quant){-1, 0, NULL, NULL};
        tc_status s = tc_tensor_from_host(m->ctx, x->dtype, x->ndim, x->dims, x->data, &l->t[t]);
        if (s == TC_OK && x->q.count) s = tc_tensor_set_quant(l->t[t], &x->q);
        if (s != TC_OK) return s;
    }
    return TC_OK;
}

tc_status tc_model_from_wfile(tc_ctx *ctx, const char *path, tc_wfile *f, unsigned flags, tc_model **out)
{
    tc_status s = tc_wfile_check(ctx, path, f);
    tc_model *m = s == TC_OK ? calloc(1, sizeof *m) : NULL;
    if (s == TC_OK && (!m || !(m->layers = calloc((size_t)f->nlayers, sizeof *m->layers))))
        s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == TC_OK) {
        m->ctx = ctx;
        tc_ctx_retain(ctx);
        memcpy(m->name, f->name, sizeof m->name);
        m->in = f->in;
        m->prune = f->prune;
        m->classes = f->layers[f->nlayers - 1].out.d[0];
        m->n = f->nlayers;
        for (int i = 0; s == TC_OK && i < m->n; i++) s = upload(m, &f->layers[i], &m->layers[i]);
        for (int i = 0; s == TC_OK && i < m->n; i++) {
            m->layers[i].variant = flags & TC_MODEL_CLBLAST ? TC_VARIANT_CLBLAST : TC_VARIANT_AUTO;
            if (!(flags & TC_MODEL_ONESHOT) && m->layers[i].kind->prepare)
                s = m->layers[i].kind->prepare(ctx, &m->layers[i]);
        }
    }
    if (s != TC_OK) {
        tc_model_free(m);
        return s;
    }
    *out = m;
    return TC_OK;
}

tc_status tc_model_load_flags(tc_ctx *ctx, const char *path, unsigned flags, tc_model **out)
{
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_model_load: out is NULL");
    *out = NULL;
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_model_load: ctx is NULL");
    if (!path) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_model_load: path is NULL");
    if (flags & ~(TC_MODEL_ONESHOT | TC_MODEL_CLBLAST))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_model_load: unknown flags 0x%x", flags);
    if ((flags & TC_MODEL_CLBLAST) && tc_ctx_is_ref(ctx))
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "tc_model_load: TC_MODEL_CLBLAST needs an OpenCL device, not ref");
    tc_wfile *f = malloc(sizeof *f);
    if (!f) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    tc_status s = tc_wfile_read(ctx, path, f);
    if (s == TC_OK) s = tc_model_from_wfile(ctx, path, f, flags, out);
    free(f->buf);
    free(f);
    return s;
}

tc_status tc_model_load(tc_ctx *ctx, const char *path, tc_model **out)
{
    return tc_model_load_flags(ctx, path, 0, out);
}

tc_status tc_model_to_wfile(const tc_model *m, tc_wfile *f)
{
    memset(f, 0, sizeof *f);
    f->version = 2;
    memcpy(f->name, m->name, sizeof f->name);
    f->in = m->in;
    f->nlayers = m->n;
    f->prune = m->prune;
    tc_status s = TC_OK;
    for (int i = 0; i < m->n; i++) {
        f->layers[i] = m->layers[i].d;
        for (int t = 0; t < f->layers[i].ntensors; t++) f->layers[i].t[t].data = NULL;
        for (int t = 0; s == TC_OK && t < f->layers[i].ntensors; t++) {
            const size_t bytes = tc_tensor_bytes(m->layers[i].t[t]);
            void *host = malloc(bytes);
            f->layers[i].t[t].data = host;
            s = host ? tc_tensor_read(m->layers[i].t[t], host, bytes)
                     : tc_fail(m->ctx, TC_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes", bytes);
            if (s == TC_OK) s = tc_tensor_quant(m->layers[i].t[t], &f->layers[i].t[t].q);
        }
    }
    if (s != TC_OK) tc_wfile_free_data(f);
    return s;
}

void tc_wfile_free_data(tc_wfile *f)
{
    for (int i = 0; i < f->nlayers; i++)
        for (int t = 0; t < f->layers[i].ntensors; t++) {
            free((void *)f->layers[i].t[t].data);
            f->layers[i].t[t].data = NULL;
        }
}

tc_status tc_model_save(const tc_model *m, const char *path)
{
    if (!m) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_model_save: model is NULL");
    if (!path) return tc_fail(m->ctx, TC_ERR_INVALID_ARG, "tc_model_save: path is NULL");
    tc_wfile *f = malloc(sizeof *f);
    if (!f) return tc_fail(m->ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    tc_status s = tc_model_to_wfile(m, f);
    const int built = s == TC_OK;
    if (s == TC_OK) s = tc_wfile_compact(m->ctx, f);
    if (s == TC_OK) s = tc_wfile_write(m->ctx, f, path);
    if (built) tc_wfile_free_data(f);
    free(f);
    return s;
}

const char *tc_model_name(const tc_model *m) { return m ? m->name : ""; }
int64_t tc_model_input_numel(const tc_model *m) { return m ? tc_shape_numel(&m->in) : 0; }
int64_t tc_model_classes(const tc_model *m) { return m ? m->classes : 0; }

int64_t tc_model_bytes(const tc_model *m)
{
    int64_t n = 0;
    for (int i = 0; m && i < m->n; i++)
        for (int t = 0; t < m->layers[i].d.ntensors; t++) {
            tc_quant q;
            tc_tensor_quant(m->layers[i].t[t], &q);
            n += (int64_t)tc_tensor_bytes(m->layers[i].t[t]) + 8 * q.count;
        }
    return n;
}

tc_status tc_model_sparsity(const tc_model *m, double *sparsity, int *structured)
{
    if (!m) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_model_sparsity: model is NULL");
    int64_t weights = 0, nonzero = 0;
    for (int i = 0; i < m->n; i++) weights += m->layers[i].weights, nonzero += m->layers[i].nonzero;
    const int64_t before = m->prune.present ? m->prune.original : weights;
    if (sparsity) *sparsity = before > 0 ? 1.0 - (double)nonzero / (double)before : 0.0;
    if (structured) *structured = m->prune.present && m->prune.structured;
    return TC_OK;
}

int tc_model_layer_count(const tc_model *m) { return m ? m->n : 0; }

tc_status tc_model_layer_info_get(const tc_model *m, int i, tc_model_layer_info *out)
{
    if (!m || !out) return tc_fail(m ? m->ctx : NULL, TC_ERR_INVALID_ARG, "tc_model_layer_info_get: NULL argument");
    if (i < 0 || i >= m->n)
        return tc_fail(m->ctx, TC_ERR_INVALID_ARG, "tc_model_layer_info_get: layer %d of a model of %d layers", i, m->n);
    const tc_mlayer *l = &m->layers[i];
    *out = (tc_model_layer_info){(tc_layer_type)l->d.type, l->weights, l->nonzero, l->csr, {0, 0}};
    tc_mlayer_runs_sparse(l, out->sparse);
    return TC_OK;
}

void tc_model_summary(const tc_model *m, char *buf, size_t n)
{
    if (!buf || !n) return;
    buf[0] = '\0';
    size_t at = 0;
    for (int i = 0; m && i < m->n && at < n; i++) {
        const tc_mlayer *l = &m->layers[i];
        at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? " > " : "", l->kind->name);
        if (at < n && l->kind->summary) at += (size_t)l->kind->summary(&l->d, buf + at, n - at);
        if (at < n && (l->d.flags & TC_W_FLAG_RELU)) at += (size_t)snprintf(buf + at, n - at, "+relu");
    }
}

static tc_status alloc_batch(tc_model *m, int64_t batch)
{
    if (batch == m->batch) return TC_OK;
    free_batch(m);
    tc_status s = tc_tensor_create(m->ctx, TC_DTYPE_F32, 2, (const int64_t[]){batch, m->classes}, &m->logits);
    for (int i = 0; s == TC_OK && i + 1 < m->n; i++) {
        tc_mlayer *l = &m->layers[i];
        if (!l->kind->run) continue;
        int64_t dims[1 + TC_SAMPLE_DIMS] = {batch};
        memcpy(dims + 1, l->d.out.d, (size_t)l->d.out.ndim * sizeof *dims);
        s = tc_tensor_create(m->ctx, l->d.out.dtype, 1 + l->d.out.ndim, dims, &l->out);
        /* an int8 activation carries its quantization: the next layer's input */
        const tc_quant q = {-1, 1, &l->d.out.scale, &l->d.out.zero_point};
        if (s == TC_OK && l->d.out.dtype != TC_DTYPE_F32) s = tc_tensor_set_quant(l->out, &q);
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
        tc_mlayer *l = &m->layers[i];
        if (!l->kind->run) {
            memcpy(dims + 1, l->d.out.d, (size_t)l->d.out.ndim * sizeof *dims);
            tc_tensor_free(l->view);
            s = tc_tensor_reshape((tc_tensor *)cur, 1 + l->d.out.ndim, dims, &l->view);
            cur = l->view;
        } else {
            tc_tensor *o = i + 1 == m->n ? y : l->out;
            s = l->kind->run(m->ctx, l, cur, o);
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
