/* Kernel parameters: work-group sizes, tiles and vector widths per kernel family
 * (gemm, gemv, conv, eltwise, rows, pool, embedding), chosen per device from a
 * table with a safe default, like CLBlast's database. A context takes them when
 * created, then applies TINYCL_PARAMS ("gemm.cpu_wg=8,eltwise.vw=4"; an invalid
 * entry makes tc_ctx_create fail and say why). Work-group sizes a kernel cannot
 * take (CL_KERNEL_WORK_GROUP_SIZE) are reduced at launch, and the reason is kept
 * for tc_kernel_params_print. `tinycl params` prints them per device. */
#ifndef TINYCL_PARAMS_H
#define TINYCL_PARAMS_H

#include <stdio.h>

#include "tinycl/context.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* Overrides parameters of this context: "family.field=value[,...]" (spaces
 * allowed around entries), like CLBlast's OverrideParameters. All entries are
 * checked first (family, field, range, rules between fields); on error nothing
 * changes and TC_ERR_INVALID_ARG names the entry. NULL restores the table's
 * values and TINYCL_PARAMS. */
tc_status tc_kernel_params_set(tc_ctx *ctx, const char *spec);

/* One line per field: family.field, the active value, where it came from (the
 * table row, TINYCL_PARAMS or tc_kernel_params_set), what it sets, and the last
 * reduction a launch made to it. */
tc_status tc_kernel_params_print(const tc_ctx *ctx, FILE *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
