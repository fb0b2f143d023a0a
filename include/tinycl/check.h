/* Numerical checks: every op x variant on a context's device against the plain-C
 * reference, on fresh seeded random inputs over awkward shapes, with guard
 * canaries around every output. Used by the tests, `tinycl check` and the benches. */
#ifndef TINYCL_CHECK_H
#define TINYCL_CHECK_H

#include <stdint.h>

#include "tinycl/context.h"
#include "tinycl/variant.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* Every case also runs on views this many elements into larger tensors. */
#define TC_CHECK_VIEW_OFFSET 5

typedef struct {
    const char *op;
    tc_variant variant;
    char shape[160];       /* the case's named keys: "m=3 n=17 k=5 beta=0.5" */
    int64_t view_offset;   /* 0, or TC_CHECK_VIEW_OFFSET: inputs and outputs were views at that element offset */
    uint64_t seed;
    tc_status status;  /* TC_OK when the run itself succeeded */
    int passed;        /* status OK, error within tolerance, no NaN, canaries intact */
    int skipped;       /* variant not available here (TC_ERR_UNSUPPORTED) */
    double err;        /* the op's metric (max relative error or NMSE) */
    double tol;
    char message[256]; /* why it failed */
} tc_check_result;

typedef void (*tc_check_fn)(const tc_check_result *r, void *user);

/* Number of ops with a descriptor, and their names. */
int tc_check_op_count(void);
const char *tc_check_op_name(int i);

/* Runs every case of every op whose name equals `op` (NULL: all ops) for
 * `variant` (TC_VARIANT_AUTO here means: every variant of the op). Calls `fn`
 * once per case; *failures counts failed cases. */
tc_status tc_check_run(tc_ctx *ctx, const char *op, tc_variant variant, uint64_t seed, tc_check_fn fn, void *user,
                       int *failures);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
