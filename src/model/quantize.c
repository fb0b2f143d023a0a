/* Post-training quantization of a loaded model (tc_model_quantize): the inputs of
 * its linear and conv2d layers calibrated in f32, then the int8 model written as a
 * weight-file description that goes through the loader's own checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kind.h"
#include "ops/qlayer.h"

tc_model_quant_options tc_model_quant_defaults(void)
{
    return (tc_model_quant_options){1, TC_OBSERVER_MINMAX, 1, TC_DTYPE_U8, 128};
}

static int quantizable(const tc_wlayer *l) { return l->type == TC_LAYER_LINEAR || l->type == TC_LAYER_CONV2D; }

/* The tensor layer i read in the last forward pass of x. */
static const tc_tensor *input_of(const tc_model *m, int i, const tc_tensor *x)
{
    if (i == 0) return x;
    const tc_mlayer *p = &m->layers[i - 1];
    return p->kind->run ? p->out : p->view;
}

/* Runs m over calib in batches, each quantized layer's input into its observer. */
static tc_status calibrate(tc_model *m, const tc_tensor *calib, int64_t batch, tc_observer **obs)
{
    const int64_t n = calib->dims[0], per = calib->numel / n;
    tc_tensor *y = NULL;
    tc_status s = TC_OK;
    for (int64_t at = 0; s == TC_OK && at < n; at += batch) {
        const int64_t nb = n - at < batch ? n - at : batch;
        tc_tensor *xb = NULL;
        s = tc_tensor_view((tc_tensor *)calib, at * per, 2, (const int64_t[]){nb, per}, &xb);
        if (s == TC_OK && (!y || y->dims[0] != nb)) {
            tc_tensor_free(y);
            y = NULL;
            s = tc_tensor_create(m->ctx, TC_DTYPE_F32, 2, (const int64_t[]){nb, m->classes}, &y);
        }
        if (s == TC_OK) s = tc_model_forward(m, xb, y);
        for (int i = 0; s == TC_OK && i < m->n; i++)
            if (obs[i]) s = tc_observer_update(obs[i], input_of(m, i, xb));
        tc_tensor_free(xb);
    }
    tc_tensor_free(y);
    return s;
}

/* The next quantized layer after i when only max pooling and flatten lie between (-1: none). */
static int int8_consumer(const tc_wfile *f, int i)
{
    for (int j = i + 1; j < f->nlayers; j++) {
        if (quantizable(&f->layers[j])) return j;
        if (f->layers[j].type != TC_LAYER_MAXPOOL2D && f->layers[j].type != TC_LAYER_FLATTEN) return -1;
    }
    return -1;
}

/* What the int8 layers hold while the description is built. */
typedef struct {
    tc_tensor *wq[TC_W_MAX_LAYERS]; /* keep the weights' quantization arrays alive */
    float scale[TC_W_MAX_LAYERS];   /* each quantized layer's input parameters */
    int32_t zero[TC_W_MAX_LAYERS];
} qstate;

static void *copy_of(const void *src, size_t bytes)
{
    void *d = malloc(bytes);
    if (d) memcpy(d, src, bytes);
    return d;
}

/* Layer i of f (read from m) becomes its int8 kind. */
static tc_status quantize_layer(const tc_model *m, tc_wfile *f, int i, const tc_model_quant_options *o, qstate *q)
{
    tc_ctx *ctx = m->ctx;
    tc_wlayer *l = &f->layers[i];
    const tc_mlayer *ml = &m->layers[i];
    const int j = o->keep_int8 ? int8_consumer(f, i) : -1;
    const tc_dtype out = j >= 0 ? o->act_dtype : TC_DTYPE_F32;
    const float sc[2] = {q->scale[i], j >= 0 ? q->scale[j] : 1.0f};
    const int32_t zp[2] = {q->zero[i], j >= 0 ? q->zero[j] : 0};
    tc_tensor *bq = NULL, *wd = NULL;
    const tc_tensor *bias = tc_mlayer_tensor(ml, TC_ROLE_BIAS);
    /* a weight held in CSR becomes a dense int8 weight (its zeros quantize to 0) */
    tc_status s = tc_wlayer_to_dense(ctx, l);
    int wt = -1, bt = -1;
    for (int t = 0; t < l->ntensors; t++) {
        if (l->t[t].role == TC_ROLE_WEIGHT) wt = t;
        if (l->t[t].role == TC_ROLE_BIAS) bt = t;
    }
    if (s == TC_OK) s = tc_mlayer_weight(ctx, ml, &wd);
    if (s == TC_OK) s = tc_qweights(ctx, wd, o->per_channel, &q->wq[i]);
    tc_tensor_free(wd);
    if (s == TC_OK && bias) s = tc_qbias(ctx, bias, sc[0], q->wq[i], &bq);
    void *wh = s == TC_OK ? malloc(q->wq[i]->bytes) : NULL, *bh = bq ? malloc(bq->bytes) : NULL;
    void *sh = copy_of(sc, sizeof sc), *zh = copy_of(zp, sizeof zp);
    if (s == TC_OK && (!wh || (bq && !bh) || !sh || !zh)) s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == TC_OK) s = tc_tensor_read(q->wq[i], wh, q->wq[i]->bytes);
    if (s == TC_OK && bq) s = tc_tensor_read(bq, bh, bq->bytes);
    tc_tensor_free(bq);
    if (s != TC_OK) {
        free(wh), free(bh), free(sh), free(zh);
        return s;
    }
    tc_wtensor *w = &l->t[wt];
    free((void *)w->data);
    w->data = wh;
    w->dtype = TC_DTYPE_S8;
    tc_tensor_quant(q->wq[i], &w->q);
    if (bt >= 0) {
        free((void *)l->t[bt].data);
        l->t[bt].data = bh;
        l->t[bt].dtype = TC_DTYPE_S32;
    }
    const tc_wtensor act = {.dtype = TC_DTYPE_F32, .ndim = 1, .dims = {2}, .numel = 2, .q = {-1, 0, NULL, NULL}};
    l->t[l->ntensors] = act, l->t[l->ntensors].role = TC_ROLE_SCALE, l->t[l->ntensors++].data = sh;
    l->t[l->ntensors] = act, l->t[l->ntensors].role = TC_ROLE_ZERO_POINT, l->t[l->ntensors].dtype = TC_DTYPE_S32;
    l->t[l->ntensors++].data = zh;
    l->type = l->type == TC_LAYER_LINEAR ? TC_LAYER_QLINEAR : TC_LAYER_QCONV2D;
    l->p[l->nparams++] = o->act_dtype;
    l->p[l->nparams++] = out;
    return TC_OK;
}

static tc_status check_args(tc_model *m, const tc_tensor *calib, const tc_model_quant_options *o)
{
    if (!m) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_model_quantize: model is NULL");
    tc_ctx *ctx = m->ctx;
    tc_status s = tc_check_tensor(ctx, calib, "tc_model_quantize: calib", TC_DTYPE_F32, 0);
    if (s != TC_OK) return s;
    const int64_t per = tc_shape_numel(&m->in);
    if (calib->ndim < 2 || calib->numel / calib->dims[0] != per)
        return tc_fail(ctx, TC_ERR_SHAPE, "tc_model_quantize: calib has %lld elements per sample over dim 0; model %s "
                                          "takes %lld",
                       (long long)(calib->numel / calib->dims[0]), m->name, (long long)per);
    if (o->observer < 0 || o->observer >= TC_OBSERVER_KIND_COUNT)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_model_quantize: unknown observer kind %d", (int)o->observer);
    if (o->act_dtype != TC_DTYPE_U8 && o->act_dtype != TC_DTYPE_S8)
        return tc_fail(ctx, TC_ERR_DTYPE, "tc_model_quantize: activations are u8 or s8, not %s",
                       tc_dtype_name(o->act_dtype));
    if (o->batch < 1)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_model_quantize: batch %lld must be >= 1", (long long)o->batch);
    for (int i = 0; i < m->n; i++)
        if (quantizable(&m->layers[i].d)) return TC_OK;
    return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_model_quantize: model %s has no linear or conv2d layer", m->name);
}

tc_status tc_model_quantize(tc_model *m, const tc_tensor *calib, const tc_model_quant_options *o, tc_model **out)
{
    if (!out) return tc_fail(m ? m->ctx : NULL, TC_ERR_INVALID_ARG, "tc_model_quantize: out is NULL");
    *out = NULL;
    const tc_model_quant_options def = tc_model_quant_defaults();
    if (!o) o = &def;
    tc_status s = check_args(m, calib, o);
    if (s != TC_OK) return s;
    tc_ctx *ctx = m->ctx;
    tc_observer *obs[TC_W_MAX_LAYERS] = {NULL};
    qstate *q = calloc(1, sizeof *q);
    tc_wfile *f = malloc(sizeof *f);
    if (!q || !f) s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    tc_observer_options oo = tc_observer_defaults(o->observer);
    oo.axis = -1;
    for (int i = 0; s == TC_OK && i < m->n; i++)
        if (quantizable(&m->layers[i].d)) s = tc_observer_create(ctx, &oo, &obs[i]);
    if (s == TC_OK) s = calibrate(m, calib, o->batch, obs);
    for (int i = 0; s == TC_OK && i < m->n; i++)
        if (obs[i]) s = tc_observer_params(obs[i], o->act_dtype, 0, 1, &q->scale[i], &q->zero[i]);
    const int built = s == TC_OK && (s = tc_model_to_wfile(m, f)) == TC_OK;
    for (int i = 0; s == TC_OK && i < m->n; i++)
        if (obs[i]) s = quantize_layer(m, f, i, o, q);
    if (s == TC_OK) {
        char name[sizeof f->name];
        if (snprintf(name, sizeof name, "%s_int8", m->name) < (int)sizeof name) memcpy(f->name, name, sizeof name);
        s = tc_model_from_wfile(ctx, "the quantized model", f, 0, out);
    }
    if (built) tc_wfile_free_data(f);
    for (int i = 0; i < m->n; i++) tc_observer_free(obs[i]);
    for (int i = 0; q && i < m->n; i++) tc_tensor_free(q->wq[i]);
    free(q), free(f);
    return s;
}
