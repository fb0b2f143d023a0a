/* Op descriptors (CLBlast's test traits in C): one per op, used alike by the tests,
 * `tinycl check` and the benchmarks, so that every op is checked and timed the
 * same way on every device. */
#ifndef TINYCL_OPDESC_H
#define TINYCL_OPDESC_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

#define TC_CASE_PARAMS 12
#define TC_OP_MAX_IN 6

/* One shape/parameter set; the meaning of v[] is the op's. */
typedef struct {
    int64_t v[TC_CASE_PARAMS];
} tc_case;

typedef enum {
    TC_METRIC_MAXREL, /* max |x - ref| / max |ref| */
    TC_METRIC_NMSE,   /* sum (x - ref)^2 / sum ref^2 */
    TC_METRIC_EXACT   /* integer outputs: number of differing elements */
} tc_metric;

/* Inputs and expected output of one case on one context. */
typedef struct {
    tc_case cs;
    int nin;
    tc_tensor *in[TC_OP_MAX_IN];  /* on the context under test */
    void *host_in[TC_OP_MAX_IN];  /* the same data on the host */
    tc_tensor *out;               /* guarded output on the context */
    void *out_init;               /* what out held before the op (random, never zeros) */
    void *expected;               /* reference result on the host */
    int wrap;                     /* tensors on application buffers (tc_tensor_wrap) at an offset */
    cl_mem out_user;              /* wrap: the buffer around out, canaries on both sides */
} tc_opdata;

typedef struct {
    const char *name;
    const tc_variant *variants; /* every variant the op has, ref included */
    int nvariants;
    const tc_case *cases;       /* the awkward shapes checked by tests and `tinycl check` */
    int ncases;
    /* "m=3 n=17 ..." and the JSON object {"m":3,...} */
    void (*describe)(const tc_case *cs, char *buf, size_t n);
    void (*describe_json)(const tc_case *cs, char *buf, size_t n);
    /* Parses a bench size spec ("1024x1024x1024") into a case; 0 on success. */
    int (*parse)(const char *spec, tc_case *cs);
    /* Makes random inputs from `seed`, the guarded output and the expected result. */
    tc_status (*setup)(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d);
    tc_status (*run)(tc_ctx *ctx, tc_opdata *d, tc_variant v);
    double (*flops)(const tc_case *cs);
    double (*bytes)(const tc_case *cs);
    tc_metric metric;
    double tol;
    const char *size_syntax; /* what parse accepts, for `tinycl ops` and errors */
} tc_opdesc;

/* registry */
int tc_opdesc_count(void);
const tc_opdesc *tc_opdesc_get(int i);
const tc_opdesc *tc_opdesc_find(const char *name);

/* tc_check_run with every input and output on an application buffer wrapped at an offset. */
tc_status tc_check_run_wrapped(tc_ctx *ctx, const char *op, tc_variant variant, uint64_t seed, tc_check_fn fn,
                               void *user, int *failures);

/* helpers for descriptors */
uint64_t tc_rng_next(uint64_t *state);
/* Uniform floats in [lo, hi). */
void tc_rand_f32(float *dst, size_t n, float lo, float hi, uint64_t *state);
/* Creates a tensor on ctx from host data; the host copy is kept in d->host_in[d->nin]. */
tc_status tc_opdata_input(tc_ctx *ctx, tc_opdata *d, tc_dtype dt, int ndim, const int64_t *dims, void *host);
/* Creates the guarded output filled with random data (kept in d->out_init). */
tc_status tc_opdata_output(tc_ctx *ctx, tc_opdata *d, tc_dtype dt, int ndim, const int64_t *dims, uint64_t *rng);
void tc_opdata_free(tc_opdata *d);

/* Compares d->out with d->expected: fills err, returns 1 when within tol and
 * NaN-free and both canaries are intact; writes a reason to msg otherwise. */
int tc_opdata_compare(const tc_opdesc *op, tc_opdata *d, double *err, char *msg, size_t n);
/* Restores d->out to d->out_init (before re-running an op that reads its output). */
tc_status tc_opdata_reset_out(tc_opdata *d);

#endif
