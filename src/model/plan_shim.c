/* Create, run and free of the plans in include/tinycl/plan.h, standing in until
 * the library has them: a plan keeps views of its weights (its own references)
 * and each run calls the one-shot op, so nothing is prepared ahead. */
#include <stdlib.h>

#include "core/internal.h"

struct tc_linear_plan {
    tc_ctx *ctx;
    tc_tensor *w, *bias;
    tc_linear_params p;
};

struct tc_conv2d_plan {
    tc_ctx *ctx;
    tc_tensor *w, *bias;
    int64_t chw[3];
    tc_conv2d_params p;
};

/* A view with t's dims: a reference to its storage. */
static tc_status keep(const tc_tensor *t, tc_tensor **out)
{
    *out = NULL;
    return t ? tc_tensor_reshape((tc_tensor *)t, t->ndim, t->dims, out) : TC_OK;
}

tc_status tc_linear_plan_create(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias, const tc_linear_params *p,
                                tc_linear_plan **out)
{
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "linear plan: out is NULL");
    *out = NULL;
    tc_linear_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    plan->ctx = ctx;
    plan->p = p ? *p : tc_linear_defaults();
    tc_status s = keep(w, &plan->w);
    if (s == TC_OK) s = keep(bias, &plan->bias);
    if (s != TC_OK) tc_linear_plan_free(plan);
    else *out = plan;
    return s;
}

tc_status tc_linear_plan_run(tc_linear_plan *plan, const tc_tensor *x, tc_tensor *y)
{
    if (!plan) return tc_fail(NULL, TC_ERR_INVALID_ARG, "linear plan is NULL");
    return tc_linear(plan->ctx, x, plan->w, plan->bias, y, &plan->p);
}

void tc_linear_plan_free(tc_linear_plan *plan)
{
    if (!plan) return;
    tc_tensor_free(plan->w);
    tc_tensor_free(plan->bias);
    free(plan);
}

tc_status tc_conv2d_plan_create(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], const tc_conv2d_params *p,
                                tc_conv2d_plan **out)
{
    if (!out || !x_chw) return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d plan: x_chw or out is NULL");
    *out = NULL;
    tc_conv2d_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    plan->ctx = ctx;
    plan->p = p ? *p : tc_conv2d_defaults();
    for (int i = 0; i < 3; i++) plan->chw[i] = x_chw[i];
    tc_status s = keep(w, &plan->w);
    if (s == TC_OK) s = keep(plan->p.bias, &plan->bias);
    plan->p.bias = plan->bias;
    if (s != TC_OK) tc_conv2d_plan_free(plan);
    else *out = plan;
    return s;
}

tc_status tc_conv2d_plan_run(tc_conv2d_plan *plan, const tc_tensor *x, tc_tensor *y)
{
    if (!plan) return tc_fail(NULL, TC_ERR_INVALID_ARG, "conv2d plan is NULL");
    const int64_t *c = plan->chw;
    if (x && x->ndim == 4 && (x->dims[1] != c[0] || x->dims[2] != c[1] || x->dims[3] != c[2]))
        return tc_fail(plan->ctx, TC_ERR_SHAPE, "conv2d plan: x is Nx%lldx%lldx%lld, the plan takes Nx%lldx%lldx%lld",
                       (long long)x->dims[1], (long long)x->dims[2], (long long)x->dims[3], (long long)c[0],
                       (long long)c[1], (long long)c[2]);
    return tc_conv2d(plan->ctx, x, plan->w, y, &plan->p);
}

void tc_conv2d_plan_free(tc_conv2d_plan *plan)
{
    if (!plan) return;
    tc_tensor_free(plan->w);
    tc_tensor_free(plan->bias);
    free(plan);
}
