/* C = ReLU(A B) on the default device: $TINYCL_DEVICE, else a GPU, else any
 * OpenCL device (PoCL on a CPU-only machine), else the plain-C reference `ref`.
 * The result is checked against a plain C loop; the profile says what ran. */
#include <stdio.h>

#include <tinycl/tinycl.h>

#define M 64
#define N 48
#define K 32

int main(void)
{
    static float host_a[M * K], host_b[K * N], host_c[M * N];
    for (int i = 0; i < M * K; i++) host_a[i] = (float)(i % 7) - 3.0f; /* small integers: exact sums */
    for (int i = 0; i < K * N; i++) host_b[i] = (float)(i % 5) - 2.0f;

    tc_ctx *ctx;
    if (tc_ctx_create(NULL, TC_CTX_PROFILE, &ctx) != TC_OK) { /* or "ref", "cl:0", "gpu", "pthread" */
        fprintf(stderr, "%s\n", tc_last_error(NULL));
        return 1;
    }
    printf("device: %s\n", tc_ctx_device(ctx)->name);

    const int64_t da[2] = {M, K}, db[2] = {K, N}, dc[2] = {M, N};
    tc_tensor *a = NULL, *b = NULL, *c = NULL;
    tc_status s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, da, host_a, &a);
    if (s == TC_OK) s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, db, host_b, &b);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, dc, &c);

    tc_matmul_params p = tc_matmul_defaults(); /* alpha 1, beta 0, variant AUTO */
    p.relu = 1;                                /* fused epilogue; p.bias adds a bias */
    if (s == TC_OK) s = tc_matmul(ctx, a, b, c, &p); /* bad input: a status and a message, nothing changed */
    if (s == TC_OK) s = tc_tensor_read(c, host_c, sizeof host_c);
    if (s != TC_OK) {
        fprintf(stderr, "%s\n", tc_last_error(ctx));
        return 1;
    }

    int wrong = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;
            for (int k = 0; k < K; k++) sum += host_a[i * K + k] * host_b[k * N + j];
            wrong += host_c[i * N + j] != (sum > 0.0f ? sum : 0.0f);
        }
    printf("C = relu(A B), %dx%d: %s\n", M, N, wrong ? "WRONG" : "matches a plain C loop");

    tc_prof_report(ctx, stdout); /* calls, device ms, GFLOP/s, GB/s, memory peak */
    tc_tensor_free(a);
    tc_tensor_free(b);
    tc_tensor_free(c);
    tc_ctx_free(ctx);
    return wrong != 0;
}
