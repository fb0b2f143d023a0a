/* 2-D convolution: x is N x C x H x W (NCHW), w is K x (C / groups) x R x S (KCRS),
 * y is N x K x P x Q with P = (H + 2 pad_h - dil_h (R - 1) - 1) / stride_h + 1 (same for Q).
 * groups == C == K is a depthwise convolution. Optional bias[K] and ReLU. */
#ifndef TINYCL_CONV2D_H
#define TINYCL_CONV2D_H

#include "tinycl/tensor.h"
#include "tinycl/variant.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef struct {
    int stride_h, stride_w;
    int pad_h, pad_w;
    int dil_h, dil_w;
    int groups;
    const tc_tensor *bias; /* NULL or f32 of K elements */
    int relu;
    tc_variant variant;    /* AUTO, REF, IM2COL, CPU, GPU, CLBLAST */
} tc_conv2d_params;

/* stride 1, pad 0, dilation 1, groups 1, no bias, no ReLU, AUTO. */
tc_conv2d_params tc_conv2d_defaults(void);

/* Output extent along one axis; TC_ERR_SHAPE when the window does not fit. */
tc_status tc_conv2d_out_size(int64_t in, int64_t kernel, int stride, int pad, int dil, int64_t *out);

tc_status tc_conv2d(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *w, tc_tensor *y, const tc_conv2d_params *p);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
