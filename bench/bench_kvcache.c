/* `tinycl bench kvcache`: generation with the KV cache against recomputing the
 * whole sequence at every step, per device and generated length, timed in turn
 * in one run; the tokens each gives, the cache's memory, launches per token,
 * the length from which the cache pays off, and how a step's time grows with the
 * context (a line with the cache, a parabola without). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "core/internal.h"

#define MAX_LENGTHS 16
#define PROMPT "The "
#define PLEN 4

typedef struct {
    int64_t tokens;
    double ms[2];     /* median per variant: 0 cached, 1 uncached; < 0: skipped */
    int reps[2];
    double agree;     /* fraction of equal tokens; < 0 when a variant was skipped */
    size_t cache_bytes;
} row;

static const char *const vname[2] = {"cached", "uncached"};

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static tc_status gen(tc_decoder *d, int use_cache, int64_t n, int32_t *out, double *step_ms, double *ms)
{
    int32_t ids[PLEN];
    for (int i = 0; i < PLEN; i++) ids[i] = (unsigned char)PROMPT[i];
    const int32_t *prompts[1] = {ids};
    const int64_t len = PLEN;
    tc_generate_params p = tc_generate_defaults();
    p.use_cache = use_cache;
    p.step_ms = step_ms;
    const double t0 = tc_now_ms();
    tc_status s = tc_decoder_generate(d, 1, prompts, &len, n, &p, out);
    *ms = tc_now_ms() - t0;
    return s;
}

/* Least squares of y on 1, x (, x^2): coefficients c[], R^2. */
static double fit(const double *x, const double *y, int n, int deg, double *c)
{
    double a[3][4] = {{0}};
    for (int i = 0; i < n; i++) {
        const double p[3] = {1.0, x[i], x[i] * x[i]};
        for (int r = 0; r <= deg; r++) {
            for (int k = 0; k <= deg; k++) a[r][k] += p[r] * p[k];
            a[r][3] += p[r] * y[i];
        }
    }
    for (int r = 0; r <= deg; r++) /* Gauss-Jordan on the normal equations (well scaled enough for deg <= 2) */
        for (int q = 0; q <= deg; q++) {
            if (q == r) continue;
            const double f = a[q][r] / a[r][r];
            for (int k = 0; k < 4; k++) a[q][k] -= f * a[r][k];
        }
    for (int r = 0; r <= deg; r++) c[r] = a[r][3] / a[r][r];
    double mean = 0.0, ss = 0.0, res = 0.0;
    for (int i = 0; i < n; i++) mean += y[i] / n;
    for (int i = 0; i < n; i++) {
        const double f = c[0] + c[1] * x[i] + (deg == 2 ? c[2] * x[i] * x[i] : 0.0);
        ss += (y[i] - mean) * (y[i] - mean);
        res += (y[i] - f) * (y[i] - f);
    }
    return ss > 0.0 ? 1.0 - res / ss : 1.0;
}

/* Launches of one decode step of each variant: the difference between two
 * generations, on a profiling context of the same device. */
static void launches_per_token(int dev, const char *path, double lpt[2])
{
    char spec[16];
    snprintf(spec, sizeof spec, "%d", dev);
    tc_ctx *ctx = NULL;
    tc_decoder *d = NULL;
    lpt[0] = lpt[1] = -1.0;
    if (tc_ctx_create(spec, TC_CTX_PROFILE, &ctx) != TC_OK || tc_decoder_load(ctx, path, 64, &d) != TC_OK) {
        tc_ctx_free(ctx);
        return;
    }
    int32_t out[40];
    double ms;
    for (int v = 0; v < 2; v++) {
        uint64_t n[2] = {0, 0};
        for (int k = 0; k < 2; k++) {
            tc_prof_reset(ctx);
            tc_prof_info info;
            if (gen(d, v == 0, k ? 40 : 8, out, NULL, &ms) != TC_OK || tc_prof_info_get(ctx, &info) != TC_OK) break;
            n[k] = info.launches;
        }
        if (n[1] > n[0]) lpt[v] = (double)(n[1] - n[0]) / 32.0;
    }
    tc_decoder_free(d);
    tc_ctx_free(ctx);
}

/* Times both variants at each length, in turn; the step times of the longest
 * measured run of each go into steps[v]. */
static tc_status time_lengths(tc_decoder *d, row *rows, int nrows, int reps, double max_ms, double *steps[2],
                              int64_t nsteps[2])
{
    int64_t most = rows[nrows - 1].tokens;
    int32_t *out[2] = {malloc((size_t)most * sizeof(int32_t)), malloc((size_t)most * sizeof(int32_t))};
    double *sm = malloc((size_t)most * sizeof *sm), *t = malloc((size_t)(2 * reps) * sizeof *t);
    tc_status s = out[0] && out[1] && sm && t ? TC_OK : TC_ERR_OUT_OF_MEMORY;
    int skip[2] = {0, 0};
    double ms;
    /* untimed: every kernel either variant uses gets built (PoCL compiles on first use) */
    if (s == TC_OK) s = gen(d, 1, most, out[0], NULL, &ms);
    if (s == TC_OK) s = gen(d, 0, most < 32 ? most : 32, out[1], NULL, &ms);
    for (int i = 0; i < nrows && s == TC_OK; i++) {
        row *r = &rows[i];
        r->cache_bytes = tc_decoder_cache_bytes(d, 1, PLEN + r->tokens - 1);
        for (int v = 0; v < 2; v++) r->ms[v] = -1.0, r->reps[v] = 0;
        for (int k = 0; k < reps && s == TC_OK; k++) {
            for (int j = 0; j < 2 && s == TC_OK; j++) {
                const int v = (k + j) % 2; /* alternate which goes first */
                if (skip[v] || (k > 0 && t[v * reps] > max_ms)) continue;
                s = gen(d, v == 0, r->tokens, out[v], sm, &ms);
                t[v * reps + r->reps[v]++] = ms;
                if (s == TC_OK && r->tokens >= nsteps[v]) {
                    memcpy(steps[v], sm, (size_t)r->tokens * sizeof *sm);
                    nsteps[v] = r->tokens;
                }
            }
        }
        for (int v = 0; v < 2; v++) {
            if (!r->reps[v]) continue;
            qsort(t + v * reps, (size_t)r->reps[v], sizeof *t, cmp_double);
            r->ms[v] = t[v * reps + r->reps[v] / 2];
            if (t[v * reps] > max_ms) skip[v] = 1; /* longer lengths would take longer still */
        }
        int same = 0;
        for (int64_t j = 0; j < r->tokens; j++) same += out[0][j] == out[1][j];
        r->agree = r->reps[0] && r->reps[1] ? (double)same / (double)r->tokens : -1.0;
    }
    free(out[0]), free(out[1]), free(sm), free(t);
    return s;
}

/* The first generated length from which the cache's cumulative time stays below
 * recomputation's, from the per-step times; 0 if it never does. */
static int64_t breakeven(const double *c, const double *u, int64_t n)
{
    double sc = 0.0, su = 0.0;
    int64_t from = 0;
    for (int64_t i = 0; i < n; i++) {
        sc += c[i], su += u[i];
        if (sc < su && !from) from = i + 1;
        if (sc >= su) from = 0;
    }
    return from;
}

/* Step time against the context it attends to, fitted (a line with the cache, a
 * parabola without) to the medians of BINS equal ranges of steps: a busy
 * machine stalls single steps, which a median ignores and a least-squares fit on
 * every step would not. */
#define BINS 16
static void report_steps(double *const steps[2], const int64_t nsteps[2])
{
    for (int v = 0; v < 2; v++) {
        const int64_t n = nsteps[v] - 1; /* the first step is the prompt's prefill */
        if (n < 2 * BINS) continue;
        double x[BINS], y[BINS], c[3], *t = malloc((size_t)n * sizeof *t);
        if (!t) return;
        for (int b = 0; b < BINS; b++) {
            const int64_t lo = n * b / BINS, hi = n * (b + 1) / BINS;
            memcpy(t, steps[v] + 1 + lo, (size_t)(hi - lo) * sizeof *t);
            qsort(t, (size_t)(hi - lo), sizeof *t, cmp_double);
            y[b] = t[(hi - lo) / 2];
            x[b] = (double)(PLEN + 1 + (lo + hi - 1) / 2); /* context of the bin's middle step */
        }
        free(t);
        const double r2 = fit(x, y, BINS, v == 0 ? 1 : 2, c);
        if (v == 0)
            printf("  cached step time vs context (medians of %d ranges of %lld steps): %.4f ms + %.3f us x context "
                   "(R^2 %.3f)\n", BINS, (long long)n, c[0], 1e3 * c[1], r2);
        else
            printf("  uncached step time vs context (medians of %d ranges of %lld steps): %.4f ms + %.4f us x context + "
                   "%.5f us x context^2 (R^2 %.3f)\n", BINS, (long long)n, c[0], 1e3 * c[1], 1e3 * c[2], r2);
    }
}

static void print_device(const char *name, const tc_decoder_info *in, const row *rows, int n, const double lpt[2])
{
    printf("\n%s: d_model %lld, %lld layers, %lld heads, batch 1, prompt \"%s\"\n", name, (long long)in->d_model,
           (long long)in->layers, (long long)in->heads, PROMPT);
    printf("%7s %12s %10s %12s %10s %9s %7s %10s\n", "tokens", "cached ms", "tok/s", "uncached ms", "tok/s",
           "speedup", "agree", "cache KiB");
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        char c[2][2][32];
        for (int v = 0; v < 2; v++) {
            snprintf(c[v][0], 32, r->ms[v] < 0 ? "skipped" : "%.2f", r->ms[v]);
            snprintf(c[v][1], 32, r->ms[v] < 0 ? "-" : "%.1f", 1e3 * (double)r->tokens / r->ms[v]);
        }
        char sp[32] = "-", ag[32] = "-";
        if (r->agree >= 0) {
            snprintf(sp, sizeof sp, "%.2fx", r->ms[1] / r->ms[0]);
            snprintf(ag, sizeof ag, "%.3f", r->agree);
        }
        printf("%7lld %12s %10s %12s %10s %9s %7s %10.1f\n", (long long)r->tokens, c[0][0], c[0][1], c[1][0], c[1][1],
               sp, ag, (double)r->cache_bytes / 1024.0);
    }
    if (lpt[0] >= 0)
        printf("  launches per generated token: %.1f cached, %.1f uncached\n", lpt[0], lpt[1]);
}

static void json_rows(FILE *f, int *first, const char *dev, const tc_decoder_info *in, const row *rows, int n,
                      const double lpt[2])
{
    for (int i = 0; i < n; i++)
        for (int v = 0; v < 2; v++) {
            const row *r = &rows[i];
            if (r->ms[v] < 0) continue;
            fprintf(f,
                    "%s  {\"op\": \"generate\", \"variant\": \"%s\", \"device\": \"%s\", \"shape\": {\"tokens\": %lld, "
                    "\"prompt\": %d, \"d_model\": %lld, \"layers\": %lld, \"heads\": %lld, \"batch\": 1}, "
                    "\"median_ms\": %.6f, \"tokens_per_s\": %.3f, \"reps\": %d",
                    *first ? "" : ",\n", vname[v], dev, (long long)r->tokens, PLEN, (long long)in->d_model,
                    (long long)in->layers, (long long)in->heads, r->ms[v], 1e3 * (double)r->tokens / r->ms[v],
                    r->reps[v]);
            if (r->agree >= 0) fprintf(f, ", \"agree\": %.6f", r->agree);
            if (v == 0 && r->agree >= 0) fprintf(f, ", \"speedup_vs_uncached\": %.3f", r->ms[1] / r->ms[0]);
            if (v == 0) fprintf(f, ", \"cache_bytes\": %zu", r->cache_bytes);
            if (lpt[v] >= 0) fprintf(f, ", \"launches_per_token\": %.1f", lpt[v]);
            fprintf(f, "}");
            *first = 0;
        }
}

static int parse_lengths(const char *s, row *rows, int *n)
{
    *n = 0;
    for (const char *p = s; *p;) {
        char *end;
        const long long v = strtoll(p, &end, 10);
        if (end == p || v < 1 || v > 1 << 20 || *n == MAX_LENGTHS || (*n && v <= rows[*n - 1].tokens)) return -1;
        rows[(*n)++].tokens = v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return *n ? 0 : -1;
}

int cli_bench_kvcache(int argc, char **argv)
{
    static const char *const known[] = {"--device", "--lengths", "--reps", "--max-ms", "--json", "--model", NULL};
    if (!cli_known(argc, argv, known)) return 2;
    const char *dev = cli_opt(argc, argv, "--device"), *json = cli_opt(argc, argv, "--json");
    const char *len_s = cli_opt(argc, argv, "--lengths") ? cli_opt(argc, argv, "--lengths") : "16,32,64,128,256,512,1024";
    const int reps = cli_opt(argc, argv, "--reps") ? atoi(cli_opt(argc, argv, "--reps")) : 3;
    const double max_ms = cli_opt(argc, argv, "--max-ms") ? atof(cli_opt(argc, argv, "--max-ms")) : 60000.0;
    row proto[MAX_LENGTHS];
    int nrows = 0;
    if (parse_lengths(len_s, proto, &nrows) || reps < 1 || reps > 1000 || !(max_ms > 0)) {
        fprintf(stderr, "tinycl bench kvcache: --lengths N,N,... (increasing, 1..%d, at most %d), --reps 1..1000, "
                        "--max-ms MS > 0\n", 1 << 20, MAX_LENGTHS);
        return 2;
    }
    int first = 0, last = tc_device_count() - 1;
    if (dev) {
        if (tc_device_find(dev, &first) != TC_OK) {
            fprintf(stderr, "tinycl bench kvcache: %s\n", tc_last_error(NULL));
            return 2;
        }
        last = first;
    }
    char path[1024];
    cli_decoder_path(cli_opt(argc, argv, "--model"), path, sizeof path);
    FILE *jf = json ? fopen(json, "w") : NULL;
    if (json && !jf) {
        fprintf(stderr, "tinycl bench kvcache: cannot write %s\n", json);
        return 2;
    }
    if (jf) fprintf(jf, "{\"records\": [\n");
    const int64_t most = proto[nrows - 1].tokens;
    double *steps[2] = {malloc((size_t)most * sizeof(double)), malloc((size_t)most * sizeof(double))};
    int failed = !steps[0] || !steps[1], jfirst = 1;
    for (int dv = first; dv <= last && !failed; dv++) {
        char spec[16];
        snprintf(spec, sizeof spec, "%d", dv);
        tc_ctx *ctx = NULL;
        tc_decoder *d = NULL;
        row rows[MAX_LENGTHS];
        memcpy(rows, proto, sizeof rows);
        int64_t nsteps[2] = {0, 0};
        double lpt[2];
        tc_status s = tc_ctx_create(spec, 0, &ctx);
        if (s == TC_OK) s = tc_decoder_load(ctx, path, PLEN + most, &d);
        if (s == TC_OK) s = time_lengths(d, rows, nrows, reps, max_ms, steps, nsteps);
        if (s != TC_OK) {
            fprintf(stderr, "tinycl bench kvcache: device %s: %s\n", spec, ctx ? tc_last_error(ctx) : tc_last_error(NULL));
            failed = 1;
        } else {
            const tc_decoder_info in = tc_decoder_info_of(d);
            launches_per_token(dv, path, lpt);
            print_device(tc_ctx_device(ctx)->name, &in, rows, nrows, lpt);
            const int64_t n = nsteps[0] < nsteps[1] ? nsteps[0] : nsteps[1];
            const int64_t be = breakeven(steps[0], steps[1], n);
            if (be) printf("  breakeven: the cache is faster from %lld generated tokens on\n", (long long)be);
            else printf("  breakeven: the cache is not faster within %lld generated tokens\n", (long long)n);
            report_steps(steps, nsteps);
            if (jf) json_rows(jf, &jfirst, tc_ctx_device(ctx)->name, &in, rows, nrows, lpt);
            for (int i = 0; i < nrows; i++) failed |= rows[i].agree >= 0 && rows[i].agree < 1.0;
        }
        tc_decoder_free(d);
        tc_ctx_free(ctx);
    }
    if (jf) {
        fprintf(jf, "\n]}\n");
        fclose(jf);
        if (!failed) printf("wrote %s\n", json);
    }
    free(steps[0]), free(steps[1]);
    return failed;
}
