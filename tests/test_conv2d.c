/* conv2d: every variant on the device under test against ref, and bad input. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_conv2d_all_variants(void **state)
{
    (void)state;
    th_check_op("conv2d");
}

static void test_conv2d_out_size(void **state)
{
    (void)state;
    int64_t out = -1;
    assert_int_equal(tc_conv2d_out_size(56, 3, 1, 1, 1, &out), TC_OK);
    assert_int_equal(out, 56);
    assert_int_equal(tc_conv2d_out_size(56, 3, 2, 1, 1, &out), TC_OK);
    assert_int_equal(out, 28);
    assert_int_equal(tc_conv2d_out_size(7, 3, 1, 0, 3, &out), TC_OK); /* window 7 */
    assert_int_equal(out, 1);
    out = -1;
    th_expect(NULL, tc_conv2d_out_size(5, 3, 1, 0, 3, &out), TC_ERR_SHAPE, "larger than the padded input");
    th_expect(NULL, tc_conv2d_out_size(5, 3, 0, 0, 1, &out), TC_ERR_INVALID_ARG, "stride");
    th_expect(NULL, tc_conv2d_out_size(5, 3, 1, -1, 1, &out), TC_ERR_INVALID_ARG, "pad");
    th_expect(NULL, tc_conv2d_out_size(0, 3, 1, 0, 1, &out), TC_ERR_SHAPE, "extent");
    th_expect(NULL, tc_conv2d_out_size(5, INT64_MAX, 1, 0, 2, &out), TC_ERR_OVERFLOW, "overflows");
    th_expect(NULL, tc_conv2d_out_size(5, 3, 1, 0, 1, NULL), TC_ERR_INVALID_ARG, "NULL");
    assert_int_equal(out, -1);
}

/* Each bad call returns a clear status and leaves y exactly as it was. */
static void test_conv2d_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    float *hy;
    tc_tensor *x = th_tensor(ctx, 4, TH_DIMS(1, 4, 6, 6), NULL), *w = th_tensor(ctx, 4, TH_DIMS(6, 4, 3, 3), NULL);
    tc_tensor *y = th_tensor(ctx, 4, TH_DIMS(1, 6, 4, 4), &hy), *bias = th_tensor(ctx, 1, TH_DIMS(6), NULL);
    tc_tensor *bias5 = th_tensor(ctx, 1, TH_DIMS(5), NULL), *y_wrong = th_tensor(ctx, 4, TH_DIMS(1, 6, 5, 4), NULL);
    tc_tensor *w_c3 = th_tensor(ctx, 4, TH_DIMS(6, 3, 3, 3), NULL), *x3 = th_tensor(ctx, 3, TH_DIMS(4, 6, 6), NULL);
    tc_tensor *w_big = th_tensor(ctx, 4, TH_DIMS(6, 4, 7, 7), NULL);
    tc_tensor *x_other = th_tensor(other, 4, TH_DIMS(1, 4, 6, 6), NULL), *x_s8 = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 4, TH_DIMS(1, 4, 6, 6), &x_s8), TC_OK);
    tc_conv2d_params p = tc_conv2d_defaults();

    th_expect(NULL, tc_conv2d(NULL, x, w, y, &p), TC_ERR_INVALID_ARG, "ctx");
    th_expect(ctx, tc_conv2d(ctx, NULL, w, y, &p), TC_ERR_INVALID_ARG, "x is NULL");
    th_expect(ctx, tc_conv2d(ctx, x, NULL, y, &p), TC_ERR_INVALID_ARG, "w is NULL");
    th_expect(ctx, tc_conv2d(ctx, x, w, NULL, &p), TC_ERR_INVALID_ARG, "y is NULL");
    th_expect(ctx, tc_conv2d(ctx, x3, w, y, &p), TC_ERR_SHAPE, "dimensions");
    th_expect(ctx, tc_conv2d(ctx, x_s8, w, y, &p), TC_ERR_DTYPE, "s8");
    th_expect(ctx, tc_conv2d(ctx, x_other, w, y, &p), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_conv2d(ctx, x, w_c3, y, &p), TC_ERR_SHAPE, "input channels");
    th_expect(ctx, tc_conv2d(ctx, x, w, y_wrong, &p), TC_ERR_SHAPE, "expected 1x6x4x4");
    th_expect(ctx, tc_conv2d(ctx, x, w_big, y, &p), TC_ERR_SHAPE, "larger than the padded input");
    th_expect(ctx, tc_conv2d(ctx, x, w, x, &p), TC_ERR_SHAPE, NULL);
    p.stride_w = 0;
    th_expect(ctx, tc_conv2d(ctx, x, w, y, &p), TC_ERR_INVALID_ARG, "stride");
    p = tc_conv2d_defaults();
    p.dil_h = -1;
    th_expect(ctx, tc_conv2d(ctx, x, w, y, &p), TC_ERR_INVALID_ARG, "dilation");
    p = tc_conv2d_defaults();
    p.pad_w = -2;
    th_expect(ctx, tc_conv2d(ctx, x, w, y, &p), TC_ERR_INVALID_ARG, "pad");
    p = tc_conv2d_defaults();
    p.groups = 0;
    th_expect(ctx, tc_conv2d(ctx, x, w, y, &p), TC_ERR_INVALID_ARG, "groups");
    p.groups = 3; /* divides K = 6 but not C = 4 */
    th_expect(ctx, tc_conv2d(ctx, x, w, y, &p), TC_ERR_SHAPE, "divide");
    p.groups = 2; /* w must then have C / 2 = 2 input channels */
    th_expect(ctx, tc_conv2d(ctx, x, w, y, &p), TC_ERR_SHAPE, "C / groups = 2");
    p = tc_conv2d_defaults();
    p.bias = bias5;
    th_expect(ctx, tc_conv2d(ctx, x, w, y, &p), TC_ERR_SHAPE, "bias");
    p.bias = x_s8;
    th_expect(ctx, tc_conv2d(ctx, x, w, y, &p), TC_ERR_DTYPE, "bias");
    p = tc_conv2d_defaults();
    p.variant = (tc_variant)99;
    th_expect(ctx, tc_conv2d(ctx, x, w, y, &p), TC_ERR_INVALID_ARG, "variant");
    p.variant = TC_VARIANT_GEMV;
    th_expect(ctx, tc_conv2d(ctx, x, w, y, &p), TC_ERR_UNSUPPORTED, tc_ctx_is_ref(ctx) ? "OpenCL" : "gemv");
    if (!tc_ctx_is_ref(ctx)) {
        tc_tensor *wg = th_tensor(ctx, 4, TH_DIMS(6, 2, 3, 3), NULL);
        p = tc_conv2d_defaults();
        p.groups = 2;
        p.variant = TC_VARIANT_CLBLAST;
        th_expect(ctx, tc_conv2d(ctx, x, wg, y, &p), TC_ERR_UNSUPPORTED, "groups == 1");
        tc_tensor_free(wg);
    }
    /* y aliasing w: a view of w's storage */
    tc_tensor *view = NULL;
    assert_int_equal(tc_tensor_reshape(w, 4, TH_DIMS(1, 6, 6, 6), &view), TC_OK);
    tc_tensor *x8 = th_tensor(ctx, 4, TH_DIMS(1, 4, 8, 8), NULL);
    p = tc_conv2d_defaults();
    th_expect(ctx, tc_conv2d(ctx, x8, w, view, &p), TC_ERR_INVALID_ARG, "storage");
    assert_true(th_unchanged(y, hy));

    /* the same inputs succeed afterwards */
    p.bias = bias;
    assert_int_equal(tc_conv2d(ctx, x, w, y, &p), TC_OK);
    assert_false(th_unchanged(y, hy));

    tc_tensor *all[] = {x, w, y, bias, bias5, y_wrong, w_c3, x3, w_big, x_s8, view, x8};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(x_other);
    free(hy);
    size_t scratch = 0;
    for (int i = 0; i < TC_SCRATCH_SLOTS; i++) scratch += ctx->scratch_bytes[i];
    assert_int_equal(tc_ctx_mem_current(ctx) - scratch, 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

/* Extents past 2^30 are refused on OpenCL before any allocation or launch. */
static void test_conv2d_overflow(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    float *hy;
    tc_tensor *x = th_tensor(ctx, 4, TH_DIMS(1, 1, 4, 4), NULL), *w = th_tensor(ctx, 4, TH_DIMS(1, 1, 1, 1), NULL);
    tc_conv2d_params p = tc_conv2d_defaults();
    p.pad_h = 1 << 29, p.stride_h = 1 << 30; /* padded height 2^30 + 4: two output rows, both padding */
    tc_tensor *y = th_tensor(ctx, 4, TH_DIMS(1, 1, 2, 4), &hy);
    if (tc_ctx_is_ref(ctx)) {
        assert_int_equal(tc_conv2d(ctx, x, w, y, &p), TC_OK); /* the reference has no such limit */
    } else {
        th_expect(ctx, tc_conv2d(ctx, x, w, y, &p), TC_ERR_OVERFLOW, "2^30");
        assert_true(th_unchanged(y, hy));
    }
    tc_tensor_free(x);
    tc_tensor_free(w);
    tc_tensor_free(y);
    free(hy);
    tc_ctx_free(ctx);
}

/* Strides and pads near 2^31 on a tiny input. The CPU kernel's padded-planes
 * scratch once had its size guard wrap to 0 (a 1-byte buffer, then writes far
 * past it). Every variant either agrees with ref or refuses the shape with y
 * untouched; AUTO always runs. */
static void test_conv2d_huge_geometry(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *ref = NULL;
    assert_int_equal(tc_ctx_create("ref", 0, &ref), TC_OK);
    const struct {
        int stride_h, stride_w, pad_h, pad_w;
    } cases[] = {
        {INT_MAX, 1 << 30, (1 << 29) - 17, 0},
        {INT_MAX, 1 << 30, 0, 0},
        {INT_MAX, INT_MAX, 1, 0},
        {2, INT_MAX - 1, 3, 0},
    };
    const tc_variant variants[] = {TC_VARIANT_AUTO, TC_VARIANT_CPU, TC_VARIANT_GPU, TC_VARIANT_IM2COL,
                                   TC_VARIANT_CLBLAST};
    float *hx, *hw, hb = 0.75f;
    tc_tensor *x = th_tensor(ctx, 4, TH_DIMS(1, 16, 2, 1), &hx), *w = th_tensor(ctx, 4, TH_DIMS(1, 16, 1, 1), &hw);
    tc_tensor *b = NULL, *rx = NULL, *rw = NULL, *rb = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, TH_DIMS(1), &hb, &b), TC_OK);
    assert_int_equal(tc_tensor_from_host(ref, TC_DTYPE_F32, 4, TH_DIMS(1, 16, 2, 1), hx, &rx), TC_OK);
    assert_int_equal(tc_tensor_from_host(ref, TC_DTYPE_F32, 4, TH_DIMS(1, 16, 1, 1), hw, &rw), TC_OK);
    assert_int_equal(tc_tensor_from_host(ref, TC_DTYPE_F32, 1, TH_DIMS(1), &hb, &rb), TC_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tc_conv2d_params p = tc_conv2d_defaults();
        p.stride_h = cases[i].stride_h, p.stride_w = cases[i].stride_w;
        p.pad_h = cases[i].pad_h, p.pad_w = cases[i].pad_w;
        int64_t oh, ow;
        assert_int_equal(tc_conv2d_out_size(2, 1, p.stride_h, p.pad_h, 1, &oh), TC_OK);
        assert_int_equal(tc_conv2d_out_size(1, 1, p.stride_w, p.pad_w, 1, &ow), TC_OK);
        const int64_t dy[4] = {1, 1, oh, ow};
        tc_tensor *ry = NULL;
        assert_int_equal(tc_tensor_create(ref, TC_DTYPE_F32, 4, dy, &ry), TC_OK);
        p.bias = rb;
        if (tc_conv2d(ref, rx, rw, ry, &p) != TC_OK) fail_msg("case %zu on ref: %s", i, tc_last_error(ref));
        float *want = th_read(ry);
        p.bias = b;
        for (size_t v = 0; v < (tc_ctx_is_ref(ctx) ? 1 : sizeof variants / sizeof variants[0]); v++) {
            float *hy;
            tc_tensor *y = th_tensor(ctx, 4, dy, &hy);
            p.variant = variants[v];
            tc_status st = tc_conv2d(ctx, x, w, y, &p);
            if (st == TC_OK) {
                float *got = th_read(y);
                for (int64_t j = 0; j < oh * ow; j++) assert_float_equal(got[j], want[j], 1e-5f);
                free(got);
            } else if (v == 0 || (st != TC_ERR_OVERFLOW && st != TC_ERR_UNSUPPORTED)) {
                fail_msg("case %zu, variant %s: %s", i, tc_variant_name(variants[v]), tc_last_error(ctx));
            } else {
                assert_true(th_unchanged(y, hy));
            }
            tc_tensor_free(y);
            free(hy);
        }
        free(want);
        tc_tensor_free(ry);
    }
    free(hx), free(hw);
    tc_tensor_free(x), tc_tensor_free(w), tc_tensor_free(b);
    tc_tensor_free(rx), tc_tensor_free(rw), tc_tensor_free(rb);
    tc_ctx_free(ctx);
    tc_ctx_free(ref);
}

/* AUTO: depthwise -> the direct kernel; any shape on a CPU device -> cpu. */
static void test_conv2d_auto_choice(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_tensor *x = th_tensor(ctx, 4, TH_DIMS(1, 8, 9, 9), NULL), *w = th_tensor(ctx, 4, TH_DIMS(8, 1, 3, 3), NULL);
    tc_tensor *y = th_tensor(ctx, 4, TH_DIMS(1, 8, 9, 9), NULL);
    tc_conv2d_params p = tc_conv2d_defaults();
    p.pad_h = p.pad_w = 1;
    p.groups = 8;
    assert_int_equal(tc_conv2d(ctx, x, w, y, &p), TC_OK);
    tc_prof_stat st;
    assert_int_equal(tc_prof_get(ctx, 0, &st), TC_OK);
    assert_string_equal(st.op, "conv2d");
    assert_string_equal(st.variant, tc_ctx_is_ref(ctx) ? "ref" : "cpu");
    tc_tensor_free(x);
    tc_tensor_free(w);
    tc_tensor_free(y);
    tc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_all_variants), cmocka_unit_test(test_conv2d_out_size),
        cmocka_unit_test(test_conv2d_bad_input),    cmocka_unit_test(test_conv2d_overflow),
        cmocka_unit_test(test_conv2d_auto_choice), cmocka_unit_test(test_conv2d_huge_geometry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
