/* Quantization parameters from a range, and the quantize / dequantize ops:
 * validate -> ref on the host or one vectorized kernel (kernels/quantize.cl). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iface.h"
#include "ops/layer.h"
#include "ops/qlayer.h"
#include "ref/ref.h"
#include "tinycl/quantize.h"

/* ---- parameters from a range ------------------------------------------------- */

static tc_status check_range(tc_dtype dt, float min, float max, int64_t i, int64_t count)
{
    char at[40] = "";
    if (count > 1) snprintf(at, sizeof at, " of channel %lld", (long long)i);
    if (dt != TC_DTYPE_S8 && dt != TC_DTYPE_U8)
        return tc_fail(NULL, TC_ERR_DTYPE, "quant params: dtype %s, expected s8 or u8", tc_dtype_name(dt));
    if (!isfinite(min) || !isfinite(max))
        return tc_fail(NULL, TC_ERR_INVALID_ARG, "quant params: range%s [%g, %g] is not finite", at, (double)min,
                       (double)max);
    if (min > max)
        return tc_fail(NULL, TC_ERR_INVALID_ARG, "quant params: range%s [%g, %g] has min > max", at, (double)min,
                       (double)max);
    return TC_OK;
}

/* The range is widened to include 0 (so zero is exact) and worked in double: max - min
 * of two floats near FLT_MAX would overflow float. */
static void range_to_params(float min, float max, tc_dtype dt, int symmetric, float *scale, int32_t *zero_point)
{
    int32_t qmin, qmax;
    tc_ref_quant_range(dt, &qmin, &qmax);
    const double lo = fmin(min, 0.0), hi = fmax(max, 0.0);
    double s = symmetric ? fmax(-lo, hi) / 127.0 : (hi - lo) / (double)(qmax - qmin);
    float sf = s > 0 ? (float)s : 1.0f;
    if (sf < FLT_MIN) sf = FLT_MIN;
    *scale = sf;
    if (symmetric) {
        *zero_point = dt == TC_DTYPE_S8 ? 0 : 128;
        return;
    }
    /* from the float scale actually stored, so that qmin maps back close to lo */
    const double z = (double)qmin - rint(lo / (double)sf);
    *zero_point = (int32_t)fmin(fmax(z, (double)qmin), (double)qmax);
}

tc_status tc_quant_params_from_ranges(int64_t count, const float *min, const float *max, tc_dtype dtype,
                                      int symmetric, float *scale, int32_t *zero_point)
{
    if (!min || !max || !scale || !zero_point)
        return tc_fail(NULL, TC_ERR_INVALID_ARG, "quant params: NULL array");
    if (count < 1) return tc_fail(NULL, TC_ERR_INVALID_ARG, "quant params: count %lld < 1", (long long)count);
    for (int64_t i = 0; i < count; i++) {
        tc_status s = check_range(dtype, min[i], max[i], i, count);
        if (s != TC_OK) return s;
    }
    for (int64_t i = 0; i < count; i++) range_to_params(min[i], max[i], dtype, symmetric, &scale[i], &zero_point[i]);
    return TC_OK;
}

tc_status tc_quant_params_from_range(float min, float max, tc_dtype dtype, int symmetric, float *scale,
                                     int32_t *zero_point)
{
    return tc_quant_params_from_ranges(1, &min, &max, dtype, symmetric, scale, zero_point);
}

/* ---- ops ---------------------------------------------------------------------- */

/* t's parameters and how its elements map onto them: element i has channel
 * (i / inner) % q->count. */
typedef struct {
    tc_quant q;
    int64_t inner;
    tc_dtype dt;
} layout;

static tc_status layout_of(tc_ctx *ctx, const char *op, const tc_tensor *t, const char *tn, layout *l)
{
    if (!tc_tensor_is_quantized(t))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: %s carries no quantization parameters (tc_tensor_set_quant)", op,
                       tn);
    tc_tensor_quant(t, &l->q);
    /* set on the storage for some view's dims: they must fit this tensor's */
    char what[48];
    snprintf(what, sizeof what, "%s: %s's parameters", op, tn);
    tc_status st = tc_quant_check(ctx, what, t->dtype, t->ndim, t->dims, &l->q);
    if (st != TC_OK) return st;
    l->dt = t->dtype;
    l->inner = t->numel;
    if (l->q.axis < 0) return TC_OK;
    l->inner = 1;
    for (int i = l->q.axis + 1; i < t->ndim; i++) l->inner *= t->dims[i];
    return TC_OK;
}

/* NULL and context checks, then s8 or u8 (or s32 when allowed). */
static tc_status check_int(tc_ctx *ctx, const tc_tensor *t, const char *name, int s32)
{
    tc_status st = tc_check_tensor(ctx, t, name, t ? t->dtype : TC_DTYPE_S8, 0);
    if (st == TC_OK && t->dtype != TC_DTYPE_S8 && t->dtype != TC_DTYPE_U8 && !(s32 && t->dtype == TC_DTYPE_S32))
        st = tc_fail(ctx, TC_ERR_DTYPE, "%s is %s, expected s8%s u8", name, tc_dtype_name(t->dtype),
                     s32 ? ", s32 or" : " or");
    return st;
}

typedef struct {
    const layout *l;
    int64_t n;
} host_args;

static int host_quantize(void *const *in, void *out, const void *args)
{
    const host_args *a = args;
    tc_ref_quantize(in[0], out, a->l->dt, a->n, a->l->inner, a->l->q.count, a->l->q.scale, a->l->q.zero_point);
    return 0;
}

static int host_dequantize(void *const *in, void *out, const void *args)
{
    const host_args *a = args;
    tc_ref_dequantize(in[0], a->l->dt, out, a->n, a->l->inner, a->l->q.count, a->l->q.scale, a->l->q.zero_point);
    return 0;
}

/* A read-only copy of `bytes` of host data, counted while it lives; released right
 * after the launch (OpenCL keeps it until the kernel is done). */
static tc_status param_buffer(tc_ctx *ctx, const void *host, size_t bytes, cl_mem *out)
{
    cl_int err;
    *out = clCreateBuffer(ctx->cl, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, (void *)host, &err);
    if (err != CL_SUCCESS) return tc_fail_cl(ctx, err, "clCreateBuffer (quantization parameters)");
    tc_mem_add(ctx, bytes);
    return TC_OK;
}

static void param_release(tc_ctx *ctx, cl_mem m, size_t bytes)
{
    if (!m) return;
    clReleaseMemObject(m);
    tc_mem_sub(ctx, bytes);
}

const char *tc_quant_options(tc_ctx *ctx, tc_dtype dt, char *buf, size_t n)
{
    int32_t qmin, qmax;
    tc_ref_quant_range(dt, &qmin, &qmax);
    cl_device_fp_config fp = 0;
    clGetDeviceInfo(ctx->dev, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL);
    snprintf(buf, n, "-DQT=%s -DQMIN=%d -DQMAX=%d%s", dt == TC_DTYPE_S8 ? "char" : "uchar", (int)qmin, (int)qmax,
             fp & CL_FP_ROUND_TO_NEAREST ? " -DQROUND_ADD" : "");
    return buf;
}

/* x -> y with the parameters of l (y's for quantize, x's for dequantize). */
static tc_status run_cl(tc_ctx *ctx, int quantize, const tc_tensor *x, tc_tensor *y, const layout *l)
{
    static const char *const ctype[TC_DTYPE_COUNT] = {[TC_DTYPE_S8] = "char", [TC_DTYPE_U8] = "uchar",
                                                      [TC_DTYPE_S32] = "int"};
    const char *kname = quantize ? "quantize" : "dequantize";
    const int vw = ctx->info.type == TC_DEVICE_CPU ? 16 : 4;
    char opts[128], qopts[96];
    if (quantize)
        snprintf(opts, sizeof opts, "-DVW=%d %s", vw, tc_quant_options(ctx, l->dt, qopts, sizeof qopts));
    else
        snprintf(opts, sizeof opts, "-DVW=%d -DQT=%s -DWT=%s", vw, ctype[l->dt], l->dt == TC_DTYPE_S32 ? "long" : "int");
    cl_kernel k;
    tc_status st = tc_get_kernel(ctx, "quantize", opts, kname, &k);
    if (st != TC_OK) return st;

    const int64_t c = l->q.count;
    cl_int mode = l->q.axis < 0 ? QMODE_TENSOR : l->inner == 1 ? QMODE_COL : QMODE_ROW;
    const int64_t len = mode == QMODE_TENSOR ? x->numel : mode == QMODE_COL ? c : l->inner;
    /* the kernel multiplies by 1 / scale rounded to float, as the reference does */
    cl_float s1 = quantize ? 1.0f / l->q.scale[0] : l->q.scale[0];
    cl_int z1 = l->q.zero_point[0];
    cl_mem sb = NULL, zb = NULL;
    const size_t pbytes = (size_t)c * sizeof(float);
    if (mode != QMODE_TENSOR) {
        /* pbytes fits: the tensor's metadata holds c floats already */
        float *inv = NULL;
        if (quantize) {
            inv = malloc(pbytes);
            if (!inv) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
            for (int64_t i = 0; i < c; i++) inv[i] = 1.0f / l->q.scale[i];
        }
        st = param_buffer(ctx, quantize ? inv : l->q.scale, pbytes, &sb);
        if (st == TC_OK) st = param_buffer(ctx, l->q.zero_point, pbytes, &zb);
        free(inv);
    }
    cl_mem mx = tc_buf(x), my = tc_buf(y);
    cl_ulong xo = tc_off(x), yo = tc_off(y), ulen = (cl_ulong)len, uc = (cl_ulong)c;
    if (st == TC_OK)
        st = tc_set_args(ctx, k, 11, TC_ARG(mx), TC_ARG(xo), TC_ARG(my), TC_ARG(yo), TC_ARG(ulen), TC_ARG(mode),
                         TC_ARG(uc), TC_ARG(s1), TC_ARG(z1), TC_ARG(sb), TC_ARG(zb));
    if (st == TC_OK) {
        /* a power of two below 64 work-items, a multiple of 64 above, so the runtime can pick even groups */
        size_t g = ((size_t)len + (size_t)vw - 1) / (size_t)vw, g2 = 1;
        while (g2 < g && g2 < 64) g2 *= 2;
        const size_t gws[2] = {g <= 64 ? g2 : (g + 63) / 64 * 64, (size_t)(x->numel / len)};
        st = tc_launch(ctx, k, kname, 2, gws, NULL);
    }
    param_release(ctx, sb, pbytes);
    param_release(ctx, zb, pbytes);
    return st;
}

static tc_status convert(tc_ctx *ctx, int quantize, const tc_tensor *x, tc_tensor *y, const tc_op_params *p)
{
    const char *op = quantize ? "quantize" : "dequantize";
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: ctx is NULL", op);
    tc_variant v = p ? p->variant : TC_VARIANT_AUTO;
    char xn[32], yn[32];
    snprintf(xn, sizeof xn, "%s: x", op);
    snprintf(yn, sizeof yn, "%s: y", op);
    tc_status st = quantize ? tc_check_tensor(ctx, x, xn, TC_DTYPE_F32, 0) : check_int(ctx, x, xn, 1);
    if (st == TC_OK) st = quantize ? check_int(ctx, y, yn, 0) : tc_check_tensor(ctx, y, yn, TC_DTYPE_F32, 0);
    if (st == TC_OK) st = tc_check_same_dims(ctx, op, x, "x", y, "y");
    layout l;
    if (st == TC_OK) st = layout_of(ctx, op, quantize ? y : x, quantize ? "y" : "x", &l);
    if (st == TC_OK) st = tc_layer_variant(ctx, op, v, TC_VARIANT_AUTO, &v);
    if (st != TC_OK) return st;
    const double n = (double)x->numel;
    tc_op_begin(ctx, op, v, 2.0 * n, n * (4.0 + (double)tc_dtype_size(l.dt)));
    if (v == TC_VARIANT_REF) {
        const host_args a = {&l, x->numel};
        st = tc_host_run(ctx, 1, &x, y, quantize ? host_quantize : host_dequantize, &a);
    } else {
        st = run_cl(ctx, quantize, x, y, &l);
    }
    return tc_op_end(ctx, st);
}

tc_status tc_quantize(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_op_params *p)
{
    return convert(ctx, 1, x, y, p);
}

tc_status tc_dequantize(tc_ctx *ctx, const tc_tensor *x, tc_tensor *y, const tc_op_params *p)
{
    return convert(ctx, 0, x, y, p);
}

/* ---- descriptors: quantize, dequantize -------------------------------------------
 * case keys: d0..d3 (the dims, as many as given), axis (-1: per tensor), dtype, zp
 * (zero points: "lo" / "hi" the dtype's ends, "ends" alternating per channel, "rand",
 * "zero" 0 or u8's 128), smin, smax (scales log-uniform between them), ties (scales
 * powers of two and inputs exactly halfway between levels, so round half to even
 * shows), sat (inputs far outside the range, +-inf and NaN among them) */
static const tc_variant quant_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL};
static const char *const dim_keys[TC_MAX_DIMS] = {"d0", "d1", "d2", "d3"};

#define D1(a) {"d0", a}
#define D2(a, b) {"d0", a}, {"d1", b}
#define D3(a, b, c) {"d0", a}, {"d1", b}, {"d2", c}
#define D4(a, b, c, d) {"d0", a}, {"d1", b}, {"d2", c}, {"d3", d}
#define QC(dims, ax, dt, zp, lo, hi, ties, sat)                                                                  \
    TC_CASE(dims, {"axis", ax}, {"dtype", 0, dt}, {"zp", 0, zp}, {"smin", lo}, {"smax", hi}, {"ties", ties},       \
            {"sat", sat})
#define DQ(dims, ax, dt, zp, lo, hi) TC_CASE(dims, {"axis", ax}, {"dtype", 0, dt}, {"zp", 0, zp}, {"smin", lo}, {"smax", hi})

static const tc_case quantize_cases[] = {
    QC(D1(1), -1, "s8", "zero", 1e-2, 1e-2, 0, 1),
    QC(D1(1000), -1, "u8", "lo", 1e-6, 1e-6, 1, 1),
    QC(D2(3, 127), -1, "u8", "hi", 1e3, 1e3, 1, 1),
    QC(D2(3, 127), -1, "s8", "lo", 0.37, 0.37, 0, 1),
    QC(D3(5, 3, 17), 0, "s8", "ends", 1e-6, 1e3, 0, 1),
    QC(D3(5, 3, 17), 1, "u8", "rand", 1e-6, 1e3, 1, 0),
    QC(D3(5, 3, 17), 2, "s8", "rand", 1e-6, 1e3, 0, 1),
    QC(D4(2, 3, 4, 33), 3, "u8", "ends", 1e-6, 1e3, 1, 1),
    QC(D4(2, 64, 9, 9), 1, "s8", "ends", 1e-6, 1e3, 0, 1),
    QC(D4(7, 5, 1, 3), 2, "u8", "rand", 1e-3, 1e-1, 0, 1),
    QC(D2(17, 1), 0, "u8", "hi", 1e-6, 1e3, 1, 1),
    QC(D2(127, 40), 1, "s8", "zero", 1e-6, 1e3, 1, 1),
    QC(D1(4097), 0, "u8", "rand", 1e-6, 1e3, 0, 1),
    QC(D2(1, 65537), -1, "s8", "rand", 2e-3, 2e-3, 0, 1),
};

static const tc_case dequantize_cases[] = {
    DQ(D1(1), -1, "s8", "lo", 1e-2, 1e-2),
    DQ(D1(1000), -1, "u8", "hi", 1e-6, 1e-6),
    DQ(D2(3, 127), -1, "s32", "rand", 1e3, 1e3),
    DQ(D3(5, 3, 17), 0, "s8", "ends", 1e-6, 1e3),
    DQ(D3(5, 3, 17), 1, "u8", "rand", 1e-6, 1e3),
    DQ(D3(5, 3, 17), 2, "s32", "ends", 1e-6, 1e3),
    DQ(D4(2, 3, 4, 33), 3, "u8", "ends", 1e-6, 1e3),
    DQ(D4(2, 64, 9, 9), 1, "s32", "rand", 1e-6, 1e3),
    DQ(D2(17, 1), 0, "s8", "rand", 1e-6, 1e3),
    DQ(D2(127, 40), 1, "s8", "zero", 1e-6, 1e3),
    DQ(D1(4097), 0, "s32", "zero", 1e-6, 1e3),
    DQ(D2(1, 65537), -1, "u8", "rand", 2e-3, 2e-3),
};

static tc_dtype case_dtype(const tc_case *c)
{
    const char *s = tc_case_str(c, "dtype");
    return s && strcmp(s, "u8") == 0 ? TC_DTYPE_U8 : s && strcmp(s, "s32") == 0 ? TC_DTYPE_S32 : TC_DTYPE_S8;
}

static int case_dims(const tc_case *c, int64_t *dims)
{
    int n = 0;
    while (n < TC_MAX_DIMS && tc_case_int(c, dim_keys[n]) != 0) dims[n] = tc_case_int(c, dim_keys[n]), n++;
    return n;
}

static double case_numel(const tc_case *c)
{
    int64_t dims[TC_MAX_DIMS];
    double n = 1;
    for (int i = 0, nd = case_dims(c, dims); i < nd; i++) n *= (double)dims[i];
    return n;
}

/* The case's tensor geometry and random parameters (freed by the caller). */
typedef struct {
    tc_dtype dt;
    int ndim;
    int64_t dims[TC_MAX_DIMS], n, inner;
    tc_quant q;
    float *scale;
    int32_t *zp;
} qcase;

static tc_status qcase_make(tc_ctx *ctx, const tc_case *cs, uint64_t *seed, qcase *k)
{
    memset(k, 0, sizeof *k);
    k->dt = case_dtype(cs);
    k->ndim = case_dims(cs, k->dims);
    const int axis = (int)tc_case_int(cs, "axis");
    if (k->ndim < 1 || axis < -1 || axis >= k->ndim)
        return tc_fail(ctx, TC_ERR_SHAPE, "quantize case: %d dims and axis %d", k->ndim, axis);
    int64_t count = axis < 0 ? 1 : k->dims[axis];
    k->n = 1;
    k->inner = 1;
    for (int i = 0; i < k->ndim; i++) k->n *= k->dims[i];
    for (int i = axis + 1; axis >= 0 && i < k->ndim; i++) k->inner *= k->dims[i];
    if (axis < 0) k->inner = k->n;
    k->scale = malloc((size_t)count * sizeof *k->scale);
    k->zp = malloc((size_t)count * sizeof *k->zp);
    if (!k->scale || !k->zp) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    int32_t qmin, qmax;
    tc_ref_quant_range(k->dt, &qmin, &qmax);
    const char *zm = tc_case_str(cs, "zp");
    const double smin = tc_case_num(cs, "smin"), smax = tc_case_num(cs, "smax");
    for (int64_t c = 0; c < count; c++) {
        float u;
        tc_rand_f32(&u, 1, 0.0f, 1.0f, seed);
        double s = smin * pow(smax / smin, u);
        if (tc_case_int(cs, "ties")) s = exp2(rint(log2(s)));
        k->scale[c] = (float)s;
        const uint64_t r = tc_rng_next(seed);
        k->zp[c] = strcmp(zm, "lo") == 0     ? qmin
                   : strcmp(zm, "hi") == 0   ? qmax
                   : strcmp(zm, "ends") == 0 ? (c % 2 ? qmax : qmin)
                   : strcmp(zm, "zero") == 0 ? (k->dt == TC_DTYPE_U8 ? 128 : 0)
                                             : (int32_t)((int64_t)qmin + (int64_t)(r % ((uint64_t)qmax - (uint64_t)(int64_t)qmin + 1)));
    }
    k->q = (tc_quant){axis, count, k->scale, k->zp};
    return TC_OK;
}

static void qcase_free(qcase *k)
{
    free(k->scale);
    free(k->zp);
}

/* x around each element's levels, qmin - 8 .. qmax + 8 steps from the zero point;
 * with ties exactly halfway between two levels; with sat, one in 11 extreme. */
static void quantize_inputs(const tc_case *cs, const qcase *k, float *x, uint64_t *seed)
{
    int32_t qmin, qmax;
    tc_ref_quant_range(k->dt, &qmin, &qmax);
    const int ties = tc_case_int(cs, "ties") != 0, sat = tc_case_int(cs, "sat") != 0;
    for (int64_t i = 0; i < k->n; i++) {
        const int64_t c = i / k->inner % k->q.count;
        const double s = k->scale[c], lo = qmin - k->zp[c] - 8.0, hi = qmax - k->zp[c] + 8.0;
        float u;
        tc_rand_f32(&u, 1, 0.0f, 1.0f, seed);
        const double t = lo + (hi - lo) * u;
        x[i] = (float)((ties ? floor(t) + 0.5 : t) * s);
        if (sat && tc_rng_next(seed) % 11 == 0) {
            const float far = (float)((qmax - qmin + 100) * s);
            const float special[] = {INFINITY, -INFINITY, NAN, 1e30f, -1e30f, FLT_MAX, -FLT_MAX, far, -far};
            x[i] = special[tc_rng_next(seed) % TC_COUNT(special)];
        }
    }
}

static tc_status quantize_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    qcase k;
    d->cs = *cs;
    tc_status s = qcase_make(ctx, cs, &seed, &k);
    float *x = s == TC_OK ? malloc((size_t)k.n * sizeof *x) : NULL;
    if (s == TC_OK && !x) s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == TC_OK) {
        quantize_inputs(cs, &k, x, &seed);
        s = tc_opdata_input(ctx, d, TC_DTYPE_F32, k.ndim, k.dims, x);
    }
    if (s == TC_OK) s = tc_opdata_output(ctx, d, k.dt, k.ndim, k.dims, &seed);
    if (s == TC_OK) s = tc_tensor_set_quant(d->out[0].t, &k.q);
    if (s == TC_OK) tc_ref_quantize(x, d->out[0].expected, k.dt, k.n, k.inner, k.q.count, k.scale, k.zp);
    qcase_free(&k);
    return s;
}

static tc_status dequantize_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    qcase k;
    d->cs = *cs;
    tc_status s = qcase_make(ctx, cs, &seed, &k);
    const size_t es = tc_dtype_size(k.dt);
    unsigned char *x = s == TC_OK ? malloc((size_t)k.n * es) : NULL;
    if (s == TC_OK && !x) s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == TC_OK) {
        for (size_t i = 0; i < (size_t)k.n * es; i++) x[i] = (unsigned char)tc_rng_next(&seed);
        /* s32: the extremes too, where x - zero_point needs 33 bits */
        for (int64_t i = 0; k.dt == TC_DTYPE_S32 && i < k.n; i += 5)
            ((int32_t *)x)[i] = i % 2 ? INT32_MAX : INT32_MIN;
        s = tc_opdata_input(ctx, d, k.dt, k.ndim, k.dims, x);
    }
    if (s == TC_OK) s = tc_tensor_set_quant(d->in[0], &k.q);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, k.ndim, k.dims, &seed);
    if (s == TC_OK) tc_ref_dequantize(x, k.dt, d->out[0].expected, k.n, k.inner, k.q.count, k.scale, k.zp);
    qcase_free(&k);
    return s;
}

static tc_status quantize_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    return tc_quantize(ctx, d->in[0], d->out[0].t, &(tc_op_params){v});
}

static tc_status dequantize_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    return tc_dequantize(ctx, d->in[0], d->out[0].t, &(tc_op_params){v});
}

/* "DIMS[:aAXIS][:DTYPE]", e.g. 64x576:a0:u8; scales 1e-3..1e-1, random zero points */
static int quant_parse(const char *spec, tc_case *c, int s32)
{
    char buf[96];
    int64_t dims[TC_MAX_DIMS];
    memset(c, 0, sizeof *c);
    if (snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf) return -1;
    char *opt = strchr(buf, ':');
    if (opt) *opt++ = '\0';
    const int nd = tc_parse_dims(buf, dims, TC_MAX_DIMS);
    if (nd < 1) return -1;
    for (int i = 0; i < nd; i++) tc_case_set(c, dim_keys[i], (double)dims[i]);
    tc_case_set(c, "axis", -1);
    tc_case_set_str(c, "dtype", "s8");
    /* not strtok: the caller's size list is being split with it */
    for (char *tok = opt, *next; tok; tok = next) {
        char *end;
        if ((next = strchr(tok, ':'))) *next++ = '\0';
        if (tok[0] == 'a') {
            const long axis = strtol(tok + 1, &end, 10);
            if (end == tok + 1 || *end) return -1;
            tc_case_set(c, "axis", (double)axis);
        } else if (strcmp(tok, "s8") == 0 || strcmp(tok, "u8") == 0 || (s32 && strcmp(tok, "s32") == 0)) {
            tc_case_set_str(c, "dtype", tok[0] == 'u' ? "u8" : tok[1] == '8' ? "s8" : "s32");
        } else {
            return -1;
        }
    }
    tc_case_set_str(c, "zp", "rand");
    tc_case_set(c, "smin", 1e-3);
    return tc_case_set(c, "smax", 1e-1);
}

static int quantize_parse(const char *spec, tc_case *c) { return quant_parse(spec, c, 0); }
static int dequantize_parse(const char *spec, tc_case *c) { return quant_parse(spec, c, 1); }
static double quant_flops(const tc_case *c) { return 2.0 * case_numel(c); }
static double quant_bytes(const tc_case *c) { return case_numel(c) * (4.0 + (double)tc_dtype_size(case_dtype(c))); }

/* Exact for both: each side does the same correctly rounded float multiply, rint
 * and integer arithmetic (IEEE 754 and OpenCL alike), so any difference is a bug. */
#define QUANT_DESC(op)                                                                                         \
    const tc_opdesc tc_opdesc_##op = {                                                                         \
        .name = #op,                                                                                           \
        .variants = quant_variants,                                                                            \
        .nvariants = TC_COUNT(quant_variants),                                                                 \
        .cases = op##_cases,                                                                                   \
        .ncases = TC_COUNT(op##_cases),                                                                        \
        .syntax = "DIMS[:aAXIS][:DTYPE]",                                                                      \
        .parse = op##_parse,                                                                                   \
        .setup = op##_setup,                                                                                   \
        .run = op##_run,                                                                                       \
        .flops = quant_flops,                                                                                  \
        .bytes = quant_bytes,                                                                                  \
        .metric = TC_METRIC_EXACT,                                                                             \
        .tol = 0.0,                                                                                            \
    }
QUANT_DESC(quantize);
QUANT_DESC(dequantize);
