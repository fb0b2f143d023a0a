/* Reference sparse products: plain loops over the stored blocks of a BSR matrix
 * (CSR is 1x1 blocks); zeros stored inside blocks are multiplied like any value. */
#include "ref/ref.h"

void tc_ref_spmm(const tc_ref_bsr *a, const float *x, int64_t batch, const float *bias, int relu, float *y)
{
    for (int64_t b = 0; b < batch; b++)
        for (int64_t r = 0; r < a->rows; r++) {
            const int64_t br = r / a->br, i = r % a->br;
            float acc = 0.0f;
            for (int64_t j = a->rowptr[br]; j < a->rowptr[br + 1]; j++)
                for (int64_t c = 0; c < a->bc; c++)
                    acc += a->values[(j * a->br + i) * a->bc + c] * x[b * a->cols + a->colidx[j] * a->bc + c];
            if (bias) acc += bias[r];
            y[b * a->rows + r] = relu && acc < 0.0f ? 0.0f : acc;
        }
}

void tc_ref_sparse_conv2d(const tc_ref_bsr *a, const float *x, const float *bias, float *y, const tc_conv_dims *d,
                          int relu)
{
    const int64_t plane = d->p * d->q, taps = d->r * d->s;
    for (int64_t n = 0; n < d->n; n++)
        for (int64_t k = 0; k < d->k; k++) {
            float *yp = y + (n * d->k + k) * plane;
            for (int64_t i = 0; i < plane; i++) yp[i] = 0.0f;
            const int64_t br = k / a->br, i = k % a->br;
            for (int64_t j = a->rowptr[br]; j < a->rowptr[br + 1]; j++)
                for (int64_t c = 0; c < a->bc; c++) {
                    const int64_t col = a->colidx[j] * a->bc + c, ch = col / taps;
                    tc_ref_conv_tap(yp, x + (n * d->c + ch) * d->h * d->w, a->values[(j * a->br + i) * a->bc + c],
                                    col % taps / d->s, col % d->s, d);
                }
            tc_ref_conv_finish(yp, plane, bias, k, relu);
        }
}
