/* Quantization metadata carried by a tensor: real = scale * (q - zero_point), per
 * tensor or per channel along one axis. It belongs to the tensor's storage, so every
 * view of the tensor sees the same parameters; the axis and count refer to the dims
 * of the tensor the parameters were set on. */
#ifndef TINYCL_QUANT_H
#define TINYCL_QUANT_H

#include <stdint.h>

#include "tinycl/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef struct {
    int axis;                  /* -1: one scale and zero point for the whole tensor */
    int64_t count;             /* 1 per tensor; dims[axis] per channel */
    const float *scale;        /* count finite scales > 0 */
    const int32_t *zero_point; /* count zero points within the dtype's range (s8 -128..127, u8 0..255) */
} tc_quant;

/* Copies q into t's storage (NULL clears it). Validates everything first and leaves
 * the previous parameters in place on failure. */
tc_status tc_tensor_set_quant(tc_tensor *t, const tc_quant *q);
/* Fills *out with t's parameters (arrays owned by the tensor, valid until the next
 * tc_tensor_set_quant on any of its views or until the storage is freed); *out has
 * count 0 and NULL arrays when t carries none. */
tc_status tc_tensor_quant(const tc_tensor *t, tc_quant *out);
/* 1 when t carries quantization parameters. */
int tc_tensor_is_quantized(const tc_tensor *t);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
