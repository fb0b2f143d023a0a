/* Quantized linear plans: x quantized (or taken as int8), the integer GEMM against
 * the s8 weight rows (trans_b), its output stage straight into y. */
#include <stdlib.h>

#include "ops/qlayer.h"

struct tc_qlinear_plan {
    tc_qcore c;
};

tc_qlinear_params tc_qlinear_defaults(void)
{
    return (tc_qlinear_params){TC_DTYPE_U8, 1.0f, 0, 0, TC_VARIANT_AUTO};
}

static tc_qin qin_of(const tc_qlinear_params *p)
{
    const tc_qlinear_params def = tc_qlinear_defaults();
    if (!p) p = &def;
    return (tc_qin){p->in_dtype, p->in_scale, p->in_zero_point, p->relu, p->variant};
}

tc_status tc_qlinear_plan_validate(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias,
                                   const tc_qlinear_params *p)
{
    const tc_qin in = qin_of(p);
    tc_variant v;
    return tc_qcore_validate(ctx, "qlinear", w, 2, bias, &in, &v);
}

tc_status tc_qlinear_plan_create(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias, const tc_qlinear_params *p,
                                 tc_qlinear_plan **out)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "qlinear plan: ctx is NULL");
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "qlinear plan: out is NULL");
    *out = NULL;
    tc_qlinear_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "qlinear plan: out of host memory");
    const tc_qin in = qin_of(p);
    tc_status st = tc_qcore_init(&plan->c, ctx, "qlinear", w, 2, bias, &in);
    if (st != TC_OK) {
        tc_qlinear_plan_free(plan);
        return st;
    }
    *out = plan;
    return TC_OK;
}

tc_status tc_qlinear_plan_run(tc_qlinear_plan *plan, const tc_tensor *x, tc_tensor *y)
{
    if (!plan) return tc_fail(NULL, TC_ERR_INVALID_ARG, "qlinear plan: plan is NULL");
    tc_qcore *c = &plan->c;
    const int64_t xd[2] = {-1, c->k};
    tc_status st = tc_qcore_check_x(c, x, xd);
    if (st != TC_OK) return st;
    const int64_t yd[2] = {x->dims[0], c->nout};
    if ((st = tc_qcore_check_y(c, y, yd, x)) != TC_OK) return st;
    const double b = (double)x->dims[0];
    tc_op_begin(c->ctx, "qlinear", c->v, 2.0 * b * (double)c->k * (double)c->nout,
                b * (double)c->k * (double)tc_dtype_size(x->dtype) + (double)(c->k * c->nout) + (double)y->bytes);
    const tc_tensor *xq;
    st = tc_qcore_input(c, x, &xq);
    if (st == TC_OK) st = tc_igemm_plan_run(c->gemm, xq, y);
    return tc_op_end(c->ctx, st);
}

tc_variant tc_qlinear_plan_variant(const tc_qlinear_plan *plan) { return plan ? plan->c.v : TC_VARIANT_AUTO; }

void tc_qlinear_plan_free(tc_qlinear_plan *plan)
{
    if (!plan) return;
    tc_qcore_release(&plan->c);
    free(plan);
}
