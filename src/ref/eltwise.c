/* Reference elementwise ops; GELU in double precision. */
#include <math.h>

#include "ref/ref.h"

void tc_ref_add(const float *a, const float *b, float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

void tc_ref_mul(const float *a, const float *b, float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

void tc_ref_relu(const float *x, float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i]; /* NaN stays NaN */
}

void tc_ref_gelu(const float *x, float *y, int64_t n, tc_gelu_mode mode)
{
    const double pi = 3.14159265358979323846;
    for (int64_t i = 0; i < n; i++) {
        const double v = x[i];
        const double t = mode == TC_GELU_ERF ? erf(v / sqrt(2.0)) : tanh(sqrt(2.0 / pi) * (v + 0.044715 * v * v * v));
        y[i] = (float)(0.5 * v * (1.0 + t));
    }
}
