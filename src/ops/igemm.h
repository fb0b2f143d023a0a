/* Internals of the integer GEMM shared by the one-shot call (igemm.c), its plan
 * (igemm_plan.c) and its check descriptor (igemm_desc.c). */
#ifndef TINYCL_OPS_IGEMM_H
#define TINYCL_OPS_IGEMM_H

#include "core/internal.h"
#include "tinycl/igemm.h"

/* The weights' side of a GEMM: shape, B's zero points and scales (count N or 1 from
 * its metadata; 0 without: zero point p.b_zero_point, no scale) and the params. */
typedef struct {
    int64_t n, k;
    int64_t bq_count;
    const float *b_scale;
    const int32_t *b_zero;
    tc_igemm_params p;
} tc_ig_weights;

/* One call: M, A's and C's dtypes and quantization, the output stage's scalars. */
typedef struct {
    int64_t m;
    int a_signed;
    tc_dtype c_dtype;
    int flags;                /* IG_OUT_* | IG_RELU */
    int32_t za, zc, qmin, qmax;
    float sa, sc;             /* 0 where the tensor carries no metadata */
} tc_ig_call;

/* Per-column parameters of the output stage, N of each (host memory). */
typedef struct {
    int32_t *zb, *mult, *shift;
    float *scale;
} tc_ig_cols;

/* Checks B, bias and p (B may be a plan's weights); fills w. */
tc_status tc_ig_check_b(tc_ctx *ctx, const tc_tensor *b, const tc_igemm_params *p, tc_ig_weights *w);
/* Checks A and C against w; fills s. */
tc_status tc_ig_check_ac(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *c, const tc_ig_weights *w, tc_ig_call *s);
/* Allocates and fills the column parameters (free with tc_ig_cols_free). */
tc_status tc_ig_cols_make(tc_ctx *ctx, const tc_ig_weights *w, const tc_ig_call *s, tc_ig_cols *cols);
void tc_ig_cols_free(tc_ig_cols *cols);
/* Resolves AUTO and checks that v runs on ctx. */
tc_status tc_ig_variant(tc_ctx *ctx, tc_variant v, tc_variant *out);

/* How a variant packs its operands: panels of a_ph rows of A in k-quads, of b_ph
 * rows of op(B)^T in groups of b_kq; cpu-shaped kernels compute mr x nr tiles. */
typedef struct {
    int a_ph, b_ph, b_kq, mr, nr;
} tc_ig_geom;
tc_ig_geom tc_ig_geom_of(tc_variant v);
int64_t tc_ig_kp(int64_t k);               /* K padded for packing */
int64_t tc_ig_np(tc_variant v, int64_t n); /* packed rows of op(B)^T */

/* Packs op(B) into bp (np x kp bytes) and writes its column sums into colp (the
 * IG_COLSUM array of N ints at its start). */
tc_status tc_ig_pack_b(tc_ctx *ctx, tc_variant v, const tc_tensor *b, int trans_b, int64_t n, int64_t k, cl_mem bp,
                       cl_mem colp);
/* Writes the zb, mult, shift and scale arrays of cols into colp. */
tc_status tc_ig_write_cols(tc_ctx *ctx, cl_mem colp, int64_t n, const tc_ig_cols *cols);
/* Packs A with its row sums (the VNNI kernels read a u8 A in place where they can)
 * and runs the GEMM kernel of v with packed B and colp. */
tc_status tc_ig_run_cl(tc_ctx *ctx, tc_variant v, const tc_tensor *a, tc_tensor *c, const tc_ig_weights *w,
                       const tc_ig_call *s, cl_mem bp, cl_mem colp);
/* The reference on host copies (b_host: n x k or k x n bytes as w->p.trans_b, bias_host NULL or n). */
tc_status tc_ig_run_ref(tc_ctx *ctx, const tc_tensor *a, tc_tensor *c, const tc_ig_weights *w, const tc_ig_call *s,
                        const int8_t *b_host, const int32_t *bias_host);
/* Flops and bytes of one call, for the profile. */
void tc_ig_counts(const tc_ig_weights *w, const tc_ig_call *s, double *flops, double *bytes);

#endif
