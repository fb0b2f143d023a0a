/* Plans on pruned weights: a dense layer that runs sparse above the device's
 * breakeven sparsity (dense below it), and a convolution through the sparse
 * product of its im2col. The sparse format is built once, at create. */
#include <stdlib.h>

#include "ops/conv2d.h"
#include "ops/gemm.h"
#include "ops/host.h"
#include "ops/layer.h"
#include "ops/linear.h"
#include "ops/sparse.h"

#define LIN "sparse linear plan"
#define CONV "sparse conv2d plan"

/* A view of all of t holding a reference to its storage (NULL stays NULL). */
static tc_status hold(const tc_tensor *t, tc_tensor **out)
{
    *out = NULL;
    return t ? tc_tensor_view((tc_tensor *)t, 0, t->ndim, t->dims, out) : TC_OK;
}

static tc_status info_of(const tc_sparse *a, tc_ctx *ctx, const char *op, tc_sparse_info *out)
{
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: out is NULL", op);
    if (a) return tc_sparse_info_get(a, out);
    *out = (tc_sparse_info){0};
    return TC_OK;
}

/* ---- sparse linear ------------------------------------------------------------ */

struct tc_sparse_linear_plan {
    tc_ctx *ctx;
    tc_linear_shape s;
    tc_tensor *bias;
    tc_linear_plan *dense; /* when a batch class runs dense */
    tc_sparse *a;          /* when a batch class runs sparse */
    tc_variant v;          /* the sparse variant */
    int sparse[2];         /* per class: batch <= TC_GEMV_MAX_M, and above */
    double sparsity;
};

tc_sparse_linear_params tc_sparse_linear_defaults(void)
{
    return (tc_sparse_linear_params){0, TC_SPARSE_AUTO, TC_VARIANT_AUTO};
}

tc_status tc_sparse_linear_plan_create(tc_ctx *ctx, const tc_tensor *w, const tc_tensor *bias,
                                       const tc_sparse_linear_params *p, tc_sparse_linear_plan **out)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, LIN ": ctx is NULL");
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, LIN ": out is NULL");
    *out = NULL;
    const tc_sparse_linear_params q = p ? *p : tc_sparse_linear_defaults();
    tc_linear_shape s = {0, 0, 0, q.relu != 0};
    tc_variant v;
    tc_status st = tc_linear_check_weights(ctx, LIN, w, bias, &s);
    if (st == TC_OK && (q.format < 0 || q.format >= TC_SPARSE_FORMAT_COUNT))
        st = tc_fail(ctx, TC_ERR_INVALID_ARG, LIN ": invalid sparse format %d", (int)q.format);
    if (st == TC_OK) st = tc_sparse_variant(ctx, LIN, q.variant, &v);
    if (st != TC_OK) return st;
    tc_sparse_linear_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, LIN ": out of host memory");
    *plan = (tc_sparse_linear_plan){.ctx = ctx, .s = s, .v = v};
    st = tc_sparsity(w, &plan->sparsity);
    /* AUTO: per batch class, sparse from the breakeven measured for the device */
    const tc_par_sparse *ps = &ctx->params.sparse;
    const int auto_ = q.variant == TC_VARIANT_AUTO;
    plan->sparse[0] = !auto_ || 100.0 * plan->sparsity >= ps->breakeven_b1;
    plan->sparse[1] = !auto_ || 100.0 * plan->sparsity >= ps->breakeven_b32;
    if (st == TC_OK) st = hold(bias, &plan->bias);
    if (st == TC_OK && (!plan->sparse[0] || !plan->sparse[1])) {
        const tc_linear_params lp = {s.relu, TC_VARIANT_AUTO};
        st = tc_linear_plan_create(ctx, w, bias, &lp, &plan->dense);
    }
    if (st == TC_OK && (plan->sparse[0] || plan->sparse[1])) {
        tc_op_begin(ctx, "sparse_linear_build", v, 0, 4.0 * (double)w->numel);
        st = tc_op_end(ctx, tc_sparse_build(ctx, LIN, w, 1, q.format, &plan->a));
    }
    if (st != TC_OK) {
        tc_sparse_linear_plan_free(plan);
        return st;
    }
    *out = plan;
    return TC_OK;
}

static int batch_class(int64_t batch) { return batch > TC_GEMV_MAX_M; }

tc_status tc_sparse_linear_plan_run(tc_sparse_linear_plan *plan, const tc_tensor *x, tc_tensor *y)
{
    if (!plan) return tc_fail(NULL, TC_ERR_INVALID_ARG, LIN ": plan is NULL");
    tc_linear_shape s = plan->s;
    tc_status st = tc_linear_check_io(plan->ctx, LIN, x, y, NULL, plan->bias, &s);
    if (st != TC_OK) return st;
    if (!plan->sparse[batch_class(s.b)]) return tc_linear_plan_run(plan->dense, x, y);
    return tc_spmm_run(plan->ctx, "sparse_linear", plan->a, x, y, plan->bias, s.relu, plan->v);
}

int tc_sparse_linear_plan_is_sparse(const tc_sparse_linear_plan *plan, int64_t batch)
{
    return plan && batch >= 1 && plan->sparse[batch_class(batch)];
}

tc_variant tc_sparse_linear_plan_variant(const tc_sparse_linear_plan *plan, int64_t batch)
{
    if (!plan || batch < 1) return TC_VARIANT_AUTO;
    return plan->sparse[batch_class(batch)] ? plan->v : tc_linear_plan_variant(plan->dense, batch);
}

double tc_sparse_linear_plan_sparsity(const tc_sparse_linear_plan *plan) { return plan ? plan->sparsity : 0.0; }

tc_status tc_sparse_linear_plan_info(const tc_sparse_linear_plan *plan, tc_sparse_info *out)
{
    if (!plan) return tc_fail(NULL, TC_ERR_INVALID_ARG, LIN ": plan is NULL");
    return info_of(plan->a, plan->ctx, LIN, out);
}

void tc_sparse_linear_plan_free(tc_sparse_linear_plan *plan)
{
    if (!plan) return;
    tc_linear_plan_free(plan->dense);
    tc_sparse_free(plan->a);
    tc_tensor_free(plan->bias);
    free(plan);
}

/* ---- sparse conv2d ----------------------------------------------------------- */

struct tc_sparse_conv2d_plan {
    tc_conv c;    /* geometry and checks (set up as conv2d's im2col variant) */
    tc_sparse *a; /* [K, C/groups * R * S] with each group's columns in its channels */
    tc_tensor *bias;
    tc_variant v;
};

tc_status tc_sparse_conv2d_plan_create(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3],
                                       const tc_conv2d_params *p, tc_sparse_format format,
                                       tc_sparse_conv2d_plan **out)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, CONV ": ctx is NULL");
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, CONV ": out is NULL");
    *out = NULL;
    tc_conv2d_params q = p ? *p : tc_conv2d_defaults();
    tc_variant v;
    tc_status st = tc_sparse_variant(ctx, CONV, q.variant, &v);
    if (st != TC_OK) return st;
    q.variant = ctx->is_ref ? TC_VARIANT_REF : TC_VARIANT_IM2COL;
    tc_sparse_conv2d_plan *plan = calloc(1, sizeof *plan);
    if (!plan) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, CONV ": out of host memory");
    plan->v = v;
    st = tc_conv_setup(ctx, w, x_chw, 0, &q, &plan->c);
    if (st == TC_OK) st = hold(q.bias, &plan->bias);
    if (st == TC_OK) {
        plan->c.w = NULL, plan->c.bias = plan->bias; /* the weights live on in plan->a alone */
        tc_op_begin(ctx, "sparse_conv2d_build", v, 0, 4.0 * (double)w->numel);
        st = tc_op_end(ctx, tc_sparse_build(ctx, CONV, w, q.groups, format, &plan->a));
    }
    if (st != TC_OK) {
        tc_sparse_conv2d_plan_free(plan);
        return st;
    }
    *out = plan;
    return TC_OK;
}

typedef struct {
    tc_ref_bsr a;
    tc_conv_dims d;
    int relu;
} conv_args;

static int conv_host_fn(void *const *in, void *out, const void *args)
{
    const conv_args *r = args;
    tc_ref_bsr a = r->a;
    a.rowptr = in[1], a.colidx = in[2], a.values = in[3];
    tc_ref_sparse_conv2d(&a, in[0], in[4], out, &r->d, r->relu);
    return 0;
}

tc_status tc_sparse_conv2d_plan_run(tc_sparse_conv2d_plan *plan, const tc_tensor *x, tc_tensor *y)
{
    if (!plan) return tc_fail(NULL, TC_ERR_INVALID_ARG, CONV ": plan is NULL");
    tc_conv *c = &plan->c;
    tc_status st = tc_conv_check_io(c, x, y);
    if (st != TC_OK) return st;
    const tc_sparse *a = plan->a;
    const tc_conv_dims *d = &c->d;
    const int64_t pq = d->p * d->q;
    const double bytes = 4.0 * ((double)(a->nnzb * a->br * a->bc + a->nnzb + a->mb + 1) + (double)x->numel +
                                (double)y->numel);
    tc_op_begin(c->ctx, "sparse_conv2d", plan->v, 2.0 * (double)a->nnz * (double)(d->n * pq), bytes);
    if (plan->v == TC_VARIANT_REF) {
        const conv_args args = {{a->br, a->bc, a->rows, a->cols, a->mb, NULL, NULL, NULL}, *d, c->relu};
        const tc_tensor *in[5] = {x, a->rowptr, a->colidx, a->values, plan->bias};
        return tc_op_end(c->ctx, tc_host_run(c->ctx, 5, in, y, conv_host_fn, &args));
    }
    for (int64_t n = 0; st == TC_OK && n < d->n; n++) {
        tc_spmm_desc sd = {.y = tc_buf(y),
                           .bias = plan->bias ? tc_buf(plan->bias) : NULL,
                           .y_off = tc_off(y) + (cl_ulong)(n * d->k * pq),
                           .bias_off = plan->bias ? tc_off(plan->bias) : 0,
                           .n = pq,
                           .ld = pq,
                           .ys_row = pq,
                           .ys_col = 1,
                           .relu = c->relu};
        st = tc_conv_columns(c, x, n, &sd.xt, &sd.xt_off);
        if (st == TC_OK) st = tc_spmm_cl(c->ctx, a, plan->v, &sd);
    }
    return tc_op_end(c->ctx, st);
}

tc_variant tc_sparse_conv2d_plan_variant(const tc_sparse_conv2d_plan *plan)
{
    return plan ? plan->v : TC_VARIANT_AUTO;
}

tc_status tc_sparse_conv2d_plan_info(const tc_sparse_conv2d_plan *plan, tc_sparse_info *out)
{
    if (!plan) return tc_fail(NULL, TC_ERR_INVALID_ARG, CONV ": plan is NULL");
    return info_of(plan->a, plan->c.ctx, CONV, out);
}

void tc_sparse_conv2d_plan_free(tc_sparse_conv2d_plan *plan)
{
    if (!plan) return;
    tc_sparse_free(plan->a);
    tc_tensor_free(plan->bias);
    free(plan);
}
