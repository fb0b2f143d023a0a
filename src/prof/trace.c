/* Chrome trace-event JSON (the format Perfetto and chrome://tracing open): one
 * process, a host track with ops and user scopes as complete ("X") slices and a
 * device track with every logged launch at its device start and end, mapped onto
 * the host clock by the pair taken when the context was created. Times are in
 * microseconds since then. */
#include "prof/prof.h"

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* One complete slice; `sep` is written first. */
static void slice(FILE *f, const char *sep, const char *name, const char *cat, int tid, double ts_us, double dur_us)
{
    fprintf(f,
            "%s{\"ph\": \"X\", \"pid\": 1, \"tid\": %d, \"cat\": \"%s\", \"ts\": %.3f, \"dur\": %.3f, \"name\": ", sep,
            tid, cat, ts_us, dur_us < 0 ? 0.0 : dur_us);
    json_str(f, name);
}

tc_status tc_prof_write_trace(tc_ctx *ctx, FILE *out)
{
    if (!ctx || !out) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_prof_write_trace: NULL argument");
    const struct tc_prof *p = ctx->prof;
    if (!p) return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_prof_write_trace: context created without TC_CTX_PROFILE");
    tc_status st = tc_prof_resolve(ctx);
    if (st != TC_OK) return st;
    fprintf(out, "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n");
    fprintf(out, "{\"ph\": \"M\", \"pid\": 1, \"name\": \"process_name\", \"args\": {\"name\": ");
    json_str(out, ctx->info.name);
    fprintf(out, "}},\n{\"ph\": \"M\", \"pid\": 1, \"tid\": 1, \"name\": \"thread_name\", \"args\": {\"name\": "
                 "\"host: ops and scopes\"}}");
    if (!ctx->is_ref)
        fprintf(out, ",\n{\"ph\": \"M\", \"pid\": 1, \"tid\": 2, \"name\": \"thread_name\", \"args\": {\"name\": "
                     "\"device: kernel launches\"}}");
    for (size_t i = 0; i < p->nslices; i++) {
        const tc_prof_slice *s = &p->slices[i];
        if (s->t1 < 0) continue; /* still open, or failed */
        const tc_prof_row *r = &p->rows[s->row];
        const int scope = r->variant == TC_PROF_SCOPE;
        slice(out, ",\n", p->names[r->name], scope ? "scope" : "op", 1, (s->t0 - p->host0_ms) * 1e3,
              (s->t1 - s->t0) * 1e3);
        if (!scope) fprintf(out, ", \"args\": {\"variant\": \"%s\"}", r->s.variant);
        fprintf(out, "}");
    }
    for (size_t i = 0; i < p->nrecs; i++) {
        const tc_prof_rec *r = &p->recs[i];
        const double t0 = tc_prof_dev_to_host(p, r->start) - p->host0_ms;
        slice(out, ",\n", p->names[r->name], "launch", 2, t0 * 1e3, (double)(r->end - r->start) * 1e-3);
        fprintf(out, ", \"args\": {\"queued_us\": %.3f, \"op\": ",
                r->start > r->queued ? (double)(r->start - r->queued) * 1e-3 : 0.0);
        json_str(out, r->slice == SIZE_MAX ? "" : p->names[p->rows[p->slices[r->slice].row].name]);
        fprintf(out, "}}");
    }
    fprintf(out, "\n], \"otherData\": {\"device\": ");
    json_str(out, ctx->info.name);
    fprintf(out,
            ", \"launches\": %llu, \"launches_logged\": %zu, \"calls\": %llu, \"calls_logged\": %zu, "
            "\"max_log\": %zu, \"capped\": %s}}\n",
            (unsigned long long)p->launches_total, p->nrecs, (unsigned long long)p->slices_total, p->nslices,
            p->max_log, p->launches_total > p->nrecs || p->slices_total > p->nslices ? "true" : "false");
    return ferror(out) ? tc_fail(ctx, TC_ERR_IO, "tc_prof_write_trace: write failed") : TC_OK;
}
