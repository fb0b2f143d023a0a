/* The linear and conv2d plans with the declarations of the plan API (validate,
 * choose the variant and prepare the weights once; run many times), standing in
 * until that API is in the library: here each run calls the one-shot op. */
#ifndef TINYCL_MODEL_PLAN_SHIM_H
#define TINYCL_MODEL_PLAN_SHIM_H

#include "tinycl/tinycl.h"

typedef struct {
    int relu;
    tc_variant variant;
} tc_linear_params;

typedef struct tc_linear_plan tc_linear_plan;
typedef struct tc_conv2d_plan tc_conv2d_plan;

tc_status tc_linear_plan_create(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias, const tc_linear_params *p,
                                tc_linear_plan **out);
tc_status tc_linear_plan_run(tc_linear_plan *plan, const tc_tensor *x, tc_tensor *y);
void tc_linear_plan_free(tc_linear_plan *plan);

/* The input's C, H, W are fixed at create. */
tc_status tc_conv2d_plan_create(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], const tc_conv2d_params *p,
                                tc_conv2d_plan **out);
tc_status tc_conv2d_plan_run(tc_conv2d_plan *plan, const tc_tensor *x, tc_tensor *y);
void tc_conv2d_plan_free(tc_conv2d_plan *plan);

#endif
