/* tinycl bench OP: every variant of an op on every device, timed as medians of
 * repeated runs in one process, with speedups over ref and CLBlast in the same run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "check/opdesc.h"

typedef struct {
    int device;
    char device_name[256];
    tc_variant variant;
    int size;
    char shape[160], shape_json[256];
    double median_ms, p90_ms, gflops, gbps, err;
    int reps;
    tc_status status;
    char message[256];
} record;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void cli_stats(double *t, int n, double *median, double *p90)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    *median = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    *p90 = t[(int)ceil(0.9 * n) - 1];
}

/* The warm-up call (not for ref, whose first call is as fast as any). */
static void warm_up(tc_ctx *ctx, const tc_opdesc *op, tc_opdata *d, record *r)
{
    r->status = TC_OK;
    if (r->variant != TC_VARIANT_REF) {
        r->status = op->run(ctx, d, r->variant);
        if (r->status == TC_OK) r->status = tc_ctx_finish(ctx);
    }
}

/* One timed call (ms) on a fresh output. */
static double time_once(tc_ctx *ctx, const tc_opdesc *op, tc_opdata *d, record *r)
{
    if ((r->status = tc_opdata_reset_out(d)) != TC_OK) return 0;
    double t0 = tc_now_ms();
    r->status = op->run(ctx, d, r->variant);
    if (r->status == TC_OK) r->status = tc_ctx_finish(ctx);
    return tc_now_ms() - t0;
}

/* Median, p90 and rates of n times (sorted here), and the result's check. */
static void summarize(tc_ctx *ctx, const tc_opdesc *op, tc_opdata *d, record *r, double *t, int n)
{
    if (r->status != TC_OK) {
        snprintf(r->message, sizeof r->message, "%s", tc_last_error(ctx));
        return;
    }
    r->reps = n;
    cli_stats(t, n, &r->median_ms, &r->p90_ms);
    r->gflops = op->flops(&d->cs) / r->median_ms * 1e-6;
    r->gbps = op->bytes(&d->cs) / r->median_ms * 1e-6;
    char msg[200];
    if (!tc_opdata_compare(op, d, &r->err, msg, sizeof msg)) {
        r->status = TC_ERR_CORRUPT;
        snprintf(r->message, sizeof r->message, "wrong result: %s", msg);
    }
}

/* Times one variant: a warm-up, then up to `reps` runs, stopping after
 * `budget_ms` once 3 runs are in. */
static void time_variant(tc_ctx *ctx, const tc_opdesc *op, tc_opdata *d, record *r, int reps, double budget_ms)
{
    double *t = calloc((size_t)reps, sizeof *t);
    if (!t) {
        r->status = TC_ERR_OUT_OF_MEMORY;
        return;
    }
    warm_up(ctx, op, d, r);
    int n = 0;
    double spent = 0;
    while (r->status == TC_OK && n < reps && (n < 3 || spent < budget_ms)) {
        t[n] = time_once(ctx, op, d, r);
        spent += t[n++];
        if (r->variant == TC_VARIANT_REF && spent > budget_ms) break;
    }
    summarize(ctx, op, d, r, t, n);
    free(t);
}

/* --interleave: every (size, variant) of one device in turn, one call each per
 * round, so that load from elsewhere falls on all of them alike and their ratios
 * hold on a busy machine. Stops after `reps` rounds, or once 3 are in and the
 * rounds took `budget_ms` per record. */
static void time_interleaved(tc_ctx *ctx, const tc_opdesc *op, tc_opdata *ds, const int *dcase, record *rs, int n,
                             int reps, double budget_ms)
{
    double *t = calloc((size_t)n * (size_t)reps, sizeof *t);
    if (!t) {
        for (int i = 0; i < n; i++) rs[i].status = TC_ERR_OUT_OF_MEMORY;
        return;
    }
    for (int i = 0; i < n; i++) warm_up(ctx, op, &ds[dcase[i]], &rs[i]);
    int rounds = 0;
    double spent = 0;
    while (rounds < reps && (rounds < 3 || spent < budget_ms * n)) {
        for (int i = 0; i < n; i++)
            if (rs[i].status == TC_OK) spent += t[(size_t)i * reps + rounds] = time_once(ctx, op, &ds[dcase[i]], &rs[i]);
        rounds++;
    }
    for (int i = 0; i < n; i++) summarize(ctx, op, &ds[dcase[i]], &rs[i], t + (size_t)i * reps, rounds);
    free(t);
}

static const record *find(const record *recs, int n, int size, int device, tc_variant v)
{
    for (int i = 0; i < n; i++)
        if (recs[i].size == size && (device < 0 || recs[i].device == device) && recs[i].variant == v &&
            recs[i].status == TC_OK)
            return &recs[i];
    return NULL;
}

static void write_json(FILE *f, const record *recs, int n, const char *opname)
{
    fprintf(f, "{\"records\": [\n");
    int first = 1;
    for (int i = 0; i < n; i++) {
        const record *r = &recs[i];
        if (r->status != TC_OK) continue;
        const record *ref = find(recs, n, r->size, 0, TC_VARIANT_REF);
        if (!ref) ref = find(recs, n, r->size, r->device, TC_VARIANT_REF);
        const record *cb = find(recs, n, r->size, r->device, TC_VARIANT_CLBLAST);
        fprintf(f,
                "%s  {\"op\": \"%s\", \"variant\": \"%s\", \"device\": \"%s\", \"shape\": %s, \"median_ms\": %.6f, "
                "\"p90_ms\": %.6f, \"gflops\": %.3f, \"gbps\": %.3f, \"max_rel_err\": %.3e, \"reps\": %d",
                first ? "" : ",\n", opname, tc_variant_name(r->variant), r->device_name, r->shape_json, r->median_ms,
                r->p90_ms, r->gflops, r->gbps, r->err, r->reps);
        if (ref) fprintf(f, ", \"speedup_vs_ref\": %.3f", ref->median_ms / r->median_ms);
        if (cb) fprintf(f, ", \"speedup_vs_clblast\": %.3f", cb->median_ms / r->median_ms);
        fprintf(f, "}");
        first = 0;
    }
    fprintf(f, "\n]}\n");
}

static void print_table(const record *recs, int n)
{
    printf("%-8s %-40.40s %-26s %10s %10s %9s %9s %8s %9s\n", "variant", "device", "shape", "median ms", "p90 ms",
           "GFLOP/s", "GB/s", "vs ref", "vs clblast");
    for (int i = 0; i < n; i++) {
        const record *r = &recs[i];
        if (r->status != TC_OK) {
            if (r->status != TC_ERR_UNSUPPORTED)
                printf("%-8s %-40.40s %-26s failed: %s\n", tc_variant_name(r->variant), r->device_name, r->shape,
                       r->message);
            continue;
        }
        const record *ref = find(recs, n, r->size, 0, TC_VARIANT_REF);
        if (!ref) ref = find(recs, n, r->size, r->device, TC_VARIANT_REF);
        const record *cb = find(recs, n, r->size, r->device, TC_VARIANT_CLBLAST);
        char sr[16] = "-", sc[16] = "-";
        if (ref) snprintf(sr, sizeof sr, "%.1fx", ref->median_ms / r->median_ms);
        if (cb) snprintf(sc, sizeof sc, "%.2fx", cb->median_ms / r->median_ms);
        printf("%-8s %-40.40s %-26s %10.3f %10.3f %9.1f %9.1f %8s %9s\n", tc_variant_name(r->variant), r->device_name,
               r->shape, r->median_ms, r->p90_ms, r->gflops, r->gbps, sr, sc);
    }
}

static int write_trace(tc_ctx *ctx, const char *path)
{
    FILE *f = fopen(path, "w");
    tc_status st = f ? tc_prof_write_trace(ctx, f) : TC_ERR_IO;
    if (f && fclose(f) != 0 && st == TC_OK) st = TC_ERR_IO;
    if (st != TC_OK) {
        fprintf(stderr, "tinycl bench: cannot write the trace %s: %s\n", path, f ? tc_last_error(ctx) : "fopen failed");
        return 1;
    }
    printf("wrote %s\n", path);
    return 0;
}

/* conv: the 3x3 layer, a pointwise, a depthwise and a strided 3x3 layer */
static const char *default_sizes(const char *op)
{
    if (strcmp(op, "matmul") == 0) return "1024x1024x1024,2048x2048x2048,1x4096x4096";
    if (strcmp(op, "conv2d") == 0)
        return "n1c64h56w56k64r3s3pad1,n1c64h56w56k64r1s1,n1c64h56w56k64r3s3pad1g64,n1c64h56w56k128r3s3st2pad1";
    return "";
}

int cli_bench(int argc, char **argv)
{
    static const char *const known[] = {"--device", "--sizes",   "--variants",   "--reps",  "--json",
                                        "--budget", "--profile", "--interleave", "--trace", NULL};
    if (argc < 1) {
        fprintf(stderr, "usage: tinycl bench OP [--device D] [--sizes S,...] [--variants V,...] [--reps N] "
                        "[--budget MS] [--profile on] [--trace FILE] [--interleave on] [--json FILE]\n"
                        "  OP: matmul (sizes MxNxK) or conv (sizes like n1c64h56w56k64r3s3pad1, see tinycl --help)\n"
                        "  tinycl bench sparse [...]: the sparse-vs-dense breakeven sweep (see tinycl --help)\n");
        return 2;
    }
    if (strcmp(argv[0], "model") == 0) return cli_bench_model(argc - 1, argv + 1);
    if (strcmp(argv[0], "quant") == 0) return cli_bench_quant(argc - 1, argv + 1);
    if (strcmp(argv[0], "sparse") == 0) return cli_bench_sparse(argc - 1, argv + 1);
    /* "conv" is the conv2d op; its sizes use the spec of the conv2d descriptor */
    const tc_opdesc *op = tc_opdesc_find(strcmp(argv[0], "conv") == 0 ? "conv2d" : argv[0]);
    if (!op) {
        fprintf(stderr, "tinycl bench: unknown op '%s'\n", argv[0]);
        return 2;
    }
    argc--, argv++;
    if (!cli_known(argc, argv, known)) return 2;
    const char *dev = cli_opt(argc, argv, "--device"), *json = cli_opt(argc, argv, "--json");
    const char *prof = cli_opt(argc, argv, "--profile");
    if (prof && strcmp(prof, "on") != 0 && strcmp(prof, "off") != 0) {
        fprintf(stderr, "tinycl bench: --profile takes on or off\n");
        return 2;
    }
    const char *trace = cli_opt(argc, argv, "--trace");
    const int profile = (prof && strcmp(prof, "on") == 0) || trace;
    const char *il = cli_opt(argc, argv, "--interleave");
    if (il && strcmp(il, "on") != 0 && strcmp(il, "off") != 0) {
        fprintf(stderr, "tinycl bench: --interleave takes on or off\n");
        return 2;
    }
    const int interleave = il && strcmp(il, "on") == 0;
    const char *sizes_s = cli_opt(argc, argv, "--sizes"), *vars_s = cli_opt(argc, argv, "--variants");
    int reps = cli_opt(argc, argv, "--reps") ? atoi(cli_opt(argc, argv, "--reps")) : 10;
    double budget = cli_opt(argc, argv, "--budget") ? atof(cli_opt(argc, argv, "--budget")) : 3000.0;
    if (reps < 1 || reps > 10000 || !(budget > 0)) {
        fprintf(stderr, "tinycl bench: --reps must be 1..10000 and --budget positive\n");
        return 2;
    }
    /* sizes */
    tc_case cases[32];
    int ncases = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", sizes_s ? sizes_s : default_sizes(op->name));
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (ncases == 32 || !op->parse || op->parse(tok, &cases[ncases]) != 0) {
            fprintf(stderr, "tinycl bench: bad size '%s'\n", tok);
            return 2;
        }
        ncases++;
    }
    if (!ncases) {
        fprintf(stderr, "tinycl bench: give --sizes\n");
        return 2;
    }
    /* variants */
    tc_variant vars[TC_VARIANT_COUNT];
    int nvars = 0;
    if (vars_s) {
        snprintf(buf, sizeof buf, "%s", vars_s);
        for (char *tok = strtok(buf, ","); tok && nvars < TC_VARIANT_COUNT; tok = strtok(NULL, ","))
            if (tc_variant_parse(tok, &vars[nvars++]) != TC_OK) {
                fprintf(stderr, "tinycl bench: %s\n", tc_last_error(NULL));
                return 2;
            }
    } else {
        for (int i = 0; i < op->nvariants; i++) vars[nvars++] = op->variants[i];
    }
    /* devices */
    int first = 0, last = tc_device_count() - 1;
    if (dev) {
        if (tc_device_find(dev, &first) != TC_OK) {
            fprintf(stderr, "tinycl bench: %s\n", tc_last_error(NULL));
            return 2;
        }
        last = first;
    }
    if (trace && first != last) {
        fprintf(stderr, "tinycl bench: --trace writes one device's trace: add --device D\n");
        return 2;
    }
    int cap = ncases * (last - first + 1) * nvars, n = 0;
    record *recs = calloc((size_t)cap, sizeof *recs);
    if (!recs) return 1;
    int failed = 0;
    for (int di = first; di <= last; di++) {
        char spec[16];
        snprintf(spec, sizeof spec, "%d", di);
        tc_ctx *ctx;
        if (tc_ctx_create(spec, profile ? TC_CTX_PROFILE : 0, &ctx) != TC_OK) {
            fprintf(stderr, "tinycl bench: %s\n", tc_last_error(NULL));
            failed = 1;
            continue;
        }
        /* every size's data, then its records (size-major) */
        tc_opdata ds[32];
        int dcase[32 * TC_VARIANT_COUNT], n0 = n;
        memset(ds, 0, sizeof ds);
        for (int c = 0; c < ncases; c++) {
            if (op->setup(ctx, &cases[c], 12345u + (uint64_t)c, &ds[c]) != TC_OK) {
                fprintf(stderr, "tinycl bench: setup failed on %s: %s\n", tc_ctx_device(ctx)->name,
                        tc_last_error(ctx));
                failed = 1;
                continue;
            }
            for (int v = 0; v < nvars; v++) {
                record *r = &recs[n];
                dcase[n++ - n0] = c;
                r->device = di;
                snprintf(r->device_name, sizeof r->device_name, "%s", tc_ctx_device(ctx)->name);
                r->variant = vars[v];
                r->size = c;
                tc_case_describe(&cases[c], r->shape, sizeof r->shape);
                tc_case_json(&cases[c], r->shape_json, sizeof r->shape_json);
                if (!interleave) time_variant(ctx, op, &ds[c], r, reps, budget);
            }
        }
        if (interleave) time_interleaved(ctx, op, ds, dcase, recs + n0, n - n0, reps, budget);
        for (record *r = recs + n0; r < recs + n; r++) {
            if (r->status != TC_OK && r->status != TC_ERR_UNSUPPORTED) failed = 1;
            fprintf(stderr, "  %s %s %s: %s\n", r->device_name, tc_variant_name(r->variant), r->shape,
                    r->status == TC_OK ? "done" : r->message);
        }
        for (int c = 0; c < ncases; c++) tc_opdata_free(&ds[c]);
        if (prof && strcmp(prof, "on") == 0 && tc_prof_report(ctx, stdout) != TC_OK) failed = 1;
        if (trace && write_trace(ctx, trace) != 0) failed = 1;
        tc_ctx_free(ctx);
    }
    print_table(recs, n);
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            fprintf(stderr, "tinycl bench: cannot write %s\n", json);
            failed = 1;
        } else {
            write_json(f, recs, n, op->name);
            fclose(f);
            printf("wrote %s\n", json);
        }
    }
    free(recs);
    return failed;
}
