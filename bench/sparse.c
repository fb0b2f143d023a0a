/* tinycl bench sparse: where pruned weights start to pay. For each device, one
 * random OUT x IN weight is pruned to each sparsity of the sweep (magnitude, the
 * format's block pattern); at each batch the sparse product (spmv at batch 1,
 * spmm above) and the project's best dense kernel of the same shape (a
 * tc_linear_plan: packed weights, AUTO's variant; recorded as op "matmul") are
 * timed in alternation, one call each per round, so load from elsewhere falls on
 * both alike; the speedup is the median over rounds of the round's dense time
 * over its sparse time. The breakeven of a batch is the lowest sparsity of the
 * sweep from which sparse is faster at every higher sparsity too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/meta.h"
#include "bench/results.h"
#include "check/opdesc.h"

#define MAX_LIST 16

typedef struct {
    const char *op, *variant, *format;
    char device[256];
    int64_t batch, out, in;
    double sparsity, median_ms, gflops, err, speedup;
    size_t weight_bytes;
    double *ms; /* run times, in run order (owned) */
    int reps;
} record;

typedef struct {
    char device[256];
    int64_t batch;
    double sparsity; /* < 0: sparse never won */
} breakeven;

/* "a,b,c" into v (at most MAX_LIST numbers in [lo, hi)); the count, or -1. */
static int parse_list(const char *s, double *v, double lo, double hi)
{
    int n = 0;
    for (const char *p = s;; p++) {
        char *end;
        const double x = strtod(p, &end);
        if (end == p || n == MAX_LIST || !(x >= lo && x < hi)) return -1;
        v[n++] = x;
        p = end;
        if (*p == '\0') return n;
        if (*p != ',') return -1;
    }
}

static tc_prune_pattern pattern_of(tc_sparse_format f)
{
    return f == TC_SPARSE_BSR_1X4   ? TC_PRUNE_BLOCK_1X4
           : f == TC_SPARSE_BSR_1X8 ? TC_PRUNE_BLOCK_1X8
           : f == TC_SPARSE_BSR_4X4 ? TC_PRUNE_BLOCK_4X4
                                    : TC_PRUNE_ELEMENT;
}

static double max_rel(const float *got, const float *want, int64_t n)
{
    double d = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)got[i] - want[i]));
        m = fmax(m, fabs((double)want[i]));
        if (isnan(got[i])) return INFINITY;
    }
    return m > 0 ? d / m : d;
}

/* Everything one device needs for one batch. */
typedef struct {
    int64_t b;
    tc_tensor *x, *y_dense, *y_sparse;
    double *t_dense, *t_sparse, *ratio; /* per round; ratio: dense / sparse of that round */
} batch_data;

static int run_device(int dev, int64_t out, int64_t in, const double *sp, int nsp, const int64_t *bs, int nb,
                      tc_sparse_format format, int reps, record *recs, int *nrec, breakeven *be, int *nbe)
{
    char spec[16];
    cli_device_spec(dev, spec, sizeof spec);
    tc_ctx *ctx;
    if (tc_ctx_create(spec, 0, &ctx) != TC_OK) {
        fprintf(stderr, "tinycl bench sparse: %s\n", tc_last_error(NULL));
        return 1;
    }
    const char *name = tc_ctx_device(ctx)->name;
    uint64_t seed = 20261122u;
    int64_t bmax = 1;
    for (int i = 0; i < nb; i++) bmax = bs[i] > bmax ? bs[i] : bmax;
    float *hw = malloc((size_t)(out * in) * sizeof *hw), *hx = malloc((size_t)(bmax * in) * sizeof *hx);
    float *hd = malloc((size_t)(bmax * out) * sizeof *hd), *hs = malloc((size_t)(bmax * out) * sizeof *hs);
    batch_data *bd = calloc((size_t)nb, sizeof *bd);
    tc_tensor *w = NULL;
    tc_linear_plan *dense = NULL;
    int failed = !hw || !hx || !hd || !hs || !bd;
    if (!failed) {
        tc_rand_f32(hw, (size_t)(out * in), -1.0f, 1.0f, &seed);
        tc_rand_f32(hx, (size_t)(bmax * in), -1.0f, 1.0f, &seed);
        failed = tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, (const int64_t[]){out, in}, hw, &w) != TC_OK ||
                 tc_linear_plan_create(ctx, w, NULL, NULL, &dense) != TC_OK;
    }
    for (int i = 0; !failed && i < nb; i++) {
        batch_data *d = &bd[i];
        d->b = bs[i];
        d->t_dense = calloc((size_t)reps, sizeof(double)), d->t_sparse = calloc((size_t)reps, sizeof(double));
        d->ratio = calloc((size_t)reps, sizeof(double));
        failed = !d->t_dense || !d->t_sparse || !d->ratio ||
                 tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, (const int64_t[]){d->b, in}, hx, &d->x) != TC_OK ||
                 tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){d->b, out}, &d->y_dense) != TC_OK ||
                 tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){d->b, out}, &d->y_sparse) != TC_OK;
    }
    double *speed = calloc((size_t)(nsp * nb), sizeof *speed);
    failed = failed || !speed;
    for (int si = 0; !failed && si < nsp; si++) {
        /* the pruned weights, the format built from them, and a dense plan on them for the check */
        tc_tensor *ws = NULL;
        tc_sparse *a = NULL;
        tc_linear_plan *check = NULL;
        tc_sparse_info info;
        const double t0 = tc_now_ms();
        failed = tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, (const int64_t[]){out, in}, hw, &ws) != TC_OK ||
                 tc_prune_magnitude(ctx, ws, sp[si], pattern_of(format)) != TC_OK ||
                 tc_sparse_from_dense(ctx, ws, format, &a) != TC_OK || tc_sparse_info_get(a, &info) != TC_OK ||
                 tc_linear_plan_create(ctx, ws, NULL, NULL, &check) != TC_OK;
        const double build_ms = tc_now_ms() - t0;
        const tc_spmm_params p = tc_spmm_defaults();
        double err[MAX_LIST];
        for (int bi = 0; !failed && bi < nb; bi++) { /* warm-up and the check of the result */
            batch_data *d = &bd[bi];
            failed = tc_linear_plan_run(dense, d->x, d->y_dense) != TC_OK ||
                     tc_linear_plan_run(check, d->x, d->y_dense) != TC_OK ||
                     tc_spmm(ctx, a, d->x, d->y_sparse, &p) != TC_OK ||
                     tc_tensor_read(d->y_dense, hd, (size_t)(d->b * out) * sizeof *hd) != TC_OK ||
                     tc_tensor_read(d->y_sparse, hs, (size_t)(d->b * out) * sizeof *hs) != TC_OK;
            err[bi] = failed ? INFINITY : max_rel(hs, hd, d->b * out);
        }
        for (int rep = 0; !failed && rep < reps; rep++)
            for (int bi = 0; !failed && bi < nb; bi++) {
                batch_data *d = &bd[bi];
                double t = tc_now_ms();
                failed = tc_linear_plan_run(dense, d->x, d->y_dense) != TC_OK || tc_ctx_finish(ctx) != TC_OK;
                d->t_dense[rep] = tc_now_ms() - t;
                t = tc_now_ms();
                failed = failed || tc_spmm(ctx, a, d->x, d->y_sparse, &p) != TC_OK || tc_ctx_finish(ctx) != TC_OK;
                d->t_sparse[rep] = tc_now_ms() - t;
                d->ratio[rep] = d->t_dense[rep] / d->t_sparse[rep];
            }
        for (int bi = 0; !failed && bi < nb; bi++) {
            batch_data *d = &bd[bi];
            record *r = &recs[(*nrec)++], *rd = &recs[(*nrec)++];
            /* the variant AUTO runs */
            const char *v = tc_ctx_is_ref(ctx) ? "ref" : tc_ctx_device(ctx)->type == TC_DEVICE_CPU ? "cpu" : "gpu";
            *r = (record){d->b == 1 ? "spmv" : "spmm", v, tc_sparse_format_name(info.format), "", d->b, out, in,
                          sp[si], 0, 0, err[bi], 0, info.total_bytes, NULL, reps};
            *rd = (record){"matmul", tc_variant_name(tc_linear_plan_variant(dense, d->b)), "dense", "", d->b, out, in,
                           sp[si], 0, 0, 0, 0, info.dense_bytes, NULL, reps};
            snprintf(r->device, sizeof r->device, "%s", name);
            snprintf(rd->device, sizeof rd->device, "%s", name);
            r->ms = malloc((size_t)reps * sizeof *r->ms), rd->ms = malloc((size_t)reps * sizeof *rd->ms);
            if (!r->ms || !rd->ms) {
                failed = 1;
                break;
            }
            memcpy(r->ms, d->t_sparse, (size_t)reps * sizeof *r->ms);
            memcpy(rd->ms, d->t_dense, (size_t)reps * sizeof *rd->ms);
            r->median_ms = res_median(r->ms, reps), rd->median_ms = res_median(rd->ms, reps);
            r->gflops = 2.0 * (double)d->b * (double)info.nnz / r->median_ms * 1e-6;
            rd->gflops = 2.0 * (double)d->b * (double)(out * in) / rd->median_ms * 1e-6;
            r->speedup = res_median(d->ratio, reps); /* the median of the rounds' ratios */
            speed[si * nb + bi] = r->speedup;
            fprintf(stderr, "  %s batch %lld sparsity %g: sparse %.3f ms, dense %.3f ms (build %.0f ms)\n", name,
                    (long long)d->b, sp[si], r->median_ms, rd->median_ms, build_ms);
        }
        if (failed) fprintf(stderr, "tinycl bench sparse: %s: %s\n", name, tc_last_error(ctx));
        tc_linear_plan_free(check);
        tc_sparse_free(a);
        tc_tensor_free(ws);
    }
    for (int bi = 0; !failed && bi < nb; bi++) {
        int from = nsp; /* the lowest sparsity from which sparse wins at every higher one */
        while (from > 0 && speed[(from - 1) * nb + bi] > 1.0) from--;
        breakeven *e = &be[(*nbe)++];
        snprintf(e->device, sizeof e->device, "%s", name);
        e->batch = bs[bi];
        e->sparsity = from < nsp ? sp[from] : -1.0;
    }
    for (int i = 0; bd && i < nb; i++) {
        tc_tensor_free(bd[i].x), tc_tensor_free(bd[i].y_dense), tc_tensor_free(bd[i].y_sparse);
        free(bd[i].t_dense), free(bd[i].t_sparse), free(bd[i].ratio);
    }
    tc_linear_plan_free(dense);
    tc_tensor_free(w);
    free(bd), free(hw), free(hx), free(hd), free(hs), free(speed);
    tc_ctx_free(ctx);
    return failed;
}

/* Breakeven lines: after the table on stdout, else on stderr. */
static void print_breakevens(FILE *f, const breakeven *be, int nbe)
{
    for (int i = 0; i < nbe; i++) {
        if (be[i].sparsity < 0)
            fprintf(f, "breakeven  %-40.40s batch %3lld: dense wins at every sparsity of the sweep\n", be[i].device,
                    (long long)be[i].batch);
        else
            fprintf(f, "breakeven  %-40.40s batch %3lld: sparse wins from %g%% sparsity\n", be[i].device,
                    (long long)be[i].batch, 100.0 * be[i].sparsity);
    }
}

/* "breakeven": [{"device", "batch", "sparsity" (null: dense always wins)}] */
static char *breakeven_json(const breakeven *be, int nbe)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fprintf(f, "[");
    for (int i = 0; i < nbe; i++) {
        fprintf(f, "%s{\"device\": ", i ? ", " : "");
        meta_json_string(f, be[i].device);
        fprintf(f, ", \"batch\": %lld, \"sparsity\": ", (long long)be[i].batch);
        if (be[i].sparsity < 0)
            fprintf(f, "null}");
        else
            fprintf(f, "%g}", be[i].sparsity);
    }
    fprintf(f, "]");
    return fclose(f) == 0 ? buf : (free(buf), NULL);
}

static int to_records(const record *recs, int n, int samples, res_set *rs)
{
    for (int i = 0; i < n; i++) {
        const record *r = &recs[i];
        res_record *o = res_add(rs);
        if (!o) return 1;
        char text[160], json[256];
        snprintf(text, sizeof text, "%lldx%lld batch %lld %.1f%% %s", (long long)r->out, (long long)r->in,
                 (long long)r->batch, 100.0 * r->sparsity, r->format);
        snprintf(json, sizeof json,
                 "{\"m\": %lld, \"n\": %lld, \"k\": %lld, \"batch\": %lld, \"sparsity\": %g, \"format\": \"%s\"}",
                 (long long)r->batch, (long long)r->out, (long long)r->in, (long long)r->batch, r->sparsity, r->format);
        res_str(o, "op", "op", r->op);
        res_str(o, "variant", "variant", r->variant);
        res_str(o, "device", "device", r->device);
        res_obj(o, "shape", "shape", text, json);
        res_times(o, r->ms, r->reps, samples);
        res_num(o, "gflops", "GFLOP/s", "%.1f", r->gflops);
        res_num(o, "weight_bytes", "weight bytes", "%.0f", (double)r->weight_bytes);
        if (strcmp(r->op, "matmul") != 0) {
            res_num(o, "speedup_vs_dense", "vs dense", "%.2fx", r->speedup);
            res_num(o, "max_rel_err", "rel err", "%.1e", r->err);
        }
    }
    return 0;
}

int cli_bench_sparse(const cli_args *a)
{
    const char *sp_s = cli_get(a, "--sparsity"), *b_s = cli_get(a, "--batch");
    const char *shape = cli_get(a, "--shape"), *fmt = cli_get(a, "--sparse-format");
    double sp[MAX_LIST], bv[MAX_LIST];
    const int nsp = parse_list(sp_s ? sp_s : "0,50,70,80,90,95,99", sp, 0.0, 100.0);
    const int nb = parse_list(b_s ? b_s : "1,32", bv, 1.0, 65536.0);
    const int reps = (int)cli_int(a, "--reps", 20);
    long long out = 4096, in = 4096;
    int used = 0;
    tc_sparse_format format = TC_SPARSE_CSR;
    if (nsp < 1) return cli_misuse(a, "--sparsity takes up to %d percentages in [0, 100), not '%s'", MAX_LIST, sp_s);
    if (nb < 1) return cli_misuse(a, "--batch takes up to %d batch sizes >= 1, not '%s'", MAX_LIST, b_s);
    if (shape && (sscanf(shape, "%lldx%lld%n", &out, &in, &used) != 2 || shape[used] || out < 1 || in < 1 ||
                  out * in >= (1ll << 30)))
        return cli_misuse(a, "--shape takes OUTxIN with OUT*IN below 2^30, not '%s'", shape);
    if (fmt && tc_sparse_format_parse(fmt, &format) != TC_OK)
        return cli_misuse(a, "--sparse-format takes csr, bsr1x4, bsr1x8, bsr4x4 or auto, not '%s'", fmt);
    int64_t bs[MAX_LIST];
    for (int i = 0; i < nsp; i++) sp[i] /= 100.0;
    for (int i = 0; i < nb; i++) bs[i] = (int64_t)bv[i];
    record *recs = calloc((size_t)(2 * nsp * nb * a->ndevices), sizeof *recs);
    breakeven *be = calloc((size_t)(nb * a->ndevices), sizeof *be);
    if (!recs || !be) {
        free(recs), free(be);
        return 1;
    }
    int failed = 0, nrec = 0, nbe = 0, ran = 0;
    for (int k = 0; k < a->ndevices; k++) {
        if (a->devices[k] == 0 && !a->device_source) continue; /* every OpenCL device; ref when asked for */
        failed |= run_device(a->devices[k], out, in, sp, nsp, bs, nb, format, reps, recs, &nrec, be, &nbe);
        ran++;
    }
    if (!ran) printf("no OpenCL device: %s (--device ref runs the references)\n", tc_device_probe_message());
    res_set rs = {.reps = reps, .extra_key = "breakeven", .extra_json = breakeven_json(be, nbe)};
    failed |= !rs.extra_json || to_records(recs, nrec, cli_get(a, "--samples") != NULL, &rs) || res_output(&rs, a);
    print_breakevens(cli_get(a, "--format") || cli_get(a, "--out") ? stderr : stdout, be, nbe);
    free(rs.extra_json);
    res_free(&rs);
    for (int i = 0; i < nrec; i++) free(recs[i].ms);
    free(recs), free(be);
    return failed;
}
