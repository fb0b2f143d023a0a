/* matmul: every variant on the device under test against ref, and bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ref/ref.h"

static void test_matmul_all_variants(void **state)
{
    (void)state;
    th_check_op("matmul");
}

/* Each bad call returns a clear status and leaves C exactly as it was. */
static void test_matmul_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    float *hc;
    tc_tensor *a = th_tensor(ctx, 2, TH_DIMS(4, 5), NULL), *b = th_tensor(ctx, 2, TH_DIMS(5, 6), NULL);
    tc_tensor *c = th_tensor(ctx, 2, TH_DIMS(4, 6), &hc);
    tc_tensor *b_wrong_k = th_tensor(ctx, 2, TH_DIMS(7, 6), NULL), *c_wrong = th_tensor(ctx, 2, TH_DIMS(4, 7), NULL);
    tc_tensor *a3 = th_tensor(ctx, 3, TH_DIMS(1, 4, 5), NULL), *a_other = th_tensor(other, 2, TH_DIMS(4, 5), NULL);
    tc_tensor *bias_wrong = th_tensor(ctx, 1, TH_DIMS(5), NULL), *a_s8 = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 2, TH_DIMS(4, 5), &a_s8), TC_OK);
    tc_matmul_params p = tc_matmul_defaults();

    th_expect(NULL, tc_matmul(NULL, a, b, c, &p), TC_ERR_INVALID_ARG, "ctx");
    th_expect(ctx, tc_matmul(ctx, NULL, b, c, &p), TC_ERR_INVALID_ARG, "A is NULL");
    th_expect(ctx, tc_matmul(ctx, a, NULL, c, &p), TC_ERR_INVALID_ARG, "B is NULL");
    th_expect(ctx, tc_matmul(ctx, a, b, NULL, &p), TC_ERR_INVALID_ARG, "C is NULL");
    th_expect(ctx, tc_matmul(ctx, a, b_wrong_k, c, &p), TC_ERR_SHAPE, "op(B)");
    th_expect(ctx, tc_matmul(ctx, a, b, c_wrong, &p), TC_ERR_SHAPE, "C is 4x7");
    th_expect(ctx, tc_matmul(ctx, a3, b, c, &p), TC_ERR_SHAPE, "dimensions");
    th_expect(ctx, tc_matmul(ctx, a_s8, b, c, &p), TC_ERR_DTYPE, "s8");
    th_expect(ctx, tc_matmul(ctx, a_other, b, c, &p), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_matmul(ctx, a, b, a, &p), TC_ERR_SHAPE, NULL);
    p.bias = bias_wrong;
    th_expect(ctx, tc_matmul(ctx, a, b, c, &p), TC_ERR_SHAPE, "bias");
    p = tc_matmul_defaults();
    p.trans_a = 1; /* op(A) becomes 5x4: K mismatch */
    th_expect(ctx, tc_matmul(ctx, a, b, c, &p), TC_ERR_SHAPE, NULL);
    p = tc_matmul_defaults();
    p.alpha = 0.0f / 0.0f;
    th_expect(ctx, tc_matmul(ctx, a, b, c, &p), TC_ERR_INVALID_ARG, "finite");
    p = tc_matmul_defaults();
    p.variant = (tc_variant)99;
    th_expect(ctx, tc_matmul(ctx, a, b, c, &p), TC_ERR_INVALID_ARG, "variant");
    p.variant = TC_VARIANT_IM2COL;
    th_expect(ctx, tc_matmul(ctx, a, b, c, &p), TC_ERR_UNSUPPORTED, "im2col");
    if (!tc_ctx_host_blas(ctx)) {
        p.variant = TC_VARIANT_OPENBLAS;
        th_expect(ctx, tc_matmul(ctx, a, b, c, &p), TC_ERR_UNSUPPORTED, "\"openblas\"");
    }
    if (tc_ctx_is_ref(ctx)) {
        p.variant = TC_VARIANT_CPU;
        th_expect(ctx, tc_matmul(ctx, a, b, c, &p), TC_ERR_UNSUPPORTED, "OpenCL");
    } else {
        tc_tensor *a9 = th_tensor(ctx, 2, TH_DIMS(9, 5), NULL), *c9 = th_tensor(ctx, 2, TH_DIMS(9, 6), NULL);
        p.variant = TC_VARIANT_GEMV;
        th_expect(ctx, tc_matmul(ctx, a9, b, c9, &p), TC_ERR_UNSUPPORTED, "M <= 8");
        tc_tensor_free(a9);
        tc_tensor_free(c9);
    }
    /* C aliasing A: a view of A used as C */
    tc_tensor *view = NULL;
    assert_int_equal(tc_tensor_reshape(a, 2, TH_DIMS(4, 5), &view), TC_OK);
    tc_tensor *sq = th_tensor(ctx, 2, TH_DIMS(5, 5), NULL);
    p = tc_matmul_defaults();
    th_expect(ctx, tc_matmul(ctx, a, sq, view, &p), TC_ERR_INVALID_ARG, "storage");
    assert_true(th_unchanged(c, hc));
    /* the bias a view of C (as conv2d and linear, refused) */
    float *hc1;
    tc_tensor *a1 = th_tensor(ctx, 2, TH_DIMS(1, 5), NULL), *c1 = th_tensor(ctx, 2, TH_DIMS(1, 6), &hc1), *bc = NULL;
    assert_int_equal(tc_tensor_reshape(c1, 1, TH_DIMS(6), &bc), TC_OK);
    p.bias = bc;
    th_expect(ctx, tc_matmul(ctx, a1, b, c1, &p), TC_ERR_INVALID_ARG, "bias");
    assert_true(th_unchanged(c1, hc1));
    tc_tensor_free(bc), tc_tensor_free(c1), tc_tensor_free(a1);
    free(hc1);

    /* the same inputs succeed afterwards */
    assert_int_equal(tc_matmul(ctx, a, b, c, NULL), TC_OK);
    assert_false(th_unchanged(c, hc));

    tc_tensor *all[] = {a, b, c, b_wrong_k, c_wrong, a3, bias_wrong, a_s8, view, sq};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(a_other);
    free(hc);
    assert_int_equal(tc_ctx_mem_current(ctx) - ctx->scratch_bytes[0] - ctx->scratch_bytes[1], 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

/* AUTO picks the memory-bound kernel for M <= 8 and a tiled one otherwise. */
static void test_matmul_auto_choice(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    if (tc_ctx_host_blas(ctx)) {
        assert_int_equal(tc_matmul_auto_variant(ctx, 1, 4096, 4096, 0, 0), TC_VARIANT_OPENBLAS);
        assert_int_equal(tc_matmul_auto_variant(ctx, 512, 512, 512, 1, 1), TC_VARIANT_OPENBLAS);
        /* beyond OpenBLAS's 32-bit extents the reference takes the call */
        assert_int_equal(tc_matmul_auto_variant(ctx, 2, INT64_C(1) << 31, 3, 0, 0), TC_VARIANT_REF);
    } else if (tc_ctx_is_ref(ctx)) {
        assert_int_equal(tc_matmul_auto_variant(ctx, 1, 4096, 4096, 0, 0), TC_VARIANT_REF);
    } else {
        assert_int_equal(tc_matmul_auto_variant(ctx, 1, 4096, 4096, 0, 0), TC_VARIANT_GEMV);
        tc_variant big = tc_matmul_auto_variant(ctx, 512, 512, 512, 0, 0);
        assert_int_equal(big, tc_ctx_device(ctx)->type == TC_DEVICE_CPU ? TC_VARIANT_CPU : TC_VARIANT_GPU);
    }
    tc_ctx_free(ctx);
}

/* Profiling counts calls, flops and bytes per (op, variant). */
static void test_matmul_profile(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_tensor *a = th_tensor(ctx, 2, TH_DIMS(33, 20), NULL), *b = th_tensor(ctx, 2, TH_DIMS(20, 10), NULL);
    tc_tensor *c = th_tensor(ctx, 2, TH_DIMS(33, 10), NULL);
    assert_int_equal(tc_matmul(ctx, a, b, c, NULL), TC_OK);
    assert_int_equal(tc_matmul(ctx, a, b, c, NULL), TC_OK);
    assert_int_equal(tc_prof_count(ctx), 1);
    tc_prof_stat st;
    assert_int_equal(tc_prof_get(ctx, 0, &st), TC_OK);
    assert_string_equal(st.op, "matmul");
    assert_int_equal(st.calls, 2);
    assert_true(st.flops == 2.0 * 2 * 33 * 10 * 20);
    assert_true(st.host_ms > 0);
    if (!tc_ctx_is_ref(ctx)) {
        assert_true(st.launches >= 2);
        tc_prof_info info;
        assert_int_equal(tc_prof_info_get(ctx, &info), TC_OK);
        assert_true(info.launches == st.launches && info.launches_logged == st.launches);
        tc_prof_launch l;
        assert_int_equal(tc_prof_get_launch(ctx, info.launches - 1, &l), TC_OK);
        assert_true(l.device_ms > 0);
        assert_string_equal(l.op, "matmul");
    }
    th_expect(ctx, tc_prof_get(ctx, 1, &st), TC_ERR_INVALID_ARG, "index");
    /* a NULL out: the message goes to the context, naming the call */
    th_expect(ctx, tc_prof_get(ctx, 0, NULL), TC_ERR_INVALID_ARG, "tc_prof_get: NULL argument");
    th_expect(ctx, tc_prof_get_launch(ctx, 0, NULL), TC_ERR_INVALID_ARG, "tc_prof_get_launch: NULL argument");
    th_expect(ctx, tc_prof_info_get(ctx, NULL), TC_ERR_INVALID_ARG, "tc_prof_info_get: NULL argument");
    tc_tensor_free(a);
    tc_tensor_free(b);
    tc_tensor_free(c);
    tc_ctx_free(ctx);
}

/* Host contexts: the variants there are (ref, and openblas on "openblas") on the
 * GEMV shapes OpenBLAS takes by cblas_sgemv (M or N of 1) and a GEMM, in every
 * transpose, with bias and ReLU, against the plain loops; with beta 0 C is not
 * read (it holds NaN), with beta 0.5 it is. */
static void test_matmul_host_shapes(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    if (!tc_ctx_is_ref(ctx)) {
        tc_ctx_free(ctx);
        skip();
    }
    static const int64_t shapes[][3] = {{1, 37, 50}, {37, 1, 50}, {1, 1, 9}, {20, 30, 17}};
    const int nvars = tc_ctx_host_blas(ctx) ? 2 : 1;
    const tc_variant vars[2] = {TC_VARIANT_REF, TC_VARIANT_OPENBLAS};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int t = 0; t < 8; t++) {
            const int64_t m = shapes[si][0], n = shapes[si][1], k = shapes[si][2];
            const int ta = t & 1, tb = (t >> 1) & 1, beta_on = t >> 2;
            float *ha, *hb, *hbias, *hc;
            tc_tensor *a = th_tensor(ctx, 2, ta ? TH_DIMS(k, m) : TH_DIMS(m, k), &ha);
            tc_tensor *b = th_tensor(ctx, 2, tb ? TH_DIMS(n, k) : TH_DIMS(k, n), &hb);
            tc_tensor *bias = th_tensor(ctx, 1, TH_DIMS(n), &hbias), *c = th_tensor(ctx, 2, TH_DIMS(m, n), &hc);
            if (!beta_on)
                for (int64_t i = 0; i < m * n; i++) hc[i] = NAN;
            float *want = malloc((size_t)(m * n) * sizeof *want);
            assert_non_null(want);
            memcpy(want, hc, (size_t)(m * n) * sizeof *want);
            const float beta = beta_on ? 0.5f : 0.0f;
            assert_int_equal(tc_ref_matmul(ha, hb, want, hbias, m, n, k, ta, tb, 1.5f, beta, 1), 0);
            for (int v = 0; v < nvars; v++) {
                assert_int_equal(tc_tensor_write(c, hc, (size_t)(m * n) * sizeof *hc), TC_OK);
                const tc_matmul_params p = {ta, tb, 1.5f, beta, bias, 1, vars[v]};
                if (tc_matmul(ctx, a, b, c, &p) != TC_OK) fail_msg("%s", tc_last_error(ctx));
                float *got = th_read(c);
                double maxref = 0, maxdiff = 0;
                for (int64_t i = 0; i < m * n; i++) {
                    maxref = fmax(maxref, fabs(want[i]));
                    maxdiff = isfinite(got[i]) ? fmax(maxdiff, fabs((double)got[i] - want[i])) : INFINITY;
                }
                if (!(maxdiff <= 1e-5 * maxref))
                    fail_msg("%s %lldx%lldx%lld ta %d tb %d beta %g: error %g of %g", tc_variant_name(vars[v]),
                             (long long)m, (long long)n, (long long)k, ta, tb, beta, maxdiff, maxref);
                free(got);
            }
            free(want), free(ha), free(hb), free(hbias), free(hc);
            tc_tensor_free(a), tc_tensor_free(b), tc_tensor_free(bias), tc_tensor_free(c);
        }
    tc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_all_variants),
        cmocka_unit_test(test_matmul_bad_input),
        cmocka_unit_test(test_matmul_auto_choice),
        cmocka_unit_test(test_matmul_host_shapes),
        cmocka_unit_test(test_matmul_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
