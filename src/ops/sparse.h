/* What the sparse ops (sparse.c), their plans (sparse_plan.c) and descriptors
 * (sparse_desc.c) share: the matrix, its construction and the kernel launch. */
#ifndef TINYCL_OPS_SPARSE_H
#define TINYCL_OPS_SPARSE_H

#include "core/internal.h"
#include "ref/ref.h"

struct tc_sparse {
    tc_ctx *ctx;
    tc_sparse_format format; /* never AUTO */
    int br, bc;              /* block rows x columns (1 x 1: CSR) */
    int64_t rows, cols, mb;  /* mb = block rows */
    int64_t nnzb, nnz;       /* stored blocks, non-zero weights */
    tc_tensor *rowptr, *colidx, *values; /* s32 [mb + 1], s32 [max(nnzb, 1)], f32 [max(nnzb * br * bc, 1)] */
};

/* Builds a from w read as [rows, cols] (rows = dims[0]). With groups > 1 (a grouped
 * convolution) row r's columns are moved by (r / (rows / groups)) * cols, so the
 * matrix is [rows, groups * cols] over the whole im2col. `op` prefixes messages. */
tc_status tc_sparse_build(tc_ctx *ctx, const char *op, const tc_tensor *w, int64_t groups, tc_sparse_format format,
                          tc_sparse **out);

/* The checks of CSR arrays for a rows x cols matrix of nnz stored values: rowptr
 * [rows + 1] from 0, non-decreasing, ending at nnz; colidx [nnz] in 0 .. cols - 1,
 * strictly increasing within each row. 0, or -1 with the first offending entry in
 * why. rows, cols and nnz must be in range already (tc_csr_check_sizes). */
int tc_csr_check(int64_t rows, int64_t cols, int64_t nnz, const int32_t *rowptr, const int32_t *colidx, char *why,
                 size_t n);
/* rows and cols in 1 .. 2^31 - 1, nnz in 0 .. min(rows * cols, 2^31 - 1); 0 or -1 with why. */
int tc_csr_check_sizes(int64_t rows, int64_t cols, int64_t nnz, char *why, size_t n);

/* A product on checked arguments: y[row * ys_row + col * ys_col] for the N batch
 * columns of xt (X^T, row k at k * ld), + bias[row], ReLU. */
typedef struct {
    cl_mem xt, y, bias;
    cl_ulong xt_off, y_off, bias_off;
    int64_t n, ld, ys_row, ys_col;
    int relu;
} tc_spmm_desc;

/* Variant v (CPU or GPU) on OpenCL buffers. */
tc_status tc_spmm_cl(tc_ctx *ctx, const tc_sparse *a, tc_variant v, const tc_spmm_desc *d);
/* The batch-column tile (floats per vector x vectors) spmm_cpu takes for n columns. */
void tc_spmm_tile(const tc_ctx *ctx, int64_t n, int *vw, int *nv);
/* AUTO resolved for ctx (REF on ref, CPU on CPUs, else GPU); a variant the sparse
 * ops lack or an OpenCL one on ref fails with a message prefixed by op. */
tc_status tc_sparse_variant(tc_ctx *ctx, const char *op, tc_variant v, tc_variant *out);

/* y [B, rows] = x [B, cols] A^T (+ bias) (ReLU) after checks, as one op named `op`. */
tc_status tc_spmm_run(tc_ctx *ctx, const char *op, const tc_sparse *a, const tc_tensor *x, tc_tensor *y,
                      const tc_tensor *bias, int relu, tc_variant v);
/* Checks x [B, cols], y [B, rows] (dims given as 2-D, or 1-D for spmv) and bias. */
tc_status tc_spmm_check(tc_ctx *ctx, const char *op, const tc_sparse *a, const tc_tensor *x, const tc_tensor *y,
                        const tc_tensor *bias, int ndim);

#endif
