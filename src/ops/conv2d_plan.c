/* conv2d plans: the steps of ops/conv2d.h with the weights prepared once. */
#include <stdlib.h>

#include "ops/conv2d.h"

struct tc_conv2d_plan {
    tc_conv c;
    tc_tensor *w, *bias; /* views that keep the caller's storage alive */
};

tc_status tc_conv2d_plan_validate(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], const tc_conv2d_params *p)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "conv2d plan: ctx is NULL");
    tc_conv2d_params def = tc_conv2d_defaults();
    tc_conv c;
    return tc_conv_setup(ctx, w, x_chw, 0, p ? p : &def, &c);
}

/* A view of all of t (const: only its storage's reference count changes). */
static tc_status retain(const tc_tensor *t, tc_tensor **out)
{
    *out = NULL;
    return t ? tc_tensor_view((tc_tensor *)t, 0, t->ndim, t->dims, out) : TC_OK;
}

tc_status tc_conv2d_plan_create(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], const tc_conv2d_params *p,
                                tc_conv2d_plan **out)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "conv2d plan: ctx is NULL");
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "conv2d plan: out is NULL");
    *out = NULL;
    tc_conv2d_params def = tc_conv2d_defaults();
    if (!p) p = &def;
    tc_conv c;
    tc_status st = tc_conv_setup(ctx, w, x_chw, 0, p, &c);
    if (st != TC_OK) return st;
    tc_conv2d_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "conv2d plan: out of host memory");
    plan->c = c;
    st = retain(w, &plan->w);
    if (st == TC_OK) st = retain(p->bias, &plan->bias);
    if (st == TC_OK) {
        plan->c.w = plan->w, plan->c.bias = plan->bias;
        /* the weights' one-time work is an op of its own in the profile */
        tc_op_begin(ctx, "conv2d_plan", c.v, 0, 8.0 * (double)w->numel);
        st = tc_op_end(ctx, tc_conv_prepare(&plan->c));
    }
    if (st != TC_OK) {
        tc_conv2d_plan_free(plan);
        return st;
    }
    *out = plan;
    return TC_OK;
}

tc_status tc_conv2d_plan_run(tc_conv2d_plan *plan, const tc_tensor *x, tc_tensor *y)
{
    if (!plan) return tc_fail(NULL, TC_ERR_INVALID_ARG, "conv2d plan: plan is NULL");
    return tc_conv_run(&plan->c, x, y);
}

tc_variant tc_conv2d_plan_variant(const tc_conv2d_plan *plan) { return plan ? plan->c.v : TC_VARIANT_AUTO; }

void tc_conv2d_plan_free(tc_conv2d_plan *plan)
{
    if (!plan) return;
    tc_conv_release(&plan->c);
    tc_tensor_free(plan->bias);
    tc_tensor_free(plan->w);
    free(plan);
}
