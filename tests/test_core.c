/* Devices, contexts, tensors, memory accounting, kernels and guards. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"

static void test_devices(void **state)
{
    (void)state;
    int n = tc_device_count();
    assert_true(n >= 1);
    tc_device_info info;
    assert_int_equal(tc_device_get(0, &info), TC_OK);
    assert_int_equal(info.type, TC_DEVICE_REF);
    assert_string_equal(info.name, "ref");
    int idx = -1;
    assert_int_equal(tc_device_find("ref", &idx), TC_OK);
    assert_int_equal(idx, 0);
    th_expect(NULL, tc_device_find("cl:999", &idx), TC_ERR_NO_DEVICE, "cl:999");
    th_expect(NULL, tc_device_find("no-such-device-name", &idx), TC_ERR_NO_DEVICE, "no-such-device-name");
    th_expect(NULL, tc_device_get(n, &info), TC_ERR_NO_DEVICE, "out of range");
    th_expect(NULL, tc_device_get(0, NULL), TC_ERR_INVALID_ARG, NULL);
    for (int i = 1; i < n; i++) {
        assert_int_equal(tc_device_get(i, &info), TC_OK);
        assert_true(info.compute_units > 0);
        assert_true(strlen(info.name) > 0);
        /* selection by index, cl:N and name substring lands on the same device */
        char spec[16];
        snprintf(spec, sizeof spec, "cl:%d", i - 1);
        assert_int_equal(tc_device_find(spec, &idx), TC_OK);
        assert_int_equal(idx, i);
        snprintf(spec, sizeof spec, "%d", i);
        assert_int_equal(tc_device_find(spec, &idx), TC_OK);
        assert_int_equal(idx, i);
    }
    if (n == 1) assert_true(strlen(tc_device_probe_message()) > 0);
}

/* "openblas": ref's index and type, its own name and OpenBLAS's build, and the one
 * context kind tc_ctx_host_blas reports; it adds no device index. */
static void test_openblas_context(void **state)
{
    (void)state;
    const int n = tc_device_count();
    int idx = -1;
    assert_int_equal(tc_device_find("openblas", &idx), TC_OK);
    assert_int_equal(idx, 0);
    idx = -1;
    assert_int_equal(tc_device_find("OpenBLAS", &idx), TC_OK);
    assert_int_equal(idx, 0);
    tc_ctx *blas = NULL, *ref = NULL;
    assert_int_equal(tc_ctx_create("openblas", TC_CTX_PROFILE, &blas), TC_OK);
    assert_int_equal(tc_ctx_create("ref", 0, &ref), TC_OK);
    assert_int_equal(tc_device_count(), n);
    const tc_device_info *d = tc_ctx_device(blas);
    assert_int_equal(d->index, 0);
    assert_int_equal(d->type, TC_DEVICE_REF);
    assert_string_equal(d->name, "openblas");
    assert_non_null(strstr(d->version, "OpenBLAS"));
    assert_true(d->compute_units >= 1);
    assert_int_equal(tc_ctx_is_ref(blas), 1);
    assert_int_equal(tc_ctx_host_blas(blas), 1);
    assert_int_equal(tc_ctx_host_blas(ref), 0);
    assert_string_equal(tc_ctx_device(ref)->name, "ref");
    assert_int_equal(tc_ctx_host_blas(NULL), 0);
    /* the device under test, and TINYCL_DEVICE read by a NULL selection */
    const char *env = getenv("TINYCL_DEVICE");
    tc_ctx *ctx = th_ctx();
    assert_int_equal(tc_ctx_host_blas(ctx), env && strcasecmp(env, "openblas") == 0);
    char *keep = env ? strdup(env) : NULL;
    setenv("TINYCL_DEVICE", "openblas", 1);
    tc_ctx *from_env = NULL;
    assert_int_equal(tc_ctx_create(NULL, 0, &from_env), TC_OK);
    assert_int_equal(tc_ctx_host_blas(from_env), 1);
    if (keep)
        setenv("TINYCL_DEVICE", keep, 1);
    else
        unsetenv("TINYCL_DEVICE");
    free(keep);
    tc_ctx_free(from_env);
    tc_ctx_free(ctx);
    tc_ctx_free(ref);
    tc_ctx_free(blas);
}

static void test_ctx_create_errors(void **state)
{
    (void)state;
    tc_ctx *ctx = (tc_ctx *)1;
    th_expect(NULL, tc_ctx_create("no-such-device-name", 0, &ctx), TC_ERR_NO_DEVICE, "no-such-device-name");
    assert_null(ctx);
    th_expect(NULL, tc_ctx_create("ref", 0x80, &ctx), TC_ERR_INVALID_ARG, "flags");
    th_expect(NULL, tc_ctx_create("ref", 0, NULL), TC_ERR_INVALID_ARG, NULL);
    th_expect(NULL, tc_ctx_finish(NULL), TC_ERR_INVALID_ARG, NULL);
    tc_ctx_free(NULL);
}

static void test_tensor_bad_dims(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_tensor *t = (tc_tensor *)1;
    th_expect(ctx, tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(3, 0), &t), TC_ERR_SHAPE, ">= 1");
    assert_null(t);
    th_expect(ctx, tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(-3, 2), &t), TC_ERR_SHAPE, NULL);
    th_expect(ctx, tc_tensor_create(ctx, TC_DTYPE_F32, 5, TH_DIMS(1, 1, 1, 1, 1), &t), TC_ERR_SHAPE, "ndim");
    th_expect(ctx, tc_tensor_create(ctx, TC_DTYPE_F32, 0, TH_DIMS(1), &t), TC_ERR_SHAPE, "ndim");
    th_expect(ctx, tc_tensor_create(ctx, (tc_dtype)17, 1, TH_DIMS(4), &t), TC_ERR_DTYPE, NULL);
    th_expect(ctx, tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(INT64_C(1) << 40, INT64_C(1) << 40), &t),
              TC_ERR_OVERFLOW, "overflow");
    th_expect(ctx, tc_tensor_create(ctx, TC_DTYPE_F32, 1, TH_DIMS(INT64_MAX / 2), &t), TC_ERR_OVERFLOW, "byte");
    th_expect(ctx, tc_tensor_create(ctx, TC_DTYPE_F32, 1, NULL, &t), TC_ERR_INVALID_ARG, NULL);
    th_expect(NULL, tc_tensor_create(NULL, TC_DTYPE_F32, 1, TH_DIMS(4), &t), TC_ERR_INVALID_ARG, "ctx");
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
}

static void test_tensor_roundtrip_and_memory(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const tc_dtype types[] = {TC_DTYPE_F32, TC_DTYPE_S8, TC_DTYPE_U8, TC_DTYPE_S32};
    size_t expect_mem = 0;
    tc_tensor *ts[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(tc_tensor_create(ctx, types[i], 3, TH_DIMS(3, 5, 7), &ts[i]), TC_OK);
        size_t bytes = 105 * tc_dtype_size(types[i]);
        assert_int_equal(tc_tensor_bytes(ts[i]), bytes);
        expect_mem += bytes;
        assert_int_equal(tc_ctx_mem_current(ctx), expect_mem);
        unsigned char *in = malloc(bytes), *out = malloc(bytes);
        for (size_t j = 0; j < bytes; j++) in[j] = (unsigned char)(j * 7 + (size_t)i);
        assert_int_equal(tc_tensor_write(ts[i], in, bytes), TC_OK);
        assert_int_equal(tc_tensor_read(ts[i], out, bytes), TC_OK);
        assert_memory_equal(in, out, bytes);
        th_expect(ctx, tc_tensor_read(ts[i], out, bytes - 1), TC_ERR_SHAPE, "bytes");
        th_expect(ctx, tc_tensor_write(ts[i], NULL, bytes), TC_ERR_INVALID_ARG, "NULL");
        free(in);
        free(out);
    }
    assert_int_equal(tc_tensor_ndim(ts[0]), 3);
    assert_int_equal(tc_tensor_dim(ts[0], 2), 7);
    assert_int_equal(tc_tensor_dim(ts[0], 3), 0);
    assert_int_equal(tc_tensor_numel(ts[0]), 105);
    size_t peak = tc_ctx_mem_peak(ctx);
    for (int i = 0; i < 4; i++) tc_tensor_free(ts[i]);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    assert_int_equal(tc_ctx_mem_peak(ctx), peak);
    tc_ctx_mem_reset_peak(ctx);
    assert_int_equal(tc_ctx_mem_peak(ctx), 0);
    tc_ctx_free(ctx);
}

static void test_reshape_is_a_view(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    float *h;
    tc_tensor *t = th_tensor(ctx, 2, TH_DIMS(6, 4), &h), *v = NULL;
    size_t mem = tc_ctx_mem_current(ctx);
    assert_int_equal(tc_tensor_reshape(t, 3, TH_DIMS(2, 3, 4), &v), TC_OK);
    assert_int_equal(tc_ctx_mem_current(ctx), mem); /* no copy */
    float back[24];
    assert_int_equal(tc_tensor_read(v, back, sizeof back), TC_OK);
    assert_memory_equal(back, h, sizeof back);
    tc_tensor_free(t); /* the view keeps the storage alive */
    for (int i = 0; i < 24; i++) back[i] = (float)i;
    assert_int_equal(tc_tensor_write(v, back, sizeof back), TC_OK);
    th_expect(ctx, tc_tensor_reshape(v, 2, TH_DIMS(5, 5), &t), TC_ERR_SHAPE, "reshape");
    tc_tensor_free(v);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    free(h);
    tc_ctx_free(ctx);
}

/* A tensor keeps its context alive: the context may be freed first; its tensors
 * still read and write, and the last one to go releases it. */
static void test_ctx_freed_before_tensors(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    float *h, back[15];
    tc_tensor *t = th_tensor(ctx, 2, TH_DIMS(3, 5), &h), *v = NULL;
    assert_int_equal(tc_tensor_reshape(t, 1, TH_DIMS(15), &v), TC_OK);
    tc_ctx_free(ctx);
    assert_int_equal(tc_tensor_read(v, back, sizeof back), TC_OK);
    assert_memory_equal(back, h, sizeof back);
    tc_tensor_free(t);
    for (int i = 0; i < 15; i++) back[i] = (float)i;
    assert_int_equal(tc_tensor_write(v, back, sizeof back), TC_OK);
    assert_int_equal(tc_tensor_read(v, h, sizeof back), TC_OK);
    assert_memory_equal(back, h, sizeof back);
    tc_tensor_free(v);
    free(h);
}

/* Objects that hold no tensor (an observer, an integer-GEMM plan) keep their
 * context alive too: used and freed after tc_ctx_free and after every tensor. */
static void test_ctx_freed_before_objects(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const int8_t hb[12] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12};
    const uint8_t ha[6] = {1, 2, 3, 4, 5, 6};
    tc_tensor *b = NULL, *a = NULL, *c = NULL, *x = th_tensor(ctx, 2, TH_DIMS(2, 3), NULL);
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_S8, 2, TH_DIMS(3, 4), hb, &b), TC_OK);
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_U8, 2, TH_DIMS(2, 3), ha, &a), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 2, TH_DIMS(2, 4), &c), TC_OK);
    tc_observer *obs = NULL;
    tc_igemm_plan *plan = NULL;
    const tc_observer_options o = tc_observer_defaults(TC_OBSERVER_MINMAX);
    assert_int_equal(tc_observer_create(ctx, &o, &obs), TC_OK);
    assert_int_equal(tc_igemm_plan_create(ctx, b, NULL, &plan), TC_OK);
    tc_tensor_free(b);
    tc_ctx_free(ctx);
    assert_int_equal(tc_observer_update(obs, x), TC_OK);
    assert_int_equal(tc_igemm_plan_run(plan, a, c), TC_OK);
    int32_t got[8];
    assert_int_equal(tc_tensor_read(c, got, sizeof got), TC_OK);
    assert_int_equal(got[0], 1 * 1 + 2 * 5 + 3 * 9); /* row 0 of A times column 0 of B */
    tc_tensor_free(a), tc_tensor_free(c), tc_tensor_free(x);
    /* only the observer and the plan hold the context now; errors still go into it */
    assert_int_equal(tc_observer_update(obs, NULL), TC_ERR_INVALID_ARG);
    tc_observer_free(obs);
    tc_igemm_plan_free(plan);
}

static void test_guards_detect_overrun(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_tensor *t = NULL;
    assert_int_equal(tc_tensor_create_guarded(ctx, TC_DTYPE_F32, 1, TH_DIMS(10), 64, &t), TC_OK);
    float z[10] = {0};
    assert_int_equal(tc_tensor_write(t, z, sizeof z), TC_OK);
    assert_true(tc_tensor_guards_intact(t));
    /* one float past the end */
    if (tc_ctx_is_ref(ctx)) {
        ((float *)tc_host(t))[10] = 1.0f;
    } else {
        float one = 1.0f;
        assert_int_equal(clEnqueueWriteBuffer(ctx->queue, t->st->parent, CL_TRUE, t->st->guard + sizeof z, 4, &one,
                                              0, NULL, NULL),
                         CL_SUCCESS);
    }
    assert_false(tc_tensor_guards_intact(t));
    tc_tensor_free(t);
    tc_ctx_free(ctx);
}

static void test_kernel_build_failure(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    if (!tc_ctx_is_ref(ctx)) {
        cl_program prog;
        const char *bad = "__kernel void broken(__global float *x) { x[0] = undefined_symbol; }";
        th_expect(ctx, tc_program_build_source(ctx, "broken", bad, "", &prog), TC_ERR_BUILD, "undefined_symbol");
        cl_kernel k;
        th_expect(ctx, tc_get_kernel(ctx, "no_such_program", "", "k", &k), TC_ERR_BUILD, "no_such_program");
        th_expect(ctx, tc_get_kernel(ctx, "matmul", "", "no_such_kernel", &k), TC_ERR_BUILD, "no_such_kernel");
    }
    tc_ctx_free(ctx);
}

static void test_variant_names(void **state)
{
    (void)state;
    for (int v = 0; v < TC_VARIANT_COUNT; v++) {
        tc_variant back;
        assert_int_equal(tc_variant_parse(tc_variant_name((tc_variant)v), &back), TC_OK);
        assert_int_equal(back, v);
    }
    tc_variant x;
    th_expect(NULL, tc_variant_parse("warp-speed", &x), TC_ERR_INVALID_ARG, "warp-speed");
    assert_string_equal(tc_status_name(TC_ERR_SHAPE), "TC_ERR_SHAPE");
    assert_string_equal(tc_status_name((tc_status)-4), "TC_ERR_UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devices),          cmocka_unit_test(test_openblas_context),
        cmocka_unit_test(test_ctx_create_errors),
        cmocka_unit_test(test_tensor_bad_dims),  cmocka_unit_test(test_tensor_roundtrip_and_memory),
        cmocka_unit_test(test_reshape_is_a_view), cmocka_unit_test(test_guards_detect_overrun),
        cmocka_unit_test(test_kernel_build_failure), cmocka_unit_test(test_variant_names),
        cmocka_unit_test(test_ctx_freed_before_tensors), cmocka_unit_test(test_ctx_freed_before_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
