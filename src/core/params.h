/* Kernel parameters per family (CLBlast's database): one struct of named fields
 * per kernel family, rows of values per device (name substring and type) with a
 * safe default row, and run-time overrides (TINYCL_PARAMS, tc_params_set).
 * Adding a family: its struct here and in tc_params, its fields and rows in params.c. */
#ifndef TINYCL_CORE_PARAMS_H
#define TINYCL_CORE_PARAMS_H

#include <stddef.h>

typedef struct {
    int cpu_wg;   /* gemm_cpu: work-items per group along M (each 8 rows), a power of two */
    int cpu_kc;   /* gemm_cpu: rows of the B panel staged in local memory at a time */
    int gpu_tile; /* gemm_gpu: TS x TS outputs per work-group */
    int gpu_wpt;  /* gemm_gpu: WPT x WPT outputs per work-item */
} tc_par_gemm;

typedef struct {
    int wg; /* gemv_n / gemv_t work-group (gemv_n multiplies it for small M) */
} tc_par_gemv;

typedef struct {
    int gpu_tile;  /* conv_gpu: TS x TS outputs per work-group */
    int gpu_wpt;   /* conv_gpu: WPT x WPT outputs per work-item */
    int pixel_wg;  /* im2col and the bias/ReLU epilogue: work-items per group along output pixels */
    int direct_wg; /* conv_cpu and its packing kernels: 1 = one work-item per group, 0 = the driver's choice */
} tc_par_conv;

typedef struct {
    int vw; /* floats per work-item (vloadN), 2..16 */
} tc_par_eltwise;

typedef struct {
    int wg; /* softmax_wg, layernorm_wg, argmax_wg: work-group per row, a power of two */
} tc_par_rows;

typedef struct {
    int wg; /* pool2d, pool2d_rows: work-items per group along dimension 0; 0 = the driver's choice */
} tc_par_pool;

typedef struct {
    int vw; /* floats per work-item (vloadN), 2..16 */
} tc_par_embedding;

typedef struct {
    int vnni;     /* AUTO takes igemm's vnni, then vnni256, where PoCL's host CPU has them (0 or 1) */
    int gpu;      /* AUTO takes igemm's tiled gpu kernel (0 or 1); with neither, the portable opencl */
    int cpu_wg;   /* igemm_opencl, igemm_vnni: work-items per group along M, a power of two */
    int gpu_tile; /* igemm_gpu: TS x TS outputs per work-group */
    int gpu_wpt;  /* igemm_gpu: WPT x WPT outputs per work-item */
} tc_par_igemm;

typedef struct {
    int cpu_wg;       /* attn_cpu: work-items per group (16 queries each); 0 = the driver's choice */
    int gpu_wq;       /* attn_gpu: queries per work-group (one per work-item), a power of two */
    int gpu_tk;       /* attn_gpu: keys per local tile (halved to fit local memory), a power of two */
    int dec_vec;      /* decode: 1 = attn_dec1 (a work-item per query and split, head_dim in vectors), 0 = attn_dec */
    int dec_wg;       /* attn_dec: work-items per (query, split), a power of two */
    int dec_tk;       /* attn_dec: keys whose scores are staged in local memory at a time */
    int split_keys;   /* SPLIT: the fewest keys a split gets */
    int split_groups; /* AUTO: SPLIT when (queries x heads) is below this many work-groups per compute unit */
} tc_par_attention;

typedef struct {
    int cpu_vw;        /* spmm_cpu: floats per vector over the batch columns, a power of two */
    int cpu_rows;      /* spmm_cpu: block rows per work-item */
    int gpu_wg;        /* spmm_gpu, spmv_gpu: work-items per group, a power of two */
    int breakeven_b1;  /* sparse linear plan, AUTO: sparse from this sparsity (percent) at batch <= 8 */
    int breakeven_b32; /* ... and at larger batches; 100 = always dense */
    int conv_breakeven; /* models: a pruned conv2d runs a sparse conv2d plan from this sparsity (percent); 100 = never */
} tc_par_sparse;

typedef struct {
    tc_par_gemm gemm;
    tc_par_gemv gemv;
    tc_par_conv conv;
    tc_par_eltwise eltwise;
    tc_par_rows rows;
    tc_par_pool pool;
    tc_par_embedding embedding;
    tc_par_igemm igemm;
    tc_par_attention attention;
    tc_par_sparse sparse;
} tc_params;

#define TC_PARAM_FIELDS_MAX   40
#define TC_PARAM_FAMILIES_MAX 16
#define TC_PARAM_NOTE_LEN     128

/* Where each active value came from, and why a launch used another. Fields are
 * indexed by their position in tc_params (every member is an int field). */
typedef struct {
    int row[TC_PARAM_FAMILIES_MAX];       /* the table row each family took */
    const char *src[TC_PARAM_FIELDS_MAX]; /* NULL: that row; else the override's origin */
    char note[TC_PARAM_FIELDS_MAX][TC_PARAM_NOTE_LEN];
} tc_params_origin;

#endif
