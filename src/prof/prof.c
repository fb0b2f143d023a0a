/* Profiling: scopes (op calls and user scopes), launch events read lazily,
 * statistics per (op, variant), the launch log and the report. See prof.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prof/prof.h"

#define PENDING_HARVEST 1024 /* pending events that trigger a harvest of the completed ones */

double tc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Room for element n of a growable array *pp with *cap elements; 0 when out of memory. */
static int reserve(void *pp, size_t *cap, size_t n, size_t elem)
{
    void **p = pp;
    if (n < *cap) return 1;
    size_t c = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, c * elem);
    if (!q) return 0;
    *p = q;
    *cap = c;
    return 1;
}

/* Interned name id, or -1 when out of memory. Names are mostly string literals, so
 * a cache keyed by the pointer (checked with strcmp) usually finds them at once. */
static int intern(struct tc_prof *p, const char *s)
{
    const size_t slot = ((uintptr_t)s >> 3) % TC_PROF_NAME_CACHE;
    if (p->cache_ptr[slot] == s && strcmp(p->names[p->cache_id[slot]], s) == 0) return p->cache_id[slot];
    int id = 0;
    while (id < p->nnames && strcmp(p->names[id], s) != 0)
        id++;
    if (id == p->nnames) {
        char *c = strdup(s);
        if (!c || !reserve(&p->names, &p->cap_names, (size_t)p->nnames, sizeof *p->names)) {
            free(c);
            return -1;
        }
        p->names[p->nnames++] = c;
    }
    p->cache_ptr[slot] = s;
    p->cache_id[slot] = id;
    return id;
}

static int row_of(struct tc_prof *p, int name, int variant)
{
    for (int i = 0; i < p->nrows; i++)
        if (p->rows[i].name == name && p->rows[i].variant == variant) return i;
    if (!reserve(&p->rows, &p->cap_rows, (size_t)p->nrows, sizeof *p->rows)) return -1;
    tc_prof_row *r = &p->rows[p->nrows];
    memset(r, 0, sizeof *r);
    snprintf(r->s.op, sizeof r->s.op, "%s", p->names[name]);
    snprintf(r->s.variant, sizeof r->s.variant, "%s",
             variant == TC_PROF_SCOPE ? "scope" : tc_variant_name((tc_variant)variant));
    r->name = name;
    r->variant = variant;
    return p->nrows++;
}

static int node_of(struct tc_prof *p, int parent, int row)
{
    for (int i = 0; i < p->nnodes; i++)
        if (p->nodes[i].parent == parent && p->nodes[i].row == row) return i;
    if (!reserve(&p->nodes, &p->cap_nodes, (size_t)p->nnodes, sizeof *p->nodes)) return -1;
    p->nodes[p->nnodes] = (tc_prof_node){parent, row, p->rows[row].variant != TC_PROF_SCOPE};
    return p->nnodes++;
}

/* Credits ms and launches to the innermost op on the path and to every user scope on it. */
static void credit(struct tc_prof *p, int node, double ms, uint64_t launches)
{
    int op_done = 0;
    for (; node >= 0; node = p->nodes[node].parent) {
        const tc_prof_node *n = &p->nodes[node];
        if (n->is_op && op_done) continue;
        op_done |= n->is_op;
        p->rows[n->row].s.device_ms += ms;
        p->rows[n->row].s.launches += launches;
    }
}

tc_status tc_prof_init(tc_ctx *ctx)
{
    struct tc_prof *p = calloc(1, sizeof *p);
    if (!p) return tc_fail(NULL, TC_ERR_OUT_OF_MEMORY, "tc_ctx_create: out of host memory");
    p->max_log = (size_t)1 << 20;
    p->harvest_at = PENDING_HARVEST;
    const char *cap = getenv("TINYCL_PROF_MAX_LAUNCHES");
    if (cap && *cap) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cap, &end, 10);
        if (*end || errno || cap[0] == '-' || v > SIZE_MAX / 64) {
            free(p);
            return tc_fail(NULL, TC_ERR_INVALID_ARG,
                           "TINYCL_PROF_MAX_LAUNCHES='%s' is not a number of launches (0 or more)", cap);
        }
        p->max_log = (size_t)v;
    }
    /* one host/device clock pair: a marker's queued time lies between two host reads */
    p->host0_ms = tc_now_ms();
    if (!ctx->is_ref) {
        cl_event ev;
        const double t0 = tc_now_ms();
        cl_int err = clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &ev);
        const double t1 = tc_now_ms();
        if (err == CL_SUCCESS) {
            err = clWaitForEvents(1, &ev);
            if (err == CL_SUCCESS)
                err = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_QUEUED, sizeof p->dev0_ns, &p->dev0_ns, NULL);
            clReleaseEvent(ev);
        }
        if (err != CL_SUCCESS) {
            free(p);
            return tc_fail(NULL, TC_ERR_OPENCL, "tc_ctx_create: profiling marker failed: %s", tc_cl_error_name(err));
        }
        p->host0_ms = 0.5 * (t0 + t1);
    }
    ctx->prof = p;
    return TC_OK;
}

static void drop_pending(struct tc_prof *p)
{
    for (size_t i = 0; i < p->npend; i++)
        clReleaseEvent(p->pend[i].ev);
    p->npend = 0;
}

void tc_prof_free(tc_ctx *ctx)
{
    struct tc_prof *p = ctx->prof;
    if (!p) return;
    drop_pending(p);
    for (int i = 0; i < p->nnames; i++)
        free(p->names[i]);
    free(p->names);
    free(p->rows);
    free(p->nodes);
    free(p->stack);
    free(p->slices);
    free(p->recs);
    free(p->pend);
    free(p);
    ctx->prof = NULL;
}

double tc_prof_dev_to_host(const struct tc_prof *p, cl_ulong ns)
{
    return p->host0_ms + ((double)ns - (double)p->dev0_ns) * 1e-6;
}

/* Reads a completed event's times into its statistics and log record; releases it. */
static void settle(struct tc_prof *p, const tc_prof_pending *e)
{
    cl_ulong q = 0, s = 0, t = 0;
    if (clGetEventProfilingInfo(e->ev, CL_PROFILING_COMMAND_QUEUED, sizeof q, &q, NULL) != CL_SUCCESS ||
        clGetEventProfilingInfo(e->ev, CL_PROFILING_COMMAND_START, sizeof s, &s, NULL) != CL_SUCCESS ||
        clGetEventProfilingInfo(e->ev, CL_PROFILING_COMMAND_END, sizeof t, &t, NULL) != CL_SUCCESS)
        q = s = t = 0;
    if (t < s) t = s;
    clReleaseEvent(e->ev);
    credit(p, e->node, (double)(t - s) * 1e-6, 1);
    if (e->rec != SIZE_MAX) {
        tc_prof_rec *r = &p->recs[e->rec];
        r->queued = q, r->start = s, r->end = t;
    }
}

static int complete(cl_event ev)
{
    cl_int status = CL_QUEUED;
    clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    return status <= CL_COMPLETE;
}

/* Settles pending events in order: all of them when `wait`, else those already
 * complete. The queue is in order, so one wait for the last event suffices and
 * the completed ones are a prefix, found by bisection. */
static tc_status harvest(tc_ctx *ctx, int wait)
{
    struct tc_prof *p = ctx->prof;
    if (!p || !p->npend) return TC_OK;
    cl_int err;
    if (wait && (err = clWaitForEvents(1, &p->pend[p->npend - 1].ev)) != CL_SUCCESS) {
        drop_pending(p);
        return tc_fail_cl(ctx, err, "clWaitForEvents (profiling)");
    }
    size_t done = p->npend;
    if (!wait) {
        size_t lo = 0; /* [0, lo) complete, [done, npend) not */
        while (lo < done) {
            const size_t mid = lo + (done - lo) / 2;
            if (complete(p->pend[mid].ev))
                lo = mid + 1;
            else
                done = mid;
        }
    }
    for (size_t i = 0; i < done; i++)
        settle(p, &p->pend[i]);
    memmove(p->pend, p->pend + done, (p->npend - done) * sizeof *p->pend);
    p->npend -= done;
    p->harvest_at = p->npend * 2 > PENDING_HARVEST ? p->npend * 2 : PENDING_HARVEST;
    return TC_OK;
}

tc_status tc_prof_resolve(tc_ctx *ctx)
{
    return harvest(ctx, 1);
}

static int innermost_node(const struct tc_prof *p)
{
    return p->depth ? p->stack[p->depth - 1].node : -1;
}

tc_status tc_prof_add_event(tc_ctx *ctx, cl_event ev, const char *name)
{
    struct tc_prof *p = ctx->prof;
    tc_prof_pending e = {ev, innermost_node(p), SIZE_MAX};
    p->launches_total++;
    if (p->nrecs < p->max_log) {
        int id = intern(p, name);
        if (id >= 0 && reserve(&p->recs, &p->cap_recs, p->nrecs, sizeof *p->recs)) {
            e.rec = p->nrecs++;
            p->recs[e.rec] = (tc_prof_rec){id, p->depth ? p->stack[p->depth - 1].slice : SIZE_MAX, 0, 0, 0};
        } else {
            p->lost++;
        }
    }
    if (!reserve(&p->pend, &p->cap_pend, p->npend, sizeof *p->pend)) { /* no room: read it now */
        cl_int err = clWaitForEvents(1, &ev);
        if (err != CL_SUCCESS) {
            clReleaseEvent(ev);
            return tc_fail_cl(ctx, err, "clWaitForEvents (profiling)");
        }
        settle(p, &e);
        return TC_OK;
    }
    p->pend[p->npend++] = e;
    return p->npend >= p->harvest_at ? harvest(ctx, 0) : TC_OK;
}

/* Opens a scope for (name, variant); 0 when out of host memory. */
static int push(struct tc_prof *p, const char *name, int variant, double flops, double bytes)
{
    const int id = intern(p, name), row = id < 0 ? -1 : row_of(p, id, variant);
    const int node = row < 0 ? -1 : node_of(p, innermost_node(p), row);
    if (node < 0 || !reserve(&p->stack, &p->cap_stack, (size_t)p->depth, sizeof *p->stack)) {
        p->lost++;
        return 0;
    }
    const double t0 = tc_now_ms();
    size_t slice = SIZE_MAX;
    p->slices_total++;
    if (p->nslices < p->max_log && reserve(&p->slices, &p->cap_slices, p->nslices, sizeof *p->slices)) {
        slice = p->nslices++;
        p->slices[slice] = (tc_prof_slice){row, p->depth, t0, -1.0};
    }
    p->stack[p->depth++] = (tc_prof_frame){id, variant, row, node, slice, t0, 0.0, flops, bytes};
    return 1;
}

/* Closes the innermost scope, counting the call (and keeping its slice) when ok;
 * *f is its frame; returns its host ms. */
static double pop(struct tc_prof *p, int ok, tc_prof_frame *f)
{
    *f = p->stack[--p->depth];
    const double t1 = tc_now_ms(), ms = t1 - f->t0;
    tc_prof_stat *s = &p->rows[f->row].s;
    if (ok) {
        if (f->slice != SIZE_MAX) p->slices[f->slice].t1 = t1;
        s->calls++;
        s->host_ms += ms;
        s->flops += f->flops;
        s->bytes += f->bytes;
    }
    if (p->depth && p->nodes[p->stack[p->depth - 1].node].is_op) p->stack[p->depth - 1].child_ms += ms;
    return ms;
}

void tc_op_begin(tc_ctx *ctx, const char *op, tc_variant v, double flops, double bytes)
{
    struct tc_prof *p = ctx->prof;
    /* once a scope could not be opened, those inside it are not opened either, so ends pair up */
    if (p && (p->unopened || !push(p, op, (int)v, flops, bytes))) p->unopened++;
}

tc_status tc_op_end(tc_ctx *ctx, tc_status st)
{
    struct tc_prof *p = ctx->prof;
    if (!p) return st;
    if (p->unopened) {
        p->unopened--;
        return st;
    }
    tc_prof_frame f;
    const double ms = pop(p, st == TC_OK, &f);
    /* host code is its own device time: ref contexts and ref variants */
    if (st == TC_OK && (ctx->is_ref || p->rows[f.row].variant == TC_VARIANT_REF)) credit(p, f.node, ms - f.child_ms, 0);
    return st;
}

tc_status tc_prof_scope_begin(tc_ctx *ctx, const char *name)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_prof_scope_begin: ctx is NULL");
    if (!name || !*name) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_prof_scope_begin: name is NULL or empty");
    if (ctx->prof && !push(ctx->prof, name, TC_PROF_SCOPE, 0.0, 0.0))
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "tc_prof_scope_begin: out of host memory");
    ctx->user_scopes++;
    return TC_OK;
}

tc_status tc_prof_scope_end(tc_ctx *ctx)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_prof_scope_end: ctx is NULL");
    if (ctx->user_scopes == 0)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_prof_scope_end: no user scope is open (see tc_prof_scope_begin)");
    ctx->user_scopes--;
    tc_prof_frame f;
    if (ctx->prof) pop(ctx->prof, 1, &f);
    return TC_OK;
}

int tc_prof_count(const tc_ctx *ctx)
{
    return ctx && ctx->prof ? ctx->prof->nrows : 0;
}

tc_status tc_prof_get(tc_ctx *ctx, int i, tc_prof_stat *out)
{
    if (!ctx || !out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_prof_get: NULL argument");
    if (i < 0 || i >= tc_prof_count(ctx))
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_prof_get: index %d of %d rows", i, tc_prof_count(ctx));
    tc_status st = tc_prof_resolve(ctx);
    if (st == TC_OK) *out = ctx->prof->rows[i].s;
    return st;
}

tc_status tc_prof_info_get(tc_ctx *ctx, tc_prof_info *out)
{
    if (!ctx || !out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_prof_info_get: NULL argument");
    const struct tc_prof *p = ctx->prof;
    memset(out, 0, sizeof *out);
    out->open_scopes = ctx->user_scopes;
    if (p)
        *out = (tc_prof_info){p->launches_total, p->nrecs, p->slices_total, p->nslices, p->max_log, ctx->user_scopes};
    return TC_OK;
}

tc_status tc_prof_get_launch(tc_ctx *ctx, uint64_t i, tc_prof_launch *out)
{
    if (!ctx || !out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_prof_get_launch: NULL argument");
    struct tc_prof *p = ctx->prof;
    const size_t n = p ? p->nrecs : 0;
    if (i >= n)
        return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_prof_get_launch: index %llu of %zu logged launches%s",
                       (unsigned long long)i, n, p ? "" : " (context created without TC_CTX_PROFILE)");
    tc_status st = tc_prof_resolve(ctx);
    if (st != TC_OK) return st;
    const tc_prof_rec *r = &p->recs[i];
    memset(out, 0, sizeof *out);
    snprintf(out->kernel, sizeof out->kernel, "%s", p->names[r->name]);
    if (r->slice != SIZE_MAX) snprintf(out->op, sizeof out->op, "%s", p->rows[p->slices[r->slice].row].s.op);
    out->start_ms = tc_prof_dev_to_host(p, r->start) - p->host0_ms;
    out->device_ms = (double)(r->end - r->start) * 1e-6;
    out->queued_ms = r->start > r->queued ? (double)(r->start - r->queued) * 1e-6 : 0.0;
    return TC_OK;
}

/* Statistics rows and paths start anew, except those of the scopes still open
 * (their rows come back at the same or lower indices, within the arrays' room). */
void tc_prof_reset(tc_ctx *ctx)
{
    struct tc_prof *p = ctx ? ctx->prof : NULL;
    if (!p) return;
    drop_pending(p);
    p->nrows = p->nnodes = 0;
    for (int i = 0; i < p->depth; i++) {
        tc_prof_frame *f = &p->stack[i];
        f->row = row_of(p, f->name, f->variant);
        f->node = node_of(p, i ? p->stack[i - 1].node : -1, f->row);
        f->slice = SIZE_MAX;
    }
    p->nslices = p->nrecs = 0;
    p->launches_total = p->slices_total = p->lost = 0;
}

tc_status tc_prof_report(tc_ctx *ctx, FILE *out)
{
    if (!ctx || !out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_prof_report: NULL argument");
    tc_status st = tc_prof_resolve(ctx);
    if (st != TC_OK) return st;
    const struct tc_prof *p = ctx->prof;
    fprintf(out, "profile on %s\n", ctx->info.name);
    if (!p) {
        fprintf(out, "(context created without TC_CTX_PROFILE)\n");
        return TC_OK;
    }
    for (int scopes = 0; scopes < 2; scopes++) { /* ops, then user scopes */
        int header = 0;
        for (int i = 0; i < p->nrows; i++) {
            const tc_prof_stat *s = &p->rows[i].s;
            if ((p->rows[i].variant == TC_PROF_SCOPE) != scopes || (!s->calls && !s->launches)) continue;
            if (!header++)
                fprintf(out, "%-16s %-8s %8s %9s %12s %12s%s\n", scopes ? "user scope" : "op", scopes ? "" : "variant",
                        "calls", "launches", "device ms", "host ms", scopes ? "" : "    GFLOP/s      GB/s");
            fprintf(out, "%-16s %-8s %8llu %9llu %12.3f %12.3f", s->op, scopes ? "" : s->variant,
                    (unsigned long long)s->calls, (unsigned long long)s->launches, s->device_ms, s->host_ms);
            const double t = s->device_ms > 0 ? s->device_ms : s->host_ms;
            if (!scopes)
                fprintf(out, " %10.2f %9.2f", t > 0 ? s->flops / t * 1e-6 : 0.0, t > 0 ? s->bytes / t * 1e-6 : 0.0);
            fprintf(out, "\n");
        }
    }
    fprintf(out, "memory: current %.2f MiB, peak %.2f MiB\n", (double)ctx->mem_current / 1048576.0,
            (double)ctx->mem_peak / 1048576.0);
    if (p->launches_total > p->nrecs || p->slices_total > p->nslices)
        fprintf(out,
                "log capped at %zu (TINYCL_PROF_MAX_LAUNCHES): %llu of %llu launches and %llu of %llu calls not "
                "logged; the statistics above are complete\n",
                p->max_log, (unsigned long long)(p->launches_total - p->nrecs), (unsigned long long)p->launches_total,
                (unsigned long long)(p->slices_total - p->nslices), (unsigned long long)p->slices_total);
    if (p->lost) fprintf(out, "host memory ran out: %llu records lost\n", (unsigned long long)p->lost);
    return TC_OK;
}
