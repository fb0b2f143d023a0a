/* The project's GEMM on OpenCL buffers, for ops built on it (matmul, linear,
 * conv2d's im2col): C[m x n] = alpha * op(A) * op(B) + beta * C (+ bias) (ReLU).
 * Offsets are in elements, 64-bit (the kernels add them to their pointers on
 * entry); C is contiguous with leading dimension n. */
#ifndef TINYCL_OPS_GEMM_H
#define TINYCL_OPS_GEMM_H

#include "core/internal.h"

#define TC_GEMV_MAX_M 8
/* The kernels index an operand with ints (and padded sizes) once its offset is
 * added: every operand stays below this many elements. */
#define TC_GEMM_MAX_ELEMS ((int64_t)1 << 30)

typedef struct {
    int64_t m, n, k;
    int trans_a, trans_b;
    float alpha, beta;
    cl_mem a, b, c, bias;   /* bias may be NULL */
    cl_ulong a_off, b_off, c_off, bias_off;
    int bias_per_row;       /* bias[m] (one per row) instead of bias[n] */
    int relu;
    int b_packed;           /* cpu variant only: b holds op(B) as tc_gemm_pack_b wrote it, b_off 0 */
} tc_gemm_desc;

/* Runs variant v (CPU, GPU, GEMV, CLBLAST; AUTO chooses) on ctx's OpenCL device.
 * Arguments are trusted: callers validate (tc_gemm_check_extent). */
tc_status tc_gemm_cl(tc_ctx *ctx, tc_variant v, const tc_gemm_desc *g);
/* What AUTO runs for this shape on ctx. */
tc_variant tc_gemm_auto(const tc_ctx *ctx, int64_t m, int64_t n, int64_t k);

/* op(B) (n x k) in the 32-column panels the cpu variant reads: elements needed,
 * and the packing of g's b (trans_b, b_off, n, k) into dst, which constant
 * weights can do once (tc_linear_plan). */
size_t tc_gemm_packed_b_elems(int64_t n, int64_t k);
tc_status tc_gemm_pack_b(tc_ctx *ctx, const tc_gemm_desc *g, cl_mem dst);

/* Proves operand t fits the kernels: [offset, offset + numel) inside its storage
 * (64-bit, overflow-checked) and, on OpenCL, numel below TC_GEMM_MAX_ELEMS.
 * `what` prefixes the message ("linear: w"). */
tc_status tc_gemm_check_extent(tc_ctx *ctx, const char *what, const tc_tensor *t);

#endif
