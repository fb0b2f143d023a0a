/* The .tcw (model) and .tcd (labelled samples) file formats of docs/weights.md:
 * read, check every field, and describe on the host; nothing on a device yet. */
#ifndef TINYCL_MODEL_FORMAT_H
#define TINYCL_MODEL_FORMAT_H

#include <stdint.h>

#include "core/internal.h"

#define TC_W_MAX_LAYERS 64
#define TC_W_PARAMS 6
#define TC_SAMPLE_DIMS 3

/* A shape of one sample (no batch dimension). */
typedef struct {
    int ndim;
    int64_t d[TC_SAMPLE_DIMS];
} tc_shape;

typedef struct {
    tc_layer_type type;
    int relu;
    int64_t p[TC_W_PARAMS];
    int ntensors;
    int tndim[2];
    int64_t tdims[2][4];
    const float *data[2]; /* inside the file buffer */
    tc_shape in, out;
} tc_wlayer;

typedef struct {
    unsigned char *buf; /* the whole file; owned */
    char name[33];
    tc_shape in;
    int nlayers;
    tc_wlayer layers[TC_W_MAX_LAYERS];
} tc_wfile;

typedef struct {
    unsigned char *buf; /* owned */
    int64_t count, classes;
    tc_shape sample;
    const float *images;
    const int32_t *labels;
} tc_dfile;

uint32_t tc_crc32(const void *data, size_t n);
const char *tc_layer_name(tc_layer_type t);
/* "[2, 3, 4]" */
void tc_fmt_dims(const int64_t *d, int n, char *buf, size_t len);

/* On failure nothing is left allocated (f->buf is NULL). */
tc_status tc_wfile_read(tc_ctx *ctx, const char *path, tc_wfile *f);
tc_status tc_dfile_read(tc_ctx *ctx, const char *path, tc_dfile *f);

int64_t tc_shape_numel(const tc_shape *s);

#endif
