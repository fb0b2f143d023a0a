/* The profiler's state, shared by prof.c (scopes, events, statistics) and trace.c.
 *
 * A profiled context keeps every kernel launch's event unresolved in `pend` and
 * reads its times only when statistics, the launch log or a trace are asked for,
 * or when many are pending (then only those already complete), so profiling adds
 * no wait to what it measures. Ops and user scopes form a stack; each open scope
 * has a `node` in a tree of call paths, so a launch resolved later still knows
 * which statistics rows to credit. */
#ifndef TINYCL_PROF_H
#define TINYCL_PROF_H

#include "core/internal.h"

#define TC_PROF_SCOPE      (-1) /* variant of a user scope's row */
#define TC_PROF_NAME_CACHE 64

typedef struct {
    tc_prof_stat s;
    int name, variant; /* interned name; tc_variant or TC_PROF_SCOPE */
} tc_prof_row;

typedef struct {
    int name, variant; /* as in its row, which tc_prof_reset makes anew */
    int row, node;
    size_t slice;    /* index in the slice log; SIZE_MAX when not logged */
    double t0;       /* host ms */
    double child_ms; /* host ms of directly nested ops (a ref op's own time excludes them) */
    double flops, bytes;
} tc_prof_frame;

typedef struct {
    int parent, row, is_op;
} tc_prof_node;

typedef struct { /* an op call or a user scope */
    int row, depth;
    double t0, t1; /* host ms; t1 < 0 while open, or when the call failed */
} tc_prof_slice;

typedef struct { /* a kernel launch or a CLBlast call */
    int name;
    size_t slice;                /* innermost enclosing slice; SIZE_MAX when none */
    cl_ulong queued, start, end; /* device ns; all 0 until resolved */
} tc_prof_rec;

typedef struct {
    cl_event ev;
    int node;   /* innermost scope at launch; -1 when none */
    size_t rec; /* index in the launch log; SIZE_MAX when not logged */
} tc_prof_pending;

struct tc_prof {
    char **names; /* interned op, scope and kernel names */
    const char *cache_ptr[TC_PROF_NAME_CACHE];
    int cache_id[TC_PROF_NAME_CACHE];
    int nnames;
    size_t cap_names;
    tc_prof_row *rows;
    int nrows;
    size_t cap_rows;
    tc_prof_node *nodes;
    int nnodes;
    size_t cap_nodes;
    tc_prof_frame *stack;
    int depth;
    size_t cap_stack;
    int unopened; /* ops begun while a scope could not be opened (out of memory) */
    tc_prof_slice *slices;
    size_t nslices, cap_slices;
    tc_prof_rec *recs;
    size_t nrecs, cap_recs;
    tc_prof_pending *pend;
    size_t npend, cap_pend, harvest_at;
    size_t max_log;                        /* cap of each log (TINYCL_PROF_MAX_LAUNCHES) */
    uint64_t launches_total, slices_total; /* including those the caps left out */
    uint64_t lost;                         /* records lost to host memory exhaustion */
    double host0_ms;                       /* host time of the clock pair */
    cl_ulong dev0_ns;                      /* device time of the same instant */
};

/* Waits for every pending event and credits its time (TC_OK on ref). */
tc_status tc_prof_resolve(tc_ctx *ctx);
/* Host ms of a device timestamp. */
double tc_prof_dev_to_host(const struct tc_prof *p, cl_ulong ns);

#endif
