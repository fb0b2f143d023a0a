/* Helpers shared by the layer ops of include/tinycl/layers.h: variant choice,
 * argument checks, the host path of the `ref` variant and descriptor inputs. */
#ifndef TINYCL_OPS_LAYER_H
#define TINYCL_OPS_LAYER_H

#include "check/opdesc.h"
#include "core/internal.h"

/* Resolves v for an op with the portable OPENCL kernel and maybe one more: `alt`
 * is TC_VARIANT_GPU (for devices other than CPUs), TC_VARIANT_CPU (for CPUs) or
 * TC_VARIANT_AUTO (none). AUTO is REF on ref, alt where it fits the device, else
 * OPENCL. Unknown or absent variants fail. */
tc_status tc_layer_variant(tc_ctx *ctx, const char *op, tc_variant v, tc_variant alt, tc_variant *out);

/* Writes "3x4x5" into buf. */
void tc_dims_str(const tc_tensor *t, char *buf, size_t n);
/* TC_ERR_SHAPE unless b has the dims of a (messages name them "op: b"). */
tc_status tc_check_same_dims(tc_ctx *ctx, const char *op, const tc_tensor *a, const char *an, const tc_tensor *b,
                             const char *bn);
/* TC_ERR_INVALID_ARG when y shares storage with x (x may be NULL). */
tc_status tc_check_no_alias(tc_ctx *ctx, const char *op, const tc_tensor *y, const char *yn, const tc_tensor *x,
                            const char *xn);
/* rows x d view of t over its last dimension; on OpenCL both must fit an int. */
tc_status tc_rows_of(tc_ctx *ctx, const char *op, const tc_tensor *t, int64_t *rows, int64_t *d);

/* Runs fn(host inputs, host output, args) on host copies: the `ref` variant on any
 * context. The output is not read first, so it may alias an input. fn returns 0,
 * or -1 when host memory runs out (then y is left as it was). */
typedef int (*tc_host_fn)(void *const *in, void *out, const void *args);
tc_status tc_host_run(tc_ctx *ctx, int nin, const tc_tensor *const *in, tc_tensor *out, tc_host_fn fn,
                      const void *args);

/* Work-items rounded up to a multiple of 64 (kernels bounds-check), NULL local size. */
tc_status tc_launch_1d(tc_ctx *ctx, cl_kernel k, const char *name, size_t items);

/* Host arguments of the row ops (softmax, layernorm, argmax). */
typedef struct {
    int64_t rows, d;
    float eps;
} tc_row_args;

/* Row kernels (softmax, layernorm, argmax): `<program>_rows` for OPENCL (one work-item per
 * row) or `<program>_wg` for GPU (one work-group per row), built with -DWG. */
tc_status tc_row_kernel(tc_ctx *ctx, const char *program, tc_variant v, cl_kernel *k);
/* Launches it over `rows` rows once its arguments are set. */
tc_status tc_row_launch(tc_ctx *ctx, cl_kernel k, const char *program, tc_variant v, int64_t rows);
/* A row op y = f(x) in variant v: fn on host copies (REF), or the row kernel of
 * kernels/<program>.cl with arguments (x, y, rows, d). */
tc_status tc_row_run(tc_ctx *ctx, const char *program, tc_variant v, const tc_tensor *x, tc_tensor *y, tc_host_fn fn,
                     const tc_row_args *a);

/* Descriptors: adds an f32 input of dims, uniform in [lo, hi); *host is its host copy. */
tc_status tc_layer_input(tc_ctx *ctx, tc_opdata *d, int ndim, const int64_t *dims, float lo, float hi,
                         uint64_t *seed, float **host);
/* Parses "AxBxC" (1..max numbers >= 0; setup rejects bad sizes) into v[]; returns
 * the count, or -1. */
int tc_parse_dims(const char *spec, int64_t *v, int max);

/* Row-op bench sizes "ROWSxD" into the keys rows and d. */
#define TC_ROWS_SYNTAX "ROWSxD"
int tc_rows_parse(const char *spec, tc_case *c);

#endif
