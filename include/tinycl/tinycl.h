/* tinycl: small-model inference ops as OpenCL kernels with a plain-C reference. */
#ifndef TINYCL_H
#define TINYCL_H

#include "tinycl/status.h"
#include "tinycl/version.h"
#include "tinycl/device.h"
#include "tinycl/context.h"
#include "tinycl/tensor.h"
#include "tinycl/quant.h"
#include "tinycl/quantize.h"
#include "tinycl/variant.h"
#include "tinycl/matmul.h"
#include "tinycl/conv2d.h"
#include "tinycl/layers.h"
#include "tinycl/plan.h"
#include "tinycl/igemm.h"
#include "tinycl/attention.h"
#include "tinycl/sparse.h"
#include "tinycl/qlayers.h"
#include "tinycl/model.h"
#include "tinycl/compress.h"
#include "tinycl/decoder.h"
#include "tinycl/profile.h"
#include "tinycl/peak.h"
#include "tinycl/params.h"
#include "tinycl/check.h"

#define TINYCL_VERSION_MAJOR 0
#define TINYCL_VERSION_MINOR 1
#define TINYCL_VERSION_PATCH 0

#endif
