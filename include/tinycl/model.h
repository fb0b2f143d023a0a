/* Sequential models loaded from a weight file (docs/weights.md) and labelled
 * sample sets. A model's tensors live in the context it was loaded in (which it
 * keeps alive) and each layer runs the context's op (OpenCL kernels, or the
 * reference on `ref`). Errors of forward and predict name the call and the layer. */
#ifndef TINYCL_MODEL_H
#define TINYCL_MODEL_H

#include "tinycl/quantize.h"
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
    TC_LAYER_QLINEAR, /* int8 linear and conv2d (tc_model_quantize, include/tinycl/qlayers.h) */
    TC_LAYER_QCONV2D,
    /* records of decoder files only (tinycl/decoder.h, docs/weights.md) */
    TC_LAYER_TOKEN_EMBEDDING,
    TC_LAYER_SINUSOIDAL_POSITIONS,
    TC_LAYER_LAYERNORM,
    TC_LAYER_ATTENTION,
    TC_LAYER_GELU,
    /* a model-level record, first in a file: the pruning the model went through
     * (tinycl/compress.h, docs/weights.md); not a layer of the loaded model */
    TC_LAYER_PRUNING,
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
    TC_ROLE_ROW_PTR, /* a linear or conv2d weight in CSR: s32 row pointers, s32 column indices, */
    TC_ROLE_COL_IDX, /* and the non-zero values as its `weight` (docs/weights.md) */
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
/* CLBLAST: f32 linear and conv2d layers run CLBlast's GEMM (the clblast variant of
 * their plans; OpenCL devices only) instead of the variants AUTO picks. */
#define TC_MODEL_CLBLAST 2u
tc_status tc_model_load_flags(tc_ctx *ctx, const char *path, unsigned flags, tc_model **out);
/* Writes the model as a version-2 weight file (written to a temporary file in the
 * same directory, then renamed over path). Each f32 linear and conv2d weight is
 * written dense or in CSR, whichever takes fewer bytes. */
tc_status tc_model_save(const tc_model *m, const char *path);
void tc_model_free(tc_model *m);

const char *tc_model_name(const tc_model *m);
/* Elements of one input sample and number of outputs (classes). */
int64_t tc_model_input_numel(const tc_model *m);
int64_t tc_model_classes(const tc_model *m);
/* Bytes of the model's parameters as it holds them: every tensor of every layer
 * (weights, biases, activation scales; a weight held in CSR counts its values,
 * column indices and row pointers) and its quantization parameters (a 4-byte scale
 * and zero point each). */
int64_t tc_model_bytes(const tc_model *m);
/* One line: "linear(64->128)+relu > ... > softmax". */
void tc_model_summary(const tc_model *m, char *buf, size_t n);

/* y[B, classes] = model(x); x is f32 with B = dim 0 and one sample's elements
 * in the rest (any shape: [B, 64] and [B, 1, 8, 8] both feed an 8x8 model).
 * Activations are allocated on the first call with a batch size and reused. */
tc_status tc_model_forward(tc_model *m, const tc_tensor *x, tc_tensor *y);
/* pred[B] (s32) = argmax of the model's output for each sample. */
tc_status tc_model_predict(tc_model *m, const tc_tensor *x, tc_tensor *pred);

/* Post-training quantization: an int8 copy of model m. Every linear and conv2d layer
 * becomes a qlinear / qconv2d (include/tinycl/qlayers.h): s8 weights quantized once
 * (symmetric, over each output channel's or the whole tensor's range), s32 bias, and
 * its input's per-tensor quantization calibrated by running m in f32 over `calib`
 * ([N, one sample's elements in any shape], f32, in m's context: never the images the
 * int8 model is scored on) in batches, one observer per quantized layer's input.
 * With keep_int8 a quantized layer whose output reaches the next quantized layer
 * through max pooling and flatten only requantizes straight into that layer's input
 * (pooling runs on the int8 values, which the max commutes with); otherwise, and at
 * the end, it dequantizes to f32 and the next quantized layer quantizes its input on
 * the fly. The result passes the loader's checks and saves as a version-2 weight
 * file (tc_model_save); m is left as it was (its activations are reused). */
typedef struct {
    int per_channel;           /* weights: one scale per output channel (default 1) or one per tensor */
    tc_observer_kind observer; /* activations' calibration (default MINMAX) */
    int keep_int8;             /* default 1 */
    tc_dtype act_dtype;        /* activations: U8 (default, asymmetric) or S8 */
    int64_t batch;             /* calibration images per forward pass (default 128) */
} tc_model_quant_options;
tc_model_quant_options tc_model_quant_defaults(void);
tc_status tc_model_quantize(tc_model *m, const tc_tensor *calib, const tc_model_quant_options *o, tc_model **out);

/* A .tcd file: *images f32 [N, sample dims...], *labels s32 [N]. On failure
 * both are NULL and nothing stays allocated. */
tc_status tc_dataset_load(tc_ctx *ctx, const char *path, tc_tensor **images, tc_tensor **labels);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
