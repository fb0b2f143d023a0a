/* The program binary cache: a cold context writes entries, a warm one loads them;
 * damaged or stale entries are ignored and rewritten; TINYCL_CACHE=0 and an
 * unusable directory only mean building from source. PoCL, which caches
 * kernels itself, uses it only with TINYCL_CACHE=1, which the tests set. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static char root[64], dir[128];

/* A fresh, empty cache directory for one test. */
static void use_dir(const char *name)
{
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    assert_int_equal(mkdir(dir, 0755), 0);
    setenv("TINYCL_CACHE_DIR", dir, 1);
    setenv("TINYCL_CACHE", "1", 1);
}

/* Number of entries, failing on left-over temporary files. */
static int entries(char names[][512], int cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".bin") != 0) fail_msg("stray file %s in the cache", e->d_name);
        if (n < cap) snprintf(names[n], 512, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

/* A fresh context runs relu; returns it for its cache counters. */
static tc_ctx *run_relu(void)
{
    tc_ctx *ctx = th_ctx();
    const float x[5] = {-2.0f, -0.5f, 0.0f, 0.25f, 3.0f};
    float y[5];
    tc_tensor *t = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, TH_DIMS(5), x, &t), TC_OK);
    if (tc_relu(ctx, t, t, NULL) != TC_OK) fail_msg("%s", tc_last_error(ctx));
    assert_int_equal(tc_tensor_read(t, y, sizeof y), TC_OK);
    for (int i = 0; i < 5; i++) assert_true(y[i] == (x[i] > 0 ? x[i] : 0.0f));
    tc_tensor_free(t);
    return ctx;
}

static int is_ref(void)
{
    tc_ctx *ctx = th_ctx();
    int r = tc_ctx_is_ref(ctx);
    tc_ctx_free(ctx);
    return r;
}

static void expect_run(int hits, int writes)
{
    tc_ctx *ctx = run_relu();
    if (ctx->cache_hits != hits || ctx->cache_writes != writes)
        fail_msg("cache hits %d, writes %d; expected %d, %d", ctx->cache_hits, ctx->cache_writes, hits, writes);
    tc_ctx_free(ctx);
}

static void test_cold_then_warm(void **state)
{
    (void)state;
    if (is_ref()) skip();
    use_dir("warm");
    expect_run(0, 1);
    char names[4][512];
    assert_int_equal(entries(names, 4), 1);
    expect_run(1, 0);
    expect_run(1, 0);
}

/* Each kind of damage: the entry is ignored, the program built from source and the entry rewritten. */
static void test_damaged_entries(void **state)
{
    (void)state;
    if (is_ref()) skip();
    use_dir("damaged");
    expect_run(0, 1);
    char names[4][512];
    assert_int_equal(entries(names, 4), 1);
    /* PoCL's binary carries every work-group size compiled so far: its size varies */
    FILE *f = fopen(names[0], "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    const long size = ftell(f);
    assert_true(size > 100);
    rewind(f);
    unsigned char *good = malloc((size_t)size), *bad = malloc((size_t)size);
    assert_non_null(good);
    assert_non_null(bad);
    size_t n = fread(good, 1, (size_t)size, f);
    fclose(f);
    assert_int_equal(n, (size_t)size);
    const char *stale = memmem(good, n, "\ndriver ", 8);
    assert_non_null(stale);
    const size_t at_key = (size_t)(stale - (const char *)good) + 8;
    for (int kind = 0; kind < 5; kind++) {
        size_t len = n;
        memcpy(bad, good, n);
        switch (kind) {
        case 0: len = n / 2; break;         /* truncated */
        case 1: bad[n - 1] ^= 0x40; break;  /* a flipped bit in the binary */
        case 2: bad[at_key] ^= 0x01; break; /* another driver version: stale */
        case 3: bad[0] = 'X'; break;        /* not a cache file */
        case 4: len = 0; break;             /* empty */
        }
        f = fopen(names[0], "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(bad, 1, len, f), len);
        fclose(f);
        expect_run(0, 1);
        assert_int_equal(entries(names, 4), 1);
        expect_run(1, 0);
    }
    free(good);
    free(bad);
}

static void test_off_and_unusable(void **state)
{
    (void)state;
    if (is_ref()) skip();
    use_dir("off");
    setenv("TINYCL_CACHE", "0", 1);
    expect_run(0, 0);
    char names[4][512];
    assert_int_equal(entries(names, 4), 0);
    /* by default on for every driver but PoCL */
    unsetenv("TINYCL_CACHE");
    tc_ctx *ctx = th_ctx();
    const int pocl = strstr(tc_ctx_device(ctx)->platform, "Portable Computing Language") != NULL;
    tc_ctx_free(ctx);
    expect_run(0, !pocl);
    assert_int_equal(entries(names, 4), !pocl);
    /* a cache "directory" that is a regular file */
    setenv("TINYCL_CACHE", "1", 1);
    char file[160];
    snprintf(file, sizeof file, "%s/a-file", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    setenv("TINYCL_CACHE_DIR", file, 1);
    expect_run(0, 0);
    unlink(file);
}

static int make_root(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/tinycl_cache_XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int remove_root(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cold_then_warm),
        cmocka_unit_test(test_damaged_entries),
        cmocka_unit_test(test_off_and_unusable),
    };
    return cmocka_run_group_tests(tests, make_root, remove_root);
}
