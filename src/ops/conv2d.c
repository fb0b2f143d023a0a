/* conv2d: validate -> choose a variant -> launch (or run the reference). */
#include <clblast_c.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "ops/gemm.h"
#include "ops/host.h"
#include "ref/ref.h"

#define EPI_BIAS 1
#define EPI_RELU 2
#define EPI_BIAS_ROW 8 /* matmul's bias_relu: one bias per row (output channel) */
#define CL_LIM ((int64_t)1 << 30)

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

static tc_status validate(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *w, const tc_tensor *y,
                          const tc_conv2d_params *p, tc_conv_dims *d)
{
    tc_status st;
    if ((st = tc_check_tensor(ctx, x, "conv2d: x", TC_DTYPE_F32, 4)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, w, "conv2d: w", TC_DTYPE_F32, 4)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, y, "conv2d: y", TC_DTYPE_F32, 4)) != TC_OK) return st;
    if (p->variant < 0 || p->variant >= TC_VARIANT_COUNT)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d: invalid variant %d", (int)p->variant);
    if (p->stride_h < 1 || p->stride_w < 1 || p->dil_h < 1 || p->dil_w < 1)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d: stride %dx%d and dilation %dx%d must be >= 1", p->stride_h,
                       p->stride_w, p->dil_h, p->dil_w);
    if (p->pad_h < 0 || p->pad_w < 0)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d: pad %dx%d must be >= 0", p->pad_h, p->pad_w);
    if (p->groups < 1) return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d: groups %d must be >= 1", p->groups);
    *d = (tc_conv_dims){x->dims[0], x->dims[1], x->dims[2], x->dims[3], w->dims[0], w->dims[2], w->dims[3], 0, 0,
                        p->stride_h, p->stride_w, p->pad_h, p->pad_w, p->dil_h, p->dil_w, p->groups};
    if (d->c % d->groups || d->k % d->groups)
        return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: groups %d must divide C = %lld and K = %lld", p->groups,
                       (long long)d->c, (long long)d->k);
    if (w->dims[1] != d->c / d->groups)
        return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: w has %lld input channels, expected C / groups = %lld",
                       (long long)w->dims[1], (long long)(d->c / d->groups));
    if ((st = extent(ctx, d->h, d->r, p->stride_h, p->pad_h, p->dil_h, &d->p)) != TC_OK ||
        (st = extent(ctx, d->w, d->s, p->stride_w, p->pad_w, p->dil_w, &d->q)) != TC_OK)
        return st;
    if (y->dims[0] != d->n || y->dims[1] != d->k || y->dims[2] != d->p || y->dims[3] != d->q)
        return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: y is %lldx%lldx%lldx%lld, expected %lldx%lldx%lldx%lld",
                       (long long)y->dims[0], (long long)y->dims[1], (long long)y->dims[2], (long long)y->dims[3],
                       (long long)d->n, (long long)d->k, (long long)d->p, (long long)d->q);
    if (p->bias) {
        if ((st = tc_check_tensor(ctx, p->bias, "conv2d: bias", TC_DTYPE_F32, 0)) != TC_OK) return st;
        if (p->bias->numel != d->k)
            return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: bias has %lld elements, expected K = %lld",
                           (long long)p->bias->numel, (long long)d->k);
    }
    if (y->st == x->st || y->st == w->st || (p->bias && y->st == p->bias->st))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d: y must not share storage with x, w or bias");
    /* kernels index with 32-bit ints; padded extents and windows must fit too */
    if (!ctx->is_ref && (x->numel >= CL_LIM || w->numel >= CL_LIM || y->numel >= CL_LIM ||
                         tc_sat_add(d->h, 2 * (int64_t)d->pad_h) >= CL_LIM ||
                         tc_sat_add(d->w, 2 * (int64_t)d->pad_w) >= CL_LIM ||
                         tc_sat_mul(d->dil_h, d->r - 1) >= CL_LIM || tc_sat_mul(d->dil_w, d->s - 1) >= CL_LIM))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "conv2d: extents beyond 2^30 elements are not supported on OpenCL");
    return TC_OK;
}

/* The geometry int16 of kernels/conv2d.cl. */
static cl_int16 geometry(const tc_conv_dims *d)
{
    const int64_t v[16] = {d->c,     d->h,     d->w,     d->k,    d->c / d->groups, d->k / d->groups,
                           d->r,     d->s,     d->p,     d->q,    d->stride_h,      d->stride_w,
                           d->pad_h, d->pad_w, d->dil_h, d->dil_w};
    cl_int16 g;
    for (int i = 0; i < 16; i++) g.s[i] = (cl_int)v[i];
    return g;
}

/* 1x1, stride 1, no padding: x[n] already is the C x (H*W) GEMM operand. */
static int pointwise(const tc_conv_dims *d)
{
    return d->r == 1 && d->s == 1 && d->stride_h == 1 && d->stride_w == 1 && d->pad_h == 0 && d->pad_w == 0;
}

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

static tc_status too_big(tc_ctx *ctx, const char *what)
{
    return tc_fail(ctx, TC_ERR_OVERFLOW, "conv2d: the %s buffer would exceed 2^31 elements", what);
}

static tc_status run_ref(const tc_tensor *x, const tc_tensor *w, tc_tensor *y, const tc_conv2d_params *p,
                         const tc_conv_dims *d)
{
    void *hx = NULL, *hw = NULL, *hb = NULL, *hy = NULL;
    tc_status st = tc_host_get(x, &hx);
    if (st == TC_OK) st = tc_host_get(w, &hw);
    if (st == TC_OK) st = tc_host_get(p->bias, &hb);
    if (st == TC_OK) st = tc_host_out(y, 0, &hy);
    if (st == TC_OK) {
        tc_ref_conv2d(hx, hw, hb, hy, d, p->relu);
        st = tc_host_commit(y, hy);
    } else {
        tc_host_put(y, hy);
    }
    tc_host_put(p->bias, hb);
    tc_host_put(w, hw);
    tc_host_put(x, hx);
    return st;
}

/* bias and ReLU over y, one launch per image (matmul's bias_relu, bias per row). */
static tc_status epilogue(tc_ctx *ctx, cl_mem y, cl_mem bias, const tc_conv_dims *d, int relu)
{
    cl_kernel k;
    tc_status st = tc_get_kernel(ctx, "matmul", "", "bias_relu", &k);
    cl_int m = (cl_int)d->k, pq = (cl_int)(d->p * d->q);
    cl_int fl = (bias ? EPI_BIAS | EPI_BIAS_ROW : 0) | (relu ? EPI_RELU : 0);
    size_t gws[2] = {round_up((size_t)pq, 64), (size_t)m}, lws[2] = {64, 1};
    for (int64_t n = 0; st == TC_OK && n < d->n; n++) {
        cl_int off = (cl_int)(n * m * pq);
        st = tc_set_args(ctx, k, 6, TC_ARG(m), TC_ARG(pq), TC_ARG(y), TC_ARG(off), TC_ARG(bias), TC_ARG(fl));
        if (st == TC_OK) st = tc_launch(ctx, k, "bias_relu", 2, gws, lws);
    }
    return st;
}

/* Per image: im2col into scratch slot 2 (not for pointwise kernels), then one GEMM per group. */
static tc_status run_im2col(tc_ctx *ctx, cl_mem x, cl_mem w, cl_mem y, cl_mem bias, const tc_conv_dims *d, int relu)
{
    const int64_t cg = d->c / d->groups, kg = d->k / d->groups, pq = d->p * d->q, crs = d->c * d->r * d->s;
    const int direct = pointwise(d);
    if (!direct && tc_sat_mul(crs, pq) > TC_CL_INT_MAX) return too_big(ctx, "im2col");
    cl_mem col = x;
    cl_kernel k = NULL;
    tc_status st = TC_OK;
    if (!direct) {
        st = tc_scratch_get(ctx, 2, (size_t)(crs * pq) * sizeof(float), &col);
        if (st == TC_OK) st = tc_get_kernel(ctx, "conv2d", "", "im2col", &k);
        if (st != TC_OK) return st;
    }
    /* with groups, bias must come after all GEMMs: tc_gemm_cl has no bias offset */
    const int fused = d->groups == 1 || !bias;
    cl_int16 geo = geometry(d);
    size_t gws[2] = {round_up((size_t)pq, 64), (size_t)crs}, lws[2] = {64, 1};
    for (int64_t n = 0; st == TC_OK && n < d->n; n++) {
        cl_int xo = (cl_int)(n * d->c * d->h * d->w);
        if (!direct) {
            st = tc_set_args(ctx, k, 4, TC_ARG(geo), TC_ARG(x), TC_ARG(xo), TC_ARG(col));
            if (st == TC_OK) st = tc_launch(ctx, k, "im2col", 2, gws, lws);
        }
        for (int64_t g = 0; st == TC_OK && g < d->groups; g++) {
            size_t boff = direct ? (size_t)(xo + g * cg * pq) : (size_t)(g * cg * d->r * d->s * pq);
            tc_gemm_desc gd = {kg, pq, cg * d->r * d->s, 0, 0, 1.0f, 0.0f, w, col, y, fused ? bias : NULL,
                               (size_t)(g * kg * cg * d->r * d->s), boff, (size_t)((n * d->k + g * kg) * pq), 1,
                               fused && relu};
            st = tc_gemm_cl(ctx, TC_VARIANT_AUTO, &gd);
        }
    }
    if (st == TC_OK && !fused) st = epilogue(ctx, y, bias, d, relu);
    return st;
}

/* Scratch layout of the direct CPU kernel: zero-padded input planes and weights in
 * blocks of KB output channels. KB x NV = 8 x 3 float16 accumulators measured
 * best; with fewer channels per group NV = 4 (best for depthwise; 4 x 6 spilled).
 * See docs/performance.md (Convolution). */
typedef struct {
    int kb, nv, flat;
    int64_t wo, qv, rows, plane, blocks, nvec, xp, wp; /* xp, wp: scratch elements */
} cpu_layout;

/* 0 when a scratch buffer would pass what the kernel indexes with an int. */
static int cpu_plan(const tc_conv_dims *d, cpu_layout *l)
{
    const int64_t kg = d->k / d->groups, cgrs = d->c / d->groups * d->r * d->s;
    l->kb = kg >= 8 ? 8 : kg >= 2 ? 4 : 1, l->nv = l->kb == 8 ? 3 : 4; /* few block sizes: few builds */
    l->wo = (d->w + 2 * d->pad_w + d->stride_w - 1) / d->stride_w, l->qv = (d->q + 15) / 16;
    /* tail rows: the last vectors of a plane read up to 32 + (S-1)*dil floats past its rows */
    l->rows = tc_sat_add(d->h + 2 * d->pad_h, (32 + tc_sat_mul(d->s - 1, d->dil_w) + l->wo - 1) / l->wo);
    l->plane = tc_sat_mul3(d->stride_w, l->rows, l->wo), l->blocks = (kg + l->kb - 1) / l->kb;
    /* flat mode (stride_h 1) unless a row of vectors wastes fewer lanes */
    l->flat = d->stride_h == 1 && l->wo <= 16 * l->qv;
    l->nvec = l->flat ? (d->p * l->wo + 15) / 16 : d->p * l->qv;
    l->xp = tc_sat_mul3(d->n, d->c, l->plane);
    l->wp = tc_sat_mul(tc_sat_mul3(d->groups, l->blocks, l->kb), cgrs);
    return l->xp <= TC_CL_INT_MAX && l->wp <= TC_CL_INT_MAX;
}

/* Direct kernel for CPUs (conv_cpu) on the scratch of cpu_plan: padded planes in
 * slot 2, packed weights in slot 3. */
static tc_status run_cpu(tc_ctx *ctx, cl_mem x, cl_mem w, cl_mem y, cl_mem bias, const tc_conv_dims *d, int relu)
{
    cpu_layout l;
    if (!cpu_plan(d, &l)) return too_big(ctx, l.xp > TC_CL_INT_MAX ? "padded input" : "packed weight");
    /* the common 1x1 and 3x3 taps fixed at build time, unrolled (~15% faster at 3x3); other
     * kernels loop at run time rather than build one more program each (a 31x31 took ~15 s) */
    char opts[64], taps[32] = "";
    if (d->r == d->s && (d->r == 1 || d->r == 3)) snprintf(taps, sizeof taps, " -DKR=%d -DKS=%d", (int)d->r, (int)d->s);
    snprintf(opts, sizeof opts, "-DKB=%d -DNV=%d%s", l.kb, l.nv, taps);
    cl_mem xp, wp;
    cl_kernel kpad, kpack, kc;
    tc_status st = tc_scratch_get(ctx, 2, (size_t)l.xp * sizeof(float), &xp);
    if (st == TC_OK) st = tc_scratch_get(ctx, 3, (size_t)l.wp * sizeof(float), &wp);
    if (st == TC_OK) st = tc_get_kernel(ctx, "conv2d", opts, "pad_planes", &kpad);
    if (st == TC_OK) st = tc_get_kernel(ctx, "conv2d", opts, "pack_weights", &kpack);
    if (st == TC_OK) st = tc_get_kernel(ctx, "conv2d", opts, "conv_cpu", &kc);
    if (st != TC_OK) return st;
    cl_int16 geo = geometry(d);
    cl_int woi = (cl_int)l.wo, rowsi = (cl_int)l.rows, qvi = l.flat ? 0 : (cl_int)l.qv, nveci = (cl_int)l.nvec;
    cl_int fl = (bias ? EPI_BIAS : 0) | (relu ? EPI_RELU : 0);
    /* on CPUs one work-item per work-group (see the top of the file) */
    size_t g1[1] = {(size_t)(d->n * d->c)}, one[3] = {1, 1, 1};
    const size_t *lws = ctx->info.type == TC_DEVICE_CPU ? one : NULL;
    st = tc_set_args(ctx, kpad, 5, TC_ARG(geo), TC_ARG(x), TC_ARG(xp), TC_ARG(woi), TC_ARG(rowsi));
    if (st == TC_OK) st = tc_launch(ctx, kpad, "pad_planes", 1, g1, lws);
    size_t g2[2] = {(size_t)(l.blocks * l.kb), (size_t)d->groups}, l2[2] = {(size_t)l.kb, 1};
    if (st == TC_OK) st = tc_set_args(ctx, kpack, 3, TC_ARG(geo), TC_ARG(w), TC_ARG(wp));
    if (st == TC_OK) st = tc_launch(ctx, kpack, "pack_weights", 2, g2, l2);
    if (st == TC_OK)
        st = tc_set_args(ctx, kc, 10, TC_ARG(geo), TC_ARG(xp), TC_ARG(wp), TC_ARG(bias), TC_ARG(y), TC_ARG(woi),
                         TC_ARG(rowsi), TC_ARG(qvi), TC_ARG(nveci), TC_ARG(fl));
    size_t g3[3] = {(size_t)((l.nvec + l.nv - 1) / l.nv), (size_t)l.blocks, (size_t)(d->n * d->groups)};
    if (st == TC_OK) st = tc_launch(ctx, kc, "conv_cpu", 3, g3, lws);
    return st;
}

/* Implicit GEMM with local tiles (conv_gpu), tiles from the device parameter table. */
static tc_status run_gpu(tc_ctx *ctx, cl_mem x, cl_mem w, cl_mem y, cl_mem bias, const tc_conv_dims *d, int relu)
{
    char opts[64];
    const int ts = ctx->params->gemm_gpu_tile, wpt = ctx->params->gemm_gpu_wpt;
    snprintf(opts, sizeof opts, "-DTS=%d -DWPT=%d", ts, wpt);
    cl_kernel k;
    tc_status st = tc_get_kernel(ctx, "conv2d", opts, "conv_gpu", &k);
    if (st != TC_OK) return st;
    cl_int16 geo = geometry(d);
    cl_int fl = (bias ? EPI_BIAS : 0) | (relu ? EPI_RELU : 0);
    st = tc_set_args(ctx, k, 6, TC_ARG(geo), TC_ARG(x), TC_ARG(w), TC_ARG(bias), TC_ARG(y), TC_ARG(fl));
    if (st != TC_OK) return st;
    size_t lws[3] = {(size_t)(ts / wpt), (size_t)(ts / wpt), 1};
    size_t gws[3] = {round_up((size_t)(d->p * d->q), (size_t)ts) / (size_t)wpt,
                     round_up((size_t)(d->k / d->groups), (size_t)ts) / (size_t)wpt, (size_t)(d->n * d->groups)};
    return tc_launch(ctx, k, "conv_gpu", 3, gws, lws);
}

/* CLBlast's convgemm (im2col fused into its GEMM; groups == 1 only), then our epilogue. */
static tc_status run_clblast(tc_ctx *ctx, cl_mem x, cl_mem w, cl_mem y, cl_mem bias, const tc_conv_dims *d, int relu)
{
    if (d->groups != 1)
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "conv2d: CLBlast's convgemm needs groups == 1 (groups = %lld)",
                       (long long)d->groups);
    ctx->used_clblast = 1;
    cl_event ev = NULL;
    tc_clblast_lock();
    CLBlastStatusCode r = CLBlastSconvgemm(
        CLBlastKernelModeCrossCorrelation, (size_t)d->c, (size_t)d->h, (size_t)d->w, (size_t)d->r, (size_t)d->s,
        (size_t)d->pad_h, (size_t)d->pad_w, (size_t)d->stride_h, (size_t)d->stride_w, (size_t)d->dil_h,
        (size_t)d->dil_w, (size_t)d->k, (size_t)d->n, x, 0, w, 0, y, 0, &ctx->queue, &ev);
    tc_clblast_unlock();
    if (r != CLBlastSuccess)
        return tc_fail(ctx, TC_ERR_OPENCL, "conv2d: CLBlastSconvgemm failed with status %d", (int)r);
    tc_status st = tc_record_event(ctx, ev, "CLBlastSconvgemm");
    if (st != TC_OK) return st;
    return bias || relu ? epilogue(ctx, y, bias, d, relu) : TC_OK;
}

/* AUTO: few channels per group (depthwise) -> the direct kernel, which streams
 * pixels; a pointwise kernel on a GPU -> a plain GEMM; otherwise the kernel shaped
 * for the device type (measured in docs/performance.md (Convolution)). The direct
 * kernel's padded scratch can pass 2^31 elements where the output is small (huge
 * pads or strides): then the implicit GEMM, which needs no scratch. */
static tc_variant choose(const tc_ctx *ctx, const tc_conv_dims *d)
{
    if (ctx->is_ref) return TC_VARIANT_REF;
    const int64_t kg = d->k / d->groups;
    cpu_layout l;
    if ((ctx->info.type == TC_DEVICE_CPU || kg < 4) && cpu_plan(d, &l)) return TC_VARIANT_CPU;
    return pointwise(d) ? TC_VARIANT_IM2COL : TC_VARIANT_GPU;
}

tc_status tc_conv2d(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *w, tc_tensor *y, const tc_conv2d_params *p)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "conv2d: ctx is NULL");
    tc_conv2d_params def = tc_conv2d_defaults();
    if (!p) p = &def;
    tc_conv_dims d;
    tc_status st = validate(ctx, x, w, y, p, &d);
    if (st != TC_OK) return st;
    tc_variant v = p->variant == TC_VARIANT_AUTO ? choose(ctx, &d) : p->variant;
    if (ctx->is_ref && v != TC_VARIANT_REF)
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "conv2d: variant '%s' needs an OpenCL device", tc_variant_name(v));
    const double macs = (double)d.n * (double)d.k * (double)(d.p * d.q) * (double)(d.c / d.groups * d.r * d.s);
    const double bytes = 4.0 * ((double)x->numel + (double)w->numel + (double)y->numel + (p->bias ? (double)d.k : 0));
    tc_op_begin(ctx);
    if (v == TC_VARIANT_REF) {
        st = run_ref(x, w, y, p, &d);
    } else {
        cl_mem bx = tc_buf(x), bw = tc_buf(w), by = tc_buf(y), bb = p->bias ? tc_buf(p->bias) : NULL;
        switch (v) {
        case TC_VARIANT_CPU: st = run_cpu(ctx, bx, bw, by, bb, &d, p->relu); break;
        case TC_VARIANT_GPU: st = run_gpu(ctx, bx, bw, by, bb, &d, p->relu); break;
        case TC_VARIANT_IM2COL: st = run_im2col(ctx, bx, bw, by, bb, &d, p->relu); break;
        case TC_VARIANT_CLBLAST: st = run_clblast(ctx, bx, bw, by, bb, &d, p->relu); break;
        default: st = tc_fail(ctx, TC_ERR_UNSUPPORTED, "conv2d has no variant '%s'", tc_variant_name(v));
        }
    }
    return tc_op_end(ctx, "conv2d", v, 2.0 * macs, bytes, st);
}

/* ---- descriptor: cases, inputs and counts for tests, check and bench --------
 * case v[]: n, c, h, w, k, r, s, stride, pad, dil, groups, flags. Flags: 1 bias,
 * 2 ReLU, 4 the width axis uses stride 1, pad 0, dilation 1, 8 the height axis does.
 * Bench size spec: keys with values, in any order, e.g. n1c64h56w56k64r3s3pad1:
 * n (default 1) c h w k r s (required), st (stride), pad, dil, g (groups), and
 * the words bias and relu. */
#include "check/opdesc.h"

enum { CV_N, CV_C, CV_H, CV_W, CV_K, CV_R, CV_S, CV_ST, CV_PAD, CV_DIL, CV_G, CV_FLAGS };

static const tc_variant conv2d_variants[] = {TC_VARIANT_REF, TC_VARIANT_CPU, TC_VARIANT_GPU, TC_VARIANT_IM2COL,
                                             TC_VARIANT_CLBLAST};

static const tc_case conv2d_cases[] = {
    {{1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0}},      {{1, 3, 7, 7, 1, 3, 3, 1, 1, 1, 1, 1}},
    {{2, 17, 13, 13, 3, 3, 3, 1, 1, 1, 1, 3}},   {{1, 16, 13, 7, 17, 1, 1, 1, 0, 1, 1, 2}},
    {{3, 4, 9, 11, 8, 5, 5, 2, 2, 1, 1, 1}},     {{1, 3, 17, 17, 8, 7, 7, 2, 3, 1, 1, 3}},
    {{1, 6, 13, 13, 4, 3, 3, 1, 2, 2, 1, 0}},    {{2, 8, 7, 7, 6, 3, 3, 1, 1, 1, 2, 1}},
    {{1, 17, 13, 13, 17, 3, 3, 1, 1, 1, 17, 3}}, {{2, 32, 14, 14, 32, 3, 3, 2, 1, 1, 32, 2}},
    {{1, 5, 13, 9, 7, 3, 1, 2, 1, 2, 1, 5}},     {{1, 64, 20, 20, 64, 3, 3, 1, 1, 1, 1, 1}},
    {{1, 8, 1, 1, 9, 1, 1, 1, 0, 1, 1, 1}},      {{2, 3, 5, 5, 16, 3, 3, 3, 0, 1, 1, 0}},
    {{1, 12, 7, 7, 24, 3, 3, 1, 1, 1, 3, 3}},    {{1, 17, 30, 30, 33, 3, 3, 1, 1, 1, 1, 3}},
    {{1, 2, 1, 7, 3, 1, 3, 1, 1, 1, 1, 0}},      {{1, 4, 16, 16, 5, 3, 3, 1, 1, 1, 1, 1}},
    {{1, 4, 9, 20, 6, 3, 3, 2, 1, 1, 1, 8}},     {{1, 16, 9, 9, 16, 1, 1, 2, 0, 1, 4, 2}},
    {{2, 3, 5, 1, 2, 3, 3, 3, 1, 1, 1, 1}},      {{1, 7, 11, 12, 5, 3, 3, 3, 2, 2, 1, 2}},
    {{1, 2, 12, 10, 9, 9, 9, 1, 4, 1, 1, 3}},
};

/* Per-axis stride, pad and dilation of a case: [0] height, [1] width. */
static void case_axes(const tc_case *cs, int st[2], int pad[2], int dil[2])
{
    for (int a = 0; a < 2; a++) {
        const int plain = (int)(cs->v[CV_FLAGS] & (a ? 4 : 8));
        st[a] = plain ? 1 : (int)cs->v[CV_ST];
        pad[a] = plain ? 0 : (int)cs->v[CV_PAD];
        dil[a] = plain ? 1 : (int)cs->v[CV_DIL];
    }
}

static void conv2d_describe(const tc_case *c, char *buf, size_t n)
{
    const int64_t *v = c->v;
    int len = snprintf(buf, n, "n%lldc%lldh%lldw%lldk%lldr%llds%lld", (long long)v[CV_N], (long long)v[CV_C],
                       (long long)v[CV_H], (long long)v[CV_W], (long long)v[CV_K], (long long)v[CV_R],
                       (long long)v[CV_S]);
    static const char *const keys[] = {"st", "pad", "dil", "g"};
    static const int64_t plain[] = {1, 0, 1, 1};
    for (int i = 0; i < 4; i++)
        if (len >= 0 && (size_t)len < n && v[CV_ST + i] != plain[i])
            len += snprintf(buf + len, n - (size_t)len, "%s%lld", keys[i], (long long)v[CV_ST + i]);
    if (len >= 0 && (size_t)len < n)
        snprintf(buf + len, n - (size_t)len, "%s%s%s%s", v[CV_FLAGS] & 1 ? "bias" : "", v[CV_FLAGS] & 2 ? "relu" : "",
                 v[CV_FLAGS] & 4 ? " (w plain)" : "", v[CV_FLAGS] & 8 ? " (h plain)" : "");
}

static void conv2d_json(const tc_case *c, char *buf, size_t n)
{
    const int64_t *v = c->v;
    int st[2], pad[2], dil[2];
    case_axes(c, st, pad, dil);
    int len = snprintf(buf, n,
                       "{\"n\":%lld,\"c\":%lld,\"h\":%lld,\"w\":%lld,\"k\":%lld,\"r\":%lld,\"s\":%lld,\"stride\":%d,"
                       "\"pad\":%d,\"dil\":%d,\"groups\":%lld,\"bias\":%d,\"relu\":%d",
                       (long long)v[CV_N], (long long)v[CV_C], (long long)v[CV_H], (long long)v[CV_W],
                       (long long)v[CV_K], (long long)v[CV_R], (long long)v[CV_S], st[0], pad[0], dil[0],
                       (long long)v[CV_G], (int)(v[CV_FLAGS] & 1), (int)(v[CV_FLAGS] & 2) / 2);
    if (len >= 0 && (size_t)len < n)
        snprintf(buf + len, n - (size_t)len, st[0] != st[1] || pad[0] != pad[1] || dil[0] != dil[1]
                                                 ? ",\"stride_w\":%d,\"pad_w\":%d,\"dil_w\":%d}"
                                                 : "}",
                 st[1], pad[1], dil[1]);
}

static int conv2d_parse(const char *spec, tc_case *c)
{
    static const char *const keys[] = {"n", "c", "h", "w", "k", "r", "s", "st", "pad", "dil", "g"};
    memset(c, 0, sizeof *c);
    c->v[CV_N] = c->v[CV_ST] = c->v[CV_DIL] = c->v[CV_G] = 1;
    unsigned seen = 0;
    while (*spec) {
        size_t kl = strspn(spec, "abcdefghijklmnopqrstuvwxyz");
        if (kl == 4 && (strncmp(spec, "bias", 4) == 0 || strncmp(spec, "relu", 4) == 0)) {
            c->v[CV_FLAGS] |= spec[0] == 'b' ? 1 : 2;
            spec += 4;
            continue;
        }
        int key = -1;
        for (int i = 0; i < (int)(sizeof keys / sizeof keys[0]); i++)
            if (strlen(keys[i]) == kl && strncmp(spec, keys[i], kl) == 0) key = i;
        char *end;
        long long val = key >= 0 ? strtoll(spec + kl, &end, 10) : 0;
        if (key < 0 || end == spec + kl || val < (key == CV_PAD ? 0 : 1) || val > INT_MAX) return -1;
        c->v[key] = val;
        seen |= 1u << key;
        spec = end;
    }
    const unsigned need = (1u << CV_C) | (1u << CV_H) | (1u << CV_W) | (1u << CV_K) | (1u << CV_R) | (1u << CV_S);
    return (seen & need) == need ? 0 : -1;
}

static tc_conv2d_params conv2d_case_params(const tc_opdata *d, tc_variant v)
{
    int st[2], pad[2], dil[2];
    case_axes(&d->cs, st, pad, dil);
    tc_conv2d_params p = {st[0], st[1], pad[0], pad[1], dil[0], dil[1], (int)d->cs.v[CV_G],
                          (d->cs.v[CV_FLAGS] & 1) ? d->in[2] : NULL, (int)(d->cs.v[CV_FLAGS] & 2), v};
    return p;
}

static int case_dims(const tc_case *cs, tc_conv_dims *d)
{
    const int64_t *v = cs->v;
    int st[2], pad[2], dil[2];
    case_axes(cs, st, pad, dil);
    *d = (tc_conv_dims){v[CV_N], v[CV_C], v[CV_H], v[CV_W], v[CV_K], v[CV_R], v[CV_S], 0, 0,
                        st[0], st[1], pad[0], pad[1], dil[0], dil[1], v[CV_G]};
    if (d->groups < 1 || d->c % d->groups || d->k % d->groups) return -1;
    return extent(NULL, d->h, d->r, st[0], pad[0], dil[0], &d->p) == TC_OK &&
                   extent(NULL, d->w, d->s, st[1], pad[1], dil[1], &d->q) == TC_OK
               ? 0
               : -1;
}

static tc_status conv2d_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    tc_conv_dims g;
    if (case_dims(cs, &g) != 0) return tc_fail(ctx, TC_ERR_SHAPE, "conv2d: the case's shape does not fit together");
    d->cs = *cs;
    const int64_t dx[4] = {g.n, g.c, g.h, g.w}, dw[4] = {g.k, g.c / g.groups, g.r, g.s}, db[1] = {g.k};
    const int64_t dy[4] = {g.n, g.k, g.p, g.q};
    const size_t nx = (size_t)(g.n * g.c * g.h * g.w), nw = (size_t)(g.k * dw[1] * g.r * g.s);
    float *hx = malloc(nx * sizeof *hx), *hw = malloc(nw * sizeof *hw), *hb = malloc((size_t)g.k * sizeof *hb);
    if (!hx || !hw || !hb) {
        free(hx), free(hw), free(hb);
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    tc_rand_f32(hx, nx, -1.0f, 1.0f, &seed);
    tc_rand_f32(hw, nw, -1.0f, 1.0f, &seed);
    tc_rand_f32(hb, (size_t)g.k, -1.0f, 1.0f, &seed);
    tc_status s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 4, dx, hx);
    if (s == TC_OK) s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 4, dw, hw);
    else free(hw);
    if (s == TC_OK) s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 1, db, hb);
    else free(hb);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, 4, dy, &seed);
    if (s != TC_OK) return s;
    tc_ref_conv2d(hx, hw, (cs->v[CV_FLAGS] & 1) ? hb : NULL, d->expected, &g, (int)(cs->v[CV_FLAGS] & 2));
    return TC_OK;
}

static tc_status conv2d_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    tc_conv2d_params p = conv2d_case_params(d, v);
    return tc_conv2d(ctx, d->in[0], d->in[1], d->out, &p);
}

static double conv2d_flops(const tc_case *c)
{
    tc_conv_dims d;
    if (case_dims(c, &d) != 0) return 0;
    return 2.0 * (double)d.n * (double)d.k * (double)(d.p * d.q) * (double)(d.c / d.groups * d.r * d.s);
}

static double conv2d_bytes(const tc_case *c)
{
    tc_conv_dims d;
    if (case_dims(c, &d) != 0) return 0;
    return 4.0 * ((double)(d.n * d.c * d.h * d.w) + (double)(d.k * d.c / d.groups * d.r * d.s) +
                  (double)(d.n * d.k * d.p * d.q) + ((c->v[CV_FLAGS] & 1) ? (double)d.k : 0));
}

const tc_opdesc tc_opdesc_conv2d = {
    "conv2d",        conv2d_variants, (int)(sizeof conv2d_variants / sizeof conv2d_variants[0]),
    conv2d_cases,    (int)(sizeof conv2d_cases / sizeof conv2d_cases[0]),
    conv2d_describe, conv2d_json,     conv2d_parse,
    conv2d_setup,    conv2d_run,      conv2d_flops,
    conv2d_bytes,    TC_METRIC_MAXREL, 1e-4,
};
