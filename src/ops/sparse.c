/* Sparse matrices (CSR and BSR built once from pruned dense weights) and their
 * products: validate -> choose a variant -> launch (or run the reference). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iface.h"
#include "ops/gemm.h"
#include "ops/host.h"
#include "ops/layer.h"
#include "ops/sparse.h"

#define SLOT_XT 2   /* scratch: X^T, the batch-minor activations */
#define CPU_GROUP 8 /* spmm_cpu work-items per group: one group shape, one PoCL build */
#define AUTO_FILL 0.8

static const struct {
    const char *name;
    int br, bc;
} formats[] = {[TC_SPARSE_AUTO] = {"auto", 0, 0},
               [TC_SPARSE_CSR] = {"csr", 1, 1},
               [TC_SPARSE_BSR_1X4] = {"bsr1x4", 1, 4},
               [TC_SPARSE_BSR_1X8] = {"bsr1x8", 1, 8},
               [TC_SPARSE_BSR_4X4] = {"bsr4x4", 4, 4}};
_Static_assert(sizeof formats / sizeof formats[0] == TC_SPARSE_FORMAT_COUNT, "a name for every tc_sparse_format");

const char *tc_sparse_format_name(tc_sparse_format f)
{
    return f >= 0 && f < TC_SPARSE_FORMAT_COUNT ? formats[f].name : "invalid";
}

tc_status tc_sparse_format_parse(const char *name, tc_sparse_format *out)
{
    if (!name || !out) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_sparse_format_parse: NULL argument");
    for (int f = 0; f < TC_SPARSE_FORMAT_COUNT; f++)
        if (strcmp(name, formats[f].name) == 0) {
            *out = (tc_sparse_format)f;
            return TC_OK;
        }
    return tc_fail(NULL, TC_ERR_INVALID_ARG, "unknown sparse format '%s' (auto, csr, bsr1x4, bsr1x8, bsr4x4)", name);
}

/* ---- construction ------------------------------------------------------------ */

/* w on the host read as rows x wc, `groups` groups of kg rows, each group's columns
 * placed after the previous group's. */
typedef struct {
    const float *w;
    int64_t rows, wc, kg;
} dense_src;

/* 1 when block (block row I, local block column J) of br x bc holds a non-zero. */
static int block_nonzero(const dense_src *s, int br, int bc, int64_t I, int64_t J)
{
    for (int64_t r = I * br; r < I * br + br && r < s->rows; r++)
        for (int64_t c = J * bc; c < J * bc + bc; c++)
            if (s->w[r * s->wc + c] != 0.0f) return 1;
    return 0;
}

/* Blocks a br x bc format stores, or -1 when its blocks do not tile the groups. */
static int64_t count_blocks(const dense_src *s, int br, int bc)
{
    if (s->wc % bc || (s->kg != s->rows && s->kg % br)) return -1;
    int64_t n = 0;
    for (int64_t I = 0; I < (s->rows + br - 1) / br; I++)
        for (int64_t J = 0; J < s->wc / bc; J++) n += block_nonzero(s, br, bc, I, J);
    return n;
}

/* AUTO: the largest block whose stored values are at least AUTO_FILL non-zeros. */
static tc_sparse_format choose_format(const dense_src *s, int64_t nnz)
{
    static const tc_sparse_format by_size[] = {TC_SPARSE_BSR_4X4, TC_SPARSE_BSR_1X8, TC_SPARSE_BSR_1X4};
    for (int i = 0; nnz > 0 && i < TC_COUNT(by_size); i++) {
        const int br = formats[by_size[i]].br, bc = formats[by_size[i]].bc;
        const int64_t blocks = count_blocks(s, br, bc);
        if (blocks > 0 && (double)nnz >= AUTO_FILL * (double)blocks * br * bc) return by_size[i];
    }
    return TC_SPARSE_CSR;
}

/* Fills the arrays of a (allocated for a->nnzb blocks) from s. */
static void fill_arrays(const dense_src *s, const tc_sparse *a, int32_t *rp, int32_t *ci, float *val)
{
    const int br = a->br, bc = a->bc;
    const int64_t ncb = s->wc / bc;
    int64_t j = 0;
    rp[0] = 0;
    for (int64_t I = 0; I < a->mb; I++) {
        const int64_t col0 = (I * br / s->kg) * ncb; /* the group's first block column */
        for (int64_t J = 0; J < ncb; J++) {
            if (!block_nonzero(s, br, bc, I, J)) continue;
            ci[j] = (int32_t)(col0 + J);
            for (int i = 0; i < br; i++)
                for (int c = 0; c < bc; c++) {
                    const int64_t r = I * br + i;
                    val[(j * br + i) * bc + c] = r < s->rows ? s->w[r * s->wc + J * bc + c] : 0.0f;
                }
            j++;
        }
        rp[I + 1] = (int32_t)j;
    }
}

/* s32 or f32 tensor of n elements (at least one) holding host data. */
static tc_status upload(tc_ctx *ctx, tc_dtype dt, int64_t n, const void *host, tc_tensor **out)
{
    const int64_t dims[1] = {n > 0 ? n : 1};
    static const float zero = 0.0f;
    return tc_tensor_from_host(ctx, dt, 1, dims, n > 0 ? host : &zero, out);
}

static tc_status build_from(tc_ctx *ctx, const char *op, const dense_src *s, tc_sparse_format format, int64_t groups,
                            tc_sparse *a)
{
    int64_t nnz = 0;
    for (int64_t i = 0; i < s->rows * s->wc; i++) nnz += s->w[i] != 0.0f;
    if (format == TC_SPARSE_AUTO) format = choose_format(s, nnz);
    a->format = format, a->br = formats[format].br, a->bc = formats[format].bc;
    a->rows = s->rows, a->cols = s->wc * groups, a->mb = (s->rows + a->br - 1) / a->br, a->nnz = nnz;
    if (s->wc % a->bc)
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: %s needs the %lld columns%s to be a multiple of %d", op,
                       formats[format].name, (long long)s->wc, groups > 1 ? " per group" : "", a->bc);
    if (groups > 1 && s->kg % a->br)
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: %s needs the rows per group (%lld) to be a multiple of %d", op,
                       formats[format].name, (long long)s->kg, a->br);
    a->nnzb = count_blocks(s, a->br, a->bc);
    const int64_t stored = a->nnzb * a->br * a->bc;
    if (a->nnzb > INT32_MAX || stored >= ((int64_t)1 << 31) || a->cols > INT32_MAX)
        return tc_fail(ctx, TC_ERR_OVERFLOW, "%s: %lld stored values pass the int32 indices", op, (long long)stored);
    int32_t *rp = malloc((size_t)(a->mb + 1) * sizeof *rp), *ci = malloc((size_t)(a->nnzb + 1) * sizeof *ci);
    float *val = malloc((size_t)(stored + 1) * sizeof *val);
    tc_status st = TC_OK;
    if (!rp || !ci || !val) {
        st = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "%s: out of host memory", op);
    } else {
        fill_arrays(s, a, rp, ci, val);
        st = upload(ctx, TC_DTYPE_S32, a->mb + 1, rp, &a->rowptr);
        if (st == TC_OK) st = upload(ctx, TC_DTYPE_S32, a->nnzb, ci, &a->colidx);
        if (st == TC_OK) st = upload(ctx, TC_DTYPE_F32, stored, val, &a->values);
    }
    free(rp), free(ci), free(val);
    return st;
}

tc_status tc_sparse_build(tc_ctx *ctx, const char *op, const tc_tensor *w, int64_t groups, tc_sparse_format format,
                          tc_sparse **out)
{
    char name[48];
    snprintf(name, sizeof name, "%s: w", op);
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: out is NULL", op);
    *out = NULL;
    tc_status st = tc_check_tensor(ctx, w, name, TC_DTYPE_F32, 0);
    if (st != TC_OK) return st;
    if (format < 0 || format >= TC_SPARSE_FORMAT_COUNT)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: invalid sparse format %d", op, (int)format);
    if (w->ndim < 2) return tc_fail(ctx, TC_ERR_SHAPE, "%s: w has 1 dimension, expected 2 or more", op);
    if ((st = tc_gemm_check_extent(ctx, name, w)) != TC_OK) return st;
    if (groups < 1 || w->dims[0] % groups)
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: %lld groups do not divide %lld rows", op, (long long)groups,
                       (long long)w->dims[0]);
    tc_sparse *a = calloc(1, sizeof *a);
    void *hw = NULL;
    if (!a) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "%s: out of host memory", op);
    a->ctx = ctx;
    st = tc_host_get(w, &hw);
    if (st == TC_OK) {
        const dense_src s = {hw, w->dims[0], w->numel / w->dims[0], w->dims[0] / groups};
        st = build_from(ctx, op, &s, format, groups, a);
    }
    tc_host_put(w, hw);
    if (st != TC_OK) {
        tc_sparse_free(a);
        return st;
    }
    *out = a;
    return TC_OK;
}

tc_status tc_sparse_from_dense(tc_ctx *ctx, const tc_tensor *w, tc_sparse_format format, tc_sparse **out)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "sparse: ctx is NULL");
    if (w && w->ndim != 2) return tc_fail(ctx, TC_ERR_SHAPE, "sparse: w has %d dimensions, expected 2", w->ndim);
    return tc_sparse_build(ctx, "sparse", w, 1, format, out);
}

int tc_csr_check_sizes(int64_t rows, int64_t cols, int64_t nnz, char *why, size_t n)
{
    if (rows < 1 || rows > INT32_MAX || cols < 1 || cols > INT32_MAX) {
        snprintf(why, n, "%lld x %lld: rows and columns must be in 1..%d", (long long)rows, (long long)cols, INT32_MAX);
        return -1;
    }
    const int64_t cells = rows * cols; /* both below 2^31: no overflow */
    if (nnz < 0 || nnz > cells || nnz > INT32_MAX) {
        snprintf(why, n, "nnz %lld outside 0..%lld (a %lld x %lld matrix, int32 indices)", (long long)nnz,
                 (long long)(cells < INT32_MAX ? cells : INT32_MAX), (long long)rows, (long long)cols);
        return -1;
    }
    return 0;
}

int tc_csr_check(int64_t rows, int64_t cols, int64_t nnz, const int32_t *rowptr, const int32_t *colidx, char *why,
                 size_t n)
{
    if (rowptr[0] != 0) {
        snprintf(why, n, "row pointer 0 is %d, must be 0", (int)rowptr[0]);
        return -1;
    }
    for (int64_t r = 0; r < rows; r++) {
        const int64_t a = rowptr[r], b = rowptr[r + 1];
        if (b < a || b > nnz) {
            snprintf(why, n, "row pointer %lld is %lld after %lld: row pointers must not decrease and stay within "
                     "nnz %lld", (long long)(r + 1), (long long)b, (long long)a, (long long)nnz);
            return -1;
        }
        for (int64_t j = a; j < b; j++) {
            if (colidx[j] < 0 || colidx[j] >= cols) {
                snprintf(why, n, "column index %lld (row %lld) is %d, outside 0..%lld", (long long)j, (long long)r,
                         (int)colidx[j], (long long)(cols - 1));
                return -1;
            }
            if (j > a && colidx[j] <= colidx[j - 1]) {
                snprintf(why, n, "column index %lld (row %lld) is %d after %d: a row's columns must increase",
                         (long long)j, (long long)r, (int)colidx[j], (int)colidx[j - 1]);
                return -1;
            }
        }
    }
    if (rowptr[rows] != nnz) {
        snprintf(why, n, "nnz mismatch: the last row pointer is %d, the arrays hold %lld values", (int)rowptr[rows],
                 (long long)nnz);
        return -1;
    }
    return 0;
}

tc_status tc_sparse_from_csr(tc_ctx *ctx, int64_t rows, int64_t cols, int64_t nnz, const int32_t *rowptr,
                             const int32_t *colidx, const float *values, tc_sparse **out)
{
    static const char op[] = "tc_sparse_from_csr";
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: out is NULL", op);
    *out = NULL;
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: ctx is NULL", op);
    char why[200];
    if (tc_csr_check_sizes(rows, cols, nnz, why, sizeof why)) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: %s", op, why);
    if (!rowptr || (nnz > 0 && (!colidx || !values)))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: rowptr%s is NULL", op, rowptr ? ", colidx or values" : "");
    if (tc_csr_check(rows, cols, nnz, rowptr, colidx, why, sizeof why))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: %s", op, why);
    tc_sparse *a = calloc(1, sizeof *a);
    if (!a) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "%s: out of host memory", op);
    *a = (tc_sparse){.ctx = ctx, .format = TC_SPARSE_CSR, .br = 1, .bc = 1, .rows = rows, .cols = cols, .mb = rows,
                     .nnzb = nnz};
    for (int64_t j = 0; j < nnz; j++) a->nnz += values[j] != 0.0f;
    tc_status st = upload(ctx, TC_DTYPE_S32, rows + 1, rowptr, &a->rowptr);
    if (st == TC_OK) st = upload(ctx, TC_DTYPE_S32, nnz, colidx, &a->colidx);
    if (st == TC_OK) st = upload(ctx, TC_DTYPE_F32, nnz, values, &a->values);
    if (st != TC_OK) {
        tc_sparse_free(a);
        return st;
    }
    *out = a;
    return TC_OK;
}

tc_status tc_sparse_info_get(const tc_sparse *a, tc_sparse_info *out)
{
    if (!a || !out) return tc_fail(a ? a->ctx : NULL, TC_ERR_INVALID_ARG, "tc_sparse_info_get: NULL argument");
    const int64_t stored = a->nnzb * a->br * a->bc;
    *out = (tc_sparse_info){a->format, a->rows, a->cols, a->nnz, stored, (size_t)stored * 4, (size_t)a->nnzb * 4,
                            (size_t)(a->mb + 1) * 4, 0, (size_t)(a->rows * a->cols) * 4};
    out->total_bytes = out->values_bytes + out->index_bytes + out->rowptr_bytes;
    return TC_OK;
}

void tc_sparse_free(tc_sparse *a)
{
    if (!a) return;
    tc_tensor_free(a->rowptr);
    tc_tensor_free(a->colidx);
    tc_tensor_free(a->values);
    free(a);
}

/* ---- products ---------------------------------------------------------------- */

tc_spmm_params tc_spmm_defaults(void) { return (tc_spmm_params){NULL, 0, TC_VARIANT_AUTO}; }

tc_status tc_sparse_variant(tc_ctx *ctx, const char *op, tc_variant v, tc_variant *out)
{
    if (v < 0 || v >= TC_VARIANT_COUNT) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: invalid variant %d", op, (int)v);
    if (v == TC_VARIANT_AUTO)
        v = ctx->is_ref ? TC_VARIANT_REF : ctx->info.type == TC_DEVICE_CPU ? TC_VARIANT_CPU : TC_VARIANT_GPU;
    if (v != TC_VARIANT_REF && v != TC_VARIANT_CPU && v != TC_VARIANT_GPU)
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "%s has no variant '%s'", op, tc_variant_name(v));
    if (ctx->is_ref && v != TC_VARIANT_REF)
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "%s: variant '%s' needs an OpenCL device", op, tc_variant_name(v));
    *out = v;
    return TC_OK;
}

void tc_spmm_tile(const tc_ctx *ctx, int64_t n, int *vw, int *nv)
{
    int w = 2;
    while (w < ctx->params.sparse.cpu_vw && w < n) w *= 2;
    *vw = w;
    *nv = n > w ? 2 : 1;
}

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

/* Batch 1 (x contiguous, y one value per row): spmv_cpu or spmv_gpu. */
static tc_status launch_spmv(tc_ctx *ctx, const tc_sparse *a, tc_variant v, const tc_spmm_desc *d, cl_kernel k,
                             const char *name, cl_int fl)
{
    cl_int mb = (cl_int)a->mb, m = (cl_int)a->rows, rpi = ctx->params.sparse.cpu_rows;
    cl_mem rp = tc_buf(a->rowptr), ci = tc_buf(a->colidx), val = tc_buf(a->values);
    if (v == TC_VARIANT_CPU) {
        tc_status st = tc_set_args(ctx, k, 13, TC_ARG(mb), TC_ARG(m), TC_ARG(rpi), TC_ARG(rp), TC_ARG(ci), TC_ARG(val),
                                   TC_ARG(d->xt), TC_ARG(d->xt_off), TC_ARG(d->y), TC_ARG(d->y_off), TC_ARG(d->bias),
                                   TC_ARG(d->bias_off), TC_ARG(fl));
        size_t gws[1] = {round_up(((size_t)a->mb + (size_t)rpi - 1) / (size_t)rpi, CPU_GROUP)}, lws[1] = {CPU_GROUP};
        return st == TC_OK ? tc_launch(ctx, k, name, 1, gws, lws) : st;
    }
    const size_t wg = tc_fit_wg(ctx, k, name, &ctx->params.sparse.gpu_wg, (size_t)ctx->params.sparse.gpu_wg, 1);
    tc_status st = tc_set_args(ctx, k, 12, TC_ARG(mb), TC_ARG(m), TC_ARG(rp), TC_ARG(ci), TC_ARG(val), TC_ARG(d->xt),
                               TC_ARG(d->xt_off), TC_ARG(d->y), TC_ARG(d->y_off), TC_ARG(d->bias), TC_ARG(d->bias_off),
                               TC_ARG(fl));
    if (st == TC_OK) {
        cl_int err = clSetKernelArg(k, 12, wg * sizeof(float), NULL);
        if (err != CL_SUCCESS) st = tc_fail_cl(ctx, err, "clSetKernelArg(red)");
    }
    size_t gws[1] = {(size_t)a->mb * wg}, lws[1] = {wg};
    return st == TC_OK ? tc_launch(ctx, k, name, 1, gws, lws) : st;
}

tc_status tc_spmm_cl(tc_ctx *ctx, const tc_sparse *a, tc_variant v, const tc_spmm_desc *d)
{
    const int cpu = v == TC_VARIANT_CPU;
    int vw = 2, nv = 1;
    if (cpu) tc_spmm_tile(ctx, d->n, &vw, &nv);
    char opts[64];
    /* the spmv kernels ignore VW and NV: one build for every batch-1 call */
    snprintf(opts, sizeof opts, "-DBR=%d -DBC=%d -DVW=%d -DNV=%d -DRPW=%d", a->br, a->bc, d->n == 1 ? 2 : vw, nv,
             ctx->params.sparse.cpu_rows);
    const char *name = d->n == 1 ? (cpu ? "spmv_cpu" : "spmv_gpu") : cpu ? "spmm_cpu" : "spmm_gpu";
    cl_kernel k;
    tc_status st = tc_get_kernel(ctx, "sparse", opts, name, &k);
    if (st != TC_OK) return st;
    const cl_int fl = (d->bias ? EPI_BIAS : 0) | (d->relu ? EPI_RELU : 0);
    if (d->n == 1) return launch_spmv(ctx, a, v, d, k, name, fl);
    cl_int mb = (cl_int)a->mb, m = (cl_int)a->rows, n = (cl_int)d->n, ld = (cl_int)d->ld;
    cl_int ysr = (cl_int)d->ys_row, ysc = (cl_int)d->ys_col;
    cl_mem rp = tc_buf(a->rowptr), ci = tc_buf(a->colidx), val = tc_buf(a->values);
    if (cpu) {
        const size_t rpi = (size_t)ctx->params.sparse.cpu_rows;
        st = tc_set_args(ctx, k, 16, TC_ARG(mb), TC_ARG(m), TC_ARG(n), TC_ARG(rp), TC_ARG(ci), TC_ARG(val),
                         TC_ARG(d->xt), TC_ARG(d->xt_off), TC_ARG(ld), TC_ARG(d->y), TC_ARG(d->y_off), TC_ARG(ysr),
                         TC_ARG(ysc), TC_ARG(d->bias), TC_ARG(d->bias_off), TC_ARG(fl));
        const size_t items = ((size_t)a->mb + rpi - 1) / rpi;
        size_t gws[2] = {((size_t)d->n + (size_t)(vw * nv) - 1) / (size_t)(vw * nv), round_up(items, CPU_GROUP)};
        size_t lws[2] = {1, CPU_GROUP};
        return st == TC_OK ? tc_launch(ctx, k, name, 2, gws, lws) : st;
    }
    st = tc_set_args(ctx, k, 16, TC_ARG(mb), TC_ARG(m), TC_ARG(n), TC_ARG(rp), TC_ARG(ci), TC_ARG(val), TC_ARG(d->xt),
                     TC_ARG(d->xt_off), TC_ARG(ld), TC_ARG(d->y), TC_ARG(d->y_off), TC_ARG(ysr), TC_ARG(ysc),
                     TC_ARG(d->bias), TC_ARG(d->bias_off), TC_ARG(fl));
    /* 32 batch columns (a warp) along dimension 0, block rows fill the group: one
     * group shape for every batch (smaller batches leave lanes idle) */
    const size_t wg = tc_fit_wg(ctx, k, name, &ctx->params.sparse.gpu_wg, (size_t)ctx->params.sparse.gpu_wg, 1);
    const size_t bx = wg < 32 ? wg : 32;
    size_t gws[2] = {round_up((size_t)d->n, bx), round_up((size_t)a->mb, wg / bx)}, lws[2] = {bx, wg / bx};
    return st == TC_OK ? tc_launch(ctx, k, name, 2, gws, lws) : st;
}

typedef struct {
    tc_ref_bsr a;
    int64_t batch;
    int relu;
} ref_args;

static int host_fn(void *const *in, void *out, const void *args)
{
    const ref_args *r = args;
    tc_ref_bsr a = r->a;
    a.rowptr = in[1], a.colidx = in[2], a.values = in[3];
    tc_ref_spmm(&a, in[0], r->batch, in[4], r->relu, out);
    return 0;
}

tc_status tc_spmm_check(tc_ctx *ctx, const char *op, const tc_sparse *a, const tc_tensor *x, const tc_tensor *y,
                        const tc_tensor *bias, int ndim)
{
    char xn[32], yn[32], bn[32];
    snprintf(xn, sizeof xn, "%s: x", op);
    snprintf(yn, sizeof yn, "%s: y", op);
    snprintf(bn, sizeof bn, "%s: bias", op);
    tc_status st;
    if (!a) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: a is NULL", op);
    if (a->ctx != ctx) return tc_fail(ctx, TC_ERR_CONTEXT, "%s: a belongs to another context", op);
    if ((st = tc_check_tensor(ctx, x, xn, TC_DTYPE_F32, ndim)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, y, yn, TC_DTYPE_F32, ndim)) != TC_OK) return st;
    const int64_t b = ndim == 2 ? x->dims[0] : 1;
    if (x->dims[ndim - 1] != a->cols)
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: x has %lld features, the matrix %lld columns (it is %lldx%lld)", op,
                       (long long)x->dims[ndim - 1], (long long)a->cols, (long long)a->rows, (long long)a->cols);
    if ((ndim == 2 && y->dims[0] != b) || y->dims[ndim - 1] != a->rows)
        return tc_fail(ctx, TC_ERR_SHAPE, "%s: y has %lld x %lld elements, expected %lld x %lld", op,
                       (long long)(ndim == 2 ? y->dims[0] : 1), (long long)y->dims[ndim - 1], (long long)b,
                       (long long)a->rows);
    if (bias) {
        if ((st = tc_check_tensor(ctx, bias, bn, TC_DTYPE_F32, 0)) != TC_OK) return st;
        if (bias->numel != a->rows)
            return tc_fail(ctx, TC_ERR_SHAPE, "%s: bias has %lld elements, expected %lld", op, (long long)bias->numel,
                           (long long)a->rows);
        if ((st = tc_gemm_check_extent(ctx, bn, bias)) != TC_OK) return st;
    }
    if ((st = tc_gemm_check_extent(ctx, xn, x)) != TC_OK || (st = tc_gemm_check_extent(ctx, yn, y)) != TC_OK) return st;
    if ((st = tc_check_no_alias(ctx, op, y, "y", x, "x")) != TC_OK) return st;
    return tc_check_no_alias(ctx, op, y, "y", bias, "bias");
}

tc_status tc_spmm_run(tc_ctx *ctx, const char *op, const tc_sparse *a, const tc_tensor *x, tc_tensor *y,
                      const tc_tensor *bias, int relu, tc_variant v)
{
    const int64_t b = x->numel / a->cols;
    const double flops = 2.0 * (double)b * (double)a->nnz;
    const double bytes = 4.0 * ((double)(a->nnzb * a->br * a->bc + a->nnzb + a->mb + 1) + (double)x->numel +
                                (double)y->numel);
    tc_op_begin(ctx, op, v, flops, bytes);
    tc_status st = TC_OK;
    if (v == TC_VARIANT_REF) {
        const ref_args args = {{a->br, a->bc, a->rows, a->cols, a->mb, NULL, NULL, NULL}, b, relu};
        const tc_tensor *in[5] = {x, a->rowptr, a->colidx, a->values, bias};
        return tc_op_end(ctx, tc_host_run(ctx, 5, in, y, host_fn, &args));
    }
    tc_spmm_desc d = {.xt = tc_buf(x), .y = tc_buf(y), .bias = bias ? tc_buf(bias) : NULL, .xt_off = tc_off(x),
                      .y_off = tc_off(y), .bias_off = bias ? tc_off(bias) : 0, .n = b, .ld = 1, .ys_row = 1,
                      .ys_col = a->rows, .relu = relu};
    if (b > 1) { /* X^T into scratch, padded to whole tiles on CPUs */
        int vw = 1, nv = 1;
        if (v == TC_VARIANT_CPU) tc_spmm_tile(ctx, b, &vw, &nv);
        d.ld = (int64_t)round_up((size_t)b, (size_t)(vw * nv)), d.xt_off = 0;
        cl_kernel k;
        st = tc_scratch_get(ctx, SLOT_XT, (size_t)(d.ld * a->cols) * sizeof(float), &d.xt);
        if (st == TC_OK) st = tc_get_kernel(ctx, "sparse", "", "sp_pack_xt", &k);
        cl_mem mx = tc_buf(x);
        cl_ulong xo = tc_off(x);
        cl_int bi = (cl_int)b, cols = (cl_int)a->cols, ld = (cl_int)d.ld;
        if (st == TC_OK)
            st = tc_set_args(ctx, k, 6, TC_ARG(mx), TC_ARG(xo), TC_ARG(bi), TC_ARG(cols), TC_ARG(d.xt), TC_ARG(ld));
        size_t gws[1] = {round_up(((size_t)a->cols + 15) / 16, 16)}, lws[1] = {16};
        if (st == TC_OK) st = tc_launch(ctx, k, "sp_pack_xt", 1, gws, lws);
    }
    if (st == TC_OK) st = tc_spmm_cl(ctx, a, v, &d);
    return tc_op_end(ctx, st);
}

static tc_status product(tc_ctx *ctx, const char *op, const tc_sparse *a, const tc_tensor *x, tc_tensor *y,
                         const tc_spmm_params *p, int ndim)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: ctx is NULL", op);
    const tc_spmm_params q = p ? *p : tc_spmm_defaults();
    tc_variant v;
    tc_status st = tc_spmm_check(ctx, op, a, x, y, q.bias, ndim);
    if (st == TC_OK) st = tc_sparse_variant(ctx, op, q.variant, &v);
    return st == TC_OK ? tc_spmm_run(ctx, op, a, x, y, q.bias, q.relu != 0, v) : st;
}

tc_status tc_spmv(tc_ctx *ctx, const tc_sparse *a, const tc_tensor *x, tc_tensor *y, const tc_spmm_params *p)
{
    return product(ctx, "spmv", a, x, y, p, 1);
}

tc_status tc_spmm(tc_ctx *ctx, const tc_sparse *a, const tc_tensor *x, tc_tensor *y, const tc_spmm_params *p)
{
    return product(ctx, "spmm", a, x, y, p, 2);
}
