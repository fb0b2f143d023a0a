/* Shared by tc_attention and the KV cache: the kernels of kernels/attention.cl and
 * the per-sequence table they read. */
#ifndef TINYCL_OPS_ATTENTION_H
#define TINYCL_OPS_ATTENTION_H

#include "core/internal.h"

#define TC_ATTN_MAX_HEAD_DIM 256

/* Kernel `name` of kernels/attention.cl for head_dim dh and f32 (or, s8 != 0, s8)
 * keys and values, built with the context's attention parameters (fitted to the
 * device); *wg is the work-group the kernel was built for (reqd_work_group_size), 0
 * for the others. */
tc_status tc_attn_kernel(tc_ctx *ctx, int64_t dh, int s8, const char *name, cl_kernel *k, size_t *wg);

/* A read-only buffer of `bytes` copied from host memory now (so the host array may
 * change once this returns): a per-sequence table or quantization parameters;
 * release it after the launches that read it. */
tc_status tc_attn_table(tc_ctx *ctx, const void *host, size_t bytes, cl_mem *out);

/* Writes k and v ([B, H, n, Dh], or [B, n, H, Dh] for BLHD; all four f32, or all s8)
 * into kc and vc ([B, H, cap, Dh]) at per-sequence positions: sequence b writes its first count[b] tokens from
 * start[b]. Checks shapes, dtypes, contexts, aliasing and that every range fits in
 * cap; on failure nothing is written. Variants REF and OPENCL. */
tc_status tc_kv_write(tc_ctx *ctx, tc_tensor *kc, tc_tensor *vc, const tc_tensor *k, const tc_tensor *v,
                      const int32_t *start, const int32_t *count, tc_attn_layout layout, tc_variant variant);

#endif
