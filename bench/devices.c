/* tinycl devices, tinycl ops, tinycl check */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "check/opdesc.h"

int cli_devices(const cli_args *a)
{
    cli_args sel = *a; /* what TINYCL_DEVICE selects, checked before printing */
    const char *env = getenv("TINYCL_DEVICE");
    if (env && *env && cli_resolve_devices(&sel, env, "TINYCL_DEVICE")) return 2;
    int n = tc_device_count();
    printf("%-8s %-5s %-58s %4s %10s %-16s %s\n", "id", "type", "name", "CUs", "memory", "driver", "extensions");
    for (int i = 0; i < n; i++) {
        tc_device_info d;
        if (tc_device_get(i, &d) != TC_OK) continue;
        char id[16];
        cli_device_id(i, id, sizeof id);
        char ext[96] = "";
        if (i) {
            snprintf(ext, sizeof ext, "%s%s%s%s", d.has_fp64 ? "fp64 " : "", d.has_fp16 ? "fp16 " : "",
                     d.has_int_dot ? "int-dot " : "", d.has_subgroups ? "subgroups" : "");
        }
        char mem[32] = "host";
        if (i) snprintf(mem, sizeof mem, "%.1f GiB", (double)d.global_mem_bytes / 1073741824.0);
        printf("%-8s %-5s %-58.58s %4u %10s %-16.16s %s\n", id, tc_device_type_name(d.type), d.name, d.compute_units,
               mem, d.driver, ext);
        if (i) printf("%-8s       platform: %s; %s; local memory %llu KiB; max work-group %zu\n", "",
                      d.platform, d.version, (unsigned long long)(d.local_mem_bytes / 1024), d.max_work_group);
        if (i == 0 && cli_device_info(CLI_OPENBLAS, &d) == TC_OK) { /* ref again, its GEMMs on OpenBLAS */
            printf("%-8s %-5s %-58.58s %4u %10s %-16.16s\n", cli_device_id(CLI_OPENBLAS, id, sizeof id),
                   tc_device_type_name(d.type), d.name, d.compute_units, "host", d.driver);
            printf("%-8s       ref with matmul, linear and conv2d on %s\n", "", d.version);
        }
    }
    if (sel.ndevices) {
        printf("TINYCL_DEVICE=%s selects", env);
        for (int i = 0; i < sel.ndevices; i++) {
            char id[16];
            printf("%s %s", i ? "," : "", cli_device_id(sel.devices[i], id, sizeof id));
        }
        printf(" for check, bench, eval and peak\n");
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

int cli_ops(const cli_args *a)
{
    (void)a;
    for (int i = 0; i < tc_opdesc_count(); i++) {
        const tc_opdesc *op = tc_opdesc_get(i);
        printf("%-15s variants:", op->name);
        for (int v = 0; v < op->nvariants; v++) printf("%s%s", v ? "," : " ", tc_variant_name(op->variants[v]));
        printf("\n%-15s sizes:    %s\n", "", op->syntax);
    }
    printf("'tinycl bench OP --sizes S,...' takes sizes in the op's syntax; 'conv' stands for conv2d.\n");
    return 0;
}

/* An op's variant by name; 2 (misuse, message printed) when the op has no such variant. */
int cli_op_variant(const cli_args *a, const tc_opdesc *op, const char *name, tc_variant *v)
{
    if (tc_variant_parse(name, v) == TC_OK && *v == TC_VARIANT_AUTO) return 0; /* every op has AUTO */
    if (tc_variant_parse(name, v) == TC_OK)
        for (int i = 0; i < op->nvariants; i++)
            if (op->variants[i] == *v) return 0;
    char list[256];
    size_t used = 0;
    for (int i = 0; i < op->nvariants && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", tc_variant_name(op->variants[i]));
    return cli_misuse(a, "%s has no variant '%s' (its variants: auto, %s)", op->name, name, list);
}

/* An op by name ("conv" is conv2d); 2 (misuse, message printed) when unknown. */
int cli_find_op(const cli_args *a, const char *name, const tc_opdesc **op)
{
    *op = tc_opdesc_find(strcmp(name, "conv") == 0 ? "conv2d" : name);
    return *op ? 0 : cli_misuse(a, "unknown op '%s' (see 'tinycl ops')", name);
}

int cli_check(const cli_args *a)
{
    const char *opname = cli_get(a, "--op"), *var = cli_get(a, "--variant");
    const uint64_t seed = cli_seed(a, "--seed", 20261122u);
    const tc_opdesc *op = NULL;
    tc_variant v = TC_VARIANT_AUTO;
    if (opname && cli_find_op(a, opname, &op)) return 2;
    if (var && op && cli_op_variant(a, op, var, &v)) return 2;
    if (var && !op) {
        int known = tc_variant_parse(var, &v) == TC_OK && v != TC_VARIANT_AUTO;
        if (!known) return cli_misuse(a, "unknown variant '%s'", var);
    }
    int total_failed = 0, total_passed = 0;
    for (int k = 0; k < a->ndevices; k++) {
        const int i = a->devices[k];
        tc_device_info info;
        cli_device_info(i, &info);
        char spec[16];
        cli_device_spec(i, spec, sizeof spec);
        tc_ctx *ctx;
        if (tc_ctx_create(spec, 0, &ctx) != TC_OK) {
            printf("device %s: cannot create a context: %s\n", info.name, tc_last_error(NULL));
            total_failed++;
            continue;
        }
        printf("device %s (seed %llu)\n", info.name, (unsigned long long)seed);
        check_tally t = {0, 0, 0, 0, info.name};
        int failures = 0;
        if (tc_check_run(ctx, op ? op->name : NULL, v, seed, on_result, &t, &failures) != TC_OK) {
            fprintf(stderr, "tinycl check: %s\n", tc_last_error(ctx));
            tc_ctx_free(ctx);
            return 1;
        }
        printf("  %d passed, %d failed, %d skipped (variant not available for the shape or device)\n", t.passed,
               t.failed, t.skipped);
        total_failed += t.failed;
        total_passed += t.passed;
        tc_ctx_free(ctx);
    }
    const char *why = tc_device_probe_message();
    if (why[0]) printf("note: %s\n", why);
    printf("check: %d passed, %d failed\n", total_passed, total_failed);
    return total_failed ? 1 : 0;
}
