// SPDX-License-Identifier: LGPL-2.1-or-later
/* Inference form of a stack of linear-attention blocks on raw float arrays
 * (no LibTorch): LayerNorm, GELU and the bias and residual adds fused around
 * oneDNN's sgemm, a few whole sequences at a time so that every intermediate
 * of a tile stays in the core's L2 cache while it passes all blocks. */
#pragma once

#include "onednn_sgemm.h"

#include <cstdint>
#include <vector>

namespace neuro {
namespace tfm {

/* One block's weights, row-major (out, in) like nn.Linear. */
struct LatBlockArrays {
  const float *norm1_weight, *norm1_bias;
  const float *qkv;                 /* (3d, d): to_q, to_k, to_v stacked */
  const float *out, *out_bias;      /* (d, d) */
  const float *norm2_weight, *norm2_bias;
  const float *ff1, *ff1_bias;      /* (hidden, d) */
  const float *ff2, *ff2_bias;      /* (d, hidden) */
  int64_t hidden;
};

/* x (count sequences of n rows x d) through every block in order, in place.
 * False, x untouched, where this form does not apply (no AVX2+FMA, heads
 * not 8 wide, d or hidden not a multiple of 8): the caller runs ATen ops. */
bool lat_blocks_in_place (SgemmFn gemm, const std::vector<LatBlockArrays> &blocks, int64_t heads, float *x,
    int64_t count, int64_t n, int64_t d);

}  // namespace tfm
}  // namespace neuro
