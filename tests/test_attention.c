/* attention: every variant against ref (both decode kernel shapes, small tiles),
 * bad input, what AUTO chooses, extreme scores, queries that see no key. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_attention_all_variants(void **state)
{
    (void)state;
    th_check_op("attention");
}

static void test_attention_cached_all_variants(void **state)
{
    (void)state;
    th_check_op("attention_cached");
}

static void report(const tc_check_result *r, void *user)
{
    (void)user;
    if (!r->passed && !r->skipped)
        print_error("FAIL %s/%s %s seed %llu: %s\n", r->op, tc_variant_name(r->variant), r->shape,
                    (unsigned long long)r->seed, r->message);
}

/* The other decode kernel shape and tiles smaller than the cases (several query
 * groups and key tiles per sequence in attn_gpu, several score passes in attn_dec). */
static void test_attention_other_kernels(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    if (ctx->is_ref) {
        tc_ctx_free(ctx);
        skip();
    }
    const tc_par_attention pa = ctx->params.attention;
    assert_int_equal(tc_kernel_params_set(ctx, pa.dec_vec ? "attention.dec_vec=0" : "attention.dec_vec=1"), TC_OK);
    assert_int_equal(tc_kernel_params_set(ctx, "attention.gpu_wq=4,attention.gpu_tk=2,attention.dec_tk=16,"
                                               "attention.dec_wg=4,attention.split_keys=16"),
                     TC_OK);
    static const tc_variant vs[] = {TC_VARIANT_GPU, TC_VARIANT_OPENCL, TC_VARIANT_SPLIT};
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        int failures = -1;
        assert_int_equal(tc_check_run(ctx, "attention", vs[i], th_seed(), report, NULL, &failures), TC_OK);
        assert_int_equal(failures, 0);
    }
    tc_ctx_free(ctx);
}

typedef struct {
    tc_ctx *ctx, *other;
    tc_tensor *q, *k, *v, *out;
    float *hout;
} fixture;

/* q and out [2, 4, 3, 8], k and v [2, 2, 5, 8] */
static fixture make(void)
{
    fixture f;
    f.ctx = th_ctx(), f.other = th_ctx();
    f.q = th_tensor(f.ctx, 4, TH_DIMS(2, 4, 3, 8), NULL);
    f.k = th_tensor(f.ctx, 4, TH_DIMS(2, 2, 5, 8), NULL);
    f.v = th_tensor(f.ctx, 4, TH_DIMS(2, 2, 5, 8), NULL);
    f.out = th_tensor(f.ctx, 4, TH_DIMS(2, 4, 3, 8), &f.hout);
    return f;
}

static void release(fixture *f)
{
    tc_tensor *all[] = {f->q, f->k, f->v, f->out};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    free(f->hout);
    assert_int_equal(tc_ctx_mem_current(f->ctx), 0);
    tc_ctx_free(f->ctx);
    tc_ctx_free(f->other);
}

static void test_attention_bad_input(void **state)
{
    (void)state;
    fixture f = make();
    tc_ctx *ctx = f.ctx;
    tc_tensor *q3 = th_tensor(ctx, 3, TH_DIMS(2, 4, 24), NULL), *kb = th_tensor(ctx, 4, TH_DIMS(3, 2, 5, 8), NULL);
    tc_tensor *kd = th_tensor(ctx, 4, TH_DIMS(2, 2, 5, 16), NULL), *kh = th_tensor(ctx, 4, TH_DIMS(2, 3, 5, 8), NULL);
    tc_tensor *vl = th_tensor(ctx, 4, TH_DIMS(2, 2, 6, 8), NULL), *ow = th_tensor(ctx, 4, TH_DIMS(2, 4, 2, 8), NULL);
    tc_tensor *q300 = th_tensor(ctx, 4, TH_DIMS(1, 1, 1, 300), NULL), *k300 = th_tensor(ctx, 4, TH_DIMS(1, 1, 1, 300), NULL);
    tc_tensor *o300 = th_tensor(ctx, 4, TH_DIMS(1, 1, 1, 300), NULL), *q_other = th_tensor(f.other, 4, TH_DIMS(2, 4, 3, 8), NULL);
    tc_tensor *s32 = NULL, *alias = NULL, *k_in_big = NULL, *big = th_tensor(ctx, 1, TH_DIMS(192), NULL);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 4, TH_DIMS(2, 4, 3, 8), &s32), TC_OK);
    /* out and k over one storage */
    assert_int_equal(tc_tensor_view(big, 0, 4, TH_DIMS(2, 4, 3, 8), &alias), TC_OK);
    assert_int_equal(tc_tensor_view(big, 32, 4, TH_DIMS(2, 2, 5, 8), &k_in_big), TC_OK);
    tc_attention_params p = tc_attention_defaults();

    th_expect(NULL, tc_attention(NULL, f.q, f.k, f.v, f.out, NULL), TC_ERR_INVALID_ARG, "attention: ctx is NULL");
    th_expect(ctx, tc_attention(ctx, NULL, f.k, f.v, f.out, NULL), TC_ERR_INVALID_ARG, "attention: q is NULL");
    th_expect(ctx, tc_attention(ctx, f.q, f.k, NULL, f.out, NULL), TC_ERR_INVALID_ARG, "attention: v is NULL");
    th_expect(ctx, tc_attention(ctx, f.q, f.k, f.v, NULL, NULL), TC_ERR_INVALID_ARG, "attention: out is NULL");
    th_expect(ctx, tc_attention(ctx, s32, f.k, f.v, f.out, NULL), TC_ERR_DTYPE, "q is s32");
    th_expect(ctx, tc_attention(ctx, q3, f.k, f.v, f.out, NULL), TC_ERR_SHAPE, "q has 3 dimensions");
    th_expect(ctx, tc_attention(ctx, q_other, f.k, f.v, f.out, NULL), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_attention(ctx, f.q, kb, f.v, f.out, NULL), TC_ERR_SHAPE, "k has batch 3, q has 2");
    th_expect(ctx, tc_attention(ctx, f.q, kd, f.v, f.out, NULL), TC_ERR_SHAPE, "k has head_dim 16, q has 8");
    th_expect(ctx, tc_attention(ctx, f.q, kh, f.v, f.out, NULL), TC_ERR_SHAPE, "q's 4 heads are not a multiple of k's 3");
    th_expect(ctx, tc_attention(ctx, f.q, f.k, vl, f.out, NULL), TC_ERR_SHAPE, "v is 2x2x6x8, expected 2x2x5x8");
    th_expect(ctx, tc_attention(ctx, f.q, f.k, f.v, ow, NULL), TC_ERR_SHAPE, "out is 2x4x2x8, expected 2x4x3x8");
    th_expect(ctx, tc_attention(ctx, q300, k300, k300, o300, NULL), TC_ERR_SHAPE, "head_dim 300 is above 256");
    th_expect(ctx, tc_attention(ctx, f.q, k_in_big, f.v, alias, NULL), TC_ERR_INVALID_ARG, "out must not share storage with k");
    p.layout = (tc_attn_layout)7;
    th_expect(ctx, tc_attention(ctx, f.q, f.k, f.v, f.out, &p), TC_ERR_INVALID_ARG, "layout 7");
    p = tc_attention_defaults(), p.scale = NAN;
    th_expect(ctx, tc_attention(ctx, f.q, f.k, f.v, f.out, &p), TC_ERR_INVALID_ARG, "scale nan is not finite");
    p = tc_attention_defaults(), p.q_pos = -1;
    th_expect(ctx, tc_attention(ctx, f.q, f.k, f.v, f.out, &p), TC_ERR_INVALID_ARG, "q_pos = -1 is outside");
    p.q_pos = (int64_t)1 << 40; /* positions past 2^31 overflow the kernels' int */
    th_expect(ctx, tc_attention(ctx, f.q, f.k, f.v, f.out, &p), TC_ERR_INVALID_ARG, "is outside [0, 2147483644]");
    const int32_t len_bad[2] = {5, 6}, len_neg[2] = {-1, 2}, pos_bad[2] = {0, -3};
    p = tc_attention_defaults(), p.kv_len_host = len_bad;
    th_expect(ctx, tc_attention(ctx, f.q, f.k, f.v, f.out, &p), TC_ERR_INVALID_ARG, "kv_len_host[1] = 6 is outside [0, 5]");
    p.kv_len_host = len_neg;
    th_expect(ctx, tc_attention(ctx, f.q, f.k, f.v, f.out, &p), TC_ERR_INVALID_ARG, "kv_len_host[0] = -1");
    p = tc_attention_defaults(), p.q_pos_host = pos_bad;
    th_expect(ctx, tc_attention(ctx, f.q, f.k, f.v, f.out, &p), TC_ERR_INVALID_ARG, "q_pos_host[1] = -3");
    p = tc_attention_defaults(), p.variant = TC_VARIANT_GEMV;
    th_expect(ctx, tc_attention(ctx, f.q, f.k, f.v, f.out, &p), TC_ERR_UNSUPPORTED, "attention has no variant 'gemv'");
    p.variant = (tc_variant)99;
    th_expect(ctx, tc_attention(ctx, f.q, f.k, f.v, f.out, &p), TC_ERR_INVALID_ARG, "invalid variant 99");
    if (ctx->is_ref) {
        p.variant = TC_VARIANT_SPLIT;
        th_expect(ctx, tc_attention(ctx, f.q, f.k, f.v, f.out, &p), TC_ERR_UNSUPPORTED, "needs an OpenCL device");
    }
    if (!ctx->host_blas) {
        p.variant = TC_VARIANT_OPENBLAS;
        th_expect(ctx, tc_attention(ctx, f.q, f.k, f.v, f.out, &p), TC_ERR_UNSUPPORTED, "\"openblas\"");
    }
    /* s8 keys and values: both s8, with parameters per tensor or per head_dim channel */
    tc_tensor *k8 = NULL, *v8 = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 4, TH_DIMS(2, 2, 5, 8), &k8), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 4, TH_DIMS(2, 2, 5, 8), &v8), TC_OK);
    th_expect(ctx, tc_attention(ctx, f.q, f.k, v8, f.out, NULL), TC_ERR_DTYPE, "v is s8, expected f32");
    th_expect(ctx, tc_attention(ctx, f.q, k8, f.v, f.out, NULL), TC_ERR_DTYPE, "v is f32, expected s8");
    th_expect(ctx, tc_attention(ctx, f.q, k8, v8, f.out, NULL), TC_ERR_INVALID_ARG, "k is s8 without quantization");
    const float sc[5] = {0.1f, 0.1f, 0.1f, 0.1f, 0.1f};
    const int32_t zp[5] = {0, 0, 0, 0, 0};
    assert_int_equal(tc_tensor_set_quant(k8, &(tc_quant){-1, 1, sc, zp}), TC_OK);
    assert_int_equal(tc_tensor_set_quant(v8, &(tc_quant){2, 5, sc, zp}), TC_OK);
    th_expect(ctx, tc_attention(ctx, f.q, k8, v8, f.out, NULL), TC_ERR_INVALID_ARG,
              "v's parameters must be per tensor or per head_dim channel (axis 3), not 5 along axis 2");
    assert_true(th_unchanged(f.out, f.hout));

    tc_tensor *all[] = {q3, kb, kd, kh, vl, ow, q300, k300, o300, s32, alias, k_in_big, big, k8, v8};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(q_other);
    release(&f);
}

/* The variant AUTO ran (the profile's row) for a q of lq queries against lk keys. */
static const char *auto_variant(tc_ctx *ctx, int64_t b, int64_t h, int64_t lq, int64_t lk)
{
    tc_tensor *q = th_tensor(ctx, 4, TH_DIMS(b, h, lq, 32), NULL), *k = th_tensor(ctx, 4, TH_DIMS(b, h, lk, 32), NULL);
    tc_tensor *out = th_tensor(ctx, 4, TH_DIMS(b, h, lq, 32), NULL);
    tc_prof_reset(ctx);
    tc_attention_params p = tc_attention_defaults();
    p.causal = 1, p.q_pos = lk - lq;
    assert_int_equal(tc_attention(ctx, q, k, k, out, &p), TC_OK);
    static tc_prof_stat st;
    assert_int_equal(tc_prof_get(ctx, 0, &st), TC_OK);
    assert_string_equal(st.op, "attention");
    tc_tensor_free(q), tc_tensor_free(k), tc_tensor_free(out);
    return st.variant;
}

/* Few queries: per-query groups, or split keys when they would not fill the device;
 * many: the tiled kernel of the device's kind. */
static void test_attention_auto(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    if (ctx->is_ref) {
        assert_string_equal(auto_variant(ctx, 1, 1, 1, 64), ctx->host_blas ? "openblas" : "ref");
        assert_string_equal(auto_variant(ctx, 2, 3, 17, 40), ctx->host_blas ? "openblas" : "ref");
    } else {
        const tc_device_info *dev = tc_ctx_device(ctx);
        const int64_t long_ctx = 2 * (int64_t)ctx->params.attention.split_keys;
        const int64_t many = (int64_t)ctx->params.attention.split_groups * dev->compute_units;
        assert_string_equal(auto_variant(ctx, 1, 1, 1, long_ctx), "split");
        assert_string_equal(auto_variant(ctx, 1, 1, 1, long_ctx - 1), "opencl");
        assert_string_equal(auto_variant(ctx, many, 1, 1, long_ctx), "opencl");
        assert_string_equal(auto_variant(ctx, 1, 1, 64, 64), dev->type == TC_DEVICE_CPU ? "cpu" : "gpu");
    }
    tc_ctx_free(ctx);
}

/* Scores of +-1e4 (exp overflows without the maximum subtracted): the largest wins
 * outright; a sequence with no keys and a query before every key get zeros. */
static void test_attention_extremes(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    static const tc_variant cl_vs[] = {TC_VARIANT_AUTO, TC_VARIANT_CPU, TC_VARIANT_GPU, TC_VARIANT_OPENCL,
                                       TC_VARIANT_SPLIT};
    static const tc_variant host_vs[] = {TC_VARIANT_AUTO, TC_VARIANT_REF};
    const tc_variant *vs = ctx->is_ref ? host_vs : cl_vs; /* AUTO is openblas on "openblas" */
    const size_t nvs = ctx->is_ref ? 1 + (size_t)ctx->host_blas : 5;
    float q[2][4] = {{100, 0, 0, 0}, {-100, 0, 0, 0}}, k[2][3][4], v[2][3][4];
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 3; j++)
            for (int d = 0; d < 4; d++) k[b][j][d] = d ? 0.0f : (float)(j - 1) * 100.0f, v[b][j][d] = (float)(10 * j + d);
    tc_tensor *tq, *tk, *tv, *out;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, TH_DIMS(2, 1, 1, 4), q, &tq), TC_OK);
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, TH_DIMS(2, 1, 3, 4), k, &tk), TC_OK);
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, TH_DIMS(2, 1, 3, 4), v, &tv), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 4, TH_DIMS(2, 1, 1, 4), &out), TC_OK);
    for (size_t i = 0; i < nvs; i++) {
        tc_attention_params p = tc_attention_defaults();
        p.scale = 1.0f, p.variant = vs[i];
        float got[2][4];
        /* sequence 0 sees key 2 (score 1e4), sequence 1 key 0 (score 1e4) */
        assert_int_equal(tc_attention(ctx, tq, tk, tv, out, &p), TC_OK);
        assert_int_equal(tc_tensor_read(out, got, sizeof got), TC_OK);
        for (int d = 0; d < 4; d++) assert_true(got[0][d] == v[0][2][d] && got[1][d] == v[1][0][d]);
        /* sequence 0 has no keys; sequence 1's query sits at position 0 and sees key 0 only */
        const int32_t len[2] = {0, 3};
        p.kv_len_host = len, p.causal = 1, p.q_pos = 0;
        assert_int_equal(tc_attention(ctx, tq, tk, tv, out, &p), TC_OK);
        assert_int_equal(tc_tensor_read(out, got, sizeof got), TC_OK);
        for (int d = 0; d < 4; d++) assert_true(got[0][d] == 0.0f && got[1][d] == v[1][0][d]);
    }
    tc_tensor_free(tq), tc_tensor_free(tk), tc_tensor_free(tv), tc_tensor_free(out);
    tc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attention_all_variants),   cmocka_unit_test(test_attention_cached_all_variants),
        cmocka_unit_test(test_attention_other_kernels),  cmocka_unit_test(test_attention_bad_input),
        cmocka_unit_test(test_attention_auto),           cmocka_unit_test(test_attention_extremes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
