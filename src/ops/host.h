/* Helpers for ops that run host code on an OpenCL context (the `ref` variant):
 * tensors are copied to host memory and results written back. */
#ifndef TINYCL_OPS_HOST_H
#define TINYCL_OPS_HOST_H

#include "core/internal.h"

/* Host copy of a tensor (a direct pointer on the ref device); NULL tensor -> NULL. */
tc_status tc_host_get(const tc_tensor *t, void **out);
/* Releases what tc_host_get returned. */
void tc_host_put(const tc_tensor *t, void *p);
/* Host buffer for an output: current contents when `read`, writable. */
tc_status tc_host_out(tc_tensor *t, int read, void **out);
/* Writes an output buffer back (no-op on ref) and releases it. */
tc_status tc_host_commit(tc_tensor *t, void *p);

#endif
