/* Profiling of a context created with TC_CTX_PROFILE: per (op, variant) statistics,
 * every kernel launch with its device times, user scopes, and a Chrome trace.
 *
 * Profiling does not wait: ops stay asynchronous and each launch's OpenCL event is
 * read only when a statistic, a launch or a trace is asked for (which waits for the
 * queued work) or when many are pending. So an op's `host_ms` is the time the call
 * took on the host (validation, building kernels on first use, enqueueing, and for
 * `ref` the computation itself); its kernels may still be running when it returns,
 * and `device_ms` is what they took on the device.
 *
 * Ops may nest (an op that calls another) and sit inside user scopes. A launch
 * counts for the innermost op around it and for every user scope around it: op rows
 * add up to the device total, a scope row is inclusive. The launch log keeps every
 * launch up to a cap (TINYCL_PROF_MAX_LAUNCHES, default 1048576, read when the
 * context is created; the same cap applies to the log of op and scope calls);
 * beyond it statistics stay complete and tc_prof_info says how many were left out. */
#ifndef TINYCL_PROFILE_H
#define TINYCL_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "tinycl/context.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef struct {
    char op[32];       /* "matmul", or a user scope's name (truncated) */
    char variant[16];  /* "cpu"; "scope" for a user scope */
    uint64_t calls;    /* completed calls */
    uint64_t launches; /* kernel launches (0 for host code) */
    double device_ms;  /* summed event times of its launches; host time for ref */
    double host_ms;    /* summed wall time of the calls on the host (see above) */
    double flops;      /* summed useful floating-point (or integer) ops */
    double bytes;      /* summed minimal bytes moved */
} tc_prof_stat;

typedef struct {
    char kernel[48];  /* kernel or CLBlast routine */
    char op[32];      /* innermost op or user scope around it ("" if none) */
    double start_ms;  /* device start, on the host clock, ms since the context was created */
    double device_ms; /* end - start */
    double queued_ms; /* queued -> start */
} tc_prof_launch;

typedef struct {
    uint64_t launches;        /* launches made while profiling */
    uint64_t launches_logged; /* of those, kept in the launch log */
    uint64_t scopes;          /* op and user scope calls */
    uint64_t scopes_logged;
    uint64_t max_log; /* the cap of each log */
    int open_scopes;  /* user scopes begun and not ended */
} tc_prof_info;

/* Statistics rows, one per (op, variant) and per user scope name, in order of first use. */
int tc_prof_count(const tc_ctx *ctx);
tc_status tc_prof_get(tc_ctx *ctx, int i, tc_prof_stat *out);
/* The launch log, in launch order. */
tc_status tc_prof_info_get(tc_ctx *ctx, tc_prof_info *out);
tc_status tc_prof_get_launch(tc_ctx *ctx, uint64_t i, tc_prof_launch *out);
/* Forgets statistics rows and logs; scopes still open keep a row and count when they end. */
void tc_prof_reset(tc_ctx *ctx);

/* A named user scope around any number of ops; scopes nest. Without TC_CTX_PROFILE
 * they only check that begin and end pair up. scope_end without an open scope
 * returns TC_ERR_INVALID_ARG. */
tc_status tc_prof_scope_begin(tc_ctx *ctx, const char *name);
tc_status tc_prof_scope_end(tc_ctx *ctx);

/* Prints a table: op, variant, calls, launches, device ms, host ms, GFLOP/s, GB/s,
 * then user scopes, current and peak memory, and whether a log was capped. */
tc_status tc_prof_report(tc_ctx *ctx, FILE *out);
/* Chrome trace-event JSON (Perfetto, chrome://tracing): ops and user scopes as
 * slices on the host track, each launch as a slice with its device times on the
 * device track, in microseconds since the context was created. */
tc_status tc_prof_write_trace(tc_ctx *ctx, FILE *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
