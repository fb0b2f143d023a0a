/* Inside the decoder: a run holds one call's activations and KV cache; a step
 * runs batch x t positions (host ids and positions staged in hids / hpos, the
 * real positions per sequence in counts) through the model, leaving the logits
 * of every row on the device. */
#ifndef TINYCL_MODEL_DECODER_H
#define TINYCL_MODEL_DECODER_H

#include "core/internal.h"
#include "model/decoder_file.h"
#include "tinycl/decoder.h"
#include "tinycl/plan.h"

typedef struct {
    tc_tensor *ln1_g, *ln1_b, *ln2_g, *ln2_b;
    tc_linear_plan *qkv;     /* [3d, d]: a single row's q, k and v in one launch, contiguous */
    tc_linear_plan *proj[3]; /* its row blocks: q, k and v of many rows, each contiguous */
    tc_linear_plan *out, *fc1, *fc2;
    tc_gelu_mode gelu;
} tc_dblock;

struct tc_decoder {
    tc_ctx *ctx;
    char name[33];
    tc_decoder_info info;
    tc_tensor *embed, *pe, *lnf_g, *lnf_b; /* pe: [capacity, d_model] sinusoids */
    tc_linear_plan *logits;
    tc_dblock blocks[TC_DECODER_MAX_BLOCKS];
    tc_dtype kv_dtype; /* of the cache of cached generation: F32 or S8 */
    float *kv_scales;  /* S8: per layer head_dim scales of k then of v, once calibrated */
};

typedef struct {
    tc_decoder *d;
    int64_t batch, rows;                       /* rows: the most batch x t a step may have */
    tc_tensor *ids, *pos;                      /* s32 [rows] */
    tc_tensor *x, *h, *qkv, *att, *f, *logits; /* [rows, d], q k v blocks [3 rows, d], [rows, d_ff], [rows, vocab] */
    struct tc_kv_cache *kv;                    /* [batch, heads, positions, head_dim] per layer */
    int32_t *hids, *hpos;                      /* [rows], row b * t + i: sequence b's position i */
    int32_t *counts;                           /* [batch]: positions of each sequence this step appends */
} tc_decoder_run;

/* A run for `batch` sequences of up to `positions` positions, steps of up to
 * `rows` rows; its cache holds kv_dtype (S8: the decoder's calibrated scales). */
tc_status tc_decoder_run_init(tc_decoder *d, int64_t batch, int64_t rows, int64_t positions, tc_dtype kv_dtype,
                              tc_decoder_run *r);
void tc_decoder_run_free(tc_decoder_run *r);
tc_status tc_decoder_step(tc_decoder_run *r, int64_t t);
/* Logits of rows [row, row + n) of the last step, to the host. */
tc_status tc_decoder_read_rows(tc_decoder_run *r, int64_t row, int64_t n, float *out);

#endif
