/* linear: every variant against ref and bad input; its plan: the same results as
 * the one-shot call, bad input, validation without memory, weights held; flatten:
 * a view, no copy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ops/gemm.h"
#include "ref/ref.h"

static void test_linear_all_variants(void **state)
{
    (void)state;
    th_check_op("linear");
}

static void test_linear_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    float *hy;
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(4, 5), NULL), *w = th_tensor(ctx, 2, TH_DIMS(6, 5), NULL);
    tc_tensor *bias = th_tensor(ctx, 1, TH_DIMS(6), NULL), *y = th_tensor(ctx, 2, TH_DIMS(4, 6), &hy);
    tc_tensor *w_t = th_tensor(ctx, 2, TH_DIMS(5, 6), NULL), *bias5 = th_tensor(ctx, 1, TH_DIMS(5), NULL);
    tc_tensor *y_wrong = th_tensor(ctx, 2, TH_DIMS(6, 4), NULL), *x3 = th_tensor(ctx, 3, TH_DIMS(1, 4, 5), NULL);
    tc_tensor *w_other = th_tensor(other, 2, TH_DIMS(6, 5), NULL), *x_s8 = NULL, *y_on_bias = NULL;
    tc_tensor *big_bias = th_tensor(ctx, 2, TH_DIMS(4, 6), NULL);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 2, TH_DIMS(4, 5), &x_s8), TC_OK);
    assert_int_equal(tc_tensor_reshape(big_bias, 2, TH_DIMS(4, 6), &y_on_bias), TC_OK);

    th_expect(NULL, tc_linear(NULL, x, w, bias, y, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "linear: ctx is NULL");
    th_expect(ctx, tc_linear(ctx, NULL, w, bias, y, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "linear: x is NULL");
    th_expect(ctx, tc_linear(ctx, x, NULL, bias, y, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "linear: w is NULL");
    th_expect(ctx, tc_linear(ctx, x, w, bias, NULL, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "linear: y is NULL");
    th_expect(ctx, tc_linear(ctx, x, w_t, bias5, y, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_ERR_SHAPE, "x has 5 features, w has 6");
    th_expect(ctx, tc_linear(ctx, x, w, bias, y_wrong, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_ERR_SHAPE, "y is 6x4, expected 4x6");
    th_expect(ctx, tc_linear(ctx, x, w, bias5, y, &(tc_linear_params){1, TC_VARIANT_AUTO}), TC_ERR_SHAPE, "bias has 5 elements, expected 6");
    th_expect(ctx, tc_linear(ctx, x3, w, bias, y, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_ERR_SHAPE, "x has 3 dimensions");
    th_expect(ctx, tc_linear(ctx, x_s8, w, bias, y, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_ERR_DTYPE, "x is s8");
    th_expect(ctx, tc_linear(ctx, x, w_other, bias, y, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_ERR_CONTEXT, "w belongs to another context");
    th_expect(ctx, tc_linear(ctx, x, w, big_bias, y_on_bias, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_ERR_SHAPE, "bias has 24 elements");
    tc_tensor *bias_view = NULL;
    assert_int_equal(tc_tensor_reshape(big_bias, 1, TH_DIMS(24), &bias_view), TC_OK);
    tc_tensor *w24 = th_tensor(ctx, 2, TH_DIMS(24, 5), NULL), *y24 = th_tensor(ctx, 2, TH_DIMS(1, 24), NULL);
    tc_tensor *x1 = th_tensor(ctx, 2, TH_DIMS(1, 5), NULL), *y_alias = NULL;
    assert_int_equal(tc_tensor_reshape(big_bias, 2, TH_DIMS(1, 24), &y_alias), TC_OK);
    th_expect(ctx, tc_linear(ctx, x1, w24, bias_view, y_alias, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "share storage with bias");
    assert_true(th_unchanged(y, hy));
    assert_int_equal(tc_linear(ctx, x1, w24, bias_view, y24, &(tc_linear_params){1, TC_VARIANT_AUTO}), TC_OK);
    assert_int_equal(tc_linear(ctx, x, w, NULL, y, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_OK);
    assert_false(th_unchanged(y, hy));

    tc_tensor *all[] = {x, w, bias, y, w_t, bias5, y_wrong, x3, x_s8, y_on_bias, big_bias, bias_view, w24, y24, x1,
                        y_alias};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(w_other);
    free(hy);
    assert_int_equal(tc_ctx_mem_current(ctx) - ctx->scratch_bytes[0] - ctx->scratch_bytes[1], 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

/* A view of dims at element offset `off` (odd) inside a random 1-D tensor with a
 * few more elements; *base is that tensor, *host its contents from the view on. */
static tc_tensor *view_at(tc_ctx *ctx, int64_t off, int ndim, const int64_t *dims, tc_tensor **base, float **host)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    float *all;
    tc_tensor *v = NULL;
    *base = th_tensor(ctx, 1, TH_DIMS(off + n + 2), &all);
    assert_int_equal(tc_tensor_view(*base, off, ndim, dims, &v), TC_OK);
    *host = malloc((size_t)n * sizeof **host);
    assert_non_null(*host);
    memcpy(*host, all + off, (size_t)n * sizeof **host);
    free(all);
    return v;
}

static void read_all(const tc_tensor *t, float *dst) { assert_int_equal(tc_tensor_read(t, dst, tc_tensor_bytes(t)), TC_OK); }

/* For each shape and variant: a plan on views at odd offsets writes exactly what
 * tc_linear writes (the same kernels on the same data), which matches the host
 * reference; the plan chose the variant tc_linear runs for that batch. */
static void test_linear_plan_matches_oneshot(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    static const int64_t shapes[][5] = {/* batch, in, out, bias, relu */
                                        {1, 64, 128, 1, 1}, {3, 17, 127, 0, 1}, {17, 3, 1000, 1, 0},
                                        {100, 257, 96, 1, 1}, {9, 1000, 17, 1, 0}};
    /* ref: AUTO and REF; openblas: and OPENBLAS; OpenCL: and its kernels */
    const tc_variant blas_variants[] = {TC_VARIANT_AUTO, TC_VARIANT_REF, TC_VARIANT_OPENBLAS};
    const tc_variant cl_variants[] = {TC_VARIANT_AUTO, TC_VARIANT_REF, TC_VARIANT_CPU, TC_VARIANT_GPU,
                                      TC_VARIANT_GEMV};
    const tc_variant *vars = tc_ctx_host_blas(ctx) ? blas_variants : cl_variants;
    const int nvar = tc_ctx_host_blas(ctx) ? 3 : tc_ctx_is_ref(ctx) ? 2 : (int)(sizeof cl_variants / sizeof cl_variants[0]);
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const int64_t b = shapes[si][0], in = shapes[si][1], out = shapes[si][2];
        tc_tensor *xb, *wb, *bb, *yb, *yb1;
        float *hx, *hw, *hbias, *hy, *hy1;
        tc_tensor *x = view_at(ctx, 3, 2, TH_DIMS(b, in), &xb, &hx), *w = view_at(ctx, 5, 2, TH_DIMS(out, in), &wb, &hw);
        tc_tensor *bias = view_at(ctx, 7, 1, TH_DIMS(out), &bb, &hbias);
        tc_tensor *y = view_at(ctx, 1, 2, TH_DIMS(b, out), &yb, &hy), *y1 = view_at(ctx, 9, 2, TH_DIMS(b, out), &yb1, &hy1);
        const tc_tensor *bias_or_null = shapes[si][3] ? bias : NULL;
        float *want = malloc((size_t)(b * out) * sizeof *want), *got = malloc((size_t)(b * out) * sizeof *got);
        float *got1 = malloc((size_t)(b * out) * sizeof *got1);
        assert_true(want && got && got1);
        assert_int_equal(tc_ref_linear(hx, hw, shapes[si][3] ? hbias : NULL, want, b, out, in, (int)shapes[si][4]), 0);
        for (int vi = 0; vi < nvar; vi++) {
            const tc_linear_params p = {(int)shapes[si][4], vars[vi]};
            tc_linear_plan *plan = NULL;
            assert_int_equal(tc_linear_plan_create(ctx, w, bias_or_null, &p, &plan), TC_OK);
            tc_status s1 = tc_linear(ctx, x, w, bias_or_null, y1, &p), s2 = tc_linear_plan_run(plan, x, y);
            assert_int_equal(s1, s2);
            if (s1 == TC_ERR_UNSUPPORTED) { /* gemv beyond its batch, alike for both */
                assert_int_equal(vars[vi], TC_VARIANT_GEMV);
                assert_true(b > TC_GEMV_MAX_M);
                tc_linear_plan_free(plan);
                continue;
            }
            assert_int_equal(s1, TC_OK);
            read_all(y, got);
            read_all(y1, got1);
            if (memcmp(got, got1, (size_t)(b * out) * sizeof *got) != 0)
                fail_msg("batch %lld in %lld out %lld variant %s: the plan differs from tc_linear", (long long)b,
                         (long long)in, (long long)out, tc_variant_name(vars[vi]));
            double maxref = 0, maxdiff = 0;
            for (int64_t i = 0; i < b * out; i++) {
                maxref = fmax(maxref, fabs(want[i]));
                maxdiff = fmax(maxdiff, fabs((double)got[i] - want[i]));
            }
            assert_true(maxdiff <= 1e-4 * maxref);
            const tc_variant chosen = tc_linear_plan_variant(plan, b);
            if (vars[vi] != TC_VARIANT_AUTO) assert_int_equal(chosen, vars[vi]);
            else assert_int_equal(chosen, tc_matmul_auto_variant(ctx, b, out, in, 0, 1));
            tc_linear_plan_free(plan);
        }
        tc_tensor *all[] = {x, w, bias, y, y1, xb, wb, bb, yb, yb1};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
        free(hx), free(hw), free(hbias), free(hy), free(hy1), free(want), free(got), free(got1);
    }
    assert_int_equal(tc_ctx_mem_current(ctx) - ctx->scratch_bytes[0] - ctx->scratch_bytes[1], 0);
    tc_ctx_free(ctx);
}

/* Validation touches no memory and launches nothing; create adds exactly the
 * packed weights where the cpu variant may run (nothing for gemv alone), and a
 * plan run of the cpu variant packs only x (one launch fewer than tc_linear). */
static void test_linear_plan_memory(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_tensor *w = th_tensor(ctx, 2, TH_DIMS(70, 40), NULL), *bias = th_tensor(ctx, 1, TH_DIMS(70), NULL);
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(20, 40), NULL), *y = th_tensor(ctx, 2, TH_DIMS(20, 70), NULL);
    tc_prof_reset(ctx);
    const size_t mem = tc_ctx_mem_current(ctx);
    const tc_variant variants[] = {TC_VARIANT_AUTO, TC_VARIANT_REF, TC_VARIANT_CPU, TC_VARIANT_GEMV};
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        const tc_linear_params p = {1, variants[i]};
        const tc_status want = tc_ctx_is_ref(ctx) && variants[i] > TC_VARIANT_REF ? TC_ERR_UNSUPPORTED : TC_OK;
        assert_int_equal(tc_linear_plan_validate(ctx, w, bias, 8, &p), want);
        assert_int_equal(tc_linear_plan_validate(ctx, w, NULL, 0, &p), want);
    }
    assert_int_equal(tc_ctx_mem_current(ctx), mem);
    assert_int_equal(tc_ctx_mem_peak(ctx), mem);
    assert_int_equal(tc_prof_count(ctx), 0);
    tc_prof_info info;
    assert_int_equal(tc_prof_info_get(ctx, &info), TC_OK);
    assert_int_equal(info.launches, 0);
    if (!tc_ctx_is_ref(ctx)) {
        tc_linear_plan *cpu = NULL, *gemv = NULL;
        assert_int_equal(tc_linear_plan_create(ctx, w, bias, &(tc_linear_params){1, TC_VARIANT_GEMV}, &gemv), TC_OK);
        assert_int_equal(tc_ctx_mem_current(ctx), mem);
        assert_int_equal(tc_linear_plan_create(ctx, w, bias, &(tc_linear_params){1, TC_VARIANT_CPU}, &cpu), TC_OK);
        assert_int_equal(tc_ctx_mem_current(ctx) - mem, tc_gemm_packed_b_elems(70, 40) * sizeof(float));
        tc_prof_reset(ctx);
        tc_prof_stat st;
        assert_int_equal(tc_linear(ctx, x, w, bias, y, &(tc_linear_params){1, TC_VARIANT_CPU}), TC_OK);
        assert_int_equal(tc_prof_get(ctx, 0, &st), TC_OK);
        const uint64_t oneshot = st.launches;
        assert_int_equal(tc_linear_plan_run(cpu, x, y), TC_OK);
        assert_int_equal(tc_prof_get(ctx, 0, &st), TC_OK);
        assert_int_equal(st.calls, 2);
        assert_int_equal(st.launches - oneshot, oneshot - 1);
        tc_linear_plan_free(cpu);
        tc_linear_plan_free(gemv);
    }
    tc_tensor_free(w), tc_tensor_free(bias), tc_tensor_free(x), tc_tensor_free(y);
    assert_int_equal(tc_ctx_mem_current(ctx) - ctx->scratch_bytes[0] - ctx->scratch_bytes[1], 0);
    tc_ctx_free(ctx);
}

/* The plan keeps its own references: freeing w and bias after create changes nothing. */
static void test_linear_plan_holds_weights(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    float *want = malloc(30 * 50 * sizeof *want), *got = malloc(30 * 50 * sizeof *got);
    assert_true(want && got);
    tc_tensor *w = th_tensor(ctx, 2, TH_DIMS(50, 33), NULL), *bias = th_tensor(ctx, 1, TH_DIMS(50), NULL);
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(30, 33), NULL), *y = th_tensor(ctx, 2, TH_DIMS(30, 50), NULL);
    tc_linear_plan *plan = NULL;
    assert_int_equal(tc_linear(ctx, x, w, bias, y, NULL), TC_OK);
    read_all(y, want);
    assert_int_equal(tc_linear_plan_create(ctx, w, bias, NULL, &plan), TC_OK);
    tc_tensor_free(w);
    tc_tensor_free(bias);
    /* reuse the freed weights' memory for something else */
    tc_tensor *junk = th_tensor(ctx, 2, TH_DIMS(50, 34), NULL);
    assert_int_equal(tc_tensor_write(y, got, 30 * 50 * sizeof *got), TC_OK);
    assert_int_equal(tc_linear_plan_run(plan, x, y), TC_OK);
    read_all(y, got);
    assert_memory_equal(got, want, 30 * 50 * sizeof *got);
    assert_int_equal(tc_linear_plan_variant(plan, 30), tc_matmul_auto_variant(ctx, 30, 50, 33, 0, 1));
    assert_int_equal(tc_linear_plan_variant(plan, 0), TC_VARIANT_AUTO);
    assert_int_equal(tc_linear_plan_variant(NULL, 1), TC_VARIANT_AUTO);
    tc_linear_plan_free(plan);
    tc_linear_plan_free(NULL);
    tc_tensor_free(junk), tc_tensor_free(x), tc_tensor_free(y);
    free(want), free(got);
    assert_int_equal(tc_ctx_mem_current(ctx) - ctx->scratch_bytes[0] - ctx->scratch_bytes[1], 0);
    tc_ctx_free(ctx);
}

/* Each bad call returns a clear status, creates no plan and leaves y as it was. */
static void test_linear_plan_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    float *hy;
    tc_tensor *w = th_tensor(ctx, 2, TH_DIMS(6, 5), NULL), *bias = th_tensor(ctx, 1, TH_DIMS(6), NULL);
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(4, 5), NULL), *y = th_tensor(ctx, 2, TH_DIMS(4, 6), &hy);
    tc_tensor *w3 = th_tensor(ctx, 3, TH_DIMS(1, 6, 5), NULL), *bias5 = th_tensor(ctx, 1, TH_DIMS(5), NULL);
    tc_tensor *x7 = th_tensor(ctx, 2, TH_DIMS(4, 7), NULL), *y5 = th_tensor(ctx, 2, TH_DIMS(4, 5), NULL);
    tc_tensor *x_other = th_tensor(other, 2, TH_DIMS(4, 5), NULL), *bias_other = th_tensor(other, 1, TH_DIMS(6), NULL);
    tc_tensor *x9 = th_tensor(ctx, 2, TH_DIMS(9, 5), NULL), *y9 = th_tensor(ctx, 2, TH_DIMS(9, 6), NULL);
    tc_tensor *w_s8 = NULL, *x_s8 = NULL, *y_on_w = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 2, TH_DIMS(6, 5), &w_s8), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 2, TH_DIMS(4, 5), &x_s8), TC_OK);
    assert_int_equal(tc_tensor_view(w, 3, 2, TH_DIMS(4, 6), &y_on_w), TC_OK);
    const tc_linear_params def = tc_linear_defaults();
    tc_linear_plan *plan = (tc_linear_plan *)&def; /* must become NULL on failure */

    th_expect(NULL, tc_linear_plan_create(NULL, w, bias, NULL, &plan), TC_ERR_INVALID_ARG, "linear plan: ctx is NULL");
    assert_null(plan);
    th_expect(ctx, tc_linear_plan_create(ctx, w, bias, NULL, NULL), TC_ERR_INVALID_ARG, "linear plan: out is NULL");
    th_expect(ctx, tc_linear_plan_create(ctx, NULL, bias, NULL, &plan), TC_ERR_INVALID_ARG, "linear plan: w is NULL");
    th_expect(ctx, tc_linear_plan_create(ctx, w_s8, bias, NULL, &plan), TC_ERR_DTYPE, "w is s8");
    th_expect(ctx, tc_linear_plan_create(ctx, w3, bias, NULL, &plan), TC_ERR_SHAPE, "w has 3 dimensions");
    th_expect(ctx, tc_linear_plan_create(ctx, w, bias5, NULL, &plan), TC_ERR_SHAPE, "bias has 5 elements, expected 6");
    th_expect(ctx, tc_linear_plan_create(ctx, w, bias_other, NULL, &plan), TC_ERR_CONTEXT, "bias belongs to another context");
    th_expect(ctx, tc_linear_plan_create(ctx, w, bias, &(tc_linear_params){0, TC_VARIANT_IM2COL}, &plan),
              TC_ERR_UNSUPPORTED, "no variant 'im2col'");
    th_expect(ctx, tc_linear_plan_create(ctx, w, bias, &(tc_linear_params){0, (tc_variant)99}, &plan),
              TC_ERR_INVALID_ARG, "invalid variant 99");
    assert_null(plan);
    th_expect(ctx, tc_linear_plan_validate(ctx, w, bias, -1, NULL), TC_ERR_INVALID_ARG, "max_batch is -1");
    th_expect(ctx, tc_linear_plan_validate(ctx, w3, bias, 1, NULL), TC_ERR_SHAPE, "w has 3 dimensions");
    if (!tc_ctx_host_blas(ctx)) {
        th_expect(ctx, tc_linear_plan_create(ctx, w, bias, &(tc_linear_params){0, TC_VARIANT_OPENBLAS}, &plan),
                  TC_ERR_UNSUPPORTED, "needs a context made with \"openblas\"");
        th_expect(ctx, tc_linear(ctx, x, w, bias, y, &(tc_linear_params){0, TC_VARIANT_OPENBLAS}),
                  TC_ERR_UNSUPPORTED, "openblas");
    }
    if (tc_ctx_is_ref(ctx)) {
        th_expect(ctx, tc_linear_plan_create(ctx, w, bias, &(tc_linear_params){0, TC_VARIANT_CPU}, &plan),
                  TC_ERR_UNSUPPORTED, "needs an OpenCL device");
        assert_int_equal(tc_linear_plan_validate(ctx, w, bias, INT64_MAX, NULL), TC_OK); /* the host has no limit */
    } else {
        /* batches the kernels cannot index: 2^28 x 5 features is fine, x 6 outputs is not */
        th_expect(ctx, tc_linear_plan_validate(ctx, w, bias, (int64_t)1 << 28, NULL), TC_ERR_OVERFLOW, "2^30");
        th_expect(ctx, tc_linear_plan_validate(ctx, w, bias, INT64_MAX, NULL), TC_ERR_OVERFLOW, "batch");
        assert_int_equal(tc_linear_plan_validate(ctx, w, bias, ((int64_t)1 << 30) / 6 - 1, NULL), TC_OK);
        const tc_linear_params gemv = {0, TC_VARIANT_GEMV};
        th_expect(ctx, tc_linear_plan_validate(ctx, w, bias, 9, &gemv), TC_ERR_UNSUPPORTED, "batch <= 8");
        assert_int_equal(tc_linear_plan_validate(ctx, w, bias, 8, &gemv), TC_OK);
        assert_int_equal(tc_linear_plan_create(ctx, w, bias, &gemv, &plan), TC_OK);
        th_expect(ctx, tc_linear_plan_run(plan, x9, y9), TC_ERR_UNSUPPORTED, "batch <= 8 (batch 9)");
        tc_linear_plan_free(plan);
    }
    assert_int_equal(tc_linear_plan_create(ctx, w, bias, NULL, &plan), TC_OK);
    th_expect(NULL, tc_linear_plan_run(NULL, x, y), TC_ERR_INVALID_ARG, "linear plan: plan is NULL");
    th_expect(ctx, tc_linear_plan_run(plan, NULL, y), TC_ERR_INVALID_ARG, "linear plan: x is NULL");
    th_expect(ctx, tc_linear_plan_run(plan, x, NULL), TC_ERR_INVALID_ARG, "linear plan: y is NULL");
    th_expect(ctx, tc_linear_plan_run(plan, x_s8, y), TC_ERR_DTYPE, "x is s8");
    th_expect(ctx, tc_linear_plan_run(plan, x_other, y), TC_ERR_CONTEXT, "x belongs to another context");
    th_expect(ctx, tc_linear_plan_run(plan, x7, y), TC_ERR_SHAPE, "x has 7 features, w has 5");
    th_expect(ctx, tc_linear_plan_run(plan, x, y5), TC_ERR_SHAPE, "y is 4x5, expected 4x6");
    th_expect(ctx, tc_linear_plan_run(plan, x, y9), TC_ERR_SHAPE, "y is 9x6, expected 4x6");
    th_expect(ctx, tc_linear_plan_run(plan, x, y_on_w), TC_ERR_INVALID_ARG, "share storage with w");
    assert_true(th_unchanged(y, hy));
    assert_int_equal(tc_linear_plan_run(plan, x, y), TC_OK);
    assert_false(th_unchanged(y, hy));
    tc_linear_plan_free(plan);

    tc_tensor *all[] = {w, bias, x, y, w3, bias5, x7, y5, x9, y9, w_s8, x_s8, y_on_w};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(x_other), tc_tensor_free(bias_other);
    free(hy);
    assert_int_equal(tc_ctx_mem_current(ctx) - ctx->scratch_bytes[0] - ctx->scratch_bytes[1], 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

/* flatten: N x C x H x W -> N x CHW over the same storage (no memory added, writes
 * through the view show in x); 1-D x becomes N x 1. */
static void test_flatten_view(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    float *hx;
    tc_tensor *x = th_tensor(ctx, 4, TH_DIMS(2, 3, 4, 5), &hx), *v = NULL, *v1 = NULL;
    const size_t mem = tc_ctx_mem_current(ctx);
    assert_int_equal(tc_flatten(x, &v), TC_OK);
    assert_int_equal(tc_ctx_mem_current(ctx), mem);
    assert_int_equal(tc_tensor_ndim(v), 2);
    assert_int_equal(tc_tensor_dim(v, 0), 2);
    assert_int_equal(tc_tensor_dim(v, 1), 60);
    assert_true(th_unchanged(v, hx));
    hx[7] = 42.0f;
    assert_int_equal(tc_tensor_write(v, hx, tc_tensor_bytes(v)), TC_OK);
    assert_true(th_unchanged(x, hx));
    tc_tensor_free(x); /* the view keeps the storage alive */
    assert_true(th_unchanged(v, hx));
    assert_int_equal(tc_flatten(v, &v1), TC_OK);
    assert_int_equal(tc_tensor_dim(v1, 1), 60);

    tc_tensor *line = th_tensor(ctx, 1, TH_DIMS(7), NULL), *col = NULL;
    assert_int_equal(tc_flatten(line, &col), TC_OK);
    assert_int_equal(tc_tensor_ndim(col), 2);
    assert_int_equal(tc_tensor_dim(col, 0), 7);
    assert_int_equal(tc_tensor_dim(col, 1), 1);

    tc_tensor *none = v;
    th_expect(NULL, tc_flatten(NULL, &none), TC_ERR_INVALID_ARG, "flatten: x is NULL");
    assert_null(none);
    th_expect(ctx, tc_flatten(line, NULL), TC_ERR_INVALID_ARG, "flatten: out is NULL");
    tc_tensor_free(v);
    tc_tensor_free(v1);
    tc_tensor_free(line);
    tc_tensor_free(col);
    free(hx);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_all_variants),
        cmocka_unit_test(test_linear_bad_input),
        cmocka_unit_test(test_linear_plan_matches_oneshot),
        cmocka_unit_test(test_linear_plan_memory),
        cmocka_unit_test(test_linear_plan_holds_weights),
        cmocka_unit_test(test_linear_plan_bad_input),
        cmocka_unit_test(test_flatten_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
