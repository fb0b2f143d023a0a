/* 64 MB read floor: T threads, each sums its half of the buffer as S interleaved
 * streams with AVX-512 loads; 21 barrier-timed repetitions, the first dropped.
 * cc -O2 -mavx512f -o build/bwfloor scripts/bwfloor.c -lpthread (see docs/performance.md) */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define T 2
#define S 8
#define REPS 21
static float *buf;
static size_t n;
static pthread_barrier_t bar;
static double ms[REPS], sink[T];
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec * 1e-6; }
static void *reader(void *arg)
{
    const size_t seg = n / T / S;
    const float *p = buf + (size_t)arg * (n / T);
    for (int r = 0; r < REPS; r++) {
        pthread_barrier_wait(&bar);
        double t0 = now();
        __m512 a[S];
        for (int j = 0; j < S; j++) a[j] = _mm512_setzero_ps();
        for (size_t i = 0; i < seg; i += 16)
            for (int j = 0; j < S; j++) a[j] = _mm512_add_ps(a[j], _mm512_load_ps(p + j * seg + i));
        for (int j = 0; j < S; j++) sink[(size_t)arg] += _mm512_reduce_add_ps(a[j]); /* keeps the loads */
        pthread_barrier_wait(&bar);
        if (arg == 0) ms[r] = now() - t0;
    }
    return NULL;
}
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
int main(void)
{
    n = (size_t)64 << 18; /* 64 MB of floats */
    buf = aligned_alloc(64, n * sizeof(float));
    for (size_t i = 0; i < n; i++) buf[i] = 1e-6f * (float)(i & 1023);
    pthread_barrier_init(&bar, NULL, T);
    pthread_t th[T];
    for (size_t i = 0; i < T; i++) pthread_create(&th[i], NULL, reader, (void *)i);
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    qsort(ms + 1, REPS - 1, sizeof ms[0], cmp);
    printf("64 MB, %d threads x %d streams: min %.3f ms (%.1f GB/s), median %.3f ms (%.1f GB/s)\n", T, S, ms[1],
           67.108864 / ms[1], ms[REPS / 2], 67.108864 / ms[REPS / 2]);
    return sink[0] + sink[1] == 12345.0;
}
