/* Affine quantization: real = scale * (q - zero_point). Parameters from a range,
 * the quantize and dequantize ops, and calibration observers that pick the range
 * from a stream of batches. docs/quantization.md has the formulas. */
#ifndef TINYCL_QUANTIZE_H
#define TINYCL_QUANTIZE_H

#include <stdint.h>

#include "tinycl/layers.h"
#include "tinycl/quant.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* ---- parameters from a range ------------------------------------------------
 * The range [min, max] is first widened to include 0, so that real zero is exactly
 * representable (it maps to the integer zero point). dtype is S8 or U8.
 *   asymmetric: scale = (max - min) / (qmax - qmin) over the dtype's whole range,
 *               zero_point = qmin - rint(min / scale), clamped to [qmin, qmax];
 *   symmetric:  scale = max(|min|, |max|) / 127 and zero_point 0 (s8; the range
 *               [-127, 127], so -x is representable whenever x is) or 128 (u8).
 * A range of width 0 (min == max == 0) gives scale 1. Scales are at least FLT_MIN
 * (the smallest normal float: devices may flush denormals to zero). min and max
 * must be finite with min <= max; on failure nothing is written and the message is
 * read with tc_last_error(NULL). */
tc_status tc_quant_params_from_range(float min, float max, tc_dtype dtype, int symmetric, float *scale,
                                     int32_t *zero_point);
/* The same for `count` channels (count >= 1); every range is checked before any
 * output is written. */
tc_status tc_quant_params_from_ranges(int64_t count, const float *min, const float *max, tc_dtype dtype,
                                      int symmetric, float *scale, int32_t *zero_point);

/* ---- ops: variants AUTO, REF, OPENCL (include/tinycl/layers.h tc_op_params) ----
 * y (S8 or U8, x's dims) carries its parameters (tc_tensor_set_quant: per tensor
 * or per channel along any axis of y's dims):
 *   y = clamp(rint(x * (1 / scale)) + zero_point, qmin, qmax)
 * with 1 / scale rounded to float first (as PyTorch does), rint rounding half to
 * even, saturation at the dtype's ends (+-inf included) and NaN giving the zero
 * point. */
tc_status tc_quantize(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_op_params *p);
/* x (S8, U8 or S32 with parameters) -> y (F32, x's dims):
 *   y = (float)(x - zero_point) * scale
 * with the difference taken in 64-bit integers (exact) and rounded once to float. */
tc_status tc_dequantize(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_op_params *p);

/* ---- calibration observers ---------------------------------------------------
 * An observer sees a stream of f32 batches (tensors of its context, on any device;
 * read back to the host, O(n) per batch) and proposes a range per tensor or per
 * channel; the quantizer is separate (tc_quant_params_from_ranges). */
typedef struct tc_observer tc_observer;

typedef enum {
    TC_OBSERVER_MINMAX = 0,     /* running min and max */
    TC_OBSERVER_MOVING_AVG,     /* min and max averaged over batches: m += c * (batch - m) */
    TC_OBSERVER_PERCENTILE,     /* the percentile and its mirror of a histogram of every value seen */
    TC_OBSERVER_MSE,            /* the clip range minimizing the quantization error over the histogram */
    TC_OBSERVER_KIND_COUNT
} tc_observer_kind;

typedef struct {
    tc_observer_kind kind;
    int axis;          /* -1: per tensor; else one range per index of this axis of every batch */
    float averaging;   /* MOVING_AVG: c in (0, 1]; default 0.01 */
    double percentile; /* PERCENTILE: in (50, 100]; default 99.99 */
    int bins;          /* PERCENTILE, MSE: histogram bins per channel, 16..65536; default 2048 */
} tc_observer_options;
tc_observer_options tc_observer_defaults(tc_observer_kind kind);
const char *tc_observer_kind_name(tc_observer_kind kind);

tc_status tc_observer_create(tc_ctx *ctx, const tc_observer_options *o, tc_observer **out);
void tc_observer_free(tc_observer *obs);
/* Folds batch x (f32) in. Every value must be finite; per channel, x.dims[axis]
 * must equal the first batch's. On failure the observer is unchanged. */
tc_status tc_observer_update(tc_observer *obs, const tc_tensor *x);
/* Channels seen (1 per tensor; 0 before the first batch). */
int64_t tc_observer_channels(const tc_observer *obs);
/* The proposed clip range of each of `count` channels (count == channels) for
 * quantizing to dtype (S8 or U8), symmetric or not (the MSE search depends on both). */
tc_status tc_observer_range(const tc_observer *obs, tc_dtype dtype, int symmetric, int64_t count, float *min,
                            float *max);
/* The range turned into parameters by tc_quant_params_from_ranges. */
tc_status tc_observer_params(const tc_observer *obs, tc_dtype dtype, int symmetric, int64_t count, float *scale,
                             int32_t *zero_point);
/* Sets those parameters on t (S8 or U8; dtype taken from t; per channel along the
 * observer's axis, which must have as many channels in t's dims). */
tc_status tc_observer_set_quant(const tc_observer *obs, int symmetric, tc_tensor *t);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
