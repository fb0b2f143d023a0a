/* The check runner and descriptor helpers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "tinycl/opencl.h"

extern const tc_opdesc tc_opdesc_matmul;
extern const tc_opdesc tc_opdesc_linear;
extern const tc_opdesc tc_opdesc_add;
extern const tc_opdesc tc_opdesc_mul;
extern const tc_opdesc tc_opdesc_relu;
extern const tc_opdesc tc_opdesc_gelu;
extern const tc_opdesc tc_opdesc_softmax;
extern const tc_opdesc tc_opdesc_layernorm;
extern const tc_opdesc tc_opdesc_maxpool2d;
extern const tc_opdesc tc_opdesc_avgpool2d;
extern const tc_opdesc tc_opdesc_global_avgpool;
extern const tc_opdesc tc_opdesc_embedding;
extern const tc_opdesc tc_opdesc_argmax;
extern const tc_opdesc tc_opdesc_conv2d;

static const tc_opdesc *const registry[] = {
    &tc_opdesc_matmul,
    &tc_opdesc_linear,
    &tc_opdesc_add,
    &tc_opdesc_mul,
    &tc_opdesc_relu,
    &tc_opdesc_gelu,
    &tc_opdesc_softmax,
    &tc_opdesc_layernorm,
    &tc_opdesc_maxpool2d,
    &tc_opdesc_avgpool2d,
    &tc_opdesc_global_avgpool,
    &tc_opdesc_embedding,
    &tc_opdesc_argmax,
    &tc_opdesc_conv2d,
};

int tc_opdesc_count(void) { return (int)(sizeof registry / sizeof registry[0]); }
const tc_opdesc *tc_opdesc_get(int i) { return (i >= 0 && i < tc_opdesc_count()) ? registry[i] : NULL; }

const tc_opdesc *tc_opdesc_find(const char *name)
{
    for (int i = 0; name && i < tc_opdesc_count(); i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}

int tc_check_op_count(void) { return tc_opdesc_count(); }
const char *tc_check_op_name(int i) { return tc_opdesc_get(i) ? registry[i]->name : NULL; }

uint64_t tc_rng_next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void tc_rand_f32(float *dst, size_t n, float lo, float hi, uint64_t *state)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = lo + (hi - lo) * (float)((double)(tc_rng_next(state) >> 11) * (1.0 / 9007199254740992.0));
}

/* Wrap mode: an application buffer [canary | payload | canary] wrapped at the
 * payload's offset; *user keeps a reference when not NULL. */
static tc_status wrap_new(tc_ctx *ctx, tc_dtype dt, int ndim, const int64_t *dims, cl_mem *user, tc_tensor **out)
{
    int64_t numel;
    size_t bytes, guard = 1024;
    tc_status s = tc_dims_count(ctx, dt, ndim, dims, &numel, &bytes);
    if (s != TC_OK) return s;
    cl_uint align_bits = 0;
    clGetDeviceInfo(ctx->dev, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL);
    if (align_bits / 8 > guard) guard = align_bits / 8;
    cl_int err;
    cl_mem m = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, bytes + 2 * guard, NULL, &err);
    if (err != CL_SUCCESS) return tc_fail_cl(ctx, err, "clCreateBuffer (wrapped)");
    const unsigned char pat = TC_CANARY;
    err = clEnqueueFillBuffer(ctx->queue, m, &pat, 1, 0, bytes + 2 * guard, 0, NULL, NULL);
    s = err == CL_SUCCESS ? tc_tensor_wrap(ctx, m, guard / tc_dtype_size(dt), dt, ndim, dims, out)
                          : tc_fail_cl(ctx, err, "clEnqueueFillBuffer (wrapped)");
    if (s == TC_OK && user)
        *user = m;
    else
        clReleaseMemObject(m); /* the tensor holds its own reference */
    return s;
}

/* 1 when the canaries around out in d->out_user are intact. */
static int wrap_guards_intact(const tc_opdata *d)
{
    size_t total = 0;
    if (clGetMemObjectInfo(d->out_user, CL_MEM_SIZE, sizeof total, &total, NULL) != CL_SUCCESS) return 0;
    unsigned char *all = malloc(total);
    int ok = all && clEnqueueReadBuffer(d->out->ctx->queue, d->out_user, CL_TRUE, 0, total, all, 0, NULL, NULL) ==
                        CL_SUCCESS;
    size_t guard = (total - d->out->bytes) / 2;
    for (size_t i = 0; ok && i < guard; i++) ok = all[i] == TC_CANARY && all[guard + d->out->bytes + i] == TC_CANARY;
    free(all);
    return ok;
}

tc_status tc_opdata_input(tc_ctx *ctx, tc_opdata *d, tc_dtype dt, int ndim, const int64_t *dims, void *host)
{
    if (d->nin == TC_OP_MAX_IN) return tc_fail(ctx, TC_ERR_INVALID_ARG, "too many inputs");
    d->host_in[d->nin] = host;
    tc_tensor **t = &d->in[d->nin++];
    if (!d->wrap) return tc_tensor_from_host(ctx, dt, ndim, dims, host, t);
    tc_status s = wrap_new(ctx, dt, ndim, dims, NULL, t);
    return s == TC_OK ? tc_tensor_write(*t, host, (*t)->bytes) : s;
}

tc_status tc_opdata_output(tc_ctx *ctx, tc_opdata *d, tc_dtype dt, int ndim, const int64_t *dims, uint64_t *rng)
{
    tc_status s = d->wrap ? wrap_new(ctx, dt, ndim, dims, &d->out_user, &d->out)
                          : tc_tensor_create_guarded(ctx, dt, ndim, dims, 1024, &d->out);
    if (s != TC_OK) return s;
    d->out_init = malloc(d->out->bytes);
    d->expected = malloc(d->out->bytes);
    if (!d->out_init || !d->expected) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (dt == TC_DTYPE_F32)
        tc_rand_f32(d->out_init, (size_t)d->out->numel, -1.0f, 1.0f, rng);
    else
        for (size_t i = 0; i < d->out->bytes; i++) ((unsigned char *)d->out_init)[i] = (unsigned char)tc_rng_next(rng);
    memcpy(d->expected, d->out_init, d->out->bytes);
    return tc_tensor_write(d->out, d->out_init, d->out->bytes);
}

tc_status tc_opdata_reset_out(tc_opdata *d) { return tc_tensor_write(d->out, d->out_init, d->out->bytes); }

void tc_opdata_free(tc_opdata *d)
{
    for (int i = 0; i < d->nin; i++) {
        tc_tensor_free(d->in[i]);
        free(d->host_in[i]);
    }
    tc_tensor_free(d->out);
    if (d->out_user) clReleaseMemObject(d->out_user);
    free(d->out_init);
    free(d->expected);
    memset(d, 0, sizeof *d);
}

int tc_opdata_compare(const tc_opdesc *op, tc_opdata *d, double *err, char *msg, size_t n)
{
    *err = INFINITY;
    size_t bytes = d->out->bytes;
    void *got = malloc(bytes);
    if (!got || tc_tensor_read(d->out, got, bytes) != TC_OK) {
        free(got);
        snprintf(msg, n, "cannot read the output back");
        return 0;
    }
    int ok = 1;
    size_t count = (size_t)d->out->numel;
    if (op->metric == TC_METRIC_EXACT) {
        size_t es = tc_dtype_size(d->out->dtype), bad = 0, first = 0;
        for (size_t i = 0; i < count; i++)
            if (memcmp((char *)got + i * es, (char *)d->expected + i * es, es) != 0 && bad++ == 0) first = i;
        *err = (double)bad;
        if (bad) snprintf(msg, n, "%zu of %zu elements differ (first at %zu)", bad, count, first);
        ok = bad == 0;
    } else {
        const float *x = got, *r = d->expected;
        double maxref = 0, maxdiff = 0, sd = 0, sr = 0;
        size_t nan_at = count;
        for (size_t i = 0; i < count; i++) {
            if (isnan(x[i]) != isnan(r[i]) || isinf(x[i]) != isinf(r[i])) {
                if (nan_at == count) nan_at = i;
                continue;
            }
            if (!isfinite(r[i])) continue;
            double diff = fabs((double)x[i] - (double)r[i]);
            if (diff > maxdiff) maxdiff = diff;
            if (fabs((double)r[i]) > maxref) maxref = fabs((double)r[i]);
            sd += diff * diff;
            sr += (double)r[i] * r[i];
        }
        if (op->metric == TC_METRIC_MAXREL)
            *err = maxref > 0 ? maxdiff / maxref : maxdiff;
        else
            *err = sr > 0 ? sd / sr : sd;
        if (nan_at < count) {
            snprintf(msg, n, "non-finite mismatch at element %zu (got %g, expected %g)", nan_at, (double)x[nan_at],
                     (double)r[nan_at]);
            *err = INFINITY;
            ok = 0;
        } else if (!(*err <= op->tol)) {
            snprintf(msg, n, "error %.3g exceeds tolerance %.3g", *err, op->tol);
            ok = 0;
        }
    }
    free(got);
    if (ok && !(tc_tensor_guards_intact(d->out) && (!d->out_user || wrap_guards_intact(d)))) {
        snprintf(msg, n, "a guard canary around the output was overwritten");
        ok = 0;
    }
    return ok;
}

static uint64_t case_seed(uint64_t seed, int op, int cs)
{
    uint64_t s = seed ^ ((uint64_t)(op + 1) << 40) ^ ((uint64_t)(cs + 1) << 20);
    return tc_rng_next(&s);
}

static tc_status run_checks(tc_ctx *ctx, const char *op, tc_variant variant, uint64_t seed, tc_check_fn fn,
                            void *user, int *failures, int wrap)
{
    if (!ctx || !failures) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_check_run: NULL argument");
    if (op && !tc_opdesc_find(op)) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_check_run: unknown op '%s'", op);
    if (variant < 0 || variant >= TC_VARIANT_COUNT)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_check_run: invalid variant %d", (int)variant);
    *failures = 0;
    for (int o = 0; o < tc_opdesc_count(); o++) {
        const tc_opdesc *desc = registry[o];
        if (op && strcmp(op, desc->name) != 0) continue;
        for (int c = 0; c < desc->ncases; c++) {
            tc_check_result r;
            memset(&r, 0, sizeof r);
            r.op = desc->name;
            r.seed = case_seed(seed, o, c);
            r.tol = desc->tol;
            desc->describe(&desc->cases[c], r.shape, sizeof r.shape);
            tc_opdata d;
            memset(&d, 0, sizeof d);
            d.wrap = wrap;
            tc_status s = desc->setup(ctx, &desc->cases[c], r.seed, &d);
            for (int vi = 0; vi < desc->nvariants; vi++) {
                tc_variant v = desc->variants[vi];
                if (variant != TC_VARIANT_AUTO && v != variant) continue;
                r.variant = v;
                r.passed = r.skipped = 0;
                r.err = 0;
                r.message[0] = '\0';
                r.status = s;
                if (s == TC_OK) s = tc_opdata_reset_out(&d);
                if (s == TC_OK) r.status = desc->run(ctx, &d, v);
                if (s != TC_OK) {
                    snprintf(r.message, sizeof r.message, "setup failed: %s", tc_last_error(ctx));
                } else if (r.status == TC_ERR_UNSUPPORTED) {
                    r.skipped = 1;
                    snprintf(r.message, sizeof r.message, "%s", tc_last_error(ctx));
                } else if (r.status != TC_OK) {
                    snprintf(r.message, sizeof r.message, "%s", tc_last_error(ctx));
                } else {
                    r.passed = tc_opdata_compare(desc, &d, &r.err, r.message, sizeof r.message);
                }
                if (!r.passed && !r.skipped) (*failures)++;
                if (fn) fn(&r, user);
            }
            tc_opdata_free(&d);
        }
    }
    return TC_OK;
}

tc_status tc_check_run(tc_ctx *ctx, const char *op, tc_variant variant, uint64_t seed, tc_check_fn fn, void *user,
                       int *failures)
{
    return run_checks(ctx, op, variant, seed, fn, user, failures, 0);
}

tc_status tc_check_run_wrapped(tc_ctx *ctx, const char *op, tc_variant variant, uint64_t seed, tc_check_fn fn,
                               void *user, int *failures)
{
    if (ctx && ctx->is_ref) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_check_run_wrapped: ref has no OpenCL buffers");
    return run_checks(ctx, op, variant, seed, fn, user, failures, 1);
}
