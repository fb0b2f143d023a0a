/* Elementwise ops: VW elements per work-item through vloadVW / vstoreVW (16 fills
 * an AVX-512 register on CPUs, 4 suits GPUs), the last partial vector one by one.
 * y may alias an input: each element is read before its own work-item writes it.
 * Every buffer comes with its element offset (tensor views). */
#ifndef VW
#define VW 16
#endif
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define VEC CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)

#define OP_ADD(a, b) ((a) + (b))
#define OP_MUL(a, b) ((a) * (b))
#define OP_RELU(x) ((x) < 0.0f ? 0.0f : (x)) /* NaN stays NaN (fmax would give 0) */
/* 0.5 x (1 + tanh(u)), u = sqrt(2 / pi) (x + 0.044715 x^3), written x / (1 + exp(-2u)),
 * and 0.5 x (1 + erf(x / sqrt(2))) written 0.5 x erfc(-x / sqrt(2)): the sum 1 + ...
 * would cancel for negative x and lose the small results' digits. */
#define OP_GELU_TANH(x) ((x) / (1.0f + exp(-1.5957691216057308f * ((x) + 0.044715f * (x) * (x) * (x)))))
#define OP_GELU_ERF(x) (0.5f * (x) * erfc((x) * -0.7071067811865476f))

#define UNARY(name, OP)                                                          \
    __kernel void name(__global const float *x, const ulong xo, __global float *y, const ulong yo, \
                       const ulong n)                                                              \
    {                                                                                              \
        x += xo;                                                                                   \
        y += yo;                                                                                   \
        const size_t i = get_global_id(0) * VW;                                  \
        if (i + VW <= n) {                                                       \
            const VEC v = VLOAD(0, x + i);                                       \
            VSTORE(OP(v), 0, y + i);                                             \
        } else {                                                                 \
            for (size_t j = i; j < n; j++) {                                     \
                const float s = x[j];                                            \
                y[j] = OP(s);                                                    \
            }                                                                    \
        }                                                                        \
    }

#define BINARY(name, OP)                                                                                  \
    __kernel void name(__global const float *a, const ulong ao, __global const float *b, const ulong bo,  \
                       __global float *y, const ulong yo, const ulong n)                                  \
    {                                                                                                     \
        a += ao;                                                                                          \
        b += bo;                                                                                          \
        y += yo;                                                                                          \
        const size_t i = get_global_id(0) * VW;                                                           \
        if (i + VW <= n)                                                                                  \
            VSTORE(OP(VLOAD(0, a + i), VLOAD(0, b + i)), 0, y + i);                                       \
        else                                                                                              \
            for (size_t j = i; j < n; j++) y[j] = OP(a[j], b[j]);                                         \
    }

BINARY(add, OP_ADD)
BINARY(mul, OP_MUL)
UNARY(relu, OP_RELU)
UNARY(gelu_tanh, OP_GELU_TANH)
UNARY(gelu_erf, OP_GELU_ERF)
