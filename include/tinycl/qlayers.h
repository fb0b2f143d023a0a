/* Quantized layers as plans: linear and conv2d computed in integers by the integer
 * GEMM (include/tinycl/igemm.h). At create, once:
 *   - f32 weights are quantized to symmetric s8 per output channel over each
 *     channel's range (s8 weights are taken as they are, with their per-tensor or
 *     per-output-channel quantization);
 *   - an f32 bias is quantized to s32 in units of in_scale * w_scale[k] (rounded to
 *     nearest, saturating; an s32 bias is taken as already in those units);
 *   - the GEMM plan packs the weights and computes their column sums.
 * A run quantizes an f32 input with the plan's input parameters on the fly, or
 * takes an s8/u8 input that carries exactly them (the output of a previous layer),
 * runs the integer GEMM and writes y:
 *   f32 y:   dequantized, acc * in_scale * w_scale[k] (ReLU: max(., 0));
 *   s8/u8 y: requantized straight into y's per-tensor parameters (the next layer's
 *            input), ReLU through the clamp.
 * Weights are never dequantized. A plan keeps what it needs: the caller may free w
 * and bias after create. It belongs to its context and one thread at a time. */
#ifndef TINYCL_QLAYERS_H
#define TINYCL_QLAYERS_H

#include "tinycl/igemm.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef struct tc_qlinear_plan tc_qlinear_plan;
typedef struct tc_qconv2d_plan tc_qconv2d_plan;

typedef struct {
    tc_dtype in_dtype;     /* the input activations' integer type: U8 (default) or S8 */
    float in_scale;        /* their per-tensor quantization, usually calibrated: finite, > 0 */
    int32_t in_zero_point; /* within in_dtype's range */
    int relu;
    tc_variant variant;    /* the integer GEMM's: AUTO, REF, OPENCL, GPU, VNNI, VNNI256 */
} tc_qlinear_params;

/* U8 input, scale 1, zero point 0, no ReLU, AUTO. */
tc_qlinear_params tc_qlinear_defaults(void);

/* y[B, out] = x[B, in] * w[out, in]^T (+ bias[out]) (ReLU), any batch B. w: f32 or
 * s8 [out, in]; bias: NULL, f32 or s32 [out]. Validate: the checks of create, no
 * memory touched. Run: x f32 or in_dtype [B, in]; y f32, s8 or u8 [B, out]. */
tc_status tc_qlinear_plan_validate(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias,
                                   const tc_qlinear_params *p);
tc_status tc_qlinear_plan_create(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias, const tc_qlinear_params *p,
                                 tc_qlinear_plan **out);
tc_status tc_qlinear_plan_run(tc_qlinear_plan *plan, const tc_tensor *x, tc_tensor *y);
/* The integer GEMM variant the plan runs (AUTO for NULL). */
tc_variant tc_qlinear_plan_variant(const tc_qlinear_plan *plan);
void tc_qlinear_plan_free(tc_qlinear_plan *plan);

typedef struct {
    int stride_h, stride_w;
    int pad_h, pad_w; /* padding is real zero: the input's zero point */
    int dil_h, dil_w;
    tc_dtype in_dtype; /* as tc_qlinear_params */
    float in_scale;
    int32_t in_zero_point;
    int relu;
    tc_variant variant;
} tc_qconv2d_params;

/* Stride 1, pad 0, dilation 1, U8 input with scale 1 and zero point 0, no ReLU, AUTO. */
tc_qconv2d_params tc_qconv2d_defaults(void);

/* conv2d (groups 1) on x [N, C, H, W] with C, H, W fixed at create (x_chw), any N:
 * im2col of the int8 input into patch rows, the integer GEMM against w viewed as
 * [K, C*R*S], the result moved from [N, P*Q, K] to y [N, K, P, Q]. w: f32 or s8
 * [K, C, R, S]; bias: NULL, f32 or s32 [K]. Run: x f32 or in_dtype; y f32, s8 or u8. */
tc_status tc_qconv2d_plan_validate(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], const tc_tensor *bias,
                                   const tc_qconv2d_params *p);
tc_status tc_qconv2d_plan_create(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], const tc_tensor *bias,
                                 const tc_qconv2d_params *p, tc_qconv2d_plan **out);
tc_status tc_qconv2d_plan_run(tc_qconv2d_plan *plan, const tc_tensor *x, tc_tensor *y);
tc_variant tc_qconv2d_plan_variant(const tc_qconv2d_plan *plan);
void tc_qconv2d_plan_free(tc_qconv2d_plan *plan);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
