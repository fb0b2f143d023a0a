/* Reference pooling: every window clipped to the input, so padding never counts. */
#include <math.h>

#include "ref/ref.h"

void tc_ref_pool2d(const float *x, float *y, int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                   const tc_pool2d_params *p, int avg)
{
    for (int64_t pl = 0; pl < planes; pl++)
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++) {
                const int64_t h0 = i * p->stride_h - p->pad_h, w0 = j * p->stride_w - p->pad_w;
                const int64_t hs = h0 < 0 ? 0 : h0, ws = w0 < 0 ? 0 : w0;
                const int64_t he = h0 + p->kernel_h < h ? h0 + p->kernel_h : h;
                const int64_t we = w0 + p->kernel_w < w ? w0 + p->kernel_w : w;
                double sum = 0.0;
                float m = -INFINITY;
                for (int64_t a = hs; a < he; a++)
                    for (int64_t b = ws; b < we; b++) {
                        const float v = x[(pl * h + a) * w + b];
                        sum += v;
                        m = v > m || isnan(v) ? v : m; /* NaN propagates */
                    }
                y[(pl * oh + i) * ow + j] = avg ? (float)(sum / (double)((he - hs) * (we - ws))) : m;
            }
}

void tc_ref_global_avgpool(const float *x, float *y, int64_t planes, int64_t hw)
{
    for (int64_t pl = 0; pl < planes; pl++) {
        double sum = 0.0;
        for (int64_t i = 0; i < hw; i++) sum += x[pl * hw + i];
        y[pl] = (float)(sum / (double)hw);
    }
}

void tc_ref_maxpool2d_q(const void *x, void *y, int is_signed, int64_t planes, int64_t h, int64_t w, int64_t oh,
                        int64_t ow, const tc_pool2d_params *p)
{
    for (int64_t pl = 0; pl < planes; pl++)
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++) {
                const int64_t h0 = i * p->stride_h - p->pad_h, w0 = j * p->stride_w - p->pad_w;
                int m = INT32_MIN;
                for (int64_t a = h0 < 0 ? 0 : h0; a < h0 + p->kernel_h && a < h; a++)
                    for (int64_t b = w0 < 0 ? 0 : w0; b < w0 + p->kernel_w && b < w; b++) {
                        const int64_t at = (pl * h + a) * w + b;
                        const int v = is_signed ? ((const int8_t *)x)[at] : ((const uint8_t *)x)[at];
                        m = v > m ? v : m;
                    }
                const int64_t to = (pl * oh + i) * ow + j;
                if (is_signed)
                    ((int8_t *)y)[to] = (int8_t)m;
                else
                    ((uint8_t *)y)[to] = (uint8_t)m;
            }
}
