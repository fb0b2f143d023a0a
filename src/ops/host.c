#include <stdlib.h>

#include "ops/host.h"

tc_status tc_host_get(const tc_tensor *t, void **out)
{
    *out = NULL;
    if (!t) return TC_OK;
    if (t->ctx->is_ref) {
        *out = tc_host(t);
        return TC_OK;
    }
    void *p = malloc(t->bytes);
    if (!p) return tc_fail(t->ctx, TC_ERR_OUT_OF_MEMORY, "cannot allocate %zu host bytes", t->bytes);
    tc_status s = tc_tensor_read(t, p, t->bytes);
    if (s != TC_OK) {
        free(p);
        return s;
    }
    *out = p;
    return TC_OK;
}

void tc_host_put(const tc_tensor *t, void *p)
{
    if (t && !t->ctx->is_ref) free(p);
}

tc_status tc_host_out(tc_tensor *t, int read, void **out)
{
    if (read || t->ctx->is_ref) return tc_host_get(t, out);
    *out = malloc(t->bytes);
    return *out ? TC_OK : tc_fail(t->ctx, TC_ERR_OUT_OF_MEMORY, "cannot allocate %zu host bytes", t->bytes);
}

tc_status tc_host_commit(tc_tensor *t, void *p)
{
    if (t->ctx->is_ref) return TC_OK;
    tc_status s = tc_tensor_write(t, p, t->bytes);
    free(p);
    return s;
}
