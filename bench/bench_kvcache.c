/* `tinycl bench kvcache`: generation with the KV cache (f32, and int8) against
 * recomputing the whole sequence at every step, per device and generated length,
 * timed in turn in one run; the tokens each gives, the cache's memory, launches per
 * token, the length from which the cache pays off, and how a step's time grows with
 * the context (a line with a cache, a parabola without). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/meta.h"
#include "bench/results.h"
#include "core/internal.h"

#define MAX_LENGTHS 16
#define PROMPT      "The "
#define PLEN        4
#define BINS        16 /* context ranges of the step-time fits */

/* The variants: 0 the f32 cache, 1 recomputation, 2 the int8 cache. */
#define NV 3
enum { CACHED, UNCACHED, CACHED_INT8 };
static const char *const vname[NV] = {"cached", "uncached", "cached-int8"};

typedef struct {
    int64_t tokens;
    double *ms[NV];   /* per variant: reps[v] times */
    int reps[NV];     /* 0: skipped */
    double agree[NV]; /* fraction of tokens equal to the uncached (f32) ones; < 0 when either was skipped */
    int64_t parted;   /* cached-int8: the first token that differs from the uncached ones, or -1 */
    size_t cache_bytes[NV];
} row;

/* What a device's run adds to the records: its summary. */
typedef struct {
    char device[256];
    double launches[NV]; /* per generated token; < 0: not counted (ref) */
    int64_t breakeven, compared;
    double fit[NV][3], r2[NV]; /* r2 < 0: too few steps */
    int64_t fit_steps[NV];
} summary;

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static tc_status gen(tc_decoder *d, int variant, int64_t n, int32_t *out, double *step_ms, double *ms)
{
    int32_t ids[PLEN];
    for (int i = 0; i < PLEN; i++)
        ids[i] = (unsigned char)PROMPT[i];
    const int32_t *prompts[1] = {ids};
    const int64_t len = PLEN;
    tc_generate_params p = tc_generate_defaults();
    p.use_cache = variant != UNCACHED;
    p.step_ms = step_ms;
    /* the first switch to s8 calibrates: the untimed warm-up makes it */
    tc_status s = tc_decoder_set_kv_dtype(d, variant == CACHED_INT8 ? TC_DTYPE_S8 : TC_DTYPE_F32);
    const double t0 = tc_now_ms();
    if (s == TC_OK) s = tc_decoder_generate(d, 1, prompts, &len, n, &p, out);
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
            for (int k = 0; k <= deg; k++)
                a[r][k] += p[r] * p[k];
            a[r][3] += p[r] * y[i];
        }
    }
    for (int r = 0; r <= deg; r++) /* Gauss-Jordan on the normal equations (well scaled enough for deg <= 2) */
        for (int q = 0; q <= deg; q++) {
            if (q == r) continue;
            const double f = a[q][r] / a[r][r];
            for (int k = 0; k < 4; k++)
                a[q][k] -= f * a[r][k];
        }
    for (int r = 0; r <= deg; r++)
        c[r] = a[r][3] / a[r][r];
    double mean = 0.0, ss = 0.0, res = 0.0;
    for (int i = 0; i < n; i++)
        mean += y[i] / n;
    for (int i = 0; i < n; i++) {
        const double f = c[0] + c[1] * x[i] + (deg == 2 ? c[2] * x[i] * x[i] : 0.0);
        ss += (y[i] - mean) * (y[i] - mean);
        res += (y[i] - f) * (y[i] - f);
    }
    return ss > 0.0 ? 1.0 - res / ss : 1.0;
}

/* Launches of one decode step of each variant: the difference between two
 * generations, on a profiling context of the same device. */
static void launches_per_token(int dev, const char *path, double lpt[NV])
{
    char spec[16];
    cli_device_spec(dev, spec, sizeof spec);
    tc_ctx *ctx = NULL;
    tc_decoder *d = NULL;
    for (int v = 0; v < NV; v++)
        lpt[v] = -1.0;
    if (tc_ctx_create(spec, TC_CTX_PROFILE, &ctx) != TC_OK || tc_decoder_load(ctx, path, 64, &d) != TC_OK) {
        tc_ctx_free(ctx);
        return;
    }
    int32_t out[40];
    double ms;
    for (int v = 0; v < NV; v++) {
        uint64_t n[2] = {0, 0};
        if (gen(d, v, 1, out, NULL, &ms) != TC_OK) continue; /* the s8 calibration's launches before the counts */
        for (int k = 0; k < 2; k++) {
            tc_prof_reset(ctx);
            tc_prof_info info;
            if (gen(d, v, k ? 40 : 8, out, NULL, &ms) != TC_OK || tc_prof_info_get(ctx, &info) != TC_OK) break;
            n[k] = info.launches;
        }
        if (n[1] > n[0]) lpt[v] = (double)(n[1] - n[0]) / 32.0;
    }
    tc_decoder_free(d);
    tc_ctx_free(ctx);
}

/* steps: each step's fastest time over the runs of the longest length so far. */
static void keep_steps(double *steps, int64_t *nsteps, const double *sm, int64_t n)
{
    if (n > *nsteps) memcpy(steps, sm, (size_t)n * sizeof *sm);
    for (int64_t i = 0; n == *nsteps && i < n; i++) steps[i] = fmin(steps[i], sm[i]);
    *nsteps = n;
}

/* Times every variant at each length, in turn; steps[v] gets each step's
 * shortest time over the runs of the longest length measured. */
static tc_status time_lengths(tc_decoder *d, row *rows, int nrows, int reps, double max_ms, double *steps[NV],
                              int64_t nsteps[NV])
{
    const int64_t most = rows[nrows - 1].tokens;
    int32_t *out[NV];
    double *sm = malloc((size_t)most * sizeof *sm), ms;
    tc_status s = sm ? TC_OK : TC_ERR_OUT_OF_MEMORY;
    for (int v = 0; v < NV; v++)
        if (!(out[v] = malloc((size_t)most * sizeof(int32_t)))) s = TC_ERR_OUT_OF_MEMORY;
    int skip[NV] = {0};
    /* untimed: every kernel a variant uses gets built (PoCL compiles on first use), the s8 scales calibrated */
    for (int v = 0; v < NV && s == TC_OK; v++)
        s = gen(d, v, v == UNCACHED && most > 32 ? 32 : most, out[v], NULL, &ms);
    for (int i = 0; i < nrows && s == TC_OK; i++) {
        row *r = &rows[i];
        for (int v = 0; v < NV && s == TC_OK; v++) {
            s = tc_decoder_set_kv_dtype(d, v == CACHED_INT8 ? TC_DTYPE_S8 : TC_DTYPE_F32);
            r->cache_bytes[v] = v == UNCACHED ? 0 : tc_decoder_cache_bytes(d, 1, PLEN + r->tokens - 1);
        }
        for (int k = 0; k < reps && s == TC_OK; k++) {
            for (int j = 0; j < NV && s == TC_OK; j++) {
                const int v = (k + j) % NV; /* rotate which goes first */
                if (skip[v] || (k > 0 && r->ms[v][0] > max_ms)) continue;
                s = gen(d, v, r->tokens, out[v], sm, &r->ms[v][r->reps[v]++]);
                if (s == TC_OK) keep_steps(steps[v], &nsteps[v], sm, r->tokens);
            }
        }
        for (int v = 0; v < NV; v++)
            skip[v] |= r->reps[v] && r->ms[v][0] > max_ms; /* longer ones take longer */
        r->parted = -1;
        for (int v = 0; v < NV; v++) {
            int same = 0;
            for (int64_t j = 0; j < r->tokens; j++) {
                same += out[v][j] == out[UNCACHED][j];
                if (v == CACHED_INT8 && r->parted < 0 && out[v][j] != out[UNCACHED][j]) r->parted = j;
            }
            r->agree[v] = r->reps[v] && r->reps[UNCACHED] ? (double)same / (double)r->tokens : -1.0;
        }
        r->agree[UNCACHED] = r->agree[CACHED]; /* the uncached record shows the f32 pair's agreement too */
    }
    for (int v = 0; v < NV; v++)
        free(out[v]);
    free(sm);
    return s;
}

/* The first generated length from which the cache's cumulative time stays below
 * recomputation's, from the per-step times; 0 if it never does. The first step is
 * the same prefill in both, so the answer is 2 or more. */
static int64_t breakeven(const double *c, const double *u, int64_t n)
{
    double sc = 0.0, su = 0.0;
    int64_t from = 0;
    for (int64_t i = 0; i < n; i++) {
        sc += c[i], su += u[i];
        if (sc < su && !from && i > 0) from = i + 1;
        if (sc >= su) from = 0;
    }
    return from;
}

/* Step time against the context it attends to, fitted (a line with the cache, a
 * parabola without) to the medians of BINS equal ranges of steps: a busy machine
 * stalls single steps, which a median ignores and a fit over every step would not. */
static void fit_steps(double *const steps[NV], const int64_t nsteps[NV], summary *sm)
{
    for (int v = 0; v < NV; v++) {
        const int64_t n = nsteps[v] - 1; /* the first step is the prompt's prefill */
        double x[BINS], y[BINS], *t = n >= 2 * BINS ? malloc((size_t)n * sizeof *t) : NULL;
        sm->r2[v] = -1.0;
        sm->fit_steps[v] = n;
        if (!t) continue;
        for (int b = 0; b < BINS; b++) {
            const int64_t lo = n * b / BINS, hi = n * (b + 1) / BINS;
            memcpy(t, steps[v] + 1 + lo, (size_t)(hi - lo) * sizeof *t);
            qsort(t, (size_t)(hi - lo), sizeof *t, cmp_double);
            y[b] = t[(hi - lo) / 2];
            x[b] = (double)(PLEN + 1 + (lo + hi - 1) / 2); /* context of the range's middle step */
        }
        free(t);
        sm->r2[v] = fit(x, y, BINS, v == UNCACHED ? 2 : 1, sm->fit[v]);
    }
}

static void print_summary(FILE *f, const summary *s)
{
    fprintf(f, "%s:\n", s->device);
    if (s->launches[0] >= 0)
        fprintf(f, "  launches per generated token: %.1f cached, %.1f uncached, %.1f cached-int8\n", s->launches[0],
                s->launches[1], s->launches[2]);
    if (s->breakeven)
        fprintf(f, "  breakeven: the cache is faster from %lld generated tokens on\n", (long long)s->breakeven);
    else
        fprintf(f, "  breakeven: the cache is not faster within %lld generated tokens\n", (long long)s->compared);
    for (int v = 0; v < NV; v += 2)
        if (s->r2[v] >= 0)
            fprintf(f,
                    "  %s step time vs context (medians of %d ranges of %lld steps): %.4f ms + %.3f us x context "
                    "(R^2 %.3f)\n",
                    vname[v], BINS, (long long)s->fit_steps[v], s->fit[v][0], 1e3 * s->fit[v][1], s->r2[v]);
    if (s->r2[1] >= 0)
        fprintf(f,
                "  uncached step time vs context (medians of %d ranges of %lld steps): %.4f ms + %.4f us x context "
                "+ %.5f us x context^2 (R^2 %.3f)\n",
                BINS, (long long)s->fit_steps[1], s->fit[1][0], 1e3 * s->fit[1][1], 1e3 * s->fit[1][2], s->r2[1]);
}

/* "generation": [{"device", "launches_per_token", "breakeven_tokens", "step_fits"}] */
static char *summary_json(const summary *s, int n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fprintf(f, "[");
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s{\"device\": ", i ? ", " : "");
        meta_json_string(f, s[i].device);
        if (s[i].launches[0] >= 0)
            fprintf(f, ", \"launches_per_token\": {\"cached\": %.1f, \"uncached\": %.1f, \"cached-int8\": %.1f}",
                    s[i].launches[0], s[i].launches[1], s[i].launches[2]);
        fprintf(f, ", \"breakeven_tokens\": ");
        if (s[i].breakeven)
            fprintf(f, "%lld", (long long)s[i].breakeven);
        else
            fprintf(f, "null");
        for (int v = 0; v < NV; v += 2)
            if (s[i].r2[v] >= 0)
                fprintf(f, ", \"%s_step_ms\": {\"a\": %.6g, \"b_per_context\": %.6g, \"r2\": %.4f}",
                        v == CACHED ? "cached" : "cached_int8", s[i].fit[v][0], s[i].fit[v][1], s[i].r2[v]);
        if (s[i].r2[1] >= 0)
            fprintf(f,
                    ", \"uncached_step_ms\": {\"a\": %.6g, \"b_per_context\": %.6g, \"c_per_context2\": %.6g, "
                    "\"r2\": %.4f}",
                    s[i].fit[1][0], s[i].fit[1][1], s[i].fit[1][2], s[i].r2[1]);
        fprintf(f, "}");
    }
    fprintf(f, "]");
    return fclose(f) == 0 ? buf : (free(buf), NULL);
}

static int to_records(const char *dev, const tc_decoder_info *in, const row *rows, int n, const double lpt[NV],
                      int samples, res_set *rs)
{
    for (int i = 0; i < n; i++)
        for (int v = 0; v < NV; v++) {
            const row *r = &rows[i];
            if (!r->reps[v]) continue;
            res_record *o = res_add(rs);
            if (!o) return 1;
            char text[96], json[256];
            snprintf(text, sizeof text, "tokens=%lld", (long long)r->tokens);
            snprintf(json, sizeof json,
                     "{\"tokens\": %lld, \"prompt\": %d, \"d_model\": %lld, \"layers\": %lld, \"heads\": %lld, "
                     "\"batch\": 1}",
                     (long long)r->tokens, PLEN, (long long)in->d_model, (long long)in->layers, (long long)in->heads);
            res_str(o, "op", "op", "generate");
            res_str(o, "variant", "variant", vname[v]);
            res_str(o, "device", "device", dev);
            res_obj(o, "shape", "shape", text, json);
            res_times(o, r->ms[v], r->reps[v], samples);
            res_num(o, "tokens_per_s", "tokens/s", "%.1f", 1e3 * (double)r->tokens / res_median(r->ms[v], r->reps[v]));
            if (r->agree[v] >= 0) res_num(o, "agree", "agree", "%.3f", r->agree[v]);
            if (v == CACHED_INT8 && r->agree[v] >= 0 && r->parted >= 0) /* greedy: from there the texts go apart */
                res_num(o, "first_differing", "1st differing", "%.0f", (double)r->parted);
            if (v != UNCACHED && r->agree[v] >= 0)
                res_num(o, "speedup_vs_uncached", "vs uncached", "%.2fx",
                        res_median(r->ms[UNCACHED], r->reps[UNCACHED]) / res_median(r->ms[v], r->reps[v]));
            if (v != UNCACHED) res_num(o, "cache_bytes", "cache bytes", "%.0f", (double)r->cache_bytes[v]);
            if (lpt[v] >= 0) res_num(o, "launches_per_token", "launches/token", "%.1f", lpt[v]);
        }
    return 0;
}

static int parse_lengths(const char *s, int64_t *len, int *n)
{
    *n = 0;
    for (const char *p = s; *p;) {
        char *end;
        const long long v = strtoll(p, &end, 10);
        if (end == p || v < 1 || v > 1 << 20 || *n == MAX_LENGTHS || (*n && v <= len[*n - 1])) return -1;
        len[(*n)++] = v;
        if (*end && *end != ',') return -1;
        p = *end ? end + 1 : end;
    }
    return *n ? 0 : -1;
}

/* One device: its records and summary; 1 on failure. */
static int run_device(int dev, const char *path, const int64_t *lengths, int nl, int reps, double max_ms, int samples,
                      double *steps[NV], res_set *rs, summary *sm)
{
    char spec[16];
    cli_device_spec(dev, spec, sizeof spec);
    tc_ctx *ctx = NULL;
    tc_decoder *d = NULL;
    row rows[MAX_LENGTHS];
    memset(rows, 0, sizeof rows);
    int64_t nsteps[NV] = {0};
    tc_status s = tc_ctx_create(spec, 0, &ctx);
    for (int i = 0; i < nl && s == TC_OK; i++) {
        rows[i].tokens = lengths[i];
        for (int v = 0; v < NV; v++)
            if (!(rows[i].ms[v] = malloc((size_t)reps * sizeof(double)))) s = TC_ERR_OUT_OF_MEMORY;
    }
    if (s == TC_OK) s = tc_decoder_load(ctx, path, PLEN + lengths[nl - 1], &d);
    if (s == TC_OK) s = time_lengths(d, rows, nl, reps, max_ms, steps, nsteps);
    int failed = s != TC_OK;
    if (failed) {
        fprintf(stderr, "tinycl bench kvcache: device %s: %s\n", spec,
                s == TC_ERR_OUT_OF_MEMORY ? "out of memory"
                : ctx                     ? tc_last_error(ctx)
                                          : tc_last_error(NULL));
    } else {
        const tc_decoder_info in = tc_decoder_info_of(d);
        snprintf(sm->device, sizeof sm->device, "%s", tc_ctx_device(ctx)->name);
        launches_per_token(dev, path, sm->launches);
        sm->compared = nsteps[0] < nsteps[1] ? nsteps[0] : nsteps[1];
        sm->breakeven = breakeven(steps[0], steps[1], sm->compared);
        fit_steps(steps, nsteps, sm);
        failed = to_records(sm->device, &in, rows, nl, sm->launches, samples, rs);
        for (int i = 0; i < nl; i++)
            if (rows[i].agree[CACHED] >= 0 && rows[i].agree[CACHED] < 1.0) {
                fprintf(stderr, "tinycl bench kvcache: %s, %lld tokens: cached and uncached tokens differ\n",
                        sm->device, (long long)rows[i].tokens);
                failed = 1;
            }
    }
    for (int i = 0; i < nl; i++)
        for (int v = 0; v < NV; v++)
            free(rows[i].ms[v]);
    tc_decoder_free(d);
    tc_ctx_free(ctx);
    return failed;
}

int cli_bench_kvcache(const cli_args *a)
{
    const char *len_s = cli_get(a, "--lengths") ? cli_get(a, "--lengths") : "16,32,64,128,256,512,1024";
    int64_t lengths[MAX_LENGTHS];
    int nl = 0;
    if (parse_lengths(len_s, lengths, &nl))
        return cli_misuse(a, "--lengths takes up to %d increasing token counts in 1..%d, not '%s'", MAX_LENGTHS,
                          1 << 20, len_s);
    const int reps = (int)cli_int(a, "--reps", 3);
    const double max_ms = cli_ms(a, "--max-ms", 60000.0);
    char path[4200];
    if (cli_decoder_path(a, path, sizeof path)) return 2;
    double *steps[NV];
    int failed = 0, ns = 0;
    for (int v = 0; v < NV; v++)
        failed |= !(steps[v] = malloc((size_t)lengths[nl - 1] * sizeof(double)));
    summary *sm = calloc((size_t)a->ndevices + 1, sizeof *sm);
    res_set rs = {.reps = reps, .extra_key = "generation"};
    failed |= !sm;
    for (int k = 0; k < a->ndevices && !failed; k++) {
        if (a->devices[k] == 0 && !a->device_source) continue; /* every OpenCL device; ref when asked for */
        failed |= run_device(a->devices[k], path, lengths, nl, reps, max_ms, cli_get(a, "--samples") != NULL, steps,
                             &rs, &sm[ns]);
        ns += !failed;
    }
    if (!ns && !failed) printf("no OpenCL device: %s (--device ref runs the reference)\n", tc_device_probe_message());
    if (sm) rs.extra_json = summary_json(sm, ns);
    failed |= !rs.extra_json || res_output(&rs, a);
    for (int i = 0; i < ns; i++)
        print_summary(cli_get(a, "--format") || cli_get(a, "--out") ? stderr : stdout, &sm[i]);
    free(rs.extra_json);
    res_free(&rs);
    for (int v = 0; v < NV; v++)
        free(steps[v]);
    free(sm);
    return failed;
}
