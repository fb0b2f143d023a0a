/* Models: the committed digit models predict on the device under test exactly
 * as on ref, a hand-computed model gives its known outputs, bad calls are
 * refused, and every kind of damaged file is refused with nothing left allocated. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "model/format.h"
#include "tcw.h"

#ifndef TINYCL_DATA_DIR
#error "tests/CMakeLists.txt defines TINYCL_DATA_DIR"
#endif

/* correct: the numpy f32 test accuracy printed by scripts/train_digits.py (data/README.md) */
static const struct {
    const char *file, *name;
    int64_t correct;
} digit_models[] = {{"mlp_digits.tcw", "mlp_digits", 353}, {"cnn_digits.tcw", "cnn_digits", 351}};
#define DIGITS_TEST TINYCL_DATA_DIR "/digits_test.tcd"
#define DIGITS_N 359

static char tmpdir[64];

static void data_path(char *buf, size_t n, const char *file) { snprintf(buf, n, "%s/%s", TINYCL_DATA_DIR, file); }

/* Predictions of a committed model for every test image, on ctx. */
static void predict_digits(tc_ctx *ctx, const char *file, int32_t *pred, int32_t *labels)
{
    char path[1024];
    data_path(path, sizeof path, file);
    tc_model *m = NULL;
    tc_tensor *x = NULL, *y = NULL, *p = NULL;
    if (tc_model_load(ctx, path, &m) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    if (tc_dataset_load(ctx, DIGITS_TEST, &x, &y) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    assert_int_equal(tc_tensor_dim(x, 0), DIGITS_N);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 1, TH_DIMS(DIGITS_N), &p), TC_OK);
    if (tc_model_predict(m, x, p) != TC_OK) fail_msg("%s: %s", file, tc_last_error(ctx));
    assert_int_equal(tc_tensor_read(p, pred, DIGITS_N * sizeof *pred), TC_OK);
    assert_int_equal(tc_tensor_read(y, labels, DIGITS_N * sizeof *labels), TC_OK);
    tc_tensor_free(p);
    tc_tensor_free(x);
    tc_tensor_free(y);
    tc_model_free(m);
}

/* Same predictions, batch by batch of `batch` images fed as [b, 64]. */
static void predict_in_batches(tc_ctx *ctx, const char *file, const float *images, int64_t batch, int32_t *pred)
{
    char path[1024];
    data_path(path, sizeof path, file);
    tc_model *m = NULL;
    assert_int_equal(tc_model_load(ctx, path, &m), TC_OK);
    for (int64_t at = 0; at < DIGITS_N; at += batch) {
        int64_t b = at + batch <= DIGITS_N ? batch : DIGITS_N - at;
        tc_tensor *x = NULL, *p = NULL;
        assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(b, 64), images + at * 64, &x), TC_OK);
        assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 1, &b, &p), TC_OK);
        if (tc_model_predict(m, x, p) != TC_OK) fail_msg("%s: %s", file, tc_last_error(ctx));
        assert_int_equal(tc_tensor_read(p, pred + at, (size_t)b * sizeof *pred), TC_OK);
        tc_tensor_free(x);
        tc_tensor_free(p);
    }
    tc_model_free(m);
}

static void test_digits_match_ref(void **state)
{
    (void)state;
    tc_ctx *ref = NULL, *ctx = th_ctx();
    assert_int_equal(tc_ctx_create("ref", 0, &ref), TC_OK);
    const size_t mem0 = th_tensor_mem(ctx);
    static int32_t want[DIGITS_N], got[DIGITS_N], labels[DIGITS_N], batched[DIGITS_N];
    static float images[DIGITS_N * 64];
    tc_tensor *x = NULL, *y = NULL;
    assert_int_equal(tc_dataset_load(ref, DIGITS_TEST, &x, &y), TC_OK);
    assert_int_equal(tc_tensor_read(x, images, sizeof images), TC_OK);
    tc_tensor_free(x);
    tc_tensor_free(y);
    for (size_t k = 0; k < sizeof digit_models / sizeof digit_models[0]; k++) {
        const char *file = digit_models[k].file;
        predict_digits(ref, file, want, labels);
        predict_digits(ctx, file, got, labels);
        int64_t correct_ref = 0, correct = 0, differ = 0;
        for (int i = 0; i < DIGITS_N; i++) {
            correct_ref += want[i] == labels[i];
            correct += got[i] == labels[i];
            if (got[i] != want[i]) print_error("%s: image %d: ref %d, device %d\n", file, i, want[i], got[i]);
            differ += got[i] != want[i];
        }
        print_message("%s on %s: %lld/%d correct\n", file, tc_ctx_device(ctx)->name, (long long)correct, DIGITS_N);
        assert_int_equal(correct_ref, digit_models[k].correct);
        assert_int_equal(correct, correct_ref);
        assert_int_equal(differ, 0);
        /* batches of 64 and 100 (ragged last batch), then of 1: activations reallocated */
        const int64_t sizes[] = {64, 100};
        for (size_t s = 0; s < 2; s++) {
            predict_in_batches(ctx, file, images, sizes[s], batched);
            assert_memory_equal(batched, want, sizeof want);
        }
        tc_model *m = NULL;
        char path[1024];
        data_path(path, sizeof path, file);
        assert_int_equal(tc_model_load(ctx, path, &m), TC_OK);
        assert_string_equal(tc_model_name(m), digit_models[k].name);
        assert_int_equal(tc_model_classes(m), 10);
        assert_int_equal(tc_model_input_numel(m), 64);
        for (int i = 0; i < 5; i++) {
            tc_tensor *xi = NULL, *pi = NULL;
            int32_t p1 = -1;
            assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, TH_DIMS(1, 1, 8, 8), images + i * 64, &xi),
                             TC_OK);
            assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 1, TH_DIMS(1), &pi), TC_OK);
            assert_int_equal(tc_model_predict(m, xi, pi), TC_OK);
            assert_int_equal(tc_tensor_read(pi, &p1, sizeof p1), TC_OK);
            assert_int_equal(p1, want[i]);
            tc_tensor_free(xi);
            tc_tensor_free(pi);
        }
        tc_model_free(m);
    }
    assert_int_equal(th_tensor_mem(ctx), mem0);
    tc_ctx_free(ref);
    tc_ctx_free(ctx);
}

/* Outputs [DIGITS_N, 10] of a model file on x. */
static void digits_outputs(tc_ctx *ctx, const char *path, unsigned flags, const tc_tensor *x, float *out)
{
    tc_model *m = NULL;
    tc_tensor *y = NULL;
    if (tc_model_load_flags(ctx, path, flags, &m) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(DIGITS_N, 10), &y), TC_OK);
    if (tc_model_forward(m, x, y) != TC_OK) fail_msg("%s: %s", path, tc_last_error(ctx));
    assert_int_equal(tc_tensor_read(y, out, (size_t)DIGITS_N * 10 * sizeof *out), TC_OK);
    tc_tensor_free(y);
    tc_model_free(m);
}

static char *tmp_file(void);
static char *tmp_file2(void);

/* The committed version-1 models saved as version 2 give the same outputs, and
 * so do they run through one-shot ops instead of plans (and, within rounding,
 * through CLBlast's GEMM); saving the version-2
 * model again writes the same bytes. */
static void test_digits_v2_and_oneshot(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const size_t mem0 = th_tensor_mem(ctx);
    static float want[DIGITS_N * 10], got[DIGITS_N * 10];
    tc_tensor *x = NULL, *labels = NULL;
    assert_int_equal(tc_dataset_load(ctx, DIGITS_TEST, &x, &labels), TC_OK);
    for (size_t k = 0; k < sizeof digit_models / sizeof digit_models[0]; k++) {
        char path[1024];
        data_path(path, sizeof path, digit_models[k].file);
        digits_outputs(ctx, path, 0, x, want);
        digits_outputs(ctx, path, TC_MODEL_ONESHOT, x, got);
        assert_memory_equal(got, want, sizeof want);
        if (!tc_ctx_is_ref(ctx)) { /* CLBlast's GEMM: another summation order */
            digits_outputs(ctx, path, TC_MODEL_CLBLAST, x, got);
            for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) assert_float_equal(got[i], want[i], 1e-5);
        } else {
            tc_model *m = NULL;
            th_expect(ctx, tc_model_load_flags(ctx, path, TC_MODEL_CLBLAST, &m), TC_ERR_UNSUPPORTED, "not ref");
            assert_null(m);
        }

        tc_model *m = NULL;
        assert_int_equal(tc_model_load(ctx, path, &m), TC_OK);
        if (tc_model_save(m, tmp_file()) != TC_OK) fail_msg("%s", tc_last_error(ctx));
        tc_model_free(m);
        digits_outputs(ctx, tmp_file(), 0, x, got);
        assert_memory_equal(got, want, sizeof want);
        assert_int_equal(tc_model_load(ctx, tmp_file(), &m), TC_OK);
        assert_string_equal(tc_model_name(m), digit_models[k].name);
        assert_int_equal(tc_model_save(m, tmp_file2()), TC_OK);
        tc_model_free(m);
        size_t n1, n2;
        unsigned char *b1 = slurp(tmp_file(), &n1), *b2 = slurp(tmp_file2(), &n2);
        assert_int_equal(b1[4], 2); /* version */
        assert_int_equal(n1, n2);
        assert_memory_equal(b1, b2, n1);
        free(b1);
        free(b2);
    }
    tc_tensor_free(x);
    tc_tensor_free(labels);
    assert_int_equal(th_tensor_mem(ctx), mem0);
    tc_ctx_free(ctx);
}

/* ------------------------------------------------------------ hand-made files */

#define P0 U(0, 0, 0, 0, 0, 0)

/* linear(4->3)+relu > linear(3->2) > softmax, with known weights */
static const float w1[] = {1, 2, 0, 0, 0, 0, 1, -1, -1, 0, 0, 0}, b1[] = {0.5f, 0, 0};
static const float w2[] = {1, 0, 0, 0.5f, 1, 1}, b2[] = {0, 1};

static void tiny_model(fbuf *f)
{
    w_header(f, 1, 3, 1, U(4, 0, 0));
    w_layer(f, TC_LAYER_LINEAR, 1, U(4, 3, 0, 0, 0, 0), 2);
    w_tensor(f, 2, U(3, 4, 0, 0), w1);
    w_tensor(f, 1, U(3, 0, 0, 0), b1);
    w_layer(f, TC_LAYER_LINEAR, 0, U(3, 2, 0, 0, 0, 0), 2);
    w_tensor(f, 2, U(2, 3, 0, 0), w2);
    w_tensor(f, 1, U(2, 0, 0, 0), b2);
    w_layer(f, TC_LAYER_SOFTMAX, 0, P0, 0);
    seal(f);
}

static char *tmp_file(void)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/file", tmpdir);
    return path;
}

static char *tmp_file2(void)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/file2", tmpdir);
    return path;
}

/* Loading `data` as a model gives `want`; on failure a message with `needle` and
 * *out NULL. Either way the context holds no more memory afterwards. */
static void expect_model(tc_ctx *ctx, const void *data, size_t n, tc_status want, const char *needle)
{
    write_file(tmp_file(), data, n);
    size_t mem0 = tc_ctx_mem_current(ctx);
    tc_model *m = (tc_model *)&mem0;
    tc_status st = tc_model_load(ctx, tmp_file(), &m);
    if (want == TC_OK) {
        if (st != TC_OK) fail_msg("%s", tc_last_error(ctx));
        tc_model_free(m);
    } else {
        th_expect(ctx, st, want, needle);
        assert_null(m);
    }
    assert_int_equal(tc_ctx_mem_current(ctx), mem0);
}

static void expect_data(tc_ctx *ctx, const void *data, size_t n, tc_status want, const char *needle)
{
    write_file(tmp_file(), data, n);
    size_t mem0 = tc_ctx_mem_current(ctx);
    tc_tensor *x = (tc_tensor *)&mem0, *y = (tc_tensor *)&mem0;
    th_expect(ctx, tc_dataset_load(ctx, tmp_file(), &x, &y), want, needle);
    assert_null(x);
    assert_null(y);
    assert_int_equal(tc_ctx_mem_current(ctx), mem0);
}

static unsigned char *slurp_data(const char *file, size_t *n)
{
    char path[1024];
    data_path(path, sizeof path, file);
    return slurp(path, n);
}

/* The tiny model loaded on ctx. */
static tc_model *tiny_loaded(tc_ctx *ctx)
{
    fbuf f;
    tiny_model(&f);
    write_file(tmp_file(), f.b, f.n);
    tc_model *m = NULL;
    assert_int_equal(tc_model_load(ctx, tmp_file(), &m), TC_OK);
    return m;
}

/* The tiny model computes what the hand-worked numbers say. */
static void test_tiny_model_forward(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_model *m = tiny_loaded(ctx);
    char summary[256];
    tc_model_summary(m, summary, sizeof summary);
    assert_string_equal(summary, "linear(4->3)+relu > linear(3->2) > softmax");
    /* x0 = [1 2 3 4]: hidden [5.5 0 0], logits [5.5 3.75]; x1 = [0 0 4 1]: hidden [0.5 3 0], logits [0.5 4.25] */
    const float xs[] = {1, 2, 3, 4, 0, 0, 4, 1}, logits[] = {5.5f, 3.75f, 0.5f, 4.25f};
    tc_tensor *x = NULL, *y = th_tensor(ctx, 2, TH_DIMS(2, 2), NULL), *p = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(2, 4), xs, &x), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 1, TH_DIMS(2), &p), TC_OK);
    assert_int_equal(tc_model_forward(m, x, y), TC_OK);
    float out[4];
    int32_t pred[2];
    assert_int_equal(tc_tensor_read(y, out, sizeof out), TC_OK);
    for (int r = 0; r < 2; r++) {
        float e = expf(logits[2 * r + 1] - logits[2 * r]);
        assert_float_equal(out[2 * r], 1.0f / (1.0f + e), 1e-6f);
        assert_float_equal(out[2 * r + 1], e / (1.0f + e), 1e-6f);
    }
    assert_int_equal(tc_model_predict(m, x, p), TC_OK);
    assert_int_equal(tc_tensor_read(p, pred, sizeof pred), TC_OK);
    assert_int_equal(pred[0], 0);
    assert_int_equal(pred[1], 1);
    tc_tensor_free(x);
    tc_tensor_free(y);
    tc_tensor_free(p);
    tc_model_free(m);
    tc_ctx_free(ctx);
}

/* A 136-byte file the loader accepts: a maxpool with window 2^30-3, stride 2^31-1
 * and pad 2^30-4 on 1x1 samples, then global average pooling. Its forward once
 * crashed on OpenCL (the pooling kernel's int arithmetic wrapped); the output is
 * the input. A pad that takes the padded extent past 2^31-1 is refused at load. A
 * layer refused when it runs (a one-shot convolution whose padded input passes
 * what OpenCL kernels index) gives a message naming the call and the layer. */
static void test_huge_window_model(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    fbuf f;
    w_header(&f, 1, 2, 3, U(2, 1, 1));
    w_layer(&f, TC_LAYER_MAXPOOL2D, 0, U((1u << 30) - 3, (1u << 30) - 3, 0x7FFFFFFFu, (1u << 30) - 4, 0, 0), 0);
    w_layer(&f, TC_LAYER_GLOBAL_AVGPOOL, 0, P0, 0);
    seal(&f);
    assert_int_equal(f.n, 136);
    write_file(tmp_file(), f.b, f.n);
    tc_model *m = NULL;
    if (tc_model_load(ctx, tmp_file(), &m) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    float *hx, *hy;
    tc_tensor *x = th_tensor(ctx, 4, TH_DIMS(3, 2, 1, 1), &hx), *y = th_tensor(ctx, 2, TH_DIMS(3, 2), &hy), *p = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 1, TH_DIMS(3), &p), TC_OK);
    if (tc_model_forward(m, x, y) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    assert_true(th_unchanged(y, hx));
    assert_int_equal(tc_model_predict(m, x, p), TC_OK);
    tc_model_free(m);

    w_header(&f, 1, 2, 3, U(2, 1, 1));
    w_layer(&f, TC_LAYER_MAXPOOL2D, 0, U((1u << 30) + 1, (1u << 30) + 1, (1u << 30) + 1, 1u << 30, 0, 0), 0);
    w_layer(&f, TC_LAYER_GLOBAL_AVGPOOL, 0, P0, 0);
    seal(&f);
    expect_model(ctx, f.b, f.n, TC_ERR_CORRUPT, "beyond 2^31-1");

    w_header(&f, 1, 2, 3, U(1, 1, 1));
    w_layer(&f, TC_LAYER_CONV2D, 0, U(1, 1, 1, 1, 0x7FFFFFFFu, 1u << 29), 1);
    w_tensor(&f, 4, U(1, 1, 1, 1), NULL);
    w_layer(&f, TC_LAYER_GLOBAL_AVGPOOL, 0, P0, 0);
    seal(&f);
    write_file(tmp_file(), f.b, f.n);
    assert_int_equal(tc_model_load_flags(ctx, tmp_file(), TC_MODEL_ONESHOT, &m), TC_OK);
    float *hy1;
    tc_tensor *x1 = th_tensor(ctx, 4, TH_DIMS(3, 1, 1, 1), NULL), *y1 = th_tensor(ctx, 2, TH_DIMS(3, 1), &hy1);
    if (tc_ctx_is_ref(ctx)) {
        assert_int_equal(tc_model_forward(m, x1, y1), TC_OK);
    } else {
        th_expect(ctx, tc_model_forward(m, x1, y1), TC_ERR_OVERFLOW, "tc_model_forward: layer 0 (conv2d): conv2d: ");
        th_expect(ctx, tc_model_predict(m, x1, p), TC_ERR_OVERFLOW, "tc_model_predict: layer 0 (conv2d): conv2d: ");
        assert_true(th_unchanged(y1, hy1));
    }
    tc_model_free(m);
    tc_tensor_free(x), tc_tensor_free(y), tc_tensor_free(p), tc_tensor_free(x1), tc_tensor_free(y1);
    free(hx), free(hy), free(hy1);
    tc_ctx_free(ctx);
}

/* A model keeps its context alive: the context may be freed first. */
static void test_model_outlives_ctx(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_model *m = tiny_loaded(ctx);
    const float xs[] = {1, 2, 3, 4};
    tc_tensor *x = NULL, *y = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(1, 4), xs, &x), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(1, 2), &y), TC_OK);
    tc_ctx_free(ctx);
    assert_int_equal(tc_model_forward(m, x, y), TC_OK);
    float out[2];
    assert_int_equal(tc_tensor_read(y, out, sizeof out), TC_OK);
    assert_float_equal(out[0] + out[1], 1.0f, 1e-6f);
    assert_true(out[0] > out[1]); /* logits 5.5 and 3.75 (test_tiny_model_forward) */
    tc_model_free(m);
    tc_tensor_free(x);
    tc_tensor_free(y);
}

/* Bad forward / predict calls: a status and a message, the output untouched. */
static void test_model_bad_calls(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    tc_model *m = tiny_loaded(ctx);
    float *hy;
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(2, 4), NULL), *y = th_tensor(ctx, 2, TH_DIMS(2, 2), &hy);
    tc_tensor *x5 = th_tensor(ctx, 2, TH_DIMS(2, 5), NULL), *x1d = th_tensor(ctx, 1, TH_DIMS(4), NULL);
    tc_tensor *y3 = th_tensor(ctx, 2, TH_DIMS(2, 3), NULL), *y_b3 = th_tensor(ctx, 2, TH_DIMS(3, 2), NULL);
    tc_tensor *x_other = th_tensor(other, 2, TH_DIMS(2, 4), NULL), *x_s32 = NULL, *p = NULL, *p3 = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 2, TH_DIMS(2, 4), &x_s32), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 1, TH_DIMS(2), &p), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 1, TH_DIMS(3), &p3), TC_OK);

    th_expect(NULL, tc_model_forward(NULL, x, y), TC_ERR_INVALID_ARG, "model is NULL");
    th_expect(ctx, tc_model_forward(m, NULL, y), TC_ERR_INVALID_ARG, "tc_model_forward: x is NULL");
    th_expect(ctx, tc_model_forward(m, x, NULL), TC_ERR_INVALID_ARG, "tc_model_forward: y is NULL");
    th_expect(ctx, tc_model_forward(m, x5, y), TC_ERR_SHAPE, "4 elements per sample");
    th_expect(ctx, tc_model_forward(m, x1d, y), TC_ERR_SHAPE, "x is [4]");
    th_expect(ctx, tc_model_forward(m, x, y3), TC_ERR_SHAPE, "expected [2, 2]");
    th_expect(ctx, tc_model_forward(m, x, y_b3), TC_ERR_SHAPE, "y is [3, 2]");
    th_expect(ctx, tc_model_forward(m, x_s32, y), TC_ERR_DTYPE, "s32");
    th_expect(ctx, tc_model_forward(m, x_other, y), TC_ERR_CONTEXT, "tc_model_forward: x belongs to another context");
    th_expect(ctx, tc_model_forward(m, x, p), TC_ERR_DTYPE, "tc_model_forward: y is s32");
    th_expect(ctx, tc_model_predict(m, x, y), TC_ERR_DTYPE, "tc_model_predict: pred is f32");
    th_expect(ctx, tc_model_predict(m, x, p3), TC_ERR_SHAPE, "expected [2]");
    th_expect(NULL, tc_model_predict(NULL, x, p), TC_ERR_INVALID_ARG, "model is NULL");
    assert_true(th_unchanged(y, hy));
    assert_int_equal(tc_model_forward(m, x, y), TC_OK);
    assert_false(th_unchanged(y, hy));

    tc_tensor *all[] = {x, y, x5, x1d, y3, y_b3, x_s32, p, p3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(x_other);
    free(hy);
    tc_model_free(m);
    assert_int_equal(th_tensor_mem(ctx), 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

/* Damaged copies of a committed model: truncated, flipped, bad magic or version. */
static void test_damaged_model_files(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    size_t n;
    unsigned char *b = slurp_data("cnn_digits.tcw", &n);
    /* header, name, first layer record, its tensor header and payload, last record, checksum */
    const size_t cuts[] = {0, 3, 6, 30, 59, 70, 100, 300, n - 20, n - 4, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        expect_model(ctx, b, cuts[i], TC_ERR_CORRUPT, "truncated");
    b[n] = 0;
    expect_model(ctx, b, n + 1, TC_ERR_CORRUPT, "unexpected bytes");
    b[300] ^= 0x10;
    expect_model(ctx, b, n, TC_ERR_CORRUPT, "checksum mismatch");
    b[300] ^= 0x10;
    b[n - 1] ^= 0x01;
    expect_model(ctx, b, n, TC_ERR_CORRUPT, "checksum mismatch");
    b[n - 1] ^= 0x01;
    b[0] = 'X';
    expect_model(ctx, b, n, TC_ERR_CORRUPT, "bad magic");
    b[0] = 'T';
    b[4] = 3;
    reseal(b, n);
    expect_model(ctx, b, n, TC_ERR_CORRUPT, "unsupported format version 3 (this build reads 1..2)");
    b[4] = 2; /* a version-1 body read as version 2 */
    reseal(b, n);
    expect_model(ctx, b, n, TC_ERR_CORRUPT, "layer 0 tensor 0");
    b[4] = 1;
    reseal(b, n);
    expect_model(ctx, b, n, TC_OK, NULL); /* restored: loads again */
    free(b);
    tc_ctx_free(ctx);
}

/* Files of one layer without tensors, each with a valid checksum and one thing wrong. */
static const struct {
    uint32_t in_ndim, in[3], type, flags, p[6], ntensors;
    const char *needle;
} one_layer[] = {
    {1, {4}, 99, 0, {0}, 0, "unknown layer type 99"},
    {1, {4}, TC_LAYER_SOFTMAX, 1, {0}, 0, "flags 0x1"},
    {1, {4}, TC_LAYER_SOFTMAX, 0, {0, 0, 0, 7}, 0, "parameter 3 is 7 (unused, must be 0)"},
    {1, {4}, TC_LAYER_LINEAR, 0, {4, 3}, 3, "at most 2"},
    {1, {4}, TC_LAYER_LINEAR, 0, {4, 3}, 0, "layer 0 (linear): no weight tensor"},
    {4, {4, 1, 1}, TC_LAYER_SOFTMAX, 0, {0}, 0, "input rank 4"},
    {1, {4, 0, 9}, TC_LAYER_SOFTMAX, 0, {0}, 0, "unused dimension 2 is 9"},
    {1, {0}, TC_LAYER_SOFTMAX, 0, {0}, 0, "dimension 0 is 0"},
    {2, {0x7FFFFFFF, 0x7FFFFFFF}, TC_LAYER_SOFTMAX, 0, {0}, 0, "overflow"},
    {1, {16}, TC_LAYER_GLOBAL_AVGPOOL, 0, {0}, 0, "takes 3-D samples"},
    {3, {1, 4, 4}, TC_LAYER_MAXPOOL2D, 0, {5, 5, 1, 0}, 0, "height window 5 is larger than the padded input (4 + 2 * 0)"},
    {3, {1, 4, 4}, TC_LAYER_AVGPOOL2D, 0, {2, 2, 0, 0}, 0, "stride 0"},
    {3, {1, 4, 4}, TC_LAYER_MAXPOOL2D, 0, {2, 2, 1, 2}, 0, "0 <= pad < window"},
    {3, {1, 4, 4}, TC_LAYER_MAXPOOL2D, 0, {2, 2, 2, 0}, 0, "ends with [classes]"},
    {3, {1, 4, 4}, TC_LAYER_FLATTEN, 0, {0}, 0, "the last layer is a flatten"},
};

/* Hand-made files, each with a valid checksum and one thing wrong. */
static void test_bad_model_contents(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    fbuf f;
    tiny_model(&f);
    expect_model(ctx, f.b, f.n, TC_OK, NULL);

    /* shapes that do not chain: 3 features into a layer that takes 5 */
    w_header(&f, 1, 2, 1, U(4, 0, 0));
    w_layer(&f, TC_LAYER_LINEAR, 0, U(4, 3, 0, 0, 0, 0), 1);
    w_tensor(&f, 2, U(3, 4, 0, 0), NULL);
    w_layer(&f, TC_LAYER_LINEAR, 0, U(5, 2, 0, 0, 0, 0), 1);
    w_tensor(&f, 2, U(2, 5, 0, 0), NULL);
    seal(&f);
    expect_model(ctx, f.b, f.n, TC_ERR_CORRUPT,
                 "layer 1 (linear): takes 1-D samples of 5 features; the layer before gives [3]");

    /* a weight whose shape contradicts its layer's parameters */
    w_header(&f, 1, 1, 1, U(4, 0, 0));
    w_layer(&f, TC_LAYER_LINEAR, 0, U(4, 3, 0, 0, 0, 0), 2);
    w_tensor(&f, 2, U(4, 3, 0, 0), NULL);
    w_tensor(&f, 1, U(3, 0, 0, 0), NULL);
    seal(&f);
    expect_model(ctx, f.b, f.n, TC_ERR_CORRUPT, "layer 0 (linear): weight is [4, 3], its parameters need [3, 4]");

    /* a convolution fed 1-D samples */
    w_header(&f, 1, 1, 1, U(16, 0, 0));
    w_layer(&f, TC_LAYER_CONV2D, 0, U(1, 1, 1, 1, 1, 0), 1);
    w_tensor(&f, 4, U(1, 1, 1, 1), NULL);
    seal(&f);
    expect_model(ctx, f.b, f.n, TC_ERR_CORRUPT, "takes 3-D samples");

    /* absurd dims: overflowing product, zero, parameter past the limit */
    w_header(&f, 1, 1, 1, U(4, 0, 0));
    w_layer(&f, TC_LAYER_LINEAR, 0, U(4, 3, 0, 0, 0, 0), 1);
    fb_words(&f, 5, U(4, 65536, 65536, 65536, 65536));
    seal(&f);
    expect_model(ctx, f.b, f.n, TC_ERR_CORRUPT, "overflow");
    w_header(&f, 1, 1, 1, U(4, 0, 0));
    w_layer(&f, TC_LAYER_LINEAR, 0, U(4, 3, 0, 0, 0, 0), 1);
    fb_words(&f, 5, U(2, 3, 0, 0, 0));
    seal(&f);
    expect_model(ctx, f.b, f.n, TC_ERR_CORRUPT, "dimension 1 is 0");
    w_header(&f, 1, 1, 1, U(4, 0, 0));
    w_layer(&f, TC_LAYER_LINEAR, 0, U(4, 0xFFFFFFFFu, 0, 0, 0, 0), 1);
    w_tensor(&f, 2, U(3, 4, 0, 0), NULL);
    seal(&f);
    expect_model(ctx, f.b, f.n, TC_ERR_CORRUPT, "too large");

    for (size_t i = 0; i < sizeof one_layer / sizeof one_layer[0]; i++) {
        w_header(&f, 1, 1, one_layer[i].in_ndim, one_layer[i].in);
        w_layer(&f, one_layer[i].type, one_layer[i].flags, one_layer[i].p, one_layer[i].ntensors);
        seal(&f);
        expect_model(ctx, f.b, f.n, TC_ERR_CORRUPT, one_layer[i].needle);
    }
    w_header(&f, 1, 1000, 1, U(4, 0, 0));
    seal(&f);
    expect_model(ctx, f.b, f.n, TC_ERR_CORRUPT, "1000 layers");
    w_header(&f, 1, 1, 1, U(4, 0, 0));
    f.b[28] = 0x07; /* first byte of the name */
    w_layer(&f, TC_LAYER_SOFTMAX, 0, P0, 0);
    seal(&f);
    expect_model(ctx, f.b, f.n, TC_ERR_CORRUPT, "non-printable");

    /* no file, a directory, NULL arguments */
    tc_model *m = (tc_model *)ctx;
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no-such-file.tcw", tmpdir);
    th_expect(ctx, tc_model_load(ctx, missing, &m), TC_ERR_IO, "no-such-file.tcw");
    assert_null(m);
    th_expect(ctx, tc_model_load(ctx, tmpdir, &m), TC_ERR_IO, "not a regular file");
    th_expect(ctx, tc_model_load(ctx, NULL, &m), TC_ERR_INVALID_ARG, "path is NULL");
    th_expect(NULL, tc_model_load(NULL, missing, &m), TC_ERR_INVALID_ARG, "ctx is NULL");
    th_expect(ctx, tc_model_load(ctx, missing, NULL), TC_ERR_INVALID_ARG, "out is NULL");
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
}

/* The test split: damaged copies and a label out of range. */
static void test_bad_data_files(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    size_t n;
    unsigned char *b = slurp_data("digits_test.tcd", &n);
    const size_t cuts[] = {0, 10, 31, 32, 5000, n - 4 * DIGITS_N, n - 5, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        expect_data(ctx, b, cuts[i], TC_ERR_CORRUPT, "truncated");
    b[4000] ^= 0x80;
    expect_data(ctx, b, n, TC_ERR_CORRUPT, "checksum mismatch");
    b[4000] ^= 0x80;
    b[3] = 'W';
    expect_data(ctx, b, n, TC_ERR_CORRUPT, "bad magic");
    b[3] = 'D';
    int32_t label = 10;
    memcpy(b + n - 8, &label, 4);
    reseal(b, n);
    expect_data(ctx, b, n, TC_ERR_CORRUPT, "label 358 is 10");
    uint32_t zero = 0;
    memcpy(b + 8, &zero, 4);
    reseal(b, n);
    expect_data(ctx, b, n, TC_ERR_CORRUPT, "sample count 0");
    free(b);
    tc_tensor *x = (tc_tensor *)ctx, *y = (tc_tensor *)ctx;
    th_expect(ctx, tc_dataset_load(ctx, "/nonexistent/digits.tcd", &x, &y), TC_ERR_IO, "/nonexistent/digits.tcd");
    assert_null(x);
    assert_null(y);
    th_expect(ctx, tc_dataset_load(ctx, DIGITS_TEST, NULL, &y), TC_ERR_INVALID_ARG, "NULL");
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
}

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tinycl_model_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    unlink(tmp_file());
    unlink(tmp_file2());
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digits_match_ref),
        cmocka_unit_test(test_digits_v2_and_oneshot),
        cmocka_unit_test(test_tiny_model_forward),
        cmocka_unit_test(test_huge_window_model),
        cmocka_unit_test(test_model_outlives_ctx),
        cmocka_unit_test(test_model_bad_calls),
        cmocka_unit_test(test_damaged_model_files),
        cmocka_unit_test(test_bad_model_contents),
        cmocka_unit_test(test_bad_data_files),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
