/* Integer GEMM (gemmlowp / ARM Compute Library's shape): C = output stage of
 * acc[i][j] = sum_k (A[i][k] - za) (B[k][j] - zb[j]), accumulated in s32 (the zero
 * points are applied through row sums of A and column sums of B).
 *
 * A is u8 or s8, M x K. B is s8, K x N, or N x K (weight rows) with trans_b. The
 * zero points and scales come from the tensors' quantization metadata
 * (include/tinycl/quant.h: A and C per tensor; B per tensor or per output channel,
 * along N); a tensor without metadata uses the zero point given in the params.
 *
 * The output stage depends on C's dtype, after v = acc + bias[j] (saturating):
 *   s32     v (raw; with relu max(v, 0))
 *   s8, u8  requantized: SaturatingRoundingDoublingHighMul(v << ls, multiplier[j]),
 *           RoundingDivideByPOT(.., rs), + C's zero point, clamped to the dtype's
 *           range, [clamp_min, clamp_max] and with relu to >= C's zero point.
 *           multiplier/shift come from the params, or from real = sa * sb[j] / sc.
 *   f32     v * sa * sb[j] (dequantized; with relu max(v, 0)).
 * s32 and f32 results equal the reference exactly; 8-bit results are within 1
 * unit of the reference's. K is at most TC_IGEMM_MAX_K, so that no sum overflows. */
#ifndef TINYCL_IGEMM_H
#define TINYCL_IGEMM_H

#include <stdint.h>

#include "tinycl/quant.h"
#include "tinycl/tensor.h"
#include "tinycl/variant.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* K * 255 * 255 < 2^31: the largest K whose s32 sums cannot overflow. */
#define TC_IGEMM_MAX_K 33025

typedef struct {
    int trans_b;           /* B is N x K */
    const tc_tensor *bias; /* NULL or s32 of N elements (in units of sa * sb[j]) */
    int relu;
    int32_t clamp_min, clamp_max; /* 8-bit C: bounds in C's units (defaults: INT32_MIN, INT32_MAX) */
    /* zero points of tensors without quantization metadata (default 0) */
    int32_t a_zero_point, b_zero_point, c_zero_point;
    /* 8-bit C: fixed-point multipliers and shifts (see tc_igemm_multiplier), one or N;
     * NULL: computed from the scales of A, B and C */
    const int32_t *multiplier;
    const int32_t *shift;
    int64_t nmult;
    tc_variant variant; /* AUTO, REF, OPENCL, GPU, VNNI, VNNI256 */
} tc_igemm_params;

/* No transpose, bias or relu; full clamp range; zero points 0; AUTO. */
tc_igemm_params tc_igemm_defaults(void);

tc_status tc_igemm(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor *c, const tc_igemm_params *p);

/* The fixed-point form of a real multiplier (gemmlowp's QuantizeMultiplier):
 * real = multiplier * 2^(shift - 31) with multiplier in [2^30, 2^31), rounded to
 * nearest. Needs a finite real > 0 below 2^30; reals below 2^-31 give multiplier 0. */
tc_status tc_igemm_multiplier(double real, int32_t *multiplier, int32_t *shift);

/* The variant AUTO runs on ctx (ctx's device and, on PoCL, its host CPU). */
tc_variant tc_igemm_auto_variant(const tc_ctx *ctx);

/* Plans for constant B (weights): validates B, bias and p once, chooses the variant,
 * computes B's column sums and packs B (in k-quads for the VNNI paths) once; each run
 * only checks A and C, packs A and launches. The plan copies what it needs: the
 * caller may change or free b and p->bias after create. p->multiplier, if set, is
 * copied too; otherwise each run takes the scales of A and C from their metadata. */
typedef struct tc_igemm_plan tc_igemm_plan;
tc_status tc_igemm_plan_validate(tc_ctx *ctx, const tc_tensor *b, const tc_igemm_params *p);
tc_status tc_igemm_plan_create(tc_ctx *ctx, const tc_tensor *b, const tc_igemm_params *p, tc_igemm_plan **out);
/* A is M x K (any M), C is M x N: the same checks and output stage as tc_igemm. */
tc_status tc_igemm_plan_run(tc_igemm_plan *plan, const tc_tensor *a, tc_tensor *c);
tc_variant tc_igemm_plan_variant(const tc_igemm_plan *plan);
void tc_igemm_plan_free(tc_igemm_plan *plan);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
