/* One process-wide mutex around every CLBlast call. CLBlast (1.5.3, Debian 12)
 * keeps process-global caches (its tuning database, compiled programs and
 * binaries) without locks of its own: ThreadSanitizer reports races inside it as
 * soon as two contexts in two threads call it. tinycl's CLBlast calls (SGEMM,
 * convgemm, clearing the cache when the last context that used CLBlast goes) all
 * hold this mutex; only the host-side call is serialized, the kernels it enqueues
 * run concurrently. The count of live CLBlast users is kept under it too. */
#include <clblast_c.h>
#include <pthread.h>

#include "core/internal.h"

static pthread_mutex_t g_clblast = PTHREAD_MUTEX_INITIALIZER;
static int g_users; /* live contexts that used CLBlast */

void tc_clblast_lock(void) { pthread_mutex_lock(&g_clblast); }
void tc_clblast_unlock(void) { pthread_mutex_unlock(&g_clblast); }

void tc_clblast_use(tc_ctx *ctx)
{
    if (ctx->used_clblast) return;
    tc_clblast_lock();
    g_users++;
    tc_clblast_unlock();
    ctx->used_clblast = 1;
}

int tc_clblast_users(void)
{
    tc_clblast_lock();
    const int n = g_users;
    tc_clblast_unlock();
    return n;
}

/* CLBlastClearCache empties the cache of every context: only the last user clears it. */
void tc_clblast_release(tc_ctx *ctx)
{
    if (!ctx->used_clblast) return;
    tc_clblast_lock();
    if (--g_users == 0) CLBlastClearCache();
    tc_clblast_unlock();
}
