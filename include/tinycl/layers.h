/* Layer ops for the benchmark models. All f32 unless stated; y may be x for the
 * elementwise ops (in place). Each runs its OpenCL kernel on an OpenCL context
 * and the plain-C reference on `ref`. */
#ifndef TINYCL_LAYERS_H
#define TINYCL_LAYERS_H

#include "tinycl/tensor.h"
#include "tinycl/variant.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* Every op takes a params struct whose `variant` selects the implementation
 * (include/tinycl/variant.h); a NULL params pointer means the defaults (AUTO). */
typedef struct {
    tc_variant variant; /* AUTO, REF, OPENCL, and GPU where the op has it */
} tc_op_params;
tc_op_params tc_op_defaults(void);

/* y[B, out] = x[B, in] * w[out, in]^T (+ bias[out]) (ReLU): a dense layer (PyTorch's
 * weight layout), on the project's matmul. bias may be NULL; y must not share
 * storage with x, w or bias. For weights used many times see tc_linear_plan. */
typedef struct {
    int relu;
    tc_variant variant; /* AUTO, REF, CPU, GPU, GEMV, CLBLAST */
} tc_linear_params;
tc_linear_params tc_linear_defaults(void);
tc_status tc_linear(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *w, const tc_tensor *bias, tc_tensor *y,
                    const tc_linear_params *p);

/* Elementwise, same shapes: y = a + b, y = a * b, y = max(x, 0) (NaN stays NaN, as
 * in PyTorch). y may be an input (in place). */
tc_status tc_add(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor *y, const tc_op_params *p);
tc_status tc_mul(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor *y, const tc_op_params *p);
tc_status tc_relu(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_op_params *p);

typedef enum { TC_GELU_TANH = 0, TC_GELU_ERF } tc_gelu_mode;
typedef struct {
    tc_gelu_mode mode;  /* default TANH */
    tc_variant variant;
} tc_gelu_params;
tc_gelu_params tc_gelu_defaults(void);
tc_status tc_gelu(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_gelu_params *p);

/* Over the last dimension; numerically stable (max subtracted). y has x's dims; y
 * may be x. Variants AUTO, REF, OPENCL (a row per work-item), GPU (a row per
 * work-group). */
tc_status tc_softmax(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_op_params *p);

/* Over the last dimension D: y = (x - mean) / sqrt(var + eps) * gamma[D] + beta[D].
 * eps is finite and >= 0; y may be x. */
typedef struct {
    float eps;          /* default 1e-5 */
    tc_variant variant; /* AUTO, REF, OPENCL, GPU */
} tc_layernorm_params;
tc_layernorm_params tc_layernorm_defaults(void);
tc_status tc_layernorm(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *gamma, const tc_tensor *beta, tc_tensor *y,
                       const tc_layernorm_params *p);

/* 2-D pooling on N x C x H x W; padding never counts (max ignores it and
 * propagates NaN as PyTorch does, average divides by the number of in-bounds
 * elements). Each axis needs kernel >= 1, stride >= 1, 0 <= pad < kernel and
 * kernel <= size + 2 * pad; y is N x C x ((H + 2 pad_h - kernel_h) / stride_h + 1)
 * x (same for W). */
typedef struct {
    int kernel_h, kernel_w;
    int stride_h, stride_w;
    int pad_h, pad_w;
    tc_variant variant; /* AUTO, REF, OPENCL */
} tc_pool2d_params;
/* Output height and width for an input of h x w; the op's own checks, so TC_OK
 * exactly when the pooling ops accept the geometry (message: tc_last_error(NULL)). */
tc_status tc_pool2d_out_dims(const tc_pool2d_params *p, int64_t h, int64_t w, int64_t *oh, int64_t *ow);
/* maxpool2d also takes s8 or u8 x (quantized activations; variants REF and OPENCL):
 * y has x's dtype, and x's quantization holds for y (the max commutes with it); a y
 * carrying other parameters is refused. */
tc_status tc_maxpool2d(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_pool2d_params *p);
tc_status tc_avgpool2d(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_pool2d_params *p);
/* N x C x H x W -> N x C */
tc_status tc_global_avgpool(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_op_params *p);

/* Views (no copy): N x ... -> N x (product of the rest). A 1-D x of N gives N x 1.
 * Free the view with tc_tensor_free. */
tc_status tc_flatten(tc_tensor *x, tc_tensor **out);

/* y[..., D] = table[ids[...], :]; ids are s32 in [0, V); an id out of range is
 * TC_ERR_INVALID_ARG and y is untouched. ids have 1 to 3 dims; y has the ids' dims
 * then D. */
tc_status tc_embedding(tc_ctx *ctx, const tc_tensor *table, const tc_tensor *ids, tc_tensor *y,
                       const tc_op_params *p);

/* y[r] (s32) = index of the largest x[r, :] (first on ties; NaN never wins). An
 * all-NaN row gives 0. y has x's dims without the last one, or with it as 1.
 * With `values` (f32, y's dims) it also writes values[r] = x[r, y[r]], as
 * PyTorch's max(dim) returns values and indices. */
typedef struct {
    tc_tensor *values;  /* NULL, or the second output */
    tc_variant variant; /* AUTO, REF, OPENCL */
} tc_argmax_params;
tc_argmax_params tc_argmax_defaults(void);
tc_status tc_argmax(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_argmax_params *p);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
