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
#include "check/opdesc.h"

#define MAX_LIST 16

typedef struct {
    const char *op, *variant, *format;
    char device[256];
    int64_t batch, out, in;
    double sparsity, median_ms, p90_ms, gflops, err, speedup;
    size_t weight_bytes;
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
    snprintf(spec, sizeof spec, "%d", dev);
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
                          sp[si], 0, 0, 0, err[bi], 0, info.total_bytes, reps};
            *rd = (record){"matmul", tc_variant_name(tc_linear_plan_variant(dense, d->b)), "dense", "", d->b, out, in,
                           sp[si], 0, 0, 0, 0, 0, info.dense_bytes, reps};
            snprintf(r->device, sizeof r->device, "%s", name);
            snprintf(rd->device, sizeof rd->device, "%s", name);
            cli_stats(d->t_sparse, reps, &r->median_ms, &r->p90_ms);
            cli_stats(d->t_dense, reps, &rd->median_ms, &rd->p90_ms);
            r->gflops = 2.0 * (double)d->b * (double)info.nnz / r->median_ms * 1e-6;
            rd->gflops = 2.0 * (double)d->b * (double)(out * in) / rd->median_ms * 1e-6;
            double p90;
            cli_stats(d->ratio, reps, &r->speedup, &p90);
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

static void print_results(const record *recs, int n, const breakeven *be, int nbe)
{
    printf("%-40.40s %5s %8s %-7s %11s %-6s %11s %8s %9s %9s %9s\n", "device", "batch", "sparsity", "format",
           "sparse ms", "dense", "dense ms", "speedup", "sparse MB", "dense MB", "rel err");
    for (int i = 0; i + 1 < n; i += 2) {
        const record *r = &recs[i], *d = &recs[i + 1];
        printf("%-40.40s %5lld %7.1f%% %-7s %11.3f %-6s %11.3f %7.2fx %9.1f %9.1f %9.1e\n", r->device,
               (long long)r->batch, 100.0 * r->sparsity, r->format, r->median_ms, d->variant, d->median_ms, r->speedup,
               (double)r->weight_bytes / 1e6, (double)d->weight_bytes / 1e6, r->err);
    }
    for (int i = 0; i < nbe; i++) {
        if (be[i].sparsity < 0)
            printf("breakeven  %-40.40s batch %3lld: dense wins at every sparsity of the sweep\n", be[i].device,
                   (long long)be[i].batch);
        else
            printf("breakeven  %-40.40s batch %3lld: sparse wins from %g%% sparsity\n", be[i].device,
                   (long long)be[i].batch, 100.0 * be[i].sparsity);
    }
}

static int write_json(const char *path, const record *recs, int n, const breakeven *be, int nbe)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "tinycl bench sparse: cannot write %s\n", path);
        return 1;
    }
    fprintf(f, "{\"records\": [\n");
    for (int i = 0; i < n; i++) {
        const record *r = &recs[i];
        fprintf(f,
                "%s  {\"op\": \"%s\", \"variant\": \"%s\", \"device\": \"%s\", \"shape\": {\"m\": %lld, \"n\": %lld, "
                "\"k\": %lld, \"batch\": %lld, \"sparsity\": %g, \"format\": \"%s\"}, \"median_ms\": %.6f, "
                "\"p90_ms\": %.6f, \"gflops\": %.3f, \"weight_bytes\": %zu, \"reps\": %d",
                i ? ",\n" : "", r->op, r->variant, r->device, (long long)r->batch, (long long)r->out, (long long)r->in,
                (long long)r->batch, r->sparsity, r->format, r->median_ms, r->p90_ms, r->gflops, r->weight_bytes,
                r->reps);
        if (strcmp(r->op, "matmul") != 0)
            fprintf(f, ", \"max_rel_err\": %.3e, \"speedup_vs_dense\": %.3f", r->err, r->speedup);
        fprintf(f, "}");
    }
    fprintf(f, "\n], \"breakeven\": [\n");
    for (int i = 0; i < nbe; i++) {
        fprintf(f, "%s  {\"device\": \"%s\", \"batch\": %lld, \"sparsity\": ", i ? ",\n" : "", be[i].device,
                (long long)be[i].batch);
        if (be[i].sparsity < 0)
            fprintf(f, "null}");
        else
            fprintf(f, "%g}", be[i].sparsity);
    }
    fprintf(f, "\n]}\n");
    const int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "tinycl bench sparse: cannot write %s\n", path);
        return 1;
    }
    printf("wrote %s\n", path);
    return 0;
}

int cli_bench_sparse(int argc, char **argv)
{
    static const char *const known[] = {"--device", "--json",   "--sparsity", "--batch",
                                        "--shape",  "--format", "--reps",     NULL};
    if (!cli_known(argc, argv, known)) return 2;
    const char *dev = cli_opt(argc, argv, "--device"), *json = cli_opt(argc, argv, "--json");
    const char *sp_s = cli_opt(argc, argv, "--sparsity"), *b_s = cli_opt(argc, argv, "--batch");
    const char *shape = cli_opt(argc, argv, "--shape"), *fmt = cli_opt(argc, argv, "--format");
    double sp[MAX_LIST], bv[MAX_LIST];
    const int nsp = parse_list(sp_s ? sp_s : "0,50,70,80,90,95,99", sp, 0.0, 100.0);
    const int nb = parse_list(b_s ? b_s : "1,32", bv, 1.0, 65536.0);
    const int reps = cli_opt(argc, argv, "--reps") ? atoi(cli_opt(argc, argv, "--reps")) : 20;
    long long out = 4096, in = 4096;
    int used = 0;
    tc_sparse_format format = TC_SPARSE_CSR;
    if (nsp < 1 || nb < 1 || reps < 1 || reps > 10000 ||
        (shape && (sscanf(shape, "%lldx%lld%n", &out, &in, &used) != 2 || shape[used] || out < 1 || in < 1 ||
                   out * in >= (1ll << 30))) ||
        (fmt && tc_sparse_format_parse(fmt, &format) != TC_OK)) {
        fprintf(stderr, "usage: tinycl bench sparse [--device D] [--json FILE] [--sparsity PCT,...] [--batch B,...]\n"
                        "                           [--shape OUTxIN] [--format csr|bsr1x4|bsr1x8|bsr4x4|auto] "
                        "[--reps N]\n  sparsities in [0, 100), batches >= 1, OUT*IN below 2^30\n");
        return 2;
    }
    int64_t bs[MAX_LIST];
    for (int i = 0; i < nsp; i++) sp[i] /= 100.0;
    for (int i = 0; i < nb; i++) bs[i] = (int64_t)bv[i];
    /* every OpenCL device, or the one asked for (ref too) */
    int first = 1, last = tc_device_count() - 1;
    if (dev) {
        if (tc_device_find(dev, &first) != TC_OK) {
            fprintf(stderr, "tinycl bench sparse: %s\n", tc_last_error(NULL));
            return 2;
        }
        last = first;
    }
    const int ndev = last >= first ? last - first + 1 : 0;
    record *recs = calloc((size_t)(2 * nsp * nb * (ndev ? ndev : 1)), sizeof *recs);
    breakeven *be = calloc((size_t)(nb * (ndev ? ndev : 1)), sizeof *be);
    if (!recs || !be) {
        free(recs), free(be);
        return 1;
    }
    int failed = 0, nrec = 0, nbe = 0;
    for (int d = first; d <= last; d++)
        failed |= run_device(d, out, in, sp, nsp, bs, nb, format, reps, recs, &nrec, be, &nbe);
    if (!ndev) printf("no OpenCL device: %s (--device ref runs the references)\n", tc_device_probe_message());
    print_results(recs, nrec, be, nbe);
    if (json) failed |= write_json(json, recs, nrec, be, nbe);
    free(recs), free(be);
    return failed;
}
