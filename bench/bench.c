/* tinycl bench OP: every variant of an op on every device, timed as medians of
 * repeated runs in one process, with speedups over ref and CLBlast in the same run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/results.h"

#define MAX_SIZES 32

typedef struct {
    int device;
    char device_name[256];
    tc_variant variant;
    int size;
    char shape[160], shape_json[256];
    double *ms; /* run times */
    int runs;
    double median_ms, err;
    tc_status status;
    char message[256];
} timing;

/* The warm-up call (not for ref, whose first call is as fast as any). */
static void warm_up(tc_ctx *ctx, const tc_opdesc *op, tc_opdata *d, timing *r)
{
    r->status = TC_OK;
    if (r->variant != TC_VARIANT_REF) {
        r->status = op->run(ctx, d, r->variant);
        if (r->status == TC_OK) r->status = tc_ctx_finish(ctx);
    }
}

/* One timed call on a fresh output: its time goes into r->ms[r->runs]. */
static double time_once(tc_ctx *ctx, const tc_opdesc *op, tc_opdata *d, timing *r)
{
    if ((r->status = tc_opdata_reset_out(d)) != TC_OK) return 0;
    double t0 = tc_now_ms();
    r->status = op->run(ctx, d, r->variant);
    if (r->status == TC_OK) r->status = tc_ctx_finish(ctx);
    return r->ms[r->runs++] = tc_now_ms() - t0;
}

/* The median and the result's check once the runs are in. */
static void summarize(tc_ctx *ctx, const tc_opdesc *op, tc_opdata *d, timing *r)
{
    if (r->status != TC_OK) {
        snprintf(r->message, sizeof r->message, "%s", tc_last_error(ctx));
        return;
    }
    r->median_ms = res_median(r->ms, r->runs);
    char msg[200];
    if (!tc_opdata_compare(op, d, &r->err, msg, sizeof msg)) {
        r->status = TC_ERR_CORRUPT;
        snprintf(r->message, sizeof r->message, "wrong result: %s", msg);
    }
}

static int alloc_times(timing *r, int reps)
{
    r->ms = calloc((size_t)reps, sizeof *r->ms);
    if (r->ms) return 1;
    r->status = TC_ERR_OUT_OF_MEMORY;
    snprintf(r->message, sizeof r->message, "out of host memory");
    return 0;
}

/* Times one variant: a warm-up, then up to `reps` runs, stopping after
 * `budget_ms` once 3 runs are in. */
static void time_variant(tc_ctx *ctx, const tc_opdesc *op, tc_opdata *d, timing *r, int reps, double budget_ms)
{
    if (!alloc_times(r, reps)) return;
    warm_up(ctx, op, d, r);
    double spent = 0;
    while (r->status == TC_OK && r->runs < reps && (r->runs < 3 || spent < budget_ms)) {
        spent += time_once(ctx, op, d, r);
        if (r->variant == TC_VARIANT_REF && spent > budget_ms) break;
    }
    summarize(ctx, op, d, r);
}

/* --interleave on: every (size, variant) of one device in turn, one call each per
 * round, so that load from elsewhere falls on all of them alike and their ratios
 * hold on a busy machine. Stops after `reps` rounds, or once 3 are in and the
 * rounds took `budget_ms` per record. */
static void time_interleaved(tc_ctx *ctx, const tc_opdesc *op, tc_opdata *ds, timing *ts, int n, int reps,
                             double budget_ms)
{
    for (int i = 0; i < n; i++)
        if (alloc_times(&ts[i], reps)) warm_up(ctx, op, &ds[ts[i].size], &ts[i]);
    double spent = 0;
    for (int round = 0; round < reps && (round < 3 || spent < budget_ms * n); round++)
        for (int i = 0; i < n; i++)
            if (ts[i].status == TC_OK) spent += time_once(ctx, op, &ds[ts[i].size], &ts[i]);
    for (int i = 0; i < n; i++)
        if (ts[i].ms) summarize(ctx, op, &ds[ts[i].size], &ts[i]);
}

static const timing *find(const timing *ts, int n, int size, int device, tc_variant v)
{
    for (int i = 0; i < n; i++)
        if (ts[i].size == size && (device < 0 || ts[i].device == device) && ts[i].variant == v &&
            ts[i].status == TC_OK)
            return &ts[i];
    return NULL;
}

static int to_records(const timing *ts, int n, const tc_opdesc *op, const tc_case *cases, int samples, res_set *rs)
{
    for (int i = 0; i < n; i++) {
        const timing *t = &ts[i];
        if (t->status != TC_OK) continue;
        const timing *ref = find(ts, n, t->size, 0, TC_VARIANT_REF);
        if (!ref) ref = find(ts, n, t->size, t->device, TC_VARIANT_REF);
        const timing *cb = find(ts, n, t->size, t->device, TC_VARIANT_CLBLAST);
        res_record *r = res_add(rs);
        if (!r) return 1;
        res_str(r, "op", NULL, op->name);
        res_str(r, "variant", "variant", tc_variant_name(t->variant));
        res_str(r, "device", "device", t->device_name);
        res_obj(r, "shape", "shape", t->shape, t->shape_json);
        res_times(r, t->ms, t->runs, samples);
        res_num(r, "gflops", "GFLOP/s", "%.1f", op->flops(&cases[t->size]) / t->median_ms * 1e-6);
        res_num(r, "gbps", "GB/s", "%.1f", op->bytes(&cases[t->size]) / t->median_ms * 1e-6);
        res_num(r, "max_rel_err", NULL, "%.3e", t->err);
        if (ref) res_num(r, "speedup_vs_ref", "vs ref", "%.2fx", ref->median_ms / t->median_ms);
        if (cb) res_num(r, "speedup_vs_clblast", "vs clblast", "%.2fx", cb->median_ms / t->median_ms);
    }
    return 0;
}

/* The context's Chrome trace (every op, scope and launch) into path. */
static int write_trace(tc_ctx *ctx, const char *path)
{
    FILE *f = fopen(path, "w");
    tc_status st = f ? tc_prof_write_trace(ctx, f) : TC_ERR_IO;
    if (f && fclose(f) != 0 && st == TC_OK) st = TC_ERR_IO;
    if (st != TC_OK) {
        fprintf(stderr, "tinycl bench: cannot write the trace %s: %s\n", path, f ? tc_last_error(ctx) : "fopen failed");
        return 1;
    }
    fprintf(stderr, "wrote %s\n", path);
    return 0;
}

/* conv: a 3x3 layer, a pointwise, a depthwise and a strided 3x3 layer */
static const char *default_sizes(const char *op)
{
    if (strcmp(op, "matmul") == 0) return "1024x1024x1024,2048x2048x2048,1x4096x4096";
    if (strcmp(op, "conv2d") == 0)
        return "n1c64h56w56k64r3s3pad1,n1c64h56w56k64r1s1,n1c64h56w56k64r3s3pad1g64,n1c64h56w56k128r3s3st2pad1";
    return NULL;
}

int cli_bench(const cli_args *a)
{
    const tc_opdesc *op;
    if (cli_find_op(a, a->operand[0], &op)) return 2;
    const int report_on = cli_get(a, "--profile") && strcmp(cli_get(a, "--profile"), "on") == 0;
    const char *trace = cli_get(a, "--trace");
    const int profile = report_on || trace;
    if (trace && a->ndevices != 1) return cli_misuse(a, "--trace writes one device's trace: give one --device");
    const int interleave = cli_get(a, "--interleave") && strcmp(cli_get(a, "--interleave"), "on") == 0;
    const int reps = (int)cli_int(a, "--reps", 10), samples = cli_get(a, "--samples") != NULL;
    const double budget = cli_ms(a, "--budget", 3000.0);
    const uint64_t seed = cli_seed(a, "--seed", 12345u);
    const char *sizes = cli_get(a, "--sizes") ? cli_get(a, "--sizes") : default_sizes(op->name);
    if (!sizes) return cli_misuse(a, "%s has no default sizes; give --sizes %s", op->name, op->syntax);
    tc_case cases[MAX_SIZES];
    int ncases = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", sizes);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (ncases == MAX_SIZES) return cli_misuse(a, "at most %d sizes", MAX_SIZES);
        if (op->parse(tok, &cases[ncases]) != 0)
            return cli_misuse(a, "bad %s size '%s'; the syntax is %s", op->name, tok, op->syntax);
        ncases++;
    }
    if (!ncases) return cli_misuse(a, "--sizes names no size");
    tc_variant vars[TC_VARIANT_COUNT];
    int nvars = 0;
    if (cli_get(a, "--variants")) {
        snprintf(buf, sizeof buf, "%s", cli_get(a, "--variants"));
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (nvars == TC_VARIANT_COUNT) return cli_misuse(a, "too many variants");
            if (cli_op_variant(a, op, tok, &vars[nvars++])) return 2;
        }
        if (!nvars) return cli_misuse(a, "--variants names no variant");
    } else {
        for (int i = 0; i < op->nvariants; i++) vars[nvars++] = op->variants[i];
    }
    timing *ts = calloc((size_t)(ncases * a->ndevices * nvars), sizeof *ts);
    if (!ts) return 1;
    int n = 0, failed = 0;
    FILE *report = cli_get(a, "--format") || cli_get(a, "--out") ? stderr : stdout; /* stdout is the results */
    for (int k = 0; k < a->ndevices; k++) {
        const int di = a->devices[k];
        char spec[16];
        cli_device_spec(di, spec, sizeof spec);
        tc_ctx *ctx;
        if (tc_ctx_create(spec, profile ? TC_CTX_PROFILE : 0, &ctx) != TC_OK) {
            fprintf(stderr, "tinycl bench: %s\n", tc_last_error(NULL));
            failed = 1;
            continue;
        }
        /* every size's data, then its timings (size-major) */
        tc_opdata ds[MAX_SIZES];
        memset(ds, 0, sizeof ds);
        const int n0 = n;
        for (int c = 0; c < ncases; c++) {
            if (op->setup(ctx, &cases[c], seed + (uint64_t)c, &ds[c]) != TC_OK) {
                fprintf(stderr, "tinycl bench: setup failed on %s: %s\n", tc_ctx_device(ctx)->name, tc_last_error(ctx));
                failed = 1;
                continue;
            }
            for (int v = 0; v < nvars; v++) {
                timing *t = &ts[n++];
                t->device = di;
                snprintf(t->device_name, sizeof t->device_name, "%s", tc_ctx_device(ctx)->name);
                t->variant = vars[v];
                t->size = c;
                tc_case_describe(&cases[c], t->shape, sizeof t->shape);
                tc_case_json(&cases[c], t->shape_json, sizeof t->shape_json);
                if (!interleave) time_variant(ctx, op, &ds[c], t, reps, budget);
            }
        }
        if (interleave) time_interleaved(ctx, op, ds, ts + n0, n - n0, reps, budget);
        for (timing *t = ts + n0; t < ts + n; t++) {
            if (t->status != TC_OK && t->status != TC_ERR_UNSUPPORTED) failed = 1;
            fprintf(stderr, "  %s %s %s: %s\n", t->device_name, tc_variant_name(t->variant), t->shape,
                    t->status == TC_OK ? "done" : t->message);
        }
        for (int c = 0; c < ncases; c++) tc_opdata_free(&ds[c]);
        if (report_on && tc_prof_report(ctx, report) != TC_OK) failed = 1;
        if (trace && write_trace(ctx, trace) != 0) failed = 1;
        tc_ctx_free(ctx);
    }
    res_set rs = {.reps = reps, .has_budget = 1, .has_seed = 1, .budget_ms = budget, .seed = seed};
    failed |= to_records(ts, n, op, cases, samples, &rs) || res_output(&rs, a);
    res_free(&rs);
    for (int i = 0; i < n; i++) free(ts[i].ms);
    free(ts);
    return failed;
}
