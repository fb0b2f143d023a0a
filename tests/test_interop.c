/* OpenCL interop: tinycl on an application's cl_context, queue and buffers. Every
 * op's check cases run on wrapped buffers at an offset; handles are retained and
 * released in pairs; bad handles are refused with nothing allocated. */
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "harness.h"
#include "tinycl/opencl.h"

typedef struct {
    cl_context cl;
    cl_device_id dev;
    cl_command_queue queue;
} app_handles;

/* What an application would make: its own context and queue on the device under test. */
static int app_open(app_handles *h)
{
    tc_ctx *probe = th_ctx();
    if (tc_ctx_is_ref(probe)) {
        assert_null(tc_ctx_cl_context(probe));
        assert_null(tc_ctx_cl_queue(probe));
        tc_ctx_free(probe);
        return 0;
    }
    h->dev = tc_ctx_cl_device(probe);
    tc_ctx_free(probe);
    cl_int err;
    h->cl = clCreateContext(NULL, 1, &h->dev, NULL, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    h->queue = clCreateCommandQueue(h->cl, h->dev, 0, &err);
    assert_int_equal(err, CL_SUCCESS);
    return 1;
}

static void app_close(app_handles *h)
{
    clReleaseCommandQueue(h->queue);
    clReleaseContext(h->cl);
}

static cl_uint refcount_mem(cl_mem m)
{
    cl_uint n = 0;
    assert_int_equal(clGetMemObjectInfo(m, CL_MEM_REFERENCE_COUNT, sizeof n, &n, NULL), CL_SUCCESS);
    return n;
}

static cl_uint refcount_ctx(cl_context c)
{
    cl_uint n = 0;
    assert_int_equal(clGetContextInfo(c, CL_CONTEXT_REFERENCE_COUNT, sizeof n, &n, NULL), CL_SUCCESS);
    return n;
}

static void count(const tc_check_result *r, void *user)
{
    int *passed = user;
    if (r->passed) (*passed)++;
    if (!r->passed && !r->skipped)
        print_error("FAIL %s/%s %s seed %llu: %s\n", r->op, tc_variant_name(r->variant), r->shape,
                    (unsigned long long)r->seed, r->message);
}

static void test_every_op_on_wrapped_buffers(void **state)
{
    (void)state;
    app_handles h;
    if (!app_open(&h)) skip();
    tc_ctx *ctx = NULL;
    assert_int_equal(tc_ctx_wrap(h.cl, h.dev, h.queue, 0, &ctx), TC_OK);
    app_close(&h); /* tinycl holds its own references */
    assert_ptr_equal(tc_ctx_cl_queue(ctx), h.queue);
    int failures = -1, passed = 0;
    if (tc_check_run_wrapped(ctx, NULL, TC_VARIANT_AUTO, th_seed(), count, &passed, &failures) != TC_OK)
        fail_msg("%s", tc_last_error(ctx));
    assert_int_equal(failures, 0);
    assert_true(passed > tc_check_op_count()); /* every op ran cases, not only skips */
    tc_ctx_free(ctx);
}

/* Data written by the application through its buffer is what tinycl reads, and
 * an op's result lands in the application's buffer at the offset. */
static void test_wrapped_data_and_ownership(void **state)
{
    (void)state;
    app_handles h;
    if (!app_open(&h)) skip();
    const cl_uint ctx_refs = refcount_ctx(h.cl);
    tc_ctx *ctx = NULL;
    assert_int_equal(tc_ctx_wrap(h.cl, h.dev, h.queue, TC_CTX_PROFILE, &ctx), TC_ERR_INVALID_ARG);
    assert_null(ctx);
    assert_int_equal(tc_ctx_wrap(h.cl, h.dev, h.queue, 0, &ctx), TC_OK);
    assert_int_equal(refcount_ctx(h.cl), ctx_refs + 1);

    enum { N = 37, OFF = 257 }; /* an offset of no particular alignment */
    float host[N], back[N];
    for (int i = 0; i < N; i++) host[i] = (float)i - 18.0f;
    cl_int err;
    cl_mem buf = clCreateBuffer(h.cl, CL_MEM_READ_WRITE, (OFF + N + 5) * sizeof(float), NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    assert_int_equal(clEnqueueWriteBuffer(h.queue, buf, CL_TRUE, OFF * sizeof(float), sizeof host, host, 0, NULL, NULL),
                     CL_SUCCESS);
    const cl_uint mem_refs = refcount_mem(buf);
    tc_tensor *t = NULL, *y = NULL;
    assert_int_equal(tc_tensor_wrap(ctx, buf, OFF, TC_DTYPE_F32, 1, TH_DIMS(N), &t), TC_OK);
    assert_int_equal(refcount_mem(buf), mem_refs + 1);
    assert_int_equal(tc_ctx_mem_current(ctx), 0); /* the application's memory is not tinycl's */
    assert_ptr_equal(tc_tensor_cl_mem(t), buf);
    assert_int_equal(tc_tensor_offset(t), OFF);
    assert_int_equal(tc_tensor_read(t, back, sizeof back), TC_OK);
    assert_memory_equal(back, host, sizeof host);

    /* relu in place: the result is in the application's buffer at the offset */
    assert_int_equal(tc_relu(ctx, t, t, NULL), TC_OK);
    assert_int_equal(clEnqueueReadBuffer(h.queue, buf, CL_TRUE, OFF * sizeof(float), sizeof back, back, 0, NULL, NULL),
                     CL_SUCCESS);
    for (int i = 0; i < N; i++) assert_true(back[i] == (host[i] > 0 ? host[i] : 0.0f));

    /* a wrapped tensor and a tinycl tensor in one op */
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 1, TH_DIMS(N), &y), TC_OK);
    assert_int_equal(tc_add(ctx, t, t, y, NULL), TC_OK);
    assert_int_equal(tc_tensor_read(y, back, sizeof back), TC_OK);
    for (int i = 0; i < N; i++) assert_true(back[i] == 2.0f * (host[i] > 0 ? host[i] : 0.0f));

    tc_tensor_free(y);
    tc_tensor_free(t);
    assert_int_equal(refcount_mem(buf), mem_refs);
    tc_ctx_free(ctx);
    clReleaseMemObject(buf); /* buffers hold their context too */
    assert_int_equal(refcount_ctx(h.cl), ctx_refs);
    app_close(&h);
}

static void test_wrap_errors(void **state)
{
    (void)state;
    app_handles h;
    if (!app_open(&h)) {
        tc_ctx *ref = th_ctx();
        tc_tensor *t = (tc_tensor *)1;
        th_expect(ref, tc_tensor_wrap(ref, NULL, 0, TC_DTYPE_F32, 1, TH_DIMS(4), &t), TC_ERR_INVALID_ARG, "ref");
        assert_null(t);
        tc_ctx_free(ref);
        return;
    }
    tc_ctx *ctx = (tc_ctx *)1;
    th_expect(NULL, tc_ctx_wrap(NULL, h.dev, h.queue, 0, &ctx), TC_ERR_INVALID_ARG, "cl");
    assert_null(ctx);
    th_expect(NULL, tc_ctx_wrap(h.cl, NULL, NULL, 0, &ctx), TC_ERR_INVALID_ARG, "dev");
    th_expect(NULL, tc_ctx_wrap(h.cl, h.dev, h.queue, 0x40, &ctx), TC_ERR_INVALID_ARG, "flags");
    th_expect(NULL, tc_ctx_wrap(h.cl, h.dev, h.queue, 0, NULL), TC_ERR_INVALID_ARG, "out");

    /* a queue of another context */
    cl_int err;
    cl_context other = clCreateContext(NULL, 1, &h.dev, NULL, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    cl_command_queue other_q = clCreateCommandQueue(other, h.dev, 0, &err);
    assert_int_equal(err, CL_SUCCESS);
    th_expect(NULL, tc_ctx_wrap(h.cl, h.dev, other_q, 0, &ctx), TC_ERR_INVALID_ARG, "another context");
    assert_null(ctx);

    /* no queue: tinycl makes its own, with profiling when asked */
    assert_int_equal(tc_ctx_wrap(h.cl, h.dev, NULL, TC_CTX_PROFILE, &ctx), TC_OK);
    assert_non_null(tc_ctx_cl_queue(ctx));
    assert_ptr_not_equal(tc_ctx_cl_queue(ctx), h.queue);
    assert_ptr_equal(tc_ctx_cl_context(ctx), h.cl);

    cl_mem mine = clCreateBuffer(h.cl, CL_MEM_READ_WRITE, 4096, NULL, &err);
    cl_mem theirs = clCreateBuffer(other, CL_MEM_READ_WRITE, 4096, NULL, &err);
    tc_tensor *t = (tc_tensor *)1;
    th_expect(ctx, tc_tensor_wrap(ctx, theirs, 0, TC_DTYPE_F32, 1, TH_DIMS(16), &t), TC_ERR_CONTEXT, "another");
    assert_null(t);
    th_expect(ctx, tc_tensor_wrap(ctx, NULL, 0, TC_DTYPE_F32, 1, TH_DIMS(16), &t), TC_ERR_INVALID_ARG, "buf");
    th_expect(ctx, tc_tensor_wrap(ctx, mine, 0, TC_DTYPE_F32, 1, TH_DIMS(1025), &t), TC_ERR_SHAPE, "4096");
    th_expect(ctx, tc_tensor_wrap(ctx, mine, 1000, TC_DTYPE_F32, 1, TH_DIMS(25), &t), TC_ERR_SHAPE, "bytes");
    th_expect(ctx, tc_tensor_wrap(ctx, mine, SIZE_MAX / 2, TC_DTYPE_F32, 1, TH_DIMS(4), &t), TC_ERR_OVERFLOW, NULL);
    th_expect(ctx, tc_tensor_wrap(ctx, mine, 0, TC_DTYPE_F32, 2, TH_DIMS(4, 0), &t), TC_ERR_SHAPE, NULL);
    th_expect(ctx, tc_tensor_wrap(ctx, mine, 0, (tc_dtype)9, 1, TH_DIMS(4), &t), TC_ERR_DTYPE, NULL);
    assert_null(t);
    assert_int_equal(refcount_mem(mine), 1);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);

    clReleaseMemObject(mine);
    clReleaseMemObject(theirs);
    clReleaseCommandQueue(other_q);
    clReleaseContext(other);
    tc_ctx_free(ctx);
    app_close(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrap_errors),
        cmocka_unit_test(test_wrapped_data_and_ownership),
        cmocka_unit_test(test_every_op_on_wrapped_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
