/* Subcommands of the `tinycl` CLI. Each returns the process exit code. */
#ifndef TINYCL_CLI_H
#define TINYCL_CLI_H

#include <stddef.h>
#include <stdint.h>

int cli_devices(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_bench_model(int argc, char **argv);
int cli_bench_quant(int argc, char **argv); /* bench/quant.c */
int cli_eval(int argc, char **argv);
/* The fortunes transformer's bits per byte on devices first..last (data in dir),
 * over `windows` windows of the held-out text (0: all). */
int cli_eval_decoder(int first, int last, const char *dir, int64_t windows);
int cli_params(int argc, char **argv);
int cli_generate(int argc, char **argv);
int cli_bench_kvcache(int argc, char **argv);
/* The decoder file: model if given, else fortunes_decoder.tcw in $TINYCL_DATA_DIR or ./data. */
void cli_decoder_path(const char *model, char *buf, size_t n);
/* tinycl bench sparse (bench/sparse.c) */
int cli_bench_sparse(int argc, char **argv);

/* Sorts n times and writes their median and 90th percentile. */
void cli_stats(double *t, int n, double *median, double *p90);

/* Option parsing: returns the value of --name (or NULL) and removes nothing. */
const char *cli_opt(int argc, char **argv, const char *name);
/* 1 when every argument is a known --option with a value; prints the bad one. */
int cli_known(int argc, char **argv, const char *const *names);

#endif
