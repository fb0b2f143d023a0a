/* Shared by the libFuzzer targets of tests/fuzz: the contexts every input runs
 * on, files made from memory, invariants, and the counters printed at exit. */
#ifndef TINYCL_FUZZ_H
#define TINYCL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

#define FZ_CTX_MAX 3

/* ref, openblas, then the default OpenCL device when there is one (TINYCL_DEVICE
 * picks another); created on the first call and kept. Returns how many. */
int fz_contexts(tc_ctx **ctx);
/* The file targets' loop. For the input as given, then, when its last 4 bytes
 * are not the CRC-32 of the rest, for a copy with the checksum rewritten (so
 * mutations reach the checks behind it): writes the bytes to a file and calls
 * load(ctx, path, bytes) on every context. The first context's status is counted
 * ("as given", "crc fixed"); the others must agree, short of memory, since files
 * are checked on the host. */
void fz_load_file(const uint8_t *data, size_t n, const char *fn,
                  tc_status (*load)(tc_ctx *ctx, const char *path, const uint8_t *bytes));
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
