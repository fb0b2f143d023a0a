/* What a decoder computes for its callers: logits of whole sequences, generation
 * with or without the KV cache (the same steps, the same sampling), and bits per
 * byte of a text. Every argument is checked before a run is allocated. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/decoder.h"

tc_generate_params tc_generate_defaults(void)
{
    tc_generate_params p;
    memset(&p, 0, sizeof p);
    p.use_cache = 1;
    p.temperature = 1.0f;
    return p;
}

static tc_status check_ids(tc_ctx *ctx, const char *fn, const char *what, int64_t b, const int32_t *ids, int64_t n,
                           int64_t vocab)
{
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= vocab)
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: %s %lld: id %d at position %lld is outside [0, %lld)", fn,
                           what, (long long)b, (int)ids[i], (long long)i, (long long)vocab);
    return TC_OK;
}

/* batch x t rows and the cache's positions fit the decoder's limits. */
static tc_status check_rows(tc_ctx *ctx, const char *fn, int64_t batch, int64_t t, int64_t *rows)
{
    if (batch < 1 || t < 1)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: batch %lld and tokens %lld must be >= 1", fn, (long long)batch,
                       (long long)t);
    if (__builtin_mul_overflow(batch, t, rows) || *rows > INT_MAX)
        return tc_fail(ctx, TC_ERR_OVERFLOW, "%s: batch %lld x %lld tokens is over 2^31-1 rows", fn, (long long)batch,
                       (long long)t);
    return TC_OK;
}

tc_status tc_decoder_forward(tc_decoder *d, int64_t batch, int64_t tokens, const int32_t *ids, float *logits)
{
    static const char fn[] = "tc_decoder_forward";
    if (!d) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: decoder is NULL", fn);
    const tc_decoder_info in = tc_decoder_info_of(d);
    tc_ctx *ctx = d->ctx;
    int64_t rows = 0;
    if (!ids || !logits) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: ids or logits is NULL", fn);
    tc_status s = check_rows(ctx, fn, batch, tokens, &rows);
    if (s != TC_OK) return s;
    if (tokens > in.capacity)
        return tc_fail(ctx, TC_ERR_FULL, "%s: %lld tokens; the decoder holds %lld (its capacity)", fn,
                       (long long)tokens, (long long)in.capacity);
    for (int64_t b = 0; b < batch && s == TC_OK; b++)
        s = check_ids(ctx, fn, "sequence", b, ids + b * tokens, tokens, in.vocab);
    if (s != TC_OK) return s;
    tc_decoder_run r;
    if ((s = tc_decoder_run_init(d, batch, rows, tokens, TC_DTYPE_F32, &r)) != TC_OK) return s;
    memcpy(r.hids, ids, (size_t)rows * sizeof *ids);
    for (int64_t i = 0; i < rows; i++)
        r.hpos[i] = (int32_t)(i % tokens);
    for (int64_t b = 0; b < batch; b++)
        r.counts[b] = (int32_t)tokens;
    s = tc_decoder_step(&r, tokens);
    if (s == TC_OK) s = tc_decoder_read_rows(&r, 0, rows, logits);
    tc_decoder_run_free(&r);
    return s;
}

/* ------------------------------------------------------------ sampling */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* NaN sorts below everything */
static int above(float a, float b)
{
    return a > b || (!isnan(a) && isnan(b));
}

static int32_t greedy(const float *l, int64_t v)
{
    int64_t best = 0;
    for (int64_t i = 1; i < v; i++)
        if (above(l[i], l[best])) best = i;
    return (int32_t)best;
}

/* top[0..k) = the k largest logits' ids, largest first (lower id first on ties). */
static void top_ids(const float *l, int64_t v, int64_t k, int32_t *top)
{
    int64_t n = 0;
    for (int64_t i = 0; i < v; i++) {
        if (n == k && !above(l[i], l[top[k - 1]])) continue;
        int64_t j = n < k ? n++ : k - 1;
        for (; j > 0 && above(l[i], l[top[j - 1]]); j--)
            top[j] = top[j - 1];
        top[j] = (int32_t)i;
    }
}

static int32_t draw(const float *l, int64_t v, const tc_generate_params *p, uint64_t *rng, int32_t *top)
{
    const int64_t k = p->top_k ? p->top_k : v;
    top_ids(l, v, k, top);
    const double m = l[top[0]], t = p->temperature;
    double sum = 0.0;
    for (int64_t i = 0; i < k; i++)
        sum += isnan(l[top[i]]) ? 0.0 : exp(((double)l[top[i]] - m) / t);
    double u = (double)(splitmix64(rng) >> 11) * 0x1.0p-53 * sum;
    for (int64_t i = 0; i < k; i++) {
        u -= isnan(l[top[i]]) ? 0.0 : exp(((double)l[top[i]] - m) / t);
        if (u < 0.0) return top[i];
    }
    return top[0]; /* rounding left u at or above the sum */
}

/* ------------------------------------------------------------ generation */

static tc_status check_generate(tc_decoder *d, int64_t batch, const int32_t *const *prompts, const int64_t *lens,
                                int64_t n_new, const tc_generate_params *p, const int32_t *out, int64_t *longest)
{
    static const char fn[] = "tc_decoder_generate";
    tc_ctx *ctx = d->ctx;
    const tc_decoder_info in = tc_decoder_info_of(d);
    if (!prompts || !lens || !out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: prompts, lens or out is NULL", fn);
    if (batch < 1 || batch > INT_MAX)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: batch %lld is outside [1, 2^31-1]", fn, (long long)batch);
    if (n_new < 1 || n_new > in.capacity)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: n_new %lld is outside [1, %lld] (the capacity)", fn,
                       (long long)n_new, (long long)in.capacity);
    if (p->use_cache != 0 && p->use_cache != 1)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: use_cache is %d, not 0 or 1", fn, p->use_cache);
    if (p->sample != TC_SAMPLE_GREEDY && p->sample != TC_SAMPLE_TOP_K)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: sampling mode %d is neither GREEDY nor TOP_K", fn, (int)p->sample);
    if (p->sample == TC_SAMPLE_TOP_K && !(isfinite(p->temperature) && p->temperature > 0.0f))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: temperature %g is not finite and > 0", fn, (double)p->temperature);
    if (p->sample == TC_SAMPLE_TOP_K && (p->top_k < 0 || p->top_k > in.vocab))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: top_k %lld is outside [0, %lld] (0: every token)", fn,
                       (long long)p->top_k, (long long)in.vocab);
    *longest = 0;
    for (int64_t b = 0; b < batch; b++) {
        if (!prompts[b] || lens[b] < 1)
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: prompt %lld is empty%s (a prompt needs at least one token)",
                           fn, (long long)b, prompts[b] ? "" : " (NULL)");
        if (lens[b] > in.capacity - n_new)
            return tc_fail(ctx, TC_ERR_FULL,
                           "%s: prompt %lld has %lld tokens; with %lld new ones that is over the decoder's capacity "
                           "of %lld",
                           fn, (long long)b, (long long)lens[b], (long long)n_new, (long long)in.capacity);
        tc_status s = check_ids(ctx, fn, "prompt", b, prompts[b], lens[b], in.vocab);
        if (s != TC_OK) return s;
        if (lens[b] > *longest) *longest = lens[b];
    }
    int64_t rows = 0, nt = 0, nl = 0;
    if (__builtin_mul_overflow(batch, n_new, &nt) || (p->logits && __builtin_mul_overflow(nt, in.vocab, &nl)) ||
        nl > INT64_MAX / 4)
        return tc_fail(ctx, TC_ERR_OVERFLOW, "%s: %lld sequences x %lld new tokens overflow the outputs", fn,
                       (long long)batch, (long long)n_new);
    return check_rows(ctx, fn, batch, p->use_cache ? *longest : *longest + n_new - 1, &rows);
}

/* Stages step s: the rows of every sequence's whole text (seq[b][0..len[b])), or,
 * with the cache after the first step, each sequence's last token; *t positions
 * per sequence. */
static void stage(tc_decoder_run *r, int cached, int64_t s, int32_t *const *seq, const int64_t *len, int64_t *t)
{
    const int64_t batch = r->batch;
    if (cached && s > 0) {
        *t = 1;
        for (int64_t b = 0; b < batch; b++) {
            r->hids[b] = seq[b][len[b] - 1];
            r->hpos[b] = (int32_t)(len[b] - 1);
            r->counts[b] = 1;
        }
        return;
    }
    *t = 0;
    for (int64_t b = 0; b < batch; b++)
        if (len[b] > *t) *t = len[b];
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t i = 0; i < *t; i++) {
            r->hids[b * *t + i] = i < len[b] ? seq[b][i] : 0; /* padding: after the sequence, never attended */
            r->hpos[b * *t + i] = (int32_t)i;
        }
        r->counts[b] = (int32_t)len[b];
    }
    tc_kv_cache_reset(r->kv);
}

tc_status tc_decoder_generate(tc_decoder *d, int64_t batch, const int32_t *const *prompts, const int64_t *lens,
                              int64_t n_new, const tc_generate_params *p, int32_t *out)
{
    if (!d) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_decoder_generate: decoder is NULL");
    const tc_generate_params dflt = tc_generate_defaults();
    if (!p) p = &dflt;
    int64_t longest = 0;
    tc_status s = check_generate(d, batch, prompts, lens, n_new, p, out, &longest);
    if (s != TC_OK) return s;
    const int64_t v = d->info.vocab, total = longest + n_new, positions = total - 1;
    const int cached = p->use_cache;
    tc_decoder_run r;
    s = tc_decoder_run_init(d, batch, batch * (cached ? longest : positions), positions,
                            cached ? d->kv_dtype : TC_DTYPE_F32, &r);
    if (s != TC_OK) return s;
    int32_t **seq = calloc((size_t)batch, sizeof *seq), *tokens = malloc((size_t)(batch * n_new) * sizeof *tokens),
            *top = malloc((size_t)v * sizeof *top);
    int64_t *len = malloc((size_t)batch * sizeof *len);
    float *lrow = malloc((size_t)v * sizeof *lrow), *lall = NULL;
    double *ms = malloc((size_t)n_new * sizeof *ms);
    if (p->logits) lall = malloc((size_t)(batch * n_new * v) * sizeof *lall);
    int ok = seq && tokens && top && len && lrow && ms && (!p->logits || lall);
    for (int64_t b = 0; ok && b < batch; b++) {
        ok = (seq[b] = malloc((size_t)total * sizeof **seq)) != NULL;
        if (ok) memcpy(seq[b], prompts[b], (size_t)lens[b] * sizeof **seq);
        len[b] = lens[b];
    }
    if (!ok) s = tc_fail(d->ctx, TC_ERR_OUT_OF_MEMORY, "tc_decoder_generate: out of host memory");
    uint64_t rng = p->seed;
    for (int64_t i = 0; i < n_new && s == TC_OK; i++) {
        const double t0 = tc_now_ms();
        int64_t t;
        stage(&r, cached, i, seq, len, &t);
        s = tc_decoder_step(&r, t);
        for (int64_t b = 0; b < batch && s == TC_OK; b++) {
            s = tc_decoder_read_rows(&r, b * t + (t == 1 ? 0 : len[b] - 1), 1, lrow);
            if (s != TC_OK) break;
            const int32_t tok = p->sample == TC_SAMPLE_GREEDY ? greedy(lrow, v) : draw(lrow, v, p, &rng, top);
            seq[b][len[b]++] = tok;
            tokens[b * n_new + i] = tok;
            if (lall) memcpy(lall + (b * n_new + i) * v, lrow, (size_t)v * sizeof *lrow);
        }
        ms[i] = tc_now_ms() - t0;
    }
    if (s == TC_OK) {
        memcpy(out, tokens, (size_t)(batch * n_new) * sizeof *out);
        if (p->logits) memcpy(p->logits, lall, (size_t)(batch * n_new * v) * sizeof *lall);
        if (p->step_ms) memcpy(p->step_ms, ms, (size_t)n_new * sizeof *ms);
    }
    for (int64_t b = 0; seq && b < batch; b++)
        free(seq[b]);
    free(seq), free(tokens), free(top), free(len), free(lrow), free(lall), free(ms);
    tc_decoder_run_free(&r);
    return s;
}

size_t tc_decoder_cache_bytes(const tc_decoder *d, int64_t batch, int64_t positions)
{
    if (!d || batch < 1 || positions < 1) return 0;
    const tc_decoder_info in = d->info;
    const uint64_t f[5] = {(uint64_t)batch, (uint64_t)positions, (uint64_t)in.layers,
                           (uint64_t)(in.heads * in.head_dim), 2 * (uint64_t)tc_dtype_size(d->kv_dtype)};
    uint64_t n = 1;
    for (int i = 0; i < 5; i++)
        if (__builtin_mul_overflow(n, f[i], &n) || n > SIZE_MAX) return SIZE_MAX;
    return (size_t)n;
}

/* ------------------------------------------------------------ bits per byte */

/* -log2 p(target) summed over n rows of logits */
static double bits(const float *logits, const uint8_t *target, int64_t n, int64_t v)
{
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *l = logits + i * v;
        double m = l[0], z = 0.0;
        for (int64_t j = 1; j < v; j++)
            m = l[j] > m ? l[j] : m;
        for (int64_t j = 0; j < v; j++)
            z += exp((double)l[j] - m);
        sum += (m + log(z) - (double)l[target[i]]) / log(2.0);
    }
    return sum;
}

/* Logits [g, t, vocab] of g windows of t ids: one forward pass (chunk 0), or
 * through a cache of the decoder's dtype in steps of chunk positions. */
static tc_status window_logits(tc_decoder *d, int64_t g, int64_t t, int64_t chunk, const int32_t *ids, float *logits,
                               float *rows_out)
{
    if (!chunk) return tc_decoder_forward(d, g, t, ids, logits);
    const int64_t v = d->info.vocab, c0 = chunk < t ? chunk : t;
    tc_decoder_run r;
    tc_status s = tc_decoder_run_init(d, g, g * c0, t, d->kv_dtype, &r);
    for (int64_t p0 = 0; p0 < t && s == TC_OK; p0 += c0) {
        const int64_t c = t - p0 < c0 ? t - p0 : c0;
        for (int64_t b = 0; b < g; b++) {
            for (int64_t i = 0; i < c; i++) {
                r.hids[b * c + i] = ids[b * t + p0 + i];
                r.hpos[b * c + i] = (int32_t)(p0 + i);
            }
            r.counts[b] = (int32_t)c;
        }
        s = tc_decoder_step(&r, c);
        if (s == TC_OK) s = tc_decoder_read_rows(&r, 0, g * c, rows_out);
        for (int64_t b = 0; b < g && s == TC_OK; b++)
            memcpy(logits + (b * t + p0) * v, rows_out + b * c * v, (size_t)(c * v) * sizeof *logits);
    }
    tc_decoder_run_free(&r); /* safe after a failed init, which leaves it zeroed */
    return s;
}

/* Bits per byte with every window's logits from window_logits (chunk 0: forward). */
static tc_status bits_per_byte(tc_decoder *d, const char *fn, const uint8_t *text, int64_t n, int64_t window,
                               int64_t max_windows, int64_t batch, int64_t chunk, double *bpb, int64_t *predicted)
{
    if (!d) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: decoder is NULL", fn);
    tc_ctx *ctx = d->ctx;
    const int64_t v = d->info.vocab;
    if (!text || !bpb || !predicted) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: text, bpb or predicted is NULL", fn);
    if (n < 2) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: %lld bytes; at least 2 are needed", fn, (long long)n);
    if (v < 256)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: the vocabulary has %lld ids, not every byte", fn, (long long)v);
    if (max_windows < 0)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: max_windows %lld < 0", fn, (long long)max_windows);
    int64_t rows = 0;
    tc_status s = check_rows(ctx, fn, batch, window, &rows);
    if (s != TC_OK) return s;
    if (window > d->info.capacity)
        return tc_fail(ctx, TC_ERR_FULL, "%s: window %lld is over the decoder's capacity %lld", fn, (long long)window,
                       (long long)d->info.capacity);
    int64_t windows = (n - 1 + window - 1) / window;
    if (max_windows && max_windows < windows) windows = max_windows;
    if (batch > windows) batch = windows;
    const int64_t c0 = chunk && chunk < window ? chunk : window;
    float *logits = malloc((size_t)(batch * window * v) * sizeof *logits),
          *step_rows = chunk ? malloc((size_t)(batch * c0 * v) * sizeof *step_rows) : NULL;
    int32_t *ids = malloc((size_t)(batch * window) * sizeof *ids);
    if (!logits || !ids || (chunk && !step_rows)) s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "%s: out of host memory", fn);
    double sum = 0.0;
    int64_t count = 0;
    for (int64_t w = 0; w < windows && s == TC_OK;) {
        const int64_t start = w * window, t = n - 1 - start < window ? n - 1 - start : window;
        int64_t g = 1; /* windows of length t in this group: a short last window runs alone */
        while (t == window && g < batch && w + g < windows && n - 1 - (start + g * window) >= window)
            g++;
        for (int64_t i = 0; i < g * t; i++)
            ids[i] = text[start + (i / t) * window + i % t];
        s = window_logits(d, g, t, chunk, ids, logits, step_rows);
        for (int64_t j = 0; j < g && s == TC_OK; j++)
            sum += bits(logits + j * t * v, text + start + j * window + 1, t, v);
        count += g * t;
        w += g;
    }
    free(logits), free(step_rows), free(ids);
    if (s == TC_OK) {
        *bpb = sum / (double)count;
        *predicted = count;
    }
    return s;
}

tc_status tc_decoder_bits_per_byte(tc_decoder *d, const uint8_t *text, int64_t n, int64_t window, int64_t max_windows,
                                   int64_t batch, double *bpb, int64_t *predicted)
{
    return bits_per_byte(d, "tc_decoder_bits_per_byte", text, n, window, max_windows, batch, 0, bpb, predicted);
}

tc_status tc_decoder_bits_per_byte_cached(tc_decoder *d, const uint8_t *text, int64_t n, int64_t window,
                                          int64_t max_windows, int64_t batch, int64_t chunk, double *bpb,
                                          int64_t *predicted)
{
    static const char fn[] = "tc_decoder_bits_per_byte_cached";
    if (d && chunk < 1) return tc_fail(d->ctx, TC_ERR_INVALID_ARG, "%s: chunk %lld < 1", fn, (long long)chunk);
    return bits_per_byte(d, fn, text, n, window, max_windows, batch, chunk, bpb, predicted);
}
