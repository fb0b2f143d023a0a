/* Weights in CSR inside sequential models: the checks of a layer's CSR tensors,
 * the conversions between dense and CSR descriptions on the host, a loaded
 * layer's dense weight, and the compaction tc_model_save applies (each f32
 * linear and conv2d weight dense or in CSR, whichever is smaller). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "model/kind.h"
#include "ops/sparse.h"

#define RECORD_HEAD 36 /* a tensor record before its values (no quantization) */

/* The dense weight's dims from the layer's parameters: [out, in] or [K, C, R, S]; 0 for kinds without weights. */
static int weight_dims(const tc_wlayer *l, int64_t *dims)
{
    switch (l->type) {
    case TC_LAYER_LINEAR:
    case TC_LAYER_QLINEAR: dims[0] = l->p[1], dims[1] = l->p[0]; return 2;
    case TC_LAYER_CONV2D:
    case TC_LAYER_QCONV2D: dims[0] = l->p[1], dims[1] = l->p[0], dims[2] = l->p[2], dims[3] = l->p[3]; return 4;
    default: return 0;
    }
}

int64_t tc_wlayer_weights(const tc_wlayer *l)
{
    int64_t d[TC_MAX_DIMS];
    const int nd = weight_dims(l, d);
    int64_t n = nd ? 1 : 0;
    for (int i = 0; i < nd; i++) n = tc_sat_mul(n, d[i]);
    return n;
}

static tc_wtensor *find(tc_wlayer *l, tc_tensor_role role)
{
    for (int t = 0; t < l->ntensors; t++)
        if (l->t[t].role == (uint32_t)role) return &l->t[t];
    return NULL;
}

static const tc_wtensor *cfind(const tc_wlayer *l, tc_tensor_role role) { return find((tc_wlayer *)l, role); }

int64_t tc_wlayer_nonzero(const tc_wlayer *l)
{
    const tc_wtensor *w = cfind(l, TC_ROLE_WEIGHT);
    if (!tc_wlayer_weights(l) || !w || !w->data) return 0;
    int64_t n = 0;
    if (w->dtype == TC_DTYPE_F32) {
        const float *v = w->data;
        for (int64_t i = 0; i < w->numel; i++) n += v[i] != 0.0f;
    } else if (w->dtype == TC_DTYPE_S8) {
        const int8_t *v = w->data;
        for (int64_t i = 0; i < w->numel; i++) n += v[i] != 0;
    }
    return n;
}

int tc_wlayer_check_csr(const tc_wlayer *l, int64_t rows, int64_t cols, char *why, size_t n)
{
    const tc_wtensor *rp = cfind(l, TC_ROLE_ROW_PTR), *ci = cfind(l, TC_ROLE_COL_IDX), *w = cfind(l, TC_ROLE_WEIGHT);
    if (!rp || !ci) {
        snprintf(why, n, "a weight in CSR needs both row_ptr and col_idx (%s is missing)", rp ? "col_idx" : "row_ptr");
        return -1;
    }
    if (w->q.count || rp->q.count || ci->q.count) {
        snprintf(why, n, "a weight in CSR and its row_ptr and col_idx carry no quantization");
        return -1;
    }
    if (rp->ndim != 1 || rp->dims[0] != rows + 1) {
        char got[96];
        tc_fmt_dims(rp->dims, rp->ndim, got, sizeof got);
        snprintf(why, n, "row_ptr is %s; %lld rows need [%lld]", got, (long long)rows, (long long)rows + 1);
        return -1;
    }
    if (w->ndim != 1 || ci->ndim != 1 || w->dims[0] != ci->dims[0]) {
        char wd[96], cd[96];
        tc_fmt_dims(w->dims, w->ndim, wd, sizeof wd);
        tc_fmt_dims(ci->dims, ci->ndim, cd, sizeof cd);
        snprintf(why, n, "nnz mismatch: a weight in CSR is [nnz] values and col_idx [nnz] indices; they are %s and %s",
                 wd, cd);
        return -1;
    }
    if (tc_csr_check_sizes(rows, cols, w->dims[0], why, n)) return -1;
    return tc_csr_check(rows, cols, w->dims[0], rp->data, ci->data, why, n);
}

/* Removes tensor t from l (the others keep their order). */
static void drop(tc_wlayer *l, const tc_wtensor *x)
{
    const int t = (int)(x - l->t);
    free((void *)l->t[t].data);
    memmove(&l->t[t], &l->t[t + 1], (size_t)(l->ntensors - t - 1) * sizeof l->t[0]);
    l->ntensors--;
}

static tc_wtensor plain(tc_tensor_role role, tc_dtype dt, int64_t n, void *data)
{
    return (tc_wtensor){(uint32_t)role, dt, 1, {n}, n, {-1, 0, NULL, NULL}, data};
}

tc_status tc_wlayer_to_dense(tc_ctx *ctx, tc_wlayer *l)
{
    tc_wtensor *w = find(l, TC_ROLE_WEIGHT), *rp = find(l, TC_ROLE_ROW_PTR), *ci = find(l, TC_ROLE_COL_IDX);
    if (!w || !rp || !ci) return TC_OK;
    int64_t dims[TC_MAX_DIMS] = {0};
    const int nd = weight_dims(l, dims);
    const int64_t rows = dims[0], numel = tc_wlayer_weights(l), cols = numel / rows;
    float *d = calloc((size_t)numel, sizeof *d);
    if (!d) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory for a %lld-weight layer", (long long)numel);
    const int32_t *p = rp->data, *c = ci->data;
    const float *v = w->data;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = p[r]; j < p[r + 1]; j++) d[r * cols + c[j]] = v[j];
    free((void *)w->data);
    *w = (tc_wtensor){TC_ROLE_WEIGHT, TC_DTYPE_F32, nd, {0}, numel, {-1, 0, NULL, NULL}, d};
    memcpy(w->dims, dims, (size_t)nd * sizeof *dims);
    drop(l, find(l, TC_ROLE_ROW_PTR));
    drop(l, find(l, TC_ROLE_COL_IDX));
    return TC_OK;
}

tc_status tc_wlayer_to_csr(tc_ctx *ctx, tc_wlayer *l)
{
    tc_wtensor *w = find(l, TC_ROLE_WEIGHT);
    if (!w || find(l, TC_ROLE_ROW_PTR) || w->dtype != TC_DTYPE_F32 || w->q.count || !tc_wlayer_weights(l)) return TC_OK;
    const int64_t nnz = tc_wlayer_nonzero(l), rows = w->dims[0], cols = w->numel / rows;
    if (nnz < 1 || l->ntensors + 2 > TC_W_MAX_TENSORS) return TC_OK;
    int32_t *p = malloc((size_t)(rows + 1) * sizeof *p), *c = malloc((size_t)nnz * sizeof *c);
    float *v = malloc((size_t)nnz * sizeof *v);
    if (!p || !c || !v) {
        free(p), free(c), free(v);
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory for a %lld-weight layer", (long long)w->numel);
    }
    const float *d = w->data;
    int64_t j = 0;
    p[0] = 0;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t k = 0; k < cols; k++)
            if (d[r * cols + k] != 0.0f) c[j] = (int32_t)k, v[j++] = d[r * cols + k];
        p[r + 1] = (int32_t)j;
    }
    free((void *)w->data);
    *w = plain(TC_ROLE_WEIGHT, TC_DTYPE_F32, nnz, v);
    l->t[l->ntensors++] = plain(TC_ROLE_ROW_PTR, TC_DTYPE_S32, rows + 1, p);
    l->t[l->ntensors++] = plain(TC_ROLE_COL_IDX, TC_DTYPE_S32, nnz, c);
    return TC_OK;
}

tc_status tc_wfile_compact(tc_ctx *ctx, tc_wfile *f)
{
    tc_status s = TC_OK;
    for (int i = 0; s == TC_OK && i < f->nlayers; i++) {
        tc_wlayer *l = &f->layers[i];
        const tc_wtensor *w = cfind(l, TC_ROLE_WEIGHT);
        if ((l->type != TC_LAYER_LINEAR && l->type != TC_LAYER_CONV2D) || !w || w->dtype != TC_DTYPE_F32 ||
            w->q.count)
            continue;
        const int64_t weights = tc_wlayer_weights(l), nnz = tc_wlayer_nonzero(l);
        int64_t dims[TC_MAX_DIMS] = {0};
        weight_dims(l, dims);
        const int64_t csr = 3 * RECORD_HEAD + 8 * nnz + 4 * (dims[0] + 1), dense = RECORD_HEAD + 4 * weights;
        s = nnz >= 1 && csr < dense ? tc_wlayer_to_csr(ctx, l) : tc_wlayer_to_dense(ctx, l);
    }
    return s;
}

const tc_tensor *tc_mlayer_tensor(const tc_mlayer *l, tc_tensor_role role)
{
    for (int t = 0; t < l->d.ntensors; t++)
        if (l->d.t[t].role == (uint32_t)role) return l->t[t];
    return NULL;
}

tc_status tc_mlayer_weight(tc_ctx *ctx, const tc_mlayer *l, tc_tensor **out)
{
    *out = NULL;
    tc_tensor *w = (tc_tensor *)tc_mlayer_tensor(l, TC_ROLE_WEIGHT);
    if (!l->csr) return tc_tensor_view(w, 0, w->ndim, w->dims, out);
    int64_t dims[TC_MAX_DIMS] = {0};
    const int nd = weight_dims(&l->d, dims);
    const tc_tensor *rp = tc_mlayer_tensor(l, TC_ROLE_ROW_PTR), *ci = tc_mlayer_tensor(l, TC_ROLE_COL_IDX);
    const int64_t rows = dims[0], numel = l->weights, cols = numel / rows, nnz = w->numel;
    int32_t *p = malloc((size_t)(rows + 1) * sizeof *p), *c = malloc((size_t)nnz * sizeof *c);
    float *v = malloc((size_t)nnz * sizeof *v), *d = calloc((size_t)numel, sizeof *d);
    tc_status s = p && c && v && d ? TC_OK : tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == TC_OK) s = tc_tensor_read(rp, p, (size_t)(rows + 1) * sizeof *p);
    if (s == TC_OK) s = tc_tensor_read(ci, c, (size_t)nnz * sizeof *c);
    if (s == TC_OK) s = tc_tensor_read(w, v, (size_t)nnz * sizeof *v);
    for (int64_t r = 0; s == TC_OK && r < rows; r++)
        for (int64_t j = p[r]; j < p[r + 1]; j++) d[r * cols + c[j]] = v[j];
    if (s == TC_OK) s = tc_tensor_from_host(ctx, TC_DTYPE_F32, nd, dims, d, out);
    free(p), free(c), free(v), free(d);
    return s;
}
