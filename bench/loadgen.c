/* LoadGen-style timing and statistics (bench/loadgen.h). */
#include "bench/loadgen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

double lg_t975(int df)
{
    static const double table[30] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                     2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                     2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    if (df < 1) return NAN;
    if (df <= 30) return table[df - 1];
    /* Cornish-Fisher expansion around the normal quantile (error < 1e-4 from df 30 on) */
    const double z = 1.959963985, z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, v = df;
    return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
           (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double lg_percentile(const double *sorted, int n, double p)
{
    int k = (int)ceil(p / 100.0 * n) - 1;
    return sorted[k < 0 ? 0 : k >= n ? n - 1 : k];
}

/* mean and the half-width of its 95% interval */
static void mean_ci(const double *v, int n, double *mean, double *half)
{
    double m = 0, ss = 0;
    for (int i = 0; i < n; i++) m += v[i];
    m /= n;
    for (int i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    *half = n > 1 ? lg_t975(n - 1) * sqrt(ss / (n - 1)) / sqrt((double)n) : 0.0;
}

lg_stats lg_summarize(const double *ms, int n)
{
    lg_stats st = {0};
    double *t = n > 0 ? malloc((size_t)n * sizeof *t) : NULL;
    if (!t) return st;
    memcpy(t, ms, (size_t)n * sizeof *t);
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    double half;
    st.n = n;
    st.median = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    st.p90 = lg_percentile(t, n, 90);
    st.p99 = lg_percentile(t, n, 99);
    st.min = t[0];
    st.max = t[n - 1];
    mean_ci(t, n, &st.mean, &half);
    st.ci_lo = st.mean - half;
    st.ci_hi = st.mean + half;
    free(t);
    return st;
}

lg_ratio lg_ratio_of(const double *base, const double *x, int n)
{
    lg_ratio r = {0};
    double *l = n > 0 ? malloc((size_t)n * sizeof *l) : NULL;
    if (!l) return r;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (base[i] > 0 && x[i] > 0) l[m++] = log(base[i] / x[i]);
    if (m > 0) {
        double mean, half;
        mean_ci(l, m, &mean, &half);
        r.n = m;
        r.value = exp(mean);
        r.ci_lo = exp(mean - half);
        r.ci_hi = exp(mean + half);
    }
    free(l);
    return r;
}

static tc_status push(lg_entry *e, double ms)
{
    if (e->n == e->cap) {
        const int cap = e->cap ? 2 * e->cap : 64;
        double *p = realloc(e->ms, (size_t)cap * sizeof *p);
        if (!p) return TC_ERR_OUT_OF_MEMORY;
        e->ms = p;
        e->cap = cap;
    }
    e->ms[e->n++] = ms;
    return TC_OK;
}

static tc_status one(lg_entry *e, double *ms)
{
    double t = -1;
    const double t0 = tc_now_ms();
    tc_status s = e->query(e, &t);
    *ms = t >= 0 ? t : tc_now_ms() - t0;
    if (s != TC_OK) {
        e->status = s;
        e->active = 0;
    }
    return s;
}

tc_status lg_run(lg_entry *e, int k, const lg_settings *s, lg_progress progress, void *user)
{
    double ms;
    for (int i = 0; i < k; i++)
        for (int w = 0; e[i].active && w < s->warmup; w++) one(&e[i], &ms);
    const double t0 = tc_now_ms();
    for (int round = 0;; round++) {
        const double elapsed = tc_now_ms() - t0;
        if (round >= s->min_count && (elapsed >= s->min_ms || (s->max_ms > 0 && elapsed >= s->max_ms))) break;
        if (s->max_count > 0 && round >= s->max_count) break;
        int any = 0;
        for (int j = 0; j < k; j++) {
            /* rotate the first entry each round; odd rounds run backwards */
            const int i = round % 2 ? (k - 1 - (j + round) % k) : (j + round) % k;
            if (!e[i].active) continue;
            any = 1;
            if (one(&e[i], &ms) == TC_OK && push(&e[i], ms) != TC_OK) return TC_ERR_OUT_OF_MEMORY;
        }
        if (progress) progress(user, round + 1, tc_now_ms() - t0);
        if (!any) break;
    }
    return TC_OK;
}

void lg_entry_free(lg_entry *e)
{
    free(e->ms);
    e->ms = NULL;
    e->n = e->cap = 0;
}
