/* Weight files, version 2: models of every layer kind, written by hand as version
 * 1 and as version 2, compute exactly what the ops called one by one compute; the
 * library's writer reproduces the hand-made bytes; tensors of every dtype with
 * their roles and quantization survive a write and a read; damaged fields are
 * refused with nothing left allocated. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check/opdesc.h"
#include "harness.h"
#include "model/kind.h"
#include "tcw.h"

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

static void expect_same_file(const char *path, const fbuf *want)
{
    size_t n;
    unsigned char *got = slurp(path, &n);
    assert_int_equal(n, want->n);
    for (size_t i = 0; i < n; i++)
        if (got[i] != want->b[i]) fail_msg("%s: byte %zu is 0x%02x, expected 0x%02x", path, i, got[i], want->b[i]);
    free(got);
}

/* ------------------------------------------------------------ models of every kind */

/* One layer: its record, the weight (dims w) and bias (b elements, 0: none) it
 * holds, and the sample shape it must give (the loader's answer is not used). */
typedef struct {
    uint32_t type, flags, np, p[6];
    uint32_t wn, w[4], b;
    int on;
    int64_t out[3];
} spec;

#define MAX_SPECS 9
typedef struct {
    uint32_t in_n, in[3];
    int n;
    spec l[MAX_SPECS];
    const char *summary;
} model_spec;

/* conv2d with R != S and pad > stride, pooling with kernel_h != kernel_w, a 1x1
 * convolution with pad = kernel (tc_conv2d takes it), every other kind but flatten */
static const model_spec model_a = {
    3, {2, 6, 6}, 9,
    {
        {TC_LAYER_CONV2D, 1, 6, {2, 3, 3, 2, 1, 2}, 4, {3, 2, 3, 2}, 3, 3, {3, 8, 9}},
        {TC_LAYER_MAXPOOL2D, 0, 4, {2, 2, 2, 0}, 0, {0}, 0, 3, {3, 4, 4}},
        {TC_LAYER_AVGPOOL2D, 0, 4, {3, 2, 1, 1}, 0, {0}, 0, 3, {3, 4, 5}},
        {TC_LAYER_CONV2D, 0, 6, {3, 4, 1, 1, 2, 1}, 4, {4, 3, 1, 1}, 0, 3, {4, 3, 4}},
        {TC_LAYER_RELU, 0, 0, {0}, 0, {0}, 0, 3, {4, 3, 4}},
        {TC_LAYER_GLOBAL_AVGPOOL, 0, 0, {0}, 0, {0}, 0, 1, {4}},
        {TC_LAYER_LINEAR, 1, 2, {4, 5}, 2, {5, 4}, 5, 1, {5}},
        {TC_LAYER_LINEAR, 0, 2, {5, 3}, 2, {3, 5}, 0, 1, {3}},
        {TC_LAYER_SOFTMAX, 0, 0, {0}, 0, {0}, 0, 1, {3}},
    },
    "conv2d(2->3, 3x2, stride 1, pad 2)+relu > maxpool2d(2x2, stride 2, pad 0) > avgpool2d(3x2, stride 1, pad 1) > "
    "conv2d(3->4, 1x1, stride 2, pad 1) > relu > global_avgpool > linear(4->5)+relu > linear(5->3) > softmax",
};

static const model_spec model_b = {
    3, {1, 5, 4}, 4,
    {
        {TC_LAYER_CONV2D, 0, 6, {1, 2, 2, 2, 2, 1}, 4, {2, 1, 2, 2}, 2, 3, {2, 3, 3}},
        {TC_LAYER_FLATTEN, 0, 0, {0}, 0, {0}, 0, 1, {18}},
        {TC_LAYER_LINEAR, 0, 2, {18, 4}, 2, {4, 18}, 4, 1, {4}},
        {TC_LAYER_SOFTMAX, 0, 0, {0}, 0, {0}, 0, 1, {4}},
    },
    "conv2d(1->2, 2x2, stride 2, pad 1) > flatten > linear(18->4) > softmax",
};

typedef struct {
    float *w[MAX_SPECS], *b[MAX_SPECS];
} weights;

static uint32_t numel32(uint32_t n, const uint32_t *d)
{
    uint32_t e = 1;
    for (uint32_t i = 0; i < n; i++) e *= d[i];
    return e;
}

static void make_weights(const model_spec *m, uint64_t *rng, weights *w)
{
    for (int i = 0; i < m->n; i++) {
        const spec *s = &m->l[i];
        w->w[i] = s->wn ? malloc(numel32(s->wn, s->w) * sizeof(float)) : NULL;
        w->b[i] = s->b ? malloc(s->b * sizeof(float)) : NULL;
        if (s->wn) tc_rand_f32(w->w[i], numel32(s->wn, s->w), -1.0f, 1.0f, rng);
        if (s->b) tc_rand_f32(w->b[i], s->b, -0.5f, 0.5f, rng);
    }
}

static void free_weights(const model_spec *m, weights *w)
{
    for (int i = 0; i < m->n; i++) {
        free(w->w[i]);
        free(w->b[i]);
    }
}

static void build(const model_spec *m, const weights *w, uint32_t version, fbuf *f)
{
    w_header(f, version, (uint32_t)m->n, m->in_n, m->in);
    for (int i = 0; i < m->n; i++) {
        const spec *s = &m->l[i];
        const uint32_t nt = (s->wn != 0) + (s->b != 0);
        if (version == 1) {
            w_layer(f, s->type, s->flags, s->p, nt);
            if (s->wn) w_tensor(f, s->wn, s->w, w->w[i]);
            if (s->b) w_tensor(f, 1, U(s->b, 0, 0, 0), w->b[i]);
        } else {
            w2_layer(f, s->type, s->flags, s->np, s->p, nt);
            if (s->wn) w2_tensor(f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, s->wn, s->w, 0, NULL, NULL, w->w[i]);
            if (s->b) w2_tensor(f, TC_ROLE_BIAS, TC_DTYPE_F32, 0, 0, 1, U(s->b, 0, 0, 0), 0, NULL, NULL, w->b[i]);
        }
    }
    seal(f);
}

/* The model's layers as op calls on ctx: y[B, classes] = ops(x). */
static tc_tensor *run_ops(tc_ctx *ctx, const model_spec *m, const weights *w, const tc_tensor *x, int64_t batch)
{
    tc_tensor *cur = NULL;
    int64_t dims[4] = {batch, m->in[0], m->in[1], m->in[2]};
    assert_int_equal(tc_tensor_reshape((tc_tensor *)x, 1 + (int)m->in_n, dims, &cur), TC_OK);
    for (int i = 0; i < m->n; i++) {
        const spec *s = &m->l[i];
        tc_tensor *y = NULL, *wt = NULL, *bt = NULL;
        int64_t wd[4] = {s->w[0], s->w[1], s->w[2], s->w[3]};
        if (s->wn) assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, (int)s->wn, wd, w->w[i], &wt), TC_OK);
        if (s->b) assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, TH_DIMS(s->b), w->b[i], &bt), TC_OK);
        memcpy(dims + 1, s->out, sizeof s->out);
        if (s->type == TC_LAYER_FLATTEN)
            assert_int_equal(tc_tensor_reshape(cur, 1 + s->on, dims, &y), TC_OK);
        else
            assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 1 + s->on, dims, &y), TC_OK);
        const int st = (int)s->p[4], pad = (int)s->p[5];
        tc_conv2d_params cp = {st, st, pad, pad, 1, 1, 1, bt, (int)s->flags, TC_VARIANT_AUTO};
        tc_pool2d_params pp = {(int)s->p[0], (int)s->p[1], (int)s->p[2], (int)s->p[2], (int)s->p[3], (int)s->p[3],
                               TC_VARIANT_AUTO};
        tc_linear_params lp = {(int)s->flags, TC_VARIANT_AUTO};
        tc_status r = TC_OK;
        switch (s->type) {
        case TC_LAYER_LINEAR: r = tc_linear(ctx, cur, wt, bt, y, &lp); break;
        case TC_LAYER_CONV2D: r = tc_conv2d(ctx, cur, wt, y, &cp); break;
        case TC_LAYER_RELU: r = tc_relu(ctx, cur, y, NULL); break;
        case TC_LAYER_SOFTMAX: r = tc_softmax(ctx, cur, y, NULL); break;
        case TC_LAYER_GLOBAL_AVGPOOL: r = tc_global_avgpool(ctx, cur, y, NULL); break;
        case TC_LAYER_MAXPOOL2D: r = tc_maxpool2d(ctx, cur, y, &pp); break;
        case TC_LAYER_AVGPOOL2D: r = tc_avgpool2d(ctx, cur, y, &pp); break;
        default: break;
        }
        if (r != TC_OK) fail_msg("layer %d: %s", i, tc_last_error(ctx));
        tc_tensor_free(wt);
        tc_tensor_free(bt);
        tc_tensor_free(cur);
        cur = y;
    }
    return cur;
}

static void forward(tc_ctx *ctx, const char *path, const tc_tensor *x, int64_t batch, int64_t classes, float *out,
                    char *summary, size_t n)
{
    tc_model *m = NULL;
    if (tc_model_load(ctx, path, &m) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    tc_tensor *y = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(batch, classes), &y), TC_OK);
    if (tc_model_forward(m, x, y) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    assert_int_equal(tc_tensor_read(y, out, (size_t)(batch * classes) * sizeof *out), TC_OK);
    tc_model_summary(m, summary, n);
    tc_tensor_free(y);
    tc_model_free(m);
}

static void every_kind(const model_spec *ms)
{
    tc_ctx *ctx = th_ctx();
    const size_t mem0 = th_tensor_mem(ctx);
    uint64_t rng = th_seed() ^ 0x77;
    weights w;
    make_weights(ms, &rng, &w);
    static fbuf v1, v2;
    build(ms, &w, 1, &v1);
    build(ms, &w, 2, &v2);
    write_file(tmp_path("v1.tcw"), v1.b, v1.n);
    write_file(tmp_path("v2.tcw"), v2.b, v2.n);

    const int64_t batch = 3, classes = ms->l[ms->n - 1].out[0];
    float *hx = NULL, want[3 * 4], got1[3 * 4], got2[3 * 4];
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(batch, numel32(ms->in_n, ms->in)), &hx);
    tc_tensor *y = run_ops(ctx, ms, &w, x, batch);
    assert_int_equal(tc_tensor_read(y, want, (size_t)(batch * classes) * sizeof *want), TC_OK);
    tc_tensor_free(y);
    char s1[512], s2[512];
    forward(ctx, tmp_path("v1.tcw"), x, batch, classes, got1, s1, sizeof s1);
    forward(ctx, tmp_path("v2.tcw"), x, batch, classes, got2, s2, sizeof s2);
    assert_memory_equal(got1, want, (size_t)(batch * classes) * sizeof *want);
    assert_memory_equal(got2, want, (size_t)(batch * classes) * sizeof *want);
    assert_string_equal(s1, ms->summary);
    assert_string_equal(s2, ms->summary);

    /* the model loaded from version 1 saves the hand-made version 2 byte for byte,
     * and so does the file-level writer from what the reader made of it */
    tc_model *m = NULL;
    assert_int_equal(tc_model_load(ctx, tmp_path("v1.tcw"), &m), TC_OK);
    if (tc_model_save(m, tmp_path("saved.tcw")) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    tc_model_free(m);
    expect_same_file(tmp_path("saved.tcw"), &v2);
    tc_wfile *f = malloc(sizeof *f);
    assert_non_null(f);
    if (tc_wfile_read(ctx, tmp_path("v2.tcw"), f) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    assert_int_equal(f->version, 2);
    if (tc_wfile_write(ctx, f, tmp_path("rewritten.tcw")) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    expect_same_file(tmp_path("rewritten.tcw"), &v2);
    free(f->buf);
    free(f);

    tc_tensor_free(x);
    free(hx);
    free_weights(ms, &w);
    assert_int_equal(th_tensor_mem(ctx), mem0);
    tc_ctx_free(ctx);
}

static void test_every_kind_a(void **state)
{
    (void)state;
    every_kind(&model_a);
}

static void test_every_kind_b(void **state)
{
    (void)state;
    every_kind(&model_b);
}

/* Every tc_layer_type has a row, every role a name. */
static void test_tables_complete(void **state)
{
    (void)state;
    for (uint32_t t = 1; t < TC_LAYER_END; t++) {
        const tc_layer_kind *k = tc_layer_kind_of(t);
        assert_non_null(k);
        assert_string_equal(tc_layer_name((tc_layer_type)t), k->name);
        assert_true(k->nparams <= TC_W_MAX_PARAMS);
        assert_true(k->decoder || k->meta || k->run || (k->shape && !k->prepare)); /* computes, or is a view */
    }
    assert_null(tc_layer_kind_of(0));
    assert_null(tc_layer_kind_of(TC_LAYER_END));
    for (int r = 1; r < TC_ROLE_END; r++) {
        assert_non_null(tc_role_name((tc_tensor_role)r));
        assert_string_not_equal(tc_role_name((tc_tensor_role)r), "invalid");
    }
    assert_string_equal(tc_role_name(TC_ROLE_END), "invalid");
}

/* ------------------------------------------------------------ dtypes and quantization */

static const int8_t q_w[15] = {-128, -7, 0, 1, 127, 3, -3, 9, 99, -99, 5, 6, 7, -8, 100};
static const float q_w_scale[3] = {0.5f, 0.25f, 0.125f};
static const int32_t q_w_zp[3] = {-128, 0, 127};
static const int32_t q_b[3] = {-70000, 0, 123456};
static const float q_b_scale[1] = {1e-3f};
static const int32_t q_b_zp[1] = {0};
static const uint8_t q_z[6] = {0, 1, 2, 253, 254, 255};
static const float q_z_scale[3] = {2.0f, 3.0f, 4.0f};
static const int32_t q_z_zp[3] = {0, 128, 255};
static const float q_s[3] = {1.5f, -2.5f, 0.0f};
static const uint8_t q_g[1] = {42};

/* A linear layer of tensors of every dtype and quantization: s8 per-channel
 * weight (15 bytes: one byte of padding), s32 per-tensor bias, f32 scale, u8
 * zero point quantized along axis 1 (6 bytes), an unquantized u8 gamma. */
static void quant_file(tc_wfile *f, fbuf *hand)
{
    memset(f, 0, sizeof *f);
    f->version = 2;
    snprintf(f->name, sizeof f->name, "tiny");
    f->in = (tc_shape){.ndim = 1, .d = {5}};
    f->nlayers = 1;
    tc_wlayer *l = &f->layers[0];
    *l = (tc_wlayer){.type = TC_LAYER_LINEAR, .flags = 1, .nparams = 2, .p = {5, 3}, .ntensors = 5};
    l->t[0] = (tc_wtensor){TC_ROLE_WEIGHT, TC_DTYPE_S8, 2, {3, 5}, 15, {0, 3, q_w_scale, q_w_zp}, q_w};
    l->t[1] = (tc_wtensor){TC_ROLE_BIAS, TC_DTYPE_S32, 1, {3}, 3, {-1, 1, q_b_scale, q_b_zp}, q_b};
    l->t[2] = (tc_wtensor){TC_ROLE_SCALE, TC_DTYPE_F32, 1, {3}, 3, {-1, 0, NULL, NULL}, q_s};
    l->t[3] = (tc_wtensor){TC_ROLE_ZERO_POINT, TC_DTYPE_U8, 2, {2, 3}, 6, {1, 3, q_z_scale, q_z_zp}, q_z};
    l->t[4] = (tc_wtensor){TC_ROLE_GAMMA, TC_DTYPE_U8, 1, {1}, 1, {-1, 0, NULL, NULL}, q_g};
    w_header(hand, 2, 1, 1, U(5, 0, 0));
    w2_layer(hand, TC_LAYER_LINEAR, 1, 2, U(5, 3), 5);
    w2_tensor(hand, TC_ROLE_WEIGHT, TC_DTYPE_S8, TC_WQ_CHANNEL, 0, 2, U(3, 5, 0, 0), 3, q_w_scale, q_w_zp, q_w);
    w2_tensor(hand, TC_ROLE_BIAS, TC_DTYPE_S32, TC_WQ_TENSOR, 0, 1, U(3, 0, 0, 0), 1, q_b_scale, q_b_zp, q_b);
    w2_tensor(hand, TC_ROLE_SCALE, TC_DTYPE_F32, TC_WQ_NONE, 0, 1, U(3, 0, 0, 0), 0, NULL, NULL, q_s);
    w2_tensor(hand, TC_ROLE_ZERO_POINT, TC_DTYPE_U8, TC_WQ_CHANNEL, 1, 2, U(2, 3, 0, 0), 3, q_z_scale, q_z_zp, q_z);
    w2_tensor(hand, TC_ROLE_GAMMA, TC_DTYPE_U8, TC_WQ_NONE, 0, 1, U(1, 0, 0, 0), 0, NULL, NULL, q_g);
    seal(hand);
}

static void test_dtypes_and_quantization_round_trip(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_wfile *want = malloc(sizeof *want), *got = malloc(sizeof *got);
    static fbuf hand;
    assert_non_null(want);
    assert_non_null(got);
    quant_file(want, &hand);
    if (tc_wfile_write(ctx, want, tmp_path("q.tcw")) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    expect_same_file(tmp_path("q.tcw"), &hand);
    if (tc_wfile_read(ctx, tmp_path("q.tcw"), got) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    assert_string_equal(got->name, "tiny");
    assert_int_equal(got->nlayers, 1);
    const tc_wlayer *a = &want->layers[0], *b = &got->layers[0];
    assert_int_equal(b->type, a->type);
    assert_int_equal(b->flags, a->flags);
    assert_int_equal(b->nparams, a->nparams);
    assert_memory_equal(b->p, a->p, 2 * sizeof *a->p);
    assert_int_equal(b->ntensors, a->ntensors);
    for (int t = 0; t < a->ntensors; t++) {
        const tc_wtensor *x = &a->t[t], *y = &b->t[t];
        assert_int_equal(y->role, x->role);
        assert_int_equal(y->dtype, x->dtype);
        assert_int_equal(y->ndim, x->ndim);
        assert_memory_equal(y->dims, x->dims, (size_t)x->ndim * sizeof *x->dims);
        assert_int_equal(y->numel, x->numel);
        assert_memory_equal(y->data, x->data, (size_t)x->numel * tc_dtype_size(x->dtype));
        assert_int_equal(y->q.axis, x->q.axis);
        assert_int_equal(y->q.count, x->q.count);
        if (x->q.count) {
            assert_memory_equal(y->q.scale, x->q.scale, (size_t)x->q.count * sizeof(float));
            assert_memory_equal(y->q.zero_point, x->q.zero_point, (size_t)x->q.count * sizeof(int32_t));
        }
    }
    free(got->buf);
    /* the format carries them; a linear layer takes f32 only, as tc_linear does */
    tc_model *m = (tc_model *)ctx;
    const size_t mem0 = tc_ctx_mem_current(ctx);
    th_expect(ctx, tc_model_load(ctx, tmp_path("q.tcw"), &m), TC_ERR_CORRUPT,
              "layer 0 (linear): weight is s8, which the kind does not take");
    assert_null(m);
    assert_int_equal(tc_ctx_mem_current(ctx), mem0);
    free(want);
    free(got);
    tc_ctx_free(ctx);
}

/* ------------------------------------------------------------ damaged version-2 files */

static void expect_load(tc_ctx *ctx, const fbuf *f, tc_status want, const char *needle)
{
    write_file(tmp_path("bad.tcw"), f->b, f->n);
    const size_t mem0 = tc_ctx_mem_current(ctx);
    tc_model *m = (tc_model *)ctx;
    tc_status s = tc_model_load(ctx, tmp_path("bad.tcw"), &m);
    if (want == TC_OK) {
        if (s != TC_OK) fail_msg("%s", tc_last_error(ctx));
        tc_model_free(m);
    } else {
        th_expect(ctx, s, want, needle);
        assert_null(m);
    }
    assert_int_equal(tc_ctx_mem_current(ctx), mem0);
}

static const float f32s[20] = {0.5f, -1, 2, 0.25f, 1, 0, 3, -2, 1, 1, 0.5f, 0.5f, 1, 2, 3, 4, 5, 6, 7, 8};
static const int8_t s8s[64] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                               1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}; /* any bytes */

/* One tensor record of a linear(4->3) layer that is wrong in one field. */
static const struct {
    uint32_t role, dtype, qmode, qaxis, ndim, dims[4], nq;
    float scale[3];
    int32_t zp[3];
    const char *needle;
} bad_tensor[] = {
    {TC_ROLE_WEIGHT, 4, 0, 0, 2, {3, 4}, 0, {0}, {0}, "layer 0 tensor 0: unknown dtype 4"},
    {TC_ROLE_WEIGHT, TC_DTYPE_S8, 3, 0, 2, {3, 4}, 0, {0}, {0}, "unknown quantization mode 3"},
    {TC_ROLE_WEIGHT, TC_DTYPE_S8, 2, 2, 2, {3, 4}, 0, {0}, {0}, "quantization axis 2 (outside the tensor's"},
    {TC_ROLE_WEIGHT, TC_DTYPE_S8, 1, 1, 2, {3, 4}, 1, {1}, {0}, "axis 1 (must be 0 unless per channel)"},
    {TC_ROLE_WEIGHT, TC_DTYPE_S8, 0, 0, 0, {3, 4}, 0, {0}, {0}, "ndim 0 outside 1..4"},
    {0, TC_DTYPE_F32, 0, 0, 2, {3, 4}, 0, {0}, {0}, "layer 0 tensor 0: unknown role 0"},
    {99, TC_DTYPE_F32, 0, 0, 2, {3, 4}, 0, {0}, {0}, "unknown role 99"},
    {TC_ROLE_WEIGHT, TC_DTYPE_S8, 2, 0, 2, {3, 4}, 3, {1, 0, 1}, {0}, "layer 0 tensor 0 (weight): scale[1] = 0 is not finite and > 0"},
    {TC_ROLE_WEIGHT, TC_DTYPE_S8, 1, 0, 2, {3, 4}, 1, {-2}, {0}, "scale[0] = -2 is not"},
    {TC_ROLE_WEIGHT, TC_DTYPE_S8, 1, 0, 2, {3, 4}, 1, {INFINITY}, {0}, "scale[0] = inf is not"},
    {TC_ROLE_WEIGHT, TC_DTYPE_S8, 1, 0, 2, {3, 4}, 1, {NAN}, {0}, "scale[0] = nan is not"},
    {TC_ROLE_WEIGHT, TC_DTYPE_S8, 2, 0, 2, {3, 4}, 3, {1, 1, 1}, {0, 128, 0}, "zero_point[1] = 128 outside s8's -128..127"},
    {TC_ROLE_WEIGHT, TC_DTYPE_U8, 1, 0, 2, {3, 4}, 1, {1}, {-1}, "zero_point[0] = -1 outside u8's 0..255"},
    {TC_ROLE_WEIGHT, TC_DTYPE_S8, 0, 0, 2, {3, 4}, 0, {0}, {0}, "weight is s8, which the kind does not take"},
    {TC_ROLE_GAMMA, TC_DTYPE_F32, 0, 0, 2, {3, 4}, 0, {0}, {0}, "tensor 0 is a gamma; the kind takes weight, bias"},
    {TC_ROLE_BIAS, TC_DTYPE_F32, 0, 0, 1, {3}, 0, {0}, {0}, "layer 0 (linear): no weight tensor"},
    {TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 2, {4, 3}, 0, {0}, {0}, "weight is [4, 3], its parameters need [3, 4]"},
};

static void test_bad_v2_files(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    static fbuf f;
    /* the valid file the cases below change */
    w_header(&f, 2, 1, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_LINEAR, 0, 2, U(4, 3), 1);
    w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 2, U(3, 4, 0, 0), 0, NULL, NULL, f32s);
    seal(&f);
    expect_load(ctx, &f, TC_OK, NULL);

    for (size_t i = 0; i < sizeof bad_tensor / sizeof bad_tensor[0]; i++) {
        const uint32_t *d = bad_tensor[i].dims;
        w_header(&f, 2, 1, 1, U(4, 0, 0));
        w2_layer(&f, TC_LAYER_LINEAR, 0, 2, U(4, 3), 1);
        /* the scales and zero points of the record; the rest reads as values */
        fb_words(&f, 5, U(bad_tensor[i].role, bad_tensor[i].dtype, bad_tensor[i].qmode, bad_tensor[i].qaxis,
                          bad_tensor[i].ndim));
        fb_words(&f, 4, d);
        fb_put(&f, bad_tensor[i].scale, 4 * bad_tensor[i].nq);
        fb_put(&f, bad_tensor[i].zp, 4 * bad_tensor[i].nq);
        const size_t bytes = (size_t)numel32(bad_tensor[i].ndim ? bad_tensor[i].ndim : 2, d) *
                             (bad_tensor[i].dtype < TC_DTYPE_COUNT ? tc_dtype_size(bad_tensor[i].dtype) : 4);
        fb_put(&f, bad_tensor[i].dtype == TC_DTYPE_F32 ? (const void *)f32s : (const void *)s8s, (bytes + 3) & ~3u);
        seal(&f);
        expect_load(ctx, &f, TC_ERR_CORRUPT, bad_tensor[i].needle);
    }

    /* s8 values of 3 elements: one byte of padding, which must be 0 */
    w_header(&f, 2, 1, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_LINEAR, 0, 2, U(4, 3), 1);
    w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_S8, 0, 0, 1, U(3, 0, 0, 0), 0, NULL, NULL, s8s);
    f.b[f.n - 1] = 7;
    seal(&f);
    expect_load(ctx, &f, TC_ERR_CORRUPT, "(weight): padding byte 0 after the values is 0x07, must be 0");

    /* parameter and tensor counts */
    w_header(&f, 2, 1, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_LINEAR, 0, 3, U(4, 3, 0), 1);
    w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 2, U(3, 4, 0, 0), 0, NULL, NULL, f32s);
    seal(&f);
    expect_load(ctx, &f, TC_ERR_CORRUPT, "layer 0 (linear): 3 parameters; the kind has 2");
    w_header(&f, 2, 1, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_LINEAR, 0, 17, U(4, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0);
    seal(&f);
    expect_load(ctx, &f, TC_ERR_CORRUPT, "layer 0: 17 parameters (at most 16)");
    w_header(&f, 2, 1, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_LINEAR, 0, 2, U(4, 3), 17);
    seal(&f);
    expect_load(ctx, &f, TC_ERR_CORRUPT, "layer 0: 17 tensors (at most 16)");
    w_header(&f, 2, 1, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_LINEAR, 0, 2, U(4, 3), 2);
    w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 2, U(3, 4, 0, 0), 0, NULL, NULL, f32s);
    w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 2, U(3, 4, 0, 0), 0, NULL, NULL, f32s);
    seal(&f);
    expect_load(ctx, &f, TC_ERR_CORRUPT, "layer 0 (linear): a second weight tensor");

    /* a truncated file ends inside the scales; a flipped value is a checksum mismatch */
    w_header(&f, 2, 1, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_LINEAR, 0, 2, U(4, 3), 1);
    w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_S8, TC_WQ_CHANNEL, 0, 2, U(3, 4, 0, 0), 3, q_w_scale, q_w_zp, s8s);
    seal(&f);
    static fbuf cut;
    cut = f;
    cut.n = 60 + 16 + 8 + 36 + 8;
    expect_load(ctx, &cut, TC_ERR_CORRUPT, "truncated: the layer 0 tensor 0 at offset");
    cut = f;
    cut.b[60 + 16 + 8 + 36 + 2] ^= 0x40;
    expect_load(ctx, &cut, TC_ERR_CORRUPT, "checksum mismatch");

    /* conv2d geometry is tc_conv2d's: pad >= kernel loads, a zero stride does not */
    const struct {
        uint32_t p[6];
        tc_status want;
        const char *needle;
    } conv[] = {
        {{1, 1, 1, 1, 1, 3}, TC_OK, NULL},
        {{1, 1, 1, 1, 0, 0}, TC_ERR_CORRUPT, "layer 0 (conv2d): conv2d: stride 0 and dilation 1 must be >= 1"},
        {{1, 1, 5, 1, 1, 0}, TC_ERR_CORRUPT, "conv2d: window of 5 is larger than the padded input of 4"},
    };
    for (size_t i = 0; i < sizeof conv / sizeof conv[0]; i++) {
        w_header(&f, 2, 2, 3, U(1, 4, 4));
        w2_layer(&f, TC_LAYER_CONV2D, 0, 6, conv[i].p, 1);
        w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 4, U(1, 1, conv[i].p[2], 1), 0, NULL, NULL, f32s);
        w2_layer(&f, TC_LAYER_GLOBAL_AVGPOOL, 0, 0, NULL, 0);
        seal(&f);
        expect_load(ctx, &f, conv[i].want, conv[i].needle);
    }
    tc_ctx_free(ctx);
}

/* f32 tensors may carry quantization too (tc_tensor_set_quant takes it, the ops
 * ignore it): the model keeps it on its tensors and saves it back. */
static void test_quantized_f32_round_trip(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    static fbuf f;
    w_header(&f, 2, 1, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_LINEAR, 1, 2, U(4, 3), 2);
    w2_tensor(&f, TC_ROLE_BIAS, TC_DTYPE_F32, TC_WQ_TENSOR, 0, 1, U(3, 0, 0, 0), 1, q_b_scale, q_b_zp, f32s);
    w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, TC_WQ_CHANNEL, 0, 2, U(3, 4, 0, 0), 3, q_w_scale, q_w_zp, f32s);
    seal(&f);
    write_file(tmp_path("fq.tcw"), f.b, f.n);
    tc_model *m = NULL;
    if (tc_model_load(ctx, tmp_path("fq.tcw"), &m) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    assert_int_equal(tc_model_save(m, tmp_path("fq_saved.tcw")), TC_OK);
    expect_same_file(tmp_path("fq_saved.tcw"), &f);
    tc_model_free(m);
    tc_ctx_free(ctx);
}

/* ------------------------------------------------------------ int8 layer records */

/* What a q-model file varies: the fields the cases below get wrong. */
typedef struct {
    uint32_t conv_w_dtype, conv_in_dtype, lin_out_dtype, after_conv; /* after_conv: a layer type */
    int conv_w_quant, conv_ntensors;                                 /* 4, or 3 without zero_point */
    uint32_t conv_scale_dims;
    float lin_scale[2];
    int32_t conv_zero[2];
    float conv_out_scale;
} qfile;

static const qfile q_ok = {TC_DTYPE_S8, TC_DTYPE_U8, TC_DTYPE_F32, TC_LAYER_MAXPOOL2D, 1, 4, 2, {0.02f, 1.0f}, {3, 0},
                           0.02f};

/* [1, 4, 4] -> qconv2d(1->2, 3x3, pad 1, u8->u8)+relu -> maxpool 2x2 (or after_conv)
 * -> flatten -> qlinear(8->3, u8->lin_out) -> softmax; the conv's output parameters
 * (0.02, 0) are the linear's input. */
static void q_model_file(fbuf *f, const qfile *q)
{
    static const int8_t w1[18] = {1, -2, 3, -4, 5, -6, 7, -8, 9, 9, -8, 7, -6, 5, -4, 3, -2, 1};
    static const int8_t w2[24] = {10, -20, 30, -40, 50, -60, 70, -80, 90, -100, 110, -120,
                                  1,  2,   3,  4,   5,  6,   7,  8,   9,  10,   11,  12};
    static const float ws1[2] = {0.01f, 0.02f}, ws2[1] = {0.005f};
    static const int32_t wz1[2] = {0, 0}, wz2[1] = {0}, b1[2] = {100, -50}, b2[3] = {7, 0, -7};
    const float cs[2] = {1.0f / 255, q->conv_out_scale};
    const int32_t lz[2] = {0, 0};
    w_header(f, 2, 5, 3, U(1, 4, 4));
    w2_layer(f, TC_LAYER_QCONV2D, 1, 8, U(1, 2, 3, 3, 1, 1, q->conv_in_dtype, TC_DTYPE_U8), (uint32_t)q->conv_ntensors);
    w2_tensor(f, TC_ROLE_WEIGHT, q->conv_w_dtype, q->conv_w_quant ? TC_WQ_CHANNEL : TC_WQ_NONE, 0, 4, U(2, 1, 3, 3),
              q->conv_w_quant ? 2 : 0, ws1, wz1, q->conv_w_dtype == TC_DTYPE_F32 ? (const void *)f32s : w1);
    w2_tensor(f, TC_ROLE_BIAS, TC_DTYPE_S32, TC_WQ_NONE, 0, 1, U(2, 0, 0, 0), 0, NULL, NULL, b1);
    w2_tensor(f, TC_ROLE_SCALE, TC_DTYPE_F32, TC_WQ_NONE, 0, 1, U(q->conv_scale_dims, 0, 0, 0), 0, NULL, NULL,
              (const float[]){cs[0], cs[1], 1.0f});
    if (q->conv_ntensors == 4)
        w2_tensor(f, TC_ROLE_ZERO_POINT, TC_DTYPE_S32, TC_WQ_NONE, 0, 1, U(2, 0, 0, 0), 0, NULL, NULL, q->conv_zero);
    if (q->after_conv == TC_LAYER_MAXPOOL2D)
        w2_layer(f, TC_LAYER_MAXPOOL2D, 0, 4, U(2, 2, 2, 0), 0);
    else
        w2_layer(f, q->after_conv, 0, 4, U(2, 2, 2, 0), 0);
    w2_layer(f, TC_LAYER_FLATTEN, 0, 0, NULL, 0);
    w2_layer(f, TC_LAYER_QLINEAR, 0, 4, U(8, 3, TC_DTYPE_U8, q->lin_out_dtype), 4);
    w2_tensor(f, TC_ROLE_WEIGHT, TC_DTYPE_S8, TC_WQ_TENSOR, 0, 2, U(3, 8, 0, 0), 1, ws2, wz2, w2);
    w2_tensor(f, TC_ROLE_BIAS, TC_DTYPE_S32, TC_WQ_NONE, 0, 1, U(3, 0, 0, 0), 0, NULL, NULL, b2);
    w2_tensor(f, TC_ROLE_SCALE, TC_DTYPE_F32, TC_WQ_NONE, 0, 1, U(2, 0, 0, 0), 0, NULL, NULL, q->lin_scale);
    w2_tensor(f, TC_ROLE_ZERO_POINT, TC_DTYPE_S32, TC_WQ_NONE, 0, 1, U(2, 0, 0, 0), 0, NULL, NULL, lz);
    w2_layer(f, TC_LAYER_SOFTMAX, 0, 0, NULL, 0);
    seal(f);
}

/* A hand-written int8 model loads, computes probabilities and saves back to the
 * same bytes; each wrong field of its int8 records is refused. */
static void test_int8_records(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    static fbuf f;
    q_model_file(&f, &q_ok);
    write_file(tmp_path("q8.tcw"), f.b, f.n);
    tc_model *m = NULL;
    if (tc_model_load(ctx, tmp_path("q8.tcw"), &m) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    char sum[256];
    tc_model_summary(m, sum, sizeof sum);
    assert_string_equal(sum, "qconv2d(1->2, 3x3, stride 1, pad 1, u8->u8)+relu > maxpool2d(2x2, stride 2, pad 0) > "
                             "flatten > qlinear(8->3, u8->f32) > softmax");
    float *hx, p[6];
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(2, 16), &hx), *y = th_tensor(ctx, 2, TH_DIMS(2, 3), NULL);
    assert_int_equal(tc_model_forward(m, x, y), TC_OK);
    assert_int_equal(tc_tensor_read(y, p, sizeof p), TC_OK);
    for (int i = 0; i < 2; i++) assert_float_equal(p[3 * i] + p[3 * i + 1] + p[3 * i + 2], 1.0f, 1e-5f);
    assert_int_equal(tc_model_save(m, tmp_path("q8_saved.tcw")), TC_OK);
    expect_same_file(tmp_path("q8_saved.tcw"), &f);
    tc_model_free(m);
    tc_tensor_free(x), tc_tensor_free(y);
    free(hx);

    struct {
        qfile q;
        const char *needle;
    } bad[] = {
        {q_ok, "layer 0 (qconv2d): weight is f32, which the kind does not take"},
        {q_ok, "layer 0 (qconv2d): no zero_point tensor"},
        {q_ok, "layer 0 (qconv2d): scale is [3], its parameters need [2]"},
        {q_ok, "weight needs its quantization per tensor or per output channel"},
        {q_ok, "in_dtype 3 must be s8 (1) or u8 (2)"},
        {q_ok, "output scale 2 and zero point 0: an f32 output has 1 and 0"},
        {q_ok, "input scale 0.00392157 and zero point 300"},
        {q_ok, "layer 3 (qlinear): takes f32 or u8 (scale 0.03, zero point 0) samples; the layer before gives u8 "
               "(scale 0.02, zero point 0)"},
        {q_ok, "layer 1 (avgpool2d): takes f32 samples; the layer before gives u8"},
        {q_ok, "layer 4 (softmax): takes f32 samples; the layer before gives u8"},
        {q_ok, "layer 0 (qconv2d): input scale 0.00392157 times weight scale[0] 0.01 over the output scale is "
               "3.92157e+33: not below 2^30"},
    };
    bad[0].q.conv_w_dtype = TC_DTYPE_F32, bad[0].q.conv_w_quant = 0;
    bad[1].q.conv_ntensors = 3;
    bad[2].q.conv_scale_dims = 3;
    bad[3].q.conv_w_quant = 0;
    bad[4].q.conv_in_dtype = TC_DTYPE_S32;
    bad[5].q.lin_scale[1] = 2.0f;
    bad[6].q.conv_zero[0] = 300;
    bad[7].q.lin_scale[0] = 0.03f;
    bad[8].q.after_conv = TC_LAYER_AVGPOOL2D;
    bad[9].q.lin_out_dtype = TC_DTYPE_U8, bad[9].q.lin_scale[1] = 0.1f;
    bad[10].q.conv_out_scale = 1e-38f; /* a requantization multiplier beyond the fixed-point range */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q_model_file(&f, &bad[i].q);
        expect_load(ctx, &f, TC_ERR_CORRUPT, bad[i].needle);
    }
    tc_ctx_free(ctx);
}

/* Random damage to an int8 model, with the checksum made to match so that every
 * field check runs: each file loads (and runs) or is refused as corrupt, and nothing
 * stays allocated. */
static void test_int8_records_damaged(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    static fbuf f, g;
    q_model_file(&f, &q_ok);
    uint64_t seed = th_seed();
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(3, 16), NULL);
    int loaded = 0;
    for (int it = 0; it < 300; it++) {
        g = f;
        for (int k = 1 + (int)(tc_rng_next(&seed) % 3); k > 0; k--) {
            const size_t at = 8 + tc_rng_next(&seed) % (g.n - 12); /* past magic and version, before the CRC */
            g.b[at] = tc_rng_next(&seed) % 4 ? (unsigned char)tc_rng_next(&seed) : (unsigned char)(g.b[at] ^ 1);
        }
        reseal(g.b, g.n);
        write_file(tmp_path("fz.tcw"), g.b, g.n);
        const size_t mem0 = tc_ctx_mem_current(ctx);
        tc_model *m = NULL;
        const tc_status s = tc_model_load(ctx, tmp_path("fz.tcw"), &m);
        if (s != TC_OK && s != TC_ERR_CORRUPT) fail_msg("damage %d: %s", it, tc_last_error(ctx));
        if (s == TC_OK) {
            loaded++;
            tc_tensor *y = NULL;
            const tc_status c = tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(3, tc_model_classes(m)), &y);
            if (c == TC_OK && tc_model_input_numel(m) == 16 && tc_model_forward(m, x, y) != TC_OK)
                fail_msg("damage %d loads but does not run: %s", it, tc_last_error(ctx));
            tc_tensor_free(y);
            tc_model_free(m);
        }
        assert_true(tc_ctx_mem_current(ctx) <= mem0 + 4096); /* scratch the ops keep */
    }
    print_message("%d of 300 damaged files loaded (value bytes), the rest refused\n", loaded);
    tc_tensor_free(x);
    tc_ctx_free(ctx);
}

/* ------------------------------------------------------------ writer errors */

/* ------------------------------------------------------------ weights in CSR, the pruning record */

/* linear(4->3): the dense weight and its CSR arrays, written by hand */
static const float csr_dense[12] = {1, 0, 0, 2, /**/ 0, 0, 0, 0, /**/ 0, 3, 4, 0};
static const float csr_v[4] = {1, 2, 3, 4}, csr_b[3] = {0.5f, -1, 2};
static const int32_t csr_rp[4] = {0, 2, 2, 4}, csr_ci[4] = {0, 3, 1, 2};

/* One CSR linear(4->3) layer record (type, flags, params, then the 4 tensors given). */
typedef struct {
    uint32_t vdims, cdims, rdims;    /* element counts of values, col_idx, row_ptr */
    const float *v;
    const int32_t *ci, *rp;
    uint32_t rp_dtype, ci_qmode;
    int skip;                        /* 1: no col_idx tensor */
} csr_spec;

static void csr_layer(fbuf *f, const csr_spec *c)
{
    w2_layer(f, TC_LAYER_LINEAR, 1, 2, U(4, 3), c->skip ? 3 : 4);
    w2_tensor(f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 1, U(c->vdims, 0, 0, 0), 0, NULL, NULL, c->v);
    w2_tensor(f, TC_ROLE_BIAS, TC_DTYPE_F32, 0, 0, 1, U(3, 0, 0, 0), 0, NULL, NULL, csr_b);
    w2_tensor(f, TC_ROLE_ROW_PTR, c->rp_dtype, 0, 0, 1, U(c->rdims, 0, 0, 0), 0, NULL, NULL, c->rp);
    const float one = 1;
    const int32_t zero = 0;
    if (!c->skip)
        w2_tensor(f, TC_ROLE_COL_IDX, TC_DTYPE_S32, c->ci_qmode, 0, 1, U(c->cdims, 0, 0, 0), c->ci_qmode ? 1 : 0, &one,
                  &zero, c->ci);
}

static void csr_file(fbuf *f, const csr_spec *c, const uint32_t *prune)
{
    w_header(f, 2, prune ? 2 : 1, 1, U(4, 0, 0));
    if (prune) w2_layer(f, TC_LAYER_PRUNING, 0, 3, prune, 0);
    csr_layer(f, c);
    seal(f);
}

/* y [2, 3] of the model in path on x (two samples of 4) */
static void forward_tiny(tc_ctx *ctx, const char *path, float *y)
{
    static const float hx[8] = {1, -2, 3, 0.5f, -1, 4, 0.25f, 2};
    tc_model *m = NULL;
    tc_tensor *x = NULL, *out = NULL;
    if (tc_model_load(ctx, path, &m) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(2, 4), hx, &x), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(2, 3), &out), TC_OK);
    assert_int_equal(tc_model_forward(m, x, out), TC_OK);
    assert_int_equal(tc_tensor_read(out, y, 6 * sizeof *y), TC_OK);
    tc_tensor_free(x), tc_tensor_free(out);
    tc_model_free(m);
}

static const csr_spec csr_ok = {4, 4, 4, csr_v, csr_ci, csr_rp, TC_DTYPE_S32, 0, 0};

/* A CSR record computes what its dense weight computes; every field is checked. */
static void test_csr_records(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    static fbuf f;
    float want[6], got[6];
    w_header(&f, 2, 1, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_LINEAR, 1, 2, U(4, 3), 2);
    w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 2, U(3, 4, 0, 0), 0, NULL, NULL, csr_dense);
    w2_tensor(&f, TC_ROLE_BIAS, TC_DTYPE_F32, 0, 0, 1, U(3, 0, 0, 0), 0, NULL, NULL, csr_b);
    seal(&f);
    write_file(tmp_path("dense.tcw"), f.b, f.n);
    forward_tiny(ctx, tmp_path("dense.tcw"), want);
    csr_file(&f, &csr_ok, NULL);
    write_file(tmp_path("csr.tcw"), f.b, f.n);
    forward_tiny(ctx, tmp_path("csr.tcw"), got);
    for (int i = 0; i < 6; i++) assert_float_equal(got[i], want[i], 1e-6f * (1 + fabsf(want[i])));
    tc_model *m = NULL;
    tc_model_layer_info info;
    assert_int_equal(tc_model_load(ctx, tmp_path("csr.tcw"), &m), TC_OK);
    assert_int_equal(tc_model_layer_info_get(m, 0, &info), TC_OK);
    assert_int_equal(info.type, TC_LAYER_LINEAR);
    assert_int_equal(info.weights, 12);
    assert_int_equal(info.nonzero, 4);
    assert_int_equal(info.csr, 1);
    assert_int_equal(tc_model_bytes(m), 4 * (4 + 3 + 4 + 4));
    th_expect(ctx, tc_model_layer_info_get(m, 1, &info), TC_ERR_INVALID_ARG, "layer 1 of a model of 1 layers");
    tc_model_free(m);

    const int32_t ci_out[4] = {0, 4, 1, 2}, rp_down[4] = {0, 2, 1, 4}, rp_last[4] = {0, 2, 2, 3};
    const float v13[13] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
    const int32_t ci13[13] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 3}, rp13[4] = {0, 4, 8, 13};
    const struct {
        csr_spec c;
        const char *needle;
    } bad[] = {
        {{4, 4, 4, csr_v, ci_out, csr_rp, TC_DTYPE_S32, 0, 0}, "layer 0 (linear): column index 1 (row 0) is 4, outside 0..3"},
        {{4, 4, 4, csr_v, csr_ci, rp_down, TC_DTYPE_S32, 0, 0}, "row pointer 2 is 1 after 2: row pointers must not decrease"},
        {{4, 4, 4, csr_v, csr_ci, rp_last, TC_DTYPE_S32, 0, 0}, "nnz mismatch: the last row pointer is 3, the arrays hold 4"},
        {{4, 3, 4, csr_v, csr_ci, csr_rp, TC_DTYPE_S32, 0, 0}, "nnz mismatch: a weight in CSR is [nnz] values and col_idx "
                                                              "[nnz] indices; they are [4] and [3]"},
        {{4, 4, 3, csr_v, csr_ci, csr_rp, TC_DTYPE_S32, 0, 0}, "row_ptr is [3]; 3 rows need [4]"},
        {{4, 4, 4, csr_v, csr_ci, csr_rp, TC_DTYPE_S32, 0, 1}, "needs both row_ptr and col_idx (col_idx is missing)"},
        {{13, 13, 4, v13, ci13, rp13, TC_DTYPE_S32, 0, 0}, "nnz 13 outside 0..12"},
        {{4, 4, 4, csr_v, csr_ci, csr_rp, TC_DTYPE_F32, 0, 0}, "row_ptr is f32, which the kind does not take"},
        {{4, 4, 4, csr_v, csr_ci, csr_rp, TC_DTYPE_S32, 1, 0}, "carry no quantization"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        csr_file(&f, &bad[i].c, NULL);
        expect_load(ctx, &f, TC_ERR_CORRUPT, bad[i].needle);
    }
    /* a dense 2-D weight beside row pointers is no CSR */
    w_header(&f, 2, 1, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_LINEAR, 0, 2, U(4, 3), 3);
    w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 2, U(3, 4, 0, 0), 0, NULL, NULL, csr_dense);
    w2_tensor(&f, TC_ROLE_ROW_PTR, TC_DTYPE_S32, 0, 0, 1, U(4, 0, 0, 0), 0, NULL, NULL, csr_rp);
    w2_tensor(&f, TC_ROLE_COL_IDX, TC_DTYPE_S32, 0, 0, 1, U(4, 0, 0, 0), 0, NULL, NULL, csr_ci);
    seal(&f);
    expect_load(ctx, &f, TC_ERR_CORRUPT, "they are [3, 4] and [4]");

    /* conv2d: rows are filters, columns C * R * S */
    const float cv[3] = {1, -1, 2};
    const int32_t crp[3] = {0, 2, 3}, cci[3] = {0, 7, 3}, cci_bad[3] = {0, 8, 3};
    for (int k = 0; k < 2; k++) {
        w_header(&f, 2, 2, 3, U(2, 4, 4));
        w2_layer(&f, TC_LAYER_CONV2D, 1, 6, U(2, 2, 2, 2, 1, 0), 3);
        w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 1, U(3, 0, 0, 0), 0, NULL, NULL, cv);
        w2_tensor(&f, TC_ROLE_COL_IDX, TC_DTYPE_S32, 0, 0, 1, U(3, 0, 0, 0), 0, NULL, NULL, k ? cci_bad : cci);
        w2_tensor(&f, TC_ROLE_ROW_PTR, TC_DTYPE_S32, 0, 0, 1, U(3, 0, 0, 0), 0, NULL, NULL, crp);
        w2_layer(&f, TC_LAYER_GLOBAL_AVGPOOL, 0, 0, NULL, 0);
        seal(&f);
        expect_load(ctx, &f, k ? TC_ERR_CORRUPT : TC_OK, k ? "layer 0 (conv2d): column index 1 (row 0) is 8, outside 0..7" : NULL);
    }
    tc_ctx_free(ctx);
}

/* The pruning record: checked, kept by the model, written back first; tc_model_save
 * writes each weight dense or in CSR, whichever is smaller. */
static void test_pruning_record(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    static fbuf f;
    csr_file(&f, &csr_ok, U(0, 12, 0));
    expect_load(ctx, &f, TC_OK, NULL);
    write_file(tmp_path("p.tcw"), f.b, f.n);
    tc_model *m = NULL, *back = NULL;
    double sp = -1;
    int st = -1;
    assert_int_equal(tc_model_load(ctx, tmp_path("p.tcw"), &m), TC_OK);
    assert_int_equal(tc_model_layer_count(m), 1);
    assert_int_equal(tc_model_sparsity(m, &sp, &st), TC_OK);
    assert_float_equal(sp, 1.0 - 4.0 / 12.0, 1e-12);
    assert_int_equal(st, 0);
    /* 4 of 12 weights: CSR (3 records, 32 + 16 bytes) is larger than dense, so it is saved dense */
    assert_int_equal(tc_model_save(m, tmp_path("q.tcw")), TC_OK);
    assert_int_equal(tc_model_load(ctx, tmp_path("q.tcw"), &back), TC_OK);
    tc_model_layer_info info;
    assert_int_equal(tc_model_layer_info_get(back, 0, &info), TC_OK);
    assert_int_equal(info.csr, 0);
    assert_int_equal(info.nonzero, 4);
    assert_int_equal(tc_model_sparsity(back, &sp, &st), TC_OK);
    assert_float_equal(sp, 1.0 - 4.0 / 12.0, 1e-12);
    tc_model_free(back);
    size_t n = 0;
    unsigned char *b = slurp(tmp_path("q.tcw"), &n);
    assert_int_equal(b[8], 2); /* the pruning record and the layer */
    assert_memory_equal(b + 60, U(TC_LAYER_PRUNING, 0, 3, 0, 0, 12, 0), 28);
    free(b);
    float want[6], got[6];
    forward_tiny(ctx, tmp_path("p.tcw"), want);
    forward_tiny(ctx, tmp_path("q.tcw"), got);
    for (int i = 0; i < 6; i++) assert_float_equal(got[i], want[i], 1e-6f * (1 + fabsf(want[i])));
    th_expect(NULL, tc_model_sparsity(NULL, &sp, &st), TC_ERR_INVALID_ARG, "model is NULL");
    assert_int_equal(tc_model_sparsity(m, NULL, NULL), TC_OK);
    tc_model_free(m);

    const struct {
        const uint32_t *p;
        uint32_t np, nt;
        const char *needle;
    } bad[] = {
        {U(2, 12, 0), 3, 0, "layer 0 (pruning): structured is 2, must be 0 or 1"},
        {U(0, 0, 0), 3, 0, "layer 0 (pruning): 0 original weights"},
        {U(0, 13, 0), 3, 0, "pruning record: 13 original weights; the model has 12 (unstructured pruning keeps the shapes)"},
        {U(1, 11, 0), 3, 0, "pruning record: 11 original weights; the model has 12, more than before pruning"},
        {U(0, 12, 1), 3, 0, "pruning record: 2147483660 original weights"},
        {U(0, 12), 2, 0, "layer 0 (pruning): 2 parameters; the kind has 3"},
        {U(0, 12, 0), 3, 1, "layer 0 (pruning): tensor 0 is a weight; the kind takes none"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        w_header(&f, 2, 2, 1, U(4, 0, 0));
        w2_layer(&f, TC_LAYER_PRUNING, 0, bad[i].np, bad[i].p, bad[i].nt);
        if (bad[i].nt) w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 1, U(4, 0, 0, 0), 0, NULL, NULL, csr_v);
        csr_layer(&f, &csr_ok);
        seal(&f);
        expect_load(ctx, &f, TC_ERR_CORRUPT, bad[i].needle);
    }
    /* structured: more weights before than now */
    csr_file(&f, &csr_ok, U(1, 40, 0));
    expect_load(ctx, &f, TC_OK, NULL);
    /* not first; alone */
    w_header(&f, 2, 2, 1, U(4, 0, 0));
    csr_layer(&f, &csr_ok);
    w2_layer(&f, TC_LAYER_PRUNING, 0, 3, U(0, 12, 0), 0);
    seal(&f);
    expect_load(ctx, &f, TC_ERR_CORRUPT, "layer 1 (pruning): a model-level record, allowed first only");
    w_header(&f, 2, 1, 1, U(4, 0, 0));
    w2_layer(&f, TC_LAYER_PRUNING, 0, 3, U(0, 12, 0), 0);
    seal(&f);
    expect_load(ctx, &f, TC_ERR_CORRUPT, "a pruning record and no layers");

    /* a dense 64 x 64 weight with 5 non-zeros saves in CSR (smaller) and computes the same */
    static float w64[64 * 64];
    memset(w64, 0, sizeof w64);
    w64[3] = 1, w64[64 + 63] = -2, w64[64 * 20 + 5] = 0.5f, w64[64 * 20 + 6] = 4, w64[64 * 63] = 3;
    w_header(&f, 2, 1, 1, U(64, 0, 0));
    w2_layer(&f, TC_LAYER_LINEAR, 0, 2, U(64, 64), 1);
    w2_tensor(&f, TC_ROLE_WEIGHT, TC_DTYPE_F32, 0, 0, 2, U(64, 64, 0, 0), 0, NULL, NULL, w64);
    seal(&f);
    write_file(tmp_path("d64.tcw"), f.b, f.n);
    assert_int_equal(tc_model_load(ctx, tmp_path("d64.tcw"), &m), TC_OK);
    assert_int_equal(tc_model_layer_info_get(m, 0, &info), TC_OK);
    assert_int_equal(info.csr, 0);
    assert_int_equal(info.nonzero, 5);
    assert_int_equal(tc_model_save(m, tmp_path("s64.tcw")), TC_OK);
    tc_model_free(m);
    b = slurp(tmp_path("s64.tcw"), &n);
    assert_int_equal(n, 60 + 16 + 8 + (36 + 20) + (36 + 65 * 4) + (36 + 20) + 4);
    free(b);
    assert_int_equal(tc_model_load(ctx, tmp_path("s64.tcw"), &m), TC_OK);
    assert_int_equal(tc_model_layer_info_get(m, 0, &info), TC_OK);
    assert_int_equal(info.csr, 1);
    assert_int_equal(info.nonzero, 5);
    assert_int_equal(tc_model_sparsity(m, &sp, &st), TC_OK);
    assert_float_equal(sp, 1.0 - 5.0 / 4096.0, 1e-12);
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(3, 64), NULL), *y = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(3, 64), &y), TC_OK);
    assert_int_equal(tc_model_forward(m, x, y), TC_OK);
    float *hx = th_read(x), *hy = th_read(y);
    for (int r = 0; r < 3; r++)
        for (int o = 0; o < 64; o++) {
            double acc = 0;
            for (int i = 0; i < 64; i++) acc += (double)w64[o * 64 + i] * hx[r * 64 + i];
            assert_float_equal(hy[r * 64 + o], acc, 1e-5 * (1 + fabs(acc)));
        }
    free(hx), free(hy);
    tc_tensor_free(x), tc_tensor_free(y);
    tc_model_free(m);
    tc_ctx_free(ctx);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_writer_errors(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_wfile *f = malloc(sizeof *f);
    static fbuf hand;
    assert_non_null(f);
    quant_file(f, &hand);
    const char *path = tmp_path("w.tcw");
    f->nlayers = 0;
    th_expect(ctx, tc_wfile_write(ctx, f, path), TC_ERR_INVALID_ARG, "0 layers");
    f->nlayers = 1;
    f->layers[0].t[3].q.count = 2;
    th_expect(ctx, tc_wfile_write(ctx, f, path), TC_ERR_INVALID_ARG, "layer 0 tensor 3: element count or quant");
    f->layers[0].t[3].q.count = 3;
    f->layers[0].t[1].ndim = 0;
    th_expect(ctx, tc_wfile_write(ctx, f, path), TC_ERR_INVALID_ARG, "layer 0 tensor 1: dtype, ndim or data");
    f->layers[0].t[1].ndim = 1;
    th_expect(ctx, tc_wfile_write(ctx, NULL, path), TC_ERR_INVALID_ARG, "NULL");
    assert_int_equal(access(path, F_OK), -1);

    /* no directory to write into; a directory in the way: no file, no temporary left */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/dir.tcw", tmpdir);
    th_expect(ctx, tc_wfile_write(ctx, f, missing), TC_ERR_IO, "no/such/dir.tcw");
    const char *dir = tmp_path("adir");
    assert_int_equal(mkdir(dir, 0755), 0);
    const int before = count_entries(tmpdir);
    th_expect(ctx, tc_wfile_write(ctx, f, dir), TC_ERR_IO, "adir");
    assert_int_equal(count_entries(tmpdir), before);
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(tc_wfile_write(ctx, f, path), TC_OK);
    expect_same_file(path, &hand);

    th_expect(NULL, tc_model_save(NULL, path), TC_ERR_INVALID_ARG, "model is NULL");
    static fbuf tiny;
    w_header(&tiny, 1, 1, 1, U(4, 0, 0));
    w_layer(&tiny, TC_LAYER_SOFTMAX, 0, U(0, 0, 0, 0, 0, 0), 0);
    seal(&tiny);
    write_file(path, tiny.b, tiny.n);
    tc_model *m = NULL;
    assert_int_equal(tc_model_load(ctx, path, &m), TC_OK);
    th_expect(ctx, tc_model_save(m, NULL), TC_ERR_INVALID_ARG, "path is NULL");
    tc_model_free(m);
    th_expect(ctx, tc_model_load_flags(ctx, path, 4, &m), TC_ERR_INVALID_ARG, "unknown flags 0x4");
    assert_null(m);
    free(f);
    tc_ctx_free(ctx);
}

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tinycl_weights_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') unlink(tmp_path(e->d_name));
    if (d) closedir(d);
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_complete),
        cmocka_unit_test(test_every_kind_a),
        cmocka_unit_test(test_every_kind_b),
        cmocka_unit_test(test_dtypes_and_quantization_round_trip),
        cmocka_unit_test(test_quantized_f32_round_trip),
        cmocka_unit_test(test_bad_v2_files),
        cmocka_unit_test(test_int8_records),
        cmocka_unit_test(test_int8_records_damaged),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_csr_records),
        cmocka_unit_test(test_pruning_record),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
