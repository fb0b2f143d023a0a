/* TinyMLPerf's output: leaderboards and cross-device tables (terminal and
 * Markdown), results.json, results.csv, leaderboard.md and the plots. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/meta.h"
#include "bench/tinymlperf.h"
#include "tinycl/tinycl.h"

static const char *event_name(const char *ev)
{
    return !strcmp(ev, "mlp") ? "MLP Sprint" : !strcmp(ev, "cnn") ? "CNN Marathon" : "Transformer Decathlon";
}

static const char *task_about(const char *task)
{
    if (!strcmp(task, "digits")) return "the test split's 359 digits; latency of one image, throughput of all";
    if (!strcmp(task, "resnet-layer")) return "3x3 conv 64->64 on 56x56 (+bias, ReLU); latency of one image, throughput of 4";
    if (!strcmp(task, "prefill")) return "128 bytes through the model; latency of one sequence, throughput of 4";
    return "greedy tokens after \"The \"; latency per token, throughput of whole generations";
}

static void fmt_ratio(char *buf, size_t n, const lg_ratio *r)
{
    if (r->n == 0)
        snprintf(buf, n, "-");
    else if (r->n < 2)
        snprintf(buf, n, "%.2fx", r->value);
    else
        snprintf(buf, n, "%.2fx [%.2f-%.2f]", r->value, r->ci_lo, r->ci_hi);
}

static void fmt_quality(char *buf, size_t n, const tm_result *x)
{
    if (!x->qmetric || !isfinite(x->quality) ) {
        snprintf(buf, n, x->qmetric && !strcmp(x->qmetric, "sqnr_db") && x->quality > 0 ? "exact" : "-");
        return;
    }
    if (!strcmp(x->qmetric, "accuracy"))
        snprintf(buf, n, "%.2f%% (%+.2f)", x->quality, x->quality - x->baseline);
    else if (!strcmp(x->qmetric, "bpb"))
        snprintf(buf, n, "%.4f bpb (%+.2f%%)", x->quality, 100.0 * (x->quality / x->baseline - 1.0));
    else if (!strcmp(x->qmetric, "agreement"))
        snprintf(buf, n, "%.1f%% tokens", 100.0 * x->quality);
    else
        snprintf(buf, n, "%.1f dB", x->quality);
}

static void fmt_ms(char *buf, size_t n, double ms)
{
    snprintf(buf, n, ms >= 100 ? "%.0f" : ms >= 1 ? "%.2f" : "%.3f", ms);
}

/* Same-looking tables for the terminal (aligned) and Markdown. */
#define COLS 12
typedef struct {
    char c[COLS][256];
} row;

static void print_rows(FILE *out, int md, const char *const *head, int ncol, const row *rows, int n)
{
    int w[COLS] = {0};
    for (int j = 0; j < ncol; j++) {
        w[j] = (int)strlen(head[j]);
        for (int i = 0; i < n; i++)
            if ((int)strlen(rows[i].c[j]) > w[j]) w[j] = (int)strlen(rows[i].c[j]);
    }
    for (int j = 0; j < ncol; j++)
        if (md)
            fprintf(out, "| %s ", head[j]);
        else
            fprintf(out, "%-*s  ", w[j], head[j]);
    fprintf(out, md ? "|\n" : "\n");
    if (md) {
        for (int j = 0; j < ncol; j++) fprintf(out, "|---");
        fprintf(out, "|\n");
    }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < ncol; j++)
            if (md)
                fprintf(out, "| %s ", rows[i].c[j]);
            else
                fprintf(out, "%-*s  ", w[j], rows[i].c[j]);
        fprintf(out, md ? "|\n" : "\n");
    }
}

static int same_task(const tm_result *a, const tm_result *b)
{
    return !strcmp(a->event, b->event) && !strcmp(a->task, b->task);
}

static void leaderboard_task(const tm_run *r, FILE *out, int md, int first)
{
    const tm_result *t = &r->res[first];
    static const char *const head[] = {"entry",   "device",     "p50 ms",      "p90 ms",      "p99 ms",  "throughput",
                                       "vs f32 ref", "vs OpenBLAS", "compression", "quality", "status"};
    row *rows = calloc(TM_MAX_RESULTS, sizeof *rows);
    if (!rows) return;
    int n = 0;
    for (int i = first; i < r->nres; i++) {
        const tm_result *x = &r->res[i];
        if (!same_task(x, t)) continue;
        row *o = &rows[n++];
        snprintf(o->c[0], sizeof o->c[0], "%s", x->entry);
        snprintf(o->c[1], sizeof o->c[1], "%.40s", x->device);
        if (x->ran) {
            fmt_ms(o->c[2], sizeof o->c[2], x->lat.median);
            fmt_ms(o->c[3], sizeof o->c[3], x->lat.p90);
            fmt_ms(o->c[4], sizeof o->c[4], x->lat.p99);
            if (x->tput > 0)
                snprintf(o->c[5], sizeof o->c[5], "%.0f %s", x->tput, x->tput_unit);
            else
                snprintf(o->c[5], sizeof o->c[5], "-");
            fmt_ratio(o->c[6], sizeof o->c[6], &x->sp_ref);
            fmt_ratio(o->c[7], sizeof o->c[7], &x->sp_blas);
            if (x->compression > 0)
                snprintf(o->c[8], sizeof o->c[8], "%.2fx", x->compression);
            else
                snprintf(o->c[8], sizeof o->c[8], "-");
            fmt_quality(o->c[9], sizeof o->c[9], x);
        } else {
            for (int j = 2; j < 10; j++) snprintf(o->c[j], sizeof o->c[j], "-");
        }
        snprintf(o->c[10], sizeof o->c[10], "%s%s%s", x->valid ? "VALID" : "INVALID", x->valid ? "" : ": ",
                 x->valid ? "" : x->reason);
    }
    fprintf(out, md ? "\n### %s: %s\n\n%s.\n\n" : "\n%s / %s: %s\n", event_name(t->event), t->task, task_about(t->task));
    print_rows(out, md, head, 11, rows, n);
    free(rows);
}

/* Rows: entries; columns: devices; cells: the speedup over the same device's baseline entry. */
static void cross_device(const tm_run *r, FILE *out, int md, int first)
{
    const tm_result *t = &r->res[first];
    const char *head[COLS] = {"entry"};
    int ncol = 1;
    for (int d = 0; d < r->ndev && d < TM_MAX_DEVICES && ncol < COLS; d++) head[ncol++] = r->dev[d].label;
    row *rows = calloc(TM_MAX_RESULTS, sizeof *rows);
    if (!rows) return;
    int n = 0;
    for (int i = first; i < r->nres; i++) {
        const tm_result *x = &r->res[i];
        if (!same_task(x, t)) continue;
        int k = 0;
        while (k < n && strcmp(rows[k].c[0], x->entry)) k++;
        if (k == n) {
            snprintf(rows[n].c[0], sizeof rows[n].c[0], "%s", x->entry);
            for (int j = 1; j < ncol; j++) snprintf(rows[n].c[j], sizeof rows[n].c[j], "-");
            n++;
        }
        if (x->ran && x->sp_dev.n > 0 && x->dev + 1 < COLS)
            snprintf(rows[k].c[x->dev + 1], sizeof rows[k].c[0], "%.2fx%s", x->sp_dev.value, x->valid ? "" : " (INVALID)");
    }
    const int gen = !strncmp(t->task, "generate", 8);
    fprintf(out, md ? "\nSpeedup over %s on the same device (%s / %s):\n\n" : "\nSpeedup over %s on the same device (%s / %s)\n",
            gen ? "recomputation (no-cache)" : "f32", event_name(t->event), t->task);
    print_rows(out, md, head, ncol, rows, n);
    free(rows);
}

void tm_print_leaderboard(const tm_run *r, FILE *out, int md)
{
    const char *last_event = "";
    for (int i = 0; i < r->nres; i++) {
        if (i > 0 && same_task(&r->res[i - 1], &r->res[i])) continue;
        if (strcmp(last_event, r->res[i].event)) {
            fprintf(out, md ? "\n## %s\n" : "\n==== %s ====\n", event_name(r->res[i].event));
            last_event = r->res[i].event;
        }
        leaderboard_task(r, out, md, i);
        cross_device(r, out, md, i);
    }
}

/* ------------------------------------------------------------------ files */

static void jnum(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fprintf(f, "null");
}

static void jratio(FILE *f, const lg_ratio *x)
{
    if (x->n == 0) {
        fprintf(f, "null");
        return;
    }
    fprintf(f, "{\"value\": ");
    jnum(f, x->value);
    fprintf(f, ", \"ci95_lo\": ");
    jnum(f, x->n > 1 ? x->ci_lo : NAN);
    fprintf(f, ", \"ci95_hi\": ");
    jnum(f, x->n > 1 ? x->ci_hi : NAN);
    fprintf(f, ", \"rounds\": %d}", x->n);
}

static void json_result(FILE *f, const tm_result *x)
{
    fprintf(f, "{\"op\": \"tinymlperf\", \"event\": \"%s\", \"event_name\": \"%s\", \"task\": \"%s\", \"entry\": ",
            x->event, event_name(x->event), x->task);
    meta_json_string(f, x->entry);
    fprintf(f, ", \"variant\": ");
    meta_json_string(f, x->entry);
    fprintf(f, ", \"device\": ");
    meta_json_string(f, x->device);
    if (x->ran) {
        fprintf(f, ", \"latency_ms\": {\"median\": ");
        jnum(f, x->lat.median);
        fprintf(f, ", \"p90\": ");
        jnum(f, x->lat.p90);
        fprintf(f, ", \"p99\": ");
        jnum(f, x->lat.p99);
        fprintf(f, ", \"mean\": ");
        jnum(f, x->lat.mean);
        fprintf(f, ", \"ci95_lo\": ");
        jnum(f, x->lat.n > 1 ? x->lat.ci_lo : NAN);
        fprintf(f, ", \"ci95_hi\": ");
        jnum(f, x->lat.n > 1 ? x->lat.ci_hi : NAN);
        fprintf(f, ", \"samples\": %d, \"runs\": %d}", x->lat.n, x->lat_runs);
        /* the other benches' fields */
        fprintf(f, ", \"min_ms\": %.6g, \"median_ms\": %.6g, \"p90_ms\": %.6g, \"max_ms\": %.6g, \"runs\": %d", x->lat.min,
                x->lat.median, x->lat.p90, x->lat.max, x->lat.n);
        fprintf(f, ", \"throughput\": ");
        if (x->tput > 0) {
            fprintf(f, "{\"value\": ");
            jnum(f, x->tput);
            fprintf(f, ", \"unit\": \"%s\", \"batch\": %lld}", x->tput_unit, x->tput_batch);
        } else {
            fprintf(f, "null");
        }
    } else {
        fprintf(f, ", \"latency_ms\": null, \"median_ms\": null, \"runs\": 0, \"throughput\": null");
    }
    fprintf(f, ", \"quality\": ");
    if (x->qmetric) {
        fprintf(f, "{\"metric\": \"%s\", \"value\": ", x->qmetric);
        jnum(f, x->quality);
        fprintf(f, ", \"baseline\": ");
        jnum(f, x->baseline);
        fprintf(f, ", \"agreement\": ");
        jnum(f, x->agreement);
        fprintf(f, "}");
    } else {
        fprintf(f, "null");
    }
    fprintf(f, ", \"model_bytes\": %lld, \"compression\": ", x->model_bytes);
    jnum(f, x->compression > 0 ? x->compression : NAN);
    fprintf(f, ", \"speedup_ref\": ");
    jratio(f, &x->sp_ref);
    fprintf(f, ", \"speedup_openblas\": ");
    jratio(f, &x->sp_blas);
    fprintf(f, ", \"speedup_device\": ");
    jratio(f, &x->sp_dev);
    fprintf(f, ", \"valid\": %s, \"reason\": ", x->valid ? "true" : "false");
    meta_json_string(f, x->valid ? "" : x->reason);
    fprintf(f, "}");
}

static void json_series(FILE *f, const tm_run *r)
{
    fprintf(f, "{\"kvcache\": [");
    for (int i = 0; i < r->nkv; i++) {
        const tm_kv_point *p = &r->kv[i];
        fprintf(f, "%s\n  {\"device\": ", i ? "," : "");
        meta_json_string(f, p->device);
        fprintf(f, ", \"tokens\": %lld, \"cached_ms\": %.6g, \"uncached_ms\": %.6g, \"speedup\": %.6g}", p->tokens,
                p->cached_ms, p->uncached_ms, p->uncached_ms / p->cached_ms);
    }
    fprintf(f, "],\n \"sparsity\": [");
    for (int i = 0; i < r->nsp; i++) {
        const tm_sparse_point *p = &r->sp[i];
        fprintf(f, "%s\n  {\"device\": ", i ? "," : "");
        meta_json_string(f, p->device);
        fprintf(f, ", \"model\": \"%s\", \"sparsity\": %.4f, \"structured\": %s, \"speedup\": ", p->model, p->sparsity,
                p->structured ? "true" : "false");
        jnum(f, p->speedup);
        fprintf(f, ", \"accuracy\": ");
        jnum(f, p->accuracy);
        fprintf(f, ", \"accuracy_dense\": ");
        jnum(f, p->accuracy_dense);
        fprintf(f, "}");
    }
    fprintf(f, "],\n \"roofline\": {\"peaks\": [");
    for (int i = 0; i < r->npeak; i++) {
        fprintf(f, "%s{\"device\": ", i ? ", " : "");
        meta_json_string(f, r->peak[i].device);
        fprintf(f, ", \"gflops\": %.6g, \"gbps\": %.6g}", r->peak[i].gflops, r->peak[i].gbps);
    }
    fprintf(f, "], \"kernels\": [");
    for (int i = 0; i < r->nkern; i++) {
        const tm_kernel_point *k = &r->kern[i];
        fprintf(f, "%s\n  {\"device\": ", i ? "," : "");
        meta_json_string(f, k->device);
        fprintf(f, ", \"op\": ");
        meta_json_string(f, k->op);
        fprintf(f, ", \"variant\": ");
        meta_json_string(f, k->variant);
        fprintf(f, ", \"gflops\": %.6g, \"gbps\": %.6g, \"intensity\": %.6g}", k->gflops, k->gbps, k->intensity);
    }
    fprintf(f, "]}}");
}

static int write_json(const tm_run *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    /* the meta object lists the run's devices */
    cli_args a = *r->a;
    a.ndevices = 0;
    for (int d = 0; d < r->ndev && a.ndevices < CLI_MAX_DEVICES; d++)
        a.devices[a.ndevices++] = r->dev[d].blas ? CLI_OPENBLAS : r->dev[d].index;
    res_set rs = {0};
    fprintf(f, "{\"meta\": ");
    meta_write(f, &rs, &a);
    fprintf(f, ",\n \"records\": [");
    for (int i = 0; i < r->nres; i++) {
        fprintf(f, "%s\n  ", i ? "," : "");
        json_result(f, &r->res[i]);
    }
    fprintf(f, "\n ],\n \"series\": ");
    json_series(f, r);
    fprintf(f, "}\n");
    return fclose(f) != 0;
}

static void csv_text(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int write_csv(const tm_run *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    fprintf(f, "event,task,entry,device,median_ms,p90_ms,p99_ms,mean_ms,ci95_lo_ms,ci95_hi_ms,throughput,throughput_unit,"
               "quality_metric,quality,baseline,model_bytes,compression,speedup_ref,speedup_openblas,speedup_device,valid,"
               "reason\n");
    for (int i = 0; i < r->nres; i++) {
        const tm_result *x = &r->res[i];
        fprintf(f, "%s,%s,%s,", x->event, x->task, x->entry);
        csv_text(f, x->device);
        if (x->ran)
            fprintf(f, ",%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%s,", x->lat.median, x->lat.p90, x->lat.p99, x->lat.mean,
                    x->lat.ci_lo, x->lat.ci_hi, x->tput, x->tput > 0 ? x->tput_unit : "");
        else
            fprintf(f, ",,,,,,,,,");
        fprintf(f, "%s,", x->qmetric ? x->qmetric : "");
        if (isfinite(x->quality)) fprintf(f, "%.6g", x->quality);
        fprintf(f, ",");
        if (isfinite(x->baseline)) fprintf(f, "%.6g", x->baseline);
        fprintf(f, ",%lld,", x->model_bytes);
        if (x->compression > 0) fprintf(f, "%.4g", x->compression);
        const lg_ratio *sp[3] = {&x->sp_ref, &x->sp_blas, &x->sp_dev};
        for (int k = 0; k < 3; k++) {
            fprintf(f, ",");
            if (sp[k]->n) fprintf(f, "%.4g", sp[k]->value);
        }
        fprintf(f, ",%s,", x->valid ? "VALID" : "INVALID");
        csv_text(f, x->valid ? "" : x->reason);
        fprintf(f, "\n");
    }
    return fclose(f) != 0;
}

static int write_md(const tm_run *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    char cmd[1024] = "tinycl";
    for (int i = 1; i < r->a->argc; i++)
        snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " %s", r->a->argv[i]);
    fprintf(f, "# TinyMLPerf leaderboard\n\n`%s` (tinycl %s, commit %s). Latency: median, p90 and p99 of the queries\n"
               "at batch 1; speedups: geometric mean of the per-round ratios of interleaved runs, with\n"
               "their 95%% confidence interval (Student's t).\n",
            cmd, tc_version(), tc_git_commit());
    tm_print_leaderboard(r, f, 1);
    return fclose(f) != 0;
}

int tm_write_files(const tm_run *r)
{
    char p[1200];
    int failed = 0;
    snprintf(p, sizeof p, "%s/results.json", r->dir);
    failed |= write_json(r, p);
    const char *json = cli_get(r->a, "--json");
    if (json) failed |= write_json(r, json);
    snprintf(p, sizeof p, "%s/results.csv", r->dir);
    failed |= write_csv(r, p);
    snprintf(p, sizeof p, "%s/leaderboard.md", r->dir);
    failed |= write_md(r, p);
    if (failed)
        fprintf(stderr, "tinycl bench tinymlperf: writing the results into %s failed\n", r->dir);
    else
        fprintf(stderr, "wrote %s/{results.json,results.csv,leaderboard.md,profile.txt,traces/}%s%s\n", r->dir,
                json ? " and " : "", json ? json : "");
    return failed;
}

int tm_plot(const tm_run *r)
{
    char script[4400] = "";
    const char *env = getenv("TINYCL_PLOT_SCRIPT");
    const char *cand[3] = {"%s/../scripts/plot_tinymlperf.py", "%s/plot_tinymlperf.py", NULL};
    if (env && *env)
        snprintf(script, sizeof script, "%s", env);
    else
        for (int i = 0; cand[i] && !script[0]; i++) {
            char p[4400];
            snprintf(p, sizeof p, cand[i], r->data);
            if (access(p, R_OK) == 0) snprintf(script, sizeof script, "%s", p);
        }
    const char *py = getenv("TINYCL_PYTHON") && *getenv("TINYCL_PYTHON") ? getenv("TINYCL_PYTHON") : "/usr/bin/python3";
    if (!script[0] || access(py, X_OK) != 0) {
        fprintf(stderr, "tinycl bench tinymlperf: no plots: %s\n",
                !script[0] ? "plot_tinymlperf.py not found (TINYCL_PLOT_SCRIPT)" : "no python (TINYCL_PYTHON)");
        return 0;
    }
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s' >&2", py, script, r->dir);
    if (strchr(script, '\'') || strchr(r->dir, '\'')) return 1;
    const int rc = system(cmd);
    if (rc != 0) fprintf(stderr, "tinycl bench tinymlperf: the plot script failed (%d)\n", rc);
    return rc != 0;
}
