/* Integer GEMM: validate -> resolve the quantization parameters -> choose a variant
 * -> pack A and B (with their sums) -> launch, or run the reference. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iface.h"
#include "ops/host.h"
#include "ops/igemm.h"
#include "ref/ref.h"

_Static_assert(IG_COLSUM == 0 && IG_MULT == IG_ZB + 1 && IG_SHIFT == IG_ZB + 2 && IG_SCALE == IG_ZB + 3,
               "pack kernels write the column sums at the start; one write fills IG_ZB .. IG_SCALE");

#define KP_ALIGN 16   /* K is padded to whole 16-byte loads */
#define PACK_WG 64    /* work-group of the packing kernels (one group shape: one PoCL compile) */

tc_igemm_params tc_igemm_defaults(void)
{
    tc_igemm_params p;
    memset(&p, 0, sizeof p);
    p.clamp_min = INT32_MIN;
    p.clamp_max = INT32_MAX;
    p.variant = TC_VARIANT_AUTO;
    return p;
}

tc_status tc_igemm_multiplier(double real, int32_t *multiplier, int32_t *shift)
{
    if (!multiplier || !shift) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_igemm_multiplier: NULL output");
    if (!(real > 0.0) || !(real < 1073741824.0))
        return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_igemm_multiplier: real multiplier %g is not finite in (0, 2^30)",
                       real);
    int e;
    const double q = frexp(real, &e); /* real = q * 2^e, q in [0.5, 1) */
    int64_t m = llround(q * 2147483648.0);
    if (m == ((int64_t)1 << 31)) m /= 2, e++;
    if (e < -31) m = 0, e = 0; /* below 2^-31 every s32 rounds to 0 */
    *multiplier = (int32_t)m;
    *shift = e;
    return TC_OK;
}

/* ---- validation ------------------------------------------------------------------ */

static void dtype_range(tc_dtype d, int32_t *lo, int32_t *hi)
{
    *lo = d == TC_DTYPE_S8 ? -128 : d == TC_DTYPE_U8 ? 0 : INT32_MIN;
    *hi = d == TC_DTYPE_S8 ? 127 : d == TC_DTYPE_U8 ? 255 : INT32_MAX;
}

static tc_status check_zero_point(tc_ctx *ctx, const char *what, int32_t z, tc_dtype d)
{
    int32_t lo, hi;
    dtype_range(d, &lo, &hi);
    if (z < lo || z > hi)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "igemm: %s zero point %d is outside %s's %d..%d", what, (int)z,
                       tc_dtype_name(d), (int)lo, (int)hi);
    return TC_OK;
}

/* Per-tensor metadata of t, if any: *has = 0 without. */
static tc_status per_tensor(tc_ctx *ctx, const tc_tensor *t, const char *name, int *has, float *scale, int32_t *zero)
{
    tc_quant q;
    tc_status st = tc_tensor_quant(t, &q);
    if (st != TC_OK) return st;
    *has = q.count > 0;
    if (!*has) return TC_OK;
    if (q.axis != -1 || q.count != 1)
        return tc_fail(ctx, TC_ERR_SHAPE, "igemm: %s needs one scale and zero point (per tensor), it has %lld along axis %d",
                       name, (long long)q.count, q.axis);
    *scale = q.scale[0];
    *zero = q.zero_point[0];
    return TC_OK;
}

tc_status tc_ig_check_b(tc_ctx *ctx, const tc_tensor *b, const tc_igemm_params *p, tc_ig_weights *w)
{
    tc_status st;
    if ((st = tc_check_tensor(ctx, b, "igemm: B", TC_DTYPE_S8, 2)) != TC_OK) return st;
    if (p->variant < 0 || p->variant >= TC_VARIANT_COUNT)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "igemm: invalid variant %d", (int)p->variant);
    memset(w, 0, sizeof *w);
    w->p = *p;
    w->k = b->dims[p->trans_b ? 1 : 0];
    w->n = b->dims[p->trans_b ? 0 : 1];
    if (w->k > TC_IGEMM_MAX_K)
        return tc_fail(ctx, TC_ERR_OVERFLOW, "igemm: K = %lld is above %d, where s32 sums could overflow",
                       (long long)w->k, TC_IGEMM_MAX_K);
    /* kernels index with ints; padded sizes must fit too */
    const int64_t lim = (int64_t)1 << 30;
    if (!ctx->is_ref && (w->n >= lim / KP_ALIGN || b->numel >= lim))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "igemm: B of %lldx%lld is beyond 2^30 elements on OpenCL",
                       (long long)b->dims[0], (long long)b->dims[1]);
    if (p->bias) {
        if ((st = tc_check_tensor(ctx, p->bias, "igemm: bias", TC_DTYPE_S32, 0)) != TC_OK) return st;
        if (p->bias->numel != w->n)
            return tc_fail(ctx, TC_ERR_SHAPE, "igemm: bias has %lld elements, expected N = %lld",
                           (long long)p->bias->numel, (long long)w->n);
    }
    tc_quant q;
    if ((st = tc_tensor_quant(b, &q)) != TC_OK) return st;
    if (q.count > 0) {
        const int axis = p->trans_b ? 0 : 1; /* the N output channels */
        if (!(q.axis == -1 && q.count == 1) && !(q.axis == axis && q.count == w->n))
            return tc_fail(ctx, TC_ERR_SHAPE,
                           "igemm: B's quantization has %lld parameters along axis %d; expected 1 (per tensor) or "
                           "N = %lld along axis %d",
                           (long long)q.count, q.axis, (long long)w->n, axis);
        w->bq_count = q.count;
        w->b_scale = q.scale;
        w->b_zero = q.zero_point;
    } else if ((st = check_zero_point(ctx, "B's", p->b_zero_point, TC_DTYPE_S8)) != TC_OK) {
        return st;
    }
    if (p->multiplier || p->shift) {
        if (!p->multiplier || !p->shift)
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "igemm: give both multiplier and shift, or neither");
        if (p->nmult != 1 && p->nmult != w->n)
            return tc_fail(ctx, TC_ERR_SHAPE, "igemm: %lld multipliers, expected 1 or N = %lld", (long long)p->nmult,
                           (long long)w->n);
        for (int64_t j = 0; j < p->nmult; j++)
            if (p->multiplier[j] < 0 || p->shift[j] < -31 || p->shift[j] > 30)
                return tc_fail(ctx, TC_ERR_INVALID_ARG,
                               "igemm: multiplier[%lld] = %d with shift %d: needs a multiplier >= 0 and a shift in "
                               "-31..30",
                               (long long)j, (int)p->multiplier[j], (int)p->shift[j]);
    }
    if (p->clamp_min > p->clamp_max)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "igemm: clamp_min %d is above clamp_max %d", (int)p->clamp_min,
                       (int)p->clamp_max);
    return TC_OK;
}

tc_status tc_ig_check_ac(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *c, const tc_ig_weights *w, tc_ig_call *s)
{
    tc_status st;
    /* A is u8 or s8; C is s32, s8, u8 or f32 (any dtype a tensor can have) */
    if ((st = tc_check_tensor(ctx, a, "igemm: A", a && a->dtype == TC_DTYPE_S8 ? TC_DTYPE_S8 : TC_DTYPE_U8, 2)) !=
        TC_OK)
        return st;
    if ((st = tc_check_tensor(ctx, c, "igemm: C", c ? c->dtype : TC_DTYPE_S32, 2)) != TC_OK) return st;
    memset(s, 0, sizeof *s);
    s->m = a->dims[0];
    s->a_signed = a->dtype == TC_DTYPE_S8;
    s->c_dtype = c->dtype;
    if (a->dims[1] != w->k)
        return tc_fail(ctx, TC_ERR_SHAPE, "igemm: A is %lldx%lld, expected %lld columns (B's K)",
                       (long long)a->dims[0], (long long)a->dims[1], (long long)w->k);
    if (c->dims[0] != s->m || c->dims[1] != w->n)
        return tc_fail(ctx, TC_ERR_SHAPE, "igemm: C is %lldx%lld, expected %lldx%lld", (long long)c->dims[0],
                       (long long)c->dims[1], (long long)s->m, (long long)w->n);
    const int64_t lim = (int64_t)1 << 30;
    if (!ctx->is_ref && (s->m >= lim / KP_ALIGN || a->numel >= lim || c->numel >= lim))
        return tc_fail(ctx, TC_ERR_OVERFLOW, "igemm: A or C beyond 2^30 elements on OpenCL");
    if (tc_tensors_overlap(c, a) || (w->p.bias && tc_tensors_overlap(c, w->p.bias)))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "igemm: C must not share storage with A or the bias");
    int has_a = 0, has_c = 0;
    if ((st = per_tensor(ctx, a, "A", &has_a, &s->sa, &s->za)) != TC_OK) return st;
    if (!has_a) {
        s->za = w->p.a_zero_point;
        if ((st = check_zero_point(ctx, "A's", s->za, a->dtype)) != TC_OK) return st;
    }
    const int relu = w->p.relu != 0;
    switch (c->dtype) {
    case TC_DTYPE_S32: s->flags = IG_OUT_S32 | (relu ? IG_RELU : 0); break;
    case TC_DTYPE_F32:
        s->flags = IG_OUT_F32 | (relu ? IG_RELU : 0);
        if (!has_a || !w->b_scale)
            return tc_fail(ctx, TC_ERR_INVALID_ARG,
                           "igemm: an f32 C needs the scales of A and B (set them with tc_tensor_set_quant)");
        break;
    default: { /* s8 or u8 */
        s->flags = IG_OUT_Q8;
        if ((st = per_tensor(ctx, c, "C", &has_c, &s->sc, &s->zc)) != TC_OK) return st;
        if (!has_c) {
            s->zc = w->p.c_zero_point;
            if ((st = check_zero_point(ctx, "C's", s->zc, c->dtype)) != TC_OK) return st;
        }
        if (!w->p.multiplier && (!has_a || !w->b_scale || !has_c))
            return tc_fail(ctx, TC_ERR_INVALID_ARG,
                           "igemm: a %s C needs multipliers in the params or the scales of A, B and C",
                           tc_dtype_name(c->dtype));
        int32_t lo, hi;
        dtype_range(c->dtype, &lo, &hi);
        s->qmin = lo > w->p.clamp_min ? lo : w->p.clamp_min;
        s->qmax = hi < w->p.clamp_max ? hi : w->p.clamp_max;
        if (relu && s->zc > s->qmin) s->qmin = s->zc;
        if (s->qmin > s->qmax)
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "igemm: the output range %d..%d is empty (clamp %d..%d%s on %s)",
                           (int)s->qmin, (int)s->qmax, (int)w->p.clamp_min, (int)w->p.clamp_max,
                           relu ? ", relu" : "", tc_dtype_name(c->dtype));
        break;
    }
    }
    return TC_OK;
}

void tc_ig_cols_free(tc_ig_cols *cols)
{
    free(cols->zb);
    free(cols->mult);
    free(cols->shift);
    free(cols->scale);
    memset(cols, 0, sizeof *cols);
}

tc_status tc_ig_cols_make(tc_ctx *ctx, const tc_ig_weights *w, const tc_ig_call *s, tc_ig_cols *cols)
{
    const size_t n = (size_t)w->n;
    cols->zb = malloc(n * sizeof *cols->zb);
    cols->mult = calloc(n, sizeof *cols->mult);
    cols->shift = calloc(n, sizeof *cols->shift);
    cols->scale = calloc(n, sizeof *cols->scale);
    if (!cols->zb || !cols->mult || !cols->shift || !cols->scale) {
        tc_ig_cols_free(cols);
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    const int mode = s->flags & IG_OUT_MASK;
    for (size_t j = 0; j < n; j++) {
        const size_t bj = w->bq_count > 1 ? j : 0, mj = w->p.nmult > 1 ? j : 0;
        cols->zb[j] = w->bq_count ? w->b_zero[bj] : w->p.b_zero_point;
        if (mode == IG_OUT_F32) cols->scale[j] = s->sa * w->b_scale[bj];
        if (mode != IG_OUT_Q8) continue;
        if (w->p.multiplier) {
            cols->mult[j] = w->p.multiplier[mj];
            cols->shift[j] = w->p.shift[mj];
            continue;
        }
        const double real = (double)s->sa * (double)w->b_scale[bj] / (double)s->sc;
        if (tc_igemm_multiplier(real, &cols->mult[j], &cols->shift[j]) != TC_OK) {
            tc_ig_cols_free(cols);
            return tc_fail(ctx, TC_ERR_INVALID_ARG,
                           "igemm: the requantization scale sa * sb / sc = %g (column %zu) is not below 2^30", real, j);
        }
    }
    return TC_OK;
}

/* ---- variants ----------------------------------------------------------------------
 * The VNNI kernels run on the host CPU: only PoCL's CPU device runs there, and only
 * PoCL's compiler accepts the x86 builtins. */
static int on_pocl_cpu(const tc_ctx *ctx)
{
    return !ctx->is_ref && ctx->info.type == TC_DEVICE_CPU && strstr(ctx->info.platform, "Portable Computing Language");
}

static int host_avx512vnni(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

/* AVX-VNNI is CPUID leaf 7, sub-leaf 1, EAX bit 4 (read directly: clang 14's
 * __builtin_cpu_supports does not know "avxvnni"); avx2 says the OS saves YMM. */
static int host_avxvnni(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    unsigned a, b, c, d;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1u);
#else
    return 0;
#endif
}

/* 256-bit vpdpbusd: AVX-VNNI's VEX form, or AVX512-VNNI's EVEX form with AVX512-VL */
static int host_vnni256(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    return host_avxvnni() || (host_avx512vnni() && __builtin_cpu_supports("avx512vl"));
#else
    return 0;
#endif
}

static int runs(const tc_ctx *ctx, tc_variant v)
{
    switch (v) {
    case TC_VARIANT_REF:
    case TC_VARIANT_OPENCL:
    case TC_VARIANT_GPU: return 1;
    case TC_VARIANT_VNNI: return on_pocl_cpu(ctx) && host_avx512vnni();
    case TC_VARIANT_VNNI256: return on_pocl_cpu(ctx) && host_vnni256();
    default: return 0;
    }
}

/* AUTO's order on a device whose parameters say igemm.vnni; the portable kernel last. */
static const tc_variant vnni_order[] = {TC_VARIANT_VNNI, TC_VARIANT_VNNI256, TC_VARIANT_OPENCL};

static int usable(const tc_ctx *ctx, tc_variant v) { return runs(ctx, v) && !(ctx->igemm_unbuilt & (1u << v)); }

tc_variant tc_igemm_auto_variant(const tc_ctx *ctx)
{
    if (!ctx || ctx->is_ref) return TC_VARIANT_REF;
    for (size_t i = 0; ctx->params.igemm.vnni && i < sizeof vnni_order / sizeof vnni_order[0]; i++)
        if (usable(ctx, vnni_order[i])) return vnni_order[i];
    return ctx->params.igemm.gpu ? TC_VARIANT_GPU : TC_VARIANT_OPENCL;
}

static const char *options(const tc_ctx *ctx, tc_variant v, char *buf, size_t n);

tc_status tc_ig_variant(tc_ctx *ctx, tc_variant v, tc_variant *out)
{
    const int automatic = v == TC_VARIANT_AUTO;
    if (automatic) v = tc_igemm_auto_variant(ctx);
    if (v != TC_VARIANT_REF && v != TC_VARIANT_OPENCL && v != TC_VARIANT_GPU && v != TC_VARIANT_VNNI &&
        v != TC_VARIANT_VNNI256)
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "igemm has no variant '%s'", tc_variant_name(v));
    if (ctx->is_ref && v != TC_VARIANT_REF)
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "igemm: variant '%s' needs an OpenCL device", tc_variant_name(v));
    if (!runs(ctx, v))
        return tc_fail(ctx, TC_ERR_UNSUPPORTED, "igemm: variant '%s' needs PoCL's CPU device on an x86 host with %s",
                       tc_variant_name(v), v == TC_VARIANT_VNNI ? "AVX512-VNNI" : "AVX-VNNI or AVX512-VNNI");
    /* AUTO never fails over a compiler that rejects the x86 builtins: it builds the
     * VNNI kernels once and falls back to the next variant if that fails */
    while (automatic && (v == TC_VARIANT_VNNI || v == TC_VARIANT_VNNI256)) {
        char opts[64];
        cl_kernel k;
        if (tc_get_kernel(ctx, "igemm", options(ctx, v, opts, sizeof opts), "igemm_vnni", &k) == TC_OK) break;
        ctx->igemm_unbuilt |= 1u << v;
        v = tc_igemm_auto_variant(ctx);
    }
    *out = v;
    return TC_OK;
}

/* ---- packing and launches ------------------------------------------------------------ */

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

tc_ig_geom tc_ig_geom_of(tc_variant v)
{
    switch (v) {
    case TC_VARIANT_OPENCL: return (tc_ig_geom){8, 32, 1, 8, 32};
    case TC_VARIANT_VNNI: return (tc_ig_geom){8, 32, 4, 8, 32};
    case TC_VARIANT_VNNI256: return (tc_ig_geom){6, 16, 4, 6, 16};
    default: return (tc_ig_geom){1, 1, 4, 0, 0}; /* GPU: plain rows of quads */
    }
}

int64_t tc_ig_kp(int64_t k) { return (int64_t)round_up((size_t)k, KP_ALIGN); }

int64_t tc_ig_np(tc_variant v, int64_t n)
{
    return (int64_t)round_up((size_t)n, (size_t)tc_ig_geom_of(v).b_ph);
}

/* Rows of cpu-shaped work-items per group: the table's (as far as kernel k takes
 * them), or the power of two that covers a small M (few group shapes, so few PoCL
 * compiles). */
static size_t wg_rows(tc_ctx *ctx, cl_kernel k, const char *name, int64_t m, int mr)
{
    const size_t most = tc_fit_wg(ctx, k, name, &ctx->params.igemm.cpu_wg, (size_t)ctx->params.igemm.cpu_wg, 1);
    size_t wg = 1, blocks = ((size_t)m + (size_t)mr - 1) / (size_t)mr;
    while (wg * 2 <= most && wg < blocks) wg *= 2;
    return wg;
}

/* The build of kernels/igemm.cl for v; the packing kernels come from the same build. */
static const char *options(const tc_ctx *ctx, tc_variant v, char *buf, size_t n)
{
    switch (v) {
    case TC_VARIANT_GPU: snprintf(buf, n, "-DTS=%d -DWPT=%d", ctx->params.igemm.gpu_tile, ctx->params.igemm.gpu_wpt); break;
    case TC_VARIANT_VNNI: snprintf(buf, n, "-DIG_VNNI=512"); break;
    case TC_VARIANT_VNNI256: snprintf(buf, n, "-DIG_VNNI=256 -DIG_AVXVNNI=%d", host_avxvnni()); break;
    default: buf[0] = '\0';
    }
    return buf;
}

static size_t pack_wg(tc_ctx *ctx, cl_kernel k)
{
    const size_t most = tc_kernel_wg_max(ctx, k);
    return most < PACK_WG ? most : PACK_WG;
}

/* X = src rows (contiguous k) into panels; sums into `sums`. */
static tc_status pack_rows(tc_ctx *ctx, const char *opts, cl_mem src, cl_ulong off, int64_t rows, int64_t k,
                           int64_t rows_p, int ph, int kq, int flip, int sgn, cl_mem dst, cl_mem sums)
{
    cl_kernel kr;
    tc_status st = tc_get_kernel(ctx, "igemm", opts, "pack_rows", &kr);
    if (st != TC_OK) return st;
    const cl_int ld = (cl_int)k, r = (cl_int)rows, kk = (cl_int)k, rp = (cl_int)rows_p, kp = (cl_int)tc_ig_kp(k);
    const cl_int p = ph, q = kq, sg = sgn;
    const cl_uchar fl = (cl_uchar)flip;
    st = tc_set_args(ctx, kr, 13, TC_ARG(src), TC_ARG(off), TC_ARG(ld), TC_ARG(r), TC_ARG(kk), TC_ARG(rp), TC_ARG(kp),
                     TC_ARG(p), TC_ARG(q), TC_ARG(fl), TC_ARG(sg), TC_ARG(dst), TC_ARG(sums));
    if (st != TC_OK) return st;
    const size_t wg = pack_wg(ctx, kr);
    size_t gws[1] = {round_up((size_t)rows_p, wg)}, lws[1] = {wg};
    return tc_launch(ctx, kr, "igemm_pack_rows", 1, gws, lws);
}

tc_status tc_ig_pack_b(tc_ctx *ctx, tc_variant v, const tc_tensor *b, int trans_b, int64_t n, int64_t k, cl_mem bp,
                       cl_mem colp)
{
    char opts[64];
    options(ctx, v, opts, sizeof opts);
    const tc_ig_geom g = tc_ig_geom_of(v);
    const int64_t np = tc_ig_np(v, n);
    if (trans_b) return pack_rows(ctx, opts, tc_buf(b), tc_off(b), n, k, np, g.b_ph, g.b_kq, 0, 1, bp, colp);
    cl_kernel kc;
    tc_status st = tc_get_kernel(ctx, "igemm", opts, "pack_cols", &kc);
    if (st != TC_OK) return st;
    cl_mem src = tc_buf(b);
    const cl_ulong off = tc_off(b);
    const cl_int ld = (cl_int)n, r = (cl_int)n, kk = (cl_int)k, rp = (cl_int)np, kp = (cl_int)tc_ig_kp(k);
    const cl_int p = g.b_ph, q = g.b_kq;
    st = tc_set_args(ctx, kc, 11, TC_ARG(src), TC_ARG(off), TC_ARG(ld), TC_ARG(r), TC_ARG(kk), TC_ARG(rp), TC_ARG(kp),
                     TC_ARG(p), TC_ARG(q), TC_ARG(bp), TC_ARG(colp));
    if (st != TC_OK) return st;
    const size_t wg = pack_wg(ctx, kc);
    size_t gws[1] = {round_up(((size_t)np + 15) / 16, wg)}, lws[1] = {wg};
    return tc_launch(ctx, kc, "igemm_pack_cols", 1, gws, lws);
}

tc_status tc_ig_write_cols(tc_ctx *ctx, cl_mem colp, int64_t n, const tc_ig_cols *cols)
{
    /* IG_ZB .. IG_SCALE are consecutive arrays: one write */
    const size_t bytes = (size_t)n * sizeof(int32_t);
    char *h = malloc(4 * bytes);
    if (!h) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    memcpy(h + (IG_ZB - IG_ZB) * bytes, cols->zb, bytes);
    memcpy(h + (IG_MULT - IG_ZB) * bytes, cols->mult, bytes);
    memcpy(h + (IG_SHIFT - IG_ZB) * bytes, cols->shift, bytes);
    memcpy(h + (IG_SCALE - IG_ZB) * bytes, cols->scale, bytes);
    cl_int err = clEnqueueWriteBuffer(ctx->queue, colp, CL_TRUE, IG_ZB * bytes, 4 * bytes, h, 0, NULL, NULL);
    free(h);
    return err == CL_SUCCESS ? TC_OK : tc_fail_cl(ctx, err, "clEnqueueWriteBuffer(igemm columns)");
}

/* The VNNI kernels read A in place, without packing it or its row sums: where it is
 * u8, its rows are whole quads at 4-byte aligned addresses, and B's zero points are 0
 * (symmetric weights), so the row sums are not needed. */
static int a_in_place(tc_variant v, const tc_tensor *a, const tc_ig_weights *w, const tc_ig_call *s)
{
    if ((v != TC_VARIANT_VNNI && v != TC_VARIANT_VNNI256) || s->a_signed || w->k % 4 || tc_off(a) % 4) return 0;
    for (int64_t j = 0; j < (w->bq_count ? w->bq_count : 1); j++)
        if ((w->bq_count ? w->b_zero[j] : w->p.b_zero_point) != 0) return 0;
    return 1;
}

tc_status tc_ig_run_cl(tc_ctx *ctx, tc_variant v, const tc_tensor *a, tc_tensor *c, const tc_ig_weights *w,
                       const tc_ig_call *s, cl_mem bp, cl_mem colp)
{
    char opts[64];
    options(ctx, v, opts, sizeof opts);
    const tc_ig_geom g = tc_ig_geom_of(v);
    const int gpu = v == TC_VARIANT_GPU, vnni = v == TC_VARIANT_VNNI || v == TC_VARIANT_VNNI256;
    const int direct = a_in_place(v, a, w, s);
    const char *name = gpu ? "igemm_gpu" : vnni ? "igemm_vnni" : "igemm_opencl";
    cl_kernel kg;
    int ts = 0;
    tc_status st = gpu ? tc_tile_kernel(ctx, "igemm", name, &ctx->params.igemm.gpu_tile, &ctx->params.igemm.gpu_wpt,
                                        &kg, &ts)
                       : tc_get_kernel(ctx, "igemm", opts, name, &kg);
    if (st != TC_OK) return st;
    const size_t wg = gpu ? 0 : wg_rows(ctx, kg, name, s->m, g.mr);
    const int64_t kp = tc_ig_kp(w->k), mp = gpu ? s->m : (int64_t)round_up((size_t)s->m, (size_t)g.mr * wg);
    cl_mem ap = tc_buf(a), rowsum = colp; /* in place: the kernel reads neither packed A nor row sums */
    if (st == TC_OK && !direct) st = tc_scratch_get(ctx, 0, (size_t)(mp * kp), &ap);
    if (st == TC_OK && !direct) st = tc_scratch_get(ctx, 3, (size_t)mp * sizeof(cl_int), &rowsum);
    if (st == TC_OK && !direct)
        st = pack_rows(ctx, opts, tc_buf(a), tc_off(a), s->m, w->k, mp, g.a_ph, 4, s->a_signed ? 0x80 : 0, 0, ap,
                       rowsum);
    if (st != TC_OK) return st;
    const cl_int m = (cl_int)s->m, n = (cl_int)w->n, k = (cl_int)w->k, kpi = (cl_int)kp;
    const cl_int za = s->za + (s->a_signed ? 128 : 0), zc = s->zc, qmin = s->qmin, qmax = s->qmax;
    const cl_int fl = s->flags | (direct ? IG_NO_ROWSUM : 0), lda = direct ? k : 0;
    const cl_ulong a_off = direct ? tc_off(a) : 0;
    cl_mem cb = tc_buf(c);
    const cl_ulong co = tc_off(c);
    st = tc_set_args(ctx, kg, 15, TC_ARG(m), TC_ARG(n), TC_ARG(k), TC_ARG(kpi), TC_ARG(ap), TC_ARG(bp), TC_ARG(rowsum),
                     TC_ARG(colp), TC_ARG(cb), TC_ARG(co), TC_ARG(za), TC_ARG(zc), TC_ARG(qmin), TC_ARG(qmax),
                     TC_ARG(fl));
    if (st == TC_OK && vnni) {
        cl_int err = clSetKernelArg(kg, 15, sizeof lda, &lda);
        if (err == CL_SUCCESS) err = clSetKernelArg(kg, 16, sizeof a_off, &a_off);
        if (err != CL_SUCCESS) st = tc_fail_cl(ctx, err, "clSetKernelArg(igemm_vnni A)");
    }
    if (st != TC_OK) return st;
    if (gpu) {
        const size_t t = (size_t)ts, wpt = (size_t)ctx->params.igemm.gpu_wpt;
        size_t lws[2] = {t / wpt, t / wpt};
        size_t gws[2] = {round_up((size_t)w->n, t) / wpt, round_up((size_t)s->m, t) / wpt};
        return tc_launch(ctx, kg, name, 2, gws, lws);
    }
    size_t gws[2] = {(size_t)tc_ig_np(v, w->n) / (size_t)g.nr, (size_t)mp / (size_t)g.mr}, lws[2] = {1, wg};
    return tc_launch(ctx, kg, name, 2, gws, lws);
}

tc_status tc_ig_run_ref(tc_ctx *ctx, const tc_tensor *a, tc_tensor *c, const tc_ig_weights *w, const tc_ig_call *s,
                        const int8_t *b_host, const int32_t *bias_host)
{
    tc_ig_cols cols;
    memset(&cols, 0, sizeof cols);
    void *ha = NULL, *hc = NULL;
    int32_t *v = malloc((size_t)(s->m * w->n) * sizeof *v);
    tc_status st = v ? tc_ig_cols_make(ctx, w, s, &cols) : tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (st == TC_OK) st = tc_host_get(a, &ha);
    if (st == TC_OK) st = tc_host_out(c, 0, &hc);
    if (st == TC_OK) {
        const tc_ref_igemm_out o = {cols.mult, cols.shift, cols.scale, s->zc, s->qmin, s->qmax, w->p.relu != 0};
        tc_ref_igemm_acc(ha, s->a_signed, b_host, w->p.trans_b, s->za, cols.zb, bias_host, v, s->m, w->n, w->k);
        tc_ref_igemm_stage(v, hc, s->c_dtype, s->m, w->n, &o);
        st = tc_host_commit(c, hc);
    }
    tc_host_put(a, ha);
    tc_ig_cols_free(&cols);
    free(v);
    return st;
}

void tc_ig_counts(const tc_ig_weights *w, const tc_ig_call *s, double *flops, double *bytes)
{
    const double m = (double)s->m, n = (double)w->n, k = (double)w->k;
    *flops = 2.0 * m * n * k;
    *bytes = m * k + k * n + m * n * (double)tc_dtype_size(s->c_dtype);
}

/* ---- the one-shot call ------------------------------------------------------------------ */

static tc_status run_cl(tc_ctx *ctx, tc_variant v, const tc_tensor *a, const tc_tensor *b, tc_tensor *c,
                        const tc_ig_weights *w, const tc_ig_call *s)
{
    const int64_t np = tc_ig_np(v, w->n), kp = tc_ig_kp(w->k);
    const size_t col_bytes = (size_t)w->n * sizeof(cl_int);
    cl_mem bp, colp;
    tc_ig_cols cols;
    memset(&cols, 0, sizeof cols);
    tc_status st = tc_scratch_get(ctx, 1, (size_t)(np * kp), &bp);
    if (st == TC_OK) st = tc_scratch_get(ctx, 2, IG_COLP * col_bytes, &colp);
    if (st == TC_OK) st = tc_ig_cols_make(ctx, w, s, &cols);
    if (st == TC_OK) st = tc_ig_write_cols(ctx, colp, w->n, &cols);
    tc_ig_cols_free(&cols);
    if (st != TC_OK) return st;
    cl_int err;
    const cl_int zero = 0;
    if (w->p.bias)
        err = clEnqueueCopyBuffer(ctx->queue, tc_buf(w->p.bias), colp, (size_t)tc_off(w->p.bias) * sizeof(cl_int),
                                  IG_BIAS * col_bytes, col_bytes, 0, NULL, NULL);
    else
        err = clEnqueueFillBuffer(ctx->queue, colp, &zero, sizeof zero, IG_BIAS * col_bytes, col_bytes, 0, NULL, NULL);
    if (err != CL_SUCCESS) return tc_fail_cl(ctx, err, "igemm: writing the bias");
    if ((st = tc_ig_pack_b(ctx, v, b, w->p.trans_b, w->n, w->k, bp, colp)) != TC_OK) return st;
    return tc_ig_run_cl(ctx, v, a, c, w, s, bp, colp);
}

static tc_status run_ref(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor *c, const tc_ig_weights *w,
                         const tc_ig_call *s)
{
    void *hb = NULL, *hbias = NULL;
    tc_status st = tc_host_get(b, &hb);
    if (st == TC_OK) st = tc_host_get(w->p.bias, &hbias);
    if (st == TC_OK) st = tc_ig_run_ref(ctx, a, c, w, s, hb, hbias);
    tc_host_put(w->p.bias, hbias);
    tc_host_put(b, hb);
    return st;
}

tc_status tc_igemm(tc_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor *c, const tc_igemm_params *p)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "igemm: ctx is NULL");
    const tc_igemm_params def = tc_igemm_defaults();
    if (!p) p = &def;
    tc_ig_weights w;
    tc_ig_call s;
    tc_variant v;
    tc_status st = tc_ig_check_b(ctx, b, p, &w);
    if (st == TC_OK) st = tc_ig_check_ac(ctx, a, c, &w, &s);
    if (st == TC_OK && tc_tensors_overlap(c, b))
        st = tc_fail(ctx, TC_ERR_INVALID_ARG, "igemm: C must not share storage with B");
    if (st == TC_OK) st = tc_ig_variant(ctx, p->variant, &v);
    if (st != TC_OK) return st;
    double flops, bytes;
    tc_ig_counts(&w, &s, &flops, &bytes);
    tc_op_begin(ctx, "igemm", v, flops, bytes);
    st = v == TC_VARIANT_REF ? run_ref(ctx, a, b, c, &w, &s) : run_cl(ctx, v, a, b, c, &w, &s);
    return tc_op_end(ctx, st);
}
