/* The layer kinds of sequential models and the checks every layer of a weight
 * file goes through (kind.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "model/kind.h"
#include "ops/gemm.h"

#define DIM_MAX INT32_MAX
#define F32 (1u << TC_DTYPE_F32)

/* ------------------------------------------------------------ shape helpers */

static int fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* The reason an op's own check gave. */
static int op_refused(char *why, size_t n, tc_status s) { return fail(why, n, "%s", tc_refusal(s)); }

static const tc_wtensor *find(const tc_wlayer *l, tc_tensor_role role)
{
    for (int t = 0; t < l->ntensors; t++)
        if (l->t[t].role == (uint32_t)role) return &l->t[t];
    return NULL;
}

/* ndim-D samples, with d0 features or channels unless d0 is 0. */
static int want_input(const tc_wlayer *l, int ndim, int64_t d0, char *why, size_t n)
{
    if (l->in.ndim == ndim && (d0 == 0 || l->in.d[0] == d0)) return 0;
    char got[96], what[64] = "";
    tc_fmt_dims(l->in.d, l->in.ndim, got, sizeof got);
    if (d0) snprintf(what, sizeof what, " of %lld %s", (long long)d0, ndim == 1 ? "features" : "channels");
    return fail(why, n, "takes %d-D samples%s; the layer before gives %s", ndim, what, got);
}

/* The tensor of `role`, when present, is dims. */
static int want_tensor(const tc_wlayer *l, tc_tensor_role role, int ndim, const int64_t *dims, char *why, size_t n)
{
    const tc_wtensor *t = find(l, role);
    if (!t || (t->ndim == ndim && memcmp(t->dims, dims, (size_t)ndim * sizeof *dims) == 0)) return 0;
    char got[96], want[96];
    tc_fmt_dims(t->dims, t->ndim, got, sizeof got);
    tc_fmt_dims(dims, ndim, want, sizeof want);
    return fail(why, n, "%s is %s, its parameters need %s", tc_role_name(role), got, want);
}

static const tc_tensor *tensor(const tc_mlayer *l, tc_tensor_role role)
{
    for (int t = 0; t < l->d.ntensors; t++)
        if (l->d.t[t].role == (uint32_t)role) return l->t[t];
    return NULL;
}

/* ------------------------------------------------------------ weights: dense or CSR */

/* The weight of a linear or conv2d layer: dense (dims) or, with row_ptr and col_idx,
 * CSR of dims[0] rows of the other dims' product columns, checked completely. */
static int weight_shape(tc_wlayer *l, int ndim, const int64_t *dims, char *why, size_t n)
{
    if (!find(l, TC_ROLE_ROW_PTR) && !find(l, TC_ROLE_COL_IDX)) return want_tensor(l, TC_ROLE_WEIGHT, ndim, dims, why, n);
    int64_t cols = 1;
    for (int d = 1; d < ndim; d++) cols = tc_sat_mul(cols, dims[d]);
    return tc_wlayer_check_csr(l, dims[0], cols, why, n);
}

/* The plans of a weight layer: dense, or sparse for pruned weights. */
typedef struct {
    tc_linear_plan *lin;
    tc_sparse_linear_plan *slin; /* sparse from the device's breakeven, dense below it */
    tc_conv2d_plan *conv;
    tc_sparse_conv2d_plan *sconv;
} wplan;

static void wplan_free(void *plan)
{
    wplan *p = plan;
    if (!p) return;
    tc_linear_plan_free(p->lin);
    tc_sparse_linear_plan_free(p->slin);
    tc_conv2d_plan_free(p->conv);
    tc_sparse_conv2d_plan_free(p->sconv);
    free(p);
}

static tc_status wplan_run(wplan *p, const tc_tensor *x, tc_tensor *y)
{
    if (p->lin) return tc_linear_plan_run(p->lin, x, y);
    if (p->slin) return tc_sparse_linear_plan_run(p->slin, x, y);
    if (p->conv) return tc_conv2d_plan_run(p->conv, x, y);
    return tc_sparse_conv2d_plan_run(p->sconv, x, y);
}

/* Makes the plan of layer l with make (its dense weight given), into *out. */
static tc_status wplan_make(tc_ctx *ctx, const tc_mlayer *l, tc_status (*make)(tc_ctx *, const tc_mlayer *,
                                                                                const tc_tensor *, wplan *),
                            wplan **out)
{
    wplan *p = calloc(1, sizeof *p);
    tc_tensor *w = NULL;
    tc_status s = p ? tc_mlayer_weight(ctx, l, &w) : tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == TC_OK) s = make(ctx, l, w, p);
    tc_tensor_free(w); /* plans keep their own references */
    if (s != TC_OK) {
        wplan_free(p);
        p = NULL;
    }
    *out = p;
    return s;
}

/* Without a plan made at load (TC_MODEL_ONESHOT), a layer held in CSR makes one per call. */
static tc_status wplan_once(tc_ctx *ctx, const tc_mlayer *l,
                            tc_status (*make)(tc_ctx *, const tc_mlayer *, const tc_tensor *, wplan *),
                            const tc_tensor *x, tc_tensor *y)
{
    wplan *p = NULL;
    tc_status s = wplan_make(ctx, l, make, &p);
    if (s == TC_OK) s = wplan_run(p, x, y);
    wplan_free(p);
    return s;
}

/* Pruned weights, which run the sparse plans unless the model was loaded for another
 * dense variant (TC_MODEL_CLBLAST). */
static int pruned(const tc_mlayer *l) { return l->nonzero < l->weights && l->variant == TC_VARIANT_AUTO; }

/* ------------------------------------------------------------ linear: in, out */

static int linear_shape(tc_wlayer *l, char *why, size_t n)
{
    const int64_t in = l->p[0], out = l->p[1];
    if (in < 1 || out < 1) return fail(why, n, "in %lld, out %lld must be >= 1", (long long)in, (long long)out);
    if (want_input(l, 1, in, why, n) || weight_shape(l, 2, (const int64_t[]){out, in}, why, n) ||
        want_tensor(l, TC_ROLE_BIAS, 1, &out, why, n))
        return -1;
    l->out = (tc_shape){.ndim = 1, .d = {out}};
    return 0;
}

static tc_linear_params linear_params(const tc_mlayer *l)
{
    tc_linear_params p = tc_linear_defaults();
    p.relu = (l->d.flags & TC_W_FLAG_RELU) != 0;
    p.variant = l->variant;
    return p;
}

/* Pruned weights: a sparse linear plan (AUTO: sparse from the device's breakeven). */
static tc_status linear_make(tc_ctx *ctx, const tc_mlayer *l, const tc_tensor *w, wplan *p)
{
    const tc_linear_params lp = linear_params(l);
    if (!pruned(l)) return tc_linear_plan_create(ctx, w, tensor(l, TC_ROLE_BIAS), &lp, &p->lin);
    tc_sparse_linear_params sp = tc_sparse_linear_defaults();
    sp.relu = lp.relu;
    return tc_sparse_linear_plan_create(ctx, w, tensor(l, TC_ROLE_BIAS), &sp, &p->slin);
}

static tc_status linear_prepare(tc_ctx *ctx, tc_mlayer *l)
{
    wplan *p = NULL;
    tc_status s = wplan_make(ctx, l, linear_make, &p);
    l->plan = p;
    return s;
}

static tc_status linear_run(tc_ctx *ctx, const tc_mlayer *l, const tc_tensor *x, tc_tensor *y)
{
    if (l->plan) return wplan_run(l->plan, x, y);
    if (l->csr) return wplan_once(ctx, l, linear_make, x, y);
    const tc_linear_params p = linear_params(l);
    return tc_linear(ctx, x, tensor(l, TC_ROLE_WEIGHT), tensor(l, TC_ROLE_BIAS), y, &p);
}

static int linear_summary(const tc_wlayer *l, char *buf, size_t n)
{
    return snprintf(buf, n, "(%lld->%lld)", (long long)l->p[0], (long long)l->p[1]);
}

/* ------------------------------------------------------------ conv2d: C, K, R, S, stride, pad */

static int conv2d_shape(tc_wlayer *l, char *why, size_t n)
{
    const int64_t *p = l->p;
    int64_t oh = 0, ow = 0;
    if (p[0] < 1 || p[1] < 1)
        return fail(why, n, "channels %lld -> %lld must be >= 1", (long long)p[0], (long long)p[1]);
    if (want_input(l, 3, p[0], why, n)) return -1;
    tc_status s = tc_conv2d_out_size(l->in.d[1], p[2], (int)p[4], (int)p[5], 1, &oh);
    if (s == TC_OK) s = tc_conv2d_out_size(l->in.d[2], p[3], (int)p[4], (int)p[5], 1, &ow);
    if (s != TC_OK) return op_refused(why, n, s);
    if (weight_shape(l, 4, (const int64_t[]){p[1], p[0], p[2], p[3]}, why, n) ||
        want_tensor(l, TC_ROLE_BIAS, 1, &p[1], why, n))
        return -1;
    l->out = (tc_shape){.ndim = 3, .d = {p[1], oh, ow}};
    return 0;
}

static tc_conv2d_params conv2d_params(const tc_mlayer *l)
{
    tc_conv2d_params cp = tc_conv2d_defaults();
    cp.stride_h = cp.stride_w = (int)l->d.p[4];
    cp.pad_h = cp.pad_w = (int)l->d.p[5];
    cp.bias = tensor(l, TC_ROLE_BIAS);
    cp.relu = (l->d.flags & TC_W_FLAG_RELU) != 0;
    cp.variant = l->variant;
    return cp;
}

/* A pruned convolution runs sparse from the device's measured breakeven (the
 * `sparse.conv_breakeven` kernel parameter; 100: never). */
static int conv2d_sparse(const tc_ctx *ctx, const tc_mlayer *l)
{
    const int b = ctx->params.sparse.conv_breakeven;
    return pruned(l) && b < 100 && 100.0 * (1.0 - (double)l->nonzero / (double)l->weights) >= b;
}

static tc_status conv2d_make(tc_ctx *ctx, const tc_mlayer *l, const tc_tensor *w, wplan *p)
{
    const tc_conv2d_params cp = conv2d_params(l);
    if (conv2d_sparse(ctx, l)) return tc_sparse_conv2d_plan_create(ctx, w, l->d.in.d, &cp, TC_SPARSE_AUTO, &p->sconv);
    return tc_conv2d_plan_create(ctx, w, l->d.in.d, &cp, &p->conv);
}

static tc_status conv2d_prepare(tc_ctx *ctx, tc_mlayer *l)
{
    wplan *p = NULL;
    tc_status s = wplan_make(ctx, l, conv2d_make, &p);
    l->plan = p;
    return s;
}

static tc_status conv2d_run(tc_ctx *ctx, const tc_mlayer *l, const tc_tensor *x, tc_tensor *y)
{
    if (l->plan) return wplan_run(l->plan, x, y);
    if (l->csr) return wplan_once(ctx, l, conv2d_make, x, y);
    const tc_conv2d_params cp = conv2d_params(l);
    return tc_conv2d(ctx, x, tensor(l, TC_ROLE_WEIGHT), y, &cp);
}

static int conv2d_summary(const tc_wlayer *l, char *buf, size_t n)
{
    const int64_t *p = l->p;
    return snprintf(buf, n, "(%lld->%lld, %lldx%lld, stride %lld, pad %lld)", (long long)p[0], (long long)p[1],
                    (long long)p[2], (long long)p[3], (long long)p[4], (long long)p[5]);
}

void tc_mlayer_runs_sparse(const tc_mlayer *l, int sparse[2])
{
    const wplan *p = l->d.type == TC_LAYER_LINEAR || l->d.type == TC_LAYER_CONV2D ? l->plan : NULL;
    sparse[0] = p && (p->sconv || (p->slin && tc_sparse_linear_plan_is_sparse(p->slin, 1)));
    sparse[1] = p && (p->sconv || (p->slin && tc_sparse_linear_plan_is_sparse(p->slin, TC_GEMV_MAX_M + 1)));
}

/* ------------------------------------------------------------ pooling: kernel_h, kernel_w, stride, pad */

static tc_pool2d_params pool_params(const tc_wlayer *l)
{
    const int64_t *p = l->p;
    return (tc_pool2d_params){(int)p[0], (int)p[1], (int)p[2], (int)p[2], (int)p[3], (int)p[3], TC_VARIANT_AUTO};
}

static int pool2d_shape(tc_wlayer *l, char *why, size_t n)
{
    int64_t oh = 0, ow = 0;
    if (want_input(l, 3, 0, why, n)) return -1;
    const tc_pool2d_params pp = pool_params(l);
    tc_status s = tc_pool2d_out_dims(&pp, l->in.d[1], l->in.d[2], &oh, &ow);
    if (s != TC_OK) return op_refused(why, n, s);
    l->out = l->in; /* the element type passes through */
    l->out.d[1] = oh, l->out.d[2] = ow;
    return 0;
}

static tc_status maxpool2d_run(tc_ctx *ctx, const tc_mlayer *l, const tc_tensor *x, tc_tensor *y)
{
    const tc_pool2d_params pp = pool_params(&l->d);
    return tc_maxpool2d(ctx, x, y, &pp);
}

static tc_status avgpool2d_run(tc_ctx *ctx, const tc_mlayer *l, const tc_tensor *x, tc_tensor *y)
{
    const tc_pool2d_params pp = pool_params(&l->d);
    return tc_avgpool2d(ctx, x, y, &pp);
}

static int pool2d_summary(const tc_wlayer *l, char *buf, size_t n)
{
    const int64_t *p = l->p;
    return snprintf(buf, n, "(%lldx%lld, stride %lld, pad %lld)", (long long)p[0], (long long)p[1], (long long)p[2],
                    (long long)p[3]);
}

static int global_avgpool_shape(tc_wlayer *l, char *why, size_t n)
{
    if (want_input(l, 3, 0, why, n)) return -1;
    l->out = (tc_shape){.ndim = 1, .d = {l->in.d[0]}};
    return 0;
}

static tc_status global_avgpool_run(tc_ctx *ctx, const tc_mlayer *l, const tc_tensor *x, tc_tensor *y)
{
    (void)l;
    return tc_global_avgpool(ctx, x, y, NULL);
}

/* ------------------------------------------------------------ parameterless */

static tc_status relu_run(tc_ctx *ctx, const tc_mlayer *l, const tc_tensor *x, tc_tensor *y)
{
    (void)l;
    return tc_relu(ctx, x, y, NULL);
}

static tc_status softmax_run(tc_ctx *ctx, const tc_mlayer *l, const tc_tensor *x, tc_tensor *y)
{
    (void)l;
    return tc_softmax(ctx, x, y, NULL);
}

static int flatten_shape(tc_wlayer *l, char *why, size_t len)
{
    (void)why, (void)len;
    const int64_t n = tc_shape_numel(&l->in);
    l->out = l->in; /* the element type passes through */
    l->out.ndim = 1, l->out.d[0] = n, l->out.d[1] = l->out.d[2] = 0;
    return 0;
}

/* ------------------------------------------------------------ qlinear, qconv2d: int8 layers
 * Parameters: linear's or conv2d's, then in_dtype (s8 or u8) and out_dtype (f32, s8 or
 * u8) as weight-file dtype codes. Tensors: weight s8 with its quantization (per tensor
 * or per output channel), optional bias s32 in units of in_scale * w_scale, scale f32 [2]
 * and zero_point s32 [2]: the input's and the output's (1 and 0 for an f32 output). */

#define QP(l) ((l)->p + ((l)->type == TC_LAYER_QLINEAR ? 2 : 6)) /* in_dtype, out_dtype */

static float act_scale(const tc_wtensor *t, int i)
{
    float v;
    memcpy(&v, (const char *)t->data + i * sizeof v, sizeof v);
    return v;
}

static int32_t act_zero(const tc_wtensor *t, int i)
{
    int32_t v;
    memcpy(&v, (const char *)t->data + i * sizeof v, sizeof v);
    return v;
}

static int zero_in_range(tc_dtype dt, int32_t z)
{
    return dt == TC_DTYPE_S8 ? z >= -128 && z <= 127 : dt == TC_DTYPE_U8 ? z >= 0 && z <= 255 : z == 0;
}

/* The quantization half of a q layer's shape: weights, activation parameters, the
 * chain from the layer before, and the output's element type. */
static int qact_shape(tc_wlayer *l, char *why, size_t n)
{
    const int64_t *qp = QP(l), two = 2;
    if ((qp[0] != TC_DTYPE_S8 && qp[0] != TC_DTYPE_U8) || qp[1] >= TC_DTYPE_S32)
        return fail(why, n, "in_dtype %lld must be s8 (1) or u8 (2), out_dtype %lld f32 (0), s8 or u8", (long long)qp[0],
                    (long long)qp[1]);
    const tc_dtype in = (tc_dtype)qp[0], out = (tc_dtype)qp[1];
    const tc_wtensor *w = find(l, TC_ROLE_WEIGHT), *sc = find(l, TC_ROLE_SCALE), *zp = find(l, TC_ROLE_ZERO_POINT);
    if (want_tensor(l, TC_ROLE_SCALE, 1, &two, why, n) || want_tensor(l, TC_ROLE_ZERO_POINT, 1, &two, why, n)) return -1;
    if (!w->q.count || (w->q.axis != -1 && w->q.axis != 0))
        return fail(why, n, "weight needs its quantization per tensor or per output channel (axis 0)");
    const float s0 = act_scale(sc, 0), s1 = act_scale(sc, 1);
    const int32_t z0 = act_zero(zp, 0), z1 = act_zero(zp, 1);
    if (!isfinite(s0) || !(s0 > 0) || !zero_in_range(in, z0))
        return fail(why, n, "input scale %g and zero point %d: need a finite scale > 0 and a zero point in %s's range",
                    (double)s0, (int)z0, tc_dtype_name(in));
    if (out == TC_DTYPE_F32 ? s1 != 1.0f || z1 != 0 : !isfinite(s1) || !(s1 > 0) || !zero_in_range(out, z1))
        return fail(why, n, "output scale %g and zero point %d: %s", (double)s1, (int)z1,
                    out == TC_DTYPE_F32 ? "an f32 output has 1 and 0"
                                        : "need a finite scale > 0 and a zero point in the dtype's range");
    /* the output stage's scales: in * weight (f32 out) over the output's (8-bit out, a
     * fixed-point multiplier below 2^30) */
    for (int64_t j = 0; j < w->q.count; j++) {
        const double r = (double)s0 * w->q.scale[j] / (out == TC_DTYPE_F32 ? 1.0 : (double)s1);
        if (out == TC_DTYPE_F32 ? !isfinite((float)r) : !(r < 1073741824.0))
            return fail(why, n, "input scale %g times weight scale[%lld] %g%s is %g: %s", (double)s0, (long long)j,
                        (double)w->q.scale[j], out == TC_DTYPE_F32 ? "" : " over the output scale", r,
                        out == TC_DTYPE_F32 ? "not a finite float" : "not below 2^30");
    }
    if (l->in.dtype != TC_DTYPE_F32 && (l->in.dtype != in || l->in.scale != s0 || l->in.zero_point != z0))
        return fail(why, n, "takes f32 or %s (scale %g, zero point %d) samples; the layer before gives %s (scale %g, "
                    "zero point %d)", tc_dtype_name(in), (double)s0, (int)z0, tc_dtype_name(l->in.dtype),
                    (double)l->in.scale, (int)l->in.zero_point);
    l->out.dtype = out;
    l->out.scale = out == TC_DTYPE_F32 ? 0.0f : s1;
    l->out.zero_point = z1;
    return 0;
}

static int qlinear_shape(tc_wlayer *l, char *why, size_t n)
{
    const tc_shape in = l->in;
    l->in.dtype = TC_DTYPE_F32; /* linear's own checks see the shape only */
    const int r = linear_shape(l, why, n);
    l->in = in;
    return r ? r : qact_shape(l, why, n);
}

static int qconv2d_shape(tc_wlayer *l, char *why, size_t n)
{
    const tc_shape in = l->in;
    l->in.dtype = TC_DTYPE_F32;
    const int r = conv2d_shape(l, why, n);
    l->in = in;
    return r ? r : qact_shape(l, why, n);
}

/* The input's parameters (read back from the scale and zero point tensors). */
static tc_status q_input(const tc_mlayer *l, tc_dtype *dt, float *scale, int32_t *zero)
{
    float s[2];
    int32_t z[2];
    tc_status st = tc_tensor_read(tensor(l, TC_ROLE_SCALE), s, sizeof s);
    if (st == TC_OK) st = tc_tensor_read(tensor(l, TC_ROLE_ZERO_POINT), z, sizeof z);
    *dt = (tc_dtype)QP(&l->d)[0], *scale = s[0], *zero = z[0];
    return st;
}

static tc_status qlinear_plan(tc_ctx *ctx, const tc_mlayer *l, tc_qlinear_plan **plan)
{
    tc_qlinear_params p = tc_qlinear_defaults();
    p.relu = (l->d.flags & TC_W_FLAG_RELU) != 0;
    tc_status st = q_input(l, &p.in_dtype, &p.in_scale, &p.in_zero_point);
    return st == TC_OK ? tc_qlinear_plan_create(ctx, tensor(l, TC_ROLE_WEIGHT), tensor(l, TC_ROLE_BIAS), &p, plan) : st;
}

static tc_status qlinear_prepare(tc_ctx *ctx, tc_mlayer *l)
{
    tc_qlinear_plan *plan = NULL;
    tc_status st = qlinear_plan(ctx, l, &plan);
    l->plan = plan;
    return st;
}

/* Without a plan made at load (TC_MODEL_ONESHOT): one made and freed per call. */
static tc_status qlinear_run(tc_ctx *ctx, const tc_mlayer *l, const tc_tensor *x, tc_tensor *y)
{
    if (l->plan) return tc_qlinear_plan_run(l->plan, x, y);
    tc_qlinear_plan *plan = NULL;
    tc_status st = qlinear_plan(ctx, l, &plan);
    if (st == TC_OK) st = tc_qlinear_plan_run(plan, x, y);
    tc_qlinear_plan_free(plan);
    return st;
}

static void qlinear_release(void *plan) { tc_qlinear_plan_free(plan); }

static tc_status qconv2d_plan(tc_ctx *ctx, const tc_mlayer *l, tc_qconv2d_plan **plan)
{
    tc_qconv2d_params p = tc_qconv2d_defaults();
    p.stride_h = p.stride_w = (int)l->d.p[4];
    p.pad_h = p.pad_w = (int)l->d.p[5];
    p.relu = (l->d.flags & TC_W_FLAG_RELU) != 0;
    tc_status st = q_input(l, &p.in_dtype, &p.in_scale, &p.in_zero_point);
    return st == TC_OK ? tc_qconv2d_plan_create(ctx, tensor(l, TC_ROLE_WEIGHT), l->d.in.d, tensor(l, TC_ROLE_BIAS), &p,
                                                plan)
                       : st;
}

static tc_status qconv2d_prepare(tc_ctx *ctx, tc_mlayer *l)
{
    tc_qconv2d_plan *plan = NULL;
    tc_status st = qconv2d_plan(ctx, l, &plan);
    l->plan = plan;
    return st;
}

static tc_status qconv2d_run(tc_ctx *ctx, const tc_mlayer *l, const tc_tensor *x, tc_tensor *y)
{
    if (l->plan) return tc_qconv2d_plan_run(l->plan, x, y);
    tc_qconv2d_plan *plan = NULL;
    tc_status st = qconv2d_plan(ctx, l, &plan);
    if (st == TC_OK) st = tc_qconv2d_plan_run(plan, x, y);
    tc_qconv2d_plan_free(plan);
    return st;
}

static void qconv2d_release(void *plan) { tc_qconv2d_plan_free(plan); }

static int q_summary(const tc_wlayer *l, char *buf, size_t n)
{
    const int64_t *qp = QP(l);
    char geo[96];
    if (l->type == TC_LAYER_QLINEAR)
        linear_summary(l, geo, sizeof geo);
    else
        conv2d_summary(l, geo, sizeof geo);
    geo[strlen(geo) - 1] = '\0'; /* the closing parenthesis */
    return snprintf(buf, n, "%s, %s->%s)", geo, tc_dtype_name((tc_dtype)qp[0]), tc_dtype_name((tc_dtype)qp[1]));
}

/* ------------------------------------------------------------ the table */

#define WEIGHT_BIAS {{TC_ROLE_WEIGHT, F32, 1}, {TC_ROLE_BIAS, F32, 0}}
#define S32 (1u << TC_DTYPE_S32)
#define WEIGHT_BIAS_CSR {{TC_ROLE_WEIGHT, F32, 1}, {TC_ROLE_BIAS, F32, 0}, {TC_ROLE_ROW_PTR, S32, 0}, {TC_ROLE_COL_IDX, S32, 0}}
#define Q_TENSORS                                                                                                \
    {{TC_ROLE_WEIGHT, 1u << TC_DTYPE_S8, 1}, {TC_ROLE_BIAS, 1u << TC_DTYPE_S32, 0}, {TC_ROLE_SCALE, F32, 1},          \
     {TC_ROLE_ZERO_POINT, 1u << TC_DTYPE_S32, 1}}

static const tc_layer_kind kinds[TC_LAYER_END] = {
    [TC_LAYER_LINEAR] = {"linear", 2, TC_W_FLAG_RELU, 0, WEIGHT_BIAS_CSR, linear_shape, linear_run, linear_prepare,
                         wplan_free, linear_summary},
    [TC_LAYER_CONV2D] = {"conv2d", 6, TC_W_FLAG_RELU, 0, WEIGHT_BIAS_CSR, conv2d_shape, conv2d_run, conv2d_prepare,
                         wplan_free, conv2d_summary},
    [TC_LAYER_RELU] = {"relu", 0, 0, 0, {{0}}, NULL, relu_run, NULL, NULL, NULL},
    [TC_LAYER_SOFTMAX] = {"softmax", 0, 0, 0, {{0}}, NULL, softmax_run, NULL, NULL, NULL},
    [TC_LAYER_FLATTEN] = {"flatten", 0, 0, 1, {{0}}, flatten_shape, NULL, NULL, NULL, NULL},
    [TC_LAYER_GLOBAL_AVGPOOL] = {"global_avgpool", 0, 0, 0, {{0}}, global_avgpool_shape, global_avgpool_run, NULL,
                                 NULL, NULL},
    [TC_LAYER_MAXPOOL2D] = {"maxpool2d", 4, 0, 1, {{0}}, pool2d_shape, maxpool2d_run, NULL, NULL, pool2d_summary},
    [TC_LAYER_AVGPOOL2D] = {"avgpool2d", 4, 0, 0, {{0}}, pool2d_shape, avgpool2d_run, NULL, NULL, pool2d_summary},
    [TC_LAYER_QLINEAR] = {"qlinear", 4, TC_W_FLAG_RELU, 1, Q_TENSORS, qlinear_shape, qlinear_run, qlinear_prepare,
                          qlinear_release, q_summary},
    [TC_LAYER_QCONV2D] = {"qconv2d", 8, TC_W_FLAG_RELU, 1, Q_TENSORS, qconv2d_shape, qconv2d_run, qconv2d_prepare,
                          qconv2d_release, q_summary},
    /* decoder files: p and tensors as docs/weights.md says; shapes checked by model/decoder_file.c */
    [TC_LAYER_TOKEN_EMBEDDING] = {"token_embedding", 2, 0, 0, {{TC_ROLE_WEIGHT, F32, 1}}, .decoder = 1},
    [TC_LAYER_SINUSOIDAL_POSITIONS] = {"sinusoidal_positions", 1, 0, 0, {{0}}, .decoder = 1},
    [TC_LAYER_LAYERNORM] = {"layernorm", 1, 0, 0, {{TC_ROLE_GAMMA, F32, 1}, {TC_ROLE_BETA, F32, 1}}, .decoder = 1},
    [TC_LAYER_ATTENTION] = {"attention", 2, 0, 0, WEIGHT_BIAS, .decoder = 1},
    [TC_LAYER_GELU] = {"gelu", 1, 0, 0, {{0}}, .decoder = 1},
    /* structured, original weights (bits 0..30, 31..61); taken out of the layers by tc_wfile_check */
    [TC_LAYER_PRUNING] = {"pruning", TC_W_PRUNE_PARAMS, 0, 0, {{0}}, .meta = 1},
};

const tc_layer_kind *tc_layer_kind_of(uint32_t type)
{
    return type > 0 && type < TC_LAYER_END && kinds[type].name ? &kinds[type] : NULL;
}

const char *tc_layer_name(tc_layer_type t)
{
    const tc_layer_kind *k = tc_layer_kind_of((uint32_t)t);
    return k ? k->name : "invalid";
}

/* ------------------------------------------------------------ checking a file's layers */

/* "weight, bias" or "none" */
static void slot_list(const tc_layer_kind *k, char *buf, size_t n)
{
    snprintf(buf, n, "none");
    size_t at = 0;
    for (int j = 0; j < TC_KIND_SLOTS && k->slots[j].role && at < n; j++)
        at += (size_t)snprintf(buf + at, n - at, "%s%s", j ? ", " : "", tc_role_name(k->slots[j].role));
}

static int slot_of(const tc_layer_kind *k, uint32_t role)
{
    for (int j = 0; j < TC_KIND_SLOTS && k->slots[j].role; j++)
        if ((uint32_t)k->slots[j].role == role) return j;
    return -1;
}

static tc_status check_tensors(tc_ctx *ctx, const char *path, int i, const tc_layer_kind *k, const tc_wlayer *l)
{
    int seen[TC_KIND_SLOTS] = {0};
    char list[96];
    for (int t = 0; t < l->ntensors; t++) {
        const tc_wtensor *x = &l->t[t];
        const char *role = tc_role_name((tc_tensor_role)x->role);
        const int j = slot_of(k, x->role);
        if (j < 0) {
            slot_list(k, list, sizeof list);
            return tc_wfail(ctx, path, "layer %d (%s): tensor %d is a %s; the kind takes %s", i, k->name, t, role,
                            list);
        }
        if (seen[j]++) return tc_wfail(ctx, path, "layer %d (%s): a second %s tensor", i, k->name, role);
        if (!(k->slots[j].dtypes & (1u << x->dtype)))
            return tc_wfail(ctx, path, "layer %d (%s): %s is %s, which the kind does not take", i, k->name, role,
                            tc_dtype_name(x->dtype));
    }
    for (int j = 0; j < TC_KIND_SLOTS && k->slots[j].role; j++)
        if (k->slots[j].required && !seen[j])
            return tc_wfail(ctx, path, "layer %d (%s): no %s tensor", i, k->name, tc_role_name(k->slots[j].role));
    return TC_OK;
}

tc_status tc_wlayer_check(tc_ctx *ctx, const char *path, int version, int i, tc_wlayer *l)
{
    const tc_layer_kind *k = tc_layer_kind_of(l->type);
    if (!k) return tc_wfail(ctx, path, "layer %d: unknown layer type %u", i, l->type);
    if (l->flags & ~k->flags) return tc_wfail(ctx, path, "layer %d (%s): flags 0x%x not allowed", i, k->name, l->flags);
    if (version > 1 && l->nparams != k->nparams)
        return tc_wfail(ctx, path, "layer %d (%s): %d parameters; the kind has %d", i, k->name, l->nparams,
                        k->nparams);
    for (int j = 0; j < l->nparams; j++)
        if ((j >= k->nparams && l->p[j]) || l->p[j] > DIM_MAX)
            return tc_wfail(ctx, path, "layer %d (%s): parameter %d is %lld (%s)", i, k->name, j, (long long)l->p[j],
                            j >= k->nparams ? "unused, must be 0" : "too large");
    l->nparams = k->nparams;
    return check_tensors(ctx, path, i, k, l);
}

static tc_status check_layer(tc_ctx *ctx, const char *path, int version, int i, tc_wlayer *l)
{
    tc_status s = tc_wlayer_check(ctx, path, version, i, l);
    if (s != TC_OK) return s;
    const tc_layer_kind *k = tc_layer_kind_of(l->type);
    if (k->decoder)
        return tc_wfail(ctx, path, "layer %d (%s): a record of decoder files (tc_decoder_load), not of sequential "
                        "models", i, k->name);
    if (k->meta) return tc_wfail(ctx, path, "layer %d (%s): a model-level record, allowed first only", i, k->name);
    char why[256];
    if (l->in.dtype != TC_DTYPE_F32 && !k->int8_in)
        return tc_wfail(ctx, path, "layer %d (%s): takes f32 samples; the layer before gives %s", i, k->name,
                        tc_dtype_name(l->in.dtype));
    l->out = l->in;
    if (k->shape && k->shape(l, why, sizeof why))
        return tc_wfail(ctx, path, "layer %d (%s): %s", i, k->name, why);
    uint64_t n = 1;
    for (int d = 0; d < l->out.ndim; d++)
        if (__builtin_mul_overflow(n, (uint64_t)l->out.d[d], &n)) n = UINT64_MAX;
    if (n > DIM_MAX)
        return tc_wfail(ctx, path, "layer %d (%s): its output sample is over the %d-element limit", i, k->name,
                        DIM_MAX);
    return TC_OK;
}

/* Record 0 as the pruning record, into f->prune. */
static tc_status check_pruning(tc_ctx *ctx, const char *path, tc_wfile *f)
{
    tc_wlayer *l = &f->layers[0];
    tc_status s = tc_wlayer_check(ctx, path, f->version, 0, l);
    if (s != TC_OK) return s;
    if (l->p[0] > 1) return tc_wfail(ctx, path, "layer 0 (pruning): structured is %lld, must be 0 or 1", (long long)l->p[0]);
    const int64_t original = l->p[1] | l->p[2] << 31;
    if (original < 1) return tc_wfail(ctx, path, "layer 0 (pruning): 0 original weights");
    f->prune = (tc_wprune){1, (int)l->p[0], original};
    return TC_OK;
}

/* The weights the pruning record counts from: at least the model's, exactly them
 * when no structured pruning changed the shapes. */
static tc_status check_original(tc_ctx *ctx, const char *path, const tc_wfile *f)
{
    int64_t w = 0;
    for (int i = 0; i < f->nlayers; i++) w = tc_sat_add(w, tc_wlayer_weights(&f->layers[i]));
    if (f->prune.structured ? f->prune.original >= w : f->prune.original == w) return TC_OK;
    return tc_wfail(ctx, path, "pruning record: %lld original weights; the model has %lld%s",
                    (long long)f->prune.original, (long long)w,
                    f->prune.structured ? ", more than before pruning" : " (unstructured pruning keeps the shapes)");
}

tc_status tc_wfile_check(tc_ctx *ctx, const char *path, tc_wfile *f)
{
    const int pr = f->nlayers > 0 && f->layers[0].type == TC_LAYER_PRUNING;
    tc_status s = pr ? check_pruning(ctx, path, f) : TC_OK;
    tc_shape cur = f->in;
    for (int i = pr; s == TC_OK && i < f->nlayers; i++) {
        f->layers[i].in = cur;
        s = check_layer(ctx, path, f->version, i, &f->layers[i]);
        cur = f->layers[i].out;
    }
    if (s != TC_OK) return s;
    if (pr) {
        memmove(f->layers, f->layers + 1, (size_t)(f->nlayers - 1) * sizeof f->layers[0]);
        if (--f->nlayers == 0) return tc_wfail(ctx, path, "a pruning record and no layers");
    }
    if (f->prune.present && (s = check_original(ctx, path, f)) != TC_OK) return s;
    if (cur.ndim != 1 || cur.dtype != TC_DTYPE_F32)
        return tc_wfail(ctx, path, "the last layer gives %d-D %s samples; a model ends with [classes] in f32", cur.ndim,
                        tc_dtype_name(cur.dtype));
    if (!tc_layer_kind_of(f->layers[f->nlayers - 1].type)->run)
        return tc_wfail(ctx, path, "the last layer is a %s (a view); a model ends with a layer that computes",
                        tc_layer_name((tc_layer_type)f->layers[f->nlayers - 1].type));
    return TC_OK;
}
