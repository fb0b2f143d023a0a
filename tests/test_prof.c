/* Profiling: statistics, the launch log and its cap, nested ops and user scopes,
 * the Chrome trace (parsed with json-c), errors, and CLBlast's shared cache. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static tc_prof_stat stat_of(tc_ctx *ctx, const char *op, const char *variant)
{
    tc_prof_stat s;
    for (int i = 0; i < tc_prof_count(ctx); i++) {
        assert_int_equal(tc_prof_get(ctx, i, &s), TC_OK);
        if (strcmp(s.op, op) == 0 && (!variant || strcmp(s.variant, variant) == 0)) return s;
    }
    fail_msg("no statistics row %s/%s", op, variant ? variant : "*");
    return s;
}

/* The trace as a json-c object (NULL when it does not parse). */
static json_object *trace_of(tc_ctx *ctx)
{
    char *buf = th_printed(ctx, tc_prof_write_trace);
    enum json_tokener_error err;
    json_object *j = json_tokener_parse_verbose(buf, &err);
    if (!j) fail_msg("trace is not JSON (%s):\n%s", json_tokener_error_desc(err), buf);
    free(buf);
    return j;
}

static const char *str_of(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static double num_of(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v)) fail_msg("event without '%s'", key);
    return json_object_get_double(v);
}

/* Complete slices of category cat (and name, if given) in the trace. */
static int count_slices(json_object *trace, const char *cat, const char *name)
{
    json_object *ev;
    assert_true(json_object_object_get_ex(trace, "traceEvents", &ev));
    int n = 0;
    for (size_t i = 0; i < json_object_array_length(ev); i++) {
        json_object *e = json_object_array_get_idx(ev, i);
        if (strcmp(str_of(e, "ph"), "X") != 0 || strcmp(str_of(e, "cat"), cat) != 0) continue;
        if (name && strcmp(str_of(e, "name"), name) != 0) continue;
        assert_true(num_of(e, "dur") >= 0);
        n++;
    }
    return n;
}

static json_object *slice_named(json_object *trace, const char *name)
{
    json_object *ev;
    assert_true(json_object_object_get_ex(trace, "traceEvents", &ev));
    for (size_t i = 0; i < json_object_array_length(ev); i++) {
        json_object *e = json_object_array_get_idx(ev, i);
        if (strcmp(str_of(e, "name"), name) == 0) return e;
    }
    fail_msg("no slice '%s' in the trace", name);
    return NULL;
}

/* Ops inside nested user scopes: every launch is one slice on the device track,
 * op slices match the calls, scopes nest, a scope's statistics include its ops. */
static void test_trace(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const int cl = !tc_ctx_is_ref(ctx);
    tc_tensor *a = th_tensor(ctx, 2, TH_DIMS(33, 20), NULL), *b = th_tensor(ctx, 2, TH_DIMS(20, 10), NULL);
    tc_tensor *c = th_tensor(ctx, 2, TH_DIMS(33, 10), NULL), *y = th_tensor(ctx, 2, TH_DIMS(33, 10), NULL);
    tc_matmul_params mp = tc_matmul_defaults();
    assert_int_equal(tc_prof_scope_begin(ctx, "outer \"scope\"\n"), TC_OK);
    assert_int_equal(tc_matmul(ctx, a, b, c, NULL), TC_OK);
    assert_int_equal(tc_prof_scope_begin(ctx, "inner"), TC_OK);
    assert_int_equal(tc_softmax(ctx, c, y, NULL), TC_OK);
    mp.variant = cl ? TC_VARIANT_CLBLAST : TC_VARIANT_REF;
    assert_int_equal(tc_matmul(ctx, a, b, c, &mp), TC_OK);
    assert_int_equal(tc_prof_scope_end(ctx), TC_OK);
    assert_int_equal(tc_prof_scope_end(ctx), TC_OK);
    assert_int_equal(tc_relu(ctx, c, y, NULL), TC_OK); /* outside any scope */

    tc_prof_info info;
    assert_int_equal(tc_prof_info_get(ctx, &info), TC_OK);
    assert_int_equal(info.open_scopes, 0);
    assert_true(info.scopes == 6 && info.scopes_logged == 6);
    uint64_t launches = 0, calls = 0;
    double device_ms = 0;
    tc_prof_stat s;
    for (int i = 0; i < tc_prof_count(ctx); i++) {
        assert_int_equal(tc_prof_get(ctx, i, &s), TC_OK);
        if (strcmp(s.variant, "scope") == 0) continue;
        launches += s.launches, calls += s.calls, device_ms += s.device_ms;
    }
    assert_int_equal(calls, 4);
    assert_true(info.launches == launches && info.launches_logged == launches);
    assert_true(cl ? launches >= 4 : launches == 0);
    /* scopes are inclusive: outer holds both matmuls and the softmax, not the relu */
    tc_prof_stat outer = stat_of(ctx, "outer \"scope\"\n", "scope"), inner = stat_of(ctx, "inner", "scope");
    tc_prof_stat relu = stat_of(ctx, "relu", NULL);
    assert_int_equal(outer.calls, 1);
    assert_int_equal(outer.launches, launches - relu.launches);
    assert_true(inner.launches < outer.launches || !cl);
    assert_true(outer.host_ms >= inner.host_ms && inner.host_ms > 0);
    const double want = device_ms - relu.device_ms;
    assert_true(outer.device_ms >= 0.999 * want && outer.device_ms <= 1.001 * want + 1e-9);

    json_object *t = trace_of(ctx);
    assert_int_equal(count_slices(t, "launch", NULL), (int)launches);
    assert_int_equal(count_slices(t, "op", NULL), 4);
    assert_int_equal(count_slices(t, "op", "matmul"), 2);
    assert_int_equal(count_slices(t, "scope", NULL), 2);
    if (cl) assert_int_equal(count_slices(t, "launch", "CLBlastSgemm"), 1);
    /* inner lies within outer; the names came back through JSON escaping */
    json_object *o = slice_named(t, "outer \"scope\"\n"), *in = slice_named(t, "inner");
    assert_true(num_of(in, "ts") >= num_of(o, "ts"));
    assert_true(num_of(in, "ts") + num_of(in, "dur") <= num_of(o, "ts") + num_of(o, "dur") + 1e-3);
    json_object *other;
    assert_true(json_object_object_get_ex(t, "otherData", &other));
    assert_string_equal(str_of(other, "capped"), "false");
    json_object_put(t);

    /* launches in the log carry their op and device time */
    for (uint64_t i = 0; i < info.launches_logged; i++) {
        tc_prof_launch l;
        assert_int_equal(tc_prof_get_launch(ctx, i, &l), TC_OK);
        assert_true(strlen(l.kernel) > 0 && strlen(l.op) > 0);
        assert_true(l.device_ms >= 0 && l.start_ms >= 0);
    }
    tc_prof_launch l;
    th_expect(ctx, tc_prof_get_launch(ctx, info.launches_logged, &l), TC_ERR_INVALID_ARG, "index");
    tc_tensor_free(a);
    tc_tensor_free(b);
    tc_tensor_free(c);
    tc_tensor_free(y);
    tc_ctx_free(ctx);
}

/* An op that calls another: launches and device time go to the inner op; the
 * outer's host time includes the inner's. */
static void test_nested_ops(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const tc_variant outer_v = tc_ctx_is_ref(ctx) ? TC_VARIANT_REF : TC_VARIANT_OPENCL;
    tc_tensor *a = th_tensor(ctx, 2, TH_DIMS(64, 64), NULL), *b = th_tensor(ctx, 2, TH_DIMS(64, 64), NULL);
    tc_tensor *c = th_tensor(ctx, 2, TH_DIMS(64, 64), NULL);
    for (int i = 0; i < 3; i++) {
        tc_op_begin(ctx, "outer_op", outer_v, 1.0, 2.0);
        assert_int_equal(tc_matmul(ctx, a, b, c, NULL), TC_OK);
        assert_int_equal(tc_matmul(ctx, a, b, c, NULL), TC_OK);
        assert_int_equal(tc_op_end(ctx, TC_OK), TC_OK);
    }
    tc_op_begin(ctx, "outer_op", outer_v, 1.0, 2.0); /* a failed call is not counted */
    assert_int_equal(tc_op_end(ctx, TC_ERR_SHAPE), TC_ERR_SHAPE);
    tc_prof_stat outer = stat_of(ctx, "outer_op", NULL), mm = stat_of(ctx, "matmul", NULL);
    assert_int_equal(outer.calls, 3);
    assert_true(outer.flops == 3.0 && outer.bytes == 6.0);
    assert_int_equal(mm.calls, 6);
    assert_int_equal(outer.launches, 0);
    assert_true(tc_ctx_is_ref(ctx) ? mm.launches == 0 : mm.launches >= 6);
    assert_true(outer.host_ms >= mm.host_ms);
    /* on ref an op's device time is its own host time: the nested matmuls' is not counted twice */
    assert_true(outer.device_ms <= outer.host_ms - mm.host_ms + 1e-6);
    json_object *t = trace_of(ctx);
    assert_int_equal(count_slices(t, "op", "outer_op"), 3);
    assert_int_equal(count_slices(t, "op", "matmul"), 6);
    json_object_put(t);
    tc_tensor_free(a);
    tc_tensor_free(b);
    tc_tensor_free(c);
    tc_ctx_free(ctx);
}

/* The logs stop at TINYCL_PROF_MAX_LAUNCHES and say so; statistics stay complete. */
static void test_cap(void **state)
{
    (void)state;
    setenv("TINYCL_PROF_MAX_LAUNCHES", "3", 1);
    tc_ctx *ctx = th_ctx();
    unsetenv("TINYCL_PROF_MAX_LAUNCHES");
    tc_tensor *a = th_tensor(ctx, 2, TH_DIMS(33, 20), NULL), *b = th_tensor(ctx, 2, TH_DIMS(20, 10), NULL);
    tc_tensor *c = th_tensor(ctx, 2, TH_DIMS(33, 10), NULL);
    for (int i = 0; i < 5; i++)
        assert_int_equal(tc_matmul(ctx, a, b, c, NULL), TC_OK);
    tc_prof_info info;
    assert_int_equal(tc_prof_info_get(ctx, &info), TC_OK);
    tc_prof_stat mm = stat_of(ctx, "matmul", NULL);
    assert_int_equal(info.max_log, 3);
    assert_int_equal(mm.calls, 5);
    assert_true(info.scopes == 5 && info.scopes_logged == 3);
    assert_true(info.launches == mm.launches && info.launches_logged == (mm.launches < 3 ? mm.launches : 3));
    json_object *t = trace_of(ctx);
    assert_int_equal(count_slices(t, "op", NULL), 3);
    assert_int_equal(count_slices(t, "launch", NULL), (int)info.launches_logged);
    json_object *other;
    assert_true(json_object_object_get_ex(t, "otherData", &other));
    assert_string_equal(str_of(other, "capped"), "true");
    json_object_put(t);
    char *buf = th_printed(ctx, tc_prof_report);
    assert_non_null(strstr(buf, "log capped at 3"));
    free(buf);
    tc_tensor_free(a);
    tc_tensor_free(b);
    tc_tensor_free(c);
    tc_ctx_free(ctx);

    th_expect_env_rejected("TINYCL_PROF_MAX_LAUNCHES", "12x", TC_CTX_PROFILE, "TINYCL_PROF_MAX_LAUNCHES='12x'");
}

/* More rows than the old fixed table held; reset forgets them but for open scopes. */
static void test_many_rows_and_reset(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    for (int i = 0; i < 100; i++) {
        char name[16];
        snprintf(name, sizeof name, "scope%d", i);
        assert_int_equal(tc_prof_scope_begin(ctx, name), TC_OK);
        assert_int_equal(tc_prof_scope_end(ctx), TC_OK);
    }
    assert_int_equal(tc_prof_count(ctx), 100);
    assert_int_equal(stat_of(ctx, "scope99", "scope").calls, 1);
    assert_int_equal(tc_prof_scope_begin(ctx, "open"), TC_OK);
    tc_prof_reset(ctx);
    assert_int_equal(tc_prof_count(ctx), 1); /* the open scope's row */
    tc_op_begin(ctx, "inner_op", TC_VARIANT_REF, 1.0, 1.0);
    assert_int_equal(tc_op_end(ctx, TC_OK), TC_OK);
    assert_int_equal(tc_prof_scope_end(ctx), TC_OK); /* still open after the reset */
    assert_int_equal(tc_prof_count(ctx), 2);
    assert_int_equal(stat_of(ctx, "open", "scope").calls, 1);
    assert_int_equal(stat_of(ctx, "inner_op", NULL).calls, 1);
    tc_prof_info info;
    assert_int_equal(tc_prof_info_get(ctx, &info), TC_OK);
    assert_true(info.scopes == 1 && info.launches == 0); /* inner_op; "open" began before the reset */
    tc_ctx_free(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    th_expect(ctx, tc_prof_scope_end(ctx), TC_ERR_INVALID_ARG, "no user scope is open");
    th_expect(ctx, tc_prof_scope_begin(ctx, NULL), TC_ERR_INVALID_ARG, "name");
    th_expect(ctx, tc_prof_scope_begin(ctx, ""), TC_ERR_INVALID_ARG, "name");
    th_expect(NULL, tc_prof_scope_begin(NULL, "x"), TC_ERR_INVALID_ARG, "ctx");
    th_expect(ctx, tc_prof_get(ctx, 0, NULL), TC_ERR_INVALID_ARG, NULL);
    tc_prof_stat s;
    th_expect(ctx, tc_prof_get(ctx, 0, &s), TC_ERR_INVALID_ARG, "index 0 of 0");
    th_expect(ctx, tc_prof_write_trace(ctx, NULL), TC_ERR_INVALID_ARG, NULL);
    tc_ctx_free(ctx);
    /* without profiling: scopes pair up, nothing is recorded */
    assert_int_equal(tc_ctx_create(getenv("TINYCL_DEVICE"), 0, &ctx), TC_OK);
    assert_int_equal(tc_prof_scope_begin(ctx, "x"), TC_OK);
    assert_int_equal(tc_prof_scope_end(ctx), TC_OK);
    th_expect(ctx, tc_prof_scope_end(ctx), TC_ERR_INVALID_ARG, "no user scope is open");
    assert_int_equal(tc_prof_count(ctx), 0);
    th_expect(ctx, tc_prof_write_trace(ctx, stdout), TC_ERR_INVALID_ARG, "TC_CTX_PROFILE");
    tc_prof_launch l;
    th_expect(ctx, tc_prof_get_launch(ctx, 0, &l), TC_ERR_INVALID_ARG, "TC_CTX_PROFILE");
    tc_ctx_free(ctx);
}

/* Freeing a context that used CLBlast keeps CLBlast's process-wide cache while
 * another such context lives. */
static void test_clblast_users(void **state)
{
    (void)state;
    tc_ctx *c1 = th_ctx(), *c2 = th_ctx();
    if (tc_ctx_is_ref(c1)) {
        tc_ctx_free(c1);
        tc_ctx_free(c2);
        skip();
    }
    const int before = tc_clblast_users();
    tc_clblast_use(c1);
    tc_clblast_use(c1);
    tc_clblast_use(c2);
    assert_int_equal(tc_clblast_users(), before + 2);
    tc_ctx_free(c1);
    assert_int_equal(tc_clblast_users(), before + 1);
    tc_tensor *a = th_tensor(c2, 2, TH_DIMS(17, 9), NULL), *b = th_tensor(c2, 2, TH_DIMS(9, 5), NULL);
    tc_tensor *c = th_tensor(c2, 2, TH_DIMS(17, 5), NULL);
    tc_matmul_params p = tc_matmul_defaults();
    p.variant = TC_VARIANT_CLBLAST;
    assert_int_equal(tc_matmul(c2, a, b, c, &p), TC_OK);
    tc_tensor_free(a);
    tc_tensor_free(b);
    tc_tensor_free(c);
    tc_ctx_free(c2);
    assert_int_equal(tc_clblast_users(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace),  cmocka_unit_test(test_nested_ops),
        cmocka_unit_test(test_cap),    cmocka_unit_test(test_many_rows_and_reset),
        cmocka_unit_test(test_errors), cmocka_unit_test(test_clblast_users),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
