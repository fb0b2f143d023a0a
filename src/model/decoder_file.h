/* The records of a decoder file (docs/weights.md, "Decoder files") checked and
 * named: which tensor is which, and the model's sizes. Host memory only. */
#ifndef TINYCL_MODEL_DECODER_FILE_H
#define TINYCL_MODEL_DECODER_FILE_H

#include "model/format.h"
#include "tinycl/decoder.h"

/* 2 records before the blocks, 7 per block, 2 after, within TC_W_MAX_LAYERS */
#define TC_DECODER_MAX_BLOCKS ((TC_W_MAX_LAYERS - 4) / 7)

typedef struct {
    const tc_wtensor *ln1_g, *ln1_b, *wqkv, *bqkv, *wo, *bo, *ln2_g, *ln2_b, *w1, *b1, *w2,
        *b2;  /* biases may be NULL */
    int gelu; /* a tc_gelu_mode */
} tc_dblock_desc;

typedef struct {
    tc_decoder_info info; /* everything but capacity */
    const tc_wtensor *embed, *lnf_g, *lnf_b, *wl, *bl;
    tc_dblock_desc blocks[TC_DECODER_MAX_BLOCKS];
} tc_decoder_desc;

/* Checks f (read by tc_wfile_read) as a decoder file: the records in their order,
 * each with its kind's parameters and tensors, and every shape. TC_ERR_CORRUPT
 * with the record and field at fault; *out points into f's buffer. */
tc_status tc_decoder_file_check(tc_ctx *ctx, const char *path, tc_wfile *f, tc_decoder_desc *out);

#endif
