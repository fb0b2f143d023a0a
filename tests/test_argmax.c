/* argmax: every variant against ref, bad input, ties and NaN. */
#include <math.h>
#include <stdlib.h>

#include "harness.h"

static void test_argmax_all_variants(void **state)
{
    (void)state;
    th_check_op("argmax");
}

static void test_argmax_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    const int32_t init[6] = {7, 7, 7, 7, 7, 7};
    tc_tensor *x = th_tensor(ctx, 3, TH_DIMS(2, 3, 5), NULL), *x_other = th_tensor(other, 3, TH_DIMS(2, 3, 5), NULL);
    tc_tensor *y = NULL, *y_keep = NULL, *y_wrong = NULL, *y_f32 = th_tensor(ctx, 2, TH_DIMS(2, 3), NULL);
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_S32, 2, TH_DIMS(2, 3), init, &y), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 3, TH_DIMS(2, 3, 1), &y_keep), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 2, TH_DIMS(3, 2), &y_wrong), TC_OK);

    th_expect(NULL, tc_argmax(NULL, x, y, NULL), TC_ERR_INVALID_ARG, "argmax: ctx is NULL");
    th_expect(ctx, tc_argmax(ctx, NULL, y, NULL), TC_ERR_INVALID_ARG, "argmax: x is NULL");
    th_expect(ctx, tc_argmax(ctx, x, NULL, NULL), TC_ERR_INVALID_ARG, "argmax: y is NULL");
    th_expect(ctx, tc_argmax(ctx, x, y_f32, NULL), TC_ERR_DTYPE, "y is f32, expected s32");
    th_expect(ctx, tc_argmax(ctx, x, y_wrong, NULL), TC_ERR_SHAPE, "y is 3x2; for x 2x3x5");
    th_expect(ctx, tc_argmax(ctx, x_other, y, NULL), TC_ERR_CONTEXT, "another context");
    /* the values output: f32 with y's dims, not overlapping x or y */
    tc_tensor *v_ok = th_tensor(ctx, 2, TH_DIMS(2, 3), NULL), *v_wrong = th_tensor(ctx, 1, TH_DIMS(6), NULL), *v_x;
    assert_int_equal(tc_tensor_view(x, 3, 2, TH_DIMS(2, 3), &v_x), TC_OK);
    th_expect(ctx, tc_argmax(ctx, x, y, &(tc_argmax_params){v_wrong, TC_VARIANT_AUTO}), TC_ERR_SHAPE, "values is 6");
    th_expect(ctx, tc_argmax(ctx, x, y, &(tc_argmax_params){(tc_tensor *)y_keep, TC_VARIANT_AUTO}), TC_ERR_DTYPE,
              "values is s32");
    th_expect(ctx, tc_argmax(ctx, x, y, &(tc_argmax_params){v_x, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG,
              "values must not share storage with x");
    th_expect(ctx, tc_argmax(ctx, x, y, &(tc_argmax_params){v_ok, TC_VARIANT_GPU}), TC_ERR_UNSUPPORTED, "gpu");
    assert_true(th_unchanged(y, (const float *)init));
    tc_tensor_free(v_ok);
    tc_tensor_free(v_wrong);
    tc_tensor_free(v_x);
    /* both output forms work */
    assert_int_equal(tc_argmax(ctx, x, y, NULL), TC_OK);
    assert_int_equal(tc_argmax(ctx, x, y_keep, NULL), TC_OK);
    int32_t a[6], b[6];
    assert_int_equal(tc_tensor_read(y, a, sizeof a), TC_OK);
    assert_int_equal(tc_tensor_read(y_keep, b, sizeof b), TC_OK);
    assert_memory_equal(a, b, sizeof a);

    tc_tensor *all[] = {x, y, y_keep, y_wrong, y_f32};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(x_other);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

/* First index on ties, NaN never wins, an all-NaN row gives 0; 1-D x gives [1]. */
static void test_argmax_ties_and_nan(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const float n = NAN, inf = INFINITY;
    const float hx[5][4] = {{n, 1, 3, 3}, {n, n, n, n}, {n, -inf, n, -inf}, {-2, -1, -1, n}, {0.5f, 2, n, 2}};
    const int32_t want[5] = {2, 0, 1, 1, 1};
    tc_tensor *x, *y, *x1, *y1;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(5, 4), hx, &x), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 1, TH_DIMS(5), &y), TC_OK);
    assert_int_equal(tc_argmax(ctx, x, y, NULL), TC_OK);
    int32_t got[5];
    assert_int_equal(tc_tensor_read(y, got, sizeof got), TC_OK);
    assert_memory_equal(got, want, sizeof got);
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, TH_DIMS(4), hx[4], &x1), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 1, TH_DIMS(1), &y1), TC_OK);
    assert_int_equal(tc_argmax(ctx, x1, y1, NULL), TC_OK);
    assert_int_equal(tc_tensor_read(y1, got, sizeof got[0]), TC_OK);
    assert_int_equal(got[0], 1);
    tc_tensor_free(x);
    tc_tensor_free(y);
    tc_tensor_free(x1);
    tc_tensor_free(y1);
    tc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argmax_all_variants),
        cmocka_unit_test(test_argmax_bad_input),
        cmocka_unit_test(test_argmax_ties_and_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
