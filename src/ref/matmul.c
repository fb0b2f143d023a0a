/* Reference matmul: row by row, accumulating op(A)[i,p] * op(B)[p,:] into a row of
 * float accumulators (the i-p-j order keeps the inner loop contiguous for B). */
#include <stdlib.h>

#include "ref/ref.h"

int tc_ref_matmul(const float *A, const float *B, float *C, const float *bias, int64_t M, int64_t N, int64_t K,
                   int trans_a, int trans_b, float alpha, float beta, int relu)
{
    float *acc = malloc((size_t)N * sizeof *acc);
    if (!acc) return -1;
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) acc[j] = 0.0f;
        for (int64_t p = 0; p < K; p++) {
            const float a = trans_a ? A[p * M + i] : A[i * K + p];
            if (trans_b)
                for (int64_t j = 0; j < N; j++) acc[j] += a * B[j * K + p];
            else
                for (int64_t j = 0; j < N; j++) acc[j] += a * B[p * N + j];
        }
        float *c = C + i * N;
        for (int64_t j = 0; j < N; j++) {
            float v = alpha * acc[j];
            if (beta != 0.0f) v += beta * c[j];
            if (bias) v += bias[j];
            if (relu && v < 0.0f) v = 0.0f;
            c[j] = v;
        }
    }
    free(acc);
    return 0;
}
