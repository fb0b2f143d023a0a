/* libFuzzer target: .tcd sample files (tc_dataset_load). Every input is loaded
 * as given and, when its checksum does not match, again with the CRC-32 fixed,
 * so mutations reach the field checks. Accepted sets have the shapes the header
 * declares on every context; nothing stays allocated. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static tc_status load(tc_ctx *ctx, const char *path, const uint8_t *bytes)
{
    tc_tensor *x = NULL, *y = NULL;
    const tc_status s = tc_dataset_load(ctx, path, &x, &y);
    if (s == TC_OK) {
        uint32_t count;
        memcpy(&count, bytes + 8, 4); /* the header's sample count */
        if (!x || !y || tc_tensor_dim(x, 0) != count || tc_tensor_dim(y, 0) != count || tc_tensor_ndim(y) != 1)
            fz_fail("tc_dataset_load: tensors do not match the header's %u samples", count);
    } else if (x || y) {
        fz_fail("tc_dataset_load failed but left a tensor");
    }
    tc_tensor_free(x);
    tc_tensor_free(y);
    fz_check_empty(ctx, "a sample file");
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    fz_load_file(data, n, "tc_dataset_load", load);
    return 0;
}
