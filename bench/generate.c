/* `tinycl generate`: continues a prompt with the byte-level transformer trained
 * on the fortunes (data/fortunes_decoder.tcw) and prints the text and the rate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "core/internal.h"

#define DEFAULT_PROMPT "The "
#define DEFAULT_TOKENS 200

/* The model file: --model, else $TINYCL_DATA_DIR or ./data. */
void cli_decoder_path(const char *model, char *buf, size_t n)
{
    const char *dir = getenv("TINYCL_DATA_DIR") ? getenv("TINYCL_DATA_DIR") : "data";
    if (model) snprintf(buf, n, "%s", model);
    else snprintf(buf, n, "%s/fortunes_decoder.tcw", dir);
}

/* Bytes as text; other bytes than printable ASCII, newline and tab as \xNN. */
static void print_bytes(const int32_t *t, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if ((t[i] >= 0x20 && t[i] < 0x7f) || t[i] == '\n' || t[i] == '\t') putchar(t[i]);
        else printf("\\x%02x", (unsigned)t[i]);
    }
}

int cli_generate(int argc, char **argv)
{
    static const char *const known[] = {"--prompt", "--tokens",      "--no-cache", "--device", "--model",
                                        "--top-k",  "--temperature", "--seed",     NULL};
    /* --no-cache takes no value: take it out before the --option VALUE check */
    int cache = 1, n = 0;
    char **args = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *args);
    if (!args) return 1;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--no-cache") == 0) cache = 0;
        else args[n++] = argv[i];
    }
    int rc = 2;
    const char *prompt = cli_opt(n, args, "--prompt") ? cli_opt(n, args, "--prompt") : DEFAULT_PROMPT;
    const char *tok_s = cli_opt(n, args, "--tokens"), *topk_s = cli_opt(n, args, "--top-k");
    const char *temp_s = cli_opt(n, args, "--temperature"), *seed_s = cli_opt(n, args, "--seed");
    const long long tokens = tok_s ? atoll(tok_s) : DEFAULT_TOKENS;
    tc_generate_params p = tc_generate_defaults();
    p.use_cache = cache;
    if (topk_s || temp_s) {
        p.sample = TC_SAMPLE_TOP_K;
        p.top_k = topk_s ? atoll(topk_s) : 0;
        p.temperature = temp_s ? (float)atof(temp_s) : 1.0f;
        p.seed = seed_s ? strtoull(seed_s, NULL, 10) : 20261122u;
    }
    tc_ctx *ctx = NULL;
    tc_decoder *d = NULL;
    int64_t len = (int64_t)strlen(prompt);
    int32_t *ids = malloc((size_t)(len > 0 ? len : 1) * sizeof *ids), *out = NULL;
    char path[1024];
    cli_decoder_path(cli_opt(n, args, "--model"), path, sizeof path);
    if (!cli_known(n, args, known) || !ids) goto done;
    if (tokens < 1 || tokens > 1 << 20) {
        fprintf(stderr, "tinycl generate: --tokens must be in 1..%d\n", 1 << 20);
        goto done;
    }
    for (int64_t i = 0; i < len; i++) ids[i] = (unsigned char)prompt[i];
    rc = 1;
    if (tc_ctx_create(cli_opt(n, args, "--device"), 0, &ctx) != TC_OK) {
        fprintf(stderr, "tinycl generate: %s\n", tc_last_error(NULL));
        goto done;
    }
    const int32_t *prompts[1] = {ids};
    const double t0 = tc_now_ms();
    tc_status s = tc_decoder_load(ctx, path, len + tokens, &d);
    out = malloc((size_t)tokens * sizeof *out);
    if (s == TC_OK && !out) s = TC_ERR_OUT_OF_MEMORY;
    const double t1 = tc_now_ms();
    if (s == TC_OK) s = tc_decoder_generate(d, 1, prompts, &len, tokens, &p, out);
    const double t2 = tc_now_ms();
    if (s != TC_OK) {
        fprintf(stderr, "tinycl generate: %s\n", tc_last_error(ctx));
        goto done;
    }
    print_bytes(ids, len);
    print_bytes(out, tokens);
    printf("\n-- %lld tokens in %.1f ms: %.1f tokens/s (%s, %s; model loaded in %.1f ms) on %s\n", tokens, t2 - t1,
           1e3 * (double)tokens / (t2 - t1), cache ? "KV cache" : "no cache, recomputed every step",
           p.sample == TC_SAMPLE_GREEDY ? "greedy" : "top-k sampling", t1 - t0, tc_ctx_device(ctx)->name);
    rc = 0;
done:
    tc_decoder_free(d);
    tc_ctx_free(ctx);
    free(ids);
    free(out);
    free(args);
    return rc;
}
