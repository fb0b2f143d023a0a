/* Context: one device, an in-order queue, compiled programs, memory counters. */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

tc_status tc_ctx_create(const char *spec, unsigned flags, tc_ctx **out)
{
    if (!out) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_ctx_create: out is NULL");
    *out = NULL;
    if (flags & ~(unsigned)TC_CTX_PROFILE) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_ctx_create: unknown flags 0x%x", flags);
    int index;
    tc_status s = tc_device_find(spec, &index);
    if (s != TC_OK) return s;
    tc_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return tc_fail(NULL, TC_ERR_OUT_OF_MEMORY, "tc_ctx_create: out of host memory");
    ctx->host_blas = tc_device_spec_openblas(spec);
    if (ctx->host_blas)
        tc_device_fill_openblas(&ctx->info);
    else
        s = tc_device_get(index, &ctx->info);
    if (s != TC_OK) {
        free(ctx);
        return s;
    }
    ctx->refs = 1;
    const int profiling = (flags & TC_CTX_PROFILE) != 0;
    ctx->is_ref = index == 0;
    if ((s = tc_params_init(ctx)) != TC_OK) {
        free(ctx);
        return s;
    }
    if (!ctx->is_ref) {
        cl_int err;
        if (!tc_device_handles(index, &ctx->platform, &ctx->dev)) {
            free(ctx);
            return tc_fail(NULL, TC_ERR_NO_DEVICE, "device %d vanished", index);
        }
        cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform, 0};
        ctx->cl = clCreateContext(props, 1, &ctx->dev, NULL, NULL, &err);
        if (err != CL_SUCCESS) {
            free(ctx);
            tc_fail(NULL, TC_ERR_OPENCL, "clCreateContext failed: %s", tc_cl_error_name(err));
            return TC_ERR_OPENCL;
        }
        ctx->queue = clCreateCommandQueue(ctx->cl, ctx->dev, profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
        if (err != CL_SUCCESS) {
            clReleaseContext(ctx->cl);
            free(ctx);
            tc_fail(NULL, TC_ERR_OPENCL, "clCreateCommandQueue failed: %s", tc_cl_error_name(err));
            return TC_ERR_OPENCL;
        }
        clRetainDevice(ctx->dev); /* released by tc_ctx_free, as for tc_ctx_wrap */
        tc_pocl_track(ctx, +1);
    }
    if (profiling && (s = tc_prof_init(ctx)) != TC_OK) {
        tc_ctx_free(ctx);
        return s;
    }
    *out = ctx;
    return TC_OK;
}

void tc_ctx_retain(tc_ctx *ctx) { ctx->refs++; }

void tc_ctx_free(tc_ctx *ctx)
{
    if (!ctx || --ctx->refs > 0) return;
    if (ctx->queue) clFinish(ctx->queue);
    tc_prof_free(ctx);
    for (tc_program *p = ctx->programs, *next; p; p = next) {
        next = p->next;
        for (int i = 0; i < p->nkernels; i++) {
            clReleaseKernel(p->kernels[i]);
            free(p->knames[i]);
        }
        clReleaseProgram(p->prog);
        free(p->name);
        free(p->options);
        free(p);
    }
    for (int i = 0; i < TC_SCRATCH_SLOTS; i++)
        if (ctx->scratch[i]) clReleaseMemObject(ctx->scratch[i]);
    tc_clblast_release(ctx);
    if (ctx->queue) clReleaseCommandQueue(ctx->queue);
    if (ctx->cl) clReleaseContext(ctx->cl);
    if (ctx->dev) clReleaseDevice(ctx->dev);
    if (ctx->pocl) tc_pocl_track(ctx, -1);
    free(ctx);
}

const tc_device_info *tc_ctx_device(const tc_ctx *ctx) { return ctx ? &ctx->info : NULL; }
int tc_ctx_is_ref(const tc_ctx *ctx) { return ctx ? ctx->is_ref : 0; }
int tc_ctx_host_blas(const tc_ctx *ctx) { return ctx ? ctx->host_blas : 0; }

tc_status tc_ctx_finish(tc_ctx *ctx)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_ctx_finish: ctx is NULL");
    if (ctx->is_ref) return TC_OK;
    cl_int err = clFinish(ctx->queue);
    return err == CL_SUCCESS ? TC_OK : tc_fail_cl(ctx, err, "clFinish");
}

size_t tc_ctx_mem_current(const tc_ctx *ctx) { return ctx ? ctx->mem_current : 0; }
size_t tc_ctx_mem_peak(const tc_ctx *ctx) { return ctx ? ctx->mem_peak : 0; }
void tc_ctx_mem_reset_peak(tc_ctx *ctx)
{
    if (ctx) ctx->mem_peak = ctx->mem_current;
}

void tc_mem_add(tc_ctx *ctx, size_t bytes)
{
    ctx->mem_current += bytes;
    if (ctx->mem_current > ctx->mem_peak) ctx->mem_peak = ctx->mem_current;
}

void tc_mem_sub(tc_ctx *ctx, size_t bytes) { ctx->mem_current -= bytes; }

tc_status tc_scratch_get(tc_ctx *ctx, int slot, size_t bytes, cl_mem *out)
{
    if (bytes == 0) bytes = 1;
    if (ctx->scratch[slot] && ctx->scratch_bytes[slot] >= bytes) {
        *out = ctx->scratch[slot];
        return TC_OK;
    }
    if (ctx->info.max_alloc_bytes && bytes > ctx->info.max_alloc_bytes)
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "scratch of %zu bytes exceeds the device's largest allocation (%llu)",
                       bytes, (unsigned long long)ctx->info.max_alloc_bytes);
    cl_int err;
    cl_mem m = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS) return tc_fail_cl(ctx, err, "clCreateBuffer (scratch)");
    if (ctx->scratch[slot]) {
        clReleaseMemObject(ctx->scratch[slot]);
        tc_mem_sub(ctx, ctx->scratch_bytes[slot]);
    }
    ctx->scratch[slot] = m;
    ctx->scratch_bytes[slot] = bytes;
    tc_mem_add(ctx, bytes);
    *out = m;
    return TC_OK;
}
