/* linear: every variant against ref and bad input; flatten: a view, no copy. */
#include <stdlib.h>

#include "harness.h"

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
    th_expect(ctx, tc_linear(ctx, x, w_t, bias, y, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_ERR_SHAPE, "w is 5x6, expected 5 columns");
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
        cmocka_unit_test(test_flatten_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
