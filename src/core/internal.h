/* Library-internal declarations shared by core, ops, prof and check. */
#ifndef TINYCL_INTERNAL_H
#define TINYCL_INTERNAL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <CL/cl_ext.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/checked.h"
#include "core/params.h"
#include "tinycl/params.h"
#include "tinycl/tinycl.h"

#define TC_ERR_LEN 8192
#define TC_MAX_KERNELS 16
#define TC_SCRATCH_SLOTS 4
#define TC_CANARY 0xA5u /* guard byte around test outputs */

typedef struct tc_program {
    char *name;
    char *options;
    cl_program prog;
    int nkernels;
    char *knames[TC_MAX_KERNELS];
    cl_kernel kernels[TC_MAX_KERNELS]; /* created once, owned by the program */
    size_t kwg[TC_MAX_KERNELS];        /* their CL_KERNEL_WORK_GROUP_SIZE */
    struct tc_program *next;
} tc_program;

struct tc_ctx {
    int refs; /* the creator's, and one per object made in it (tc_ctx_retain) */
    tc_device_info info;
    int is_ref;
    int host_blas; /* made with "openblas": a host context whose GEMM-shaped ops default to OpenBLAS */
    int pocl; /* on PoCL: launches follow src/core/pocl.c */
    cl_platform_id platform;
    cl_device_id dev;
    cl_context cl;
    cl_command_queue queue;
    tc_program *programs;
    tc_params params;        /* kernel parameters (core/params.h) */
    tc_params_origin origin; /* where each came from */
    cl_mem scratch[TC_SCRATCH_SLOTS];
    size_t scratch_bytes[TC_SCRATCH_SLOTS];
    int used_clblast;
    unsigned igemm_unbuilt; /* bit per variant whose igemm kernels failed to build: AUTO skips it */
    int cache_hits, cache_writes; /* programs loaded from / written to the binary cache */
    size_t mem_current, mem_peak;
    char err[TC_ERR_LEN];
    struct tc_prof *prof; /* with TC_CTX_PROFILE (src/prof/prof.h) */
    int user_scopes;      /* open tc_prof_scope_begin scopes, counted with or without profiling */
};

/* Quantization parameters owned by a storage (include/tinycl/quant.h). */
typedef struct {
    int axis;        /* -1: per tensor */
    int64_t count;
    float *scale;
    int32_t *zero_point;
} tc_quant_meta;

/* The checks of tc_tensor_set_quant for a tensor of dtype and dims; messages
 * start with `what`. */
tc_status tc_quant_check(tc_ctx *ctx, const char *what, tc_dtype dtype, int ndim, const int64_t *dims,
                         const tc_quant *q);

/* Refcounted storage shared by a tensor and its views. `guard` bytes of canary
 * live before and after the payload (tests only; 0 otherwise). */
typedef struct {
    int refs;
    size_t bytes;    /* payload bytes */
    tc_quant_meta *quant; /* NULL: not quantized; shared by every view */
    size_t guard;
    void *host;      /* ref: payload pointer (inside host_alloc) */
    void *host_alloc;
    cl_mem buf;      /* OpenCL: payload (a sub-buffer when guarded) */
    cl_mem parent;   /* OpenCL guarded: whole allocation */
    int external;    /* wraps an application buffer: not counted in the memory statistics */
} tc_storage;

struct tc_tensor {
    tc_ctx *ctx;
    tc_dtype dtype;
    int ndim;
    int64_t dims[TC_MAX_DIMS];
    int64_t numel;
    size_t bytes;
    int64_t offset;  /* elements from the start of the storage (views) */
    tc_storage *st;
};

/* errors */
tc_status tc_fail(tc_ctx *ctx, tc_status s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
tc_status tc_fail_cl(tc_ctx *ctx, cl_int err, const char *what);
/* Restates the last error s of ctx (NULL: the thread's) prefixed with where it
 * happened: "STATUS: <where>: <message>". TC_OK passes through. */
tc_status tc_fail_in(tc_ctx *ctx, tc_status s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *tc_cl_error_name(cl_int err);
void tc_set_global_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Another reference to ctx, dropped by tc_ctx_free: what is made in a context
 * keeps it alive, so the caller may free the context first. */
void tc_ctx_retain(tc_ctx *ctx);

/* memory accounting */
void tc_mem_add(tc_ctx *ctx, size_t bytes);
void tc_mem_sub(tc_ctx *ctx, size_t bytes);

/* tensors */
tc_status tc_tensor_create_guarded(tc_ctx *ctx, tc_dtype dtype, int ndim, const int64_t *dims, size_t guard,
                                   tc_tensor **out);
/* A tensor of dims (numel elements, already checked) `offset` elements into st,
 * owning one reference to st. */
tc_status tc_tensor_on_storage(tc_ctx *ctx, tc_dtype dtype, int ndim, const int64_t *dims, int64_t numel,
                               int64_t offset, tc_storage *st, tc_tensor **out);
/* 1 when both guard areas still hold the canary pattern. */
int tc_tensor_guards_intact(const tc_tensor *t);
/* Validation helper: checks non-NULL, context, dtype and ndim; writes a message. */
tc_status tc_check_tensor(tc_ctx *ctx, const tc_tensor *t, const char *name, tc_dtype dtype, int ndim);
/* Number of elements and bytes for dims, with overflow and range checks. */
tc_status tc_dims_count(tc_ctx *ctx, tc_dtype dtype, int ndim, const int64_t *dims, int64_t *numel, size_t *bytes);
/* Host pointer of a tensor on the ref device (its offset applied). */
static inline void *tc_host(const tc_tensor *t)
{
    return (char *)t->st->host + (size_t)t->offset * tc_dtype_size(t->dtype);
}
/* OpenCL buffer of a tensor's storage; kernels add tc_off(t) elements themselves
 * (sub-buffers would need CL_DEVICE_MEM_BASE_ADDR_ALIGN-aligned origins). */
static inline cl_mem tc_buf(const tc_tensor *t) { return t->st->buf; }
static inline cl_ulong tc_off(const tc_tensor *t) { return (cl_ulong)t->offset; }
/* 1 when the element ranges of a and b overlap in one storage. */
int tc_tensors_overlap(const tc_tensor *a, const tc_tensor *b);

/* Scratch: per-context buffers by slot that grow on demand, are counted in the
 * memory statistics and live until the context is freed. */
tc_status tc_scratch_get(tc_ctx *ctx, int slot, size_t bytes, cl_mem *out);

/* kernels */
const char *tc_kernel_source(const char *program); /* embedded kernels/<program>.cl */
int tc_device_handles(int index, cl_platform_id *plat, cl_device_id *dev);
/* 1 when spec (NULL or "": TINYCL_DEVICE) selects "openblas"; its device
 * information (ref's, named "openblas", with OpenBLAS's build in `version`). */
int tc_device_spec_openblas(const char *spec);
void tc_device_fill_openblas(tc_device_info *info);
/* Fills *info from OpenCL handles; `index` is stored as given. */
void tc_device_fill_cl(int index, cl_platform_id platform, cl_device_id dev, tc_device_info *info);
/* tinycl's index of an OpenCL device (>= 1), or -1 when it is not listed (a sub-device). */
int tc_device_index_of(cl_device_id dev);
/* Compiles `src` for the context's device; TC_ERR_BUILD with the log on failure. */
tc_status tc_program_build_source(tc_ctx *ctx, const char *program, const char *src, const char *options,
                                  cl_program *out);
/* Kernel `kernel` of kernels/<program>.cl built with `options`; owned by the context. */
tc_status tc_get_kernel(tc_ctx *ctx, const char *program, const char *options, const char *kernel, cl_kernel *out);
/* Program binary cache (cache.c): 1 and the directory (TINYCL_CACHE_DIR, else
 * the XDG cache directory; created), or 0 when off (TINYCL_CACHE=0, or PoCL
 * without TINYCL_CACHE=1) or unusable. */
int tc_cache_dir(const tc_ctx *ctx, char *buf, size_t n);
typedef struct {
    char key[1400]; /* what the binary was built from, stored in the file */
    uint64_t hash;  /* of the key: the file name */
} tc_cache_entry;
void tc_cache_key(tc_ctx *ctx, const char *const *srcs, int nsrcs, const char *options, tc_cache_entry *e);
/* 1 and a malloc'd binary when a whole, matching entry exists. */
int tc_cache_load(const char *dir, const char *program, const tc_cache_entry *e, unsigned char **bin, size_t *n);
/* Best effort: a temporary file renamed into place; 1 when written. */
int tc_cache_store(const char *dir, const char *program, const tc_cache_entry *e, const unsigned char *bin, size_t n);
/* Sets arguments from (size, pointer) pairs; n pairs. */
tc_status tc_set_args(tc_ctx *ctx, cl_kernel k, int n, ...);
tc_status tc_launch(tc_ctx *ctx, cl_kernel k, const char *name, cl_uint dims, const size_t *gws, const size_t *lws);
/* A launch made elsewhere (CLBlast) with its event (may be NULL): profiled when
 * the context profiles; takes ownership of ev. */
tc_status tc_record_event(tc_ctx *ctx, cl_event ev, const char *name);
/* PoCL contexts (src/core/pocl.c says why): tc_pocl_track(ctx, +1 / -1) when one
 * is made or freed; every launch (kernels, CLBlast calls) is bracketed by
 * held = tc_pocl_run_begin(ctx) ... tc_pocl_run_end(ctx, held), which serialize
 * it, to completion, while more than one PoCL context lives. */
void tc_pocl_track(tc_ctx *ctx, int delta);
int tc_pocl_run_begin(const tc_ctx *ctx);
void tc_pocl_run_end(const tc_ctx *ctx, int held);

/* CLBlast (src/core/clblast.c): one process-wide mutex is held around every
 * CLBlast call. tc_clblast_use marks the context as a CLBlast user (call before
 * each CLBlast call); tc_clblast_release, when such a context goes, clears
 * CLBlast's process-wide cache if it was the last live one. */
void tc_clblast_lock(void);
void tc_clblast_unlock(void);
void tc_clblast_use(tc_ctx *ctx);
void tc_clblast_release(tc_ctx *ctx);
/* Live contexts that used CLBlast. */
int tc_clblast_users(void);

/* kernel parameters (params.c) */
/* The table's values for the context's device, then TINYCL_PARAMS (the thread's error on a bad one). */
tc_status tc_params_init(tc_ctx *ctx);
/* Records why a launch did not use a field's value (shown by tc_kernel_params_print). */
void tc_param_note(tc_ctx *ctx, const int *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The largest work-group kernel k of this context takes (CL_KERNEL_WORK_GROUP_SIZE). */
size_t tc_kernel_wg_max(tc_ctx *ctx, cl_kernel k);
/* want when k takes it, else the most k takes (a power of two when pow2), noted against field. */
size_t tc_fit_wg(tc_ctx *ctx, cl_kernel k, const char *kname, const int *field, size_t want, int pow2);
/* `kernel` of kernels/<program>.cl built with -DTS=*ts -DWPT=*wpt from the fields,
 * the tile halved (and noted) until its work-group fits the kernel. */
tc_status tc_tile_kernel(tc_ctx *ctx, const char *program, const char *kernel, const int *tile, const int *wpt,
                         cl_kernel *k, int *ts);

/* Profiling (src/prof/): an op call is a scope, begin(op, variant, its useful
 * flops and minimal bytes) ... end(status), which returns st. No-ops without
 * TC_CTX_PROFILE. */
void tc_op_begin(tc_ctx *ctx, const char *op, tc_variant v, double flops, double bytes);
tc_status tc_op_end(tc_ctx *ctx, tc_status st);
tc_status tc_prof_init(tc_ctx *ctx);
void tc_prof_free(tc_ctx *ctx);
/* Keeps a launch's event (ownership passes) to read its times later. */
tc_status tc_prof_add_event(tc_ctx *ctx, cl_event ev, const char *name);
double tc_now_ms(void);


#define TC_ARG(x) sizeof(x), (const void *)&(x)

#endif
