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

#define MAX_SIZES 16 /* a record's size is its index + MAX_SIZES * device */
#define SHAPE_WORDS 8
#define MAX_REPS 1000

typedef struct {
    const char *op; /* "igemm", "matmul" */
    tc_variant variant;
    int plan;       /* the weights packed once by a plan, outside the timing */
    int size;       /* index into the sizes: finds the f32 record of the same shape */
    char device_name[256];
    char shape[128], shape_json[192];
    double ms[MAX_REPS]; /* run times, in run order */
    int runs;
    double median_ms, gops;
    double max_abs, rel, sqnr_db;
    double weight_bytes;
} qrec;

typedef struct {
    tc_variant vars[TC_VARIANT_COUNT]; /* int8 variants to time */
    int nvars;
    int reps;
    double budget_ms;
    tc_dtype out; /* the int8 op's output: s8, u8 (requantized) or f32 */
} qopts;

typedef struct {
    qrec *recs;
    int n, cap;
} qlist;

static qrec *add(qlist *l)
{
    if (l->n == l->cap) {
        const int cap = l->cap ? 2 * l->cap : 32;
        qrec *r = realloc(l->recs, (size_t)cap * sizeof *r);
        if (!r) return NULL;
        l->recs = r, l->cap = cap;
    }
    memset(&l->recs[l->n], 0, sizeof l->recs[0]);
    return &l->recs[l->n++];
}

/* One timed thing of a size (the f32 op, or an int8 variant with or without a plan):
 * `run` makes one call; the times of its rounds go to t. */
typedef struct {
    tc_status (*run)(tc_ctx *ctx, void *data, void *self);
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

static void summarize(const qtimer *q, qrec *r)
{
    memcpy(r->ms, q->t, (size_t)q->n * sizeof q->t[0]);
    r->runs = q->n;
    r->median_ms = res_median(q->t, q->n);
}

/* Error of x against the exact result: max |x - e|, that over max |e|, SQNR in dB. */
static void errors(const float *x, const double *e, size_t n, qrec *r)
{
    double maxe = 0, maxd = 0, se = 0, sd = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)x[i] - e[i]);
        maxd = fmax(maxd, d), maxe = fmax(maxe, fabs(e[i]));
        sd += d * d, se += e[i] * e[i];
    }
    r->max_abs = maxd;
    r->rel = maxe > 0 ? maxd / maxe : maxd;
    r->sqnr_db = sd > 0 ? 10.0 * log10(se / sd) : INFINITY;
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

static void describe(const gemm_shape *s, qrec *r)
{
    snprintf(r->shape, sizeof r->shape, "m=%lld n=%lld k=%lld%s", (long long)s->m, (long long)s->n, (long long)s->k,
             s->tb ? " tb" : "");
    snprintf(r->shape_json, sizeof r->shape_json, "{\"m\":%lld,\"n\":%lld,\"k\":%lld,\"trans_b\":%d}", (long long)s->m,
             (long long)s->n, (long long)s->k, s->tb);
}

static void free_gemm(gemm_data *g)
{
    tc_tensor *all[] = {g->af, g->bf, g->cf, g->aq, g->bq, g->cq};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
}

/* The int8 op's output as floats (in cf): dequantized when it is 8-bit. */
static tc_status read_out(tc_ctx *ctx, const gemm_data *g, float *dst, size_t n)
{
    if (tc_tensor_dtype(g->cq) == TC_DTYPE_F32) return tc_tensor_read(g->cq, dst, n * sizeof *dst);
    tc_status st = tc_dequantize(ctx, g->cq, g->cf, NULL);
    return st == TC_OK ? tc_tensor_read(g->cf, dst, n * sizeof *dst) : st;
}

static int gemm_run(tc_ctx *ctx, const void *shape, int size, const qopts *o, qlist *out)
{
    const gemm_shape *s = shape;
    const size_t mk = (size_t)(s->m * s->k), kn = (size_t)(s->k * s->n), mn = (size_t)(s->m * s->n);
    const double gop = 2e-9 * (double)s->m * (double)s->n * (double)s->k;
    float *ha = malloc(mk * sizeof *ha), *hb = malloc(kn * sizeof *hb), *hc = malloc(mn * sizeof *hc);
    float *sb = malloc((size_t)s->n * sizeof *sb), *bmin = malloc((size_t)s->n * sizeof *bmin);
    float *bmax = malloc((size_t)s->n * sizeof *bmax);
    double *exact = calloc(mn, sizeof *exact);
    int32_t *zb = malloc((size_t)s->n * sizeof *zb);
    gemm_data g;
    memset(&g, 0, sizeof g);
    g.tb = s->tb;
    int failed = 1;
    tc_status st = TC_ERR_OUT_OF_MEMORY;
    if (!ha || !hb || !hc || !sb || !bmin || !bmax || !exact || !zb) goto done;
    uint64_t seed = 12345u + (uint64_t)(size % MAX_SIZES); /* the same data on every device */
    tc_rand_f32(ha, mk, -1.0f, 1.0f, &seed);
    tc_rand_f32(hb, kn, -1.0f, 1.0f, &seed);
#define B_AT(p, j) (s->tb ? (j) * s->k + (p) : (p) * s->n + (j))
    for (int64_t i = 0; i < s->m; i++) /* the exact product of the f32 inputs */
        for (int64_t p = 0; p < s->k; p++) {
            const double a = ha[i * s->k + p];
            for (int64_t j = 0; j < s->n; j++) exact[i * s->n + j] += a * hb[B_AT(p, j)];
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
    for (size_t i = 0; i < mn; i++) cmax = fmaxf(cmax, (float)fabs(exact[i]));
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
    /* the f32 op, then each int8 variant the device runs, once per call and with a plan */
    qtimer qs[1 + 2 * TC_VARIANT_COUNT];
    igemm_runner rs[2 * TC_VARIANT_COUNT];
    int nq = 0;
    failed = 0;
    memset(qs, 0, sizeof qs);
    memset(rs, 0, sizeof rs);
    qs[nq++].run = run_matmul;
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
            qs[nq].run = run_igemm, qs[nq++].self = r;
        }
    time_all(ctx, &g, qs, nq, o);
    for (int i = 0; i < nq; i++) {
        const igemm_runner *r = qs[i].self;
        if (qs[i].st == TC_ERR_UNSUPPORTED) continue;
        qrec *q = qs[i].st == TC_OK ? add(out) : NULL;
        if (!q) {
            fprintf(stderr, "tinycl bench quant: %s %s: %s\n", r ? "igemm" : "matmul",
                    r ? tc_variant_name(r->p.variant) : "", qs[i].st == TC_OK ? "out of memory" : tc_last_error(ctx));
            failed = 1;
            continue;
        }
        q->op = r ? "igemm" : "matmul";
        q->variant = r ? r->p.variant : tc_matmul_auto_variant(ctx, s->m, s->n, s->k, 0, s->tb);
        q->plan = r ? r->use_plan : 0;
        q->size = size;
        /* s8 weights with a scale and zero point per column, against f32 weights */
        q->weight_bytes = r ? (double)kn + 8.0 * (double)s->n : 4.0 * (double)kn;
        describe(s, q);
        summarize(&qs[i], q);
        q->gops = gop / q->median_ms * 1e3;
        /* the error of this one's own output: one more call */
        st = qs[i].run(ctx, &g, qs[i].self);
        if (st == TC_OK) st = r ? read_out(ctx, &g, hc, mn) : tc_tensor_read(g.cf, hc, mn * sizeof *hc);
        if (st != TC_OK) {
            fprintf(stderr, "tinycl bench quant: %s\n", tc_last_error(ctx));
            failed = 1, out->n--;
            continue;
        }
        errors(hc, exact, mn, q);
    }
    for (int i = 0; i < nq - 1; i++) tc_igemm_plan_free(rs[i].plan);
    st = TC_OK;
done:
    if (st != TC_OK) fprintf(stderr, "tinycl bench quant: %s\n", tc_last_error(ctx));
    free_gemm(&g);
    free(ha), free(hb), free(hc), free(sb), free(bmin), free(bmax), free(exact), free(zb);
    return failed || st != TC_OK;
}

/* ---- the pairs, the table and the records ---------------------------------------- */

typedef struct {
    const char *syntax;
    int (*parse)(const char *spec, void *shape);
    int (*run)(tc_ctx *ctx, const void *shape, int size, const qopts *o, qlist *out);
} qpair;

static const qpair pairs[] = {
    {"MxNxK[:tb] (igemm against matmul)", gemm_parse, gemm_run},
};


static const qrec *float_of(const qlist *l, const qrec *r)
{
    for (int i = 0; i < l->n; i++)
        if (l->recs[i].size == r->size && strcmp(l->recs[i].op, "matmul") == 0) return &l->recs[i];
    return NULL;
}

static int to_records(const qlist *l, int samples, res_set *rs)
{
    for (int i = 0; i < l->n; i++) {
        const qrec *r = &l->recs[i], *f = float_of(l, r);
        res_record *o = res_add(rs);
        if (!o) return 1;
        const int f32 = strcmp(r->op, "matmul") == 0;
        res_str(o, "op", "op", r->op);
        res_str(o, "variant", "variant", tc_variant_name(r->variant));
        res_obj(o, "plan", "plan", r->plan ? "yes" : "no", r->plan ? "true" : "false");
        res_str(o, "device", "device", r->device_name);
        res_obj(o, "shape", "shape", r->shape, r->shape_json);
        res_times(o, r->ms, r->runs, samples);
        res_num(o, f32 ? "gflops" : "gops", "GOP/s", "%.1f", r->gops);
        if (f && f != r) res_num(o, "speedup_vs_f32", "vs f32", "%.2fx", f->median_ms / r->median_ms);
        res_num(o, "max_abs_err", "max abs", "%.3e", r->max_abs);
        res_num(o, "rel_err", "rel err", "%.2e", r->rel);
        res_num(o, "sqnr_db", "SQNR dB", "%.1f", isfinite(r->sqnr_db) ? r->sqnr_db : 999.0);
        res_num(o, "weight_bytes", "weight bytes", "%.0f", r->weight_bytes);
    }
    return 0;
}

int cli_bench_quant(const cli_args *a)
{
    const char *sizes_s = cli_get(a, "--sizes"), *vars_s = cli_get(a, "--variants"), *dt = cli_get(a, "--dtype");
    qopts o = {.reps = (int)cli_int(a, "--reps", 10),
               .budget_ms = cli_ms(a, "--budget", 3000.0),
               .out = !dt || strcmp(dt, "s8") == 0 ? TC_DTYPE_S8 : strcmp(dt, "u8") == 0 ? TC_DTYPE_U8 : TC_DTYPE_F32};
    /* the int8 op's variants: named, or by device type every one but ref (seconds per
     * run at these sizes) and but the shapes meant for the other type */
    char buf[1024];
    qopts o_cpu = o, o_other = o, o_ref = o;
    o_ref.vars[0] = TC_VARIANT_REF, o_ref.nvars = 1;
    o_cpu.vars[0] = TC_VARIANT_OPENCL, o_cpu.vars[1] = TC_VARIANT_VNNI, o_cpu.vars[2] = TC_VARIANT_VNNI256;
    o_cpu.nvars = 3;
    o_other.vars[0] = TC_VARIANT_OPENCL, o_other.vars[1] = TC_VARIANT_GPU, o_other.nvars = 2;
    if (vars_s) {
        snprintf(buf, sizeof buf, "%s", vars_s);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (o.nvars == TC_VARIANT_COUNT) return cli_misuse(a, "too many variants");
            if (tc_variant_parse(tok, &o.vars[o.nvars++]) != TC_OK) return cli_misuse(a, "%s", tc_last_error(NULL));
        }
        if (!o.nvars) return cli_misuse(a, "--variants names no variant");
    }
    /* sizes: each parsed by the first pair that accepts it */
    int npairs = (int)(sizeof pairs / sizeof pairs[0]), nsizes = 0, which[MAX_SIZES];
    int64_t shapes[MAX_SIZES][SHAPE_WORDS]; /* each pair's shape struct */
    snprintf(buf, sizeof buf, "%s", sizes_s ? sizes_s : "1024x1024x1024,2048x2048x2048,256x4096x1024:tb");
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int p = 0;
        while (p < npairs && (nsizes == MAX_SIZES || pairs[p].parse(tok, shapes[nsizes]) != 0)) p++;
        if (p == npairs) return cli_misuse(a, "bad size '%s'; sizes are %s", tok, pairs[0].syntax);
        which[nsizes++] = p;
    }
    if (!nsizes) return cli_misuse(a, "--sizes names no size");
    qlist l = {NULL, 0, 0};
    int failed = 0;
    for (int k = 0; k < a->ndevices; k++) {
        const int di = a->devices[k];
        if (di == 0 && !a->device_source && a->ndevices > 1) continue; /* every device: the OpenCL ones */
        char spec[16];
        snprintf(spec, sizeof spec, "%d", di);
        tc_ctx *ctx;
        if (tc_ctx_create(spec, 0, &ctx) != TC_OK) {
            fprintf(stderr, "tinycl bench quant: %s\n", tc_last_error(NULL));
            failed = 1;
            continue;
        }
        for (int i = 0; i < nsizes; i++) {
            const int from = l.n;
            const tc_device_type type = tc_ctx_device(ctx)->type;
            const qopts *oi = vars_s                     ? &o
                              : type == TC_DEVICE_REF ? &o_ref
                              : type == TC_DEVICE_CPU ? &o_cpu
                                                      : &o_other;
            failed |= pairs[which[i]].run(ctx, shapes[i], i + MAX_SIZES * di, oi, &l);
            for (int r = from; r < l.n; r++)
                snprintf(l.recs[r].device_name, sizeof l.recs[r].device_name, "%s", tc_ctx_device(ctx)->name);
        }
        tc_ctx_free(ctx);
    }
    res_set rs = {.reps = o.reps, .has_budget = 1, .budget_ms = o.budget_ms};
    failed |= to_records(&l, cli_get(a, "--samples") != NULL, &rs) || res_output(&rs, a);
    res_free(&rs);
    free(l.recs);
    return failed;
}
