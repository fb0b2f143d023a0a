/* Reference layer normalization: two passes (mean, then centred variance) in double. */
#include <math.h>

#include "ref/ref.h"

void tc_ref_layernorm(const float *x, const float *gamma, const float *beta, float *y, int64_t rows, int64_t d,
                      float eps)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        double mean = 0.0, var = 0.0;
        for (int64_t j = 0; j < d; j++) mean += xr[j];
        mean /= (double)d;
        for (int64_t j = 0; j < d; j++) var += (xr[j] - mean) * (xr[j] - mean);
        const double inv = 1.0 / sqrt(var / (double)d + eps);
        for (int64_t j = 0; j < d; j++) yr[j] = (float)((xr[j] - mean) * inv * gamma[j] + beta[j]);
    }
}
