/* The `tinycl` command: devices, check, bench, eval, params. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tinycl <command> [options]\n"
            "  devices                                   list devices (ref, then every OpenCL device)\n"
            "  check [--device D] [--op OP] [--variant V] [--seed S]\n"
            "                                            every op x variant on D (default: every device) vs ref\n"
            "  bench matmul [--device D] [--sizes MxNxK,...] [--variants V,...] [--reps N] [--budget MS]\n"
            "               [--profile on] [--trace FILE] [--interleave on] [--json FILE]\n"
            "                                            median of N runs per variant; --profile on adds the\n"
            "                                            per-op device-time report of each device; --trace\n"
            "                                            writes a Chrome trace (Perfetto) of one --device;\n"
            "                                            --interleave on times every size x variant in turn\n"
            "  bench conv [--device D] [--sizes SPEC,...] [...as matmul]\n"
            "                                            SPEC: n1c64h56w56k64r3s3 (batch, channels, height, width,\n"
            "                                            output channels, kernel rows, cols) then optionally\n"
            "                                            st2 (stride) pad1 dil2 g64 (groups) bias relu\n"
            "  bench quant [--device D] [--sizes MxNxK[:tb],...] [--variants V,...] [--out s8|u8|f32] [--json FILE]\n"
            "                                            int8 ops against f32 on the same data: time, GOP/s, error\n"
            "                                            against the exact product, weight bytes\n"
            "  bench OP --sizes S,... [...as matmul]    any op `tinycl check` runs (softmax, linear, pool ...);\n"
            "                                            the size syntax is the op's (see its descriptor)\n"
            "  bench model [--device D] [--sizes MODEL:BATCH,...] [--variants oneshot,plan] [--reps N]\n"
            "              [--budget MS] [--json FILE]\n"
            "                                            forward pass of the digit models (default mlp_digits and\n"
            "                                            cnn_digits at batch 1 and 359) with layer plans made at load\n"
            "                                            and with one-shot ops, timed in turn in one run\n"
            "  bench sparse [--device D] [--json FILE] [--sparsity PCT,...] [--batch B,...] [--shape OUTxIN]\n"
            "               [--format F] [--reps N]      pruned OUTxIN weights (default 4096x4096) at each sparsity\n"
            "                                            (0,50,70,80,90,95,99) and batch (1,32): spmv/spmm against\n"
            "                                            the best dense kernel, interleaved; prints each device's\n"
            "                                            breakeven sparsity\n"
            "  eval [--device D] [--model FILE.tcw] [--data FILE.tcd]\n"
            "                                            test-set accuracy of the digit models (default: both, every\n"
            "                                            device; files from $TINYCL_DATA_DIR, else ./data)\n"
            "  params [--device D] [--check on]          kernel parameters per device and where each came from\n"
            "                                            (table row or TINYCL_PARAMS=family.field=N,...); --check on\n"
            "                                            runs every op with them first and shows reduced work-groups\n"
            "devices: ref, cl:N, N, cpu, gpu, or a name substring; TINYCL_DEVICE sets the default\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "devices") == 0) return cli_devices(argc - 2, argv + 2);
    if (strcmp(argv[1], "check") == 0) return cli_check(argc - 2, argv + 2);
    if (strcmp(argv[1], "bench") == 0) return cli_bench(argc - 2, argv + 2);
    if (strcmp(argv[1], "eval") == 0) return cli_eval(argc - 2, argv + 2);
    if (strcmp(argv[1], "params") == 0) return cli_params(argc - 2, argv + 2);
    fprintf(stderr, "tinycl: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
