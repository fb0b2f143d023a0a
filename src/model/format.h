/* The .tcw (model) and .tcd (labelled samples) file formats of docs/weights.md:
 * read and check every field, write version 2; host memory only. What a layer's
 * parameters and tensors mean, and how shapes chain, is the layer kinds' business
 * (model/kind.h). */
#ifndef TINYCL_MODEL_FORMAT_H
#define TINYCL_MODEL_FORMAT_H

#include <stdint.h>

#include "core/internal.h"

#define TC_W_MAX_LAYERS 64
#define TC_W_MAX_PARAMS 16
#define TC_W_MAX_TENSORS 16
#define TC_W_V1_PARAMS 6
#define TC_W_FLAG_RELU 1u
#define TC_W_PRUNE_PARAMS 3 /* structured, original weights: bits 0..30, bits 31..61 */
#define TC_SAMPLE_DIMS 3

/* A shape of one sample (no batch dimension) and its element type: f32, or s8/u8
 * with one scale and zero point (the activations of int8 models). */
typedef struct {
    int ndim;
    int64_t d[TC_SAMPLE_DIMS];
    tc_dtype dtype;
    float scale;
    int32_t zero_point;
} tc_shape;

/* The quantization mode field of a version-2 tensor record. */
typedef enum { TC_WQ_NONE = 0, TC_WQ_TENSOR, TC_WQ_CHANNEL, TC_WQ_END } tc_wq_mode;

typedef struct {
    uint32_t role; /* a tc_tensor_role once read */
    tc_dtype dtype;
    int ndim;
    int64_t dims[TC_MAX_DIMS];
    int64_t numel;
    tc_quant q;       /* count 0: none */
    const void *data; /* numel elements of dtype */
} tc_wtensor;

typedef struct {
    uint32_t type, flags; /* checked against the layer kinds by tc_wfile_check */
    int nparams;
    int64_t p[TC_W_MAX_PARAMS];
    int ntensors;
    tc_wtensor t[TC_W_MAX_TENSORS];
    tc_shape in, out; /* set by tc_wfile_check */
} tc_wlayer;

/* The model-level pruning record (layer type TC_LAYER_PRUNING, first in a file). */
typedef struct {
    int present;
    int structured;   /* structured pruning made the model */
    int64_t original; /* prunable weights before any structured pruning */
} tc_wprune;

typedef struct {
    unsigned char *buf; /* a read file's bytes, which data pointers point into; owned */
    int version;
    char name[33];
    tc_shape in;
    int nlayers;        /* the layers; a pruning record is taken out of them by tc_wfile_check */
    tc_wlayer layers[TC_W_MAX_LAYERS];
    tc_wprune prune;    /* written as the first record when present */
} tc_wfile;

typedef struct {
    unsigned char *buf; /* owned */
    int64_t count, classes;
    tc_shape sample;
    const float *images;
    const int32_t *labels;
} tc_dfile;

uint32_t tc_crc32(const void *data, size_t n);
/* "[2, 3, 4]" */
void tc_fmt_dims(const int64_t *d, int n, char *buf, size_t len);
int64_t tc_shape_numel(const tc_shape *s);
/* TC_ERR_CORRUPT with "path: " and the message. */
tc_status tc_wfail(tc_ctx *ctx, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The thread's error message (left by a check called without a context, which
 * returned s) without its status name. */
const char *tc_refusal(tc_status s);

/* Structure, checksum and every field that does not depend on the layer kind
 * (tensor roles, dtypes, quantization, the name, the input shape). On failure
 * nothing is left allocated (f->buf is NULL). */
tc_status tc_wfile_read(tc_ctx *ctx, const char *path, tc_wfile *f);
/* Writes f as version 2 (f->prune, when present, as the first record);
 * TC_ERR_INVALID_ARG when f does not describe a file. */
tc_status tc_wfile_write(tc_ctx *ctx, const tc_wfile *f, const char *path);
tc_status tc_dfile_read(tc_ctx *ctx, const char *path, tc_dfile *f);

#endif
