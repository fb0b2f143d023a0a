/* Sequential models loaded from a weight file (docs/weights.md) and labelled
 * sample sets. A model's tensors live in the context it was loaded in (which it
 * keeps alive) and each layer runs the context's op (OpenCL kernels, or the
 * reference on `ref`). Errors of forward and predict name the call and the layer. */
#ifndef TINYCL_MODEL_H
#define TINYCL_MODEL_H

#include "tinycl/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef enum {
    TC_LAYER_LINEAR = 1,
    TC_LAYER_CONV2D,
    TC_LAYER_RELU,
    TC_LAYER_SOFTMAX,
    TC_LAYER_FLATTEN,
    TC_LAYER_GLOBAL_AVGPOOL,
    TC_LAYER_MAXPOOL2D,
    TC_LAYER_AVGPOOL2D,
    TC_LAYER_END
} tc_layer_type;

/* What a tensor of a layer is for (weight files name each tensor's role). */
typedef enum {
    TC_ROLE_WEIGHT = 1,
    TC_ROLE_BIAS,
    TC_ROLE_GAMMA,
    TC_ROLE_BETA,
    TC_ROLE_SCALE,
    TC_ROLE_ZERO_POINT,
    TC_ROLE_END
} tc_tensor_role;

const char *tc_layer_name(tc_layer_type t);
const char *tc_role_name(tc_tensor_role r);

typedef struct tc_model tc_model;

/* Reads and checks the whole file (version 1 or 2), then uploads the weights and
 * prepares each layer's plan. Unreadable file: TC_ERR_IO; anything wrong in it:
 * TC_ERR_CORRUPT. On failure *out is NULL and nothing stays allocated. */
tc_status tc_model_load(tc_ctx *ctx, const char *path, tc_model **out);
/* Flags for tc_model_load_flags. ONESHOT: layers call the one-shot ops, which
 * validate, choose a variant and prepare the weights on every call, instead of
 * plans made at load (to measure what plans save). */
#define TC_MODEL_ONESHOT 1u
tc_status tc_model_load_flags(tc_ctx *ctx, const char *path, unsigned flags, tc_model **out);
/* Writes the model as a version-2 weight file (written to a temporary file in the
 * same directory, then renamed over path). */
tc_status tc_model_save(const tc_model *m, const char *path);
void tc_model_free(tc_model *m);

const char *tc_model_name(const tc_model *m);
/* Elements of one input sample and number of outputs (classes). */
int64_t tc_model_input_numel(const tc_model *m);
int64_t tc_model_classes(const tc_model *m);
/* One line: "linear(64->128)+relu > ... > softmax". */
void tc_model_summary(const tc_model *m, char *buf, size_t n);

/* y[B, classes] = model(x); x is f32 with B = dim 0 and one sample's elements
 * in the rest (any shape: [B, 64] and [B, 1, 8, 8] both feed an 8x8 model).
 * Activations are allocated on the first call with a batch size and reused. */
tc_status tc_model_forward(tc_model *m, const tc_tensor *x, tc_tensor *y);
/* pred[B] (s32) = argmax of the model's output for each sample. */
tc_status tc_model_predict(tc_model *m, const tc_tensor *x, tc_tensor *pred);

/* A .tcd file: *images f32 [N, sample dims...], *labels s32 [N]. On failure
 * both are NULL and nothing stays allocated. */
tc_status tc_dataset_load(tc_ctx *ctx, const char *path, tc_tensor **images, tc_tensor **labels);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
