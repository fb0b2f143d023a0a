/* What a conv2d plan saves: tc_conv2d and tc_conv2d_plan_run with the same variant
 * on the same tensors, timed in alternation in one run (each call followed by
 * tc_ctx_finish, so a time is the call's latency as a user sees it; the order
 * flips every repetition). The ratio is the median over the pairs of one-shot /
 * plan, which a machine whose load drifts during the run disturbs least. Sizes use `tinycl bench conv`'s spec; the default is
 * the digits CNN's two conv layers at batch 1 and 359 and a 3x3, 64-channel
 * 56x56 layer.
 *
 *   conv_plan_speed [--device D] [--variant V] [--reps N] [--sizes SPEC,...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"

#define DEFAULT_SIZES                                                                                              \
    "n1c1h8w8k16r3s3pad1biasrelu,n1c16h4w4k32r3s3pad1biasrelu,n359c1h8w8k16r3s3pad1biasrelu,"                     \
    "n359c16h4w4k32r3s3pad1biasrelu,n1c64h56w56k64r3s3pad1"

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

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* One call and its wait; its latency in ms (negative on failure). */
static double timed(tc_ctx *ctx, tc_conv2d_plan *plan, const tc_opdata *d, const tc_conv2d_params *p)
{
    const double t0 = tc_now_ms();
    tc_status st = plan ? tc_conv2d_plan_run(plan, d->in[0], d->out[0].t)
                        : tc_conv2d(ctx, d->in[0], d->in[1], d->out[0].t, p);
    if (st == TC_OK) st = tc_ctx_finish(ctx);
    return st == TC_OK ? tc_now_ms() - t0 : -1.0;
}

/* Times one size; prints a table row. 0 on success. */
static int run_size(tc_ctx *ctx, const tc_opdesc *op, const char *spec, tc_variant v, int reps)
{
    tc_case cs;
    tc_opdata d;
    memset(&d, 0, sizeof d);
    if (op->parse(spec, &cs) != 0) {
        fprintf(stderr, "conv_plan_speed: bad size '%s'\n", spec);
        return 1;
    }
    tc_conv2d_plan *plan = NULL;
    tc_status st = op->setup(ctx, &cs, 12345u, &d);
    tc_conv2d_params p = tc_conv2d_defaults();
    p.stride_h = (int)tc_case_int(&cs, "stride_h"), p.stride_w = (int)tc_case_int(&cs, "stride_w");
    p.pad_h = (int)tc_case_int(&cs, "pad_h"), p.pad_w = (int)tc_case_int(&cs, "pad_w");
    p.dil_h = (int)tc_case_int(&cs, "dil_h"), p.dil_w = (int)tc_case_int(&cs, "dil_w");
    p.groups = (int)tc_case_int(&cs, "groups"), p.relu = (int)tc_case_int(&cs, "relu"), p.variant = v;
    p.bias = tc_case_int(&cs, "bias") && st == TC_OK ? d.in[2] : NULL;
    if (st == TC_OK) st = tc_conv2d_plan_create(ctx, d.in[1], d.in[0]->dims + 1, &p, &plan);
    double *t = calloc(3 * (size_t)reps, sizeof *t);
    int bad = st != TC_OK || !t;
    if (!bad) {
        p.variant = tc_conv2d_plan_variant(plan); /* AUTO: the one-shot call runs what the plan chose */
        bad = timed(ctx, NULL, &d, &p) < 0 || timed(ctx, plan, &d, &p) < 0; /* warm-up */
    }
    for (int i = 0; !bad && i < reps; i++)
        for (int k = 0; k < 2; k++) {
            const int which = (i + k) % 2; /* 0: one-shot, 1: plan */
            t[which * reps + i] = timed(ctx, which ? plan : NULL, &d, &p);
            bad |= t[which * reps + i] < 0;
        }
    if (bad) {
        fprintf(stderr, "conv_plan_speed: %s: %s\n", spec, t ? tc_last_error(ctx) : "out of memory");
    } else {
        double *ratio = t + 2 * reps;
        for (int i = 0; i < reps; i++) ratio[i] = t[i] / t[reps + i];
        const double r = median(ratio, reps), one = median(t, reps), pl = median(t + reps, reps);
        printf("%-34s %-8s %12.4f %12.4f %8.2fx\n", spec, tc_variant_name(p.variant), one, pl, r);
    }
    free(t);
    tc_conv2d_plan_free(plan);
    tc_opdata_free(&d);
    return bad;
}

int main(int argc, char **argv)
{
    const char *dev = opt(argc, argv, "--device", NULL), *vs = opt(argc, argv, "--variant", "auto");
    const int reps = atoi(opt(argc, argv, "--reps", "200"));
    char sizes[1024];
    snprintf(sizes, sizeof sizes, "%s", opt(argc, argv, "--sizes", DEFAULT_SIZES));
    tc_variant v;
    tc_ctx *ctx = NULL;
    if (reps < 1 || tc_variant_parse(vs, &v) != TC_OK || tc_ctx_create(dev, 0, &ctx) != TC_OK) {
        fprintf(stderr, "usage: conv_plan_speed [--device D] [--variant V] [--reps N >= 1] [--sizes SPEC,...]\n%s\n",
                tc_last_error(NULL));
        return 2;
    }
    printf("device %s, median of %d calls each, in alternation\n", tc_ctx_device(ctx)->name, reps);
    printf("%-34s %-8s %12s %12s %9s\n", "size", "variant", "one-shot ms", "plan ms", "one/plan");
    int failed = 0;
    for (char *tok = strtok(sizes, ","); tok; tok = strtok(NULL, ","))
        failed |= run_size(ctx, tc_opdesc_find("conv2d"), tok, v, reps);
    tc_ctx_free(ctx);
    return failed;
}
