/* Tensors and their refcounted storage; every allocation is counted in the context. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

size_t tc_dtype_size(tc_dtype d)
{
    switch (d) {
    case TC_DTYPE_F32:
    case TC_DTYPE_S32: return 4;
    case TC_DTYPE_S8:
    case TC_DTYPE_U8: return 1;
    default: return 0;
    }
}

const char *tc_dtype_name(tc_dtype d)
{
    static const char *const n[] = {
        [TC_DTYPE_F32] = "f32", [TC_DTYPE_S8] = "s8", [TC_DTYPE_U8] = "u8", [TC_DTYPE_S32] = "s32"};
    _Static_assert(sizeof n / sizeof n[0] == TC_DTYPE_COUNT, "a name for every tc_dtype");
    return (d >= 0 && d < TC_DTYPE_COUNT) ? n[d] : "invalid";
}

tc_status tc_dims_count(tc_ctx *ctx, tc_dtype dtype, int ndim, const int64_t *dims, int64_t *numel, size_t *bytes)
{
    if (dtype < 0 || dtype >= TC_DTYPE_COUNT) return tc_fail(ctx, TC_ERR_DTYPE, "invalid dtype %d", (int)dtype);
    if (ndim < 1 || ndim > TC_MAX_DIMS)
        return tc_fail(ctx, TC_ERR_SHAPE, "ndim %d outside 1..%d", ndim, TC_MAX_DIMS);
    if (!dims) return tc_fail(ctx, TC_ERR_INVALID_ARG, "dims is NULL");
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 1)
            return tc_fail(ctx, TC_ERR_SHAPE, "dimension %d is %lld; every dimension must be >= 1", i,
                           (long long)dims[i]);
        if (__builtin_mul_overflow(n, (uint64_t)dims[i], &n) || n > (uint64_t)INT64_MAX)
            return tc_fail(ctx, TC_ERR_OVERFLOW, "element count overflows at dimension %d", i);
    }
    uint64_t b;
    if (__builtin_mul_overflow(n, (uint64_t)tc_dtype_size(dtype), &b) || b > (uint64_t)(SIZE_MAX / 2))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "byte count of %llu %s elements overflows", (unsigned long long)n,
                       tc_dtype_name(dtype));
    *numel = (int64_t)n;
    *bytes = (size_t)b;
    return TC_OK;
}

static void quant_free(tc_quant_meta *q)
{
    if (!q) return;
    free(q->scale);
    free(q->zero_point);
    free(q);
}

static void storage_release(tc_ctx *ctx, tc_storage *st)
{
    if (--st->refs > 0) return;
    quant_free(st->quant);
    if (st->buf) clReleaseMemObject(st->buf);
    if (st->parent) clReleaseMemObject(st->parent);
    free(st->host_alloc);
    if (!st->external) tc_mem_sub(ctx, st->bytes + 2 * st->guard);
    free(st);
}

static tc_status storage_alloc(tc_ctx *ctx, size_t bytes, size_t guard, tc_storage **out)
{
    tc_storage *st = calloc(1, sizeof *st);
    if (!st) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    st->refs = 1;
    st->bytes = bytes;
    st->guard = guard;
    size_t total = bytes + 2 * guard;
    if (ctx->is_ref) {
        /* 64-byte aligned so the reference loops vectorize; guard is a multiple of 64 */
        size_t rounded = (total + 63) & ~(size_t)63;
        st->host_alloc = aligned_alloc(64, rounded ? rounded : 64);
        if (!st->host_alloc) {
            free(st);
            return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes", total);
        }
        st->host = (char *)st->host_alloc + guard;
        if (guard) memset(st->host_alloc, TC_CANARY, total);
    } else if (ctx->info.max_alloc_bytes && total > ctx->info.max_alloc_bytes) {
        free(st);
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "%zu bytes exceed the device's largest allocation (%llu)",
                       total, (unsigned long long)ctx->info.max_alloc_bytes);
    } else {
        cl_int err;
        cl_mem m = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, total, NULL, &err);
        if (err != CL_SUCCESS) {
            free(st);
            return tc_fail_cl(ctx, err, "clCreateBuffer");
        }
        if (guard) {
            unsigned char pat = TC_CANARY;
            err = clEnqueueFillBuffer(ctx->queue, m, &pat, 1, 0, total, 0, NULL, NULL);
            cl_buffer_region r = {guard, bytes};
            cl_mem sub = err == CL_SUCCESS
                             ? clCreateSubBuffer(m, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &r, &err)
                             : NULL;
            if (err != CL_SUCCESS) {
                clReleaseMemObject(m);
                free(st);
                return tc_fail_cl(ctx, err, "guarded buffer");
            }
            st->parent = m;
            st->buf = sub;
        } else {
            st->buf = m;
        }
    }
    tc_mem_add(ctx, total);
    *out = st;
    return TC_OK;
}

static tc_status tensor_new(tc_ctx *ctx, tc_dtype dtype, int ndim, const int64_t *dims, size_t guard,
                            tc_tensor **out)
{
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tensor: out is NULL");
    *out = NULL;
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tensor: ctx is NULL");
    int64_t numel;
    size_t bytes;
    tc_status s = tc_dims_count(ctx, dtype, ndim, dims, &numel, &bytes);
    if (s != TC_OK) return s;
    tc_storage *st = NULL;
    s = storage_alloc(ctx, bytes, guard, &st);
    if (s == TC_OK && (s = tc_tensor_on_storage(ctx, dtype, ndim, dims, numel, 0, st, out)) != TC_OK)
        storage_release(ctx, st);
    return s;
}

tc_status tc_tensor_on_storage(tc_ctx *ctx, tc_dtype dtype, int ndim, const int64_t *dims, int64_t numel,
                               int64_t offset, tc_storage *st, tc_tensor **out)
{
    tc_tensor *t = calloc(1, sizeof *t);
    if (!t) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    t->ctx = ctx;
    tc_ctx_retain(ctx);
    t->dtype = dtype;
    t->ndim = ndim;
    memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
    t->numel = numel;
    t->bytes = (size_t)numel * tc_dtype_size(dtype);
    t->offset = offset;
    t->st = st;
    *out = t;
    return TC_OK;
}

tc_status tc_tensor_create(tc_ctx *ctx, tc_dtype dtype, int ndim, const int64_t *dims, tc_tensor **out)
{
    return tensor_new(ctx, dtype, ndim, dims, 0, out);
}

tc_status tc_tensor_create_guarded(tc_ctx *ctx, tc_dtype dtype, int ndim, const int64_t *dims, size_t guard,
                                   tc_tensor **out)
{
    /* guard rounded to 1 KiB: a multiple of every device's sub-buffer alignment seen so far */
    guard = (guard + 1023) & ~(size_t)1023;
    if (ctx && !ctx->is_ref && ctx->dev) {
        cl_uint align_bits = 0;
        clGetDeviceInfo(ctx->dev, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL);
        size_t a = align_bits / 8;
        if (a > 1024) guard = (guard + a - 1) / a * a;
    }
    return tensor_new(ctx, dtype, ndim, dims, guard, out);
}

tc_status tc_tensor_from_host(tc_ctx *ctx, tc_dtype dtype, int ndim, const int64_t *dims, const void *host,
                              tc_tensor **out)
{
    if (!host) {
        if (out) *out = NULL;
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_tensor_from_host: host is NULL");
    }
    tc_status s = tc_tensor_create(ctx, dtype, ndim, dims, out);
    if (s != TC_OK) return s;
    s = tc_tensor_write(*out, host, (*out)->bytes);
    if (s != TC_OK) {
        tc_tensor_free(*out);
        *out = NULL;
    }
    return s;
}

/* A new tensor header over t's storage at t's offset + offset. */
static tc_status view_of(tc_tensor *t, int64_t offset, int ndim, const int64_t *dims, const char *fn, int same_numel,
                         tc_tensor **out)
{
    if (!out) return tc_fail(t ? t->ctx : NULL, TC_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!t) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: tensor is NULL", fn);
    int64_t numel, end;
    size_t bytes;
    tc_status s = tc_dims_count(t->ctx, t->dtype, ndim, dims, &numel, &bytes);
    if (s != TC_OK) return s;
    if (same_numel && numel != t->numel)
        return tc_fail(t->ctx, TC_ERR_SHAPE, "%s to %lld elements from %lld", fn, (long long)numel,
                       (long long)t->numel);
    if (offset < 0 || __builtin_add_overflow(offset, numel, &end) || end > t->numel)
        return tc_fail(t->ctx, TC_ERR_SHAPE, "%s: elements [%lld, %lld + %lld) are outside the tensor's %lld", fn,
                       (long long)offset, (long long)offset, (long long)numel, (long long)t->numel);
    tc_tensor *v = calloc(1, sizeof *v);
    if (!v) return tc_fail(t->ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    *v = *t;
    v->ndim = ndim;
    memset(v->dims, 0, sizeof v->dims);
    memcpy(v->dims, dims, (size_t)ndim * sizeof *dims);
    v->numel = numel;
    v->bytes = bytes;
    v->offset = t->offset + offset;
    v->st->refs++;
    tc_ctx_retain(v->ctx);
    *out = v;
    return TC_OK;
}

tc_status tc_tensor_reshape(tc_tensor *t, int ndim, const int64_t *dims, tc_tensor **out)
{
    return view_of(t, 0, ndim, dims, "tc_tensor_reshape", 1, out);
}

tc_status tc_tensor_view(tc_tensor *t, int64_t offset, int ndim, const int64_t *dims, tc_tensor **out)
{
    return view_of(t, offset, ndim, dims, "tc_tensor_view", 0, out);
}

int tc_tensors_overlap(const tc_tensor *a, const tc_tensor *b)
{
    if (!a || !b || a->st != b->st) return 0;
    const int64_t ea = a->offset * (int64_t)tc_dtype_size(a->dtype), eb = b->offset * (int64_t)tc_dtype_size(b->dtype);
    return ea < eb + (int64_t)b->bytes && eb < ea + (int64_t)a->bytes;
}

void tc_tensor_free(tc_tensor *t)
{
    if (!t) return;
    storage_release(t->ctx, t->st);
    tc_ctx_free(t->ctx);
    free(t);
}

static tc_status check_io(const tc_tensor *t, const void *host, size_t bytes, const char *fn)
{
    if (!t) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: tensor is NULL", fn);
    if (!host) return tc_fail(t->ctx, TC_ERR_INVALID_ARG, "%s: host pointer is NULL", fn);
    if (bytes != t->bytes)
        return tc_fail(t->ctx, TC_ERR_SHAPE, "%s: %zu bytes given, tensor holds %zu", fn, bytes, t->bytes);
    return TC_OK;
}

tc_status tc_tensor_write(tc_tensor *t, const void *host, size_t bytes)
{
    tc_status s = check_io(t, host, bytes, "tc_tensor_write");
    if (s != TC_OK) return s;
    if (t->ctx->is_ref) {
        memcpy(tc_host(t), host, bytes);
        return TC_OK;
    }
    const size_t at = (size_t)t->offset * tc_dtype_size(t->dtype);
    cl_int err = clEnqueueWriteBuffer(t->ctx->queue, t->st->buf, CL_TRUE, at, bytes, host, 0, NULL, NULL);
    return err == CL_SUCCESS ? TC_OK : tc_fail_cl(t->ctx, err, "clEnqueueWriteBuffer");
}

tc_status tc_tensor_read(const tc_tensor *t, void *host, size_t bytes)
{
    tc_status s = check_io(t, host, bytes, "tc_tensor_read");
    if (s != TC_OK) return s;
    if (t->ctx->is_ref) {
        memcpy(host, tc_host(t), bytes);
        return TC_OK;
    }
    const size_t at = (size_t)t->offset * tc_dtype_size(t->dtype);
    cl_int err = clEnqueueReadBuffer(t->ctx->queue, t->st->buf, CL_TRUE, at, bytes, host, 0, NULL, NULL);
    return err == CL_SUCCESS ? TC_OK : tc_fail_cl(t->ctx, err, "clEnqueueReadBuffer");
}

int tc_tensor_guards_intact(const tc_tensor *t)
{
    const tc_storage *st = t->st;
    if (!st->guard) return 1;
    size_t total = st->bytes + 2 * st->guard;
    unsigned char *all = t->ctx->is_ref ? (unsigned char *)st->host_alloc : malloc(total);
    if (!all) return 0;
    if (!t->ctx->is_ref &&
        clEnqueueReadBuffer(t->ctx->queue, st->parent, CL_TRUE, 0, total, all, 0, NULL, NULL) != CL_SUCCESS) {
        free(all);
        return 0;
    }
    int ok = 1;
    for (size_t i = 0; i < st->guard && ok; i++)
        ok = all[i] == TC_CANARY && all[st->guard + st->bytes + i] == TC_CANARY;
    if (!t->ctx->is_ref) free(all);
    return ok;
}

tc_status tc_check_tensor(tc_ctx *ctx, const tc_tensor *t, const char *name, tc_dtype dtype, int ndim)
{
    if (!t) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s is NULL", name);
    if (t->ctx != ctx) return tc_fail(ctx, TC_ERR_CONTEXT, "%s belongs to another context", name);
    if (t->dtype != dtype)
        return tc_fail(ctx, TC_ERR_DTYPE, "%s is %s, expected %s", name, tc_dtype_name(t->dtype),
                       tc_dtype_name(dtype));
    if (ndim > 0 && t->ndim != ndim)
        return tc_fail(ctx, TC_ERR_SHAPE, "%s has %d dimensions, expected %d", name, t->ndim, ndim);
    return TC_OK;
}

tc_ctx *tc_tensor_ctx(const tc_tensor *t) { return t ? t->ctx : NULL; }
tc_dtype tc_tensor_dtype(const tc_tensor *t) { return t ? t->dtype : TC_DTYPE_COUNT; }
int tc_tensor_ndim(const tc_tensor *t) { return t ? t->ndim : 0; }
int64_t tc_tensor_dim(const tc_tensor *t, int i) { return (t && i >= 0 && i < t->ndim) ? t->dims[i] : 0; }
int64_t tc_tensor_numel(const tc_tensor *t) { return t ? t->numel : 0; }
int64_t tc_tensor_offset(const tc_tensor *t) { return t ? t->offset : 0; }
size_t tc_tensor_bytes(const tc_tensor *t) { return t ? t->bytes : 0; }

/* ---- quantization metadata --------------------------------------------------- */

tc_status tc_quant_check(tc_ctx *ctx, const char *what, tc_dtype dtype, int ndim, const int64_t *dims,
                         const tc_quant *q)
{
    if (q->axis < -1 || q->axis >= ndim)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: axis %d outside -1..%d", what, q->axis, ndim - 1);
    const int64_t want = q->axis < 0 ? 1 : dims[q->axis];
    if (q->count != want)
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: %lld parameters, expected %lld (%s)", what,
                       (long long)q->count, (long long)want, q->axis < 0 ? "per tensor" : "one per channel");
    if (!q->scale || !q->zero_point)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: scale or zero_point is NULL", what);
    int32_t lo = INT32_MIN, hi = INT32_MAX;
    if (dtype == TC_DTYPE_S8) lo = -128, hi = 127;
    if (dtype == TC_DTYPE_U8) lo = 0, hi = 255;
    for (int64_t i = 0; i < q->count; i++) {
        if (!(q->scale[i] > 0.0f) || !(q->scale[i] < INFINITY))
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: scale[%lld] = %g is not finite and > 0", what,
                           (long long)i, (double)q->scale[i]);
        if (q->zero_point[i] < lo || q->zero_point[i] > hi)
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: zero_point[%lld] = %d outside %s's %d..%d", what,
                           (long long)i, (int)q->zero_point[i], tc_dtype_name(dtype), (int)lo, (int)hi);
    }
    return TC_OK;
}

tc_status tc_tensor_set_quant(tc_tensor *t, const tc_quant *q)
{
    if (!t) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_tensor_set_quant: tensor is NULL");
    if (!q) {
        quant_free(t->st->quant);
        t->st->quant = NULL;
        return TC_OK;
    }
    tc_status s = tc_quant_check(t->ctx, "tc_tensor_set_quant", t->dtype, t->ndim, t->dims, q);
    if (s != TC_OK) return s;
    tc_quant_meta *m = calloc(1, sizeof *m);
    if (m) {
        m->scale = malloc((size_t)q->count * sizeof *m->scale);
        m->zero_point = malloc((size_t)q->count * sizeof *m->zero_point);
    }
    if (!m || !m->scale || !m->zero_point) {
        quant_free(m);
        return tc_fail(t->ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    m->axis = q->axis;
    m->count = q->count;
    memcpy(m->scale, q->scale, (size_t)q->count * sizeof *m->scale);
    memcpy(m->zero_point, q->zero_point, (size_t)q->count * sizeof *m->zero_point);
    quant_free(t->st->quant);
    t->st->quant = m;
    return TC_OK;
}

tc_status tc_tensor_quant(const tc_tensor *t, tc_quant *out)
{
    if (!t || !out) return tc_fail(t ? t->ctx : NULL, TC_ERR_INVALID_ARG, "tc_tensor_quant: NULL argument");
    const tc_quant_meta *m = t->st->quant;
    *out = (tc_quant){m ? m->axis : -1, m ? m->count : 0, m ? m->scale : NULL, m ? m->zero_point : NULL};
    return TC_OK;
}

int tc_tensor_is_quantized(const tc_tensor *t) { return t && t->st->quant; }
