/* Plans that keep their arguments and call the one-shot op on each run. */
#include <stdlib.h>

#include "core/internal.h"
#include "model/plan_shim.h"

struct tc_linear_plan {
    tc_ctx *ctx;
    const tc_tensor *w, *bias;
    tc_linear_params p;
};

struct tc_conv2d_plan {
    tc_ctx *ctx;
    const tc_tensor *w;
    int64_t chw[3];
    tc_conv2d_params p;
};

tc_status tc_linear_plan_create(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias, const tc_linear_params *p,
                                tc_linear_plan **out)
{
    if (!out || !p) return tc_fail(ctx, TC_ERR_INVALID_ARG, "linear plan: params or out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    **out = (tc_linear_plan){ctx, w, bias, *p};
    return TC_OK;
}

tc_status tc_linear_plan_run(tc_linear_plan *plan, const tc_tensor *x, tc_tensor *y)
{
    if (!plan) return tc_fail(NULL, TC_ERR_INVALID_ARG, "linear plan is NULL");
    return tc_linear(plan->ctx, x, plan->w, plan->bias, y, plan->p.relu);
}

void tc_linear_plan_free(tc_linear_plan *plan) { free(plan); }

tc_status tc_conv2d_plan_create(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], const tc_conv2d_params *p,
                                tc_conv2d_plan **out)
{
    if (!out || !p || !x_chw) return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d plan: x_chw, params or out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    **out = (tc_conv2d_plan){ctx, w, {x_chw[0], x_chw[1], x_chw[2]}, *p};
    return TC_OK;
}

tc_status tc_conv2d_plan_run(tc_conv2d_plan *plan, const tc_tensor *x, tc_tensor *y)
{
    if (!plan) return tc_fail(NULL, TC_ERR_INVALID_ARG, "conv2d plan is NULL");
    if (x && x->ndim == 4 && (x->dims[1] != plan->chw[0] || x->dims[2] != plan->chw[1] || x->dims[3] != plan->chw[2]))
        return tc_fail(plan->ctx, TC_ERR_SHAPE, "conv2d plan: x is Nx%lldx%lldx%lld, the plan was made for Nx%lldx%lldx%lld",
                       (long long)x->dims[1], (long long)x->dims[2], (long long)x->dims[3], (long long)plan->chw[0],
                       (long long)plan->chw[1], (long long)plan->chw[2]);
    return tc_conv2d(plan->ctx, x, plan->w, y, &plan->p);
}

void tc_conv2d_plan_free(tc_conv2d_plan *plan) { free(plan); }
