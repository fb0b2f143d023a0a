/* Magnitude pruning on host copies of the weights, written back once every
 * check has passed. Units (elements, blocks or channels) are ranked by a
 * non-negative float score; the k lowest by (score, index) are pruned. The k-th
 * score is found by a two-pass radix select on the scores' bits (non-negative
 * floats order like their bit patterns), so pruning is O(units) and exact. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/host.h"
#include "ops/sparse.h"

static const int block_shape[TC_PRUNE_PATTERN_COUNT][2] = {[TC_PRUNE_ELEMENT] = {1, 1},
                                                           [TC_PRUNE_BLOCK_1X4] = {1, 4},
                                                           [TC_PRUNE_BLOCK_1X8] = {1, 8},
                                                           [TC_PRUNE_BLOCK_4X4] = {4, 4}};

static uint32_t key_of(float score)
{
    uint32_t k;
    memcpy(&k, &score, sizeof k);
    return k;
}

/* Marks in cut[] the k units of smallest (key, index). */
static tc_status select_lowest(tc_ctx *ctx, const uint32_t *key, int64_t n, int64_t k, unsigned char *cut)
{
    memset(cut, 0, (size_t)n);
    if (k <= 0) return TC_OK;
    int64_t *hist = calloc(65536, sizeof *hist);
    if (!hist) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "prune: out of host memory");
    uint32_t t = 0; /* the k-th smallest key, found 16 bits at a time */
    int64_t below = 0; /* units with a key below t's bits found so far */
    for (int pass = 0; pass < 2; pass++) {
        const int shift = pass ? 0 : 16;
        memset(hist, 0, 65536 * sizeof *hist);
        for (int64_t i = 0; i < n; i++)
            if (!pass || key[i] >> 16 == t >> 16) hist[(key[i] >> shift) & 0xffff]++;
        uint32_t b = 0;
        while (below + hist[b] < k) below += hist[b++];
        t |= b << shift;
    }
    free(hist);
    int64_t ties = k - below; /* units with key t to cut, lowest index first */
    for (int64_t i = 0; i < n; i++)
        if (key[i] < t || (key[i] == t && ties-- > 0)) cut[i] = 1;
    return TC_OK;
}

static tc_status check_sparsity(tc_ctx *ctx, const char *op, double s)
{
    if (!(s >= 0.0 && s < 1.0)) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: sparsity %g is outside [0, 1)", op, s);
    return TC_OK;
}

/* w read as rows x cols (rows = dims[0]; 1 for a 1-D w) */
static void rows_cols(const tc_tensor *w, int64_t *rows, int64_t *cols)
{
    *rows = w->ndim > 1 ? w->dims[0] : 1;
    *cols = w->numel / *rows;
}

static int64_t units_of(const tc_tensor *w, int bh, int bw)
{
    int64_t rows, cols;
    rows_cols(w, &rows, &cols);
    return ((rows + bh - 1) / bh) * ((cols + bw - 1) / bw);
}

/* Unit scores of one tensor into key[]: |w| for elements, the squared L2 norm of blocks. */
static void score_blocks(const float *w, int64_t rows, int64_t cols, int bh, int bw, uint32_t *key)
{
    if (bh * bw == 1) {
        for (int64_t i = 0; i < rows * cols; i++) key[i] = key_of(fabsf(w[i]));
        return;
    }
    const int64_t nbc = (cols + bw - 1) / bw;
    for (int64_t I = 0; I < (rows + bh - 1) / bh; I++)
        for (int64_t J = 0; J < nbc; J++) {
            double s = 0;
            for (int64_t r = I * bh; r < I * bh + bh && r < rows; r++)
                for (int64_t c = J * bw; c < J * bw + bw && c < cols; c++)
                    s += (double)w[r * cols + c] * w[r * cols + c];
            key[I * nbc + J] = key_of((float)s);
        }
}

static void zero_blocks(float *w, int64_t rows, int64_t cols, int bh, int bw, const unsigned char *cut)
{
    const int64_t nbc = (cols + bw - 1) / bw;
    for (int64_t I = 0; I < (rows + bh - 1) / bh; I++)
        for (int64_t J = 0; J < nbc; J++)
            if (cut[I * nbc + J])
                for (int64_t r = I * bh; r < I * bh + bh && r < rows; r++)
                    for (int64_t c = J * bw; c < J * bw + bw && c < cols; c++) w[r * cols + c] = 0.0f;
}

/* NaN has no magnitude order: refuse it. */
static tc_status check_finite_order(tc_ctx *ctx, const char *op, const float *w, int64_t n)
{
    for (int64_t e = 0; e < n; e++)
        if (isnan(w[e])) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: w has a NaN at element %lld", op, (long long)e);
    return TC_OK;
}

static tc_status check_weights(tc_ctx *ctx, tc_tensor *const *ws, int n, tc_prune_pattern pattern)
{
    char name[32];
    for (int i = 0; i < n; i++) {
        if (n == 1)
            snprintf(name, sizeof name, "w");
        else
            snprintf(name, sizeof name, "w[%d]", i);
        char what[48];
        snprintf(what, sizeof what, "prune: %s", name);
        tc_status st = tc_check_tensor(ctx, ws[i], what, TC_DTYPE_F32, 0);
        if (st != TC_OK) return st;
        if (pattern != TC_PRUNE_ELEMENT && ws[i]->ndim < 2)
            return tc_fail(ctx, TC_ERR_SHAPE, "prune: block patterns need weights of 2 or more dimensions (%s has 1)",
                           name);
        for (int j = 0; j < i; j++)
            if (tc_tensors_overlap(ws[i], ws[j]))
                return tc_fail(ctx, TC_ERR_INVALID_ARG, "prune: w[%d] and w[%d] share elements", j, i);
    }
    return TC_OK;
}

static tc_status prune_set(tc_ctx *ctx, tc_tensor *const *ws, int n, double sparsity, tc_prune_pattern pattern)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "prune: ctx is NULL");
    if (!ws || n < 1) return tc_fail(ctx, TC_ERR_INVALID_ARG, "prune: no weights given");
    if (pattern < 0 || pattern >= TC_PRUNE_PATTERN_COUNT)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "prune: invalid pattern %d", (int)pattern);
    tc_status st = check_sparsity(ctx, "prune", sparsity);
    if (st == TC_OK) st = check_weights(ctx, ws, n, pattern);
    if (st != TC_OK) return st;
    const int bh = block_shape[pattern][0], bw = block_shape[pattern][1];
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += units_of(ws[i], bh, bw);
    float **h = calloc((size_t)n, sizeof *h);
    uint32_t *key = calloc((size_t)total, sizeof *key);
    unsigned char *cut = malloc((size_t)total);
    if (!h || !key || !cut) st = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "prune: out of host memory");
    for (int i = 0; st == TC_OK && i < n; i++) {
        st = tc_host_get(ws[i], (void **)&h[i]);
        if (st == TC_OK) st = check_finite_order(ctx, "prune", h[i], ws[i]->numel);
    }
    int64_t rows, cols, at = 0;
    for (int i = 0; st == TC_OK && i < n; i++) {
        rows_cols(ws[i], &rows, &cols);
        score_blocks(h[i], rows, cols, bh, bw, key + at);
        at += units_of(ws[i], bh, bw);
    }
    if (st == TC_OK) st = select_lowest(ctx, key, total, llround(sparsity * (double)total), cut);
    at = 0;
    for (int i = 0; st == TC_OK && i < n; i++) {
        rows_cols(ws[i], &rows, &cols);
        zero_blocks(h[i], rows, cols, bh, bw, cut + at);
        at += units_of(ws[i], bh, bw);
        if (!ctx->is_ref) st = tc_tensor_write(ws[i], h[i], ws[i]->bytes);
    }
    for (int i = 0; h && i < n; i++) tc_host_put(ws[i], h[i]);
    free(h), free(key), free(cut);
    return st;
}

tc_status tc_prune_magnitude(tc_ctx *ctx, tc_tensor *w, double sparsity, tc_prune_pattern pattern)
{
    return prune_set(ctx, &w, 1, sparsity, pattern);
}

tc_status tc_prune_global(tc_ctx *ctx, tc_tensor *const *ws, int n, double sparsity, tc_prune_pattern pattern)
{
    return prune_set(ctx, ws, n, sparsity, pattern);
}

tc_status tc_sparsity(const tc_tensor *w, double *out)
{
    if (!w || !out) return tc_fail(w ? w->ctx : NULL, TC_ERR_INVALID_ARG, "sparsity: NULL argument");
    tc_status st = tc_check_tensor(w->ctx, w, "sparsity: w", TC_DTYPE_F32, 0);
    float *h = NULL;
    if (st == TC_OK) st = tc_host_get(w, (void **)&h);
    if (st != TC_OK) return st;
    int64_t z = 0;
    for (int64_t i = 0; i < w->numel; i++) z += h[i] == 0.0f;
    tc_host_put(w, h);
    *out = (double)z / (double)w->numel;
    return TC_OK;
}

/* ---- structured: whole output channels ------------------------------------------ */

/* A new f32 tensor like t with dimension `dim` set to n, holding host data. */
static tc_status make_like(tc_ctx *ctx, const tc_tensor *t, int dim, int64_t n, const void *host, tc_tensor **out)
{
    int64_t dims[TC_MAX_DIMS];
    memcpy(dims, t->dims, sizeof dims);
    dims[dim] = n;
    return tc_tensor_from_host(ctx, t->dtype, t->ndim, dims, host, out);
}

tc_status tc_prune_channels(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias, double sparsity,
                            tc_tensor **w_out, tc_tensor **bias_out, tc_tensor **kept)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "prune channels: ctx is NULL");
    if (!w_out || !kept || (bias && !bias_out))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "prune channels: an output pointer is NULL");
    *w_out = *kept = NULL;
    if (bias_out) *bias_out = NULL;
    tc_status st = check_sparsity(ctx, "prune channels", sparsity);
    if (st == TC_OK) st = tc_check_tensor(ctx, w, "prune channels: w", TC_DTYPE_F32, 0);
    if (st == TC_OK && w->ndim < 2)
        st = tc_fail(ctx, TC_ERR_SHAPE, "prune channels: w has 1 dimension, expected 2 or more");
    if (st == TC_OK && bias) st = tc_check_tensor(ctx, bias, "prune channels: bias", TC_DTYPE_F32, 0);
    if (st == TC_OK && bias && bias->numel != w->dims[0])
        st = tc_fail(ctx, TC_ERR_SHAPE, "prune channels: bias has %lld elements, expected %lld",
                     (long long)bias->numel, (long long)w->dims[0]);
    if (st != TC_OK) return st;
    const int64_t out = w->dims[0], inner = w->numel / out;
    const int64_t keep = out - (llround(sparsity * (double)out) < out ? llround(sparsity * (double)out) : out - 1);
    float *hw = NULL, *hb = NULL, *nw = malloc((size_t)(keep * inner) * sizeof *nw);
    float *nb = malloc((size_t)keep * sizeof *nb);
    int32_t *idx = malloc((size_t)keep * sizeof *idx);
    uint32_t *key = calloc((size_t)out, sizeof *key);
    unsigned char *cut = malloc((size_t)out);
    if (!nw || !nb || !idx || !key || !cut)
        st = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "prune channels: out of host memory");
    if (st == TC_OK) st = tc_host_get(w, (void **)&hw);
    if (st == TC_OK) st = tc_host_get(bias, (void **)&hb);
    if (st == TC_OK) st = check_finite_order(ctx, "prune channels", hw, w->numel);
    for (int64_t r = 0; st == TC_OK && r < out; r++) {
        double ss = 0;
        for (int64_t i = 0; i < inner; i++) ss += (double)hw[r * inner + i] * hw[r * inner + i];
        key[r] = key_of((float)ss);
    }
    if (st == TC_OK) st = select_lowest(ctx, key, out, out - keep, cut);
    for (int64_t r = 0, j = 0; st == TC_OK && r < out; r++) {
        if (cut[r]) continue;
        memcpy(nw + j * inner, hw + r * inner, (size_t)inner * sizeof *nw);
        if (hb) nb[j] = hb[r];
        idx[j++] = (int32_t)r;
    }
    if (st == TC_OK) st = make_like(ctx, w, 0, keep, nw, w_out);
    if (st == TC_OK && bias) st = tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, (const int64_t[]){keep}, nb, bias_out);
    if (st == TC_OK) st = tc_tensor_from_host(ctx, TC_DTYPE_S32, 1, (const int64_t[]){keep}, idx, kept);
    tc_host_put(bias, hb);
    tc_host_put(w, hw);
    free(nw), free(nb), free(idx), free(key), free(cut);
    if (st != TC_OK) {
        tc_tensor_free(*w_out), tc_tensor_free(*kept);
        *w_out = *kept = NULL;
        if (bias_out) {
            tc_tensor_free(*bias_out);
            *bias_out = NULL;
        }
    }
    return st;
}

tc_status tc_prune_inputs(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *kept, int64_t group, tc_tensor **w_out)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "prune inputs: ctx is NULL");
    if (!w_out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "prune inputs: w_out is NULL");
    *w_out = NULL;
    tc_status st = tc_check_tensor(ctx, w, "prune inputs: w", TC_DTYPE_F32, 0);
    if (st == TC_OK) st = tc_check_tensor(ctx, kept, "prune inputs: kept", TC_DTYPE_S32, 1);
    if (st != TC_OK) return st;
    if (w->ndim < 2) return tc_fail(ctx, TC_ERR_SHAPE, "prune inputs: w has 1 dimension, expected 2 or more");
    if (group < 1 || w->dims[1] % group)
        return tc_fail(ctx, TC_ERR_SHAPE, "prune inputs: group %lld does not divide w's %lld inputs", (long long)group,
                       (long long)w->dims[1]);
    const int64_t units = w->dims[1] / group, n = kept->numel, span = w->numel / w->dims[0] / units;
    int32_t *idx = NULL;
    float *hw = NULL, *nw = NULL;
    st = tc_host_get(kept, (void **)&idx);
    for (int64_t i = 0; st == TC_OK && i < n; i++)
        if (idx[i] < 0 || idx[i] >= units || (i && idx[i] <= idx[i - 1]))
            st = tc_fail(ctx, TC_ERR_INVALID_ARG, "prune inputs: kept[%lld] = %d is not an ascending index below %lld",
                         (long long)i, (int)idx[i], (long long)units);
    if (st == TC_OK) st = tc_host_get(w, (void **)&hw);
    if (st == TC_OK && !(nw = malloc((size_t)(w->dims[0] * n * span) * sizeof *nw)))
        st = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "prune inputs: out of host memory");
    for (int64_t r = 0; st == TC_OK && r < w->dims[0]; r++)
        for (int64_t i = 0; i < n; i++)
            memcpy(nw + (r * n + i) * span, hw + (r * units + idx[i]) * span, (size_t)span * sizeof *nw);
    if (st == TC_OK) st = make_like(ctx, w, 1, n * group, nw, w_out);
    free(nw);
    tc_host_put(w, hw);
    tc_host_put(kept, idx);
    return st;
}
