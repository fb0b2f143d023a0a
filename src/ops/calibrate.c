/* Calibration observers: a stream of f32 batches in, a clip range per tensor or per
 * channel out. Host code over the batch read back (O(n) per batch); the histogram
 * kinds keep `bins` counts per channel over the exact running [min, max] and
 * rebin (proportionally) when a batch widens it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/host.h"
#include "ops/layer.h"
#include "ref/ref.h"
#include "tinycl/quantize.h"

struct tc_observer {
    tc_ctx *ctx;
    tc_observer_options o;
    int64_t channels; /* 0 until the first batch */
    double *min, *max;
    double *hist;     /* histogram kinds: channels x bins over [min, max] of each channel */
    double *tmp;      /* bins: rebinning scratch */
};

static const char *const kind_names[] = {"minmax", "moving_avg", "percentile", "mse"};
_Static_assert(sizeof kind_names / sizeof kind_names[0] == TC_OBSERVER_KIND_COUNT, "a name for every kind");

const char *tc_observer_kind_name(tc_observer_kind k)
{
    return k >= 0 && k < TC_OBSERVER_KIND_COUNT ? kind_names[k] : "invalid";
}

tc_observer_options tc_observer_defaults(tc_observer_kind kind)
{
    return (tc_observer_options){kind, -1, 0.01f, 99.99, 2048};
}

static int has_hist(const tc_observer *obs)
{
    return obs->o.kind == TC_OBSERVER_PERCENTILE || obs->o.kind == TC_OBSERVER_MSE;
}

tc_status tc_observer_create(tc_ctx *ctx, const tc_observer_options *o, tc_observer **out)
{
    if (!out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "observer: out is NULL");
    *out = NULL;
    if (!ctx || !o) return tc_fail(ctx, TC_ERR_INVALID_ARG, "observer: ctx or options is NULL");
    if (o->kind < 0 || o->kind >= TC_OBSERVER_KIND_COUNT)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "observer: invalid kind %d", (int)o->kind);
    if (o->axis < -1 || o->axis >= TC_MAX_DIMS)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "observer: axis %d outside -1..%d", o->axis, TC_MAX_DIMS - 1);
    if (o->kind == TC_OBSERVER_MOVING_AVG && !(o->averaging > 0.0f && o->averaging <= 1.0f))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "observer: averaging constant %g outside (0, 1]", (double)o->averaging);
    if (o->kind == TC_OBSERVER_PERCENTILE && !(o->percentile > 50.0 && o->percentile <= 100.0))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "observer: percentile %g outside (50, 100]", o->percentile);
    if ((o->kind == TC_OBSERVER_PERCENTILE || o->kind == TC_OBSERVER_MSE) && (o->bins < 16 || o->bins > 65536))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "observer: %d bins outside 16..65536", o->bins);
    tc_observer *obs = calloc(1, sizeof *obs);
    if (!obs) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    obs->ctx = ctx;
    tc_ctx_retain(ctx); /* errors go to ctx: it outlives a tc_ctx_free */
    obs->o = *o;
    *out = obs;
    return TC_OK;
}

void tc_observer_free(tc_observer *obs)
{
    if (!obs) return;
    free(obs->min);
    free(obs->max);
    free(obs->hist);
    free(obs->tmp);
    tc_ctx_free(obs->ctx);
    free(obs);
}

int64_t tc_observer_channels(const tc_observer *obs) { return obs ? obs->channels : 0; }

/* ---- histograms ----------------------------------------------------------------- */

static int bin_of(double v, double lo, double hi, int bins)
{
    if (!(hi > lo)) return 0;
    const double b = floor((v - lo) / (hi - lo) * bins);
    return b < 0 ? 0 : b >= bins ? bins - 1 : (int)b;
}

/* Moves counts over [lo, hi] onto [nlo, nhi] (which contains it), each old bin's
 * count split over the new bins it overlaps in proportion to the overlap. */
static void rebin(double *h, double *tmp, int bins, double lo, double hi, double nlo, double nhi)
{
    const double w = (hi - lo) / bins, nw = (nhi - nlo) / bins;
    memset(tmp, 0, (size_t)bins * sizeof *tmp);
    for (int i = 0; i < bins; i++) {
        if (h[i] == 0) continue;
        const double a = lo + i * w, b = a + w;
        const int first = bin_of(a, nlo, nhi, bins), last = bin_of(b, nlo, nhi, bins);
        if (w == 0 || first == last) {
            tmp[first] += h[i];
            continue;
        }
        for (int j = first; j <= last; j++) {
            const double l = fmax(a, nlo + j * nw), r = fmin(b, j == bins - 1 ? nhi : nlo + (j + 1) * nw);
            if (r > l) tmp[j] += h[i] * (r - l) / w;
        }
    }
    memcpy(h, tmp, (size_t)bins * sizeof *h);
}

/* The value below which a fraction q of the mass lies (linear inside a bin). */
static double quantile(const double *h, int bins, double lo, double hi, double q)
{
    if (q <= 0) return lo;
    if (q >= 1) return hi;
    double total = 0, cum = 0;
    for (int i = 0; i < bins; i++) total += h[i];
    const double target = q * total, w = (hi - lo) / bins;
    for (int i = 0; i < bins; i++) {
        if (h[i] > 0 && cum + h[i] >= target) return fmin(hi, lo + (i + (target - cum) / h[i]) * w);
        cum += h[i];
    }
    return hi;
}

static double cube(double x) { return x * x * x; }

/* Antiderivative of (u - round(u))^2: whole periods contribute 1/12 each. */
static double saw_integral(double u)
{
    const double k = floor(u + 0.5), t = u - k;
    return k / 12.0 + cube(t) / 3.0 + 1.0 / 24.0;
}

/* Expected squared error of quantizing the histogram's mass with (scale, zp) over
 * the integers qmin..qmax (what tc_quantize does), each bin's mass spread evenly
 * over the bin: clipped beyond the grid's ends, a rounding sawtooth inside. */
static double hist_error(const double *h, int bins, double lo, double hi, double s, double zp, double qmin, double qmax)
{
    const double w = (hi - lo) / bins, glo = (qmin - zp) * s, ghi = (qmax - zp) * s;
    double err = 0;
    for (int i = 0; i < bins; i++) {
        if (h[i] == 0) continue;
        const double a = lo + i * w, b = a + w, l = fmax(a, glo), r = fmin(b, ghi);
        double e = 0;
        if (a < glo) e += (cube(fmin(b, glo) - glo) - cube(a - glo)) / 3;
        if (b > ghi) e += (cube(b - ghi) - cube(fmax(a, ghi) - ghi)) / 3;
        if (r > l) e += s * s * s * (saw_integral(r / s + zp) - saw_integral(l / s + zp));
        err += h[i] * e / w;
    }
    return err;
}

static double clip_error(const double *h, int bins, double lo, double hi, double a, double b, tc_dtype dt, int sym)
{
    float s;
    int32_t zp, qmin, qmax;
    tc_quant_params_from_range((float)a, (float)b, dt, sym, &s, &zp); /* a <= b, both finite */
    tc_ref_quant_range(dt, &qmin, &qmax);
    return hist_error(h, bins, lo, hi, s, zp, qmin, qmax);
}

/* The best x in [from, to] for cost(x): a grid of 64, then 64 more around the best. */
#define SEARCH_STEPS 64
typedef double (*cost_fn)(double x, const void *ctx);
static double search(double from, double to, cost_fn cost, const void *ctx)
{
    const double lo = from, hi = to;
    double best = to, best_cost = cost(to, ctx);
    for (int round = 0; round < 2; round++) {
        const double step = (to - from) / SEARCH_STEPS;
        for (int k = 0; k < SEARCH_STEPS; k++) {
            const double x = from + k * step, c = cost(x, ctx);
            if (c < best_cost) best = x, best_cost = c;
        }
        from = fmax(best - step, lo);
        to = fmin(best + step, hi);
    }
    return best;
}

typedef struct {
    const double *h;
    int bins;
    double lo, hi, other;
    tc_dtype dt;
} clip_ctx;

static double cost_sym(double t, const void *p)
{
    const clip_ctx *c = p;
    return t > 0 ? clip_error(c->h, c->bins, c->lo, c->hi, -t, t, c->dt, 1) : INFINITY;
}
static double cost_hi(double b, const void *p)
{
    const clip_ctx *c = p;
    return b > c->other ? clip_error(c->h, c->bins, c->lo, c->hi, c->other, b, c->dt, 0) : INFINITY;
}
static double cost_lo(double a, const void *p)
{
    const clip_ctx *c = p;
    return a < c->other ? clip_error(c->h, c->bins, c->lo, c->hi, a, c->other, c->dt, 0) : INFINITY;
}

/* [lo, hi] clipped to [ca, cb]; when they do not overlap (all values beyond one
 * end), the end that clips them all. */
static void clip_to(double lo, double hi, double ca, double cb, double *a, double *b)
{
    *a = fmin(fmax(lo, ca), cb);
    *b = fmax(fmin(hi, cb), ca);
}

/* MSE-optimal clip range of one channel: symmetric, one threshold; otherwise the two
 * ends by coordinate descent (upper, lower, upper, lower) from the full range. */
static void mse_range(const double *h, int bins, double lo, double hi, tc_dtype dt, int sym, double *a, double *b)
{
    *a = lo, *b = hi;
    if (!(hi > lo)) return;
    clip_ctx c = {h, bins, lo, hi, 0, dt};
    if (sym) {
        const double t = search(0, fmax(-lo, hi), cost_sym, &c);
        clip_to(lo, hi, -t, t, a, b);
        return;
    }
    double ca = fmin(lo, 0), cb = fmax(hi, 0);
    for (int round = 0; round < 2; round++) {
        c.other = ca;
        cb = search(fmax(ca, 0), fmax(hi, 0), cost_hi, &c);
        c.other = cb;
        ca = search(fmin(lo, 0), fmin(cb, 0), cost_lo, &c);
    }
    clip_to(lo, hi, ca, cb, a, b);
}

/* ---- update ------------------------------------------------------------------------ */

/* Per-channel min and max of a batch laid out as outer x channels x inner. */
static void batch_minmax(const float *x, int64_t outer, int64_t channels, int64_t inner, double *mn, double *mx)
{
    for (int64_t c = 0; c < channels; c++) mn[c] = INFINITY, mx[c] = -INFINITY;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < channels; c++) {
            const float *p = x + (o * channels + c) * inner;
            for (int64_t j = 0; j < inner; j++) {
                mn[c] = fmin(mn[c], p[j]);
                mx[c] = fmax(mx[c], p[j]);
            }
        }
}

static void batch_hist(const tc_observer *obs, const float *x, int64_t outer, int64_t inner)
{
    const int bins = obs->o.bins;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < obs->channels; c++) {
            const float *p = x + (o * obs->channels + c) * inner;
            double *h = obs->hist + c * bins;
            for (int64_t j = 0; j < inner; j++) h[bin_of(p[j], obs->min[c], obs->max[c], bins)] += 1;
        }
}

/* The first batch's arrays; nothing is kept on failure. */
static tc_status alloc_state(tc_observer *obs, int64_t channels)
{
    size_t hist_bytes = 0;
    const size_t bins = has_hist(obs) ? (size_t)obs->o.bins : 0;
    if (__builtin_mul_overflow((size_t)channels, bins * sizeof(double), &hist_bytes))
        return tc_fail(obs->ctx, TC_ERR_OVERFLOW, "observer: %lld channels x %zu bins overflow", (long long)channels,
                       bins);
    double *mn = malloc((size_t)channels * sizeof *mn), *mx = malloc((size_t)channels * sizeof *mx);
    double *hist = bins ? calloc(1, hist_bytes) : NULL, *tmp = bins ? malloc(bins * sizeof *tmp) : NULL;
    if (!mn || !mx || (bins && (!hist || !tmp))) {
        free(mn), free(mx), free(hist), free(tmp);
        return tc_fail(obs->ctx, TC_ERR_OUT_OF_MEMORY, "observer: out of host memory for %lld channels",
                       (long long)channels);
    }
    obs->min = mn, obs->max = mx, obs->hist = hist, obs->tmp = tmp;
    obs->channels = channels;
    return TC_OK;
}

/* Folds one batch's per-channel extremes in. */
static void fold(tc_observer *obs, int first, const double *bmin, const double *bmax)
{
    const int bins = obs->o.bins;
    for (int64_t c = 0; c < obs->channels; c++) {
        if (first) {
            obs->min[c] = bmin[c], obs->max[c] = bmax[c];
        } else if (obs->o.kind == TC_OBSERVER_MOVING_AVG) {
            obs->min[c] += obs->o.averaging * (bmin[c] - obs->min[c]);
            obs->max[c] += obs->o.averaging * (bmax[c] - obs->max[c]);
        } else {
            const double nlo = fmin(obs->min[c], bmin[c]), nhi = fmax(obs->max[c], bmax[c]);
            if (has_hist(obs) && (nlo < obs->min[c] || nhi > obs->max[c]))
                rebin(obs->hist + c * bins, obs->tmp, bins, obs->min[c], obs->max[c], nlo, nhi);
            obs->min[c] = nlo, obs->max[c] = nhi;
        }
    }
}

tc_status tc_observer_update(tc_observer *obs, const tc_tensor *x)
{
    if (!obs) return tc_fail(NULL, TC_ERR_INVALID_ARG, "observer is NULL");
    tc_status st = tc_check_tensor(obs->ctx, x, "observer: x", TC_DTYPE_F32, 0);
    if (st != TC_OK) return st;
    const int axis = obs->o.axis;
    if (axis >= x->ndim)
        return tc_fail(obs->ctx, TC_ERR_SHAPE, "observer: axis %d, but x has %d dims", axis, x->ndim);
    const int64_t channels = axis < 0 ? 1 : x->dims[axis];
    if (obs->channels && channels != obs->channels)
        return tc_fail(obs->ctx, TC_ERR_SHAPE, "observer: x has %lld channels along axis %d, earlier batches %lld",
                       (long long)channels, axis, (long long)obs->channels);
    int64_t inner = 1;
    for (int i = axis + 1; axis >= 0 && i < x->ndim; i++) inner *= x->dims[i];
    if (axis < 0) inner = x->numel;
    const int64_t outer = x->numel / (channels * inner);

    void *host = NULL;
    double *bmin = malloc((size_t)channels * sizeof *bmin), *bmax = malloc((size_t)channels * sizeof *bmax);
    if (!bmin || !bmax) st = tc_fail(obs->ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (st == TC_OK) st = tc_host_get(x, &host);
    const float *v = host;
    for (int64_t i = 0; st == TC_OK && i < x->numel; i++)
        if (!isfinite(v[i]))
            st = tc_fail(obs->ctx, TC_ERR_INVALID_ARG, "observer: x[%lld] is %g; calibration needs finite values",
                         (long long)i, (double)v[i]);
    const int first = obs->channels == 0;
    if (st == TC_OK && first) st = alloc_state(obs, channels);
    if (st == TC_OK) {
        batch_minmax(v, outer, channels, inner, bmin, bmax);
        fold(obs, first, bmin, bmax);
        if (has_hist(obs)) batch_hist(obs, v, outer, inner);
    }
    tc_host_put(x, host);
    free(bmin);
    free(bmax);
    return st;
}

/* ---- results ----------------------------------------------------------------------- */

static tc_status check_query(const tc_observer *obs, tc_dtype dt, int64_t count, const void *a, const void *b)
{
    if (!obs) return tc_fail(NULL, TC_ERR_INVALID_ARG, "observer is NULL");
    if (!a || !b) return tc_fail(obs->ctx, TC_ERR_INVALID_ARG, "observer: NULL output array");
    if (dt != TC_DTYPE_S8 && dt != TC_DTYPE_U8)
        return tc_fail(obs->ctx, TC_ERR_DTYPE, "observer: dtype %s, expected s8 or u8", tc_dtype_name(dt));
    if (!obs->channels) return tc_fail(obs->ctx, TC_ERR_INVALID_ARG, "observer: no batch seen yet");
    if (count != obs->channels)
        return tc_fail(obs->ctx, TC_ERR_SHAPE, "observer: %lld outputs for %lld channels", (long long)count,
                       (long long)obs->channels);
    return TC_OK;
}

tc_status tc_observer_range(const tc_observer *obs, tc_dtype dtype, int symmetric, int64_t count, float *min,
                            float *max)
{
    tc_status st = check_query(obs, dtype, count, min, max);
    if (st != TC_OK) return st;
    const int bins = obs->o.bins;
    for (int64_t c = 0; c < count; c++) {
        double a = obs->min[c], b = obs->max[c];
        const double *h = obs->hist ? obs->hist + c * bins : NULL;
        if (obs->o.kind == TC_OBSERVER_PERCENTILE && b > a) {
            const double p = obs->o.percentile / 100.0;
            a = quantile(h, bins, obs->min[c], obs->max[c], 1.0 - p);
            b = quantile(h, bins, obs->min[c], obs->max[c], p);
        } else if (obs->o.kind == TC_OBSERVER_MSE) {
            mse_range(h, bins, obs->min[c], obs->max[c], dtype, symmetric, &a, &b);
        }
        min[c] = (float)a, max[c] = (float)b;
    }
    return TC_OK;
}

tc_status tc_observer_params(const tc_observer *obs, tc_dtype dtype, int symmetric, int64_t count, float *scale,
                             int32_t *zero_point)
{
    tc_status st = check_query(obs, dtype, count, scale, zero_point);
    if (st != TC_OK) return st;
    float *r = malloc(2 * (size_t)count * sizeof *r);
    if (!r) return tc_fail(obs->ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    st = tc_observer_range(obs, dtype, symmetric, count, r, r + count);
    if (st == TC_OK && tc_quant_params_from_ranges(count, r, r + count, dtype, symmetric, scale, zero_point) != TC_OK)
        st = tc_fail(obs->ctx, TC_ERR_INVALID_ARG, "observer: %s", tc_last_error(NULL));
    free(r);
    return st;
}

tc_status tc_observer_set_quant(const tc_observer *obs, int symmetric, tc_tensor *t)
{
    if (!obs) return tc_fail(NULL, TC_ERR_INVALID_ARG, "observer is NULL");
    tc_status st = tc_check_tensor(obs->ctx, t, "observer: t", t ? t->dtype : TC_DTYPE_S8, 0);
    if (st != TC_OK) return st;
    const int axis = obs->o.axis;
    if (!obs->channels) return tc_fail(obs->ctx, TC_ERR_INVALID_ARG, "observer: no batch seen yet");
    if (axis >= 0 && (axis >= t->ndim || t->dims[axis] != obs->channels))
        return tc_fail(obs->ctx, TC_ERR_SHAPE, "observer: %lld channels along axis %d do not fit t's dims",
                       (long long)obs->channels, axis);
    const int64_t count = obs->channels;
    float *scale = malloc((size_t)count * sizeof *scale);
    int32_t *zp = malloc((size_t)count * sizeof *zp);
    st = scale && zp ? tc_observer_params(obs, t->dtype, symmetric, count, scale, zp)
                     : tc_fail(obs->ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (st == TC_OK) st = tc_tensor_set_quant(t, &(tc_quant){axis, count, scale, zp});
    free(scale);
    free(zp);
    return st;
}
