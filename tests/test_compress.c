/* Pruned models: the committed pruned digit models give the script's accuracy on
 * ref and the same predictions on the device under test, and save to their own
 * bytes; tc_model_prune removes exactly what the magnitude rules say (checked
 * against a selection computed here from the dense weights), the pruned model
 * computes what the dense model with those weights zeroed computes, prunes
 * further, saves smaller and quantizes; bad calls are refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "model/kind.h"
#include "tcw.h"

#ifndef TINYCL_DATA_DIR
#error "tests/CMakeLists.txt defines TINYCL_DATA_DIR"
#endif

#define DIGITS_N 359
#define DIGITS_TEST TINYCL_DATA_DIR "/digits_test.tcd"
#define DIGITS_TRAIN TINYCL_DATA_DIR "/digits_train.tcd"
#define MLP TINYCL_DATA_DIR "/mlp_digits.tcw"
#define CNN TINYCL_DATA_DIR "/cnn_digits.tcw"

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

/* The committed pruned models: the numpy f32 accuracy and the weights left that
 * scripts/train_digits.py printed (data/README.md), out of the original's. */
static const struct {
    const char *file, *name;
    int structured;
    int64_t correct, left, original;
} pruned_models[] = {
    {"mlp_digits_pruned.tcw", "mlp_digits_pruned", 0, 352, 1702, 17024},
    {"mlp_digits_structured.tcw", "mlp_digits_structured", 1, 351, 6464, 17024},
    {"cnn_digits_pruned.tcw", "cnn_digits_pruned", 0, 351, 603, 6032},
    {"cnn_digits_structured.tcw", "cnn_digits_structured", 1, 353, 1864, 6032},
};

static tc_model *load(tc_ctx *ctx, const char *path, unsigned flags)
{
    tc_model *m = NULL;
    if (tc_model_load_flags(ctx, path, flags, &m) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    return m;
}

/* y [DIGITS_N, 10] of m on the test images x. */
static void outputs(tc_model *m, const tc_tensor *x, float *y)
{
    tc_tensor *t = NULL;
    assert_int_equal(tc_tensor_create(tc_tensor_ctx(x), TC_DTYPE_F32, 2, TH_DIMS(DIGITS_N, 10), &t), TC_OK);
    if (tc_model_forward(m, x, t) != TC_OK) fail_msg("%s", tc_last_error(tc_tensor_ctx(x)));
    assert_int_equal(tc_tensor_read(t, y, DIGITS_N * 10 * sizeof *y), TC_OK);
    tc_tensor_free(t);
}

static int64_t correct_of(const float *y, const int32_t *labels)
{
    int64_t n = 0;
    for (int i = 0; i < DIGITS_N; i++) {
        int best = 0;
        for (int c = 1; c < 10; c++)
            if (y[i * 10 + c] > y[i * 10 + best]) best = c;
        n += best == labels[i];
    }
    return n;
}

static void assert_close(const float *got, const float *want, size_t n, float tol)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(got[i] - want[i]) <= tol * (1 + fabsf(want[i]))))
            fail_msg("output %zu: %g, expected %g", i, (double)got[i], (double)want[i]);
}

static void test_committed_pruned_models(void **state)
{
    (void)state;
    tc_ctx *ref = NULL, *ctx = th_ctx();
    assert_int_equal(tc_ctx_create("ref", 0, &ref), TC_OK);
    const size_t mem0 = th_tensor_mem(ctx);
    tc_tensor *x = NULL, *lab = NULL, *rx = NULL, *rlab = NULL;
    assert_int_equal(tc_dataset_load(ctx, DIGITS_TEST, &x, &lab), TC_OK);
    assert_int_equal(tc_dataset_load(ref, DIGITS_TEST, &rx, &rlab), TC_OK);
    int32_t *labels = th_read(lab);
    static float want[DIGITS_N * 10], got[DIGITS_N * 10];
    for (size_t k = 0; k < sizeof pruned_models / sizeof pruned_models[0]; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", TINYCL_DATA_DIR, pruned_models[k].file);
        tc_model *r = load(ref, path, 0), *m = load(ctx, path, 0);
        outputs(r, rx, want);
        outputs(m, x, got);
        assert_int_equal(correct_of(want, labels), pruned_models[k].correct);
        assert_int_equal(correct_of(got, labels), pruned_models[k].correct);
        assert_close(got, want, DIGITS_N * 10, 1e-4f);
        assert_string_equal(tc_model_name(m), pruned_models[k].name);
        double sp = 0;
        int st = -1;
        assert_int_equal(tc_model_sparsity(m, &sp, &st), TC_OK);
        assert_int_equal(st, pruned_models[k].structured);
        assert_float_equal(sp, 1.0 - (double)pruned_models[k].left / (double)pruned_models[k].original, 1e-12);
        /* each layer runs sparse exactly when its sparsity reaches the device's breakeven */
        int64_t left = 0;
        for (int i = 0; i < tc_model_layer_count(m); i++) {
            tc_model_layer_info in;
            assert_int_equal(tc_model_layer_info_get(m, i, &in), TC_OK);
            left += in.nonzero;
            const double s = in.weights ? 100.0 * (1.0 - (double)in.nonzero / (double)in.weights) : 0;
            const int pruned = in.nonzero < in.weights;
            if (in.type == TC_LAYER_LINEAR) {
                assert_int_equal(in.sparse[0], pruned && s >= ctx->params.sparse.breakeven_b1);
                assert_int_equal(in.sparse[1], pruned && s >= ctx->params.sparse.breakeven_b32);
            } else {
                const int b = ctx->params.sparse.conv_breakeven;
                assert_int_equal(in.sparse[0], in.type == TC_LAYER_CONV2D && pruned && b < 100 && s >= b);
            }
            if (pruned_models[k].structured) assert_int_equal(in.csr, 0);
        }
        assert_int_equal(left, pruned_models[k].left);
        /* every pruned layer on the sparse plans, then every layer dense: the same outputs */
        static const char *const force[2] = {"sparse.breakeven_b1=0,sparse.breakeven_b32=0,sparse.conv_breakeven=0",
                                             "sparse.breakeven_b1=100,sparse.breakeven_b32=100,sparse.conv_breakeven=100"};
        for (int fs = 0; fs < 2; fs++) {
            assert_int_equal(tc_kernel_params_set(ctx, force[fs]), TC_OK);
            tc_model *o = load(ctx, path, 0);
            outputs(o, x, want);
            assert_close(want, got, DIGITS_N * 10, 1e-4f);
            for (int i = 0; i < tc_model_layer_count(o); i++) {
                tc_model_layer_info in;
                assert_int_equal(tc_model_layer_info_get(o, i, &in), TC_OK);
                const int pruned = in.nonzero < in.weights;
                assert_int_equal(in.sparse[0], !fs && pruned);
                assert_int_equal(in.sparse[1], !fs && pruned);
            }
            tc_model_free(o);
        }
        assert_int_equal(tc_kernel_params_set(ctx, NULL), TC_OK);
        /* one-shot ops compute the same; saving writes the file's own bytes */
        tc_model *o = load(ctx, path, TC_MODEL_ONESHOT);
        outputs(o, x, want);
        assert_close(want, got, DIGITS_N * 10, 1e-5f);
        tc_model_free(o);
        assert_int_equal(tc_model_save(m, tmp_path("saved.tcw")), TC_OK);
        size_t n1, n2;
        unsigned char *b1 = slurp(path, &n1), *b2 = slurp(tmp_path("saved.tcw"), &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(b1, b2, n1);
        free(b1), free(b2);
        tc_model_free(r);
        tc_model_free(m);
    }
    free(labels);
    tc_tensor_free(x), tc_tensor_free(lab), tc_tensor_free(rx), tc_tensor_free(rlab);
    assert_int_equal(th_tensor_mem(ctx), mem0);
    tc_ctx_free(ref);
    tc_ctx_free(ctx);
}

/* ------------------------------------------------------------ the selection, computed here */

/* A dense copy of a model file's weight layers (host, CSR expanded), to change and write again. */
typedef struct {
    tc_wfile f;
    float *w[TC_W_MAX_LAYERS], *b[TC_W_MAX_LAYERS];
    int64_t rows[TC_W_MAX_LAYERS], cols[TC_W_MAX_LAYERS];
    int idx[TC_W_MAX_LAYERS], n; /* the weight layers */
} dense_model;

static void read_dense(tc_ctx *ctx, const char *path, dense_model *d)
{
    memset(d, 0, sizeof *d);
    if (tc_wfile_read(ctx, path, &d->f) != TC_OK || tc_wfile_check(ctx, path, &d->f) != TC_OK)
        fail_msg("%s", tc_last_error(ctx));
    for (int i = 0; i < d->f.nlayers; i++) {
        tc_wlayer *l = &d->f.layers[i];
        if (l->type != TC_LAYER_LINEAR && l->type != TC_LAYER_CONV2D) continue;
        const int k = d->n++;
        const int64_t rows = l->p[1], cols = l->type == TC_LAYER_LINEAR ? l->p[0] : l->p[0] * l->p[2] * l->p[3];
        d->idx[k] = i, d->rows[k] = rows, d->cols[k] = cols;
        d->w[k] = calloc((size_t)(rows * cols), sizeof *d->w[k]);
        d->b[k] = calloc((size_t)rows, sizeof *d->b[k]);
        const tc_wtensor *rp = NULL, *ci = NULL, *w = NULL;
        for (int t = 0; t < l->ntensors; t++) {
            if (l->t[t].role == TC_ROLE_WEIGHT) w = &l->t[t];
            if (l->t[t].role == TC_ROLE_ROW_PTR) rp = &l->t[t];
            if (l->t[t].role == TC_ROLE_COL_IDX) ci = &l->t[t];
            if (l->t[t].role == TC_ROLE_BIAS) memcpy(d->b[k], l->t[t].data, (size_t)rows * sizeof *d->b[k]);
        }
        const float *v = w->data;
        if (!rp) {
            memcpy(d->w[k], v, (size_t)(rows * cols) * sizeof *v);
        } else {
            const int32_t *p = rp->data, *c = ci->data;
            for (int64_t r = 0; r < rows; r++)
                for (int32_t j = p[r]; j < p[r + 1]; j++) d->w[k][r * cols + c[j]] = v[j];
        }
    }
}

/* Writes d (dense weights, every layer's shape as read) to path. */
static void write_dense(tc_ctx *ctx, dense_model *d, const char *path)
{
    for (int k = 0; k < d->n; k++) {
        tc_wlayer *l = &d->f.layers[d->idx[k]];
        int nt = 0;
        for (int t = 0; t < l->ntensors; t++) {
            tc_wtensor *x = &l->t[t];
            if (x->role == TC_ROLE_ROW_PTR || x->role == TC_ROLE_COL_IDX) continue;
            if (x->role == TC_ROLE_WEIGHT) {
                x->data = d->w[k];
                x->ndim = l->type == TC_LAYER_LINEAR ? 2 : 4;
                const int64_t dims[4] = {l->p[1], l->p[0], l->p[2], l->p[3]};
                memcpy(x->dims, dims, sizeof dims);
                x->numel = d->rows[k] * d->cols[k];
            } else {
                x->data = d->b[k];
            }
            l->t[nt++] = *x;
        }
        l->ntensors = nt;
    }
    d->f.prune.present = 0;
    if (tc_wfile_write(ctx, &d->f, path) != TC_OK) fail_msg("%s", tc_last_error(ctx));
}

static void free_dense(dense_model *d)
{
    for (int k = 0; k < d->n; k++) free(d->w[k]), free(d->b[k]);
    free(d->f.buf);
}

static uint32_t bits(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

typedef struct {
    uint32_t key;
    int64_t i;
} ranked;

static int by_key_then_index(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Marks in cut[] the round(s * n) entries of smallest (key, index) among keys[0..n). */
static void select_lowest(const uint32_t *key, int64_t n, double s, unsigned char *cut)
{
    ranked *r = malloc((size_t)n * sizeof *r);
    for (int64_t i = 0; i < n; i++) r[i] = (ranked){key[i], i};
    qsort(r, (size_t)n, sizeof *r, by_key_then_index);
    memset(cut, 0, (size_t)n);
    for (int64_t j = 0; j < llround(s * (double)n); j++) cut[r[j].i] = 1;
    free(r);
}

/* The unstructured selection of every weight layer of d (per layer, or global), applied. */
static void prune_here(dense_model *d, double s, int global)
{
    int64_t total = 0, at = 0;
    for (int k = 0; k < d->n; k++) total += d->rows[k] * d->cols[k];
    uint32_t *key = malloc((size_t)total * sizeof *key);
    unsigned char *cut = malloc((size_t)total);
    for (int k = 0; k < d->n; k++)
        for (int64_t i = 0; i < d->rows[k] * d->cols[k]; i++) key[at++] = bits(fabsf(d->w[k][i]));
    if (global) select_lowest(key, total, s, cut);
    at = 0;
    for (int k = 0; k < d->n; k++) {
        const int64_t n = d->rows[k] * d->cols[k];
        if (!global) select_lowest(key + at, n, s, cut + at);
        for (int64_t i = 0; i < n; i++)
            if (cut[at + i]) d->w[k][i] = 0;
        at += n;
    }
    free(key), free(cut);
}

/* The structured selection: each weight layer but the last loses its round(s * rows)
 * rows of smallest L2 norm (ties: lower index), zeroed here with their biases and the
 * next layer's matching input columns (groups of cols_next / rows). */
static void prune_channels_here(dense_model *d, double s)
{
    for (int k = 0; k + 1 < d->n; k++) {
        const int64_t rows = d->rows[k], cols = d->cols[k];
        uint32_t *key = malloc((size_t)rows * sizeof *key);
        unsigned char *cut = malloc((size_t)rows);
        for (int64_t r = 0; r < rows; r++) {
            double ss = 0;
            for (int64_t i = 0; i < cols; i++) ss += (double)d->w[k][r * cols + i] * d->w[k][r * cols + i];
            key[r] = bits((float)ss);
        }
        select_lowest(key, rows, s, cut);
        /* the next layer's columns of channel r: r * span .. (r + 1) * span - 1 (R x S taps of a
         * conv2d, the H x W a flatten put in a row, or 1) */
        const int64_t next_cols = d->cols[k + 1], span = next_cols / rows;
        for (int64_t r = 0; r < rows; r++) {
            if (!cut[r]) continue;
            memset(d->w[k] + r * cols, 0, (size_t)cols * sizeof *d->w[k]);
            d->b[k][r] = 0;
            for (int64_t o = 0; o < d->rows[k + 1]; o++)
                memset(d->w[k + 1] + o * next_cols + r * span, 0, (size_t)span * sizeof *d->w[k]);
        }
        free(key), free(cut);
    }
}

/* The pruned model p against the dense model written from d: same outputs on the test images. */
static void expect_same_outputs(tc_ctx *ctx, tc_model *p, dense_model *d, const tc_tensor *x)
{
    static float want[DIGITS_N * 10], got[DIGITS_N * 10];
    write_dense(ctx, d, tmp_path("masked.tcw"));
    tc_model *m = load(ctx, tmp_path("masked.tcw"), 0);
    outputs(m, x, want);
    outputs(p, x, got);
    assert_close(got, want, DIGITS_N * 10, 2e-5f);
    tc_model_free(m);
}

/* Non-zero weights of every weight layer of m, in order; returns their count. */
static int nonzeros(const tc_model *m, int64_t *nz, int64_t *weights)
{
    int n = 0;
    for (int i = 0; i < tc_model_layer_count(m); i++) {
        tc_model_layer_info in;
        assert_int_equal(tc_model_layer_info_get(m, i, &in), TC_OK);
        if (!in.weights) continue;
        nz[n] = in.nonzero;
        weights[n++] = in.weights;
    }
    return n;
}

static void test_prune_unstructured(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const size_t mem0 = th_tensor_mem(ctx);
    tc_tensor *x = NULL, *lab = NULL;
    assert_int_equal(tc_dataset_load(ctx, DIGITS_TEST, &x, &lab), TC_OK);
    const char *files[2] = {MLP, CNN};
    for (int fi = 0; fi < 2; fi++) {
        tc_model *m = load(ctx, files[fi], 0);
        for (int global = 0; global < 2; global++) {
            tc_model_prune_options o = tc_model_prune_defaults();
            o.sparsity = 0.9, o.global = global;
            tc_model *p = NULL;
            if (tc_model_prune(m, &o, &p) != TC_OK) fail_msg("%s", tc_last_error(ctx));
            dense_model d;
            read_dense(ctx, files[fi], &d);
            prune_here(&d, 0.9, global);
            int64_t nz[8], w[8], total = 0, left = 0;
            const int n = nonzeros(p, nz, w);
            assert_int_equal(n, d.n);
            for (int k = 0; k < n; k++) {
                int64_t want = 0;
                for (int64_t i = 0; i < w[k]; i++) want += d.w[k][i] != 0;
                assert_int_equal(nz[k], want);
                if (!global) assert_int_equal(nz[k], w[k] - llround(0.9 * (double)w[k]));
                total += w[k], left += nz[k];
            }
            if (global) assert_int_equal(left, total - llround(0.9 * (double)total));
            expect_same_outputs(ctx, p, &d, x);
            double sp;
            int st;
            assert_int_equal(tc_model_sparsity(p, &sp, &st), TC_OK);
            assert_float_equal(sp, 1.0 - (double)left / (double)total, 1e-12);
            assert_int_equal(st, 0);
            char name[64];
            snprintf(name, sizeof name, "%s_pruned", tc_model_name(m));
            assert_string_equal(tc_model_name(p), name);
            free_dense(&d);

            /* pruning further to the same sparsity changes nothing; higher prunes as from the start */
            tc_model *again = NULL, *more = NULL, *direct = NULL;
            assert_int_equal(tc_model_prune(p, &o, &again), TC_OK);
            int64_t nz2[8], w2[8];
            nonzeros(again, nz2, w2);
            assert_memory_equal(nz2, nz, (size_t)n * sizeof *nz);
            assert_string_equal(tc_model_name(again), name);
            o.sparsity = 0.95;
            assert_int_equal(tc_model_prune(p, &o, &more), TC_OK);
            assert_int_equal(tc_model_prune(m, &o, &direct), TC_OK);
            static float a[DIGITS_N * 10], b[DIGITS_N * 10];
            outputs(more, x, a);
            outputs(direct, x, b);
            assert_memory_equal(a, b, sizeof a);
            tc_model_free(again), tc_model_free(more), tc_model_free(direct);

            /* saved: smaller on disk and in memory, the same model back */
            assert_int_equal(tc_model_save(p, tmp_path("p.tcw")), TC_OK);
            tc_model *back = load(ctx, tmp_path("p.tcw"), 0);
            outputs(back, x, a);
            outputs(p, x, b);
            assert_memory_equal(a, b, sizeof a);
            assert_true(tc_model_bytes(p) < tc_model_bytes(m) / 3);
            size_t n1, n2;
            free(slurp(tmp_path("p.tcw"), &n1));
            free(slurp(files[fi], &n2));
            assert_true(n1 < n2 / 3);
            tc_model_free(back);
            tc_model_free(p);
        }
        /* blocks of 1 x 4: whole blocks go (the weights have no zeros before) */
        tc_model_prune_options o = tc_model_prune_defaults();
        o.sparsity = 0.5, o.pattern = TC_PRUNE_BLOCK_1X4;
        tc_model *p = NULL;
        assert_int_equal(tc_model_prune(m, &o, &p), TC_OK);
        assert_int_equal(tc_model_save(p, tmp_path("b.tcw")), TC_OK);
        dense_model d;
        read_dense(ctx, tmp_path("b.tcw"), &d);
        for (int k = 0; k < d.n; k++) {
            int64_t blocks = 0, zero = 0;
            for (int64_t r = 0; r < d.rows[k]; r++)
                for (int64_t c0 = 0; c0 < d.cols[k]; c0 += 4, blocks++) {
                    int zeros = 0, width = 0;
                    for (int64_t c = c0; c < c0 + 4 && c < d.cols[k]; c++, width++) zeros += d.w[k][r * d.cols[k] + c] == 0;
                    assert_true(zeros == 0 || zeros == width);
                    zero += zeros == width;
                }
            assert_int_equal(zero, llround(0.5 * (double)blocks));
        }
        free_dense(&d);
        tc_model_free(p);
        tc_model_free(m);
    }
    tc_tensor_free(x), tc_tensor_free(lab);
    assert_int_equal(th_tensor_mem(ctx), mem0);
    tc_ctx_free(ctx);
}

static void test_prune_structured(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const size_t mem0 = th_tensor_mem(ctx);
    tc_tensor *x = NULL, *lab = NULL;
    assert_int_equal(tc_dataset_load(ctx, DIGITS_TEST, &x, &lab), TC_OK);
    const struct {
        const char *file, *summary;
    } cases[] = {
        {MLP, "linear(64->64)+relu > linear(64->32)+relu > linear(32->10) > softmax"},
        {CNN, "conv2d(1->8, 3x3, stride 1, pad 1)+relu > maxpool2d(2x2, stride 2, pad 0) > conv2d(8->16, 3x3, stride "
              "1, pad 1)+relu > maxpool2d(2x2, stride 2, pad 0) > flatten > linear(64->10) > softmax"},
    };
    for (int fi = 0; fi < 2; fi++) {
        tc_model *m = load(ctx, cases[fi].file, 0), *p = NULL, *q = NULL;
        tc_model_prune_options o = tc_model_prune_defaults();
        o.structured = 1, o.sparsity = 0.5;
        if (tc_model_prune(m, &o, &p) != TC_OK) fail_msg("%s", tc_last_error(ctx));
        char summary[512];
        tc_model_summary(p, summary, sizeof summary);
        assert_string_equal(summary, cases[fi].summary);
        dense_model d;
        read_dense(ctx, cases[fi].file, &d);
        prune_channels_here(&d, 0.5);
        expect_same_outputs(ctx, p, &d, x);
        int64_t nz[8], w[8], before[8], ignored[8], left = 0, total = 0;
        const int n = nonzeros(p, nz, w);
        nonzeros(m, ignored, before);
        for (int k = 0; k < n; k++) left += nz[k], total += before[k];
        double sp;
        int st;
        assert_int_equal(tc_model_sparsity(p, &sp, &st), TC_OK);
        assert_int_equal(st, 1);
        assert_float_equal(sp, 1.0 - (double)left / (double)total, 1e-12);
        free_dense(&d);

        /* structured again: half the remaining channels; the original count stays */
        assert_int_equal(tc_model_prune(p, &o, &q), TC_OK);
        double sq;
        assert_int_equal(tc_model_sparsity(q, &sq, &st), TC_OK);
        assert_true(sq > sp);
        assert_int_equal(st, 1);
        int64_t nzq[8], wq[8];
        nonzeros(q, nzq, wq);
        assert_int_equal(wq[0] * 2, w[0]);
        assert_string_equal(tc_model_name(q), tc_model_name(p));
        tc_model_free(q);
        /* then unstructured on top: still a structured model, sparser */
        o.structured = 0, o.sparsity = 0.5;
        assert_int_equal(tc_model_prune(p, &o, &q), TC_OK);
        assert_int_equal(tc_model_sparsity(q, &sq, &st), TC_OK);
        assert_int_equal(st, 1);
        assert_true(sq > sp);
        tc_model_free(q);

        /* saved and loaded: the record keeps structured and the original count */
        assert_int_equal(tc_model_save(p, tmp_path("s.tcw")), TC_OK);
        tc_model *back = load(ctx, tmp_path("s.tcw"), 0);
        assert_int_equal(tc_model_sparsity(back, &sq, &st), TC_OK);
        assert_float_equal(sq, sp, 1e-12);
        assert_int_equal(st, 1);
        tc_model_free(back);
        tc_model_free(p);
        tc_model_free(m);
    }
    tc_tensor_free(x), tc_tensor_free(lab);
    assert_int_equal(th_tensor_mem(ctx), mem0);
    tc_ctx_free(ctx);
}

/* Pruned, then int8: structured runs the smaller int8 layers, unstructured the
 * dense int8 layers with its zeros; both save and load. */
static void test_pruned_int8(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const size_t mem0 = th_tensor_mem(ctx);
    tc_tensor *x = NULL, *lab = NULL, *cx = NULL, *cl = NULL;
    assert_int_equal(tc_dataset_load(ctx, DIGITS_TEST, &x, &lab), TC_OK);
    assert_int_equal(tc_dataset_load(ctx, DIGITS_TRAIN, &cx, &cl), TC_OK);
    int32_t *labels = th_read(lab);
    for (size_t k = 0; k < sizeof pruned_models / sizeof pruned_models[0]; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", TINYCL_DATA_DIR, pruned_models[k].file);
        tc_model *m = load(ctx, path, 0), *q = NULL;
        if (tc_model_quantize(m, cx, NULL, &q) != TC_OK) fail_msg("%s", tc_last_error(ctx));
        int64_t nz[8], w[8], qnz[8], qw[8];
        const int n = nonzeros(m, nz, w);
        assert_int_equal(nonzeros(q, qnz, qw), n);
        for (int i = 0; i < n; i++) {
            assert_int_equal(qw[i], w[i]);
            assert_true(qnz[i] <= nz[i]);
        }
        for (int i = 0; i < tc_model_layer_count(q); i++) {
            tc_model_layer_info in;
            assert_int_equal(tc_model_layer_info_get(q, i, &in), TC_OK);
            assert_int_equal(in.csr, 0);
            assert_true(in.type != TC_LAYER_LINEAR && in.type != TC_LAYER_CONV2D);
        }
        double sp, sq;
        int st, stq;
        assert_int_equal(tc_model_sparsity(m, &sp, &st), TC_OK);
        assert_int_equal(tc_model_sparsity(q, &sq, &stq), TC_OK);
        assert_int_equal(stq, st);
        assert_true(sq >= sp);
        static float yf[DIGITS_N * 10], yq[DIGITS_N * 10];
        outputs(m, x, yf);
        outputs(q, x, yq);
        int differ = 0;
        for (int i = 0; i < DIGITS_N; i++) {
            int a = 0, b = 0;
            for (int c = 1; c < 10; c++) {
                if (yf[i * 10 + c] > yf[i * 10 + a]) a = c;
                if (yq[i * 10 + c] > yq[i * 10 + b]) b = c;
            }
            differ += a != b;
        }
        print_message("%s int8: %lld/%d correct, %d predictions differ from f32\n", pruned_models[k].file,
                      (long long)correct_of(yq, labels), DIGITS_N, differ);
        assert_true(differ <= DIGITS_N / 50); /* int8 keeps the f32 model's decisions on 98% of the images */
        assert_int_equal(tc_model_save(q, tmp_path("q.tcw")), TC_OK);
        tc_model *back = load(ctx, tmp_path("q.tcw"), 0);
        static float yb[DIGITS_N * 10];
        outputs(back, x, yb);
        assert_memory_equal(yb, yq, sizeof yb);
        assert_int_equal(tc_model_sparsity(back, &sp, &st), TC_OK);
        assert_float_equal(sp, sq, 1e-12);
        tc_model_free(back);
        th_expect(ctx, tc_model_prune(q, NULL, &back), TC_ERR_UNSUPPORTED, "prune the f32 model, then quantize it");
        assert_null(back);
        tc_model_free(q);
        tc_model_free(m);
    }
    free(labels);
    tc_tensor_free(x), tc_tensor_free(lab), tc_tensor_free(cx), tc_tensor_free(cl);
    assert_int_equal(th_tensor_mem(ctx), mem0);
    tc_ctx_free(ctx);
}

static void test_prune_bad_calls(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_model *m = load(ctx, MLP, 0), *p = (tc_model *)ctx;
    const size_t mem0 = th_tensor_mem(ctx);
    tc_model_prune_options o = tc_model_prune_defaults();
    assert_true(o.sparsity == 0.5 && !o.structured && o.pattern == TC_PRUNE_ELEMENT && !o.global);
    const struct {
        double sparsity;
        int structured, pattern, global;
        tc_status want;
        const char *needle;
    } bad[] = {
        {1.0, 0, 0, 0, TC_ERR_INVALID_ARG, "tc_model_prune: sparsity 1 is outside [0, 1)"},
        {-0.1, 0, 0, 0, TC_ERR_INVALID_ARG, "sparsity -0.1 is outside"},
        {NAN, 0, 0, 0, TC_ERR_INVALID_ARG, "sparsity nan is outside"},
        {0.5, 0, TC_PRUNE_PATTERN_COUNT, 0, TC_ERR_INVALID_ARG, "invalid pattern 4"},
        {0.5, 1, TC_PRUNE_BLOCK_4X4, 0, TC_ERR_INVALID_ARG, "a block pattern applies to unstructured pruning"},
        {0.5, 1, 0, 1, TC_ERR_INVALID_ARG, "global applies to unstructured pruning"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o = (tc_model_prune_options){bad[i].sparsity, bad[i].structured, (tc_prune_pattern)bad[i].pattern,
                                     bad[i].global};
        p = (tc_model *)ctx;
        th_expect(ctx, tc_model_prune(m, &o, &p), bad[i].want, bad[i].needle);
        assert_null(p);
    }
    th_expect(ctx, tc_model_prune(m, NULL, NULL), TC_ERR_INVALID_ARG, "out is NULL");
    th_expect(NULL, tc_model_prune(NULL, NULL, &p), TC_ERR_INVALID_ARG, "model is NULL");
    assert_null(p);
    assert_int_equal(th_tensor_mem(ctx), mem0);
    tc_model_free(m);

    /* a softmax between two linear layers mixes channels; one weight layer has no channels to remove */
    static fbuf f;
    static const float vals[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    w_header(&f, 2, 3, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_LINEAR, 0, 2, U(4, 3), 1);
    w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 2, U(3, 4, 0, 0), 0, NULL, NULL, vals);
    w2_layer(&f, TC_LAYER_SOFTMAX, 0, 0, NULL, 0);
    w2_layer(&f, TC_LAYER_LINEAR, 0, 2, U(3, 2), 1);
    w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 2, U(2, 3, 0, 0), 0, NULL, NULL, vals);
    seal(&f);
    write_file(tmp_path("softmax.tcw"), f.b, f.n);
    m = load(ctx, tmp_path("softmax.tcw"), 0);
    o = tc_model_prune_defaults();
    o.structured = 1;
    th_expect(ctx, tc_model_prune(m, &o, &p), TC_ERR_UNSUPPORTED, "layer 1 (softmax) between layers 0 and 2 mixes channels");
    assert_null(p);
    o.structured = 0;
    assert_int_equal(tc_model_prune(m, &o, &p), TC_OK);
    tc_model_free(p);
    tc_model_free(m);
    w_header(&f, 2, 1, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_LINEAR, 0, 2, U(4, 3), 1);
    w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 2, U(3, 4, 0, 0), 0, NULL, NULL, vals);
    seal(&f);
    write_file(tmp_path("one.tcw"), f.b, f.n);
    m = load(ctx, tmp_path("one.tcw"), 0);
    o.structured = 1;
    th_expect(ctx, tc_model_prune(m, &o, &p), TC_ERR_UNSUPPORTED, "needs two or more linear or conv2d layers");
    assert_null(p);
    tc_model_free(m);
    w_header(&f, 2, 1, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_SOFTMAX, 0, 0, NULL, 0);
    seal(&f);
    write_file(tmp_path("none.tcw"), f.b, f.n);
    m = load(ctx, tmp_path("none.tcw"), 0);
    th_expect(ctx, tc_model_prune(m, NULL, &p), TC_ERR_UNSUPPORTED, "has no linear or conv2d layer");
    assert_null(p);
    tc_model_free(m);
    tc_ctx_free(ctx);
}

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tinycl_compress_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    const char *names[] = {"saved.tcw", "masked.tcw", "p.tcw", "b.tcw", "s.tcw", "q.tcw", "softmax.tcw", "one.tcw",
                           "none.tcw"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(tmp_path(names[i]));
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_committed_pruned_models), cmocka_unit_test(test_prune_unstructured),
        cmocka_unit_test(test_prune_structured),        cmocka_unit_test(test_pruned_int8),
        cmocka_unit_test(test_prune_bad_calls),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
