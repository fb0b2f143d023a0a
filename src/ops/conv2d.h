/* conv2d's steps, shared by the one-shot tc_conv2d and the plans (conv2d_plan.c):
 * setup (validate the weights and parameters, choose the variant; touches no
 * memory) -> prepare (plans only: transform the weights once) -> run (check x and
 * y, launch). Without prepare, run transforms the weights itself, into scratch. */
#ifndef TINYCL_OPS_CONV2D_H
#define TINYCL_OPS_CONV2D_H

#include "core/internal.h"
#include "ref/ref.h"

typedef struct {
    tc_ctx *ctx;
    tc_conv_dims d;             /* d.n: the batch of the run under way */
    tc_variant v;               /* never AUTO */
    tc_variant gemm_v;          /* im2col: the GEMM variant for its shape */
    const tc_tensor *w, *bias;  /* bias may be NULL */
    int relu;
    char opts[64];              /* build options of the variant's conv2d.cl kernels */
    /* cpu: output channels per block, vectors per work-item, padded-plane layout */
    int kb, nv, flat;
    int64_t wo, rows, plane, qv, nvec, blocks, wp_elems;
    /* weights prepared once (plans); NULL: run prepares them per call */
    tc_tensor *wp;              /* cpu: w packed in blocks of kb output channels */
    void *hw, *hb;              /* ref: host copies of w and bias */
} tc_conv;

/* The geometry int16 of the conv2d kernels, laid out by TC_CONV_GEOMETRY (iface.h). */
cl_int16 tc_conv_geometry(const tc_conv_dims *d);
/* Validates w, p and the input's C x H x W and fills c; no memory touched. AUTO
 * chooses for batches of n (0: any). */
tc_status tc_conv_setup(tc_ctx *ctx, const tc_tensor *w, const int64_t x_chw[3], int64_t n,
                        const tc_conv2d_params *p, tc_conv *c);
/* Builds the variant's kernels and transforms the weights into c's own memory. */
tc_status tc_conv_prepare(tc_conv *c);
/* Frees what tc_conv_prepare made. */
void tc_conv_release(tc_conv *c);
/* Checks x [N, C, H, W] and y [N, K, P, Q], then runs c's variant as one op. */
tc_status tc_conv_run(tc_conv *c, const tc_tensor *x, tc_tensor *y);
/* The checks of tc_conv_run alone; sets c->d.n. */
tc_status tc_conv_check_io(tc_conv *c, const tc_tensor *x, const tc_tensor *y);
/* The [C*R*S, P*Q] column matrix of image n as a buffer and element offset: x's own
 * planes for a 1x1, stride-1, unpadded kernel, else im2col into scratch. */
tc_status tc_conv_columns(tc_conv *c, const tc_tensor *x, int64_t n, cl_mem *col, cl_ulong *col_off);

#endif
