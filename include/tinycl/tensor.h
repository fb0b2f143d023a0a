/* Tensors: dtype, up to 4 dims, row-major, owned by one context (and keeping it
 * alive: the context may be freed first). */
#ifndef TINYCL_TENSOR_H
#define TINYCL_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "tinycl/context.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

#define TC_MAX_DIMS 4

typedef enum { TC_DTYPE_F32 = 0, TC_DTYPE_S8, TC_DTYPE_U8, TC_DTYPE_S32, TC_DTYPE_COUNT } tc_dtype;

typedef struct tc_tensor tc_tensor;

size_t tc_dtype_size(tc_dtype d);
const char *tc_dtype_name(tc_dtype d);

/* Creates an uninitialised tensor. dims[i] must be >= 1. */
tc_status tc_tensor_create(tc_ctx *ctx, tc_dtype dtype, int ndim, const int64_t *dims, tc_tensor **out);
/* Same, then writes `host` (numel elements of dtype). */
tc_status tc_tensor_from_host(tc_ctx *ctx, tc_dtype dtype, int ndim, const int64_t *dims, const void *host,
                              tc_tensor **out);
/* A view with other dims over the same storage (same element count, no copy). */
tc_status tc_tensor_reshape(tc_tensor *t, int ndim, const int64_t *dims, tc_tensor **out);
/* A view of `dims` elements of t starting `offset` elements after t's first one
 * (no copy): a KV-cache row, a per-head slice, one part of a fused QKV output.
 * Needs 0 <= offset and offset + numel(dims) <= numel(t). The view shares t's
 * storage and quantization parameters and is freed with tc_tensor_free; every op
 * accepts views, and its output may be a view of a larger tensor. */
tc_status tc_tensor_view(tc_tensor *t, int64_t offset, int ndim, const int64_t *dims, tc_tensor **out);
void tc_tensor_free(tc_tensor *t);

/* Copies the whole tensor from / to host memory; `bytes` must equal tc_tensor_bytes. */
tc_status tc_tensor_write(tc_tensor *t, const void *host, size_t bytes);
tc_status tc_tensor_read(const tc_tensor *t, void *host, size_t bytes);

tc_ctx *tc_tensor_ctx(const tc_tensor *t);
tc_dtype tc_tensor_dtype(const tc_tensor *t);
int tc_tensor_ndim(const tc_tensor *t);
int64_t tc_tensor_dim(const tc_tensor *t, int i); /* 0 when i is out of range */
int64_t tc_tensor_numel(const tc_tensor *t);
/* Elements between the start of the storage and the tensor's first element. */
int64_t tc_tensor_offset(const tc_tensor *t);
size_t tc_tensor_bytes(const tc_tensor *t);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
