/* The project's GEMM on OpenCL buffers, for ops built on it (matmul, linear,
 * conv2d's im2col): C[m x n] = alpha * op(A) * op(B) + beta * C (+ bias) (ReLU).
 * Offsets are in elements; C is contiguous with leading dimension n. */
#ifndef TINYCL_OPS_GEMM_H
#define TINYCL_OPS_GEMM_H

#include "core/internal.h"

#define TC_GEMV_MAX_M 8

typedef struct {
    int64_t m, n, k;
    int trans_a, trans_b;
    float alpha, beta;
    cl_mem a, b, c, bias;   /* bias may be NULL */
    size_t a_off, b_off, c_off;
    int bias_per_row;       /* bias[m] (one per row) instead of bias[n] */
    int relu;
} tc_gemm_desc;

/* Runs variant v (CPU, GPU, GEMV, CLBLAST; AUTO chooses) on ctx's OpenCL device.
 * Arguments are trusted: callers validate. */
tc_status tc_gemm_cl(tc_ctx *ctx, tc_variant v, const tc_gemm_desc *g);
/* What AUTO runs for this shape on ctx. */
tc_variant tc_gemm_auto(const tc_ctx *ctx, int64_t m, int64_t n, int64_t k);

#endif
