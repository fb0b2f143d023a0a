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

/* Attention geometry: one int16 kernel argument, as TC_CONV_GEOMETRY. q and out are
 * [B, H, LQ, head_dim] at strides QSB, QSH, QSL (the layout), k and v [B, HKV, LK,
 * head_dim]; the first query of every sequence sits at key position QPOS and every
 * sequence has LK keys, unless the kernel's per-sequence int2 array (position, keys)
 * is given; NSPLIT work-groups of CHUNK keys each share one query (flash-decoding). */
#define TC_ATTN_GEOMETRY(X)                                                                                     \
    X(B, 0)                                                                                                     \
    X(H, 1)                                                                                                     \
    X(HKV, 2)                                                                                                   \
    X(LQ, 3)                                                                                                    \
    X(LK, 4)                                                                                                    \
    X(QSB, 5)                                                                                                   \
    X(QSH, 6)                                                                                                   \
    X(QSL, 7)                                                                                                   \
    X(CAUSAL, 8)                                                                                                \
    X(QPOS, 9)                                                                                                  \
    X(NSPLIT, a)                                                                                                \
    X(CHUNK, b)

/* Quantize and dequantize see a tensor as rows x len; the mode says where an
 * element's scale and zero point come from. */
#define QMODE_TENSOR 0 /* one pair for every element */
#define QMODE_ROW 1    /* pair [row % channels]: the channel axis is not the innermost */
#define QMODE_COL 2    /* pair [column]: the channel axis is the innermost (len == channels) */

/* Integer GEMM output stage (kernels/igemm.cl): what C receives from the corrected
 * s32 accumulator v = sum (a - za)(b - zb[j]) + bias[j] (a saturating add) */
#define IG_OUT_S32 0  /* v */
#define IG_OUT_Q8 1   /* clamp(RDBPOT(SRDHM(v << ls, mult[j]), rs) + zc, qmin, qmax) as 8 bits (gemmlowp) */
#define IG_OUT_F32 2  /* v * scale[j] */
#define IG_OUT_MASK 3
#define IG_RELU 4     /* s32 and f32 outputs: max(0, .); 8-bit outputs clamp at zc instead */
#define IG_NO_ROWSUM 8 /* every zb is 0: A's row sums are not needed (nor computed) */
/* Per-column parameters: IG_COLP arrays of N ints, one after another */
#define IG_COLSUM 0   /* sum over k of b[k][j] */
#define IG_ZB 1       /* B's zero point of column j */
#define IG_MULT 2     /* fixed-point multiplier in [2^30, 2^31), or 0 */
#define IG_SHIFT 3    /* > 0: left shift, < 0: rounding right shift */
#define IG_SCALE 4    /* f32 bits of sa * sb[j] */
#define IG_BIAS 5     /* s32 bias, 0 without one */
#define IG_COLP 6

#endif
