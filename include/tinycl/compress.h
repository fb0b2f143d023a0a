/* Model compression: pruning a loaded sequential model (single weights, blocks, or
 * whole neurons and filters), how sparse a model is, and what each of its layers
 * holds. A pruned linear layer runs through a tc_sparse_linear_plan (sparse from
 * the device's breakeven sparsity, dense below it), a pruned conv2d through a
 * tc_sparse_conv2d_plan when its sparsity reaches the breakeven (else dense), and
 * tc_model_save writes each weight dense or in CSR, whichever is smaller. See
 * docs/sparse.md (Pruned models) and docs/weights.md. */
#ifndef TINYCL_COMPRESS_H
#define TINYCL_COMPRESS_H

#include "tinycl/model.h"
#include "tinycl/sparse.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef struct {
    /* [0, 1). Unstructured: the fraction of each layer's weights (of all the
     * model's with `global`) to zero. Structured: the fraction of each layer's
     * output channels to remove. */
    double sparsity;
    /* 1: remove whole output neurons (linear) and filters (conv2d) of smallest L2
     * norm, with their biases and the next layer's matching inputs, so the layers
     * physically shrink; the last linear or conv2d layer (the classes) keeps its
     * outputs. 0: zero single weights or blocks by magnitude in every linear and
     * conv2d layer. */
    int structured;
    tc_prune_pattern pattern; /* unstructured: single weights or blocks (tc_prune_magnitude) */
    int global;               /* unstructured: one threshold across the layers (tc_prune_global) */
} tc_model_prune_options;
tc_model_prune_options tc_model_prune_defaults(void); /* {0.5, 0, TC_PRUNE_ELEMENT, 0} */

/* A pruned copy of m (f32 models: prune before tc_model_quantize). Zeros already
 * in m count as pruned, so pruning a pruned model to a higher sparsity prunes
 * further; structured pruning of a structured model removes that fraction of the
 * remaining channels. Ties go to the lower index (tinycl/sparse.h). The copy
 * records the pruning (a model-level record in its file: structured or not, and
 * the weight count before any structured pruning), runs its pruned layers on the
 * sparse plans, holds weights in CSR where that is smaller, passes the loader's
 * checks and saves with tc_model_save; its name gains "_pruned" or "_structured".
 * Errors: sparsity outside [0, 1) or an unknown pattern (TC_ERR_INVALID_ARG),
 * structured with a block pattern or global (TC_ERR_INVALID_ARG: those are
 * unstructured options), a model with int8 layers or without a linear or conv2d
 * layer, or a structured pruning across a layer that mixes channels, such as a
 * softmax (TC_ERR_UNSUPPORTED). m is not changed. */
tc_status tc_model_prune(const tc_model *m, const tc_model_prune_options *o, tc_model **out);

/* *sparsity: the fraction of the model's prunable weights (linear, conv2d and
 * their int8 kinds) that are zero or, after structured pruning, removed: 1 -
 * non-zero weights / the weights before pruning (recorded in the file). *structured:
 * 1 when structured pruning made the model. Either pointer may be NULL. */
tc_status tc_model_sparsity(const tc_model *m, double *sparsity, int *structured);

/* What layer i (0 .. tc_model_layer_count - 1) of a loaded model holds. */
typedef struct {
    tc_layer_type type;
    int64_t weights; /* of its dense shape; 0 for a layer without weights */
    int64_t nonzero; /* non-zero weights */
    int csr;         /* the weight is held (and saved) in CSR */
    int sparse[2];   /* runs the sparse kernels: [0] for batches up to 8, [1] above */
} tc_model_layer_info;
int tc_model_layer_count(const tc_model *m);
tc_status tc_model_layer_info_get(const tc_model *m, int i, tc_model_layer_info *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
