/* add, mul, relu, gelu: every variant against ref, bad input, in-place use. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_eltwise_all_variants(void **state)
{
    (void)state;
    th_check_op("add");
    th_check_op("mul");
    th_check_op("relu");
    th_check_op("gelu");
}

/* Each bad call returns a clear status and leaves y exactly as it was. */
static void test_eltwise_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    float *hy;
    tc_tensor *a = th_tensor(ctx, 2, TH_DIMS(4, 5), NULL), *b = th_tensor(ctx, 2, TH_DIMS(4, 5), NULL);
    tc_tensor *y = th_tensor(ctx, 2, TH_DIMS(4, 5), &hy), *flat = th_tensor(ctx, 1, TH_DIMS(20), NULL);
    tc_tensor *b_other = th_tensor(other, 2, TH_DIMS(4, 5), NULL), *s8 = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 2, TH_DIMS(4, 5), &s8), TC_OK);

    th_expect(NULL, tc_add(NULL, a, b, y, NULL), TC_ERR_INVALID_ARG, "add: ctx is NULL");
    th_expect(ctx, tc_add(ctx, NULL, b, y, NULL), TC_ERR_INVALID_ARG, "add: a is NULL");
    th_expect(ctx, tc_mul(ctx, a, NULL, y, NULL), TC_ERR_INVALID_ARG, "mul: b is NULL");
    th_expect(ctx, tc_relu(ctx, a, NULL, NULL), TC_ERR_INVALID_ARG, "relu: y is NULL");
    th_expect(ctx, tc_add(ctx, a, flat, y, NULL), TC_ERR_SHAPE, "b is 20, expected 4x5");
    th_expect(ctx, tc_mul(ctx, a, b, flat, NULL), TC_ERR_SHAPE, "y is 20");
    th_expect(ctx, tc_gelu(ctx, flat, y, &(tc_gelu_params){TC_GELU_TANH, TC_VARIANT_AUTO}), TC_ERR_SHAPE, "gelu: y is 4x5, expected 20");
    th_expect(ctx, tc_add(ctx, a, s8, y, NULL), TC_ERR_DTYPE, "s8");
    th_expect(ctx, tc_relu(ctx, s8, y, NULL), TC_ERR_DTYPE, "relu: x is s8");
    th_expect(ctx, tc_add(ctx, a, b_other, y, NULL), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_gelu(ctx, a, y, &(tc_gelu_params){(tc_gelu_mode)7, TC_VARIANT_AUTO}), TC_ERR_INVALID_ARG, "mode");
    assert_true(th_unchanged(y, hy));

    assert_int_equal(tc_add(ctx, a, b, y, NULL), TC_OK);
    assert_false(th_unchanged(y, hy));

    tc_tensor *all[] = {a, b, y, flat, s8};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(b_other);
    free(hy);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

static float *read_all(const tc_tensor *t)
{
    float *h = malloc(tc_tensor_bytes(t));
    assert_non_null(h);
    assert_int_equal(tc_tensor_read(t, h, tc_tensor_bytes(t)), TC_OK);
    return h;
}

/* y == x (unary) and y == a or y == b (binary) give the out-of-place result;
 * 1000 elements leave a partial vector at the end. */
static void test_eltwise_in_place(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    float *ha, *hb;
    tc_tensor *a = th_tensor(ctx, 2, TH_DIMS(8, 125), &ha), *b = th_tensor(ctx, 2, TH_DIMS(8, 125), &hb);
    tc_tensor *y = th_tensor(ctx, 2, TH_DIMS(8, 125), NULL);
    const size_t bytes = tc_tensor_bytes(a);
    for (int op = 0; op < 5; op++) {
        tc_status (*const bin)(tc_ctx *, const tc_tensor *, const tc_tensor *, tc_tensor *, const tc_op_params *) =
            op == 0 ? tc_add : tc_mul;
        for (int inplace = 0; inplace < 2; inplace++) {
            tc_tensor *out = inplace ? (op == 1 ? b : a) : y;
            switch (op) {
            case 0:
            case 1: assert_int_equal(bin(ctx, a, b, out, NULL), TC_OK); break;
            case 2: assert_int_equal(tc_relu(ctx, a, out, NULL), TC_OK); break;
            default: assert_int_equal(tc_gelu(ctx, a, out, &(tc_gelu_params){op == 3 ? TC_GELU_TANH : TC_GELU_ERF, TC_VARIANT_AUTO}), TC_OK); break;
            }
        }
        float *want = read_all(y), *got = read_all(op == 1 ? b : a);
        assert_memory_equal(want, got, bytes);
        free(want);
        free(got);
        assert_int_equal(tc_tensor_write(a, ha, bytes), TC_OK);
        assert_int_equal(tc_tensor_write(b, hb, bytes), TC_OK);
    }
    tc_tensor_free(a);
    tc_tensor_free(b);
    tc_tensor_free(y);
    free(ha);
    free(hb);
    tc_ctx_free(ctx);
}

/* GELU against both formulas evaluated in double precision (Python's math), to the
 * descriptor's tolerance. */
static void test_gelu_values(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const float x[4] = {-3.0f, -0.5f, 1.0f, 2.5f};
    const double tanh_form[4] = {-0.003637392081772994, -0.1542859901748561, 0.8411919906082768, 2.484915733910001},
                 erf_form[4] = {-0.00404969409489031, -0.1542687693629934, 0.8413447460685429, 2.48447583668556};
    tc_tensor *t = NULL, *y = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, TH_DIMS(4), x, &t), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 1, TH_DIMS(4), &y), TC_OK);
    for (int m = 0; m < 2; m++) {
        assert_int_equal(tc_gelu(ctx, t, y, &(tc_gelu_params){m ? TC_GELU_ERF : TC_GELU_TANH, TC_VARIANT_AUTO}), TC_OK);
        float got[4];
        assert_int_equal(tc_tensor_read(y, got, sizeof got), TC_OK);
        for (int i = 0; i < 4; i++) {
            const double want = m ? erf_form[i] : tanh_form[i];
            assert_true(fabs(got[i] - want) <= 1e-5 * fabs(want));
        }
    }
    tc_tensor_free(t);
    tc_tensor_free(y);
    tc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eltwise_all_variants),
        cmocka_unit_test(test_eltwise_bad_input),
        cmocka_unit_test(test_eltwise_in_place),
        cmocka_unit_test(test_gelu_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
