/* The openblas variant (ops/blas.h): bias is folded into the GEMM where C is not
 * read (C starts as the bias, beta 1), else added after it; ReLU is a pass over C. */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/blas.h"

static int fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

int tc_blas_fits(int64_t m, int64_t n, int64_t k) { return fits_int(m) && fits_int(n) && fits_int(k); }

/* C[m x n] (row stride ldc) = (add ? C : 0) + bias (per row or per column; none
 * when NULL), then ReLU when relu: one pass, the flags out of the inner loops. */
static void epilogue(float *restrict c, int64_t m, int64_t n, int64_t ldc, int add, const float *restrict bias,
                     int per_row, int relu)
{
    for (int64_t i = 0; i < m; i++) {
        float *restrict ci = c + i * ldc;
        const float bi = bias && per_row ? bias[i] : 0.0f;
        const float *restrict bj = bias && !per_row ? bias : NULL;
        if (!add) memset(ci, 0, (size_t)n * sizeof *ci);
        if (bj)
            for (int64_t j = 0; j < n; j++) ci[j] += bj[j];
        else if (bi != 0.0f)
            for (int64_t j = 0; j < n; j++) ci[j] += bi;
        if (relu)
            for (int64_t j = 0; j < n; j++) ci[j] = ci[j] < 0.0f ? 0.0f : ci[j];
    }
}

void tc_blas_gemm(const tc_blas_gemm_desc *g)
{
    const int m = (int)g->m, n = (int)g->n, k = (int)g->k, lda = (int)g->lda, ldb = (int)g->ldb, ldc = (int)g->ldc;
    float beta = g->beta;
    if (beta == 0.0f) { /* C is not read: it starts as the bias (or zeros) */
        epilogue(g->c, g->m, g->n, g->ldc, 0, g->bias, g->bias_per_row, 0);
        beta = g->bias ? 1.0f : 0.0f;
    }
    const CBLAS_TRANSPOSE ta = g->trans_a ? CblasTrans : CblasNoTrans, tb = g->trans_b ? CblasTrans : CblasNoTrans;
    if (m == 1) /* c^T = op(B)^T op(A)^T: op(A)'s row is A's row, or A's column (stride lda) */
        cblas_sgemv(CblasRowMajor, g->trans_b ? CblasNoTrans : CblasTrans, g->trans_b ? n : k, g->trans_b ? k : n,
                    g->alpha, g->b, ldb, g->a, g->trans_a ? lda : 1, beta, g->c, 1);
    else if (n == 1) /* op(B)'s column is B's column (stride ldb), or B's row */
        cblas_sgemv(CblasRowMajor, ta, g->trans_a ? k : m, g->trans_a ? m : k, g->alpha, g->a, lda, g->b,
                    g->trans_b ? 1 : ldb, beta, g->c, ldc);
    else
        cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, g->alpha, g->a, lda, g->b, ldb, beta, g->c, ldc);
    const float *late_bias = g->beta != 0.0f ? g->bias : NULL; /* not folded in above */
    if (g->relu || late_bias) epilogue(g->c, g->m, g->n, g->ldc, 1, late_bias, g->bias_per_row, g->relu);
}

tc_status tc_blas_variant_ok(tc_ctx *ctx, const char *op, tc_variant v, int fits)
{
    if (v == TC_VARIANT_REF) return TC_OK;
    if (v == TC_VARIANT_OPENBLAS) {
        if (!ctx->host_blas)
            return tc_fail(ctx, TC_ERR_UNSUPPORTED, "%s: variant 'openblas' needs a context made with \"openblas\"", op);
        return fits ? TC_OK
                    : tc_fail(ctx, TC_ERR_OVERFLOW, "%s: extents beyond 2^31-1 do not fit OpenBLAS's ints; the "
                              "ref variant takes them", op);
    }
    return tc_fail(ctx, TC_ERR_UNSUPPORTED, "%s: variant '%s' needs an OpenCL device", op, tc_variant_name(v));
}

/* ---- conv2d ----------------------------------------------------------------- */

static int pointwise(const tc_conv_dims *d)
{
    return d->r == 1 && d->s == 1 && d->stride_h == 1 && d->stride_w == 1 && d->pad_h == 0 && d->pad_w == 0;
}

int tc_blas_conv_fits(const tc_conv_dims *d)
{
    int64_t crs, pq, cols;
    if (__builtin_mul_overflow(d->c, d->r, &crs) || __builtin_mul_overflow(crs, d->s, &crs) ||
        __builtin_mul_overflow(d->p, d->q, &pq) || __builtin_mul_overflow(crs, pq, &cols) ||
        (uint64_t)cols > SIZE_MAX / sizeof(float))
        return 0;
    return tc_blas_fits(d->k, pq, crs);
}

int tc_blas_conv2d(const float *x, const float *w, const float *bias, float *y, const tc_conv_dims *d, int relu)
{
    const int64_t cg = d->c / d->groups, kg = d->k / d->groups, pq = d->p * d->q, crs = cg * d->r * d->s;
    const int direct = pointwise(d); /* x's planes already are the columns */
    float *cols = direct ? NULL : malloc((size_t)(d->c * d->r * d->s * pq) * sizeof *cols);
    if (!direct && !cols) return -1;
    for (int64_t n = 0; n < d->n; n++) {
        const float *xn = x + n * d->c * d->h * d->w;
        if (!direct) tc_ref_im2col(xn, cols, pq, d);
        for (int64_t g = 0; g < d->groups; g++) {
            const tc_blas_gemm_desc gd = {.m = kg, .n = pq, .k = crs, .alpha = 1.0f, .a = w + g * kg * crs,
                                          .b = (direct ? xn : cols) + g * crs * pq, .c = y + (n * d->k + g * kg) * pq,
                                          .bias = bias ? bias + g * kg : NULL, .lda = crs, .ldb = pq, .ldc = pq,
                                          .bias_per_row = 1, .relu = relu};
            tc_blas_gemm(&gd);
        }
    }
    free(cols);
    return 0;
}

/* ---- attention -------------------------------------------------------------- */

int tc_blas_attn_fits(const tc_attn_dims *g)
{
    int64_t scores; /* the [lq, lk] score buffer */
    return tc_blas_fits(g->lq, g->lk, g->dh) && fits_int(g->qsl) && !__builtin_mul_overflow(g->lq, g->lk, &scores) &&
           (uint64_t)scores <= SIZE_MAX / sizeof(float);
}

int tc_blas_attention(const float *q, const float *k, const float *v, float *out, const tc_attn_dims *g)
{
    float *s = malloc((size_t)(g->lq * g->lk) * sizeof *s);
    if (!s) return -1;
    const int64_t group = g->h / g->hkv;
    for (int64_t b = 0; b < g->b; b++) {
        /* the keys the sequence's queries see, at most: the GEMMs read no key past them */
        int64_t n = 0;
        for (int64_t i = 0; i < g->lq; i++) n = tc_attn_keys(g, b, i) > n ? tc_attn_keys(g, b, i) : n;
        for (int64_t h = 0; h < g->h; h++) {
            const float *kh = k + ((b * g->hkv + h / group) * g->lk) * g->dh;
            const float *vh = v + ((b * g->hkv + h / group) * g->lk) * g->dh;
            const float *qh = q + b * g->qsb + h * g->qsh;
            float *oh = out + b * g->qsb + h * g->qsh;
            if (n == 0) {
                for (int64_t i = 0; i < g->lq; i++) memset(oh + i * g->qsl, 0, (size_t)g->dh * sizeof *oh);
                continue;
            }
            const int lq = (int)g->lq, nk = (int)n, dh = (int)g->dh, qsl = (int)g->qsl;
            /* s = scale q k^T over [lq, n], then each row softmax over its visible keys (the
             * rest 0), then out = s v */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, lq, nk, dh, g->scale, qh, qsl, kh, dh, 0.0f, s, nk);
            for (int64_t i = 0; i < g->lq; i++) {
                float *si = s + i * n;
                const int64_t ni = tc_attn_keys(g, b, i);
                double m = -INFINITY, sum = 0.0;
                for (int64_t j = 0; j < ni; j++) m = si[j] > m ? si[j] : m;
                for (int64_t j = 0; j < ni; j++) sum += exp((double)si[j] - m);
                for (int64_t j = 0; j < n; j++) si[j] = j < ni ? (float)(exp((double)si[j] - m) / sum) : 0.0f;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, lq, dh, nk, 1.0f, s, nk, vh, dh, 0.0f, oh, qsl);
        }
    }
    free(s);
    return 0;
}
