/* Embedding lookup: validate (ids read back and range-checked on the host) ->
 * ref on the host or one copy per work-item. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/host.h"
#include "ops/layer.h"
#include "ref/ref.h"

typedef struct {
    int64_t n, d;
} host_args;

static int host_fn(void *const *in, void *out, const void *args)
{
    const host_args *a = args;
    tc_ref_embedding(in[0], in[1], out, a->n, a->d);
    return 0;
}

/* TC_ERR_INVALID_ARG naming the first id outside [0, v). */
static tc_status check_ids(tc_ctx *ctx, const tc_tensor *ids, int64_t v)
{
    void *h;
    tc_status st = tc_host_get(ids, &h);
    if (st != TC_OK) return st;
    const int32_t *id = h;
    int64_t bad = -1;
    for (int64_t i = 0; i < ids->numel && bad < 0; i++)
        if (id[i] < 0 || id[i] >= v) bad = i;
    if (bad >= 0)
        st = tc_fail(ctx, TC_ERR_INVALID_ARG, "embedding: id %d at position %lld is outside [0, %lld)",
                     (int)id[bad], (long long)bad, (long long)v);
    tc_host_put(ids, h);
    return st;
}

static tc_status embedding(tc_ctx *ctx, const tc_tensor *table, const tc_tensor *ids, tc_tensor *y, tc_variant v)
{
    if (!ctx) return tc_fail(NULL, TC_ERR_INVALID_ARG, "embedding: ctx is NULL");
    tc_status st;
    int64_t vocab, d;
    if ((st = tc_check_tensor(ctx, table, "embedding: table", TC_DTYPE_F32, 2)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, ids, "embedding: ids", TC_DTYPE_S32, 0)) != TC_OK) return st;
    if ((st = tc_check_tensor(ctx, y, "embedding: y", TC_DTYPE_F32, 0)) != TC_OK) return st;
    if ((st = tc_rows_of(ctx, "embedding", table, &vocab, &d)) != TC_OK) return st;
    int ok = ids->ndim < TC_MAX_DIMS && y->ndim == ids->ndim + 1 && y->dims[ids->ndim] == d;
    for (int i = 0; ok && i < ids->ndim; i++) ok = y->dims[i] == ids->dims[i];
    if (!ok) {
        char di[96], dy[96];
        tc_dims_str(ids, di, sizeof di);
        tc_dims_str(y, dy, sizeof dy);
        return tc_fail(ctx, TC_ERR_SHAPE, "embedding: y is %s, expected %sx%lld (the ids' dims, then D; at most %d)",
                       dy, di, (long long)d, TC_MAX_DIMS);
    }
    if ((st = tc_check_no_alias(ctx, "embedding", y, "y", table, "table")) != TC_OK) return st;
    if ((st = tc_layer_variant(ctx, "embedding", v, TC_VARIANT_AUTO, &v)) != TC_OK) return st;
    if ((st = check_ids(ctx, ids, vocab)) != TC_OK) return st;
    const host_args a = {ids->numel, d};
    tc_op_begin(ctx, "embedding", v, 0.0, 4.0 * (double)a.n * (double)(2 * d + 1));
    if (v == TC_VARIANT_REF) {
        const tc_tensor *in[2] = {table, ids};
        st = tc_host_run(ctx, 2, in, y, host_fn, &a);
    } else {
        cl_kernel k;
        cl_mem mt = tc_buf(table), mi = tc_buf(ids), my = tc_buf(y);
        cl_ulong to = tc_off(table), io = tc_off(ids), yo = tc_off(y);
        cl_int dd = (cl_int)d;
        const size_t vw = (size_t)ctx->params.embedding.vw;
        char opts[16];
        snprintf(opts, sizeof opts, "-DVW=%zu", vw);
        st = tc_get_kernel(ctx, "embedding", opts, "embedding", &k);
        if (st == TC_OK)
            st = tc_set_args(ctx, k, 7, TC_ARG(mt), TC_ARG(to), TC_ARG(mi), TC_ARG(io), TC_ARG(my), TC_ARG(yo),
                             TC_ARG(dd));
        size_t gws[2] = {((size_t)d + vw - 1) / vw, (size_t)a.n};
        if (st == TC_OK) st = tc_launch(ctx, k, "embedding", 2, gws, NULL);
    }
    return tc_op_end(ctx, st);
}

tc_status tc_embedding(tc_ctx *ctx, const tc_tensor *table, const tc_tensor *ids, tc_tensor *y,
                       const tc_op_params *p)
{
    return embedding(ctx, table, ids, y, p ? p->variant : TC_VARIANT_AUTO);
}

/* ---- descriptor -------------------------------------------------------------
 * case keys: vocab, d, ids0, ids1 (the ids' dims; ids1 == 0: 1-D ids); more ids
 * than vocab repeat ids */
static const tc_variant embedding_variants[] = {TC_VARIANT_REF, TC_VARIANT_OPENCL};

#define EC(v, d_, n0, n1) TC_CASE({"vocab", v}, {"d", d_}, {"ids0", n0}, {"ids1", n1})
static const tc_case embedding_cases[] = {
    EC(1, 1, 1, 0),      EC(3, 17, 10, 0), EC(1000, 3, 127, 0), EC(17, 127, 5, 3),
    EC(50, 1000, 64, 0), EC(5, 64, 7, 33), EC(1, 33, 4, 0),     EC(32000, 16, 17, 0),
};

/* "VxDxN" */
static int embedding_parse(const char *spec, tc_case *c)
{
    int64_t v[3];
    memset(c, 0, sizeof *c);
    if (tc_parse_dims(spec, v, 3) != 3) return -1;
    tc_case_set(c, "vocab", (double)v[0]);
    tc_case_set(c, "d", (double)v[1]);
    return tc_case_set(c, "ids0", (double)v[2]);
}

static int64_t case_ids(const tc_case *c)
{
    const int64_t n1 = tc_case_int(c, "ids1");
    return tc_case_int(c, "ids0") * (n1 ? n1 : 1);
}

static tc_status embedding_setup(tc_ctx *ctx, const tc_case *cs, uint64_t seed, tc_opdata *d)
{
    const int64_t vocab = tc_case_int(cs, "vocab"), dim = tc_case_int(cs, "d"), dt[2] = {vocab, dim};
    const int64_t n0 = tc_case_int(cs, "ids0"), n1 = tc_case_int(cs, "ids1"), n = case_ids(cs);
    const int two = n1 != 0;
    const int64_t di[2] = {n0, n1}, dy[3] = {n0, two ? n1 : dim, dim};
    float *table;
    d->cs = *cs;
    tc_status s = tc_layer_input(ctx, d, 2, dt, -1.0f, 1.0f, &seed, &table);
    int32_t *ids = s == TC_OK ? malloc((size_t)(n > 0 ? n : 1) * sizeof *ids) : NULL;
    if (s == TC_OK && !ids) s = tc_fail(ctx, TC_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s != TC_OK) return s;
    for (int64_t i = 0; i < n; i++) ids[i] = (int32_t)(tc_rng_next(&seed) % (uint64_t)(vocab > 0 ? vocab : 1));
    s = tc_opdata_input(ctx, d, TC_DTYPE_S32, two ? 2 : 1, di, ids);
    if (s == TC_OK) s = tc_opdata_output(ctx, d, TC_DTYPE_F32, two ? 3 : 2, dy, &seed);
    if (s == TC_OK) tc_ref_embedding(table, ids, d->out[0].expected, n, dim);
    return s;
}

static tc_status embedding_run(tc_ctx *ctx, tc_opdata *d, tc_variant v)
{
    return tc_embedding(ctx, d->in[0], d->in[1], d->out[0].t, &(tc_op_params){v});
}

static double embedding_flops(const tc_case *c)
{
    (void)c;
    return 0.0;
}

static double embedding_bytes(const tc_case *c)
{
    return 4.0 * (double)case_ids(c) * (2.0 * tc_case_num(c, "d") + 1.0);
}

/* a copy: exact */
const tc_opdesc tc_opdesc_embedding = {
    .name = "embedding",
    .variants = embedding_variants,
    .nvariants = TC_COUNT(embedding_variants),
    .cases = embedding_cases,
    .ncases = TC_COUNT(embedding_cases),
    .syntax = "VOCABxDxIDS",
    .parse = embedding_parse,
    .setup = embedding_setup,
    .run = embedding_run,
    .flops = embedding_flops,
    .bytes = embedding_bytes,
    .metric = TC_METRIC_EXACT,
    .tol = 0.0,
};
