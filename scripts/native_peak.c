/* Native counterparts of `tinycl peak` on a CPU, to check its figures: an FMA
 * loop and a STREAM-like read, T threads, plain C with GCC vector extensions
 * (compiled for the host's widest vectors), barrier-timed. Like PoCL's work-groups
 * the work comes in CHUNKS pieces that the threads take in turn, so a core taken
 * by another job delays a run less; like tinycl peak, a run takes about 20 ms and
 * the figure is the best of 30 runs after a warm-up.
 *   cc -O2 -march=native -pthread -o build/native_peak scripts/native_peak.c
 *   build/native_peak fma          f32 FMA GFLOP/s
 *   build/native_peak read [MiB]   read GB/s over a buffer of MiB (default 256, as tinycl peak) */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T 2
#define REPS 31          /* the first warms up */
#define FMA_ITERS (1 << 24)
#define READ_PASSES 4    /* over the buffer per run */
#define CHUNKS 64

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
static atomic_int next_chunk;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static double lanes_sum(vec s)
{
    double t = 0;
    for (int l = 0; l < LANES; l++) t += s[l];
    return t;
}

/* 8 independent FMA chains: enough for a 4-cycle latency on 2 pipes. */
static double fma_chunk(int chunk)
{
    vec b, c, a0, a1, a2, a3, a4, a5, a6, a7;
    for (int l = 0; l < LANES; l++) b[l] = 0.999f, c[l] = 0.001f, a0[l] = (float)chunk * 1e-3f;
    a1 = a0 + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c, a6 = a5 + c, a7 = a6 + c;
    for (long i = 0; i < (long)T * FMA_ITERS / CHUNKS; i++) {
        __asm__("" : "+v"(b)); /* b is unknown to the compiler: no folding across iterations */
        /* contracted to FMA instructions by -O2 -march=native */
        a0 = a0 * b + c, a1 = a1 * b + c, a2 = a2 * b + c, a3 = a3 * b + c;
        a4 = a4 * b + c, a5 = a5 * b + c, a6 = a6 * b + c, a7 = a7 * b + c;
    }
    return lanes_sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
}

/* One chunk of one pass over the buffer, as 8 streams read side by side. */
static double read_chunk(int chunk)
{
    const size_t seg = n / CHUNKS / 8;
    const float *p = buf + (size_t)(chunk % CHUNKS) * (n / CHUNKS);
    vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    for (size_t i = 0; i < seg; i += LANES) {
        const float *q = p + i;
        a0 += *(const vec *)q, a1 += *(const vec *)(q + seg), a2 += *(const vec *)(q + 2 * seg);
        a3 += *(const vec *)(q + 3 * seg), a4 += *(const vec *)(q + 4 * seg), a5 += *(const vec *)(q + 5 * seg);
        a6 += *(const vec *)(q + 6 * seg), a7 += *(const vec *)(q + 7 * seg);
    }
    return lanes_sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
}

static void *worker(void *arg)
{
    size_t id = (size_t)arg;
    for (int r = 0; r < REPS; r++) {
        if (id == 0) atomic_store(&next_chunk, 0);
        pthread_barrier_wait(&bar);
        double t0 = now();
        const int chunks = mode_fma ? CHUNKS : CHUNKS * READ_PASSES;
        for (int c; (c = atomic_fetch_add(&next_chunk, 1)) < chunks;) sink[id] += mode_fma ? fma_chunk(c) : read_chunk(c);
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
        n -= n % ((size_t)CHUNKS * 8 * LANES);
        buf = aligned_alloc(64, n * sizeof(float));
        if (!buf) return 1;
        for (size_t i = 0; i < n; i++) buf[i] = 1e-6f * (float)(i & 1023);
    }
    pthread_barrier_init(&bar, NULL, T);
    pthread_t th[T];
    for (size_t i = 0; i < T; i++) pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    double best = ms[1];
    for (int r = 2; r < REPS; r++)
        if (ms[r] < best) best = ms[r];
    if (mode_fma)
        printf("f32_fma %d threads x 8 chains of %d lanes: %.1f GFLOP/s\n", T, LANES,
               2.0 * T * 8 * LANES * (double)FMA_ITERS / best * 1e-6);
    else
        printf("read_bw %d threads, %zu MiB: %.1f GB/s\n", T, mib,
               (double)READ_PASSES * (double)n * sizeof(float) / best * 1e-6);
    return sink[0] == 12345.0;
}
