/* tinycl params: each device's active kernel parameters and where each came from;
 * with --check on, every op runs first with them (as `tinycl check`), so the
 * table also shows any work-group size a kernel could not take. */
#include <stdio.h>
#include <string.h>

#include "bench/cli.h"
#include "tinycl/params.h"
#include "tinycl/tinycl.h"

static void count_failed(const tc_check_result *r, void *user)
{
    int *failed = user;
    if (!r->passed && !r->skipped) {
        (*failed)++;
        printf("  FAIL  %s %s %s: %s\n", r->op, tc_variant_name(r->variant), r->shape, r->message);
    }
}

int cli_params(const cli_args *a)
{
    const int check = cli_get(a, "--check") && strcmp(cli_get(a, "--check"), "on") == 0;
    int failed = 0, shown = 0;
    for (int k = 0; k < a->ndevices; k++) {
        if (a->devices[k] == 0 && a->device_source == NULL) continue; /* every device: ref runs no kernels */
        char spec[16];
        cli_device_spec(a->devices[k], spec, sizeof spec);
        tc_ctx *ctx;
        if (tc_ctx_create(spec, 0, &ctx) != TC_OK) {
            fprintf(stderr, "tinycl params: %s\n", tc_last_error(NULL));
            return 2;
        }
        const tc_device_info *info = tc_ctx_device(ctx);
        printf("%sdevice %s (%s)\n", shown++ ? "\n" : "", info->name, tc_device_type_name(info->type));
        if (tc_ctx_is_ref(ctx)) {
            printf("  host code runs no kernels: no parameters\n");
            tc_ctx_free(ctx);
            continue;
        }
        if (check) {
            int f = 0, failures = 0;
            if (tc_check_run(ctx, NULL, TC_VARIANT_AUTO, 20261122u, count_failed, &f, &failures) != TC_OK) {
                fprintf(stderr, "tinycl params: %s\n", tc_last_error(ctx));
                f++;
            }
            printf("check with these parameters: %s (%d failed)\n", f ? "FAILED" : "passed", f);
            failed += f;
        }
        tc_kernel_params_print(ctx, stdout);
        tc_ctx_free(ctx);
    }
    if (!shown) printf("no OpenCL device: %s\n", tc_device_probe_message());
    return failed ? 1 : 0;
}
