/* The decoder's s8 KV cache: its dtype switch and the calibration of its scales.
 * The scales come from a fixed text (below): short English pieces in the layout of
 * the fortunes the model was trained on, written for this purpose, so no byte of it
 * comes from the held-out split the int8 cache is scored on (tinycl eval decoder
 * --kv-int8). It runs through the model once with the f32 cache, in windows of the
 * trained context (the positions the model was trained on), and each layer's keys
 * and values, every head and position, go through a min/max observer per head_dim
 * channel; the symmetric s8 parameters of those ranges are the scales. */
#include <stdlib.h>

#include "model/decoder.h"
#include "tinycl/attention.h"
#include "tinycl/quantize.h"

/* The calibration text: 512 bytes, four windows of the fortunes model's trained context. */
static const char calibration_text[] =
    "The river does not argue with the stones in its way; it goes around them, and\n"
    "after a thousand years the stones are gone and the river is still there.\n"
    "%\n"
    "Q:\tWhy did the baker stop making doughnuts?\n"
    "A:\tHe was so tired of the hole business.\n"
    "%\n"
    "If you cannot find your glasses, look on your nose.  If they are not there,\n"
    "look in the fridge!  Do not ask me why!\n"
    "\t\t-- Household wisdom\n"
    "%\n"
    "Old sailors say that a calm sea never made a skilled captain, but they say it\n"
    "from a warm chair by a fire, with feet on the rugs.\n"
    "%\n";

static const char fn[] = "tc_decoder_set_kv_dtype";

/* Symmetric s8 scales of the ranges of every channel (axis 3) of t. */
static tc_status observe(tc_ctx *ctx, const tc_tensor *t, int64_t hd, float *lo, float *hi, float *scale,
                         int32_t *zp)
{
    tc_observer_options o = tc_observer_defaults(TC_OBSERVER_MINMAX);
    o.axis = 3;
    tc_observer *obs = NULL;
    tc_status s = tc_observer_create(ctx, &o, &obs);
    if (s == TC_OK) s = tc_observer_update(obs, t);
    if (s == TC_OK) s = tc_observer_range(obs, TC_DTYPE_S8, 1, hd, lo, hi);
    if (s == TC_OK && tc_quant_params_from_ranges(hd, lo, hi, TC_DTYPE_S8, 1, scale, zp) != TC_OK)
        s = tc_fail(ctx, TC_ERR_INVALID_ARG, "%s", tc_last_error(NULL));
    tc_observer_free(obs);
    return s;
}

/* scales[2 * layers * head_dim]: per layer, k's then v's. */
static tc_status calibrate(tc_decoder *d, float *scales)
{
    const tc_decoder_info in = d->info;
    const int64_t n = (int64_t)sizeof calibration_text - 1, hd = in.head_dim;
    int64_t window = in.trained_context < in.capacity ? in.trained_context : in.capacity;
    if (window > n) window = n;
    if (window < 1) window = 1;
    const int64_t windows = n / window, rows = windows * window;
    tc_decoder_run r;
    tc_status s = tc_decoder_run_init(d, windows, rows, window, TC_DTYPE_F32, &r);
    if (s != TC_OK) return s;
    for (int64_t i = 0; i < rows; i++) {
        r.hids[i] = (int32_t)((unsigned char)calibration_text[i] % in.vocab); /* bytes, or ids */
        r.hpos[i] = (int32_t)(i % window);
    }
    for (int64_t b = 0; b < windows; b++)
        r.counts[b] = (int32_t)window;
    s = tc_decoder_step(&r, window);
    float *lo = malloc((size_t)hd * sizeof *lo), *hi = malloc((size_t)hd * sizeof *hi);
    int32_t *zp = malloc((size_t)hd * sizeof *zp);
    if (s == TC_OK && (!lo || !hi || !zp)) s = tc_fail(d->ctx, TC_ERR_OUT_OF_MEMORY, "%s: out of host memory", fn);
    for (int64_t l = 0; l < in.layers && s == TC_OK; l++) {
        tc_tensor *kv[2] = {NULL, NULL};
        s = tc_kv_cache_views(r.kv, l, &kv[0], &kv[1]); /* every position holds a calibration token */
        for (int j = 0; j < 2 && s == TC_OK; j++) {
            s = observe(d->ctx, kv[j], hd, lo, hi, scales + (2 * l + j) * hd, zp);
            if (s != TC_OK)
                s = tc_fail_in(d->ctx, s, "%s: calibrating the s8 cache on layer %lld's %s", fn, (long long)l,
                               j ? "values" : "keys");
        }
        tc_tensor_free(kv[0]), tc_tensor_free(kv[1]);
    }
    free(lo), free(hi), free(zp);
    tc_decoder_run_free(&r);
    return s;
}

tc_status tc_decoder_set_kv_dtype(tc_decoder *d, tc_dtype dtype)
{
    if (!d) return tc_fail(NULL, TC_ERR_INVALID_ARG, "%s: decoder is NULL", fn);
    if ((int)dtype < 0 || (int)dtype >= TC_DTYPE_COUNT)
        return tc_fail(d->ctx, TC_ERR_INVALID_ARG, "%s: dtype %d is not a tc_dtype", fn, (int)dtype);
    if (dtype != TC_DTYPE_F32 && dtype != TC_DTYPE_S8)
        return tc_fail(d->ctx, TC_ERR_UNSUPPORTED, "%s: a KV cache of %s; the decoder's cache holds f32 or s8", fn,
                       tc_dtype_name(dtype));
    if (dtype == TC_DTYPE_S8 && !d->kv_scales) {
        float *scales = malloc((size_t)(2 * d->info.layers * d->info.head_dim) * sizeof *scales);
        tc_status s = scales ? calibrate(d, scales) : tc_fail(d->ctx, TC_ERR_OUT_OF_MEMORY, "%s: out of host memory", fn);
        if (s != TC_OK) {
            free(scales);
            return s;
        }
        d->kv_scales = scales;
    }
    d->kv_dtype = dtype;
    return TC_OK;
}

tc_dtype tc_decoder_kv_dtype(const tc_decoder *d)
{
    return d ? d->kv_dtype : TC_DTYPE_F32;
}
