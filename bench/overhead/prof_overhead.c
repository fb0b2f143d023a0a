/* What profiling costs: the same work on two contexts of one device, one created
 * with TC_CTX_PROFILE and one without, timed in alternation in one run (each
 * call followed by tc_ctx_finish, so a time is the call's latency as a user sees
 * it). Workloads: matmul 256^3 and the digits CNN forward at batch 1. Means
 * include the occasional harvest of completed events; medians do not.
 *
 *   prof_overhead [--device D] [--reps N] [--model FILE.tcw] [--trace FILE]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tinycl/tinycl.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double mean(const double *t, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += t[i];
    return s / n;
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* One workload on one context: its tensors and how to run it once. */
typedef struct {
    tc_ctx *ctx;
    tc_tensor *a, *b, *c;
    tc_model *model;
} work;

static tc_tensor *filled(tc_ctx *ctx, int ndim, const int64_t *dims, tc_status *st)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= dims[i];
    float *h = malloc((size_t)n * sizeof *h);
    tc_tensor *t = NULL;
    if (!h) {
        *st = TC_ERR_OUT_OF_MEMORY;
        return NULL;
    }
    for (int64_t i = 0; i < n; i++)
        h[i] = (float)sin(0.37 * (double)i);
    if (*st == TC_OK) *st = tc_tensor_from_host(ctx, TC_DTYPE_F32, ndim, dims, h, &t);
    free(h);
    return t;
}

static tc_status setup(work *w, int cnn, const char *model)
{
    tc_status st = TC_OK;
    if (!cnn) {
        const int64_t d[2] = {256, 256};
        w->a = filled(w->ctx, 2, d, &st);
        w->b = filled(w->ctx, 2, d, &st);
        if (st == TC_OK) st = tc_tensor_create(w->ctx, TC_DTYPE_F32, 2, d, &w->c);
        return st;
    }
    if ((st = tc_model_load(w->ctx, model, &w->model)) != TC_OK) return st;
    const int64_t dx[2] = {1, tc_model_input_numel(w->model)}, dy[2] = {1, tc_model_classes(w->model)};
    w->a = filled(w->ctx, 2, dx, &st);
    if (st == TC_OK) st = tc_tensor_create(w->ctx, TC_DTYPE_F32, 2, dy, &w->c);
    return st;
}

static tc_status run_once(work *w)
{
    tc_status st = w->model ? tc_model_forward(w->model, w->a, w->c) : tc_matmul(w->ctx, w->a, w->b, w->c, NULL);
    return st == TC_OK ? tc_ctx_finish(w->ctx) : st;
}

static void release(work *w)
{
    tc_model_free(w->model);
    tc_tensor_free(w->a);
    tc_tensor_free(w->b);
    tc_tensor_free(w->c);
    *w = (work){w->ctx, NULL, NULL, NULL, NULL};
}

/* Alternates off/on (order flipped every pair) after a warm-up; medians and their ratio. */
static int measure(const char *name, work *off, work *on, int reps)
{
    double *t[2] = {malloc((size_t)reps * sizeof(double)), malloc((size_t)reps * sizeof(double))};
    work *w[2] = {off, on};
    tc_status st = t[0] && t[1] ? TC_OK : TC_ERR_OUT_OF_MEMORY;
    int which = 0;
    for (int i = 0; i < 20 && st == TC_OK; i++)
        st = run_once(w[which = i % 2]);
    for (int r = 0; r < reps && st == TC_OK; r++)
        for (int k = 0; k < 2 && st == TC_OK; k++) {
            which = (r % 2) ^ k;
            const double t0 = now_ms();
            st = run_once(w[which]);
            t[which][r] = now_ms() - t0;
        }
    if (st != TC_OK) {
        fprintf(stderr, "prof_overhead: %s: %s\n", name, tc_last_error(w[which]->ctx));
    } else {
        const double a0 = mean(t[0], reps), a1 = mean(t[1], reps), m0 = median(t[0], reps), m1 = median(t[1], reps);
        printf("%-22s %6d %9.4f %9.4f %7.3f %9.4f %9.4f %7.3f\n", name, reps, m0, m1, m1 / m0, a0, a1, a1 / a0);
    }
    free(t[0]);
    free(t[1]);
    return st != TC_OK;
}

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return def;
}

int main(int argc, char **argv)
{
    const char *dev = opt(argc, argv, "--device", NULL), *trace = opt(argc, argv, "--trace", NULL);
    const char *model = opt(argc, argv, "--model", "data/cnn_digits.tcw");
    const int reps = atoi(opt(argc, argv, "--reps", "1000"));
    if (reps < 1 || argc % 2 == 0) {
        fprintf(stderr, "usage: prof_overhead [--device D] [--reps N] [--model FILE.tcw] [--trace FILE]\n");
        return 2;
    }
    work off = {0}, on = {0};
    if (tc_ctx_create(dev, 0, &off.ctx) != TC_OK || tc_ctx_create(dev, TC_CTX_PROFILE, &on.ctx) != TC_OK) {
        fprintf(stderr, "prof_overhead: %s\n", tc_last_error(NULL));
        return 1;
    }
    printf("device %s; ms per call + tc_ctx_finish, profiling off and on alternating\n", tc_ctx_device(on.ctx)->name);
    printf("%-22s %6s %9s %9s %7s %9s %9s %7s\n", "workload", "reps", "med off", "med on", "on/off", "mean off",
           "mean on", "on/off");
    int failed = 0;
    for (int cnn = 0; cnn < 2 && !failed; cnn++) {
        tc_status st = setup(&off, cnn, model);
        if (st == TC_OK) st = setup(&on, cnn, model);
        if (st != TC_OK) {
            fprintf(stderr, "prof_overhead: %s\n", tc_last_error(off.ctx));
            failed = 1;
        } else {
            failed = measure(cnn ? "cnn_digits forward b=1" : "matmul 256x256x256", &off, &on, reps);
        }
        release(&off);
        release(&on);
    }
    tc_prof_info info;
    if (!failed && tc_prof_info_get(on.ctx, &info) == TC_OK)
        printf("profiled: %llu launches, %llu op calls\n", (unsigned long long)info.launches,
               (unsigned long long)info.scopes);
    if (!failed && trace) {
        FILE *f = fopen(trace, "w");
        failed = !f || tc_prof_write_trace(on.ctx, f) != TC_OK;
        if (f) fclose(f);
        if (failed) fprintf(stderr, "prof_overhead: cannot write %s\n", trace);
    }
    tc_ctx_free(off.ctx);
    tc_ctx_free(on.ctx);
    return failed;
}
