/* embedding: every variant against ref, bad input, ids out of range. */
#include <stdlib.h>

#include "harness.h"

static void test_embedding_all_variants(void **state)
{
    (void)state;
    th_check_op("embedding");
}

static tc_tensor *ids_tensor(tc_ctx *ctx, int ndim, const int64_t *dims, const int32_t *ids)
{
    tc_tensor *t = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_S32, ndim, dims, ids, &t), TC_OK);
    return t;
}

static void test_embedding_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    float *hy;
    const int32_t good[6] = {0, 4, 4, 1, 2, 3}, low[6] = {0, 1, -1, 2, 3, 4}, high[6] = {0, 1, 2, 3, 4, 5};
    tc_tensor *table = th_tensor(ctx, 2, TH_DIMS(5, 8), NULL), *y = th_tensor(ctx, 3, TH_DIMS(2, 3, 8), &hy);
    tc_tensor *ids = ids_tensor(ctx, 2, TH_DIMS(2, 3), good), *ids_low = ids_tensor(ctx, 2, TH_DIMS(2, 3), low);
    tc_tensor *ids_high = ids_tensor(ctx, 2, TH_DIMS(2, 3), high), *ids_f32 = th_tensor(ctx, 2, TH_DIMS(2, 3), NULL);
    tc_tensor *table3 = th_tensor(ctx, 3, TH_DIMS(1, 5, 8), NULL), *y_flat = th_tensor(ctx, 2, TH_DIMS(6, 8), NULL);
    tc_tensor *table_other = th_tensor(other, 2, TH_DIMS(5, 8), NULL), *y_view = NULL;
    tc_tensor *ids4 = ids_tensor(ctx, 4, TH_DIMS(1, 2, 3, 1), good), *big = th_tensor(ctx, 2, TH_DIMS(6, 8), NULL);
    assert_int_equal(tc_tensor_reshape(big, 3, TH_DIMS(2, 3, 8), &y_view), TC_OK);

    th_expect(NULL, tc_embedding(NULL, table, ids, y, NULL), TC_ERR_INVALID_ARG, "embedding: ctx is NULL");
    th_expect(ctx, tc_embedding(ctx, NULL, ids, y, NULL), TC_ERR_INVALID_ARG, "embedding: table is NULL");
    th_expect(ctx, tc_embedding(ctx, table, NULL, y, NULL), TC_ERR_INVALID_ARG, "embedding: ids is NULL");
    th_expect(ctx, tc_embedding(ctx, table, ids, NULL, NULL), TC_ERR_INVALID_ARG, "embedding: y is NULL");
    th_expect(ctx, tc_embedding(ctx, table, ids_low, y, NULL), TC_ERR_INVALID_ARG, "id -1 at position 2 is outside [0, 5)");
    th_expect(ctx, tc_embedding(ctx, table, ids_high, y, NULL), TC_ERR_INVALID_ARG, "id 5 at position 5");
    th_expect(ctx, tc_embedding(ctx, table, ids_f32, y, NULL), TC_ERR_DTYPE, "ids is f32, expected s32");
    th_expect(ctx, tc_embedding(ctx, table3, ids, y, NULL), TC_ERR_SHAPE, "table has 3 dimensions");
    th_expect(ctx, tc_embedding(ctx, table, ids, y_flat, NULL), TC_ERR_SHAPE, "y is 6x8, expected 2x3x8");
    th_expect(ctx, tc_embedding(ctx, table, ids4, y, NULL), TC_ERR_SHAPE, "at most 4");
    th_expect(ctx, tc_embedding(ctx, table_other, ids, y, NULL), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_embedding(ctx, big, ids, y_view, NULL), TC_ERR_INVALID_ARG, "share storage with table");
    assert_true(th_unchanged(y, hy));

    /* repeated ids copy the same row */
    assert_int_equal(tc_embedding(ctx, table, ids, y, NULL), TC_OK);
    float got[2 * 3 * 8];
    assert_int_equal(tc_tensor_read(y, got, sizeof got), TC_OK);
    assert_memory_equal(got + 8, got + 16, 8 * sizeof(float));

    tc_tensor *all[] = {table, y, ids, ids_low, ids_high, ids_f32, table3, y_flat, ids4, y_view, big};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(table_other);
    free(hy);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedding_all_variants),
        cmocka_unit_test(test_embedding_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
