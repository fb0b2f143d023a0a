/* tinycl eval: accuracy of the trained digit models on the held-out test split,
 * per device, and the test images whose prediction differs from ref. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "tinycl/tinycl.h"

#define MAX_SHOWN 20

typedef struct {
    char name[40];
    int64_t n, classes;
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

/* Outputs, predictions and labels of one model on one device (index dev); 0 on success. */
static int evaluate(int dev, const char *model_path, const char *data_path, eval_run *r)
{
    char spec[16];
    snprintf(spec, sizeof spec, "%d", dev);
    tc_ctx *ctx = NULL;
    tc_model *m = NULL;
    tc_tensor *x = NULL, *labels = NULL, *pred = NULL, *prob = NULL;
    if (tc_ctx_create(spec, 0, &ctx) != TC_OK) {
        fprintf(stderr, "tinycl eval: device %s: %s\n", spec, tc_last_error(NULL));
        return 1;
    }
    tc_status s = tc_model_load(ctx, model_path, &m);
    if (s == TC_OK) s = tc_dataset_load(ctx, data_path, &x, &labels);
    if (s == TC_OK) {
        r->n = tc_tensor_dim(x, 0);
        r->classes = tc_model_classes(m);
        r->pred = malloc((size_t)r->n * sizeof *r->pred);
        r->labels = malloc((size_t)r->n * sizeof *r->labels);
        r->prob = malloc((size_t)(r->n * r->classes) * sizeof *r->prob);
        s = r->pred && r->labels && r->prob ? tc_tensor_create(ctx, TC_DTYPE_S32, 1, &r->n, &pred)
                                            : TC_ERR_OUT_OF_MEMORY;
    }
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){r->n, r->classes}, &prob);
    if (s == TC_OK) s = tc_model_forward(m, x, prob);
    if (s == TC_OK) s = tc_tensor_read(prob, r->prob, (size_t)(r->n * r->classes) * sizeof *r->prob);
    if (s == TC_OK) s = tc_model_predict(m, x, pred);
    if (s == TC_OK) s = tc_tensor_read(pred, r->pred, (size_t)r->n * sizeof *r->pred);
    if (s == TC_OK) s = tc_tensor_read(labels, r->labels, (size_t)r->n * sizeof *r->labels);
    if (s != TC_OK) {
        fprintf(stderr, "tinycl eval: %s\n", s == TC_ERR_OUT_OF_MEMORY ? "out of memory" : tc_last_error(ctx));
        run_free(r);
    } else {
        snprintf(r->name, sizeof r->name, "%s", tc_model_name(m));
    }
    tc_tensor_free(pred);
    tc_tensor_free(prob);
    tc_tensor_free(x);
    tc_tensor_free(labels);
    tc_model_free(m);
    tc_ctx_free(ctx);
    return s != TC_OK;
}

static void report(const eval_run *r, const eval_run *ref, int dev)
{
    tc_device_info info;
    char label[300] = "ref";
    if (dev && tc_device_get(dev, &info) == TC_OK) snprintf(label, sizeof label, "cl:%d %s", dev - 1, info.name);
    int64_t correct = 0, differ = 0;
    double maxdiff = 0;
    for (int64_t i = 0; i < r->n; i++) {
        correct += r->pred[i] == r->labels[i];
        differ += r->pred[i] != ref->pred[i];
    }
    for (int64_t i = 0; i < r->n * r->classes; i++) maxdiff = fmax(maxdiff, fabs(r->prob[i] - ref->prob[i]));
    printf("%-12s %-44.44s %6.2f%%  (%lld/%lld)", r->name, label, 100.0 * (double)correct / (double)r->n,
           (long long)correct, (long long)r->n);
    if (dev) {
        printf("  argmax differs from ref on %lld, max |p - p_ref| %.1e", (long long)differ, maxdiff);
    } else {
        /* how far every image is from a tie: the smallest gap between its two largest probabilities */
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
        printf("  smallest top-2 probability gap %.1e", gap);
    }
    printf("\n");
    for (int64_t i = 0, shown = 0; i < r->n && differ && shown < MAX_SHOWN; i++)
        if (r->pred[i] != ref->pred[i]) {
            printf("    image %lld: label %d, ref %d, %s %d\n", (long long)i, r->labels[i], ref->pred[i], label,
                   r->pred[i]);
            shown++;
        }
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

int cli_eval(const cli_args *a)
{
    const char *model = cli_get(a, "--model");
    static const char *const files[] = {"digits_test.tcd", "mlp_digits.tcw", "cnn_digits.tcw"};
    char dir[4096], mlp[4200], cnn[4200], data[4200];
    if (cli_find_data(a, files, model ? 1 : 3, dir, sizeof dir)) return 2; /* --model names its own file */
    snprintf(mlp, sizeof mlp, "%s/mlp_digits.tcw", dir);
    snprintf(cnn, sizeof cnn, "%s/cnn_digits.tcw", dir);
    snprintf(data, sizeof data, "%s/digits_test.tcd", dir);
    const char *models[2] = {model ? model : mlp, model ? NULL : cnn};
    printf("%-12s %-44s %7s  %s\n", "model", "device", "accuracy", "(correct/total)");
    int failed = 0;
    for (int k = 0; k < 2 && models[k]; k++) {
        eval_run ref = {0};
        if (evaluate(0, models[k], data, &ref)) { /* ref is what every device is compared with */
            failed = 1;
            continue;
        }
        for (int i = 0; i < a->ndevices; i++) {
            const int d = a->devices[i];
            eval_run r = {0};
            if (d == 0) {
                report(&ref, &ref, 0);
            } else if (evaluate(d, models[k], data, &r) == 0) {
                report(&r, &ref, d);
                run_free(&r);
            } else {
                failed = 1;
            }
        }
        run_free(&ref);
    }
    const char *why = tc_device_probe_message();
    if (why[0]) printf("note: %s\n", why);
    return failed;
}
