/* Subcommands of the `tinycl` CLI. Each returns the process exit code. */
#ifndef TINYCL_CLI_H
#define TINYCL_CLI_H

int cli_devices(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_bench_model(int argc, char **argv);
int cli_bench_quant(int argc, char **argv); /* bench/quant.c */
int cli_eval(int argc, char **argv);
int cli_params(int argc, char **argv);
/* tinycl bench sparse (bench/sparse.c) */
int cli_bench_sparse(int argc, char **argv);

/* Sorts n times and writes their median and 90th percentile. */
void cli_stats(double *t, int n, double *median, double *p90);

/* Option parsing: returns the value of --name (or NULL) and removes nothing. */
const char *cli_opt(int argc, char **argv, const char *name);
/* 1 when every argument is a known --option with a value; prints the bad one. */
int cli_known(int argc, char **argv, const char *const *names);

#endif
