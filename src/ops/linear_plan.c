/* tc_linear_plan: the dense layer on constant weights. Create checks the weights
 * and chooses the variant once for small batches (up to TC_GEMV_MAX_M rows) and
 * once for larger ones; where the cpu variant runs it packs w into the GEMM's
 * 32-column panels once, so each run packs only x. */
#include <stdlib.h>

#include "ops/gemm.h"
#include "ops/linear.h"

#define OP "linear plan"

struct tc_linear_plan {
    tc_ctx *ctx;
    tc_tensor *w, *bias;  /* the plan's own views: they keep the storage alive */
    tc_tensor *w_packed;  /* w packed for the cpu variant, or NULL */
    tc_linear_shape s;
    tc_variant small, large; /* for batch <= TC_GEMV_MAX_M, and above */
};

/* The checks create makes, and its choices; touches no memory. */
static tc_status prepare(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias, const tc_linear_params *p,
                         tc_linear_plan *plan)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, OP ": ctx is NULL");
    const tc_linear_params q = p ? *p : tc_linear_defaults();
    plan->s = (tc_linear_shape){0, 0, 0, q.relu != 0};
    tc_status st = tc_linear_check_weights(ctx, OP, w, bias, &plan->s);
    if (st == TC_OK) st = tc_linear_variant(ctx, OP, q.variant, 1, &plan->s, &plan->small);
    if (st == TC_OK) st = tc_linear_variant(ctx, OP, q.variant, TC_GEMV_MAX_M + 1, &plan->s, &plan->large);
    if (st != TC_OK || (plan->small != TC_VARIANT_CPU && plan->large != TC_VARIANT_CPU)) return st;
    const uint64_t packed = (uint64_t)tc_gemm_packed_b_elems(plan->s.out, plan->s.in) * sizeof(float);
    if (ctx->info.max_alloc_bytes && packed > ctx->info.max_alloc_bytes)
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, OP ": packed weights of %llu bytes exceed the device's largest "
                       "allocation (%llu)", (unsigned long long)packed, (unsigned long long)ctx->info.max_alloc_bytes);
    return TC_OK;
}

tc_status tc_linear_plan_validate(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias, int64_t max_batch,
                                  const tc_linear_params *p)
{
    tc_linear_plan plan;
    tc_status st = prepare(ctx, w, bias, p, &plan);
    if (st != TC_OK) return st;
    if (max_batch < 0) return tc_fail(ctx, TC_ERR_INVALID_ARG, OP ": max_batch is %lld", (long long)max_batch);
    if (max_batch > TC_GEMV_MAX_M && plan.large == TC_VARIANT_GEMV)
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, OP ": the gemv variant needs batch <= %d (max_batch %lld)",
                       TC_GEMV_MAX_M, (long long)max_batch);
    int64_t nx, ny;
    if (max_batch > 0 && !ctx->is_ref &&
        (__builtin_mul_overflow(max_batch, plan.s.in, &nx) || __builtin_mul_overflow(max_batch, plan.s.out, &ny) ||
         nx >= TC_GEMM_MAX_ELEMS || ny >= TC_GEMM_MAX_ELEMS))
        return tc_fail(ctx, TC_ERR_OVERFLOW, OP ": batch %lld of %lld -> %lld features reaches 2^30 elements, "
                       "beyond the OpenCL GEMMs", (long long)max_batch, (long long)plan.s.in,
                       (long long)plan.s.out);
    return TC_OK;
}

/* A view of t holding a reference to its storage (NULL stays NULL). */
static tc_status hold(const tc_tensor *t, tc_tensor **out)
{
    *out = NULL;
    /* reshape only adds a reference to the storage; t itself is not changed */
    return t ? tc_tensor_reshape((tc_tensor *)t, t->ndim, t->dims, out) : TC_OK;
}

/* Packs w for the cpu variant into plan->w_packed (a tensor: counted memory). */
static tc_status pack_weights(tc_linear_plan *plan)
{
    tc_ctx *ctx = plan->ctx;
    const int64_t n[1] = {(int64_t)tc_gemm_packed_b_elems(plan->s.out, plan->s.in)};
    tc_status st = tc_tensor_create(ctx, TC_DTYPE_F32, 1, n, &plan->w_packed);
    if (st != TC_OK) return st;
    const tc_gemm_desc g = {.n = plan->s.out, .k = plan->s.in, .trans_b = 1, .b = tc_buf(plan->w),
                            .b_off = tc_off(plan->w)};
    tc_op_begin(ctx, "linear_pack", TC_VARIANT_CPU, 0.0, 8.0 * (double)plan->w->numel);
    return tc_op_end(ctx, tc_gemm_pack_b(ctx, &g, tc_buf(plan->w_packed)));
}

tc_status tc_linear_plan_create(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias, const tc_linear_params *p,
                                tc_linear_plan **out)
{
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, OP ": out is NULL");
    *out = NULL;
    tc_linear_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    plan->ctx = ctx;
    tc_status st = prepare(ctx, w, bias, p, plan);
    if (st == TC_OK) st = hold(w, &plan->w);
    if (st == TC_OK) st = hold(bias, &plan->bias);
    if (st == TC_OK && (plan->small == TC_VARIANT_CPU || plan->large == TC_VARIANT_CPU)) st = pack_weights(plan);
    if (st != TC_OK) {
        tc_linear_plan_free(plan);
        return st;
    }
    *out = plan;
    return TC_OK;
}

tc_status tc_linear_plan_run(tc_linear_plan *plan, const tc_tensor *x, tc_tensor *y)
{
    if (!plan) return tc_fail(NULL, TC_ERR_INVALID_ARG, OP ": plan is NULL");
    tc_linear_shape s = plan->s;
    tc_status st = tc_linear_check_io(plan->ctx, OP, x, y, plan->w, plan->bias, &s);
    if (st != TC_OK) return st;
    const tc_variant v = s.b <= TC_GEMV_MAX_M ? plan->small : plan->large;
    return tc_linear_launch(plan->ctx, x, plan->w, plan->w_packed, plan->bias, y, &s, v);
}

tc_variant tc_linear_plan_variant(const tc_linear_plan *plan, int64_t batch)
{
    if (!plan || batch < 1) return TC_VARIANT_AUTO;
    return batch <= TC_GEMV_MAX_M ? plan->small : plan->large;
}

void tc_linear_plan_free(tc_linear_plan *plan)
{
    if (!plan) return;
    tc_tensor_free(plan->w_packed);
    tc_tensor_free(plan->bias);
    tc_tensor_free(plan->w);
    free(plan);
}
