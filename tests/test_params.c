/* Kernel parameters: the table's values, overrides (API and TINYCL_PARAMS) that
 * reach the kernels and keep every op passing its checks, rejected overrides,
 * work-group sizes reduced to what a kernel takes, and the printed table. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static tc_status print_params(tc_ctx *ctx, FILE *f) { return tc_kernel_params_print(ctx, f); }

static char *printed(tc_ctx *ctx) { return th_printed(ctx, print_params); }

/* 1 when some program of ctx was built with options containing `opt`. */
static int built_with(const tc_ctx *ctx, const char *program, const char *opt)
{
    for (const tc_program *p = ctx->programs; p; p = p->next)
        if (strcmp(p->name, program) == 0 && strstr(p->options, opt)) return 1;
    return 0;
}

static void check_all(tc_ctx *ctx)
{
    int failures = -1;
    assert_int_equal(tc_check_run(ctx, NULL, TC_VARIANT_AUTO, th_seed(), NULL, NULL, &failures), TC_OK);
    assert_int_equal(failures, 0);
}

/* Every field changed from the table: the values reach the kernels and every op still passes. */
static void test_override_all(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const tc_params table = ctx->params;
    assert_int_equal(tc_kernel_params_set(ctx, " gemm.cpu_wg=2,gemm.cpu_kc=32, gemm.gpu_tile=16,gemm.gpu_wpt=2,"
                                               "gemv.wg=24,conv.gpu_tile=16,conv.gpu_wpt=2,conv.pixel_wg=32,"
                                               "eltwise.vw=2,rows.wg=32,pool.wg=8,embedding.vw=2,igemm.vnni=0,"
                                               "igemm.gpu=0,igemm.cpu_wg=4,igemm.gpu_tile=16,igemm.gpu_wpt=2,"
                                               "attention.cpu_wg=2,attention.gpu_wq=8,attention.gpu_tk=4,attention.dec_wg=8,"
                                               "attention.dec_tk=32,attention.split_keys=64,attention.split_groups=3,"
                                               "sparse.cpu_vw=4,sparse.cpu_rows=3,sparse.gpu_wg=32,"
                                               "sparse.breakeven_b1=10,sparse.breakeven_b32=20,sparse.conv_breakeven=30"),
                     TC_OK);
    assert_int_equal(tc_kernel_params_set(ctx, table.attention.dec_vec ? "attention.dec_vec=0" : "attention.dec_vec=1"),
                     TC_OK);
    assert_int_equal(tc_kernel_params_set(ctx, "conv.direct_wg="), TC_ERR_INVALID_ARG);
    assert_int_equal(tc_kernel_params_set(ctx, table.conv.direct_wg ? "conv.direct_wg=0" : "conv.direct_wg=1"), TC_OK);
    assert_int_equal(ctx->params.gemm.cpu_wg, 2);
    assert_int_equal(ctx->params.eltwise.vw, 2);
    assert_int_equal(ctx->params.conv.direct_wg, !table.conv.direct_wg);
    char *out = printed(ctx);
    assert_non_null(strstr(out, "eltwise.vw"));
    /* every value now comes from the override */
    assert_true(!strstr(out, "default row") && !strstr(out, "row '") && !strstr(out, "row any"));
    free(out);
    check_all(ctx);
    if (!tc_ctx_is_ref(ctx)) {
        assert_true(built_with(ctx, "eltwise", "-DVW=2"));
        assert_true(built_with(ctx, "embedding", "-DVW=2"));
        assert_true(built_with(ctx, "softmax", "-DWG=32"));
        assert_true(built_with(ctx, "matmul", "-DTS=16 -DWPT=2"));
        assert_true(built_with(ctx, "conv2d", "-DTS=16 -DWPT=2"));
        assert_true(built_with(ctx, "igemm", "-DTS=16 -DWPT=2"));
        assert_true(built_with(ctx, "attention", "-DWQ=8 -DTK=4 -DWD=8 -DTD=32"));
        assert_true(built_with(ctx, "sparse", "-DVW=4 -DNV=2 -DRPW=3"));
        assert_false(built_with(ctx, "eltwise", "-DVW=16"));
    }
    /* NULL: back to the table */
    assert_int_equal(tc_kernel_params_set(ctx, NULL), TC_OK);
    assert_memory_equal(&ctx->params, &table, sizeof table);
    tc_ctx_free(ctx);
}

static void test_bad_overrides(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const tc_params before = ctx->params;
    static const struct {
        const char *spec, *needle;
    } bad[] = {
        {"gemm.cpu_wg=8,gem.cpu_wg=8", "unknown family 'gem' (families: gemm, gemv"},
        {"gemm.cpu_wgx=8", "gemm has no field 'cpu_wgx' (fields: cpu_wg, cpu_kc"},
        {"gemm.cpu_wg=12", "gemm.cpu_wg=12: must be an integer in 1..1024, a power of two"},
        {"gemm.cpu_wg=0", "1..1024"},
        {"gemv.wg=2000", "1..1024"},
        {"eltwise.vw=4x", "eltwise.vw=4x: must be an integer"},
        {"eltwise.vw=99999999999999999999", "must be an integer"},
        {"eltwise.vw", "'eltwise.vw' is not family.field=value"},
        {"eltwise=4", "is not family.field=value"},
        {"gemm.gpu_tile=4,gemm.gpu_wpt=8", "gemm: gpu_wpt must not exceed gpu_tile"},
        {"conv.gpu_tile=128,conv.gpu_wpt=2", "conv: (gpu_tile / gpu_wpt)^2 work-items must be at most 1024"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        th_expect(ctx, tc_kernel_params_set(ctx, bad[i].spec), TC_ERR_INVALID_ARG, bad[i].needle);
        assert_memory_equal(&ctx->params, &before, sizeof before); /* nothing changed */
    }
    th_expect(NULL, tc_kernel_params_set(NULL, "gemm.cpu_wg=8"), TC_ERR_INVALID_ARG, "ctx");
    th_expect(NULL, tc_kernel_params_print(ctx, NULL), TC_ERR_INVALID_ARG, NULL);
    tc_ctx_free(ctx);
}

/* TINYCL_PARAMS applies to new contexts; a bad one makes tc_ctx_create fail and say why. */
static void test_environment(void **state)
{
    (void)state;
    setenv("TINYCL_PARAMS", "eltwise.vw=8, rows.wg=64", 1);
    tc_ctx *ctx = th_ctx();
    assert_int_equal(ctx->params.eltwise.vw, 8);
    assert_int_equal(ctx->params.rows.wg, 64);
    char *out = printed(ctx);
    assert_non_null(strstr(out, "TINYCL_PARAMS"));
    free(out);
    assert_int_equal(tc_kernel_params_set(ctx, "eltwise.vw=4"), TC_OK);
    assert_int_equal(tc_kernel_params_set(ctx, NULL), TC_OK); /* back to table + environment */
    assert_int_equal(ctx->params.eltwise.vw, 8);
    tc_ctx_free(ctx);
    th_expect_env_rejected("TINYCL_PARAMS", "rows.wg=48", 0,
                           "TINYCL_PARAMS: rows.wg=48: must be an integer in 1..1024, a power of two");
}

/* A work-group a kernel cannot take is reduced to what it takes, and the reason shows. */
static void test_fit(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    if (tc_ctx_is_ref(ctx)) {
        tc_ctx_free(ctx);
        skip();
    }
    cl_kernel k;
    assert_int_equal(tc_get_kernel(ctx, "matmul", "", "gemm_cpu", &k), TC_OK);
    const size_t max = tc_kernel_wg_max(ctx, k);
    assert_true(max >= 1 && max <= ctx->info.max_work_group);
    assert_int_equal(tc_fit_wg(ctx, k, "gemm_cpu", &ctx->params.gemm.cpu_wg, max, 1), max);
    char *out = printed(ctx);
    assert_null(strstr(out, "launched with"));
    free(out);
    const size_t got = tc_fit_wg(ctx, k, "gemm_cpu", &ctx->params.gemm.cpu_wg, 3 * max, 1);
    assert_true(got <= max && got > max / 2 && (got & (got - 1)) == 0);
    assert_int_equal(tc_fit_wg(ctx, k, "gemm_cpu", &ctx->params.gemv.wg, max + 1, 0), max);
    out = printed(ctx);
    char want[160];
    snprintf(want, sizeof want, "launched with %zu: CL_KERNEL_WORK_GROUP_SIZE of gemm_cpu is %zu (wanted %zu)", got,
             max, 3 * max);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "launched with"));
    free(out);
    tc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_override_all),
        cmocka_unit_test(test_bad_overrides),
        cmocka_unit_test(test_environment),
        cmocka_unit_test(test_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
