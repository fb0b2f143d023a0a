/* tinycl compress: prunes a model (tc_model_prune), optionally quantizes it to int8
 * (tc_model_quantize, calibrated on the digits' training split), saves it as a
 * version-2 weight file and reports what it bought: bytes on disk and in memory,
 * sparsity per layer, and per device the accuracy on the digits' test split and
 * the forward pass of the whole split against the input model's, the two timed
 * in alternation in one process (the speedup is the median of the rounds' ratios). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/results.h"
#include "core/internal.h"

#define MAX_LAYERS 64

static const char *const pattern_names[TC_PRUNE_PATTERN_COUNT] = {"element", "1x4", "1x8", "4x4"};

typedef struct {
    const char *in, *out;       /* the input file and the compressed one */
    char tmp[64];               /* the compressed file when --out is not given */
    tc_model_prune_options o;
    int prune, int8;
    int64_t disk[2], bytes[2];  /* input, compressed */
    char name[2][40];
    double sparsity;
    int structured;
} job;

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* --sparsity: a fraction in [0, 1). */
static int parse_sparsity(const char *v, double *s)
{
    char *end;
    errno = 0;
    *s = strtod(v, &end);
    return *v && !*end && !errno && *s >= 0.0 && *s < 1.0;
}

/* Layer i's part of a model summary ("linear(64->128)+relu"). */
static void layer_text(const char *summary, int i, char *buf, size_t n)
{
    const char *p = summary;
    for (int k = 0; k < i && p; k++) {
        p = strstr(p, " > ");
        if (p) p += 3;
    }
    const char *end = p ? strstr(p, " > ") : NULL;
    const size_t len = !p ? 0 : end ? (size_t)(end - p) : strlen(p);
    snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), p ? p : "");
}

/* Compresses on ref (pruning and calibration do not depend on the device) and saves. */
static int compress(job *j, const char *calib_path)
{
    tc_ctx *ctx = NULL;
    tc_model *m = NULL, *p = NULL, *q = NULL;
    tc_tensor *cx = NULL, *cl = NULL;
    tc_status s = tc_ctx_create("ref", 0, &ctx);
    if (s == TC_OK) s = tc_model_load(ctx, j->in, &m);
    if (s == TC_OK && j->prune) s = tc_model_prune(m, &j->o, &p);
    if (s == TC_OK && j->int8) s = tc_dataset_load(ctx, calib_path, &cx, &cl);
    if (s == TC_OK && j->int8) s = tc_model_quantize(p ? p : m, cx, NULL, &q);
    const tc_model *out = q ? q : p ? p : m;
    if (s == TC_OK) s = tc_model_save(out, j->out);
    if (s == TC_OK) s = tc_model_sparsity(out, &j->sparsity, &j->structured);
    if (s == TC_OK) {
        j->bytes[0] = tc_model_bytes(m), j->bytes[1] = tc_model_bytes(out);
        snprintf(j->name[0], sizeof j->name[0], "%s", tc_model_name(m));
        snprintf(j->name[1], sizeof j->name[1], "%s", tc_model_name(out));
        j->disk[0] = file_size(j->in), j->disk[1] = file_size(j->out);
    } else {
        fprintf(stderr, "tinycl compress: %s\n", ctx ? tc_last_error(ctx) : tc_last_error(NULL));
    }
    tc_tensor_free(cx), tc_tensor_free(cl);
    tc_model_free(q), tc_model_free(p), tc_model_free(m);
    tc_ctx_free(ctx);
    return s != TC_OK;
}

/* The layers before and after, printed to f and as JSON into *json (malloc'd). */
static int layer_report(const job *j, FILE *f, char **json)
{
    tc_ctx *ctx = NULL;
    tc_model *m[2] = {NULL, NULL};
    tc_status s = tc_ctx_create("ref", 0, &ctx);
    if (s == TC_OK) s = tc_model_load(ctx, j->in, &m[0]);
    if (s == TC_OK) s = tc_model_load(ctx, j->out, &m[1]);
    char sum[2][2048];
    size_t cap = 4096, at = 0;
    char *o = malloc(cap);
    if (s != TC_OK || !o) {
        fprintf(stderr, "tinycl compress: %s\n", s != TC_OK ? tc_last_error(ctx) : "out of memory");
        free(o);
        tc_model_free(m[0]), tc_model_free(m[1]);
        tc_ctx_free(ctx);
        return 1;
    }
    tc_model_summary(m[0], sum[0], sizeof sum[0]);
    tc_model_summary(m[1], sum[1], sizeof sum[1]);
    const int same = tc_model_layer_count(m[0]) == tc_model_layer_count(m[1]);
    fprintf(f, "%s -> %s: %s\n", j->name[0], j->name[1], j->out);
    fprintf(f, "  sparsity %.2f%%%s, disk %lld -> %lld bytes (%.2fx), parameters %lld -> %lld bytes (%.2fx)\n",
            100.0 * j->sparsity, j->structured ? " (structured: weights removed against the original)" : "",
            (long long)j->disk[0], (long long)j->disk[1], (double)j->disk[0] / (double)j->disk[1],
            (long long)j->bytes[0], (long long)j->bytes[1], (double)j->bytes[0] / (double)j->bytes[1]);
    fprintf(f, "  %-5s %-44s %-44s %9s %9s %9s  %s\n", "layer", "before", "after", "weights", "non-zero", "sparsity",
            "stored");
    at += (size_t)snprintf(o + at, cap - at, "[");
    for (int i = 0; i < tc_model_layer_count(m[1]); i++) {
        tc_model_layer_info a, b = {0};
        tc_model_layer_info_get(m[1], i, &a);
        if (same) tc_model_layer_info_get(m[0], i, &b);
        if (!a.weights) continue;
        char t0[256] = "", t1[256];
        if (same) layer_text(sum[0], i, t0, sizeof t0);
        layer_text(sum[1], i, t1, sizeof t1);
        const int64_t base = same && b.weights ? b.weights : a.weights;
        const double sp = 1.0 - (double)a.nonzero / (double)base;
        fprintf(f, "  %-5d %-44s %-44s %9lld %9lld %8.2f%%  %s\n", i, t0, t1, (long long)a.weights,
                (long long)a.nonzero, 100.0 * sp, a.csr ? "csr" : "dense");
        if (at + 1024 > cap) {
            char *g = realloc(o, cap *= 2);
            if (!g) break;
            o = g;
        }
        at += (size_t)snprintf(o + at, cap - at,
                               "%s{\"layer\": %d, \"before\": \"%s\", \"after\": \"%s\", \"weights_before\": %lld, "
                               "\"weights\": %lld, \"nonzero\": %lld, \"sparsity\": %.6f, \"stored\": \"%s\"}",
                               at > 1 ? ", " : "", i, t0, t1, (long long)base, (long long)a.weights,
                               (long long)a.nonzero, sp, a.csr ? "csr" : "dense");
    }
    snprintf(o + at, cap - at, "]");
    *json = o;
    tc_model_free(m[0]), tc_model_free(m[1]);
    tc_ctx_free(ctx);
    return 0;
}

/* s as a JSON string's contents (quotes, backslashes and control characters escaped). */
static void json_text(char *dst, size_t n, const char *s)
{
    size_t at = 0;
    for (; *s && at + 7 < n; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') dst[at++] = '\\', dst[at++] = (char)c;
        else if (c < 0x20) at += (size_t)snprintf(dst + at, n - at, "\\u%04x", c);
        else dst[at++] = (char)c;
    }
    dst[at] = '\0';
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    int64_t correct[2], n;
    double *ms[2], speedup;
    int reps, sparse_layers;
    char device[256];
} dev_result;

static tc_status correct_of(tc_model *m, const tc_tensor *x, const int32_t *labels, int64_t n, int64_t *correct)
{
    tc_tensor *p = NULL;
    int32_t *pred = malloc((size_t)n * sizeof *pred);
    tc_status s = pred ? tc_tensor_create(tc_tensor_ctx(x), TC_DTYPE_S32, 1, &n, &p) : TC_ERR_OUT_OF_MEMORY;
    if (s == TC_OK) s = tc_model_predict(m, x, p);
    if (s == TC_OK) s = tc_tensor_read(p, pred, (size_t)n * sizeof *pred);
    *correct = 0;
    for (int64_t i = 0; s == TC_OK && i < n; i++) *correct += pred[i] == labels[i];
    free(pred);
    tc_tensor_free(p);
    return s;
}

/* Accuracy and timing of the input and the compressed model on device dev. */
static tc_status on_device(const job *j, int dev, const char *data, int reps, dev_result *r)
{
    char spec[16];
    cli_device_spec(dev, spec, sizeof spec);
    tc_ctx *ctx = NULL;
    tc_model *m[2] = {NULL, NULL};
    tc_tensor *x = NULL, *lab = NULL, *y[2] = {NULL, NULL};
    int32_t *labels = NULL;
    double *ratio = malloc((size_t)reps * sizeof *ratio);
    r->ms[0] = malloc((size_t)reps * sizeof(double)), r->ms[1] = malloc((size_t)reps * sizeof(double));
    tc_status s = ratio && r->ms[0] && r->ms[1] ? tc_ctx_create(spec, 0, &ctx) : TC_ERR_OUT_OF_MEMORY;
    if (s == TC_OK) snprintf(r->device, sizeof r->device, "%s", tc_ctx_device(ctx)->name);
    if (s == TC_OK) s = tc_model_load(ctx, j->in, &m[0]);
    if (s == TC_OK) s = tc_model_load(ctx, j->out, &m[1]);
    if (s == TC_OK) s = tc_dataset_load(ctx, data, &x, &lab);
    if (s == TC_OK) {
        r->n = tc_tensor_dim(x, 0);
        if (!(labels = malloc((size_t)r->n * sizeof *labels))) s = TC_ERR_OUT_OF_MEMORY;
    }
    if (s == TC_OK) s = tc_tensor_read(lab, labels, (size_t)r->n * sizeof *labels);
    for (int v = 0; s == TC_OK && v < 2; v++) {
        s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){r->n, tc_model_classes(m[v])}, &y[v]);
        if (s == TC_OK) s = correct_of(m[v], x, labels, r->n, &r->correct[v]);
        if (s == TC_OK) s = tc_model_forward(m[v], x, y[v]); /* warm-up: kernels built, activations there */
    }
    if (s == TC_OK) s = tc_ctx_finish(ctx);
    for (int k = 0; s == TC_OK && k < reps; k++)
        for (int i = 0; s == TC_OK && i < 2; i++) {
            const int v = k % 2 ? 1 - i : i; /* the order alternates */
            const double t0 = tc_now_ms();
            s = tc_model_forward(m[v], x, y[v]);
            if (s == TC_OK) s = tc_ctx_finish(ctx);
            r->ms[v][k] = tc_now_ms() - t0;
        }
    if (s == TC_OK) {
        for (int k = 0; k < reps; k++) ratio[k] = r->ms[0][k] / r->ms[1][k];
        qsort(ratio, (size_t)reps, sizeof *ratio, cmp_double);
        r->speedup = reps % 2 ? ratio[reps / 2] : 0.5 * (ratio[reps / 2 - 1] + ratio[reps / 2]);
        r->reps = reps;
        for (int i = 0; i < tc_model_layer_count(m[1]); i++) {
            tc_model_layer_info in;
            tc_model_layer_info_get(m[1], i, &in);
            r->sparse_layers += in.sparse[r->n > 8];
        }
    } else {
        fprintf(stderr, "tinycl compress: device %s: %s\n", spec,
                s == TC_ERR_OUT_OF_MEMORY ? "out of memory" : ctx ? tc_last_error(ctx) : tc_last_error(NULL));
    }
    free(ratio), free(labels);
    tc_tensor_free(x), tc_tensor_free(lab), tc_tensor_free(y[0]), tc_tensor_free(y[1]);
    tc_model_free(m[0]), tc_model_free(m[1]);
    tc_ctx_free(ctx);
    return s;
}

static void add_record(res_set *rs, const job *j, const dev_result *r, int samples)
{
    res_record *e = res_add(rs);
    if (!e) return;
    char yes[8];
    snprintf(yes, sizeof yes, "%s", j->structured ? "yes" : "no");
    res_str(e, "model", "model", j->name[1]);
    res_str(e, "device", "device", r->device);
    res_str(e, "precision", "precision", j->int8 ? "int8" : "f32");
    res_num(e, "sparsity", "sparsity", "%.4f", j->sparsity);
    res_obj(e, "structured", "structured", yes, j->structured ? "true" : "false");
    const double a0 = 100.0 * (double)r->correct[0] / (double)r->n, a1 = 100.0 * (double)r->correct[1] / (double)r->n;
    res_num(e, "accuracy_before", "acc before %", "%.2f", a0);
    res_num(e, "accuracy", "accuracy %", "%.2f", a1);
    res_num(e, "accuracy_change", "change", "%+.2f", a1 - a0);
    res_num(e, "disk_bytes_before", "disk before", "%d", (double)j->disk[0]);
    res_num(e, "disk_bytes", "disk", "%d", (double)j->disk[1]);
    res_num(e, "model_bytes_before", "bytes before", "%d", (double)j->bytes[0]);
    res_num(e, "model_bytes", "bytes", "%d", (double)j->bytes[1]);
    res_num(e, "compression", "disk ratio", "%.2fx", (double)j->disk[0] / (double)j->disk[1]);
    res_num(e, "sparse_layers", "sparse layers", "%d", r->sparse_layers);
    res_num(e, "input_median_ms", "input ms", "%.3f", res_median(r->ms[0], r->reps));
    res_times(e, r->ms[1], r->reps, samples);
    res_num(e, "speedup", "speedup", "%.2fx", r->speedup);
}

/* The options' checks; 2 after a misuse message. */
static int options(const cli_args *a, job *j)
{
    memset(j, 0, sizeof *j);
    j->in = cli_get(a, "--model");
    if (!j->in) return cli_misuse(a, "--model FILE is required");
    j->o = tc_model_prune_defaults();
    const char *sp = cli_get(a, "--sparsity"), *pat = cli_get(a, "--pattern");
    j->prune = sp != NULL;
    if (sp && !parse_sparsity(sp, &j->o.sparsity))
        return cli_misuse(a, "--sparsity takes a fraction in [0, 1), such as 0.9, not '%s'", sp);
    j->o.structured = cli_get(a, "--structured") != NULL;
    j->o.global = cli_get(a, "--global") != NULL;
    for (int k = 0; pat && k < TC_PRUNE_PATTERN_COUNT; k++)
        if (strcmp(pat, pattern_names[k]) == 0) j->o.pattern = (tc_prune_pattern)k;
    if (!sp && (j->o.structured || j->o.global || pat))
        return cli_misuse(a, "--structured, --pattern and --global need --sparsity");
    if (j->o.structured && (j->o.global || j->o.pattern != TC_PRUNE_ELEMENT))
        return cli_misuse(a, "--pattern and --global apply to unstructured pruning, not --structured");
    j->int8 = cli_get(a, "--int8") != NULL;
    j->out = cli_get(a, "--out");
    return 0;
}

int cli_compress(const cli_args *a)
{
    job j;
    if (options(a, &j)) return 2;
    const int reps = (int)cli_int(a, "--reps", 20), samples = cli_get(a, "--samples") != NULL;
    const char *files[2] = {"digits_test.tcd", "digits_train.tcd"};
    char dir[4096], data[4200], calib[4200];
    if (cli_find_data(a, files, j.int8 ? 2 : 1, dir, sizeof dir)) return 2;
    snprintf(data, sizeof data, "%s/digits_test.tcd", dir);
    snprintf(calib, sizeof calib, "%s/digits_train.tcd", dir);
    int fd = -1;
    if (!j.out) { /* a temporary file, for its size */
        snprintf(j.tmp, sizeof j.tmp, "/tmp/tinycl-compress-XXXXXX");
        if ((fd = mkstemp(j.tmp)) < 0) {
            fprintf(stderr, "tinycl compress: cannot create a temporary file: %s\n", strerror(errno));
            return 1;
        }
        close(fd);
        j.out = j.tmp;
    }
    int failed = compress(&j, calib);
    char *layers = NULL;
    FILE *text = cli_get(a, "--format") ? stderr : stdout;
    if (!failed) failed = layer_report(&j, text, &layers);
    res_set rs = {.reps = reps, .extra_key = "compression", .out_is_not_results = 1};
    for (int k = 0; k < a->ndevices && !failed; k++) {
        dev_result r = {0};
        if (on_device(&j, a->devices[k], data, reps, &r) == TC_OK) add_record(&rs, &j, &r, samples);
        else failed = 1;
        free(r.ms[0]), free(r.ms[1]);
    }
    if (!failed) {
        char in[8192], out[8192], names[2][80], sp[32] = "null";
        json_text(names[0], sizeof names[0], j.name[0]);
        json_text(names[1], sizeof names[1], j.name[1]);
        json_text(in, sizeof in, j.in);
        json_text(out, sizeof out, j.tmp[0] ? "" : j.out);
        if (j.prune) snprintf(sp, sizeof sp, "%.17g", j.o.sparsity);
        const size_t n = strlen(layers) + strlen(in) + strlen(out) + 1024;
        rs.extra_json = malloc(n);
        if (rs.extra_json)
            snprintf(rs.extra_json, n,
                     "{\"input\": \"%s\", \"output\": \"%s\", \"name_before\": \"%s\", \"name\": \"%s\", "
                     "\"options\": {\"sparsity\": %s, \"structured\": %s, \"pattern\": \"%s\", \"global\": %s, "
                     "\"int8\": %s}, \"disk_bytes_before\": %lld, \"disk_bytes\": %lld, \"model_bytes_before\": %lld, "
                     "\"model_bytes\": %lld, \"sparsity\": %.6f, \"structured\": %s, \"layers\": %s}",
                     in, out, names[0], names[1], sp,
                     j.o.structured ? "true" : "false", pattern_names[j.o.pattern], j.o.global ? "true" : "false",
                     j.int8 ? "true" : "false", (long long)j.disk[0], (long long)j.disk[1], (long long)j.bytes[0],
                     (long long)j.bytes[1], j.sparsity, j.structured ? "true" : "false", layers);
        failed = !rs.extra_json || res_output(&rs, a);
    }
    free(rs.extra_json);
    free(layers);
    res_free(&rs);
    if (j.tmp[0]) unlink(j.tmp);
    return failed;
}
