/* Programs: embedded OpenCL sources compiled on first use per context and kept per
 * (program, options); kernel launches with optional profiling events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "kernels_embedded.h"

const char *tc_kernel_source(const char *program)
{
    for (size_t i = 0; i < tc_embedded_count; i++)
        if (strcmp(tc_embedded[i].name, program) == 0) return tc_embedded[i].source;
    return NULL;
}

static tc_status build(tc_ctx *ctx, const char *program, const char *options, cl_program *out)
{
    const char *src = tc_kernel_source(program);
    if (!src) return tc_fail(ctx, TC_ERR_BUILD, "no embedded kernel source '%s'", program);
    return tc_program_build_source(ctx, program, src, options, out);
}

/* A program from a cached binary, or NULL when there is none or it does not build. */
static cl_program from_cache(tc_ctx *ctx, const char *dir, const char *program, const tc_cache_entry *e,
                             const char *opts)
{
    unsigned char *bin;
    size_t n;
    if (!tc_cache_load(dir, program, e, &bin, &n)) return NULL;
    cl_int err, st;
    const unsigned char *bins[1] = {bin};
    cl_program prog = clCreateProgramWithBinary(ctx->cl, 1, &ctx->dev, &n, bins, &st, &err);
    free(bin);
    if (err == CL_SUCCESS && st == CL_SUCCESS && clBuildProgram(prog, 1, &ctx->dev, opts, NULL, NULL) == CL_SUCCESS) {
        ctx->cache_hits++;
        return prog;
    }
    if (prog) clReleaseProgram(prog);
    return NULL; /* stale or refused by the driver: rebuilt from source and rewritten */
}

static void to_cache(tc_ctx *ctx, const char *dir, const char *program, const tc_cache_entry *e, cl_program prog)
{
    size_t n = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof n, &n, NULL) != CL_SUCCESS || n == 0) return;
    unsigned char *bin = malloc(n);
    if (bin && clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS) {
        ctx->cache_writes += tc_cache_store(dir, program, e, bin, n);
    }
    free(bin);
}

tc_status tc_program_build_source(tc_ctx *ctx, const char *program, const char *src, const char *options,
                                  cl_program *out)
{
    cl_int err;
    /* kernels/iface.h and kernels/common.clh go in front of every program */
    const char *iface = tc_kernel_source("iface"), *common = tc_kernel_source("common");
    const char *srcs[3] = {iface ? iface : "", common ? common : "", src};
    char opts[1024], dir[1024];
    snprintf(opts, sizeof opts, "-cl-std=CL1.2 -cl-mad-enable %s", options ? options : "");
    tc_cache_entry e;
    const int cached = tc_cache_dir(ctx, dir, sizeof dir);
    if (cached) {
        tc_cache_key(ctx, srcs, 3, opts, &e);
        if ((*out = from_cache(ctx, dir, program, &e, opts)) != NULL) return TC_OK;
    }
    cl_program prog = clCreateProgramWithSource(ctx->cl, 3, srcs, NULL, &err);
    if (err != CL_SUCCESS) return tc_fail_cl(ctx, err, "clCreateProgramWithSource");
    err = clBuildProgram(prog, 1, &ctx->dev, opts, NULL, NULL);
    if (err != CL_SUCCESS) {
        char log[TC_ERR_LEN - 256];
        log[0] = '\0';
        clGetProgramBuildInfo(prog, ctx->dev, CL_PROGRAM_BUILD_LOG, sizeof log, log, NULL);
        log[sizeof log - 1] = '\0';
        clReleaseProgram(prog);
        return tc_fail(ctx, TC_ERR_BUILD, "building kernels/%s.cl with '%s' failed (%s):\n%s", program, opts,
                       tc_cl_error_name(err), log);
    }
    if (cached) to_cache(ctx, dir, program, &e, prog);
    *out = prog;
    return TC_OK;
}

tc_status tc_get_kernel(tc_ctx *ctx, const char *program, const char *options, const char *kernel, cl_kernel *out)
{
    if (!options) options = "";
    tc_program *p = ctx->programs;
    while (p && (strcmp(p->name, program) != 0 || strcmp(p->options, options) != 0)) p = p->next;
    if (!p) {
        cl_program prog;
        tc_status s = build(ctx, program, options, &prog);
        if (s != TC_OK) return s;
        p = calloc(1, sizeof *p);
        char *n = malloc(strlen(program) + 1), *o = malloc(strlen(options) + 1);
        if (!p || !n || !o) {
            free(p);
            free(n);
            free(o);
            clReleaseProgram(prog);
            return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
        }
        strcpy(n, program);
        strcpy(o, options);
        p->name = n;
        p->options = o;
        p->prog = prog;
        p->next = ctx->programs;
        ctx->programs = p;
    }
    for (int i = 0; i < p->nkernels; i++)
        if (strcmp(p->knames[i], kernel) == 0) {
            *out = p->kernels[i];
            return TC_OK;
        }
    if (p->nkernels == TC_MAX_KERNELS)
        return tc_fail(ctx, TC_ERR_BUILD, "too many kernels in kernels/%s.cl (max %d)", program, TC_MAX_KERNELS);
    cl_int err;
    cl_kernel k = clCreateKernel(p->prog, kernel, &err);
    if (err != CL_SUCCESS)
        return tc_fail(ctx, TC_ERR_BUILD, "kernel '%s' in kernels/%s.cl: %s", kernel, program, tc_cl_error_name(err));
    char *kn = malloc(strlen(kernel) + 1);
    if (!kn) {
        clReleaseKernel(k);
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    strcpy(kn, kernel);
    size_t wg = ctx->info.max_work_group;
    clGetKernelWorkGroupInfo(k, ctx->dev, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    p->knames[p->nkernels] = kn;
    p->kwg[p->nkernels] = wg ? wg : 1;
    p->kernels[p->nkernels++] = k;
    *out = k;
    return TC_OK;
}

size_t tc_kernel_wg_max(tc_ctx *ctx, cl_kernel k)
{
    for (const tc_program *p = ctx->programs; p; p = p->next)
        for (int i = 0; i < p->nkernels; i++)
            if (p->kernels[i] == k) return p->kwg[i];
    return ctx->info.max_work_group;
}

tc_status tc_set_args(tc_ctx *ctx, cl_kernel k, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        size_t sz = va_arg(ap, size_t);
        const void *ptr = va_arg(ap, const void *);
        cl_int err = clSetKernelArg(k, (cl_uint)i, sz, ptr);
        if (err != CL_SUCCESS) {
            va_end(ap);
            char what[64];
            snprintf(what, sizeof what, "clSetKernelArg(%d)", i);
            return tc_fail_cl(ctx, err, what);
        }
    }
    va_end(ap);
    return TC_OK;
}

tc_status tc_launch(tc_ctx *ctx, cl_kernel k, const char *name, cl_uint dims, const size_t *gws, const size_t *lws)
{
    cl_event ev = NULL;
    const int held = tc_pocl_run_begin(ctx);
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, k, dims, NULL, gws, lws, 0, NULL, ctx->prof ? &ev : NULL);
    tc_pocl_run_end(ctx, held);
    if (err != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s)", name);
        return tc_fail_cl(ctx, err, what);
    }
    return tc_record_event(ctx, ev, name);
}

tc_status tc_record_event(tc_ctx *ctx, cl_event ev, const char *name)
{
    if (!ev) return TC_OK;
    if (ctx->prof) return tc_prof_add_event(ctx, ev, name);
    clReleaseEvent(ev);
    return TC_OK;
}
