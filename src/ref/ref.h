/* The plain-C reference of every op: obviously correct loops on host memory. */
#ifndef TINYCL_REF_H
#define TINYCL_REF_H

#include <stdint.h>

#include "tinycl/attention.h"
#include "tinycl/layers.h"
#include "tinycl/tensor.h"

/* Returns 0, or -1 when host memory runs out (C untouched). */
/* C = alpha * op(A) * op(B) + beta * C (+ bias[N]) (ReLU); C is not read when beta == 0. */
int tc_ref_matmul(const float *A, const float *B, float *C, const float *bias, int64_t M, int64_t N, int64_t K,
                   int trans_a, int trans_b, float alpha, float beta, int relu);

/* ---- layer ops (include/tinycl/layers.h); y may equal the input for the
 * elementwise, softmax and layernorm references (in place) ---- */
void tc_ref_add(const float *a, const float *b, float *y, int64_t n);
void tc_ref_mul(const float *a, const float *b, float *y, int64_t n);
void tc_ref_relu(const float *x, float *y, int64_t n);
void tc_ref_gelu(const float *x, float *y, int64_t n, tc_gelu_mode mode);
/* Row-wise over rows x d. */
void tc_ref_softmax(const float *x, float *y, int64_t rows, int64_t d);
void tc_ref_layernorm(const float *x, const float *gamma, const float *beta, float *y, int64_t rows, int64_t d,
                      float eps);
/* planes = N * C planes of h x w into oh x ow; avg != 0 averages over in-bounds elements. */
void tc_ref_pool2d(const float *x, float *y, int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                   const tc_pool2d_params *p, int avg);
void tc_ref_global_avgpool(const float *x, float *y, int64_t planes, int64_t hw);
/* Max pooling of u8 (s8 when is_signed) planes, the windows of tc_ref_pool2d. */
void tc_ref_maxpool2d_q(const void *x, void *y, int is_signed, int64_t planes, int64_t h, int64_t w, int64_t oh,
                        int64_t ow, const tc_pool2d_params *p);
/* ids already checked to lie in [0, rows of table). */
void tc_ref_embedding(const float *table, const int32_t *ids, float *y, int64_t n, int64_t d);
/* y (indices) and values (x at them) may each be NULL. */
void tc_ref_argmax(const float *x, int32_t *y, float *values, int64_t rows, int64_t d);
/* y[b, out] = x[b, in] * w[out, in]^T (+ bias) (ReLU); 0, or -1 out of host memory. */
int tc_ref_linear(const float *x, const float *w, const float *bias, float *y, int64_t b, int64_t out, int64_t in,
                  int relu);

/* ---- quantization (include/tinycl/quantize.h); element i uses the parameters of
 * channel (i / inner) % channels ---- */
/* The integer range of s8, u8 or s32. */
void tc_ref_quant_range(tc_dtype dt, int32_t *qmin, int32_t *qmax);
/* y (s8 or u8) = clamp(rint(x * (1 / scale)) + zero_point), NaN -> zero_point. */
void tc_ref_quantize(const float *x, void *y, tc_dtype dt, int64_t n, int64_t inner, int64_t channels,
                     const float *scale, const int32_t *zero_point);
/* y = (float)(x - zero_point) * scale for x of s8, u8 or s32. */
void tc_ref_dequantize(const void *x, tc_dtype dt, float *y, int64_t n, int64_t inner, int64_t channels,
                       const float *scale, const int32_t *zero_point);

/* ---- integer GEMM (include/tinycl/igemm.h) ---- */
/* gemmlowp's fixed-point steps: SaturatingRoundingDoublingHighMul, RoundingDivideByPOT
 * (0 <= exponent <= 31), and the requantization of v by (multiplier, shift) */
int32_t tc_ref_srdhm(int32_t a, int32_t b);
int32_t tc_ref_rdbpot(int32_t x, int exponent);
int32_t tc_ref_requant(int32_t v, int32_t multiplier, int32_t shift);

/* v[m x n] = sum_k (a - za)(b - zb[j]) + bias[j] (saturated to s32); a is u8 (s8 when
 * a_signed) m x k, b is s8 k x n (n x k when trans_b), bias NULL or n. */
void tc_ref_igemm_acc(const void *a, int a_signed, const int8_t *b, int trans_b, int32_t za, const int32_t *zb,
                      const int32_t *bias, int32_t *v, int64_t m, int64_t n, int64_t k);
/* The output stage, per output column j where it takes an array of n. */
typedef struct {
    const int32_t *mult, *shift; /* 8-bit C */
    const float *scale;          /* f32 C: sa * sb[j] */
    int32_t zc, qmin, qmax;      /* 8-bit C: zero point and clamp (relu already folded into qmin) */
    int relu;                    /* s32 and f32 C */
} tc_ref_igemm_out;
/* C[m x n] (s32, s8, u8 or f32 by c_dtype) from v. */
void tc_ref_igemm_stage(const int32_t *v, void *c, tc_dtype c_dtype, int64_t m, int64_t n, const tc_ref_igemm_out *o);

/* Convolution geometry: x is n x c x h x w, weights k x (c / groups) x r x s, y is n x k x p x q. */
typedef struct {
    int64_t n, c, h, w, k, r, s, p, q;
    int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
} tc_conv_dims;

/* y = conv2d(x, w) (+ bias[k]) (ReLU), direct loops; what y held before is ignored. */
void tc_ref_conv2d(const float *x, const float *w, const float *bias, float *y, const tc_conv_dims *d, int relu);
/* Its steps: adds weight wv at tap (r, s) of input plane xp to output plane yp;
 * then adds bias[k] (bias may be NULL) and applies ReLU over the plane. */
void tc_ref_conv_tap(float *yp, const float *xp, float wv, int64_t r, int64_t s, const tc_conv_dims *d);
void tc_ref_conv_finish(float *yp, int64_t plane, const float *bias, int64_t k, int relu);
/* The [C*R*S, P*Q] column matrix of one image x (C x H x W), rows ld floats apart:
 * cols[((c*R + r)*S + s) * ld + p*Q + q] is x's element under tap (r, s) of output
 * pixel (p, q), zero in the padding. */
void tc_ref_im2col(const float *x, float *cols, int64_t ld, const tc_conv_dims *d);

/* A block-sparse row matrix on the host (include/tinycl/sparse.h): br x bc blocks,
 * rowptr[mb + 1] into the blocks, one block-column index per block, each block's
 * values row-major; rows past `rows` in the last block row are zero. */
typedef struct {
    int br, bc;
    int64_t rows, cols, mb;
    const int32_t *rowptr, *colidx;
    const float *values;
} tc_ref_bsr;
/* y[b, r] = sum_c x[b, c] A[r, c] (+ bias[r]) (ReLU) for b < batch. */
void tc_ref_spmm(const tc_ref_bsr *a, const float *x, int64_t batch, const float *bias, int relu, float *y);
/* conv2d whose filters are a's rows over the columns (c * R + r) * S + s, c counted
 * over all C channels (a grouped filter's columns lie in its group's channels). */
void tc_ref_sparse_conv2d(const tc_ref_bsr *a, const float *x, const float *bias, float *y, const tc_conv_dims *d,
                          int relu);

/* Attention geometry: q and out [b, h, lq, dh] at strides (qsb, qsh, qsl) per batch,
 * head and token (the layout), k and v [b, hkv, lk, dh] contiguous; query i of
 * sequence s sits at key position seq[2s] + i and sees keys j < seq[2s + 1] (and j <=
 * its position when causal); seq NULL: (q_pos, lk) for every sequence. */
typedef struct {
    int64_t b, h, hkv, lq, lk, dh;
    int64_t qsb, qsh, qsl;
    float scale;
    int causal;
    int64_t q_pos;
    const int32_t *seq;
} tc_attn_dims;

/* Keys query i of sequence s sees (from key 0). */
int64_t tc_attn_keys(const tc_attn_dims *g, int64_t s, int64_t i);
/* out = softmax(scale q k^T, masked) v, scores and sums in double; a query that sees
 * no key gets zeros. 0, or -1 out of host memory (out untouched). */
int tc_ref_attention(const float *q, const float *k, const float *v, float *out, const tc_attn_dims *g);
/* cache[s, hh, start[s] + i, :] = src[s, hh, i, :] for i < count[s]: cache is [b, h, cap,
 * dh], src [b, h, n, dh] (or [b, n, h, dh] when blhd), elements of es bytes. */
void tc_ref_kv_write(void *cache, const void *src, int64_t b, int64_t h, int64_t cap, int64_t n, int64_t dh,
                     const int32_t *start, const int32_t *count, int blhd, size_t es);

/* ---- quantized layers (include/tinycl/qlayers.h); groups 1 ---- */
/* An f32 bias in accumulator units (in_scale * w_scale): rint(b / unit), saturated. */
int32_t tc_ref_qbias(float b, double unit);
/* Patch rows of NCHW x: cols[(n * P * Q + p * Q + q) * R*S*C + (r * S + s) * C + c] = x at the tap, zp in the
 * padding (the weights are [K, R, S, C] to match). */
void tc_ref_im2row(const uint8_t *x, uint8_t *cols, const tc_conv_dims *d, uint8_t zp);
/* t [n, pq, k] -> y [n, k, pq] for elements of esize bytes. */
void tc_ref_to_nchw(const void *t, void *y, size_t esize, int64_t n, int64_t pq, int64_t k);
/* v [N, K, P, Q] = sum (x - zx)(w - zw[k]) + bias[k] (saturated to s32), direct loops; x is
 * u8 (s8 when x_signed), w s8, bias NULL or K. */
void tc_ref_qconv2d_acc(const void *x, int x_signed, const int8_t *w, int32_t zx, const int32_t *zw,
                        const int32_t *bias, int32_t *v, const tc_conv_dims *d);

#endif
