/* Result records of `tinycl bench` and `tinycl peak` and their output: a table,
 * Markdown, CSV, JSON or JSON lines on stdout (--format, --out), and a JSON file
 * (--json). JSON carries a `meta` object: schema version, tinycl version and
 * commit, date, host, devices with their drivers, settings. */
#ifndef TINYCL_RESULTS_H
#define TINYCL_RESULTS_H

#include <stdint.h>

#include "bench/cli.h"

#define RES_SCHEMA_VERSION 1
#define RES_MAX_FIELDS 24

typedef enum { RES_STR, RES_NUM, RES_INT, RES_ARRAY } res_kind;

typedef struct {
    const char *key;  /* JSON and CSV name */
    const char *head; /* table and Markdown column, or NULL for JSON and CSV only */
    const char *fmt;  /* printf format of a number in the table and Markdown */
    res_kind kind;
    double num;
    char str[256];
    char json[256];   /* RES_STR: JSON text written instead of the quoted string, when set */
    double *arr;      /* RES_ARRAY, owned */
    int narr;
} res_field;

typedef struct {
    res_field f[RES_MAX_FIELDS];
    int n;
} res_record;

typedef struct {
    res_record *r;
    int n, cap;
    /* settings for the meta object; has_* say which apply */
    int reps, has_budget, has_seed;
    double budget_ms;
    uint64_t seed;
    /* JSON beside "records" (a summary, such as sparse's breakevens), or NULL */
    const char *extra_key;
    char *extra_json;
    /* 1: the command's --out is not a results file (compress: the model written) */
    int out_is_not_results;
} res_set;

/* A new empty record, or NULL when out of memory. */
res_record *res_add(res_set *s);
void res_str(res_record *r, const char *key, const char *head, const char *v);
/* A string in text formats, raw JSON (an object) in JSON. */
void res_obj(res_record *r, const char *key, const char *head, const char *text, const char *json);
void res_num(res_record *r, const char *key, const char *head, const char *fmt, double v);
/* min_ms, median_ms, p90_ms, max_ms and runs of n run times; the times as `samples` when asked. */
void res_times(res_record *r, const double *ms, int n, int samples);
/* The median of n > 0 times. */
double res_median(const double *ms, int n);
void res_free(res_set *s);

/* Prints per --format to stdout or --out, writes --json; 0, or 1 when a file could not be written. */
int res_output(const res_set *s, const cli_args *a);

#endif
