/* Shared by the libFuzzer targets of tests/fuzz: the contexts every input runs
 * on, files made from memory, invariants, and the counters printed at exit. */
#ifndef TINYCL_FUZZ_H
#define TINYCL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

#define FZ_CTX_MAX 2

/* ref, then the default OpenCL device when there is one (TINYCL_DEVICE picks
 * another); created on the first call and kept. Returns how many. */
int fz_contexts(tc_ctx **ctx);
/* A path whose file holds exactly data[0..n): a memfd, rewritten by each call. */
const char *fz_file(const void *data, size_t n);
/* The file targets' two modes: load(data, n, "as given"), then, when the last 4
 * bytes are not the CRC-32 of the rest, load(copy, n, "crc fixed") on a copy
 * with the checksum rewritten, so mutations reach the checks behind it. */
void fz_load_both_ways(const uint8_t *data, size_t n, void (*load)(const uint8_t *, size_t, const char *));
/* Counts one outcome of `what` (a loader mode, an op); the table prints at exit. */
void fz_count(const char *what, tc_status s);
/* A finding: prints the message and aborts, so libFuzzer keeps the input. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Fails unless ctx holds no tensor memory beyond its scratch buffers. */
void fz_check_empty(const tc_ctx *ctx, const char *where);
/* Fails unless t's guard bytes are intact and, when `before` is given, t still
 * holds exactly those bytes. */
void fz_check_tensor(const tc_tensor *t, const void *before, const char *where);

#endif
