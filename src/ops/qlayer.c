/* The shared core of the quantized layers: weights and bias quantized once, the
 * integer GEMM plan over the weights, the input quantized on the fly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/igemm.h"
#include "ops/qlayer.h"
#include "ref/ref.h"
#include "tinycl/quantize.h"

static tc_status check_in(tc_ctx *ctx, const char *op, const tc_qin *in)
{
    if (in->dtype != TC_DTYPE_U8 && in->dtype != TC_DTYPE_S8)
        return tc_fail(ctx, TC_ERR_DTYPE, "%s: the input dtype is %s, expected u8 or s8", op,
                       tc_dtype_name(in->dtype));
    if (!isfinite(in->scale) || !(in->scale > 0))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: the input scale %g must be finite and > 0", op,
                       (double)in->scale);
    int32_t lo, hi;
    tc_ref_quant_range(in->dtype, &lo, &hi);
    if (in->zero_point < lo || in->zero_point > hi)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: the input zero point %d is outside %s's %d..%d", op,
                       (int)in->zero_point, tc_dtype_name(in->dtype), (int)lo, (int)hi);
    return TC_OK;
}

tc_status tc_qcore_validate(tc_ctx *ctx, const char *op, const tc_tensor *w, int ndim, const tc_tensor *bias,
                            const tc_qin *in, tc_variant *v)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s plan: ctx is NULL", op);
    char name[32];
    snprintf(name, sizeof name, "%s: w", op);
    tc_status st = tc_check_tensor(ctx, w, name, w && w->dtype == TC_DTYPE_S8 ? TC_DTYPE_S8 : TC_DTYPE_F32, ndim);
    if (st != TC_OK) return st;
    const int64_t k = w->numel / w->dims[0];
    if (k > TC_IGEMM_MAX_K)
        return tc_fail(ctx, TC_ERR_OVERFLOW, "%s: %lld weights per output channel; the integer GEMM takes %d", op,
                       (long long)k, TC_IGEMM_MAX_K);
    if (w->dtype == TC_DTYPE_S8) {
        tc_quant q;
        tc_tensor_quant(w, &q);
        if (!q.count)
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: s8 w carries no quantization parameters (tc_tensor_set_quant)",
                           op);
        if (q.axis > 0)
            return tc_fail(ctx, TC_ERR_SHAPE, "%s: w's quantization is along axis %d; expected per tensor or axis 0", op,
                           q.axis);
        snprintf(name, sizeof name, "%s: w's parameters", op);
        if ((st = tc_quant_check(ctx, name, w->dtype, w->ndim, w->dims, &q)) != TC_OK) return st;
    }
    if (bias) {
        snprintf(name, sizeof name, "%s: bias", op);
        st = tc_check_tensor(ctx, bias, name, bias->dtype == TC_DTYPE_S32 ? TC_DTYPE_S32 : TC_DTYPE_F32, 1);
        if (st != TC_OK) return st;
        if (bias->numel != w->dims[0])
            return tc_fail(ctx, TC_ERR_SHAPE, "%s: bias has %lld elements, expected %lld (w's output channels)", op,
                           (long long)bias->numel, (long long)w->dims[0]);
    }
    if ((st = check_in(ctx, op, in)) != TC_OK) return st;
    if (in->variant < 0 || in->variant >= TC_VARIANT_COUNT)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: invalid variant %d", op, (int)in->variant);
    return tc_ig_variant(ctx, in->variant, v);
}

tc_status tc_qweights(tc_ctx *ctx, const tc_tensor *w, int per_channel, tc_tensor **out)
{
    *out = NULL;
    const int64_t ch = per_channel ? w->dims[0] : 1, per = w->numel / ch;
    float *h = malloc((size_t)w->numel * sizeof *h), *lo = malloc((size_t)ch * sizeof *lo);
    float *hi = malloc((size_t)ch * sizeof *hi), *scale = malloc((size_t)ch * sizeof *scale);
    int32_t *zero = malloc((size_t)ch * sizeof *zero);
    tc_status st = h && lo && hi && scale && zero ? tc_tensor_read(w, h, w->bytes)
                                                  : tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int64_t c = 0; st == TC_OK && c < ch; c++) {
        lo[c] = hi[c] = 0;
        for (int64_t i = c * per; st == TC_OK && i < (c + 1) * per; i++) {
            if (!isfinite(h[i]))
                st = tc_fail(ctx, TC_ERR_INVALID_ARG, "weights: element %lld is %g, not finite", (long long)i,
                             (double)h[i]);
            lo[c] = fminf(lo[c], h[i]), hi[c] = fmaxf(hi[c], h[i]);
        }
    }
    if (st == TC_OK) st = tc_quant_params_from_ranges(ch, lo, hi, TC_DTYPE_S8, 1, scale, zero);
    const tc_quant q = {per_channel ? 0 : -1, ch, scale, zero};
    if (st == TC_OK) st = tc_tensor_create(ctx, TC_DTYPE_S8, w->ndim, w->dims, out);
    if (st == TC_OK) st = tc_tensor_set_quant(*out, &q);
    if (st == TC_OK) st = tc_quantize(ctx, w, *out, NULL);
    if (st != TC_OK) {
        tc_tensor_free(*out);
        *out = NULL;
    }
    free(h), free(lo), free(hi), free(scale), free(zero);
    return st;
}

tc_status tc_qbias(tc_ctx *ctx, const tc_tensor *bias, float in_scale, const tc_tensor *wq, tc_tensor **out)
{
    *out = NULL;
    tc_quant q;
    tc_tensor_quant(wq, &q);
    const int64_t n = bias->numel;
    float *b = malloc((size_t)n * sizeof *b);
    int32_t *v = malloc((size_t)n * sizeof *v);
    tc_status st = b && v ? tc_tensor_read(bias, b, bias->bytes) : tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int64_t j = 0; st == TC_OK && j < n; j++)
        v[j] = tc_ref_qbias(b[j], (double)in_scale * (double)q.scale[q.count > 1 ? j : 0]);
    if (st == TC_OK) st = tc_tensor_from_host(ctx, TC_DTYPE_S32, 1, &n, v, out);
    free(b), free(v);
    return st;
}

tc_status tc_qcore_init(tc_qcore *c, tc_ctx *ctx, const char *op, const tc_tensor *w, int ndim,
                        const tc_tensor *bias, const tc_qin *in)
{
    memset(c, 0, sizeof *c);
    tc_variant v;
    tc_status st = tc_qcore_validate(ctx, op, w, ndim, bias, in, &v);
    if (st != TC_OK) return st;
    c->ctx = ctx, c->op = op, c->in = *in, c->v = v;
    c->ndim = ndim, c->nout = w->dims[0], c->k = w->numel / w->dims[0];
    tc_tensor *wq = NULL, *bq = NULL, *rows = NULL;
    if (w->dtype == TC_DTYPE_F32) st = tc_qweights(ctx, w, 1, &wq);
    const tc_tensor *ws = wq ? wq : w;
    if (st == TC_OK && bias && bias->dtype == TC_DTYPE_F32) st = tc_qbias(ctx, bias, in->scale, ws, &bq);
    if (st == TC_OK) st = tc_tensor_reshape((tc_tensor *)ws, 2, (const int64_t[]){c->nout, c->k}, &rows);
    if (st == TC_OK) {
        tc_igemm_params p = tc_igemm_defaults();
        p.trans_b = 1;
        p.bias = bq ? bq : bias;
        p.relu = in->relu;
        p.variant = v;
        st = tc_igemm_plan_create(ctx, rows, &p, &c->gemm); /* copies what it needs */
    }
    tc_tensor_free(rows), tc_tensor_free(bq), tc_tensor_free(wq);
    return st;
}

void tc_qcore_release(tc_qcore *c)
{
    tc_igemm_plan_free(c->gemm);
    tc_tensor_free(c->xq);
    memset(c, 0, sizeof *c);
}

tc_status tc_qcore_scratch(tc_ctx *ctx, tc_tensor **t, tc_dtype dt, int ndim, const int64_t *dims)
{
    if (*t && (*t)->dtype == dt && (*t)->ndim == ndim && memcmp((*t)->dims, dims, (size_t)ndim * sizeof *dims) == 0)
        return TC_OK;
    tc_tensor_free(*t);
    *t = NULL;
    return tc_tensor_create(ctx, dt, ndim, dims, t);
}

/* t has `dims` where they are not -1. */
static tc_status check_dims(tc_qcore *c, const tc_tensor *t, const char *name, const int64_t *dims, int ndim)
{
    for (int i = 0; i < ndim; i++)
        if (dims[i] >= 0 && t->dims[i] != dims[i]) {
            char got[96] = "", want[96] = "";
            for (int j = 0; j < ndim; j++) {
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", j ? "x" : "", (long long)t->dims[j]);
                if (dims[j] >= 0)
                    snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", j ? "x" : "", (long long)dims[j]);
                else
                    snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", j ? "x" : "", j ? "?" : "N");
            }
            return tc_fail(c->ctx, TC_ERR_SHAPE, "%s: %s is %s, expected %s", c->op, name, got, want);
        }
    return TC_OK;
}

/* t is one of the dtypes in mask (bits 1 << dtype; NULL and context checks first)
 * with ndim dims. */
static tc_status check_dtype(tc_qcore *c, const tc_tensor *t, const char *tn, unsigned mask, int ndim)
{
    char name[32], list[64] = "";
    snprintf(name, sizeof name, "%s: %s", c->op, tn);
    tc_status st = tc_check_tensor(c->ctx, t, name, t ? t->dtype : TC_DTYPE_F32, ndim);
    if (st != TC_OK || (mask >> t->dtype & 1u)) return st;
    for (int d = 0; d < TC_DTYPE_COUNT; d++)
        if (mask >> d & 1u) snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", *list ? " or " : "", tc_dtype_name((tc_dtype)d));
    return tc_fail(c->ctx, TC_ERR_DTYPE, "%s is %s, expected %s", name, tc_dtype_name(t->dtype), list);
}

tc_status tc_qcore_check_x(tc_qcore *c, const tc_tensor *x, const int64_t *dims)
{
    tc_status st = check_dtype(c, x, "x", 1u << TC_DTYPE_F32 | 1u << c->in.dtype, c->ndim);
    if (st == TC_OK) st = check_dims(c, x, "x", dims, c->ndim);
    if (st != TC_OK) return st;
    if (!c->ctx->is_ref && x->numel >= (int64_t)1 << 30)
        return tc_fail(c->ctx, TC_ERR_OVERFLOW, "%s: x beyond 2^30 elements on OpenCL", c->op);
    if (x->dtype == TC_DTYPE_F32) return TC_OK;
    tc_quant q;
    tc_tensor_quant(x, &q);
    if (q.count != 1 || q.scale[0] != c->in.scale || q.zero_point[0] != c->in.zero_point)
        return tc_fail(c->ctx, TC_ERR_INVALID_ARG,
                       "%s: a %s x must carry the plan's input quantization (scale %g, zero point %d); %s", c->op,
                       tc_dtype_name(x->dtype), (double)c->in.scale, (int)c->in.zero_point,
                       q.count == 1 ? "it differs" : "it has none per tensor");
    return TC_OK;
}

tc_status tc_qcore_input(tc_qcore *c, const tc_tensor *x, const tc_tensor **xq)
{
    *xq = x;
    if (x->dtype != TC_DTYPE_F32) return TC_OK;
    const tc_quant want = {-1, 1, &c->in.scale, &c->in.zero_point};
    const tc_op_params qp = {c->v == TC_VARIANT_REF ? TC_VARIANT_REF : TC_VARIANT_AUTO};
    tc_status st = tc_qcore_scratch(c->ctx, &c->xq, c->in.dtype, x->ndim, x->dims);
    if (st == TC_OK) st = tc_tensor_set_quant(c->xq, &want);
    if (st == TC_OK) st = tc_quantize(c->ctx, x, c->xq, &qp);
    *xq = c->xq;
    return st;
}

tc_status tc_qcore_check_y(tc_qcore *c, const tc_tensor *y, const int64_t *dims, const tc_tensor *x)
{
    tc_status st = check_dtype(c, y, "y", 1u << TC_DTYPE_F32 | 1u << TC_DTYPE_S8 | 1u << TC_DTYPE_U8, c->ndim);
    if (st == TC_OK) st = check_dims(c, y, "y", dims, c->ndim);
    if (st != TC_OK) return st;
    if (tc_tensors_overlap(y, x))
        return tc_fail(c->ctx, TC_ERR_INVALID_ARG, "%s: y must not share storage with x", c->op);
    tc_quant q;
    tc_tensor_quant(y, &q);
    if (y->dtype != TC_DTYPE_F32 && (q.count != 1 || q.axis != -1))
        return tc_fail(c->ctx, TC_ERR_INVALID_ARG,
                       "%s: a %s y needs one scale and zero point (the next layer's input; tc_tensor_set_quant)", c->op,
                       tc_dtype_name(y->dtype));
    if (!c->ctx->is_ref && y->numel >= (int64_t)1 << 30)
        return tc_fail(c->ctx, TC_ERR_OVERFLOW, "%s: y beyond 2^30 elements on OpenCL", c->op);
    return TC_OK;
}
