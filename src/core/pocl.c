/* Several PoCL contexts in one process: their kernels run one command at a time.
 * PoCL 3.1 keeps one process-wide cache of loaded work-group functions, looked up
 * by kernel, local size and grid size class ("smallgrid"), but released by kernel
 * and local size only: when two contexts run the same kernel with the same local
 * size on grids of both classes at once, a finished command can drop the other
 * command's entry, and PoCL aborts (pocl_release_dlhandle_cache: ref_count > 0).
 * So while more than one PoCL context lives, each launch holds a process-wide
 * mutex until its queue is finished; a lone context launches freely. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/internal.h"

static pthread_mutex_t g_run = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_live; /* live PoCL contexts */

void tc_pocl_track(tc_ctx *ctx, int delta)
{
    if (!ctx->is_ref && strstr(ctx->info.platform, "Portable Computing Language")) {
        ctx->pocl = 1;
        atomic_fetch_add(&g_live, delta);
    }
}

int tc_pocl_run_begin(const tc_ctx *ctx)
{
    if (!ctx->pocl || atomic_load(&g_live) < 2) return 0;
    pthread_mutex_lock(&g_run);
    return 1;
}

void tc_pocl_run_end(const tc_ctx *ctx, int held)
{
    if (!held) return;
    clFinish(ctx->queue);
    pthread_mutex_unlock(&g_run);
}
