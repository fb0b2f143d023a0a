/* The ops with a check descriptor, in the order `tinycl check` runs them. Adding an
 * op: define `const tc_opdesc tc_opdesc_<name>` next to the op and add it here. */
#ifndef TINYCL_OPLIST_H
#define TINYCL_OPLIST_H

#define TC_OP_LIST(X) \
    X(matmul)         \
    X(linear)         \
    X(add)            \
    X(mul)            \
    X(relu)           \
    X(gelu)           \
    X(softmax)        \
    X(layernorm)      \
    X(maxpool2d)      \
    X(avgpool2d)      \
    X(global_avgpool) \
    X(embedding)      \
    X(argmax)         \
    X(conv2d)         \
    X(conv2d_plan)    \
    X(quantize)       \
    X(dequantize)     \
    X(igemm)          \
    X(attention)      \
    X(attention_cached) \
    X(spmv)           \
    X(spmm)           \
    X(sparse_linear)  \
    X(sparse_conv2d)  \
    X(qlinear)        \
    X(qconv2d)

#define TC_OP_ENUM(name) TC_OP_##name,
typedef enum { TC_OP_LIST(TC_OP_ENUM) TC_OP_COUNT } tc_op_id;
#undef TC_OP_ENUM

#endif
