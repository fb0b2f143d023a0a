/* Reference attention: for each query the visible scores in double, the maximum
 * subtracted, then the weighted sum of values; and the KV-cache write. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"

int64_t tc_attn_keys(const tc_attn_dims *g, int64_t s, int64_t i)
{
    const int64_t pos = (g->seq ? g->seq[2 * s] : g->q_pos) + i, n = g->seq ? g->seq[2 * s + 1] : g->lk;
    return g->causal && pos + 1 < n ? pos + 1 : n;
}

int tc_ref_attention(const float *q, const float *k, const float *v, float *out, const tc_attn_dims *g)
{
    double *s = malloc((size_t)(g->lk > 0 ? g->lk : 1) * sizeof *s);
    double *acc = malloc((size_t)g->dh * sizeof *acc);
    if (!s || !acc) {
        free(s), free(acc);
        return -1;
    }
    const int64_t group = g->h / g->hkv;
    for (int64_t b = 0; b < g->b; b++)
        for (int64_t h = 0; h < g->h; h++) {
            const float *kh = k + ((b * g->hkv + h / group) * g->lk) * g->dh;
            const float *vh = v + ((b * g->hkv + h / group) * g->lk) * g->dh;
            for (int64_t i = 0; i < g->lq; i++) {
                const float *qi = q + b * g->qsb + h * g->qsh + i * g->qsl;
                float *oi = out + b * g->qsb + h * g->qsh + i * g->qsl;
                const int64_t n = tc_attn_keys(g, b, i);
                double m = -INFINITY, sum = 0.0;
                for (int64_t j = 0; j < n; j++) {
                    double dot = 0.0;
                    for (int64_t d = 0; d < g->dh; d++) dot += (double)qi[d] * kh[j * g->dh + d];
                    s[j] = dot * g->scale;
                    m = s[j] > m ? s[j] : m;
                }
                memset(acc, 0, (size_t)g->dh * sizeof *acc);
                for (int64_t j = 0; j < n; j++) {
                    const double p = exp(s[j] - m);
                    sum += p;
                    for (int64_t d = 0; d < g->dh; d++) acc[d] += p * vh[j * g->dh + d];
                }
                for (int64_t d = 0; d < g->dh; d++) oi[d] = n > 0 ? (float)(acc[d] / sum) : 0.0f;
            }
        }
    free(s);
    free(acc);
    return 0;
}

void tc_ref_kv_write(void *cache, const void *src, int64_t b, int64_t h, int64_t cap, int64_t n, int64_t dh,
                     const int32_t *start, const int32_t *count, int blhd, size_t es)
{
    for (int64_t s = 0; s < b; s++)
        for (int64_t hh = 0; hh < h; hh++)
            for (int64_t i = 0; i < count[s]; i++) {
                const int64_t from = blhd ? ((s * n + i) * h + hh) * dh : ((s * h + hh) * n + i) * dh;
                const int64_t to = ((s * h + hh) * cap + start[s] + i) * dh;
                memcpy((char *)cache + (size_t)to * es, (const char *)src + (size_t)from * es, (size_t)dh * es);
            }
}
