/* The `tinycl` command: the table of subcommands and their flags, and dispatch. */
#include <stdio.h>
#include <string.h>

#include "bench/cli.h"
#include "tinycl/tinycl.h"

#define F_DEVICE                                                                                              \
    {"--device", "D[,D...]", CLI_DEVICES,                                                                     \
     "devices: ref, openblas, cl:N, N, cpu, gpu or a name substring (default: $TINYCL_DEVICE, else ref and "  \
     "every OpenCL device)", 0, 0, NULL}
#define F_REPS(what) {"--reps", "N", CLI_INT, "timed runs " what " (default 10)", 1, 1000, NULL}
#define F_SEED(dflt) {"--seed", "S", CLI_SEED, "seed of the random inputs (default " dflt ")", 0, 0, NULL}
#define F_JSON {"--json", "FILE", CLI_OUTFILE, "also write the results with their meta object to FILE as JSON", 0, 0, NULL}
#define F_FORMAT {"--format", "F", CLI_CHOICE, "how results are printed (default table)", 0, 0, "table|md|csv|json|jsonl"}
#define F_OUT {"--out", "FILE", CLI_OUTFILE, "print the results to FILE instead of standard output", 0, 0, NULL}
#define F_DATA {"--data", "DIR", CLI_DIR, "folder with the models and the digit splits (digits_test.tcd, digits_train.tcd)", 0, 0, NULL}
#define F_SAMPLES {"--samples", "", CLI_BOOL, "add the time of every run (\"samples\", ms) to each record", 0, 0, NULL}

const cli_cmd cli_commands[] = {
    {"devices", "", 0, "list the devices: ref, openblas (ref with its GEMMs on OpenBLAS), then every OpenCL device",
     NULL, cli_devices, {{0}}},
    {"ops", "", 0, "list the ops with their variants and the size syntax of 'bench OP --sizes'", NULL, cli_ops, {{0}}},
    {"check", "", 0, "run every op x variant on each device against the reference; exit 1 on a failure",
     "Each case gets fresh seeded random inputs, guard canaries around the output and\n"
     "the op's tolerance (max relative error, NMSE or exact).",
     cli_check,
     {F_DEVICE,
      {"--op", "OP", CLI_TEXT, "only this op (see 'tinycl ops')", 0, 0, NULL},
      {"--variant", "V", CLI_TEXT, "only this variant", 0, 0, NULL},
      F_SEED("20261122")}},
    {"bench", "OP", 1, "time every variant of OP on each device, with speedups over ref and CLBlast",
     "OP is any op of 'tinycl ops' (conv is conv2d). Each variant is warmed up, then run\n"
     "up to --reps times (stopping once --budget ms are spent after 3 runs); records\n"
     "hold min, median, p90 and max ms, the run count, GFLOP/s, GB/s and the error\n"
     "against the reference. Sizes: 'tinycl ops' lists each op's syntax; matmul and\n"
     "conv2d have defaults.",
     cli_bench,
     {F_DEVICE,
      {"--sizes", "S[,S...]", CLI_TEXT, "sizes in the op's syntax", 0, 0, NULL},
      {"--variants", "V[,V...]", CLI_TEXT, "only these variants of the op", 0, 0, NULL},
      F_REPS("per variant"),
      {"--budget", "MS", CLI_MS, "time budget per variant and size, ms (default 3000)", 0, 0, NULL},
      {"--profile", "on|off", CLI_CHOICE, "print each device's per-op device-time report", 0, 0, "on|off"},
      {"--trace", "FILE", CLI_OUTFILE, "write a Chrome trace (Perfetto, chrome://tracing) of the one --device", 0, 0,
       NULL},
      {"--interleave", "on|off", CLI_CHOICE,
       "time every size x variant in turn, one call each per round (ratios hold on a busy machine)", 0, 0, "on|off"},
      F_SEED("12345"), F_JSON, F_FORMAT, F_OUT, F_SAMPLES}},
    {"bench model", "", 0, "the digit models' forward pass with layer plans made at load against one-shot ops",
     "Each size is a model and a batch of test images (MODEL:BATCH); its variants run in\n"
     "turn, run after run, the order alternating, in one process. `plan` runs every layer\n"
     "through the plan made at load, `oneshot` through the one-shot op (validate, choose\n"
     "a variant, prepare the weights on every call); the speedup is the median of the\n"
     "per-run ratios. `--variants oneshot,oneshot` times the method's own noise.",
     cli_bench_model,
     {F_DEVICE,
      {"--sizes", "M:B[,M:B...]", CLI_TEXT,
       "models and batches (default mlp_digits:1,mlp_digits:359,cnn_digits:1,cnn_digits:359)", 0, 0, NULL},
      {"--variants", "V[,V]", CLI_TEXT, "oneshot, plan (default both)", 0, 0, NULL},
      {"--reps", "N", CLI_INT, "timed runs per variant (default 50)", 1, 10000, NULL},
      {"--budget", "MS", CLI_MS, "time budget per size, ms (default 3000)", 0, 0, NULL},
      F_DATA, F_JSON, F_FORMAT, F_OUT, F_SAMPLES}},
    {"bench quant", "", 0, "int8 ops against their f32 counterparts on the same data: time, error, weight bytes",
     "Each size is a pair, timed interleaved round by round in one run: MxNxK[:tb] the\n"
     "integer GEMM (op igemm: u8 activations, per-channel s8 weights; once per call and\n"
     "through a plan) against the f32 matmul; conv2d's spec (n1c64h56w56k64r3s3pad1) the\n"
     "qconv2d plan against the conv2d plan; linear:BxINxOUT the qlinear plan against the\n"
     "linear plan, each int8 layer on f32 data (quantized on the fly, dequantized out)\n"
     "and on u8 data (as inside an int8 model). Inputs are uniform in [-1, 1), the same\n"
     "on every device. Records add io, the error of each result against the exact (f64)\n"
     "result of the f32 inputs (max abs, relative, SQNR dB), the speedup over the f32 op\n"
     "and the weight bytes. By default every OpenCL device (else ref).",
     cli_bench_quant,
     {F_DEVICE,
      {"--sizes", "S[,S...]", CLI_TEXT,
       "sizes (default 1024x1024x1024,2048x2048x2048,256x4096x1024:tb,n1c64h56w56k64r3s3pad1,linear:256x1024x1024)",
       0, 0, NULL},
      {"--variants", "V[,V...]", CLI_TEXT, "the integer GEMM's variants (default: by device type, all but ref)", 0, 0,
       NULL},
      F_REPS("rounds"),
      {"--budget", "MS", CLI_MS, "time budget per size, ms (default 3000)", 0, 0, NULL},
      {"--out-dtype", "T", CLI_CHOICE, "igemm's output: requantized s8 or u8, or f32 (default s8)", 0, 0,
       "s8|u8|f32"},
      F_SEED("12345"), F_JSON, F_FORMAT, F_OUT, F_SAMPLES}},
    {"bench sparse", "", 0, "where pruned weights start to pay: sparse products against the dense kernel",
     "One random OUT x IN weight is pruned to each sparsity of the sweep (magnitude, the\n"
     "storage format's block pattern); at each batch the sparse product (spmv at batch 1,\n"
     "spmm above) and the best dense kernel of the same shape (a linear plan, recorded as\n"
     "op matmul) run in alternation; the speedup is the median of the rounds' ratios. The\n"
     "breakeven of a batch is the lowest sparsity from which sparse wins at every higher\n"
     "one (JSON: \"breakeven\" beside the records). Every OpenCL device unless --device.",
     cli_bench_sparse,
     {F_DEVICE,
      {"--sparsity", "P[,P...]", CLI_TEXT, "percentages in [0, 100) (default 0,50,70,80,90,95,99)", 0, 0, NULL},
      {"--batch", "B[,B...]", CLI_TEXT, "batch sizes (default 1,32)", 0, 0, NULL},
      {"--shape", "OUTxIN", CLI_TEXT, "the weight's shape (default 4096x4096)", 0, 0, NULL},
      {"--sparse-format", "F", CLI_TEXT, "storage: csr, bsr1x4, bsr1x8, bsr4x4 or auto (default csr)", 0, 0, NULL},
      {"--reps", "N", CLI_INT, "rounds (default 20)", 1, 10000, NULL},
      F_JSON, F_FORMAT, F_OUT, F_SAMPLES}},
    {"bench kvcache", "", 0, "generation with the KV cache (f32, int8) against recomputing every step, 16 to 1024 tokens",
     "The fortunes transformer continues the prompt 'The ' by each length of --lengths,\n"
     "with its KV cache (cached), with an int8 cache (cached-int8) and by running the\n"
     "whole sequence at every step (uncached), in rotating order, after an untimed\n"
     "warm-up of each. Records: the times of whole generations, tokens/s, the speedup\n"
     "over uncached, the fraction of tokens equal to the uncached ones (agree; for the\n"
     "int8 cache also the first that differs), the cache's bytes and the launches per\n"
     "generated token. Per device it prints the breakeven length and fits of a step's\n"
     "time against its context (a line with a cache, a parabola without; JSON:\n"
     "\"generation\" beside the records). A variant slower than --max-ms at one length\n"
     "is skipped at the longer ones. Every OpenCL device unless --device; exit 1 when\n"
     "the f32 cache's tokens differ from the uncached ones.",
     cli_bench_kvcache,
     {F_DEVICE,
      {"--lengths", "N[,N...]", CLI_TEXT, "generated tokens, increasing (default 16,32,64,128,256,512,1024)", 0, 0,
       NULL},
      {"--reps", "N", CLI_INT, "timed generations per variant and length (default 3)", 1, 1000, NULL},
      {"--max-ms", "MS", CLI_MS, "skip a variant's longer lengths after a generation this slow (default 60000)", 0, 0,
       NULL},
      {"--model", "FILE.tcw", CLI_INFILE, "another decoder file", 0, 0, NULL},
      F_DATA, F_JSON, F_FORMAT, F_OUT, F_SAMPLES}},
    {"bench tinymlperf", "", 0, "TinyMLPerf: MLP Sprint, CNN Marathon and Transformer Decathlon on every device",
     "Every optimization (f32 on ref, on OpenBLAS and on each OpenCL device; CLBlast;\n"
     "int8; pruned, structured and pruned + int8; the KV cache on and off, and in int8)\n"
     "runs each event's tasks on real data: warm-up, then rounds of one query per entry,\n"
     "interleaved, until a minimum count and duration. Latency: median, p90, p99 and\n"
     "the mean with a 95% interval (Student's t); speedups: per-round ratios with\n"
     "their interval. Quality gates: accuracy within 1 point of f32 ref, bits per\n"
     "byte within 2%, 99% of the tokens equal to f32 ref's; an entry below its gate\n"
     "is INVALID with the reason. Prints the leaderboards and cross-device tables\n"
     "and writes DIR/<UTC time>/: results.json, results.csv, leaderboard.md,\n"
     "profile.txt (per-op report of one run of each entry), traces/ (Chrome traces)\n"
     "and PNG plots (matplotlib). Devices: --device, else $TINYCL_DEVICE, else ref,\n"
     "openblas and every OpenCL device.",
     cli_bench_tinymlperf,
     {{"--event", "E", CLI_CHOICE, "one event only (default all)", 0, 0, "mlp|cnn|transformer|all"},
      {"--device", "D[,D...]", CLI_TEXT,
       "devices: ref, openblas, cl:N, N, cpu, gpu or a name substring (default: ref, openblas, every OpenCL device)", 0,
       0, NULL},
      {"--quick", "", CLI_BOOL, "a smoke test: few rounds, short generations (under 90 s)", 0, 0, NULL},
      {"--json", "FILE", CLI_OUTFILE, "also write results.json to FILE", 0, 0, NULL},
      {"--out", "DIR", CLI_TEXT, "the folder of the results' timestamped folders (default results)", 0, 0, NULL},
      F_DATA}},
    {"eval", "", 0, "accuracy of the digit classifiers on the held-out test split, f32 and int8, per device",
     "The models and data are found in --data DIR, else $TINYCL_DATA_DIR, else ./data,\n"
     "the share/tinycl folder beside an installed tinycl, or the install prefix. int8\n"
     "models are quantized at eval time on each device (tc_model_quantize) with the\n"
     "training split (digits_train.tcd) as calibration data, never the test images\n"
     "they are scored on. Records: model, precision, device, accuracy (percent),\n"
     "correct, total, model_bytes (parameters and their quantization), predictions\n"
     "that differ from ref's (and for int8 from f32's on the same device).",
     cli_eval,
     {F_DEVICE,
      {"--model", "FILE.tcw", CLI_INFILE, "evaluate this model file only", 0, 0, NULL},
      F_DATA,
      {"--precision", "P", CLI_CHOICE, "f32, int8 or both (default)", 0, 0, "f32|int8|both"},
      {"--observer", "K", CLI_CHOICE, "int8: the activations' calibration (default minmax)", 0, 0,
       "minmax|moving_avg|percentile|mse"},
      {"--weights", "G", CLI_CHOICE, "int8: weight scales per output channel (default) or per tensor", 0, 0,
       "channel|tensor"},
      {"--int8-between", "on|off", CLI_CHOICE, "int8: activations stay int8 between quantized layers (default on)",
       0, 0, "on|off"},
      F_JSON, F_FORMAT, F_OUT}},
    {"compress", "", 0, "prune a model (and quantize it to int8), save it, and report size, accuracy and speed",
     "Prunes --model by magnitude (tc_model_prune): --sparsity S zeroes that fraction of\n"
     "each linear and conv2d layer's weights (of all of them with --global; in blocks with\n"
     "--pattern), or with --structured removes that fraction of each layer's output\n"
     "neurons or filters by L2 norm (the last layer keeps its classes), shrinking the\n"
     "layers. Zeros already there count as pruned, so a pruned model prunes further.\n"
     "--int8 then quantizes it (tc_model_quantize, calibrated on the digits' training\n"
     "split). The result is saved to --out (weights dense or in CSR, whichever is smaller)\n"
     "and compared with the input: bytes on disk and in memory, sparsity per layer, and\n"
     "per device the accuracy on the digits' test split and the forward pass of the whole\n"
     "split, the two models timed in alternation for --reps rounds (speedup: the median of\n"
     "the rounds' ratios). Pruning and calibration run on ref; the files are found in\n"
     "--data DIR, else $TINYCL_DATA_DIR, else ./data or the installed share/tinycl.",
     cli_compress,
     {F_DEVICE,
      {"--model", "FILE.tcw", CLI_INFILE, "the model to compress (required)", 0, 0, NULL},
      {"--sparsity", "S", CLI_TEXT, "prune: the fraction in [0, 1) to remove, such as 0.9", 0, 0, NULL},
      {"--structured", "", CLI_BOOL, "remove whole neurons and filters (the layers shrink)", 0, 0, NULL},
      {"--pattern", "P", CLI_CHOICE, "unstructured units: single weights (default) or blocks", 0, 0,
       "element|1x4|1x8|4x4"},
      {"--global", "", CLI_BOOL, "unstructured: one threshold across the layers", 0, 0, NULL},
      {"--int8", "", CLI_BOOL, "then quantize to int8 (calibrated on digits_train.tcd)", 0, 0, NULL},
      {"--out", "FILE.tcw", CLI_OUTFILE, "where to save the compressed model (default: a temporary file)", 0, 0, NULL},
      {"--reps", "N", CLI_INT, "timed rounds per device (default 20)", 1, 10000, NULL},
      F_DATA, F_JSON, F_FORMAT, F_SAMPLES}},
    {"eval decoder", "", 0, "the fortunes transformer's bits per byte on the held-out fortunes, per device",
     "The held-out fortunes are cut into windows of 128 bytes (the trained context); each\n"
     "predicts the bytes after its inputs. Bits per byte is the mean of -log2 p(byte),\n"
     "next to the training script's figure for the same bytes (fortunes_decoder_bpb.txt)\n"
     "and their difference. --kv-int8 adds the bits per byte through the int8 KV cache\n"
     "(tc_decoder_set_kv_dtype S8, scales calibrated on a built-in text, never on these\n"
     "bytes), teacher-forced one byte per step as generation runs, and its difference\n"
     "from the f32 figure; --gen-tokens N then continues the first 16 bytes of each of\n"
     "the first 16 held-out fortunes greedily by N bytes with either cache and reports\n"
     "the fraction of equal tokens, the mean first differing one and how many of the\n"
     "16 texts part. Files from --data DIR, else $TINYCL_DATA_DIR, else ./data,\n"
     "the share/tinycl folder beside an installed tinycl, or the install prefix.",
     cli_eval_decoder,
     {F_DEVICE,
      {"--windows", "N", CLI_INT, "the first N windows (default 16; 0: all 262,672 bytes, long on ref)", 0, 1 << 30,
       NULL},
      {"--kv-int8", "", CLI_BOOL, "also the bits per byte through the int8 KV cache, and the difference", 0, 0, NULL},
      {"--gen-tokens", "N", CLI_INT, "with --kv-int8: greedy agreement of the two caches over N tokens (16 prompts)", 1,
       1 << 16, NULL},
      {"--model", "FILE.tcw", CLI_INFILE, "another decoder file", 0, 0, NULL},
      F_DATA, F_JSON, F_FORMAT, F_OUT}},
    {"generate", "", 0, "continue a text with the byte-level transformer trained on the fortunes",
     "Prints the prompt, the continuation and tokens/s. Greedy unless --top-k or\n"
     "--temperature is given (then seeded sampling); --no-cache recomputes the whole\n"
     "sequence at every step instead of using the KV cache (the same text, slower);\n"
     "--kv-int8 keeps the cache in int8 (a quarter of the memory; its scales calibrated\n"
     "at load on a built-in text; the text may differ where two bytes are near ties).\n"
     "Without --device: the default device ($TINYCL_DEVICE, else a GPU, else any\n"
     "OpenCL device, else ref); with it, each device in turn.",
     cli_generate,
     {F_DEVICE,
      {"--prompt", "TEXT", CLI_TEXT, "the text to continue (default 'The ')", 0, 0, NULL},
      {"--tokens", "N", CLI_INT, "new tokens (bytes) to generate (default 200)", 1, 1 << 20, NULL},
      {"--no-cache", "", CLI_BOOL, "recompute the whole sequence at every step", 0, 0, NULL},
      {"--kv-int8", "", CLI_BOOL, "an int8 KV cache (tc_decoder_set_kv_dtype S8) instead of f32", 0, 0, NULL},
      {"--top-k", "K", CLI_INT, "sample among the K most likely bytes (0: all)", 0, 256, NULL},
      {"--temperature", "T", CLI_MS, "sampling temperature (default 1)", 0, 0, NULL},
      {"--seed", "S", CLI_SEED, "seed of the sampling (default 20261122)", 0, 0, NULL},
      {"--model", "FILE.tcw", CLI_INFILE, "another decoder file", 0, 0, NULL},
      F_DATA}},
    {"peak", "", 0, "device peaks (clpeak's figures): f32 FMA, int8 dot, read and transfer bandwidth, launch latency",
     "Every figure comes from kernels and timers of the library (kernels/peak.cl): f32\n"
     "FMA GFLOP/s for float, float2 ... float16; int8 dot-product GOP/s; global-memory\n"
     "read GB/s; host-to-device and device-to-host GB/s; kernel launch latency in us.\n"
     "Throughputs come from the fastest run, latency from the median. Not on ref.",
     cli_peak,
     {F_DEVICE, F_REPS("per figure"),
      {"--metrics", "M[,M...]", CLI_TEXT,
       "only these: f32_fma, int8_dot, read_bw, h2d_bw, d2h_bw, launch_us (default: all)", 0, 0, NULL},
      F_JSON, F_FORMAT, F_OUT, F_SAMPLES}},
    {"params", "", 0, "each device's kernel parameters and where each came from",
     "Values come from the parameter table's row for the device, from TINYCL_PARAMS\n"
     "(\"gemm.cpu_wg=8,eltwise.vw=4\") or from tc_kernel_params_set; a work-group size a\n"
     "kernel could not take shows with its reduction. ref runs no kernels.",
     cli_params,
     {F_DEVICE, {"--check", "on|off", CLI_CHOICE, "first run every op's checks with these parameters", 0, 0, "on|off"}}},
};
const int cli_ncommands = (int)(sizeof cli_commands / sizeof cli_commands[0]);

/* The command named by argv[0] or, for two-word commands ("bench model"), by
 * argv[0] and argv[1]; *words says how many it took. */
static const cli_cmd *find(int argc, char **argv, int *words)
{
    char two[64];
    snprintf(two, sizeof two, "%s %s", argv[0], argc > 1 ? argv[1] : "");
    for (int w = 2; w >= 1; w--)
        for (int i = 0; i < cli_ncommands; i++)
            if (strcmp(cli_commands[i].name, w == 2 ? two : argv[0]) == 0) {
                *words = w;
                return &cli_commands[i];
            }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("tinycl %s (commit %s)\n", tc_version(), tc_git_commit());
        return 0;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc == 2) {
            cli_usage(stdout);
            return 0;
        }
        int words = 0;
        const cli_cmd *cmd = find(argc - 2, argv + 2, &words);
        if (!cmd || argc > 2 + words) {
            fprintf(stderr, "tinycl help: %s '%s'\n", cmd ? "one command at a time, not" : "no command",
                    argv[cmd ? 2 + words : 2]);
            cli_usage(stderr);
            return 2;
        }
        cli_help(cmd);
        return 0;
    }
    int words = 0;
    const cli_cmd *cmd = find(argc - 1, argv + 1, &words);
    if (!cmd) {
        fprintf(stderr, "tinycl: unknown command '%s'\n", argv[1]);
        cli_usage(stderr);
        return 2;
    }
    cli_args a;
    int rc = cli_parse(cmd, argc - 1 - words, argv + 1 + words, &a);
    if (rc) return rc < 0 ? 0 : rc;
    a.argc = argc;
    a.argv = argv;
    return cmd->run(&a);
}
