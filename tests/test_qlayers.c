/* Quantized layers: every variant against the reference's integer arithmetic, the
 * results against the f32 layers (within quantization error), int8 chained from one
 * layer into the next, plans that keep their own weights, and bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "harness.h"

static void test_qlinear_all_variants(void **state)
{
    (void)state;
    th_check_op("qlinear");
}

static void test_qconv2d_all_variants(void **state)
{
    (void)state;
    th_check_op("qconv2d");
}

/* SQNR in dB of x against the f32 reference r (n values). */
static double sqnr(const float *x, const float *r, size_t n)
{
    double s = 0, e = 0;
    for (size_t i = 0; i < n; i++) s += (double)r[i] * r[i], e += ((double)x[i] - r[i]) * ((double)x[i] - r[i]);
    return 10.0 * log10(s / e);
}

static float *read_all(const tc_tensor *t)
{
    const size_t n = (size_t)tc_tensor_numel(t);
    float *h = malloc(n * sizeof *h);
    assert_non_null(h);
    assert_int_equal(tc_tensor_read(t, h, n * sizeof *h), TC_OK);
    return h;
}

/* The quantized layers compute what the f32 layers compute, up to 8-bit rounding:
 * u8 inputs over their range, s8 weights per channel give 35-45 dB here; a wrong
 * scale, zero point or layout would give ~0 dB. */
static void test_qlayers_close_to_f32(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    float *hx;
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(9, 70), &hx), *w = th_tensor(ctx, 2, TH_DIMS(33, 70), NULL);
    tc_tensor *bias = th_tensor(ctx, 1, TH_DIMS(33), NULL), *y = th_tensor(ctx, 2, TH_DIMS(9, 33), NULL);
    tc_tensor *yq = th_tensor(ctx, 2, TH_DIMS(9, 33), NULL);
    float lo = 0, hi = 0;
    for (int i = 0; i < 9 * 70; i++) lo = fminf(lo, hx[i]), hi = fmaxf(hi, hx[i]);
    tc_qlinear_params p = tc_qlinear_defaults();
    assert_int_equal(tc_quant_params_from_range(lo, hi, TC_DTYPE_U8, 0, &p.in_scale, &p.in_zero_point), TC_OK);
    tc_linear_params lp = tc_linear_defaults();
    tc_qlinear_plan *plan = NULL;
    assert_int_equal(tc_linear(ctx, x, w, bias, y, &lp), TC_OK);
    assert_int_equal(tc_qlinear_plan_create(ctx, w, bias, &p, &plan), TC_OK);
    assert_int_equal(tc_qlinear_plan_run(plan, x, yq), TC_OK);
    float *r = read_all(y), *q = read_all(yq);
    const double db = sqnr(q, r, 9 * 33);
    print_message("qlinear vs linear: %.1f dB\n", db);
    assert_true(db > 30.0);
    free(r), free(q);
    tc_qlinear_plan_free(plan);

    /* conv 3x3 pad 1 with ReLU */
    float *hc;
    tc_tensor *xc = th_tensor(ctx, 4, TH_DIMS(2, 8, 9, 7), &hc), *wc = th_tensor(ctx, 4, TH_DIMS(12, 8, 3, 3), NULL);
    tc_tensor *bc = th_tensor(ctx, 1, TH_DIMS(12), NULL), *yc = th_tensor(ctx, 4, TH_DIMS(2, 12, 9, 7), NULL);
    tc_tensor *ycq = th_tensor(ctx, 4, TH_DIMS(2, 12, 9, 7), NULL);
    lo = hi = 0;
    for (int i = 0; i < 2 * 8 * 9 * 7; i++) lo = fminf(lo, hc[i]), hi = fmaxf(hi, hc[i]);
    tc_conv2d_params cp = tc_conv2d_defaults();
    cp.pad_h = cp.pad_w = 1, cp.bias = bc, cp.relu = 1;
    tc_qconv2d_params qp = tc_qconv2d_defaults();
    qp.pad_h = qp.pad_w = 1, qp.relu = 1;
    assert_int_equal(tc_quant_params_from_range(lo, hi, TC_DTYPE_U8, 0, &qp.in_scale, &qp.in_zero_point), TC_OK);
    tc_qconv2d_plan *cplan = NULL;
    assert_int_equal(tc_conv2d(ctx, xc, wc, yc, &cp), TC_OK);
    assert_int_equal(tc_qconv2d_plan_create(ctx, wc, TH_DIMS(8, 9, 7), bc, &qp, &cplan), TC_OK);
    assert_int_equal(tc_qconv2d_plan_run(cplan, xc, ycq), TC_OK);
    r = read_all(yc), q = read_all(ycq);
    const double dbc = sqnr(q, r, 2 * 12 * 9 * 7);
    print_message("qconv2d vs conv2d: %.1f dB\n", dbc);
    assert_true(dbc > 30.0);
    free(r), free(q);
    tc_qconv2d_plan_free(cplan);
    tc_tensor *all[] = {x, w, bias, y, yq, xc, wc, bc, yc, ycq};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    free(hx), free(hc);
    tc_ctx_free(ctx);
}

/* Two layers exchange u8 directly (the first requantizes into the second's input)
 * and give what the f32 hand-over gives within one step of the u8 grid. */
static void test_qlinear_chain_int8(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(16, 40), NULL), *w1 = th_tensor(ctx, 2, TH_DIMS(24, 40), NULL);
    tc_tensor *w2 = th_tensor(ctx, 2, TH_DIMS(10, 24), NULL), *h = th_tensor(ctx, 2, TH_DIMS(16, 24), NULL);
    tc_tensor *y_f = th_tensor(ctx, 2, TH_DIMS(16, 10), NULL), *y_q = th_tensor(ctx, 2, TH_DIMS(16, 10), NULL);
    tc_tensor *hq = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_U8, 2, TH_DIMS(16, 24), &hq), TC_OK);
    tc_qlinear_params p1 = tc_qlinear_defaults(), p2 = tc_qlinear_defaults();
    assert_int_equal(tc_quant_params_from_range(-1, 1, TC_DTYPE_U8, 0, &p1.in_scale, &p1.in_zero_point), TC_OK);
    p1.relu = 1;
    tc_qlinear_plan *l1 = NULL, *l2 = NULL;
    assert_int_equal(tc_qlinear_plan_create(ctx, w1, NULL, &p1, &l1), TC_OK);
    /* the hidden layer's range from an f32 run, as calibration would find it */
    assert_int_equal(tc_qlinear_plan_run(l1, x, h), TC_OK);
    float *hh = read_all(h), hmax = 0;
    for (int i = 0; i < 16 * 24; i++) hmax = fmaxf(hmax, hh[i]);
    free(hh);
    assert_int_equal(tc_quant_params_from_range(0, hmax, TC_DTYPE_U8, 0, &p2.in_scale, &p2.in_zero_point), TC_OK);
    assert_int_equal(tc_tensor_set_quant(hq, &(tc_quant){-1, 1, &p2.in_scale, &p2.in_zero_point}), TC_OK);
    assert_int_equal(tc_qlinear_plan_create(ctx, w2, NULL, &p2, &l2), TC_OK);
    assert_int_equal(tc_qlinear_plan_run(l1, x, hq), TC_OK); /* u8 into the next layer's input */
    assert_int_equal(tc_qlinear_plan_run(l2, hq, y_q), TC_OK);
    assert_int_equal(tc_qlinear_plan_run(l2, h, y_f), TC_OK); /* f32, quantized by l2 */
    float *a = read_all(y_q), *b = read_all(y_f);
    double worst = 0;
    for (int i = 0; i < 16 * 10; i++) worst = fmax(worst, fabs((double)a[i] - b[i]));
    /* the two hand-overs differ by at most one u8 step per hidden value */
    float wmax = 0, *hw = read_all(w2);
    for (int i = 0; i < 10 * 24; i++) wmax = fmaxf(wmax, fabsf(hw[i]));
    assert_true(worst <= 24.0 * p2.in_scale * wmax * 1.01);
    free(a), free(b), free(hw);
    tc_qlinear_plan_free(l1);
    tc_qlinear_plan_free(l2);
    tc_tensor *all[] = {x, w1, w2, h, y_f, y_q, hq};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_ctx_free(ctx);
}

/* A plan keeps what it needs: the weights may change or go after create; it gives
 * its memory back. */
static void test_qlinear_plan_owns_weights(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(5, 20), NULL), *w = th_tensor(ctx, 2, TH_DIMS(7, 20), NULL);
    tc_tensor *bias = th_tensor(ctx, 1, TH_DIMS(7), NULL), *y1 = th_tensor(ctx, 2, TH_DIMS(5, 7), NULL);
    tc_tensor *y2 = th_tensor(ctx, 2, TH_DIMS(5, 7), NULL);
    const size_t before = th_tensor_mem(ctx);
    tc_qlinear_params p = tc_qlinear_defaults();
    p.in_scale = 0.01f, p.in_zero_point = 128;
    tc_qlinear_plan *plan = NULL;
    assert_int_equal(tc_qlinear_plan_create(ctx, w, bias, &p, &plan), TC_OK);
    assert_int_equal(tc_qlinear_plan_variant(plan), tc_igemm_auto_variant(ctx));
    assert_int_equal(tc_qlinear_plan_run(plan, x, y1), TC_OK);
    float zeros[140] = {0};
    assert_int_equal(tc_tensor_write(w, zeros, sizeof(float) * 140), TC_OK);
    tc_tensor_free(bias);
    assert_int_equal(tc_qlinear_plan_run(plan, x, y2), TC_OK);
    float *a = read_all(y1), *b = read_all(y2);
    assert_memory_equal(a, b, 35 * sizeof(float));
    free(a), free(b);
    tc_qlinear_plan_free(plan);
    assert_true(th_tensor_mem(ctx) <= before);
    tc_tensor *all[] = {x, w, y1, y2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_ctx_free(ctx);
}

/* Each bad call returns a clear status, allocates nothing that stays and leaves y as it was. */
static void test_qlayers_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    float *hy;
    tc_tensor *w = th_tensor(ctx, 2, TH_DIMS(6, 5), NULL), *x = th_tensor(ctx, 2, TH_DIMS(4, 5), NULL);
    tc_tensor *y = th_tensor(ctx, 2, TH_DIMS(4, 6), &hy), *bias = th_tensor(ctx, 1, TH_DIMS(6), NULL);
    tc_tensor *bias5 = th_tensor(ctx, 1, TH_DIMS(5), NULL), *x_other = th_tensor(other, 2, TH_DIMS(4, 5), NULL);
    tc_tensor *w_s8 = NULL, *w_s32 = NULL, *bias_s8 = NULL, *x_s32 = NULL, *x_u8 = NULL, *y_u8 = NULL, *w_k = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 2, TH_DIMS(6, 5), &w_s8), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 2, TH_DIMS(6, 5), &w_s32), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 1, TH_DIMS(6), &bias_s8), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 2, TH_DIMS(4, 5), &x_s32), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_U8, 2, TH_DIMS(4, 5), &x_u8), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_U8, 2, TH_DIMS(4, 6), &y_u8), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 2, TH_DIMS(6, 5), &w_k), TC_OK);
    const size_t mem = th_tensor_mem(ctx);
    tc_qlinear_params p = tc_qlinear_defaults();
    tc_qlinear_plan *plan = (tc_qlinear_plan *)(uintptr_t)1;
    th_expect(NULL, tc_qlinear_plan_create(NULL, w, NULL, &p, &plan), TC_ERR_INVALID_ARG, "ctx is NULL");
    th_expect(ctx, tc_qlinear_plan_create(ctx, w, NULL, &p, NULL), TC_ERR_INVALID_ARG, "out is NULL");
    th_expect(ctx, tc_qlinear_plan_create(ctx, NULL, NULL, &p, &plan), TC_ERR_INVALID_ARG, "w is NULL");
    assert_null(plan);
    th_expect(ctx, tc_qlinear_plan_create(ctx, w_s32, NULL, &p, &plan), TC_ERR_DTYPE, "w is s32");
    th_expect(ctx, tc_qlinear_plan_create(ctx, w_s8, NULL, &p, &plan), TC_ERR_INVALID_ARG, "no quantization");
    assert_int_equal(tc_tensor_set_quant(w_k, &(tc_quant){1, 5, (const float[]){1, 1, 1, 1, 1},
                                                          (const int32_t[]){0, 0, 0, 0, 0}}), TC_OK);
    th_expect(ctx, tc_qlinear_plan_create(ctx, w_k, NULL, &p, &plan), TC_ERR_SHAPE, "along axis 1");
    th_expect(ctx, tc_qlinear_plan_create(ctx, w, bias5, &p, &plan), TC_ERR_SHAPE, "bias has 5 elements");
    th_expect(ctx, tc_qlinear_plan_create(ctx, w, bias_s8, &p, &plan), TC_ERR_DTYPE, "bias is s8");
    th_expect(ctx, tc_qlinear_plan_create(ctx, w, x_other, &p, &plan), TC_ERR_CONTEXT, "another context");
    /* input parameters: zero, negative, NaN and infinite scales, zero points outside the dtype, f32 */
    const float bad_scale[] = {0.0f, -1.0f, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad_scale / sizeof bad_scale[0]; i++) {
        p = tc_qlinear_defaults();
        p.in_scale = bad_scale[i];
        th_expect(ctx, tc_qlinear_plan_create(ctx, w, NULL, &p, &plan), TC_ERR_INVALID_ARG, "input scale");
        th_expect(ctx, tc_qlinear_plan_validate(ctx, w, NULL, &p), TC_ERR_INVALID_ARG, "input scale");
    }
    p = tc_qlinear_defaults();
    p.in_zero_point = 256;
    th_expect(ctx, tc_qlinear_plan_create(ctx, w, NULL, &p, &plan), TC_ERR_INVALID_ARG, "zero point 256");
    p.in_dtype = TC_DTYPE_S8, p.in_zero_point = -129;
    th_expect(ctx, tc_qlinear_plan_create(ctx, w, NULL, &p, &plan), TC_ERR_INVALID_ARG, "zero point -129");
    p = tc_qlinear_defaults();
    p.in_dtype = TC_DTYPE_F32;
    th_expect(ctx, tc_qlinear_plan_create(ctx, w, NULL, &p, &plan), TC_ERR_DTYPE, "expected u8 or s8");
    p = tc_qlinear_defaults();
    p.variant = TC_VARIANT_CLBLAST;
    th_expect(ctx, tc_qlinear_plan_create(ctx, w, NULL, &p, &plan), TC_ERR_UNSUPPORTED, "clblast");
    p.variant = (tc_variant)99;
    th_expect(ctx, tc_qlinear_plan_create(ctx, w, NULL, &p, &plan), TC_ERR_INVALID_ARG, "invalid variant");
    /* non-finite weights are refused when they are quantized */
    {
        float *hw;
        tc_tensor *w_nan = th_tensor(ctx, 2, TH_DIMS(6, 5), &hw);
        hw[17] = NAN;
        assert_int_equal(tc_tensor_write(w_nan, hw, 30 * sizeof *hw), TC_OK);
        free(hw);
        p = tc_qlinear_defaults();
        th_expect(ctx, tc_qlinear_plan_create(ctx, w_nan, NULL, &p, &plan), TC_ERR_INVALID_ARG, "not finite");
        tc_tensor_free(w_nan);
    }
    assert_null(plan);
    assert_int_equal(th_tensor_mem(ctx), mem);
    /* runs: x and y checked before anything is written */
    p = tc_qlinear_defaults();
    p.in_scale = 0.05f, p.in_zero_point = 100;
    assert_int_equal(tc_qlinear_plan_create(ctx, w, bias, &p, &plan), TC_OK);
    th_expect(NULL, tc_qlinear_plan_run(NULL, x, y), TC_ERR_INVALID_ARG, "plan is NULL");
    th_expect(ctx, tc_qlinear_plan_run(plan, NULL, y), TC_ERR_INVALID_ARG, "x is NULL");
    th_expect(ctx, tc_qlinear_plan_run(plan, x, NULL), TC_ERR_INVALID_ARG, "y is NULL");
    th_expect(ctx, tc_qlinear_plan_run(plan, x_s32, y), TC_ERR_DTYPE, "x is s32, expected f32 or u8");
    th_expect(ctx, tc_qlinear_plan_run(plan, x_other, y), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_qlinear_plan_run(plan, y, y), TC_ERR_SHAPE, "x is 4x6, expected Nx5");
    th_expect(ctx, tc_qlinear_plan_run(plan, x, bias), TC_ERR_SHAPE, "has 1 dimensions");
    th_expect(ctx, tc_qlinear_plan_run(plan, x_u8, y), TC_ERR_INVALID_ARG, "it has none per tensor");
    const float s_other = 0.04f;
    const int32_t z100 = 100;
    assert_int_equal(tc_tensor_set_quant(x_u8, &(tc_quant){-1, 1, &s_other, &z100}), TC_OK);
    th_expect(ctx, tc_qlinear_plan_run(plan, x_u8, y), TC_ERR_INVALID_ARG, "it differs");
    th_expect(ctx, tc_qlinear_plan_run(plan, x, y_u8), TC_ERR_INVALID_ARG, "needs one scale and zero point");
    th_expect(ctx, tc_qlinear_plan_run(plan, x, w_s32), TC_ERR_DTYPE, "y is s32");
    th_expect(ctx, tc_qlinear_plan_run(plan, x, x), TC_ERR_SHAPE, "y is 4x5, expected 4x6");
    assert_true(th_unchanged(y, hy));
    tc_qlinear_plan_free(plan);

    /* qconv2d: geometry, and sizes that overflow */
    tc_tensor *wc = th_tensor(ctx, 4, TH_DIMS(4, 3, 3, 3), NULL), *xc = th_tensor(ctx, 4, TH_DIMS(2, 3, 5, 5), NULL);
    float *hyc;
    tc_tensor *yc = th_tensor(ctx, 4, TH_DIMS(2, 4, 3, 3), &hyc);
    tc_qconv2d_params cp = tc_qconv2d_defaults();
    tc_qconv2d_plan *cplan = NULL;
    th_expect(ctx, tc_qconv2d_plan_create(ctx, wc, NULL, NULL, &cp, &cplan), TC_ERR_INVALID_ARG, "x_chw is NULL");
    th_expect(ctx, tc_qconv2d_plan_create(ctx, wc, TH_DIMS(2, 5, 5), NULL, &cp, &cplan), TC_ERR_SHAPE,
              "w has 3 input channels, x has C = 2");
    th_expect(ctx, tc_qconv2d_plan_create(ctx, wc, TH_DIMS(3, 2, 5), NULL, &cp, &cplan), TC_ERR_SHAPE, "window");
    th_expect(ctx, tc_qconv2d_plan_create(ctx, w, TH_DIMS(3, 5, 5), NULL, &cp, &cplan), TC_ERR_SHAPE,
              "has 2 dimensions, expected 4");
    th_expect(ctx, tc_qconv2d_plan_create(ctx, wc, TH_DIMS(3, INT64_MAX / 2, 4), NULL, &cp, &cplan), TC_ERR_OVERFLOW,
              "overflows");
    cp.stride_h = 0;
    th_expect(ctx, tc_qconv2d_plan_validate(ctx, wc, TH_DIMS(3, 5, 5), NULL, &cp), TC_ERR_INVALID_ARG, "stride 0x1");
    cp = tc_qconv2d_defaults();
    cp.pad_w = -1;
    th_expect(ctx, tc_qconv2d_plan_validate(ctx, wc, TH_DIMS(3, 5, 5), NULL, &cp), TC_ERR_INVALID_ARG, "pad 0x-1");
    cp = tc_qconv2d_defaults();
    cp.in_scale = NAN;
    th_expect(ctx, tc_qconv2d_plan_validate(ctx, wc, TH_DIMS(3, 5, 5), NULL, &cp), TC_ERR_INVALID_ARG, "input scale");
    assert_null(cplan);
    cp = tc_qconv2d_defaults();
    assert_int_equal(tc_qconv2d_plan_create(ctx, wc, TH_DIMS(3, 5, 5), NULL, &cp, &cplan), TC_OK);
    th_expect(ctx, tc_qconv2d_plan_run(cplan, yc, yc), TC_ERR_SHAPE, "x is 2x4x3x3, expected Nx3x5x5");
    th_expect(ctx, tc_qconv2d_plan_run(cplan, xc, xc), TC_ERR_SHAPE, "y is 2x3x5x5, expected 2x4x3x3");
    if (!tc_ctx_is_ref(ctx)) /* kernels index with ints: extents past 2^30 are refused before any allocation */
        th_expect(ctx, tc_qconv2d_plan_validate(ctx, wc, TH_DIMS(3, (int64_t)1 << 30, 5), NULL, &cp), TC_ERR_OVERFLOW,
                  "beyond 2^30");
    assert_true(th_unchanged(yc, hyc));
    tc_qconv2d_plan_free(cplan);

    tc_tensor *all[] = {w, x, y, bias, bias5, w_s8, w_s32, bias_s8, x_s32, x_u8, y_u8, w_k, wc, xc, yc};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(x_other);
    free(hy), free(hyc);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qlinear_all_variants),    cmocka_unit_test(test_qconv2d_all_variants),
        cmocka_unit_test(test_qlayers_close_to_f32),    cmocka_unit_test(test_qlinear_chain_int8),
        cmocka_unit_test(test_qlinear_plan_owns_weights), cmocka_unit_test(test_qlayers_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
