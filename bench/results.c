/* Result records and their formats. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/results.h"
#include "bench/meta.h"

res_record *res_add(res_set *s)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        res_record *r = realloc(s->r, (size_t)cap * sizeof *r);
        if (!r) return NULL;
        s->r = r;
        s->cap = cap;
    }
    res_record *r = &s->r[s->n++];
    memset(r, 0, sizeof *r);
    return r;
}

static res_field *field(res_record *r, const char *key, const char *head, res_kind kind)
{
    if (r->n == RES_MAX_FIELDS) return NULL;
    res_field *f = &r->f[r->n++];
    f->key = key;
    f->head = head;
    f->kind = kind;
    return f;
}

void res_str(res_record *r, const char *key, const char *head, const char *v)
{
    res_obj(r, key, head, v, NULL);
}

void res_obj(res_record *r, const char *key, const char *head, const char *text, const char *json)
{
    res_field *f = field(r, key, head, RES_STR);
    if (!f) return;
    snprintf(f->str, sizeof f->str, "%s", text);
    if (json) snprintf(f->json, sizeof f->json, "%s", json);
}

void res_num(res_record *r, const char *key, const char *head, const char *fmt, double v)
{
    res_field *f = field(r, key, head, fmt && strchr(fmt, 'd') ? RES_INT : RES_NUM);
    if (!f) return;
    f->fmt = fmt;
    f->num = v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A sorted copy of n > 0 times, or NULL when out of memory. */
static double *sorted(const double *ms, int n)
{
    double *t = malloc((size_t)n * sizeof *t);
    if (!t) return NULL;
    memcpy(t, ms, (size_t)n * sizeof *t);
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return t;
}

static double median_of_sorted(const double *t, int n) { return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]); }

double res_median(const double *ms, int n)
{
    double *t = sorted(ms, n);
    double m = t ? median_of_sorted(t, n) : ms[n / 2];
    free(t);
    return m;
}

void res_times(res_record *r, const double *ms, int n, int samples)
{
    double *t = n > 0 ? sorted(ms, n) : NULL;
    if (!t) return;
    res_num(r, "min_ms", "min ms", "%.3f", t[0]);
    res_num(r, "median_ms", "median ms", "%.3f", median_of_sorted(t, n));
    res_num(r, "p90_ms", "p90 ms", "%.3f", t[(int)ceil(0.9 * n) - 1]);
    res_num(r, "max_ms", "max ms", "%.3f", t[n - 1]);
    res_num(r, "runs", "runs", "%d", n);
    res_field *f = samples ? field(r, "samples", NULL, RES_ARRAY) : NULL;
    if (f) {
        memcpy(t, ms, (size_t)n * sizeof *t); /* in run order */
        f->arr = t;
        f->narr = n;
    } else {
        free(t);
    }
}

void res_free(res_set *s)
{
    for (int i = 0; i < s->n; i++)
        for (int j = 0; j < s->r[i].n; j++) free(s->r[i].f[j].arr);
    free(s->r);
    memset(s, 0, sizeof *s);
}

/* ---- formats ---- */

/* Two fields share a column: by key, or in the table and Markdown (by_head) by
 * their header ("GOP/s" of one record's gflops and another's gops). */
static int same_column(const res_field *a, const res_field *b, int by_head)
{
    return by_head ? strcmp(a->head, b->head) == 0 : strcmp(a->key, b->key) == 0;
}

static const res_field *get(const res_record *r, const res_field *col, int by_head)
{
    for (int i = 0; i < r->n; i++)
        if ((!by_head || r->f[i].head) && same_column(&r->f[i], col, by_head)) return &r->f[i];
    return NULL;
}

/* The columns of every record, a field new to a later record placed after the
 * column of the field before it in that record. */
static int columns(const res_set *s, int by_head, const res_field **cols, int cap)
{
    int n = 0;
    for (int i = 0; i < s->n; i++) {
        int after = -1; /* column of the previous field of this record */
        for (int j = 0; j < s->r[i].n; j++) {
            const res_field *f = &s->r[i].f[j];
            if (by_head && !f->head) continue;
            int k = 0;
            while (k < n && !same_column(cols[k], f, by_head)) k++;
            if (k == n && n < cap) {
                memmove(cols + after + 2, cols + after + 1, (size_t)(n - after - 1) * sizeof *cols);
                cols[k = after + 1] = f;
                n++;
            }
            after = k;
        }
    }
    return n;
}

static void text(const res_field *f, char *buf, size_t n)
{
    if (!f)
        snprintf(buf, n, "-");
    else if (f->kind == RES_STR)
        snprintf(buf, n, "%s", f->str);
    else if (f->kind == RES_INT)
        snprintf(buf, n, "%lld", (long long)f->num);
    else if (f->kind == RES_NUM)
        snprintf(buf, n, f->fmt ? f->fmt : "%g", f->num);
    else {
        size_t used = 0;
        buf[0] = '\0';
        for (int i = 0; i < f->narr && used < n; i++)
            used += (size_t)snprintf(buf + used, n - used, "%s%.6g", i ? " " : "", f->arr[i]);
    }
}

static void print_table(const res_set *s, FILE *out, int md)
{
    const res_field *cols[RES_MAX_FIELDS * 2];
    int nc = columns(s, 1, cols, RES_MAX_FIELDS * 2);
    if (nc == 0) return; /* no records */
    size_t w[RES_MAX_FIELDS * 2];
    char buf[256];
    for (int c = 0; c < nc; c++) {
        w[c] = strlen(cols[c]->head);
        for (int i = 0; i < s->n; i++) {
            text(get(&s->r[i], cols[c], 1), buf, sizeof buf);
            if (strlen(buf) > w[c]) w[c] = strlen(buf);
        }
    }
    /* text left-aligned, numbers right-aligned, headers as their column */
    const char *sep = md ? " | " : "  ";
    for (int i = -1; i < s->n; i++) {
        fprintf(out, "%s", md ? "| " : "");
        for (int c = 0; c < nc; c++) {
            /* text left-aligned (the last column of a plain table unpadded), numbers right-aligned */
            const int last = !md && c + 1 == nc;
            const int width = cols[c]->kind == RES_STR ? (last ? 0 : -(int)w[c]) : (int)w[c];
            if (i < 0)
                snprintf(buf, sizeof buf, "%s", cols[c]->head);
            else
                text(get(&s->r[i], cols[c], 1), buf, sizeof buf);
            fprintf(out, "%s%*s", c ? sep : "", width, buf);
        }
        fprintf(out, "%s\n", md ? " |" : "");
        for (int c = 0; md && i < 0 && c < nc; c++)
            fprintf(out, "%s%s%s", c ? "" : "|", cols[c]->kind == RES_STR ? ":--" : "--:", c + 1 < nc ? "|" : "|\n");
    }
}

static void csv_cell(FILE *out, const char *v)
{
    if (!strpbrk(v, ",\"\n")) {
        fputs(v, out);
        return;
    }
    fputc('"', out);
    for (const char *p = v; *p; p++) {
        if (*p == '"') fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

static void print_csv(const res_set *s, FILE *out)
{
    const res_field *cols[RES_MAX_FIELDS * 2];
    int nc = columns(s, 0, cols, RES_MAX_FIELDS * 2);
    char buf[8192];
    for (int c = 0; c < nc; c++) fprintf(out, "%s%s", c ? "," : "", cols[c]->key);
    fprintf(out, "\n");
    for (int i = 0; i < s->n; i++) {
        for (int c = 0; c < nc; c++) {
            const res_field *f = get(&s->r[i], cols[c], 0);
            if (c) fputc(',', out);
            if (!f) continue;
            if (f->kind == RES_NUM)
                snprintf(buf, sizeof buf, "%.6g", f->num);
            else
                text(f, buf, sizeof buf);
            csv_cell(out, buf);
        }
        fprintf(out, "\n");
    }
}

static void json_record(FILE *out, const res_record *r)
{
    fprintf(out, "{");
    for (int j = 0; j < r->n; j++) {
        const res_field *f = &r->f[j];
        fprintf(out, "%s\"%s\": ", j ? ", " : "", f->key);
        if (f->kind == RES_STR && f->json[0])
            fputs(f->json, out);
        else if (f->kind == RES_STR)
            meta_json_string(out, f->str);
        else if (f->kind == RES_INT)
            fprintf(out, "%lld", (long long)f->num);
        else if (f->kind == RES_NUM)
            isfinite(f->num) ? fprintf(out, "%.6g", f->num) : fprintf(out, "null");
        else {
            fprintf(out, "[");
            for (int i = 0; i < f->narr; i++) fprintf(out, "%s%.6f", i ? ", " : "", f->arr[i]);
            fprintf(out, "]");
        }
    }
    fprintf(out, "}");
}

static void print_json(const res_set *s, const cli_args *a, FILE *out, int lines)
{
    fprintf(out, lines ? "{\"meta\": " : "{\"meta\": ");
    meta_write(out, s, a);
    fprintf(out, lines ? "}\n" : ",\n \"records\": [");
    for (int i = 0; i < s->n; i++) {
        fprintf(out, "%s", lines ? "" : i ? ",\n  " : "\n  ");
        json_record(out, &s->r[i]);
        if (lines) fprintf(out, "\n");
    }
    if (!lines) fprintf(out, "\n ]");
    if (s->extra_json) fprintf(out, lines ? "{\"%s\": %s}\n" : ",\n \"%s\": %s", s->extra_key, s->extra_json);
    if (!lines) fprintf(out, "}\n");
}

static void print_format(const res_set *s, const cli_args *a, FILE *out, const char *format)
{
    if (strcmp(format, "md") == 0)
        print_table(s, out, 1);
    else if (strcmp(format, "csv") == 0)
        print_csv(s, out);
    else if (strcmp(format, "json") == 0 || strcmp(format, "jsonl") == 0)
        print_json(s, a, out, format[4] == 'l');
    else
        print_table(s, out, 0);
}

static int to_file(const res_set *s, const cli_args *a, const char *path, const char *format)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "tinycl %s: cannot write %s\n", a->cmd->name, path);
        return 1;
    }
    print_format(s, a, f, format);
    if (fclose(f) != 0) {
        fprintf(stderr, "tinycl %s: writing %s failed\n", a->cmd->name, path);
        return 1;
    }
    return 0;
}

int res_output(const res_set *s, const cli_args *a)
{
    const char *format = cli_get(a, "--format") ? cli_get(a, "--format") : "table";
    const char *out = s->out_is_not_results ? NULL : cli_get(a, "--out"), *json = cli_get(a, "--json");
    int failed = 0;
    if (out)
        failed |= to_file(s, a, out, format);
    else
        print_format(s, a, stdout, format);
    if (json) {
        failed |= to_file(s, a, json, "json");
        if (!failed) fprintf(stderr, "wrote %s\n", json);
    }
    return failed;
}
