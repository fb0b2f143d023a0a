/* maxpool2d, avgpool2d, global_avgpool: every variant against ref, bad input,
 * padding that never counts. */
#include <limits.h>
#include <stdlib.h>

#include "harness.h"

static void test_pool_all_variants(void **state)
{
    (void)state;
    th_check_op("maxpool2d");
    th_check_op("avgpool2d");
    th_check_op("global_avgpool");
}

static void test_pool_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    float *hy;
    /* 5x5 input, window 3, stride 2, pad 1 -> 3x3 */
    tc_tensor *x = th_tensor(ctx, 4, TH_DIMS(1, 2, 5, 5), NULL), *y = th_tensor(ctx, 4, TH_DIMS(1, 2, 3, 3), &hy);
    tc_tensor *x3 = th_tensor(ctx, 3, TH_DIMS(2, 5, 5), NULL), *y_wrong = th_tensor(ctx, 4, TH_DIMS(1, 2, 2, 2), NULL);
    tc_tensor *x_other = th_tensor(other, 4, TH_DIMS(1, 2, 5, 5), NULL), *x_view = NULL;
    assert_int_equal(tc_tensor_reshape(y, 4, TH_DIMS(1, 2, 3, 3), &x_view), TC_OK);
    const tc_pool2d_params ok = {3, 3, 2, 2, 1, 1, TC_VARIANT_AUTO};
    tc_pool2d_params p;

    th_expect(NULL, tc_maxpool2d(NULL, x, y, &ok), TC_ERR_INVALID_ARG, "maxpool2d: ctx is NULL");
    th_expect(ctx, tc_maxpool2d(ctx, NULL, y, &ok), TC_ERR_INVALID_ARG, "maxpool2d: x is NULL");
    th_expect(ctx, tc_avgpool2d(ctx, x, NULL, &ok), TC_ERR_INVALID_ARG, "avgpool2d: y is NULL");
    th_expect(ctx, tc_avgpool2d(ctx, x, y, NULL), TC_ERR_INVALID_ARG, "params is NULL");
    th_expect(ctx, tc_maxpool2d(ctx, x3, y, &ok), TC_ERR_SHAPE, "x has 3 dimensions, expected 4");
    th_expect(ctx, tc_maxpool2d(ctx, x_other, y, &ok), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_maxpool2d(ctx, x, y_wrong, &ok), TC_ERR_SHAPE, "y is 1x2x2x2, expected 1x2x3x3");
    th_expect(ctx, tc_maxpool2d(ctx, x_view, y, &ok), TC_ERR_INVALID_ARG, "share storage");
    p = ok, p.stride_h = 0;
    th_expect(ctx, tc_maxpool2d(ctx, x, y, &p), TC_ERR_INVALID_ARG, "height window 3, stride 0");
    p = ok, p.kernel_w = 0, p.pad_w = 0;
    th_expect(ctx, tc_avgpool2d(ctx, x, y, &p), TC_ERR_INVALID_ARG, "width window 0");
    p = ok, p.pad_w = 3;
    th_expect(ctx, tc_avgpool2d(ctx, x, y, &p), TC_ERR_INVALID_ARG, "pad < window");
    p = ok, p.pad_h = -1;
    th_expect(ctx, tc_maxpool2d(ctx, x, y, &p), TC_ERR_INVALID_ARG, "pad -1");
    p = ok, p.kernel_h = 8, p.pad_h = 1;
    th_expect(ctx, tc_maxpool2d(ctx, x, y, &p), TC_ERR_SHAPE, "larger than the padded input");
    p = ok, p.kernel_h = INT_MAX, p.pad_h = INT_MAX - 1;
    th_expect(ctx, tc_maxpool2d(ctx, x, y, &p), TC_ERR_OVERFLOW, "beyond 2^31-1");
    assert_true(th_unchanged(y, hy));

    /* 8-bit: max only, y of x's dtype and quantization, the portable kernel */
    tc_tensor *xq = NULL, *yq = NULL, *yq_s8 = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_U8, 4, TH_DIMS(1, 2, 5, 5), &xq), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_U8, 4, TH_DIMS(1, 2, 3, 3), &yq), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 4, TH_DIMS(1, 2, 3, 3), &yq_s8), TC_OK);
    th_expect(ctx, tc_avgpool2d(ctx, xq, yq, &ok), TC_ERR_DTYPE, "avgpool2d: x is u8, expected f32");
    th_expect(ctx, tc_maxpool2d(ctx, xq, y, &ok), TC_ERR_DTYPE, "maxpool2d: y is f32, expected u8");
    th_expect(ctx, tc_maxpool2d(ctx, xq, yq_s8, &ok), TC_ERR_DTYPE, "y is s8, expected u8");
    const float s1 = 0.1f, s2 = 0.2f;
    const int32_t z = 3;
    assert_int_equal(tc_tensor_set_quant(xq, &(tc_quant){-1, 1, &s1, &z}), TC_OK);
    assert_int_equal(tc_tensor_set_quant(yq, &(tc_quant){-1, 1, &s2, &z}), TC_OK);
    th_expect(ctx, tc_maxpool2d(ctx, xq, yq, &ok), TC_ERR_INVALID_ARG, "differs from x's");
    p = ok, p.variant = TC_VARIANT_CPU;
    assert_int_equal(tc_tensor_set_quant(yq, NULL), TC_OK);
    th_expect(ctx, tc_maxpool2d(ctx, xq, yq, &p), TC_ERR_UNSUPPORTED, "cpu");

    /* global: N x C x H x W -> N x C */
    tc_tensor *g = th_tensor(ctx, 2, TH_DIMS(1, 2), NULL), *g_wrong = th_tensor(ctx, 2, TH_DIMS(2, 1), NULL);
    th_expect(NULL, tc_global_avgpool(NULL, x, g, NULL), TC_ERR_INVALID_ARG, "global_avgpool: ctx is NULL");
    th_expect(ctx, tc_global_avgpool(ctx, x, g_wrong, NULL), TC_ERR_SHAPE, "y is 2x1, expected 1x2");
    th_expect(ctx, tc_global_avgpool(ctx, x, y, NULL), TC_ERR_SHAPE, "y has 4 dimensions, expected 2");
    th_expect(ctx, tc_global_avgpool(ctx, x3, g, NULL), TC_ERR_SHAPE, "x has 3 dimensions");
    assert_true(th_unchanged(y, hy));

    tc_tensor *all[] = {x, y, x3, y_wrong, x_view, g, g_wrong, xq, yq, yq_s8};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(x_other);
    free(hy);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

/* 3x3 input of negative values, window 2, stride 1, pad 1 -> 4x4: a corner window
 * holds one element, so max is that element (padding is not a 0) and average
 * divides by 1; an edge window divides by 2. */
static void test_pool_padding_never_counts(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const float hx[9] = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
    const float want_max[16] = {-1, -1, -2, -3, -1, -1, -2, -3, -4, -4, -5, -6, -7, -7, -8, -9};
    const float want_avg[16] = {-1,   -1.5f, -2.5f, -3, -2.5f, -3, -4, -4.5f,
                                -5.5f, -6, -7, -7.5f, -7, -7.5f, -8.5f, -9};
    const tc_pool2d_params p = {2, 2, 1, 1, 1, 1, TC_VARIANT_AUTO};
    tc_tensor *x, *y;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, TH_DIMS(1, 1, 3, 3), hx, &x), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 4, TH_DIMS(1, 1, 4, 4), &y), TC_OK);
    float got[16];
    assert_int_equal(tc_maxpool2d(ctx, x, y, &p), TC_OK);
    assert_int_equal(tc_tensor_read(y, got, sizeof got), TC_OK);
    assert_memory_equal(got, want_max, sizeof got);
    assert_int_equal(tc_avgpool2d(ctx, x, y, &p), TC_OK);
    assert_int_equal(tc_tensor_read(y, got, sizeof got), TC_OK);
    assert_memory_equal(got, want_avg, sizeof got);
    tc_tensor_free(x);
    tc_tensor_free(y);
    tc_ctx_free(ctx);
}

/* Windows, strides and pads near 2^31 on a tiny input: every intermediate the
 * kernels compute must stay in range (a stride of 2^31-1 once wrapped and read
 * 4 GiB before the input). The result is what ref gives. */
static void test_pool_huge_geometry(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *ref = NULL;
    assert_int_equal(tc_ctx_create("ref", 0, &ref), TC_OK);
    const struct {
        int64_t h, w;
        tc_pool2d_params p;
        int64_t oh, ow;
    } cases[] = {
        {1, 1, {(1 << 30) - 3, (1 << 30) - 3, INT_MAX, INT_MAX, (1 << 30) - 4, (1 << 30) - 4, TC_VARIANT_AUTO}, 1, 1},
        {4, 6, {2, 3, INT_MAX, 1, 1, 2, TC_VARIANT_AUTO}, 1, 8},
        {5, 3, {3, (1 << 29) + 7, 2, INT_MAX - 1, 2, 1 << 29, TC_VARIANT_AUTO}, 4, 1},
        {2, 9, {INT_MAX / 2, 4, INT_MAX, 3, INT_MAX / 2 - 1, 3, TC_VARIANT_AUTO}, 1, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int avg = 0; avg < 2; avg++) {
            float *hx;
            const int64_t dy[4] = {1, 3, cases[i].oh, cases[i].ow};
            tc_tensor *x = th_tensor(ctx, 4, TH_DIMS(1, 3, cases[i].h, cases[i].w), &hx), *y = NULL;
            tc_tensor *rx = NULL, *ry = NULL;
            assert_int_equal(tc_tensor_from_host(ref, TC_DTYPE_F32, 4, TH_DIMS(1, 3, cases[i].h, cases[i].w), hx, &rx),
                             TC_OK);
            assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 4, dy, &y), TC_OK);
            assert_int_equal(tc_tensor_create(ref, TC_DTYPE_F32, 4, dy, &ry), TC_OK);
            tc_status (*pool)(tc_ctx *, const tc_tensor *, tc_tensor *, const tc_pool2d_params *) =
                avg ? tc_avgpool2d : tc_maxpool2d;
            if (pool(ref, rx, ry, &cases[i].p) != TC_OK) fail_msg("case %zu on ref: %s", i, tc_last_error(ref));
            if (pool(ctx, x, y, &cases[i].p) != TC_OK) fail_msg("case %zu: %s", i, tc_last_error(ctx));
            float *want = th_read(ry), *got = th_read(y);
            for (int64_t j = 0; j < 3 * cases[i].oh * cases[i].ow; j++) assert_float_equal(got[j], want[j], 1e-6f);
            free(want), free(got), free(hx);
            tc_tensor_free(x), tc_tensor_free(y), tc_tensor_free(rx), tc_tensor_free(ry);
        }
    tc_ctx_free(ctx);
    tc_ctx_free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_all_variants),
        cmocka_unit_test(test_pool_bad_input),
        cmocka_unit_test(test_pool_padding_never_counts),
        cmocka_unit_test(test_pool_huge_geometry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
