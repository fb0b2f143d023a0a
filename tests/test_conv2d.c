/* conv2d: every variant on the device under test against ref, and bad input. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Bytes of the context's scratch buffers, which live as long as the context. */
static size_t scratch_bytes(const tc_ctx *ctx)
{
    size_t s = 0;
    for (int i = 0; i < TC_SCRATCH_SLOTS; i++) s += ctx->scratch_bytes[i];
    return s;
}

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
    p.variant = TC_VARIANT_OPENBLAS;
    if (!tc_ctx_host_blas(ctx)) th_expect(ctx, tc_conv2d(ctx, x, w, y, &p), TC_ERR_UNSUPPORTED, "\"openblas\"");
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
    assert_int_equal(tc_ctx_mem_current(ctx) - scratch_bytes(ctx), 0);
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
    /* eight output channels in one group: OpenBLAS on "openblas" */
    tc_tensor *w8 = th_tensor(ctx, 4, TH_DIMS(8, 8, 3, 3), NULL);
    p.groups = 1;
    tc_prof_reset(ctx);
    assert_int_equal(tc_conv2d(ctx, x, w8, y, &p), TC_OK);
    assert_int_equal(tc_prof_get(ctx, 0, &st), TC_OK);
    assert_string_equal(st.variant, tc_ctx_host_blas(ctx) ? "openblas" : tc_ctx_is_ref(ctx) ? "ref" : "cpu");
    tc_tensor_free(w8);
    tc_tensor_free(x);
    tc_tensor_free(w);
    tc_tensor_free(y);
    tc_ctx_free(ctx);
}

static void test_conv2d_plan_all_variants(void **state)
{
    (void)state;
    th_check_op("conv2d_plan");
}

/* An f32 tensor of dims with random contents: a view `off` elements into a larger
 * tensor (whose other elements are random too) when off > 0. */
static tc_tensor *view_at(tc_ctx *ctx, int64_t off, int ndim, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    if (!off) return th_tensor(ctx, ndim, dims, NULL);
    tc_tensor *base = th_tensor(ctx, 1, TH_DIMS(n + off + 3), NULL), *v = NULL;
    assert_int_equal(tc_tensor_view(base, off, ndim, dims, &v), TC_OK);
    tc_tensor_free(base);
    return v;
}

static float *read_all(const tc_tensor *t)
{
    float *h = malloc(tc_tensor_bytes(t));
    assert_non_null(h);
    assert_int_equal(tc_tensor_read(t, h, tc_tensor_bytes(t)), TC_OK);
    return h;
}

/* A plan gives exactly what tc_conv2d gives with the same variant, for N = 1 and
 * N = 3 from one plan, on plain tensors and on views at odd offsets, and keeps
 * working after the caller frees its w and bias. */
static void test_conv2d_plan_matches_oneshot(void **state)
{
    (void)state;
    typedef struct {
        int64_t c, h, w, k, r, s;
        int stride, pad_h, pad_w, dil, groups, bias, relu;
    } shape;
    static const shape shapes[] = {
        {3, 9, 11, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1},  /* 3x3, bias, ReLU */
        {8, 9, 9, 8, 3, 3, 2, 1, 1, 1, 8, 1, 0},   /* depthwise, stride 2 */
        {4, 7, 6, 6, 3, 1, 1, 1, 0, 2, 2, 0, 1},   /* 2 groups, 3x1, dilation 2 */
        {16, 5, 7, 17, 1, 1, 1, 0, 0, 1, 1, 1, 0}, /* pointwise */
        {16, 4, 4, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1}, /* the digits CNN's second layer */
    };
    const tc_variant cl_variants[] = {TC_VARIANT_AUTO, TC_VARIANT_CPU, TC_VARIANT_GPU, TC_VARIANT_IM2COL,
                                      TC_VARIANT_CLBLAST, TC_VARIANT_REF};
    const tc_variant ref_variants[] = {TC_VARIANT_AUTO, TC_VARIANT_REF, TC_VARIANT_OPENBLAS};
    tc_ctx *ctx = th_ctx();
    const int is_ref = tc_ctx_is_ref(ctx);
    const tc_variant *vars = is_ref ? ref_variants : cl_variants;
    const int nvars = is_ref ? 2 + tc_ctx_host_blas(ctx) : 6;
    int compared = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int vi = 0; vi < nvars; vi++)
            for (int64_t off = 0; off <= 7; off += 7) {
                const shape *sh = &shapes[si];
                tc_conv2d_params p = tc_conv2d_defaults();
                p.stride_h = p.stride_w = sh->stride, p.pad_h = sh->pad_h, p.pad_w = sh->pad_w;
                p.dil_h = p.dil_w = sh->dil, p.groups = sh->groups, p.relu = sh->relu, p.variant = vars[vi];
                int64_t oh, ow;
                assert_int_equal(tc_conv2d_out_size(sh->h, sh->r, sh->stride, sh->pad_h, sh->dil, &oh), TC_OK);
                assert_int_equal(tc_conv2d_out_size(sh->w, sh->s, sh->stride, sh->pad_w, sh->dil, &ow), TC_OK);
                tc_tensor *w = view_at(ctx, off, 4, TH_DIMS(sh->k, sh->c / sh->groups, sh->r, sh->s));
                tc_tensor *bias = sh->bias ? view_at(ctx, off ? off + 2 : 0, 1, TH_DIMS(sh->k)) : NULL;
                p.bias = bias;
                const int64_t chw[3] = {sh->c, sh->h, sh->w};
                tc_conv2d_plan *plan = NULL;
                tc_status st = tc_conv2d_plan_create(ctx, w, chw, &p, &plan);
                if (st == TC_ERR_UNSUPPORTED) { /* clblast with groups: the one-shot call says the same */
                    tc_tensor *x = view_at(ctx, 0, 4, TH_DIMS(1, sh->c, sh->h, sh->w));
                    tc_tensor *y = view_at(ctx, 0, 4, TH_DIMS(1, sh->k, oh, ow));
                    th_expect(ctx, tc_conv2d(ctx, x, w, y, &p), TC_ERR_UNSUPPORTED, NULL);
                    assert_null(plan);
                    tc_tensor *all[] = {x, y, w, bias};
                    for (int i = 0; i < 4; i++) tc_tensor_free(all[i]);
                    continue;
                }
                assert_int_equal(st, TC_OK);
                if (vars[vi] != TC_VARIANT_AUTO) assert_int_equal(tc_conv2d_plan_variant(plan), vars[vi]);
                p.variant = tc_conv2d_plan_variant(plan); /* AUTO: the one-shot call must choose the same */
                tc_tensor *x[2], *y1[2], *y2[2];
                float *want[2];
                for (int b = 0; b < 2; b++) {
                    const int64_t n = b ? 3 : 1;
                    x[b] = view_at(ctx, off ? off + 4 : 0, 4, TH_DIMS(n, sh->c, sh->h, sh->w));
                    y1[b] = view_at(ctx, off ? off + 6 : 0, 4, TH_DIMS(n, sh->k, oh, ow));
                    y2[b] = view_at(ctx, off ? off + 8 : 0, 4, TH_DIMS(n, sh->k, oh, ow));
                    assert_int_equal(tc_conv2d(ctx, x[b], w, y1[b], &p), TC_OK);
                    want[b] = read_all(y1[b]);
                }
                tc_tensor_free(w); /* the plan holds its own references */
                tc_tensor_free(bias);
                for (int rep = 0; rep < 2; rep++)
                    for (int b = 0; b < 2; b++) {
                        assert_int_equal(tc_conv2d_plan_run(plan, x[b], y2[b]), TC_OK);
                        float *got = read_all(y2[b]);
                        if (memcmp(got, want[b], tc_tensor_bytes(y2[b])) != 0)
                            fail_msg("shape %zu variant %s N %d offset %lld: the plan differs from tc_conv2d", si,
                                     tc_variant_name(p.variant), b ? 3 : 1, (long long)off);
                        free(got);
                        compared++;
                    }
                for (int b = 0; b < 2; b++) {
                    tc_tensor_free(x[b]);
                    tc_tensor_free(y1[b]);
                    tc_tensor_free(y2[b]);
                    free(want[b]);
                }
                tc_conv2d_plan_free(plan);
            }
    assert_true(compared >= 5 * 2 * 2 * 2 * (nvars - 1));
    assert_int_equal(tc_ctx_mem_current(ctx) - scratch_bytes(ctx), 0);
    tc_ctx_free(ctx);
}

/* Bad input to plans: a clear status and message, no plan, no output change;
 * validate allocates nothing. */
static void test_conv2d_plan_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    float *hy;
    tc_tensor *w = th_tensor(ctx, 4, TH_DIMS(6, 4, 3, 3), NULL), *bias = th_tensor(ctx, 1, TH_DIMS(6), NULL);
    tc_tensor *x = th_tensor(ctx, 4, TH_DIMS(2, 4, 6, 6), NULL), *y = th_tensor(ctx, 4, TH_DIMS(2, 6, 4, 4), &hy);
    tc_tensor *bias5 = th_tensor(ctx, 1, TH_DIMS(5), NULL), *w3 = th_tensor(ctx, 3, TH_DIMS(6, 4, 9), NULL);
    tc_tensor *w_other = th_tensor(other, 4, TH_DIMS(6, 4, 3, 3), NULL);
    tc_tensor *x_other = th_tensor(other, 4, TH_DIMS(2, 4, 6, 6), NULL);
    tc_tensor *x_c5 = th_tensor(ctx, 4, TH_DIMS(2, 5, 6, 6), NULL), *x_h7 = th_tensor(ctx, 4, TH_DIMS(2, 4, 7, 6), NULL);
    tc_tensor *x_w5 = th_tensor(ctx, 4, TH_DIMS(2, 4, 6, 5), NULL), *y_n1 = th_tensor(ctx, 4, TH_DIMS(1, 6, 4, 4), NULL);
    tc_tensor *w_s8 = NULL, *x_s8 = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 4, TH_DIMS(6, 4, 3, 3), &w_s8), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 4, TH_DIMS(2, 4, 6, 6), &x_s8), TC_OK);
    const int64_t chw[3] = {4, 6, 6}, chw0[3] = {4, 0, 6}, chw_big[3] = {INT64_MAX, 2, 2}, chw5[3] = {5, 6, 6};
    const int64_t chw_small[3] = {4, 2, 2};
    tc_conv2d_params p = tc_conv2d_defaults();
    tc_conv2d_plan *plan = NULL;

    /* validate and create refuse the same input with the same message; validate allocates nothing */
    const size_t mem0 = tc_ctx_mem_current(ctx);
#define BAD(ctx_, w_, chw_, p_, want, needle)                                                                      \
    do {                                                                                                          \
        th_expect(ctx_, tc_conv2d_plan_validate(ctx_, w_, chw_, p_), want, needle);                               \
        th_expect(ctx_, tc_conv2d_plan_create(ctx_, w_, chw_, p_, &plan), want, needle);                          \
        assert_null(plan);                                                                                        \
    } while (0)
    BAD(NULL, w, chw, &p, TC_ERR_INVALID_ARG, "ctx is NULL");
    BAD(ctx, NULL, chw, &p, TC_ERR_INVALID_ARG, "w is NULL");
    BAD(ctx, w, NULL, &p, TC_ERR_INVALID_ARG, "x_chw is NULL");
    BAD(ctx, w, chw0, &p, TC_ERR_SHAPE, "4x0x6");
    BAD(ctx, w, chw_big, &p, TC_ERR_OVERFLOW, "overflows");
    BAD(ctx, w, chw5, &p, TC_ERR_SHAPE, "input channels");
    BAD(ctx, w, chw_small, &p, TC_ERR_SHAPE, "larger than the padded input");
    BAD(ctx, w3, chw, &p, TC_ERR_SHAPE, "dimensions");
    BAD(ctx, w_s8, chw, &p, TC_ERR_DTYPE, "s8");
    BAD(ctx, w_other, chw, &p, TC_ERR_CONTEXT, "another context");
    p.bias = bias5;
    BAD(ctx, w, chw, &p, TC_ERR_SHAPE, "bias");
    p.bias = x_other;
    BAD(ctx, w, chw, &p, TC_ERR_CONTEXT, "bias");
    p = tc_conv2d_defaults();
    p.groups = 3;
    BAD(ctx, w, chw, &p, TC_ERR_SHAPE, "divide");
    p = tc_conv2d_defaults();
    p.stride_h = 0;
    BAD(ctx, w, chw, &p, TC_ERR_INVALID_ARG, "stride");
    p = tc_conv2d_defaults();
    p.variant = TC_VARIANT_GEMV;
    BAD(ctx, w, chw, &p, TC_ERR_UNSUPPORTED, tc_ctx_is_ref(ctx) ? "OpenCL" : "gemv");
    p.variant = TC_VARIANT_OPENBLAS;
    if (!tc_ctx_host_blas(ctx)) BAD(ctx, w, chw, &p, TC_ERR_UNSUPPORTED, "\"openblas\"");
    p = tc_conv2d_defaults();
    th_expect(ctx, tc_conv2d_plan_create(ctx, w, chw, &p, NULL), TC_ERR_INVALID_ARG, "out is NULL");
    p.bias = bias;
    assert_int_equal(tc_conv2d_plan_validate(ctx, w, chw, &p), TC_OK);
    assert_int_equal(tc_conv2d_plan_validate(ctx, w, chw, NULL), TC_OK); /* NULL: the defaults */
    assert_int_equal(tc_ctx_mem_current(ctx), mem0);
#undef BAD

    /* run: x and y only */
    assert_int_equal(tc_conv2d_plan_create(ctx, w, chw, &p, &plan), TC_OK);
    th_expect(NULL, tc_conv2d_plan_run(NULL, x, y), TC_ERR_INVALID_ARG, "plan is NULL");
    th_expect(ctx, tc_conv2d_plan_run(plan, NULL, y), TC_ERR_INVALID_ARG, "x is NULL");
    th_expect(ctx, tc_conv2d_plan_run(plan, x, NULL), TC_ERR_INVALID_ARG, "y is NULL");
    th_expect(ctx, tc_conv2d_plan_run(plan, x_c5, y), TC_ERR_SHAPE, "expected N x 4x6x6");
    th_expect(ctx, tc_conv2d_plan_run(plan, x_h7, y), TC_ERR_SHAPE, "expected N x 4x6x6");
    th_expect(ctx, tc_conv2d_plan_run(plan, x_w5, y), TC_ERR_SHAPE, "expected N x 4x6x6");
    th_expect(ctx, tc_conv2d_plan_run(plan, x, y_n1), TC_ERR_SHAPE, "expected 2x6x4x4");
    th_expect(ctx, tc_conv2d_plan_run(plan, x_other, y), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_conv2d_plan_run(plan, x_s8, y), TC_ERR_DTYPE, "s8");
    th_expect(ctx, tc_conv2d_plan_run(plan, x, x), TC_ERR_SHAPE, NULL);
    /* y in the storage of the plan's weights, which the caller frees: the plan still knows */
    tc_tensor *wy = NULL, *x1 = th_tensor(ctx, 4, TH_DIMS(1, 4, 6, 6), NULL);
    assert_int_equal(tc_tensor_view(w, 0, 4, TH_DIMS(1, 6, 4, 4), &wy), TC_OK);
    tc_tensor_free(w);
    w = NULL;
    th_expect(ctx, tc_conv2d_plan_run(plan, x1, wy), TC_ERR_INVALID_ARG, "storage");
    assert_true(th_unchanged(y, hy));
    assert_int_equal(tc_conv2d_plan_run(plan, x, y), TC_OK);
    assert_false(th_unchanged(y, hy));
    assert_int_equal(tc_conv2d_plan_variant(NULL), TC_VARIANT_AUTO);
    tc_conv2d_plan_free(plan);
    tc_conv2d_plan_free(NULL);

    tc_tensor *all[] = {bias, x, y, bias5, w3, x_c5, x_h7, x_w5, y_n1, w_s8, x_s8, wy, x1};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(w_other);
    tc_tensor_free(x_other);
    free(hy);
    assert_int_equal(tc_ctx_mem_current(ctx) - scratch_bytes(ctx), 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_all_variants),        cmocka_unit_test(test_conv2d_out_size),
        cmocka_unit_test(test_conv2d_bad_input),           cmocka_unit_test(test_conv2d_overflow),
        cmocka_unit_test(test_conv2d_auto_choice),         cmocka_unit_test(test_conv2d_plan_all_variants),
        cmocka_unit_test(test_conv2d_plan_matches_oneshot), cmocka_unit_test(test_conv2d_plan_bad_input),
        cmocka_unit_test(test_conv2d_huge_geometry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
