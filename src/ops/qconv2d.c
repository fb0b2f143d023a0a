/* Quantized conv2d plans: the input moved to NHWC bytes (quantized on the way when
 * f32), im2col into patch rows (one per output pixel, taps [r][s][c]), the integer
 * GEMM against the s8 weights reordered once to [K, R, S, C] (per-channel scales
 * along its N), and the [N, P*Q, K] result moved to y [N, K, P, Q]. The reference
 * variant does the same steps on the host from the NCHW input. */
#include <stdlib.h>
#include <string.h>

#include "ops/conv2d.h"
#include "ops/layer.h"
#include "ops/qlayer.h"

struct tc_qconv2d_plan {
    tc_qcore c;
    tc_conv_dims d;         /* d.n: the batch of the run under way */
    tc_tensor *xh, *cols, *acc; /* scratch: NHWC input, patch rows [N*P*Q, R*S*C], the GEMM's output [N*P*Q, K] */
};

tc_qconv2d_params tc_qconv2d_defaults(void)
{
    return (tc_qconv2d_params){1, 1, 0, 0, 1, 1, TC_DTYPE_U8, 1.0f, 0, 0, TC_VARIANT_AUTO};
}

static tc_qin qin_of(const tc_qconv2d_params *p)
{
    return (tc_qin){p->in_dtype, p->in_scale, p->in_zero_point, p->relu, p->variant};
}

/* The geometry of w on x_chw with p's strides, padding and dilation (w already checked). */
static tc_status geometry_of(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], const tc_qconv2d_params *p,
                             tc_conv_dims *d)
{
    if (!x_chw) return tc_fail(ctx, TC_ERR_INVALID_ARG, "qconv2d: x_chw is NULL");
    if (p->stride_h < 1 || p->stride_w < 1 || p->dil_h < 1 || p->dil_w < 1)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "qconv2d: stride %dx%d and dilation %dx%d must be >= 1", p->stride_h,
                       p->stride_w, p->dil_h, p->dil_w);
    if (p->pad_h < 0 || p->pad_w < 0)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "qconv2d: pad %dx%d must be >= 0", p->pad_h, p->pad_w);
    int64_t chw;
    if (x_chw[0] < 1 || x_chw[1] < 1 || x_chw[2] < 1)
        return tc_fail(ctx, TC_ERR_SHAPE, "qconv2d: x's C x H x W = %lldx%lldx%lld must be >= 1 each",
                       (long long)x_chw[0], (long long)x_chw[1], (long long)x_chw[2]);
    if (__builtin_mul_overflow(x_chw[0], x_chw[1], &chw) || __builtin_mul_overflow(chw, x_chw[2], &chw))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "qconv2d: x's C x H x W overflows");
    if (w->dims[1] != x_chw[0])
        return tc_fail(ctx, TC_ERR_SHAPE, "qconv2d: w has %lld input channels, x has C = %lld", (long long)w->dims[1],
                       (long long)x_chw[0]);
    *d = (tc_conv_dims){0, x_chw[0], x_chw[1], x_chw[2], w->dims[0], w->dims[2], w->dims[3], 0, 0,
                        p->stride_h, p->stride_w, p->pad_h, p->pad_w, p->dil_h, p->dil_w, 1};
    tc_status st = tc_conv2d_out_size(d->h, d->r, p->stride_h, p->pad_h, p->dil_h, &d->p);
    if (st == TC_OK) st = tc_conv2d_out_size(d->w, d->s, p->stride_w, p->pad_w, p->dil_w, &d->q);
    if (st != TC_OK) return tc_fail(ctx, st, "qconv2d: %s", tc_last_error(NULL));
    /* kernels index planes and padded extents with ints */
    const int64_t lim = (int64_t)1 << 30;
    if (!ctx->is_ref && (chw >= lim || d->h + 2 * d->pad_h >= lim || d->w + 2 * d->pad_w >= lim ||
                         d->dil_h * (d->r - 1) >= lim || d->dil_w * (d->s - 1) >= lim || d->p * d->q >= lim))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "qconv2d: extents beyond 2^30 elements are not supported on OpenCL");
    return TC_OK;
}

tc_status tc_qconv2d_plan_validate(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], const tc_tensor *bias,
                                   const tc_qconv2d_params *p)
{
    const tc_qconv2d_params def = tc_qconv2d_defaults();
    if (!p) p = &def;
    const tc_qin in = qin_of(p);
    tc_variant v;
    tc_conv_dims d;
    tc_status st = tc_qcore_validate(ctx, "qconv2d", w, 4, bias, &in, &v);
    return st == TC_OK ? geometry_of(ctx, w, x_chw, p, &d) : st;
}

/* w [K, C, R, S] (f32 or s8 with its quantization) reordered to [K, R, S, C], the
 * order of the patch rows' taps. */
static tc_status rsc_weights(tc_ctx *ctx, const tc_tensor *w, tc_tensor **out)
{
    const int64_t k = w->dims[0], c = w->dims[1], r = w->dims[2], s = w->dims[3], rs = r * s;
    const size_t e = tc_dtype_size(w->dtype);
    char *src = malloc(w->bytes), *dst = malloc(w->bytes);
    tc_status st = src && dst ? tc_tensor_read(w, src, w->bytes) : tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int64_t i = 0; st == TC_OK && i < k * c * rs; i++) { /* i = ((k' * C + c') * R*S + t) */
        const int64_t kk = i / (c * rs), cc = i / rs % c, t = i % rs;
        memcpy(dst + (size_t)((kk * rs + t) * c + cc) * e, src + (size_t)i * e, e);
    }
    tc_quant q;
    tc_tensor_quant(w, &q);
    if (st == TC_OK) st = tc_tensor_from_host(ctx, w->dtype, 4, (const int64_t[]){k, r, s, c}, dst, out);
    if (st == TC_OK && q.count) st = tc_tensor_set_quant(*out, &q);
    free(src), free(dst);
    return st;
}

tc_status tc_qconv2d_plan_create(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], const tc_tensor *bias,
                                 const tc_qconv2d_params *p, tc_qconv2d_plan **out)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "qconv2d plan: ctx is NULL");
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "qconv2d plan: out is NULL");
    *out = NULL;
    const tc_qconv2d_params def = tc_qconv2d_defaults();
    if (!p) p = &def;
    tc_conv_dims d;
    tc_status st = tc_qconv2d_plan_validate(ctx, w, x_chw, bias, p);
    if (st == TC_OK) st = geometry_of(ctx, w, x_chw, p, &d);
    if (st != TC_OK) return st;
    tc_qconv2d_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "qconv2d plan: out of host memory");
    plan->d = d;
    const tc_qin in = qin_of(p);
    tc_tensor *wp = NULL;
    st = rsc_weights(ctx, w, &wp);
    if (st == TC_OK) st = tc_qcore_init(&plan->c, ctx, "qconv2d", wp, 4, bias, &in);
    tc_tensor_free(wp);
    if (st != TC_OK) {
        tc_qconv2d_plan_free(plan);
        return st;
    }
    *out = plan;
    return TC_OK;
}

typedef struct {
    const tc_conv_dims *d;
    uint8_t zp;
    size_t esize;
} host_args;

static int host_im2row(void *const *in, void *out, const void *args)
{
    const host_args *a = args;
    tc_ref_im2row(in[0], out, a->d, a->zp);
    return 0;
}

static int host_to_nchw(void *const *in, void *out, const void *args)
{
    const host_args *a = args;
    tc_ref_to_nchw(in[0], out, a->esize, a->d->n, a->d->p * a->d->q, a->d->k);
    return 0;
}

static size_t round64(int64_t x) { return ((size_t)x + 63) / 64 * 64; }

/* x -> patch rows: on the host from the (quantized) NCHW input for REF; else x to
 * NHWC bytes (quantized on the way when f32), then the rows from those. */
static tc_status im2row(tc_qconv2d_plan *plan, const tc_tensor *x)
{
    tc_qcore *c = &plan->c;
    tc_ctx *ctx = c->ctx;
    const tc_conv_dims *d = &plan->d;
    const host_args a = {d, (uint8_t)c->in.zero_point, 1};
    const tc_tensor *xq;
    tc_status st;
    if (c->v == TC_VARIANT_REF) {
        st = tc_qcore_input(c, x, &xq);
        return st == TC_OK ? tc_host_run(ctx, 1, &xq, plan->cols, host_im2row, &a) : st;
    }
    char opts[128] = "-DT=uchar", qopts[96];
    if (x->dtype == TC_DTYPE_F32)
        snprintf(opts, sizeof opts, "-DT=uchar %s", tc_quant_options(ctx, c->in.dtype, qopts, sizeof qopts));
    cl_kernel kh, kr;
    st = tc_get_kernel(ctx, "qconv2d", opts, "to_nhwc", &kh);
    if (st == TC_OK) st = tc_get_kernel(ctx, "qconv2d", "-DT=uchar", "im2row", &kr);
    cl_int16 geo = tc_conv_geometry(d);
    cl_mem mx = tc_buf(x), mh = tc_buf(plan->xh), mc = tc_buf(plan->cols);
    cl_ulong xo = tc_off(x);
    cl_int hw = (cl_int)(d->h * d->w), cc = (cl_int)d->c, zp = c->in.zero_point;
    cl_float inv = 1.0f / c->in.scale; /* as tc_quantize: the reciprocal rounded to float */
    cl_uchar zb = a.zp;
    if (st == TC_OK)
        st = tc_set_args(ctx, kh, 7, TC_ARG(mx), TC_ARG(xo), TC_ARG(mh), TC_ARG(hw), TC_ARG(cc), TC_ARG(inv), TC_ARG(zp));
    const size_t gh[3] = {round64((hw + 15) / 16), (size_t)(d->c + 15) / 16, (size_t)d->n};
    if (st == TC_OK) st = tc_launch(ctx, kh, "to_nhwc", 3, gh, NULL);
    if (st == TC_OK) st = tc_set_args(ctx, kr, 4, TC_ARG(geo), TC_ARG(mh), TC_ARG(mc), TC_ARG(zb));
    const size_t gr[2] = {round64(d->p * d->q), (size_t)d->n};
    return st == TC_OK ? tc_launch(ctx, kr, "im2row", 2, gr, NULL) : st;
}

static tc_status to_nchw(tc_qconv2d_plan *plan, tc_tensor *y)
{
    tc_ctx *ctx = plan->c.ctx;
    const tc_conv_dims *d = &plan->d;
    const host_args a = {d, 0, tc_dtype_size(y->dtype)};
    const tc_tensor *acc = plan->acc;
    if (plan->c.v == TC_VARIANT_REF) return tc_host_run(ctx, 1, &acc, y, host_to_nchw, &a);
    cl_kernel k;
    tc_status st = tc_get_kernel(ctx, "qconv2d", a.esize == 1 ? "-DT=uchar" : "-DT=uint", "to_nchw", &k);
    cl_mem ma = tc_buf(acc), my = tc_buf(y);
    cl_ulong yo = tc_off(y);
    cl_int pq = (cl_int)(d->p * d->q), kk = (cl_int)d->k;
    if (st == TC_OK) st = tc_set_args(ctx, k, 5, TC_ARG(ma), TC_ARG(my), TC_ARG(yo), TC_ARG(pq), TC_ARG(kk));
    const size_t gws[3] = {round64((pq + 15) / 16), (size_t)(d->k + 15) / 16, (size_t)d->n};
    return st == TC_OK ? tc_launch(ctx, k, "to_nchw", 3, gws, NULL) : st;
}

/* The scratch of a batch of n: patch rows with the input's parameters, the GEMM's
 * output in y's dtype with y's. */
static tc_status scratch(tc_qconv2d_plan *plan, int64_t n, const tc_tensor *y)
{
    tc_qcore *c = &plan->c;
    const tc_conv_dims *d = &plan->d;
    int64_t rows, ncols, nacc;
    const int64_t lim = c->ctx->is_ref ? INT64_MAX : (int64_t)1 << 30;
    if (__builtin_mul_overflow(n, d->p * d->q, &rows) || __builtin_mul_overflow(rows, c->k, &ncols) ||
        __builtin_mul_overflow(rows, c->nout, &nacc) || ncols >= lim || nacc >= lim)
        return tc_fail(c->ctx, TC_ERR_OVERFLOW, "qconv2d: the patch rows of %lld images are beyond %s elements",
                       (long long)n, c->ctx->is_ref ? "2^63" : "2^30 on OpenCL");
    const tc_quant qin = {-1, 1, &c->in.scale, &c->in.zero_point};
    tc_quant qy;
    tc_tensor_quant(y, &qy);
    tc_status st = tc_qcore_scratch(c->ctx, &plan->cols, c->in.dtype, 2, (const int64_t[]){rows, c->k});
    if (st == TC_OK && c->v != TC_VARIANT_REF)
        st = tc_qcore_scratch(c->ctx, &plan->xh, TC_DTYPE_U8, 1, (const int64_t[]){n * d->c * d->h * d->w});
    if (st == TC_OK) st = tc_tensor_set_quant(plan->cols, &qin);
    if (st == TC_OK) st = tc_qcore_scratch(c->ctx, &plan->acc, y->dtype, 2, (const int64_t[]){rows, c->nout});
    if (st == TC_OK && y->dtype != TC_DTYPE_F32) st = tc_tensor_set_quant(plan->acc, &qy);
    return st;
}

tc_status tc_qconv2d_plan_run(tc_qconv2d_plan *plan, const tc_tensor *x, tc_tensor *y)
{
    if (!plan) return tc_fail(NULL, TC_ERR_INVALID_ARG, "qconv2d plan: plan is NULL");
    tc_qcore *c = &plan->c;
    tc_conv_dims *d = &plan->d;
    tc_status st = tc_qcore_check_x(c, x, (const int64_t[]){-1, d->c, d->h, d->w});
    if (st != TC_OK) return st;
    const int64_t n = x->dims[0];
    if ((st = tc_qcore_check_y(c, y, (const int64_t[]){n, d->k, d->p, d->q}, x)) != TC_OK) return st;
    if ((st = scratch(plan, n, y)) != TC_OK) return st;
    d->n = n;
    const double pix = (double)n * (double)(d->p * d->q);
    tc_op_begin(c->ctx, "qconv2d", c->v, 2.0 * pix * (double)c->k * (double)c->nout,
                (double)x->bytes + (double)(c->k * c->nout) + (double)y->bytes);
    st = im2row(plan, x);
    if (st == TC_OK) st = tc_igemm_plan_run(c->gemm, plan->cols, plan->acc);
    if (st == TC_OK) st = to_nchw(plan, y);
    return tc_op_end(c->ctx, st);
}

tc_variant tc_qconv2d_plan_variant(const tc_qconv2d_plan *plan) { return plan ? plan->c.v : TC_VARIANT_AUTO; }

void tc_qconv2d_plan_free(tc_qconv2d_plan *plan)
{
    if (!plan) return;
    tc_qcore_release(&plan->c);
    tc_tensor_free(plan->xh);
    tc_tensor_free(plan->cols);
    tc_tensor_free(plan->acc);
    free(plan);
}
