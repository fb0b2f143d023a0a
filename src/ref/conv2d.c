/* Reference conv2d: direct loops, one output plane at a time, accumulating
 * w[k,c,r,s] * x[c, p*stride + r*dil - pad, q*stride + s*dil - pad] over the
 * input channels of the output channel's group; taps outside x count as zero. */
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

void tc_ref_im2col(const float *x, float *cols, const tc_conv_dims *d)
{
    const int64_t pq = d->p * d->q;
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t r = 0; r < d->r; r++)
            for (int64_t s = 0; s < d->s; s++) {
                const float *xp = x + c * d->h * d->w;
                float *row = cols + ((c * d->r + r) * d->s + s) * pq;
                for (int64_t p = 0; p < d->p; p++) {
                    const int64_t ih = p * d->stride_h + r * d->dil_h - d->pad_h;
                    float *out = row + p * d->q;
                    for (int64_t q = 0; q < d->q; q++) {
                        const int64_t iw = q * d->stride_w + s * d->dil_w - d->pad_w;
                        out[q] = ih >= 0 && ih < d->h && iw >= 0 && iw < d->w ? xp[ih * d->w + iw] : 0.0f;
                    }
                }
            }
}
