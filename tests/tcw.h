/* Hand-made weight files for the tests, written field by field from the layout
 * in docs/weights.md (independently of the library's writer). */
#ifndef TINYCL_TEST_TCW_H
#define TINYCL_TEST_TCW_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned char b[1 << 15];
    size_t n;
} fbuf;

#define U(...) ((const uint32_t[]){__VA_ARGS__})

void fb_put(fbuf *f, const void *v, size_t n);
void fb_words(fbuf *f, int n, const uint32_t *v);
/* magic, version, nlayers, input rank and dims[3], the name "tiny" */
void w_header(fbuf *f, uint32_t version, uint32_t nlayers, uint32_t ndim, const uint32_t *dims);
/* Version 1: type, flags, p[6], ntensors; a tensor is ndim, dims[4] and f32 values
 * (NULL: 0.25, 0.5, ...). */
void w_layer(fbuf *f, uint32_t type, uint32_t flags, const uint32_t *p, uint32_t ntensors);
void w_tensor(fbuf *f, uint32_t ndim, const uint32_t *dims, const float *vals);
/* Version 2: type, flags, nparams, ntensors, p[nparams]; a tensor is role, dtype,
 * quantization mode and axis, ndim, dims[4], `nq` scales and zero points, then
 * the values (of dtype, padded with zeros to 4 bytes). */
void w2_layer(fbuf *f, uint32_t type, uint32_t flags, uint32_t nparams, const uint32_t *p, uint32_t ntensors);
void w2_tensor(fbuf *f, uint32_t role, uint32_t dtype, uint32_t qmode, uint32_t qaxis, uint32_t ndim,
               const uint32_t *dims, uint32_t nq, const float *scales, const int32_t *zps, const void *vals);
/* Appends the CRC-32 of everything before it. */
void seal(fbuf *f);
/* Recomputes the checksum of a sealed file of n bytes. */
void reseal(unsigned char *b, size_t n);
void write_file(const char *path, const void *data, size_t n);
/* The whole file in a new buffer with one spare byte; *n its size. */
unsigned char *slurp(const char *path, size_t *n);

#endif
