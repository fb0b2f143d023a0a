/* Magnitude pruning: exact counts, the threshold property (no kept unit is smaller
 * than a pruned one), ties by index, one threshold across layers, blocks, whole
 * channels with the next layer's inputs (the pruned network computes what the
 * original computes with those channels zeroed), and bad input that changes nothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/opdesc.h"
#include "harness.h"

static float *read_all(const tc_tensor *t)
{
    float *h = malloc(tc_tensor_bytes(t));
    assert_non_null(h);
    assert_int_equal(tc_tensor_read(t, h, tc_tensor_bytes(t)), TC_OK);
    return h;
}

static int64_t zeros(const float *h, int64_t n)
{
    int64_t z = 0;
    for (int64_t i = 0; i < n; i++) z += h[i] == 0.0f;
    return z;
}

/* Every element is either kept as it was or zeroed, and no kept |w| is below a
 * pruned one's. */
static void assert_threshold(const float *before, const float *after, int64_t n)
{
    float max_cut = 0.0f, min_kept = INFINITY;
    for (int64_t i = 0; i < n; i++) {
        if (after[i] == 0.0f) {
            if (fabsf(before[i]) > max_cut) max_cut = fabsf(before[i]);
        } else {
            assert_true(after[i] == before[i]);
            if (fabsf(before[i]) < min_kept) min_kept = fabsf(before[i]);
        }
    }
    assert_true(max_cut <= min_kept);
}

static void test_prune_exact_unstructured(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    const double levels[] = {0, 0.3, 0.5, 0.9, 0.99};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        float *before;
        tc_tensor *w = th_tensor(ctx, 2, TH_DIMS(37, 53), &before);
        assert_int_equal(tc_prune_magnitude(ctx, w, levels[i], TC_PRUNE_ELEMENT), TC_OK);
        float *after = read_all(w);
        assert_int_equal(zeros(after, 37 * 53), llround(levels[i] * 37 * 53));
        assert_threshold(before, after, 37 * 53);
        double s = -1;
        assert_int_equal(tc_sparsity(w, &s), TC_OK);
        assert_true(fabs(s - (double)llround(levels[i] * 37 * 53) / (37 * 53)) < 1e-12);
        free(before), free(after);
        tc_tensor_free(w);
    }
    tc_ctx_free(ctx);
}

/* Equal magnitudes go by index, lowest first; -0 is a zero. */
static void test_prune_ties_by_index(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    float h[40];
    for (int i = 0; i < 40; i++) h[i] = i % 2 ? 0.5f : -0.5f;
    h[7] = -0.0f, h[30] = 2.0f;
    tc_tensor *w = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 1, TH_DIMS(40), h, &w), TC_OK);
    assert_int_equal(tc_prune_magnitude(ctx, w, 0.25, TC_PRUNE_ELEMENT), TC_OK); /* 10 units: -0, then 0..8 */
    float *got = read_all(w);
    for (int i = 0; i < 40; i++) assert_true(got[i] == (i <= 9 ? 0.0f : h[i]));
    free(got);
    tc_tensor_free(w);
    tc_ctx_free(ctx);
}

/* One threshold for two layers: the layer of small weights is pruned first. */
static void test_prune_global(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    float *ha, *hb;
    tc_tensor *a = th_tensor(ctx, 2, TH_DIMS(20, 30), &ha);
    tc_tensor *b = NULL;
    float small[400];
    uint64_t rng = th_seed();
    tc_rand_f32(small, 400, -0.01f, 0.01f, &rng);
    hb = small;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(10, 40), small, &b), TC_OK);
    for (int i = 0; i < 600; i++) /* the big layer's magnitudes all above the small one's */
        if (fabsf(ha[i]) < 0.02f) ha[i] = 0.5f;
    assert_int_equal(tc_tensor_write(a, ha, tc_tensor_bytes(a)), TC_OK);
    tc_tensor *ws[2] = {a, b};
    assert_int_equal(tc_prune_global(ctx, ws, 2, 0.5, TC_PRUNE_ELEMENT), TC_OK); /* 500 of 1000 */
    float *ga = read_all(a), *gb = read_all(b);
    assert_int_equal(zeros(gb, 400), 400);
    assert_int_equal(zeros(ga, 600), 100);
    float *before = malloc(1000 * sizeof *before), *after = malloc(1000 * sizeof *after);
    assert_true(before && after);
    memcpy(before, ha, 600 * sizeof *ha), memcpy(before + 600, hb, 400 * sizeof *hb);
    memcpy(after, ga, 600 * sizeof *ga), memcpy(after + 600, gb, 400 * sizeof *gb);
    assert_threshold(before, after, 1000);
    free(before), free(after), free(ga), free(gb), free(ha);
    tc_tensor_free(a), tc_tensor_free(b);
    tc_ctx_free(ctx);
}

/* Blocks (edge blocks narrower): each block wholly zero or untouched, the count
 * exact, no kept block of smaller L2 norm than a pruned one. */
static void test_prune_blocks(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    static const struct {
        tc_prune_pattern p;
        int bh, bw;
        int64_t rows, cols;
        double s;
    } cases[] = {{TC_PRUNE_BLOCK_1X4, 1, 4, 6, 10, 0.5},
                 {TC_PRUNE_BLOCK_1X8, 1, 8, 5, 33, 0.9},
                 {TC_PRUNE_BLOCK_4X4, 4, 4, 9, 9, 0.6},
                 {TC_PRUNE_BLOCK_4X4, 4, 4, 16, 64, 0.0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const int64_t rows = cases[k].rows, cols = cases[k].cols, bh = cases[k].bh, bw = cases[k].bw;
        const int64_t nbr = (rows + bh - 1) / bh, nbc = (cols + bw - 1) / bw;
        float *before;
        tc_tensor *w = th_tensor(ctx, 2, TH_DIMS(rows, cols), &before);
        assert_int_equal(tc_prune_magnitude(ctx, w, cases[k].s, cases[k].p), TC_OK);
        float *after = read_all(w);
        int64_t cut = 0;
        double max_cut = 0, min_kept = INFINITY;
        for (int64_t I = 0; I < nbr; I++)
            for (int64_t J = 0; J < nbc; J++) {
                int64_t z = 0, n = 0;
                double ss = 0;
                for (int64_t r = I * bh; r < I * bh + bh && r < rows; r++)
                    for (int64_t c = J * bw; c < J * bw + bw && c < cols; c++, n++) {
                        z += after[r * cols + c] == 0.0f;
                        ss += (double)before[r * cols + c] * before[r * cols + c];
                        if (after[r * cols + c] != 0.0f) assert_true(after[r * cols + c] == before[r * cols + c]);
                    }
                assert_true(z == 0 || z == n);
                cut += z == n;
                if (z == n && ss > max_cut) max_cut = ss;
                if (z == 0 && ss < min_kept) min_kept = ss;
            }
        assert_int_equal(cut, llround(cases[k].s * (double)(nbr * nbc)));
        assert_true(max_cut <= min_kept * (1 + 1e-6));
        free(before), free(after);
        tc_tensor_free(w);
    }
    tc_ctx_free(ctx);
}

/* y = w2 relu(w1 x + b1) + b2 through tc_linear. */
static float *mlp(tc_ctx *ctx, const tc_tensor *x, const tc_tensor *w1, const tc_tensor *b1, const tc_tensor *w2,
                  const tc_tensor *b2)
{
    tc_tensor *h = NULL, *y = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(tc_tensor_dim(x, 0), tc_tensor_dim(w1, 0)), &h),
                     TC_OK);
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_F32, 2, TH_DIMS(tc_tensor_dim(x, 0), tc_tensor_dim(w2, 0)), &y),
                     TC_OK);
    assert_int_equal(tc_linear(ctx, x, w1, b1, h, &(tc_linear_params){1, TC_VARIANT_AUTO}), TC_OK);
    assert_int_equal(tc_linear(ctx, h, w2, b2, y, &(tc_linear_params){0, TC_VARIANT_AUTO}), TC_OK);
    float *out = read_all(y);
    tc_tensor_free(h), tc_tensor_free(y);
    return out;
}

/* Neurons of lowest L2 norm go; the shrunk network computes what the original does
 * with those neurons' weights and biases zeroed. */
static void test_prune_channels_mlp(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    float *h1, *hb1;
    tc_tensor *x = th_tensor(ctx, 2, TH_DIMS(3, 5), NULL), *w1 = th_tensor(ctx, 2, TH_DIMS(8, 5), &h1);
    tc_tensor *b1 = th_tensor(ctx, 1, TH_DIMS(8), &hb1), *w2 = th_tensor(ctx, 2, TH_DIMS(4, 8), NULL);
    tc_tensor *b2 = th_tensor(ctx, 1, TH_DIMS(4), NULL), *w1p, *b1p, *kept, *w2p;
    assert_int_equal(tc_prune_channels(ctx, w1, b1, 0.4, &w1p, &b1p, &kept), TC_OK); /* 3 of 8 go */
    assert_int_equal(tc_tensor_dim(w1p, 0), 5);
    assert_int_equal(tc_tensor_dim(w1p, 1), 5);
    assert_int_equal(tc_tensor_numel(b1p), 5);
    int32_t idx[5];
    assert_int_equal(tc_tensor_read(kept, idx, sizeof idx), TC_OK);
    double norm[8], min_kept = INFINITY, max_cut = 0;
    int is_kept[8] = {0};
    for (int i = 0; i < 5; i++) {
        assert_true(idx[i] >= 0 && idx[i] < 8 && (i == 0 || idx[i] > idx[i - 1]));
        is_kept[idx[i]] = 1;
    }
    for (int r = 0; r < 8; r++) {
        norm[r] = 0;
        for (int c = 0; c < 5; c++) norm[r] += (double)h1[r * 5 + c] * h1[r * 5 + c];
        if (is_kept[r] && norm[r] < min_kept) min_kept = norm[r];
        if (!is_kept[r] && norm[r] > max_cut) max_cut = norm[r];
    }
    assert_true(max_cut <= min_kept);
    float *g1 = read_all(w1p), *gb1 = read_all(b1p);
    for (int i = 0; i < 5; i++) {
        assert_memory_equal(g1 + i * 5, h1 + idx[i] * 5, 5 * sizeof(float));
        assert_true(gb1[i] == hb1[idx[i]]);
    }
    assert_int_equal(tc_prune_inputs(ctx, w2, kept, 1, &w2p), TC_OK);
    assert_int_equal(tc_tensor_dim(w2p, 0), 4);
    assert_int_equal(tc_tensor_dim(w2p, 1), 5);
    /* the original network with the pruned neurons zeroed */
    for (int r = 0; r < 8; r++)
        if (!is_kept[r]) {
            memset(h1 + r * 5, 0, 5 * sizeof(float));
            hb1[r] = 0.0f;
        }
    assert_int_equal(tc_tensor_write(w1, h1, tc_tensor_bytes(w1)), TC_OK);
    assert_int_equal(tc_tensor_write(b1, hb1, tc_tensor_bytes(b1)), TC_OK);
    float *want = mlp(ctx, x, w1, b1, w2, b2), *got = mlp(ctx, x, w1p, b1p, w2p, b2);
    for (int i = 0; i < 12; i++) assert_true(fabsf(got[i] - want[i]) <= 1e-5f * (1 + fabsf(want[i])));
    free(want), free(got), free(g1), free(gb1), free(h1), free(hb1);
    tc_tensor *all[] = {x, w1, b1, w2, b2, w1p, b1p, kept, w2p};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_ctx_free(ctx);
}

/* Filters of a conv; the next conv loses those input channels, a dense layer after
 * the flattened C x H x W output loses H*W columns per channel. */
static void test_prune_channels_conv(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx();
    float *hw2, *hw3;
    tc_tensor *w = th_tensor(ctx, 4, TH_DIMS(6, 3, 3, 3), NULL), *w2 = th_tensor(ctx, 4, TH_DIMS(4, 6, 3, 3), &hw2);
    tc_tensor *w3 = th_tensor(ctx, 2, TH_DIMS(10, 6 * 16), &hw3), *wp, *kept, *w2p, *w3p;
    assert_int_equal(tc_prune_channels(ctx, w, NULL, 0.5, &wp, NULL, &kept), TC_OK);
    assert_int_equal(tc_tensor_ndim(wp), 4);
    assert_int_equal(tc_tensor_dim(wp, 0), 3);
    int32_t idx[3];
    assert_int_equal(tc_tensor_read(kept, idx, sizeof idx), TC_OK);
    assert_int_equal(tc_prune_inputs(ctx, w2, kept, 1, &w2p), TC_OK);
    assert_int_equal(tc_prune_inputs(ctx, w3, kept, 16, &w3p), TC_OK);
    assert_int_equal(tc_tensor_dim(w2p, 1), 3);
    assert_int_equal(tc_tensor_dim(w3p, 1), 48);
    float *g2 = read_all(w2p), *g3 = read_all(w3p);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 3; i++)
            assert_memory_equal(g2 + (k * 3 + i) * 9, hw2 + (k * 6 + idx[i]) * 9, 9 * sizeof(float));
    for (int r = 0; r < 10; r++)
        for (int i = 0; i < 3; i++)
            assert_memory_equal(g3 + r * 48 + i * 16, hw3 + r * 96 + idx[i] * 16, 16 * sizeof(float));
    free(g2), free(g3), free(hw2), free(hw3);
    tc_tensor *all[] = {w, w2, w3, wp, kept, w2p, w3p};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    /* at least one channel stays */
    tc_tensor *one = th_tensor(ctx, 2, TH_DIMS(2, 3), NULL);
    assert_int_equal(tc_prune_channels(ctx, one, NULL, 0.9, &wp, NULL, &kept), TC_OK);
    assert_int_equal(tc_tensor_dim(wp, 0), 1);
    tc_tensor_free(one), tc_tensor_free(wp), tc_tensor_free(kept);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
}

static void test_prune_bad_input(void **state)
{
    (void)state;
    tc_ctx *ctx = th_ctx(), *other = th_ctx();
    float *hw;
    tc_tensor *w = th_tensor(ctx, 2, TH_DIMS(6, 7), &hw), *line = th_tensor(ctx, 1, TH_DIMS(9), NULL);
    tc_tensor *w_other = th_tensor(other, 2, TH_DIMS(6, 7), NULL), *w_s8 = NULL, *half = NULL, *nan_w = NULL;
    assert_int_equal(tc_tensor_create(ctx, TC_DTYPE_S8, 2, TH_DIMS(6, 7), &w_s8), TC_OK);
    assert_int_equal(tc_tensor_view(w, 0, 1, TH_DIMS(10), &half), TC_OK);
    float hn[6] = {1, 2, NAN, 4, 5, 6};
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, TH_DIMS(2, 3), hn, &nan_w), TC_OK);

    th_expect(NULL, tc_prune_magnitude(NULL, w, 0.5, TC_PRUNE_ELEMENT), TC_ERR_INVALID_ARG, "ctx is NULL");
    th_expect(ctx, tc_prune_magnitude(ctx, NULL, 0.5, TC_PRUNE_ELEMENT), TC_ERR_INVALID_ARG, "prune: w is NULL");
    th_expect(ctx, tc_prune_magnitude(ctx, w, -0.1, TC_PRUNE_ELEMENT), TC_ERR_INVALID_ARG, "outside [0, 1)");
    th_expect(ctx, tc_prune_magnitude(ctx, w, 1.0, TC_PRUNE_ELEMENT), TC_ERR_INVALID_ARG, "sparsity 1 is outside");
    th_expect(ctx, tc_prune_magnitude(ctx, w, NAN, TC_PRUNE_ELEMENT), TC_ERR_INVALID_ARG, "outside [0, 1)");
    th_expect(ctx, tc_prune_magnitude(ctx, w, 0.5, (tc_prune_pattern)9), TC_ERR_INVALID_ARG, "invalid pattern");
    th_expect(ctx, tc_prune_magnitude(ctx, w_s8, 0.5, TC_PRUNE_ELEMENT), TC_ERR_DTYPE, "w is s8");
    th_expect(ctx, tc_prune_magnitude(ctx, w_other, 0.5, TC_PRUNE_ELEMENT), TC_ERR_CONTEXT, "another context");
    th_expect(ctx, tc_prune_magnitude(ctx, line, 0.5, TC_PRUNE_BLOCK_1X4), TC_ERR_SHAPE, "2 or more dimensions");
    th_expect(ctx, tc_prune_magnitude(ctx, nan_w, 0.5, TC_PRUNE_ELEMENT), TC_ERR_INVALID_ARG, "NaN at element 2");
    tc_tensor *overlap[2] = {w, half};
    th_expect(ctx, tc_prune_global(ctx, overlap, 2, 0.5, TC_PRUNE_ELEMENT), TC_ERR_INVALID_ARG, "share elements");
    th_expect(ctx, tc_prune_global(ctx, overlap, 0, 0.5, TC_PRUNE_ELEMENT), TC_ERR_INVALID_ARG, "no weights");
    assert_true(th_unchanged(w, hw));
    assert_true(th_unchanged(nan_w, hn));

    tc_tensor *wp = w, *bp = w, *kept = w, *bias5 = th_tensor(ctx, 1, TH_DIMS(5), NULL);
    th_expect(ctx, tc_prune_channels(ctx, w, bias5, 0.5, &wp, &bp, &kept), TC_ERR_SHAPE,
              "bias has 5 elements, expected 6");
    assert_null(wp), assert_null(bp), assert_null(kept);
    th_expect(ctx, tc_prune_channels(ctx, w, bias5, 0.5, &wp, NULL, &kept), TC_ERR_INVALID_ARG,
              "output pointer is NULL");
    th_expect(ctx, tc_prune_channels(ctx, line, NULL, 0.5, &wp, NULL, &kept), TC_ERR_SHAPE, "1 dimension");
    th_expect(ctx, tc_prune_channels(ctx, w, NULL, 1.5, &wp, NULL, &kept), TC_ERR_INVALID_ARG, "outside [0, 1)");
    th_expect(ctx, tc_prune_channels(ctx, nan_w, NULL, 0.5, &wp, NULL, &kept), TC_ERR_INVALID_ARG, "NaN");
    assert_null(wp), assert_null(kept);

    int32_t bad_idx[3][2] = {{1, 1}, {0, 7}, {-1, 2}};
    for (int i = 0; i < 3; i++) {
        tc_tensor *k = NULL;
        assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_S32, 1, TH_DIMS(2), bad_idx[i], &k), TC_OK);
        th_expect(ctx, tc_prune_inputs(ctx, w, k, 1, &wp), TC_ERR_INVALID_ARG, "not an ascending index below 7");
        assert_null(wp);
        tc_tensor_free(k);
    }
    int32_t ok_idx[2] = {0, 2};
    tc_tensor *k = NULL;
    assert_int_equal(tc_tensor_from_host(ctx, TC_DTYPE_S32, 1, TH_DIMS(2), ok_idx, &k), TC_OK);
    th_expect(ctx, tc_prune_inputs(ctx, w, k, 2, &wp), TC_ERR_SHAPE, "group 2 does not divide w's 7 inputs");
    th_expect(ctx, tc_prune_inputs(ctx, w, w, 1, &wp), TC_ERR_DTYPE, "kept is f32");
    th_expect(ctx, tc_prune_inputs(ctx, w, k, 1, NULL), TC_ERR_INVALID_ARG, "w_out is NULL");
    double s;
    th_expect(ctx, tc_sparsity(w_s8, &s), TC_ERR_DTYPE, "w is s8");
    th_expect(NULL, tc_sparsity(NULL, &s), TC_ERR_INVALID_ARG, "NULL argument");

    tc_tensor *all[] = {w, line, w_s8, half, nan_w, bias5, k};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tc_tensor_free(all[i]);
    tc_tensor_free(w_other);
    free(hw);
    assert_int_equal(tc_ctx_mem_current(ctx), 0);
    tc_ctx_free(ctx);
    tc_ctx_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prune_exact_unstructured), cmocka_unit_test(test_prune_ties_by_index),
        cmocka_unit_test(test_prune_global),             cmocka_unit_test(test_prune_blocks),
        cmocka_unit_test(test_prune_channels_mlp),       cmocka_unit_test(test_prune_channels_conv),
        cmocka_unit_test(test_prune_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
