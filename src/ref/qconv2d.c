/* Reference pieces of the quantized layers (include/tinycl/qlayers.h): the bias in
 * accumulator units, im2col into patch rows, the move to NCHW, and a direct integer
 * convolution that checks the im2col path. */
#include <math.h>
#include <string.h>

#include "ref/ref.h"

int32_t tc_ref_qbias(float b, double unit)
{
    const double q = rint((double)b / unit);
    return q >= 2147483647.0 ? INT32_MAX : q <= -2147483648.0 ? INT32_MIN : isnan(q) ? 0 : (int32_t)q;
}

void tc_ref_im2row(const uint8_t *x, uint8_t *cols, const tc_conv_dims *d, uint8_t zp)
{
    const int64_t pq = d->p * d->q, crs = d->c * d->r * d->s;
    for (int64_t n = 0; n < d->n; n++)
        for (int64_t at = 0; at < pq; at++) {
            const int64_t p = at / d->q, q = at % d->q;
            uint8_t *row = cols + (n * pq + at) * crs;
            for (int64_t r = 0; r < d->r; r++)
                for (int64_t s = 0; s < d->s; s++)
                    for (int64_t c = 0; c < d->c; c++) {
                        const int64_t ih = p * d->stride_h - d->pad_h + r * d->dil_h;
                        const int64_t iw = q * d->stride_w - d->pad_w + s * d->dil_w;
                        const int in = ih >= 0 && ih < d->h && iw >= 0 && iw < d->w;
                        *row++ = in ? x[((n * d->c + c) * d->h + ih) * d->w + iw] : zp;
                    }
        }
}

void tc_ref_to_nchw(const void *t, void *y, size_t esize, int64_t n, int64_t pq, int64_t k)
{
    for (int64_t b = 0; b < n; b++)
        for (int64_t i = 0; i < pq; i++)
            for (int64_t j = 0; j < k; j++)
                memcpy((char *)y + (size_t)((b * k + j) * pq + i) * esize,
                       (const char *)t + (size_t)((b * pq + i) * k + j) * esize, esize);
}

void tc_ref_qconv2d_acc(const void *x, int x_signed, const int8_t *w, int32_t zx, const int32_t *zw,
                        const int32_t *bias, int32_t *v, const tc_conv_dims *d)
{
    for (int64_t n = 0; n < d->n; n++)
        for (int64_t k = 0; k < d->k; k++)
            for (int64_t p = 0; p < d->p; p++)
                for (int64_t q = 0; q < d->q; q++) {
                    int64_t acc = bias ? bias[k] : 0;
                    for (int64_t c = 0; c < d->c; c++)
                        for (int64_t r = 0; r < d->r; r++)
                            for (int64_t s = 0; s < d->s; s++) {
                                const int64_t ih = p * d->stride_h - d->pad_h + r * d->dil_h;
                                const int64_t iw = q * d->stride_w - d->pad_w + s * d->dil_w;
                                if (ih < 0 || ih >= d->h || iw < 0 || iw >= d->w) continue; /* padding: x - zx = 0 */
                                const int64_t at = ((n * d->c + c) * d->h + ih) * d->w + iw;
                                const int32_t xv = x_signed ? ((const int8_t *)x)[at] : ((const uint8_t *)x)[at];
                                acc += (int64_t)(xv - zx) * (w[((k * d->c + c) * d->r + r) * d->s + s] - zw[k]);
                            }
                    v[((n * d->k + k) * d->p + p) * d->q + q] =
                        (int32_t)(acc > INT32_MAX ? INT32_MAX : acc < INT32_MIN ? INT32_MIN : acc);
                }
}
