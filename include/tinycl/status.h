/* Status codes and error text. Every public function returns a tc_status. */
#ifndef TINYCL_STATUS_H
#define TINYCL_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

typedef enum {
    TC_OK = 0,
    TC_ERR_INVALID_ARG,  /* NULL pointer, bad enum, bad option */
    TC_ERR_SHAPE,        /* dimensions that do not fit together, zero or negative sizes */
    TC_ERR_DTYPE,        /* wrong element type */
    TC_ERR_OVERFLOW,     /* a size whose element or byte count overflows */
    TC_ERR_CONTEXT,      /* a tensor of another context */
    TC_ERR_NO_DEVICE,    /* no device matches the selection */
    TC_ERR_OUT_OF_MEMORY,
    TC_ERR_OPENCL,       /* an OpenCL call failed; the message names it */
    TC_ERR_BUILD,        /* a kernel failed to compile; the message holds the build log */
    TC_ERR_UNSUPPORTED,  /* variant not available on this device or for this shape */
    TC_ERR_IO,           /* a file could not be read or written */
    TC_ERR_CORRUPT,      /* a file is truncated, has a bad checksum or bad contents */
    TC_ERR_FULL,         /* a fixed-capacity object (e.g. a cache) is full */
    TC_STATUS_COUNT
} tc_status;

/* Short, constant name of a status ("TC_ERR_SHAPE"). */
const char *tc_status_name(tc_status s);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
