/* Reference softmax: the row maximum subtracted, sums in double. */
#include <math.h>

#include "ref/ref.h"

void tc_ref_softmax(const float *x, float *y, int64_t rows, int64_t d)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        float m = -INFINITY;
        for (int64_t j = 0; j < d; j++) m = xr[j] > m ? xr[j] : m;
        double s = 0.0;
        for (int64_t j = 0; j < d; j++) s += exp((double)xr[j] - m);
        for (int64_t j = 0; j < d; j++) yr[j] = (float)(exp((double)xr[j] - m) / s);
    }
}
