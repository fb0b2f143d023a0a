/* Reference integer GEMM: sum_k (a - za)(b - zb[j]) straight (no row or column sums),
 * then gemmlowp's output stage. */

#include "ref/ref.h"

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

int32_t tc_ref_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    const int64_t ab = (int64_t)a * b;
    const int64_t nudge = ab >= 0 ? (1 << 30) : 1 - (1 << 30);
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C division truncates, as gemmlowp's */
}

int32_t tc_ref_rdbpot(int32_t x, int exponent)
{
    const int64_t mask = ((int64_t)1 << exponent) - 1, rem = x & mask;
    const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (int32_t)(((int64_t)x >> exponent) + (rem > threshold ? 1 : 0)); /* >> of a negative: arithmetic */
}

int32_t tc_ref_requant(int32_t v, int32_t multiplier, int32_t shift)
{
    const int ls = shift > 0 ? shift : 0, rs = shift > 0 ? 0 : -shift;
    const int32_t x = (int32_t)clamp64((int64_t)v * ((int64_t)1 << ls), INT32_MIN, INT32_MAX); /* saturating << */
    return tc_ref_rdbpot(tc_ref_srdhm(x, multiplier), rs);
}

/* i-p-j order (B's rows contiguous); every partial sum stays within K * 255 * 255 < 2^31 */
void tc_ref_igemm_acc(const void *a, int a_signed, const int8_t *b, int trans_b, int32_t za, const int32_t *zb,
                      const int32_t *bias, int32_t *v, int64_t m, int64_t n, int64_t k)
{
    for (int64_t i = 0; i < m; i++) {
        int32_t *row = v + i * n;
        for (int64_t j = 0; j < n; j++) row[j] = 0;
        for (int64_t p = 0; p < k; p++) {
            const int32_t av = (a_signed ? ((const int8_t *)a)[i * k + p] : ((const uint8_t *)a)[i * k + p]) - za;
            for (int64_t j = 0; j < n; j++) row[j] += av * ((trans_b ? b[j * k + p] : b[p * n + j]) - zb[j]);
        }
        for (int64_t j = 0; j < n; j++)
            row[j] = (int32_t)clamp64((int64_t)row[j] + (bias ? bias[j] : 0), INT32_MIN, INT32_MAX);
    }
}

void tc_ref_igemm_stage(const int32_t *v, void *c, tc_dtype c_dtype, int64_t m, int64_t n, const tc_ref_igemm_out *o)
{
    for (int64_t at = 0; at < m * n; at++) {
        const int64_t j = at % n;
        switch (c_dtype) {
        case TC_DTYPE_S32: ((int32_t *)c)[at] = o->relu && v[at] < 0 ? 0 : v[at]; break;
        case TC_DTYPE_F32: {
            const float y = (float)v[at] * o->scale[j];
            ((float *)c)[at] = o->relu && y < 0.0f ? 0.0f : y;
            break;
        }
        default: {
            const int64_t q = clamp64((int64_t)tc_ref_requant(v[at], o->mult[j], o->shift[j]) + o->zc, o->qmin, o->qmax);
            if (c_dtype == TC_DTYPE_S8)
                ((int8_t *)c)[at] = (int8_t)q;
            else
                ((uint8_t *)c)[at] = (uint8_t)q;
        }
        }
    }
}
