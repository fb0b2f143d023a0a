/* OpenCL interop: tinycl on an application's own cl_context, queue and buffers.
 * Not included by tinycl/tinycl.h, so that only code using it needs the OpenCL headers.
 *
 * Ownership: tinycl retains every OpenCL object it is handed (clRetain*) and
 * releases exactly those references when the tinycl object is freed; it never
 * releases a reference it did not take. The application may release its own
 * references right after the call. Handles returned by the getters are borrowed:
 * valid while the tinycl object lives; retain them to keep them longer.
 *
 * Ordering: tinycl enqueues on the context's queue. Work the application
 * enqueues on the same (in-order) queue is ordered with tinycl's; on another
 * queue, synchronise (clFinish or events) before handing buffers across. */
#ifndef TINYCL_OPENCL_H
#define TINYCL_OPENCL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "tinycl/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* A context on the application's cl_context and device. `queue` must be an
 * in-order queue of that context and device (profiling enabled when `flags`
 * has TC_CTX_PROFILE); NULL makes tinycl create its own. tinycl retains `cl`,
 * `dev` and `queue`. On failure *out is NULL and tc_last_error(NULL) says why. */
tc_status tc_ctx_wrap(cl_context cl, cl_device_id dev, cl_command_queue queue, unsigned flags, tc_ctx **out);

/* Borrowed handles of an OpenCL context (NULL on `ref`). */
cl_context tc_ctx_cl_context(const tc_ctx *ctx);
cl_device_id tc_ctx_cl_device(const tc_ctx *ctx);
cl_command_queue tc_ctx_cl_queue(const tc_ctx *ctx);

/* A tensor over an application buffer, without a copy: its elements start
 * `offset` elements (of dtype) into `buf`, which must belong to ctx's
 * cl_context and hold (offset + numel) elements. Like a view (tc_tensor_view),
 * any offset works and every op accepts the tensor. tinycl retains `buf`; the
 * tensor's memory is not counted in tc_ctx_mem_current. */
tc_status tc_tensor_wrap(tc_ctx *ctx, cl_mem buf, size_t offset, tc_dtype dtype, int ndim, const int64_t *dims,
                         tc_tensor **out);

/* The buffer holding a tensor's elements (borrowed; NULL on `ref`); its first
 * element is tc_tensor_offset(t) elements into the buffer (for a wrapped tensor:
 * the offset it was wrapped at, plus that of any view of it). */
cl_mem tc_tensor_cl_mem(const tc_tensor *t);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
