/* Dense matmul: C = alpha * op(A) * op(B) + beta * C, then optionally + bias
 * (per column, length N) and ReLU. A is M x K (K x M when trans_a), B is K x N
 * (N x K when trans_b), C is M x N; all f32, 2-D. */
#ifndef TINYCL_MATMUL_H
#define TINYCL_MATMUL_H

#include "tinycl/tensor.h"
#include "tinycl/variant.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef struct {
    int trans_a;
    int trans_b;
    float alpha;
    float beta;
    const tc_tensor *bias; /* NULL or f32 of N elements */
    int relu;
    tc_variant variant;
} tc_matmul_params;

/* alpha 1, beta 0, no transposes, no epilogue, AUTO. */
tc_matmul_params tc_matmul_defaults(void);

tc_status tc_matmul(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor *c, const tc_matmul_params *p);

/* The variant AUTO would run for this shape on this context's device. */
tc_variant tc_matmul_auto_variant(const tc_ctx *ctx, int64_t m, int64_t n, int64_t k, int trans_a, int trans_b);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
