/* Attention speed on one device, every figure from one run (each call followed by
 * tc_ctx_finish, calls of one table alternated, medians over the repetitions):
 *   prefill: tc_attention on B x H x L x L x Dh, causal and not, against the project's
 *            SGEMM (tc_matmul, AUTO) on the square size of the non-causal attention's
 *            flops; the ratio is the median over rounds of attention GFLOP/s / SGEMM
 *            GFLOP/s, so load from other processes falls on both alike.
 *   decode:  one query per sequence against a context of each length, the opencl and
 *            split variants and AUTO; the least-squares line t = a + b * L per variant.
 *   s8:      the same decode step (AUTO) on f32 and on s8 keys and values (symmetric,
 *            per head_dim channel) quantized from the same numbers: time and how far
 *            the s8 output is from the f32 one.
 *
 *   attn_speed [--device D] [--reps N] [--prefill BxHxLxDH] [--batch B] [--lengths L,...]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "ops/layer.h"

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return def;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *t, int n)
{
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) return NAN;
    memcpy(s, t, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    const double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return m;
}

/* One case of an op's descriptor, set up on ctx: 0 on success. */
static int make(tc_ctx *ctx, const char *op, const char *spec, const tc_opdesc **desc, tc_case *cs, tc_opdata *d)
{
    *desc = tc_opdesc_find(op);
    memset(d, 0, sizeof *d);
    if (!*desc || (*desc)->parse(spec, cs) != 0) {
        fprintf(stderr, "attn_speed: bad %s size '%s'\n", op, spec);
        return 1;
    }
    if ((*desc)->setup(ctx, cs, 12345u, d) != TC_OK) {
        fprintf(stderr, "attn_speed: %s %s: %s\n", op, spec, tc_last_error(ctx));
        return 1;
    }
    return 0;
}

/* One run and its wait: ms, or -1 on failure (the message printed). */
static double timed(tc_ctx *ctx, const tc_opdesc *desc, tc_opdata *d, tc_variant v)
{
    const double t0 = tc_now_ms();
    tc_status st = desc->run(ctx, d, v);
    if (st == TC_OK) st = tc_ctx_finish(ctx);
    if (st != TC_OK) fprintf(stderr, "attn_speed: %s: %s\n", desc->name, tc_last_error(ctx));
    return st == TC_OK ? tc_now_ms() - t0 : -1.0;
}

static int prefill(tc_ctx *ctx, const char *shape, int reps)
{
    int64_t v[4];
    if (tc_parse_dims(shape, v, 4) != 4) {
        fprintf(stderr, "attn_speed: --prefill wants BxHxLxDH\n");
        return 1;
    }
    char spec[2][112], gemm[64];
    snprintf(spec[0], 96, "%lldx%lldx%lldx%lldx%lld", (long long)v[0], (long long)v[1], (long long)v[2],
             (long long)v[2], (long long)v[3]);
    snprintf(spec[1], sizeof spec[1], "%.96s:causal", spec[0]);
    const double full = 4.0 * (double)(v[0] * v[1]) * (double)(v[2] * v[2]) * (double)v[3];
    const long long n = llround(cbrt(full / 2.0));
    snprintf(gemm, sizeof gemm, "%lldx%lldx%lld", n, n, n);
    const tc_opdesc *desc[3];
    tc_case cs[3];
    tc_opdata d[3];
    const char *op[3] = {"attention", "attention", "matmul"}, *sp[3] = {spec[0], spec[1], gemm};
    double *t = calloc(3 * (size_t)reps, sizeof *t), *ratio = calloc(2 * (size_t)reps, sizeof *ratio);
    int bad = !t || !ratio, made = 0;
    for (; !bad && made < 3; made++) bad = make(ctx, op[made], sp[made], &desc[made], &cs[made], &d[made]);
    for (int k = 0; !bad && k < 3; k++) bad = timed(ctx, desc[k], &d[k], TC_VARIANT_AUTO) < 0; /* warm-up */
    for (int i = 0; !bad && i < reps; i++) {
        for (int k = 0; !bad && k < 3; k++) {
            const int which = (i + k) % 3;
            t[which * reps + i] = timed(ctx, desc[which], &d[which], TC_VARIANT_AUTO);
            bad = t[which * reps + i] < 0;
        }
        for (int k = 0; !bad && k < 2; k++)
            ratio[k * reps + i] = (desc[k]->flops(&cs[k]) / t[k * reps + i]) / (desc[2]->flops(&cs[2]) / t[2 * reps + i]);
    }
    if (!bad) {
        printf("prefill on %s, AUTO variants, %d rounds (medians)\n", tc_ctx_device(ctx)->name, reps);
        printf("%-34s %10s %10s %12s\n", "op", "ms", "GFLOP/s", "vs SGEMM");
        for (int k = 0; k < 3; k++) {
            char row[64];
            snprintf(row, sizeof row, "%s %s", k < 2 ? "attention" : "sgemm", sp[k]);
            const double ms = median(t + k * reps, reps);
            printf("%-34s %10.3f %10.1f", row, ms, desc[k]->flops(&cs[k]) / ms * 1e-6);
            if (k < 2)
                printf(" %11.2fx\n", median(ratio + k * reps, reps));
            else
                printf(" %12s\n", "1.00x");
        }
    }
    for (int k = 0; k < made; k++) tc_opdata_free(&d[k]);
    free(t), free(ratio);
    return bad;
}

/* "256,512,..." into len[] (at most 16); the count */
static int parse_lengths(const char *lengths, int64_t *len)
{
    char list[256];
    snprintf(list, sizeof list, "%s", lengths);
    int nl = 0;
    for (char *tok = strtok(list, ","); tok && nl < 16; tok = strtok(NULL, ",")) len[nl++] = atoll(tok);
    return nl;
}

static int decode(tc_ctx *ctx, const char *lengths, int64_t batch, int reps)
{
    static const tc_variant vs[3] = {TC_VARIANT_OPENCL, TC_VARIANT_SPLIT, TC_VARIANT_AUTO};
    int64_t len[16];
    const int nl = parse_lengths(lengths, len);
    double med[16][3];
    double *t = calloc(3 * (size_t)reps, sizeof *t);
    int bad = !t || nl < 2;
    printf("\ndecode on %s: one query per sequence, batch %lld, 8 heads x 64, causal (medians of %d)\n",
           tc_ctx_device(ctx)->name, (long long)batch, reps);
    printf("%8s %12s %12s %12s\n", "context", "opencl ms", "split ms", "auto ms");
    for (int l = 0; !bad && l < nl; l++) {
        char spec[64];
        snprintf(spec, sizeof spec, "%lldx8x1x%lldx64:causal", (long long)batch, (long long)len[l]);
        const tc_opdesc *desc;
        tc_case cs;
        tc_opdata d;
        bad = make(ctx, "attention", spec, &desc, &cs, &d);
        for (int k = 0; !bad && k < 3; k++) bad = timed(ctx, desc, &d, vs[k]) < 0;
        for (int i = 0; !bad && i < reps; i++)
            for (int k = 0; !bad && k < 3; k++) {
                const int which = (i + k) % 3;
                t[which * reps + i] = timed(ctx, desc, &d, vs[which]);
                bad = t[which * reps + i] < 0;
            }
        for (int k = 0; !bad && k < 3; k++) med[l][k] = median(t + k * reps, reps);
        if (!bad) printf("%8lld %12.4f %12.4f %12.4f\n", (long long)len[l], med[l][0], med[l][1], med[l][2]);
        tc_opdata_free(&d);
    }
    for (int k = 0; !bad && k < 3; k++) {
        double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
        for (int l = 0; l < nl; l++) {
            const double x = (double)len[l], y = med[l][k];
            sx += x, sy += y, sxx += x * x, sxy += x * y, syy += y * y;
        }
        const double b = (nl * sxy - sx * sy) / (nl * sxx - sx * sx), a = (sy - b * sx) / nl;
        const double r = (nl * sxy - sx * sy) / sqrt((nl * sxx - sx * sx) * (nl * syy - sy * sy));
        printf("fit %-7s t = %.4f ms + %.4f ms per 1000 keys (r^2 = %.4f)\n", tc_variant_name(vs[k]), a, b * 1000.0,
               r * r);
    }
    free(t);
    return bad;
}

/* max |a - b| / max |b| and sum (a - b)^2 / sum b^2 of two outputs */
static int compare(const tc_tensor *a, const tc_tensor *b, double *maxrel, double *nmse)
{
    const size_t n = (size_t)tc_tensor_numel(a);
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    int bad = !x || !y || tc_tensor_read(a, x, n * sizeof *x) != TC_OK || tc_tensor_read(b, y, n * sizeof *y) != TC_OK;
    double md = 0, mb = 0, sd = 0, sb = 0;
    for (size_t i = 0; !bad && i < n; i++) {
        const double d = (double)x[i] - y[i];
        md = fmax(md, fabs(d)), mb = fmax(mb, fabs((double)y[i])), sd += d * d, sb += (double)y[i] * y[i];
    }
    *maxrel = md / mb, *nmse = sd / sb;
    free(x), free(y);
    return bad;
}

static int decode_s8(tc_ctx *ctx, const char *lengths, int64_t batch, int reps)
{
    int64_t len[16];
    const int nl = parse_lengths(lengths, len);
    double *t = calloc(2 * (size_t)reps, sizeof *t);
    int bad = !t;
    printf("\ns8 keys and values on %s: decode as above (AUTO), %d bytes of cache per token and layer against %d\n",
           tc_ctx_device(ctx)->name, 2 * 8 * 64, 2 * 8 * 64 * 4);
    printf("%8s %10s %10s %10s %12s %12s\n", "context", "f32 ms", "s8 ms", "s8 / f32", "max rel err", "nmse");
    for (int l = 0; !bad && l < nl; l++) {
        char spec[2][80];
        snprintf(spec[0], 64, "%lldx8x1x%lldx64:causal", (long long)batch, (long long)len[l]);
        snprintf(spec[1], sizeof spec[1], "%.64s:s8", spec[0]);
        const tc_opdesc *desc;
        tc_case cs[2];
        tc_opdata d[2];
        int made = 0;
        for (; !bad && made < 2; made++) bad = make(ctx, "attention", spec[made], &desc, &cs[made], &d[made]);
        for (int k = 0; !bad && k < 2; k++) bad = timed(ctx, desc, &d[k], TC_VARIANT_AUTO) < 0;
        for (int i = 0; !bad && i < reps; i++)
            for (int k = 0; !bad && k < 2; k++) {
                const int which = (i + k) % 2;
                t[which * reps + i] = timed(ctx, desc, &d[which], TC_VARIANT_AUTO);
                bad = t[which * reps + i] < 0;
            }
        double maxrel = 0, nmse = 0;
        if (!bad) bad = compare(d[1].out[0].t, d[0].out[0].t, &maxrel, &nmse);
        if (!bad) {
            const double f = median(t, reps), q = median(t + reps, reps);
            printf("%8lld %10.4f %10.4f %9.2fx %12.2e %12.2e\n", (long long)len[l], f, q, q / f, maxrel, nmse);
        }
        for (int k = 0; k < made; k++) tc_opdata_free(&d[k]);
    }
    free(t);
    return bad;
}

int main(int argc, char **argv)
{
    const int reps = atoi(opt(argc, argv, "--reps", "9"));
    tc_ctx *ctx = NULL;
    if (reps < 1 || tc_ctx_create(opt(argc, argv, "--device", NULL), 0, &ctx) != TC_OK) {
        fprintf(stderr, "attn_speed: %s\n", reps < 1 ? "--reps wants a positive count" : tc_last_error(NULL));
        return 2;
    }
    int bad = prefill(ctx, opt(argc, argv, "--prefill", "1x8x1024x64"), reps);
    const char *lengths = opt(argc, argv, "--lengths", "256,512,1024,2048,4096,8192");
    const int64_t batch = atoll(opt(argc, argv, "--batch", "1"));
    if (!bad) bad = decode(ctx, lengths, batch, reps);
    if (!bad) bad = decode_s8(ctx, lengths, batch, reps);
    tc_ctx_free(ctx);
    return bad;
}
