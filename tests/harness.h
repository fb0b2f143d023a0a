/* Test harness: the device under test comes from TINYCL_DEVICE (ctest sets it);
 * the seed from TINYCL_SEED, else fresh per run, always printed. */
#ifndef TINYCL_TEST_HARNESS_H
#define TINYCL_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/internal.h"

/* Context on the device under test (fails the test when it cannot be created). */
tc_ctx *th_ctx(void);
uint64_t th_seed(void);
/* Runs every case of every variant of `op` on the device under test against ref;
 * on "openblas" the op's openblas variant (if it has one) must pass every case. */
void th_check_op(const char *op);
/* Asserts that `st` is `want` and that ctx's message is non-empty and contains `needle`. */
void th_expect(tc_ctx *ctx, tc_status st, tc_status want, const char *needle);
/* Asserts that, while environment variable `name` is `value`, creating a context
 * on the device under test fails with TC_ERR_INVALID_ARG and a message containing
 * `needle`; unsets the variable after. */
void th_expect_env_rejected(const char *name, const char *value, unsigned flags, const char *needle);
/* What fn(ctx, f) writes (the test fails unless it returns TC_OK), as a string to free. */
char *th_printed(tc_ctx *ctx, tc_status (*fn)(tc_ctx *ctx, FILE *f));
/* f32 tensor of dims filled with values from the seed; host copy in *host if given. */
tc_tensor *th_tensor(tc_ctx *ctx, int ndim, const int64_t *dims, float **host);
/* Bytes of ctx's live tensors: its memory counter less the scratch buffers that
 * ops keep until the context is freed. */
size_t th_tensor_mem(const tc_ctx *ctx);
/* 1 when t still holds exactly `host` (numel floats). */
int th_unchanged(const tc_tensor *t, const float *host);
/* The tensor's contents in a new host buffer (free it). */
void *th_read(const tc_tensor *t);

#define TH_DIMS(...) ((const int64_t[]){__VA_ARGS__})

#endif
