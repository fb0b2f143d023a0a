/* softmax: every variant against ref, bad input, in-place use, stability. */
#include <math.h>
#include <stdlib.h>

#include "harness.h"

static void test_softmax_all_variants(void **state)
{
    (void)state;
    th_check_op("softmax");
}

static void test_softmax_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    float *hy;
    tc_tensor *x = th_tensor(ctx, 3, TH_DIMS(2, 3, 5), NULL), *y = th_tensor(ctx, 3, TH_DIMS(2, 3, 5), &hy);
    tc_tensor *y_wrong = th_tensor(ctx, 2, TH_DIMS(6, 5), NULL), *x_other = th_tensor(other, 3, TH_DIMS(2, 3, 5), NULL);
    tc_tensor *s32 = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 3, TH_DIMS(2, 3, 5), &s32), TC_OK);

    th_expect(NULL, tc_softmax(NULL, x, y, NULL), TC_ERR_INVALID_ARG, "softmax: ctx is NULL");
    th_expect(ctx, tc_softmax(ctx, NULL, y, NULL), TC_ERR_INVALID_ARG, "softmax: x is NULL");
    th_expect(ctx, tc_softmax(ctx, x, NULL, NULL), TC_ERR_INVALID_ARG, "softmax: y is NULL");
    th_expect(ctx, tc_softmax(ctx, y_wrong, y, NULL), TC_ERR_SHAPE, "y is 2x3x5, expected 6x5");
    th_expect(ctx, tc_softmax(ctx, s32, y, NULL), TC_ERR_DTYPE, "x is s32");
    th_expect(ctx, tc_softmax(ctx, x_other, y, NULL), TC_ERR_CONTEXT, "another context");
    assert_true(th_unchanged(y, hy));

    tc_tensor *all[] = {x, y, y_wrong, s32};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(x_other);
    free(hy);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

/* y == x gives the out-of-place result (rows of 37: a float16 block and a tail). */
static void test_softmax_in_place(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(9, 37), NULL), *y = th_tensor(ctx, 2, TH_DIMS(9, 37), NULL);
    assert_int_equal(tc_softmax(ctx, x, y, NULL), TC_OK);
    assert_int_equal(tc_softmax(ctx, x, x, NULL), TC_OK);
    float got[9 * 37], want[9 * 37];
    assert_int_equal(tc_tensor_read(x, got, sizeof got), TC_OK);
    assert_int_equal(tc_tensor_read(y, want, sizeof want), TC_OK);
    assert_memory_equal(got, want, sizeof got);
    tc_tensor_free(x);
    tc_tensor_free(y);
    tc_ctx_free(ctx);
}

/* Inputs whose exp overflows (1000) or underflows (-1000) in float: exact answers. */
static void test_softmax_extremes(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const float x[2][3] = {{1000.0f, 1000.0f, -1000.0f}, {-1000.0f, -1001.0f, -1000.0f}};
    const double e = exp(-1.0), want[2][3] = {{0.5, 0.5, 0.0}, {1 / (2 + e), e / (2 + e), 1 / (2 + e)}};
    tc_tensor *t = NULL, *y = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(2, 3), x, &t), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(2, 3), &y), TC_OK);
    assert_int_equal(tc_softmax(ctx, t, y, NULL), TC_OK);
    float got[2][3];
    assert_int_equal(tc_tensor_read(y, got, sizeof got), TC_OK);
    for (int r = 0; r < 2; r++)
        for (int j = 0; j < 3; j++) assert_true(fabs(got[r][j] - want[r][j]) <= 1e-6);
    tc_tensor_free(t);
    tc_tensor_free(y);
    tc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax_all_variants),
        cmocka_unit_test(test_softmax_bad_input),
        cmocka_unit_test(test_softmax_in_place),
        cmocka_unit_test(test_softmax_extremes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
