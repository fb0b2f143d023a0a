/* Pruning and sparse layers: magnitude pruning of weights (unstructured, in blocks,
 * or whole output channels), sparse matrices built once from pruned weights (CSR
 * and block-sparse BSR), their products with activations (SpMV, SpMM), and plans
 * for a sparse dense layer and a sparse convolution. A weight matrix w is
 * [rows, cols] = [out, in] (PyTorch's layout); higher-rank weights (conv KCRS) are
 * read as [dims[0], numel / dims[0]]. See docs/sparse.md. */
#ifndef TINYCL_SPARSE_H
#define TINYCL_SPARSE_H

#include "tinycl/conv2d.h"
#include "tinycl/layers.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* ---- magnitude pruning ------------------------------------------------------
 * Host-side transforms run once on f32 weights (any context; views too). Bad
 * input (sparsity outside [0, 1), a NaN weight, ...) changes nothing. */

typedef enum {
    TC_PRUNE_ELEMENT = 0, /* single weights */
    TC_PRUNE_BLOCK_1X4,   /* 1 row x 4 consecutive columns (the last block of a row may be narrower) */
    TC_PRUNE_BLOCK_1X8,
    TC_PRUNE_BLOCK_4X4,   /* 4 rows x 4 columns */
    TC_PRUNE_PATTERN_COUNT
} tc_prune_pattern;

/* Zeroes the round(sparsity * units) units (elements, or blocks scored by their
 * L2 norm) of smallest magnitude; among equal magnitudes the lower index goes
 * first, so the result is deterministic. Units already zero count as pruned. */
tc_status tc_prune_magnitude(tc_ctx *ctx, tc_tensor *w, double sparsity, tc_prune_pattern pattern);
/* The same with one threshold across n tensors (units counted over all of them,
 * ties broken by tensor order, then index): layers of small weights lose more. */
tc_status tc_prune_global(tc_ctx *ctx, tc_tensor *const *ws, int n, double sparsity, tc_prune_pattern pattern);
/* Fraction of w's elements that are zero. */
tc_status tc_sparsity(const tc_tensor *w, double *out);

/* Structured pruning: removes the round(sparsity * dims[0]) output channels
 * (slices of dimension 0: neurons of a [out, in] layer, filters of a KCRS conv)
 * of smallest L2 norm, at least one channel staying. Writes new tensors on ctx:
 * *w_out with the kept channels in their order, *bias_out (NULL when bias is
 * NULL) and *kept, the s32 indices of the kept channels, ascending. */
tc_status tc_prune_channels(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias, double sparsity,
                            tc_tensor **w_out, tc_tensor **bias_out, tc_tensor **kept);
/* The next layer's side: keeps the input units named by kept (from
 * tc_prune_channels) along dimension 1 of w, each unit `group` consecutive
 * entries there (1 for a dense layer or a conv after a conv; H*W for a dense
 * layer after a conv's flattened C x H x W output). *w_out is new. */
tc_status tc_prune_inputs(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *kept, int64_t group, tc_tensor **w_out);

/* ---- sparse matrices ---------------------------------------------------------- */

typedef enum {
    TC_SPARSE_AUTO = 0, /* the largest BSR block the non-zeros fill (>= 80%), else CSR */
    TC_SPARSE_CSR,      /* row pointers, column indices, values */
    TC_SPARSE_BSR_1X4,  /* CSR of 1x4 blocks: one index per 4 values; cols % 4 == 0 */
    TC_SPARSE_BSR_1X8,  /* cols % 8 == 0 */
    TC_SPARSE_BSR_4X4,  /* 4 output rows share each input vector load; cols % 4 == 0 */
    TC_SPARSE_FORMAT_COUNT
} tc_sparse_format;

const char *tc_sparse_format_name(tc_sparse_format f); /* "csr", "bsr1x4", ... */
tc_status tc_sparse_format_parse(const char *name, tc_sparse_format *out);

typedef struct tc_sparse tc_sparse;

/* What a sparse matrix holds, in bytes as stored on its context (int32 indices). */
typedef struct {
    tc_sparse_format format;
    int64_t rows, cols;
    int64_t nnz;          /* non-zero weights */
    int64_t stored;       /* values stored: nnz plus the zeros that fill blocks */
    size_t values_bytes;  /* stored * 4 */
    size_t index_bytes;   /* one column index per block (per value for CSR) */
    size_t rowptr_bytes;  /* one row pointer per block row, plus one */
    size_t total_bytes;   /* the three above */
    size_t dense_bytes;   /* rows * cols * 4: the same weights dense */
} tc_sparse_info;

/* Builds the format from dense weights w [rows, cols] (2-D f32; AUTO chooses).
 * The matrix keeps no reference to w. */
tc_status tc_sparse_from_dense(tc_ctx *ctx, const tc_tensor *w, tc_sparse_format format, tc_sparse **out);
/* A CSR matrix [rows, cols] from host arrays: rowptr [rows + 1] (rowptr[0] = 0,
 * non-decreasing, rowptr[rows] = nnz), colidx [nnz] (each in 0 .. cols - 1,
 * strictly increasing within a row) and values [nnz] (colidx and values may be
 * NULL when nnz is 0). Every array is checked before anything is allocated:
 * anything else is TC_ERR_INVALID_ARG naming the first offending entry. rows and
 * cols are 1 .. 2^31 - 1, nnz 0 .. min(rows * cols, 2^31 - 1). The arrays are
 * copied. */
tc_status tc_sparse_from_csr(tc_ctx *ctx, int64_t rows, int64_t cols, int64_t nnz, const int32_t *rowptr,
                             const int32_t *colidx, const float *values, tc_sparse **out);
tc_status tc_sparse_info_get(const tc_sparse *a, tc_sparse_info *out);
void tc_sparse_free(tc_sparse *a);

typedef struct {
    const tc_tensor *bias; /* NULL or f32 of `rows` elements */
    int relu;
    tc_variant variant;    /* AUTO, REF, CPU (vectors over the batch), GPU (a work-group per block row) */
} tc_spmm_params;
tc_spmm_params tc_spmm_defaults(void);

/* y[rows] = A x[cols] (+ bias) (ReLU). */
tc_status tc_spmv(tc_ctx *ctx, const tc_sparse *a, const tc_tensor *x, tc_tensor *y, const tc_spmm_params *p);
/* y[B, rows] = x[B, cols] A^T (+ bias) (ReLU): a dense layer with sparse weights. */
tc_status tc_spmm(tc_ctx *ctx, const tc_sparse *a, const tc_tensor *x, tc_tensor *y, const tc_spmm_params *p);

/* ---- plans ------------------------------------------------------------------- */

/* A dense layer y[B, out] = x[B, in] w[out, in]^T (+ bias) (ReLU) on pruned
 * weights. With variant AUTO each batch class (up to 8 rows, and more) runs
 * dense (a tc_linear_plan) while w's sparsity is below the device's breakeven
 * for that class (the `sparse` kernel parameters, measured by `tinycl bench
 * sparse`), else sparse; REF, CPU and GPU always run sparse. The sparse format
 * is a copy (w may change or go once the plan exists); a dense fallback keeps a
 * reference to w as tc_linear_plan does. */
typedef struct {
    int relu;
    tc_sparse_format format;
    tc_variant variant;
} tc_sparse_linear_params;
tc_sparse_linear_params tc_sparse_linear_defaults(void);

typedef struct tc_sparse_linear_plan tc_sparse_linear_plan;
tc_status tc_sparse_linear_plan_create(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias,
                                       const tc_sparse_linear_params *p, tc_sparse_linear_plan **out);
tc_status tc_sparse_linear_plan_run(tc_sparse_linear_plan *plan, const tc_tensor *x, tc_tensor *y);
/* 1 when a run of this batch uses the sparse kernels, 0 when dense (or a NULL plan). */
int tc_sparse_linear_plan_is_sparse(const tc_sparse_linear_plan *plan, int64_t batch);
/* The variant a run of this batch uses (the dense plan's when dense; AUTO for a NULL plan). */
tc_variant tc_sparse_linear_plan_variant(const tc_sparse_linear_plan *plan, int64_t batch);
/* w's sparsity, and the sparse matrix's memory (all zeros when every class runs dense). */
double tc_sparse_linear_plan_sparsity(const tc_sparse_linear_plan *plan);
tc_status tc_sparse_linear_plan_info(const tc_sparse_linear_plan *plan, tc_sparse_info *out);
void tc_sparse_linear_plan_free(tc_sparse_linear_plan *plan);

/* conv2d with pruned weights: per image the im2col of x (x itself for a 1x1,
 * stride-1, unpadded kernel) times the sparse weight rows [K, C/groups * R * S]
 * (groups included: each group's rows index their own channels). C, H, W are
 * fixed at create; p as for tc_conv2d (p->variant: AUTO, REF, CPU, GPU). */
typedef struct tc_sparse_conv2d_plan tc_sparse_conv2d_plan;
tc_status tc_sparse_conv2d_plan_create(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3],
                                       const tc_conv2d_params *p, tc_sparse_format format,
                                       tc_sparse_conv2d_plan **out);
tc_status tc_sparse_conv2d_plan_run(tc_sparse_conv2d_plan *plan, const tc_tensor *x, tc_tensor *y);
tc_variant tc_sparse_conv2d_plan_variant(const tc_sparse_conv2d_plan *plan);
tc_status tc_sparse_conv2d_plan_info(const tc_sparse_conv2d_plan *plan, tc_sparse_info *out);
void tc_sparse_conv2d_plan_free(tc_sparse_conv2d_plan *plan);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
