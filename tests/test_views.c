/* Tensor views with element offsets, quantization metadata, and the check
 * machinery itself (several outputs, integer metrics, view mode), which must be
 * able to fail. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "harness.h"

static void test_view_reads_writes_its_elements(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    float h[24];
    for (int i = 0; i < 24; i++) h[i] = (float)i;
    tc_tensor *t = NULL, *v = NULL, *vv = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(4, 6), h, &t), TC_OK);
    const size_t before = tc_ctx_mem_current(ctx);
    assert_int_equal(tc_tensor_view(t, 7, 2, TH_DIMS(3, 3), &v), TC_OK);
    assert_int_equal(tc_ctx_mem_current(ctx), before); /* no copy */
    assert_int_equal(tc_tensor_offset(v), 7);
    assert_int_equal(tc_tensor_numel(v), 9);
    float got[9];
    assert_int_equal(tc_tensor_read(v, got, sizeof got), TC_OK);
    for (int i = 0; i < 9; i++) assert_true(got[i] == (float)(7 + i));
    /* a view of a view adds the offsets */
    assert_int_equal(tc_tensor_view(v, 2, 1, TH_DIMS(4), &vv), TC_OK);
    assert_int_equal(tc_tensor_offset(vv), 9);
    const float w[4] = {-1, -2, -3, -4};
    assert_int_equal(tc_tensor_write(vv, w, sizeof w), TC_OK);
    float all[24];
    assert_int_equal(tc_tensor_read(t, all, sizeof all), TC_OK);
    for (int i = 0; i < 24; i++) assert_true(all[i] == (i >= 9 && i < 13 ? w[i - 9] : (float)i));
    /* the storage outlives the tensor it came from */
    tc_tensor_free(t);
    assert_int_equal(tc_tensor_read(vv, got, 4 * sizeof(float)), TC_OK);
    assert_memory_equal(got, w, sizeof w);
    tc_tensor_free(vv);
    tc_tensor_free(v);
    assert_int_equal(tc_ctx_mem_current(ctx), before - 24 * sizeof(float));
    tc_ctx_free(ctx);
}

static void test_view_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_tensor *t = th_tensor(ctx, 1, TH_DIMS(10), NULL), *v = (tc_tensor *)&v;
    th_expect(ctx, tc_tensor_view(t, 8, 1, TH_DIMS(3), &v), TC_ERR_SHAPE, "outside the tensor's 10");
    assert_null(v);
    th_expect(ctx, tc_tensor_view(t, -1, 1, TH_DIMS(3), &v), TC_ERR_SHAPE, "outside");
    th_expect(ctx, tc_tensor_view(t, INT64_MAX, 1, TH_DIMS(3), &v), TC_ERR_SHAPE, "outside");
    th_expect(ctx, tc_tensor_view(t, 0, 1, TH_DIMS(0), &v), TC_ERR_SHAPE, ">= 1");
    th_expect(ctx, tc_tensor_view(t, 0, 5, TH_DIMS(1, 1, 1, 1, 1), &v), TC_ERR_SHAPE, "ndim");
    th_expect(ctx, tc_tensor_view(t, 0, 2, TH_DIMS(INT64_MAX, 4), &v), TC_ERR_OVERFLOW, "overflows");
    th_expect(NULL, tc_tensor_view(NULL, 0, 1, TH_DIMS(3), &v), TC_ERR_INVALID_ARG, "NULL");
    th_expect(ctx, tc_tensor_view(t, 0, 1, TH_DIMS(3), NULL), TC_ERR_INVALID_ARG, "out is NULL");
    assert_int_equal(tc_tensor_view(t, 10, 1, TH_DIMS(1), &v), TC_ERR_SHAPE);
    assert_int_equal(tc_tensor_view(t, 9, 1, TH_DIMS(1), &v), TC_OK); /* the last element */
    tc_tensor_free(v);
    tc_tensor_free(t);
    tc_ctx_free(ctx);
}

/* Ops write through views, and non-overlapping views of one storage are distinct
 * tensors (a fused output split in two), while overlapping ones are rejected. */
static void test_ops_on_views_of_one_storage(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    float *h;
    tc_tensor *big = th_tensor(ctx, 1, TH_DIMS(40), &h), *a, *b, *c, *over;
    assert_int_equal(tc_tensor_view(big, 1, 2, TH_DIMS(3, 4), &a), TC_OK);
    assert_int_equal(tc_tensor_view(big, 13, 2, TH_DIMS(3, 4), &b), TC_OK);
    assert_int_equal(tc_tensor_view(big, 27, 2, TH_DIMS(3, 4), &c), TC_OK);
    assert_int_equal(tc_tensor_view(big, 10, 2, TH_DIMS(3, 4), &over), TC_OK);
    assert_int_equal(tc_add(ctx, a, b, c, NULL), TC_OK);
    float got[40];
    assert_int_equal(tc_tensor_read(big, got, sizeof got), TC_OK);
    for (int i = 0; i < 40; i++) assert_true(got[i] == (i >= 27 && i < 39 ? h[i - 26] + h[i - 14] : h[i]));
    /* an output that overlaps an input without being it is rejected */
    tc_tensor *sq_a, *sq_over;
    assert_int_equal(tc_tensor_view(big, 0, 2, TH_DIMS(3, 3), &sq_a), TC_OK);
    assert_int_equal(tc_tensor_view(big, 5, 2, TH_DIMS(3, 3), &sq_over), TC_OK);
    th_expect(ctx, tc_matmul(ctx, sq_a, sq_a, sq_over, NULL), TC_ERR_INVALID_ARG, "share storage");
    th_expect(ctx, tc_linear(ctx, sq_a, sq_a, NULL, sq_over, NULL), TC_ERR_INVALID_ARG, "share storage");
    float after[40];
    assert_int_equal(tc_tensor_read(big, after, sizeof after), TC_OK);
    assert_memory_equal(after, got, sizeof got);
    tc_tensor_free(sq_a);
    tc_tensor_free(sq_over);
    tc_tensor_free(over);
    tc_tensor_free(a);
    tc_tensor_free(b);
    tc_tensor_free(c);
    tc_tensor_free(big);
    free(h);
    tc_ctx_free(ctx);
}

static void test_quant_roundtrip_and_views(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_tensor *t = NULL, *v = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 2, TH_DIMS(3, 5), &t), TC_OK);
    tc_quant q;
    assert_int_equal(tc_tensor_quant(t, &q), TC_OK);
    assert_int_equal(q.count, 0);
    assert_null(q.scale);
    assert_false(tc_tensor_is_quantized(t));
    /* per channel along axis 0 */
    float sc[3] = {0.5f, 0.25f, 2.0f};
    int32_t zp[3] = {0, -3, 127};
    assert_int_equal(tc_tensor_set_quant(t, &(tc_quant){0, 3, sc, zp}), TC_OK);
    sc[0] = 9.0f; /* copied, not referenced */
    assert_int_equal(tc_tensor_view(t, 5, 1, TH_DIMS(5), &v), TC_OK);
    assert_int_equal(tc_tensor_quant(v, &q), TC_OK); /* shared by views */
    assert_int_equal(q.axis, 0);
    assert_int_equal(q.count, 3);
    assert_true(q.scale[0] == 0.5f && q.scale[2] == 2.0f);
    assert_int_equal(q.zero_point[1], -3);
    /* per tensor, set through the view, seen by the tensor */
    assert_int_equal(tc_tensor_set_quant(v, &(tc_quant){-1, 1, (float[]){0.1f}, (int32_t[]){-128}}), TC_OK);
    assert_int_equal(tc_tensor_quant(t, &q), TC_OK);
    assert_int_equal(q.axis, -1);
    assert_true(q.scale[0] == 0.1f && q.zero_point[0] == -128);
    /* bad parameters change nothing */
    const tc_quant bad[] = {
        {2, 3, sc, zp},                           /* axis outside the dims */
        {1, 3, sc, zp},                           /* axis 1 has 5 channels */
        {-1, 1, (float[]){0.0f}, (int32_t[]){0}}, /* scale 0 */
        {-1, 1, (float[]){NAN}, (int32_t[]){0}},
        {-1, 1, (float[]){INFINITY}, (int32_t[]){0}},
        {-1, 1, (float[]){1.0f}, (int32_t[]){128}}, /* beyond s8 */
        {-1, 1, NULL, (int32_t[]){0}},
    };
    static const char *const why[] = {"axis", "expected 5", "scale", "scale", "scale", "zero_point", "NULL"};
    for (int i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++) {
        tc_status s = tc_tensor_set_quant(t, &bad[i]);
        assert_int_not_equal(s, TC_OK);
        th_expect(ctx, s, s, why[i]);
        assert_int_equal(tc_tensor_quant(t, &q), TC_OK);
        assert_true(q.axis == -1 && q.scale[0] == 0.1f);
    }
    /* u8: 0..255 */
    tc_tensor *u = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_U8, 1, TH_DIMS(4), &u), TC_OK);
    th_expect(ctx, tc_tensor_set_quant(u, &(tc_quant){-1, 1, (float[]){1.0f}, (int32_t[]){-1}}), TC_ERR_INVALID_ARG,
              "u8");
    assert_int_equal(tc_tensor_set_quant(u, &(tc_quant){-1, 1, (float[]){1.0f}, (int32_t[]){255}}), TC_OK);
    assert_int_equal(tc_tensor_set_quant(u, NULL), TC_OK); /* clears */
    assert_false(tc_tensor_is_quantized(u));
    th_expect(NULL, tc_tensor_quant(NULL, &q), TC_ERR_INVALID_ARG, NULL);
    tc_tensor_free(u);
    tc_tensor_free(v);
    tc_tensor_free(t);
    tc_ctx_free(ctx);
}

/* ---- the check machinery ----------------------------------------------------- */

/* A two-output "op": out0 (f32) = in0 + 1, out1 (s8) = in1 + 1; `fault` breaks one part. */
static int fault;

static tc_status two_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t n = tc_case_int(cs, "n"), dims[1] = {n};
    float *x = malloc((size_t)n * sizeof *x);
    int8_t *q = malloc((size_t)n);
    if (!x || !q) return TC_ERR_OUT_OF_MEMORY;
    tc_rand_f32(x, (size_t)n, -1.0f, 1.0f, &seed);
    for (int64_t i = 0; i < n; i++) q[i] = (int8_t)(tc_rng_next(&seed) % 100);
    tc_status s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 1, dims, x);
    if (s == TC_OK) s = tc_opdata_input(ctx, d, TC_DTYPE_S8, 1, dims, q);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, 1, dims, &seed);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_S8, 1, dims, &seed);
    if (s != TC_OK) return s;
    d->out[1].metric = TC_METRIC_LSB;
    d->out[1].tol = 1;
    for (int64_t i = 0; i < n; i++) {
        ((float *)d->out[0].expected)[i] = x[i] + 1.0f;
        ((int8_t *)d->out[1].expected)[i] = (int8_t)(q[i] + 1);
    }
    d->cs = *cs;
    return TC_OK;
}

/* Runs on the host through read / write, so it works on every device. */
static tc_status two_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    (void)ctx, (void)v;
    const int64_t n = d->in[0]->numel;
    float x[64];
    int8_t q[64];
    if (tc_tensor_read(d->in[0], x, (size_t)n * 4) || tc_tensor_read(d->in[1], q, (size_t)n)) return TC_ERR_IO;
    for (int64_t i = 0; i < n; i++) x[i] += 1.0f, q[i] = (int8_t)(q[i] + 1 + (fault == 1 && i == 3 ? 1 : 0));
    if (fault == 2) q[2] = (int8_t)(q[2] + 2); /* 2 LSB off: beyond the tolerance */
    if (fault == 3) x[n - 1] = NAN;
    tc_status s = tc_tensor_write(d->out[0].t, x, (size_t)n * 4);
    if (s == TC_OK) s = tc_tensor_write(d->out[1].t, q, (size_t)n);
    if (s == TC_OK && fault == 4) { /* one element before the view */
        tc_tensor *before;
        s = tc_tensor_view(d->out[1].base, d->view_off - 1, 1, (const int64_t[]){1}, &before);
        if (s == TC_OK) s = tc_tensor_write(before, (int8_t[]){0x5a}, 1);
        tc_tensor_free(before);
    }
    return s;
}

static void test_check_machinery_can_fail(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    static const tc_variant vars[] = {TC_VARIANT_REF};
    static const tc_case cases[] = {TC_CASE({"n", 17})};
    const tc_opdesc op = {.name = "two", .variants = vars, .nvariants = 1, .cases = cases, .ncases = 1,
                          .setup = two_setup, .run = two_run, .metric = TC_METRIC_MAXREL, .tol = 0.0};
    static const int expect_ok[] = {1, 1, 0, 0, 0};
    for (int view = 0; view < 2; view++)
        for (fault = 0; fault < 5; fault++) {
            if (fault == 4 && !view) continue;
            tc_opdata d;
            memset(&d, 0, sizeof d);
            d.view_off = view ? TC_CHECK_VIEW_OFFSET : 0;
            assert_int_equal(op.setup(ctx, &cases[0], th_seed(), &d), TC_OK);
            assert_int_equal(tc_opdata_reset_out(&d), TC_OK);
            assert_int_equal(op.run(ctx, &d, TC_VARIANT_REF), TC_OK);
            double err;
            char msg[256] = "";
            int ok = tc_opdata_compare(&op, &d, &err, msg, sizeof msg);
            if (ok != expect_ok[fault]) fail_msg("fault %d view %d: compare gave %d (%s)", fault, view, ok, msg);
            if (fault == 1) assert_true(err == 1.0); /* within 1 LSB, reported */
            if (fault == 2) assert_non_null(strstr(msg, "output 1"));
            if (fault == 3) assert_non_null(strstr(msg, "output 0: non-finite"));
            if (fault == 4) assert_non_null(strstr(msg, "next to the output view"));
            tc_opdata_free(&d);
        }
    tc_ctx_free(ctx);
}

static void test_case_keys(void **state)
{
    (void)state;
    tc_case c = TC_CASE({"m", 3}, {"beta", 0.5}, {"mode", 0, "erf"});
    assert_int_equal(tc_case_int(&c, "m"), 3);
    assert_true(tc_case_num(&c, "beta") == 0.5);
    assert_string_equal(tc_case_str(&c, "mode"), "erf");
    assert_int_equal(tc_case_int(&c, "absent"), 0);
    assert_int_equal(tc_case_set(&c, "m", 7), 0);
    assert_int_equal(tc_case_set(&c, "k", 2), 0);
    char buf[128];
    tc_case_describe(&c, buf, sizeof buf);
    assert_string_equal(buf, "m=7 beta=0.5 mode=erf k=2");
    tc_case_json(&c, buf, sizeof buf);
    assert_string_equal(buf, "{\"m\":7,\"beta\":0.5,\"mode\":\"erf\",\"k\":2}");
    for (int i = 0; i < TC_CASE_KEYS; i++) {
        static char names[TC_CASE_KEYS][8];
        snprintf(names[i], sizeof names[i], "x%d", i);
        tc_case_set(&c, names[i], i);
    }
    assert_int_equal(tc_case_set(&c, "one_more", 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_reads_writes_its_elements),
        cmocka_unit_test(test_view_bad_input),
        cmocka_unit_test(test_ops_on_views_of_one_storage),
        cmocka_unit_test(test_quant_roundtrip_and_views),
        cmocka_unit_test(test_check_machinery_can_fail),
        cmocka_unit_test(test_case_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
