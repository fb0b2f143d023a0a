/* tinycl bench model: the forward pass of the committed models at given batch
 * sizes, each layer run through the plan made at load (`plan`) or through the
 * one-shot op, which validates, chooses a variant and prepares the weights on
 * every call (`oneshot`). The variants of a size run in turn, run after run (the
 * order alternating), in one process; the speedup is the median of the per-run
 * ratios, which a shared machine's slow drifts in load affect least.
 * `--variants oneshot,oneshot` times the one-shot model against a second copy of
 * itself: the first row's ratio is then the method's noise (A/A). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/results.h"
#include "core/internal.h"

#define MAX_SIZES 16
/* outputs of the variants of one size may differ by the summation order of the variants AUTO picks */
#define AGREE 1e-5

enum { ONESHOT, PLAN, NVARIANTS };
static const char *const variant_names[NVARIANTS] = {"oneshot", "plan"};

typedef struct {
    char model[64];
    int64_t batch;
    int device, variant;
    char device_name[256];
    double *ms;                   /* run times, in run order */
    double median_ms, max_diff, speedup; /* speedup over oneshot; 0: not measured */
    int reps, ok;
} record;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "mlp_digits:1,cnn_digits:359" */
static int parse_sizes(const char *spec, record *sizes, int *n)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':'), *end = NULL;
        if (*n == MAX_SIZES || !colon || colon == tok || (size_t)(colon - tok) >= sizeof sizes->model) return -1;
        memset(&sizes[*n], 0, sizeof *sizes);
        memcpy(sizes[*n].model, tok, (size_t)(colon - tok));
        sizes[*n].batch = strtoll(colon + 1, &end, 10);
        if (*end || sizes[*n].batch < 1) return -1;
        (*n)++;
    }
    return *n ? 0 : -1;
}

static int parse_variants(const char *spec, int *vars, int *n)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int v = 0;
        while (v < NVARIANTS && strcmp(tok, variant_names[v]) != 0) v++;
        if (v == NVARIANTS || *n == NVARIANTS) return -1;
        vars[(*n)++] = v;
    }
    return *n ? 0 : -1;
}

/* The variants of one size on ctx, timed in turn; recs[v] gets variant vars[v]. */
static tc_status time_size(tc_ctx *ctx, const char *path, const float *images, int64_t count, const int *vars,
                           int nvars, int reps, double budget_ms, record *recs)
{
    const int64_t b = recs[0].batch;
    tc_model *m[NVARIANTS] = {NULL};
    tc_tensor *x = NULL, *y[NVARIANTS] = {NULL};
    double *t = calloc((size_t)(reps * (nvars + 1)), sizeof *t);
    float *out[NVARIANTS] = {NULL};
    tc_status s = t ? TC_OK : tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == TC_OK && b > count)
        s = tc_fail(ctx, TC_ERR_INVALID_ARG, "batch %lld: the test split has %lld images", (long long)b,
                    (long long)count);
    for (int v = 0; s == TC_OK && v < nvars; v++) {
        s = tc_model_load_flags(ctx, path, vars[v] == ONESHOT ? TC_MODEL_ONESHOT : 0, &m[v]);
        if (s == TC_OK && tc_model_input_numel(m[v]) != 64)
            s = tc_fail(ctx, TC_ERR_SHAPE, "%s takes %lld elements per sample; the digits have 64", path,
                        (long long)tc_model_input_numel(m[v]));
        if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){b, tc_model_classes(m[v])}, &y[v]);
    }
    if (s == TC_OK) s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, (const int64_t[]){b, 64}, images, &x);
    /* warm-up: kernels built, activations allocated */
    for (int v = 0; s == TC_OK && v < nvars; v++) s = tc_model_forward(m[v], x, y[v]);
    if (s == TC_OK) s = tc_ctx_finish(ctx);
    int n = 0;
    for (double spent = 0; s == TC_OK && n < reps && (n < 3 || spent < budget_ms); n++)
        for (int k = 0; s == TC_OK && k < nvars; k++) {
            const int v = n % 2 ? nvars - 1 - k : k;
            const double t0 = tc_now_ms();
            s = tc_model_forward(m[v], x, y[v]);
            if (s == TC_OK) s = tc_ctx_finish(ctx);
            t[v * reps + n] = tc_now_ms() - t0;
            spent += t[v * reps + n];
        }
    int base = -1; /* the (last) oneshot runs, which the ratios divide */
    for (int v = 0; v < nvars; v++)
        if (vars[v] == ONESHOT) base = v;
    for (int v = 0; s == TC_OK && base >= 0 && v < nvars; v++) {
        double *ratio = t + (size_t)reps * (size_t)nvars; /* the spare row */
        for (int r = 0; r < n; r++) ratio[r] = t[base * reps + r] / t[v * reps + r];
        qsort(ratio, (size_t)n, sizeof *ratio, cmp_double);
        recs[v].speedup = n % 2 ? ratio[n / 2] : 0.5 * (ratio[n / 2 - 1] + ratio[n / 2]);
    }
    const size_t ny = (size_t)(b * (m[0] ? tc_model_classes(m[0]) : 0));
    for (int v = 0; s == TC_OK && v < nvars; v++) {
        out[v] = malloc(ny * sizeof *out[v]);
        s = out[v] ? tc_tensor_read(y[v], out[v], ny * sizeof *out[v])
                   : tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
        double d = 0;
        for (size_t i = 0; s == TC_OK && i < ny; i++) d = fmax(d, isnan(out[v][i]) ? INFINITY : fabs(out[v][i] - out[0][i]));
        recs[v].variant = vars[v];
        recs[v].reps = n;
        recs[v].ms = malloc((size_t)(n > 0 ? n : 1) * sizeof *recs[v].ms);
        if (s == TC_OK && !recs[v].ms) s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
        if (s == TC_OK) memcpy(recs[v].ms, t + v * reps, (size_t)n * sizeof *recs[v].ms);
        recs[v].median_ms = s == TC_OK ? res_median(recs[v].ms, n) : 0;
        recs[v].max_diff = d;
        recs[v].ok = s == TC_OK && d <= AGREE;
    }
    for (int v = 0; v < nvars; v++) {
        free(out[v]);
        tc_tensor_free(y[v]);
        tc_model_free(m[v]);
    }
    tc_tensor_free(x);
    free(t);
    return s;
}

static int to_records(const record *recs, int n, int samples, res_set *rs)
{
    for (int i = 0; i < n; i++) {
        const record *r = &recs[i];
        res_record *o = res_add(rs);
        if (!o) return 1;
        res_str(o, "op", NULL, "model");
        res_str(o, "model", "model", r->model);
        res_num(o, "batch", "batch", "%d", (double)r->batch);
        res_str(o, "variant", "variant", variant_names[r->variant]);
        res_str(o, "device", "device", r->device_name);
        res_times(o, r->ms, r->reps, samples);
        res_num(o, "images_per_s", "images/s", "%.0f", 1e3 * (double)r->batch / r->median_ms);
        if (r->speedup > 0) res_num(o, "speedup_vs_oneshot", "vs oneshot", "%.2fx", r->speedup);
        res_str(o, "outputs", "outputs", r->ok ? "agree" : "OUTPUTS DIFFER");
        res_num(o, "max_abs_diff", "max |y-y_1|", "%.1e", r->max_diff);
    }
    return 0;
}

int cli_bench_model(const cli_args *a)
{
    const int reps = (int)cli_int(a, "--reps", 50), samples = cli_get(a, "--samples") != NULL;
    const double budget = cli_ms(a, "--budget", 3000.0);
    const char *sizes_s = cli_get(a, "--sizes") ? cli_get(a, "--sizes") : "mlp_digits:1,mlp_digits:359,cnn_digits:1,cnn_digits:359";
    record sizes[MAX_SIZES];
    int nsizes = 0, vars[NVARIANTS], nvars = 0;
    if (parse_sizes(sizes_s, sizes, &nsizes))
        return cli_misuse(a, "--sizes takes MODEL:BATCH,... (mlp_digits:1), not '%s'", sizes_s);
    if (parse_variants(cli_get(a, "--variants") ? cli_get(a, "--variants") : "oneshot,plan", vars, &nvars))
        return cli_misuse(a, "--variants takes oneshot and plan (at most two), not '%s'", cli_get(a, "--variants"));
    /* the test split and every model named, found before any work */
    const char *files[MAX_SIZES + 1] = {"digits_test.tcd"};
    char names[MAX_SIZES][80], dir[4096], data[4200], path[4200];
    for (int i = 0; i < nsizes; i++) {
        if (snprintf(names[i], sizeof names[i], "%s.tcw", sizes[i].model) >= (int)sizeof names[i])
            return cli_misuse(a, "model name '%s' is too long", sizes[i].model);
        files[i + 1] = names[i];
    }
    if (cli_find_data(a, files, nsizes + 1, dir, sizeof dir)) return 2;
    snprintf(data, sizeof data, "%s/digits_test.tcd", dir);
    record *recs = calloc((size_t)(nsizes * nvars * a->ndevices), sizeof *recs);
    if (!recs) return 1;
    int n = 0, failed = 0;
    for (int k = 0; k < a->ndevices; k++) {
        char spec[16];
        cli_device_spec(a->devices[k], spec, sizeof spec);
        tc_ctx *ctx = NULL;
        tc_tensor *xs = NULL, *labels = NULL;
        float *images = NULL;
        tc_status s = tc_ctx_create(spec, 0, &ctx);
        if (s == TC_OK) s = tc_dataset_load(ctx, data, &xs, &labels);
        if (s == TC_OK && !(images = malloc(tc_tensor_bytes(xs)))) s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
        if (s == TC_OK) s = tc_tensor_read(xs, images, tc_tensor_bytes(xs));
        for (int i = 0; s == TC_OK && i < nsizes; i++) {
            record *r = &recs[n];
            for (int v = 0; v < nvars; v++) {
                r[v] = sizes[i];
                r[v].device = a->devices[k];
                snprintf(r[v].device_name, sizeof r[v].device_name, "%s", tc_ctx_device(ctx)->name);
            }
            if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path ||
                time_size(ctx, path, images, tc_tensor_dim(xs, 0), vars, nvars, reps, budget, r) != TC_OK) {
                fprintf(stderr, "tinycl bench model: %s batch %lld: %s\n", sizes[i].model, (long long)sizes[i].batch,
                        tc_last_error(ctx));
                for (int v = 0; v < nvars; v++) free(r[v].ms);
                failed = 1;
                continue;
            }
            for (int v = 0; v < nvars; v++) failed |= !r[v].ok;
            n += nvars;
        }
        if (s != TC_OK) {
            fprintf(stderr, "tinycl bench model: device %s: %s\n", spec, ctx ? tc_last_error(ctx) : tc_last_error(NULL));
            failed = 1;
        }
        free(images);
        tc_tensor_free(xs);
        tc_tensor_free(labels);
        tc_ctx_free(ctx);
    }
    res_set rs = {.reps = reps, .has_budget = 1, .budget_ms = budget};
    failed |= to_records(recs, n, samples, &rs) || res_output(&rs, a);
    res_free(&rs);
    for (int i = 0; i < n; i++) free(recs[i].ms);
    free(recs);
    return failed;
}
