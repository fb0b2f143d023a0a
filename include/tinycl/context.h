/* A context: one device, one in-order queue, its compiled programs, memory
 * counters and the last error message.
 * Threads: a context and everything made in it (tensors, views, models, plans)
 * are used by one thread at a time; contexts in different threads run
 * concurrently. The device functions and tc_last_error(NULL) (per thread) may be
 * called from any thread.
 * Lifetime: tensors, views, models and plans keep their context alive. */
#ifndef TINYCL_CONTEXT_H
#define TINYCL_CONTEXT_H

#include <stddef.h>

#include "tinycl/device.h"
#include "tinycl/status.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef struct tc_ctx tc_ctx;

enum {
    TC_CTX_PROFILE = 1u << 0 /* OpenCL profiling events + per-op statistics */
};

/* Creates a context on the device selected by `spec` (see tc_device_find). On
 * failure *out is NULL and tc_last_error(NULL) says why. */
tc_status tc_ctx_create(const char *spec, unsigned flags, tc_ctx **out);
/* Drops the caller's reference: the context goes once the last tensor, view,
 * model or plan made in it is freed too; those stay usable until then. The
 * caller must not use ctx again. */
void tc_ctx_free(tc_ctx *ctx);

const tc_device_info *tc_ctx_device(const tc_ctx *ctx);
/* 1 on a host context: `ref`, and `openblas` (which is ref with its device named
 * "openblas"). */
int tc_ctx_is_ref(const tc_ctx *ctx);
/* 1 on a context made with "openblas": a host context whose f32 GEMM-shaped ops
 * (matmul, linear and its plans, conv2d and its plans) run through the host's
 * OpenBLAS (variant TC_VARIANT_OPENBLAS) by default; everything else runs the
 * plain-C reference. 0 otherwise (and for NULL). */
int tc_ctx_host_blas(const tc_ctx *ctx);

/* Waits for all queued work. */
tc_status tc_ctx_finish(tc_ctx *ctx);

/* Bytes allocated for tensors and scratch in this context, now and at peak. */
size_t tc_ctx_mem_current(const tc_ctx *ctx);
size_t tc_ctx_mem_peak(const tc_ctx *ctx);
void tc_ctx_mem_reset_peak(tc_ctx *ctx);

/* Last error text of a context; with NULL, of the last context-less call
 * (such as tc_ctx_create) on this thread. Never NULL. */
const char *tc_last_error(const tc_ctx *ctx);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
