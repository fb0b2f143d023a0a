/* Devices: the CPU reference `ref` (index 0, always present), then every OpenCL
 * device of every platform, in platform order. The host baseline "openblas" is
 * ref too (index 0) with the GEMM-shaped ops on OpenBLAS: a context made with that
 * selection says so (tc_ctx_host_blas); it adds no index. */
#ifndef TINYCL_DEVICE_H
#define TINYCL_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "tinycl/status.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef enum {
    TC_DEVICE_REF = 0, /* plain C on the host */
    TC_DEVICE_CPU,
    TC_DEVICE_GPU,
    TC_DEVICE_ACCEL,
    TC_DEVICE_OTHER
} tc_device_type;

typedef struct {
    int index;                 /* 0 = ref; OpenCL devices from 1 */
    tc_device_type type;
    char name[256];
    char vendor[128];
    char platform[128];
    char version[128];         /* device OpenCL version */
    char driver[128];
    uint32_t compute_units;
    uint64_t global_mem_bytes;
    uint64_t local_mem_bytes;
    uint64_t max_alloc_bytes;
    size_t max_work_group;
    int has_fp64;
    int has_fp16;
    int has_int_dot;           /* cl_khr_integer_dot_product */
    int has_subgroups;         /* cl_khr_subgroups or vendor subgroups */
} tc_device_info;

/* Number of devices, ref included (always >= 1). */
int tc_device_count(void);

/* Fills *info for device `index` (0 .. tc_device_count()-1). */
tc_status tc_device_get(int index, tc_device_info *info);

/* Resolves a selection to a device index. `spec` is one of: "ref"; "openblas"
 * (index 0, see above); "cl:N" (the
 * N-th OpenCL device); a plain index "N"; a type "cpu", "gpu", "accel" (first of
 * that type); or a case-insensitive substring of the device name ("pthread").
 * NULL or "" reads TINYCL_DEVICE, and without it picks the first GPU, else the
 * first OpenCL device, else ref. */
tc_status tc_device_find(const char *spec, int *index);

/* Why OpenCL devices are missing, or "" when at least one was found. */
const char *tc_device_probe_message(void);

const char *tc_device_type_name(tc_device_type t);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
