/* Reading and checking .tcw / .tcd files (docs/weights.md) in this order: magic,
 * version, structure (everything lies inside the file), checksum, fields; and
 * writing .tcw version 2. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/format.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "payloads are used in place: little-endian hosts only"
#endif

#define MAX_FILE_BYTES (1ull << 30)
#define DIM_MAX INT32_MAX
#define PRINTABLE(ch) ((ch) >= 0x20 && (ch) <= 0x7e ? (char)(ch) : '?')

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

const char *tc_role_name(tc_tensor_role r)
{
    static const char *const names[TC_ROLE_END] = {
        [TC_ROLE_WEIGHT] = "weight", [TC_ROLE_BIAS] = "bias",   [TC_ROLE_GAMMA] = "gamma",
        [TC_ROLE_BETA] = "beta",     [TC_ROLE_SCALE] = "scale", [TC_ROLE_ZERO_POINT] = "zero_point",
        [TC_ROLE_ROW_PTR] = "row_ptr", [TC_ROLE_COL_IDX] = "col_idx",
    };
    return r > 0 && r < TC_ROLE_END ? names[r] : "invalid";
}

/* A read position in a file buffer; `end` is where the checksum starts. */
typedef struct {
    tc_ctx *ctx;
    const char *path;
    const unsigned char *buf;
    size_t len, end, pos;
} cursor;

static tc_status vfail(tc_ctx *ctx, const char *path, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return tc_fail(ctx, TC_ERR_CORRUPT, "%s: %s", path, msg);
}

tc_status tc_wfail(tc_ctx *ctx, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tc_status s = vfail(ctx, path, fmt, ap);
    va_end(ap);
    return s;
}

static tc_status bad(const cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static tc_status bad(const cursor *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tc_status s = vfail(c->ctx, c->path, fmt, ap);
    va_end(ap);
    return s;
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

/* Magic, then a version in 1..max. */
static tc_status check_head(cursor *c, const char *magic, uint32_t max, uint32_t *version)
{
    const unsigned char *m = NULL;
    tc_status s = take(c, 4, "magic", &m);
    if (s == TC_OK && memcmp(m, magic, 4) != 0)
        return bad(c, "bad magic %02x %02x %02x %02x (\"%c%c%c%c\"): not a %s file", m[0], m[1], m[2], m[3],
                   PRINTABLE(m[0]), PRINTABLE(m[1]), PRINTABLE(m[2]), PRINTABLE(m[3]), magic);
    if (s == TC_OK) s = words(c, version, 1, "version");
    if (s == TC_OK && (*version < 1 || *version > max))
        return bad(c, "unsupported format version %u (this build reads 1..%u)", *version, max);
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

static int64_t padded(int64_t bytes) { return (bytes + 3) & ~(int64_t)3; }

/* ndim and dims[4] words. */
static tc_status read_dims(cursor *c, const char *what, const uint32_t *h, tc_wtensor *x)
{
    uint64_t numel = 0;
    if (h[0] < 1 || h[0] > TC_MAX_DIMS) return bad(c, "%s: ndim %u outside 1..%d", what, h[0], TC_MAX_DIMS);
    tc_status s = check_dims(c, what, h + 1, (int)h[0], TC_MAX_DIMS, INT64_MAX / 4, &numel);
    x->ndim = (int)h[0];
    for (int d = 0; d < x->ndim; d++) x->dims[d] = h[1 + d];
    x->numel = (int64_t)numel;
    return s;
}

/* numel elements of x->dtype, padded to 4 bytes. */
static tc_status take_values(cursor *c, const char *what, tc_wtensor *x)
{
    const unsigned char *p = NULL;
    tc_status s = take(c, (uint64_t)padded(x->numel * (int64_t)tc_dtype_size(x->dtype)), what, &p);
    x->data = p; /* 4-byte aligned: every field is */
    return s;
}

/* Version 1: ndim, dims[4], f32 values; the first tensor is the weight, the second the bias. */
static tc_status walk_tensor_v1(cursor *c, const char *what, int t, tc_wtensor *x)
{
    uint32_t h[5];
    tc_status s = words(c, h, 5, what);
    x->role = t == 0 ? TC_ROLE_WEIGHT : TC_ROLE_BIAS;
    x->dtype = TC_DTYPE_F32;
    x->q = (tc_quant){-1, 0, NULL, NULL};
    if (s == TC_OK) s = read_dims(c, what, h, x);
    return s == TC_OK ? take_values(c, what, x) : s;
}

/* Version 2: role, dtype, quantization mode and axis, ndim, dims[4]; scales f32[count],
 * zero points s32[count]; the values. */
static tc_status walk_tensor_v2(cursor *c, const char *what, tc_wtensor *x)
{
    uint32_t h[9];
    const unsigned char *sc = NULL, *zp = NULL;
    tc_status s = words(c, h, 9, what);
    if (s == TC_OK) s = read_dims(c, what, h + 4, x);
    if (s != TC_OK) return s;
    const uint32_t mode = h[2], axis = h[3];
    if (h[1] >= TC_DTYPE_COUNT) return bad(c, "%s: unknown dtype %u", what, h[1]);
    if (mode >= TC_WQ_END) return bad(c, "%s: unknown quantization mode %u", what, mode);
    if (mode == TC_WQ_CHANNEL ? axis >= (uint32_t)x->ndim : axis != 0)
        return bad(c, "%s: quantization axis %u (%s)", what, axis,
                   mode == TC_WQ_CHANNEL ? "outside the tensor's dimensions" : "must be 0 unless per channel");
    x->role = h[0];
    x->dtype = (tc_dtype)h[1];
    x->q.axis = mode == TC_WQ_CHANNEL ? (int)axis : -1;
    x->q.count = mode == TC_WQ_NONE ? 0 : mode == TC_WQ_TENSOR ? 1 : x->dims[axis];
    s = take(c, 4 * (uint64_t)x->q.count, what, &sc);
    if (s == TC_OK) s = take(c, 4 * (uint64_t)x->q.count, what, &zp);
    x->q.scale = x->q.count ? (const float *)(const void *)sc : NULL;
    x->q.zero_point = x->q.count ? (const int32_t *)(const void *)zp : NULL;
    return s == TC_OK ? take_values(c, what, x) : s;
}

/* Version 1: type, flags, p[6], ntensors. Version 2: type, flags, nparams, ntensors, p[nparams]. */
static tc_status walk_layer(cursor *c, int version, int i, tc_wlayer *l)
{
    char what[64];
    uint32_t h[TC_W_MAX_PARAMS];
    snprintf(what, sizeof what, "layer %d record", i);
    tc_status s = words(c, h, 2, what);
    if (s != TC_OK) return s;
    l->type = h[0];
    l->flags = h[1];
    uint32_t np = TC_W_V1_PARAMS, nt = 0, max_nt = version == 1 ? 2 : TC_W_MAX_TENSORS;
    if (version == 1) {
        s = words(c, h, TC_W_V1_PARAMS, what);
        if (s == TC_OK) s = words(c, &nt, 1, what);
    } else {
        s = words(c, &np, 1, what);
        if (s == TC_OK) s = words(c, &nt, 1, what);
        if (s == TC_OK && np > TC_W_MAX_PARAMS)
            return bad(c, "layer %d: %u parameters (at most %d)", i, np, TC_W_MAX_PARAMS);
        if (s == TC_OK) s = words(c, h, (int)np, what);
    }
    if (s != TC_OK) return s;
    if (nt > max_nt) return bad(c, "layer %d: %u tensors (at most %u)", i, nt, max_nt);
    l->nparams = (int)np;
    for (uint32_t j = 0; j < np; j++) l->p[j] = h[j];
    l->ntensors = (int)nt;
    for (int t = 0; s == TC_OK && t < l->ntensors; t++) {
        snprintf(what, sizeof what, "layer %d tensor %d", i, t);
        s = version == 1 ? walk_tensor_v1(c, what, t, &l->t[t]) : walk_tensor_v2(c, what, &l->t[t]);
    }
    return s;
}

/* ------------------------------------------------------------ .tcw fields */

const char *tc_refusal(tc_status s)
{
    const char *msg = tc_last_error(NULL);
    const size_t skip = strlen(tc_status_name(s)) + 2; /* "TC_ERR_...: " */
    return strlen(msg) >= skip ? msg + skip : msg;
}

/* The checks of tc_tensor_set_quant, which the model applies when it uploads. */
static tc_status check_quant(cursor *c, const char *what, const tc_wtensor *x)
{
    if (!x->q.count) return TC_OK;
    tc_status s = tc_quant_check(NULL, what, x->dtype, x->ndim, x->dims, &x->q);
    return s == TC_OK ? TC_OK : bad(c, "%s", tc_refusal(s));
}

static tc_status check_tensor_fields(cursor *c, int i, int t, const tc_wtensor *x)
{
    char what[64];
    snprintf(what, sizeof what, "layer %d tensor %d", i, t);
    if (x->role < 1 || x->role >= TC_ROLE_END) return bad(c, "%s: unknown role %u", what, x->role);
    snprintf(what, sizeof what, "layer %d tensor %d (%s)", i, t, tc_role_name((tc_tensor_role)x->role));
    const int64_t bytes = x->numel * (int64_t)tc_dtype_size(x->dtype);
    const unsigned char *pad = (const unsigned char *)x->data + bytes;
    for (int64_t k = 0; k < padded(bytes) - bytes; k++)
        if (pad[k]) return bad(c, "%s: padding byte %lld after the values is 0x%02x, must be 0", what, (long long)k,
                               pad[k]);
    return check_quant(c, what, x);
}

static tc_status parse_weights(cursor *c, void *out)
{
    tc_wfile *f = out;
    uint32_t version = 0, h[5];
    const unsigned char *name = NULL;
    uint64_t numel;
    tc_status s = check_head(c, "TCLW", 2, &version);
    if (s == TC_OK) s = words(c, h, 5, "header");
    if (s == TC_OK && (h[0] < 1 || h[0] > TC_W_MAX_LAYERS))
        return bad(c, "%u layers (1..%d allowed)", h[0], TC_W_MAX_LAYERS);
    if (s == TC_OK) s = take(c, 32, "model name", &name);
    for (int i = 0; s == TC_OK && i < (int)h[0]; i++) s = walk_layer(c, (int)version, i, &f->layers[i]);
    if (s == TC_OK) s = check_tail(c);
    if (s != TC_OK) return s;

    if (h[1] < 1 || h[1] > TC_SAMPLE_DIMS) return bad(c, "input rank %u outside 1..%d", h[1], TC_SAMPLE_DIMS);
    s = check_dims(c, "input shape", h + 2, (int)h[1], TC_SAMPLE_DIMS, DIM_MAX, &numel);
    if (s != TC_OK) return s;
    if (!memchr(name, 0, 32)) return bad(c, "model name is not NUL-terminated");
    for (const unsigned char *q = name; *q; q++)
        if (*q < 0x20 || *q > 0x7e) return bad(c, "model name holds the non-printable byte 0x%02x", *q);
    f->version = (int)version;
    memcpy(f->name, name, 32);
    f->name[32] = '\0';
    f->nlayers = (int)h[0];
    f->in.ndim = (int)h[1];
    for (int d = 0; d < f->in.ndim; d++) f->in.d[d] = h[2 + d];
    for (int i = 0; i < f->nlayers; i++)
        for (int t = 0; t < f->layers[i].ntensors; t++)
            if ((s = check_tensor_fields(c, i, t, &f->layers[i].t[t])) != TC_OK) return s;
    return TC_OK;
}

/* ------------------------------------------------------------ .tcw writer */

static unsigned char *put(unsigned char *p, const void *v, size_t n)
{
    if (n) memcpy(p, v, n); /* v may be NULL when n is 0 */
    return p + n;
}

static unsigned char *put32(unsigned char *p, uint32_t v) { return put(p, &v, 4); }

static tc_status bad_arg(tc_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static tc_status bad_arg(tc_ctx *ctx, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tc_fail(ctx, TC_ERR_INVALID_ARG, "tc_wfile_write: %s", msg);
}

/* Bytes of one tensor record; what the reader's walk requires of it. */
static tc_status tensor_size(tc_ctx *ctx, int i, int t, const tc_wtensor *x, uint64_t *size)
{
    int64_t numel = 1;
    if (x->dtype < 0 || x->dtype >= TC_DTYPE_COUNT || x->ndim < 1 || x->ndim > TC_MAX_DIMS || !x->data)
        return bad_arg(ctx, "layer %d tensor %d: dtype, ndim or data is invalid", i, t);
    for (int d = 0; d < x->ndim; d++)
        if (x->dims[d] < 1 || x->dims[d] > DIM_MAX || __builtin_mul_overflow(numel, x->dims[d], &numel) ||
            numel > INT64_MAX / 4)
            return bad_arg(ctx, "layer %d tensor %d: dimension %d is %lld", i, t, d, (long long)x->dims[d]);
    const tc_quant *q = &x->q;
    const int64_t count = q->count ? q->axis < 0 ? 1 : q->axis < x->ndim ? x->dims[q->axis] : -1 : 0;
    if (numel != x->numel || q->count != count || (count && (!q->scale || !q->zero_point)))
        return bad_arg(ctx, "layer %d tensor %d: element count or quantization does not match its dims", i, t);
    *size = 36 + 8 * (uint64_t)count + (uint64_t)padded(numel * (int64_t)tc_dtype_size(x->dtype));
    return TC_OK;
}

static tc_status file_size(tc_ctx *ctx, const tc_wfile *f, uint64_t *size)
{
    const int pr = f->prune.present != 0;
    uint64_t n = 60 + 4 + (pr ? 16 + 4 * TC_W_PRUNE_PARAMS : 0); /* header, checksum, pruning record */
    if (f->nlayers < 1 || f->nlayers + pr > TC_W_MAX_LAYERS || f->in.ndim < 1 || f->in.ndim > TC_SAMPLE_DIMS ||
        !memchr(f->name, 0, 32))
        return bad_arg(ctx, "%d layers, input rank %d or a name of 32 or more characters", f->nlayers, f->in.ndim);
    if (pr && (f->prune.original < 1 || f->prune.original >= INT64_C(1) << 62))
        return bad_arg(ctx, "pruning record: %lld original weights", (long long)f->prune.original);
    for (int i = 0; i < f->nlayers; i++) {
        const tc_wlayer *l = &f->layers[i];
        if (l->nparams < 0 || l->nparams > TC_W_MAX_PARAMS || l->ntensors < 0 || l->ntensors > TC_W_MAX_TENSORS)
            return bad_arg(ctx, "layer %d: %d parameters, %d tensors", i, l->nparams, l->ntensors);
        n += 16 + 4 * (uint64_t)l->nparams;
        for (int t = 0; t < l->ntensors; t++) {
            uint64_t b = 0;
            tc_status s = tensor_size(ctx, i, t, &l->t[t], &b);
            if (s != TC_OK) return s;
            if (__builtin_add_overflow(n, b, &n) || n > MAX_FILE_BYTES)
                return bad_arg(ctx, "the file would be larger than the 1 GiB the reader accepts");
        }
    }
    *size = n;
    return TC_OK;
}

static unsigned char *put_tensor(unsigned char *p, const tc_wtensor *x)
{
    const uint32_t mode = !x->q.count ? TC_WQ_NONE : x->q.axis < 0 ? TC_WQ_TENSOR : TC_WQ_CHANNEL;
    const uint32_t h[5] = {x->role, (uint32_t)x->dtype, mode, mode == TC_WQ_CHANNEL ? (uint32_t)x->q.axis : 0,
                           (uint32_t)x->ndim};
    for (int k = 0; k < 5; k++) p = put32(p, h[k]);
    for (int d = 0; d < TC_MAX_DIMS; d++) p = put32(p, d < x->ndim ? (uint32_t)x->dims[d] : 0);
    p = put(p, x->q.scale, 4 * (size_t)x->q.count);
    p = put(p, x->q.zero_point, 4 * (size_t)x->q.count);
    const size_t bytes = (size_t)x->numel * tc_dtype_size(x->dtype);
    p = put(p, x->data, bytes);
    memset(p, 0, (size_t)padded((int64_t)bytes) - bytes);
    return p + padded((int64_t)bytes) - bytes;
}

/* Writes to a new file beside path, then renames it over path. */
static tc_status write_atomic(tc_ctx *ctx, const char *path, const void *buf, size_t n)
{
    const size_t len = strlen(path);
    char *tmp = malloc(len + 8);
    if (!tmp) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".XXXXXX", 8);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        tc_status s = tc_fail(ctx, TC_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return s;
    }
    FILE *fp = fchmod(fd, 0644) == 0 ? fdopen(fd, "wb") : NULL;
    int ok = fp != NULL;
    if (fp) {
        ok = fwrite(buf, 1, n, fp) == n;
        ok = (fclose(fp) == 0) && ok; /* closed whether or not the write worked */
    } else {
        close(fd);
    }
    ok = ok && rename(tmp, path) == 0;
    tc_status s = TC_OK;
    if (!ok) {
        s = tc_fail(ctx, TC_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return s;
}

tc_status tc_wfile_write(tc_ctx *ctx, const tc_wfile *f, const char *path)
{
    if (!f || !path) return bad_arg(ctx, "f or path is NULL");
    uint64_t size = 0;
    tc_status s = file_size(ctx, f, &size);
    unsigned char *buf = s == TC_OK ? malloc(size) : NULL;
    if (s != TC_OK) return s;
    if (!buf) return tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "tc_wfile_write: cannot allocate %llu bytes",
                             (unsigned long long)size);
    const int pr = f->prune.present != 0;
    unsigned char *p = put(buf, "TCLW", 4);
    const uint32_t h[3] = {2, (uint32_t)(f->nlayers + pr), (uint32_t)f->in.ndim};
    for (int k = 0; k < 3; k++) p = put32(p, h[k]);
    for (int d = 0; d < TC_SAMPLE_DIMS; d++) p = put32(p, d < f->in.ndim ? (uint32_t)f->in.d[d] : 0);
    memset(p, 0, 32);
    memcpy(p, f->name, strlen(f->name));
    p += 32;
    if (pr) {
        const uint64_t o = (uint64_t)f->prune.original;
        const uint32_t r[4 + TC_W_PRUNE_PARAMS] = {TC_LAYER_PRUNING, 0, TC_W_PRUNE_PARAMS, 0,
                                                   f->prune.structured != 0, (uint32_t)(o & INT32_MAX),
                                                   (uint32_t)(o >> 31)};
        for (int k = 0; k < 4 + TC_W_PRUNE_PARAMS; k++) p = put32(p, r[k]);
    }
    for (int i = 0; i < f->nlayers; i++) {
        const tc_wlayer *l = &f->layers[i];
        const uint32_t r[4] = {l->type, l->flags, (uint32_t)l->nparams, (uint32_t)l->ntensors};
        for (int k = 0; k < 4; k++) p = put32(p, r[k]);
        for (int j = 0; j < l->nparams; j++) p = put32(p, (uint32_t)l->p[j]);
        for (int t = 0; t < l->ntensors; t++) p = put_tensor(p, &l->t[t]);
    }
    p = put32(p, tc_crc32(buf, (size_t)(p - buf)));
    s = write_atomic(ctx, path, buf, (size_t)size);
    free(buf);
    return s;
}

/* ------------------------------------------------------------ .tcd */

static tc_status parse_data(cursor *c, void *out)
{
    tc_dfile *f = out;
    uint32_t h[6];
    uint64_t numel = 0, total = 0;
    const unsigned char *images = NULL, *labels = NULL;
    uint32_t version;
    tc_status s = check_head(c, "TCLD", 1, &version);
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
