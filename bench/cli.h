/* The `tinycl` command line. Every subcommand and its flags are declared in one
 * table (bench/tinycl.c); the parser checks the arguments against it (unknown
 * flags, numbers, writable output paths, devices) before the subcommand runs,
 * and the subcommand checks what only it knows (an op's variants and sizes)
 * before any work, so that misuse exits with 2 and a message. */
#ifndef TINYCL_CLI_H
#define TINYCL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "check/opdesc.h"

#define CLI_MAX_FLAGS 16
#define CLI_MAX_DEVICES 64

typedef enum {
    CLI_TEXT,    /* any value */
    CLI_INT,     /* an integer in [min, max] */
    CLI_SEED,    /* an unsigned 64-bit decimal number */
    CLI_MS,      /* a positive, finite number */
    CLI_CHOICE,  /* one of `choices`, separated by '|' */
    CLI_DEVICES, /* comma-separated device selections */
    CLI_OUTFILE, /* a file that can be written (created or replaced) */
    CLI_INFILE,  /* a readable regular file */
    CLI_DIR,     /* an existing directory */
    CLI_BOOL     /* no value */
} cli_kind;

typedef struct {
    const char *name; /* "--reps" */
    const char *meta; /* "N" in the help */
    cli_kind kind;
    const char *help;
    long long min, max;  /* CLI_INT */
    const char *choices; /* CLI_CHOICE */
} cli_flag;

typedef struct cli_args cli_args;

typedef struct {
    const char *name;     /* "bench" */
    const char *operands; /* "OP" (required positional operands), or "" */
    int noperands;
    const char *summary;  /* one line for `tinycl help` */
    const char *details;  /* paragraphs for `tinycl help CMD`, or NULL */
    int (*run)(const cli_args *a);
    cli_flag flags[CLI_MAX_FLAGS];
} cli_cmd;

struct cli_args {
    const cli_cmd *cmd;
    const char *operand[2];
    const char *value[CLI_MAX_FLAGS]; /* by flag index; NULL when absent ("" for a given CLI_BOOL) */
    int ndevices;                     /* commands with --device: the devices to run on, in order */
    int devices[CLI_MAX_DEVICES];
    const char *device_source;        /* "--device", "TINYCL_DEVICE" or NULL (every device) */
    int argc;                         /* the whole command line, for result files */
    char **argv;
};

/* The command table and its length. */
extern const cli_cmd cli_commands[];
extern const int cli_ncommands;

/* Parses and checks argv (after the command name): 0 to run the command, -1
 * after printing --help, 2 after a misuse message. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *a);
void cli_help(const cli_cmd *cmd);
void cli_usage(FILE *f);

/* A flag's value, or NULL when not given. */
const char *cli_get(const cli_args *a, const char *flag);
/* Checked numbers (the parser validated them), with a default when absent. */
long long cli_int(const cli_args *a, const char *flag, long long dflt);
uint64_t cli_seed(const cli_args *a, const char *flag, uint64_t dflt);
double cli_ms(const cli_args *a, const char *flag, double dflt);
/* Prints "tinycl CMD: message" and the help hint to stderr; returns 2. */
int cli_misuse(const cli_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The entry of a->devices for "openblas", the ref context with its GEMM-shaped
 * ops on OpenBLAS (tc_ctx_host_blas): it has no device index of its own. */
#define CLI_OPENBLAS 1000
/* Resolves a comma list of device selections from `source` into a->devices;
 * 2 after a misuse message. */
int cli_resolve_devices(cli_args *a, const char *list, const char *source);
/* "ref", "cl:N" or "openblas" of an entry of a->devices. */
const char *cli_device_id(int index, char *buf, size_t n);
/* The selection that tc_ctx_create takes for an entry of a->devices. */
const char *cli_device_spec(int index, char *buf, size_t n);
/* The device information of an entry of a->devices. */
tc_status cli_device_info(int index, tc_device_info *info);
/* An op by name ("conv" is conv2d), and one of its variants by name; 2 after a
 * misuse message when there is none. */
int cli_find_op(const cli_args *a, const char *name, const tc_opdesc **op);
int cli_op_variant(const cli_args *a, const tc_opdesc *op, const char *name, tc_variant *v);

/* The folder (--data, $TINYCL_DATA_DIR, ./data, share/tinycl of the installation)
 * holding every file of `files`; 2 after saying where it looked. */
int cli_find_data(const cli_args *a, const char *const *files, int nfiles, char *dir, size_t n);

/* Subcommands. */
int cli_devices(const cli_args *a);
int cli_ops(const cli_args *a);
int cli_check(const cli_args *a);
int cli_bench(const cli_args *a);
int cli_bench_model(const cli_args *a);
int cli_bench_quant(const cli_args *a);  /* bench/quant.c */
int cli_bench_sparse(const cli_args *a); /* bench/sparse.c */
int cli_eval(const cli_args *a);
int cli_compress(const cli_args *a); /* bench/compress.c */
int cli_eval_decoder(const cli_args *a);
int cli_generate(const cli_args *a);
int cli_bench_kvcache(const cli_args *a);
int cli_bench_tinymlperf(const cli_args *a); /* bench/tinymlperf.c */
/* The decoder file: --model, else fortunes_decoder.tcw in the data folder
 * (cli_find_data); 2 after a message when it cannot be found. */
int cli_decoder_path(const cli_args *a, char *buf, size_t n);
int cli_peak(const cli_args *a);
int cli_params(const cli_args *a);

#endif
