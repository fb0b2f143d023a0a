/* tinycl peak: the library's device peaks (include/tinycl/peak.h) for each device. */
#include <stdio.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/results.h"

static const int fma_widths[] = {1, 2, 4, 8, 16};

/* The metrics named by --metrics (all by default); 2 after a misuse message. */
static int selected(const cli_args *a, int *want)
{
    const char *list = cli_get(a, "--metrics");
    for (int m = 0; m < TC_PEAK_COUNT; m++) want[m] = !list;
    if (!list) return 0;
    char buf[256];
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf) return cli_misuse(a, "--metrics is too long");
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int m = 0;
        while (m < TC_PEAK_COUNT && strcmp(tok, tc_peak_metric_name((tc_peak_metric)m)) != 0) m++;
        if (m == TC_PEAK_COUNT) return cli_misuse(a, "unknown metric '%s'", tok);
        want[m] = 1;
    }
    return 0;
}

int cli_peak(const cli_args *a)
{
    int want[TC_PEAK_COUNT];
    if (selected(a, want)) return 2;
    const int reps = (int)cli_int(a, "--reps", 10), samples = cli_get(a, "--samples") != NULL;
    res_set rs = {.reps = reps};
    int failed = 0;
    for (int k = 0; k < a->ndevices; k++) {
        if (a->devices[k] == 0 || a->devices[k] == CLI_OPENBLAS) {
            fprintf(stderr, "tinycl peak: %s runs host code, not OpenCL kernels: skipped\n",
                    a->devices[k] ? "openblas" : "ref");
            continue;
        }
        char spec[16];
        snprintf(spec, sizeof spec, "%d", a->devices[k]);
        tc_ctx *ctx;
        if (tc_ctx_create(spec, 0, &ctx) != TC_OK) {
            fprintf(stderr, "tinycl peak: %s\n", tc_last_error(NULL));
            failed = 1;
            continue;
        }
        for (int m = 0; m < TC_PEAK_COUNT; m++) {
            if (!want[m]) continue;
            const int nw = m == TC_PEAK_F32_FMA ? (int)(sizeof fma_widths / sizeof fma_widths[0]) : 1;
            for (int w = 0; w < nw; w++) {
                static tc_peak_result p; /* large: samples of every run */
                const int width = m == TC_PEAK_F32_FMA ? fma_widths[w] : 0;
                if (tc_peak_measure(ctx, (tc_peak_metric)m, width, reps, &p) != TC_OK) {
                    fprintf(stderr, "tinycl peak: %s on %s: %s\n", tc_peak_metric_name((tc_peak_metric)m),
                            tc_ctx_device(ctx)->name, tc_last_error(ctx));
                    failed = 1;
                    continue;
                }
                fprintf(stderr, "  %s %s%s%.0d: %.2f %s\n", tc_ctx_device(ctx)->name, tc_peak_metric_name(p.metric),
                        width ? " width " : "", width, p.value, p.unit);
                res_record *r = res_add(&rs);
                if (!r) {
                    failed = 1;
                    break;
                }
                res_str(r, "op", NULL, "peak");
                res_str(r, "device", "device", tc_ctx_device(ctx)->name);
                res_str(r, "metric", "metric", tc_peak_metric_name(p.metric));
                if (width) res_num(r, "width", "width", "%d", width);
                res_num(r, "value", "value", "%.2f", p.value);
                res_str(r, "unit", "unit", p.unit);
                res_times(r, p.samples_ms, p.runs, samples);
            }
        }
        tc_ctx_free(ctx);
    }
    if (!rs.n && !failed) {
        const char *why = tc_device_probe_message();
        fprintf(stderr, "tinycl peak: no OpenCL device selected%s%s\n", why[0] ? ": " : "", why);
    }
    failed |= res_output(&rs, a);
    res_free(&rs);
    return failed;
}
