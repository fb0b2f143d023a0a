/* layernorm: every variant against ref, bad input, in-place use, a known row. */
#include <math.h>
#include <stdlib.h>

#include "harness.h"

static void test_layernorm_all_variants(void **state)
{
    (void)state;
    th_check_op("layernorm");
}

static void test_layernorm_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    float *hy;
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(1, 6), NULL), *y = th_tensor(ctx, 2, TH_DIMS(1, 6), &hy);
    tc_tensor *g = th_tensor(ctx, 1, TH_DIMS(6), NULL), *b = th_tensor(ctx, 1, TH_DIMS(6), NULL);
    tc_tensor *g5 = th_tensor(ctx, 1, TH_DIMS(5), NULL), *x_wrong = th_tensor(ctx, 2, TH_DIMS(2, 3), NULL);
    tc_tensor *b_other = th_tensor(other, 1, TH_DIMS(6), NULL), *b_s8 = NULL, *g_view = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 1, TH_DIMS(6), &b_s8), TC_OK);
    assert_int_equal(tc_tensor_reshape(g, 2, TH_DIMS(1, 6), &g_view), TC_OK);

    th_expect(NULL, tc_layernorm(NULL, x, g, b, y, &(tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "layernorm: ctx is NULL");
    th_expect(ctx, tc_layernorm(ctx, NULL, g, b, y, &(tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "layernorm: x is NULL");
    th_expect(ctx, tc_layernorm(ctx, x, NULL, b, y, &(tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "layernorm: gamma is NULL");
    th_expect(ctx, tc_layernorm(ctx, x, g, NULL, y, &(tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "layernorm: beta is NULL");
    th_expect(ctx, tc_layernorm(ctx, x, g, b, NULL, &(tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "layernorm: y is NULL");
    th_expect(ctx, tc_layernorm(ctx, x_wrong, g, b, y, &(tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}), TC_ERR_SHAPE, "y is 1x6, expected 2x3");
    th_expect(ctx, tc_layernorm(ctx, x, g5, b, y, &(tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}), TC_ERR_SHAPE, "gamma has 5 elements, expected D = 6");
    th_expect(ctx, tc_layernorm(ctx, x, g, b_s8, y, &(tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}), TC_ERR_DTYPE, "beta is s8");
    th_expect(ctx, tc_layernorm(ctx, x, g, b_other, y, &(tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}), TC_ERR_CONTEXT, "beta belongs to another context");
    th_expect(ctx, tc_layernorm(ctx, x, g, b, y, &(tc_layernorm_params){NAN, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "eps");
    th_expect(ctx, tc_layernorm(ctx, x, g, b, y, &(tc_layernorm_params){-1e-5f, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "eps");
    th_expect(ctx, tc_layernorm(ctx, x, g, b, g_view, &(tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "y must not share storage with gamma");
    assert_true(th_unchanged(y, hy));

    tc_tensor *all[] = {x, y, g, b, g5, x_wrong, b_s8, g_view};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(b_other);
    free(hy);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

/* y == x gives the out-of-place result; then a row of mean 1e4 and spread 1.5:
 * y = (x - mean) / sqrt(1.25 + eps) * gamma + beta, worked out by hand. */
static void test_layernorm_in_place_and_known(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(5, 37), NULL), *y = th_tensor(ctx, 2, TH_DIMS(5, 37), NULL);
    tc_tensor *g = th_tensor(ctx, 1, TH_DIMS(37), NULL), *b = th_tensor(ctx, 1, TH_DIMS(37), NULL);
    assert_int_equal(tc_layernorm(ctx, x, g, b, y, &(tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}), TC_OK);
    assert_int_equal(tc_layernorm(ctx, x, g, b, x, &(tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}), TC_OK);
    float got[5 * 37], want[5 * 37];
    assert_int_equal(tc_tensor_read(x, got, sizeof got), TC_OK);
    assert_int_equal(tc_tensor_read(y, want, sizeof want), TC_OK);
    assert_memory_equal(got, want, sizeof got);

    const float hx[4] = {10001.0f, 10002.0f, 10003.0f, 10004.0f}, hg[4] = {1.0f, 2.0f, 0.5f, 1.0f},
                hb[4] = {0.25f, 0.0f, -1.0f, 0.0f};
    tc_tensor *x4, *g4, *b4, *y4;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, TH_DIMS(4), hx, &x4), TC_OK);
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, TH_DIMS(4), hg, &g4), TC_OK);
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, TH_DIMS(4), hb, &b4), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 1, TH_DIMS(4), &y4), TC_OK);
    assert_int_equal(tc_layernorm(ctx, x4, g4, b4, y4, &(tc_layernorm_params){1e-5f, TC_VARIANT_AUTO}), TC_OK);
    float r[4];
    assert_int_equal(tc_tensor_read(y4, r, sizeof r), TC_OK);
    const double inv = 1.0 / sqrt(1.25 + 1e-5);
    for (int j = 0; j < 4; j++) assert_true(fabs(r[j] - ((j - 1.5) * inv * hg[j] + hb[j])) <= 1e-5);
    tc_tensor *all[] = {x, y, g, b, x4, g4, b4, y4};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layernorm_all_variants),
        cmocka_unit_test(test_layernorm_bad_input),
        cmocka_unit_test(test_layernorm_in_place_and_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
