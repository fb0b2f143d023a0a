/* Helpers of the fuzz targets (fuzz.h). */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model/format.h"

int fz_contexts(tc_ctx **out)
{
    static tc_ctx *ctx[FZ_CTX_MAX];
    static int n;
    if (!n) {
        if (tc_ctx_create("ref", 0, &ctx[0]) != TC_OK) fz_fail("ref: %s", tc_last_error(NULL));
        if (tc_ctx_create("openblas", 0, &ctx[1]) != TC_OK) fz_fail("openblas: %s", tc_last_error(NULL));
        n = 2;
        if (tc_ctx_create(NULL, 0, &ctx[2]) == TC_OK && !tc_ctx_is_ref(ctx[2]))
            n = 3;
        else
            tc_ctx_free(ctx[2]);
        fprintf(stderr, "fuzzing on ref, openblas%s%s\n", n > 2 ? " and " : "", n > 2 ? tc_ctx_device(ctx[2])->name : "");
    }
    memcpy(out, ctx, sizeof ctx);
    return n;
}

/* A path whose file holds exactly data[0..n): a memfd, rewritten by each call. */
static const char *fz_file(const void *data, size_t n)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("tinycl-fuzz", 0);
        if (fd < 0) fz_fail("memfd_create failed");
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (n && pwrite(fd, data, n, 0) != (ssize_t)n)) fz_fail("writing the memfd failed");
    return path;
}

#define MAX_ROWS 128
static struct {
    const char *what;
    unsigned long long n[TC_STATUS_COUNT + 1];
} g_rows[MAX_ROWS];
static int g_nrows;

static void print_counts(void)
{
    fprintf(stderr, "cases tried, by outcome:\n");
    for (int i = 0; i < g_nrows; i++) {
        unsigned long long total = 0;
        for (int s = 0; s <= TC_STATUS_COUNT; s++) total += g_rows[i].n[s];
        fprintf(stderr, "  %-22s %10llu:", g_rows[i].what, total);
        for (int s = 0; s <= TC_STATUS_COUNT; s++)
            if (g_rows[i].n[s])
                fprintf(stderr, " %s %llu", s < TC_STATUS_COUNT ? tc_status_name((tc_status)s) : "skipped",
                        g_rows[i].n[s]);
        fprintf(stderr, "\n");
    }
}

void fz_count(const char *what, tc_status s)
{
    int i = 0;
    while (i < g_nrows && strcmp(g_rows[i].what, what) != 0) i++;
    if (i == g_nrows) {
        if (i == MAX_ROWS) return;
        if (!g_nrows) atexit(print_counts);
        g_rows[g_nrows++].what = what;
    }
    g_rows[i].n[s >= 0 && s < TC_STATUS_COUNT ? s : TC_STATUS_COUNT]++;
}

/* load on every context, the first one's status counted under `mode`. */
static void load_everywhere(const uint8_t *data, size_t n, const char *fn, const char *mode,
                            tc_status (*load)(tc_ctx *, const char *, const uint8_t *))
{
    tc_ctx *ctx[FZ_CTX_MAX];
    const int nctx = fz_contexts(ctx);
    const char *path = fz_file(data, n);
    tc_status first = TC_OK;
    for (int c = 0; c < nctx; c++) {
        const tc_status s = load(ctx[c], path, data);
        if (c == 0) {
            fz_count(mode, s);
            first = s;
        } else if (s != first && s != TC_ERR_OUT_OF_MEMORY) {
            fz_fail("%s: %s on %s, %s on %s", fn, tc_status_name(first), ctx[0]->info.name, tc_status_name(s),
                    ctx[c]->info.name);
        }
    }
}

void fz_load_file(const uint8_t *data, size_t n, const char *fn,
                  tc_status (*load)(tc_ctx *ctx, const char *path, const uint8_t *bytes))
{
    load_everywhere(data, n, fn, "as given", load);
    uint32_t stored;
    if (n < 4 || (memcpy(&stored, data + n - 4, 4), stored == tc_crc32(data, n - 4))) return;
    uint8_t *copy = malloc(n);
    if (!copy) fz_fail("out of host memory");
    memcpy(copy, data, n);
    stored = tc_crc32(copy, n - 4);
    memcpy(copy + n - 4, &stored, 4);
    load_everywhere(copy, n, fn, "crc fixed", load);
    free(copy);
}

void fz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FUZZ FINDING: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

void fz_check_empty(const tc_ctx *ctx, const char *where)
{
    size_t scratch = 0;
    for (int i = 0; i < TC_SCRATCH_SLOTS; i++) scratch += ctx->scratch_bytes[i];
    if (tc_ctx_mem_current(ctx) != scratch)
        fz_fail("%s on %s: %zu bytes of tensors still counted", where, ctx->info.name,
                tc_ctx_mem_current(ctx) - scratch);
}

void fz_check_tensor(const tc_tensor *t, const void *before, const char *where)
{
    if (!tc_tensor_guards_intact(t)) fz_fail("%s on %s: a guard byte changed", where, t->ctx->info.name);
    if (!before) return;
    void *now = malloc(t->bytes);
    if (!now || tc_tensor_read(t, now, t->bytes) != TC_OK) fz_fail("%s: reading back failed", where);
    if (memcmp(now, before, t->bytes) != 0) fz_fail("%s on %s: a failed call changed its output", where, t->ctx->info.name);
    free(now);
}
