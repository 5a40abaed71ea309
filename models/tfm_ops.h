// SPDX-License-Identifier: LGPL-2.1-or-later
/* ATen-level operations the TFM graph is built from, where ATen has no
 * operation of that shape or a slow one: the fast paths run only when
 * autograd does not record (inference), with the same values either way. */
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <initializer_list>

namespace neuro {
namespace tfm {

constexpr double kNormEps = 1e-5;  /* LayerNorm and GroupNorm */

/* True when autograd would record an op on any of these tensors. */
bool records_gradients (std::initializer_list<at::Tensor> tensors);

/* alpha * (x W^T) + bias over the last axis of x (bias may be undefined). */
at::Tensor dense (const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias, float alpha = 1.0f);

/* residual + (x W^T + bias), the residual add folded into the product. */
at::Tensor dense_add (const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias, const at::Tensor &residual);

/* GroupNorm (eps kNormEps) on a sequence-major (B, L, C) tensor, of gelu (x)
 * with gelu_first (one pass fewer than at::gelu before it). */
at::Tensor group_norm_seq (const at::Tensor &x, int64_t groups, const at::Tensor &weight, const at::Tensor &bias,
    bool gelu_first = false);

/* Linear attention contraction per sequence and head: (q_scale q) (k^T v),
 * q, k, v (B, n, d), head j = channels [j*d/heads, (j+1)*d/heads). */
at::Tensor attention_contraction (const at::Tensor &q, float q_scale, const at::Tensor &k, const at::Tensor &v,
    int64_t heads);

/* The attention of a linear-attention block from its fused projections
 * qkv (B, n, 3d) = [q | k | v]: q softmaxed over each head's features and
 * scaled by head_width^-0.5, k over the sequence, then the contraction. */
at::Tensor softmax_attention (const at::Tensor &qkv, int64_t heads);

}  // namespace tfm
}  // namespace neuro
