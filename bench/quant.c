/* tinycl bench quant: int8 ops against their f32 counterparts on the same data, in
 * one run: medians of repeated runs, GOP/s, speedup over the f32 op, the error of
 * each result against the exact (f64) product of the f32 inputs, and weight bytes.
 *
 * Each pair (an int8 op and its f32 op) parses its own size syntax, so `--sizes` may
 * mix them; the GEMM pair (igemm against matmul, "MxNxK[:tb]") is the first entry of
 * `pairs`, and the quantized convolution and linear pairs slot in beside it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/results.h"
#include "check/opdesc.h"

#define MAX_SIZES 16
#define DEFAULT_SIZES "1024x1024x1024,2048x2048x2048,256x4096x1024:tb,n1c64h56w56k64r3s3pad1,linear:256x1024x1024"
#define SHAPE_WORDS 32
#define MAX_REPS 1000

typedef struct {
    tc_variant vars[TC_VARIANT_COUNT]; /* int8 variants to time */
    int nvars;
    int reps, samples;
    double budget_ms;
    tc_dtype out;  /* the int8 op's output: s8, u8 (requantized) or f32 */
    uint64_t seed; /* of this size's data: the same on every device */
    const char *device;
    res_set *rs;
} qopts;

/* One timed thing of a size (the f32 op, or an int8 variant with or without a plan):
 * `run` makes one call, `read` gives its output as floats; the times of its rounds
 * go to t. The f32 op is the first of a size's timers. */
typedef struct {
    const char *op;
    tc_variant variant;
    int plan;       /* the weights prepared once by a plan, outside the timing */
    const char *io; /* "u8>s8": the input's and the output's dtypes */
    double weight_bytes;
    tc_status (*run)(tc_ctx *ctx, void *data, void *self);
    tc_status (*read)(tc_ctx *ctx, void *data, void *self, float *dst, size_t n);
    void *self;
    double t[MAX_REPS];
    int n;
    tc_status st;
} qtimer;

static double now_call(tc_ctx *ctx, void *data, qtimer *q)
{
    const double t0 = tc_now_ms();
    q->st = q->run(ctx, data, q->self);
    if (q->st == TC_OK) q->st = tc_ctx_finish(ctx);
    return tc_now_ms() - t0;
}

/* Interleaved: a warm-up call each, then rounds of one call each (at least 3 rounds,
 * up to `reps`, until the budget is spent), so load from other processes falls on
 * all of them alike and their ratios hold. */
static void time_all(tc_ctx *ctx, void *data, qtimer *qs, int nq, const qopts *o)
{
    for (int i = 0; i < nq; i++) now_call(ctx, data, &qs[i]);
    double spent = 0;
    for (int round = 0; round < o->reps && round < MAX_REPS && (round < 3 || spent < o->budget_ms); round++)
        for (int i = 0; i < nq; i++)
            if (qs[i].st == TC_OK) {
                const double t = now_call(ctx, data, &qs[i]);
                qs[i].t[qs[i].n++] = t, spent += t;
            }
}

/* Error of x against the exact result: max |x - e|, that over max |e|, SQNR in dB. */
static void errors(const float *x, const double *e, size_t n, res_record *r)
{
    double maxe = 0, maxd = 0, se = 0, sd = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)x[i] - e[i]);
        maxd = fmax(maxd, d), maxe = fmax(maxe, fabs(e[i]));
        sd += d * d, se += e[i] * e[i];
    }
    res_num(r, "max_abs_err", "max abs", "%.3e", maxd);
    res_num(r, "rel_err", "rel err", "%.2e", maxe > 0 ? maxd / maxe : maxd);
    res_num(r, "sqnr_db", "SQNR dB", "%.1f", sd > 0 ? 10.0 * log10(se / sd) : 999.0);
}

typedef struct {
    char text[128], json[192];
    double gop;    /* operations of one call, 1e9 */
    double *exact; /* the exact (f64) result of the f32 inputs */
    size_t nout;
} qshape;

/* Times the size's timers, then a record each: times, GOP/s, the speedup over the
 * f32 op, the error of one more call's output against the exact result, weight bytes.
 * 1 when something failed. */
static int time_and_report(tc_ctx *ctx, void *data, qtimer *qs, int nq, const qshape *sh, const qopts *o)
{
    int failed = 0;
    float *out = malloc(sh->nout * sizeof *out);
    if (!out) return 1;
    time_all(ctx, data, qs, nq, o);
    const double f32_ms = qs[0].st == TC_OK ? res_median(qs[0].t, qs[0].n) : 0;
    for (int i = 0; i < nq; i++) {
        qtimer *q = &qs[i];
        if (q->st == TC_ERR_UNSUPPORTED) continue;
        tc_status st = q->st;
        if (st == TC_OK) st = q->run(ctx, data, q->self);
        if (st == TC_OK) st = q->read(ctx, data, q->self, out, sh->nout);
        res_record *r = st == TC_OK ? res_add(o->rs) : NULL;
        if (!r) {
            fprintf(stderr, "tinycl bench quant: %s %s: %s\n", q->op, tc_variant_name(q->variant),
                    st == TC_OK ? "out of memory" : tc_last_error(ctx));
            failed = 1;
            continue;
        }
        const double ms = res_median(q->t, q->n);
        res_str(r, "op", "op", q->op);
        res_str(r, "variant", "variant", tc_variant_name(q->variant));
        res_obj(r, "plan", "plan", q->plan ? "yes" : "no", q->plan ? "true" : "false");
        res_str(r, "io", "io", q->io);
        res_str(r, "device", "device", o->device);
        res_obj(r, "shape", "shape", sh->text, sh->json);
        res_times(r, q->t, q->n, o->samples);
        if (!i) res_num(r, "gflops", NULL, "%.1f", sh->gop / ms * 1e3);
        res_num(r, "gops", "GOP/s", "%.1f", sh->gop / ms * 1e3);
        if (f32_ms > 0) res_num(r, "speedup_vs_f32", "vs f32", "%.2fx", f32_ms / ms);
        errors(out, sh->exact, sh->nout, r);
        res_num(r, "weight_bytes", "weight bytes", "%.0f", q->weight_bytes);
    }
    free(out);
    return failed;
}

/* ---- the GEMM pair: igemm (u8 activations, per-channel s8 weights) against matmul ---- */

typedef struct {
    int64_t m, n, k;
    int tb;
} gemm_shape;

static int gemm_parse(const char *spec, void *out)
{
    gemm_shape *s = out;
    long long m, n, k;
    int used = 0;
    if (sscanf(spec, "%lldx%lldx%lld%n", &m, &n, &k, &used) != 3 || m < 1 || n < 1 || k < 1) return -1;
    if (spec[used] && strcmp(spec + used, ":tb") != 0) return -1;
    *s = (gemm_shape){m, n, k, spec[used] != '\0'};
    return 0;
}

typedef struct {
    tc_tensor *af, *bf, *cf;      /* f32 */
    tc_tensor *aq, *bq, *cq;      /* int8 and the int8 op's output */
    int tb;
} gemm_data;

static tc_status run_matmul(tc_ctx *ctx, void *data, void *self)
{
    (void)self;
    gemm_data *g = data;
    tc_matmul_params p = tc_matmul_defaults();
    p.trans_b = g->tb;
    return tc_matmul(ctx, g->af, g->bf, g->cf, &p);
}

static tc_status read_matmul(tc_ctx *ctx, void *data, void *self, float *dst, size_t n)
{
    (void)ctx, (void)self;
    return tc_tensor_read(((gemm_data *)data)->cf, dst, n * sizeof *dst);
}

/* self: the int8 variant's params, or its plan */
typedef struct {
    tc_igemm_params p;
    tc_igemm_plan *plan;
    int use_plan;
} igemm_runner;

static tc_status run_igemm(tc_ctx *ctx, void *data, void *self)
{
    gemm_data *g = data;
    igemm_runner *r = self;
    return r->use_plan ? tc_igemm_plan_run(r->plan, g->aq, g->cq) : tc_igemm(ctx, g->aq, g->bq, g->cq, &r->p);
}

/* An int8 op's output as floats (through f32 scratch when it is 8-bit). */
static tc_status read_q(tc_ctx *ctx, const tc_tensor *q, tc_tensor *f32, float *dst, size_t n)
{
    if (tc_tensor_dtype(q) == TC_DTYPE_F32) return tc_tensor_read(q, dst, n * sizeof *dst);
    tc_status st = tc_dequantize(ctx, q, f32, NULL);
    return st == TC_OK ? tc_tensor_read(f32, dst, n * sizeof *dst) : st;
}

static tc_status read_igemm(tc_ctx *ctx, void *data, void *self, float *dst, size_t n)
{
    (void)self;
    gemm_data *g = data;
    return read_q(ctx, g->cq, g->cf, dst, n);
}

static void free_gemm(gemm_data *g)
{
    tc_tensor *all[] = {g->af, g->bf, g->cf, g->aq, g->bq, g->cq};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
}

static int gemm_run(tc_ctx *ctx, const void *shape, const qopts *o)
{
    const gemm_shape *s = shape;
    const size_t mk = (size_t)(s->m * s->k), kn = (size_t)(s->k * s->n), mn = (size_t)(s->m * s->n);
    float *ha = malloc(mk * sizeof *ha), *hb = malloc(kn * sizeof *hb);
    float *sb = malloc((size_t)s->n * sizeof *sb), *bmin = malloc((size_t)s->n * sizeof *bmin);
    float *bmax = malloc((size_t)s->n * sizeof *bmax);
    int32_t *zb = malloc((size_t)s->n * sizeof *zb);
    qshape sh = {.gop = 2e-9 * (double)s->m * (double)s->n * (double)s->k, .exact = calloc(mn, sizeof(double)), .nout = mn};
    snprintf(sh.text, sizeof sh.text, "m=%lld n=%lld k=%lld%s", (long long)s->m, (long long)s->n, (long long)s->k,
             s->tb ? " tb" : "");
    snprintf(sh.json, sizeof sh.json, "{\"m\":%lld,\"n\":%lld,\"k\":%lld,\"trans_b\":%d}", (long long)s->m,
             (long long)s->n, (long long)s->k, s->tb);
    gemm_data g;
    memset(&g, 0, sizeof g);
    g.tb = s->tb;
    int failed = 1;
    tc_status st = TC_ERR_OUT_OF_MEMORY;
    if (!ha || !hb || !sb || !bmin || !bmax || !sh.exact || !zb) goto done;
    uint64_t seed = o->seed;
    tc_rand_f32(ha, mk, -1.0f, 1.0f, &seed);
    tc_rand_f32(hb, kn, -1.0f, 1.0f, &seed);
#define B_AT(p, j) (s->tb ? (j) * s->k + (p) : (p) * s->n + (j))
    for (int64_t i = 0; i < s->m; i++) /* the exact product of the f32 inputs */
        for (int64_t p = 0; p < s->k; p++) {
            const double a = ha[i * s->k + p];
            for (int64_t j = 0; j < s->n; j++) sh.exact[i * s->n + j] += a * hb[B_AT(p, j)];
        }
    /* A: asymmetric u8 over its range; B: symmetric s8 per output column; C: symmetric
     * over the exact result's range */
    float lo = 0, hi = 0, cmax = 0, sa, sc;
    int32_t za, zc;
    for (size_t i = 0; i < mk; i++) lo = fminf(lo, ha[i]), hi = fmaxf(hi, ha[i]);
    for (int64_t j = 0; j < s->n; j++) {
        bmin[j] = bmax[j] = 0;
        for (int64_t p = 0; p < s->k; p++) bmin[j] = fminf(bmin[j], hb[B_AT(p, j)]), bmax[j] = fmaxf(bmax[j], hb[B_AT(p, j)]);
    }
#undef B_AT
    for (size_t i = 0; i < mn; i++) cmax = fmaxf(cmax, (float)fabs(sh.exact[i]));
    const tc_dtype cq8 = o->out == TC_DTYPE_F32 ? TC_DTYPE_S8 : o->out;
    if ((st = tc_quant_params_from_range(lo, hi, TC_DTYPE_U8, 0, &sa, &za)) != TC_OK ||
        (st = tc_quant_params_from_ranges(s->n, bmin, bmax, TC_DTYPE_S8, 1, sb, zb)) != TC_OK ||
        (st = tc_quant_params_from_range(-cmax, cmax, cq8, 1, &sc, &zc)) != TC_OK)
        goto done;
    const int64_t da[2] = {s->m, s->k}, db[2] = {s->tb ? s->n : s->k, s->tb ? s->k : s->n}, dc[2] = {s->m, s->n};
    const tc_quant qqa = {-1, 1, &sa, &za}, qqb = {s->tb ? 0 : 1, s->n, sb, zb}, qqc = {-1, 1, &sc, &zc};
    if ((st = tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, da, ha, &g.af)) != TC_OK ||
        (st = tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, db, hb, &g.bf)) != TC_OK ||
        (st = tc_tensor_create(ctx, TC_DTYPE_F32, 2, dc, &g.cf)) != TC_OK ||
        (st = tc_tensor_create(ctx, TC_DTYPE_U8, 2, da, &g.aq)) != TC_OK ||
        (st = tc_tensor_create(ctx, TC_DTYPE_S8, 2, db, &g.bq)) != TC_OK ||
        (st = tc_tensor_create(ctx, o->out, 2, dc, &g.cq)) != TC_OK || (st = tc_tensor_set_quant(g.aq, &qqa)) != TC_OK ||
        (st = tc_tensor_set_quant(g.bq, &qqb)) != TC_OK ||
        (o->out != TC_DTYPE_F32 && (st = tc_tensor_set_quant(g.cq, &qqc)) != TC_OK) ||
        (st = tc_quantize(ctx, g.af, g.aq, NULL)) != TC_OK || (st = tc_quantize(ctx, g.bf, g.bq, NULL)) != TC_OK)
        goto done;
    /* the f32 op, then each int8 variant the device runs, once per call and with a plan;
     * weights: s8 with a scale and zero point per column, against f32 */
    qtimer qs[1 + 2 * TC_VARIANT_COUNT];
    igemm_runner rs[2 * TC_VARIANT_COUNT];
    int nq = 0;
    failed = 0;
    memset(qs, 0, sizeof qs);
    memset(rs, 0, sizeof rs);
    qs[nq++] = (qtimer){.op = "matmul", .variant = tc_matmul_auto_variant(ctx, s->m, s->n, s->k, 0, s->tb),
                        .io = "f32>f32", .weight_bytes = 4.0 * (double)kn, .run = run_matmul, .read = read_matmul};
    const char *io = o->out == TC_DTYPE_S8 ? "u8>s8" : o->out == TC_DTYPE_U8 ? "u8>u8" : "u8>f32";
    for (int v = 0; v < o->nvars; v++)
        for (int plan = 0; plan < 2; plan++) {
            igemm_runner *r = &rs[nq - 1];
            r->p = tc_igemm_defaults();
            r->p.trans_b = s->tb;
            r->p.variant = o->vars[v];
            r->use_plan = plan;
            const tc_status ps = plan ? tc_igemm_plan_create(ctx, g.bq, &r->p, &r->plan) : TC_OK;
            if (ps == TC_ERR_UNSUPPORTED) break; /* a variant this device does not run */
            if (ps != TC_OK) {
                fprintf(stderr, "tinycl bench quant: igemm %s plan: %s\n", tc_variant_name(o->vars[v]), tc_last_error(ctx));
                failed = 1;
                continue;
            }
            qs[nq++] = (qtimer){.op = "igemm", .variant = o->vars[v], .plan = plan, .io = io,
                                .weight_bytes = (double)kn + 8.0 * (double)s->n, .run = run_igemm, .read = read_igemm,
                                .self = r};
        }
    failed |= time_and_report(ctx, &g, qs, nq, &sh, o);
    for (int i = 0; i < nq - 1; i++) tc_igemm_plan_free(rs[i].plan);
    st = TC_OK;
done:
    if (st != TC_OK) fprintf(stderr, "tinycl bench quant: %s\n", tc_last_error(ctx));
    free_gemm(&g);
    free(ha), free(hb), free(sb), free(bmin), free(bmax), free(sh.exact), free(zb);
    return failed || st != TC_OK;
}

/* ---- the layer pairs: qconv2d against conv2d, qlinear against linear ---------------
 * Both sides are plans (weights prepared once, as in a model). The int8 layer runs on
 * f32 data (x quantized on the fly, y dequantized: a drop-in for the f32 layer) and
 * on u8 data (x given quantized, y requantized: a layer inside an int8 model). */

typedef struct {
    int64_t n, c, h, w, k, r, s, p, q, st, pad, dil; /* the same stride, padding and dilation on both axes */
} conv_geom;

typedef struct {
    int conv;
    conv_geom d; /* conv */
    int64_t b, in, out; /* linear */
    int bias, relu;
} layer_shape;

static int conv_parse(const char *spec, void *out)
{
    layer_shape *s = out;
    tc_case c;
    const tc_opdesc *conv = tc_opdesc_find("conv2d");
    if (conv->parse(spec, &c) != 0 || tc_case_int(&c, "groups") != 1) return -1;
    memset(s, 0, sizeof *s);
    s->conv = 1;
    s->d = (conv_geom){tc_case_int(&c, "n"), tc_case_int(&c, "c"), tc_case_int(&c, "h"), tc_case_int(&c, "w"),
                       tc_case_int(&c, "k"), tc_case_int(&c, "r"), tc_case_int(&c, "s"), 0, 0,
                       tc_case_int(&c, "stride_h"), tc_case_int(&c, "pad_h"), tc_case_int(&c, "dil_h")};
    s->bias = tc_case_int(&c, "bias") != 0, s->relu = tc_case_int(&c, "relu") != 0;
    return tc_conv2d_out_size(s->d.h, s->d.r, (int)s->d.st, (int)s->d.pad, (int)s->d.dil, &s->d.p) ||
           tc_conv2d_out_size(s->d.w, s->d.s, (int)s->d.st, (int)s->d.pad, (int)s->d.dil, &s->d.q);
}

static int linear_parse(const char *spec, void *out)
{
    layer_shape *s = out;
    long long b, in, o;
    int used = 0;
    if (sscanf(spec, "linear:%lldx%lldx%lld%n", &b, &in, &o, &used) != 3 || spec[used] || b < 1 || in < 1 || o < 1)
        return -1;
    *s = (layer_shape){.b = b, .in = in, .out = o, .bias = 1};
    return 0;
}

typedef struct {
    const layer_shape *s;
    tc_tensor *xf, *wf, *bf, *yf, *xq, *yq;
    tc_conv2d_plan *conv;
    tc_linear_plan *lin;
} layer_data;

typedef struct {
    tc_qconv2d_plan *conv;
    tc_qlinear_plan *lin;
    int q8; /* u8 in and out */
} qlayer_runner;

static tc_status run_f32_layer(tc_ctx *ctx, void *data, void *self)
{
    (void)ctx, (void)self;
    layer_data *g = data;
    return g->conv ? tc_conv2d_plan_run(g->conv, g->xf, g->yf) : tc_linear_plan_run(g->lin, g->xf, g->yf);
}

static tc_status read_f32_layer(tc_ctx *ctx, void *data, void *self, float *dst, size_t n)
{
    (void)ctx, (void)self;
    return tc_tensor_read(((layer_data *)data)->yf, dst, n * sizeof *dst);
}

static tc_status run_q_layer(tc_ctx *ctx, void *data, void *self)
{
    (void)ctx;
    layer_data *g = data;
    qlayer_runner *r = self;
    const tc_tensor *x = r->q8 ? g->xq : g->xf;
    tc_tensor *y = r->q8 ? g->yq : g->yf;
    return r->conv ? tc_qconv2d_plan_run(r->conv, x, y) : tc_qlinear_plan_run(r->lin, x, y);
}

static tc_status read_q_layer(tc_ctx *ctx, void *data, void *self, float *dst, size_t n)
{
    layer_data *g = data;
    return read_q(ctx, ((qlayer_runner *)self)->q8 ? g->yq : g->yf, g->yf, dst, n);
}

/* The exact (f64) layer on the host. */
static void exact_layer(const layer_shape *s, const float *x, const float *w, const float *b, double *y)
{
    if (!s->conv) {
        for (int64_t i = 0; i < s->b; i++)
            for (int64_t j = 0; j < s->out; j++) {
                double acc = b ? b[j] : 0;
                for (int64_t k = 0; k < s->in; k++) acc += (double)x[i * s->in + k] * w[j * s->in + k];
                y[i * s->out + j] = s->relu && acc < 0 ? 0 : acc;
            }
        return;
    }
    const conv_geom *d = &s->d;
    for (int64_t n = 0; n < d->n; n++)
        for (int64_t k = 0; k < d->k; k++)
            for (int64_t p = 0; p < d->p; p++)
                for (int64_t q = 0; q < d->q; q++) {
                    double acc = b ? b[k] : 0;
                    for (int64_t c = 0; c < d->c; c++)
                        for (int64_t r = 0; r < d->r; r++)
                            for (int64_t t = 0; t < d->s; t++) {
                                const int64_t ih = p * d->st - d->pad + r * d->dil, iw = q * d->st - d->pad + t * d->dil;
                                if (ih >= 0 && ih < d->h && iw >= 0 && iw < d->w)
                                    acc += (double)x[((n * d->c + c) * d->h + ih) * d->w + iw] *
                                           w[((k * d->c + c) * d->r + r) * d->s + t];
                            }
                    y[((n * d->k + k) * d->p + p) * d->q + q] = s->relu && acc < 0 ? 0 : acc;
                }
}

static void free_layer(layer_data *g)
{
    tc_tensor *all[] = {g->xf, g->wf, g->bf, g->yf, g->xq, g->yq};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_conv2d_plan_free(g->conv);
    tc_linear_plan_free(g->lin);
}

static int layer_run(tc_ctx *ctx, const void *shape, const qopts *o)
{
    const layer_shape *s = shape;
    const conv_geom *d = &s->d;
    const int64_t nx = s->conv ? d->n * d->c * d->h * d->w : s->b * s->in;
    const int64_t nw = s->conv ? d->k * d->c * d->r * d->s : s->out * s->in, nout = s->conv ? d->k : s->out;
    const int64_t ny = s->conv ? d->n * d->k * d->p * d->q : s->b * s->out;
    const int64_t xd[4] = {s->conv ? d->n : s->b, s->conv ? d->c : s->in, d->h, d->w};
    const int64_t wd[4] = {nout, s->conv ? d->c : s->in, d->r, d->s}, yd[4] = {xd[0], nout, d->p, d->q};
    const int nd = s->conv ? 4 : 2;
    float *hx = malloc((size_t)nx * sizeof *hx), *hw = malloc((size_t)nw * sizeof *hw);
    float *hb = malloc((size_t)nout * sizeof *hb);
    qshape sh = {.gop = 2e-9 * (double)ny * (double)(nw / nout), .exact = malloc((size_t)ny * sizeof(double)),
                 .nout = (size_t)ny};
    char cs[96] = "";
    if (s->conv) {
        snprintf(cs, sizeof cs, "n%lldc%lldh%lldw%lldk%lldr%llds%lld", (long long)d->n, (long long)d->c,
                 (long long)d->h, (long long)d->w, (long long)d->k, (long long)d->r, (long long)d->s);
        snprintf(sh.text, sizeof sh.text, "%s st%lld pad%lld dil%lld%s%s", cs, (long long)d->st,
                 (long long)d->pad, (long long)d->dil, s->bias ? " bias" : "", s->relu ? " relu" : "");
        snprintf(sh.json, sizeof sh.json,
                 "{\"n\":%lld,\"c\":%lld,\"h\":%lld,\"w\":%lld,\"k\":%lld,\"r\":%lld,\"s\":%lld,\"stride\":%lld,"
                 "\"pad\":%lld,\"dil\":%lld,\"bias\":%d,\"relu\":%d}",
                 (long long)d->n, (long long)d->c, (long long)d->h, (long long)d->w, (long long)d->k,
                 (long long)d->r, (long long)d->s, (long long)d->st, (long long)d->pad, (long long)d->dil,
                 s->bias, s->relu);
    } else {
        snprintf(sh.text, sizeof sh.text, "b=%lld in=%lld out=%lld bias", (long long)s->b, (long long)s->in,
                 (long long)s->out);
        snprintf(sh.json, sizeof sh.json, "{\"b\":%lld,\"in\":%lld,\"out\":%lld,\"bias\":1}", (long long)s->b,
                 (long long)s->in, (long long)s->out);
    }
    layer_data g = {.s = s};
    int failed = 1;
    tc_status st = TC_ERR_OUT_OF_MEMORY;
    if (!hx || !hw || !hb || !sh.exact) goto done;
    uint64_t seed = o->seed;
    tc_rand_f32(hx, (size_t)nx, -1.0f, 1.0f, &seed);
    tc_rand_f32(hw, (size_t)nw, -1.0f, 1.0f, &seed);
    tc_rand_f32(hb, (size_t)nout, -1.0f, 1.0f, &seed);
    exact_layer(s, hx, hw, s->bias ? hb : NULL, sh.exact);
    /* x: u8 over its range, as calibration finds it; y (inside an int8 model): u8 over the result's */
    float xlo = 0, xhi = 0, sx, sy;
    double ylo = 0, yhi = 0;
    int32_t zx, zy;
    for (int64_t i = 0; i < nx; i++) xlo = fminf(xlo, hx[i]), xhi = fmaxf(xhi, hx[i]);
    for (int64_t i = 0; i < ny; i++) ylo = fmin(ylo, sh.exact[i]), yhi = fmax(yhi, sh.exact[i]);
    if ((st = tc_quant_params_from_range(xlo, xhi, TC_DTYPE_U8, 0, &sx, &zx)) != TC_OK ||
        (st = tc_quant_params_from_range((float)ylo, (float)yhi, TC_DTYPE_U8, 0, &sy, &zy)) != TC_OK)
        goto done;
    const tc_quant qx = {-1, 1, &sx, &zx}, qy = {-1, 1, &sy, &zy};
    if ((st = tc_tensor_from_host(ctx, TC_DTYPE_F32, nd, xd, hx, &g.xf)) != TC_OK ||
        (st = tc_tensor_from_host(ctx, TC_DTYPE_F32, nd, wd, hw, &g.wf)) != TC_OK ||
        (s->bias && (st = tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, &nout, hb, &g.bf)) != TC_OK) ||
        (st = tc_tensor_create(ctx, TC_DTYPE_F32, nd, yd, &g.yf)) != TC_OK ||
        (st = tc_tensor_create(ctx, TC_DTYPE_U8, nd, xd, &g.xq)) != TC_OK ||
        (st = tc_tensor_create(ctx, TC_DTYPE_U8, nd, yd, &g.yq)) != TC_OK ||
        (st = tc_tensor_set_quant(g.xq, &qx)) != TC_OK || (st = tc_tensor_set_quant(g.yq, &qy)) != TC_OK ||
        (st = tc_quantize(ctx, g.xf, g.xq, NULL)) != TC_OK)
        goto done;
    const int64_t chw[3] = {d->c, d->h, d->w};
    if (s->conv) {
        tc_conv2d_params p = tc_conv2d_defaults();
        p.stride_h = p.stride_w = (int)d->st, p.pad_h = p.pad_w = (int)d->pad, p.dil_h = p.dil_w = (int)d->dil;
        p.bias = g.bf, p.relu = s->relu;
        st = tc_conv2d_plan_create(ctx, g.wf, chw, &p, &g.conv);
    } else {
        tc_linear_params p = tc_linear_defaults();
        p.relu = s->relu;
        st = tc_linear_plan_create(ctx, g.wf, g.bf, &p, &g.lin);
    }
    if (st != TC_OK) goto done;
    /* the f32 layer, then each int8 variant the device runs on f32 and on u8 data;
     * weights: s8 with a scale and zero point per output channel against f32, the bias
     * s32 against f32 */
    qtimer qs[1 + 2 * TC_VARIANT_COUNT];
    qlayer_runner rs[2 * TC_VARIANT_COUNT];
    int nq = 0;
    failed = 0;
    memset(qs, 0, sizeof qs);
    memset(rs, 0, sizeof rs);
    const double bias_bytes = s->bias ? 4.0 * (double)nout : 0;
    qs[nq++] = (qtimer){.op = s->conv ? "conv2d" : "linear",
                        .variant = s->conv ? tc_conv2d_plan_variant(g.conv) : tc_linear_plan_variant(g.lin, xd[0]),
                        .plan = 1, .io = "f32>f32", .weight_bytes = 4.0 * (double)nw + bias_bytes,
                        .run = run_f32_layer, .read = read_f32_layer};
    for (int v = 0; v < o->nvars; v++) {
        qlayer_runner *r = &rs[nq - 1];
        tc_status ps;
        if (s->conv) {
            tc_qconv2d_params p = tc_qconv2d_defaults();
            p.stride_h = p.stride_w = (int)d->st, p.pad_h = p.pad_w = (int)d->pad, p.dil_h = p.dil_w = (int)d->dil;
            p.in_scale = sx, p.in_zero_point = zx, p.relu = s->relu, p.variant = o->vars[v];
            ps = tc_qconv2d_plan_create(ctx, g.wf, chw, g.bf, &p, &r->conv);
        } else {
            tc_qlinear_params p = tc_qlinear_defaults();
            p.in_scale = sx, p.in_zero_point = zx, p.relu = s->relu, p.variant = o->vars[v];
            ps = tc_qlinear_plan_create(ctx, g.wf, g.bf, &p, &r->lin);
        }
        if (ps == TC_ERR_UNSUPPORTED) continue; /* a variant this device does not run */
        if (ps != TC_OK) {
            fprintf(stderr, "tinycl bench quant: %s %s plan: %s\n", s->conv ? "qconv2d" : "qlinear",
                    tc_variant_name(o->vars[v]), tc_last_error(ctx));
            failed = 1;
            continue;
        }
        rs[nq] = (qlayer_runner){r->conv, r->lin, 1}; /* the same plan on u8 data */
        for (int q8 = 0; q8 < 2; q8++, nq++)
            qs[nq] = (qtimer){.op = s->conv ? "qconv2d" : "qlinear", .variant = o->vars[v], .plan = 1,
                              .io = q8 ? "u8>u8" : "f32>f32", .weight_bytes = (double)nw + 8.0 * (double)nout + bias_bytes,
                              .run = run_q_layer, .read = read_q_layer, .self = &rs[nq - 1]};
    }
    failed |= time_and_report(ctx, &g, qs, nq, &sh, o);
    for (int i = 0; i + 1 < nq; i += 2) {
        tc_qconv2d_plan_free(rs[i].conv);
        tc_qlinear_plan_free(rs[i].lin);
    }
    st = TC_OK;
done:
    if (st != TC_OK) fprintf(stderr, "tinycl bench quant: %s\n", tc_last_error(ctx));
    free_layer(&g);
    free(hx), free(hw), free(hb), free(sh.exact);
    return failed || st != TC_OK;
}

/* ---- the pairs and the command ----------------------------------------------------- */

typedef struct {
    const char *syntax;
    int (*parse)(const char *spec, void *shape);
    int (*run)(tc_ctx *ctx, const void *shape, const qopts *o);
} qpair;

_Static_assert(sizeof(layer_shape) <= SHAPE_WORDS * sizeof(int64_t) && sizeof(gemm_shape) <= SHAPE_WORDS * sizeof(int64_t),
               "a pair's shape fits its slot");

static const qpair pairs[] = {
    {"MxNxK[:tb] (igemm against matmul)", gemm_parse, gemm_run},
    {"conv2d's spec, e.g. n1c64h56w56k64r3s3pad1 (qconv2d against conv2d)", conv_parse, layer_run},
    {"linear:BxINxOUT (qlinear against linear)", linear_parse, layer_run},
};

int cli_bench_quant(const cli_args *a)
{
    const char *out_s = cli_get(a, "--out-dtype");
    qopts o = {.reps = (int)cli_int(a, "--reps", 10),
               .samples = cli_get(a, "--samples") != NULL,
               .budget_ms = cli_ms(a, "--budget", 3000.0),
               .out = !out_s || strcmp(out_s, "s8") == 0 ? TC_DTYPE_S8
                      : strcmp(out_s, "u8") == 0         ? TC_DTYPE_U8
                                                         : TC_DTYPE_F32};
    const uint64_t seed = cli_seed(a, "--seed", 12345u);
    /* the int8 op's variants: named, or by device type every one but ref (seconds per
     * run at these sizes) and but the shapes meant for the other type */
    char buf[1024];
    qopts o_cpu = o, o_other = o, o_ref = o;
    o_ref.vars[0] = TC_VARIANT_REF, o_ref.nvars = 1;
    o_cpu.vars[0] = TC_VARIANT_OPENCL, o_cpu.vars[1] = TC_VARIANT_VNNI, o_cpu.vars[2] = TC_VARIANT_VNNI256;
    o_cpu.nvars = 3;
    o_other.vars[0] = TC_VARIANT_OPENCL, o_other.vars[1] = TC_VARIANT_GPU, o_other.nvars = 2;
    const char *vars_s = cli_get(a, "--variants");
    if (vars_s) {
        snprintf(buf, sizeof buf, "%s", vars_s);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (o.nvars == TC_VARIANT_COUNT) return cli_misuse(a, "too many variants");
            if (tc_variant_parse(tok, &o.vars[o.nvars++]) != TC_OK) return cli_misuse(a, "%s", tc_last_error(NULL));
        }
        if (!o.nvars) return cli_misuse(a, "--variants names no variant");
    }
    /* sizes: each parsed by the first pair that accepts it */
    const int npairs = (int)(sizeof pairs / sizeof pairs[0]);
    int nsizes = 0, which[MAX_SIZES];
    int64_t shapes[MAX_SIZES][SHAPE_WORDS]; /* each pair's shape struct */
    const char *sizes = cli_get(a, "--sizes");
    snprintf(buf, sizeof buf, "%s", sizes ? sizes : DEFAULT_SIZES);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (nsizes == MAX_SIZES) return cli_misuse(a, "at most %d sizes", MAX_SIZES);
        int p = 0;
        while (p < npairs && pairs[p].parse(tok, shapes[nsizes]) != 0) p++;
        if (p == npairs) {
            char syn[512] = "";
            for (int i = 0; i < npairs; i++)
                snprintf(syn + strlen(syn), sizeof syn - strlen(syn), "%s%s", i ? ", " : "", pairs[i].syntax);
            return cli_misuse(a, "bad size '%s'; sizes are %s", tok, syn);
        }
        which[nsizes++] = p;
    }
    if (!nsizes) return cli_misuse(a, "--sizes names no size");
    res_set rs = {.reps = o.reps, .has_budget = 1, .has_seed = 1, .budget_ms = o.budget_ms, .seed = seed};
    int failed = 0;
    for (int k = 0; k < a->ndevices; k++) {
        const int di = a->devices[k];
        if (di == 0 && !a->device_source && a->ndevices > 1) continue; /* by default every OpenCL device */
        char spec[16];
        cli_device_spec(di, spec, sizeof spec);
        tc_ctx *ctx;
        if (tc_ctx_create(spec, 0, &ctx) != TC_OK) {
            fprintf(stderr, "tinycl bench quant: %s\n", tc_last_error(NULL));
            failed = 1;
            continue;
        }
        const tc_device_type type = tc_ctx_device(ctx)->type;
        for (int i = 0; i < nsizes; i++) {
            qopts oi = vars_s ? o : type == TC_DEVICE_REF ? o_ref : type == TC_DEVICE_CPU ? o_cpu : o_other;
            oi.seed = seed + (uint64_t)i, oi.device = tc_ctx_device(ctx)->name, oi.rs = &rs;
            failed |= pairs[which[i]].run(ctx, shapes[i], &oi);
        }
        tc_ctx_free(ctx);
    }
    failed |= res_output(&rs, a);
    res_free(&rs);
    return failed;
}
