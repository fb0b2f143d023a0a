/* Plans for ops on constant weights (ARM Compute Library's validate -> configure /
 * prepare -> run): a plan validates the weights once, chooses the variant once and
 * packs or transforms the weights once; each run only checks the activation and
 * enqueues. The one-shot calls (tc_linear, tc_conv2d) stay for weights used once.
 * A plan keeps its own references to the weights (and bias): the caller may free
 * its tensors after creating the plan, but must not write them while the plan lives
 * (a variant may have packed them at create). A plan belongs to its context and is
 * used from one thread at a time. */
#ifndef TINYCL_PLAN_H
#define TINYCL_PLAN_H

#include "tinycl/conv2d.h"
#include "tinycl/layers.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef struct tc_linear_plan tc_linear_plan;
typedef struct tc_conv2d_plan tc_conv2d_plan;

/* y[B, out] = x[B, in] * w[out, in]^T (+ bias[out]) (ReLU) for any B up to
 * max_batch (0: no limit). Validate only: checks w, bias and p as create would,
 * allocates and touches no memory. */
tc_status tc_linear_plan_validate(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias, int64_t max_batch,
                                  const tc_linear_params *p);
/* Chooses the variant once for batches up to 8 and once for larger ones (p->variant
 * for both when given); where the cpu variant may run, packs a copy of w (about
 * w's size, counted in the context's memory) so runs pack only x. */
tc_status tc_linear_plan_create(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias, const tc_linear_params *p,
                                tc_linear_plan **out);
/* x [B, in] -> y [B, out]; the same checks as tc_linear on x and y. */
tc_status tc_linear_plan_run(tc_linear_plan *plan, const tc_tensor *x, tc_tensor *y);
/* The variant a run of this batch uses (AUTO for a NULL plan or a batch below 1). */
tc_variant tc_linear_plan_variant(const tc_linear_plan *plan, int64_t batch);
void tc_linear_plan_free(tc_linear_plan *plan);

/* conv2d on x [N, C, H, W] with C, H, W fixed at create (x_chw) and any N. The
 * bias, if any, is p->bias; p NULL: tc_conv2d_defaults(). Validate only: checks
 * what create checks, no memory touched. run: the checks of tc_conv2d on x and y.
 * tc_conv2d_plan_variant: the variant chosen at create (AUTO for a NULL plan). */
tc_status tc_conv2d_plan_validate(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], const tc_conv2d_params *p);
tc_status tc_conv2d_plan_create(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], const tc_conv2d_params *p,
                                tc_conv2d_plan **out);
tc_status tc_conv2d_plan_run(tc_conv2d_plan *plan, const tc_tensor *x, tc_tensor *y);
tc_variant tc_conv2d_plan_variant(const tc_conv2d_plan *plan);
void tc_conv2d_plan_free(tc_conv2d_plan *plan);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
