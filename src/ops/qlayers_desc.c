/* The check descriptors of the quantized layers, qlinear and qconv2d: random f32
 * data quantized on the host exactly as the plans quantize it, and the expected
 * output from the reference's integer arithmetic (qlinear: the integer GEMM's
 * accumulation; qconv2d: a direct convolution, so im2col and the move to NCHW are
 * checked too) and the integer GEMM's output stage. f32 outputs must be exact,
 * requantized ones within 1 unit.
 *
 * Case keys, both ops: a (activations "u8" or "s8"); x ("f32": quantized by the plan,
 * "q": given quantized); wq ("f32": quantized by the plan per output channel, "pc" / "pt":
 * given as s8 per channel / per tensor); bias (1 f32, 2 s32); y ("f32", "s8", "u8");
 * relu; xr (the input's range: "mid" [-1, 2], "pos" [0, 3] (zero point at the low
 * end), "neg" [-3, 0] (at the high end), "sat": inputs in [-4, 4] quantized over
 * [-1, 1]); ws ("spread": output channels' weight magnitudes from 1e-6 to 1e3).
 * qlinear: b, in, out. qconv2d: n, c, h, w, k, r, s, st, pad, dil (0: 1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "ref/ref.h"
#include "tinycl/qlayers.h"
#include "tinycl/quantize.h"

static const tc_variant q_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL, TC_VARIANT_GPU, TC_VARIANT_VNNI,
                                        TC_VARIANT_VNNI256};

#define QL(b_, in_, out_, a_, x_, w_, y_, ...)                                                                   \
    TC_CASE({"b", b_}, {"in", in_}, {"out", out_}, {"a", 0, a_}, {"x", 0, x_}, {"wq", 0, w_}, {"y", 0, y_}, \
            __VA_ARGS__)
static const tc_case qlinear_cases[] = {
    QL(1, 1, 1, "u8", "f32", "f32", "f32", {"bias", 1}, {"xr", 0, "mid"}),
    QL(3, 127, 17, "u8", "q", "pc", "s8", {"bias", 2}, {"relu", 1}, {"xr", 0, "pos"}),
    QL(17, 3, 100, "u8", "f32", "f32", "u8", {"bias", 1}, {"relu", 1}, {"xr", 0, "neg"}),
    QL(64, 64, 64, "s8", "q", "pt", "f32", {"bias", 1}, {"xr", 0, "mid"}),
    QL(33, 129, 65, "u8", "f32", "f32", "s8", {"ws", 0, "spread"}, {"xr", 0, "sat"}),
    QL(100, 576, 10, "u8", "q", "f32", "u8", {"relu", 1}, {"xr", 0, "mid"}),
    QL(5, 9, 4097, "u8", "f32", "pc", "f32", {"relu", 1}, {"bias", 2}, {"xr", 0, "pos"}),
    QL(128, 1000, 33, "s8", "f32", "f32", "s8", {"bias", 1}, {"xr", 0, "sat"}),
    QL(359, 64, 128, "u8", "f32", "f32", "u8", {"bias", 1}, {"relu", 1}, {"xr", 0, "pos"}),
};

#define QC(n_, c_, h_, w_, k_, r_, s_, st_, pad_, dil_, a_, x_, wq_, y_, ...)                                      \
    TC_CASE({"n", n_}, {"c", c_}, {"h", h_}, {"w", w_}, {"k", k_}, {"r", r_}, {"s", s_}, {"st", st_}, {"pad", pad_}, \
            {"dil", dil_}, {"a", 0, a_}, {"x", 0, x_}, {"wq", 0, wq_}, {"y", 0, y_}, __VA_ARGS__)
static const tc_case qconv2d_cases[] = {
    QC(1, 1, 1, 1, 1, 1, 1, 1, 0, 1, "u8", "f32", "f32", "f32", {"xr", 0, "mid"}),
    QC(2, 3, 7, 9, 5, 3, 3, 1, 1, 1, "u8", "f32", "f32", "f32", {"bias", 1}, {"relu", 1}, {"xr", 0, "mid"}),
    QC(1, 16, 8, 8, 32, 3, 3, 1, 1, 1, "u8", "q", "pc", "u8", {"bias", 2}, {"relu", 1}, {"xr", 0, "pos"}),
    QC(3, 4, 11, 6, 7, 2, 3, 2, 1, 2, "s8", "f32", "pt", "s8", {"bias", 1}, {"xr", 0, "sat"}),
    QC(1, 64, 14, 14, 64, 3, 3, 1, 1, 1, "u8", "f32", "f32", "u8", {"relu", 1}, {"xr", 0, "pos"}),
    QC(2, 5, 9, 9, 3, 1, 1, 2, 0, 1, "u8", "q", "f32", "f32", {"bias", 1}, {"xr", 0, "neg"}),
    QC(1, 2, 5, 5, 4, 5, 5, 1, 4, 1, "s8", "q", "f32", "s8", {"ws", 0, "spread"}, {"xr", 0, "neg"}),
    QC(4, 1, 8, 8, 16, 3, 3, 1, 1, 1, "u8", "f32", "f32", "u8", {"bias", 1}, {"relu", 1}, {"xr", 0, "pos"}),
    QC(2, 3, 1, 7, 6, 1, 3, 1, 1, 1, "u8", "f32", "pc", "f32", {"bias", 2}, {"relu", 1}, {"xr", 0, "sat"}),
};

static tc_dtype dtype_of(const char *s, tc_dtype dflt)
{
    return !s ? dflt
           : strcmp(s, "s8") == 0 ? TC_DTYPE_S8
           : strcmp(s, "u8") == 0 ? TC_DTYPE_U8
                                  : TC_DTYPE_F32;
}

static int is(const tc_case *c, const char *key, const char *val)
{
    return tc_case_str(c, key) && strcmp(tc_case_str(c, key), val) == 0;
}

static int64_t at_least_1(const tc_case *c, const char *key)
{
    const int64_t v = tc_case_int(c, key);
    return v > 0 ? v : 1;
}

static int is_conv(const tc_case *c) { return tc_case_int(c, "c") > 0; }

static tc_conv_dims conv_dims(const tc_case *c)
{
    const int64_t st = at_least_1(c, "st"), pad = tc_case_int(c, "pad"), dil = at_least_1(c, "dil");
    tc_conv_dims d = {tc_case_int(c, "n"), tc_case_int(c, "c"), tc_case_int(c, "h"), tc_case_int(c, "w"),
                      tc_case_int(c, "k"), tc_case_int(c, "r"), tc_case_int(c, "s"), 0, 0, st, st, pad, pad, dil, dil, 1};
    d.p = (d.h + 2 * pad - dil * (d.r - 1) - 1) / st + 1;
    d.q = (d.w + 2 * pad - dil * (d.s - 1) - 1) / st + 1;
    return d;
}

static double uniform(uint64_t *seed) { return (double)(tc_rng_next(seed) >> 11) * (1.0 / 9007199254740992.0); }

/* Host buffers of one case; the plan's input parameters go in the last input. */
typedef struct {
    int64_t nx, nw, nout, nrow, k; /* elements of x and w; output channels; GEMM rows (qlinear) and K */
    float *x, *w, *fbias, *sw, *scale;
    void *xq;
    int8_t *wq;
    int32_t *bias, *zw, *v, *mult, *shift;
} qbufs;

static void free_bufs(qbufs *b)
{
    free(b->x), free(b->w), free(b->fbias), free(b->sw), free(b->scale), free(b->xq), free(b->wq);
    free(b->bias), free(b->zw), free(b->v), free(b->mult), free(b->shift);
}

/* The weights quantized as the plan does (or as given): symmetric s8 per channel or per tensor. */
static tc_status quantize_weights(const qbufs *b, int per_channel)
{
    const int64_t ch = per_channel ? b->nout : 1, per = b->nw / ch;
    float *lo = malloc((size_t)ch * sizeof *lo), *hi = malloc((size_t)ch * sizeof *hi);
    for (int64_t c = 0; lo && hi && c < ch; c++) {
        lo[c] = hi[c] = 0;
        for (int64_t i = c * per; i < (c + 1) * per; i++) lo[c] = fminf(lo[c], b->w[i]), hi[c] = fmaxf(hi[c], b->w[i]);
    }
    tc_status s = lo && hi ? tc_quant_params_from_ranges(ch, lo, hi, TC_DTYPE_S8, 1, b->sw, b->zw)
                           : tc_fail(NULL, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    free(lo), free(hi);
    if (s != TC_OK) return s;
    tc_ref_quantize(b->w, b->wq, TC_DTYPE_S8, b->nw, per, ch, b->sw, b->zw);
    for (int64_t j = ch; j < b->nout; j++) b->sw[j] = b->sw[0], b->zw[j] = b->zw[0];
    return TC_OK;
}

static tc_status q_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int conv = is_conv(cs);
    const tc_conv_dims g = conv ? conv_dims(cs) : (tc_conv_dims){0};
    const tc_dtype a = dtype_of(tc_case_str(cs, "a"), TC_DTYPE_U8), y = dtype_of(tc_case_str(cs, "y"), TC_DTYPE_F32);
    const int x_given = is(cs, "x", "q"), w_f32 = !tc_case_str(cs, "wq") || is(cs, "wq", "f32");
    const int bias_kind = (int)tc_case_int(cs, "bias"), relu = tc_case_int(cs, "relu") != 0;
    d->cs = *cs;
    qbufs b = {0};
    b.nout = conv ? g.k : tc_case_int(cs, "out");
    b.k = conv ? g.c * g.r * g.s : tc_case_int(cs, "in");
    b.nrow = conv ? 0 : tc_case_int(cs, "b");
    b.nx = conv ? g.n * g.c * g.h * g.w : b.nrow * b.k;
    b.nw = b.nout * b.k;
    const int64_t ny = conv ? g.n * g.k * g.p * g.q : b.nrow * b.nout;
    b.x = malloc((size_t)b.nx * sizeof *b.x), b.w = malloc((size_t)b.nw * sizeof *b.w);
    b.fbias = malloc((size_t)b.nout * sizeof *b.fbias), b.sw = malloc((size_t)b.nout * sizeof *b.sw);
    b.scale = malloc((size_t)b.nout * sizeof *b.scale), b.xq = malloc((size_t)b.nx), b.wq = malloc((size_t)b.nw);
    b.bias = malloc((size_t)b.nout * sizeof *b.bias), b.zw = malloc((size_t)b.nout * sizeof *b.zw);
    b.v = malloc((size_t)ny * sizeof *b.v), b.mult = malloc((size_t)b.nout * sizeof *b.mult);
    b.shift = malloc((size_t)b.nout * sizeof *b.shift);
    float *params = malloc(2 * sizeof *params);
    tc_status s = TC_OK;
    if (!b.x || !b.w || !b.fbias || !b.sw || !b.scale || !b.xq || !b.wq || !b.bias || !b.zw || !b.v || !b.mult ||
        !b.shift || !params) {
        free(params);
        s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
        goto done;
    }
    /* x and its quantization */
    const double xlo = is(cs, "xr", "pos") ? 0 : is(cs, "xr", "neg") ? -3 : is(cs, "xr", "sat") ? -4 : -1;
    const double xhi = is(cs, "xr", "pos") ? 3 : is(cs, "xr", "neg") ? 0 : is(cs, "xr", "sat") ? 4 : 2;
    for (int64_t i = 0; i < b.nx; i++) b.x[i] = (float)(xlo + (xhi - xlo) * uniform(&seed));
    float sx;
    int32_t zx;
    const float clo = is(cs, "xr", "sat") ? -1.0f : (float)xlo, chi = is(cs, "xr", "sat") ? 1.0f : (float)xhi;
    if ((s = tc_quant_params_from_range(clo, chi, a, 0, &sx, &zx)) != TC_OK) goto fail;
    tc_ref_quantize(b.x, b.xq, a, b.nx, b.nx, 1, &sx, &zx);
    params[0] = sx, params[1] = (float)zx;
    /* w: per output channel magnitudes, quantized per channel unless given per tensor */
    for (int64_t j = 0; j < b.nout; j++) {
        const double mag = is(cs, "ws", "spread") ? pow(10.0, -6.0 + 9.0 * uniform(&seed)) : 0.5 + uniform(&seed);
        for (int64_t i = 0; i < b.k; i++) b.w[j * b.k + i] = (float)(mag * (2.0 * uniform(&seed) - 1.0));
        b.fbias[j] = (float)(mag * (4.0 * uniform(&seed) - 2.0));
    }
    if ((s = quantize_weights(&b, !is(cs, "wq", "pt"))) != TC_OK) goto fail;
    for (int64_t j = 0; j < b.nout; j++)
        b.bias[j] = bias_kind == 2 ? (int32_t)(tc_rng_next(&seed) >> 32) >> 12
                                   : tc_ref_qbias(b.fbias[j], (double)sx * (double)b.sw[j]);
    /* the accumulators, then the output stage */
    const int32_t *bias = bias_kind ? b.bias : NULL;
    if (conv)
        tc_ref_qconv2d_acc(b.xq, a == TC_DTYPE_S8, b.wq, zx, b.zw, bias, b.v, &g);
    else
        tc_ref_igemm_acc(b.xq, a == TC_DTYPE_S8, b.wq, 1, zx, b.zw, bias, b.v, b.nrow, b.nout, b.k);
    float sy = 1;
    int32_t zy = 0, qmin, qmax;
    if (y != TC_DTYPE_F32) { /* y's range: the real results' (most of it with relu, a tenth clipped) */
        double lo = 0, hi = 0;
        for (int64_t i = 0; i < ny; i++) {
            const int64_t j = conv ? i / (g.p * g.q) % g.k : i % b.nout;
            const double r = (double)b.v[i] * sx * b.sw[j];
            lo = fmin(lo, r), hi = fmax(hi, r);
        }
        if ((s = tc_quant_params_from_range((float)(0.9 * lo), (float)(0.9 * hi), y, 0, &sy, &zy)) != TC_OK) goto fail;
    }
    tc_ref_quant_range(y, &qmin, &qmax);
    if (relu && zy > qmin) qmin = zy;
    for (int64_t j = 0; j < b.nout; j++) {
        b.scale[j] = sx * b.sw[j];
        b.mult[j] = b.shift[j] = 0;
        if (y != TC_DTYPE_F32 &&
            (s = tc_igemm_multiplier((double)sx * (double)b.sw[j] / (double)sy, &b.mult[j], &b.shift[j])) != TC_OK)
            goto fail;
    }
    /* inputs: x, w, bias, the input parameters */
    const int64_t dx[4] = {conv ? g.n : b.nrow, conv ? g.c : b.k, g.h, g.w}, dw[4] = {b.nout, conv ? g.c : b.k, g.r, g.s};
    const tc_quant qx = {-1, 1, &sx, &zx}, qy = {-1, 1, &sy, &zy};
    const tc_quant qw = {is(cs, "wq", "pt") ? -1 : 0, is(cs, "wq", "pt") ? 1 : b.nout, b.sw, b.zw};
    const int nd = conv ? 4 : 2;
    if (x_given) {
        s = tc_opdata_input(ctx, d, a, nd, dx, b.xq);
        b.xq = NULL;
        if (s == TC_OK) s = tc_tensor_set_quant(d->in[0], &qx);
    } else {
        s = tc_opdata_input(ctx, d, TC_DTYPE_F32, nd, dx, b.x);
        b.x = NULL;
    }
    if (s == TC_OK && w_f32) s = tc_opdata_input(ctx, d, TC_DTYPE_F32, nd, dw, b.w), b.w = NULL;
    if (s == TC_OK && !w_f32) {
        s = tc_opdata_input(ctx, d, TC_DTYPE_S8, nd, dw, b.wq);
        b.wq = NULL;
        if (s == TC_OK) s = tc_tensor_set_quant(d->in[1], &qw);
    }
    if (s == TC_OK && bias_kind == 2) s = tc_opdata_input(ctx, d, TC_DTYPE_S32, 1, &b.nout, b.bias), b.bias = NULL;
    if (s == TC_OK && bias_kind != 2) s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 1, &b.nout, b.fbias), b.fbias = NULL;
    if (s == TC_OK) s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 1, (const int64_t[]){2}, params);
    else free(params);
    const int64_t dy[4] = {conv ? g.n : b.nrow, b.nout, g.p, g.q};
    if (s == TC_OK) s = tc_opdata_output(ctx, d, y, nd, dy, &seed);
    if (s == TC_OK && y != TC_DTYPE_F32) s = tc_tensor_set_quant(d->out[0].t, &qy);
    if (s == TC_OK) {
        const tc_ref_igemm_out o = {b.mult, b.shift, b.scale, zy, qmin, qmax, relu};
        if (!conv) {
            tc_ref_igemm_stage(b.v, d->out[0].expected, y, b.nrow, b.nout, &o);
        } else { /* NCHW: one plane per (image, channel), its channel's parameters */
            const int64_t pq = g.p * g.q;
            for (int64_t i = 0; i < g.n * g.k; i++) {
                const int64_t j = i % g.k;
                const tc_ref_igemm_out oj = {b.mult + j, b.shift + j, b.scale + j, zy, qmin, qmax, relu};
                tc_ref_igemm_stage(b.v + i * pq, (char *)d->out[0].expected + (size_t)(i * pq) * tc_dtype_size(y), y,
                                   pq, 1, &oj);
            }
        }
        if (y != TC_DTYPE_F32) d->out[0].metric = TC_METRIC_LSB, d->out[0].tol = 1;
    }
    goto done;
fail:
    free(params);
    s = tc_fail(ctx, s, "%s case: %s", conv ? "qconv2d" : "qlinear", tc_last_error(NULL));
done:
    free_bufs(&b);
    return s;
}

static void plan_free_linear(void *p) { tc_qlinear_plan_free(p); }
static void plan_free_conv(void *p) { tc_qconv2d_plan_free(p); }

static tc_status q_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    const tc_case *cs = &d->cs;
    const float *params = d->host_in[3];
    const tc_dtype a = dtype_of(tc_case_str(cs, "a"), TC_DTYPE_U8);
    const int relu = tc_case_int(cs, "relu") != 0, conv = is_conv(cs);
    const tc_tensor *bias = tc_case_int(cs, "bias") ? d->in[2] : NULL;
    if (!d->prep || d->prep_variant != v) { /* one plan per variant, reused by later runs */
        void *plan = NULL;
        tc_status s;
        if (conv) {
            const tc_conv_dims g = conv_dims(cs);
            tc_qconv2d_params p = tc_qconv2d_defaults();
            p.stride_h = p.stride_w = (int)g.stride_h, p.pad_h = p.pad_w = (int)g.pad_h;
            p.dil_h = p.dil_w = (int)g.dil_h;
            p.in_dtype = a, p.in_scale = params[0], p.in_zero_point = (int32_t)params[1], p.relu = relu, p.variant = v;
            s = tc_qconv2d_plan_create(ctx, d->in[1], (const int64_t[]){g.c, g.h, g.w}, bias, &p,
                                       (tc_qconv2d_plan **)&plan);
        } else {
            tc_qlinear_params p = tc_qlinear_defaults();
            p.in_dtype = a, p.in_scale = params[0], p.in_zero_point = (int32_t)params[1], p.relu = relu, p.variant = v;
            s = tc_qlinear_plan_create(ctx, d->in[1], bias, &p, (tc_qlinear_plan **)&plan);
        }
        if (s != TC_OK) return s;
        if (d->prep_free) d->prep_free(d->prep);
        d->prep = plan, d->prep_variant = v, d->prep_free = conv ? plan_free_conv : plan_free_linear;
    }
    return conv ? tc_qconv2d_plan_run(d->prep, d->in[0], d->out[0].t) : tc_qlinear_plan_run(d->prep, d->in[0], d->out[0].t);
}

static double q_flops(const tc_case *c)
{
    if (!is_conv(c))
        return 2.0 * tc_case_num(c, "b") * tc_case_num(c, "in") * tc_case_num(c, "out");
    const tc_conv_dims g = conv_dims(c);
    return 2.0 * (double)(g.n * g.p * g.q) * (double)(g.c * g.r * g.s) * (double)g.k;
}

static double q_bytes(const tc_case *c)
{
    const double xs = is(c, "x", "q") ? 1 : 4, ys = (double)tc_dtype_size(dtype_of(tc_case_str(c, "y"), TC_DTYPE_F32));
    if (!is_conv(c)) {
        const double b = tc_case_num(c, "b"), in = tc_case_num(c, "in"), out = tc_case_num(c, "out");
        return b * in * xs + in * out + b * out * ys;
    }
    const tc_conv_dims g = conv_dims(c);
    return (double)(g.n * g.c * g.h * g.w) * xs + (double)(g.k * g.c * g.r * g.s) + (double)(g.n * g.k * g.p * g.q) * ys;
}

/* Bench sizes: qlinear "BxINxOUT[:q][:s8|:u8|:f32]", qconv2d conv2d's spec
 * ("n1c64h56w56k64r3s3pad1", groups 1) then the same suffixes: an f32 input quantized
 * by the plan (":q": given as u8), f32 weights quantized at create, an f32 bias, the
 * output named (default u8 with ReLU, the next layer's input). */
static int q_suffix(const char *t, tc_case *c)
{
    tc_case_set_str(c, "a", "u8");
    tc_case_set_str(c, "x", "f32");
    tc_case_set_str(c, "wq", "f32");
    tc_case_set_str(c, "y", "u8");
    tc_case_set_str(c, "xr", "pos");
    tc_case_set(c, "bias", 1);
    tc_case_set(c, "relu", 1);
    for (; *t; t += strcspn(t + 1, ":") + 1) {
        const size_t len = strcspn(t + 1, ":");
        if (t[0] != ':') return -1;
        if (len == 1 && t[1] == 'q')
            tc_case_set_str(c, "x", "q");
        else if (len == 2 && strncmp(t + 1, "s8", 2) == 0)
            tc_case_set_str(c, "y", "s8");
        else if (len == 2 && strncmp(t + 1, "u8", 2) == 0)
            tc_case_set_str(c, "y", "u8");
        else if (len == 3 && strncmp(t + 1, "f32", 3) == 0)
            tc_case_set_str(c, "y", "f32"), tc_case_set(c, "relu", 0);
        else
            return -1;
    }
    return 0;
}

static int qlinear_parse(const char *spec, tc_case *c)
{
    long long bb, in, out;
    int used = 0;
    memset(c, 0, sizeof *c);
    if (sscanf(spec, "%lldx%lldx%lld%n", &bb, &in, &out, &used) != 3 || bb < 1 || in < 1 || out < 1) return -1;
    tc_case_set(c, "b", (double)bb);
    tc_case_set(c, "in", (double)in);
    tc_case_set(c, "out", (double)out);
    return q_suffix(spec + used, c);
}

static int qconv2d_parse(const char *spec, tc_case *c)
{
    char head[128];
    const size_t n = strcspn(spec, ":");
    tc_case cv;
    if (n >= sizeof head) return -1;
    memcpy(head, spec, n);
    head[n] = '\0';
    const tc_opdesc *conv = tc_opdesc_find("conv2d");
    if (conv->parse(head, &cv) != 0 || tc_case_int(&cv, "groups") != 1 || tc_case_int(&cv, "bias") ||
        tc_case_int(&cv, "relu") || tc_case_int(&cv, "stride_h") != tc_case_int(&cv, "stride_w"))
        return -1;
    memset(c, 0, sizeof *c);
    static const char *const keys[][2] = {{"n", "n"}, {"c", "c"}, {"h", "h"}, {"w", "w"}, {"k", "k"}, {"r", "r"},
                                          {"s", "s"}, {"st", "stride_h"}, {"pad", "pad_h"}, {"dil", "dil_h"}};
    for (int i = 0; i < TC_COUNT(keys); i++) tc_case_set(c, keys[i][0], tc_case_num(&cv, keys[i][1]));
    return q_suffix(spec + n, c);
}

const tc_opdesc tc_opdesc_qlinear = {
    .name = "qlinear",
    .variants = q_variants,
    .nvariants = TC_COUNT(q_variants),
    .cases = qlinear_cases,
    .ncases = TC_COUNT(qlinear_cases),
    .syntax = "BxINxOUT[:q][:s8|:u8|:f32] (f32 x quantized by the plan, or u8 with :q; f32 weights quantized per "
              "channel at create; ReLU into a u8 y unless named)",
    .parse = qlinear_parse,
    .setup = q_setup,
    .run = q_run,
    .flops = q_flops,
    .bytes = q_bytes,
    .metric = TC_METRIC_EXACT,
    .tol = 0.0,
};

const tc_opdesc tc_opdesc_qconv2d = {
    .name = "qconv2d",
    .variants = q_variants,
    .nvariants = TC_COUNT(q_variants),
    .cases = qconv2d_cases,
    .ncases = TC_COUNT(qconv2d_cases),
    .syntax = "conv2d's spec (groups 1, e.g. n1c64h56w56k64r3s3pad1) then [:q][:s8|:u8|:f32] as qlinear",
    .parse = qconv2d_parse,
    .setup = q_setup,
    .run = q_run,
    .flops = q_flops,
    .bytes = q_bytes,
    .metric = TC_METRIC_EXACT,
    .tol = 0.0,
};
