/* Device peaks, as clpeak measures them: f32 FMA throughput for each vector
 * width, int8 dot products, global-memory read bandwidth, host<->device
 * transfer bandwidth and kernel launch latency, each from kernels and timers of
 * the library (kernels/peak.cl). OpenCL contexts only. */
#ifndef TINYCL_PEAK_H
#define TINYCL_PEAK_H

#include "tinycl/context.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef enum {
    TC_PEAK_F32_FMA = 0, /* GFLOP/s: chains of fma() on floatW, W = width (1, 2, 4, 8, 16) */
    TC_PEAK_INT8_DOT,    /* GOP/s: 8-bit products summed in pairs into 32-bit lanes (multiply + add = 2 ops) */
    TC_PEAK_READ_BW,     /* GB/s: a kernel summing a 256 MiB buffer (less when the device allows less) */
    TC_PEAK_H2D_BW,      /* GB/s: blocking clEnqueueWriteBuffer of 64 MiB from malloc'd memory */
    TC_PEAK_D2H_BW,      /* GB/s: blocking clEnqueueReadBuffer of 64 MiB */
    TC_PEAK_LAUNCH_US,   /* microseconds from enqueue to completion of an empty kernel, host-timed */
    TC_PEAK_COUNT
} tc_peak_metric;

#define TC_PEAK_MAX_RUNS 1000

typedef struct {
    tc_peak_metric metric;
    int width;                            /* f32_fma: floats per vector; 0 for the others */
    double value;                         /* throughputs: from the fastest run; launch_us: the median */
    const char *unit;                     /* "GFLOP/s", "GOP/s", "GB/s" or "us" */
    double work;                          /* flops, ops or bytes of one run (0 for launch_us) */
    int runs;
    double samples_ms[TC_PEAK_MAX_RUNS];  /* the time of each run, in run order */
} tc_peak_result;

/* "f32_fma", "int8_dot", "read_bw", "h2d_bw", "d2h_bw", "launch_us"; NULL when out of range. */
const char *tc_peak_metric_name(tc_peak_metric m);

/* Measures one metric on ctx's device over `runs` timed runs (1..TC_PEAK_MAX_RUNS;
 * launch_us times 10 launches per run), after a warm-up that also sizes a run
 * to at least 20 ms of work. TC_ERR_UNSUPPORTED on `ref`. */
tc_status tc_peak_measure(tc_ctx *ctx, tc_peak_metric metric, int width, int runs, tc_peak_result *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
