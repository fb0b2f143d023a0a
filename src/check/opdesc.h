/* Op descriptors (CLBlast's test traits in C): one per op, used alike by the tests,
 * `tinycl check` and the benchmarks, so that every op is checked and timed the
 * same way on every device. The list of ops lives in check/oplist.h. */
#ifndef TINYCL_OPDESC_H
#define TINYCL_OPDESC_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

#define TC_CASE_KEYS 20
#define TC_OP_MAX_IN 8
#define TC_OP_MAX_OUT 4
#define TC_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* One named parameter of a case: a number, or a string when str is set. */
typedef struct {
    const char *key;
    double num;
    const char *str;
} tc_case_kv;

/* One shape/parameter set, e.g. TC_CASE({"m", 3}, {"n", 17}, {"beta", 0.5}); keys end
 * at the first NULL key. Names are the op's (docs: `tinycl ops`). */
typedef struct {
    tc_case_kv kv[TC_CASE_KEYS];
} tc_case;
#define TC_CASE(...) {.kv = {__VA_ARGS__}}

/* Value of `key` (0 / NULL when absent). */
double tc_case_num(const tc_case *c, const char *key);
int64_t tc_case_int(const tc_case *c, const char *key);
const char *tc_case_str(const tc_case *c, const char *key);
/* Sets or adds `key` (key and str must outlive the case); -1 when the case is full. */
int tc_case_set(tc_case *c, const char *key, double num);
int tc_case_set_str(tc_case *c, const char *key, const char *str);
/* "m=3 n=17 beta=0.5" and the JSON object {"m":3,"n":17,"beta":0.5}. */
void tc_case_describe(const tc_case *c, char *buf, size_t n);
void tc_case_json(const tc_case *c, char *buf, size_t n);

typedef enum {
    TC_METRIC_DEFAULT = 0, /* an output's metric: the descriptor's */
    TC_METRIC_MAXREL,      /* f32: max |x - ref| / max |ref| */
    TC_METRIC_NMSE,        /* f32: sum (x - ref)^2 / sum ref^2 */
    TC_METRIC_EXACT,       /* integers: number of differing elements, must be 0 */
    TC_METRIC_LSB          /* integers: largest |x - ref| in units of the last place, <= tol */
} tc_metric;

/* One output of a case: what the op writes, inside guarded storage. */
typedef struct {
    tc_tensor *t;     /* the output the op writes (a view at d->view_off when set) */
    tc_tensor *base;  /* the guarded storage holding it */
    void *init;       /* base's contents before the op (random, never zeros) */
    void *expected;   /* the expected contents of t */
    tc_metric metric; /* DEFAULT: the descriptor's */
    double tol;       /* used when metric is not DEFAULT */
} tc_opout;

/* Inputs and expected outputs of one case on one context. */
typedef struct {
    tc_case cs;
    int64_t view_off;             /* > 0: every input and output is a view this many elements into a larger tensor */
    int nin;
    tc_tensor *in[TC_OP_MAX_IN];  /* on the context under test */
    void *host_in[TC_OP_MAX_IN];  /* the same data on the host */
    int nout;
    tc_opout out[TC_OP_MAX_OUT];
    /* what a run prepares once and reuses in later runs of the same variant (a
     * plan), released by prep_free with the data */
    void *prep;
    tc_variant prep_variant;
    void (*prep_free)(void *prep);
    /* wrap mode: every input and output lives in an application buffer wrapped by
     * tc_tensor_wrap at an element offset; wrap_out[i] holds output i's buffer,
     * with canaries on both sides */
    int wrap;
    cl_mem wrap_out[TC_OP_MAX_OUT];
} tc_opdata;

typedef struct {
    const char *name;
    const tc_variant *variants; /* every variant the op has, ref included */
    int nvariants;
    const tc_case *cases;       /* the awkward shapes checked by tests and `tinycl check` */
    int ncases;
    const char *syntax;         /* bench size syntax, e.g. "MxNxK[:ta][:tb]" */
    /* Parses a bench size spec ("1024x1024x1024") into a case; 0 on success. */
    int (*parse)(const char *spec, tc_case *cs);
    /* Makes random inputs from `seed`, the guarded outputs and the expected results;
     * inputs and outputs go through tc_opdata_input / tc_opdata_output. */
    tc_status (*setup)(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d);
    tc_status (*run)(tc_ctx *ctx, tc_opdata *d, tc_variant v);
    double (*flops)(const tc_case *cs);
    double (*bytes)(const tc_case *cs);
    tc_metric metric;           /* default metric and tolerance of every output */
    double tol;
} tc_opdesc;

/* tc_check_run in wrap mode (tc_opdata.wrap); not on `ref`. */
tc_status tc_check_run_wrapped(tc_ctx *ctx, const char *op, tc_variant variant, uint64_t seed, tc_check_fn fn,
                               void *user, int *failures);

/* registry (check/oplist.h) */
int tc_opdesc_count(void);
const tc_opdesc *tc_opdesc_get(int i);
const tc_opdesc *tc_opdesc_find(const char *name);

/* helpers for descriptors */
uint64_t tc_rng_next(uint64_t *state);
/* Uniform floats in [lo, hi). */
void tc_rand_f32(float *dst, size_t n, float lo, float hi, uint64_t *state);
/* Adds an input made from host data (kept in d->host_in[] and freed with d); in
 * view mode the tensor is a view into a larger one whose other elements are NaN
 * (f32) or random bytes. On failure `host` is freed too. */
tc_status tc_opdata_input(tc_ctx *ctx, tc_opdata *d, tc_dtype dt, int ndim, const int64_t *dims, void *host);
/* Adds a guarded output filled with random data; its expected contents start as
 * that data (ops that read their output, such as beta != 0, see it). */
tc_status tc_opdata_output(tc_ctx *ctx, tc_opdata *d, tc_dtype dt, int ndim, const int64_t *dims, uint64_t *rng);
void tc_opdata_free(tc_opdata *d);

/* Compares every output with its expected contents: fills err (the worst output's
 * metric), returns 1 when every output is within tolerance and NaN-free, nothing
 * outside the outputs changed and every canary is intact; writes a reason to msg
 * otherwise. */
int tc_opdata_compare(const tc_opdesc *op, tc_opdata *d, double *err, char *msg, size_t n);
/* Restores every output to its initial contents (before re-running an op). */
tc_status tc_opdata_reset_out(tc_opdata *d);

#endif
