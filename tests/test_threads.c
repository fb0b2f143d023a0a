/* Threads: several threads, each with its own context, create the process's
 * first contexts at the same moment, then run matmul (every variant), conv2d
 * (every variant) and both digit models concurrently. Each thread checks its
 * op results against the host reference; the models' predictions must equal
 * those of a ref context made after all threads are done. Built with
 * ThreadSanitizer by `make test TSAN=1`. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "check/opdesc.h"
#include "ref/ref.h"

#ifndef TINYCL_DATA_DIR
#error "tests/CMakeLists.txt defines TINYCL_DATA_DIR"
#endif

#define THREADS 4
#define ROUNDS 2
#define DIGITS_N 359

static const char *const models[2] = {TINYCL_DATA_DIR "/mlp_digits.tcw", TINYCL_DATA_DIR "/cnn_digits.tcw"};
#define DIGITS_TEST TINYCL_DATA_DIR "/digits_test.tcd"

typedef struct {
    int id;
    const char *device; /* NULL: TINYCL_DEVICE */
    pthread_barrier_t *start;
    uint64_t seed;
    char error[512]; /* empty when everything agreed */
    int32_t pred[2][DIGITS_N];
} job;

/* Records the first failure of a job (cmocka's asserts are for the main thread). */
static int job_fail(job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int job_fail(job *j, const char *fmt, ...)
{
    if (!j->error[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(j->error, sizeof j->error, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* max |got - want| / max |want| over n values */
static double max_rel(const float *got, const float *want, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)got[i] - want[i]);
        if (!(d <= num)) num = d; /* NaN propagates */
        if (fabs(want[i]) > den) den = fabs(want[i]);
    }
    return den > 0 ? num / den : num;
}

static float *random_floats(size_t n, uint64_t *seed)
{
    float *h = malloc(n * sizeof *h);
    if (h) tc_rand_f32(h, n, -1.0f, 1.0f, seed);
    return h;
}

static int run_matmul(job *j, tc_ctx *ctx, tc_variant v)
{
    const int64_t m = 37 + j->id, n = 45, k = 70;
    float *ha = random_floats((size_t)(m * k), &j->seed), *hb = random_floats((size_t)(k * n), &j->seed);
    float *want = malloc((size_t)(m * n) * sizeof *want), *got = malloc((size_t)(m * n) * sizeof *got);
    tc_tensor *a = NULL, *b = NULL, *c = NULL;
    int rc = -1;
    if (!ha || !hb || !want || !got) {
        job_fail(j, "out of host memory");
    } else if (tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(m, k), ha, &a) != TC_OK ||
               tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(k, n), hb, &b) != TC_OK ||
               tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(m, n), &c) != TC_OK) {
        job_fail(j, "matmul tensors: %s", tc_last_error(ctx));
    } else {
        tc_matmul_params p = tc_matmul_defaults();
        p.variant = v;
        tc_status st = tc_matmul(ctx, a, b, c, &p);
        if (st == TC_ERR_UNSUPPORTED) {
            rc = 0;
        } else if (st != TC_OK || tc_tensor_read(c, got, (size_t)(m * n) * sizeof *got) != TC_OK) {
            job_fail(j, "matmul %s: %s", tc_variant_name(v), tc_last_error(ctx));
        } else if (tc_ref_matmul(ha, hb, want, NULL, m, n, k, 0, 0, 1.0f, 0.0f, 0) != 0) {
            job_fail(j, "out of host memory");
        } else {
            const double err = max_rel(got, want, (size_t)(m * n));
            rc = err <= 1e-4 ? 0 : job_fail(j, "matmul %s: error %g against the reference", tc_variant_name(v), err);
        }
    }
    tc_tensor_free(a), tc_tensor_free(b), tc_tensor_free(c);
    free(ha), free(hb), free(want), free(got);
    return rc;
}

static int run_conv2d(job *j, tc_ctx *ctx, tc_variant v)
{
    const tc_conv_dims d = {2, 6, 11, 9 + j->id, 8, 3, 3, 11, 9 + j->id, 1, 1, 1, 1, 1, 1, 1};
    const size_t nx = (size_t)(d.n * d.c * d.h * d.w), nw = (size_t)(d.k * d.c * d.r * d.s);
    const size_t ny = (size_t)(d.n * d.k * d.p * d.q);
    float *hx = random_floats(nx, &j->seed), *hw = random_floats(nw, &j->seed), *hb = random_floats(8, &j->seed);
    float *want = malloc(ny * sizeof *want), *got = malloc(ny * sizeof *got);
    tc_tensor *x = NULL, *w = NULL, *b = NULL, *y = NULL;
    int rc = -1;
    if (!hx || !hw || !hb || !want || !got) {
        job_fail(j, "out of host memory");
    } else if (tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, TH_DIMS(d.n, d.c, d.h, d.w), hx, &x) != TC_OK ||
               tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, TH_DIMS(d.k, d.c, d.r, d.s), hw, &w) != TC_OK ||
               tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, TH_DIMS(d.k), hb, &b) != TC_OK ||
               tc_tensor_create(ctx, TC_DTYPE_F32, 4, TH_DIMS(d.n, d.k, d.p, d.q), &y) != TC_OK) {
        job_fail(j, "conv2d tensors: %s", tc_last_error(ctx));
    } else {
        tc_conv2d_params p = tc_conv2d_defaults();
        p.pad_h = p.pad_w = 1;
        p.bias = b;
        p.relu = 1;
        p.variant = v;
        tc_status st = tc_conv2d(ctx, x, w, y, &p);
        if (st == TC_ERR_UNSUPPORTED) {
            rc = 0;
        } else if (st != TC_OK || tc_tensor_read(y, got, ny * sizeof *got) != TC_OK) {
            job_fail(j, "conv2d %s: %s", tc_variant_name(v), tc_last_error(ctx));
        } else {
            tc_ref_conv2d(hx, hw, hb, want, &d, 1);
            const double err = max_rel(got, want, ny);
            rc = err <= 1e-4 ? 0 : job_fail(j, "conv2d %s: error %g against the reference", tc_variant_name(v), err);
        }
    }
    tc_tensor_free(x), tc_tensor_free(w), tc_tensor_free(b), tc_tensor_free(y);
    free(hx), free(hw), free(hb), free(want), free(got);
    return rc;
}

/* Predictions of both digit models for the test split, into out[model][image]. */
static int run_models(job *j, tc_ctx *ctx, int32_t out[2][DIGITS_N])
{
    tc_tensor *x = NULL, *labels = NULL, *pred = NULL;
    int rc = 0;
    if (tc_dataset_load(ctx, DIGITS_TEST, &x, &labels) != TC_OK ||
        tc_tensor_create(ctx, TC_DTYPE_S32, 1, TH_DIMS(DIGITS_N), &pred) != TC_OK)
        rc = job_fail(j, "digits: %s", tc_last_error(ctx));
    for (int k = 0; rc == 0 && k < 2; k++) {
        tc_model *m = NULL;
        if (tc_model_load(ctx, models[k], &m) != TC_OK || tc_model_predict(m, x, pred) != TC_OK ||
            tc_tensor_read(pred, out[k], sizeof out[k]) != TC_OK)
            rc = job_fail(j, "%s: %s", models[k], tc_last_error(ctx));
        tc_model_free(m);
    }
    tc_tensor_free(x), tc_tensor_free(labels), tc_tensor_free(pred);
    return rc;
}

static void *worker(void *arg)
{
    job *j = arg;
    static const tc_variant variants[] = {TC_VARIANT_AUTO, TC_VARIANT_CPU, TC_VARIANT_GPU, TC_VARIANT_IM2COL,
                                          TC_VARIANT_CLBLAST};
    pthread_barrier_wait(j->start);
    tc_ctx *ctx = NULL;
    if (tc_ctx_create(j->device, TC_CTX_PROFILE, &ctx) != TC_OK) {
        job_fail(j, "tc_ctx_create: %s", tc_last_error(NULL));
        return NULL;
    }
    const int nv = tc_ctx_is_ref(ctx) ? 1 : (int)(sizeof variants / sizeof variants[0]);
    for (int r = 0; r < ROUNDS && !j->error[0]; r++) {
        for (int v = 0; v < nv && !j->error[0]; v++)
            if (run_matmul(j, ctx, variants[v]) == 0) run_conv2d(j, ctx, variants[v]);
        if (!j->error[0]) run_models(j, ctx, j->pred);
    }
    tc_ctx_free(ctx);
    return NULL;
}

static void test_threads_concurrent(void **state)
{
    (void)state;
    pthread_barrier_t start;
    pthread_t th[THREADS];
    static job jobs[THREADS];
    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    const char *dut = getenv("TINYCL_DEVICE");
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){.id = i, .start = &start, .seed = th_seed() + (uint64_t)i};
        /* the last thread on ref beside the device under test */
        jobs[i].device = i == THREADS - 1 ? "ref" : NULL;
        assert_int_equal(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < THREADS; i++)
        if (jobs[i].error[0])
            fail_msg("thread %d on %s: %s", i, jobs[i].device ? jobs[i].device : dut ? dut : "(default)",
                     jobs[i].error);
    /* the same predictions as a ref context made afterwards, one thread */
    job solo = {.id = 0, .seed = th_seed()};
    tc_ctx *ref = NULL;
    assert_int_equal(tc_ctx_create("ref", 0, &ref), TC_OK);
    if (run_models(&solo, ref, solo.pred) != 0) fail_msg("%s", solo.error);
    tc_ctx_free(ref);
    for (int i = 0; i < THREADS; i++) assert_memory_equal(jobs[i].pred, solo.pred, sizeof solo.pred);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
