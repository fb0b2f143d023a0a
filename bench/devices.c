/* tinycl devices / tinycl check */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "tinycl/tinycl.h"

const char *cli_opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return NULL;
}

int cli_known(int argc, char **argv, const char *const *names)
{
    for (int i = 0; i < argc; i += 2) {
        int ok = 0;
        for (const char *const *n = names; *n && !ok; n++) ok = strcmp(argv[i], *n) == 0;
        if (!ok || i + 1 >= argc) {
            fprintf(stderr, "tinycl: %s '%s'\n", ok ? "missing value for" : "unknown option", argv[i]);
            return 0;
        }
    }
    return 1;
}

int cli_devices(int argc, char **argv)
{
    (void)argv;
    if (argc) {
        fprintf(stderr, "tinycl devices takes no options\n");
        return 2;
    }
    int n = tc_device_count();
    printf("%-6s %-5s %-58s %4s %10s %-16s %s\n", "id", "type", "name", "CUs", "memory", "driver", "extensions");
    for (int i = 0; i < n; i++) {
        tc_device_info d;
        if (tc_device_get(i, &d) != TC_OK) continue;
        char id[16];
        if (i == 0)
            snprintf(id, sizeof id, "ref");
        else
            snprintf(id, sizeof id, "cl:%d", i - 1);
        char ext[96] = "";
        if (i) {
            snprintf(ext, sizeof ext, "%s%s%s%s", d.has_fp64 ? "fp64 " : "", d.has_fp16 ? "fp16 " : "",
                     d.has_int_dot ? "int-dot " : "", d.has_subgroups ? "subgroups" : "");
        }
        char mem[32] = "host";
        if (i) snprintf(mem, sizeof mem, "%.1f GiB", (double)d.global_mem_bytes / 1073741824.0);
        printf("%-6s %-5s %-58.58s %4u %10s %-16.16s %s\n", id, tc_device_type_name(d.type), d.name, d.compute_units,
               mem, d.driver, ext);
        if (i) printf("%-6s       platform: %s; %s; local memory %llu KiB; max work-group %zu\n", "",
                      d.platform, d.version, (unsigned long long)(d.local_mem_bytes / 1024), d.max_work_group);
    }
    const char *why = tc_device_probe_message();
    if (why[0]) printf("note: %s\n", why);
    return 0;
}

typedef struct {
    int shown, failed, skipped, passed;
    const char *device;
} check_tally;

static void on_result(const tc_check_result *r, void *user)
{
    check_tally *t = user;
    if (r->skipped) {
        t->skipped++;
        return;
    }
    char shape[200];
    if (r->view_offset)
        snprintf(shape, sizeof shape, "%s view+%lld", r->shape, (long long)r->view_offset);
    else
        snprintf(shape, sizeof shape, "%s", r->shape);
    if (r->passed) {
        t->passed++;
        printf("  ok    %-10s %-8s %-40s err %.2e\n", r->op, tc_variant_name(r->variant), shape, r->err);
    } else {
        t->failed++;
        printf("  FAIL  %-10s %-8s %-40s seed %llu: %s\n", r->op, tc_variant_name(r->variant), shape,
               (unsigned long long)r->seed, r->message);
    }
}

int cli_check(int argc, char **argv)
{
    static const char *const known[] = {"--device", "--op", "--variant", "--seed", NULL};
    if (!cli_known(argc, argv, known)) return 2;
    const char *dev = cli_opt(argc, argv, "--device"), *op = cli_opt(argc, argv, "--op");
    const char *var = cli_opt(argc, argv, "--variant"), *seed_s = cli_opt(argc, argv, "--seed");
    uint64_t seed = seed_s ? strtoull(seed_s, NULL, 10) : 20261122u;
    tc_variant v = TC_VARIANT_AUTO;
    if (var && tc_variant_parse(var, &v) != TC_OK) {
        fprintf(stderr, "tinycl check: %s\n", tc_last_error(NULL));
        return 2;
    }
    int first = 0, last = tc_device_count() - 1;
    if (dev) {
        if (tc_device_find(dev, &first) != TC_OK) {
            fprintf(stderr, "tinycl check: %s\n", tc_last_error(NULL));
            return 2;
        }
        last = first;
    }
    int total_failed = 0, total_passed = 0, total_skipped = 0;
    for (int i = first; i <= last; i++) {
        tc_device_info info;
        tc_device_get(i, &info);
        char spec[16];
        snprintf(spec, sizeof spec, "%d", i);
        tc_ctx *ctx;
        if (tc_ctx_create(spec, 0, &ctx) != TC_OK) {
            printf("device %s: cannot create a context: %s\n", info.name, tc_last_error(NULL));
            total_failed++;
            continue;
        }
        printf("device %s (seed %llu)\n", info.name, (unsigned long long)seed);
        check_tally t = {0, 0, 0, 0, info.name};
        int failures = 0;
        if (tc_check_run(ctx, op, v, seed, on_result, &t, &failures) != TC_OK) {
            fprintf(stderr, "tinycl check: %s\n", tc_last_error(ctx));
            tc_ctx_free(ctx);
            return 2;
        }
        printf("  %d passed, %d failed, %d skipped (variant not available for the shape or device)\n", t.passed,
               t.failed, t.skipped);
        total_failed += t.failed;
        total_passed += t.passed;
        total_skipped += t.skipped;
        tc_ctx_free(ctx);
    }
    const char *why = tc_device_probe_message();
    if (why[0]) printf("note: %s\n", why);
    printf("check: %d passed, %d failed\n", total_passed, total_failed);
    return total_failed ? 1 : 0;
}
