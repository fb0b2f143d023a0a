/* tinycl eval, transformer part: bits per byte of the fortunes model on the
 * held-out fortunes, per device, next to what the training script measured. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "tinycl/tinycl.h"

/* The script's figure for `windows` windows (0: all) from its bpb file; NAN if absent. */
static double script_bpb(const char *path, int64_t windows, int64_t *bytes)
{
    FILE *f = fopen(path, "r");
    char line[256], want[32];
    double v = NAN;
    if (windows)
        snprintf(want, sizeof want, "%lld", (long long)windows);
    else
        snprintf(want, sizeof want, "all");
    while (f && fgets(line, sizeof line, f)) {
        char w[32];
        long long b;
        double x;
        if (sscanf(line, "windows %31s bytes %lld bpb %lf", w, &b, &x) == 3 && strcmp(w, want) == 0) {
            v = x;
            *bytes = b;
        }
    }
    if (f) fclose(f);
    return v;
}

static uint8_t *slurp(const char *path, int64_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    if (f && fseek(f, 0, SEEK_END) == 0 && (*n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)*n)) && fread(b, 1, (size_t)*n, f) != (size_t)*n) {
        free(b);
        b = NULL;
    }
    if (f) fclose(f);
    return b;
}

int cli_eval_decoder(const cli_args *a, const char *dir)
{
    const int64_t windows = cli_int(a, "--windows", 16);
    char model[1100], text[1100], fig[1100];
    snprintf(model, sizeof model, "%s/fortunes_decoder.tcw", dir);
    snprintf(text, sizeof text, "%s/fortunes_heldout.txt", dir);
    snprintf(fig, sizeof fig, "%s/fortunes_decoder_bpb.txt", dir);
    int64_t n = 0, script_bytes = 0;
    uint8_t *bytes = slurp(text, &n);
    if (!bytes) {
        fprintf(stderr, "tinycl eval: cannot read %s\n", text);
        return 1;
    }
    const double want = script_bpb(fig, windows, &script_bytes);
    printf("\n%-17s %-44s %9s  %-9s %9s %8s\n", "model", "device", "bits/byte", "(bytes)", "script", "|diff|");
    int failed = 0;
    for (int i = 0; i < a->ndevices; i++) {
        const int d = a->devices[i];
        char spec[16];
        snprintf(spec, sizeof spec, "%d", d);
        tc_ctx *ctx = NULL;
        tc_decoder *dec = NULL;
        double bpb = 0.0;
        int64_t count = 0;
        tc_status s = tc_ctx_create(spec, 0, &ctx);
        if (s == TC_OK) s = tc_decoder_load(ctx, model, 1024, &dec);
        if (s == TC_OK) {
            const tc_decoder_info in = tc_decoder_info_of(dec);
            s = tc_decoder_bits_per_byte(dec, bytes, n, in.trained_context, windows, 16, &bpb, &count);
        }
        if (s != TC_OK) {
            fprintf(stderr, "tinycl eval: device %s: %s\n", spec, ctx ? tc_last_error(ctx) : tc_last_error(NULL));
            failed = 1;
        } else {
            char name[300] = "ref", diff[32] = "-", sc[32] = "-";
            if (d) snprintf(name, sizeof name, "cl:%d %s", d - 1, tc_ctx_device(ctx)->name);
            if (!isnan(want) && script_bytes == count) {
                snprintf(sc, sizeof sc, "%.7f", want);
                snprintf(diff, sizeof diff, "%.1e", fabs(bpb - want));
            }
            printf("%-17s %-44.44s %9.7f  (%lld) %9s %8s\n", "fortunes_decoder", name, bpb, (long long)count, sc, diff);
        }
        tc_decoder_free(dec);
        tc_ctx_free(ctx);
    }
    free(bytes);
    return failed;
}
