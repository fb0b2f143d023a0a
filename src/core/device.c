/* Device enumeration and selection: `ref` first, then every OpenCL device. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cblas.h>

#include "core/internal.h"

#define MAX_CL_DEVICES 64

typedef struct {
    cl_platform_id platform;
    cl_device_id device;
} cl_pair;

/* OpenCL devices are enumerated once per process (pthread_once): a first
 * initialisation of some drivers (PoCL 3.1) is not thread-safe, and every later
 * lookup reads this table, which never changes. `ref` needs none of it. */
static struct {
    int n;
    cl_pair pairs[MAX_CL_DEVICES];
    tc_device_info info[MAX_CL_DEVICES];
    char probe[512]; /* why there are none, or "" */
} g_cl;
static pthread_once_t g_cl_once = PTHREAD_ONCE_INIT;

static void enumerate(void)
{
    cl_platform_id plats[16];
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(16, plats, &np);
    if (err != CL_SUCCESS || np == 0) {
        snprintf(g_cl.probe, sizeof g_cl.probe,
                 "no OpenCL platform found (clGetPlatformIDs: %s); install an ICD such as pocl-opencl-icd "
                 "or check OCL_ICD_VENDORS; running on ref only",
                 tc_cl_error_name(err == CL_SUCCESS ? CL_PLATFORM_NOT_FOUND_KHR : err));
        return;
    }
    if (np > 16) np = 16;
    for (cl_uint p = 0; p < np; p++) {
        cl_device_id devs[MAX_CL_DEVICES];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_CL_DEVICES, devs, &nd) != CL_SUCCESS) continue;
        if (nd > MAX_CL_DEVICES) nd = MAX_CL_DEVICES;
        for (cl_uint d = 0; d < nd && g_cl.n < MAX_CL_DEVICES; d++) {
            g_cl.pairs[g_cl.n] = (cl_pair){plats[p], devs[d]};
            tc_device_fill_cl(g_cl.n + 1, plats[p], devs[d], &g_cl.info[g_cl.n]);
            g_cl.n++;
        }
    }
    if (g_cl.n == 0)
        snprintf(g_cl.probe, sizeof g_cl.probe, "%u OpenCL platform(s) found but no device; running on ref only",
                 (unsigned)np);
}

/* Number of OpenCL devices, enumerating them on the first call. */
static int cl_count(void)
{
    pthread_once(&g_cl_once, enumerate);
    return g_cl.n;
}

int tc_device_count(void) { return 1 + cl_count(); }

const char *tc_device_probe_message(void)
{
    cl_count();
    return g_cl.probe;
}

const char *tc_device_type_name(tc_device_type t)
{
    switch (t) {
    case TC_DEVICE_REF: return "ref";
    case TC_DEVICE_CPU: return "cpu";
    case TC_DEVICE_GPU: return "gpu";
    case TC_DEVICE_ACCEL: return "accel";
    default: return "other";
    }
}

static void str_info(cl_device_id d, cl_device_info what, char *dst, size_t n)
{
    dst[0] = '\0';
    if (clGetDeviceInfo(d, what, n, dst, NULL) != CL_SUCCESS) dst[0] = '\0';
    dst[n - 1] = '\0';
}

void tc_device_fill_cl(int index, cl_platform_id platform, cl_device_id d, tc_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->index = index;
    cl_device_type type = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    info->type = (type & CL_DEVICE_TYPE_GPU)           ? TC_DEVICE_GPU
                 : (type & CL_DEVICE_TYPE_CPU)         ? TC_DEVICE_CPU
                 : (type & CL_DEVICE_TYPE_ACCELERATOR) ? TC_DEVICE_ACCEL
                                                       : TC_DEVICE_OTHER;
    str_info(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    str_info(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    str_info(d, CL_DEVICE_VERSION, info->version, sizeof info->version);
    str_info(d, CL_DRIVER_VERSION, info->driver, sizeof info->driver);
    if (clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof info->platform, info->platform, NULL) !=
        CL_SUCCESS)
        info->platform[0] = '\0';
    info->platform[sizeof info->platform - 1] = '\0';
    cl_uint cu = 0;
    cl_ulong gm = 0, lm = 0, ma = 0;
    size_t wg = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gm, &gm, NULL);
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof lm, &lm, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ma, &ma, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    info->compute_units = cu;
    info->global_mem_bytes = gm;
    info->local_mem_bytes = lm;
    info->max_alloc_bytes = ma;
    info->max_work_group = wg;
    size_t len = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &len) == CL_SUCCESS && len > 0) {
        char *ext = malloc(len + 1);
        if (ext && clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, len, ext, NULL) == CL_SUCCESS) {
            ext[len] = '\0';
            info->has_fp64 = strstr(ext, "cl_khr_fp64") != NULL;
            info->has_fp16 = strstr(ext, "cl_khr_fp16") != NULL;
            info->has_int_dot = strstr(ext, "cl_khr_integer_dot_product") != NULL;
            info->has_subgroups = strstr(ext, "subgroups") != NULL || strstr(ext, "cl_intel_subgroups") != NULL;
        }
        free(ext);
    }
}

static void fill_ref(tc_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->index = 0;
    info->type = TC_DEVICE_REF;
    snprintf(info->name, sizeof info->name, "ref");
    snprintf(info->vendor, sizeof info->vendor, "tinycl");
    snprintf(info->platform, sizeof info->platform, "host");
    snprintf(info->version, sizeof info->version, "plain C reference");
    snprintf(info->driver, sizeof info->driver, "%d.%d.%d", TINYCL_VERSION_MAJOR, TINYCL_VERSION_MINOR,
             TINYCL_VERSION_PATCH);
    info->compute_units = 1;
}

void tc_device_fill_openblas(tc_device_info *info)
{
    fill_ref(info);
    snprintf(info->name, sizeof info->name, "openblas");
    snprintf(info->vendor, sizeof info->vendor, "OpenBLAS");
    /* "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64": version and kernels */
    snprintf(info->version, sizeof info->version, "%s", openblas_get_config());
    const int threads = openblas_get_num_threads();
    info->compute_units = threads > 0 ? (uint32_t)threads : 1;
}

int tc_device_spec_openblas(const char *spec)
{
    if (!spec || !*spec) spec = getenv("TINYCL_DEVICE");
    return spec && strcasecmp(spec, "openblas") == 0;
}

tc_status tc_device_get(int index, tc_device_info *info)
{
    if (!info) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_device_get: info is NULL");
    if (index == 0) {
        fill_ref(info);
        return TC_OK;
    }
    const int n = cl_count();
    if (index < 0 || index > n)
        return tc_fail(NULL, TC_ERR_NO_DEVICE, "device index %d out of range (0..%d)%s%s", index, n,
                       g_cl.probe[0] ? ": " : "", g_cl.probe);
    *info = g_cl.info[index - 1];
    return TC_OK;
}

/* Internal: the platform and device handles of OpenCL device `index` (>= 1). */
int tc_device_handles(int index, cl_platform_id *plat, cl_device_id *dev)
{
    if (index < 1 || index > cl_count()) return 0;
    *plat = g_cl.pairs[index - 1].platform;
    *dev = g_cl.pairs[index - 1].device;
    return 1;
}

int tc_device_index_of(cl_device_id dev)
{
    const int n = cl_count();
    for (int i = 0; i < n; i++)
        if (g_cl.pairs[i].device == dev) return i + 1;
    return -1;
}

static int icontains(const char *hay, const char *needle)
{
    size_t hn = strlen(hay), nn = strlen(needle);
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t j = 0;
        while (j < nn && tolower((unsigned char)hay[i + j]) == tolower((unsigned char)needle[j])) j++;
        if (j == nn) return 1;
    }
    return 0;
}

static int parse_int(const char *s, int *v)
{
    if (!*s) return 0;
    char *end = NULL;
    long x = strtol(s, &end, 10);
    if (*end || x < 0 || x > 1000000) return 0;
    *v = (int)x;
    return 1;
}

tc_status tc_device_find(const char *spec, int *index)
{
    if (!index) return tc_fail(NULL, TC_ERR_INVALID_ARG, "tc_device_find: index is NULL");
    if (!spec || !*spec) spec = getenv("TINYCL_DEVICE");
    if (spec && (strcasecmp(spec, "ref") == 0 || tc_device_spec_openblas(spec))) {
        *index = 0;
        return TC_OK;
    }
    int n = tc_device_count();
    tc_device_info info;
    if (!spec || !*spec) {
        int first_cl = 0;
        for (int i = 1; i < n; i++) {
            if (tc_device_get(i, &info) != TC_OK) continue;
            if (info.type == TC_DEVICE_GPU) {
                *index = i;
                return TC_OK;
            }
            if (!first_cl) first_cl = i;
        }
        *index = first_cl;
        return TC_OK;
    }
    int v;
    if (strncasecmp(spec, "cl:", 3) == 0 && parse_int(spec + 3, &v)) {
        if (v + 1 < n) {
            *index = v + 1;
            return TC_OK;
        }
        return tc_fail(NULL, TC_ERR_NO_DEVICE, "no OpenCL device cl:%d (%d found)%s%s", v, n - 1,
                       g_cl.probe[0] ? ": " : "", g_cl.probe);
    }
    if (parse_int(spec, &v)) {
        if (v < n) {
            *index = v;
            return TC_OK;
        }
        return tc_fail(NULL, TC_ERR_NO_DEVICE, "no device %d (%d found, ref included)", v, n);
    }
    static const struct {
        const char *name;
        tc_device_type t;
    } types[] = {{"cpu", TC_DEVICE_CPU}, {"gpu", TC_DEVICE_GPU}, {"accel", TC_DEVICE_ACCEL}};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        if (strcasecmp(spec, types[t].name) != 0) continue;
        for (int i = 1; i < n; i++)
            if (tc_device_get(i, &info) == TC_OK && info.type == types[t].t) {
                *index = i;
                return TC_OK;
            }
        return tc_fail(NULL, TC_ERR_NO_DEVICE, "no OpenCL device of type %s%s%s", spec,
                       g_cl.probe[0] ? ": " : "", g_cl.probe);
    }
    for (int i = 1; i < n; i++)
        if (tc_device_get(i, &info) == TC_OK && icontains(info.name, spec)) {
            *index = i;
            return TC_OK;
        }
    return tc_fail(NULL, TC_ERR_NO_DEVICE, "no device matches '%s'%s%s", spec, g_cl.probe[0] ? ": " : "", g_cl.probe);
}
