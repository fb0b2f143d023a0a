/* Dense matmul: validate -> choose a variant -> launch (or run the reference). */
#include <clblast_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "iface.h"
#include "ops/blas.h"
#include "ops/gemm.h"
#include "ops/host.h"
#include "ref/ref.h"

#define CPU_ROWS 8  /* rows per work-item of gemm_cpu (the A panel height) */
#define CPU_COLS 32 /* columns per work-item (one B panel) */

tc_matmul_params tc_matmul_defaults(void)
{
    tc_matmul_params p = {0, 0, 1.0f, 0.0f, NULL, 0, TC_VARIANT_AUTO};
    return p;
}

typedef struct {
    int64_t m, n, k;
    int flags;
} shape;

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

static tc_status validate(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *b, const tc_tensor *c,
                          const tc_matmul_params *p, shape *s)
{
    tc_status st;
    if ((st = tc_check_tensor(ctx, a, "matmul: A", TC_DTYPE_F32, 2)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, b, "matmul: B", TC_DTYPE_F32, 2)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, c, "matmul: C", TC_DTYPE_F32, 2)) != TC_OK) return st;
    if (p->variant < 0 || p->variant >= TC_VARIANT_COUNT)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "matmul: invalid variant %d", (int)p->variant);
    if (!isfinite(p->alpha) || !isfinite(p->beta))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "matmul: alpha and beta must be finite");
    int64_t m = p->trans_a ? a->dims[1] : a->dims[0], ka = p->trans_a ? a->dims[0] : a->dims[1];
    int64_t kb = p->trans_b ? b->dims[1] : b->dims[0], n = p->trans_b ? b->dims[0] : b->dims[1];
    if (ka != kb)
        return tc_fail(ctx, TC_ERR_SHAPE, "matmul: op(A) is %lldx%lld but op(B) is %lldx%lld", (long long)m,
                       (long long)ka, (long long)kb, (long long)n);
    if (c->dims[0] != m || c->dims[1] != n)
        return tc_fail(ctx, TC_ERR_SHAPE, "matmul: C is %lldx%lld, expected %lldx%lld", (long long)c->dims[0],
                       (long long)c->dims[1], (long long)m, (long long)n);
    if (tc_tensors_overlap(c, a) || tc_tensors_overlap(c, b))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "matmul: C must not share storage with A or B");
    if (p->bias) {
        if ((st = tc_check_tensor(ctx, p->bias, "matmul: bias", TC_DTYPE_F32, 0)) != TC_OK) return st;
        if (p->bias->numel != n)
            return tc_fail(ctx, TC_ERR_SHAPE, "matmul: bias has %lld elements, expected N = %lld",
                           (long long)p->bias->numel, (long long)n);
        if (tc_tensors_overlap(c, p->bias))
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "matmul: C must not share storage with bias");
    }
    if ((st = tc_gemm_check_extent(ctx, "matmul: A", a)) != TC_OK ||
        (st = tc_gemm_check_extent(ctx, "matmul: B", b)) != TC_OK ||
        (st = tc_gemm_check_extent(ctx, "matmul: C", c)) != TC_OK ||
        (p->bias && (st = tc_gemm_check_extent(ctx, "matmul: bias", p->bias)) != TC_OK))
        return st;
    *s = (shape){m, n, ka,
                 (p->bias ? EPI_BIAS : 0) | (p->relu ? EPI_RELU : 0) | (p->beta != 0.0f ? EPI_BETA : 0)};
    return TC_OK;
}

static tc_status run_blas(const tc_tensor *a, const tc_tensor *b, tc_tensor *c, const tc_matmul_params *p,
                          const shape *s)
{
    const tc_blas_gemm_desc g = {.m = s->m, .n = s->n, .k = s->k, .trans_a = p->trans_a, .trans_b = p->trans_b,
                                 .alpha = p->alpha, .beta = p->beta, .a = tc_host(a), .b = tc_host(b), .c = tc_host(c),
                                 .bias = p->bias ? tc_host(p->bias) : NULL, .lda = p->trans_a ? s->m : s->k,
                                 .ldb = p->trans_b ? s->k : s->n, .ldc = s->n, .relu = p->relu};
    tc_blas_gemm(&g);
    return TC_OK;
}

tc_variant tc_matmul_auto_variant(const tc_ctx *ctx, int64_t m, int64_t n, int64_t k, int trans_a, int trans_b)
{
    (void)trans_a, (void)trans_b;
    if (ctx && ctx->host_blas && tc_blas_fits(m, n, k)) return TC_VARIANT_OPENBLAS;
    if (!ctx || ctx->is_ref) return TC_VARIANT_REF;
    return tc_gemm_auto(ctx, m, n, k);
}

static tc_status run_ref(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor *c,
                         const tc_matmul_params *p, const shape *s)
{
    void *ha = NULL, *hb = NULL, *hbias = NULL, *hc = NULL;
    tc_status st = tc_host_get(a, &ha);
    if (st == TC_OK) st = tc_host_get(b, &hb);
    if (st == TC_OK) st = tc_host_get(p->bias, &hbias);
    if (st == TC_OK) st = tc_host_out(c, s->flags & EPI_BETA, &hc);
    if (st == TC_OK && tc_ref_matmul(ha, hb, hc, hbias, s->m, s->n, s->k, p->trans_a, p->trans_b, p->alpha, p->beta,
                                     p->relu) != 0)
        st = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "matmul: out of host memory");
    if (st == TC_OK)
        st = tc_host_commit(c, hc);
    else
        tc_host_put(c, hc);
    tc_host_put(p->bias, hbias);
    tc_host_put(b, hb);
    tc_host_put(a, ha);
    return st;
}

tc_status tc_gemm_check_extent(tc_ctx *ctx, const char *what, const tc_tensor *t)
{
    int64_t end;
    if (t->offset < 0 || __builtin_add_overflow(t->offset, t->numel, &end) ||
        (uint64_t)end > (uint64_t)(t->st->bytes / tc_dtype_size(t->dtype)))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "%s: elements [%lld, %lld + %lld) overflow its storage", what,
                       (long long)t->offset, (long long)t->offset, (long long)t->numel);
    if (!ctx->is_ref && t->numel >= TC_GEMM_MAX_ELEMS)
        return tc_fail(ctx, TC_ERR_OVERFLOW, "%s has %lld elements; OpenCL GEMMs take operands below 2^30",
                       what, (long long)t->numel);
    return TC_OK;
}

static int epi_flags(const tc_gemm_desc *g)
{
    return (g->bias ? EPI_BIAS : 0) | (g->relu ? EPI_RELU : 0) | (g->beta != 0.0f ? EPI_BETA : 0) |
           (g->bias && g->bias_per_row ? EPI_BIAS_ROW : 0);
}

static tc_status run_gpu(tc_ctx *ctx, const tc_gemm_desc *g)
{
    int ts;
    cl_kernel k;
    const tc_par_gemm *pg = &ctx->params.gemm;
    tc_status st = tc_tile_kernel(ctx, "matmul", "gemm_gpu", &pg->gpu_tile, &pg->gpu_wpt, &k, &ts);
    if (st != TC_OK) return st;
    cl_int m = (cl_int)g->m, n = (cl_int)g->n, kk = (cl_int)g->k, ta = g->trans_a != 0, tb = g->trans_b != 0;
    cl_int fl = epi_flags(g);
    st = tc_set_args(ctx, k, 16, TC_ARG(m), TC_ARG(n), TC_ARG(kk), TC_ARG(ta), TC_ARG(tb), TC_ARG(g->a),
                     TC_ARG(g->a_off), TC_ARG(g->b), TC_ARG(g->b_off), TC_ARG(g->c), TC_ARG(g->c_off), TC_ARG(g->bias),
                     TC_ARG(g->bias_off), TC_ARG(g->alpha), TC_ARG(g->beta), TC_ARG(fl));
    if (st != TC_OK) return st;
    const int wpt = pg->gpu_wpt;
    size_t rts = (size_t)(ts / wpt);
    size_t lws[2] = {rts, rts};
    size_t gws[2] = {round_up((size_t)g->n, (size_t)ts) / (size_t)wpt,
                     round_up((size_t)g->m, (size_t)ts) / (size_t)wpt};
    return tc_launch(ctx, k, "gemm_gpu", 2, gws, lws);
}

/* Packs X (rows x cols; X = src^T when `transposed`, else src, leading dimension
 * ld) into panels of ph rows with cols_p columns (see the kernels). `opts` names
 * the caller's build of matmul.cl, so packing adds no build. */
static tc_status pack(tc_ctx *ctx, const char *opts, cl_mem src, cl_ulong off, int64_t ld, int64_t rows,
                      int64_t cols, int transposed, cl_mem dst, size_t rows_p, size_t cols_p, int ph)
{
    const char *name = transposed ? "pack_copy" : "pack_tr";
    cl_kernel k;
    tc_status st = tc_get_kernel(ctx, "matmul", opts, name, &k);
    if (st != TC_OK) return st;
    cl_int l = (cl_int)ld, r = (cl_int)rows, c = (cl_int)cols, rp = (cl_int)rows_p;
    cl_int cp = (cl_int)cols_p, p = ph;
    st = tc_set_args(ctx, k, 9, TC_ARG(src), TC_ARG(off), TC_ARG(l), TC_ARG(r), TC_ARG(c), TC_ARG(dst), TC_ARG(rp),
                     TC_ARG(cp), TC_ARG(p));
    if (st != TC_OK) return st;
    /* pack_copy: (panel, column); pack_tr: (16 columns, panel). Fixed work-groups
     * (the kernels skip the rounded-up items): PoCL compiles once per group shape. */
    const size_t panels = rows_p / (size_t)ph;
    size_t gws[2] = {round_up(panels, 8), round_up(cols_p, 16)}, lws[2] = {8, 16};
    if (!transposed) gws[0] = round_up(cols_p / 16, 64), gws[1] = panels, lws[0] = 64, lws[1] = 1;
    return tc_launch(ctx, k, name, 2, gws, lws);
}

/* M <= 8: B is streamed once, by gemv_t for weight rows (trans_b), else gemv_n.
 * Built for GM = M rounded up to 1, 2, 4 or 8, so its accumulators are registers;
 * GM x NV (gemv_n) and GM x RT (gemv_t) vector accumulators stay within 24. */
static tc_status run_gemv(tc_ctx *ctx, const tc_gemm_desc *g)
{
    if (g->m > TC_GEMV_MAX_M)
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "matmul: the gemv variant needs M <= %d (M = %lld)", TC_GEMV_MAX_M,
                       (long long)g->m);
    const int gm = g->m <= 1 ? 1 : g->m <= 2 ? 2 : g->m <= 4 ? 4 : 8;
    const int nv = gm <= 2 ? 8 : 16 / gm, rt = gm <= 2 ? 8 : gm <= 4 ? 4 : 3;
    char opts[48];
    snprintf(opts, sizeof opts, "-DGM=%d -DGV_NV=%d -DGV_RT=%d", gm, nv, rt);
    const char *name = g->trans_b ? "gemv_t" : "gemv_n";
    cl_kernel k;
    tc_status st = tc_get_kernel(ctx, "matmul", opts, name, &k);
    if (st != TC_OK) return st;
    cl_int m = (cl_int)g->m, n = (cl_int)g->n, kk = (cl_int)g->k, fl = epi_flags(g);
    cl_ulong ao = g->a_off;
    size_t items, wg = (size_t)ctx->params.gemv.wg;
    if (g->trans_b) {
        cl_mem a = g->a;
        if (g->trans_a && g->m > 1) { /* gemv_t wants op(A) row-major */
            if ((st = tc_scratch_get(ctx, 0, (size_t)(g->m * g->k) * sizeof(float), &a)) != TC_OK ||
                (st = pack(ctx, opts, g->a, g->a_off, g->m, g->m, g->k, 1, a, (size_t)g->m, (size_t)g->k, 1)) != TC_OK)
                return st;
            ao = 0;
        }
        st = tc_set_args(ctx, k, 14, TC_ARG(m), TC_ARG(n), TC_ARG(kk), TC_ARG(a), TC_ARG(ao), TC_ARG(g->b),
                         TC_ARG(g->b_off), TC_ARG(g->c), TC_ARG(g->c_off), TC_ARG(g->bias), TC_ARG(g->bias_off),
                         TC_ARG(g->alpha), TC_ARG(g->beta), TC_ARG(fl));
        items = ((size_t)g->n + (size_t)rt - 1) / (size_t)rt;
    } else {
        cl_int sm = g->trans_a ? 1 : kk, sk = g->trans_a ? m : 1;
        st = tc_set_args(ctx, k, 16, TC_ARG(m), TC_ARG(n), TC_ARG(kk), TC_ARG(g->a), TC_ARG(ao), TC_ARG(sm),
                         TC_ARG(sk), TC_ARG(g->b), TC_ARG(g->b_off), TC_ARG(g->c), TC_ARG(g->c_off), TC_ARG(g->bias),
                         TC_ARG(g->bias_off), TC_ARG(g->alpha), TC_ARG(g->beta), TC_ARG(fl));
        items = ((size_t)g->n + 16 * (size_t)nv - 1) / (16 * (size_t)nv);
        wg *= (size_t)(8 / nv); /* a group spans the same columns for every M */
    }
    if (st != TC_OK) return st;
    wg = tc_fit_wg(ctx, k, name, &ctx->params.gemv.wg, wg, 0);
    /* one group shape per build; the kernels skip the rounded-up work-items */
    size_t lws[1] = {wg}, gws[1] = {round_up(items, wg)};
    return tc_launch(ctx, k, name, 1, gws, lws);
}

size_t tc_gemm_packed_b_elems(int64_t n, int64_t k)
{
    return round_up((size_t)n, CPU_COLS) * round_up((size_t)k, 16);
}

tc_status tc_gemm_pack_b(tc_ctx *ctx, const tc_gemm_desc *g, cl_mem dst)
{
    /* op(B)^T = B when trans_b */
    return pack(ctx, "", g->b, g->b_off, g->trans_b ? g->k : g->n, g->n, g->k, !g->trans_b, dst,
                round_up((size_t)g->n, CPU_COLS), round_up((size_t)g->k, 16), CPU_COLS);
}

/* Packs op(A) into 8-row panels and, unless the caller did, op(B) into 32-column
 * panels, then runs gemm_cpu. */
static tc_status run_cpu(tc_ctx *ctx, const tc_gemm_desc *g)
{
    cl_kernel kg;
    tc_status st = tc_get_kernel(ctx, "matmul", "", "gemm_cpu", &kg);
    if (st != TC_OK) return st;
    /* rows of work-items per group: the table's, or the power of two that covers a
     * small M (few group shapes, so few PoCL compiles) */
    size_t wg_rows = 1, row_blocks = ((size_t)g->m + CPU_ROWS - 1) / CPU_ROWS;
    const size_t wg_max = tc_fit_wg(ctx, kg, "gemm_cpu", &ctx->params.gemm.cpu_wg, (size_t)ctx->params.gemm.cpu_wg, 1);
    while (wg_rows * 2 <= wg_max && wg_rows < row_blocks) wg_rows *= 2;
    const size_t mp = round_up((size_t)g->m, CPU_ROWS * wg_rows);
    const size_t np = round_up((size_t)g->n, CPU_COLS), kp = round_up((size_t)g->k, 16);
    /* B panel rows staged in local memory at a time: the table's, within half the local memory */
    cl_int kc = ctx->params.gemm.cpu_kc;
    while (kc > 16 && (cl_ulong)kc * CPU_COLS * sizeof(float) > ctx->info.local_mem_bytes / 2) kc /= 2;
    if (kc != ctx->params.gemm.cpu_kc)
        tc_param_note(ctx, &ctx->params.gemm.cpu_kc, "%d: half the local memory (%llu KiB)", (int)kc,
                      (unsigned long long)(ctx->info.local_mem_bytes / 1024));
    cl_mem ap, bp = g->b;
    st = tc_scratch_get(ctx, 0, mp * kp * sizeof(float), &ap);
    /* op(A) = A^T when trans_a */
    if (st == TC_OK)
        st = pack(ctx, "", g->a, g->a_off, g->trans_a ? g->m : g->k, g->m, g->k, g->trans_a, ap, mp, kp, CPU_ROWS);
    if (st == TC_OK && !g->b_packed) {
        st = tc_scratch_get(ctx, 1, np * kp * sizeof(float), &bp);
        if (st == TC_OK) st = tc_gemm_pack_b(ctx, g, bp);
    }
    if (st != TC_OK) return st;
    cl_int m = (cl_int)g->m, n = (cl_int)g->n, kpi = (cl_int)kp, fl = epi_flags(g);
    st = tc_set_args(ctx, kg, 13, TC_ARG(m), TC_ARG(n), TC_ARG(kpi), TC_ARG(ap), TC_ARG(bp), TC_ARG(g->c),
                     TC_ARG(g->c_off), TC_ARG(g->bias), TC_ARG(g->bias_off), TC_ARG(g->alpha), TC_ARG(g->beta),
                     TC_ARG(fl), TC_ARG(kc));
    if (st == TC_OK) {
        cl_int err = clSetKernelArg(kg, 13, (size_t)kc * CPU_COLS * sizeof(float), NULL);
        if (err != CL_SUCCESS) st = tc_fail_cl(ctx, err, "clSetKernelArg(panel)");
    }
    if (st != TC_OK) return st;
    size_t gws[2] = {np / CPU_COLS, mp / CPU_ROWS};
    size_t lws[2] = {1, wg_rows};
    return tc_launch(ctx, kg, "gemm_cpu", 2, gws, lws);
}

static tc_status run_clblast(tc_ctx *ctx, const tc_gemm_desc *g)
{
    tc_clblast_use(ctx);
    cl_event ev = NULL;
    const int held = tc_pocl_run_begin(ctx);
    tc_clblast_lock();
    CLBlastStatusCode r = CLBlastSgemm(CLBlastLayoutRowMajor, g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                                       g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)g->m,
                                       (size_t)g->n, (size_t)g->k, g->alpha, g->a, g->a_off,
                                       (size_t)(g->trans_a ? g->m : g->k), g->b, g->b_off,
                                       (size_t)(g->trans_b ? g->k : g->n), g->beta, g->c, g->c_off, (size_t)g->n,
                                       &ctx->queue, &ev);
    tc_clblast_unlock();
    tc_pocl_run_end(ctx, held);
    if (r != CLBlastSuccess) return tc_fail(ctx, TC_ERR_OPENCL, "matmul: CLBlastSgemm failed with status %d", (int)r);
    tc_status st = tc_record_event(ctx, ev, "CLBlastSgemm");
    if (st != TC_OK || (!g->bias && !g->relu)) return st;
    cl_kernel k;
    st = tc_get_kernel(ctx, "matmul", "", "bias_relu", &k);
    if (st != TC_OK) return st;
    cl_int m = (cl_int)g->m, n = (cl_int)g->n, fl = epi_flags(g);
    st = tc_set_args(ctx, k, 7, TC_ARG(m), TC_ARG(n), TC_ARG(g->c), TC_ARG(g->c_off), TC_ARG(g->bias),
                     TC_ARG(g->bias_off), TC_ARG(fl));
    if (st != TC_OK) return st;
    size_t gws[2] = {round_up((size_t)g->n, 16), (size_t)g->m}, lws[2] = {16, 1}; /* one group shape */
    return tc_launch(ctx, k, "bias_relu", 2, gws, lws);
}

tc_variant tc_gemm_auto(const tc_ctx *ctx, int64_t m, int64_t n, int64_t k)
{
    (void)n, (void)k;
    if (m <= TC_GEMV_MAX_M) return TC_VARIANT_GEMV;
    return ctx->info.type == TC_DEVICE_CPU ? TC_VARIANT_CPU : TC_VARIANT_GPU;
}

tc_status tc_gemm_cl(tc_ctx *ctx, tc_variant v, const tc_gemm_desc *g)
{
    if (v == TC_VARIANT_AUTO) v = tc_gemm_auto(ctx, g->m, g->n, g->k);
    /* the packed panels are read as float16: from the buffer's start */
    if (g->b_packed && (v != TC_VARIANT_CPU || g->b_off != 0))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "gemm: a packed B is for the cpu variant at offset 0");
    switch (v) {
    case TC_VARIANT_CPU: return run_cpu(ctx, g);
    case TC_VARIANT_GPU: return run_gpu(ctx, g);
    case TC_VARIANT_GEMV: return run_gemv(ctx, g);
    case TC_VARIANT_CLBLAST: return run_clblast(ctx, g);
    default: return tc_fail(ctx, TC_ERR_UNSUPPORTED, "gemm has no variant '%s'", tc_variant_name(v));
    }
}

tc_status tc_matmul(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor *c, const tc_matmul_params *p)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "matmul: ctx is NULL");
    tc_matmul_params def = tc_matmul_defaults();
    if (!p) p = &def;
    shape s = {0, 0, 0, 0};
    tc_status st = validate(ctx, a, b, c, p, &s);
    if (st != TC_OK) return st;
    tc_variant v = p->variant == TC_VARIANT_AUTO ? tc_matmul_auto_variant(ctx, s.m, s.n, s.k, p->trans_a, p->trans_b)
                                                 : p->variant;
    if ((ctx->is_ref || v == TC_VARIANT_OPENBLAS) &&
        (st = tc_blas_variant_ok(ctx, "matmul", v, tc_blas_fits(s.m, s.n, s.k))) != TC_OK)
        return st;
    double flops = 2.0 * (double)s.m * (double)s.n * (double)s.k;
    double bytes = 4.0 * ((double)s.m * (double)s.k + (double)s.k * (double)s.n +
                          (double)s.m * (double)s.n * ((s.flags & EPI_BETA) ? 2 : 1));
    tc_op_begin(ctx, "matmul", v, flops, bytes);
    if (v == TC_VARIANT_REF) {
        st = run_ref(ctx, a, b, c, p, &s);
    } else if (v == TC_VARIANT_OPENBLAS) {
        st = run_blas(a, b, c, p, &s);
    } else {
        const tc_gemm_desc g = {.m = s.m, .n = s.n, .k = s.k, .trans_a = p->trans_a, .trans_b = p->trans_b,
                                .alpha = p->alpha, .beta = p->beta, .a = tc_buf(a), .b = tc_buf(b), .c = tc_buf(c),
                                .bias = p->bias ? tc_buf(p->bias) : NULL, .a_off = tc_off(a), .b_off = tc_off(b),
                                .c_off = tc_off(c), .bias_off = p->bias ? tc_off(p->bias) : 0, .relu = p->relu};
        st = tc_gemm_cl(ctx, v, &g);
        if (st == TC_ERR_UNSUPPORTED && v != TC_VARIANT_GEMV)
            st = tc_fail(ctx, TC_ERR_UNSUPPORTED, "matmul has no variant '%s'", tc_variant_name(v));
    }
    return tc_op_end(ctx, st);
}

/* ---- descriptor: cases, inputs and counts for tests, check and bench --------
 * case keys: m, n, k, trans_a, trans_b, alpha, beta, bias, relu */
#include "check/opdesc.h"

static const tc_variant matmul_variants[] = {TC_VARIANT_REF,  TC_VARIANT_CPU,     TC_VARIANT_GPU,
                                             TC_VARIANT_GEMV, TC_VARIANT_CLBLAST, TC_VARIANT_OPENBLAS};

#define MM(m_, n_, k_, ta, tb, beta_, bias_, relu_, alpha_)                                                      \
    TC_CASE({"m", m_}, {"n", n_}, {"k", k_}, {"trans_a", ta}, {"trans_b", tb}, {"alpha", alpha_}, {"beta", beta_}, \
            {"bias", bias_}, {"relu", relu_})
static const tc_case matmul_cases[] = {
    MM(1, 1, 1, 0, 0, 0, 0, 0, 1),          MM(1, 1000, 17, 0, 0, 0, 1, 0, 1),
    MM(3, 17, 127, 1, 0, 0.5, 0, 0, 1),     MM(8, 127, 1000, 0, 1, 0, 1, 1, 1),
    MM(5, 33, 64, 1, 1, 1, 0, 0, 1.5),      MM(17, 3, 1000, 0, 0, 0, 0, 0, 1),
    MM(127, 1000, 3, 0, 1, 0.5, 1, 1, 1),   MM(1000, 17, 127, 1, 0, 0, 0, 1, 1),
    MM(64, 64, 64, 0, 0, 0, 0, 0, 1),       MM(33, 65, 129, 1, 1, 0, 1, 0, 2),
    MM(100, 96, 257, 0, 0, 0.75, 1, 1, 1),  MM(255, 31, 33, 0, 1, 0, 0, 0, 1),
    MM(9, 4097, 5, 0, 0, 0, 1, 0, 1),       MM(2, 513, 300, 0, 1, 1, 0, 1, 1),
    MM(6, 200, 100, 0, 0, 0.25, 1, 0, 1),   MM(7, 50, 40, 1, 1, 0, 1, 1, 1),
};

/* Bench size: MxNxK, optionally followed by :ta and/or :tb (op(A) = A^T, op(B) = B^T),
 * e.g. 1x4096x4096:tb is a GEMV against 4096 weight rows of 4096. */
static int matmul_parse(const char *spec, tc_case *c)
{
    long long m, n, k;
    int used = 0, ta = 0, tb = 0;
    memset(c, 0, sizeof *c);
    if (sscanf(spec, "%lldx%lldx%lld%n", &m, &n, &k, &used) != 3 || m < 1 || n < 1 || k < 1) return -1;
    for (const char *p = spec + used; *p; p += 3) {
        if (p[0] != ':' || p[1] != 't' || (p[2] != 'a' && p[2] != 'b')) return -1;
        *(p[2] == 'a' ? &ta : &tb) = 1;
    }
    tc_case_set(c, "m", (double)m);
    tc_case_set(c, "n", (double)n);
    tc_case_set(c, "k", (double)k);
    tc_case_set(c, "trans_a", ta);
    tc_case_set(c, "trans_b", tb);
    return tc_case_set(c, "alpha", 1.0);
}

static tc_matmul_params matmul_case_params(const tc_opdata *d, tc_variant v)
{
    const tc_case *c = &d->cs;
    tc_matmul_params p = {(int)tc_case_int(c, "trans_a"), (int)tc_case_int(c, "trans_b"), (float)tc_case_num(c, "alpha"),
                          (float)tc_case_num(c, "beta"), tc_case_int(c, "bias") ? d->in[2] : NULL,
                          (int)tc_case_int(c, "relu"), v};
    return p;
}

static tc_status matmul_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t m = tc_case_int(cs, "m"), n = tc_case_int(cs, "n"), k = tc_case_int(cs, "k");
    const int ta = tc_case_int(cs, "trans_a") != 0, tb = tc_case_int(cs, "trans_b") != 0;
    d->cs = *cs;
    int64_t da[2] = {ta ? k : m, ta ? m : k}, db[2] = {tb ? n : k, tb ? k : n};
    int64_t dc[2] = {m, n}, dbias[1] = {n};
    float *ha = malloc((size_t)(m * k) * sizeof *ha), *hb = malloc((size_t)(k * n) * sizeof *hb);
    float *hbias = malloc((size_t)n * sizeof *hbias);
    if (!ha || !hb || !hbias) {
        free(ha), free(hb), free(hbias);
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    tc_rand_f32(ha, (size_t)(m * k), -1.0f, 1.0f, &seed);
    tc_rand_f32(hb, (size_t)(k * n), -1.0f, 1.0f, &seed);
    tc_rand_f32(hbias, (size_t)n, -1.0f, 1.0f, &seed);
    tc_status s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 2, da, ha);
    if (s == TC_OK) s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 2, db, hb);
    else free(hb);
    if (s == TC_OK) s = tc_opdata_input(ctx, d, TC_DTYPE_F32, 1, dbias, hbias);
    else free(hbias);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, 2, dc, &seed);
    if (s != TC_OK) return s;
    tc_matmul_params p = matmul_case_params(d, TC_VARIANT_REF);
    if (tc_ref_matmul(ha, hb, d->out[0].expected, p.bias ? hbias : NULL, m, n, k, p.trans_a, p.trans_b, p.alpha,
                      p.beta, p.relu) != 0)
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    return TC_OK;
}

static tc_status matmul_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    tc_matmul_params p = matmul_case_params(d, v);
    return tc_matmul(ctx, d->in[0], d->in[1], d->out[0].t, &p);
}

static double matmul_flops(const tc_case *c)
{
    return 2.0 * tc_case_num(c, "m") * tc_case_num(c, "n") * tc_case_num(c, "k");
}

static double matmul_bytes(const tc_case *c)
{
    const double m = tc_case_num(c, "m"), n = tc_case_num(c, "n"), k = tc_case_num(c, "k");
    return 4.0 * (m * k + k * n + m * n * (tc_case_num(c, "beta") != 0 ? 2 : 1));
}

const tc_opdesc tc_opdesc_matmul = {
    .name = "matmul",
    .variants = matmul_variants,
    .nvariants = TC_COUNT(matmul_variants),
    .cases = matmul_cases,
    .ncases = TC_COUNT(matmul_cases),
    .syntax = "MxNxK[:ta][:tb] (op(A) = A^T with :ta, op(B) = B^T with :tb)",
    .parse = matmul_parse,
    .setup = matmul_setup,
    .run = matmul_run,
    .flops = matmul_flops,
    .bytes = matmul_bytes,
    .metric = TC_METRIC_MAXREL,
    .tol = 1e-4,
};
