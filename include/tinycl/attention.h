/* Scaled dot-product multi-head attention and the KV cache of a decoder.
 *
 * Shapes (f32): q and out [B, H, Lq, Dh] (layout BHLD) or [B, Lq, H, Dh] (BLHD, the
 * rows a linear layer writes), k and v [B, Hkv, Lk, Dh], H a multiple of Hkv (query
 * head h reads key/value head h / (H / Hkv)), 1 <= Dh <= 256. k and v are usually
 * views of one layer of a KV cache ([B, Hkv, capacity, Dh]) with per-sequence valid
 * lengths. */
#ifndef TINYCL_ATTENTION_H
#define TINYCL_ATTENTION_H

#include "tinycl/tensor.h"
#include "tinycl/variant.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef enum {
    TC_ATTN_BHLD = 0, /* [B, heads, tokens, Dh] */
    TC_ATTN_BLHD      /* [B, tokens, heads, Dh] */
} tc_attn_layout;

/* k and v are f32, or both s8 carrying quantization parameters (include/tinycl/quant.h)
 * per tensor or per head_dim channel (axis 3), dequantized as they are read.
 * out[b, h, i] = softmax_j(scale * q[b, h, i] . k[b, h', j]) v[b, h', j] over the
 * keys j that query i of sequence b sees: j < kv_len[b], and, when causal,
 * j <= pos(b) + i, where pos(b) = q_pos_host[b] (or q_pos for every sequence) is the
 * key position of the sequence's first query. A query that sees no key gets zeros.
 * The softmax is computed online (running maximum and sum), in f32. */
typedef struct {
    float scale;                /* finite; 0 (the default): 1 / sqrt(Dh) */
    int causal;                 /* default 0 */
    int64_t q_pos;              /* >= 0; used when q_pos_host is NULL; default 0 */
    const int32_t *q_pos_host;  /* NULL, or B values >= 0 */
    const int32_t *kv_len_host; /* NULL (every sequence has Lk keys), or B values in [0, Lk] */
    tc_attn_layout layout;      /* of q and out; default BHLD */
    tc_variant variant;         /* AUTO, REF, CPU, GPU, OPENCL, SPLIT (see below) */
} tc_attention_params;
tc_attention_params tc_attention_defaults(void);

/* Variants:
 *   REF     the plain-C reference.
 *   CPU     tiled (flash-attention): a work-item per block of queries, keys in blocks,
 *           explicit vectors; for CPUs.
 *   GPU     tiled (flash-attention): a work-group per block of queries, key/value
 *           tiles staged in local memory; for GPUs.
 *   OPENCL  one work-group (GPUs) or work-item (CPUs: head_dim in vectors; kernel
 *           parameter attention.dec_vec) per (sequence, head, query) over all its
 *           keys: the short decode path.
 *   SPLIT   flash-decoding: the keys of each (sequence, head, query) split across
 *           work-groups, their partial (max, sum, output) records merged by a second
 *           kernel, so one sequence fills the device.
 * AUTO: REF on ref; for few queries OPENCL or, on long contexts that would not fill
 * the device, SPLIT; else CPU on CPUs and GPU elsewhere.
 * out must not overlap q, k or v. The host arrays are read during the call only. */
tc_status tc_attention(tc_ctx *ctx, const tc_tensor *q, const tc_tensor *k, const tc_tensor *v, tc_tensor *out,
                       const tc_attention_params *p);

/* ---- KV cache ----------------------------------------------------------------
 * Per layer, K and V preallocated on the device as [batch, heads, capacity, head_dim].
 * Each (layer, sequence) has a length: appends write in place after it. */
typedef struct tc_kv_cache tc_kv_cache;

typedef struct {
    int64_t layers, batch, heads, capacity, head_dim; /* each >= 1; head_dim <= 256 */
    tc_dtype dtype; /* TC_DTYPE_F32 (tc_kv_cache_create), or TC_DTYPE_S8 (tc_kv_cache_create_s8) */
} tc_kv_cache_config;

/* Allocates 2 * layers * batch * heads * capacity * head_dim elements (uninitialised:
 * only appended positions are ever read), every length 0. Sizes are checked for
 * overflow before anything is allocated. An S8 cache's tensors carry their layer's
 * parameters per head_dim channel (axis 3), so its views go to tc_attention as they are. */
tc_status tc_kv_cache_create(tc_ctx *ctx, const tc_kv_cache_config *cfg, tc_kv_cache **out);
/* The same with cfg->dtype TC_DTYPE_S8: a quarter of the memory, keys and values
 * quantized (tc_quantize) as they are appended. scales: per layer, head_dim scales for
 * k then head_dim for v (2 * layers * head_dim values, finite and > 0; zero points 0),
 * e.g. symmetric parameters from a calibration observer (include/tinycl/quantize.h). */
tc_status tc_kv_cache_create_s8(tc_ctx *ctx, const tc_kv_cache_config *cfg, const float *scales, tc_kv_cache **out);
void tc_kv_cache_free(tc_kv_cache *c);

/* Appends the new tokens' keys and values (f32) of one layer: k and v are [batch,
 * heads, n, head_dim] (BHLD) or [batch, n, heads, head_dim] (BLHD); an S8 cache
 * quantizes them first. counts_host NULL: every
 * sequence appends all n; else sequence b appends its first counts_host[b] (0..n)
 * tokens. A sequence whose length would pass the capacity fails the whole call with
 * TC_ERR_FULL before anything is written. */
tc_status tc_kv_cache_append(tc_kv_cache *c, int64_t layer, const tc_tensor *k, const tc_tensor *v,
                             const int32_t *counts_host, tc_attn_layout layout);

/* Attention of q [batch, H, Lq, head_dim] (or BLHD) against one layer of the cache: k
 * and v are the layer's views, kv_len its lengths, and, unless p->q_pos_host is set,
 * the queries sit at the positions of the layer's last append (query i of sequence b
 * at length[b] - last_count[b] + i): a prompt, a chunk of one or a decoded token.
 * p's scale, causal, layout and variant apply; NULL p: defaults with causal = 1. */
tc_status tc_kv_cache_attention(tc_kv_cache *c, int64_t layer, const tc_tensor *q, tc_tensor *out,
                                const tc_attention_params *p);

/* Views of layer `layer` ([batch, heads, capacity, head_dim], freed with tc_tensor_free). */
tc_status tc_kv_cache_views(tc_kv_cache *c, int64_t layer, tc_tensor **k, tc_tensor **v);
/* Lengths of a layer's sequences (batch values, valid until the next append or reset);
 * NULL for a NULL cache or a layer out of range. */
const int32_t *tc_kv_cache_lengths(const tc_kv_cache *c, int64_t layer);
/* Every length of every layer back to 0 (nothing on the device is touched). */
tc_status tc_kv_cache_reset(tc_kv_cache *c);
/* 2 * layers * batch * heads * capacity * head_dim * element bytes; 0 for NULL. */
size_t tc_kv_cache_bytes(const tc_kv_cache *c);
/* The configuration it was created with (zeros for NULL). */
tc_kv_cache_config tc_kv_cache_config_of(const tc_kv_cache *c);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
