/* int8 models: the digit models quantized with the training split score within a
 * point of f32 on the test split, hold ~3.5x fewer parameter bytes, save and load
 * back to the same outputs, run the same on the device under test as on ref; bad
 * calls are refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#ifndef TINYCL_DATA_DIR
#error "tests/CMakeLists.txt defines TINYCL_DATA_DIR"
#endif

#define DIGITS_N 359
static const char *const models[] = {TINYCL_DATA_DIR "/mlp_digits.tcw", TINYCL_DATA_DIR "/cnn_digits.tcw"};
static char tmpdir[64];

typedef struct {
    tc_tensor *x, *labels, *cx, *clabels; /* test split; training split (calibration) */
} digits;

static void load_digits(tc_ctx *ctx, digits *d)
{
    if (tc_dataset_load(ctx, TINYCL_DATA_DIR "/digits_test.tcd", &d->x, &d->labels) != TC_OK ||
        tc_dataset_load(ctx, TINYCL_DATA_DIR "/digits_train.tcd", &d->cx, &d->clabels) != TC_OK)
        fail_msg("%s", tc_last_error(ctx));
}

static void free_digits(digits *d)
{
    tc_tensor_free(d->x), tc_tensor_free(d->labels), tc_tensor_free(d->cx), tc_tensor_free(d->clabels);
}

/* The model's outputs on the test split into out [DIGITS_N * 10]; returns the correct count. */
static int outputs(tc_ctx *ctx, tc_model *m, const digits *d, float *out)
{
    tc_tensor *y = NULL;
    int32_t labels[DIGITS_N];
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(DIGITS_N, 10), &y), TC_OK);
    if (tc_model_forward(m, d->x, y) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    assert_int_equal(tc_tensor_read(y, out, DIGITS_N * 10 * sizeof *out), TC_OK);
    assert_int_equal(tc_tensor_read(d->labels, labels, sizeof labels), TC_OK);
    tc_tensor_free(y);
    int correct = 0;
    for (int i = 0; i < DIGITS_N; i++) {
        int best = 0;
        for (int c = 1; c < 10; c++) best = out[i * 10 + c] > out[i * 10 + best] ? c : best;
        correct += best == labels[i];
    }
    return correct;
}

static tc_model *quantized(tc_ctx *ctx, tc_model *m, const digits *d, const tc_model_quant_options *o)
{
    tc_model *q = NULL;
    if (tc_model_quantize(m, d->cx, o, &q) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    return q;
}

/* Defaults (per channel, min/max, int8 between layers): within one point of f32,
 * >= 3.5x fewer bytes, the summary of an int8 model; then every observer and per
 * tensor weights stay within two points. */
static void test_digits_int8_accuracy(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    digits d;
    load_digits(ctx, &d);
    static float f[DIGITS_N * 10], q[DIGITS_N * 10];
    for (int k = 0; k < 2; k++) {
        tc_model *m = NULL;
        assert_int_equal(tc_model_load(ctx, models[k], &m), TC_OK);
        tc_model *qm = quantized(ctx, m, &d, NULL);
        const int cf = outputs(ctx, m, &d, f), cq = outputs(ctx, qm, &d, q);
        const double ratio = (double)tc_model_bytes(m) / (double)tc_model_bytes(qm);
        char sum[512];
        tc_model_summary(qm, sum, sizeof sum);
        print_message("%s: f32 %d, int8 %d of %d; %lld -> %lld bytes (%.2fx); %s\n", tc_model_name(qm), cf, cq, DIGITS_N,
                      (long long)tc_model_bytes(m), (long long)tc_model_bytes(qm), ratio, sum);
        assert_true(abs(cf - cq) * 100 <= DIGITS_N); /* one point */
        assert_true(ratio >= 3.5);
        assert_non_null(strstr(sum, k ? "qconv2d(1->16, 3x3, stride 1, pad 1, u8->u8)+relu > maxpool2d"
                                      : "qlinear(64->128, u8->u8)+relu"));
        assert_non_null(strstr(sum, "u8->f32) > softmax"));
        assert_string_equal(tc_model_name(qm), k ? "cnn_digits_int8" : "mlp_digits_int8");
        tc_model_free(qm);
        for (int obs = 0; obs < TC_OBSERVER_KIND_COUNT; obs++) {
            tc_model_quant_options o = tc_model_quant_defaults();
            o.observer = (tc_observer_kind)obs, o.per_channel = obs % 2, o.keep_int8 = obs < 2, o.batch = 100;
            qm = quantized(ctx, m, &d, &o);
            const int c = outputs(ctx, qm, &d, q);
            print_message("  %s, %s weights, %s between layers: %d\n", tc_observer_kind_name(o.observer),
                          o.per_channel ? "per-channel" : "per-tensor", o.keep_int8 ? "int8" : "f32", c);
            assert_true(abs(cf - c) * 50 <= DIGITS_N);
            tc_model_free(qm);
        }
        /* the f32 model is unchanged */
        assert_int_equal(outputs(ctx, m, &d, q), cf);
        assert_memory_equal(f, q, sizeof f);
        tc_model_free(m);
    }
    free_digits(&d);
    tc_ctx_free(ctx);
}

/* A saved int8 model loads back (with plans or one-shot) to the same outputs, and a
 * second save writes the same bytes; the device under test agrees with ref. */
static void test_digits_int8_save_load(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *ref = NULL;
    assert_int_equal(tc_ctx_create("ref", 0, &ref), TC_OK);
    digits d, dr;
    load_digits(ctx, &d);
    load_digits(ref, &dr);
    static float a[DIGITS_N * 10], b[DIGITS_N * 10], r[DIGITS_N * 10];
    char p1[128], p2[128];
    snprintf(p1, sizeof p1, "%s/q.tcw", tmpdir);
    snprintf(p2, sizeof p2, "%s/q2.tcw", tmpdir);
    for (int k = 0; k < 2; k++) {
        tc_model *m = NULL, *mr = NULL, *l1 = NULL, *l2 = NULL;
        assert_int_equal(tc_model_load(ctx, models[k], &m), TC_OK);
        assert_int_equal(tc_model_load(ref, models[k], &mr), TC_OK);
        tc_model *qm = quantized(ctx, m, &d, NULL), *qr = quantized(ref, mr, &dr, NULL);
        const int c = outputs(ctx, qm, &d, a);
        assert_int_equal(tc_model_save(qm, p1), TC_OK);
        if (tc_model_load(ctx, p1, &l1) != TC_OK) fail_msg("%s", tc_last_error(ctx));
        assert_int_equal(outputs(ctx, l1, &d, b), c);
        assert_memory_equal(a, b, sizeof a);
        assert_int_equal(tc_model_load_flags(ctx, p1, TC_MODEL_ONESHOT, &l2), TC_OK);
        assert_int_equal(outputs(ctx, l2, &d, b), c);
        assert_memory_equal(a, b, sizeof a);
        assert_int_equal(tc_model_save(l1, p2), TC_OK);
        size_t n1 = 0, n2 = 0;
        FILE *f1 = fopen(p1, "rb"), *f2 = fopen(p2, "rb");
        assert_non_null(f1);
        assert_non_null(f2);
        static unsigned char x1[1 << 16], x2[1 << 16];
        n1 = fread(x1, 1, sizeof x1, f1), n2 = fread(x2, 1, sizeof x2, f2);
        fclose(f1), fclose(f2);
        assert_int_equal(n1, n2);
        assert_memory_equal(x1, x2, n1);
        /* the same calibration and integers on ref: the same predictions, probabilities within 1e-5 */
        assert_int_equal(outputs(ref, qr, &dr, r), c);
        double worst = 0;
        for (int i = 0; i < DIGITS_N * 10; i++) worst = fmax(worst, fabs((double)a[i] - r[i]));
        print_message("%s: max |p - p_ref| %.2e\n", tc_model_name(qm), worst);
        assert_true(worst <= 1e-5);
        tc_model_free(l1), tc_model_free(l2), tc_model_free(qm), tc_model_free(qr), tc_model_free(m), tc_model_free(mr);
    }
    unlink(p1), unlink(p2);
    free_digits(&d), free_digits(&dr);
    tc_ctx_free(ref);
    tc_ctx_free(ctx);
}

static void test_quantize_bad_calls(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    digits d;
    load_digits(ctx, &d);
    tc_model *m = NULL, *q = (tc_model *)(uintptr_t)1;
    const size_t mem = th_tensor_mem(ctx);
    assert_int_equal(tc_model_load(ctx, models[0], &m), TC_OK);
    tc_tensor *wrong = th_tensor(ctx, 2, TH_DIMS(4, 63), NULL), *one = th_tensor(ctx, 1, TH_DIMS(64), NULL);
    tc_tensor *elsewhere = th_tensor(other, 2, TH_DIMS(4, 64), NULL), *s32 = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 2, TH_DIMS(4, 64), &s32), TC_OK);
    tc_model_quant_options o = tc_model_quant_defaults();
    th_expect(NULL, tc_model_quantize(NULL, d.cx, &o, &q), TC_ERR_INVALID_ARG, "model is NULL");
    assert_null(q);
    th_expect(ctx, tc_model_quantize(m, d.cx, &o, NULL), TC_ERR_INVALID_ARG, "out is NULL");
    th_expect(ctx, tc_model_quantize(m, NULL, &o, &q), TC_ERR_INVALID_ARG, "calib is NULL");
    th_expect(ctx, tc_model_quantize(m, wrong, &o, &q), TC_ERR_SHAPE, "63 elements per sample");
    th_expect(ctx, tc_model_quantize(m, one, &o, &q), TC_ERR_SHAPE, "1 elements per sample");
    th_expect(ctx, tc_model_quantize(m, elsewhere, &o, &q), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_model_quantize(m, s32, &o, &q), TC_ERR_DTYPE, "calib is s32");
    o.observer = TC_OBSERVER_KIND_COUNT;
    th_expect(ctx, tc_model_quantize(m, d.cx, &o, &q), TC_ERR_INVALID_ARG, "unknown observer kind");
    o = tc_model_quant_defaults(), o.act_dtype = TC_DTYPE_S32;
    th_expect(ctx, tc_model_quantize(m, d.cx, &o, &q), TC_ERR_DTYPE, "u8 or s8, not s32");
    o = tc_model_quant_defaults(), o.batch = 0;
    th_expect(ctx, tc_model_quantize(m, d.cx, &o, &q), TC_ERR_INVALID_ARG, "batch 0");
    /* a non-finite calibration value is refused by the observers */
    {
        float *h;
        tc_tensor *bad = th_tensor(ctx, 2, TH_DIMS(3, 64), &h);
        h[100] = INFINITY;
        assert_int_equal(tc_tensor_write(bad, h, 3 * 64 * sizeof *h), TC_OK);
        o = tc_model_quant_defaults();
        th_expect(ctx, tc_model_quantize(m, bad, &o, &q), TC_ERR_INVALID_ARG, "finite");
        tc_tensor_free(bad);
        free(h);
    }
    assert_null(q);
    /* s8 activations work as well */
    o = tc_model_quant_defaults(), o.act_dtype = TC_DTYPE_S8;
    assert_int_equal(tc_model_quantize(m, d.cx, &o, &q), TC_OK);
    char sum[512];
    tc_model_summary(q, sum, sizeof sum);
    assert_non_null(strstr(sum, "qlinear(64->128, s8->s8)"));
    tc_model_free(q);
    tc_tensor *all[] = {wrong, one, s32};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(elsewhere);
    tc_model_free(m);
    assert_int_equal(th_tensor_mem(ctx), mem); /* nothing left behind by the refused calls */
    free_digits(&d);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tinycl_qmodel_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digits_int8_accuracy),
        cmocka_unit_test(test_digits_int8_save_load),
        cmocka_unit_test(test_quantize_bad_calls),
    };
    const int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(tmpdir);
    return rc;
}
