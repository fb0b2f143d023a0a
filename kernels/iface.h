/* The interface between host code and kernels, read by both: the C sources include
 * it and it is compiled in front of every OpenCL program (as kernels/common.clh is).
 * Only preprocessor definitions, valid C and OpenCL C alike. */
#ifndef TINYCL_KERNEL_IFACE_H
#define TINYCL_KERNEL_IFACE_H

/* GEMM and convolution epilogue flags: y = alpha * acc (+ beta * y) (+ bias) (ReLU) */
#define EPI_BIAS 1     /* add bias[column] (bias[row] with EPI_BIAS_ROW) */
#define EPI_RELU 2     /* max(y, 0) last */
#define EPI_BETA 4     /* read y and add beta * y */
#define EPI_BIAS_ROW 8 /* the bias has one value per row (an output channel) */

#endif
