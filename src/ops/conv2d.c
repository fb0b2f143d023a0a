/* conv2d: validate -> choose a variant -> prepare the weights -> launch (or run the
 * reference). tc_conv2d and the plans (conv2d_plan.c) share every step (ops/conv2d.h). */
#include <clblast_c.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iface.h"
#include "ops/blas.h"
#include "ops/conv2d.h"
#include "ops/gemm.h"
#include "ops/host.h"

#define CL_LIM ((int64_t)1 << 30)
#define SLOT_X 2 /* scratch: padded planes (cpu) or im2col columns */
#define SLOT_W 3 /* scratch: packed weights of a one-shot cpu call */

/* Launches on PoCL name their local size: PoCL builds a kernel once per local size
 * and, left to choose, picks one per grid shape (a build each) or one work-group for
 * the whole grid (one core). */

tc_conv2d_params tc_conv2d_defaults(void)
{
    tc_conv2d_params p = {1, 1, 0, 0, 1, 1, 1, NULL, 0, TC_VARIANT_AUTO};
    return p;
}

/* Output extent along one axis; messages go to ctx (NULL: the thread's error). */
static tc_status extent(tc_ctx *ctx, int64_t in, int64_t kernel, int stride, int pad, int dil, int64_t *out)
{
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d: out is NULL");
    if (in < 1 || kernel < 1)
        return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: input extent %lld and kernel extent %lld must be >= 1",
                       (long long)in, (long long)kernel);
    if (stride < 1 || dil < 1 || pad < 0)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d: stride %d and dilation %d must be >= 1, pad %d >= 0",
                       stride, dil, pad);
    int64_t window, span;
    if (__builtin_mul_overflow(kernel - 1, (int64_t)dil, &window) || __builtin_add_overflow(window, 1, &window) ||
        __builtin_add_overflow(in, 2 * (int64_t)pad, &span))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "conv2d: window or padded input extent overflows");
    if (window > span)
        return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: window of %lld is larger than the padded input of %lld",
                       (long long)window, (long long)span);
    *out = (span - window) / stride + 1;
    return TC_OK;
}

tc_status tc_conv2d_out_size(int64_t in, int64_t kernel, int stride, int pad, int dil, int64_t *out)
{
    return extent(NULL, in, kernel, stride, pad, dil, out);
}

/* a * b * c, or -1 when it overflows or passes INT_MAX (the kernels' int indices). */
static int64_t prod3(int64_t a, int64_t b, int64_t c)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r) || __builtin_mul_overflow(r, c, &r) || r > INT_MAX) return -1;
    return r;
}

static tc_status too_big(tc_ctx *ctx, const char *what)
{
    return tc_fail(ctx, TC_ERR_OVERFLOW, "conv2d: the %s buffer would exceed 2^31 elements", what);
}

/* Kernels add a tensor's element offset to its buffer as a 64-bit number and index
 * below numel from there: offset + numel must not overflow and must stay inside the
 * storage. */
static tc_status in_storage(tc_ctx *ctx, const tc_tensor *t, const char *name)
{
    int64_t end;
    if (t && (__builtin_add_overflow(t->offset, t->numel, &end) ||
              (uint64_t)end > t->st->bytes / tc_dtype_size(t->dtype)))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "conv2d: %s at element offset %lld with %lld elements passes its storage",
                       name, (long long)t->offset, (long long)t->numel);
    return TC_OK;
}

/* 1x1, stride 1, no padding: x[n] already is the C x (H*W) GEMM operand. */
static int pointwise(const tc_conv_dims *d)
{
    return d->r == 1 && d->s == 1 && d->stride_h == 1 && d->stride_w == 1 && d->pad_h == 0 && d->pad_w == 0;
}

/* AUTO: few channels per group (depthwise) -> the direct kernel, which streams
 * pixels; a pointwise kernel on a GPU -> a plain GEMM; otherwise the kernel shaped
 * for the device type (measured in docs/performance.md (Convolution)). */
static tc_variant choose(const tc_ctx *ctx, const tc_conv_dims *d)
{
    const int64_t kg = d->k / d->groups;
    /* OpenBLAS: im2col + a GEMM per group, except where groups leave GEMMs of few rows */
    if (ctx->is_ref) return ctx->host_blas && kg >= 4 && tc_blas_conv_fits(d) ? TC_VARIANT_OPENBLAS : TC_VARIANT_REF;
    if (ctx->info.type == TC_DEVICE_CPU || kg < 4) return TC_VARIANT_CPU;
    return pointwise(d) ? TC_VARIANT_IM2COL : TC_VARIANT_GPU;
}

/* The direct kernel's layout (conv_cpu): KB x NV = 8 x 3 float16 accumulators
 * measured best; with fewer channels per group NV = 4 (best for depthwise; 4 x 6
 * spilled). See docs/performance.md (Convolution). 0 when its scratch for n images
 * would pass what the kernel indexes with an int. */
static int cpu_layout(tc_conv *c, int64_t n)
{
    const tc_conv_dims *d = &c->d;
    const int64_t kg = d->k / d->groups, cgrs = d->c / d->groups * d->r * d->s;
    c->kb = kg >= 8 ? 8 : kg >= 2 ? 4 : 1, c->nv = c->kb == 8 ? 3 : 4; /* few block sizes: few builds */
    c->wo = (d->w + 2 * d->pad_w + d->stride_w - 1) / d->stride_w, c->qv = (d->q + 15) / 16;
    /* tail rows: the last vectors of a plane read up to 32 + (S-1)*dil floats past its rows */
    c->rows = d->h + 2 * d->pad_h + (32 + (d->s - 1) * d->dil_w + c->wo - 1) / c->wo;
    c->plane = prod3(d->stride_w, c->rows, c->wo);
    c->blocks = (kg + c->kb - 1) / c->kb;
    /* flat mode (stride_h 1) unless a row of vectors wastes fewer lanes */
    c->flat = d->stride_h == 1 && c->wo <= 16 * c->qv;
    c->nvec = c->flat ? (d->p * c->wo + 15) / 16 : d->p * c->qv;
    c->wp_elems = prod3(d->groups * c->blocks, c->kb, cgrs);
    /* the common 1x1 and 3x3 taps fixed at build time, unrolled (~15% faster at 3x3); other
     * kernels loop at run time rather than build one more program each (a 31x31 took ~15 s) */
    char taps[32] = "";
    if (d->r == d->s && (d->r == 1 || d->r == 3)) snprintf(taps, sizeof taps, " -DKR=%d -DKS=%d", (int)d->r, (int)d->s);
    snprintf(c->opts, sizeof c->opts, "-DKB=%d -DNV=%d%s", c->kb, c->nv, taps);
    return c->plane >= 0 && prod3(n, d->c, c->plane) >= 0 && c->wp_elems >= 0;
}

/* Everything but N is known here: the weights, the parameters and x's C x H x W. */
tc_status tc_conv_setup(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], int64_t n,
                        const tc_conv2d_params *p, tc_conv *c)
{
    tc_status st;
    if ((st = tc_check_tensor(ctx, w, "conv2d: w", TC_DTYPE_F32, 4)) != TC_OK) return st;
    if (!x_chw) return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d: x_chw is NULL");
    if (p->variant < 0 || p->variant >= TC_VARIANT_COUNT)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d: invalid variant %d", (int)p->variant);
    if (p->stride_h < 1 || p->stride_w < 1 || p->dil_h < 1 || p->dil_w < 1)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d: stride %dx%d and dilation %dx%d must be >= 1", p->stride_h,
                       p->stride_w, p->dil_h, p->dil_w);
    if (p->pad_h < 0 || p->pad_w < 0)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d: pad %dx%d must be >= 0", p->pad_h, p->pad_w);
    if (p->groups < 1) return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d: groups %d must be >= 1", p->groups);
    int64_t chw;
    if (x_chw[0] < 1 || x_chw[1] < 1 || x_chw[2] < 1)
        return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: x's C x H x W = %lldx%lldx%lld must be >= 1 each",
                       (long long)x_chw[0], (long long)x_chw[1], (long long)x_chw[2]);
    if (__builtin_mul_overflow(x_chw[0], x_chw[1], &chw) || __builtin_mul_overflow(chw, x_chw[2], &chw))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "conv2d: x's C x H x W overflows");
    memset(c, 0, sizeof *c);
    c->ctx = ctx;
    c->w = w;
    c->bias = p->bias;
    c->relu = p->relu;
    c->d = (tc_conv_dims){0, x_chw[0], x_chw[1], x_chw[2], w->dims[0], w->dims[2], w->dims[3], 0, 0,
                          p->stride_h, p->stride_w, p->pad_h, p->pad_w, p->dil_h, p->dil_w, p->groups};
    tc_conv_dims *d = &c->d;
    if (d->c % d->groups || d->k % d->groups)
        return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: groups %d must divide C = %lld and K = %lld", p->groups,
                       (long long)d->c, (long long)d->k);
    if (w->dims[1] != d->c / d->groups)
        return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: w has %lld input channels, expected C / groups = %lld",
                       (long long)w->dims[1], (long long)(d->c / d->groups));
    if ((st = extent(ctx, d->h, d->r, p->stride_h, p->pad_h, p->dil_h, &d->p)) != TC_OK ||
        (st = extent(ctx, d->w, d->s, p->stride_w, p->pad_w, p->dil_w, &d->q)) != TC_OK)
        return st;
    if (p->bias) {
        if ((st = tc_check_tensor(ctx, p->bias, "conv2d: bias", TC_DTYPE_F32, 0)) != TC_OK) return st;
        if (p->bias->numel != d->k)
            return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: bias has %lld elements, expected K = %lld",
                           (long long)p->bias->numel, (long long)d->k);
    }
    if ((st = in_storage(ctx, w, "w")) != TC_OK || (st = in_storage(ctx, p->bias, "bias")) != TC_OK) return st;
    c->v = p->variant == TC_VARIANT_AUTO ? choose(ctx, d) : p->variant;
    if (ctx->is_ref || c->v == TC_VARIANT_OPENBLAS) return tc_blas_variant_ok(ctx, "conv2d", c->v, tc_blas_conv_fits(d));
    /* kernels index with 32-bit ints; padded extents and one image's output must fit too */
    const int64_t kpq = prod3(d->k, d->p, d->q);
    if (w->numel >= CL_LIM || chw >= CL_LIM || d->h + 2 * d->pad_h >= CL_LIM || d->w + 2 * d->pad_w >= CL_LIM ||
        d->dil_h * (d->r - 1) >= CL_LIM || d->dil_w * (d->s - 1) >= CL_LIM || kpq < 0 || kpq >= CL_LIM)
        return tc_fail(ctx, TC_ERR_OVERFLOW, "conv2d: extents beyond 2^30 elements are not supported on OpenCL");
    /* the direct kernel's padded scratch can pass 2^31 elements where the output is
     * small (huge pads or strides): AUTO then takes the implicit GEMM, which needs none */
    if (c->v == TC_VARIANT_CPU && !cpu_layout(c, n > 0 ? n : 1)) {
        if (p->variant == TC_VARIANT_CPU) return too_big(ctx, c->wp_elems < 0 ? "packed weight" : "padded input");
        c->v = pointwise(d) ? TC_VARIANT_IM2COL : TC_VARIANT_GPU;
    }
    switch (c->v) {
    case TC_VARIANT_REF:
    case TC_VARIANT_CPU: return TC_OK;
    case TC_VARIANT_GPU:
        snprintf(c->opts, sizeof c->opts, "-DTS=%d -DWPT=%d", ctx->params.conv.gpu_tile, ctx->params.conv.gpu_wpt);
        return TC_OK;
    case TC_VARIANT_IM2COL:
        if (!pointwise(d) && prod3(d->c * d->r * d->s, d->p * d->q, 1) < 0) return too_big(ctx, "im2col");
        c->gemm_v = tc_gemm_auto(ctx, d->k / d->groups, d->p * d->q, d->c / d->groups * d->r * d->s);
        return TC_OK;
    case TC_VARIANT_CLBLAST:
        if (d->groups != 1)
            return tc_fail(ctx, TC_ERR_UNSUPPORTED, "conv2d: CLBlast's convgemm needs groups == 1 (groups = %lld)",
                           (long long)d->groups);
        return TC_OK;
    default: return tc_fail(ctx, TC_ERR_UNSUPPORTED, "conv2d has no variant '%s'", tc_variant_name(c->v));
    }
}

tc_status tc_conv_check_io(tc_conv *c, const tc_tensor *x, const tc_tensor *y)
{
    tc_ctx *ctx = c->ctx;
    tc_conv_dims *d = &c->d;
    tc_status st;
    if ((st = tc_check_tensor(ctx, x, "conv2d: x", TC_DTYPE_F32, 4)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, y, "conv2d: y", TC_DTYPE_F32, 4)) != TC_OK) return st;
    if (x->dims[1] != d->c || x->dims[2] != d->h || x->dims[3] != d->w)
        return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: x is %lldx%lldx%lldx%lld, expected N x %lldx%lldx%lld",
                       (long long)x->dims[0], (long long)x->dims[1], (long long)x->dims[2], (long long)x->dims[3],
                       (long long)d->c, (long long)d->h, (long long)d->w);
    const int64_t n = x->dims[0];
    if (y->dims[0] != n || y->dims[1] != d->k || y->dims[2] != d->p || y->dims[3] != d->q)
        return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: y is %lldx%lldx%lldx%lld, expected %lldx%lldx%lldx%lld",
                       (long long)y->dims[0], (long long)y->dims[1], (long long)y->dims[2], (long long)y->dims[3],
                       (long long)n, (long long)d->k, (long long)d->p, (long long)d->q);
    if (tc_tensors_overlap(y, x) || tc_tensors_overlap(y, c->w) || tc_tensors_overlap(y, c->bias))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d: y must not share storage with x, w or bias");
    if ((st = in_storage(ctx, x, "x")) != TC_OK || (st = in_storage(ctx, y, "y")) != TC_OK) return st;
    if (!ctx->is_ref && (x->numel >= CL_LIM || y->numel >= CL_LIM))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "conv2d: extents beyond 2^30 elements are not supported on OpenCL");
    if (c->v == TC_VARIANT_CPU && prod3(n, d->c, c->plane) < 0) return too_big(ctx, "padded input");
    d->n = n;
    return TC_OK;
}

/* The geometry int16 of kernels/conv2d.cl, laid out by TC_CONV_GEOMETRY. */
cl_int16 tc_conv_geometry(const tc_conv_dims *d)
{
    const struct {
        int64_t C, H, W, K, CG, KG, R, S, P, Q, SH, SW, PH, PW, DH, DW;
    } v = {.C = d->c, .H = d->h, .W = d->w, .K = d->k, .CG = d->c / d->groups, .KG = d->k / d->groups,
           .R = d->r, .S = d->s, .P = d->p, .Q = d->q, .SH = d->stride_h, .SW = d->stride_w,
           .PH = d->pad_h, .PW = d->pad_w, .DH = d->dil_h, .DW = d->dil_w};
    cl_int16 g;
#define GEO_SET(name, i) g.s[0x##i] = (cl_int)v.name;
    TC_CONV_GEOMETRY(GEO_SET)
#undef GEO_SET
    return g;
}
#define GEO_COUNT(name, i) +1
_Static_assert(0 TC_CONV_GEOMETRY(GEO_COUNT) == 16, "TC_CONV_GEOMETRY fills one int16");
#undef GEO_COUNT

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

/* REF (direct loops) and OPENBLAS (im2col + sgemm) on host copies (ref: the tensors' own memory). */
static tc_status run_host(tc_conv *c, const tc_tensor *x, tc_tensor *y)
{
    const int prepared = c->hw != NULL;
    void *hx = NULL, *hw = c->hw, *hb = c->hb, *hy = NULL;
    tc_status st = tc_host_get(x, &hx);
    if (st == TC_OK && !prepared) st = tc_host_get(c->w, &hw);
    if (st == TC_OK && !prepared) st = tc_host_get(c->bias, &hb);
    if (st == TC_OK) st = tc_host_out(y, 0, &hy);
    if (st == TC_OK && c->v == TC_VARIANT_OPENBLAS && tc_blas_conv2d(hx, hw, hb, hy, &c->d, c->relu) != 0) {
        st = tc_fail(c->ctx, TC_ERR_OUT_OF_MEMORY, "conv2d: out of host memory for the im2col columns");
        tc_host_put(y, hy);
    } else if (st == TC_OK) {
        if (c->v == TC_VARIANT_REF) tc_ref_conv2d(hx, hw, hb, hy, &c->d, c->relu);
        st = tc_host_commit(y, hy);
    } else {
        tc_host_put(y, hy);
    }
    if (!prepared) {
        tc_host_put(c->bias, hb);
        tc_host_put(c->w, hw);
    }
    tc_host_put(x, hx);
    return st;
}

static int flags(const tc_conv *c) { return (c->bias ? EPI_BIAS : 0) | (c->relu ? EPI_RELU : 0); }

/* Bias and ReLU over all of y in one launch (after a GEMM or CLBlast's convgemm). */
static tc_status epilogue(tc_conv *c, const tc_tensor *y)
{
    cl_kernel k;
    tc_status st = tc_get_kernel(c->ctx, "conv2d", c->opts, "conv_epilogue", &k);
    if (st != TC_OK) return st;
    cl_int16 geo = tc_conv_geometry(&c->d);
    cl_mem my = tc_buf(y), mb = c->bias ? tc_buf(c->bias) : NULL;
    cl_ulong yo = tc_off(y), bo = c->bias ? tc_off(c->bias) : 0;
    cl_int fl = flags(c);
    st = tc_set_args(c->ctx, k, 6, TC_ARG(geo), TC_ARG(my), TC_ARG(yo), TC_ARG(mb), TC_ARG(bo), TC_ARG(fl));
    const int *pwg = &c->ctx->params.conv.pixel_wg;
    const size_t wg = st == TC_OK ? tc_fit_wg(c->ctx, k, "conv_epilogue", pwg, (size_t)*pwg, 0) : 1;
    size_t gws[3] = {round_up((size_t)(c->d.p * c->d.q), wg), (size_t)c->d.k, (size_t)c->d.n}, lws[3] = {wg, 1, 1};
    return st == TC_OK ? tc_launch(c->ctx, k, "conv_epilogue", 3, gws, lws) : st;
}

tc_status tc_conv_columns(tc_conv *c, const tc_tensor *x, int64_t n, cl_mem *col, cl_ulong *col_off)
{
    const tc_conv_dims *d = &c->d;
    const cl_ulong xo = tc_off(x) + (cl_ulong)(n * d->c * d->h * d->w);
    *col = tc_buf(x), *col_off = xo;
    if (pointwise(d)) return TC_OK;
    const int64_t pq = d->p * d->q, crs = d->c * d->r * d->s;
    cl_kernel k;
    tc_status st = tc_scratch_get(c->ctx, SLOT_X, (size_t)(crs * pq) * sizeof(float), col);
    if (st == TC_OK) st = tc_get_kernel(c->ctx, "conv2d", c->opts, "im2col", &k);
    if (st != TC_OK) return st;
    *col_off = 0;
    cl_int16 geo = tc_conv_geometry(d);
    cl_mem mx = tc_buf(x);
    const int *pwg = &c->ctx->params.conv.pixel_wg;
    const size_t wg = tc_fit_wg(c->ctx, k, "im2col", pwg, (size_t)*pwg, 0);
    size_t gws[2] = {round_up((size_t)pq, wg), (size_t)crs}, lws[2] = {wg, 1};
    st = tc_set_args(c->ctx, k, 4, TC_ARG(geo), TC_ARG(mx), TC_ARG(xo), TC_ARG(*col));
    return st == TC_OK ? tc_launch(c->ctx, k, "im2col", 2, gws, lws) : st;
}

/* Per image: the column matrix, then one GEMM per group, with bias (one per
 * output channel: per GEMM row, from the group's offset) and ReLU fused into the GEMM. */
static tc_status run_im2col(tc_conv *c, const tc_tensor *x, tc_tensor *y)
{
    const tc_conv_dims *d = &c->d;
    const int64_t cg = d->c / d->groups, kg = d->k / d->groups, pq = d->p * d->q;
    tc_status st = TC_OK;
    for (int64_t n = 0; st == TC_OK && n < d->n; n++) {
        cl_mem col;
        cl_ulong col_off;
        st = tc_conv_columns(c, x, n, &col, &col_off);
        for (int64_t g = 0; st == TC_OK && g < d->groups; g++) {
            tc_gemm_desc gd = {.m = kg, .n = pq, .k = cg * d->r * d->s, .alpha = 1.0f, .a = tc_buf(c->w), .b = col,
                               .c = tc_buf(y), .a_off = (size_t)tc_off(c->w) + (size_t)(g * kg * cg * d->r * d->s),
                               .b_off = col_off + (cl_ulong)(g * cg * d->r * d->s * pq),
                               .c_off = (size_t)tc_off(y) + (size_t)((n * d->k + g * kg) * pq),
                               .bias = c->bias ? tc_buf(c->bias) : NULL,
                               .bias_off = c->bias ? tc_off(c->bias) + (cl_ulong)(g * kg) : 0, .bias_per_row = 1,
                               .relu = c->relu};
            st = tc_gemm_cl(c->ctx, c->gemm_v, &gd);
        }
    }
    return st;
}

/* w into dst in blocks of KB output channels (conv_cpu's layout). */
static tc_status pack_weights(tc_conv *c, cl_mem dst)
{
    cl_kernel k;
    tc_status st = tc_get_kernel(c->ctx, "conv2d", c->opts, "pack_weights", &k);
    if (st != TC_OK) return st;
    cl_int16 geo = tc_conv_geometry(&c->d);
    cl_mem mw = tc_buf(c->w);
    cl_ulong wo = tc_off(c->w);
    size_t gws[2] = {(size_t)(c->blocks * c->kb), (size_t)c->d.groups}, lws[2] = {(size_t)c->kb, 1};
    st = tc_set_args(c->ctx, k, 4, TC_ARG(geo), TC_ARG(mw), TC_ARG(wo), TC_ARG(dst));
    return st == TC_OK ? tc_launch(c->ctx, k, "pack_weights", 2, gws, lws) : st;
}

/* Direct kernel for CPUs (conv_cpu): zero-padded input planes in scratch, then the
 * convolution on the packed weights (the plan's, or packed here into scratch). */
static tc_status run_cpu(tc_conv *c, const tc_tensor *x, tc_tensor *y)
{
    tc_ctx *ctx = c->ctx;
    const tc_conv_dims *d = &c->d;
    cl_mem xp, wp = c->wp ? tc_buf(c->wp) : NULL;
    cl_kernel kpad, kc;
    tc_status st = tc_scratch_get(ctx, SLOT_X, (size_t)(d->n * d->c * c->plane) * sizeof(float), &xp);
    if (st == TC_OK && !wp) st = tc_scratch_get(ctx, SLOT_W, (size_t)c->wp_elems * sizeof(float), &wp);
    if (st == TC_OK && !c->wp) st = pack_weights(c, wp);
    if (st == TC_OK) st = tc_get_kernel(ctx, "conv2d", c->opts, "pad_planes", &kpad);
    if (st == TC_OK) st = tc_get_kernel(ctx, "conv2d", c->opts, "conv_cpu", &kc);
    if (st != TC_OK) return st;
    cl_int16 geo = tc_conv_geometry(d);
    cl_int woi = (cl_int)c->wo, rowsi = (cl_int)c->rows, qvi = c->flat ? 0 : (cl_int)c->qv;
    cl_int nveci = (cl_int)c->nvec, fl = flags(c);
    cl_mem mx = tc_buf(x), my = tc_buf(y), mb = c->bias ? tc_buf(c->bias) : NULL;
    cl_ulong xo = tc_off(x), yo = tc_off(y), bo = c->bias ? tc_off(c->bias) : 0;
    /* on CPUs one work-item per work-group (conv.direct_wg; see the top of the file) */
    size_t g1[1] = {(size_t)(d->n * d->c)}, one[3] = {1, 1, 1};
    const size_t *lws = ctx->params.conv.direct_wg ? one : NULL;
    st = tc_set_args(ctx, kpad, 6, TC_ARG(geo), TC_ARG(mx), TC_ARG(xo), TC_ARG(xp), TC_ARG(woi), TC_ARG(rowsi));
    if (st == TC_OK) st = tc_launch(ctx, kpad, "pad_planes", 1, g1, lws);
    if (st == TC_OK)
        st = tc_set_args(ctx, kc, 12, TC_ARG(geo), TC_ARG(xp), TC_ARG(wp), TC_ARG(mb), TC_ARG(bo), TC_ARG(my),
                         TC_ARG(yo), TC_ARG(woi), TC_ARG(rowsi), TC_ARG(qvi), TC_ARG(nveci), TC_ARG(fl));
    size_t g3[3] = {(size_t)((c->nvec + c->nv - 1) / c->nv), (size_t)c->blocks, (size_t)(d->n * d->groups)};
    if (st == TC_OK) st = tc_launch(ctx, kc, "conv_cpu", 3, g3, lws);
    return st;
}

/* Implicit GEMM with local tiles (conv_gpu), tiles from the device parameter table. */
static tc_status run_gpu(tc_conv *c, const tc_tensor *x, tc_tensor *y)
{
    tc_ctx *ctx = c->ctx;
    const tc_conv_dims *d = &c->d;
    int tile;
    cl_kernel k;
    const tc_par_conv *pc = &ctx->params.conv;
    tc_status st = tc_tile_kernel(ctx, "conv2d", "conv_gpu", &pc->gpu_tile, &pc->gpu_wpt, &k, &tile);
    if (st != TC_OK) return st;
    cl_int16 geo = tc_conv_geometry(d);
    cl_int fl = flags(c);
    cl_mem mx = tc_buf(x), mw = tc_buf(c->w), my = tc_buf(y), mb = c->bias ? tc_buf(c->bias) : NULL;
    cl_ulong xo = tc_off(x), wo = tc_off(c->w), yo = tc_off(y), bo = c->bias ? tc_off(c->bias) : 0;
    st = tc_set_args(ctx, k, 10, TC_ARG(geo), TC_ARG(mx), TC_ARG(xo), TC_ARG(mw), TC_ARG(wo), TC_ARG(mb), TC_ARG(bo),
                     TC_ARG(my), TC_ARG(yo), TC_ARG(fl));
    if (st != TC_OK) return st;
    const size_t ts = (size_t)tile, wpt = (size_t)pc->gpu_wpt;
    size_t lws[3] = {ts / wpt, ts / wpt, 1};
    size_t gws[3] = {round_up((size_t)(d->p * d->q), ts) / wpt, round_up((size_t)(d->k / d->groups), ts) / wpt,
                     (size_t)(d->n * d->groups)};
    return tc_launch(ctx, k, "conv_gpu", 3, gws, lws);
}

/* CLBlast's convgemm (im2col fused into its GEMM; groups == 1 only), then our epilogue. */
static tc_status run_clblast(tc_conv *c, const tc_tensor *x, tc_tensor *y)
{
    tc_ctx *ctx = c->ctx;
    const tc_conv_dims *d = &c->d;
    tc_clblast_use(ctx);
    cl_event ev = NULL;
    const int held = tc_pocl_run_begin(ctx);
    tc_clblast_lock();
    CLBlastStatusCode r = CLBlastSconvgemm(
        CLBlastKernelModeCrossCorrelation, (size_t)d->c, (size_t)d->h, (size_t)d->w, (size_t)d->r, (size_t)d->s,
        (size_t)d->pad_h, (size_t)d->pad_w, (size_t)d->stride_h, (size_t)d->stride_w, (size_t)d->dil_h,
        (size_t)d->dil_w, (size_t)d->k, (size_t)d->n, tc_buf(x), (size_t)tc_off(x), tc_buf(c->w),
        (size_t)tc_off(c->w), tc_buf(y), (size_t)tc_off(y), &ctx->queue, &ev);
    tc_clblast_unlock();
    tc_pocl_run_end(ctx, held);
    if (r != CLBlastSuccess)
        return tc_fail(ctx, TC_ERR_OPENCL, "conv2d: CLBlastSconvgemm failed with status %d", (int)r);
    tc_status st = tc_record_event(ctx, ev, "CLBlastSconvgemm");
    if (st != TC_OK) return st;
    return c->bias || c->relu ? epilogue(c, y) : TC_OK;
}

tc_status tc_conv_prepare(tc_conv *c)
{
    static const char *const names[][3] = {[TC_VARIANT_CPU] = {"pad_planes", "pack_weights", "conv_cpu"},
                                           [TC_VARIANT_GPU] = {"conv_gpu"},
                                           [TC_VARIANT_IM2COL] = {"im2col", "conv_epilogue"},
                                           [TC_VARIANT_CLBLAST] = {"conv_epilogue"}};
    tc_status st = TC_OK;
    if (c->v == TC_VARIANT_REF || c->v == TC_VARIANT_OPENBLAS) {
        st = tc_host_get(c->w, &c->hw);
        if (st == TC_OK) st = tc_host_get(c->bias, &c->hb);
        return st;
    }
    /* build the programs now, so that runs only enqueue */
    for (int i = 0; i < 3 && names[c->v][i] && st == TC_OK; i++) {
        cl_kernel k;
        st = tc_get_kernel(c->ctx, "conv2d", c->opts, names[c->v][i], &k);
    }
    if (st != TC_OK || c->v != TC_VARIANT_CPU) return st;
    tc_tensor *wp;
    st = tc_tensor_create(c->ctx, TC_DTYPE_F32, 1, (const int64_t[]){c->wp_elems}, &wp);
    if (st == TC_OK) st = pack_weights(c, tc_buf(wp));
    if (st != TC_OK) {
        tc_tensor_free(wp);
        return st;
    }
    c->wp = wp;
    return TC_OK;
}

void tc_conv_release(tc_conv *c)
{
    tc_tensor_free(c->wp);
    tc_host_put(c->bias, c->hb);
    tc_host_put(c->w, c->hw);
    c->wp = NULL, c->hw = c->hb = NULL;
}

tc_status tc_conv_run(tc_conv *c, const tc_tensor *x, tc_tensor *y)
{
    tc_status st = tc_conv_check_io(c, x, y);
    if (st != TC_OK) return st;
    const tc_conv_dims *d = &c->d;
    const double macs = (double)d->n * (double)d->k * (double)(d->p * d->q) * (double)(d->c / d->groups * d->r * d->s);
    const double bytes = 4.0 * ((double)x->numel + (double)c->w->numel + (double)y->numel + (c->bias ? (double)d->k : 0));
    tc_op_begin(c->ctx, "conv2d", c->v, 2.0 * macs, bytes);
    switch (c->v) {
    case TC_VARIANT_REF:
    case TC_VARIANT_OPENBLAS: st = run_host(c, x, y); break;
    case TC_VARIANT_CPU: st = run_cpu(c, x, y); break;
    case TC_VARIANT_GPU: st = run_gpu(c, x, y); break;
    case TC_VARIANT_IM2COL: st = run_im2col(c, x, y); break;
    default: st = run_clblast(c, x, y); break;
    }
    return tc_op_end(c->ctx, st);
}

tc_status tc_conv2d(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *w, tc_tensor *y, const tc_conv2d_params *p)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "conv2d: ctx is NULL");
    tc_conv2d_params def = tc_conv2d_defaults();
    tc_status st = tc_check_tensor(ctx, x, "conv2d: x", TC_DTYPE_F32, 4);
    if (st != TC_OK) return st;
    tc_conv c;
    st = tc_conv_setup(ctx, w, x->dims + 1, x->dims[0], p ? p : &def, &c);
    return st == TC_OK ? tc_conv_run(&c, x, y) : st;
}
