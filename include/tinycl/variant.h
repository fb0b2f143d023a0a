/* Kernel variants. Every op accepts TC_VARIANT_AUTO and a subset of the others;
 * asking for one that an op or device does not have returns TC_ERR_UNSUPPORTED. */
#ifndef TINYCL_VARIANT_H
#define TINYCL_VARIANT_H

#include "tinycl/status.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef enum {
    TC_VARIANT_AUTO = 0, /* chosen by device type, shape and the device parameter table */
    TC_VARIANT_REF,      /* plain C reference (on an OpenCL device: copied to the host and back) */
    TC_VARIANT_CPU,      /* OpenCL shaped for CPUs: explicit vectors, register blocking */
    TC_VARIANT_GPU,      /* OpenCL shaped for GPUs: local-memory tiles */
    TC_VARIANT_GEMV,     /* memory-bound kernel for few rows (M <= 8) streaming the weights */
    TC_VARIANT_CLBLAST,  /* CLBlast */
    TC_VARIANT_IM2COL,   /* convolution as im2col + the project's GEMM */
    TC_VARIANT_OPENCL,   /* the one portable OpenCL kernel of a simple op (elementwise, pooling ...) */
    TC_VARIANT_VNNI,     /* PoCL on an x86 host with AVX512-VNNI: vpdpbusd on 512-bit vectors */
    TC_VARIANT_VNNI256,  /* PoCL on an x86 host with AVX-VNNI (or AVX512-VNNI + VL): 256-bit vpdpbusd */
    TC_VARIANT_SPLIT,    /* a long reduction split across work-groups, partial results merged (flash-decoding) */
    TC_VARIANT_OPENBLAS, /* the host's OpenBLAS (cblas_sgemm / cblas_sgemv) on a context made with "openblas" */
    TC_VARIANT_COUNT
} tc_variant;

const char *tc_variant_name(tc_variant v);
/* Parses a name ("cpu", "clblast", ...); TC_ERR_INVALID_ARG when unknown. */
tc_status tc_variant_parse(const char *name, tc_variant *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
