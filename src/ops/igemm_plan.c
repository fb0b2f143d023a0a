/* Integer GEMM plans for constant B: B's column sums, packing, bias and zero points
 * once at create; each run packs A, refreshes the output stage's multipliers only when
 * A's or C's scale changed, and launches. */
#include <stdlib.h>
#include <string.h>

#include "iface.h"
#include "ops/host.h"
#include "ops/igemm.h"

struct tc_igemm_plan {
    tc_ctx *ctx;
    tc_variant v;
    tc_ig_weights w;        /* its arrays point into the copies below; w.p.bias is NULL */
    float *b_scale;
    int32_t *b_zero, *mult, *shift;
    int8_t *hb;             /* REF: B and the bias on the host */
    int32_t *hbias;
    cl_mem bp, colp;        /* OpenCL: packed B, per-column parameters */
    size_t dev_bytes;
    int cols_mode;          /* the output stage written into colp: -1 none yet */
    float cols_sa, cols_sc;
};

tc_status tc_igemm_plan_validate(tc_ctx *ctx, const tc_tensor *b, const tc_igemm_params *p)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "igemm plan: ctx is NULL");
    const tc_igemm_params def = tc_igemm_defaults();
    tc_ig_weights w;
    tc_variant v;
    tc_status st = tc_ig_check_b(ctx, b, p ? p : &def, &w);
    return st == TC_OK ? tc_ig_variant(ctx, w.p.variant, &v) : st;
}

void tc_igemm_plan_free(tc_igemm_plan *plan)
{
    if (!plan) return;
    if (plan->bp) clReleaseMemObject(plan->bp);
    if (plan->colp) clReleaseMemObject(plan->colp);
    tc_mem_sub(plan->ctx, plan->dev_bytes);
    free(plan->b_scale);
    free(plan->b_zero);
    free(plan->mult);
    free(plan->shift);
    free(plan->hb);
    free(plan->hbias);
    tc_ctx_free(plan->ctx);
    free(plan);
}

static void *copy(const void *src, size_t bytes, int *ok)
{
    if (!src || !bytes) return NULL;
    void *d = malloc(bytes);
    if (d)
        memcpy(d, src, bytes);
    else
        *ok = 0;
    return d;
}

static tc_status create_cl(tc_igemm_plan *plan, const tc_tensor *b, const tc_tensor *bias)
{
    tc_ctx *ctx = plan->ctx;
    const tc_ig_weights *w = &plan->w;
    const size_t col_bytes = (size_t)w->n * sizeof(cl_int);
    const size_t b_bytes = (size_t)(tc_ig_np(plan->v, w->n) * tc_ig_kp(w->k)), c_bytes = IG_COLP * col_bytes;
    cl_int err;
    plan->bp = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, b_bytes, NULL, &err);
    if (err == CL_SUCCESS) plan->colp = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, c_bytes, NULL, &err);
    if (err != CL_SUCCESS) return tc_fail_cl(ctx, err, "igemm plan: clCreateBuffer");
    plan->dev_bytes = b_bytes + c_bytes;
    tc_mem_add(ctx, plan->dev_bytes);
    const cl_int zero = 0;
    if (bias)
        err = clEnqueueCopyBuffer(ctx->queue, tc_buf(bias), plan->colp, (size_t)tc_off(bias) * sizeof(cl_int),
                                  IG_BIAS * col_bytes, col_bytes, 0, NULL, NULL);
    else
        err = clEnqueueFillBuffer(ctx->queue, plan->colp, &zero, sizeof zero, IG_BIAS * col_bytes, col_bytes, 0,
                                  NULL, NULL);
    if (err != CL_SUCCESS) return tc_fail_cl(ctx, err, "igemm plan: writing the bias");
    tc_status st = tc_ig_pack_b(ctx, plan->v, b, w->p.trans_b, w->n, w->k, plan->bp, plan->colp);
    /* the caller may change or free B and the bias once create returns */
    return st == TC_OK ? tc_ctx_finish(ctx) : st;
}

static tc_status create_ref(tc_igemm_plan *plan, const tc_tensor *b, const tc_tensor *bias)
{
    void *hb = NULL, *hbias = NULL;
    int ok = 1;
    tc_status st = tc_host_get(b, &hb);
    if (st == TC_OK) st = tc_host_get(bias, &hbias);
    if (st == TC_OK) {
        plan->hb = copy(hb, b->bytes, &ok);
        plan->hbias = copy(hbias, bias ? bias->bytes : 0, &ok);
        if (!ok) st = tc_fail(plan->ctx, TC_ERR_OUT_OF_MEMORY, "igemm plan: out of host memory");
    }
    tc_host_put(bias, hbias);
    tc_host_put(b, hb);
    return st;
}

tc_status tc_igemm_plan_create(tc_ctx *ctx, const tc_tensor *b, const tc_igemm_params *p, tc_igemm_plan **out)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "igemm plan: ctx is NULL");
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "igemm plan: out is NULL");
    *out = NULL;
    const tc_igemm_params def = tc_igemm_defaults();
    tc_ig_weights w;
    tc_variant v;
    tc_status st = tc_ig_check_b(ctx, b, p ? p : &def, &w);
    if (st == TC_OK) st = tc_ig_variant(ctx, w.p.variant, &v);
    if (st != TC_OK) return st;
    tc_igemm_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "igemm plan: out of host memory");
    plan->ctx = ctx;
    tc_ctx_retain(ctx); /* the plan's buffers are counted in ctx: it outlives a tc_ctx_free */
    plan->v = v;
    plan->cols_mode = -1;
    int ok = 1;
    plan->b_scale = copy(w.b_scale, (size_t)w.bq_count * sizeof(float), &ok);
    plan->b_zero = copy(w.b_zero, (size_t)w.bq_count * sizeof(int32_t), &ok);
    if (w.p.multiplier) {
        plan->mult = copy(w.p.multiplier, (size_t)w.p.nmult * sizeof(int32_t), &ok);
        plan->shift = copy(w.p.shift, (size_t)w.p.nmult * sizeof(int32_t), &ok);
    }
    plan->w = w;
    plan->w.b_scale = plan->b_scale;
    plan->w.b_zero = plan->b_zero;
    plan->w.p.multiplier = plan->mult;
    plan->w.p.shift = plan->shift;
    plan->w.p.bias = NULL;
    st = !ok ? tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "igemm plan: out of host memory")
         : v == TC_VARIANT_REF ? create_ref(plan, b, w.p.bias)
                               : create_cl(plan, b, w.p.bias);
    if (st != TC_OK) {
        tc_igemm_plan_free(plan);
        return st;
    }
    *out = plan;
    return TC_OK;
}

tc_variant tc_igemm_plan_variant(const tc_igemm_plan *plan) { return plan ? plan->v : TC_VARIANT_AUTO; }

/* Writes the output stage's per-column parameters when they differ from the last run's. */
static tc_status update_cols(tc_igemm_plan *plan, const tc_ig_call *s)
{
    const int mode = s->flags & IG_OUT_MASK;
    if (plan->cols_mode == mode && plan->cols_sa == s->sa && plan->cols_sc == s->sc) return TC_OK;
    tc_ig_cols cols;
    memset(&cols, 0, sizeof cols);
    tc_status st = tc_ig_cols_make(plan->ctx, &plan->w, s, &cols);
    if (st == TC_OK) st = tc_ig_write_cols(plan->ctx, plan->colp, plan->w.n, &cols);
    tc_ig_cols_free(&cols);
    if (st == TC_OK) plan->cols_mode = mode, plan->cols_sa = s->sa, plan->cols_sc = s->sc;
    return st;
}

tc_status tc_igemm_plan_run(tc_igemm_plan *plan, const tc_tensor *a, tc_tensor *c)
{
    if (!plan) return tc_fail(NULL, TC_ERR_INVALID_ARG, "igemm plan: plan is NULL");
    tc_ctx *ctx = plan->ctx;
    tc_ig_call s;
    tc_status st = tc_ig_check_ac(ctx, a, c, &plan->w, &s);
    if (st != TC_OK) return st;
    double flops, bytes;
    tc_ig_counts(&plan->w, &s, &flops, &bytes);
    tc_op_begin(ctx, "igemm", plan->v, flops, bytes);
    if (plan->v == TC_VARIANT_REF) {
        st = tc_ig_run_ref(ctx, a, c, &plan->w, &s, plan->hb, plan->hbias);
    } else {
        st = update_cols(plan, &s);
        if (st == TC_OK) st = tc_ig_run_cl(ctx, plan->v, a, c, &plan->w, &s, plan->bp, plan->colp);
    }
    return tc_op_end(ctx, st);
}
