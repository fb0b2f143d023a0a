/* Kernel parameters per family, as in CLBlast's database: for each family the
 * first row whose `match` is a substring of the device name (or NULL) and whose
 * type is the device's wins; the family's last row is the safe default for any
 * device. Overrides (TINYCL_PARAMS, tc_kernel_params_set) are checked against each
 * field's range and the family's rule before any value changes. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

typedef struct {
    const char *name;
    size_t off; /* in the family's struct */
    int min, max;
    int pow2; /* a power of two (0 too, when min is 0) */
    const char *what;
} field_desc;

typedef struct {
    const char *match; /* substring of the device name; NULL = any name */
    tc_device_type type;
    const void *values; /* the family's struct */
} row_desc;

typedef struct {
    const char *name;
    size_t off; /* the family's struct in tc_params */
    const field_desc *fields;
    int nfields;
    const row_desc *rows;
    int nrows;
    const char *(*rule)(const void *values); /* NULL, or the rule between fields the values break */
} family_desc;

#define COUNT(a) (int)(sizeof a / sizeof a[0])
#define FIELD(fam, f, lo, hi, p2, what)                                                                                \
    {                                                                                                                  \
#f, offsetof(tc_par_##fam, f), lo, hi, p2, what                                                                \
    }
/* every int of a family's struct is described, so a field's index is its int position in tc_params */
#define FAMILY(fam, rule)                                                                                              \
    {                                                                                                                  \
#fam, offsetof(tc_params, fam), fam##_fields, COUNT(fam##_fields), fam##_rows, COUNT(fam##_rows), rule         \
    }
#define DESCRIBED(fam)                                                                                                 \
    _Static_assert(sizeof fam##_fields / sizeof fam##_fields[0] * sizeof(int) == sizeof(tc_par_##fam),                 \
                   "every field of tc_par_" #fam " is described")

/* ---- gemm: matmul's cpu and gpu variants, linear, im2col convolution -------- */
static const field_desc gemm_fields[] = {
    FIELD(gemm, cpu_wg, 1, 1024, 1, "gemm_cpu work-items per group (8 rows each)"),
    FIELD(gemm, cpu_kc, 16, 4096, 1, "gemm_cpu B-panel rows staged in local memory"),
    FIELD(gemm, gpu_tile, 4, 128, 1, "gemm_gpu outputs per group edge (TS)"),
    FIELD(gemm, gpu_wpt, 1, 8, 1, "gemm_gpu outputs per work-item edge (WPT)"),
};
/* PoCL's CPU device (measured, docs/performance.md): a group of 16 work-items (128
 * rows) shares one B panel. GPUs: 64x64 tiles, 4x4 per work-item (16x16 groups).
 * Default: 32x32 tiles, 2x2 per item. cpu_kc: 32 KB panels, halved where local memory is small. */
static const row_desc gemm_rows[] = {
    {"pthread", TC_DEVICE_CPU, &(const tc_par_gemm){.cpu_wg = 16, .cpu_kc = 256, .gpu_tile = 64, .gpu_wpt = 4}},
    {"NVIDIA", TC_DEVICE_GPU, &(const tc_par_gemm){.cpu_wg = 32, .cpu_kc = 256, .gpu_tile = 64, .gpu_wpt = 4}},
    {"GeForce", TC_DEVICE_GPU, &(const tc_par_gemm){.cpu_wg = 32, .cpu_kc = 256, .gpu_tile = 64, .gpu_wpt = 4}},
    {NULL, TC_DEVICE_CPU, &(const tc_par_gemm){.cpu_wg = 32, .cpu_kc = 256, .gpu_tile = 32, .gpu_wpt = 2}},
    {NULL, TC_DEVICE_GPU, &(const tc_par_gemm){.cpu_wg = 32, .cpu_kc = 256, .gpu_tile = 64, .gpu_wpt = 4}},
    {NULL, TC_DEVICE_OTHER, &(const tc_par_gemm){.cpu_wg = 16, .cpu_kc = 256, .gpu_tile = 32, .gpu_wpt = 2}},
};

/* TS x TS outputs per group, WPT x WPT per work-item: WPT divides TS, at most 1024 work-items */
static const char *tile_rule(int tile, int wpt)
{
    if (wpt > tile) return "gpu_wpt must not exceed gpu_tile";
    if ((tile / wpt) * (tile / wpt) > 1024) return "(gpu_tile / gpu_wpt)^2 work-items must be at most 1024";
    return NULL;
}
static const char *gemm_rule(const void *v)
{
    const tc_par_gemm *p = v;
    return tile_rule(p->gpu_tile, p->gpu_wpt);
}

/* ---- gemv: matmul's memory-bound variant (M <= 8) ---------------------------- */
static const field_desc gemv_fields[] = {
    FIELD(gemv, wg, 1, 1024, 0, "gemv_t work-group; gemv_n's is a multiple for small M"),
};
/* PoCL: groups of 8 give 2 cores 4+ groups at N = 4096 */
static const row_desc gemv_rows[] = {
    {"pthread", TC_DEVICE_CPU, &(const tc_par_gemv){.wg = 8}},
    {"NVIDIA", TC_DEVICE_GPU, &(const tc_par_gemv){.wg = 128}},
    {"GeForce", TC_DEVICE_GPU, &(const tc_par_gemv){.wg = 128}},
    {NULL, TC_DEVICE_CPU, &(const tc_par_gemv){.wg = 64}},
    {NULL, TC_DEVICE_GPU, &(const tc_par_gemv){.wg = 128}},
    {NULL, TC_DEVICE_OTHER, &(const tc_par_gemv){.wg = 64}},
};

/* ---- conv: conv2d's gpu (implicit GEMM), im2col and cpu (direct) variants ------ */
static const field_desc conv_fields[] = {
    FIELD(conv, gpu_tile, 4, 128, 1, "conv_gpu outputs per group edge (TS)"),
    FIELD(conv, gpu_wpt, 1, 8, 1, "conv_gpu outputs per work-item edge (WPT)"),
    FIELD(conv, pixel_wg, 1, 1024, 0, "im2col and bias/ReLU work-items per group along pixels"),
    FIELD(conv, direct_wg, 0, 1, 0, "conv_cpu: 1 = one work-item per group, 0 = driver's choice"),
};
/* PoCL builds a kernel per local size and, left to choose, one per grid shape: the
 * direct kernels name one work-item per group on CPUs (docs/performance.md) */
static const row_desc conv_rows[] = {
    {"pthread", TC_DEVICE_CPU, &(const tc_par_conv){.gpu_tile = 64, .gpu_wpt = 4, .pixel_wg = 64, .direct_wg = 1}},
    {"NVIDIA", TC_DEVICE_GPU, &(const tc_par_conv){.gpu_tile = 64, .gpu_wpt = 4, .pixel_wg = 64, .direct_wg = 0}},
    {"GeForce", TC_DEVICE_GPU, &(const tc_par_conv){.gpu_tile = 64, .gpu_wpt = 4, .pixel_wg = 64, .direct_wg = 0}},
    {NULL, TC_DEVICE_CPU, &(const tc_par_conv){.gpu_tile = 32, .gpu_wpt = 2, .pixel_wg = 64, .direct_wg = 1}},
    {NULL, TC_DEVICE_GPU, &(const tc_par_conv){.gpu_tile = 64, .gpu_wpt = 4, .pixel_wg = 64, .direct_wg = 0}},
    {NULL, TC_DEVICE_OTHER, &(const tc_par_conv){.gpu_tile = 32, .gpu_wpt = 2, .pixel_wg = 64, .direct_wg = 0}},
};
static const char *conv_rule(const void *v)
{
    const tc_par_conv *p = v;
    return tile_rule(p->gpu_tile, p->gpu_wpt);
}

/* ---- eltwise: add, mul, relu, gelu; embedding: row gathers ------------------- */
static const field_desc eltwise_fields[] = {
    FIELD(eltwise, vw, 2, 16, 1, "floats per work-item (vloadN)"),
};
/* a float16 fills an AVX-512 register on CPUs; 4 keeps GPU loads coalesced */
static const row_desc eltwise_rows[] = {
    {NULL, TC_DEVICE_CPU, &(const tc_par_eltwise){.vw = 16}},
    {NULL, TC_DEVICE_OTHER, &(const tc_par_eltwise){.vw = 4}},
};
static const field_desc embedding_fields[] = {
    FIELD(embedding, vw, 2, 16, 1, "floats per work-item (vloadN)"),
};
static const row_desc embedding_rows[] = {
    {NULL, TC_DEVICE_CPU, &(const tc_par_embedding){.vw = 16}},
    {NULL, TC_DEVICE_OTHER, &(const tc_par_embedding){.vw = 4}},
};

/* ---- rows: softmax, layernorm, argmax (gpu variant: one group per row) -------- */
static const field_desc rows_fields[] = {
    FIELD(rows, wg, 1, 1024, 1, "work-group per row of the *_wg kernels"),
};
static const row_desc rows_rows[] = {
    {NULL, TC_DEVICE_OTHER, &(const tc_par_rows){.wg = 256}},
};

/* ---- pool: maxpool2d, avgpool2d ---------------------------------------------- */
static const field_desc pool_fields[] = {
    FIELD(pool, wg, 0, 1024, 0, "work-items per group along dimension 0; 0 = driver's choice"),
};
static const row_desc pool_rows[] = {
    {NULL, TC_DEVICE_OTHER, &(const tc_par_pool){.wg = 0}},
};

/* ---- igemm: the integer GEMM's variant for AUTO and its work-groups and tiles ---- */
static const field_desc igemm_fields[] = {
    FIELD(igemm, vnni, 0, 1, 0, "AUTO: vnni, then vnni256, where PoCL's host CPU has them"),
    FIELD(igemm, gpu, 0, 1, 0, "AUTO: the tiled gpu kernel (with neither, the portable opencl)"),
    FIELD(igemm, cpu_wg, 1, 1024, 1, "igemm_opencl / igemm_vnni work-items per group along M"),
    FIELD(igemm, gpu_tile, 4, 128, 1, "igemm_gpu outputs per group edge (TS)"),
    FIELD(igemm, gpu_wpt, 1, 8, 1, "igemm_gpu outputs per work-item edge (WPT)"),
};
/* CPUs try VNNI (only PoCL's device on a host with it runs it); GPUs the tiled kernel
 * with the tiles of gemm_gpu; 16 work-items (128 rows) of a group share a B panel */
static const row_desc igemm_rows[] = {
    {"pthread", TC_DEVICE_CPU,
     &(const tc_par_igemm){.vnni = 1, .gpu = 0, .cpu_wg = 16, .gpu_tile = 64, .gpu_wpt = 4}},
    {"NVIDIA", TC_DEVICE_GPU, &(const tc_par_igemm){.vnni = 0, .gpu = 1, .cpu_wg = 32, .gpu_tile = 64, .gpu_wpt = 4}},
    {"GeForce", TC_DEVICE_GPU, &(const tc_par_igemm){.vnni = 0, .gpu = 1, .cpu_wg = 32, .gpu_tile = 64, .gpu_wpt = 4}},
    {NULL, TC_DEVICE_CPU, &(const tc_par_igemm){.vnni = 1, .gpu = 0, .cpu_wg = 32, .gpu_tile = 32, .gpu_wpt = 2}},
    {NULL, TC_DEVICE_GPU, &(const tc_par_igemm){.vnni = 0, .gpu = 1, .cpu_wg = 32, .gpu_tile = 64, .gpu_wpt = 4}},
    {NULL, TC_DEVICE_OTHER, &(const tc_par_igemm){.vnni = 0, .gpu = 0, .cpu_wg = 16, .gpu_tile = 32, .gpu_wpt = 2}},
};
static const char *igemm_rule(const void *v)
{
    const tc_par_igemm *p = v;
    return tile_rule(p->gpu_tile, p->gpu_wpt);
}

/* ---- attention: tc_attention's cpu, gpu, opencl and split kernels -------------- */
static const field_desc attention_fields[] = {
    FIELD(attention, cpu_wg, 0, 1024, 0, "attn_cpu work-items per group (16 queries each); 0 = driver's choice"),
    FIELD(attention, gpu_wq, 1, 1024, 1, "attn_gpu queries per work-group"),
    FIELD(attention, gpu_tk, 1, 256, 1, "attn_gpu keys per local-memory tile"),
    FIELD(attention, dec_vec, 0, 1, 0, "decode: 1 = a work-item per query and split (attn_dec1), 0 = attn_dec"),
    FIELD(attention, dec_wg, 1, 1024, 1, "attn_dec work-items per query and split"),
    FIELD(attention, dec_tk, 16, 4096, 1, "attn_dec keys scored per local-memory pass"),
    FIELD(attention, split_keys, 16, 1 << 20, 0, "split: fewest keys per split"),
    FIELD(attention, split_groups, 1, 256, 0, "auto: split below this many groups per compute unit"),
};
/* CPUs: one work-item per group (PoCL builds a kernel per local size; a group runs as
 * a loop on one core) and decode by work-items with head_dim in vectors; GPUs: 64
 * queries per group, 32-key tiles, decode by work-groups */
static const row_desc attention_rows[] = {
    {NULL, TC_DEVICE_CPU,
     &(const tc_par_attention){.cpu_wg = 1, .gpu_wq = 16, .gpu_tk = 32, .dec_vec = 1, .dec_wg = 16, .dec_tk = 256,
                               .split_keys = 512, .split_groups = 2}},
    {NULL, TC_DEVICE_OTHER,
     &(const tc_par_attention){.cpu_wg = 0, .gpu_wq = 64, .gpu_tk = 32, .dec_vec = 0, .dec_wg = 64, .dec_tk = 256,
                               .split_keys = 256, .split_groups = 4}},
};

/* ---- sparse: spmv, spmm, sparse linear and conv plans ------------------------ */
static const field_desc sparse_fields[] = {
    FIELD(sparse, cpu_vw, 2, 16, 1, "spmm_cpu floats per vector over batch columns"),
    FIELD(sparse, cpu_rows, 1, 32, 0, "spmm_cpu / spmv_cpu block rows per work-item"),
    FIELD(sparse, gpu_wg, 1, 1024, 1, "spmm_gpu / spmv_gpu work-items per group"),
    FIELD(sparse, breakeven_b1, 0, 100, 0, "sparse linear AUTO: sparse from this % at batch <= 8"),
    FIELD(sparse, breakeven_b32, 0, 100, 0, "sparse linear AUTO: sparse from this % at batch > 8"),
    FIELD(sparse, conv_breakeven, 0, 100, 0, "models: a pruned conv2d runs sparse from this % (100: never)"),
};
/* Breakevens measured by `tinycl bench sparse` (docs/performance.md, Sparse layers);
 * devices not measured stay dense until 90% sparsity. The sparse convolution (im2col,
 * then the sparse product) was slower than the dense conv2d plan at every size and
 * sparsity up to 99% measured on PoCL (docs/performance.md, Pruned models), so models
 * keep pruned convolutions dense until a device's measurements say otherwise. */
static const row_desc sparse_rows[] = {
    {"pthread", TC_DEVICE_CPU,
     &(const tc_par_sparse){.cpu_vw = 16, .cpu_rows = 8, .gpu_wg = 64, .breakeven_b1 = 70, .breakeven_b32 = 70,
                            .conv_breakeven = 100}},
    {NULL, TC_DEVICE_CPU,
     &(const tc_par_sparse){.cpu_vw = 8, .cpu_rows = 8, .gpu_wg = 64, .breakeven_b1 = 90, .breakeven_b32 = 90,
                            .conv_breakeven = 100}},
    {NULL, TC_DEVICE_OTHER,
     &(const tc_par_sparse){.cpu_vw = 4, .cpu_rows = 8, .gpu_wg = 64, .breakeven_b1 = 90, .breakeven_b32 = 90,
                            .conv_breakeven = 100}},
};

DESCRIBED(gemm);
DESCRIBED(gemv);
DESCRIBED(conv);
DESCRIBED(eltwise);
DESCRIBED(rows);
DESCRIBED(pool);
DESCRIBED(embedding);
DESCRIBED(igemm);
DESCRIBED(attention);
DESCRIBED(sparse);

/* in the order of tc_params */
static const family_desc families[] = {
    FAMILY(gemm, gemm_rule), FAMILY(gemv, NULL), FAMILY(conv, conv_rule), FAMILY(eltwise, NULL),
    FAMILY(rows, NULL),      FAMILY(pool, NULL), FAMILY(embedding, NULL), FAMILY(igemm, igemm_rule),
    FAMILY(attention, NULL),
    FAMILY(sparse, NULL),
};
_Static_assert(sizeof families / sizeof families[0] <= TC_PARAM_FAMILIES_MAX, "raise TC_PARAM_FAMILIES_MAX");
_Static_assert(sizeof(tc_params) / sizeof(int) <= TC_PARAM_FIELDS_MAX, "raise TC_PARAM_FIELDS_MAX");

static int *field_ptr(tc_params *v, const family_desc *f, const field_desc *d)
{
    return (int *)((char *)v + f->off + d->off);
}

static int field_index(const family_desc *f, const field_desc *d)
{
    return (int)((f->off + d->off) / sizeof(int));
}

static int row_for(const family_desc *f, const char *device_name, tc_device_type type)
{
    for (int i = 0; i + 1 < f->nrows; i++) {
        const row_desc *r = &f->rows[i];
        if (r->type == type && (!r->match || (device_name && strstr(device_name, r->match)))) return i;
    }
    return f->nrows - 1;
}

static void row_label(const row_desc *r, int last, char *buf, size_t n)
{
    const char *t = tc_device_type_name(r->type);
    if (last)
        snprintf(buf, n, "default row");
    else if (r->match)
        snprintf(buf, n, "row '%s' %s", r->match, t);
    else
        snprintf(buf, n, "row any %s", t);
}

static const family_desc *family_named(const char *name, size_t len)
{
    for (int i = 0; i < COUNT(families); i++)
        if (strlen(families[i].name) == len && strncmp(families[i].name, name, len) == 0) return &families[i];
    return NULL;
}

static void list_names(char *buf, size_t n, const family_desc *f)
{
    size_t used = 0;
    buf[0] = '\0';
    const int count = f ? f->nfields : COUNT(families);
    for (int i = 0; i < count && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", f ? f->fields[i].name : families[i].name);
}

/* Applies "family.field=value,..." to *v (origins to src[] as `origin`); on a bad
 * entry returns TC_ERR_INVALID_ARG with the message in ctx (or the thread's
 * error) and leaves *v and src as they were. */
static tc_status apply(tc_ctx *ctx, tc_params *v, const char **src, const char *spec, const char *origin)
{
    tc_params nv = *v;
    const char *nsrc[TC_PARAM_FIELDS_MAX];
    memcpy(nsrc, src, sizeof nsrc);
    char names[256];
    for (const char *p = spec; *p;) {
        const char *end = p + strcspn(p, ","), *next = *end ? end + 1 : end;
        while (p < end && *p == ' ')
            p++;
        while (end > p && end[-1] == ' ')
            end--;
        const int len = (int)(end - p);
        if (!len) { /* an empty entry, as after a trailing comma */
            p = next;
            continue;
        }
        const char *dot = memchr(p, '.', (size_t)len), *eq = memchr(p, '=', (size_t)len);
        if (!dot || !eq || eq < dot)
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: '%.*s' is not family.field=value", origin, len, p);
        const family_desc *f = family_named(p, (size_t)(dot - p));
        if (!f) {
            list_names(names, sizeof names, NULL);
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: unknown family '%.*s' (families: %s)", origin, (int)(dot - p),
                           p, names);
        }
        const size_t flen = (size_t)(eq - dot - 1);
        const field_desc *d = NULL;
        for (int i = 0; i < f->nfields && !d; i++)
            if (strlen(f->fields[i].name) == flen && strncmp(f->fields[i].name, dot + 1, flen) == 0) d = &f->fields[i];
        if (!d) {
            list_names(names, sizeof names, f);
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: %s has no field '%.*s' (fields: %s)", origin, f->name,
                           (int)flen, dot + 1, names);
        }
        const int nlen = (int)(end - eq - 1);
        char num[32], *nend;
        snprintf(num, sizeof num, "%.*s", nlen, eq + 1);
        errno = 0;
        const long x = strtol(num, &nend, 10);
        if (nlen < 1 || nlen >= (int)sizeof num || *nend || errno || x < d->min || x > d->max ||
            (d->pow2 && (x & (x - 1))))
            return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: %s.%s=%.*s: must be an integer in %d..%d%s", origin, f->name,
                           d->name, nlen, eq + 1, d->min, d->max, d->pow2 ? ", a power of two" : "");
        *field_ptr(&nv, f, d) = (int)x;
        nsrc[field_index(f, d)] = origin;
        p = next;
    }
    for (int i = 0; i < COUNT(families); i++) {
        const char *broken = families[i].rule ? families[i].rule((const char *)&nv + families[i].off) : NULL;
        if (broken) return tc_fail(ctx, TC_ERR_INVALID_ARG, "%s: %s: %s", origin, families[i].name, broken);
    }
    *v = nv;
    memcpy(src, nsrc, sizeof nsrc);
    return TC_OK;
}

tc_status tc_params_init(tc_ctx *ctx)
{
    memset(&ctx->origin, 0, sizeof ctx->origin);
    for (int i = 0; i < COUNT(families); i++) {
        const family_desc *f = &families[i];
        const int r = row_for(f, ctx->info.name, ctx->info.type);
        ctx->origin.row[i] = r;
        memcpy((char *)&ctx->params + f->off, f->rows[r].values, (size_t)f->nfields * sizeof(int));
    }
    const char *env = getenv("TINYCL_PARAMS");
    return env ? apply(NULL, &ctx->params, ctx->origin.src, env, "TINYCL_PARAMS") : TC_OK;
}

tc_status tc_kernel_params_set(tc_ctx *ctx, const char *spec)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_kernel_params_set: ctx is NULL");
    if (!spec) {
        const tc_params keep = ctx->params;
        const tc_params_origin okeep = ctx->origin;
        tc_status st = tc_params_init(ctx);
        if (st != TC_OK) {
            ctx->params = keep, ctx->origin = okeep;
            snprintf(ctx->err, sizeof ctx->err, "%s", tc_last_error(NULL));
            return st;
        }
        return TC_OK;
    }
    tc_status st = apply(ctx, &ctx->params, ctx->origin.src, spec, "tc_kernel_params_set");
    if (st == TC_OK) memset(ctx->origin.note, 0, sizeof ctx->origin.note);
    return st;
}

tc_status tc_kernel_params_print(const tc_ctx *ctx, FILE *out)
{
    if (!ctx || !out) return tc_fail((tc_ctx *)ctx, TC_ERR_INVALID_ARG, "tc_kernel_params_print: NULL argument");
    fprintf(out, "%-20s %6s  %-24s %s\n", "parameter", "value", "from", "sets");
    for (int i = 0; i < COUNT(families); i++) {
        const family_desc *f = &families[i];
        char row[64];
        row_label(&f->rows[ctx->origin.row[i]], ctx->origin.row[i] == f->nrows - 1, row, sizeof row);
        for (int j = 0; j < f->nfields; j++) {
            const field_desc *d = &f->fields[j];
            const int idx = field_index(f, d);
            char name[48];
            snprintf(name, sizeof name, "%s.%s", f->name, d->name);
            fprintf(out, "%-20s %6d  %-24s %s\n", name, *field_ptr((tc_params *)&ctx->params, f, d),
                    ctx->origin.src[idx] ? ctx->origin.src[idx] : row, d->what);
            if (ctx->origin.note[idx][0]) fprintf(out, "%-20s %6s  launched with %s\n", "", "", ctx->origin.note[idx]);
        }
    }
    return ferror(out) ? tc_fail((tc_ctx *)ctx, TC_ERR_IO, "tc_kernel_params_print: write failed") : TC_OK;
}

void tc_param_note(tc_ctx *ctx, const int *field, const char *fmt, ...)
{
    const ptrdiff_t idx = field - (const int *)&ctx->params;
    if (idx < 0 || (size_t)idx >= sizeof ctx->params / sizeof(int)) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->origin.note[idx], TC_PARAM_NOTE_LEN, fmt, ap);
    va_end(ap);
}

size_t tc_fit_wg(tc_ctx *ctx, cl_kernel k, const char *kname, const int *field, size_t want, int pow2)
{
    const size_t max = tc_kernel_wg_max(ctx, k);
    if (want <= max) return want;
    size_t got = max;
    if (pow2)
        for (got = 1; got * 2 <= max; got *= 2) {
        }
    tc_param_note(ctx, field, "%zu: CL_KERNEL_WORK_GROUP_SIZE of %s is %zu (wanted %zu)", got, kname, max, want);
    return got;
}

tc_status tc_tile_kernel(tc_ctx *ctx, const char *program, const char *kernel, const int *tile, const int *wpt,
                         cl_kernel *k, int *ts)
{
    /* halve the tile (a fresh build) until its (TS / WPT)^2 work-items fit the kernel */
    for (*ts = *tile;; *ts /= 2) {
        char opts[64];
        snprintf(opts, sizeof opts, "-DTS=%d -DWPT=%d", *ts, *wpt);
        tc_status st = tc_get_kernel(ctx, program, opts, kernel, k);
        if (st != TC_OK) return st;
        const size_t items = (size_t)(*ts / *wpt) * (size_t)(*ts / *wpt), max = tc_kernel_wg_max(ctx, *k);
        if (items <= max) {
            if (*ts != *tile)
                tc_param_note(ctx, tile, "%d: CL_KERNEL_WORK_GROUP_SIZE of %s is %zu, below (%d/%d)^2", *ts, kernel,
                              max, *tile, *wpt);
            return TC_OK;
        }
        if (*ts / 2 < *wpt)
            return tc_fail(ctx, TC_ERR_UNSUPPORTED, "%s: even a %dx%d tile needs %zu work-items; the kernel takes %zu",
                           kernel, *ts, *ts, items, max);
    }
}
