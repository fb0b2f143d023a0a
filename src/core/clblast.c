/* One process-wide mutex around every CLBlast call. CLBlast (1.5.3, Debian 12)
 * keeps process-global caches (its tuning database, compiled programs and
 * binaries) without locks of its own: ThreadSanitizer reports races inside it as
 * soon as two contexts in two threads call it. tinycl's CLBlast calls (SGEMM,
 * convgemm, clearing the cache when a context goes) all hold this mutex; only the
 * host-side call is serialized, the kernels it enqueues run concurrently. */
#include <pthread.h>

#include "core/internal.h"

static pthread_mutex_t g_clblast = PTHREAD_MUTEX_INITIALIZER;

void tc_clblast_lock(void) { pthread_mutex_lock(&g_clblast); }
void tc_clblast_unlock(void) { pthread_mutex_unlock(&g_clblast); }
