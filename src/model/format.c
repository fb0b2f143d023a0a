/* Reading and checking .tcw / .tcd files (docs/weights.md) in this order: magic,
 * version, structure (everything lies inside the file), checksum, meaning. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/format.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "payloads are used in place: little-endian hosts only"
#endif

#define MAX_FILE_BYTES (1ull << 30)
#define DIM_MAX INT32_MAX
#define PRINTABLE(ch) ((ch) >= 0x20 && (ch) <= 0x7e ? (char)(ch) : '?')

static const struct {
    const char *name;
    int nparams, max_tensors, fused_relu;
} kinds[TC_LAYER_END] = {
    [TC_LAYER_LINEAR] = {"linear", 2, 2, 1},
    [TC_LAYER_CONV2D] = {"conv2d", 6, 2, 1},
    [TC_LAYER_RELU] = {"relu", 0, 0, 0},
    [TC_LAYER_SOFTMAX] = {"softmax", 0, 0, 0},
    [TC_LAYER_FLATTEN] = {"flatten", 0, 0, 0},
    [TC_LAYER_GLOBAL_AVGPOOL] = {"global_avgpool", 0, 0, 0},
    [TC_LAYER_MAXPOOL2D] = {"maxpool2d", 4, 0, 0},
    [TC_LAYER_AVGPOOL2D] = {"avgpool2d", 4, 0, 0},
};

const char *tc_layer_name(tc_layer_type t) { return t > 0 && t < TC_LAYER_END ? kinds[t].name : "invalid"; }

uint32_t tc_crc32(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

/* A read position in a file buffer; `end` is where the checksum starts. */
typedef struct {
    tc_ctx *ctx;
    const char *path;
    const unsigned char *buf;
    size_t len, end, pos;
} cursor;

static tc_status bad(const cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static tc_status bad(const cursor *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tc_fail(c->ctx, TC_ERR_CORRUPT, "%s: %s", c->path, msg);
}

static tc_status take(cursor *c, uint64_t n, const char *what, const unsigned char **p)
{
    if (n > c->end - c->pos)
        return bad(c, "truncated: the %s at offset %zu needs %llu bytes and the 4-byte checksum; the file has %zu",
                   what, c->pos, (unsigned long long)n, c->len);
    *p = c->buf + c->pos;
    c->pos += n;
    return TC_OK;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static tc_status words(cursor *c, uint32_t *v, int n, const char *what)
{
    const unsigned char *p = NULL;
    tc_status s = take(c, 4 * (uint64_t)n, what, &p);
    for (int i = 0; s == TC_OK && i < n; i++) v[i] = le32(p + 4 * i);
    return s;
}

static tc_status read_file(tc_ctx *ctx, const char *path, cursor *c)
{
    memset(c, 0, sizeof *c);
    c->ctx = ctx;
    c->path = path;
    FILE *fp = fopen(path, "rb");
    if (!fp) return tc_fail(ctx, TC_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return tc_fail(ctx, TC_ERR_IO, "%s is not a regular file", path);
    }
    if ((unsigned long long)st.st_size > MAX_FILE_BYTES) {
        fclose(fp);
        return bad(c, "%lld bytes: larger than the 1 GiB this reader accepts", (long long)st.st_size);
    }
    c->len = (size_t)st.st_size;
    unsigned char *buf = malloc(c->len ? c->len : 1);
    if (!buf) {
        fclose(fp);
        return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", path, c->len);
    }
    size_t got = fread(buf, 1, c->len, fp);
    fclose(fp);
    if (got != c->len) {
        free(buf);
        return tc_fail(ctx, TC_ERR_IO, "%s: read %zu of %zu bytes", path, got, c->len);
    }
    c->buf = buf;
    c->end = c->len >= 4 ? c->len - 4 : 0;
    return TC_OK;
}

static tc_status check_head(cursor *c, const char *magic)
{
    const unsigned char *m = NULL;
    uint32_t version = 0;
    tc_status s = take(c, 4, "magic", &m);
    if (s == TC_OK && memcmp(m, magic, 4) != 0)
        return bad(c, "bad magic %02x %02x %02x %02x (\"%c%c%c%c\"): not a %s file", m[0], m[1], m[2], m[3],
                   PRINTABLE(m[0]), PRINTABLE(m[1]), PRINTABLE(m[2]), PRINTABLE(m[3]), magic);
    if (s == TC_OK) s = words(c, &version, 1, "version");
    if (s == TC_OK && version != 1) return bad(c, "unsupported format version %u (this build reads 1)", version);
    return s;
}

/* The structure is walked; what is left must be exactly the checksum. */
static tc_status check_tail(cursor *c)
{
    if (c->pos != c->end)
        return bad(c, "%zu unexpected bytes at offset %zu before the checksum", c->end - c->pos, c->pos);
    uint32_t stored = le32(c->buf + c->end), computed = tc_crc32(c->buf, c->end);
    if (stored != computed)
        return bad(c, "checksum mismatch: stored 0x%08x, computed 0x%08x (damaged file)", stored, computed);
    return TC_OK;
}

int64_t tc_shape_numel(const tc_shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= s->d[i];
    return n;
}

void tc_fmt_dims(const int64_t *d, int n, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < n && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%lld", i ? ", " : "", (long long)d[i]);
    if (at < len) snprintf(buf + at, len - at, "]");
}

/* dims[0..ndim) in 1..DIM_MAX, the rest up to `cap` zero, and their product in
 * 1..max_numel (overflow-checked). */
static tc_status check_dims(cursor *c, const char *what, const uint32_t *dims, int ndim, int cap, uint64_t max_numel,
                            uint64_t *numel)
{
    uint64_t n = 1;
    for (int i = 0; i < cap; i++) {
        if (i >= ndim && dims[i] != 0) return bad(c, "%s: unused dimension %d is %u, must be 0", what, i, dims[i]);
        if (i < ndim && (dims[i] < 1 || dims[i] > DIM_MAX))
            return bad(c, "%s: dimension %d is %u, must be in 1..%d", what, i, dims[i], DIM_MAX);
        if (i < ndim && (__builtin_mul_overflow(n, dims[i], &n) || n > max_numel))
            return bad(c, "%s: %d dimensions overflow the element limit %llu", what, ndim,
                       (unsigned long long)max_numel);
    }
    *numel = n;
    return TC_OK;
}

/* ------------------------------------------------------------ .tcw structure */

/* rec receives the record: type, flags, p[6], ntensors; the tensors are walked. */
static tc_status walk_layer(cursor *c, int i, tc_wlayer *l, uint32_t *rec)
{
    char what[64];
    snprintf(what, sizeof what, "layer %d record", i);
    tc_status s = words(c, rec, 3 + TC_W_PARAMS, what);
    if (s != TC_OK) return s;
    if (rec[8] > 2) return bad(c, "layer %d: %u tensors (at most 2)", i, rec[8]);
    l->ntensors = (int)rec[8];
    for (int t = 0; t < l->ntensors; t++) {
        uint32_t h[5];
        uint64_t numel = 0;
        const unsigned char *payload = NULL;
        snprintf(what, sizeof what, "layer %d tensor %d", i, t);
        s = words(c, h, 5, what);
        if (s == TC_OK && (h[0] < 1 || h[0] > 4)) return bad(c, "%s: ndim %u outside 1..4", what, h[0]);
        if (s == TC_OK) s = check_dims(c, what, h + 1, (int)h[0], 4, INT64_MAX / 4, &numel);
        if (s == TC_OK) s = take(c, numel * 4, what, &payload);
        if (s != TC_OK) return s;
        l->tndim[t] = (int)h[0];
        for (int d = 0; d < l->tndim[t]; d++) l->tdims[t][d] = h[1 + d];
        l->data[t] = (const float *)(const void *)payload; /* 4-byte aligned: every field is */
    }
    return TC_OK;
}

/* ------------------------------------------------------------ .tcw meaning */

static tc_status want_tensor(cursor *c, int i, const tc_wlayer *l, int t, int ndim, const int64_t *dims)
{
    if (t >= l->ntensors) return TC_OK; /* optional bias */
    if (l->tndim[t] == ndim && memcmp(l->tdims[t], dims, (size_t)ndim * sizeof *dims) == 0) return TC_OK;
    char got[96], want[96];
    tc_fmt_dims(l->tdims[t], l->tndim[t], got, sizeof got);
    tc_fmt_dims(dims, ndim, want, sizeof want);
    return bad(c, "layer %d (%s): tensor %d is %s, its parameters need %s", i, kinds[l->type].name, t, got, want);
}

static tc_status want_input(cursor *c, int i, const tc_wlayer *l, int ndim, int64_t d0)
{
    if (l->in.ndim == ndim && (d0 == 0 || l->in.d[0] == d0)) return TC_OK;
    char got[96];
    tc_fmt_dims(l->in.d, l->in.ndim, got, sizeof got);
    if (d0) return bad(c, "layer %d (%s) takes %d-D samples of %lld %s; the layer before gives %s", i,
                       kinds[l->type].name, ndim, (long long)d0, ndim == 1 ? "features" : "channels", got);
    return bad(c, "layer %d (%s) takes %d-D samples; the layer before gives %s", i, kinds[l->type].name, ndim, got);
}

/* Output extent of a window; 0 when it does not fit. */
static int64_t extent(int64_t in, int64_t k, int64_t stride, int64_t pad)
{
    return in + 2 * pad < k ? 0 : (in + 2 * pad - k) / stride + 1;
}

static tc_status window(cursor *c, int i, tc_wlayer *l, int64_t ch, int64_t kh, int64_t kw, int64_t stride,
                        int64_t pad)
{
    if (kh < 1 || kw < 1 || stride < 1 || pad >= kh || pad >= kw)
        return bad(c, "layer %d (%s): window %lldx%lld, stride %lld, pad %lld: need sizes >= 1 and pad < window",
                   i, kinds[l->type].name, (long long)kh, (long long)kw, (long long)stride, (long long)pad);
    int64_t p = extent(l->in.d[1], kh, stride, pad), q = extent(l->in.d[2], kw, stride, pad);
    if (!p || !q)
        return bad(c, "layer %d (%s): a %lldx%lld window does not fit a %lldx%lld input", i, kinds[l->type].name,
                   (long long)kh, (long long)kw, (long long)l->in.d[1], (long long)l->in.d[2]);
    l->out = (tc_shape){3, {ch, p, q}};
    return TC_OK;
}

static tc_status check_layer(cursor *c, int i, tc_wlayer *l, const uint32_t *rec)
{
    if (rec[0] < 1 || rec[0] >= TC_LAYER_END) return bad(c, "layer %d: unknown layer type %u", i, rec[0]);
    l->type = (tc_layer_type)rec[0];
    const int np = kinds[l->type].nparams;
    if (rec[1] > (uint32_t)kinds[l->type].fused_relu)
        return bad(c, "layer %d (%s): flags 0x%x not allowed", i, kinds[l->type].name, rec[1]);
    l->relu = (int)rec[1];
    for (int j = 0; j < TC_W_PARAMS; j++) {
        if ((j >= np && rec[2 + j]) || rec[2 + j] > DIM_MAX)
            return bad(c, "layer %d (%s): parameter %d is %u (%s)", i, kinds[l->type].name, j, rec[2 + j],
                       j >= np ? "unused, must be 0" : "too large");
        l->p[j] = rec[2 + j];
    }
    const int maxt = kinds[l->type].max_tensors;
    if (maxt ? l->ntensors < 1 || l->ntensors > maxt : l->ntensors != 0)
        return bad(c, "layer %d (%s): %d tensors; it takes %s", i, kinds[l->type].name, l->ntensors,
                   maxt ? "a weight and an optional bias" : "none");
    const int64_t *p = l->p;
    l->out = l->in;
    tc_status s = TC_OK;
    switch (l->type) {
    case TC_LAYER_LINEAR:
        if (p[0] < 1 || p[1] < 1) return bad(c, "layer %d (linear): in %lld, out %lld must be >= 1", i,
                                             (long long)p[0], (long long)p[1]);
        s = want_input(c, i, l, 1, p[0]);
        if (s == TC_OK) s = want_tensor(c, i, l, 0, 2, (const int64_t[]){p[1], p[0]});
        if (s == TC_OK) s = want_tensor(c, i, l, 1, 1, &p[1]);
        l->out = (tc_shape){1, {p[1]}};
        break;
    case TC_LAYER_CONV2D:
        if (p[0] < 1 || p[1] < 1) return bad(c, "layer %d (conv2d): channels %lld -> %lld must be >= 1", i,
                                             (long long)p[0], (long long)p[1]);
        s = want_input(c, i, l, 3, p[0]);
        if (s == TC_OK) s = window(c, i, l, p[1], p[2], p[3], p[4], p[5]);
        if (s == TC_OK) s = want_tensor(c, i, l, 0, 4, (const int64_t[]){p[1], p[0], p[2], p[3]});
        if (s == TC_OK) s = want_tensor(c, i, l, 1, 1, &p[1]);
        break;
    case TC_LAYER_MAXPOOL2D:
    case TC_LAYER_AVGPOOL2D:
        s = want_input(c, i, l, 3, 0);
        if (s == TC_OK) s = window(c, i, l, l->in.d[0], p[0], p[1], p[2], p[3]);
        break;
    case TC_LAYER_GLOBAL_AVGPOOL:
        s = want_input(c, i, l, 3, 0);
        l->out = (tc_shape){1, {l->in.d[0]}};
        break;
    case TC_LAYER_FLATTEN: l->out = (tc_shape){1, {tc_shape_numel(&l->in)}}; break;
    default: break; /* relu, softmax: same shape */
    }
    if (s != TC_OK) return s;
    uint64_t n = 1;
    for (int d = 0; d < l->out.ndim; d++)
        if (__builtin_mul_overflow(n, (uint64_t)l->out.d[d], &n)) n = UINT64_MAX;
    if (n > DIM_MAX)
        return bad(c, "layer %d (%s): its output sample is over the %d-element limit", i, kinds[l->type].name,
                   DIM_MAX);
    return TC_OK;
}

static tc_status parse_weights(cursor *c, void *out)
{
    tc_wfile *f = out;
    uint32_t h[5], rec[TC_W_MAX_LAYERS][3 + TC_W_PARAMS];
    const unsigned char *name = NULL;
    uint64_t numel;
    tc_status s = check_head(c, "TCLW");
    if (s == TC_OK) s = words(c, h, 5, "header");
    if (s == TC_OK && (h[0] < 1 || h[0] > TC_W_MAX_LAYERS))
        return bad(c, "%u layers (1..%d allowed)", h[0], TC_W_MAX_LAYERS);
    if (s == TC_OK) s = take(c, 32, "model name", &name);
    for (int i = 0; s == TC_OK && i < (int)h[0]; i++) s = walk_layer(c, i, &f->layers[i], rec[i]);
    if (s == TC_OK) s = check_tail(c);
    if (s != TC_OK) return s;

    if (h[1] < 1 || h[1] > TC_SAMPLE_DIMS) return bad(c, "input rank %u outside 1..%d", h[1], TC_SAMPLE_DIMS);
    s = check_dims(c, "input shape", h + 2, (int)h[1], TC_SAMPLE_DIMS, DIM_MAX, &numel);
    if (s != TC_OK) return s;
    if (!memchr(name, 0, 32)) return bad(c, "model name is not NUL-terminated");
    for (const unsigned char *q = name; *q; q++)
        if (*q < 0x20 || *q > 0x7e) return bad(c, "model name holds the non-printable byte 0x%02x", *q);
    memcpy(f->name, name, 32);
    f->name[32] = '\0';
    f->nlayers = (int)h[0];
    f->in.ndim = (int)h[1];
    for (int d = 0; d < f->in.ndim; d++) f->in.d[d] = h[2 + d];

    tc_shape cur = f->in;
    for (int i = 0; i < f->nlayers; i++) {
        f->layers[i].in = cur;
        s = check_layer(c, i, &f->layers[i], rec[i]);
        if (s != TC_OK) return s;
        cur = f->layers[i].out;
    }
    if (cur.ndim != 1) return bad(c, "the last layer gives %d-D samples; a model ends with [classes]", cur.ndim);
    if (f->layers[f->nlayers - 1].type == TC_LAYER_FLATTEN)
        return bad(c, "the last layer is a flatten (a view); a model ends with a layer that computes");
    return TC_OK;
}


/* ------------------------------------------------------------ .tcd */

static tc_status parse_data(cursor *c, void *out)
{
    tc_dfile *f = out;
    uint32_t h[6];
    uint64_t numel = 0, total = 0;
    const unsigned char *images = NULL, *labels = NULL;
    tc_status s = check_head(c, "TCLD");
    if (s == TC_OK) s = words(c, h, 6, "header");
    if (s != TC_OK) return s;
    if (h[0] < 1 || h[0] > DIM_MAX) return bad(c, "sample count %u outside 1..%d", h[0], DIM_MAX);
    if (h[1] < 1 || h[1] > DIM_MAX) return bad(c, "class count %u outside 1..%d", h[1], DIM_MAX);
    if (h[2] < 1 || h[2] > TC_SAMPLE_DIMS) return bad(c, "sample rank %u outside 1..%d", h[2], TC_SAMPLE_DIMS);
    s = check_dims(c, "sample shape", h + 3, (int)h[2], TC_SAMPLE_DIMS, DIM_MAX, &numel);
    if (s == TC_OK && __builtin_mul_overflow(numel, (uint64_t)h[0] * 4, &total))
        return bad(c, "%u samples of %llu elements overflow", h[0], (unsigned long long)numel);
    if (s == TC_OK) s = take(c, total, "images", &images);
    if (s == TC_OK) s = take(c, 4 * (uint64_t)h[0], "labels", &labels);
    if (s == TC_OK) s = check_tail(c);
    if (s != TC_OK) return s;
    f->count = h[0];
    f->classes = h[1];
    f->sample.ndim = (int)h[2];
    for (int d = 0; d < f->sample.ndim; d++) f->sample.d[d] = h[3 + d];
    f->images = (const float *)(const void *)images;
    f->labels = (const int32_t *)(const void *)labels;
    for (int64_t i = 0; i < f->count; i++)
        if (f->labels[i] < 0 || f->labels[i] >= f->classes)
            return bad(c, "label %lld is %d, outside 0..%lld", (long long)i, f->labels[i], (long long)f->classes - 1);
    return TC_OK;
}

/* The file's buffer goes to *buf when `parse` accepts it and is freed otherwise. */
static tc_status load(tc_ctx *ctx, const char *path, tc_status (*parse)(cursor *, void *), void *out,
                      unsigned char **buf)
{
    cursor c;
    tc_status s = read_file(ctx, path, &c);
    if (s == TC_OK) s = parse(&c, out);
    if (s != TC_OK) free((void *)c.buf);
    *buf = s == TC_OK ? (unsigned char *)c.buf : NULL;
    return s;
}

tc_status tc_wfile_read(tc_ctx *ctx, const char *path, tc_wfile *f)
{
    memset(f, 0, sizeof *f);
    return load(ctx, path, parse_weights, f, &f->buf);
}

tc_status tc_dfile_read(tc_ctx *ctx, const char *path, tc_dfile *f)
{
    memset(f, 0, sizeof *f);
    return load(ctx, path, parse_data, f, &f->buf);
}
