/* Native counterparts of `tinycl peak` on a CPU, to check its figures: an FMA
 * loop and a STREAM-like read, T threads, plain C with GCC vector extensions
 * (compiled for the host's widest vectors), barrier-timed, best of REPS runs.
 *   cc -O2 -march=native -pthread -o build/native_peak scripts/native_peak.c
 *   build/native_peak fma          f32 FMA GFLOP/s
 *   build/native_peak read [MiB]   read GB/s over a buffer of MiB (default 256, as tinycl peak) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T 2
#define REPS 21
#define CHAINS 8        /* independent FMA chains (a0..a7): 4-cycle latency on 2 pipes; read streams */
#define FMA_ITERS (1 << 22)

#if defined(__AVX512F__)
#define LANES 16
#elif defined(__AVX__)
#define LANES 8
#else
#define LANES 4
#endif
typedef float vec __attribute__((vector_size(LANES * sizeof(float))));

static pthread_barrier_t bar;
static double ms[REPS], sink[T];
static float *buf;
static size_t n; /* floats */
static int mode_fma;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static double fma_loop(size_t id)
{
    vec b, c, a0, a1, a2, a3, a4, a5, a6, a7;
    for (int l = 0; l < LANES; l++) b[l] = 0.999f, c[l] = 0.001f, a0[l] = (float)id * 1e-3f;
    a1 = a0 + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c, a6 = a5 + c, a7 = a6 + c;
    for (long i = 0; i < FMA_ITERS; i++) {
        __asm__("" : "+v"(b)); /* b is unknown to the compiler: no folding across iterations */
        /* contracted to FMA instructions by -O2 -march=native */
        a0 = a0 * b + c, a1 = a1 * b + c, a2 = a2 * b + c, a3 = a3 * b + c;
        a4 = a4 * b + c, a5 = a5 * b + c, a6 = a6 * b + c, a7 = a7 * b + c;
    }
    vec s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    double t = 0;
    for (int l = 0; l < LANES; l++) t += s[l];
    return t;
}

static double read_loop(size_t id)
{
    const size_t per = n / T, seg = per / CHAINS;
    const float *p = buf + id * per;
    vec a[CHAINS];
    memset(a, 0, sizeof a);
    for (size_t i = 0; i < seg; i += LANES)
        for (int j = 0; j < CHAINS; j++) a[j] += *(const vec *)(p + j * seg + i);
    double s = 0;
    for (int j = 0; j < CHAINS; j++)
        for (int l = 0; l < LANES; l++) s += a[j][l];
    return s;
}

static void *worker(void *arg)
{
    size_t id = (size_t)arg;
    for (int r = 0; r < REPS; r++) {
        pthread_barrier_wait(&bar);
        double t0 = now();
        sink[id] += mode_fma ? fma_loop(id) : read_loop(id);
        pthread_barrier_wait(&bar);
        if (id == 0) ms[r] = now() - t0;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "fma") != 0 && strcmp(argv[1], "read") != 0)) {
        fprintf(stderr, "usage: native_peak fma | read [MiB]\n");
        return 2;
    }
    mode_fma = strcmp(argv[1], "fma") == 0;
    size_t mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 256;
    if (!mode_fma) {
        n = (mib << 20) / sizeof(float);
        n -= n % ((size_t)T * CHAINS * LANES);
        buf = aligned_alloc(64, n * sizeof(float));
        if (!buf) return 1;
        for (size_t i = 0; i < n; i++) buf[i] = 1e-6f * (float)(i & 1023);
    }
    pthread_barrier_init(&bar, NULL, T);
    pthread_t th[T];
    for (size_t i = 0; i < T; i++) pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    double best = ms[1]; /* the first run warms up */
    for (int r = 2; r < REPS; r++)
        if (ms[r] < best) best = ms[r];
    if (mode_fma)
        printf("f32_fma %d threads x %d chains of %d lanes: %.1f GFLOP/s\n", T, CHAINS, LANES,
               2.0 * T * CHAINS * LANES * (double)FMA_ITERS / best * 1e-6);
    else
        printf("read_bw %d threads, %zu MiB: %.1f GB/s\n", T, mib, (double)n * sizeof(float) / best * 1e-6);
    return sink[0] == 12345.0;
}
