/* tinycl eval decoder: bits per byte of the fortunes transformer on the held-out
 * fortunes, per device, next to what the training script measured; with
 * --kv-int8 also through the int8 KV cache, byte by byte as generation runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/results.h"
#include "tinycl/tinycl.h"

/* The script's figure for `windows` windows (0: all) from its bpb file; NAN if absent. */
static double script_bpb(const char *path, int64_t windows, int64_t *bytes)
{
    FILE *f = fopen(path, "r");
    char line[256], want[32];
    double v = NAN;
    if (windows) snprintf(want, sizeof want, "%lld", (long long)windows);
    else snprintf(want, sizeof want, "all");
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

#define GEN_PROMPTS 16 /* --gen-tokens: the first 16 bytes of the first 16 held-out fortunes */
#define GEN_PLEN    16

typedef struct {
    int64_t tokens; /* 0: not asked for */
    double agree;   /* fraction of equal tokens */
    double first;   /* mean index of the first differing token (tokens where none differs) */
    int parted;     /* prompts whose continuations differ somewhere */
} gen_agreement;

/* Greedy continuations of the prompts by g->tokens bytes, one batch with the f32
 * cache and one with the int8 cache (the decoder's dtype is left S8). */
static tc_status gen_agree(tc_decoder *d, const uint8_t *text, int64_t n, gen_agreement *g)
{
    int32_t ids[GEN_PROMPTS][GEN_PLEN];
    const int32_t *prompts[GEN_PROMPTS];
    int64_t lens[GEN_PROMPTS], at = 0;
    int np = 0;
    while (np < GEN_PROMPTS && at + GEN_PLEN <= n) {
        for (int i = 0; i < GEN_PLEN; i++)
            ids[np][i] = text[at + i];
        prompts[np] = ids[np], lens[np] = GEN_PLEN;
        np++;
        const uint8_t *next = memmem(text + at, (size_t)(n - at), "\n%\n", 3); /* the next fortune */
        if (!next) break;
        at = next - text + 3;
    }
    const int64_t t = g->tokens;
    int32_t *out[2] = {malloc((size_t)(np * t + 1) * sizeof(int32_t)), malloc((size_t)(np * t + 1) * sizeof(int32_t))};
    tc_status s = out[0] && out[1] ? TC_OK : TC_ERR_OUT_OF_MEMORY; /* no prompt (a text under 16 bytes): generate says so */
    for (int c = 0; c < 2 && s == TC_OK; c++) {
        s = tc_decoder_set_kv_dtype(d, c ? TC_DTYPE_S8 : TC_DTYPE_F32);
        if (s == TC_OK) s = tc_decoder_generate(d, np, prompts, lens, t, NULL, out[c]);
    }
    int64_t same = 0;
    double first = 0.0;
    g->parted = 0;
    for (int b = 0; b < np && s == TC_OK; b++) {
        int64_t f = t;
        for (int64_t i = 0; i < t; i++) {
            const int eq = out[0][b * t + i] == out[1][b * t + i];
            same += eq;
            if (!eq && f == t) f = i;
        }
        first += (double)f / np;
        g->parted += f < t;
    }
    g->agree = np ? (double)same / (double)(np * t) : 0.0;
    g->first = first;
    free(out[0]), free(out[1]);
    return s;
}

/* One device's record; 1 on failure. */
static int evaluate(int dev, const char *model, const uint8_t *text, int64_t n, int64_t windows, int kv_int8,
                    gen_agreement gen, double want, int64_t want_bytes, res_set *rs)
{
    char spec[16];
    cli_device_spec(dev, spec, sizeof spec);
    tc_ctx *ctx = NULL;
    tc_decoder *d = NULL;
    double bpb = 0.0, bpb8 = 0.0;
    int64_t count = 0, count8 = 0;
    tc_status s = tc_ctx_create(spec, 0, &ctx);
    if (s == TC_OK) s = tc_decoder_load(ctx, model, gen.tokens + GEN_PLEN > 1024 ? gen.tokens + GEN_PLEN : 1024, &d);
    const tc_decoder_info in = tc_decoder_info_of(d);
    if (s == TC_OK) s = tc_decoder_bits_per_byte(d, text, n, in.trained_context, windows, 16, &bpb, &count);
    if (s == TC_OK && kv_int8) s = tc_decoder_set_kv_dtype(d, TC_DTYPE_S8);
    if (s == TC_OK && kv_int8)
        s = tc_decoder_bits_per_byte_cached(d, text, n, in.trained_context, windows, 16, 1, &bpb8, &count8);
    if (s == TC_OK && gen.tokens) s = gen_agree(d, text, n, &gen);
    res_record *r = s == TC_OK ? res_add(rs) : NULL;
    if (r) {
        res_str(r, "model", "model", tc_decoder_name(d));
        res_str(r, "device", "device", tc_ctx_device(ctx)->name);
        res_num(r, "windows", "windows", "%.0f", (double)((count + in.trained_context - 1) / in.trained_context));
        res_num(r, "bytes", "bytes", "%.0f", (double)count);
        res_num(r, "bits_per_byte", "bits/byte", "%.7f", bpb);
        if (!isnan(want) && want_bytes == count) {
            res_num(r, "script_bits_per_byte", "script bits/byte", "%.7f", want);
            res_num(r, "abs_diff", "|diff|", "%.1e", fabs(bpb - want));
        }
        if (kv_int8) {
            res_num(r, "kv_int8_bits_per_byte", "int8 cache bits/byte", "%.7f", bpb8);
            res_num(r, "kv_int8_diff", "int8 - f32", "%+.2e", bpb8 - bpb);
        }
        if (gen.tokens) {
            res_num(r, "gen_tokens", "gen tokens", "%.0f", (double)gen.tokens);
            res_num(r, "gen_agree", "gen agree", "%.3f", gen.agree);
            res_num(r, "gen_first_differing", "mean 1st differing", "%.1f", gen.first);
            res_num(r, "gen_parted", "parted", "%.0f", (double)gen.parted);
        }
    } else if (s != TC_OK) {
        fprintf(stderr, "tinycl eval decoder: device %s: %s\n", spec, ctx ? tc_last_error(ctx) : tc_last_error(NULL));
    }
    tc_decoder_free(d);
    tc_ctx_free(ctx);
    return r == NULL;
}

int cli_eval_decoder(const cli_args *a)
{
    static const char *const files[] = {"fortunes_heldout.txt", "fortunes_decoder_bpb.txt"};
    char dir[4096], model[4200], text[4200], fig[4200];
    if (cli_find_data(a, files, 2, dir, sizeof dir) || cli_decoder_path(a, model, sizeof model)) return 2;
    snprintf(text, sizeof text, "%s/%s", dir, files[0]);
    snprintf(fig, sizeof fig, "%s/%s", dir, files[1]);
    const int64_t windows = cli_int(a, "--windows", 16);
    const gen_agreement gen = {.tokens = cli_int(a, "--gen-tokens", 0)};
    if (gen.tokens && !cli_get(a, "--kv-int8")) return cli_misuse(a, "--gen-tokens compares the caches: add --kv-int8");
    int64_t n = 0, script_bytes = 0;
    uint8_t *bytes = slurp(text, &n);
    if (!bytes) {
        fprintf(stderr, "tinycl eval decoder: cannot read %s\n", text);
        return 1;
    }
    const double want = script_bpb(fig, windows, &script_bytes);
    res_set rs = {0};
    int failed = 0;
    for (int i = 0; i < a->ndevices; i++)
        failed |= evaluate(a->devices[i], model, bytes, n, windows, cli_get(a, "--kv-int8") != NULL, gen, want,
                           script_bytes, &rs);
    failed |= res_output(&rs, a);
    res_free(&rs);
    free(bytes);
    return failed;
}
