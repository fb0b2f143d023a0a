/* libFuzzer target: .tcd sample files (tc_dataset_load). Every input is loaded
 * as given and, when its checksum does not match, again with the CRC-32 fixed,
 * so mutations reach the field checks. Accepted sets have the shapes the header
 * declares on every context; nothing stays allocated. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static void load(const uint8_t *data, size_t n, const char *mode)
{
    tc_ctx *ctx[FZ_CTX_MAX];
    const int nctx = fz_contexts(ctx);
    const char *path = fz_file(data, n);
    tc_status first = TC_OK;
    for (int c = 0; c < nctx; c++) {
        tc_tensor *x = NULL, *y = NULL;
        tc_status s = tc_dataset_load(ctx[c], path, &x, &y);
        if (c == 0) fz_count(mode, s), first = s;
        if (s != first && s != TC_ERR_OUT_OF_MEMORY)
            fz_fail("tc_dataset_load: %s on ref, %s on %s", tc_status_name(first), tc_status_name(s),
                    ctx[c]->info.name);
        if (s == TC_OK) {
            uint32_t count;
            memcpy(&count, data + 8, 4); /* the header's sample count */
            if (!x || !y || tc_tensor_dim(x, 0) != count || tc_tensor_dim(y, 0) != count || tc_tensor_ndim(y) != 1)
                fz_fail("tc_dataset_load: tensors do not match the header's %u samples", count);
        } else if (x || y) {
            fz_fail("tc_dataset_load failed but left a tensor");
        }
        tc_tensor_free(x);
        tc_tensor_free(y);
        fz_check_empty(ctx[c], "a sample file");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    fz_load_both_ways(data, n, load);
    return 0;
}
