/* On-disk cache of compiled program binaries, for drivers without one of their
 * own. A file per (sources, build options, device name, driver version, platform
 * version), named by a hash of them and holding the full key, so that a hash
 * collision or a changed driver never loads a foreign binary; a CRC-32 over the
 * binary catches damage. Files are written to a temporary name and renamed, so a
 * reader sees a whole file or none. Any problem only means a build from source. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "model/format.h"

#define MAGIC "tinycl-program-binary-1\n"

static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

/* mkdir -p; 0 on success */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int bad = mkdir(path, 0755) != 0 && errno != EEXIST;
        *p = '/';
        if (bad) return -1;
    }
    struct stat st;
    return (mkdir(path, 0755) == 0 || errno == EEXIST) && stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

int tc_cache_dir(const tc_ctx *ctx, char *buf, size_t n)
{
    const char *mode = getenv("TINYCL_CACHE");
    if (mode && strcmp(mode, "0") == 0) return 0;
    /* PoCL keeps its own cache of compiled kernels, and handing out a binary makes it
     * compile every kernel of the program first (docs/performance.md): on only when asked */
    if (!(mode && strcmp(mode, "1") == 0) && strstr(ctx->info.platform, "Portable Computing Language")) return 0;
    const char *dir = getenv("TINYCL_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int len = dir && *dir   ? snprintf(buf, n, "%s", dir)
              : xdg && *xdg ? snprintf(buf, n, "%s/tinycl", xdg)
              : home && *home ? snprintf(buf, n, "%s/.cache/tinycl", home)
                              : -1;
    return len > 0 && (size_t)len < n && make_dirs(buf) == 0;
}

void tc_cache_key(tc_ctx *ctx, const char *const *srcs, int nsrcs, const char *options, tc_cache_entry *e)
{
    char pver[256] = "";
    if (clGetPlatformInfo(ctx->platform, CL_PLATFORM_VERSION, sizeof pver, pver, NULL) != CL_SUCCESS) pver[0] = '\0';
    pver[sizeof pver - 1] = '\0';
    uint64_t hs = 0xcbf29ce484222325ull;
    size_t total = 0;
    for (int i = 0; i < nsrcs; i++) {
        size_t len = strlen(srcs[i]);
        hs = fnv1a(hs, srcs[i], len + 1); /* the NUL separates the sources */
        total += len;
    }
    snprintf(e->key, sizeof e->key, "sources %zu bytes, hash %016llx\noptions %s\ndevice %s\ndriver %s\nplatform %s\n",
             total, (unsigned long long)hs, options, ctx->info.name, ctx->info.driver, pver);
    e->hash = fnv1a(0xcbf29ce484222325ull, e->key, strlen(e->key));
}

static void entry_path(const char *dir, const char *program, const tc_cache_entry *e, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s-%016llx.bin", dir, program, (unsigned long long)e->hash);
}

static int read_all(const char *path, unsigned char **data, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    *data = len > 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)len) : NULL;
    int ok = *data && fread(*data, 1, (size_t)len, f) == (size_t)len;
    fclose(f);
    if (!ok) {
        free(*data);
        *data = NULL;
        return 0;
    }
    *n = (size_t)len;
    return 1;
}

/* File: MAGIC, key length (u32), key, binary length (u64), CRC-32 of the binary (u32), binary. */
int tc_cache_load(const char *dir, const char *program, const tc_cache_entry *e, unsigned char **bin, size_t *n)
{
    char path[1200];
    entry_path(dir, program, e, path, sizeof path);
    unsigned char *data;
    size_t len;
    if (!read_all(path, &data, &len)) return 0;
    const size_t mlen = sizeof MAGIC - 1, klen = strlen(e->key);
    uint32_t fk, crc;
    uint64_t blen;
    size_t head = mlen + 4 + klen + 8 + 4;
    int ok = len >= head && memcmp(data, MAGIC, mlen) == 0;
    if (ok) {
        memcpy(&fk, data + mlen, 4);
        ok = fk == klen && memcmp(data + mlen + 4, e->key, klen) == 0;
    }
    if (ok) {
        memcpy(&blen, data + mlen + 4 + klen, 8);
        memcpy(&crc, data + mlen + 4 + klen + 8, 4);
        ok = blen == len - head && blen > 0 && tc_crc32(data + head, (size_t)blen) == crc;
    }
    if (!ok) {
        free(data);
        return 0;
    }
    memmove(data, data + head, (size_t)blen);
    *bin = data;
    *n = (size_t)blen;
    return 1;
}

int tc_cache_store(const char *dir, const char *program, const tc_cache_entry *e, const unsigned char *bin, size_t n)
{
    char path[1200], tmp[1300];
    entry_path(dir, program, e, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return 0;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        return 0;
    }
    const uint32_t klen = (uint32_t)strlen(e->key), crc = tc_crc32(bin, n);
    const uint64_t blen = n;
    int ok = fwrite(MAGIC, 1, sizeof MAGIC - 1, f) == sizeof MAGIC - 1 && fwrite(&klen, 4, 1, f) == 1 &&
             fwrite(e->key, 1, klen, f) == klen && fwrite(&blen, 8, 1, f) == 1 && fwrite(&crc, 4, 1, f) == 1 &&
             fwrite(bin, 1, n, f) == n;
    ok = fclose(f) == 0 && ok;
    if (ok && rename(tmp, path) == 0) return 1;
    unlink(tmp);
    return 0;
}
