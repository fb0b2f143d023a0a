/* `tinycl generate`: continues a prompt with the byte-level transformer trained
 * on the fortunes (data/fortunes_decoder.tcw) and prints the text and the rate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "core/internal.h"

#define DEFAULT_PROMPT "The "
#define DEFAULT_TOKENS 200

int cli_decoder_path(const cli_args *a, char *buf, size_t n)
{
    if (cli_get(a, "--model")) return snprintf(buf, n, "%s", cli_get(a, "--model")) < (int)n ? 0 : 2;
    static const char *const files[] = {"fortunes_decoder.tcw"};
    char dir[4096];
    if (cli_find_data(a, files, 1, dir, sizeof dir)) return 2;
    return snprintf(buf, n, "%s/%s", dir, files[0]) < (int)n ? 0 : 2;
}

/* Bytes as text; bytes other than printable ASCII, newline and tab as \xNN. */
static void print_bytes(const int32_t *t, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if ((t[i] >= 0x20 && t[i] < 0x7f) || t[i] == '\n' || t[i] == '\t')
            putchar(t[i]);
        else
            printf("\\x%02x", (unsigned)t[i]);
    }
}

/* Loads the model on device spec (NULL: the default device) and generates. */
static int run(const char *spec, const char *path, const int32_t *ids, int64_t len, int64_t tokens,
               const tc_generate_params *p, int kv_int8)
{
    tc_ctx *ctx = NULL;
    tc_decoder *d = NULL;
    int32_t *out = malloc((size_t)tokens * sizeof *out);
    if (!out || tc_ctx_create(spec, 0, &ctx) != TC_OK) {
        fprintf(stderr, "tinycl generate: %s\n", out ? tc_last_error(NULL) : "out of memory");
        free(out);
        return 1;
    }
    const int32_t *prompts[1] = {ids};
    const double t0 = tc_now_ms();
    tc_status s = tc_decoder_load(ctx, path, len + tokens, &d);
    if (s == TC_OK && p->use_cache && kv_int8) s = tc_decoder_set_kv_dtype(d, TC_DTYPE_S8); /* calibrates */
    const double t1 = tc_now_ms();
    if (s == TC_OK) s = tc_decoder_generate(d, 1, prompts, &len, tokens, p, out);
    const double t2 = tc_now_ms();
    if (s == TC_OK) {
        print_bytes(ids, len);
        print_bytes(out, tokens);
        printf("\n-- %lld tokens in %.1f ms: %.1f tokens/s (%s, %s; model loaded%s in %.1f ms) on %s\n",
               (long long)tokens, t2 - t1, 1e3 * (double)tokens / (t2 - t1),
               !p->use_cache ? "no cache, recomputed every step" : kv_int8 ? "int8 KV cache" : "KV cache",
               p->sample == TC_SAMPLE_GREEDY ? "greedy" : "top-k sampling",
               kv_int8 ? " and its int8 cache calibrated" : "", t1 - t0, tc_ctx_device(ctx)->name);
    } else {
        fprintf(stderr, "tinycl generate: %s\n", tc_last_error(ctx));
    }
    tc_decoder_free(d);
    tc_ctx_free(ctx);
    free(out);
    return s == TC_OK ? 0 : 1;
}

int cli_generate(const cli_args *a)
{
    const char *prompt = cli_get(a, "--prompt") ? cli_get(a, "--prompt") : DEFAULT_PROMPT;
    const int64_t len = (int64_t)strlen(prompt), tokens = cli_int(a, "--tokens", DEFAULT_TOKENS);
    if (len < 1) return cli_misuse(a, "--prompt needs at least one byte");
    tc_generate_params p = tc_generate_defaults();
    p.use_cache = cli_get(a, "--no-cache") == NULL;
    const int kv_int8 = cli_get(a, "--kv-int8") != NULL;
    if (kv_int8 && !p.use_cache) return cli_misuse(a, "--kv-int8 is the cache's dtype; --no-cache has no cache");
    if (cli_get(a, "--top-k") || cli_get(a, "--temperature")) {
        p.sample = TC_SAMPLE_TOP_K;
        p.top_k = cli_int(a, "--top-k", 0);
        p.temperature = (float)cli_ms(a, "--temperature", 1.0);
        p.seed = cli_seed(a, "--seed", 20261122u);
    }
    char path[4200];
    if (cli_decoder_path(a, path, sizeof path)) return 2;
    int32_t *ids = malloc((size_t)len * sizeof *ids);
    if (!ids) return 1;
    for (int64_t i = 0; i < len; i++)
        ids[i] = (unsigned char)prompt[i];
    int rc = 0;
    if (!a->device_source) {
        rc = run(NULL, path, ids, len, tokens, &p, kv_int8);
    } else {
        for (int i = 0; i < a->ndevices; i++) {
            char spec[16];
            cli_device_spec(a->devices[i], spec, sizeof spec);
            rc |= run(spec, path, ids, len, tokens, &p, kv_int8);
        }
    }
    free(ids);
    return rc;
}
