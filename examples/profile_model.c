/* Profiling a model of your own: a two-layer MLP (784 -> 128 -> 10 on random
 * weights) made of tinycl ops, each part inside a named profiler scope. Prints the
 * per-op report (calls, kernel launches, device and host ms, GFLOP/s, GB/s, then
 * the scopes, which include everything inside them), the memory peak, and writes
 * a Chrome trace: open it in https://ui.perfetto.dev or chrome://tracing to see
 * the scopes and ops on the host track and every kernel launch on the device
 * track. The probabilities are checked against a plain C forward pass.
 * Runs on the default device: $TINYCL_DEVICE, else a GPU, else any OpenCL device,
 * else the plain-C reference `ref`.
 * usage: profile_model [TRACE_FILE]   (default profile_trace.json) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include <tinycl/tinycl.h>

#define BATCH 32
#define IN 784
#define HIDDEN 128
#define OUT 10
#define ITERS 5 /* forward passes after the first: the report sums them, the trace shows each */

/* Uniform in [-scale, scale), from a fixed-seed generator: the same weights every run. */
static void fill(float *v, int n, float scale, uint32_t *state)
{
    for (int i = 0; i < n; i++) {
        *state = *state * 1664525u + 1013904223u;
        v[i] = scale * ((float)(*state >> 8) / 8388608.0f - 1.0f);
    }
}

/* In plain C, y[r, :] = relu(x[r, :] w^T + b) when `hidden`, else softmax(x[r, :] w^T + b). */
static void dense(const float *x, const float *w, const float *b, float *y, int rows, int in, int out, int hidden)
{
    for (int r = 0; r < rows; r++) {
        float *yr = y + (size_t)r * out;
        for (int o = 0; o < out; o++) {
            float sum = b[o];
            for (int i = 0; i < in; i++) sum += x[(size_t)r * in + i] * w[(size_t)o * in + i];
            yr[o] = hidden && sum < 0.0f ? 0.0f : sum;
        }
        if (hidden) continue;
        float max = yr[0], total = 0.0f;
        for (int o = 1; o < out; o++) max = yr[o] > max ? yr[o] : max;
        for (int o = 0; o < out; o++) {
            yr[o] = expf(yr[o] - max);
            total += yr[o];
        }
        for (int o = 0; o < out; o++) yr[o] /= total;
    }
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: profile_model [TRACE_FILE]\n");
        return 2;
    }
    const char *trace_path = argc == 2 ? argv[1] : "profile_trace.json";

    static float x[BATCH * IN], w1[HIDDEN * IN], b1[HIDDEN], w2[OUT * HIDDEN], b2[OUT];
    static float probs[BATCH * OUT], hidden[BATCH * HIDDEN], want[BATCH * OUT];
    uint32_t seed = 20261122u;
    fill(x, BATCH * IN, 1.0f, &seed);
    fill(w1, HIDDEN * IN, 1.0f / sqrtf(IN), &seed);
    fill(b1, HIDDEN, 0.1f, &seed);
    fill(w2, OUT * HIDDEN, 1.0f / sqrtf(HIDDEN), &seed);
    fill(b2, OUT, 0.1f, &seed);

    tc_ctx *ctx;
    if (tc_ctx_create(NULL, TC_CTX_PROFILE, &ctx) != TC_OK) { /* profiling needs TC_CTX_PROFILE */
        fprintf(stderr, "%s\n", tc_last_error(NULL));
        return 1;
    }
    printf("device: %s\n", tc_ctx_device(ctx)->name);

    tc_tensor *tx = NULL, *tw1 = NULL, *tb1 = NULL, *tw2 = NULL, *tb2 = NULL, *th = NULL, *tl = NULL, *tp = NULL;
    /* scopes nest and cover any code between begin and end: ops, copies, host work */
    tc_status s = tc_prof_scope_begin(ctx, "upload");
    if (s == TC_OK) s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, (const int64_t[]){BATCH, IN}, x, &tx);
    if (s == TC_OK) s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, (const int64_t[]){HIDDEN, IN}, w1, &tw1);
    if (s == TC_OK) s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, (const int64_t[]){HIDDEN}, b1, &tb1);
    if (s == TC_OK) s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, (const int64_t[]){OUT, HIDDEN}, w2, &tw2);
    if (s == TC_OK) s = tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, (const int64_t[]){OUT}, b2, &tb2);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){BATCH, HIDDEN}, &th);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){BATCH, OUT}, &tl);
    if (s == TC_OK) s = tc_tensor_create(ctx, TC_DTYPE_F32, 2, (const int64_t[]){BATCH, OUT}, &tp);
    if (s == TC_OK) s = tc_prof_scope_end(ctx);

    /* the first pass also builds the kernels (host ms), so it gets a scope of its own */
    for (int it = 0; it <= ITERS && s == TC_OK; it++) {
        s = tc_prof_scope_begin(ctx, it == 0 ? "first pass" : "forward");
        if (s == TC_OK) s = tc_prof_scope_begin(ctx, "layer1");
        if (s == TC_OK) s = tc_linear(ctx, tx, tw1, tb1, th, NULL); /* tc_linear_params.relu would fuse the ReLU */
        if (s == TC_OK) s = tc_relu(ctx, th, th, NULL);             /* in place */
        if (s == TC_OK) s = tc_prof_scope_end(ctx);
        if (s == TC_OK) s = tc_prof_scope_begin(ctx, "layer2");
        if (s == TC_OK) s = tc_linear(ctx, th, tw2, tb2, tl, NULL);
        if (s == TC_OK) s = tc_softmax(ctx, tl, tp, NULL);
        if (s == TC_OK) s = tc_prof_scope_end(ctx);
        if (s == TC_OK) s = tc_prof_scope_end(ctx);
    }
    if (s == TC_OK) s = tc_prof_scope_begin(ctx, "readback"); /* waits for the queued forward passes */
    if (s == TC_OK) s = tc_tensor_read(tp, probs, sizeof probs);
    if (s == TC_OK) s = tc_prof_scope_end(ctx);

    /* host code of your own in a scope too: it shows with its host time */
    double worst = 0.0;
    if (s == TC_OK) s = tc_prof_scope_begin(ctx, "check on host");
    if (s == TC_OK) {
        dense(x, w1, b1, hidden, BATCH, IN, HIDDEN, 1);
        dense(hidden, w2, b2, want, BATCH, HIDDEN, OUT, 0);
        for (int i = 0; i < BATCH * OUT; i++) worst = fmax(worst, fabs((double)probs[i] - want[i]));
        s = tc_prof_scope_end(ctx);
    }
    int ok = 0;
    if (s == TC_OK) {
        ok = worst <= 1e-5;
        printf("MLP %d -> %d -> %d, batch %d, %d passes: %s (largest difference %.1e)\n", IN, HIDDEN, OUT, BATCH,
               ITERS + 1, ok ? "matches a plain C forward pass" : "WRONG", worst);
        s = tc_prof_report(ctx, stdout); /* per op, then per scope; current and peak memory */
    }
    if (s == TC_OK) {
        const size_t weights = sizeof w1 + sizeof b1 + sizeof w2 + sizeof b2;
        const size_t tensors = weights + sizeof x + sizeof hidden + 2 * sizeof probs, peak = tc_ctx_mem_peak(ctx);
        printf("memory peak: %zu bytes: the tensors %zu (weights %zu), scratch %zu\n", peak, tensors, weights,
               peak > tensors ? peak - tensors : 0);
    }

    FILE *f = NULL;
    if (s == TC_OK && !(f = fopen(trace_path, "w"))) {
        perror(trace_path);
        ok = 0;
    }
    if (f) {
        s = tc_prof_write_trace(ctx, f);
        if (fclose(f) != 0 && s == TC_OK) {
            perror(trace_path);
            ok = 0;
        } else if (s == TC_OK) {
            printf("trace: %s (open in https://ui.perfetto.dev or chrome://tracing)\n", trace_path);
        }
    }
    if (s != TC_OK) {
        fprintf(stderr, "%s\n", tc_last_error(ctx)); /* what failed and why */
        ok = 0;
    }

    tc_tensor_free(tx);
    tc_tensor_free(tw1);
    tc_tensor_free(tb1);
    tc_tensor_free(tw2);
    tc_tensor_free(tb2);
    tc_tensor_free(th);
    tc_tensor_free(tl);
    tc_tensor_free(tp);
    tc_ctx_free(ctx);
    return ok ? 0 : 1;
}
