/* tinycl eval: accuracy of the trained digit models (and their pruned versions) on
 * the held-out test split, per device, in f32 and as int8 models quantized at eval
 * time from the training split; how many predictions differ from ref (and, for int8,
 * from f32 on the same device); each model's sparsity. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/results.h"
#include "tinycl/tinycl.h"

#define MAX_SHOWN 20

typedef struct {
    char name[40];
    int64_t n, classes, bytes;
    double sparsity; /* tc_model_sparsity */
    int structured;
    int32_t *pred, *labels;
    float *prob; /* the model's outputs [n, classes] */
} eval_run;

static void run_free(eval_run *r)
{
    free(r->pred);
    free(r->labels);
    free(r->prob);
    memset(r, 0, sizeof *r);
}

/* Outputs, predictions and labels of one model on one device (index dev), quantized
 * from the calibration images when q is given; 0 on success. */
static int evaluate(int dev, const char *model_path, const char *data_path, const char *calib_path,
                    const tc_model_quant_options *q, eval_run *r)
{
    char spec[16];
    cli_device_spec(dev, spec, sizeof spec);
    tc_ctx *ctx = NULL;
    tc_model *m = NULL, *qm = NULL;
    tc_tensor *x = NULL, *labels = NULL, *pred = NULL, *prob = NULL, *cx = NULL, *cl = NULL;
    if (tc_ctx_create(spec, 0, &ctx) != TC_OK) {
        fprintf(stderr, "tinycl eval: device %s: %s\n", spec, tc_last_error(NULL));
        return 1;
    }
    tc_status s = tc_model_load(ctx, model_path, &m);
    if (s == TC_OK) s = tc_dataset_load(ctx, data_path, &x, &labels);
    if (s == TC_OK && q) s = tc_dataset_load(ctx, calib_path, &cx, &cl);
    if (s == TC_OK && q) s = tc_model_quantize(m, cx, q, &qm);
    tc_model *use = qm ? qm : m;
    if (s == TC_OK) {
        r->n = tc_tensor_dim(x, 0);
        r->classes = tc_model_classes(use);
        r->bytes = tc_model_bytes(use);
        s = tc_model_sparsity(use, &r->sparsity, &r->structured);
        r->pred = malloc((size_t)r->n * sizeof *r->pred);
        r->labels = malloc((size_t)r->n * sizeof *r->labels);
        r->prob = malloc((size_t)(r->n * r->classes) * sizeof *r->prob);
        if (s == TC_OK)
            s = r->pred && r->labels && r->prob ? tc_tensor_create(ctx, TC_DTYPE_S32, 1, &r->n, &pred)
                                                : TC_ERR_OUT_OF_MEMORY;
    }
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){r->n, r->classes}, &prob);
    if (s == TC_OK) s = tc_model_forward(use, x, prob);
    if (s == TC_OK) s = tc_tensor_read(prob, r->prob, (size_t)(r->n * r->classes) * sizeof *r->prob);
    if (s == TC_OK) s = tc_model_predict(use, x, pred);
    if (s == TC_OK) s = tc_tensor_read(pred, r->pred, (size_t)r->n * sizeof *r->pred);
    if (s == TC_OK) s = tc_tensor_read(labels, r->labels, (size_t)r->n * sizeof *r->labels);
    if (s != TC_OK) {
        fprintf(stderr, "tinycl eval: %s\n", s == TC_ERR_OUT_OF_MEMORY ? "out of memory" : tc_last_error(ctx));
        run_free(r);
    } else {
        snprintf(r->name, sizeof r->name, "%s", tc_model_name(m));
    }
    tc_tensor *all[] = {pred, prob, x, labels, cx, cl};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_model_free(qm);
    tc_model_free(m);
    tc_ctx_free(ctx);
    return s != TC_OK;
}

static int64_t differing(const eval_run *a, const eval_run *b)
{
    int64_t n = 0;
    for (int64_t i = 0; i < a->n; i++) n += a->pred[i] != b->pred[i];
    return n;
}

/* How far every image is from a tie: the smallest gap between its two largest probabilities. */
static double top2_gap(const eval_run *r)
{
    double gap = INFINITY;
    for (int64_t i = 0; i < r->n; i++) {
        const float *p = r->prob + i * r->classes;
        double a = -INFINITY, b = -INFINITY;
        for (int64_t c = 0; c < r->classes; c++) {
            if (p[c] > a) {
                b = a;
                a = p[c];
            } else if (p[c] > b) {
                b = p[c];
            }
        }
        gap = fmin(gap, a - b);
    }
    return gap;
}

/* The record of run r: against ref's run of the same precision, and for int8 against
 * f32 on the same device (f32 NULL otherwise). */
typedef struct {
    char text[64], json[160];
} qdesc;

static int record(res_set *rs, const eval_run *r, const eval_run *ref, const eval_run *f32, int dev,
                  const qdesc *quant)
{
    tc_device_info info;
    char label[300] = "ref";
    if (dev && cli_device_info(dev, &info) == TC_OK) snprintf(label, sizeof label, "%s", info.name);
    int64_t correct = 0;
    double maxdiff = 0;
    for (int64_t i = 0; i < r->n; i++) correct += r->pred[i] == r->labels[i];
    for (int64_t i = 0; i < r->n * r->classes; i++) maxdiff = fmax(maxdiff, fabs(r->prob[i] - ref->prob[i]));
    res_record *e = res_add(rs);
    if (!e) return 1;
    res_str(e, "model", "model", r->name);
    res_str(e, "precision", "precision", f32 ? "int8" : "f32");
    res_str(e, "device", "device", label);
    res_num(e, "accuracy", "accuracy %", "%.2f", 100.0 * (double)correct / (double)r->n);
    res_num(e, "correct", "correct", "%d", (double)correct);
    res_num(e, "total", "total", "%d", (double)r->n);
    res_num(e, "model_bytes", "model bytes", "%d", (double)r->bytes);
    res_num(e, "differs_from_ref", "differs from ref", "%d", (double)differing(r, ref));
    res_num(e, "max_abs_diff_ref", "max |p - p_ref|", "%.1e", maxdiff);
    res_num(e, "min_top2_gap", "min top-2 gap", "%.1e", top2_gap(r));
    if (f32) {
        double fd = 0;
        for (int64_t i = 0; i < r->n * r->classes; i++) fd = fmax(fd, fabs(r->prob[i] - f32->prob[i]));
        res_num(e, "differs_from_f32", "differs from f32", "%d", (double)differing(r, f32));
        res_num(e, "max_abs_diff_f32", "max |p - p_f32|", "%.1e", fd);
        res_obj(e, "quantization", "quantization", quant->text, quant->json);
    }
    res_num(e, "sparsity", "sparsity", "%.4f", r->sparsity);
    res_obj(e, "structured", "structured", r->structured ? "yes" : "no", r->structured ? "true" : "false");
    for (int64_t i = 0, shown = 0; dev && i < r->n && shown < MAX_SHOWN; i++)
        if (r->pred[i] != ref->pred[i]) {
            fprintf(stderr, "  %s %s %s: image %lld: label %d, ref %d, device %d\n", r->name, f32 ? "int8" : "f32",
                    label, (long long)i, r->labels[i], ref->pred[i], r->pred[i]);
            shown++;
        }
    return 0;
}

/* Where the digit files are looked for, in order: --data, $TINYCL_DATA_DIR,
 * ./data, the share/tinycl beside an installed executable, the data folder
 * above a build folder, the install prefix's. */
static int candidates(const cli_args *a, char cand[][4096])
{
    const char *given = cli_get(a, "--data") ? cli_get(a, "--data") : getenv("TINYCL_DATA_DIR");
    if (given && *given) return snprintf(cand[0], 4096, "%s", given) < 4096;
    int n = 0;
    snprintf(cand[n++], 4096, "data");
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = len > 0 ? (exe[len] = '\0', strrchr(exe, '/')) : NULL;
    if (slash) {
        *slash = '\0';
        if (snprintf(cand[n], 4096, "%s/%s", exe, TC_REL_DATADIR) < 4096) n++;
        if (snprintf(cand[n], 4096, "%s/../data", exe) < 4096) n++;
    }
    snprintf(cand[n++], 4096, "%s", TC_INSTALL_DATADIR);
    return n;
}

int cli_find_data(const cli_args *a, const char *const *files, int nfiles, char *dir, size_t n)
{
    char cand[5][4096], looked[8192] = "", names[512] = "";
    const int nc = candidates(a, cand);
    for (int c = 0; c < nc; c++) {
        int all = 1;
        for (int f = 0; f < nfiles && all; f++) {
            char path[4200];
            all = snprintf(path, sizeof path, "%s/%s", cand[c], files[f]) < (int)sizeof path && access(path, R_OK) == 0;
        }
        if (all && snprintf(dir, n, "%s", cand[c]) < (int)n) return 0;
        size_t used = strlen(looked);
        if (snprintf(looked + used, sizeof looked - used, "\n  %s", cand[c]) < 0) break;
    }
    for (int f = 0; f < nfiles; f++) {
        size_t used = strlen(names);
        if (snprintf(names + used, sizeof names - used, "%s%s", f ? ", " : "", files[f]) < 0) break;
    }
    fprintf(stderr, "tinycl %s: cannot find %s; looked in:%s\ngive --data DIR or set TINYCL_DATA_DIR\n",
            a->cmd->name, names, looked);
    return 2;
}

/* The quantization options of --observer, --weights and --int8-between, and their description. */
static tc_model_quant_options quant_options(const cli_args *a, qdesc *d)
{
    tc_model_quant_options o = tc_model_quant_defaults();
    const char *obs = cli_get(a, "--observer"), *wg = cli_get(a, "--weights"), *between = cli_get(a, "--int8-between");
    for (int k = 0; obs && k < TC_OBSERVER_KIND_COUNT; k++)
        if (strcmp(obs, tc_observer_kind_name((tc_observer_kind)k)) == 0) o.observer = (tc_observer_kind)k;
    o.per_channel = !wg || strcmp(wg, "channel") == 0;
    o.keep_int8 = !between || strcmp(between, "on") == 0;
    const char *w = o.per_channel ? "channel" : "tensor", *k = tc_observer_kind_name(o.observer);
    snprintf(d->text, sizeof d->text, "%s, %s, %s", w, k, o.keep_int8 ? "int8" : "f32");
    snprintf(d->json, sizeof d->json, "{\"weights\": \"per_%s\", \"observer\": \"%s\", \"int8_between\": %s}", w, k,
             o.keep_int8 ? "true" : "false");
    return o;
}

/* The models eval takes by default: both, then the pruned ones when the folder has them. */
static const char *const digit_models[] = {"mlp_digits",        "cnn_digits",           "mlp_digits_pruned",
                                           "mlp_digits_structured", "cnn_digits_pruned", "cnn_digits_structured"};
#define NMODELS ((int)(sizeof digit_models / sizeof digit_models[0]))

int cli_eval(const cli_args *a)
{
    const char *model = cli_get(a, "--model"), *prec = cli_get(a, "--precision");
    const int want_f32 = !prec || strcmp(prec, "int8") != 0, want_int8 = !prec || strcmp(prec, "f32") != 0;
    /* --model names its own file; int8 needs the training split for calibration */
    static const char *const files[] = {"digits_test.tcd", "digits_train.tcd", "mlp_digits.tcw", "cnn_digits.tcw"};
    const char *const need[] = {files[0], want_int8 ? files[1] : files[2], files[2], files[3]};
    char dir[4096], paths[NMODELS][4200], data[4200], calib[4200];
    qdesc desc;
    if (cli_find_data(a, need, model ? 1 + want_int8 : 4, dir, sizeof dir)) return 2;
    const char *models[NMODELS] = {model};
    int nmodels = model != NULL;
    for (int k = 0; !model && k < NMODELS; k++) {
        snprintf(paths[k], sizeof paths[k], "%s/%s.tcw", dir, digit_models[k]);
        if (k < 2 || access(paths[k], R_OK) == 0) models[nmodels++] = paths[k];
    }
    snprintf(data, sizeof data, "%s/digits_test.tcd", dir);
    snprintf(calib, sizeof calib, "%s/digits_train.tcd", dir);
    const tc_model_quant_options qo = quant_options(a, &desc);
    res_set rs = {0};
    int failed = 0;
    for (int k = 0; k < nmodels; k++) {
        eval_run ref = {0}, qref = {0};
        /* ref is what every device is compared with */
        if ((want_f32 || want_int8) && evaluate(0, models[k], data, calib, NULL, &ref)) {
            failed = 1;
            continue;
        }
        if (want_int8 && evaluate(0, models[k], data, calib, &qo, &qref)) {
            failed = 1;
            run_free(&ref);
            continue;
        }
        for (int i = 0; i < a->ndevices; i++) {
            const int d = a->devices[i];
            eval_run r = {0}, q = {0};
            const int ok = d == 0 || evaluate(d, models[k], data, calib, NULL, &r) == 0;
            const eval_run *f = d == 0 ? &ref : &r;
            if (ok && want_f32) failed |= record(&rs, f, &ref, NULL, d, NULL);
            if (ok && want_int8 && d == 0) failed |= record(&rs, &qref, &qref, f, 0, &desc);
            if (ok && want_int8 && d != 0) {
                if (evaluate(d, models[k], data, calib, &qo, &q) == 0)
                    failed |= record(&rs, &q, &qref, f, d, &desc);
                else
                    failed = 1;
            }
            failed |= !ok;
            run_free(&r);
            run_free(&q);
        }
        run_free(&ref);
        run_free(&qref);
    }
    failed |= res_output(&rs, a);
    res_free(&rs);
    const char *why = tc_device_probe_message();
    if (why[0]) fprintf(stderr, "note: %s\n", why);
    return failed;
}
