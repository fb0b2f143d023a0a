/* libFuzzer target: every public op with shapes and parameters read from the
 * input: small, zero, negative and huge extents, strides, pads, windows,
 * dilations and groups, every variant (and invalid ones), NULL tensors, tensors
 * of another context, outputs that alias an input. Each call runs on ref, on
 * openblas and on the OpenCL device with the same data. Invariants (a violation
 * aborts, so libFuzzer keeps the input):
 * - a call fails with a status and leaves its output exactly as it was, or succeeds;
 * - no guard byte around any tensor changes;
 * - validation does not depend on the device: openblas and OpenCL may refuse more
 *   (extents their GEMMs or kernels cannot index, variants) but accept nothing ref
 *   refuses;
 * - when both succeed, their outputs agree within a tolerance;
 * - nothing stays allocated.
 * Tensors it allocates hold at most MAX_NUMEL elements and calls whose work is
 * above MAX_WORK are skipped, so an input runs in milliseconds. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "fuzz.h"

#define MAX_NUMEL (1 << 14)
#define MAX_WORK (1 << 21)
#define MAX_T 6
#define CALLS 3 /* calls per input at most */

enum {
    OP_MATMUL, OP_CONV2D, OP_LINEAR, OP_ADD, OP_MUL, OP_RELU, OP_GELU, OP_SOFTMAX, OP_LAYERNORM, OP_MAXPOOL2D,
    OP_AVGPOOL2D, OP_GLOBAL_AVGPOOL, OP_EMBEDDING, OP_ARGMAX, OP_FLATTEN, OP_RESHAPE, OP_VIEW, OP_SET_QUANT,
    OP_LINEAR_PLAN, OP_CONV2D_PLAN, OP_QUANTIZE, OP_DEQUANTIZE, OP_OBSERVER, OP_IGEMM, OP_IGEMM_PLAN,
    OP_PRUNE, OP_SPMM, OP_SPARSE_LINEAR_PLAN, OP_SPARSE_CONV2D_PLAN, OP_ATTENTION, OP_KV_CACHE, OP_QLINEAR_PLAN,
    OP_QCONV2D_PLAN,
    OP_CONV2D_OUT_SIZE, OP_QUANT_PARAMS,
    OP_DEVICE_FIND, OP_KERNEL_PARAMS, OP_COUNT
};
/* per context (fz_contexts): ref, openblas, the OpenCL device */
#define N3(op) {op " ref", op " openblas", op " cl"}
static const char *const names[OP_COUNT][FZ_CTX_MAX] = {
    N3("matmul"), N3("conv2d"), N3("linear"), N3("add"), N3("mul"), N3("relu"), N3("gelu"), N3("softmax"),
    N3("layernorm"), N3("maxpool2d"), N3("avgpool2d"), N3("global_avgpool"), N3("embedding"), N3("argmax"),
    N3("flatten"), N3("reshape"), N3("view"), N3("set_quant"), N3("linear_plan"), N3("conv2d_plan"), N3("quantize"),
    N3("dequantize"), N3("observer"), N3("igemm"), N3("igemm_plan"), N3("prune"), N3("spmm"),
    N3("sparse_linear_plan"), N3("sparse_conv2d_plan"), N3("attention"), N3("kv_cache"), N3("qlinear_plan"),
    N3("qconv2d_plan"), {"conv2d_out_size", "", ""}, {"quant_params", "", ""}, {"device_find", "", ""},
    {"kernel_params_set", "", ""},
};
#undef N3

/* The CSR of w (2-D f32, read here) through tc_sparse_from_csr: intact (damage 0), with
 * a column index out of range (1) or the last row pointer off by one (2), which must be
 * refused (TC_ERR_INVALID_ARG, *out NULL). Other w go to tc_sparse_from_dense. */
static tc_status sparse_from_arrays(tc_ctx *ctx, const tc_tensor *w, int damage, tc_sparse **out)
{
    if (!w || w->dtype != TC_DTYPE_F32 || w->ndim != 2 || w->numel < 1 || w->numel > MAX_NUMEL)
        return tc_sparse_from_dense(ctx, w, TC_SPARSE_CSR, out);
    const int64_t rows = w->dims[0], cols = w->dims[1];
    float *d = malloc((size_t)w->numel * sizeof *d), *v = malloc((size_t)w->numel * sizeof *v + 4);
    int32_t *rp = malloc((size_t)(rows + 1) * sizeof *rp), *ci = malloc((size_t)w->numel * sizeof *ci + 4);
    if (!d || !v || !rp || !ci) fz_fail("out of host memory");
    if (tc_tensor_read(w, d, (size_t)w->numel * sizeof *d) != TC_OK) fz_fail("reading w: %s", tc_last_error(ctx));
    int64_t nnz = 0;
    rp[0] = 0;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t k = 0; k < cols; k++)
            if (d[r * cols + k] != 0.0f) ci[nnz] = (int32_t)k, v[nnz++] = d[r * cols + k];
        rp[r + 1] = (int32_t)nnz;
    }
    if (damage == 1 && nnz) ci[nnz / 2] = (int32_t)cols;
    if (damage == 2) rp[rows] = (int32_t)nnz + 1;
    const int broken = damage == 2 || (damage == 1 && nnz);
    *out = (tc_sparse *)w;
    const tc_status st = tc_sparse_from_csr(ctx, rows, cols, nnz, rp, ci, v, out);
    fz_count(broken ? "sparse_from_csr damaged" : "sparse_from_csr", st);
    if (broken && (st != TC_ERR_INVALID_ARG || *out))
        fz_fail("tc_sparse_from_csr took damaged arrays (damage %d): %s", damage, tc_status_name(st));
    if (!broken && st != TC_OK && st != TC_ERR_OUT_OF_MEMORY)
        fz_fail("tc_sparse_from_csr refused w's own CSR: %s", tc_last_error(ctx));
    free(d), free(v), free(rp), free(ci);
    return st;
}

/* ------------------------------------------------------------ reading the input */

typedef struct {
    const uint8_t *p;
    size_t n;
} src;

static unsigned byte(src *s)
{
    if (!s->n) return 0;
    s->n--;
    return *s->p++;
}

static const int64_t edge_extents[16] = {0, -1, -3, INT32_MAX, (int64_t)INT32_MAX + 1, 1 << 30, (1 << 30) + 1,
                                         INT64_C(1) << 31, INT64_C(1) << 32, INT64_C(1) << 40, INT64_MAX,
                                         INT64_MIN, 1000, 4097, 65537, 17};
/* A tensor extent: mostly 1..8, sometimes an edge value. */
static int64_t extent(src *s)
{
    const unsigned b = byte(s);
    return b < 224 ? 1 + b % 8 : edge_extents[b % 16];
}

static const int edge_params[16] = {-1, -2, INT32_MIN, INT32_MAX, INT32_MAX - 1, 1 << 30, (1 << 30) - 3,
                                    (1 << 30) - 4, (1 << 29) - 17, 1 << 29, 1 << 16, 1000, 0, 7, 6, 5};
/* A stride, pad, window, dilation or group count: mostly lo..lo+3, sometimes an edge value. */
static int param(src *s, int lo)
{
    const unsigned b = byte(s);
    return b < 208 ? lo + (int)(b % 4) : edge_params[b % 16];
}

static const float edge_floats[8] = {1.0f, 0.0f, -1.0f, 0.5f, 2.0f, 1e30f, NAN, INFINITY};
static float scalar(src *s) { return edge_floats[byte(s) % 8]; }

static tc_variant variant(src *s)
{
    static const int v[16] = {TC_VARIANT_AUTO,   TC_VARIANT_AUTO,    TC_VARIANT_OPENBLAS, TC_VARIANT_SPLIT,
                              TC_VARIANT_AUTO,   TC_VARIANT_VNNI,    TC_VARIANT_REF,     TC_VARIANT_CPU,
                              TC_VARIANT_GPU,    TC_VARIANT_GEMV,    TC_VARIANT_CLBLAST, TC_VARIANT_IM2COL,
                              TC_VARIANT_OPENCL, TC_VARIANT_VNNI256, 99,                 -1};
    return (tc_variant)v[byte(s) % 16];
}

/* ------------------------------------------------------------ one call */

enum { T_NEW, T_NULL, T_OTHER, T_ALIAS };

typedef struct {
    int kind, of; /* T_ALIAS: a view of tensor `of` at element offset `at` (the same storage) */
    int64_t at;   /* T_NEW: > 0 makes the tensor a view at this offset into a larger one */
    tc_dtype dt;
    int ndim;
    int64_t dims[TC_MAX_DIMS];
    int ids;      /* s32 embedding ids below this bound (negative: some out of range) */
    int out;      /* an output of the op */
} tspec;

typedef struct {
    int op, nt;
    tspec t[MAX_T];
    int ip[8];
    int64_t ext[6];
    float fp[2];
    tc_variant v;
    char spec[32];
} call;

/* Adds a tensor of the given dims; the input may replace it with other dims, a
 * NULL, a tensor of another context or a view of an earlier tensor. */
static void add(call *c, src *s, tc_dtype dt, int ndim, const int64_t *dims)
{
    tspec *t = &c->t[c->nt++];
    memset(t, 0, sizeof *t);
    t->dt = dt;
    t->ndim = ndim;
    memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
    const unsigned b = byte(s);
    if (b >= 200 && b < 216) { /* other dims */
        t->ndim = (int)(b % 6);
        for (int i = 0; i < TC_MAX_DIMS; i++) t->dims[i] = extent(s);
    } else if (b >= 216 && b < 226) {
        t->kind = T_NULL;
    } else if (b >= 226 && b < 236) {
        t->kind = T_OTHER;
    } else if (b >= 236 && c->nt > 1) {
        t->kind = T_ALIAS;
        t->of = (int)(b % (unsigned)(c->nt - 1));
        t->at = b % 3;
    } else if (b >= 184 && b < 200) {
        t->at = 1 + b % 16;
    }
}

static void add_out(call *c, src *s, tc_dtype dt, int ndim, const int64_t *dims)
{
    add(c, s, dt, ndim, dims);
    c->t[c->nt - 1].out = 1;
}

/* Output extent of a window as the ops define it; 1 where it does not fit (then
 * the op refuses the call). */
static int64_t window_out(int64_t n, int64_t k, int stride, int pad, int dil)
{
    int64_t out;
    return tc_conv2d_out_size(n, k, stride, pad, dil, &out) == TC_OK ? out : 1;
}

static void gen(call *c, src *s)
{
    memset(c, 0, sizeof *c);
    c->op = (int)(byte(s) % OP_COUNT);
    c->v = variant(s);
    int64_t e[6];
    for (int i = 0; i < 6; i++) e[i] = c->ext[i] = extent(s);
    const int rank = 1 + (int)(byte(s) % 4);
    switch (c->op) {
    case OP_MATMUL: { /* m n k */
        const int ta = byte(s) & 1, tb = byte(s) & 1;
        c->ip[0] = ta, c->ip[1] = tb, c->ip[2] = byte(s) & 1;
        c->fp[0] = scalar(s), c->fp[1] = scalar(s);
        add(c, s, TC_DTYPE_F32, 2, ta ? (int64_t[]){e[2], e[0]} : (int64_t[]){e[0], e[2]});
        add(c, s, TC_DTYPE_F32, 2, tb ? (int64_t[]){e[1], e[2]} : (int64_t[]){e[2], e[1]});
        add_out(c, s, TC_DTYPE_F32, 2, (int64_t[]){e[0], e[1]});
        if (byte(s) & 1) add(c, s, TC_DTYPE_F32, 1, &e[1]); /* bias */
        break;
    }
    case OP_CONV2D:
    case OP_CONV2D_PLAN:
    case OP_SPARSE_CONV2D_PLAN:
    case OP_QCONV2D_PLAN: { /* n, channels per group, h, w, kernels per group, window */
        const int g = param(s, 1), sh = param(s, 1), sw = param(s, 1), ph = param(s, 0), pw = param(s, 0);
        const int dh = param(s, 1), dw = param(s, 1);
        const int64_t c_in = tc_sat_mul(g, e[1]), k = tc_sat_mul(g, e[4]), r = e[5], q = 1 + byte(s) % 3;
        c->ip[0] = sh, c->ip[1] = sw, c->ip[2] = ph, c->ip[3] = pw, c->ip[4] = dh, c->ip[5] = dw, c->ip[6] = g;
        c->ip[7] = byte(s) & 1;
        add(c, s, TC_DTYPE_F32, 4, (int64_t[]){e[0], c_in, e[2], e[3]});
        add(c, s, TC_DTYPE_F32, 4, (int64_t[]){k, e[1], r, q});
        add_out(c, s, TC_DTYPE_F32, 4,
                (int64_t[]){e[0], k, window_out(e[2], r, sh, ph, dh), window_out(e[3], q, sw, pw, dw)});
        if (byte(s) & 1) add(c, s, TC_DTYPE_F32, 1, &k); /* bias */
        break;
    }
    case OP_LINEAR:
    case OP_LINEAR_PLAN:
    case OP_SPMM:
    case OP_SPARSE_LINEAR_PLAN:
    case OP_QLINEAR_PLAN: /* batch in out */
        c->ip[1] = (int)(byte(s) % 6);  /* sparse format (5: invalid) */
        c->fp[0] = (float)(byte(s) % 5) / 4; /* sparsity pruned first (1: invalid) */
        c->ip[0] = byte(s) & 1;
        add(c, s, TC_DTYPE_F32, 2, (int64_t[]){e[0], e[1]});
        add(c, s, TC_DTYPE_F32, 2, (int64_t[]){e[2], e[1]});
        if (byte(s) & 1) add(c, s, TC_DTYPE_F32, 1, &e[2]);
        else c->t[c->nt++] = (tspec){.kind = T_NULL};
        add_out(c, s, TC_DTYPE_F32, 2, (int64_t[]){e[0], e[2]});
        break;
    case OP_ADD:
    case OP_MUL:
        add(c, s, TC_DTYPE_F32, rank, e);
        add(c, s, TC_DTYPE_F32, rank, e);
        add_out(c, s, TC_DTYPE_F32, rank, e);
        break;
    case OP_GELU:
        c->ip[0] = (int)(byte(s) % 3) - (byte(s) & 1); /* modes 0, 1 and invalid ones */
        /* fall through */
    case OP_RELU:
    case OP_SOFTMAX:
        add(c, s, TC_DTYPE_F32, rank, e);
        add_out(c, s, TC_DTYPE_F32, rank, e);
        break;
    case OP_LAYERNORM:
        c->fp[0] = byte(s) & 1 ? 1e-5f : scalar(s);
        c->ip[0] = byte(s) & 1; /* with a residual and its sum */
        add(c, s, TC_DTYPE_F32, rank, e);
        add(c, s, TC_DTYPE_F32, 1, &e[rank - 1]);
        add(c, s, TC_DTYPE_F32, 1, &e[rank - 1]);
        add_out(c, s, TC_DTYPE_F32, rank, e);
        if (c->ip[0]) add(c, s, TC_DTYPE_F32, rank, e), add_out(c, s, TC_DTYPE_F32, rank, e);
        break;
    case OP_MAXPOOL2D:
    case OP_AVGPOOL2D: /* n c h w */
        for (int i = 0; i < 6; i++) c->ip[i] = param(s, i < 4 ? 1 : 0); /* kh kw sh sw ph pw */
        add(c, s, TC_DTYPE_F32, 4, e);
        add_out(c, s, TC_DTYPE_F32, 4,
                (int64_t[]){e[0], e[1], window_out(e[2], c->ip[0], c->ip[2], c->ip[4], 1),
                            window_out(e[3], c->ip[1], c->ip[3], c->ip[5], 1)});
        break;
    case OP_GLOBAL_AVGPOOL:
        add(c, s, TC_DTYPE_F32, 4, e);
        add_out(c, s, TC_DTYPE_F32, 2, e);
        break;
    case OP_EMBEDDING: { /* vocabulary, D, then up to 3 id dims */
        const int nid = 1 + (int)(byte(s) % 3);
        add(c, s, TC_DTYPE_F32, 2, e);
        add(c, s, TC_DTYPE_S32, nid, e + 2);
        c->t[1].ids = (byte(s) % 8 == 7 ? -1 : 1) * (int)(e[0] > 0 && e[0] < INT32_MAX ? e[0] : 1);
        int64_t dy[TC_MAX_DIMS];
        memcpy(dy, e + 2, (size_t)nid * sizeof *dy);
        dy[nid] = e[1];
        add_out(c, s, TC_DTYPE_F32, nid + 1, dy);
        break;
    }
    case OP_ARGMAX: { /* y: x's dims without the last, or with it as 1; values: y's dims */
        int64_t dy[TC_MAX_DIMS];
        memcpy(dy, e, sizeof dy);
        add(c, s, TC_DTYPE_F32, rank, e);
        const int yr = rank == 1 || (byte(s) & 1) ? rank : rank - 1;
        dy[rank - 1] = 1;
        add_out(c, s, TC_DTYPE_S32, yr, dy);
        if (byte(s) & 1) add_out(c, s, TC_DTYPE_F32, yr, dy);
        break;
    }
    case OP_FLATTEN:
        add(c, s, TC_DTYPE_F32, rank, e);
        break;
    case OP_RESHAPE: { /* to the dims reversed, to one dim, or to other dims and ranks */
        const unsigned how = byte(s) % 4;
        add(c, s, (tc_dtype)(byte(s) % 5), rank, e);
        int64_t all = 1;
        for (int i = 0; i < rank; i++) all = tc_sat_mul(all, e[i]);
        c->ip[0] = how == 0 ? rank : how == 1 ? 1 : (int)(byte(s) % 6);
        for (int i = 0; how < 2 && i < rank; i++) c->ext[i] = how == 0 ? e[rank - 1 - i] : all;
        break;
    }
    case OP_VIEW: /* a view at an offset, mostly inside the tensor */
        add(c, s, TC_DTYPE_F32, rank, e);
        c->ip[0] = 1 + (int)(byte(s) % 4);
        c->ext[4] = byte(s) % 8 == 7 ? extent(s) : (int64_t)(byte(s) % 5);
        for (int i = 0; i < 4; i++) c->ext[i] = byte(s) % 4 ? 1 + (int64_t)(byte(s) % 4) : extent(s);
        break;
    case OP_SET_QUANT: /* axis (-1: per tensor), count, scales and zero points */
        add(c, s, (tc_dtype)(byte(s) % 4), rank, e);
        c->ip[0] = (int)(byte(s) % 6) - 1 - (byte(s) % 8 == 7);
        c->ext[4] = byte(s) % 4 ? (c->ip[0] >= 0 && c->ip[0] < rank ? e[c->ip[0]] : 1) : extent(s);
        c->ip[1] = (int)byte(s), c->fp[0] = scalar(s);
        break;
    case OP_QUANTIZE:
    case OP_DEQUANTIZE: { /* the integer side carries parameters: per tensor (axis -1) or per channel */
        const tc_dtype q = byte(s) % 8 == 7 ? TC_DTYPE_S32 : byte(s) & 1 ? TC_DTYPE_U8 : TC_DTYPE_S8;
        add(c, s, c->op == OP_QUANTIZE ? TC_DTYPE_F32 : q, rank, e);
        add_out(c, s, c->op == OP_QUANTIZE ? q : TC_DTYPE_F32, rank, e);
        c->ip[0] = (int)(byte(s) % (unsigned)(rank + 1)) - 1;
        c->ip[1] = (int)byte(s) - 128;
        c->fp[0] = byte(s) % 4 ? 1.0f / 64 : scalar(s);
        break;
    }
    case OP_OBSERVER: /* kind, axis, options; two batches, then range, parameters and set_quant */
        add(c, s, TC_DTYPE_F32, rank, e);
        add(c, s, TC_DTYPE_F32, rank, e);
        add(c, s, byte(s) & 1 ? TC_DTYPE_U8 : TC_DTYPE_S8, rank, e);
        c->ip[0] = (int)(byte(s) % 5), c->ip[1] = (int)(byte(s) % (unsigned)(rank + 2)) - 1 - (byte(s) % 16 == 15);
        c->ip[2] = byte(s) % 4 ? 16 << (byte(s) % 8) : param(s, 15), c->ip[3] = byte(s) & 1;
        c->fp[0] = byte(s) % 4 ? 0.25f : scalar(s), c->fp[1] = byte(s) % 4 ? 99.0f : 50.0f * scalar(s);
        break;
    case OP_IGEMM:
    case OP_IGEMM_PLAN: { /* m n k; A u8/s8, B s8 (N x K with trans_b), C s32/s8/u8/f32, bias s32 */
        static const tc_dtype cdt[4] = {TC_DTYPE_S32, TC_DTYPE_S8, TC_DTYPE_U8, TC_DTYPE_F32};
        const int tb = byte(s) & 1;
        c->ip[0] = tb, c->ip[1] = byte(s) & 1;                   /* relu */
        c->ip[2] = byte(s) % 4 ? INT32_MIN : param(s, -128);    /* clamp_min */
        c->ip[3] = byte(s) % 4 ? INT32_MAX : param(s, 0);       /* clamp_max */
        c->ip[4] = byte(s) % 4 ? 0 : param(s, -2);              /* zero points without metadata */
        c->ip[5] = (int)(byte(s) % 4);                          /* multipliers: none, one, N, a bad count */
        c->ip[6] = (int)(byte(s) % 8);                          /* which tensors carry quantization metadata */
        c->fp[0] = byte(s) % 4 ? 1.0f / 128 : scalar(s);
        add(c, s, byte(s) & 1 ? TC_DTYPE_U8 : TC_DTYPE_S8, 2, (int64_t[]){e[0], e[2]});
        add(c, s, TC_DTYPE_S8, 2, tb ? (int64_t[]){e[1], e[2]} : (int64_t[]){e[2], e[1]});
        add_out(c, s, cdt[byte(s) % 4], 2, (int64_t[]){e[0], e[1]});
        if (byte(s) & 1) add(c, s, TC_DTYPE_S32, 1, &e[1]);
        break;
    }
    case OP_PRUNE: /* w pruned in place, then its channels and the next layer's inputs */
        c->ip[0] = (int)(byte(s) % 5), c->fp[0] = byte(s) % 4 ? (float)(byte(s) % 4) / 4 : scalar(s);
        add_out(c, s, TC_DTYPE_F32, rank < 2 ? 2 : rank, e);
        add(c, s, TC_DTYPE_F32, 1, e);            /* bias of w's channels */
        add(c, s, TC_DTYPE_F32, 2, (int64_t[]){e[2], e[0]}); /* the next layer, [out, w's channels] */
        break;
    case OP_ATTENTION: { /* B, H = Hkv * g, Lq, Lk, Dh; layout; causal; positions and lengths */
        const int64_t g = 1 + byte(s) % 3, hq = tc_sat_mul(e[1], g), dh = byte(s) % 8 == 7 ? extent(s) : 1 + byte(s) % 16;
        const int blhd = byte(s) & 1;
        c->ip[0] = blhd, c->ip[1] = byte(s) & 1, c->ip[2] = param(s, 0), c->ip[3] = (int)(byte(s) % 4);
        c->fp[0] = byte(s) % 4 ? 0.0f : scalar(s);
        const int64_t dq[4] = {e[0], blhd ? e[2] : hq, blhd ? hq : e[2], dh};
        add(c, s, TC_DTYPE_F32, 4, dq);
        add(c, s, byte(s) % 8 == 7 ? TC_DTYPE_S8 : TC_DTYPE_F32, 4, (int64_t[]){e[0], e[1], e[3], dh});
        add(c, s, c->t[1].dt, 4, (int64_t[]){e[0], e[1], e[3], dh});
        add_out(c, s, TC_DTYPE_F32, 4, dq);
        break;
    }
    case OP_KV_CACHE: /* layers, batch, heads, capacity, head_dim; appends of n tokens, attention */
        c->ip[0] = byte(s) & 1, c->ip[1] = (int)(byte(s) % 4), c->ip[2] = byte(s) & 1; /* s8, counts, layout */
        c->ext[5] = 1 + byte(s) % 3;                                               /* tokens per append */
        add(c, s, TC_DTYPE_F32, 4, (int64_t[]){e[1], e[2], c->ext[5], e[4]});      /* k */
        add(c, s, TC_DTYPE_F32, 4, (int64_t[]){e[1], e[2], c->ext[5], e[4]});      /* v */
        add(c, s, TC_DTYPE_F32, 4, (int64_t[]){e[1], e[2], 1, e[4]});              /* q */
        add_out(c, s, TC_DTYPE_F32, 4, (int64_t[]){e[1], e[2], 1, e[4]});
        break;
    case OP_QUANT_PARAMS:
        c->fp[0] = -scalar(s), c->fp[1] = scalar(s), c->ip[0] = (int)(byte(s) % 5), c->ip[1] = byte(s) & 1;
        c->ip[2] = (int)(byte(s) % 10) - 1; /* channels for the per-channel call */
        break;
    case OP_DEVICE_FIND:
    case OP_KERNEL_PARAMS: /* free text, or "family.field=value" pieces */
        for (size_t i = 0; i + 1 < sizeof c->spec; i++) c->spec[i] = (char)byte(s);
        if (c->op == OP_KERNEL_PARAMS && byte(s) & 1) {
            static const char *const fields[] = {"gemm.cpu_wg", "gemm.gpu_tile", "eltwise.vw", "pool.wg", "rows.wg"};
            snprintf(c->spec, sizeof c->spec, "%s=%d", fields[byte(s) % 5], param(s, 0));
        }
        break;
    default: break;
    }
}

static int64_t numel_of(const tspec *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim && d < TC_MAX_DIMS; d++) n = tc_sat_mul(n, t->dims[d] > 0 ? t->dims[d] : 1);
    return n;
}

static int64_t max_dim(const tspec *t)
{
    int64_t m = 1;
    for (int d = 0; d < t->ndim && d < TC_MAX_DIMS; d++) m = t->dims[d] > m ? t->dims[d] : m;
    return m;
}

/* An upper bound of the call's multiply-adds (or element visits), from the dims
 * its tensors will have. */
static int64_t work(const call *c)
{
    int64_t w = 0;
    for (int i = 0; i < c->nt; i++) w = tc_sat_add(w, numel_of(&c->t[i]));
    const tspec *t = c->t;
    if (c->op == OP_MATMUL || c->op == OP_LINEAR || c->op == OP_LINEAR_PLAN || c->op == OP_IGEMM ||
        c->op == OP_IGEMM_PLAN || c->op == OP_SPMM || c->op == OP_SPARSE_LINEAR_PLAN || c->op == OP_QLINEAR_PLAN ||
        c->op == OP_ATTENTION) /* m k n <= numel(A) x the largest dim of B (attention: q x Lk, v) */
        w = tc_sat_add(w, tc_sat_mul(numel_of(&t[0]), max_dim(&t[1])));
    if (c->op == OP_CONV2D || c->op == OP_CONV2D_PLAN || c->op == OP_SPARSE_CONV2D_PLAN ||
        c->op == OP_QCONV2D_PLAN) /* outputs x C/g x R x S */
        w = tc_sat_add(w, tc_sat_mul(numel_of(&t[2]), numel_of(&t[1]) / (t[1].dims[0] > 0 ? t[1].dims[0] : 1)));
    if (c->op == OP_KV_CACHE) { /* the cache; one whose size overflows is asked for (and must be refused) */
        const int64_t n = tc_sat_mul3(tc_sat_mul3(2, c->ext[0], c->ext[1]), tc_sat_mul(c->ext[2], c->ext[3]), c->ext[4]);
        w = tc_sat_add(w, n == INT64_MAX ? 0 : n);
    }
    if (c->op == OP_OBSERVER && c->ip[0] >= TC_OBSERVER_PERCENTILE && c->ip[2] >= 16 && c->ip[2] <= 65536) {
        const int64_t channels = c->ip[1] >= 0 && c->ip[1] < t[0].ndim ? t[0].dims[c->ip[1]] : 1;
        w = tc_sat_add(w, tc_sat_mul3(channels, c->ip[2], 32)); /* histograms and their search */
    }
    if (c->op == OP_MAXPOOL2D || c->op == OP_AVGPOOL2D) { /* outputs x the clipped window */
        const int64_t kh = t[0].dims[2] < c->ip[0] ? t[0].dims[2] : c->ip[0];
        const int64_t kw = t[0].dims[3] < c->ip[1] ? t[0].dims[3] : c->ip[1];
        w = tc_sat_add(w, tc_sat_mul3(numel_of(&t[1]), kh > 0 ? kh : 1, kw > 0 ? kw : 1));
    }
    return w;
}

/* ------------------------------------------------------------ running it */

typedef struct {
    tc_tensor *t[MAX_T];
    void *host[MAX_T];     /* what each tensor held before the call */
    tc_tensor *base[MAX_T]; /* the larger tensor a T_NEW view lies in */
    void *base_host[MAX_T];
} tensors;

static void *host_copy(const void *from, size_t n)
{
    void *h = malloc(n ? n : 1);
    if (!h) fz_fail("out of host memory");
    return memcpy(h, from, n);
}

/* The tensors of c on ctx, with data from `seed` (the same on every context). A
 * tensor whose dims tc_tensor_create must refuse is asked for (and must be
 * refused); a valid one above MAX_NUMEL is left NULL. */
static void make(tc_ctx *ctx, tc_ctx *other, const call *c, uint64_t seed, tensors *ts)
{
    memset(ts, 0, sizeof *ts);
    for (int i = 0; i < c->nt; i++) {
        const tspec *t = &c->t[i];
        if (t->kind == T_NULL) continue;
        if (t->kind == T_ALIAS) { /* at `at` into tensor `of`, else all of it */
            tc_tensor *base = ts->t[t->of];
            if (!base) continue;
            if (tc_tensor_view(base, t->at, t->ndim, t->dims, &ts->t[i]) != TC_OK &&
                tc_tensor_reshape(base, base->ndim, base->dims, &ts->t[i]) != TC_OK)
                fz_fail("reshape to a tensor's own dims failed: %s", tc_last_error(ctx));
            const size_t skip = (size_t)(ts->t[i]->offset - base->offset) * tc_dtype_size(base->dtype);
            ts->host[i] = host_copy((const uint8_t *)ts->host[t->of] + skip, ts->t[i]->bytes);
            continue;
        }
        tc_ctx *in = t->kind == T_OTHER ? other : ctx;
        int64_t numel = 1;
        int valid = t->ndim >= 1 && t->ndim <= TC_MAX_DIMS && t->dt >= 0 && t->dt < TC_DTYPE_COUNT;
        for (int d = 0; valid && d < t->ndim; d++) {
            valid = t->dims[d] >= 1;
            numel = tc_sat_mul(numel, t->dims[d]);
        }
        if (valid && numel <= MAX_NUMEL) {
            const int64_t all = numel + 2 * t->at; /* a view: `at` elements either side */
            tc_tensor *x = NULL;
            if (tc_tensor_create_guarded(in, t->dt, t->at ? 1 : t->ndim, t->at ? &all : t->dims, 1024, &x) != TC_OK)
                fz_fail("creating a %lld-element tensor: %s", (long long)all, tc_last_error(in));
            uint8_t *h = malloc(x->bytes);
            if (!h) fz_fail("out of host memory");
            uint64_t r = seed ^ (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull;
            if (t->dt == TC_DTYPE_F32) {
                tc_rand_f32((float *)(void *)h, (size_t)all, -1.0f, 1.0f, &r);
            } else {
                for (size_t j = 0; j < x->bytes; j++) h[j] = (uint8_t)tc_rng_next(&r);
                if (t->ids > 0) /* mostly valid ids, or a few out of range */
                    for (int64_t j = 0; j < all; j++) ((int32_t *)(void *)h)[j] = (int32_t)(tc_rng_next(&r) % (uint64_t)t->ids);
                if (t->ids < 0) ((int32_t *)(void *)h)[t->at + (int64_t)(tc_rng_next(&r) % (uint64_t)numel)] = (int32_t)-t->ids;
            }
            if (tc_tensor_write(x, h, x->bytes) != TC_OK) fz_fail("writing a tensor: %s", tc_last_error(in));
            if (t->at) {
                ts->base[i] = x, ts->base_host[i] = h;
                if (tc_tensor_view(x, t->at, t->ndim, t->dims, &ts->t[i]) != TC_OK)
                    fz_fail("a view inside a tensor: %s", tc_last_error(in));
                ts->host[i] = host_copy(h + (size_t)t->at * tc_dtype_size(t->dt), ts->t[i]->bytes);
            } else {
                ts->t[i] = x, ts->host[i] = h;
            }
        } else if (!valid || numel == INT64_MAX) {
            tc_tensor *x = (tc_tensor *)ctx;
            if (tc_tensor_create(in, t->dt, t->ndim, t->dims, &x) == TC_OK || x)
                fz_fail("tc_tensor_create accepted invalid dims (rank %d, dtype %d)", t->ndim, (int)t->dt);
        }
    }
}

/* A view's larger tensor changed only where the view lies. */
static void check_base(const tc_tensor *base, const void *before, const tc_tensor *view, const char *where)
{
    fz_check_tensor(base, NULL, where);
    uint8_t *now = malloc(base->bytes);
    if (!now || tc_tensor_read(base, now, base->bytes) != TC_OK) fz_fail("%s: reading back failed", where);
    const size_t lo = (size_t)(view->offset - base->offset) * tc_dtype_size(base->dtype), hi = lo + view->bytes;
    if (memcmp(now, before, lo) != 0 || memcmp(now + hi, (const uint8_t *)before + hi, base->bytes - hi) != 0)
        fz_fail("%s on %s: wrote outside a view", where, base->ctx->info.name);
    free(now);
}

static void release(tensors *ts)
{
    for (int i = 0; i < MAX_T; i++) {
        tc_tensor_free(ts->t[i]), free(ts->host[i]);
        tc_tensor_free(ts->base[i]), free(ts->base_host[i]);
    }
}

static tc_status invoke(tc_ctx *ctx, const call *c, tc_tensor *const *t)
{
    const int *ip = c->ip;
    const tc_op_params op = {c->v};
    switch (c->op) {
    case OP_MATMUL: {
        tc_matmul_params p = tc_matmul_defaults();
        p.trans_a = ip[0], p.trans_b = ip[1], p.relu = ip[2], p.alpha = c->fp[0], p.beta = c->fp[1];
        p.bias = c->nt > 3 ? t[3] : NULL, p.variant = c->v;
        return tc_matmul(ctx, t[0], t[1], t[2], &p);
    }
    case OP_CONV2D:
    case OP_CONV2D_PLAN:
    case OP_SPARSE_CONV2D_PLAN:
    case OP_QCONV2D_PLAN: {
        tc_conv2d_params p = tc_conv2d_defaults();
        p.stride_h = ip[0], p.stride_w = ip[1], p.pad_h = ip[2], p.pad_w = ip[3], p.dil_h = ip[4], p.dil_w = ip[5];
        p.groups = ip[6], p.relu = ip[7], p.bias = c->nt > 3 ? t[3] : NULL, p.variant = c->v;
        if (c->op == OP_CONV2D) return tc_conv2d(ctx, t[0], t[1], t[2], &p);
        if (c->op == OP_QCONV2D_PLAN) { /* f32 input quantized on the fly; input parameters from the input */
            tc_qconv2d_params q = tc_qconv2d_defaults();
            q.stride_h = p.stride_h, q.stride_w = p.stride_w, q.pad_h = p.pad_h, q.pad_w = p.pad_w;
            q.dil_h = p.dil_h, q.dil_w = p.dil_w, q.relu = p.relu, q.variant = c->v;
            q.in_dtype = c->ext[5] & 1 ? TC_DTYPE_S8 : TC_DTYPE_U8, q.in_scale = 1.0f / 64 + (float)(c->ext[5] % 3);
            q.in_zero_point = q.in_dtype == TC_DTYPE_U8 ? 128 : 0;
            tc_qconv2d_plan *qp = NULL;
            tc_status st = tc_qconv2d_plan_create(ctx, t[1], c->t[0].dims + 1, p.bias, &q, &qp);
            if ((st == TC_OK) != (qp != NULL)) fz_fail("qconv2d plan: status and plan disagree");
            if (st == TC_OK) st = tc_qconv2d_plan_run(qp, t[0], t[2]);
            tc_qconv2d_plan_free(qp);
            return st;
        }
        if (c->op == OP_SPARSE_CONV2D_PLAN) {
            tc_sparse_conv2d_plan *sp = NULL;
            tc_status st = tc_sparse_conv2d_plan_create(ctx, t[1], c->t[0].dims + 1, &p,
                                                        (tc_sparse_format)(c->ext[5] % 6), &sp);
            if ((st == TC_OK) != (sp != NULL)) fz_fail("sparse conv2d plan: status and plan disagree");
            if (st == TC_OK) st = tc_sparse_conv2d_plan_run(sp, t[0], t[2]);
            tc_sparse_conv2d_plan_free(sp);
            return st;
        }
        tc_conv2d_plan *plan = NULL; /* x's C x H x W as the spec asked for them */
        const tc_status v = tc_conv2d_plan_validate(ctx, t[1], c->t[0].dims + 1, &p);
        tc_status st = tc_conv2d_plan_create(ctx, t[1], c->t[0].dims + 1, &p, &plan);
        if ((st == TC_OK) != (plan != NULL) || (v == TC_OK) != (st == TC_OK || st == TC_ERR_OUT_OF_MEMORY))
            fz_fail("conv2d plan: validate %s, create %s", tc_status_name(v), tc_status_name(st));
        if (st == TC_OK) st = tc_conv2d_plan_run(plan, t[0], t[2]);
        tc_conv2d_plan_free(plan);
        return st;
    }
    case OP_LINEAR:
    case OP_LINEAR_PLAN: {
        tc_linear_params p = {.relu = ip[0], .variant = c->v};
        if (c->op == OP_LINEAR) return tc_linear(ctx, t[0], t[1], t[2], t[3], &p);
        tc_linear_plan *plan = NULL;
        const tc_status v = tc_linear_plan_validate(ctx, t[1], t[2], c->ext[3] > 0 ? c->ext[3] % 64 : c->ext[3], &p);
        tc_status st = tc_linear_plan_create(ctx, t[1], t[2], &p, &plan);
        if ((st == TC_OK) != (plan != NULL) || (v == TC_OK && st != TC_OK && st != TC_ERR_OUT_OF_MEMORY))
            fz_fail("linear plan: validate %s, create %s", tc_status_name(v), tc_status_name(st));
        if (st == TC_OK) st = tc_linear_plan_run(plan, t[0], t[3]);
        tc_linear_plan_free(plan);
        return st;
    }
    case OP_ADD: return tc_add(ctx, t[0], t[1], t[2], &op);
    case OP_MUL: return tc_mul(ctx, t[0], t[1], t[2], &op);
    case OP_RELU: return tc_relu(ctx, t[0], t[1], &op);
    case OP_GELU: {
        tc_gelu_params p = {.mode = (tc_gelu_mode)ip[0], .variant = c->v};
        return tc_gelu(ctx, t[0], t[1], &p);
    }
    case OP_SOFTMAX: return tc_softmax(ctx, t[0], t[1], &op);
    case OP_LAYERNORM: {
        tc_layernorm_params p = {.eps = c->fp[0], .variant = c->v};
        if (ip[0]) p.residual = t[4], p.sum = t[5];
        return tc_layernorm(ctx, t[0], t[1], t[2], t[3], &p);
    }
    case OP_MAXPOOL2D:
    case OP_AVGPOOL2D: {
        const tc_pool2d_params p = {ip[0], ip[1], ip[2], ip[3], ip[4], ip[5], c->v};
        return (c->op == OP_MAXPOOL2D ? tc_maxpool2d : tc_avgpool2d)(ctx, t[0], t[1], &p);
    }
    case OP_GLOBAL_AVGPOOL: return tc_global_avgpool(ctx, t[0], t[1], &op);
    case OP_EMBEDDING: return tc_embedding(ctx, t[0], t[1], t[2], &op);
    case OP_ARGMAX: {
        tc_argmax_params p = {.values = c->nt > 2 ? t[2] : NULL, .variant = c->v};
        return tc_argmax(ctx, t[0], t[1], &p);
    }
    case OP_QUANTIZE:
    case OP_DEQUANTIZE: {
        tc_tensor *q = t[c->op == OP_QUANTIZE ? 1 : 0];
        float scale[MAX_NUMEL];
        int32_t zero[MAX_NUMEL];
        const int64_t n = q && ip[0] >= 0 && ip[0] < q->ndim ? q->dims[ip[0]] : 1;
        for (int64_t i = 0; i < n; i++) scale[i] = c->fp[0] * (1.0f + 0.125f * (float)(i % 5)), zero[i] = ip[1] / 2 + (int)(i % 7);
        if (q) tc_tensor_set_quant(q, &(tc_quant){ip[0] < 0 ? -1 : ip[0], n, scale, zero}); /* may refuse: the op then does */
        return (c->op == OP_QUANTIZE ? tc_quantize : tc_dequantize)(ctx, t[0], t[1], &op);
    }
    case OP_IGEMM:
    case OP_IGEMM_PLAN: {
        static int32_t mult[MAX_NUMEL], shift[MAX_NUMEL];
        static float scale[MAX_NUMEL];
        static int32_t zero[MAX_NUMEL];
        const int64_t n = t[2] && t[2]->ndim == 2 ? t[2]->dims[1] : 1;
        for (int64_t i = 0; i < MAX_NUMEL; i++) {
            mult[i] = (1 << 30) + (int32_t)(i * 7919 % (1 << 30)), shift[i] = (int32_t)(i % 5) - 8;
            scale[i] = c->fp[0] * (1.0f + 0.25f * (float)(i % 3)), zero[i] = (int32_t)(i % 3);
        }
        for (int q = 0; q < 3; q++) /* A and C per tensor, B per tensor or per output channel */
            if (ip[6] >> q & 1 && t[q])
                tc_tensor_set_quant(t[q], &(tc_quant){q == 1 && n > 1 && ip[6] == 7 ? (ip[0] ? 0 : 1) : -1,
                                                      q == 1 && n > 1 && ip[6] == 7 ? n : 1, scale, zero});
        tc_igemm_params p = tc_igemm_defaults();
        p.trans_b = ip[0], p.relu = ip[1], p.clamp_min = ip[2], p.clamp_max = ip[3];
        p.a_zero_point = p.b_zero_point = p.c_zero_point = ip[4];
        p.bias = c->nt > 3 ? t[3] : NULL, p.variant = c->v;
        if (ip[5]) p.multiplier = mult, p.shift = shift, p.nmult = ip[5] == 1 ? 1 : ip[5] == 2 ? n : n + 1;
        if (c->op == OP_IGEMM) return tc_igemm(ctx, t[0], t[1], t[2], &p);
        tc_igemm_plan *plan = NULL;
        const tc_status v = tc_igemm_plan_validate(ctx, t[1], &p);
        tc_status st = tc_igemm_plan_create(ctx, t[1], &p, &plan);
        if ((st == TC_OK) != (plan != NULL) || (v == TC_OK) != (st == TC_OK || st == TC_ERR_OUT_OF_MEMORY))
            fz_fail("igemm plan: validate %s, create %s", tc_status_name(v), tc_status_name(st));
        if (st == TC_OK) st = tc_igemm_plan_run(plan, t[0], t[2]);
        tc_igemm_plan_free(plan);
        return st;
    }
    case OP_PRUNE: {
        tc_status st = tc_prune_magnitude(ctx, t[0], c->fp[0], (tc_prune_pattern)ip[0]);
        double sp = -1;
        if (st == TC_OK && (tc_sparsity(t[0], &sp) != TC_OK || !(sp >= 0 && sp <= 1))) fz_fail("sparsity %g", sp);
        /* then new tensors from w's channels and the next layer's inputs (w's status is the call's) */
        tc_tensor *wo = NULL, *bo = NULL, *kept = NULL, *w2 = NULL;
        const tc_status ch = st == TC_OK ? tc_prune_channels(ctx, t[0], t[1], c->fp[0], &wo, &bo, &kept) : st;
        if ((ch == TC_OK) != (wo && kept) || (ch == TC_OK && tc_prune_inputs(ctx, t[2], kept, 1, &w2) == TC_OK) != (w2 != NULL))
            fz_fail("tc_prune_channels / tc_prune_inputs: statuses and outputs disagree");
        tc_tensor_free(wo), tc_tensor_free(bo), tc_tensor_free(kept), tc_tensor_free(w2);
        return st;
    }
    case OP_SPMM: {
        tc_sparse *a = NULL;
        tc_sparse_info info;
        const int csr = (int)((c->ext[5] >> 1) & 3); /* 1: w's CSR from host arrays, 2, 3: those damaged */
        tc_status st = csr ? sparse_from_arrays(ctx, t[1], csr - 1, &a)
                           : tc_sparse_from_dense(ctx, t[1], (tc_sparse_format)ip[1], &a);
        if ((st == TC_OK) != (a != NULL) || (a && (tc_sparse_info_get(a, &info) != TC_OK || info.nnz > info.stored)))
            fz_fail("tc_sparse_from_%s: status %s", csr ? "csr" : "dense", tc_status_name(st));
        const tc_spmm_params p = {.bias = t[2], .relu = ip[0], .variant = c->v};
        tc_tensor *x1 = NULL, *y1 = NULL; /* SpMV on a batch of one, as vectors */
        if (st == TC_OK && c->ext[5] & 1 && t[0] && t[3] && t[0]->dims[0] == 1 && t[3]->ndim == 2 &&
            tc_tensor_reshape(t[0], 1, t[0]->dims + 1, &x1) == TC_OK &&
            tc_tensor_reshape(t[3], 1, t[3]->dims + 1, &y1) == TC_OK)
            st = tc_spmv(ctx, a, x1, y1, &p);
        else if (st == TC_OK)
            st = tc_spmm(ctx, a, t[0], t[3], &p);
        tc_tensor_free(x1), tc_tensor_free(y1);
        tc_sparse_free(a);
        return st;
    }
    case OP_QLINEAR_PLAN: {
        tc_qlinear_params q = tc_qlinear_defaults();
        q.relu = ip[0], q.variant = c->v, q.in_dtype = ip[1] & 1 ? TC_DTYPE_S8 : TC_DTYPE_U8;
        q.in_scale = ip[1] == 5 ? c->fp[0] - 1.0f : 1.0f / 64, q.in_zero_point = q.in_dtype == TC_DTYPE_U8 ? 128 : 0;
        tc_qlinear_plan *qp = NULL;
        const tc_status v = tc_qlinear_plan_validate(ctx, t[1], t[2], &q);
        tc_status st = tc_qlinear_plan_create(ctx, t[1], t[2], &q, &qp);
        if ((st == TC_OK) != (qp != NULL) || (v == TC_OK) != (st == TC_OK || st == TC_ERR_OUT_OF_MEMORY))
            fz_fail("qlinear plan: validate %s, create %s", tc_status_name(v), tc_status_name(st));
        if (st == TC_OK) st = tc_qlinear_plan_run(qp, t[0], t[3]);
        tc_qlinear_plan_free(qp);
        return st;
    }
    case OP_SPARSE_LINEAR_PLAN: {
        const tc_sparse_linear_params p = {.relu = ip[0], .format = (tc_sparse_format)ip[1], .variant = c->v};
        tc_sparse_linear_plan *plan = NULL;
        tc_status st = tc_sparse_linear_plan_create(ctx, t[1], t[2], &p, &plan);
        if ((st == TC_OK) != (plan != NULL)) fz_fail("sparse linear plan: status and plan disagree");
        if (st == TC_OK) st = tc_sparse_linear_plan_run(plan, t[0], t[3]);
        tc_sparse_linear_plan_free(plan);
        return st;
    }
    case OP_ATTENTION: {
        static int32_t qpos[MAX_NUMEL], kvlen[MAX_NUMEL];
        const int64_t b = t[0] ? t[0]->dims[0] : 1, lk = t[1] ? t[1]->dims[2] : 1;
        for (int64_t i = 0; i < b && i < MAX_NUMEL; i++) qpos[i] = (int32_t)(i % 3), kvlen[i] = (int32_t)(i * 7 % (lk + 1));
        if (ip[3] == 3 && b <= MAX_NUMEL) kvlen[b - 1] = (int32_t)lk + 1; /* out of range: refused */
        for (int k = 1; k < 3; k++) /* s8 keys and values carry parameters */
            if (t[k] && t[k]->dtype == TC_DTYPE_S8)
                tc_tensor_set_quant(t[k], &(tc_quant){-1, 1, (const float[]){1.0f / 64}, (const int32_t[]){0}});
        tc_attention_params p = tc_attention_defaults();
        p.scale = c->fp[0], p.causal = ip[1], p.q_pos = ip[2], p.layout = (tc_attn_layout)ip[0], p.variant = c->v;
        if (ip[3] & 1 && b <= MAX_NUMEL) p.q_pos_host = qpos;
        if (ip[3] & 2 && b <= MAX_NUMEL) p.kv_len_host = kvlen;
        return tc_attention(ctx, t[0], t[1], t[2], t[3], &p);
    }
    case OP_KV_CACHE: {
        static float scales[2 * MAX_NUMEL];
        static int32_t counts[MAX_NUMEL];
        const tc_kv_cache_config cfg = {c->ext[0], c->ext[1], c->ext[2], c->ext[3], c->ext[4],
                                        ip[0] ? TC_DTYPE_S8 : TC_DTYPE_F32};
        const int64_t ns = tc_sat_mul3(2, cfg.layers, cfg.head_dim), size = tc_sat_mul3(ns, cfg.batch, cfg.heads);
        for (int64_t i = 0; i < 2 * MAX_NUMEL; i++) scales[i] = 1.0f / 64 + (float)(i % 5) / 256;
        for (int64_t i = 0; i < MAX_NUMEL; i++) counts[i] = (int32_t)((c->ext[5] + i) % (c->ext[5] + 1));
        if (ip[1] == 3) counts[0] = (int32_t)c->ext[5] + 1; /* more than appended: refused */
        tc_kv_cache *kv = NULL;
        const int s8 = ip[0] && ns > 0 && ns <= 2 * MAX_NUMEL; /* scales[] holds what it reads */
        tc_status st = s8 ? tc_kv_cache_create_s8(ctx, &cfg, scales, &kv) : tc_kv_cache_create(ctx, &cfg, &kv);
        if ((st == TC_OK) != (kv != NULL) || (st == TC_OK && tc_sat_mul(size, cfg.capacity) == INT64_MAX))
            fz_fail("tc_kv_cache_create: status %s for %lld x %lld x %lld x %lld x %lld", tc_status_name(st),
                    (long long)cfg.layers, (long long)cfg.batch, (long long)cfg.heads, (long long)cfg.capacity,
                    (long long)cfg.head_dim);
        const int32_t *cnt = ip[1] && cfg.batch <= MAX_NUMEL ? counts : NULL;
        for (int a = 0; st == TC_OK && a < 2; a++) /* twice: the second may fill the cache */
            st = tc_kv_cache_append(kv, cfg.layers - 1, t[0], t[1], cnt, (tc_attn_layout)ip[2]);
        if (st == TC_OK || st == TC_ERR_FULL) st = tc_kv_cache_attention(kv, cfg.layers - 1, t[2], t[3], NULL);
        tc_tensor *kvk = NULL, *kvv = NULL;
        if (kv && tc_kv_cache_views(kv, 0, &kvk, &kvv) != TC_OK) fz_fail("tc_kv_cache_views: %s", tc_last_error(ctx));
        tc_tensor_free(kvk), tc_tensor_free(kvv);
        if (kv && (tc_kv_cache_reset(kv) != TC_OK || tc_kv_cache_lengths(kv, 0)[0] != 0)) fz_fail("tc_kv_cache_reset");
        tc_kv_cache_free(kv);
        return st;
    }
    case OP_OBSERVER: {
        tc_observer_options o = tc_observer_defaults((tc_observer_kind)ip[0]);
        o.axis = ip[1], o.bins = ip[2], o.averaging = c->fp[0], o.percentile = c->fp[1];
        tc_observer *obs = NULL;
        tc_status st = tc_observer_create(ctx, &o, &obs);
        if ((st == TC_OK) != (obs != NULL)) fz_fail("tc_observer_create: status and observer disagree");
        if (st == TC_OK) st = tc_observer_update(obs, t[0]);
        if (st == TC_OK) tc_observer_update(obs, t[1]); /* other dims may be refused; the observer stays */
        float lo[MAX_NUMEL], hi[MAX_NUMEL];
        int32_t zp[MAX_NUMEL];
        const int64_t n = obs ? tc_observer_channels(obs) : 0;
        if (st == TC_OK && (n < 1 || n > MAX_NUMEL)) fz_fail("tc_observer_channels gave %lld", (long long)n);
        const tc_dtype dt = t[2] ? t[2]->dtype : TC_DTYPE_S8;
        if (st == TC_OK) st = tc_observer_range(obs, dt, ip[3], n, lo, hi);
        for (int64_t i = 0; st == TC_OK && i < n; i++)
            if (!(lo[i] <= hi[i] && isfinite(lo[i]) && isfinite(hi[i]))) fz_fail("observer range [%g, %g]", lo[i], hi[i]);
        if (st == TC_OK) st = tc_observer_params(obs, dt, ip[3], n, lo, zp);
        if (st == TC_OK && t[2]) st = tc_observer_set_quant(obs, ip[3], t[2]);
        tc_observer_free(obs);
        return st;
    }
    case OP_SET_QUANT: {
        float scale[MAX_NUMEL];
        int32_t zero[MAX_NUMEL];
        const int64_t n = c->ext[4] > 0 && c->ext[4] <= MAX_NUMEL ? c->ext[4] : 8; /* what the arrays hold */
        for (int64_t i = 0; i < n; i++) scale[i] = i ? 0.5f + (float)i : c->fp[0], zero[i] = ip[1] - 128 + (int)(i % 3);
        const tc_quant q = {ip[0], c->ext[4], scale, zero};
        tc_status st = tc_tensor_set_quant(t[0], &q);
        tc_quant back;
        if (st == TC_OK && (tc_tensor_quant(t[0], &back) != TC_OK || back.count != q.count || back.axis != q.axis ||
                            memcmp(back.scale, scale, (size_t)q.count * sizeof *scale) != 0))
            fz_fail("tc_tensor_quant does not give back what was set");
        return st;
    }
    case OP_FLATTEN:
    case OP_RESHAPE:
    case OP_VIEW: {
        tc_tensor *v = (tc_tensor *)ctx;
        tc_status s = c->op == OP_FLATTEN   ? tc_flatten(t[0], &v)
                      : c->op == OP_RESHAPE ? tc_tensor_reshape(t[0], ip[0], c->ext, &v)
                                            : tc_tensor_view(t[0], c->ext[4], ip[0], c->ext, &v);
        if ((s == TC_OK) != (v != NULL) ||
            (v && (c->op == OP_VIEW ? tc_tensor_offset(v) - tc_tensor_offset(t[0]) + tc_tensor_numel(v) > tc_tensor_numel(t[0])
                                    : tc_tensor_numel(v) != tc_tensor_numel(t[0]))))
            fz_fail("a view: status %s, view %p", tc_status_name(s), (void *)v);
        tc_tensor_free(v);
        return s;
    }
    default: return TC_ERR_INVALID_ARG;
    }
}

/* max |a - b| within 1e-3 of max |b| (a NaN or infinity only where b has one);
 * 8-bit integers within 1 unit (requantized), s32 exactly. */
static int agree(const void *a, const void *b, const tc_tensor *t)
{
    if (t->dtype == TC_DTYPE_S8 || t->dtype == TC_DTYPE_U8) { /* requantized: within 1 unit */
        const int sgn = t->dtype == TC_DTYPE_S8;
        for (size_t i = 0; i < t->bytes; i++) {
            const int x = sgn ? ((const int8_t *)a)[i] : ((const uint8_t *)a)[i];
            const int y = sgn ? ((const int8_t *)b)[i] : ((const uint8_t *)b)[i];
            if (abs(x - y) > 1) return 0;
        }
        return 1;
    }
    if (t->dtype != TC_DTYPE_F32) return memcmp(a, b, t->bytes) == 0;
    const float *x = a, *y = b;
    double big = 0, diff = 0;
    for (int64_t i = 0; i < t->numel; i++)
        if (isfinite(y[i]) && fabs(y[i]) > big) big = fabs(y[i]);
    for (int64_t i = 0; i < t->numel; i++) {
        if (!isfinite(y[i])) continue;
        const double d = fabs((double)x[i] - y[i]);
        if (!(d <= diff)) diff = d; /* NaN in x propagates */
    }
    return diff <= 1e-3 * big + 1e-6;
}

/* Statuses openblas or OpenCL may return where ref succeeds: OpenBLAS and the
 * kernels index with ints, some variants lack a shape, CLBlast has its own limits. */
static int cl_may_refuse(tc_status s, tc_variant v)
{
    return s == TC_ERR_OVERFLOW || s == TC_ERR_UNSUPPORTED || s == TC_ERR_OUT_OF_MEMORY ||
           (s == TC_ERR_OPENCL && v == TC_VARIANT_CLBLAST);
}

static void run(const call *c, uint64_t seed)
{
    tc_ctx *ctx[FZ_CTX_MAX];
    const int nctx = fz_contexts(ctx);
    static tc_ctx *other; /* for tensors of another context */
    if (!other && tc_ctx_create("ref", 0, &other) != TC_OK) fz_fail("ref: %s", tc_last_error(NULL));
    if (c->op == OP_CONV2D_OUT_SIZE) {
        int64_t out = -1;
        tc_status s = tc_conv2d_out_size(c->ext[0], c->ext[1], (int)c->ext[2], (int)c->ext[3], (int)c->ext[4], &out);
        if (s == TC_OK && out < 1) fz_fail("tc_conv2d_out_size gave %lld", (long long)out);
        fz_count(names[c->op][0], s);
        return;
    }
    if (c->op == OP_QUANT_PARAMS) {
        const tc_dtype dt = (tc_dtype)c->ip[0];
        float scale[8], lo[8], hi[8];
        int32_t zp[8];
        tc_status st = tc_quant_params_from_range(c->fp[0], c->fp[1], dt, c->ip[1], scale, zp);
        for (int i = 0; i < 8; i++) lo[i] = c->fp[0] * (float)i, hi[i] = c->fp[1] / (float)(i + 1);
        if (st == TC_OK) st = tc_quant_params_from_ranges(c->ip[2], lo, hi, dt, c->ip[1], scale, zp);
        for (int i = 0; st == TC_OK && i < c->ip[2]; i++)
            if (!(isfinite(scale[i]) && scale[i] >= FLT_MIN) || zp[i] < (dt == TC_DTYPE_S8 ? -128 : 0) ||
                zp[i] > (dt == TC_DTYPE_S8 ? 127 : 255))
                fz_fail("quantization parameters: scale %g, zero point %d", scale[i], zp[i]);
        fz_count(names[c->op][0], st);
        return;
    }
    if (c->op == OP_KERNEL_PARAMS) { /* on a context of its own, then the table's values again */
        const tc_status st = tc_kernel_params_set(other, c->spec);
        if (tc_kernel_params_set(other, NULL) != TC_OK) fz_fail("restoring kernel parameters failed");
        fz_count(names[c->op][0], st);
        return;
    }
    if (c->op == OP_DEVICE_FIND) {
        int index = -1;
        tc_status s = tc_device_find(c->spec, &index);
        if (s == TC_OK && (index < 0 || index >= tc_device_count())) fz_fail("tc_device_find gave %d", index);
        fz_count(names[c->op][0], s);
        return;
    }
    if (work(c) > MAX_WORK) {
        fz_count(names[c->op][0], TC_STATUS_COUNT);
        return;
    }
    tc_status st[FZ_CTX_MAX];
    void *result[FZ_CTX_MAX][MAX_T] = {{NULL}};
    for (int k = 0; k < nctx; k++) {
        tensors ts;
        make(ctx[k], other, c, seed, &ts);
        st[k] = invoke(ctx[k], c, ts.t);
        fz_count(names[c->op][k], st[k]);
        for (int i = 0; i < c->nt; i++) {
            if (!ts.t[i]) continue;
            int changed = 0; /* a success may change its outputs and what overlaps them */
            for (int o = 0; o < c->nt; o++) changed |= st[k] == TC_OK && c->t[o].out && tc_tensors_overlap(ts.t[i], ts.t[o]);
            fz_check_tensor(ts.t[i], changed ? NULL : ts.host[i], names[c->op][k]);
            if (ts.base[i]) check_base(ts.base[i], ts.base_host[i], ts.t[i], names[c->op][k]);
            if (st[k] == TC_OK && c->t[i].out) {
                result[k][i] = malloc(ts.t[i]->bytes);
                if (!result[k][i] || tc_tensor_read(ts.t[i], result[k][i], ts.t[i]->bytes) != TC_OK)
                    fz_fail("reading a result back");
            }
        }
        if (k > 0 && st[k] == TC_OK && st[0] != TC_OK && st[0] != TC_ERR_UNSUPPORTED)
            fz_fail("%s accepts what ref refuses: %s", names[c->op][k], tc_last_error(ctx[0]));
        if (k > 0 && st[0] == TC_OK && st[k] != TC_OK && !cl_may_refuse(st[k], c->v))
            fz_fail("%s: ref accepts what it refuses: %s", names[c->op][k], tc_last_error(ctx[k]));
        const int tolerant = c->op == OP_LAYERNORM && !(c->fp[0] >= 1e-5f); /* eps 0 divides by ~0 */
        for (int i = 0; k > 0 && !tolerant && i < c->nt; i++)
            if (result[0][i] && result[k][i] && !agree(result[k][i], result[0][i], ts.t[i]))
                fz_fail("%s: it and ref disagree on output %d", names[c->op][k], i);
        release(&ts);
        fz_check_empty(ctx[k], names[c->op][k]);
    }
    for (int k = 0; k < nctx; k++)
        for (int i = 0; i < MAX_T; i++) free(result[k][i]);
    fz_check_empty(other, "another context");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    src s = {data, n};
    uint64_t seed = 0x5eed;
    for (int i = 0; i < CALLS && s.n; i++) {
        call c;
        gen(&c, &s);
        seed = tc_rng_next(&seed) ^ byte(&s);
        run(&c, seed);
    }
    return 0;
}
