/* Sparse ops: every variant against the dense reference (descriptors), the formats'
 * contents and honest memory, AUTO's dense fallback below the breakeven, and bad
 * input that changes nothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_spmv_all_variants(void **state)
{
    (void)state;
    th_check_op("spmv");
}

static void test_spmm_all_variants(void **state)
{
    (void)state;
    th_check_op("spmm");
}

static void test_sparse_linear_all_variants(void **state)
{
    (void)state;
    th_check_op("sparse_linear");
}

static void test_sparse_conv2d_all_variants(void **state)
{
    (void)state;
    th_check_op("sparse_conv2d");
}

/* 5 x 8 with 6 non-zeros in known places */
static const float known[40] = {1, 0, 0, 0, 0, 0, 0, 2, /**/ 0, 0, 0, 0, 0, 0, 0, 0, /**/ 0, 3, 0, 0, 0, 0, 0, 0,
                                /**/ 0, 0, 0, 0, 4, 5, 0, 0, /**/ 0, 0, 0, 0, 0, 0, 0, 6};

/* Each format's bytes counted by hand, and its product with x = 1..8. */
static void test_sparse_formats_memory(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    static const struct {
        tc_sparse_format f;
        int64_t stored;
        size_t values, index, rowptr;
    } want[] = {{TC_SPARSE_CSR, 6, 24, 24, 24},
                {TC_SPARSE_BSR_1X4, 20, 80, 20, 24},
                {TC_SPARSE_BSR_1X8, 32, 128, 16, 24},
                {TC_SPARSE_BSR_4X4, 48, 192, 12, 12},
                {TC_SPARSE_AUTO, 6, 24, 24, 24}};
    const float hx[8] = {1, 2, 3, 4, 5, 6, 7, 8}, hy_want[5] = {17, 0, 6, 50, 48};
    tc_tensor *w = NULL, *x = NULL, *y = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(5, 8), known, &w), TC_OK);
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, TH_DIMS(8), hx, &x), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 1, TH_DIMS(5), &y), TC_OK);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const size_t mem = tc_ctx_mem_current(ctx);
        tc_sparse *a = NULL;
        tc_sparse_info info;
        assert_int_equal(tc_sparse_from_dense(ctx, w, want[i].f, &a), TC_OK);
        assert_int_equal(tc_sparse_info_get(a, &info), TC_OK);
        assert_int_equal(info.format, want[i].f == TC_SPARSE_AUTO ? TC_SPARSE_CSR : want[i].f);
        assert_int_equal(info.rows, 5);
        assert_int_equal(info.cols, 8);
        assert_int_equal(info.nnz, 6);
        assert_int_equal(info.stored, want[i].stored);
        assert_int_equal(info.values_bytes, want[i].values);
        assert_int_equal(info.index_bytes, want[i].index);
        assert_int_equal(info.rowptr_bytes, want[i].rowptr);
        assert_int_equal(info.total_bytes, want[i].values + want[i].index + want[i].rowptr);
        assert_int_equal(info.dense_bytes, 160);
        assert_int_equal(tc_ctx_mem_current(ctx) - mem, info.total_bytes); /* on the context, counted */
        assert_int_equal(tc_spmv(ctx, a, x, y, NULL), TC_OK);
        assert_true(th_unchanged(y, hy_want));
        tc_sparse_free(a);
        assert_int_equal(tc_ctx_mem_current(ctx), mem);
    }
    /* AUTO takes the block a block-pruned matrix fills; all-zero weights store nothing */
    float blocks[64] = {0}, none[12] = {0};
    for (int r = 4; r < 8; r++)
        for (int c = 0; c < 4; c++) blocks[r * 8 + c] = (float)(r + c + 1);
    tc_tensor *wb = NULL, *w0 = NULL;
    tc_sparse *ab = NULL, *a0 = NULL;
    tc_sparse_info ib, i0;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(8, 8), blocks, &wb), TC_OK);
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(3, 4), none, &w0), TC_OK);
    assert_int_equal(tc_sparse_from_dense(ctx, wb, TC_SPARSE_AUTO, &ab), TC_OK);
    assert_int_equal(tc_sparse_from_dense(ctx, w0, TC_SPARSE_AUTO, &a0), TC_OK);
    assert_int_equal(tc_sparse_info_get(ab, &ib), TC_OK);
    assert_int_equal(tc_sparse_info_get(a0, &i0), TC_OK);
    assert_int_equal(ib.format, TC_SPARSE_BSR_4X4);
    assert_int_equal(ib.stored, 16);
    assert_int_equal(i0.format, TC_SPARSE_CSR);
    assert_int_equal(i0.nnz, 0);
    assert_int_equal(i0.total_bytes, 16);
    tc_sparse_free(ab), tc_sparse_free(a0);
    tc_tensor_free(wb), tc_tensor_free(w0), tc_tensor_free(w), tc_tensor_free(x), tc_tensor_free(y);
    tc_ctx_free(ctx);
}

/* CSR arrays of `known` written by hand: from them, tc_sparse_from_csr gives the same
 * matrix as tc_sparse_from_dense (products and memory), on the device under test. */
static const int32_t known_rp[6] = {0, 2, 2, 3, 5, 6}, known_ci[6] = {0, 7, 1, 4, 5, 7};
static const float known_v[6] = {1, 2, 3, 4, 5, 6};

static void test_sparse_from_csr(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const size_t mem0 = th_tensor_mem(ctx);
    tc_sparse *a = NULL, *b = NULL;
    tc_tensor *w = NULL, *x = NULL, *ya = NULL, *yb = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(5, 8), known, &w), TC_OK);
    if (tc_sparse_from_csr(ctx, 5, 8, 6, known_rp, known_ci, known_v, &a) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    assert_int_equal(tc_sparse_from_dense(ctx, w, TC_SPARSE_CSR, &b), TC_OK);
    tc_sparse_info ia, ib;
    assert_int_equal(tc_sparse_info_get(a, &ia), TC_OK);
    assert_int_equal(tc_sparse_info_get(b, &ib), TC_OK);
    assert_int_equal(ia.format, ib.format);
    assert_int_equal(ia.nnz, ib.nnz);
    assert_int_equal(ia.stored, ib.stored);
    assert_int_equal(ia.rows * 100 + ia.cols, ib.rows * 100 + ib.cols);
    assert_int_equal(ia.total_bytes, ib.total_bytes);
    assert_int_equal(ia.index_bytes + ia.rowptr_bytes, ib.index_bytes + ib.rowptr_bytes);
    x = th_tensor(ctx, 2, TH_DIMS(3, 8), NULL);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(3, 5), &ya), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(3, 5), &yb), TC_OK);
    assert_int_equal(tc_spmm(ctx, a, x, ya, NULL), TC_OK);
    assert_int_equal(tc_spmm(ctx, b, x, yb, NULL), TC_OK);
    float *ha = th_read(ya), *hb = th_read(yb);
    assert_memory_equal(ha, hb, 15 * sizeof *ha);
    free(ha), free(hb);
    tc_sparse_free(a), tc_sparse_free(b);
    /* an empty matrix: no column indices or values needed */
    const int32_t zero_rp[3] = {0, 0, 0};
    assert_int_equal(tc_sparse_from_csr(ctx, 2, 3, 0, zero_rp, NULL, NULL, &a), TC_OK);
    assert_int_equal(tc_sparse_info_get(a, &ia), TC_OK);
    assert_int_equal(ia.nnz, 0);
    tc_sparse_free(a);

    /* bad arrays: refused before anything is allocated, *out NULL */
    const int32_t rp_down[6] = {0, 2, 1, 3, 5, 6}, rp_first[6] = {1, 2, 2, 3, 5, 6}, rp_short[6] = {0, 2, 2, 3, 5, 5};
    const int32_t rp_over[6] = {0, 2, 2, 3, 5, 7};
    const int32_t ci_out[6] = {0, 8, 1, 4, 5, 7}, ci_neg[6] = {0, 7, -1, 4, 5, 7}, ci_dup[6] = {0, 7, 1, 5, 5, 7};
    const int32_t ci_down[6] = {7, 0, 1, 4, 5, 7};
    const struct {
        int64_t rows, cols, nnz;
        const int32_t *rp, *ci;
        const float *v;
        const char *needle;
    } bad[] = {
        {5, 8, 6, known_rp, ci_out, known_v, "column index 1 (row 0) is 8, outside 0..7"},
        {5, 8, 6, known_rp, ci_neg, known_v, "column index 2 (row 2) is -1, outside 0..7"},
        {5, 8, 6, known_rp, ci_dup, known_v, "column index 4 (row 3) is 5 after 5: a row's columns must increase"},
        {5, 8, 6, known_rp, ci_down, known_v, "column index 1 (row 0) is 0 after 7"},
        {5, 8, 6, rp_down, known_ci, known_v, "row pointer 2 is 1 after 2: row pointers must not decrease"},
        {5, 8, 6, rp_first, known_ci, known_v, "row pointer 0 is 1, must be 0"},
        {5, 8, 6, rp_short, known_ci, known_v, "nnz mismatch: the last row pointer is 5, the arrays hold 6 values"},
        {5, 8, 6, rp_over, known_ci, known_v, "row pointer 5 is 7 after 5: row pointers must not decrease and stay within nnz 6"},
        {5, 8, 5, known_rp, known_ci, known_v, "row pointer 5 is 6 after 5"},
        {5, 8, 41, known_rp, known_ci, known_v, "nnz 41 outside 0..40"},
        {5, 8, -1, known_rp, known_ci, known_v, "nnz -1 outside"},
        {0, 8, 0, known_rp, known_ci, known_v, "0 x 8: rows and columns must be in 1.."},
        {5, (int64_t)INT32_MAX + 1, 6, known_rp, known_ci, known_v, "rows and columns must be in 1..2147483647"},
        {5, 8, 6, NULL, known_ci, known_v, "rowptr is NULL"},
        {5, 8, 6, known_rp, NULL, known_v, "rowptr, colidx or values is NULL"},
        {5, 8, 6, known_rp, known_ci, NULL, "rowptr, colidx or values is NULL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = (tc_sparse *)ctx;
        th_expect(ctx, tc_sparse_from_csr(ctx, bad[i].rows, bad[i].cols, bad[i].nnz, bad[i].rp, bad[i].ci, bad[i].v, &a),
                  TC_ERR_INVALID_ARG, bad[i].needle);
        assert_null(a);
    }
    th_expect(ctx, tc_sparse_from_csr(ctx, 5, 8, 6, known_rp, known_ci, known_v, NULL), TC_ERR_INVALID_ARG,
              "out is NULL");
    a = (tc_sparse *)ctx;
    assert_int_equal(tc_sparse_from_csr(NULL, 5, 8, 6, known_rp, known_ci, known_v, &a), TC_ERR_INVALID_ARG);
    assert_null(a);
    tc_tensor_free(w), tc_tensor_free(x), tc_tensor_free(ya), tc_tensor_free(yb);
    assert_int_equal(th_tensor_mem(ctx), mem0);
    tc_ctx_free(ctx);
}

static float *read_all(const tc_tensor *t)
{
    float *h = malloc(tc_tensor_bytes(t));
    assert_non_null(h);
    assert_int_equal(tc_tensor_read(t, h, tc_tensor_bytes(t)), TC_OK);
    return h;
}

/* The plan's output for batch b matches tc_linear on the same (pruned) weights. */
static void assert_plan_matches(tc_ctx *ctx, tc_sparse_linear_plan *plan, const tc_tensor *w, const tc_tensor *bias,
                                int64_t b)
{
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(b, tc_tensor_dim(w, 1)), NULL), *y = NULL, *y1 = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(b, tc_tensor_dim(w, 0)), &y), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(b, tc_tensor_dim(w, 0)), &y1), TC_OK);
    assert_int_equal(tc_sparse_linear_plan_run(plan, x, y), TC_OK);
    assert_int_equal(tc_linear(ctx, x, w, bias, y1, &(tc_linear_params){1, TC_VARIANT_AUTO}), TC_OK);
    float *got = read_all(y), *want = read_all(y1);
    for (int64_t i = 0; i < b * tc_tensor_dim(w, 0); i++)
        assert_true(fabsf(got[i] - want[i]) <= 1e-4f * (1 + fabsf(want[i])));
    free(got), free(want);
    tc_tensor_free(x), tc_tensor_free(y), tc_tensor_free(y1);
}

/* AUTO runs dense below each batch class's breakeven, sparse from it on. */
static void test_sparse_linear_auto_breakeven(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    assert_int_equal(tc_kernel_params_set(ctx, "sparse.breakeven_b1=60,sparse.breakeven_b32=30"), TC_OK);
    tc_tensor *w = th_tensor(ctx, 2, TH_DIMS(40, 64), NULL), *bias = th_tensor(ctx, 1, TH_DIMS(40), NULL);
    assert_int_equal(tc_prune_magnitude(ctx, w, 0.5, TC_PRUNE_ELEMENT), TC_OK);
    const tc_sparse_linear_params p = {1, TC_SPARSE_AUTO, TC_VARIANT_AUTO};
    tc_sparse_linear_plan *plan = NULL;
    assert_int_equal(tc_sparse_linear_plan_create(ctx, w, bias, &p, &plan), TC_OK);
    assert_true(fabs(tc_sparse_linear_plan_sparsity(plan) - 0.5) < 1e-12);
    assert_false(tc_sparse_linear_plan_is_sparse(plan, 1));
    assert_false(tc_sparse_linear_plan_is_sparse(plan, 8));
    assert_true(tc_sparse_linear_plan_is_sparse(plan, 9));
    const tc_variant dense = tc_ctx_is_ref(ctx) ? TC_VARIANT_REF : TC_VARIANT_GEMV;
    const tc_variant sparse = tc_ctx_is_ref(ctx) ? TC_VARIANT_REF
                              : tc_ctx_device(ctx)->type == TC_DEVICE_CPU ? TC_VARIANT_CPU
                                                                           : TC_VARIANT_GPU;
    assert_int_equal(tc_sparse_linear_plan_variant(plan, 1), dense);
    assert_int_equal(tc_sparse_linear_plan_variant(plan, 32), sparse);
    tc_sparse_info info;
    assert_int_equal(tc_sparse_linear_plan_info(plan, &info), TC_OK);
    assert_int_equal(info.nnz, 40 * 32);
    assert_plan_matches(ctx, plan, w, bias, 1);
    assert_plan_matches(ctx, plan, w, bias, 32);
    tc_sparse_linear_plan_free(plan);
    /* below both breakevens: dense only, no sparse matrix */
    assert_int_equal(tc_kernel_params_set(ctx, "sparse.breakeven_b32=51"), TC_OK);
    assert_int_equal(tc_sparse_linear_plan_create(ctx, w, bias, &p, &plan), TC_OK);
    assert_false(tc_sparse_linear_plan_is_sparse(plan, 32));
    assert_int_equal(tc_sparse_linear_plan_info(plan, &info), TC_OK);
    assert_int_equal(info.total_bytes, 0);
    assert_plan_matches(ctx, plan, w, bias, 20);
    tc_sparse_linear_plan_free(plan);
    /* a variant named: always sparse */
    const tc_sparse_linear_params ps = {1, TC_SPARSE_CSR, sparse};
    assert_int_equal(tc_sparse_linear_plan_create(ctx, w, bias, &ps, &plan), TC_OK);
    assert_true(tc_sparse_linear_plan_is_sparse(plan, 1) && tc_sparse_linear_plan_is_sparse(plan, 100));
    assert_plan_matches(ctx, plan, w, bias, 3);
    tc_sparse_linear_plan_free(plan);
    assert_false(tc_sparse_linear_plan_is_sparse(NULL, 1));
    assert_int_equal(tc_sparse_linear_plan_variant(NULL, 1), TC_VARIANT_AUTO);
    tc_tensor_free(w), tc_tensor_free(bias);
    assert_int_equal(tc_ctx_mem_current(ctx) - ctx->scratch_bytes[0] - ctx->scratch_bytes[1] - ctx->scratch_bytes[2],
                     0);
    tc_ctx_free(ctx);
}

static void test_sparse_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    float *hy;
    tc_tensor *w = th_tensor(ctx, 2, TH_DIMS(6, 5), NULL), *x = th_tensor(ctx, 2, TH_DIMS(3, 5), NULL);
    tc_tensor *y = th_tensor(ctx, 2, TH_DIMS(3, 6), &hy), *x7 = th_tensor(ctx, 2, TH_DIMS(3, 7), NULL);
    tc_tensor *y5 = th_tensor(ctx, 2, TH_DIMS(3, 5), NULL), *bias5 = th_tensor(ctx, 1, TH_DIMS(5), NULL);
    tc_tensor *x1 = th_tensor(ctx, 1, TH_DIMS(5), NULL), *w3 = th_tensor(ctx, 3, TH_DIMS(2, 3, 5), NULL);
    tc_tensor *w_other = th_tensor(other, 2, TH_DIMS(6, 5), NULL), *w_s8 = NULL, *y_on_x = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 2, TH_DIMS(6, 5), &w_s8), TC_OK);
    assert_int_equal(tc_tensor_reshape(x, 2, TH_DIMS(3, 5), &y_on_x), TC_OK);
    tc_sparse *a = (tc_sparse *)1, *a_other = NULL;
    th_expect(NULL, tc_sparse_from_dense(NULL, w, TC_SPARSE_CSR, &a), TC_ERR_INVALID_ARG, "ctx is NULL");
    th_expect(ctx, tc_sparse_from_dense(ctx, w, TC_SPARSE_CSR, NULL), TC_ERR_INVALID_ARG, "out is NULL");
    th_expect(ctx, tc_sparse_from_dense(ctx, NULL, TC_SPARSE_CSR, &a), TC_ERR_INVALID_ARG, "w is NULL");
    assert_null(a);
    th_expect(ctx, tc_sparse_from_dense(ctx, w3, TC_SPARSE_CSR, &a), TC_ERR_SHAPE, "w has 3 dimensions");
    th_expect(ctx, tc_sparse_from_dense(ctx, w_s8, TC_SPARSE_CSR, &a), TC_ERR_DTYPE, "w is s8");
    th_expect(ctx, tc_sparse_from_dense(ctx, w_other, TC_SPARSE_CSR, &a), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_sparse_from_dense(ctx, w, (tc_sparse_format)42, &a), TC_ERR_INVALID_ARG,
              "invalid sparse format 42");
    th_expect(ctx, tc_sparse_from_dense(ctx, w, TC_SPARSE_BSR_1X4, &a), TC_ERR_SHAPE,
              "bsr1x4 needs the 5 columns to be a multiple of 4");
    tc_sparse_format f;
    th_expect(NULL, tc_sparse_format_parse("bsr2x2", &f), TC_ERR_INVALID_ARG, "unknown sparse format 'bsr2x2'");
    assert_int_equal(tc_sparse_from_dense(ctx, w, TC_SPARSE_CSR, &a), TC_OK);
    assert_int_equal(tc_sparse_from_dense(other, w_other, TC_SPARSE_CSR, &a_other), TC_OK);
    tc_sparse_info info;
    th_expect(ctx, tc_sparse_info_get(a, NULL), TC_ERR_INVALID_ARG, "NULL argument");

    const tc_spmm_params p = tc_spmm_defaults();
    th_expect(NULL, tc_spmm(NULL, a, x, y, &p), TC_ERR_INVALID_ARG, "spmm: ctx is NULL");
    th_expect(ctx, tc_spmm(ctx, NULL, x, y, &p), TC_ERR_INVALID_ARG, "spmm: a is NULL");
    th_expect(ctx, tc_spmm(ctx, a_other, x, y, &p), TC_ERR_CONTEXT, "a belongs to another context");
    th_expect(ctx, tc_spmm(ctx, a, x7, y, &p), TC_ERR_SHAPE, "x has 7 features, the matrix 5 columns");
    th_expect(ctx, tc_spmm(ctx, a, x, y5, &p), TC_ERR_SHAPE, "y has 3 x 5 elements, expected 3 x 6");
    th_expect(ctx, tc_spmm(ctx, a, x1, y, &p), TC_ERR_SHAPE, "x has 1 dimensions, expected 2");
    th_expect(ctx, tc_spmv(ctx, a, x, y, &p), TC_ERR_SHAPE, "spmv: x has 2 dimensions, expected 1");
    th_expect(ctx, tc_spmm(ctx, a, x, y, &(tc_spmm_params){bias5, 0, TC_VARIANT_AUTO}), TC_ERR_SHAPE,
              "bias has 5 elements, expected 6");
    th_expect(ctx, tc_spmm(ctx, a, x, y_on_x, &p), TC_ERR_SHAPE, "y has 3 x 5");
    th_expect(ctx, tc_spmm(ctx, a, x, y, &(tc_spmm_params){NULL, 0, (tc_variant)77}), TC_ERR_INVALID_ARG,
              "invalid variant 77");
    th_expect(ctx, tc_spmm(ctx, a, x, y, &(tc_spmm_params){NULL, 0, TC_VARIANT_CLBLAST}), TC_ERR_UNSUPPORTED,
              "spmm has no variant 'clblast'");
    if (tc_ctx_is_ref(ctx))
        th_expect(ctx, tc_spmm(ctx, a, x, y, &(tc_spmm_params){NULL, 0, TC_VARIANT_CPU}), TC_ERR_UNSUPPORTED,
                  "needs an OpenCL device");
    assert_true(th_unchanged(y, hy));
    /* y on x's storage */
    tc_tensor *xy = th_tensor(ctx, 1, TH_DIMS(30), NULL), *xv = NULL, *yv = NULL;
    assert_int_equal(tc_tensor_view(xy, 0, 2, TH_DIMS(3, 5), &xv), TC_OK);
    assert_int_equal(tc_tensor_view(xy, 10, 2, TH_DIMS(3, 6), &yv), TC_OK);
    th_expect(ctx, tc_spmm(ctx, a, xv, yv, &p), TC_ERR_INVALID_ARG, "y must not share storage with x");
    assert_int_equal(tc_spmm(ctx, a, x, y, &p), TC_OK);
    assert_false(th_unchanged(y, hy));

    /* plans */
    tc_sparse_linear_plan *lp = (tc_sparse_linear_plan *)1;
    th_expect(NULL, tc_sparse_linear_plan_create(NULL, w, NULL, NULL, &lp), TC_ERR_INVALID_ARG, "ctx is NULL");
    th_expect(ctx, tc_sparse_linear_plan_create(ctx, w, NULL, NULL, NULL), TC_ERR_INVALID_ARG, "out is NULL");
    th_expect(ctx, tc_sparse_linear_plan_create(ctx, w, bias5, NULL, &lp), TC_ERR_SHAPE, "bias has 5 elements");
    assert_null(lp);
    th_expect(ctx, tc_sparse_linear_plan_create(ctx, w, NULL, &(tc_sparse_linear_params){0, 9, TC_VARIANT_AUTO}, &lp),
              TC_ERR_INVALID_ARG, "invalid sparse format 9");
    th_expect(ctx, tc_sparse_linear_plan_create(ctx, w, NULL, &(tc_sparse_linear_params){0, 0, TC_VARIANT_GEMV}, &lp),
              TC_ERR_UNSUPPORTED, "has no variant 'gemv'");
    th_expect(ctx,
              tc_sparse_linear_plan_create(ctx, w, NULL,
                                           &(tc_sparse_linear_params){0, TC_SPARSE_BSR_1X8, TC_VARIANT_REF}, &lp),
              TC_ERR_SHAPE, "bsr1x8 needs the 5 columns");
    assert_int_equal(tc_sparse_linear_plan_create(ctx, w, NULL, &(tc_sparse_linear_params){0, 0, TC_VARIANT_REF}, &lp),
                     TC_OK);
    th_expect(NULL, tc_sparse_linear_plan_run(NULL, x, y), TC_ERR_INVALID_ARG, "plan is NULL");
    th_expect(ctx, tc_sparse_linear_plan_run(lp, x7, y), TC_ERR_SHAPE, "x has 7 features");
    th_expect(ctx, tc_sparse_linear_plan_run(lp, x, y5), TC_ERR_SHAPE, "y is 3x5, expected 3x6");
    th_expect(NULL, tc_sparse_linear_plan_info(NULL, &info), TC_ERR_INVALID_ARG, "plan is NULL");
    th_expect(ctx, tc_sparse_linear_plan_info(lp, NULL), TC_ERR_INVALID_ARG, "out is NULL");
    tc_sparse_linear_plan_free(lp);

    tc_tensor *cw = th_tensor(ctx, 4, TH_DIMS(4, 2, 2, 2), NULL), *cx = th_tensor(ctx, 4, TH_DIMS(1, 4, 5, 5), NULL);
    tc_tensor *cy = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 4, TH_DIMS(1, 4, 4, 4), &cy), TC_OK);
    tc_conv2d_params cp = tc_conv2d_defaults();
    cp.groups = 2;
    tc_sparse_conv2d_plan *sc = (tc_sparse_conv2d_plan *)1;
    th_expect(ctx, tc_sparse_conv2d_plan_create(ctx, cw, TH_DIMS(4, 5, 5), &cp, TC_SPARSE_BSR_4X4, &sc), TC_ERR_SHAPE,
              "rows per group (2) to be a multiple of 4");
    assert_null(sc);
    cp.variant = TC_VARIANT_IM2COL;
    th_expect(ctx, tc_sparse_conv2d_plan_create(ctx, cw, TH_DIMS(4, 5, 5), &cp, TC_SPARSE_CSR, &sc), TC_ERR_UNSUPPORTED,
              "has no variant 'im2col'");
    cp.variant = TC_VARIANT_AUTO;
    th_expect(ctx, tc_sparse_conv2d_plan_create(ctx, cw, TH_DIMS(3, 5, 5), &cp, TC_SPARSE_CSR, &sc), TC_ERR_SHAPE,
              "groups 2 must divide C = 3");
    assert_int_equal(tc_sparse_conv2d_plan_create(ctx, cw, TH_DIMS(4, 5, 5), &cp, TC_SPARSE_CSR, &sc), TC_OK);
    th_expect(ctx, tc_sparse_conv2d_plan_run(sc, cx, y), TC_ERR_SHAPE, "y has 2 dimensions, expected 4");
    th_expect(NULL, tc_sparse_conv2d_plan_run(NULL, cx, cy), TC_ERR_INVALID_ARG, "plan is NULL");
    assert_int_equal(tc_sparse_conv2d_plan_run(sc, cx, cy), TC_OK);
    tc_sparse_conv2d_plan_free(sc);

    tc_sparse_free(a), tc_sparse_free(a_other);
    tc_tensor *all[] = {w, x, y, x7, y5, bias5, x1, w3, w_s8, y_on_x, xy, xv, yv, cw, cx, cy};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(w_other);
    free(hy);
    assert_int_equal(tc_ctx_mem_current(ctx) - ctx->scratch_bytes[2] - ctx->scratch_bytes[3], 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spmv_all_variants),          cmocka_unit_test(test_spmm_all_variants),
        cmocka_unit_test(test_sparse_linear_all_variants), cmocka_unit_test(test_sparse_conv2d_all_variants),
        cmocka_unit_test(test_sparse_formats_memory),      cmocka_unit_test(test_sparse_linear_auto_breakeven),
        cmocka_unit_test(test_sparse_bad_input),           cmocka_unit_test(test_sparse_from_csr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
