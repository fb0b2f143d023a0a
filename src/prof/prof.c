/* Per-op statistics: an op call is a scope (tc_op_begin .. tc_op_end) whose kernel
 * launches add their event times; host time is the scope's wall time. */
#include <string.h>
#include <time.h>

#include "core/internal.h"

double tc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

void tc_op_begin(tc_ctx *ctx)
{
    if (ctx->in_op++ > 0) return;
    ctx->op_t0 = tc_now_ms();
    ctx->op_dev_ms = 0;
    ctx->op_launches = 0;
}

tc_status tc_op_end(tc_ctx *ctx, const char *op, tc_variant v, double flops, double bytes, tc_status st)
{
    if (--ctx->in_op > 0 || !ctx->profiling || st != TC_OK) return st;
    if (!ctx->is_ref) {
        cl_int err = clFinish(ctx->queue);
        if (err != CL_SUCCESS) return tc_fail_cl(ctx, err, "clFinish");
    }
    double host = tc_now_ms() - ctx->op_t0;
    const char *vn = tc_variant_name(v);
    int i = 0;
    while (i < ctx->nstats && (strcmp(ctx->stats[i].op, op) != 0 || strcmp(ctx->stats[i].variant, vn) != 0)) i++;
    if (i == ctx->nstats) {
        if (i == TC_PROF_MAX_OPS) return st; /* table full: stop recording new ops */
        memset(&ctx->stats[i], 0, sizeof ctx->stats[i]);
        snprintf(ctx->stats[i].op, sizeof ctx->stats[i].op, "%s", op);
        snprintf(ctx->stats[i].variant, sizeof ctx->stats[i].variant, "%s", vn);
        ctx->nstats++;
    }
    tc_prof_stat *s = &ctx->stats[i];
    s->calls++;
    s->launches += ctx->op_launches;
    s->device_ms += (ctx->is_ref || v == TC_VARIANT_REF) ? host : ctx->op_dev_ms;
    s->host_ms += host;
    s->flops += flops;
    s->bytes += bytes;
    return st;
}

int tc_prof_count(const tc_ctx *ctx) { return ctx ? ctx->nstats : 0; }

tc_status tc_prof_get(const tc_ctx *ctx, int i, tc_prof_stat *out)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_prof_get: ctx is NULL");
    if (!out) return tc_fail((tc_ctx *)ctx, TC_ERR_INVALID_ARG, "tc_prof_get: out is NULL");
    if (i < 0 || i >= ctx->nstats)
        return tc_fail((tc_ctx *)ctx, TC_ERR_INVALID_ARG, "tc_prof_get: index %d of %d", i, ctx->nstats);
    *out = ctx->stats[i];
    return TC_OK;
}

tc_status tc_prof_last_launch(const tc_ctx *ctx, tc_prof_launch *out)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_prof_last_launch: ctx is NULL");
    if (!out) return tc_fail((tc_ctx *)ctx, TC_ERR_INVALID_ARG, "tc_prof_last_launch: out is NULL");
    if (!ctx->last_launch.kernel[0])
        return tc_fail((tc_ctx *)ctx, TC_ERR_INVALID_ARG, "no profiled kernel launch yet (TC_CTX_PROFILE?)");
    *out = ctx->last_launch;
    return TC_OK;
}

void tc_prof_reset(tc_ctx *ctx)
{
    if (!ctx) return;
    ctx->nstats = 0;
    memset(&ctx->last_launch, 0, sizeof ctx->last_launch);
}

void tc_prof_report(const tc_ctx *ctx, FILE *out)
{
    if (!ctx || !out) return;
    fprintf(out, "profile on %s\n", ctx->info.name);
    fprintf(out, "%-16s %-8s %8s %9s %12s %12s %10s %9s\n", "op", "variant", "calls", "launches", "device ms",
            "host ms", "GFLOP/s", "GB/s");
    for (int i = 0; i < ctx->nstats; i++) {
        const tc_prof_stat *s = &ctx->stats[i];
        double t = s->device_ms > 0 ? s->device_ms : s->host_ms;
        fprintf(out, "%-16s %-8s %8llu %9llu %12.3f %12.3f %10.2f %9.2f\n", s->op, s->variant,
                (unsigned long long)s->calls, (unsigned long long)s->launches, s->device_ms, s->host_ms,
                t > 0 ? s->flops / t * 1e-6 : 0.0, t > 0 ? s->bytes / t * 1e-6 : 0.0);
    }
    fprintf(out, "memory: current %.2f MiB, peak %.2f MiB\n", (double)ctx->mem_current / 1048576.0,
            (double)ctx->mem_peak / 1048576.0);
}
