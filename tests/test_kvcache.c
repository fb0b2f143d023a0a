/* KV cache: cached attention equals recomputation at every length (ragged batch,
 * prompt then decode steps), the first token included, capacity (TC_ERR_FULL with
 * nothing written), reset, memory, views, bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "harness.h"
#include "ref/ref.h"
#include "tinycl/quantize.h"

enum { L = 2, B = 2, H = 4, HKV = 2, CAP = 12, DH = 8 };

static tc_kv_cache *cache_new(tc_ctx *ctx, int64_t cap)
{
    const tc_kv_cache_config cfg = {L, B, HKV, cap, DH, TC_DTYPE_F32};
    tc_kv_cache *c = NULL;
    assert_int_equal(tc_kv_cache_create(ctx, &cfg, &c), TC_OK);
    return c;
}

/* Host tokens: [B][t][HKV][DH] keys or values of every position, in +-1 */
static float *tokens(int64_t n, uint64_t seed)
{
    float *h = malloc((size_t)(B * n * HKV * DH) * sizeof *h);
    assert_non_null(h);
    tc_rand_f32(h, (size_t)(B * n * HKV * DH), -1.0f, 1.0f, &seed);
    return h;
}

/* Rows [from, from + n) of every sequence as a BLHD tensor [B, n, HKV, DH]. */
static tc_tensor *rows(tc_ctx *ctx, const float *all, int64_t total, int64_t from, int64_t n)
{
    float *h = malloc((size_t)(B * n * HKV * DH) * sizeof *h);
    assert_non_null(h);
    for (int64_t b = 0; b < B; b++)
        memcpy(h + b * n * HKV * DH, all + (b * total + from) * HKV * DH, (size_t)(n * HKV * DH) * sizeof *h);
    tc_tensor *t = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, TH_DIMS(B, n, HKV, DH), h, &t), TC_OK);
    free(h);
    return t;
}

/* The same tokens in BHLD [B, HKV, total, DH]: what recomputation attends to. */
static tc_tensor *whole(tc_ctx *ctx, const float *all, int64_t total)
{
    float *h = malloc((size_t)(B * total * HKV * DH) * sizeof *h);
    assert_non_null(h);
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < total; t++)
            for (int64_t k = 0; k < HKV; k++)
                memcpy(h + ((b * HKV + k) * total + t) * DH, all + ((b * total + t) * HKV + k) * DH, DH * sizeof *h);
    tc_tensor *r = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, TH_DIMS(B, HKV, total, DH), h, &r), TC_OK);
    free(h);
    return r;
}

static double max_diff(const tc_tensor *a, const tc_tensor *b)
{
    const size_t n = (size_t)tc_tensor_numel(a);
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    assert_true(x && y);
    assert_int_equal(tc_tensor_read(a, x, n * sizeof *x), TC_OK);
    assert_int_equal(tc_tensor_read(b, y, n * sizeof *y), TC_OK);
    double worst = 0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, isnan(x[i]) || isnan(y[i]) ? INFINITY : fabs(x[i] - y[i]));
    free(x), free(y);
    return worst;
}

/* Prompts of 5 and 3 tokens (one padded batch), then 4 steps of one token each:
 * after every append, each layer's cached attention equals attention recomputed from
 * every token so far (the queries at the appended positions, causal). */
static void test_kvcache_matches_recompute(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_kv_cache *c = cache_new(ctx, CAP);
    const int64_t total = 9; /* positions in the host arrays: 5 of prompt, 4 decoded */
    const int32_t prompt[B] = {5, 3};
    for (int64_t layer = 0; layer < L; layer++) {
        float *hk = tokens(total, th_seed() + 2 * (uint64_t)layer), *hv = tokens(total, th_seed() + 2 * (uint64_t)layer + 1);
        /* sequence 1's decoded tokens follow its 3-token prompt: its row p holds position p */
        int32_t len[B] = {0, 0};
        for (int step = 0; step < 5; step++) {
            const int64_t n = step ? 1 : 5;
            int32_t count[B], pos[B];
            for (int b = 0; b < B; b++) count[b] = step ? 1 : prompt[b], pos[b] = len[b];
            tc_tensor *k = NULL, *v = NULL;
            /* the new rows of each sequence start at its length */
            float *nk = malloc((size_t)(B * n * HKV * DH) * sizeof *nk), *nv = malloc((size_t)(B * n * HKV * DH) * sizeof *nv);
            assert_true(nk && nv);
            for (int b = 0; b < B; b++) {
                memcpy(nk + b * n * HKV * DH, hk + (b * total + len[b]) * HKV * DH, (size_t)(n * HKV * DH) * sizeof *nk);
                memcpy(nv + b * n * HKV * DH, hv + (b * total + len[b]) * HKV * DH, (size_t)(n * HKV * DH) * sizeof *nv);
            }
            assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, TH_DIMS(B, n, HKV, DH), nk, &k), TC_OK);
            assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 4, TH_DIMS(B, n, HKV, DH), nv, &v), TC_OK);
            free(nk), free(nv);
            assert_int_equal(tc_kv_cache_append(c, layer, k, v, count, TC_ATTN_BLHD), TC_OK);
            for (int b = 0; b < B; b++) len[b] += count[b];
            assert_memory_equal(tc_kv_cache_lengths(c, layer), len, sizeof len);

            tc_tensor *q = th_tensor(ctx, 4, TH_DIMS(B, n, H, DH), NULL);
            tc_tensor *got = th_tensor(ctx, 4, TH_DIMS(B, n, H, DH), NULL), *want = th_tensor(ctx, 4, TH_DIMS(B, n, H, DH), NULL);
            tc_attention_params p = tc_attention_defaults();
            p.causal = 1, p.layout = TC_ATTN_BLHD;
            assert_int_equal(tc_kv_cache_attention(c, layer, q, got, &p), TC_OK);
            tc_tensor *ka = whole(ctx, hk, total), *va = whole(ctx, hv, total);
            p.q_pos_host = pos, p.kv_len_host = len;
            assert_int_equal(tc_attention(ctx, q, ka, va, want, &p), TC_OK);
            assert_true(max_diff(got, want) <= 1e-6);
            tc_tensor *all[] = {k, v, q, got, want, ka, va};
            for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
        }
        free(hk), free(hv);
    }
    tc_kv_cache_free(c);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
}

/* One token in an empty cache: its own value comes back (softmax over one key). */
static void test_kvcache_first_token(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_kv_cache *c = cache_new(ctx, 1);
    float *hk = tokens(1, th_seed()), *hv = tokens(1, th_seed() + 1);
    tc_tensor *k = rows(ctx, hk, 1, 0, 1), *v = rows(ctx, hv, 1, 0, 1);
    tc_tensor *q = th_tensor(ctx, 4, TH_DIMS(B, HKV, 1, DH), NULL), *out = th_tensor(ctx, 4, TH_DIMS(B, HKV, 1, DH), NULL);
    th_expect(ctx, tc_kv_cache_attention(c, 0, q, out, NULL), TC_ERR_INVALID_ARG, "layer 0 is empty");
    assert_int_equal(tc_kv_cache_append(c, 0, k, v, NULL, TC_ATTN_BLHD), TC_OK);
    assert_int_equal(tc_kv_cache_attention(c, 0, q, out, NULL), TC_OK);
    float got[B * HKV * DH];
    assert_int_equal(tc_tensor_read(out, got, sizeof got), TC_OK);
    for (int i = 0; i < B * HKV * DH; i++) assert_true(fabsf(got[i] - hv[i]) <= 1e-6f * fabsf(hv[i]));
    tc_tensor *all[] = {k, v, q, out};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    free(hk), free(hv);
    tc_kv_cache_free(c);
    tc_ctx_free(ctx);
}

/* Capacity 4: a 5-token prompt and, after 3 tokens, 2 more fail with TC_ERR_FULL,
 * leaving lengths and contents as they were; reset empties; views see the rows. */
static void test_kvcache_full_reset_views(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    tc_kv_cache *c = cache_new(ctx, 4);
    float *hk = tokens(5, th_seed()), *hv = tokens(5, th_seed() + 1);
    tc_tensor *k5 = rows(ctx, hk, 5, 0, 5), *v5 = rows(ctx, hv, 5, 0, 5);
    tc_tensor *k3 = rows(ctx, hk, 5, 0, 3), *v3 = rows(ctx, hv, 5, 0, 3);
    tc_tensor *k2 = rows(ctx, hk, 5, 3, 2), *v2 = rows(ctx, hv, 5, 3, 2);
    th_expect(ctx, tc_kv_cache_append(c, 1, k5, v5, NULL, TC_ATTN_BLHD), TC_ERR_FULL,
              "sequence 0 holds 0 of 4 positions; 5 more do not fit (capacity 4) (layer 1;");
    assert_int_equal(tc_kv_cache_lengths(c, 1)[0], 0);
    assert_int_equal(tc_kv_cache_append(c, 1, k3, v3, NULL, TC_ATTN_BLHD), TC_OK);
    tc_tensor *kv = NULL, *vv = NULL;
    assert_int_equal(tc_kv_cache_views(c, 1, &kv, &vv), TC_OK);
    assert_int_equal(tc_tensor_dim(kv, 2), 4);
    const size_t n = (size_t)tc_tensor_numel(kv);
    float *before = malloc(n * sizeof *before), *after = malloc(n * sizeof *after);
    assert_true(before && after);
    assert_int_equal(tc_tensor_read(kv, before, n * sizeof *before), TC_OK);
    for (int b = 0; b < B; b++) /* the appended rows sit at positions 0..2 of [B, HKV, 4, DH] */
        for (int t = 0; t < 3; t++)
            for (int h = 0; h < HKV; h++)
                assert_memory_equal(before + ((b * HKV + h) * 4 + t) * DH, hk + ((b * 5 + t) * HKV + h) * DH, DH * sizeof(float));
    const int32_t two_one[B] = {1, 2};
    th_expect(ctx, tc_kv_cache_append(c, 1, k2, v2, two_one, TC_ATTN_BLHD), TC_ERR_FULL,
              "sequence 1 holds 3 of 4 positions; 2 more do not fit");
    assert_int_equal(tc_tensor_read(kv, after, n * sizeof *after), TC_OK);
    assert_memory_equal(before, after, n * sizeof *before);
    assert_int_equal(tc_kv_cache_lengths(c, 1)[0], 3);
    assert_int_equal(tc_kv_cache_lengths(c, 1)[1], 3);
    assert_int_equal(tc_kv_cache_lengths(c, 0)[0], 0);
    assert_int_equal(tc_kv_cache_reset(c), TC_OK);
    assert_int_equal(tc_kv_cache_lengths(c, 1)[1], 0);
    assert_int_equal(tc_kv_cache_append(c, 1, k3, v3, NULL, TC_ATTN_BLHD), TC_OK);
    assert_int_equal(tc_kv_cache_lengths(c, 1)[1], 3);
    tc_tensor *all[] = {k5, v5, k3, v3, k2, v2, kv, vv};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    free(hk), free(hv), free(before), free(after);
    tc_kv_cache_free(c);
    tc_ctx_free(ctx);
}

/* 2 * layers * batch * heads * capacity * head_dim * 4 bytes, counted by the context. */
static void test_kvcache_memory(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const size_t before = tc_ctx_mem_current(ctx);
    tc_kv_cache *c = cache_new(ctx, CAP);
    const size_t want = (size_t)2 * L * B * HKV * CAP * DH * sizeof(float);
    assert_int_equal(tc_kv_cache_bytes(c), want);
    assert_int_equal(tc_ctx_mem_current(ctx) - before, want);
    const tc_kv_cache_config cfg = tc_kv_cache_config_of(c);
    assert_int_equal(cfg.capacity, CAP);
    assert_int_equal(cfg.heads, HKV);
    tc_kv_cache_free(c);
    assert_int_equal(tc_ctx_mem_current(ctx), before);
    assert_int_equal(tc_kv_cache_bytes(NULL), 0);
    tc_ctx_free(ctx);
}

static void test_kvcache_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    tc_kv_cache *c = NULL;
    tc_kv_cache_config cfg = {L, B, HKV, CAP, DH, TC_DTYPE_F32};
    th_expect(NULL, tc_kv_cache_create(NULL, &cfg, &c), TC_ERR_INVALID_ARG, "ctx is NULL");
    th_expect(ctx, tc_kv_cache_create(ctx, NULL, &c), TC_ERR_INVALID_ARG, "cfg or out is NULL");
    cfg.layers = 0;
    th_expect(ctx, tc_kv_cache_create(ctx, &cfg, &c), TC_ERR_SHAPE, "layers = 0 is outside");
    cfg.layers = L, cfg.head_dim = 300;
    th_expect(ctx, tc_kv_cache_create(ctx, &cfg, &c), TC_ERR_SHAPE, "head_dim 300 is above 256");
    cfg.head_dim = DH, cfg.dtype = TC_DTYPE_S8;
    th_expect(ctx, tc_kv_cache_create(ctx, &cfg, &c), TC_ERR_UNSUPPORTED, "tc_kv_cache_create holds f32");
    float scales[2 * L * DH];
    for (int i = 0; i < 2 * L * DH; i++) scales[i] = 0.01f;
    th_expect(ctx, tc_kv_cache_create_s8(ctx, &cfg, NULL, &c), TC_ERR_INVALID_ARG, "scales is NULL");
    scales[5] = NAN;
    th_expect(ctx, tc_kv_cache_create_s8(ctx, &cfg, scales, &c), TC_ERR_INVALID_ARG, "scales[5] = nan");
    scales[5] = 0.0f;
    th_expect(ctx, tc_kv_cache_create_s8(ctx, &cfg, scales, &c), TC_ERR_INVALID_ARG, "scales[5] = 0 is not finite and > 0");
    scales[5] = 0.01f, cfg.dtype = TC_DTYPE_F32;
    th_expect(ctx, tc_kv_cache_create_s8(ctx, &cfg, scales, &c), TC_ERR_UNSUPPORTED, "dtype f32");
    cfg = (tc_kv_cache_config){L, 1 << 30, 1 << 30, 1 << 30, 256, TC_DTYPE_F32};
    th_expect(ctx, tc_kv_cache_create(ctx, &cfg, &c), TC_ERR_OVERFLOW, NULL);
    cfg = (tc_kv_cache_config){(int64_t)1 << 30, 1 << 15, 1 << 15, 1 << 12, 256, TC_DTYPE_F32};
    th_expect(ctx, tc_kv_cache_create(ctx, &cfg, &c), TC_ERR_OVERFLOW, "overflows");
    if (!ctx->is_ref) { /* fits in bytes, not in the kernels' 32-bit indices */
        cfg = (tc_kv_cache_config){1, 1, 64, 1 << 20, 64, TC_DTYPE_F32};
        th_expect(ctx, tc_kv_cache_create(ctx, &cfg, &c), TC_ERR_OVERFLOW, "beyond 2^31-1 on OpenCL");
    }
    assert_null(c);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);

    c = cache_new(ctx, CAP);
    tc_tensor *k = th_tensor(ctx, 4, TH_DIMS(B, 3, HKV, DH), NULL), *v = th_tensor(ctx, 4, TH_DIMS(B, 3, HKV, DH), NULL);
    tc_tensor *kh = th_tensor(ctx, 4, TH_DIMS(B, 3, 3, DH), NULL), *kd = th_tensor(ctx, 4, TH_DIMS(B, 3, HKV, 4), NULL);
    tc_tensor *kb = th_tensor(ctx, 4, TH_DIMS(3, 3, HKV, DH), NULL), *k_other = th_tensor(other, 4, TH_DIMS(B, 3, HKV, DH), NULL);
    tc_tensor *v2 = th_tensor(ctx, 4, TH_DIMS(B, 2, HKV, DH), NULL), *k3 = th_tensor(ctx, 3, TH_DIMS(B, 3, HKV * DH), NULL);
    tc_tensor *q = th_tensor(ctx, 4, TH_DIMS(B, 3, 3, DH), NULL), *out = th_tensor(ctx, 4, TH_DIMS(B, 3, 3, DH), NULL);
    const int32_t bad_count[B] = {1, 4}, neg_count[B] = {-1, 0};
    th_expect(NULL, tc_kv_cache_append(NULL, 0, k, v, NULL, TC_ATTN_BLHD), TC_ERR_INVALID_ARG, "cache is NULL");
    th_expect(ctx, tc_kv_cache_append(c, L, k, v, NULL, TC_ATTN_BLHD), TC_ERR_INVALID_ARG, "layer 2 is outside [0, 2)");
    th_expect(ctx, tc_kv_cache_append(c, -1, k, v, NULL, TC_ATTN_BLHD), TC_ERR_INVALID_ARG, "layer -1");
    th_expect(ctx, tc_kv_cache_append(c, 0, NULL, v, NULL, TC_ATTN_BLHD), TC_ERR_INVALID_ARG, "k is NULL");
    th_expect(ctx, tc_kv_cache_append(c, 0, k, NULL, NULL, TC_ATTN_BLHD), TC_ERR_INVALID_ARG, "v is NULL");
    th_expect(ctx, tc_kv_cache_append(c, 0, k3, v, NULL, TC_ATTN_BLHD), TC_ERR_SHAPE, "k has 3 dimensions");
    th_expect(ctx, tc_kv_cache_append(c, 0, kh, kh, NULL, TC_ATTN_BLHD), TC_ERR_SHAPE, "k has heads 3, the cache 2");
    th_expect(ctx, tc_kv_cache_append(c, 0, kd, kd, NULL, TC_ATTN_BLHD), TC_ERR_SHAPE, "k has head_dim 4, the cache 8");
    th_expect(ctx, tc_kv_cache_append(c, 0, kb, kb, NULL, TC_ATTN_BLHD), TC_ERR_SHAPE, "k has batch 3, the cache 2");
    th_expect(ctx, tc_kv_cache_append(c, 0, k, v2, NULL, TC_ATTN_BLHD), TC_ERR_SHAPE, "v is 2x2x2x8, expected 2x3x2x8");
    th_expect(ctx, tc_kv_cache_append(c, 0, k_other, v, NULL, TC_ATTN_BLHD), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_kv_cache_append(c, 0, k, v, bad_count, TC_ATTN_BLHD), TC_ERR_INVALID_ARG, "count[1] = 4 is outside [0, 3]");
    th_expect(ctx, tc_kv_cache_append(c, 0, k, v, neg_count, TC_ATTN_BLHD), TC_ERR_INVALID_ARG, "count[0] = -1");
    th_expect(ctx, tc_kv_cache_append(c, 0, k, v, NULL, (tc_attn_layout)5), TC_ERR_INVALID_ARG, "layout 5");
    assert_int_equal(tc_kv_cache_lengths(c, 0)[0], 0);
    assert_null(tc_kv_cache_lengths(c, L));
    assert_int_equal(tc_kv_cache_append(c, 0, k, v, NULL, TC_ATTN_BLHD), TC_OK);
    /* queries with 3 heads over the cache's 2 */
    th_expect(ctx, tc_kv_cache_attention(c, 0, q, out, NULL), TC_ERR_SHAPE, "q's 3 heads are not a multiple of k's 2");
    th_expect(NULL, tc_kv_cache_reset(NULL), TC_ERR_INVALID_ARG, "cache is NULL");
    tc_tensor *kv = NULL;
    th_expect(ctx, tc_kv_cache_views(c, 0, &kv, NULL), TC_ERR_INVALID_ARG, "k or v is NULL");

    tc_tensor *all[] = {k, v, kh, kd, kb, v2, k3, q, out};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(k_other);
    tc_kv_cache_free(c);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

/* An s8 cache: a quarter of the memory; its attention equals f32 attention on the
 * quantized-then-dequantized tokens, and stays within what quantization allows of
 * attention on the tokens themselves. */
static void test_kvcache_s8(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const tc_kv_cache_config cfg = {1, B, HKV, CAP, DH, TC_DTYPE_S8};
    /* symmetric parameters of the tokens' range [-1, 1] per channel: scale 1/127 */
    float lo[DH], hi[DH], scales[2 * DH];
    int32_t zp[DH];
    for (int d = 0; d < DH; d++) lo[d] = -1.0f, hi[d] = 1.0f;
    assert_int_equal(tc_quant_params_from_ranges(DH, lo, hi, TC_DTYPE_S8, 1, scales, zp), TC_OK);
    memcpy(scales + DH, scales, DH * sizeof *scales);
    tc_kv_cache *c = NULL;
    assert_int_equal(tc_kv_cache_create_s8(ctx, &cfg, scales, &c), TC_OK);
    assert_int_equal(tc_kv_cache_bytes(c), (size_t)2 * B * HKV * CAP * DH);
    const int64_t n = 6;
    float *hk = tokens(n, th_seed()), *hv = tokens(n, th_seed() + 1);
    tc_tensor *k = rows(ctx, hk, n, 0, n), *v = rows(ctx, hv, n, 0, n);
    assert_int_equal(tc_kv_cache_append(c, 0, k, v, NULL, TC_ATTN_BLHD), TC_OK);
    /* the same tokens through quantize and dequantize on the host */
    const int64_t all = B * n * HKV * DH;
    int8_t *q8 = malloc((size_t)all);
    float *dk = malloc((size_t)all * sizeof *dk), *dv = malloc((size_t)all * sizeof *dv);
    assert_true(q8 && dk && dv);
    tc_ref_quantize(hk, q8, TC_DTYPE_S8, all, 1, DH, scales, zp);
    tc_ref_dequantize(q8, TC_DTYPE_S8, dk, all, 1, DH, scales, zp);
    tc_ref_quantize(hv, q8, TC_DTYPE_S8, all, 1, DH, scales, zp);
    tc_ref_dequantize(q8, TC_DTYPE_S8, dv, all, 1, DH, scales, zp);
    tc_tensor *q = th_tensor(ctx, 4, TH_DIMS(B, H, n, DH), NULL), *got = th_tensor(ctx, 4, TH_DIMS(B, H, n, DH), NULL);
    tc_tensor *deq = th_tensor(ctx, 4, TH_DIMS(B, H, n, DH), NULL), *exact = th_tensor(ctx, 4, TH_DIMS(B, H, n, DH), NULL);
    tc_tensor *kd = whole(ctx, dk, n), *vd = whole(ctx, dv, n), *kf = whole(ctx, hk, n), *vf = whole(ctx, hv, n);
    tc_attention_params p = tc_attention_defaults();
    p.causal = 1;
    assert_int_equal(tc_kv_cache_attention(c, 0, q, got, &p), TC_OK);
    assert_int_equal(tc_attention(ctx, q, kd, vd, deq, &p), TC_OK);
    assert_int_equal(tc_attention(ctx, q, kf, vf, exact, &p), TC_OK);
    assert_true(max_diff(got, deq) <= 1e-6);
    /* each key and value moves by at most scale / 2 = 1/254: with |q| <= 1 over 8
     * channels and scale 1/sqrt(8), a score by at most 8/254/sqrt(8) < 0.012, each
     * softmax weight by a factor within exp(+-0.024), so an output (a weighted mean
     * of values in +-1) by at most 1/254 + 2 * (exp(0.024) - 1) < 0.053 */
    assert_true(max_diff(got, exact) <= 0.053);
    tc_tensor *ts[] = {k, v, q, got, deq, exact, kd, vd, kf, vf};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) tc_tensor_free(ts[i]);
    free(hk), free(hv), free(q8), free(dk), free(dv);
    tc_kv_cache_free(c);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kvcache_matches_recompute), cmocka_unit_test(test_kvcache_first_token),
        cmocka_unit_test(test_kvcache_full_reset_views),  cmocka_unit_test(test_kvcache_memory),
        cmocka_unit_test(test_kvcache_bad_input),         cmocka_unit_test(test_kvcache_s8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
