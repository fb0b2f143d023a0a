/* Reference conv2d: direct loops, one output plane at a time, accumulating
 * w[k,c,r,s] * x[c, p*stride + r*dil - pad, q*stride + s*dil - pad] over the
 * input channels of the output channel's group; taps outside x count as zero. */
#include <string.h>

#include "ref/ref.h"

void tc_ref_conv_tap(float *yp, const float *xp, float wv, int64_t r, int64_t s, const tc_conv_dims *d)
{
    for (int64_t p = 0; p < d->p; p++) {
        const int64_t ih = p * d->stride_h + r * d->dil_h - d->pad_h;
        if (ih < 0 || ih >= d->h) continue;
        for (int64_t q = 0; q < d->q; q++) {
            const int64_t iw = q * d->stride_w + s * d->dil_w - d->pad_w;
            if (iw >= 0 && iw < d->w) yp[p * d->q + q] += wv * xp[ih * d->w + iw];
        }
    }
}

void tc_ref_conv_finish(float *yp, int64_t plane, const float *bias, int64_t k, int relu)
{
    for (int64_t i = 0; i < plane; i++) {
        float v = yp[i] + (bias ? bias[k] : 0.0f);
        yp[i] = relu && v < 0.0f ? 0.0f : v;
    }
}

void tc_ref_conv2d(const float *x, const float *w, const float *bias, float *y, const tc_conv_dims *d, int relu)
{
    const int64_t cg = d->c / d->groups, kg = d->k / d->groups, plane = d->p * d->q;
    for (int64_t n = 0; n < d->n; n++)
        for (int64_t k = 0; k < d->k; k++) {
            float *yp = y + (n * d->k + k) * plane;
            for (int64_t i = 0; i < plane; i++) yp[i] = 0.0f;
            const int64_t c0 = (k / kg) * cg;
            for (int64_t c = 0; c < cg; c++) {
                const float *xp = x + (n * d->c + c0 + c) * d->h * d->w;
                for (int64_t r = 0; r < d->r; r++)
                    for (int64_t s = 0; s < d->s; s++)
                        tc_ref_conv_tap(yp, xp, w[((k * cg + c) * d->r + r) * d->s + s], r, s, d);
            }
            tc_ref_conv_finish(yp, plane, bias, k, relu);
        }
}

/* The output columns [lo, hi) of one row whose input column q * stride + off lies in
 * [0, w): lo = ceil(-off / stride), hi = ceil((w - off) / stride), both within [0, q). */
static void in_bounds(int64_t q, int64_t stride, int64_t off, int64_t w, int64_t *lo, int64_t *hi)
{
    int64_t a = off >= 0 ? 0 : (-off + stride - 1) / stride, b = w - off <= 0 ? 0 : (w - off + stride - 1) / stride;
    *lo = a < q ? a : q;
    *hi = b < *lo ? *lo : b < q ? b : q;
}

void tc_ref_im2col(const float *x, float *cols, int64_t ld, const tc_conv_dims *d)
{
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t r = 0; r < d->r; r++)
            for (int64_t s = 0; s < d->s; s++) {
                const float *xp = x + c * d->h * d->w;
                float *row = cols + ((c * d->r + r) * d->s + s) * ld;
                const int64_t off = s * d->dil_w - d->pad_w;
                int64_t lo, hi;
                in_bounds(d->q, d->stride_w, off, d->w, &lo, &hi);
                for (int64_t p = 0; p < d->p; p++) {
                    const int64_t ih = p * d->stride_h + r * d->dil_h - d->pad_h;
                    float *out = row + p * d->q;
                    if (ih < 0 || ih >= d->h) {
                        memset(out, 0, (size_t)d->q * sizeof *out);
                        continue;
                    }
                    const int64_t at = ih * d->w + off; /* + q * stride_w: the input column of q */
                    for (int64_t q = 0; q < lo; q++) out[q] = 0.0f;
                    for (int64_t q = lo; q < hi; q++) out[q] = xp[at + q * d->stride_w];
                    for (int64_t q = hi; q < d->q; q++) out[q] = 0.0f;
                }
            }
}
