/* Status names, error messages and variant names. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"

static _Thread_local char g_err[TC_ERR_LEN];

const char *tc_status_name(tc_status s)
{
#define N(s) [s] = #s
    static const char *const names[] = {
        N(TC_OK),          N(TC_ERR_INVALID_ARG), N(TC_ERR_SHAPE),       N(TC_ERR_DTYPE),  N(TC_ERR_OVERFLOW),
        N(TC_ERR_CONTEXT), N(TC_ERR_NO_DEVICE),   N(TC_ERR_OUT_OF_MEMORY), N(TC_ERR_OPENCL), N(TC_ERR_BUILD),
        N(TC_ERR_UNSUPPORTED), N(TC_ERR_IO),      N(TC_ERR_CORRUPT),     N(TC_ERR_FULL),
    };
#undef N
    _Static_assert(sizeof names / sizeof names[0] == TC_STATUS_COUNT, "a name for every tc_status");
    return (s >= 0 && s < TC_STATUS_COUNT) ? names[s] : "TC_ERR_UNKNOWN";
}

static void vset(char *dst, tc_status s, const char *fmt, va_list ap)
{
    int n = snprintf(dst, TC_ERR_LEN, "%s: ", tc_status_name(s));
    if (n < 0 || n >= TC_ERR_LEN) n = 0;
    vsnprintf(dst + n, TC_ERR_LEN - (size_t)n, fmt, ap);
}

tc_status tc_fail(tc_ctx *ctx, tc_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(ctx ? ctx->err : g_err, s, fmt, ap);
    va_end(ap);
    return s;
}

tc_status tc_fail_in(tc_ctx *ctx, tc_status s, const char *fmt, ...)
{
    if (s == TC_OK) return s;
    char *err = ctx ? ctx->err : g_err, where[256], inner[TC_ERR_LEN];
    const size_t sn = strlen(tc_status_name(s));
    const char *msg = strncmp(err, tc_status_name(s), sn) == 0 && err[sn] == ':' ? err + sn + 2 : err;
    snprintf(inner, sizeof inner, "%s", msg);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(where, sizeof where, fmt, ap);
    va_end(ap);
    return tc_fail(ctx, s, "%s: %s", where, inner);
}

void tc_set_global_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof g_err, fmt, ap);
    va_end(ap);
}

const char *tc_last_error(const tc_ctx *ctx) { return ctx ? ctx->err : g_err; }

const char *tc_cl_error_name(cl_int e)
{
    switch (e) {
#define E(x) \
    case x: return #x;
        E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
        E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
        E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MISALIGNED_SUB_BUFFER_OFFSET)
        E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE) E(CL_INVALID_CONTEXT) E(CL_INVALID_COMMAND_QUEUE)
        E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_BUILD_OPTIONS) E(CL_INVALID_PROGRAM) E(CL_INVALID_KERNEL_NAME)
        E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX) E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE)
        E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE)
        E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT)
        E(CL_INVALID_BUFFER_SIZE) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_PLATFORM_NOT_FOUND_KHR)
#undef E
    default: return "CL_UNKNOWN_ERROR";
    }
}

tc_status tc_fail_cl(tc_ctx *ctx, cl_int err, const char *what)
{
    tc_status s = (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_HOST_MEMORY ||
                   err == CL_INVALID_BUFFER_SIZE)
                      ? TC_ERR_OUT_OF_MEMORY
                      : TC_ERR_OPENCL;
    return tc_fail(ctx, s, "%s failed: %s (%d)", what, tc_cl_error_name(err), (int)err);
}

static const char *const variant_names[] = {
    [TC_VARIANT_AUTO] = "auto",       [TC_VARIANT_REF] = "ref",       [TC_VARIANT_CPU] = "cpu",
    [TC_VARIANT_GPU] = "gpu",         [TC_VARIANT_GEMV] = "gemv",     [TC_VARIANT_CLBLAST] = "clblast",
    [TC_VARIANT_IM2COL] = "im2col",   [TC_VARIANT_OPENCL] = "opencl", [TC_VARIANT_VNNI] = "vnni",
    [TC_VARIANT_VNNI256] = "vnni256",
    [TC_VARIANT_SPLIT] = "split",     [TC_VARIANT_OPENBLAS] = "openblas",
};
_Static_assert(sizeof variant_names / sizeof variant_names[0] == TC_VARIANT_COUNT, "a name for every tc_variant");

const char *tc_variant_name(tc_variant v)
{
    return (v >= 0 && v < TC_VARIANT_COUNT) ? variant_names[v] : "unknown";
}

tc_status tc_variant_parse(const char *name, tc_variant *out)
{
    if (!name || !out) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_variant_parse: NULL argument");
    for (int i = 0; i < TC_VARIANT_COUNT; i++)
        if (strcasecmp(name, variant_names[i]) == 0) {
            *out = (tc_variant)i;
            return TC_OK;
        }
    return tc_fail(NULL, TC_ERR_INVALID_ARG, "unknown variant '%s'", name);
}
