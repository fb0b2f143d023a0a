/* A decoder-only transformer loaded from a weight file (docs/weights.md, "Decoder
 * files"): token embeddings plus sinusoidal positions, pre-LayerNorm blocks of
 * causal multi-head attention and a GELU MLP with residuals, a final LayerNorm
 * and the logits. Generation runs with a KV cache (include/tinycl/attention.h; f32,
 * or s8 with tc_decoder_set_kv_dtype) or by recomputing the whole sequence at every
 * step; the f32 cache and recomputation give the same tokens.
 * Tokens are s32 ids in [0, vocab); everything lives in the decoder's context. */
#ifndef TINYCL_DECODER_H
#define TINYCL_DECODER_H

#include "tinycl/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef struct tc_decoder tc_decoder;

typedef struct {
    int64_t vocab, d_model, layers, heads, head_dim, d_ff;
    int64_t trained_context; /* the sequence length the file says it was trained on */
    int64_t capacity;        /* the most tokens a sequence may hold here (tc_decoder_load) */
} tc_decoder_info;

/* Reads and checks the whole file, then uploads the weights and prepares the
 * linear layers' plans. capacity (>= 1) bounds every sequence (prompt and generated
 * tokens together; positions beyond the trained length are computed the same way).
 * Unreadable file: TC_ERR_IO; anything wrong in it: TC_ERR_CORRUPT. On failure
 * *out is NULL and nothing stays allocated. */
tc_status tc_decoder_load(tc_ctx *ctx, const char *path, int64_t capacity, tc_decoder **out);
void tc_decoder_free(tc_decoder *d);
tc_decoder_info tc_decoder_info_of(const tc_decoder *d); /* zeros for NULL */
const char *tc_decoder_name(const tc_decoder *d);

/* logits[batch, tokens, vocab] (host) of ids[batch, tokens] (host): one pass over
 * every position (causal), as in training. */
tc_status tc_decoder_forward(tc_decoder *d, int64_t batch, int64_t tokens, const int32_t *ids, float *logits);

typedef enum {
    TC_SAMPLE_GREEDY = 0, /* the largest logit (the lowest id on ties) */
    TC_SAMPLE_TOP_K       /* softmax(logits / temperature) over the top_k largest, drawn with seed */
} tc_sample_mode;

typedef struct {
    int use_cache;         /* 1 (default): KV cache; 0: every step recomputes the whole sequence */
    tc_sample_mode sample; /* default GREEDY */
    float temperature;     /* TOP_K: finite and > 0 (default 1) */
    int64_t top_k;         /* TOP_K: 1 .. vocab, or 0 for every token (default 0) */
    uint64_t seed;         /* TOP_K: the same seed draws the same tokens */
    float *logits;         /* NULL, or [batch, n_new, vocab]: the logits each new token was chosen from */
    double *step_ms;       /* NULL, or [n_new]: wall time of each step, its logits read back included */
} tc_generate_params;
tc_generate_params tc_generate_defaults(void);

/* Continues `batch` prompts (prompts[b]: lens[b] >= 1 ids) by n_new >= 1 tokens
 * each: out[batch, n_new] (host). Prompts may differ in length. Every sequence
 * needs lens[b] + n_new <= capacity, else TC_ERR_FULL; empty prompts, ids outside
 * [0, vocab) and bad parameters are TC_ERR_INVALID_ARG. Everything is checked
 * before anything runs, and out (and p->logits, p->step_ms) is written only on
 * success. */
tc_status tc_decoder_generate(tc_decoder *d, int64_t batch, const int32_t *const *prompts, const int64_t *lens,
                              int64_t n_new, const tc_generate_params *p, int32_t *out);

/* Bytes of the KV cache a generation holds for `batch` sequences of up to
 * `positions` tokens: 2 * layers * batch * heads * positions * head_dim * (4 for
 * the f32 cache, 1 for s8: tc_decoder_kv_dtype); 0 for a NULL decoder or sizes
 * below 1, SIZE_MAX when it overflows. */
size_t tc_decoder_cache_bytes(const tc_decoder *d, int64_t batch, int64_t positions);

/* The element type of the KV cache that generation with use_cache (and
 * tc_decoder_bits_per_byte_cached) holds, from the next call on: TC_DTYPE_F32 (the
 * default) or TC_DTYPE_S8 (a quarter of the memory; keys and values quantized as
 * they are appended, with symmetric scales per layer and head_dim channel for k and
 * for v). The s8 scales are calibrated once per decoder, on the first switch to S8:
 * a fixed English calibration text built into the library, in windows of the
 * trained context, runs through the model with the f32 cache, and each channel's
 * scale is the largest |k| (|v|) seen over every head and position, / 127
 * (docs/attention.md, "The decoder's int8 cache"). Generation without the cache and
 * tc_decoder_forward stay f32. Other dtypes: TC_ERR_UNSUPPORTED (values outside the
 * enum: TC_ERR_INVALID_ARG); a failed calibration (keys or values that are not
 * finite) returns its status; on failure the dtype is unchanged. */
tc_status tc_decoder_set_kv_dtype(tc_decoder *d, tc_dtype dtype);
tc_dtype tc_decoder_kv_dtype(const tc_decoder *d); /* TC_DTYPE_F32 for NULL */

/* Bits per byte of text[n] (byte i is token i): windows of `window` bytes starting
 * at 0, window, 2 window, ...; each predicts the bytes that follow its inputs (the
 * last window is shorter), so every byte but the first is predicted once; at most
 * max_windows windows (0: all), run `batch` windows at a time. *bpb is the mean of
 * -log2 p(byte) and *predicted the number of bytes it covers. */
tc_status tc_decoder_bits_per_byte(tc_decoder *d, const uint8_t *text, int64_t n, int64_t window, int64_t max_windows,
                                   int64_t batch, double *bpb, int64_t *predicted);
/* The same teacher-forced through the decoder's KV cache (tc_decoder_kv_dtype), as
 * generation computes: each window's bytes go in steps of `chunk` (>= 1) positions,
 * 1 being one byte per step as in a decode step, `window` one prefill; each step's
 * keys and values are appended to the cache and its queries attend to everything
 * held. With the f32 cache it equals tc_decoder_bits_per_byte up to f32 rounding
 * (tests/test_decoder.c: within 5e-6); with s8 it measures the int8 cache. */
tc_status tc_decoder_bits_per_byte_cached(tc_decoder *d, const uint8_t *text, int64_t n, int64_t window,
                                          int64_t max_windows, int64_t batch, int64_t chunk, double *bpb,
                                          int64_t *predicted);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
