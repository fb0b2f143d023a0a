/* Layer kinds: one table row per kind says what a weight file may hold for it
 * (parameters, tensors by role and dtype), how it maps a sample's shape (with the
 * op's own geometry checks), and how a model prepares, runs and describes it.
 * A new kind is a tc_layer_type value and a row in kinds.c. */
#ifndef TINYCL_MODEL_KIND_H
#define TINYCL_MODEL_KIND_H

#include "model/format.h"

#define TC_KIND_SLOTS 4

typedef struct {
    tc_tensor_role role; /* 0 ends the list */
    unsigned dtypes;     /* 1u << dtype for each accepted dtype */
    int required;
} tc_tensor_slot;

/* A layer of a loaded model. */
typedef struct tc_layer_kind tc_layer_kind;
typedef struct {
    const tc_layer_kind *kind;
    tc_wlayer d;                    /* the description; values and quantization live in t[] */
    tc_tensor *t[TC_W_MAX_TENSORS]; /* d.t[i] on the model's device */
    void *plan;                     /* the kind's prepared state; NULL: one-shot ops */
    tc_variant variant;             /* f32 linear and conv2d: their plans' variant (AUTO, or CLBLAST) */
    tc_tensor *out;                 /* [batch, d.out]; NULL for the last layer (it writes y) and views */
    tc_tensor *view;                /* views: the reshaped input of the last forward */
    int64_t weights, nonzero;       /* weight layers: the dense shape's weight count, and the non-zero ones */
    int csr;                        /* the weight is held in CSR: values, row_ptr and col_idx tensors */
} tc_mlayer;

struct tc_layer_kind {
    const char *name;
    int nparams;
    unsigned flags; /* flag bits the kind allows */
    int int8_in;    /* takes s8/u8 samples (else f32 only) */
    tc_tensor_slot slots[TC_KIND_SLOTS];
    /* Checks parameters and tensor shapes against l->in and sets l->out (already
     * l->in); returns -1 with the reason in why. NULL: the shape is kept. */
    int (*shape)(tc_wlayer *l, char *why, size_t n);
    /* NULL for a view: the output is the input reshaped to d.out. */
    tc_status (*run)(tc_ctx *ctx, const tc_mlayer *l, const tc_tensor *x, tc_tensor *y);
    /* Makes l->plan from the uploaded tensors; NULL when the kind has none. */
    tc_status (*prepare)(tc_ctx *ctx, tc_mlayer *l);
    void (*release)(void *plan);
    /* Writes "(parameters)" like snprintf; NULL: nothing to say. */
    int (*summary)(const tc_wlayer *l, char *buf, size_t n);
    /* 1: a record of decoder files only (model/decoder_file.h), which checks its shapes */
    int decoder;
    /* 1: a model-level record (pruning), first in a file and not a layer of the model */
    int meta;
};

struct tc_model {
    tc_ctx *ctx;
    char name[33];
    tc_shape in;
    int64_t classes;
    int n;
    tc_mlayer *layers;
    int64_t batch;     /* batch size the activations are allocated for; 0: none */
    tc_tensor *logits; /* predict's [batch, classes] */
    tc_wprune prune;   /* the file's pruning record */
};

/* A model from a read (or built) file: the kinds' checks, then the tensors uploaded
 * and the plans made (none with TC_MODEL_ONESHOT); path names it in messages. */
tc_status tc_model_from_wfile(tc_ctx *ctx, const char *path, tc_wfile *f, unsigned flags, tc_model **out);
/* The model as a version-2 file description, every tensor read back to host memory
 * (free with tc_wfile_free_data). */
tc_status tc_model_to_wfile(const tc_model *m, tc_wfile *f);
void tc_wfile_free_data(tc_wfile *f);

/* NULL when type is not a kind. */
const tc_layer_kind *tc_layer_kind_of(uint32_t type);

/* Layer i's kind, flags, parameter count and values, and tensors (roles, dtypes,
 * the required ones), as its kind's row says; parameters are left in the kind's
 * count (a version-1 record's unused zeros dropped). Not its shapes. */
tc_status tc_wlayer_check(tc_ctx *ctx, const char *path, int version, int i, tc_wlayer *l);

/* What tc_wfile_read leaves to the kinds: each layer's type, flags, parameters
 * and tensors, the chain of sample shapes from f->in, and a last layer that
 * computes a [classes] vector. Parameters are left in the kind's count (a
 * version-1 record's unused zeros dropped). */
tc_status tc_wfile_check(tc_ctx *ctx, const char *path, tc_wfile *f);

/* ---- weights in CSR (model/sparse.c) ---- */

/* The dense weight count of a linear, conv2d, qlinear or qconv2d layer from its
 * parameters (0 for other kinds), and its non-zero weights (host values, dense or CSR). */
int64_t tc_wlayer_weights(const tc_wlayer *l);
int64_t tc_wlayer_nonzero(const tc_wlayer *l);
/* The checks of a weight held in CSR for a rows x cols matrix: row_ptr and col_idx
 * both present, no quantization, row_ptr [rows + 1], weight and col_idx [nnz], and
 * the arrays (tc_csr_check). 0, or -1 with the reason in why. */
int tc_wlayer_check_csr(const tc_wlayer *l, int64_t rows, int64_t cols, char *why, size_t n);
/* Conversions of a checked description whose tensor data is the caller's (malloc'd,
 * as tc_model_to_wfile makes it): the weight dense (row_ptr and col_idx dropped), or
 * an f32 unquantized weight in CSR (row_ptr and col_idx appended; nothing when it
 * has no non-zero). Either is a no-op when the weight already is so. */
tc_status tc_wlayer_to_dense(tc_ctx *ctx, tc_wlayer *l);
tc_status tc_wlayer_to_csr(tc_ctx *ctx, tc_wlayer *l);
/* Each f32 linear and conv2d weight of f dense or in CSR, whichever file record is
 * smaller (dense on a tie). */
tc_status tc_wfile_compact(tc_ctx *ctx, tc_wfile *f);
/* A loaded layer's tensor of `role`, or NULL. */
const tc_tensor *tc_mlayer_tensor(const tc_mlayer *l, tc_tensor_role role);
/* Whether a linear or conv2d layer's plan runs the sparse kernels: [0] for batches
 * up to TC_GEMV_MAX_M, [1] above (0 without a plan). */
void tc_mlayer_runs_sparse(const tc_mlayer *l, int sparse[2]);
/* The layer's weight as a dense f32 tensor on ctx ([out, in] or [K, C, R, S]): a
 * view of the held weight, or made from its CSR. The caller frees it. */
tc_status tc_mlayer_weight(tc_ctx *ctx, const tc_mlayer *l, tc_tensor **out);

#endif
