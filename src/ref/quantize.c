/* Reference quantize and dequantize. Element i belongs to channel (i / inner) %
 * channels (per tensor: channels 1). */
#include <math.h>

#include "ref/ref.h"

void tc_ref_quant_range(tc_dtype dt, int32_t *qmin, int32_t *qmax)
{
    *qmin = dt == TC_DTYPE_U8 ? 0 : dt == TC_DTYPE_S8 ? -128 : INT32_MIN;
    *qmax = dt == TC_DTYPE_U8 ? 255 : dt == TC_DTYPE_S8 ? 127 : INT32_MAX;
}

void tc_ref_quantize(const float *x, void *y, tc_dtype dt, int64_t n, int64_t inner, int64_t channels,
                     const float *scale, const int32_t *zero_point)
{
    int32_t lo, hi;
    tc_ref_quant_range(dt, &lo, &hi);
    for (int64_t i = 0; i < n; i++) {
        const int64_t c = i / inner % channels;
        const float inv = 1.0f / scale[c], zp = (float)zero_point[c];
        /* |rint| < 2^24 adds zp exactly; beyond that the sum saturates either way */
        float v = rintf(x[i] * inv) + zp;
        v = isnan(v) ? zp : fminf(fmaxf(v, (float)lo), (float)hi);
        if (dt == TC_DTYPE_U8)
            ((uint8_t *)y)[i] = (uint8_t)v;
        else
            ((int8_t *)y)[i] = (int8_t)v;
    }
}

void tc_ref_dequantize(const void *x, tc_dtype dt, float *y, int64_t n, int64_t inner, int64_t channels,
                       const float *scale, const int32_t *zero_point)
{
    for (int64_t i = 0; i < n; i++) {
        const int64_t c = i / inner % channels;
        const int64_t q = dt == TC_DTYPE_U8   ? ((const uint8_t *)x)[i]
                          : dt == TC_DTYPE_S8 ? ((const int8_t *)x)[i]
                                              : ((const int32_t *)x)[i];
        y[i] = (float)(q - zero_point[c]) * scale[c];
    }
}
