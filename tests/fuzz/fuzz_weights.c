/* libFuzzer target: .tcw model files (tc_model_load) and decoder files
 * (tc_decoder_load). Every input is loaded as given (truncation, magic and
 * checksum paths) and, when its checksum does not match, again with the CRC-32
 * fixed, so mutations reach the field checks. An accepted model saves (version 2)
 * and loads again unchanged, and, when its work is bounded, runs forward and
 * predict on every context, is quantized to int8 (calibrated on the same input)
 * and pruned (unstructured and structured), and those run again: a failed call
 * leaves its output as it was, no guard byte changes, nothing stays allocated.
 * An accepted decoder of bounded size generates a few tokens with and without
 * its KV cache, which must agree, and a smaller one with an s8 cache too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/opdesc.h"
#include "fuzz.h"
#include "model/format.h"
#include "model/kind.h"
#include "tinycl/decoder.h"

#define BATCH 2
#define MAX_WORK (1 << 22) /* multiply-adds of one forward pass */
#define MAX_ACT (1 << 20)  /* activation elements */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* 1 when one forward pass of the model in `path` stays within the bounds (the
 * shapes come from the loader's own checks). */
static int cheap(tc_ctx *ctx, const char *path)
{
    tc_wfile *f = malloc(sizeof *f);
    if (!f) return 0;
    int64_t work = 0, act = 0;
    const int read = tc_wfile_read(ctx, path, f) == TC_OK, ok = read && tc_wfile_check(ctx, path, f) == TC_OK;
    for (int i = 0; ok && i < f->nlayers; i++) {
        const tc_wlayer *l = &f->layers[i];
        const int64_t out = tc_shape_numel(&l->out), in = tc_shape_numel(&l->in);
        int64_t per = 1; /* work per output */
        if (l->type == TC_LAYER_LINEAR) per = l->p[0];
        if (l->type == TC_LAYER_CONV2D) per = tc_sat_mul3(l->p[0], l->p[2], l->p[3]);
        if (l->type == TC_LAYER_MAXPOOL2D || l->type == TC_LAYER_AVGPOOL2D)
            per = min64(l->p[0], l->in.d[1]) * min64(l->p[1], l->in.d[2]);
        work = tc_sat_add(work, tc_sat_add(tc_sat_mul(out, per), in));
        act = tc_sat_add(act, out);
    }
    if (read) free(f->buf);
    free(f);
    return ok && tc_sat_mul(work, BATCH) <= MAX_WORK && tc_sat_mul(act, BATCH) <= MAX_ACT;
}

/* Forward and predict on random input; outputs guarded. */
static void run(tc_ctx *ctx, tc_model *m)
{
    const int64_t in = tc_model_input_numel(m), classes = tc_model_classes(m);
    float *hx = malloc((size_t)(BATCH * in) * sizeof *hx), *hy = malloc((size_t)(BATCH * classes) * sizeof *hy);
    int32_t hp[BATCH] = {-7, -7};
    uint64_t seed = 1;
    tc_tensor *x = NULL, *y = NULL, *p = NULL;
    if (!hx || !hy) fz_fail("out of host memory");
    tc_rand_f32(hx, (size_t)(BATCH * in), -1.0f, 1.0f, &seed);
    tc_rand_f32(hy, (size_t)(BATCH * classes), -1.0f, 1.0f, &seed);
    if (tc_tensor_from_host(ctx, TC_DTYPE_F32, 2, (const int64_t[]){BATCH, in}, hx, &x) != TC_OK ||
        tc_tensor_create_guarded(ctx, TC_DTYPE_F32, 2, (const int64_t[]){BATCH, classes}, 1024, &y) != TC_OK ||
        tc_tensor_write(y, hy, tc_tensor_bytes(y)) != TC_OK ||
        tc_tensor_create_guarded(ctx, TC_DTYPE_S32, 1, (const int64_t[]){BATCH}, 1024, &p) != TC_OK ||
        tc_tensor_write(p, hp, sizeof hp) != TC_OK)
        fz_fail("tensors for a forward pass: %s", tc_last_error(ctx));
    tc_status s = tc_model_forward(m, x, y);
    fz_count("forward", s);
    fz_check_tensor(y, s == TC_OK ? NULL : hy, "tc_model_forward");
    s = tc_model_predict(m, x, p);
    fz_count("predict", s);
    fz_check_tensor(p, s == TC_OK ? NULL : hp, "tc_model_predict");
    /* an int8 copy calibrated on x (models without a linear or conv2d layer are refused) */
    tc_model *q = NULL;
    s = tc_model_quantize(m, x, NULL, &q);
    fz_count("quantize", s);
    if ((s == TC_OK) != (q != NULL)) fz_fail("tc_model_quantize: status and model disagree");
    if (q) {
        s = tc_model_forward(q, x, y);
        fz_count("forward int8", s);
        fz_check_tensor(y, NULL, "tc_model_forward (int8)");
    }
    tc_model_free(q);
    /* pruned copies, unstructured and structured (refused where channels cannot go), run */
    for (int st = 0; st < 2; st++) {
        tc_model_prune_options o = tc_model_prune_defaults();
        o.structured = st;
        tc_model *pm = NULL;
        double sp = -1;
        s = tc_model_prune(m, &o, &pm);
        fz_count(st ? "prune structured" : "prune", s);
        if ((s == TC_OK) != (pm != NULL)) fz_fail("tc_model_prune: status and model disagree");
        if (pm && (tc_model_sparsity(pm, &sp, NULL) != TC_OK || !(sp >= 0 && sp <= 1)))
            fz_fail("a pruned model's sparsity is %g", sp);
        if (pm) {
            s = tc_model_forward(pm, x, y);
            fz_count(st ? "forward structured" : "forward pruned", s);
            fz_check_tensor(y, NULL, "tc_model_forward (pruned)");
        }
        tc_model_free(pm);
    }
    tc_tensor_free(x), tc_tensor_free(y), tc_tensor_free(p);
    free(hx), free(hy);
}

static char dir[64];
static void remove_dir(void) { rmdir(dir); }

/* tc_model_save then tc_model_load gives the same model (version 2 written). */
static void round_trip(tc_ctx *ctx, const tc_model *m)
{
    static char path[96];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/tinycl-fuzz-XXXXXX");
        if (!mkdtemp(dir)) fz_fail("mkdtemp failed");
        snprintf(path, sizeof path, "%s/saved.tcw", dir);
        atexit(remove_dir);
    }
    tc_model *back = NULL;
    char a[512], b[512];
    if (tc_model_save(m, path) != TC_OK || tc_model_load(ctx, path, &back) != TC_OK)
        fz_fail("a loaded model does not save and load again: %s", tc_last_error(ctx));
    tc_model_summary(m, a, sizeof a);
    tc_model_summary(back, b, sizeof b);
    if (strcmp(a, b) != 0 || tc_model_classes(m) != tc_model_classes(back) ||
        tc_model_input_numel(m) != tc_model_input_numel(back))
        fz_fail("saved and loaded again, the model changed: %s / %s", a, b);
    tc_model_free(back);
    unlink(path);
}

#define DEC_CAPACITY 8
#define DEC_MAX_PARAMS (1 << 20)
#define DEC_MAX_S8_PARAMS (1 << 16) /* the s8 cache's calibration runs 512 positions */

/* Whether the two largest of v logits are apart by more than rounding could move
 * them (NaN and infinities count as a tie: any pick is right). */
static int clear_winner(const float *l, int64_t v)
{
    float a = -INFINITY, b = -INFINITY;
    for (int64_t i = 0; i < v; i++) {
        if (!isfinite(l[i])) return 0;
        if (l[i] > a) b = a, a = l[i];
        else if (l[i] > b) b = l[i];
    }
    return a - b > 1e-3f * (1.0f + fabsf(a));
}

/* The s8 cache: its calibration (a forward pass of 512 calibration bytes) succeeds
 * or fails on keys or values that are not finite, with the dtype unchanged; then
 * generation through it runs. */
static void int8_cache(tc_ctx *ctx, tc_decoder *d, const int32_t *const *prompts, int64_t len)
{
    const tc_status q = tc_decoder_set_kv_dtype(d, TC_DTYPE_S8);
    fz_count("set_kv_dtype s8", q);
    if (q != TC_OK && q != TC_ERR_INVALID_ARG && q != TC_ERR_OUT_OF_MEMORY)
        fz_fail("tc_decoder_set_kv_dtype: %s", tc_last_error(ctx));
    if (tc_decoder_kv_dtype(d) != (q == TC_OK ? TC_DTYPE_S8 : TC_DTYPE_F32))
        fz_fail("tc_decoder_set_kv_dtype returned %s and left the dtype %s", tc_status_name(q),
                tc_dtype_name(tc_decoder_kv_dtype(d)));
    if (q != TC_OK) return;
    int32_t out[3] = {-7, -7, -7};
    const tc_status g = tc_decoder_generate(d, 1, prompts, &len, 3, NULL, out);
    fz_count("generate cached-int8", g);
    if (g != TC_OK && g != TC_ERR_OUT_OF_MEMORY)
        fz_fail("a decoder with an s8 cache does not generate: %s", tc_last_error(ctx));
}

/* The same file as a decoder: loaded, and when small, 3 tokens generated from a
 * 2-token prompt with and without the cache, which must pick the same tokens
 * wherever the choice is not a near-tie. */
static void load_decoder(tc_ctx *ctx, const char *path)
{
    tc_decoder *d = NULL;
    const tc_status s = tc_decoder_load(ctx, path, DEC_CAPACITY, &d);
    fz_count("tc_decoder_load", s);
    if ((s == TC_OK) != (d != NULL)) fz_fail("tc_decoder_load: status and decoder disagree");
    const tc_decoder_info in = tc_decoder_info_of(d);
    const int64_t params = tc_sat_mul(in.layers, tc_sat_mul(in.d_model, tc_sat_add(4 * in.d_model, 2 * in.d_ff)));
    float *lg = d ? malloc((size_t)(3 * in.vocab) * sizeof *lg) : NULL;
    if (lg && tc_sat_add(params, tc_sat_mul(2 * in.vocab, in.d_model)) <= DEC_MAX_PARAMS) {
        const int32_t prompt[2] = {0, (int32_t)(in.vocab - 1)}, *prompts[1] = {prompt};
        const int64_t len = 2;
        int32_t out[2][3] = {{-7, -7, -7}, {-7, -7, -7}};
        for (int c = 0; c < 2; c++) {
            tc_generate_params p = tc_generate_defaults();
            p.use_cache = c == 0;
            p.logits = c == 0 ? lg : NULL;
            const tc_status g = tc_decoder_generate(d, 1, prompts, &len, 3, &p, out[c]);
            fz_count(c ? "generate uncached" : "generate cached", g);
            if (g != TC_OK && g != TC_ERR_OUT_OF_MEMORY)
                fz_fail("a loaded decoder does not generate: %s", tc_last_error(ctx));
        }
        int i = 0; /* the first step that differs: same tokens before it, so the same context */
        while (i < 3 && out[0][i] == out[1][i]) i++;
        if (i < 3 && clear_winner(lg + i * in.vocab, in.vocab))
            fz_fail("cached and uncached generation pick different tokens at step %d", i);
        if (params <= DEC_MAX_S8_PARAMS) int8_cache(ctx, d, prompts, len);
    }
    free(lg);
    tc_decoder_free(d);
}

static tc_status load(tc_ctx *ctx, const char *path, const uint8_t *bytes)
{
    (void)bytes;
    load_decoder(ctx, path);
    tc_model *m = NULL;
    const tc_status s = tc_model_load(ctx, path, &m);
    if ((s == TC_OK) != (m != NULL)) fz_fail("tc_model_load: status and model disagree");
    if (m && tc_ctx_is_ref(ctx) && !tc_ctx_host_blas(ctx)) round_trip(ctx, m); /* once, on ref */
    if (m && cheap(ctx, path)) run(ctx, m);
    tc_model_free(m);
    fz_check_empty(ctx, "a model file");
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    fz_load_file(data, n, "tc_model_load", load);
    return 0;
}
