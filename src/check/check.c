/* The check runner and descriptor helpers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/oplist.h"
#include "check/opdesc.h"
#include "tinycl/opencl.h"

#define TC_OP_EXTERN(name) extern const tc_opdesc tc_opdesc_##name;
TC_OP_LIST(TC_OP_EXTERN)
#undef TC_OP_EXTERN

#define TC_OP_ENTRY(name) [TC_OP_##name] = &tc_opdesc_##name,
static const tc_opdesc *const registry[] = {TC_OP_LIST(TC_OP_ENTRY)};
#undef TC_OP_ENTRY
_Static_assert(TC_COUNT(registry) == TC_OP_COUNT, "one descriptor per op of check/oplist.h");

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

/* ---- named case keys --------------------------------------------------------- */

static const tc_case_kv *case_find(const tc_case *c, const char *key)
{
    for (int i = 0; i < TC_CASE_KEYS && c->kv[i].key; i++)
        if (strcmp(c->kv[i].key, key) == 0) return &c->kv[i];
    return NULL;
}

double tc_case_num(const tc_case *c, const char *key)
{
    const tc_case_kv *kv = case_find(c, key);
    return kv ? kv->num : 0.0;
}

int64_t tc_case_int(const tc_case *c, const char *key) { return (int64_t)tc_case_num(c, key); }

const char *tc_case_str(const tc_case *c, const char *key)
{
    const tc_case_kv *kv = case_find(c, key);
    return kv ? kv->str : NULL;
}

static int case_put(tc_case *c, const char *key, double num, const char *str)
{
    int i = 0;
    while (i < TC_CASE_KEYS && c->kv[i].key && strcmp(c->kv[i].key, key) != 0) i++;
    if (i == TC_CASE_KEYS) return -1;
    c->kv[i] = (tc_case_kv){key, num, str};
    return 0;
}

int tc_case_set(tc_case *c, const char *key, double num) { return case_put(c, key, num, NULL); }
int tc_case_set_str(tc_case *c, const char *key, const char *str) { return case_put(c, key, 0, str); }

/* Writes the keys as `key=value` (sep " ") or `"key":value` (JSON). */
static void case_print(const tc_case *c, char *buf, size_t n, int json)
{
    size_t used = 0;
    buf[0] = '\0';
    if (json && n > 1) buf[used++] = '{', buf[used] = '\0';
    for (int i = 0; i < TC_CASE_KEYS && c->kv[i].key && used < n; i++) {
        const tc_case_kv *kv = &c->kv[i];
        const char *sep = i ? (json ? "," : " ") : "";
        const char *q = json ? "\"" : "";
        int w;
        if (kv->str)
            w = snprintf(buf + used, n - used, "%s%s%s%s%s%s%s%s", sep, q, kv->key, q, json ? ":" : "=", q, kv->str, q);
        else
            w = snprintf(buf + used, n - used, "%s%s%s%s%s%.10g", sep, q, kv->key, q, json ? ":" : "=", kv->num);
        used += w > 0 ? (size_t)w : 0;
    }
    if (json && used + 1 < n) buf[used++] = '}', buf[used] = '\0';
}

void tc_case_describe(const tc_case *c, char *buf, size_t n) { case_print(c, buf, n, 0); }
void tc_case_json(const tc_case *c, char *buf, size_t n) { case_print(c, buf, n, 1); }

/* ---- inputs and outputs -------------------------------------------------------- */

#define VIEW_TAIL 3 /* elements after a view, inside the larger tensor */

static void rand_bytes(void *dst, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i++) ((unsigned char *)dst)[i] = (unsigned char)tc_rng_next(state);
}

#define WRAP_GUARD 1028 /* bytes around a wrapped tensor in its application buffer: an unaligned offset */

/* Wrap mode: an application buffer [canary | n elements | canary] wrapped as a 1-D
 * tensor at the elements' offset; *keep holds a reference to the buffer when not NULL. */
static tc_status wrap_base(tc_ctx *ctx, tc_dtype dt, int64_t n, cl_mem *keep, tc_tensor **base)
{
    const size_t es = tc_dtype_size(dt), total = (size_t)n * es + 2 * WRAP_GUARD;
    cl_int err;
    cl_mem m = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, total, NULL, &err);
    if (err != CL_SUCCESS) return tc_fail_cl(ctx, err, "clCreateBuffer (wrapped)");
    const unsigned char pat = TC_CANARY;
    err = clEnqueueFillBuffer(ctx->queue, m, &pat, 1, 0, total, 0, NULL, NULL);
    tc_status s = err == CL_SUCCESS ? tc_tensor_wrap(ctx, m, WRAP_GUARD / es, dt, 1, &n, base)
                                    : tc_fail_cl(ctx, err, "clEnqueueFillBuffer (wrapped)");
    if (s == TC_OK && keep)
        *keep = m;
    else
        clReleaseMemObject(m); /* the tensor holds its own reference */
    return s;
}

/* 1 when the canaries around output i's wrapped tensor are intact. */
static int wrap_guards_intact(const tc_opdata *d, int i)
{
    const size_t bytes = d->out[i].base->bytes;
    unsigned char *all = malloc(bytes + 2 * WRAP_GUARD);
    int ok = all && clEnqueueReadBuffer(d->out[i].base->ctx->queue, d->wrap_out[i], CL_TRUE, 0,
                                        bytes + 2 * WRAP_GUARD, all, 0, NULL, NULL) == CL_SUCCESS;
    for (size_t k = 0; ok && k < WRAP_GUARD; k++) ok = all[k] == TC_CANARY && all[WRAP_GUARD + bytes + k] == TC_CANARY;
    free(all);
    return ok;
}

/* A tensor of dims, or in view mode a view d->view_off elements into a 1-D tensor
 * with VIEW_TAIL more elements whose contents are `fill` (numel + off + tail elements).
 * In wrap mode the 1-D tensor wraps an application buffer (*keep: its handle). */
static tc_status view_tensor(tc_ctx *ctx, const tc_opdata *d, tc_dtype dt, int ndim, const int64_t *dims, size_t guard,
                             cl_mem *keep, tc_tensor **base, tc_tensor **view)
{
    int64_t numel;
    size_t bytes;
    *base = *view = NULL;
    tc_status s = tc_dims_count(ctx, dt, ndim, dims, &numel, &bytes);
    if (s != TC_OK) return s;
    const int64_t total[1] = {numel + d->view_off + (d->view_off ? VIEW_TAIL : 0)};
    s = d->wrap ? wrap_base(ctx, dt, total[0], keep, base)
        : guard ? tc_tensor_create_guarded(ctx, dt, 1, total, guard, base)
                : tc_tensor_create(ctx, dt, 1, total, base);
    if (s == TC_OK) s = tc_tensor_view(*base, d->view_off, ndim, dims, view);
    return s;
}

tc_status tc_opdata_input(tc_ctx *ctx, tc_opdata *d, tc_dtype dt, int ndim, const int64_t *dims, void *host)
{
    if (d->nin == TC_OP_MAX_IN) {
        free(host);
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "too many inputs");
    }
    d->host_in[d->nin] = host;
    if (!d->view_off && !d->wrap) return tc_tensor_from_host(ctx, dt, ndim, dims, host, &d->in[d->nin++]);
    tc_tensor *base = NULL;
    tc_status s = view_tensor(ctx, d, dt, ndim, dims, 0, NULL, &base, &d->in[d->nin++]);
    if (s == TC_OK) {
        /* around the view: NaN for floats, so a kernel that reads outside it fails */
        size_t es = tc_dtype_size(dt), nb = base->bytes;
        unsigned char *all = malloc(nb);
        uint64_t rng = (uint64_t)d->nin * 977u;
        if (!all) {
            s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
        } else {
            if (dt == TC_DTYPE_F32)
                for (size_t i = 0; i < nb / es; i++) ((float *)all)[i] = NAN;
            else
                rand_bytes(all, nb, &rng);
            memcpy(all + (size_t)d->view_off * es, host, d->in[d->nin - 1]->bytes);
            s = tc_tensor_write(base, all, nb);
            free(all);
        }
    }
    tc_tensor_free(base); /* the view keeps the storage */
    return s;
}

tc_status tc_opdata_output(tc_ctx *ctx, tc_opdata *d, tc_dtype dt, int ndim, const int64_t *dims, uint64_t *rng)
{
    if (d->nout == TC_OP_MAX_OUT) return tc_fail(ctx, TC_ERR_INVALID_ARG, "too many outputs");
    tc_opout *o = &d->out[d->nout];
    tc_status s = view_tensor(ctx, d, dt, ndim, dims, 1024, &d->wrap_out[d->nout++], &o->base, &o->t);
    if (s != TC_OK) return s;
    o->init = malloc(o->base->bytes);
    o->expected = malloc(o->t->bytes);
    if (!o->init || !o->expected) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (dt == TC_DTYPE_F32)
        tc_rand_f32(o->init, (size_t)o->base->numel, -1.0f, 1.0f, rng);
    else
        rand_bytes(o->init, o->base->bytes, rng);
    memcpy(o->expected, (char *)o->init + (size_t)d->view_off * tc_dtype_size(dt), o->t->bytes);
    return tc_tensor_write(o->base, o->init, o->base->bytes);
}

tc_status tc_opdata_reset_out(tc_opdata *d)
{
    tc_status s = TC_OK;
    for (int i = 0; i < d->nout && s == TC_OK; i++) s = tc_tensor_write(d->out[i].base, d->out[i].init, d->out[i].base->bytes);
    return s;
}

void tc_opdata_free(tc_opdata *d)
{
    if (d->prep_free) d->prep_free(d->prep);
    for (int i = 0; i < d->nin; i++) {
        tc_tensor_free(d->in[i]);
        free(d->host_in[i]);
    }
    for (int i = 0; i < d->nout; i++) {
        tc_tensor_free(d->out[i].t);
        tc_tensor_free(d->out[i].base);
        if (d->wrap_out[i]) clReleaseMemObject(d->wrap_out[i]);
        free(d->out[i].init);
        free(d->out[i].expected);
    }
    memset(d, 0, sizeof *d);
}

/* ---- comparison ------------------------------------------------------------- */

static int64_t int_at(const void *p, tc_dtype dt, size_t i)
{
    switch (dt) {
    case TC_DTYPE_S8: return ((const int8_t *)p)[i];
    case TC_DTYPE_U8: return ((const uint8_t *)p)[i];
    default: return ((const int32_t *)p)[i];
    }
}

/* Integer outputs: EXACT counts differing elements; LSB takes the largest difference. */
static int compare_int(const tc_opout *o, tc_metric metric, double tol, const void *got, double *err, char *msg,
                       size_t n)
{
    size_t count = (size_t)o->t->numel, bad = 0, first = 0;
    int64_t worst = 0;
    for (size_t i = 0; i < count; i++) {
        int64_t diff = int_at(got, o->t->dtype, i) - int_at(o->expected, o->t->dtype, i);
        if (diff < 0) diff = -diff;
        if (diff > worst) worst = diff;
        if (diff > (metric == TC_METRIC_LSB ? (int64_t)tol : 0) && bad++ == 0) first = i;
    }
    *err = metric == TC_METRIC_LSB ? (double)worst : (double)bad;
    if (bad)
        snprintf(msg, n, "%zu of %zu elements differ%s (first at %zu: got %lld, expected %lld)", bad, count,
                 metric == TC_METRIC_LSB ? " by more than the tolerance" : "", first,
                 (long long)int_at(got, o->t->dtype, first), (long long)int_at(o->expected, o->t->dtype, first));
    return bad == 0;
}

static int compare_f32(tc_metric metric, double tol, const float *x, const float *r, size_t count, double *err,
                       char *msg, size_t n)
{
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
    if (metric == TC_METRIC_NMSE)
        *err = sr > 0 ? sd / sr : sd;
    else
        *err = maxref > 0 ? maxdiff / maxref : maxdiff;
    if (nan_at < count) {
        snprintf(msg, n, "non-finite mismatch at element %zu (got %g, expected %g)", nan_at, (double)x[nan_at],
                 (double)r[nan_at]);
        *err = INFINITY;
        return 0;
    }
    if (!(*err <= tol)) {
        snprintf(msg, n, "error %.3g exceeds tolerance %.3g", *err, tol);
        return 0;
    }
    return 1;
}

static int compare_one(const tc_opdesc *op, const tc_opdata *d, const tc_opout *o, double *err, char *msg, size_t n)
{
    const tc_metric metric = o->metric != TC_METRIC_DEFAULT ? o->metric : op->metric;
    const double tol = o->metric != TC_METRIC_DEFAULT ? o->tol : op->tol;
    const size_t es = tc_dtype_size(o->t->dtype), at = (size_t)d->view_off * es;
    unsigned char *all = malloc(o->base->bytes);
    *err = INFINITY;
    if (!all || tc_tensor_read(o->base, all, o->base->bytes) != TC_OK) {
        free(all);
        snprintf(msg, n, "cannot read the output back");
        return 0;
    }
    int ok;
    if (metric == TC_METRIC_MAXREL || metric == TC_METRIC_NMSE) {
        if (o->t->dtype != TC_DTYPE_F32) {
            snprintf(msg, n, "metric needs an f32 output, this one is %s", tc_dtype_name(o->t->dtype));
            ok = 0;
        } else {
            ok = compare_f32(metric, tol, (const float *)(all + at), o->expected, (size_t)o->t->numel, err, msg, n);
        }
    } else {
        ok = compare_int(o, metric, tol, all + at, err, msg, n);
    }
    if (ok && (memcmp(all, o->init, at) != 0 ||
               memcmp(all + at + o->t->bytes, (char *)o->init + at + o->t->bytes, o->base->bytes - at - o->t->bytes))) {
        snprintf(msg, n, "elements next to the output view were overwritten");
        ok = 0;
    }
    free(all);
    const int i = (int)(o - d->out);
    if (ok && !(tc_tensor_guards_intact(o->base) && (!d->wrap_out[i] || wrap_guards_intact(d, i)))) {
        snprintf(msg, n, "a guard canary around the output was overwritten");
        ok = 0;
    }
    return ok;
}

int tc_opdata_compare(const tc_opdesc *op, tc_opdata *d, double *err, char *msg, size_t n)
{
    *err = 0;
    if (d->nout == 0) {
        snprintf(msg, n, "the case has no output to compare");
        return 0;
    }
    for (int i = 0; i < d->nout; i++) {
        double e;
        char m[200] = "";
        int ok = compare_one(op, d, &d->out[i], &e, m, sizeof m);
        if (e > *err || isnan(e)) *err = e;
        if (!ok) {
            if (d->nout > 1)
                snprintf(msg, n, "output %d: %s", i, m);
            else
                snprintf(msg, n, "%s", m);
            return 0;
        }
    }
    return 1;
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
        /* every case twice: on plain tensors, then on views at an odd element offset */
        for (int c = 0; c < 2 * desc->ncases; c++) {
            const tc_case *cs = &desc->cases[c / 2];
            tc_check_result r;
            memset(&r, 0, sizeof r);
            r.op = desc->name;
            r.seed = case_seed(seed, o, c / 2);
            r.view_offset = c % 2 ? TC_CHECK_VIEW_OFFSET : 0;
            r.tol = desc->tol;
            tc_case_describe(cs, r.shape, sizeof r.shape);
            tc_opdata d;
            memset(&d, 0, sizeof d);
            d.view_off = r.view_offset;
            d.wrap = wrap;
            tc_status s = desc->setup(ctx, cs, r.seed, &d);
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
