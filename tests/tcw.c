/* Hand-made weight files (tcw.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/format.h"
#include "tcw.h"

void fb_put(fbuf *f, const void *v, size_t n)
{
    assert_true(f->n + n <= sizeof f->b);
    if (n) memcpy(f->b + f->n, v, n);
    f->n += n;
}

void fb_words(fbuf *f, int n, const uint32_t *v)
{
    for (int i = 0; i < n; i++) fb_put(f, &v[i], 4);
}

void w_header(fbuf *f, uint32_t version, uint32_t nlayers, uint32_t ndim, const uint32_t *dims)
{
    char name[32] = "tiny";
    f->n = 0;
    fb_put(f, "TCLW", 4);
    fb_words(f, 3, U(version, nlayers, ndim));
    fb_words(f, 3, dims);
    fb_put(f, name, 32);
}

void w_layer(fbuf *f, uint32_t type, uint32_t flags, const uint32_t *p, uint32_t ntensors)
{
    fb_words(f, 2, U(type, flags));
    fb_words(f, 6, p);
    fb_words(f, 1, &ntensors);
}

static uint32_t count(uint32_t ndim, const uint32_t *dims)
{
    uint32_t n = 1;
    for (uint32_t i = 0; i < ndim; i++) n *= dims[i];
    return n;
}

void w_tensor(fbuf *f, uint32_t ndim, const uint32_t *dims, const float *vals)
{
    fb_words(f, 1, &ndim);
    fb_words(f, 4, dims);
    for (uint32_t i = 0; i < count(ndim, dims); i++) {
        float v = vals ? vals[i] : 0.25f * (float)(i + 1);
        fb_put(f, &v, 4);
    }
}

void w2_layer(fbuf *f, uint32_t type, uint32_t flags, uint32_t nparams, const uint32_t *p, uint32_t ntensors)
{
    fb_words(f, 4, U(type, flags, nparams, ntensors));
    fb_words(f, (int)nparams, p);
}

void w2_tensor(fbuf *f, uint32_t role, uint32_t dtype, uint32_t qmode, uint32_t qaxis, uint32_t ndim,
               const uint32_t *dims, uint32_t nq, const float *scales, const int32_t *zps, const void *vals)
{
    fb_words(f, 5, U(role, dtype, qmode, qaxis, ndim));
    fb_words(f, 4, dims);
    fb_put(f, scales, 4 * (size_t)nq);
    fb_put(f, zps, 4 * (size_t)nq);
    const size_t bytes = count(ndim, dims) * tc_dtype_size((tc_dtype)dtype);
    fb_put(f, vals, bytes);
    fb_put(f, "\0\0\0", (4 - bytes % 4) % 4);
}

void seal(fbuf *f)
{
    uint32_t crc = tc_crc32(f->b, f->n);
    fb_put(f, &crc, 4);
}

void reseal(unsigned char *b, size_t n)
{
    uint32_t crc = tc_crc32(b, n - 4);
    memcpy(b + n - 4, &crc, 4);
}

void write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

unsigned char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    *n = (size_t)ftell(fp);
    rewind(fp);
    unsigned char *b = malloc(*n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *n, fp), *n);
    fclose(fp);
    return b;
}
