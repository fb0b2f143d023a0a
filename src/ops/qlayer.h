/* What the quantized layers (qlinear.c, qconv2d.c) share: their weights as an
 * integer GEMM plan over [out, K] s8 rows, the s32 bias, the input's quantization
 * and the quantized copy of an f32 input. The weight and bias quantizers are used
 * by tc_model_quantize too. */
#ifndef TINYCL_OPS_QLAYER_H
#define TINYCL_OPS_QLAYER_H

#include "core/internal.h"
#include "tinycl/qlayers.h"

/* The input side of both params structs. */
typedef struct {
    tc_dtype dtype;
    float scale;
    int32_t zero_point;
    int relu;
    tc_variant variant;
} tc_qin;

typedef struct {
    tc_ctx *ctx;
    const char *op; /* "qlinear" or "qconv2d", for messages */
    tc_qin in;
    int ndim;        /* of x, y and w: 2 (qlinear) or 4 (qconv2d) */
    int64_t nout, k; /* the GEMM's N and K */
    tc_variant v;    /* the GEMM's variant, never AUTO */
    tc_igemm_plan *gemm;
    tc_tensor *xq;   /* scratch: the last f32 input quantized, reused while its dims hold */
} tc_qcore;

/* Checks w (f32, or s8 with per-tensor or per-channel-along-axis-0 quantization;
 * ndim dims), bias (NULL, f32 or s32 of dims[0] elements) and the input parameters;
 * resolves the variant. No memory touched. */
tc_status tc_qcore_validate(tc_ctx *ctx, const char *op, const tc_tensor *w, int ndim, const tc_tensor *bias,
                            const tc_qin *in, tc_variant *v);
/* Validates, then quantizes what is f32 and makes the GEMM plan: the core owns it. */
tc_status tc_qcore_init(tc_qcore *c, tc_ctx *ctx, const char *op, const tc_tensor *w, int ndim,
                        const tc_tensor *bias, const tc_qin *in);
void tc_qcore_release(tc_qcore *c);
/* x: f32, or in.dtype carrying exactly the input's parameters, of `dims` (-1: any). */
tc_status tc_qcore_check_x(tc_qcore *c, const tc_tensor *x, const int64_t *dims);
/* *xq: a checked x itself, or an f32 x quantized into the core's scratch. */
tc_status tc_qcore_input(tc_qcore *c, const tc_tensor *x, const tc_tensor **xq);
/* y: f32, or s8/u8 carrying per-tensor parameters, of `dims`, not sharing storage with x. */
tc_status tc_qcore_check_y(tc_qcore *c, const tc_tensor *y, const int64_t *dims, const tc_tensor *x);
/* An s8/u8/s32 tensor of dims in c->ctx, reused while dims and dtype hold: *t is
 * replaced when they differ. */
tc_status tc_qcore_scratch(tc_ctx *ctx, tc_tensor **t, tc_dtype dt, int ndim, const int64_t *dims);

/* Build options of the kernels that quantize to dt (s8 or u8) as tc_quantize does:
 * -DQT -DQMIN -DQMAX, and -DQROUND_ADD where the device rounds to nearest even
 * (QUANT in kernels/common.clh). Returns buf. */
const char *tc_quant_options(tc_ctx *ctx, tc_dtype dt, char *buf, size_t n);

/* w (f32, dims[0] output channels) as symmetric s8 with one scale per output channel
 * (axis 0) or one for the whole tensor, over the exact range of each. */
tc_status tc_qweights(tc_ctx *ctx, const tc_tensor *w, int per_channel, tc_tensor **out);
/* bias (f32 [K]) as s32 in units of in_scale * the scale of each channel of wq. */
tc_status tc_qbias(tc_ctx *ctx, const tc_tensor *bias, float in_scale, const tc_tensor *wq, tc_tensor **out);

#endif
