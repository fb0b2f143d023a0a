/* quantize / dequantize: every variant against ref, known values (round half to
 * even, saturation, NaN, per-channel layouts), parameters from a range, round
 * trips, bad input. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "harness.h"

static void test_quantize_all_variants(void **state)
{
    (void)state;
    th_check_op("quantize");
    th_check_op("dequantize");
}

/* The variants the device under test has: AUTO and REF everywhere, OPENCL off ref. */
static int variants_here(tc_ctx *ctx, tc_variant *v)
{
    int n = 0;
    v[n++] = TC_VARIANT_AUTO;
    v[n++] = TC_VARIANT_REF;
    if (!tc_ctx_is_ref(ctx)) v[n++] = TC_VARIANT_OPENCL;
    return n;
}

static tc_tensor *qtensor(tc_ctx *ctx, tc_dtype dt, int ndim, const int64_t *dims, int axis, const float *scale,
                          const int32_t *zp)
{
    tc_tensor *t = NULL;
    assert_int_equal(tc_tensor_create(ctx, dt, ndim, dims, &t), TC_OK);
    const int64_t count = axis < 0 ? 1 : dims[axis];
    assert_int_equal(tc_tensor_set_quant(t, &(tc_quant){axis, count, scale, zp}), TC_OK);
    return t;
}

/* quantize(x) under each variant equals want (n elements of dt). */
static void expect_quantize(tc_ctx *ctx, const float *x, int ndim, const int64_t *dims, tc_dtype dt, int axis,
                            const float *scale, const int32_t *zp, const void *want, size_t n)
{
    tc_tensor *tx = NULL, *ty = qtensor(ctx, dt, ndim, dims, axis, scale, zp);
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, ndim, dims, x, &tx), TC_OK);
    tc_variant v[3];
    for (int i = 0, nv = variants_here(ctx, v); i < nv; i++) {
        unsigned char got[64] = {0};
        assert_int_equal(tc_quantize(ctx, tx, ty, &(tc_op_params){v[i]}), TC_OK);
        assert_int_equal(tc_tensor_read(ty, got, n), TC_OK);
        if (memcmp(got, want, n) != 0) fail_msg("variant %s differs", tc_variant_name(v[i]));
    }
    tc_tensor_free(tx);
    tc_tensor_free(ty);
}

static void test_quantize_known_values(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    /* scale 0.5, zero point 3: x / scale = 2x; halves round to even; ends saturate; NaN -> 3 */
    const float x[] = {0.0f, 0.25f, 0.75f, 1.25f, -0.25f, -0.75f, 62.0f, 62.5f, 100.0f, -100.0f, INFINITY,
                       -INFINITY, NAN, -65.5f, -66.0f, 1e-30f, FLT_MAX, -FLT_MAX};
    const int8_t want_s8[] = {3, 3, 5, 5, 3, 1, 127, 127, 127, -128, 127, -128, 3, -128, -128, 3, 127, -128};
    expect_quantize(ctx, x, 1, TH_DIMS(18), TC_DTYPE_S8, -1, (float[]){0.5f}, (int32_t[]){3}, want_s8, 18);
    /* u8, zero point 0: negatives clamp to 0 */
    const uint8_t want_u8[] = {0, 0, 2, 2, 0, 0, 124, 125, 200, 0, 255, 0, 0, 0, 0, 0, 255, 0};
    expect_quantize(ctx, x, 1, TH_DIMS(18), TC_DTYPE_U8, -1, (float[]){0.5f}, (int32_t[]){0}, want_u8, 18);
    /* per channel along the last axis: scales 1, 0.5, 2 and zero points 0, 10, -10 */
    const float xc[6] = {1.5f, 1.5f, 1.5f, -3.0f, 0.0f, 5.0f};
    const int8_t want_c[6] = {2, 13, -9, -3, 10, -8};
    expect_quantize(ctx, xc, 2, TH_DIMS(2, 3), TC_DTYPE_S8, 1, (float[]){1.0f, 0.5f, 2.0f},
                    (int32_t[]){0, 10, -10}, want_c, 6);
    /* per channel along the first axis: scales 1 and 0.25, zero points 0 and -128 */
    const float xr[6] = {1.4f, 2.6f, -0.5f, 0.125f, 0.375f, 100.0f};
    const int8_t want_r[6] = {1, 3, 0, -128, -126, 127};
    expect_quantize(ctx, xr, 2, TH_DIMS(2, 3), TC_DTYPE_S8, 0, (float[]){1.0f, 0.25f}, (int32_t[]){0, -128}, want_r,
                    6);
    /* a middle axis of 2 x 2 x 2: the channel changes every 2 elements, back to 0 after 4 */
    const float xm[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    const uint8_t want_m[8] = {10, 10, 24, 24, 10, 10, 24, 24};
    expect_quantize(ctx, xm, 3, TH_DIMS(2, 2, 2), TC_DTYPE_U8, 1, (float[]){0.1f, 0.25f}, (int32_t[]){0, 20}, want_m,
                    8);
    tc_ctx_free(ctx);
}

static void test_dequantize_known_values(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const int8_t q8[4] = {-128, 127, 3, 0};
    const int32_t q32[3] = {INT32_MIN, INT32_MAX, 7};
    tc_tensor *x8 = qtensor(ctx, TC_DTYPE_S8, 1, TH_DIMS(4), -1, (float[]){0.5f}, (int32_t[]){3});
    tc_tensor *x32 = qtensor(ctx, TC_DTYPE_S32, 1, TH_DIMS(3), -1, (float[]){1.0f}, (int32_t[]){-5});
    tc_tensor *y8 = th_tensor(ctx, 1, TH_DIMS(4), NULL), *y32 = th_tensor(ctx, 1, TH_DIMS(3), NULL);
    assert_int_equal(tc_tensor_write(x8, q8, sizeof q8), TC_OK);
    assert_int_equal(tc_tensor_write(x32, q32, sizeof q32), TC_OK);
    tc_variant v[3];
    for (int i = 0, nv = variants_here(ctx, v); i < nv; i++) {
        float g8[4], g32[3];
        assert_int_equal(tc_dequantize(ctx, x8, y8, &(tc_op_params){v[i]}), TC_OK);
        assert_int_equal(tc_dequantize(ctx, x32, y32, &(tc_op_params){v[i]}), TC_OK);
        assert_int_equal(tc_tensor_read(y8, g8, sizeof g8), TC_OK);
        assert_int_equal(tc_tensor_read(y32, g32, sizeof g32), TC_OK);
        assert_true(g8[0] == -65.5f && g8[1] == 62.0f && g8[2] == 0.0f && !signbit(g8[2]) && g8[3] == -1.5f);
        /* x - zero_point needs 33 bits: exact in 64, then rounded once to float */
        assert_true(g32[0] == (float)(INT32_MIN + 5LL) && g32[1] == (float)(INT32_MAX + 5LL) && g32[2] == 12.0f);
    }
    tc_tensor *all[] = {x8, x32, y8, y32};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_ctx_free(ctx);
}

static void expect_params(float min, float max, tc_dtype dt, int sym, double scale, int32_t zp)
{
    float s = -1.0f;
    int32_t z = 99999;
    assert_int_equal(tc_quant_params_from_range(min, max, dt, sym, &s, &z), TC_OK);
    if (s != (float)scale || z != zp)
        fail_msg("[%g, %g] %s %s: scale %.9g zero point %d, expected %.9g and %d", (double)min, (double)max,
                 tc_dtype_name(dt), sym ? "symmetric" : "asymmetric", (double)s, (int)z, scale, (int)zp);
}

static void test_params_from_range(void **state)
{
    (void)state;
    expect_params(-1.0f, 1.0f, TC_DTYPE_S8, 1, 1.0 / 127, 0);
    expect_params(-0.5f, 2.0f, TC_DTYPE_S8, 1, 2.0 / 127, 0);
    expect_params(-2.0f, 1.0f, TC_DTYPE_U8, 1, 2.0 / 127, 128);
    expect_params(0.0f, 2.55f, TC_DTYPE_U8, 0, (double)2.55f / 255, 0);
    /* ranges that exclude zero are widened to it: [1, 3] is [0, 3], [-3, -1] is [-3, 0] */
    expect_params(1.0f, 3.0f, TC_DTYPE_U8, 0, 3.0 / 255, 0);
    expect_params(-3.0f, -1.0f, TC_DTYPE_U8, 0, 3.0 / 255, 255);
    expect_params(2.0f, 5.0f, TC_DTYPE_S8, 0, 5.0 / 255, -128);
    expect_params(1.0f, 3.0f, TC_DTYPE_S8, 1, 3.0 / 127, 0);
    /* -1 / (4 / 255) = -63.75 rounds to -64: zero point -128 + 64 */
    expect_params(-1.0f, 3.0f, TC_DTYPE_S8, 0, 4.0 / 255, -64);
    /* degenerate and extreme ranges */
    expect_params(0.0f, 0.0f, TC_DTYPE_U8, 0, 1.0, 0);
    expect_params(0.0f, 0.0f, TC_DTYPE_S8, 0, 1.0, -128);
    expect_params(0.0f, 0.0f, TC_DTYPE_S8, 1, 1.0, 0);
    expect_params(0.0f, 1e-44f, TC_DTYPE_U8, 0, FLT_MIN, 0);
    expect_params(-FLT_MAX, FLT_MAX, TC_DTYPE_U8, 0, 2.0 * FLT_MAX / 255, 128); /* 127.5 rounds to even */
    expect_params(-FLT_MAX, FLT_MAX, TC_DTYPE_S8, 1, FLT_MAX / 127, 0);

    /* random ranges: zero point inside the dtype, the range covered to half a step */
    uint64_t rng = th_seed();
    for (int i = 0; i < 2000; i++) {
        float r[3];
        tc_rand_f32(r, 3, -1.0f, 1.0f, &rng);
        const float mag = powf(10.0f, 6.0f * r[2]), a = r[0] * mag, b = r[1] * mag;
        const float lo = fminf(a, b), hi = fmaxf(a, b);
        const tc_dtype dt = i % 2 ? TC_DTYPE_U8 : TC_DTYPE_S8;
        const int sym = i % 3 == 0, qmin = dt == TC_DTYPE_U8 ? 0 : -128, qmax = qmin + 255;
        float s;
        int32_t z;
        assert_int_equal(tc_quant_params_from_range(lo, hi, dt, sym, &s, &z), TC_OK);
        assert_true(s > 0 && isfinite(s) && z >= qmin && z <= qmax);
        const double wlo = fmin(lo, 0), whi = fmax(hi, 0), half = 0.5 * s * (1 + 1e-6);
        if (sym) {
            assert_int_equal(z, dt == TC_DTYPE_U8 ? 128 : 0);
            assert_true(127.0 * s >= fmax(-wlo, whi) * (1 - 1e-6));
        } else {
            assert_true((qmin - z) * (double)s <= wlo + half && (qmax - z) * (double)s >= whi - half);
        }
    }
}

static void test_params_bad_input(void **state)
{
    (void)state;
    float s = 7.0f;
    int32_t z = 7;
    th_expect(NULL, tc_quant_params_from_range(NAN, 1.0f, TC_DTYPE_S8, 0, &s, &z), TC_ERR_INVALID_ARG, "not finite");
    th_expect(NULL, tc_quant_params_from_range(0.0f, INFINITY, TC_DTYPE_S8, 0, &s, &z), TC_ERR_INVALID_ARG,
              "not finite");
    th_expect(NULL, tc_quant_params_from_range(2.0f, 1.0f, TC_DTYPE_U8, 0, &s, &z), TC_ERR_INVALID_ARG, "min > max");
    th_expect(NULL, tc_quant_params_from_range(0.0f, 1.0f, TC_DTYPE_F32, 0, &s, &z), TC_ERR_DTYPE, "f32");
    th_expect(NULL, tc_quant_params_from_range(0.0f, 1.0f, TC_DTYPE_S32, 1, &s, &z), TC_ERR_DTYPE, "s32");
    th_expect(NULL, tc_quant_params_from_range(0.0f, 1.0f, TC_DTYPE_S8, 0, NULL, &z), TC_ERR_INVALID_ARG, "NULL");
    assert_true(s == 7.0f && z == 7);
    /* per channel: one bad range, nothing written */
    const float lo[3] = {-1, 0, -2}, hi[3] = {1, NAN, 2};
    float sc[3] = {5, 5, 5};
    int32_t zp[3] = {5, 5, 5};
    th_expect(NULL, tc_quant_params_from_ranges(3, lo, hi, TC_DTYPE_S8, 0, sc, zp), TC_ERR_INVALID_ARG, "channel 1");
    th_expect(NULL, tc_quant_params_from_ranges(0, lo, hi, TC_DTYPE_S8, 0, sc, zp), TC_ERR_INVALID_ARG, "count");
    for (int i = 0; i < 3; i++) assert_true(sc[i] == 5 && zp[i] == 5);
    const float lo2[2] = {-1, 0}, hi2[2] = {1, 0};
    assert_int_equal(tc_quant_params_from_ranges(2, lo2, hi2, TC_DTYPE_S8, 1, sc, zp), TC_OK);
    assert_true(sc[0] == 1.0f / 127 && sc[1] == 1.0f && zp[1] == 0 && sc[2] == 5);
}

/* dequantize(quantize(x)) is within half a step of x over the range, zero is exact,
 * per tensor and per channel, for both dtypes. */
static void test_round_trip(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const int64_t dims[3] = {4, 6, 50}, n = 4 * 6 * 50;
    uint64_t rng = th_seed() ^ 0x5eed;
    for (int cfg = 0; cfg < 6; cfg++) {
        const tc_dtype dt = cfg % 2 ? TC_DTYPE_U8 : TC_DTYPE_S8;
        const int axis = cfg / 2 - 1, sym = cfg == 2, count = axis < 0 ? 1 : (int)dims[axis];
        float lo[6], hi[6], scale[6], *x = malloc((size_t)n * sizeof *x), *back = malloc((size_t)n * sizeof *back);
        int32_t zp[6];
        assert_non_null(x);
        assert_non_null(back);
        for (int c = 0; c < count; c++) {
            float r[2];
            tc_rand_f32(r, 2, 0.0f, 1.0f, &rng);
            lo[c] = -r[0] * powf(10.0f, (float)c - 3), hi[c] = r[1] * powf(10.0f, (float)c - 2);
        }
        assert_int_equal(tc_quant_params_from_ranges(count, lo, hi, dt, sym, scale, zp), TC_OK);
        const int64_t inner = axis < 0 ? n : axis == 0 ? 300 : 50;
        for (int64_t i = 0; i < n; i++) {
            const int64_t c = i / inner % count;
            tc_rand_f32(&x[i], 1, lo[c], hi[c], &rng);
            if (i % 17 == 0) x[i] = 0.0f;
        }
        tc_tensor *tx, *tq = qtensor(ctx, dt, 3, dims, axis, scale, zp), *ty;
        assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 3, dims, x, &tx), TC_OK);
        assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 3, dims, &ty), TC_OK);
        assert_int_equal(tc_quantize(ctx, tx, tq, NULL), TC_OK);
        assert_int_equal(tc_dequantize(ctx, tq, ty, NULL), TC_OK);
        assert_int_equal(tc_tensor_read(ty, back, (size_t)n * sizeof *back), TC_OK);
        for (int64_t i = 0; i < n; i++) {
            const int64_t c = i / inner % count;
            /* half a step, plus the float rounding of x * (1 / scale) and of the product back */
            const double bound = 0.5 * scale[c] + 4 * FLT_EPSILON * fabs((double)x[i]);
            if (x[i] == 0.0f) assert_true(back[i] == 0.0f);
            if (!(fabs((double)back[i] - x[i]) <= bound))
                fail_msg("config %d element %lld: %g came back as %g (scale %g)", cfg, (long long)i, (double)x[i],
                         (double)back[i], (double)scale[c]);
        }
        tc_tensor_free(tx);
        tc_tensor_free(tq);
        tc_tensor_free(ty);
        free(x);
        free(back);
    }
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
}

static void test_quantize_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    const int8_t init[15] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(3, 5), NULL), *x_other = th_tensor(other, 2, TH_DIMS(3, 5), NULL);
    tc_tensor *x_wrong = th_tensor(ctx, 2, TH_DIMS(5, 3), NULL), *f = th_tensor(ctx, 2, TH_DIMS(3, 5), NULL);
    tc_tensor *y = qtensor(ctx, TC_DTYPE_S8, 2, TH_DIMS(3, 5), 0, (float[]){1, 2, 3}, (int32_t[]){0, 1, 2});
    tc_tensor *bare = NULL, *s32 = NULL, *y_view = NULL, *y_flat = NULL;
    assert_int_equal(tc_tensor_write(y, init, sizeof init), TC_OK);
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_S8, 2, TH_DIMS(3, 5), init, &bare), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 2, TH_DIMS(3, 5), &s32), TC_OK);
    /* views share the storage's parameters, which were set for 3 channels along axis 0 */
    assert_int_equal(tc_tensor_view(y, 0, 2, TH_DIMS(5, 3), &y_view), TC_OK);
    assert_int_equal(tc_tensor_reshape(y, 1, TH_DIMS(15), &y_flat), TC_OK);
    tc_tensor *x_flat = th_tensor(ctx, 1, TH_DIMS(15), NULL);

    th_expect(NULL, tc_quantize(NULL, x, y, NULL), TC_ERR_INVALID_ARG, "quantize: ctx is NULL");
    th_expect(ctx, tc_quantize(ctx, NULL, y, NULL), TC_ERR_INVALID_ARG, "quantize: x is NULL");
    th_expect(ctx, tc_quantize(ctx, x, NULL, NULL), TC_ERR_INVALID_ARG, "quantize: y is NULL");
    th_expect(ctx, tc_quantize(ctx, bare, y, NULL), TC_ERR_DTYPE, "x is s8, expected f32");
    th_expect(ctx, tc_quantize(ctx, x, f, NULL), TC_ERR_DTYPE, "y is f32, expected s8 or u8");
    th_expect(ctx, tc_quantize(ctx, x, s32, NULL), TC_ERR_DTYPE, "y is s32");
    th_expect(ctx, tc_quantize(ctx, x_wrong, y, NULL), TC_ERR_SHAPE, "expected 5x3");
    th_expect(ctx, tc_quantize(ctx, x_other, y, NULL), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_quantize(ctx, x, bare, NULL), TC_ERR_INVALID_ARG, "no quantization parameters");
    th_expect(ctx, tc_quantize(ctx, x_wrong, y_view, NULL), TC_ERR_SHAPE, "y's parameters: 3 parameters, expected 5");
    th_expect(ctx, tc_quantize(ctx, x_flat, y_flat, NULL), TC_ERR_SHAPE, "y's parameters: 3 parameters, expected 15");
    th_expect(ctx, tc_quantize(ctx, x, y, &(tc_op_params){TC_VARIANT_GPU}), TC_ERR_UNSUPPORTED, "gpu");
    th_expect(ctx, tc_quantize(ctx, x, y, &(tc_op_params){(tc_variant)99}), TC_ERR_INVALID_ARG, "variant");
    /* parameters that tc_tensor_set_quant refuses never reach the op: y keeps none */
    const tc_quant bad[] = {
        {-1, 1, (float[]){0.0f}, (int32_t[]){0}},      {-1, 1, (float[]){-1.0f}, (int32_t[]){0}},
        {-1, 1, (float[]){NAN}, (int32_t[]){0}},       {-1, 1, (float[]){INFINITY}, (int32_t[]){0}},
        {-1, 1, (float[]){1.0f}, (int32_t[]){128}},    {-1, 1, (float[]){1.0f}, (int32_t[]){-129}},
        {1, 3, (float[]){1, 1, 1}, (int32_t[]){0, 0, 0}}, /* axis 1 has 5 channels */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_not_equal(tc_tensor_set_quant(bare, &bad[i]), TC_OK);
        th_expect(ctx, tc_quantize(ctx, x, bare, NULL), TC_ERR_INVALID_ARG, "no quantization parameters");
    }
    assert_true(th_unchanged(y, (const float *)init));
    assert_true(th_unchanged(bare, (const float *)init));

    /* dequantize */
    tc_tensor *out = th_tensor(ctx, 2, TH_DIMS(3, 5), NULL);
    float *keep = malloc(15 * sizeof *keep);
    assert_non_null(keep);
    assert_int_equal(tc_tensor_read(out, keep, 15 * sizeof *keep), TC_OK);
    th_expect(NULL, tc_dequantize(NULL, y, out, NULL), TC_ERR_INVALID_ARG, "dequantize: ctx is NULL");
    th_expect(ctx, tc_dequantize(ctx, f, out, NULL), TC_ERR_DTYPE, "x is f32, expected s8, s32 or u8");
    th_expect(ctx, tc_dequantize(ctx, y, bare, NULL), TC_ERR_DTYPE, "y is s8, expected f32");
    th_expect(ctx, tc_dequantize(ctx, bare, out, NULL), TC_ERR_INVALID_ARG, "x carries no quantization parameters");
    th_expect(ctx, tc_dequantize(ctx, s32, out, NULL), TC_ERR_INVALID_ARG, "no quantization parameters");
    th_expect(ctx, tc_dequantize(ctx, y_view, x_wrong, NULL), TC_ERR_SHAPE, "x's parameters: 3 parameters, expected 5");
    th_expect(ctx, tc_dequantize(ctx, y, x_wrong, NULL), TC_ERR_SHAPE, "expected 3x5");
    th_expect(ctx, tc_dequantize(ctx, y, x_other, NULL), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_dequantize(ctx, y, out, &(tc_op_params){TC_VARIANT_CLBLAST}), TC_ERR_UNSUPPORTED, "clblast");
    assert_true(th_unchanged(out, keep));
    free(keep);

    /* the valid calls work */
    assert_int_equal(tc_quantize(ctx, x, y, NULL), TC_OK);
    assert_int_equal(tc_dequantize(ctx, y, out, NULL), TC_OK);
    tc_tensor *all[] = {x, x_wrong, f, y, bare, s32, y_view, y_flat, x_flat, out};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(x_other);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantize_all_variants), cmocka_unit_test(test_quantize_known_values),
        cmocka_unit_test(test_dequantize_known_values), cmocka_unit_test(test_params_from_range),
        cmocka_unit_test(test_params_bad_input),       cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_quantize_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
