/* igemm: every variant against ref (exactly, though the checks allow 1 LSB on 8-bit
 * outputs), gemmlowp's fixed-point steps on known values, plans, bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "harness.h"
#include "ref/ref.h"

/* Every kernel computes the output stage in the reference's integer arithmetic, so
 * even the requantized outputs must agree exactly (err is the largest difference). */
static void exact(const tc_check_result *r, void *user)
{
    int *bad = user;
    if (r->skipped) return;
    if (!r->passed || r->err != 0) {
        print_error("FAIL %s/%s %s seed %llu: %s (err %g)\n", r->op, tc_variant_name(r->variant), r->shape,
                    (unsigned long long)r->seed, r->message, r->err);
        (*bad)++;
    }
}

static void test_igemm_all_variants(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    int failures = -1, bad = 0;
    assert_int_equal(tc_check_run(ctx, "igemm", TC_VARIANT_AUTO, th_seed(), exact, &bad, &failures), TC_OK);
    tc_ctx_free(ctx);
    assert_int_equal(failures, 0);
    assert_int_equal(bad, 0);
}

/* gemmlowp's SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, by hand. */
static void test_igemm_fixed_point(void **state)
{
    (void)state;
    assert_int_equal(tc_ref_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
    assert_int_equal(tc_ref_srdhm(1 << 30, 1 << 30), 1 << 29);         /* 2^60 / 2^31 */
    assert_int_equal(tc_ref_srdhm(3, 1 << 30), 2);                     /* 1.5 rounds up */
    assert_int_equal(tc_ref_srdhm(-3, 1 << 30), -1);                   /* -1.5 too (gemmlowp's nudge) */
    assert_int_equal(tc_ref_srdhm(-1, 1 << 30), 0);                    /* -0.5 */
    assert_int_equal(tc_ref_srdhm(-5, 1 << 29), -1);                   /* -1.25 */
    assert_int_equal(tc_ref_srdhm(INT32_MAX, INT32_MAX), INT32_MAX - 1); /* (2^31-1)^2 / 2^31 rounded */
    assert_int_equal(tc_ref_rdbpot(5, 1), 3);   /* 2.5 -> 3 */
    assert_int_equal(tc_ref_rdbpot(-5, 1), -3); /* -2.5 -> -3 */
    assert_int_equal(tc_ref_rdbpot(-4, 1), -2);
    assert_int_equal(tc_ref_rdbpot(7, 2), 2);   /* 1.75 */
    assert_int_equal(tc_ref_rdbpot(-6, 2), -2); /* -1.5 */
    assert_int_equal(tc_ref_rdbpot(-5, 2), -1); /* -1.25 */
    assert_int_equal(tc_ref_rdbpot(INT32_MIN, 31), -1);
    assert_int_equal(tc_ref_rdbpot(INT32_MAX, 31), 1);
    assert_int_equal(tc_ref_rdbpot(9, 0), 9);
    /* requantize 1000 by 0.75 = 0.75 * 2^31 / 2^31: 750; by 3 = 0.75 * 2^2: 3000 */
    assert_int_equal(tc_ref_requant(1000, 3 << 29, 0), 750);
    assert_int_equal(tc_ref_requant(-1000, 3 << 29, 2), -3000);
    assert_int_equal(tc_ref_requant(1 << 30, 1 << 30, 5), 1 << 30); /* v << 5 saturates, then halves */
    assert_int_equal(tc_ref_requant(-(1 << 30), 1 << 30, 5), -(1 << 30));
}

static void test_igemm_multiplier(void **state)
{
    (void)state;
    int32_t m = -1, s = -1;
    const struct {
        double real;
        int32_t mult, shift;
    } want[] = {{0.5, 1 << 30, 0},     {1.0, 1 << 30, 1},     {0.25, 1 << 30, -1}, {0.75, 3 << 29, 0},
                {1000.0, 2097152000, 10}, {1e-12, 0, 0},      {3.0, 3 << 29, 2}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(tc_igemm_multiplier(want[i].real, &m, &s), TC_OK);
        assert_int_equal(m, want[i].mult);
        assert_int_equal(s, want[i].shift);
    }
    /* 1e-6 within half a unit of the multiplier's last place */
    assert_int_equal(tc_igemm_multiplier(1e-6, &m, &s), TC_OK);
    assert_true(m >= 1 << 30 && fabs(ldexp((double)m, s - 31) - 1e-6) <= ldexp(0.5, s - 31));
    /* a multiplier that rounds up to 2^31 moves to the next exponent */
    assert_int_equal(tc_igemm_multiplier(1.0 - 1e-12, &m, &s), TC_OK);
    assert_int_equal(m, 1 << 30);
    assert_int_equal(s, 1);
    const double bad[] = {0.0, -1.0, NAN, INFINITY, 1073741824.0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = s = 7;
        th_expect(NULL, tc_igemm_multiplier(bad[i], &m, &s), TC_ERR_INVALID_ARG, "real multiplier");
        assert_int_equal(m, 7);
    }
    th_expect(NULL, tc_igemm_multiplier(0.5, NULL, &s), TC_ERR_INVALID_ARG, "NULL");
}

/* An r x c tensor of random bytes (any integer dtype). */
static tc_tensor *bytes_tensor(tc_ctx *ctx, tc_dtype dt, int64_t r, int64_t c, uint64_t *seed)
{
    const size_t n = (size_t)(r * c) * tc_dtype_size(dt);
    uint8_t *h = malloc(n);
    assert_non_null(h);
    for (size_t i = 0; i < n; i++) h[i] = (uint8_t)tc_rng_next(seed);
    tc_tensor *t = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, dt, 2, TH_DIMS(r, c), h, &t), TC_OK);
    free(h);
    return t;
}

static void set_quant(tc_tensor *t, int axis, int64_t count, float scale, int32_t zero)
{
    float s[64];
    int32_t z[64];
    assert_true(count <= 64);
    for (int64_t i = 0; i < count; i++) s[i] = scale * (float)(1 + i % 3), z[i] = zero;
    const tc_quant q = {axis, count, s, z};
    assert_int_equal(tc_tensor_set_quant(t, &q), TC_OK);
}

static int same_bytes(const tc_tensor *a, const tc_tensor *b)
{
    const size_t n = tc_tensor_bytes(a);
    char *x = malloc(n), *y = malloc(n);
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(tc_tensor_read(a, x, n), TC_OK);
    assert_int_equal(tc_tensor_read(b, y, n), TC_OK);
    const int same = memcmp(x, y, n) == 0;
    free(x);
    free(y);
    return same;
}

/* Each bad call returns a clear status and leaves C as it was. */
static void test_igemm_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    uint64_t seed = th_seed();
    tc_tensor *a = bytes_tensor(ctx, TC_DTYPE_U8, 4, 5, &seed), *b = bytes_tensor(ctx, TC_DTYPE_S8, 5, 6, &seed);
    tc_tensor *c = bytes_tensor(ctx, TC_DTYPE_S8, 4, 6, &seed), *c0 = bytes_tensor(ctx, TC_DTYPE_S8, 4, 6, &seed);
    tc_tensor *c32 = NULL, *cf = th_tensor(ctx, 2, TH_DIMS(4, 6), NULL), *bias = NULL, *bias_f = th_tensor(ctx, 1, TH_DIMS(6), NULL);
    tc_tensor *a_f = th_tensor(ctx, 2, TH_DIMS(4, 5), NULL), *b_u8 = bytes_tensor(ctx, TC_DTYPE_U8, 5, 6, &seed);
    tc_tensor *a_other = bytes_tensor(other, TC_DTYPE_U8, 4, 5, &seed), *b_k = bytes_tensor(ctx, TC_DTYPE_S8, 7, 6, &seed);
    tc_tensor *c_wrong = bytes_tensor(ctx, TC_DTYPE_S8, 4, 7, &seed), *bias5 = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 2, TH_DIMS(4, 6), &c32), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 1, TH_DIMS(6), &bias), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 1, TH_DIMS(5), &bias5), TC_OK);
    { /* c0: c's contents, to see that nothing changed */
        int8_t h[24];
        assert_int_equal(tc_tensor_read(c, h, sizeof h), TC_OK);
        assert_int_equal(tc_tensor_write(c0, h, sizeof h), TC_OK);
    }
    tc_igemm_params p = tc_igemm_defaults();
    th_expect(NULL, tc_igemm(NULL, a, b, c, &p), TC_ERR_INVALID_ARG, "ctx is NULL");
    th_expect(ctx, tc_igemm(ctx, NULL, b, c, &p), TC_ERR_INVALID_ARG, "A is NULL");
    th_expect(ctx, tc_igemm(ctx, a, NULL, c, &p), TC_ERR_INVALID_ARG, "B is NULL");
    th_expect(ctx, tc_igemm(ctx, a, b, NULL, &p), TC_ERR_INVALID_ARG, "C is NULL");
    /* dtypes and shapes */
    th_expect(ctx, tc_igemm(ctx, a_f, b, c32, &p), TC_ERR_DTYPE, "A is f32");
    th_expect(ctx, tc_igemm(ctx, a, b_u8, c32, &p), TC_ERR_DTYPE, "B is u8");
    th_expect(ctx, tc_igemm(ctx, a, b_k, c32, &p), TC_ERR_SHAPE, "expected 7 columns");
    th_expect(ctx, tc_igemm(ctx, a, b, c_wrong, &p), TC_ERR_SHAPE, "C is 4x7");
    th_expect(ctx, tc_igemm(ctx, a_other, b, c32, &p), TC_ERR_CONTEXT, "another context");
    p.trans_b = 1; /* B becomes N=5 x K=6 */
    th_expect(ctx, tc_igemm(ctx, a, b, c32, &p), TC_ERR_SHAPE, "A is 4x5, expected 6 columns");
    p = tc_igemm_defaults();
    p.bias = bias5;
    th_expect(ctx, tc_igemm(ctx, a, b, c32, &p), TC_ERR_SHAPE, "bias has 5 elements");
    p.bias = bias_f;
    th_expect(ctx, tc_igemm(ctx, a, b, c32, &p), TC_ERR_DTYPE, "bias is f32");
    /* an 8-bit or f32 C without scales or multipliers */
    p = tc_igemm_defaults();
    th_expect(ctx, tc_igemm(ctx, a, b, c, &p), TC_ERR_INVALID_ARG, "multipliers");
    th_expect(ctx, tc_igemm(ctx, a, b, cf, &p), TC_ERR_INVALID_ARG, "scales of A and B");
    /* zero points outside the dtype's range */
    p.a_zero_point = 256;
    th_expect(ctx, tc_igemm(ctx, a, b, c32, &p), TC_ERR_INVALID_ARG, "A's zero point 256 is outside u8's 0..255");
    p = tc_igemm_defaults();
    p.b_zero_point = -129;
    th_expect(ctx, tc_igemm(ctx, a, b, c32, &p), TC_ERR_INVALID_ARG, "B's zero point -129");
    /* explicit multipliers: counts, ranges, pairs */
    const int32_t mult[6] = {1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, -5}, shift[6] = {0, 0, 0, 0, 0, 0};
    const int32_t shift_big[1] = {31};
    p = tc_igemm_defaults();
    p.multiplier = mult, p.shift = shift, p.nmult = 2;
    th_expect(ctx, tc_igemm(ctx, a, b, c, &p), TC_ERR_SHAPE, "2 multipliers, expected 1 or N = 6");
    p.nmult = 6;
    th_expect(ctx, tc_igemm(ctx, a, b, c, &p), TC_ERR_INVALID_ARG, "multiplier[5] = -5");
    p.nmult = 1, p.shift = shift_big;
    th_expect(ctx, tc_igemm(ctx, a, b, c, &p), TC_ERR_INVALID_ARG, "shift 31");
    p.shift = NULL;
    th_expect(ctx, tc_igemm(ctx, a, b, c, &p), TC_ERR_INVALID_ARG, "both multiplier and shift");
    p.shift = shift, p.c_zero_point = 200;
    th_expect(ctx, tc_igemm(ctx, a, b, c, &p), TC_ERR_INVALID_ARG, "C's zero point 200 is outside s8's");
    p.c_zero_point = 0, p.clamp_min = 10, p.clamp_max = 5;
    th_expect(ctx, tc_igemm(ctx, a, b, c, &p), TC_ERR_INVALID_ARG, "clamp_min 10 is above clamp_max 5");
    p.clamp_min = 200, p.clamp_max = 300;
    th_expect(ctx, tc_igemm(ctx, a, b, c, &p), TC_ERR_INVALID_ARG, "output range");
    /* mismatched quantization metadata: per-channel A, B along K, a scale overflowing the multiplier */
    tc_tensor *a_pc = bytes_tensor(ctx, TC_DTYPE_U8, 4, 5, &seed), *b_k_axis = bytes_tensor(ctx, TC_DTYPE_S8, 5, 6, &seed);
    set_quant(a_pc, 0, 4, 0.1f, 3);
    set_quant(b_k_axis, 0, 5, 0.1f, 0); /* axis 0 is K for a K x N B */
    p = tc_igemm_defaults();
    th_expect(ctx, tc_igemm(ctx, a_pc, b, c32, &p), TC_ERR_SHAPE, "A needs one scale and zero point");
    th_expect(ctx, tc_igemm(ctx, a, b_k_axis, c32, &p), TC_ERR_SHAPE, "B's quantization has 5 parameters along axis 0");
    tc_tensor *aq = bytes_tensor(ctx, TC_DTYPE_U8, 4, 5, &seed), *bq = bytes_tensor(ctx, TC_DTYPE_S8, 5, 6, &seed);
    set_quant(aq, -1, 1, 1e6f, 0);
    set_quant(bq, -1, 1, 1e6f, 0);
    set_quant(c, -1, 1, 1e-6f, 0);
    th_expect(ctx, tc_igemm(ctx, aq, bq, c, &p), TC_ERR_INVALID_ARG, "is not below 2^30");
    /* bad scales never reach a tensor */
    const float bad_scale[3] = {0.0f, -1.0f, NAN};
    const int32_t zero = 0, out_of_range = 128;
    for (int i = 0; i < 3; i++)
        th_expect(ctx, tc_tensor_set_quant(bq, &(tc_quant){-1, 1, &bad_scale[i], &zero}), TC_ERR_INVALID_ARG, "scale");
    const float one = 1.0f;
    th_expect(ctx, tc_tensor_set_quant(bq, &(tc_quant){-1, 1, &one, &out_of_range}), TC_ERR_INVALID_ARG, "zero_point");
    /* sizes: K above the limit, where sums could overflow s32 */
    tc_tensor *a_big = NULL, *b_big = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_U8, 2, TH_DIMS(1, TC_IGEMM_MAX_K + 1), &a_big), TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 2, TH_DIMS(TC_IGEMM_MAX_K + 1, 1), &b_big), TC_OK);
    tc_tensor *c11 = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S32, 2, TH_DIMS(1, 1), &c11), TC_OK);
    th_expect(ctx, tc_igemm(ctx, a_big, b_big, c11, &p), TC_ERR_OVERFLOW, "K = 33026");
    /* C sharing storage with A; variants */
    tc_tensor *a_as_c = NULL, *a45 = bytes_tensor(ctx, TC_DTYPE_S8, 4, 5, &seed), *b55 = bytes_tensor(ctx, TC_DTYPE_S8, 5, 5, &seed);
    assert_int_equal(tc_tensor_reshape(a45, 2, TH_DIMS(4, 5), &a_as_c), TC_OK);
    const int32_t mult1 = 1 << 30, shift1 = 0;
    p.multiplier = &mult1, p.shift = &shift1, p.nmult = 1;
    th_expect(ctx, tc_igemm(ctx, a45, b55, a_as_c, &p), TC_ERR_INVALID_ARG, "must not share storage");
    p = tc_igemm_defaults();
    p.variant = (tc_variant)99;
    th_expect(ctx, tc_igemm(ctx, a, b, c32, &p), TC_ERR_INVALID_ARG, "invalid variant");
    p.variant = TC_VARIANT_CLBLAST;
    th_expect(ctx, tc_igemm(ctx, a, b, c32, &p), TC_ERR_UNSUPPORTED, "clblast");
    if (tc_ctx_is_ref(ctx)) {
        p.variant = TC_VARIANT_VNNI;
        th_expect(ctx, tc_igemm(ctx, a, b, c32, &p), TC_ERR_UNSUPPORTED, "OpenCL");
    }
    /* plans check B the same way */
    tc_igemm_plan *plan = (tc_igemm_plan *)(uintptr_t)1;
    p = tc_igemm_defaults();
    th_expect(ctx, tc_igemm_plan_create(ctx, b_u8, &p, &plan), TC_ERR_DTYPE, "B is u8");
    assert_null(plan);
    th_expect(ctx, tc_igemm_plan_validate(ctx, b_k_axis, &p), TC_ERR_SHAPE, "along axis 0");
    th_expect(ctx, tc_igemm_plan_validate(ctx, b_big, &p), TC_ERR_OVERFLOW, "K = 33026");
    assert_int_equal(tc_igemm_plan_validate(ctx, b, &p), TC_OK);
    th_expect(NULL, tc_igemm_plan_run(NULL, a, c32), TC_ERR_INVALID_ARG, "plan is NULL");
    assert_true(same_bytes(c, c0));

    tc_tensor *all[] = {a, b, c, c0, c32, cf, bias, bias_f, a_f, b_u8, b_k, c_wrong, bias5, a_pc, b_k_axis, aq, bq,
                        a_big, b_big, c11, a_as_c, a45, b55};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(a_other);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

static size_t mem_without_scratch(const tc_ctx *ctx)
{
    size_t s = tc_ctx_mem_current(ctx);
    for (int i = 0; i < TC_SCRATCH_SLOTS; i++) s -= ctx->scratch_bytes[i];
    return s;
}

/* A plan equals the one-shot call, keeps its own copy of B and the bias, follows
 * A's scale from run to run and gives its memory back. */
static void test_igemm_plan(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    uint64_t seed = th_seed() ^ 77;
    const int64_t m = 37, n = 45, k = 70;
    tc_tensor *a = bytes_tensor(ctx, TC_DTYPE_S8, m, k, &seed), *b = bytes_tensor(ctx, TC_DTYPE_S8, n, k, &seed);
    tc_tensor *c1 = bytes_tensor(ctx, TC_DTYPE_U8, m, n, &seed), *c2 = bytes_tensor(ctx, TC_DTYPE_U8, m, n, &seed);
    tc_tensor *bias = NULL, *bias_old = NULL;
    int32_t hbias[45];
    for (int i = 0; i < n; i++) hbias[i] = (int32_t)(tc_rng_next(&seed) % 20001) - 10000;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_S32, 1, TH_DIMS(n), hbias, &bias), TC_OK);
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_S32, 1, TH_DIMS(n), hbias, &bias_old), TC_OK);
    set_quant(a, -1, 1, 0.02f, -3);
    set_quant(b, 0, n, 0.01f, 0); /* per output channel: axis 0 of an N x K B */
    set_quant(c1, -1, 1, 0.5f, 128);
    set_quant(c2, -1, 1, 0.5f, 128);
    tc_tensor *b_old = bytes_tensor(ctx, TC_DTYPE_S8, n, k, &seed), *a1 = bytes_tensor(ctx, TC_DTYPE_U8, 1, k, &seed);
    tc_tensor *c_1 = bytes_tensor(ctx, TC_DTYPE_S32, 1, n, &seed), *c_ref = bytes_tensor(ctx, TC_DTYPE_S32, 1, n, &seed);
    tc_tensor *a_wrong = bytes_tensor(ctx, TC_DTYPE_U8, 1, k + 1, &seed);
    tc_igemm_params p = tc_igemm_defaults();
    p.trans_b = 1, p.bias = bias, p.relu = 1;
    const size_t before = mem_without_scratch(ctx);
    tc_igemm_plan *plan = NULL;
    assert_int_equal(tc_igemm_plan_create(ctx, b, &p, &plan), TC_OK);
    if (!tc_ctx_is_ref(ctx)) assert_true(mem_without_scratch(ctx) > before); /* packed B and its sums */
    assert_int_equal(tc_igemm_plan_variant(plan), tc_igemm_auto_variant(ctx));
    assert_int_equal(tc_igemm(ctx, a, b, c1, &p), TC_OK);
    /* B and the bias change after create: the plan still has the old ones */
    memset(hbias, 0, sizeof hbias);
    assert_int_equal(tc_tensor_write(bias, hbias, sizeof hbias), TC_OK);
    p.bias = bias_old;
    {
        int8_t hb[45 * 70];
        assert_int_equal(tc_tensor_read(b, hb, sizeof hb), TC_OK);
        assert_int_equal(tc_tensor_write(b_old, hb, sizeof hb), TC_OK);
        for (size_t i = 0; i < sizeof hb; i++) hb[i] = (int8_t)(hb[i] ^ 0x55);
        assert_int_equal(tc_tensor_write(b, hb, sizeof hb), TC_OK);
    }
    assert_int_equal(tc_igemm_plan_run(plan, a, c2), TC_OK);
    assert_true(same_bytes(c1, c2));
    /* another scale of A: the multipliers follow */
    set_quant(a, -1, 1, 0.07f, 5);
    set_quant(b_old, 0, n, 0.01f, 0);
    assert_int_equal(tc_igemm_plan_run(plan, a, c2), TC_OK);
    assert_int_equal(tc_igemm(ctx, a, b_old, c1, &p), TC_OK);
    assert_true(same_bytes(c1, c2));
    /* A of other rows; bad A and C leave C alone */
    assert_int_equal(tc_igemm_plan_run(plan, a1, c_1), TC_OK);
    p.variant = TC_VARIANT_REF;
    assert_int_equal(tc_igemm(ctx, a1, b_old, c_ref, &p), TC_OK);
    assert_true(same_bytes(c_1, c_ref));
    th_expect(ctx, tc_igemm_plan_run(plan, a_wrong, c_1), TC_ERR_SHAPE, "expected 70 columns");
    th_expect(ctx, tc_igemm_plan_run(plan, a1, c2), TC_ERR_SHAPE, "C is 37x45, expected 1x45");
    tc_ctx *other = th_ctx();
    tc_tensor *a_other = bytes_tensor(other, TC_DTYPE_U8, 1, k, &seed);
    th_expect(ctx, tc_igemm_plan_run(plan, a_other, c_1), TC_ERR_CONTEXT, "another context");
    tc_tensor_free(a_other);
    tc_ctx_free(other);
    assert_true(same_bytes(c_1, c_ref));
    tc_igemm_plan_free(plan);
    tc_igemm_plan_free(NULL);
    assert_int_equal(mem_without_scratch(ctx), before);
    tc_tensor *all[] = {a, b, c1, c2, bias, bias_old, b_old, a1, c_1, c_ref, a_wrong};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_ctx_free(ctx);
}

/* clamp_min / clamp_max (a ReLU6 in C's units) on every variant the device runs. */
static void test_igemm_clamp(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    uint64_t seed = th_seed() ^ 99;
    const int64_t m = 20, n = 50, k = 40;
    tc_tensor *a = bytes_tensor(ctx, TC_DTYPE_U8, m, k, &seed), *b = bytes_tensor(ctx, TC_DTYPE_S8, k, n, &seed);
    tc_tensor *want = bytes_tensor(ctx, TC_DTYPE_S8, m, n, &seed), *got = bytes_tensor(ctx, TC_DTYPE_S8, m, n, &seed);
    set_quant(a, -1, 1, 0.05f, 128);
    set_quant(b, -1, 1, 0.05f, 0);
    set_quant(want, -1, 1, 0.1f, -20);
    set_quant(got, -1, 1, 0.1f, -20);
    tc_igemm_params p = tc_igemm_defaults();
    p.clamp_min = -20, p.clamp_max = 40, p.variant = TC_VARIANT_REF;
    assert_int_equal(tc_igemm(ctx, a, b, want, &p), TC_OK);
    int8_t h[20 * 50];
    assert_int_equal(tc_tensor_read(want, h, sizeof h), TC_OK);
    int lo = 0, hi = 0;
    for (size_t i = 0; i < sizeof h; i++) {
        assert_true(h[i] >= -20 && h[i] <= 40);
        lo += h[i] == -20, hi += h[i] == 40;
    }
    assert_true(lo > 0 && hi > 0); /* both bounds bite */
    const tc_variant vs[] = {TC_VARIANT_OPENCL, TC_VARIANT_GPU, TC_VARIANT_VNNI, TC_VARIANT_VNNI256};
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        p.variant = vs[i];
        const tc_status st = tc_igemm(ctx, a, b, got, &p);
        if (st == TC_ERR_UNSUPPORTED) continue;
        assert_int_equal(st, TC_OK);
        assert_true(same_bytes(want, got));
    }
    tc_tensor_free(a);
    tc_tensor_free(b);
    tc_tensor_free(want);
    tc_tensor_free(got);
    tc_ctx_free(ctx);
}

/* AUTO: ref on ref; VNNI on PoCL's CPU device of a host with AVX512-VNNI; a variant
 * whose kernels failed to build is skipped for the next, down to the portable one. */
static void test_igemm_auto(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const tc_variant v = tc_igemm_auto_variant(ctx);
    if (tc_ctx_is_ref(ctx)) {
        assert_int_equal(v, TC_VARIANT_REF);
    } else if (strstr(tc_ctx_device(ctx)->platform, "Portable Computing Language") &&
               tc_ctx_device(ctx)->type == TC_DEVICE_CPU) {
#if defined(__x86_64__) && defined(__GNUC__)
        if (__builtin_cpu_supports("avx512vnni")) assert_int_equal(v, TC_VARIANT_VNNI);
#endif
        ctx->igemm_unbuilt |= 1u << TC_VARIANT_VNNI;
        const tc_variant w = tc_igemm_auto_variant(ctx);
        assert_true(w == TC_VARIANT_VNNI256 || w == TC_VARIANT_OPENCL);
        ctx->igemm_unbuilt |= 1u << TC_VARIANT_VNNI256;
        assert_int_equal(tc_igemm_auto_variant(ctx), TC_VARIANT_OPENCL);
    }
    /* the parameter table decides on any OpenCL device */
    if (!tc_ctx_is_ref(ctx)) {
        assert_int_equal(tc_kernel_params_set(ctx, "igemm.vnni=0,igemm.gpu=1"), TC_OK);
        assert_int_equal(tc_igemm_auto_variant(ctx), TC_VARIANT_GPU);
        assert_int_equal(tc_kernel_params_set(ctx, "igemm.vnni=0,igemm.gpu=0"), TC_OK);
        assert_int_equal(tc_igemm_auto_variant(ctx), TC_VARIANT_OPENCL);
        th_expect(ctx, tc_kernel_params_set(ctx, "igemm.gpu_tile=8,igemm.gpu_wpt=16"), TC_ERR_INVALID_ARG, "gpu_wpt");
    }
    tc_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_igemm_all_variants), cmocka_unit_test(test_igemm_fixed_point),
        cmocka_unit_test(test_igemm_multiplier),   cmocka_unit_test(test_igemm_bad_input),
        cmocka_unit_test(test_igemm_plan),         cmocka_unit_test(test_igemm_clamp),
        cmocka_unit_test(test_igemm_auto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
