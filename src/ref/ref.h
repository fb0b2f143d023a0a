/* The plain-C reference of every op: obviously correct loops on host memory. */
#ifndef TINYCL_REF_H
#define TINYCL_REF_H

#include <stdint.h>

/* Returns 0, or -1 when host memory runs out (C untouched). */
/* C = alpha * op(A) * op(B) + beta * C (+ bias[N]) (ReLU); C is not read when beta == 0. */
int tc_ref_matmul(const float *A, const float *B, float *C, const float *bias, int64_t M, int64_t N, int64_t K,
                   int trans_a, int trans_b, float alpha, float beta, int relu);

#endif
