/* An application that owns its OpenCL objects runs tinycl's digit MLP on them:
 * its cl_context and queue become a tinycl context (tc_ctx_wrap) and its cl_mem
 * buffers the model's input and output (tc_tensor_wrap), without copies.
 * The predictions are checked against the plain-C reference.
 * usage: interop_mlp DATA_DIR   (the folder with mlp_digits.tcw and digits_test.tcd,
 *                                share/tinycl of an installed tinycl) */
#include <stdio.h>
#include <stdlib.h>

#include <tinycl/opencl.h>
#include <tinycl/tinycl.h>

#define OUT_OFFSET 64 /* the probabilities start 64 floats into the application's buffer */

/* Class of the largest probability of each row. */
static void argmax_rows(const float *p, int64_t rows, int64_t classes, int32_t *pred)
{
    for (int64_t r = 0; r < rows; r++) {
        pred[r] = 0;
        for (int64_t c = 1; c < classes; c++)
            if (p[r * classes + c] > p[r * classes + pred[r]]) pred[r] = (int32_t)c;
    }
}

/* The model's probabilities on ctx for images already in tensor x. */
static tc_status forward(tc_ctx *ctx, const char *model, const tc_tensor *x, tc_tensor *y)
{
    tc_model *m = NULL;
    tc_status s = tc_model_load(ctx, model, &m);
    if (s == TC_OK) s = tc_model_forward(m, x, y);
    tc_model_free(m);
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: interop_mlp DATA_DIR\n");
        return 2;
    }
    char model[4096], data[4096];
    snprintf(model, sizeof model, "%s/mlp_digits.tcw", argv[1]);
    snprintf(data, sizeof data, "%s/digits_test.tcd", argv[1]);

    /* the application's OpenCL objects: the first device of the first platform */
    cl_platform_id platform;
    cl_device_id dev;
    cl_uint np = 0, nd = 0;
    cl_int err;
    if (clGetPlatformIDs(1, &platform, &np) != CL_SUCCESS || np == 0 ||
        clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &dev, &nd) != CL_SUCCESS || nd == 0) {
        fprintf(stderr, "no OpenCL device\n");
        return 1;
    }
    cl_context cl = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    cl_command_queue queue = clCreateCommandQueue(cl, dev, 0, &err);

    /* the test images and labels in host memory, as the application has them */
    tc_ctx *ref = NULL;
    tc_tensor *images = NULL, *labels = NULL, *ref_y = NULL;
    if (tc_ctx_create("ref", 0, &ref) != TC_OK || tc_dataset_load(ref, data, &images, &labels) != TC_OK) {
        fprintf(stderr, "%s\n", tc_last_error(ref));
        return 1;
    }
    const int64_t n = tc_tensor_dim(images, 0), classes = 10;
    float *host_x = malloc(tc_tensor_bytes(images)), *prob = malloc((size_t)(n * classes) * sizeof *prob);
    int32_t *label = malloc((size_t)n * sizeof *label), *pred = malloc((size_t)n * sizeof *pred);
    int32_t *ref_pred = malloc((size_t)n * sizeof *ref_pred);
    const int64_t dy[2] = {n, classes};
    tc_status s = host_x && prob && label && pred && ref_pred ? TC_OK : TC_ERR_OUT_OF_MEMORY;
    if (s == TC_OK) s = tc_tensor_read(images, host_x, tc_tensor_bytes(images));
    if (s == TC_OK) s = tc_tensor_read(labels, label, (size_t)n * sizeof *label);
    if (s == TC_OK) s = tc_tensor_create(ref, TC_DTYPE_F32, 2, dy, &ref_y);
    if (s == TC_OK) s = forward(ref, model, images, ref_y); /* the reference predictions */
    if (s == TC_OK) s = tc_tensor_read(ref_y, prob, (size_t)(n * classes) * sizeof *prob);
    if (s != TC_OK) {
        fprintf(stderr, "%s\n", tc_last_error(ref));
        return 1;
    }
    argmax_rows(prob, n, classes, ref_pred);

    /* the application's buffers: the images, and room for its own data before the probabilities */
    cl_mem in = clCreateBuffer(cl, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, tc_tensor_bytes(images), host_x, &err);
    cl_mem out = clCreateBuffer(cl, CL_MEM_READ_WRITE, (size_t)(OUT_OFFSET + n * classes) * sizeof(float), NULL, &err);

    /* tinycl on the application's context, queue and buffers */
    tc_ctx *ctx = NULL;
    tc_tensor *x = NULL, *y = NULL;
    int64_t dx[4];
    for (int i = 0; i < tc_tensor_ndim(images); i++) dx[i] = tc_tensor_dim(images, i);
    s = tc_ctx_wrap(cl, dev, queue, 0, &ctx);
    if (s == TC_OK) s = tc_tensor_wrap(ctx, in, 0, TC_DTYPE_F32, tc_tensor_ndim(images), dx, &x);
    if (s == TC_OK) s = tc_tensor_wrap(ctx, out, OUT_OFFSET, TC_DTYPE_F32, 2, dy, &y);
    if (s == TC_OK) s = forward(ctx, model, x, y);
    if (s != TC_OK) {
        fprintf(stderr, "%s\n", tc_last_error(ctx ? ctx : NULL));
        return 1;
    }
    /* the application reads its buffer on its queue, ordered after tinycl's work */
    err = clEnqueueReadBuffer(queue, out, CL_TRUE, OUT_OFFSET * sizeof(float), (size_t)(n * classes) * sizeof(float),
                              prob, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        fprintf(stderr, "clEnqueueReadBuffer failed: %d\n", err);
        return 1;
    }
    argmax_rows(prob, n, classes, pred);
    int64_t correct = 0, differ = 0;
    for (int64_t i = 0; i < n; i++) correct += pred[i] == label[i], differ += pred[i] != ref_pred[i];
    printf("mlp_digits on %s through the application's cl_context and cl_mem: %lld/%lld correct, "
           "%lld predictions differ from ref\n",
           tc_ctx_device(ctx)->name, (long long)correct, (long long)n, (long long)differ);

    tc_tensor_free(x); /* tinycl releases its references; the application still owns its objects */
    tc_tensor_free(y);
    tc_ctx_free(ctx);
    clReleaseMemObject(in);
    clReleaseMemObject(out);
    clReleaseCommandQueue(queue);
    clReleaseContext(cl);
    tc_tensor_free(ref_y);
    tc_tensor_free(images);
    tc_tensor_free(labels);
    tc_ctx_free(ref);
    free(host_x), free(prob), free(label), free(pred), free(ref_pred);
    return differ != 0 || correct * 10 < n * 9;
}
