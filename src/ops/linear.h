/* What the one-shot tc_linear and tc_linear_plan share: the checks on the
 * weights and on the activation, the variant choice and the launch. */
#ifndef TINYCL_OPS_LINEAR_H
#define TINYCL_OPS_LINEAR_H

#include "core/internal.h"

typedef struct {
    int64_t b, in, out;
    int relu;
} tc_linear_shape;

/* w [out, in] and bias [out] (may be NULL) on ctx; fills s->in and s->out. `op`
 * prefixes the messages ("linear", "linear plan"). */
tc_status tc_linear_check_weights(tc_ctx *ctx, const char *op, const tc_tensor *w, const tc_tensor *bias,
                                  tc_linear_shape *s);
/* x [B, in] and y [B, out] for the weights checked into s (fills s->b); y shares
 * no storage with x, w or bias. */
tc_status tc_linear_check_io(tc_ctx *ctx, const char *op, const tc_tensor *x, const tc_tensor *y,
                             const tc_tensor *w, const tc_tensor *bias, tc_linear_shape *s);
/* What variant v runs for batch b: AUTO resolved; a variant linear lacks or an
 * OpenCL variant on ref fails. */
tc_status tc_linear_variant(tc_ctx *ctx, const char *op, tc_variant v, int64_t b, const tc_linear_shape *s,
                            tc_variant *out);
/* Runs checked arguments in variant v (gemv fails beyond its batch, before
 * anything runs); w_packed (cpu variant only, may be NULL) holds w as
 * tc_gemm_pack_b wrote it. */
tc_status tc_linear_launch(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *w, const tc_tensor *w_packed,
                           const tc_tensor *bias, tc_tensor *y, const tc_linear_shape *s, tc_variant v);

#endif
