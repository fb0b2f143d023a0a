/* Per-device kernel parameters, as in CLBlast's database: the first row whose
 * `match` is a substring of the device name (or NULL) and whose type fits wins;
 * the last row is the safe default for any device. */
#include <string.h>

#include "core/internal.h"

static const tc_dev_params table[] = {
    /* match      type            cpu_wg tile wpt gemv_wg igemm */
    /* PoCL's CPU device (measured, docs/performance.md): a group of 16 GEMM work-items
     * (128 rows) shares one B panel; GEMV groups of 8 give 2 cores 4+ groups at N = 4096 */
    {"pthread", TC_DEVICE_CPU, 16, 64, 4, 8, TC_VARIANT_VNNI},
    /* NVIDIA: 64x64 tiles, 4x4 outputs per work-item (16x16 work-group) */
    {"NVIDIA", TC_DEVICE_GPU, 32, 64, 4, 128, TC_VARIANT_GPU},
    {"GeForce", TC_DEVICE_GPU, 32, 64, 4, 128, TC_VARIANT_GPU},
    /* any other CPU / GPU */
    {NULL, TC_DEVICE_CPU, 32, 32, 2, 64, TC_VARIANT_VNNI},
    {NULL, TC_DEVICE_GPU, 32, 64, 4, 128, TC_VARIANT_GPU},
    /* safe default for an unknown device: 32x32 tiles, 2x2 per item (16x16 = 256 work-items) */
    {NULL, TC_DEVICE_OTHER, 16, 32, 2, 64, TC_VARIANT_OPENCL},
};

const tc_dev_params *tc_params_for(const char *device_name, tc_device_type type)
{
    size_t n = sizeof table / sizeof table[0];
    for (size_t i = 0; i + 1 < n; i++) {
        if (table[i].type != type) continue;
        if (!table[i].match || (device_name && strstr(device_name, table[i].match))) return &table[i];
    }
    return &table[n - 1];
}
