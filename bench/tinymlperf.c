/* TinyMLPerf: `tinycl bench tinymlperf`. Three events, each a few tasks; every task
 * times its entries (an optimization on a device) interleaved in one process
 * (bench/loadgen.h), scores their quality on real data and gates them:
 *
 *   MLP Sprint            digits       the digits MLP on the test split
 *   CNN Marathon          digits       the digits CNN on the test split
 *                         resnet-layer a 3x3 conv, 64 -> 64 channels on 56x56 (ResNet's first stage)
 *   Transformer Decathlon prefill      the fortunes transformer over 128 bytes
 *                         generate-N   N new tokens after "The " (256 and 1024)
 *
 * Entries: f32 (ref, openblas, each OpenCL device: AUTO), f32-clblast, int8,
 * pruned (90% unstructured), pruned-structured, pruned-int8 (the structured model
 * quantized), and for generation kv-cache, kv-cache-int8 and no-cache. Output:
 * bench/tinymlperf_out.c. */
#include "bench/tinymlperf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"
#include "tinycl/tinycl.h"

enum { EV_MLP = 1, EV_CNN = 2, EV_XFMR = 4 };

/* ------------------------------------------------------------------ settings */

typedef struct {
    lg_settings lat, tput;
} task_settings;

/* full run / --quick */
static task_settings settings_for(const tm_run *r, const char *task)
{
    const int q = r->quick;
    task_settings t;
    if (strcmp(task, "digits") == 0) {
        t.lat = (lg_settings){2, q ? 5 : 300, q ? 0 : 4000, q ? 5 : 20000, q ? 0 : 10000};
        t.tput = (lg_settings){1, q ? 2 : 20, q ? 0 : 2000, q ? 2 : 500, q ? 0 : 5000};
    } else if (strcmp(task, "resnet-layer") == 0) {
        t.lat = (lg_settings){1, q ? 2 : 30, q ? 0 : 4000, q ? 2 : 300, q ? 0 : 10000};
        t.tput = (lg_settings){1, q ? 1 : 3, 0, q ? 1 : 3, 0};
    } else if (strcmp(task, "prefill") == 0) {
        t.lat = (lg_settings){1, q ? 2 : 10, q ? 0 : 3000, q ? 2 : 100, q ? 0 : 10000};
        t.tput = (lg_settings){1, q ? 1 : 3, 0, q ? 1 : 3, 0};
    } else { /* generation: one query is a whole generation */
        t.lat = (lg_settings){0, q ? 1 : 3, 0, q ? 1 : 3, 0};
        if (strcmp(task, "generate-1024") == 0) t.lat.min_count = t.lat.max_count = 1;
        t.tput = (lg_settings){0, 0, 0, 0, 0};
    }
    return t;
}

/* ------------------------------------------------------------------ helpers */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static float frand(void) /* uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void progress_line(tm_run *r, const char *what, int rounds)
{
    const double el = (tc_now_ms() - r->t0_ms) / 1000.0;
    /* the plan's remaining work, scaled by how fast the plan has gone so far (within 0.5x-4x) */
    const double pace = r->done_ms > 0 ? fmin(fmax(el * 1000.0 / r->done_ms, 0.5), 4.0) : 1.0;
    const double left = (r->planned_ms - r->done_ms) / 1000.0 * pace;
    const int tty = isatty(fileno(stderr));
    if (!tty && rounds > 0) return; /* a log gets one line per task */
    fprintf(stderr, "%s[%d/%d %2d:%02d elapsed, ~%d:%02d left] %s", tty ? "\r\033[K" : "", r->tasks_done + 1,
            r->tasks_total, (int)el / 60, (int)el % 60, (int)fmax(left, 0) / 60, (int)fmax(left, 0) % 60, what);
    if (rounds > 0) fprintf(stderr, ": round %d", rounds);
    fprintf(stderr, tty ? "" : "\n");
    fflush(stderr);
}

typedef struct {
    tm_run *r;
    const char *what;
} prog_ctx;

static void on_round(void *user, int rounds, double elapsed_ms)
{
    (void)elapsed_ms;
    prog_ctx *p = user;
    progress_line(p->r, p->what, rounds);
}

static tm_result *add_result(tm_run *r, const char *event, const char *task, const char *entry, int dev)
{
    if (r->nres == TM_MAX_RESULTS) return NULL;
    tm_result *x = &r->res[r->nres++];
    memset(x, 0, sizeof *x);
    snprintf(x->event, sizeof x->event, "%s", event);
    snprintf(x->task, sizeof x->task, "%s", task);
    snprintf(x->entry, sizeof x->entry, "%s", entry);
    memcpy(x->device, r->dev[dev].label, sizeof x->device);
    x->dev = dev;
    x->quality = x->baseline = x->agreement = NAN;
    x->valid = 0;
    return x;
}

static void skip(tm_result *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(tm_result *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->reason, sizeof x->reason, fmt, ap);
    va_end(ap);
    x->ran = 0;
    x->valid = 0;
}

static int file_exists(const char *dir, const char *name, char *path, size_t n)
{
    return snprintf(path, n, "%s/%s", dir, name) < (int)n && access(path, R_OK) == 0;
}

/* ------------------------------------------------------------------ entries */

/* What a task's entry holds while it runs; lg.user points back here. */
typedef struct {
    lg_entry lg, tp;  /* latency queries, throughput queries */
    tm_result *res;
    tm_run *run;
    tc_ctx *ctx;
    /* classifiers */
    tc_model *m;
    tc_tensor *x1, *y1, *xb, *yb;
    const float *images;
    int64_t nimages, sample, next;
    float out1[16];
    float *outb;
    /* layer */
    tc_conv2d_plan *conv;
    tc_qconv2d_plan *qconv;
    tc_tensor *lx, *ly, *lxb, *lyb;
    /* transformer */
    tc_decoder *dec;
    int use_cache;
    int64_t ntok;       /* prefill: tokens; generation: new tokens */
    const int32_t *ids; /* prefill input [4, ntok] */
    float *logits;
    int32_t *tokens;    /* generation: the first run's tokens */
    double *steps;      /* every generation's per-token times */
    int64_t nsteps;
    int have_tokens;
} ent;

static void ent_free(ent *e)
{
    lg_entry_free(&e->lg);
    lg_entry_free(&e->tp);
    tc_tensor *ts[] = {e->x1, e->y1, e->xb, e->yb, e->lx, e->ly, e->lxb, e->lyb};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) tc_tensor_free(ts[i]);
    tc_model_free(e->m);
    tc_conv2d_plan_free(e->conv);
    tc_qconv2d_plan_free(e->qconv);
    tc_decoder_free(e->dec);
    free(e->outb);
    free(e->logits);
    free(e->tokens);
    free(e->steps);
    memset(e, 0, sizeof *e);
}

static tc_status cls_latency(lg_entry *l, double *ms)
{
    (void)ms;
    ent *e = l->user;
    const int64_t i = e->next++ % e->nimages;
    tc_status s = tc_tensor_write(e->x1, e->images + i * e->sample, (size_t)e->sample * sizeof(float));
    if (s == TC_OK) s = tc_model_forward(e->m, e->x1, e->y1);
    if (s == TC_OK) s = tc_tensor_read(e->y1, e->out1, (size_t)tc_model_classes(e->m) * sizeof(float));
    return s;
}

static tc_status cls_batch(lg_entry *l, double *ms)
{
    (void)ms;
    ent *e = l->user;
    tc_status s = tc_model_forward(e->m, e->xb, e->yb);
    if (s == TC_OK) s = tc_tensor_read(e->yb, e->outb, tc_tensor_bytes(e->yb));
    return s;
}

static tc_status layer_run(ent *e, const tc_tensor *x, tc_tensor *y)
{
    tc_status s = e->qconv ? tc_qconv2d_plan_run(e->qconv, x, y) : tc_conv2d_plan_run(e->conv, x, y);
    return s == TC_OK ? tc_ctx_finish(e->ctx) : s;
}
static tc_status layer_latency(lg_entry *l, double *ms)
{
    (void)ms;
    ent *e = l->user;
    return layer_run(e, e->lx, e->ly);
}
static tc_status layer_batch(lg_entry *l, double *ms)
{
    (void)ms;
    ent *e = l->user;
    return layer_run(e, e->lxb, e->lyb);
}

static tc_status prefill_latency(lg_entry *l, double *ms)
{
    (void)ms;
    ent *e = l->user;
    return tc_decoder_forward(e->dec, 1, e->ntok, e->ids, e->logits);
}
static tc_status prefill_batch(lg_entry *l, double *ms)
{
    (void)ms;
    ent *e = l->user;
    return tc_decoder_forward(e->dec, 4, e->ntok, e->ids, e->logits);
}

#define PROMPT "The "
#define PLEN 4

static tc_status generate(ent *e, int32_t *out, double *step_ms)
{
    int32_t ids[PLEN];
    for (int i = 0; i < PLEN; i++) ids[i] = (unsigned char)PROMPT[i];
    const int32_t *prompts[1] = {ids};
    const int64_t len = PLEN;
    tc_generate_params p = tc_generate_defaults();
    p.use_cache = e->use_cache;
    p.step_ms = step_ms;
    return tc_decoder_generate(e->dec, 1, prompts, &len, e->ntok, &p, out);
}

static tc_status gen_query(lg_entry *l, double *ms)
{
    (void)ms;
    ent *e = l->user;
    double *steps = realloc(e->steps, (size_t)(e->nsteps + e->ntok) * sizeof *steps);
    int32_t *tok = malloc((size_t)e->ntok * sizeof *tok);
    if (steps) e->steps = steps;
    tc_status s = steps && tok ? generate(e, tok, e->steps + e->nsteps) : TC_ERR_OUT_OF_MEMORY;
    if (s == TC_OK) {
        e->nsteps += e->ntok;
        if (!e->have_tokens) {
            free(e->tokens);
            e->tokens = tok;
            tok = NULL;
            e->have_tokens = 1;
        }
    }
    free(tok);
    return s;
}

/* ------------------------------------------------------------------ a task */

typedef struct {
    tm_run *r;
    const char *event, *event_name, *task;
    const char *base_entry;     /* the f32 entry ref and openblas are compared by ("f32" or "kv-cache") */
    const char *dev_base_entry; /* the entry of the same device each entry is compared by */
    ent e[TM_MAX_ENTRIES];
    int n;
    int has_tput;
} task;

static ent *task_add(task *t, const char *entry, int dev)
{
    if (t->n == TM_MAX_ENTRIES) return NULL;
    tm_result *x = add_result(t->r, t->event, t->task, entry, dev);
    if (!x) return NULL;
    ent *e = &t->e[t->n++];
    memset(e, 0, sizeof *e);
    e->res = x;
    e->run = t->r;
    e->lg.user = e->tp.user = e;
    return e;
}

static int find_result(const task *t, const char *entry, const char *device_label)
{
    for (int i = 0; i < t->n; i++)
        if (t->e[i].res->ran && strcmp(t->e[i].res->entry, entry) == 0 &&
            strcmp(t->e[i].res->device, device_label) == 0)
            return i;
    return -1;
}

/* Times the task's active entries, then fills their results. */
static tc_status task_time(task *t)
{
    lg_entry lat[TM_MAX_ENTRIES], tp[TM_MAX_ENTRIES];
    const task_settings st = settings_for(t->r, t->task);
    char what[128];
    snprintf(what, sizeof what, "%s / %s", t->event_name, t->task);
    prog_ctx pc = {t->r, what};
    progress_line(t->r, what, 0);
    for (int i = 0; i < t->n; i++) {
        lat[i] = t->e[i].lg;
        tp[i] = t->e[i].tp;
    }
    tc_status s = lg_run(lat, t->n, &st.lat, on_round, &pc);
    if (s == TC_OK && t->has_tput) s = lg_run(tp, t->n, &st.tput, on_round, &pc);
    for (int i = 0; i < t->n; i++) {
        t->e[i].lg = lat[i];
        t->e[i].tp = tp[i];
        tm_result *x = t->e[i].res;
        if (!x->ran) continue;
        if (lat[i].status != TC_OK || lat[i].n == 0 || (t->has_tput && tp[i].status != TC_OK)) {
            skip(x, "failed: %s", tc_last_error(t->e[i].ctx));
            continue;
        }
        x->lat_runs = lat[i].n;
        x->lat = t->e[i].nsteps ? lg_summarize(t->e[i].steps, (int)t->e[i].nsteps) : lg_summarize(lat[i].ms, lat[i].n);
        if (t->has_tput && tp[i].n) {
            const lg_stats b = lg_summarize(tp[i].ms, tp[i].n);
            x->tput = 1e3 * (double)x->tput_batch / b.median;
        } else if (t->e[i].nsteps) { /* generation: tokens per second of whole generations */
            const lg_stats g = lg_summarize(lat[i].ms, lat[i].n);
            x->tput = 1e3 * (double)t->e[i].ntok / g.median;
        }
    }
    /* ratios over the rounds both entries ran */
    const int ref = find_result(t, t->base_entry, "ref"), blas = find_result(t, t->base_entry, "openblas");
    for (int i = 0; i < t->n; i++) {
        tm_result *x = t->e[i].res;
        if (!x->ran) continue;
        const int dv = find_result(t, t->dev_base_entry, x->device);
        if (ref >= 0) x->sp_ref = lg_ratio_of(lat[ref].ms, lat[i].ms, lat[ref].n < lat[i].n ? lat[ref].n : lat[i].n);
        if (blas >= 0)
            x->sp_blas = lg_ratio_of(lat[blas].ms, lat[i].ms, lat[blas].n < lat[i].n ? lat[blas].n : lat[i].n);
        if (dv >= 0) x->sp_dev = lg_ratio_of(lat[dv].ms, lat[i].ms, lat[dv].n < lat[i].n ? lat[dv].n : lat[i].n);
    }
    t->r->tasks_done++;
    return s;
}

/* One profiled run of each entry: the per-op report into profile.txt and a trace. */
typedef tc_status (*setup_fn)(task *t, ent *e, tc_ctx *ctx, int profiling);

static void roofline_rows(tm_run *r, tc_ctx *ctx, const char *device)
{
    for (int i = 0; i < tc_prof_count(ctx); i++) {
        tc_prof_stat st;
        if (tc_prof_get(ctx, i, &st) != TC_OK || strcmp(st.variant, "scope") == 0 || st.device_ms <= 0 ||
            st.flops <= 0 || st.bytes <= 0)
            continue;
        tm_kernel_point *k = NULL;
        for (int j = 0; j < r->nkern; j++)
            if (!strcmp(r->kern[j].device, device) && !strcmp(r->kern[j].op, st.op) &&
                !strcmp(r->kern[j].variant, st.variant))
                k = &r->kern[j];
        if (!k && r->nkern < TM_MAX_SERIES) {
            k = &r->kern[r->nkern++];
            memset(k, 0, sizeof *k);
            snprintf(k->device, sizeof k->device, "%s", device);
            snprintf(k->op, sizeof k->op, "%s", st.op);
            snprintf(k->variant, sizeof k->variant, "%s", st.variant);
        }
        if (!k) continue;
        /* accumulate flops, bytes and ms in the three fields; divided in finish_roofline */
        k->gflops += st.flops;
        k->gbps += st.bytes;
        k->intensity += st.device_ms;
    }
}

static void profile_entries(task *t, setup_fn setup, lg_query query)
{
    tm_run *r = t->r;
    for (int i = 0; i < t->n; i++) {
        tm_result *x = t->e[i].res;
        if (!x->ran) continue;
        const tm_device *d = &r->dev[x->dev];
        tc_ctx *ctx = NULL;
        ent pe;
        memset(&pe, 0, sizeof pe);
        pe.res = x;
        pe.run = r;
        pe.lg.user = &pe;
        double ms = -1;
        tc_status s = tc_ctx_create(d->spec, TC_CTX_PROFILE, &ctx);
        if (s == TC_OK) s = setup(t, &pe, ctx, 1);
        if (s == TC_OK) s = query(&pe.lg, &ms); /* the first run builds kernels: profile the second */
        if (s == TC_OK) s = tc_ctx_finish(ctx);
        if (s == TC_OK) tc_prof_reset(ctx);
        char scope[96];
        snprintf(scope, sizeof scope, "%s/%s", t->task, x->entry);
        if (s == TC_OK) s = tc_prof_scope_begin(ctx, scope);
        if (s == TC_OK) s = query(&pe.lg, &ms);
        if (s == TC_OK) s = tc_prof_scope_end(ctx);
        if (s == TC_OK) s = tc_ctx_finish(ctx);
        if (s == TC_OK) {
            fprintf(r->profile, "\n== %s / %s / %s on %s ==\n", t->event_name, t->task, x->entry, x->device);
            tc_prof_report(ctx, r->profile);
            char path[1400];
            char id[24] = "ref";
            if (d->blas) snprintf(id, sizeof id, "openblas");
            if (d->opencl) snprintf(id, sizeof id, "cl%d", d->index - 1);
            snprintf(path, sizeof path, "%s/traces/%s-%s-%s-%s.json", r->dir, t->event, t->task, x->entry, id);
            FILE *f = fopen(path, "w");
            if (f) {
                tc_prof_write_trace(ctx, f);
                fclose(f);
            }
            if (d->opencl) roofline_rows(r, ctx, x->device);
        } else {
            fprintf(r->profile, "\n== %s / %s / %s on %s: not profiled: %s ==\n", t->event_name, t->task, x->entry,
                    x->device, ctx ? tc_last_error(ctx) : tc_last_error(NULL));
        }
        ent_free(&pe);
        tc_ctx_free(ctx);
    }
}

static void task_free(task *t)
{
    for (int i = 0; i < t->n; i++) ent_free(&t->e[i]);
    t->n = 0;
}

/* ------------------------------------------------------------------ classifiers */

typedef struct {
    const float *test, *train;
    const int32_t *labels;
    int64_t ntest, ntrain, sample;
} digits;

typedef struct {
    const char *model;     /* "mlp_digits" */
    const digits *dg;
    double f32_ref_accuracy;
    long long f32_bytes;
} cls_task;
static cls_task g_cls; /* the classifier task being run */


static const char *cls_file(const char *entry, const char *model, char *buf, size_t n)
{
    const char *suffix = strcmp(entry, "pruned") == 0                                                ? "_pruned"
                         : strcmp(entry, "pruned-structured") == 0 || strcmp(entry, "pruned-int8") == 0 ? "_structured"
                                                                                                       : "";
    snprintf(buf, n, "%s%s.tcw", model, suffix);
    return buf;
}

static tc_status cls_setup(task *t, ent *e, tc_ctx *ctx, int profiling)
{
    const cls_task *c = &g_cls;
    const digits *dg = c->dg;
    tm_run *r = t->r;
    const char *entry = e->res->entry;
    char name[128], path[4300];
    cls_file(entry, c->model, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", r->data, name);
    e->ctx = ctx;
    const int quant = strstr(entry, "int8") != NULL;
    tc_model *m = NULL;
    tc_tensor *calib = NULL;
    tc_status s = tc_model_load_flags(ctx, path, strcmp(entry, "f32-clblast") == 0 ? TC_MODEL_CLBLAST : 0, &m);
    if (s == TC_OK && quant) {
        s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, (const int64_t[]){dg->ntrain, dg->sample}, dg->train, &calib);
        tc_model_quant_options o = tc_model_quant_defaults();
        if (s == TC_OK) s = tc_model_quantize(m, calib, &o, &e->m);
        tc_model_free(m);
        m = NULL;
    } else {
        e->m = m;
    }
    tc_tensor_free(calib);
    const int64_t nb = profiling ? 1 : dg->ntest;
    e->images = dg->test;
    e->nimages = dg->ntest;
    e->sample = dg->sample;
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){1, dg->sample}, &e->x1);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){1, tc_model_classes(e->m)}, &e->y1);
    if (s == TC_OK) s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, (const int64_t[]){nb, dg->sample}, dg->test, &e->xb);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){nb, tc_model_classes(e->m)}, &e->yb);
    if (s == TC_OK && !(e->outb = malloc(tc_tensor_bytes(e->yb)))) s = TC_ERR_OUT_OF_MEMORY;
    e->lg.query = cls_latency;
    e->tp.query = cls_batch;
    return s;
}

/* accuracy (percent) of e's model on the test split, from one batched forward */
static double cls_accuracy(ent *e, const digits *dg)
{
    double ms = -1;
    if (cls_batch(&e->tp, &ms) != TC_OK) return NAN;
    const int64_t k = tc_model_classes(e->m);
    int64_t correct = 0;
    for (int64_t i = 0; i < dg->ntest; i++) {
        int64_t best = 0;
        for (int64_t j = 1; j < k; j++)
            if (e->outb[i * k + j] > e->outb[i * k + best]) best = j;
        correct += best == dg->labels[i];
    }
    return 100.0 * (double)correct / (double)dg->ntest;
}


static void gate_accuracy(tm_result *x, double drop_points)
{
    if (!isfinite(x->quality)) {
        skip(x, "INVALID: no accuracy");
        x->ran = 1;
        return;
    }
    x->valid = x->baseline - x->quality <= drop_points;
    if (!x->valid)
        snprintf(x->reason, sizeof x->reason, "accuracy %.2f%% is %.2f points below f32 ref's %.2f%% (gate: %.0f)",
                 x->quality, x->baseline - x->quality, x->baseline, drop_points);
}

static const char *const cls_entries[] = {"f32", "f32-clblast", "int8", "pruned", "pruned-structured", "pruned-int8"};

static int run_classifier(tm_run *r, const char *event, const char *event_name, const char *model, const digits *dg)
{
    task *t = calloc(1, sizeof *t);
    if (!t) return 1;
    *t = (task){.r = r, .event = event, .event_name = event_name, .task = "digits", .base_entry = "f32",
                .dev_base_entry = "f32", .has_tput = 1};
    g_cls = (cls_task){.model = model, .dg = dg, .f32_ref_accuracy = NAN};
    for (size_t k = 0; k < sizeof cls_entries / sizeof cls_entries[0]; k++)
        for (int d = 0; d < r->ndev; d++) {
            const char *en = cls_entries[k];
            const tm_device *dv = &r->dev[d];
            if (dv->blas && strcmp(en, "f32") != 0) continue;     /* openblas: the f32 baseline only */
            if (!dv->opencl && strcmp(en, "f32-clblast") == 0) continue;
            ent *e = task_add(t, en, d);
            if (!e) break;
            char name[128], path[4300];
            if (!file_exists(r->data, cls_file(en, model, name, sizeof name), path, sizeof path)) {
                skip(e->res, "skipped: %s is not in %s", name, r->data);
                continue;
            }
            e->res->ran = 1;
        }
    /* set up every entry on the run's contexts; score quality */
    for (int i = 0; i < t->n; i++) {
        ent *e = &t->e[i];
        tm_result *x = e->res;
        if (!x->ran) continue;
        tc_ctx *ctx = r->ctx[x->dev];
        tc_status s = ctx ? cls_setup(t, e, ctx, 0) : TC_ERR_NO_DEVICE;
        if (s != TC_OK) {
            skip(x, "failed: %s", ctx ? tc_last_error(ctx) : "no context");
            continue;
        }
        e->lg.active = e->tp.active = 1;
        x->qmetric = "accuracy";
        x->quality = cls_accuracy(e, dg);
        x->model_bytes = tc_model_bytes(e->m);
        x->tput_unit = "samples/s";
        x->tput_batch = dg->ntest;
        if (strcmp(x->entry, "f32") == 0 && strcmp(x->device, "ref") == 0) {
            g_cls.f32_ref_accuracy = x->quality;
            g_cls.f32_bytes = x->model_bytes;
        }
    }
    for (int i = 0; i < t->n; i++) {
        tm_result *x = t->e[i].res;
        if (!x->ran) continue;
        x->baseline = g_cls.f32_ref_accuracy;
        x->compression = g_cls.f32_bytes > 0 && x->model_bytes > 0 ? (double)g_cls.f32_bytes / (double)x->model_bytes : 0;
        gate_accuracy(x, 1.0);
    }
    tc_status s = task_time(t);
    profile_entries(t, cls_setup, cls_latency);
    task_free(t);
    free(t);
    return s != TC_OK;
}

/* ------------------------------------------------------------------ the pruning sweep */

/* The digits models pruned here, without fine-tuning, to a range of sparsities,
 * unstructured and structured: accuracy on the test split, and the speedup of the
 * whole test split's forward pass over the dense model's (interleaved rounds). */
static void sparsity_sweep(tm_run *r, const digits *dg)
{
    static const double full_u[] = {0.5, 0.7, 0.8, 0.9, 0.95, 0.99}, full_s[] = {0.25, 0.5, 0.75};
    static const double quick_u[] = {0.9}, quick_s[] = {0.5};
    const double *pu = r->quick ? quick_u : full_u, *ps = r->quick ? quick_s : full_s;
    const int nu = r->quick ? 1 : 6, ns = r->quick ? 1 : 3;
    const lg_settings st = {1, r->quick ? 2 : 7, 0, r->quick ? 2 : 7, 0};
    static const char *const models[2] = {"mlp_digits", "cnn_digits"};
    task *t = calloc(1, sizeof *t);
    if (!t) return;
    for (int mi = 0; mi < 2; mi++)
        for (int d = 0; d < r->ndev; d++) {
            if (r->dev[d].blas || !(r->events & (mi ? EV_CNN : EV_MLP))) continue;
            *t = (task){.r = r, .event = "sweep", .event_name = "pruning sweep", .task = "digits"};
            g_cls = (cls_task){.model = models[mi], .dg = dg};
            char what[256];
            snprintf(what, sizeof what, "pruning sweep / %s on %s", models[mi], r->dev[d].label);
            progress_line(r, what, 0);
            const int mark = r->nres; /* the sweep's entries are not leaderboard rows */
            ent *dense = task_add(t, "f32", d);
            if (!dense || cls_setup(t, dense, r->ctx[d], 0) != TC_OK) {
                r->nres = mark;
                task_free(t);
                continue;
            }
            const double acc_dense = cls_accuracy(dense, dg);
            for (int k = 0; k < nu + ns; k++) {
                const int structured = k >= nu;
                tc_model_prune_options o = tc_model_prune_defaults();
                o.sparsity = structured ? ps[k - nu] : pu[k];
                o.structured = structured;
                ent *e = task_add(t, "pruned", d);
                if (!e) break;
                tc_tensor *xb = NULL, *yb = NULL;
                e->ctx = r->ctx[d];
                if (tc_model_prune(dense->m, &o, &e->m) != TC_OK ||
                    tc_tensor_from_host(e->ctx, TC_DTYPE_F32, 2, (const int64_t[]){dg->ntest, dg->sample}, dg->test,
                                        &xb) != TC_OK ||
                    tc_tensor_create(e->ctx, TC_DTYPE_F32, 2, (const int64_t[]){dg->ntest, tc_model_classes(e->m)},
                                     &yb) != TC_OK ||
                    !(e->outb = malloc(tc_tensor_bytes(yb)))) {
                    tc_tensor_free(xb), tc_tensor_free(yb);
                    ent_free(e);
                    t->n--;
                    continue;
                }
                e->xb = xb, e->yb = yb;
                e->tp.query = cls_batch;
                const double acc = cls_accuracy(e, dg);
                lg_entry pair[2] = {dense->tp, e->tp};
                pair[0].active = pair[1].active = 1;
                pair[0].ms = pair[1].ms = NULL;
                pair[0].n = pair[1].n = pair[0].cap = pair[1].cap = 0;
                double sp = NAN;
                if (lg_run(pair, 2, &st, NULL, NULL) == TC_OK && pair[0].n && pair[1].n) {
                    const lg_ratio q = lg_ratio_of(pair[0].ms, pair[1].ms, pair[0].n < pair[1].n ? pair[0].n : pair[1].n);
                    sp = q.value;
                }
                lg_entry_free(&pair[0]);
                lg_entry_free(&pair[1]);
                if (r->nsp < TM_MAX_SERIES) {
                    tm_sparse_point *p = &r->sp[r->nsp++];
                    memcpy(p->device, r->dev[d].label, sizeof p->device);
                    snprintf(p->model, sizeof p->model, "%.3s", models[mi]);
                    double real = o.sparsity;
                    tc_model_sparsity(e->m, &real, NULL);
                    p->sparsity = real;
                    p->structured = structured;
                    p->speedup = sp;
                    p->accuracy = acc;
                    p->accuracy_dense = acc_dense;
                }
                ent_free(e);
                t->n--;
            }
            task_free(t);
            r->nres = mark;
        }
    free(t);
    r->tasks_done++;
}

/* ------------------------------------------------------------------ the ResNet-like layer */

#define LC 64
#define LH 56
#define LK 64
#define LBATCH 4

typedef struct {
    float *x, *w, *b; /* input [LBATCH, C, H, W] (the first image is the latency query's), weights, bias */
    float *want;      /* f32 ref's output of the first image */
    int64_t ny;
} layer_data;
static layer_data g_layer;

static tc_status layer_setup(task *t, ent *e, tc_ctx *ctx, int profiling)
{
    (void)t;
    const layer_data *g = &g_layer;
    const char *entry = e->res->entry;
    tc_tensor *w = NULL, *b = NULL;
    const int64_t chw[3] = {LC, LH, LH};
    e->ctx = ctx;
    tc_status s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, (const int64_t[]){LK, LC, 3, 3}, g->w, &w);
    if (s == TC_OK) s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, (const int64_t[]){LK}, g->b, &b);
    if (s == TC_OK && strcmp(entry, "int8") == 0) {
        tc_qconv2d_params p = tc_qconv2d_defaults();
        p.pad_h = p.pad_w = 1;
        p.relu = 1;
        p.in_scale = 2.0f / 255.0f; /* the inputs are uniform in [-1, 1) */
        p.in_zero_point = 128;
        s = tc_qconv2d_plan_create(ctx, w, chw, b, &p, &e->qconv);
    } else if (s == TC_OK) {
        tc_conv2d_params p = tc_conv2d_defaults();
        p.pad_h = p.pad_w = 1;
        p.relu = 1;
        p.bias = b;
        if (strcmp(entry, "f32-clblast") == 0) p.variant = TC_VARIANT_CLBLAST;
        s = tc_conv2d_plan_create(ctx, w, chw, &p, &e->conv);
    }
    const int64_t nb = profiling ? 1 : LBATCH;
    if (s == TC_OK) s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, (const int64_t[]){1, LC, LH, LH}, g->x, &e->lx);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 4, (const int64_t[]){1, LK, LH, LH}, &e->ly);
    if (s == TC_OK) s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, (const int64_t[]){nb, LC, LH, LH}, g->x, &e->lxb);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 4, (const int64_t[]){nb, LK, LH, LH}, &e->lyb);
    tc_tensor_free(w);
    tc_tensor_free(b);
    e->lg.query = layer_latency;
    e->tp.query = layer_batch;
    return s;
}

/* SQNR (dB) of got against want */
static double sqnr_db(const float *want, const float *got, int64_t n)
{
    double sig = 0, err = 0;
    for (int64_t i = 0; i < n; i++) {
        sig += (double)want[i] * want[i];
        err += ((double)got[i] - want[i]) * ((double)got[i] - want[i]);
    }
    if (!isfinite(err)) return NAN;
    return err > 0 ? 10.0 * log10(sig / err) : INFINITY;
}

#define LAYER_GATE_DB 30.0

static int run_layer(tm_run *r)
{
    task *t = calloc(1, sizeof *t);
    layer_data *g = &g_layer;
    const int64_t nx = (int64_t)LBATCH * LC * LH * LH, nw = (int64_t)LK * LC * 9;
    g->ny = (int64_t)LK * LH * LH;
    g->x = malloc((size_t)nx * sizeof *g->x);
    g->w = malloc((size_t)nw * sizeof *g->w);
    g->b = malloc(LK * sizeof *g->b);
    float *got = malloc((size_t)g->ny * sizeof *got);
    if (!t || !g->x || !g->w || !g->b || !got) {
        free(t), free(g->x), free(g->w), free(g->b), free(got);
        return 1;
    }
    for (int64_t i = 0; i < nx; i++) g->x[i] = frand();
    for (int64_t i = 0; i < nw; i++) g->w[i] = frand() / 24.0f; /* ~ He init for 576 inputs */
    for (int64_t i = 0; i < LK; i++) g->b[i] = frand() * 0.1f;
    *t = (task){.r = r, .event = "cnn", .event_name = "CNN Marathon", .task = "resnet-layer", .base_entry = "f32",
                .dev_base_entry = "f32", .has_tput = 1};
    static const char *const entries[] = {"f32", "f32-clblast", "int8"};
    for (size_t k = 0; k < 3; k++)
        for (int d = 0; d < r->ndev; d++) {
            const tm_device *dv = &r->dev[d];
            if ((dv->blas && k != 0) || (!dv->opencl && k == 1)) continue;
            ent *e = task_add(t, entries[k], d);
            if (e) e->res->ran = 1;
        }
    double f32_bytes = 4.0 * (double)(nw + LK);
    for (int i = 0; i < t->n; i++) {
        ent *e = &t->e[i];
        tm_result *x = e->res;
        tc_ctx *ctx = r->ctx[x->dev];
        tc_status s = ctx ? layer_setup(t, e, ctx, 0) : TC_ERR_NO_DEVICE;
        double ms = -1;
        if (s == TC_OK) s = layer_latency(&e->lg, &ms);
        if (s == TC_OK) s = tc_tensor_read(e->ly, got, (size_t)g->ny * sizeof *got);
        if (s != TC_OK) {
            skip(x, "failed: %s", ctx ? tc_last_error(ctx) : "no context");
            continue;
        }
        if (i == 0) { /* f32 on ref (the first device) is the reference output */
            g->want = malloc((size_t)g->ny * sizeof *g->want);
            if (g->want) memcpy(g->want, got, (size_t)g->ny * sizeof *got);
        }
        e->lg.active = e->tp.active = 1;
        x->qmetric = "sqnr_db";
        x->quality = g->want ? sqnr_db(g->want, got, g->ny) : NAN;
        x->baseline = INFINITY;
        x->model_bytes = strcmp(x->entry, "int8") == 0 ? (long long)(nw + 4 * LK + 8 * LK) : (long long)f32_bytes;
        x->compression = f32_bytes / (double)x->model_bytes;
        x->tput_unit = "samples/s";
        x->tput_batch = LBATCH;
        x->valid = x->quality >= LAYER_GATE_DB; /* +inf: the same bits as f32 ref */
        if (!x->valid)
            snprintf(x->reason, sizeof x->reason, "SQNR %.1f dB against f32 ref (gate: %.0f dB)", x->quality,
                     LAYER_GATE_DB);
    }
    tc_status s = task_time(t);
    profile_entries(t, layer_setup, layer_latency);
    task_free(t);
    free(t);
    free(g->x), free(g->w), free(g->b), free(g->want), free(got);
    memset(g, 0, sizeof *g);
    return s != TC_OK;
}

/* ------------------------------------------------------------------ the transformer */

#define PREFILL 128 /* the trained context */
#define PREFILL_BATCH 4
#define BPB_GATE 1.02
#define AGREE_GATE 0.99

typedef struct {
    char path[4300];
    uint8_t *text;          /* the held-out fortunes */
    int64_t ntext;
    int32_t ids[PREFILL_BATCH * PREFILL];
    int32_t *ref_tokens;    /* f32 ref's cached generation of the current length */
} xf_data;
static xf_data g_xf;

static tc_status prefill_setup(task *t, ent *e, tc_ctx *ctx, int profiling)
{
    (void)t, (void)profiling;
    e->ctx = ctx;
    e->ntok = PREFILL;
    e->ids = g_xf.ids;
    tc_status s = tc_decoder_load(ctx, g_xf.path, PREFILL, &e->dec);
    if (s == TC_OK && !(e->logits = malloc((size_t)PREFILL_BATCH * PREFILL * 256 * sizeof *e->logits)))
        s = TC_ERR_OUT_OF_MEMORY;
    if (s == TC_OK && tc_decoder_info_of(e->dec).vocab != 256)
        s = tc_fail(ctx, TC_ERR_SHAPE, "the decoder's vocabulary is not the 256 bytes");
    e->lg.query = prefill_latency;
    e->tp.query = prefill_batch;
    return s;
}

static int run_prefill(tm_run *r)
{
    task *t = calloc(1, sizeof *t);
    if (!t) return 1;
    *t = (task){.r = r, .event = "transformer", .event_name = "Transformer Decathlon", .task = "prefill",
                .base_entry = "f32", .dev_base_entry = "f32", .has_tput = 1};
    for (int d = 0; d < r->ndev; d++) {
        ent *e = task_add(t, "f32", d);
        if (e) e->res->ran = 1;
    }
    const int64_t windows = r->quick ? 2 : 24;
    double base = NAN;
    for (int i = 0; i < t->n; i++) {
        ent *e = &t->e[i];
        tm_result *x = e->res;
        tc_ctx *ctx = r->ctx[x->dev];
        double bpb = NAN;
        int64_t predicted = 0;
        tc_status s = ctx ? prefill_setup(t, e, ctx, 0) : TC_ERR_NO_DEVICE;
        if (s == TC_OK)
            s = tc_decoder_bits_per_byte(e->dec, g_xf.text, g_xf.ntext, PREFILL, windows, PREFILL_BATCH, &bpb,
                                         &predicted);
        if (s != TC_OK) {
            skip(x, "failed: %s", ctx ? tc_last_error(ctx) : "no context");
            continue;
        }
        if (!isfinite(base)) base = bpb; /* f32 on the first device (ref unless --device leaves it out) */
        e->lg.active = e->tp.active = 1;
        x->qmetric = "bpb";
        x->quality = bpb;
        x->baseline = base;
        x->tput_unit = "tokens/s";
        x->tput_batch = PREFILL_BATCH * PREFILL;
        x->valid = bpb <= base * BPB_GATE;
        if (!x->valid)
            snprintf(x->reason, sizeof x->reason, "%.4f bits per byte, %.1f%% worse than %.4f (gate: 2%%)", bpb,
                     100.0 * (bpb / base - 1.0), base);
    }
    tc_status s = task_time(t);
    for (int i = 0; i < t->n; i++) /* a query is PREFILL tokens: report tokens/s of the batch */
        if (t->e[i].res->ran) t->e[i].res->model_bytes = 0;
    profile_entries(t, prefill_setup, prefill_latency);
    task_free(t);
    free(t);
    return s != TC_OK;
}

static tc_status gen_setup_len(ent *e, tc_ctx *ctx, int64_t n)
{
    e->ctx = ctx;
    e->ntok = n;
    e->use_cache = strcmp(e->res->entry, "no-cache") != 0;
    tc_status s = tc_decoder_load(ctx, g_xf.path, PLEN + n, &e->dec);
    if (s == TC_OK && strcmp(e->res->entry, "kv-cache-int8") == 0) s = tc_decoder_set_kv_dtype(e->dec, TC_DTYPE_S8);
    e->lg.query = gen_query;
    return s;
}

static int64_t g_gen_len;
static tc_status gen_setup(task *t, ent *e, tc_ctx *ctx, int profiling)
{
    (void)t, (void)profiling;
    return gen_setup_len(e, ctx, g_gen_len);
}

/* ms of one generation of n tokens on device d with the cache or without (after a
 * warm-up that builds the kernels), or NaN */
static double time_generation(tm_run *r, int d, int64_t n, int use_cache)
{
    ent e;
    memset(&e, 0, sizeof e);
    tm_result fake;
    memset(&fake, 0, sizeof fake);
    snprintf(fake.entry, sizeof fake.entry, "%s", use_cache ? "kv-cache" : "no-cache");
    e.res = &fake;
    e.lg.user = &e;
    double ms = -1, t = NAN;
    tc_status s = gen_setup_len(&e, r->ctx[d], n);
    if (s == TC_OK) s = gen_query(&e.lg, &ms);
    const double t0 = tc_now_ms();
    if (s == TC_OK) s = gen_query(&e.lg, &ms);
    if (s == TC_OK) t = tc_now_ms() - t0;
    ent_free(&e);
    return t;
}

static double agreement(const int32_t *a, const int32_t *b, int64_t n)
{
    int64_t same = 0;
    for (int64_t i = 0; i < n; i++) same += a[i] == b[i];
    return (double)same / (double)n;
}

static void kv_point(tm_run *r, const char *device, int64_t tokens, double cached, double uncached)
{
    for (int i = 0; i < r->nkv; i++)
        if (!strcmp(r->kv[i].device, device) && r->kv[i].tokens == tokens) return;
    if (r->nkv == TM_MAX_SERIES) return;
    tm_kv_point *p = &r->kv[r->nkv++];
    snprintf(p->device, sizeof p->device, "%s", device);
    p->tokens = tokens;
    p->cached_ms = cached;
    p->uncached_ms = uncached;
}

static int run_generate(tm_run *r, int64_t n, const double *probe_ms, int64_t probe_n, double budget_ms)
{
    task *t = calloc(1, sizeof *t);
    char name[24];
    snprintf(name, sizeof name, "generate-%lld", (long long)n);
    if (!t) return 1;
    *t = (task){.r = r, .event = "transformer", .event_name = "Transformer Decathlon", .base_entry = "kv-cache",
                .dev_base_entry = "no-cache", .has_tput = 0};
    t->task = name;
    g_gen_len = n;
    static const char *const entries[] = {"kv-cache", "kv-cache-int8", "no-cache"};
    const int rounds = settings_for(r, name).lat.min_count;
    for (size_t k = 0; k < sizeof entries / sizeof entries[0]; k++)
        for (int d = 0; d < r->ndev; d++) {
            ent *e = task_add(t, entries[k], d);
            if (!e) break;
            e->res->ran = 1;
            if (k == 2) { /* recomputation grows as n^2 at least: leave it out where it would take too long */
                const double est = probe_ms[d] * ((double)n / (double)probe_n) * ((double)n / (double)probe_n);
                if (!isfinite(probe_ms[d]) || est * rounds > budget_ms)
                    skip(e->res,
                         "skipped: recomputing every step would take ~%.0f s per generation here (%lld tokens took "
                         "%.2f s), over the %.0f s budget",
                         est / 1e3, (long long)probe_n, probe_ms[d] / 1e3, budget_ms / 1e3);
            }
        }
    free(g_xf.ref_tokens);
    g_xf.ref_tokens = NULL;
    for (int i = 0; i < t->n; i++) {
        ent *e = &t->e[i];
        tm_result *x = e->res;
        if (!x->ran) continue;
        tc_ctx *ctx = r->ctx[x->dev];
        /* no warm-up generation: the kernels were built by the probe (a long warm-up would
         * double the task); the first timed generation's tokens are the quality sample */
        tc_status s = ctx ? gen_setup(t, e, ctx, 0) : TC_ERR_NO_DEVICE;
        if (s != TC_OK) {
            skip(x, "failed: %s", ctx ? tc_last_error(ctx) : "no context");
            continue;
        }
        e->lg.active = 1;
        x->qmetric = "agreement";
        x->baseline = 1.0;
        x->tput_unit = "tokens/s";
        x->tput_batch = 1;
        /* the cache's bytes, and how much smaller than the f32 cache */
        x->model_bytes = (long long)(e->use_cache ? tc_decoder_cache_bytes(e->dec, 1, PLEN + n) : 0);
        if (x->model_bytes > 0)
            x->compression = (double)(2 * tc_decoder_info_of(e->dec).layers * tc_decoder_info_of(e->dec).heads *
                                      tc_decoder_info_of(e->dec).head_dim * (PLEN + n) * 4) /
                             (double)x->model_bytes;
    }
    tc_status s = task_time(t);
    for (int i = 0; i < t->n; i++) { /* the reference tokens: f32 with the cache on the first device (ref) */
        const ent *e = &t->e[i];
        if (e->res->ran && e->have_tokens && !strcmp(e->res->entry, "kv-cache")) {
            if ((g_xf.ref_tokens = malloc((size_t)n * sizeof(int32_t))))
                memcpy(g_xf.ref_tokens, e->tokens, (size_t)n * sizeof(int32_t));
            break;
        }
    }
    for (int i = 0; i < t->n; i++) {
        ent *e = &t->e[i];
        tm_result *x = e->res;
        if (!x->ran) continue;
        x->agreement = g_xf.ref_tokens && e->have_tokens ? agreement(g_xf.ref_tokens, e->tokens, n) : NAN;
        x->quality = x->agreement;
        x->valid = x->agreement >= AGREE_GATE;
        if (!x->valid)
            snprintf(x->reason, sizeof x->reason, "%.1f%% of the tokens equal f32 ref's (gate: %.0f%%)",
                     100.0 * x->agreement, 100.0 * AGREE_GATE);
    }
    for (int i = 0; i < t->n; i++) {
        const tm_result *x = t->e[i].res;
        if (!x->ran || strcmp(x->entry, "kv-cache") != 0) continue;
        const int u = find_result(t, "no-cache", x->device);
        if (u >= 0)
            kv_point(r, x->device, n, lg_summarize(t->e[i].lg.ms, t->e[i].lg.n).median,
                     lg_summarize(t->e[u].lg.ms, t->e[u].lg.n).median);
    }
    if (n <= 256) profile_entries(t, gen_setup, gen_query);
    task_free(t);
    free(t);
    return s != TC_OK;
}

/* KV-cache speedup against length: one cached and one uncached generation per length */
static void kv_sweep(tm_run *r, const double *probe_ms, int64_t probe_n, double budget_ms)
{
    static const int64_t lengths[] = {16, 32, 64, 128};
    for (int d = 0; d < r->ndev; d++)
        for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
            const int64_t n = lengths[k];
            const double est = probe_ms[d] * ((double)n / (double)probe_n) * ((double)n / (double)probe_n);
            if (!isfinite(est) || est > budget_ms) break;
            const double ms[2] = {time_generation(r, d, n, 1), time_generation(r, d, n, 0)};
            if (isfinite(ms[0]) && isfinite(ms[1])) kv_point(r, r->dev[d].label, n, ms[0], ms[1]);
        }
}

static int run_transformer(tm_run *r)
{
    int failed = run_prefill(r);
    r->done_ms += r->quick ? 4000 : 30000;
    /* how long recomputation takes on each device, to leave out what would not finish in time */
    const int64_t probe_n = r->quick ? 8 : 32;
    double probe[TM_MAX_DEVICES];
    for (int d = 0; d < r->ndev; d++) {
        time_generation(r, d, 8, 1); /* builds the decode kernels */
        probe[d] = time_generation(r, d, probe_n, 0);
    }
    const int64_t lens[2] = {r->quick ? 32 : 256, r->quick ? 64 : 1024};
    /* the most an uncached entry may take in a task (the estimate from the probe is
     * pessimistic: it scales as n^2 from a short generation that launch overhead dominates) */
    const double budget[2] = {r->quick ? 3000 : 60000, r->quick ? 3000 : 150000};
    if (!r->quick) {
        progress_line(r, "Transformer Decathlon / KV-cache sweep", 0);
        kv_sweep(r, probe, probe_n, 5000);
    }
    for (int k = 0; k < 2; k++) {
        failed |= run_generate(r, lens[k], probe, probe_n, budget[k]);
        r->done_ms += r->quick ? 5000 : k ? 120000 : 40000;
    }
    return failed;
}

/* ------------------------------------------------------------------ the run */

static int parse_devices(tm_run *r, const char *list)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (r->ndev == TM_MAX_DEVICES) return -1;
        tm_device *d = &r->dev[r->ndev];
        memset(d, 0, sizeof *d);
        if (strcmp(tok, "openblas") == 0) {
            snprintf(d->spec, sizeof d->spec, "openblas");
            snprintf(d->label, sizeof d->label, "openblas");
            d->blas = 1;
        } else {
            int idx;
            if (tc_device_find(tok, &idx) != TC_OK) return -1;
            tc_device_info info;
            if (tc_device_get(idx, &info) != TC_OK) return -1;
            snprintf(d->spec, sizeof d->spec, "%d", idx);
            snprintf(d->label, sizeof d->label, "%.127s", idx ? info.name : "ref");
            d->index = idx;
            d->opencl = idx != 0;
        }
        for (int i = 0; i < r->ndev; i++)
            if (!strcmp(r->dev[i].spec, d->spec)) return -1;
        r->ndev++;
    }
    return r->ndev ? 0 : -1;
}

static int load_digits(tm_run *r, digits *dg, float **test, float **train, int32_t **labels)
{
    tc_ctx *ctx = NULL;
    tc_tensor *x = NULL, *y = NULL, *tx = NULL, *ty = NULL;
    char p1[4300], p2[4300];
    snprintf(p1, sizeof p1, "%s/digits_test.tcd", r->data);
    snprintf(p2, sizeof p2, "%s/digits_train.tcd", r->data);
    tc_status s = tc_ctx_create("ref", 0, &ctx);
    if (s == TC_OK) s = tc_dataset_load(ctx, p1, &x, &y);
    if (s == TC_OK) s = tc_dataset_load(ctx, p2, &tx, &ty);
    if (s == TC_OK) {
        dg->ntest = tc_tensor_dim(x, 0);
        dg->ntrain = tc_tensor_dim(tx, 0);
        dg->sample = (int64_t)(tc_tensor_bytes(x) / sizeof(float)) / dg->ntest;
        *test = malloc(tc_tensor_bytes(x));
        *train = malloc(tc_tensor_bytes(tx));
        *labels = malloc(tc_tensor_bytes(y));
        if (!*test || !*train || !*labels) s = TC_ERR_OUT_OF_MEMORY;
    }
    if (s == TC_OK) s = tc_tensor_read(x, *test, tc_tensor_bytes(x));
    if (s == TC_OK) s = tc_tensor_read(tx, *train, tc_tensor_bytes(tx));
    if (s == TC_OK) s = tc_tensor_read(y, *labels, tc_tensor_bytes(y));
    if (s != TC_OK) fprintf(stderr, "tinycl bench tinymlperf: the digits: %s\n", tc_last_error(ctx));
    dg->test = *test;
    dg->train = *train;
    dg->labels = *labels;
    tc_tensor *all[] = {x, y, tx, ty};
    for (int i = 0; i < 4; i++) tc_tensor_free(all[i]);
    tc_ctx_free(ctx);
    return s != TC_OK;
}

static int load_text(tm_run *r)
{
    char p[4300];
    snprintf(p, sizeof p, "%s/fortunes_heldout.txt", r->data);
    snprintf(g_xf.path, sizeof g_xf.path, "%s/fortunes_decoder.tcw", r->data);
    FILE *f = fopen(p, "rb");
    if (!f) return 1;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    g_xf.text = n > PREFILL_BATCH * PREFILL ? malloc((size_t)n) : NULL;
    const int ok = g_xf.text && fread(g_xf.text, 1, (size_t)n, f) == (size_t)n;
    fclose(f);
    if (!ok) return 1;
    g_xf.ntext = n;
    for (int i = 0; i < PREFILL_BATCH * PREFILL; i++) g_xf.ids[i] = g_xf.text[i];
    return 0;
}

static void measure_peaks(tm_run *r)
{
    for (int d = 0; d < r->ndev; d++) {
        if (!r->dev[d].opencl) continue;
        tm_peak *p = &r->peak[r->npeak];
        memset(p, 0, sizeof *p);
        snprintf(p->device, sizeof p->device, "%s", r->dev[d].label);
        tc_peak_result *res = malloc(sizeof *res);
        if (!res) return;
        const int runs = r->quick ? 2 : 5;
        for (int w = 4; w <= 16; w *= 2)
            if (tc_peak_measure(r->ctx[d], TC_PEAK_F32_FMA, w, runs, res) == TC_OK) p->gflops = fmax(p->gflops, res->value);
        if (tc_peak_measure(r->ctx[d], TC_PEAK_READ_BW, 0, runs, res) == TC_OK) p->gbps = res->value;
        free(res);
        if (p->gflops > 0 && p->gbps > 0) r->npeak++;
    }
}

static void finish_roofline(tm_run *r)
{
    for (int i = 0; i < r->nkern; i++) {
        tm_kernel_point *k = &r->kern[i];
        const double flops = k->gflops, bytes = k->gbps, ms = k->intensity;
        k->gflops = flops / (ms * 1e6);
        k->gbps = bytes / (ms * 1e6);
        k->intensity = flops / bytes;
    }
}

static int make_dir(const char *path)
{
    char buf[1200];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *c = buf + 1; *c; c++)
        if (*c == '/') {
            *c = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
            *c = '/';
        }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int cli_bench_tinymlperf(const cli_args *a)
{
    tm_run *r = calloc(1, sizeof *r);
    if (!r) return 1;
    r->a = a;
    r->quick = cli_get(a, "--quick") != NULL;
    const char *ev = cli_get(a, "--event") ? cli_get(a, "--event") : "all";
    r->events = !strcmp(ev, "mlp") ? EV_MLP : !strcmp(ev, "cnn") ? EV_CNN : !strcmp(ev, "transformer") ? EV_XFMR
                                                                                                    : EV_MLP | EV_CNN | EV_XFMR;
    /* devices: --device, else $TINYCL_DEVICE, else ref, openblas and every OpenCL device */
    const char *list = cli_get(a, "--device") ? cli_get(a, "--device") : getenv("TINYCL_DEVICE");
    char all[512] = "ref,openblas";
    if (!list || !*list) {
        for (int i = 1; i < tc_device_count() && strlen(all) < sizeof all - 8; i++)
            snprintf(all + strlen(all), sizeof all - strlen(all), ",%d", i);
        list = all;
    }
    if (parse_devices(r, list)) {
        free(r);
        return cli_misuse(a, "--device takes ref, openblas and OpenCL devices (cl:N, N, cpu, gpu or a name), each once, "
                             "not '%s'",
                          list);
    }
    static const char *const files[] = {"digits_test.tcd", "digits_train.tcd", "mlp_digits.tcw", "cnn_digits.tcw",
                                        "fortunes_decoder.tcw", "fortunes_heldout.txt"};
    if (cli_find_data(a, files, 6, r->data, sizeof r->data)) {
        free(r);
        return 2;
    }
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
    const char *out = cli_get(a, "--out") ? cli_get(a, "--out") : "results";
    char traces[1100];
    if (snprintf(r->dir, sizeof r->dir, "%s/%s", out, stamp) >= (int)sizeof r->dir ||
        snprintf(traces, sizeof traces, "%s/traces", r->dir) >= (int)sizeof traces || make_dir(traces)) {
        fprintf(stderr, "tinycl bench tinymlperf: cannot create %s: %s\n", traces, strerror(errno));
        free(r);
        return 1;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/profile.txt", r->dir);
    r->profile = fopen(path, "w");
    int failed = !r->profile;
    for (int d = 0; !failed && d < r->ndev; d++)
        if (tc_ctx_create(r->dev[d].spec, 0, &r->ctx[d]) != TC_OK) {
            fprintf(stderr, "tinycl bench tinymlperf: device %s: %s\n", r->dev[d].label, tc_last_error(NULL));
            failed = 1;
        }
    digits dg = {0};
    float *test = NULL, *train = NULL;
    int32_t *labels = NULL;
    if (!failed) failed = load_digits(r, &dg, &test, &train, &labels) || load_text(r);
    r->t0_ms = tc_now_ms();
    r->tasks_total = ((r->events & EV_MLP) ? 1 : 0) + ((r->events & EV_CNN) ? 2 : 0) + ((r->events & EV_XFMR) ? 3 : 0) +
                     ((r->events & (EV_MLP | EV_CNN)) ? 1 : 0);
    r->planned_ms = (r->events & EV_MLP ? (r->quick ? 4000 : 20000) : 0) +
                    (r->events & EV_CNN ? (r->quick ? 8000 : 60000) : 0) +
                    (r->events & EV_XFMR ? (r->quick ? 14000 : 190000) : 0) + (r->quick ? 2000 : 10000) +
                    (r->events & (EV_MLP | EV_CNN) ? (r->quick ? 2000 : 30000) : 0);
    if (!failed) {
        fprintf(stderr, "TinyMLPerf%s: %d devices, results in %s\n", r->quick ? " (quick)" : "", r->ndev, r->dir);
        progress_line(r, "device peaks", 0);
        measure_peaks(r);
        r->done_ms += r->quick ? 2000 : 10000;
        if (r->events & EV_MLP) {
            failed |= run_classifier(r, "mlp", "MLP Sprint", "mlp_digits", &dg);
            r->done_ms += r->quick ? 4000 : 20000;
        }
        if (r->events & EV_CNN) {
            failed |= run_classifier(r, "cnn", "CNN Marathon", "cnn_digits", &dg);
            r->done_ms += r->quick ? 4000 : 20000;
            failed |= run_layer(r);
            r->done_ms += r->quick ? 4000 : 40000;
        }
        if (r->events & (EV_MLP | EV_CNN)) {
            sparsity_sweep(r, &dg);
            r->done_ms += r->quick ? 2000 : 30000;
        }
        if (r->events & EV_XFMR) failed |= run_transformer(r);
        finish_roofline(r);
        const double el = (tc_now_ms() - r->t0_ms) / 1000.0;
        fprintf(stderr, "%sTinyMLPerf done in %d:%02d\n", isatty(fileno(stderr)) ? "\r\033[K" : "", (int)el / 60,
                (int)el % 60);
        tm_print_leaderboard(r, stdout, 0);
        failed |= tm_write_files(r);
        failed |= tm_plot(r);
    }
    if (r->profile) fclose(r->profile);
    for (int d = 0; d < r->ndev; d++) tc_ctx_free(r->ctx[d]);
    free(test), free(train), free(labels), free(g_xf.text), free(g_xf.ref_tokens);
    memset(&g_xf, 0, sizeof g_xf);
    free(r);
    return failed;
}
