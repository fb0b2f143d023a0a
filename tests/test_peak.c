/* Device peaks: every metric measures (its kernels' results are checked inside
 * tc_peak_measure) with positive figures and the runs asked for; bad arguments
 * and `ref` are refused. */
#include <math.h>
#include <string.h>

#include "harness.h"

static void test_every_metric(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    static tc_peak_result r;
    if (tc_ctx_is_ref(ctx)) {
        th_expect(ctx, tc_peak_measure(ctx, TC_PEAK_READ_BW, 0, 2, &r), TC_ERR_UNSUPPORTED, "ref");
        tc_ctx_free(ctx);
        return;
    }
    const int widths[] = {1, 2, 4, 8, 16};
    for (int m = 0; m < TC_PEAK_COUNT; m++)
        for (int w = 0; w < (m == TC_PEAK_F32_FMA ? 5 : 1); w++) {
            const int width = m == TC_PEAK_F32_FMA ? widths[w] : 0;
            if (tc_peak_measure(ctx, (tc_peak_metric)m, width, 2, &r) != TC_OK)
                fail_msg("%s: %s", tc_peak_metric_name((tc_peak_metric)m), tc_last_error(ctx));
            assert_int_equal(r.metric, m);
            assert_int_equal(r.width, width);
            assert_true(isfinite(r.value) && r.value > 0);
            assert_non_null(r.unit);
            const int want_runs = m == TC_PEAK_LAUNCH_US ? 100 : 2;
            assert_int_equal(r.runs, want_runs);
            for (int i = 0; i < r.runs; i++) assert_true(r.samples_ms[i] > 0);
            assert_true(m == TC_PEAK_LAUNCH_US ? r.work == 0 : r.work > 0);
        }
    tc_ctx_free(ctx);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    static tc_peak_result r;
    th_expect(ctx, tc_peak_measure(ctx, TC_PEAK_F32_FMA, 3, 2, &r), TC_ERR_INVALID_ARG, "width 3");
    th_expect(ctx, tc_peak_measure(ctx, TC_PEAK_F32_FMA, 32, 2, &r), TC_ERR_INVALID_ARG, "width");
    th_expect(ctx, tc_peak_measure(ctx, TC_PEAK_READ_BW, 4, 2, &r), TC_ERR_INVALID_ARG, "width");
    th_expect(ctx, tc_peak_measure(ctx, TC_PEAK_READ_BW, 0, 0, &r), TC_ERR_INVALID_ARG, "runs");
    th_expect(ctx, tc_peak_measure(ctx, TC_PEAK_READ_BW, 0, TC_PEAK_MAX_RUNS + 1, &r), TC_ERR_INVALID_ARG, "runs");
    th_expect(ctx, tc_peak_measure(ctx, (tc_peak_metric)99, 0, 2, &r), TC_ERR_INVALID_ARG, "metric");
    th_expect(ctx, tc_peak_measure(ctx, TC_PEAK_READ_BW, 0, 2, NULL), TC_ERR_INVALID_ARG, NULL);
    assert_null(tc_peak_metric_name(TC_PEAK_COUNT));
    assert_string_equal(tc_peak_metric_name(TC_PEAK_LAUNCH_US), "launch_us");
    tc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_every_metric),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
