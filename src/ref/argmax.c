/* Reference argmax: the first largest element; NaN never wins (an all-NaN row gives 0). */
#include <math.h>

#include "ref/ref.h"

void tc_ref_argmax(const float *x, int32_t *y, float *values, int64_t rows, int64_t d)
{
    for (int64_t r = 0; r < rows; r++) {
        int64_t best = -1;
        for (int64_t j = 0; j < d; j++) {
            const float v = x[r * d + j];
            if (!isnan(v) && (best < 0 || v > x[r * d + best])) best = j;
        }
        if (best < 0) best = 0;
        if (y) y[r] = (int32_t)best;
        if (values) values[r] = x[r * d + best];
    }
}
