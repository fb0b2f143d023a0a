/* Checked size arithmetic for validation. Every size, extent or index bound a
 * host computes from user input (tensor dims, strides, pads, windows, file
 * fields) goes through these before anything is allocated or launched, so a
 * product never wraps into a small, plausible number. Values are non-negative
 * int64; a result that overflows saturates at INT64_MAX, which every limit
 * check then refuses. */
#ifndef TINYCL_CHECKED_H
#define TINYCL_CHECKED_H

#include <stdint.h>

/* What OpenCL kernels index with: a quantity proved <= this fits an `int`. */
#define TC_CL_INT_MAX INT64_C(2147483647)
/* The largest extent a kernel loops or launches over with an int index: loops and
 * rounded-up grids step past their end by up to 1024 (a work-group, a vector)
 * before they test it. */
#define TC_CL_EXTENT_MAX (TC_CL_INT_MAX - 1024)

static inline int64_t tc_sat_mul(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

static inline int64_t tc_sat_add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

static inline int64_t tc_sat_mul3(int64_t a, int64_t b, int64_t c) { return tc_sat_mul(tc_sat_mul(a, b), c); }

#endif
