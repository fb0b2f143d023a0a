/* The `meta` object of result files: what produced the figures, where and when. */
#ifndef TINYCL_META_H
#define TINYCL_META_H

#include <stdio.h>

#include "bench/results.h"

/* Writes s's meta object (schema version, tinycl version and commit, command
 * line, UTC date, host CPU, cores and OS, the devices of a, settings: runs,
 * budget, seed, the flags that change what is measured, TINYCL_PARAMS). */
void meta_write(FILE *out, const res_set *s, const cli_args *a);
/* Writes v as a JSON string (quoted, escaped). */
void meta_json_string(FILE *out, const char *v);

#endif
