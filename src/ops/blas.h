/* The openblas variant: the GEMM-shaped f32 ops on host memory through the host's
 * OpenBLAS (cblas_sgemm, cblas_sgemv for a single row or column), on contexts made
 * with "openblas" (tc_ctx_host_blas). The baseline a user would otherwise pick on
 * a CPU; docs/design.md says why it is here. */
#ifndef TINYCL_OPS_BLAS_H
#define TINYCL_OPS_BLAS_H

#include <stdint.h>

#include "core/internal.h"
#include "ref/ref.h"

/* C[m x n] = alpha * op(A) * op(B) + beta * C (+ bias) (ReLU), row-major with
 * leading dimensions lda, ldb, ldc; C is not read when beta == 0. bias (may be
 * NULL) holds n values, or m with bias_per_row. */
typedef struct {
    int64_t m, n, k;
    int trans_a, trans_b;
    float alpha, beta;
    const float *a, *b;
    float *c;
    const float *bias;
    int64_t lda, ldb, ldc;
    int bias_per_row;
    int relu;
} tc_blas_gemm_desc;

/* 1 when a GEMM of contiguous operands (leading dimensions are extents) fits
 * OpenBLAS's 32-bit ints. */
int tc_blas_fits(int64_t m, int64_t n, int64_t k);
/* Runs g (arguments trusted: its extents and leading dimensions fit an int). */
void tc_blas_gemm(const tc_blas_gemm_desc *g);

/* The variant check every GEMM-shaped op makes on a host context: REF runs
 * anywhere; OPENBLAS needs a context made with "openblas" and extents that fit
 * (`fits`), else TC_ERR_UNSUPPORTED or TC_ERR_OVERFLOW with "op: ..." messages. */
tc_status tc_blas_variant_ok(tc_ctx *ctx, const char *op, tc_variant v, int fits);

/* conv2d as im2col + one sgemm per image and group (bias and ReLU with each), on
 * host pointers; 0, or -1 when host memory for the columns runs out (y untouched).
 * tc_blas_conv_fits: whether its GEMMs fit OpenBLAS's ints. */
int tc_blas_conv2d(const float *x, const float *w, const float *bias, float *y, const tc_conv_dims *d, int relu);
int tc_blas_conv_fits(const tc_conv_dims *d);

/* attention (ref/ref.h's geometry) as two sgemm per sequence and head, the scores
 * of the keys its queries see and, between them, each query's softmax over its own
 * (in double, as the reference); 0, or -1 when host memory runs out (out
 * untouched). tc_blas_attn_fits: whether its GEMMs fit OpenBLAS's ints. */
int tc_blas_attention(const float *q, const float *k, const float *v, float *out, const tc_attn_dims *g);
int tc_blas_attn_fits(const tc_attn_dims *g);

#endif
