/* TinyMLPerf (`tinycl bench tinymlperf`): the events, their entries and results,
 * shared by the runner (bench/tinymlperf.c) and the output (bench/tinymlperf_out.c). */
#ifndef TINYCL_TINYMLPERF_H
#define TINYCL_TINYMLPERF_H

#include <stdio.h>

#include "bench/cli.h"
#include "bench/loadgen.h"

#define TM_MAX_DEVICES 8
#define TM_MAX_ENTRIES 64
#define TM_MAX_RESULTS 256
#define TM_MAX_SERIES 512

/* A device of the run: ref, openblas (ref with OpenBLAS's GEMM) or an OpenCL device. */
typedef struct {
    char spec[16];    /* for tc_ctx_create */
    char label[128];   /* "ref", "openblas" or the OpenCL device's name */
    int index;        /* tc_device index (0 for ref and openblas) */
    int opencl;
    int blas;
} tm_device;

/* One row of the leaderboard: an entry of a task of an event on a device. */
typedef struct {
    char event[16], task[24], entry[24], device[128];
    int dev;                   /* index into the run's devices */
    int ran;                   /* timed (else skipped: reason) */
    lg_stats lat;              /* latency of one query at batch 1 (generation: per token), ms */
    int lat_runs;              /* queries (generation: generations) */
    double tput;               /* throughput at tput_batch (0: not measured) */
    const char *tput_unit;     /* "samples/s" or "tokens/s" */
    long long tput_batch;
    const char *qmetric;       /* "accuracy" (percent), "bpb", "sqnr_db" */
    double quality, baseline;  /* NaN when not measured */
    double agreement;          /* generation: fraction of tokens equal to f32 ref's; NaN otherwise */
    long long model_bytes;     /* 0: not applicable */
    double compression;        /* f32 model bytes / model_bytes (0: not applicable) */
    lg_ratio sp_ref, sp_blas, sp_dev; /* speedups over f32 on ref, on openblas, f32 on the same device */
    int valid;
    char reason[200];
} tm_result;

typedef struct {
    char device[128];
    long long tokens;
    double cached_ms, uncached_ms;
} tm_kv_point;

typedef struct {
    char device[128], model[8];
    double sparsity;
    int structured;
    double speedup, accuracy, accuracy_dense;
} tm_sparse_point;

typedef struct {
    char device[128], op[32], variant[16];
    double gflops, gbps, intensity;
} tm_kernel_point;

typedef struct {
    char device[128];
    double gflops, gbps;
} tm_peak;

typedef struct {
    const cli_args *a;
    int quick;
    char dir[1024];       /* results/<timestamp> */
    char data[4096];      /* the data folder */
    tm_device dev[TM_MAX_DEVICES];
    struct tc_ctx *ctx[TM_MAX_DEVICES]; /* one per device, for the timed runs */
    int ndev;
    tm_result res[TM_MAX_RESULTS];
    int nres;
    tm_kv_point kv[TM_MAX_SERIES];
    int nkv;
    tm_sparse_point sp[TM_MAX_SERIES];
    int nsp;
    tm_kernel_point kern[TM_MAX_SERIES];
    int nkern;
    tm_peak peak[TM_MAX_DEVICES];
    int npeak;
    FILE *profile;        /* profile.txt */
    double t0_ms, planned_ms, done_ms; /* progress: start, planned total, planned work finished */
    int tasks_done, tasks_total;
    int events;           /* bit per event to run */
} tm_run;

/* Output (bench/tinymlperf_out.c): the terminal leaderboards and cross-device
 * tables, and the files of dir (results.json, results.csv, leaderboard.md). */
void tm_print_leaderboard(const tm_run *r, FILE *out, int md);
int tm_write_files(const tm_run *r);
/* Draws the PNG plots with scripts/plot_tinymlperf.py (matplotlib); 0 when done or
 * not possible here (said why), 1 when the script failed. */
int tm_plot(const tm_run *r);

#endif
