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

/* Convolution geometry: one int16 kernel argument (cl_int16 on the host). X(name, i)
 * is one field in component i, a hex digit: src/ops/conv2d.c writes g.s[0x##i],
 * kernels/conv2d.cl reads d.s##i as G##name. */
#define TC_CONV_GEOMETRY(X)                                                                                     \
    X(C, 0)  /* input channels */                                                                               \
    X(H, 1)  /* input height */                                                                                 \
    X(W, 2)  /* input width */                                                                                  \
    X(K, 3)  /* output channels */                                                                              \
    X(CG, 4) /* input channels per group, C / groups */                                                         \
    X(KG, 5) /* output channels per group, K / groups */                                                        \
    X(R, 6)  /* kernel height */                                                                                \
    X(S, 7)  /* kernel width */                                                                                 \
    X(P, 8)  /* output height */                                                                                \
    X(Q, 9)  /* output width */                                                                                 \
    X(SH, a) /* stride, height and width */                                                                     \
    X(SW, b)                                                                                                    \
    X(PH, c) /* padding */                                                                                      \
    X(PW, d)                                                                                                    \
    X(DH, e) /* dilation */                                                                                     \
    X(DW, f)

/* Quantize and dequantize see a tensor as rows x len; the mode says where an
 * element's scale and zero point come from. */
#define QMODE_TENSOR 0 /* one pair for every element */
#define QMODE_ROW 1    /* pair [row % channels]: the channel axis is not the innermost */
#define QMODE_COL 2    /* pair [column]: the channel axis is the innermost (len == channels) */

#endif
