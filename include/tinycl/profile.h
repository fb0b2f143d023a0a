/* Profiling: per launch device time (OpenCL events), host wall time, flops and
 * bytes; per op (name + variant) aggregate statistics; memory peaks come from
 * tc_ctx_mem_peak. Statistics are collected when the context was created with
 * TC_CTX_PROFILE. */
#ifndef TINYCL_PROFILE_H
#define TINYCL_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "tinycl/context.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char op[32];        /* "matmul" */
    char variant[16];   /* "cpu" */
    uint64_t calls;
    uint64_t launches;  /* kernel launches (0 for host code) */
    double device_ms;   /* summed event times; host time on ref */
    double host_ms;     /* wall time of the op call including the wait */
    double flops;       /* summed useful floating-point (or integer) ops */
    double bytes;       /* summed minimal bytes moved */
} tc_prof_stat;

typedef struct {
    char kernel[48];
    double device_ms;
    double queued_ms;   /* queued -> start */
} tc_prof_launch;

/* The getters write their errors into ctx (a call on it, despite the const). */
int tc_prof_count(const tc_ctx *ctx);
tc_status tc_prof_get(const tc_ctx *ctx, int i, tc_prof_stat *out);
/* The last kernel launch of this context (device time from its event). */
tc_status tc_prof_last_launch(const tc_ctx *ctx, tc_prof_launch *out);
void tc_prof_reset(tc_ctx *ctx);
/* Prints a table: op, variant, calls, launches, device ms, host ms, GFLOP/s, GB/s,
 * then current and peak memory. */
void tc_prof_report(const tc_ctx *ctx, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
