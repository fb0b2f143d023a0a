/* OpenCL interop (include/tinycl/opencl.h): contexts on application handles and
 * tensors on application buffers. Every handle taken is retained once and
 * released once, by tc_ctx_free / tc_tensor_free. */
#include <stdlib.h>

#include "core/internal.h"
#include "tinycl/opencl.h"

static tc_status check_queue(cl_context cl, cl_device_id dev, cl_command_queue q, int profiling)
{
    cl_context qc = NULL;
    cl_device_id qd = NULL;
    cl_command_queue_properties props = 0;
    cl_int err = clGetCommandQueueInfo(q, CL_QUEUE_CONTEXT, sizeof qc, &qc, NULL);
    if (err == CL_SUCCESS) err = clGetCommandQueueInfo(q, CL_QUEUE_DEVICE, sizeof qd, &qd, NULL);
    if (err == CL_SUCCESS) err = clGetCommandQueueInfo(q, CL_QUEUE_PROPERTIES, sizeof props, &props, NULL);
    if (err != CL_SUCCESS) return tc_fail_cl(NULL, err, "tc_ctx_wrap: clGetCommandQueueInfo(queue)");
    if (qc != cl || qd != dev)
        return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_ctx_wrap: the queue belongs to another %s",
                       qc != cl ? "context" : "device");
    if (props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE)
        return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_ctx_wrap: the queue is out-of-order; tinycl needs an in-order queue");
    if (profiling && !(props & CL_QUEUE_PROFILING_ENABLE))
        return tc_fail(NULL, TC_ERR_INVALID_ARG,
                       "tc_ctx_wrap: TC_CTX_PROFILE needs a queue created with CL_QUEUE_PROFILING_ENABLE");
    return TC_OK;
}

static int context_has_device(cl_context cl, cl_device_id dev, cl_int *err)
{
    cl_device_id devs[64];
    size_t size = 0;
    *err = clGetContextInfo(cl, CL_CONTEXT_DEVICES, sizeof devs, devs, &size);
    for (size_t i = 0; *err == CL_SUCCESS && i < size / sizeof devs[0]; i++)
        if (devs[i] == dev) return 1;
    return 0;
}

tc_status tc_ctx_wrap(cl_context cl, cl_device_id dev, cl_command_queue queue, unsigned flags, tc_ctx **out)
{
    if (!out) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_ctx_wrap: out is NULL");
    *out = NULL;
    if (!cl || !dev) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_ctx_wrap: %s is NULL", cl ? "dev" : "cl");
    if (flags & ~(unsigned)TC_CTX_PROFILE)
        return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_ctx_wrap: unknown flags 0x%x", flags);
    cl_int err;
    if (!context_has_device(cl, dev, &err))
        return err != CL_SUCCESS ? tc_fail_cl(NULL, err, "tc_ctx_wrap: clGetContextInfo(cl)")
                                 : tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_ctx_wrap: dev is not a device of cl");
    const int profiling = (flags & TC_CTX_PROFILE) != 0;
    tc_status s = queue ? check_queue(cl, dev, queue, profiling) : TC_OK;
    if (s != TC_OK) return s;
    cl_platform_id platform = NULL;
    err = clGetDeviceInfo(dev, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL);
    if (err != CL_SUCCESS) return tc_fail_cl(NULL, err, "tc_ctx_wrap: clGetDeviceInfo(dev)");
    if (!queue) {
        queue = clCreateCommandQueue(cl, dev, profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
        if (err != CL_SUCCESS) return tc_fail_cl(NULL, err, "tc_ctx_wrap: clCreateCommandQueue");
    } else {
        clRetainCommandQueue(queue);
    }
    tc_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        clReleaseCommandQueue(queue);
        return tc_fail(NULL, TC_ERR_OUT_OF_MEMORY, "tc_ctx_wrap: out of host memory");
    }
    tc_device_fill_cl(tc_device_index_of(dev), platform, dev, &ctx->info);
    if ((s = tc_params_init(ctx)) != TC_OK) {
        clReleaseCommandQueue(queue);
        free(ctx);
        return s;
    }
    ctx->platform = platform;
    ctx->dev = dev;
    ctx->cl = cl;
    ctx->queue = queue;
    ctx->refs = 1;
    clRetainDevice(dev);
    clRetainContext(cl);
    tc_pocl_track(ctx, +1);
    if (profiling && (s = tc_prof_init(ctx)) != TC_OK) {
        tc_ctx_free(ctx);
        return s;
    }
    *out = ctx;
    return TC_OK;
}

cl_context tc_ctx_cl_context(const tc_ctx *ctx) { return ctx ? ctx->cl : NULL; }
cl_device_id tc_ctx_cl_device(const tc_ctx *ctx) { return ctx ? ctx->dev : NULL; }
cl_command_queue tc_ctx_cl_queue(const tc_ctx *ctx) { return ctx ? ctx->queue : NULL; }

tc_status tc_tensor_wrap(tc_ctx *ctx, cl_mem buf, size_t offset, tc_dtype dtype, int ndim, const int64_t *dims,
                         tc_tensor **out)
{
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_tensor_wrap: out is NULL");
    *out = NULL;
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_tensor_wrap: ctx is NULL");
    if (ctx->is_ref) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_tensor_wrap: the ref context has no OpenCL buffers");
    if (!buf) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_tensor_wrap: buf is NULL");
    int64_t numel;
    size_t bytes;
    tc_status s = tc_dims_count(ctx, dtype, ndim, dims, &numel, &bytes);
    if (s != TC_OK) return s;
    cl_context owner = NULL;
    size_t size = 0;
    cl_int err = clGetMemObjectInfo(buf, CL_MEM_CONTEXT, sizeof owner, &owner, NULL);
    if (err == CL_SUCCESS) err = clGetMemObjectInfo(buf, CL_MEM_SIZE, sizeof size, &size, NULL);
    if (err != CL_SUCCESS) return tc_fail_cl(ctx, err, "tc_tensor_wrap: clGetMemObjectInfo(buf)");
    if (owner != ctx->cl) return tc_fail(ctx, TC_ERR_CONTEXT, "tc_tensor_wrap: buf belongs to another cl_context");
    size_t esize = tc_dtype_size(dtype), off_bytes, end;
    if (offset > (size_t)INT64_MAX || __builtin_mul_overflow(offset, esize, &off_bytes) ||
        __builtin_add_overflow(off_bytes, bytes, &end))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "tc_tensor_wrap: offset %zu + %lld elements overflows", offset,
                       (long long)numel);
    if (end > size)
        return tc_fail(ctx, TC_ERR_SHAPE, "tc_tensor_wrap: offset %zu + %lld %s elements need %zu bytes, buf has %zu",
                       offset, (long long)numel, tc_dtype_name(dtype), end, size);
    tc_storage *st = calloc(1, sizeof *st);
    if (!st) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    st->refs = 1;
    st->bytes = size; /* the whole buffer: ops check a tensor's extent against it */
    st->external = 1;
    st->buf = buf;
    clRetainMemObject(buf);
    s = tc_tensor_on_storage(ctx, dtype, ndim, dims, numel, (int64_t)offset, st, out); /* kernels add the offset */
    if (s != TC_OK) {
        clReleaseMemObject(buf);
        free(st);
    }
    return s;
}

cl_mem tc_tensor_cl_mem(const tc_tensor *t) { return t ? t->st->buf : NULL; }
