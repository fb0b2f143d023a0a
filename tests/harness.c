#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/opdesc.h"

uint64_t th_seed(void)
{
    static uint64_t seed;
    if (!seed) {
        const char *s = getenv("TINYCL_SEED");
        seed = s ? strtoull(s, NULL, 10) : ((uint64_t)time(NULL) * 2654435761u) ^ (uint64_t)getpid();
        if (!seed) seed = 1;
        printf("# TINYCL_SEED=%llu TINYCL_DEVICE=%s\n", (unsigned long long)seed,
               getenv("TINYCL_DEVICE") ? getenv("TINYCL_DEVICE") : "(default)");
    }
    return seed;
}

tc_ctx *th_ctx(void)
{
    tc_ctx *ctx = NULL;
    tc_status s = tc_ctx_create(NULL, TC_CTX_PROFILE, &ctx);
    if (s != TC_OK) fail_msg("cannot create a context on TINYCL_DEVICE=%s: %s", getenv("TINYCL_DEVICE"), tc_last_error(NULL));
    return ctx;
}

static void report(const tc_check_result *r, void *user)
{
    int *openblas_passed = user;
    if (r->passed && r->variant == TC_VARIANT_OPENBLAS) ++*openblas_passed;
    if (!r->passed && !r->skipped)
        print_error("FAIL %s/%s %s seed %llu: %s\n", r->op, tc_variant_name(r->variant), r->shape,
                    (unsigned long long)r->seed, r->message);
}

void th_check_op(const char *op)
{
    tc_ctx *ctx = th_ctx();
    int failures = -1, openblas_passed = 0;
    tc_status s = tc_check_run(ctx, op, TC_VARIANT_AUTO, th_seed(), report, &openblas_passed, &failures);
    if (s != TC_OK) fail_msg("tc_check_run: %s", tc_last_error(ctx));
    /* on "openblas" an op with the openblas variant runs it in every case (plain and view) */
    const tc_opdesc *d = tc_opdesc_find(op);
    int has_openblas = 0;
    for (int i = 0; i < d->nvariants; i++) has_openblas |= d->variants[i] == TC_VARIANT_OPENBLAS;
    const int want = tc_ctx_host_blas(ctx) && has_openblas ? 2 * d->ncases : 0;
    tc_ctx_free(ctx);
    assert_int_equal(failures, 0);
    assert_int_equal(openblas_passed, want);
}

void th_expect(tc_ctx *ctx, tc_status st, tc_status want, const char *needle)
{
    const char *msg = tc_last_error(ctx);
    if (st != want) fail_msg("expected %s, got %s (%s)", tc_status_name(want), tc_status_name(st), msg);
    assert_true(strlen(msg) > 0);
    if (needle && !strstr(msg, needle)) fail_msg("message '%s' does not mention '%s'", msg, needle);
}

void th_expect_env_rejected(const char *name, const char *value, unsigned flags, const char *needle)
{
    setenv(name, value, 1);
    tc_ctx *ctx = (tc_ctx *)1;
    th_expect(NULL, tc_ctx_create(getenv("TINYCL_DEVICE"), flags, &ctx), TC_ERR_INVALID_ARG, needle);
    assert_null(ctx);
    unsetenv(name);
}

char *th_printed(tc_ctx *ctx, tc_status (*fn)(tc_ctx *ctx, FILE *f))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    const tc_status st = fn(ctx, f);
    fclose(f);
    if (st != TC_OK) fail_msg("%s", tc_last_error(ctx));
    return buf;
}

tc_tensor *th_tensor(tc_ctx *ctx, int ndim, const int64_t *dims, float **host)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    float *h = malloc((size_t)n * sizeof *h);
    assert_non_null(h);
    static uint64_t state;
    if (!state) state = th_seed();
    tc_rand_f32(h, (size_t)n, -1.0f, 1.0f, &state);
    tc_tensor *t = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, ndim, dims, h, &t), TC_OK);
    if (host)
        *host = h;
    else
        free(h);
    return t;
}

void *th_read(const tc_tensor *t)
{
    size_t bytes = tc_tensor_bytes(t);
    void *h = malloc(bytes);
    assert_non_null(h);
    assert_int_equal(tc_tensor_read(t, h, bytes), TC_OK);
    return h;
}

size_t th_tensor_mem(const tc_ctx *ctx)
{
    size_t n = tc_ctx_mem_current(ctx);
    for (int i = 0; i < TC_SCRATCH_SLOTS; i++) n -= ctx->scratch_bytes[i];
    return n;
}

int th_unchanged(const tc_tensor *t, const float *host)
{
    size_t bytes = tc_tensor_bytes(t);
    float *now = th_read(t);
    int same = memcmp(now, host, bytes) == 0;
    free(now);
    return same;
}
