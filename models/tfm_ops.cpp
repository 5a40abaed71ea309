// SPDX-License-Identifier: LGPL-2.1-or-later
#include "tfm_ops.h"

#include "onednn_sgemm.h"
#include "tfm_kernels.h"
#include "tfm_models.h"

#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/add.h>
#include <ATen/ops/addcmul.h>
#include <ATen/ops/bmm.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/zeros.h>

#include <cmath>
#include <vector>

namespace neuro {
namespace tfm {

bool
records_gradients (std::initializer_list<at::Tensor> tensors)
{
  if (!at::GradMode::is_enabled ())
    return false;
  for (const at::Tensor &t : tensors)
    if (t.defined () && t.requires_grad ())
      return true;
  return false;
}

namespace {

/* y (prefilled when beta = 1) += alpha x W^T over the last axis, oneDNN. */
void
gemm_into (SgemmFn gemm, const at::Tensor &x, const at::Tensor &weight, float alpha, float beta, at::Tensor &y)
{
  const int64_t K = x.size (-1), N = weight.size (0);
  const at::Tensor a = x.contiguous (), w = weight.contiguous ();
  const int64_t M = K ? a.numel () / K : 0;
  if (M > 0 && gemm ('N', 'T', M, N, K, alpha, a.data_ptr<float> (), K, w.data_ptr<float> (), K, beta,
      y.data_ptr<float> (), N) != 0)
    throw ModelError ("oneDNN sgemm failed");
}

std::vector<int64_t>
output_shape (const at::Tensor &x, const at::Tensor &weight)
{
  std::vector<int64_t> shape (x.sizes ().begin (), x.sizes ().end ());
  shape.back () = weight.size (0);
  return shape;
}

}  // namespace

/* alpha * (x W^T) + bias over the last axis of x: at::linear when autograd
 * records, oneDNN otherwise (same maths, the fast kernels for inference). */
at::Tensor
dense (const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias, float alpha)
{
  const SgemmFn gemm = onednn_sgemm ();
  if (!gemm || records_gradients ({x, weight, bias})) {
    if (alpha == 1.0f)
      return at::linear (x, weight, bias);
    const at::Tensor y = at::linear (x, weight) * alpha;
    return bias.defined () ? y + bias : y;
  }
  const std::vector<int64_t> shape = output_shape (x, weight);
  at::Tensor y = at::empty (shape, x.options ());
  /* The bias is pre-filled and accumulated by the GEMM (beta = 1), saving a
   * pass over the output; bias + acc rounds like at::linear's addmm. */
  if (bias.defined ())
    y.copy_ (bias.expand (shape));
  gemm_into (gemm, x, weight, alpha, bias.defined () ? 1.0f : 0.0f, y);
  return y;
}

at::Tensor
dense_add (const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias, const at::Tensor &residual)
{
  const SgemmFn gemm = onednn_sgemm ();
  if (!gemm || records_gradients ({x, weight, bias, residual}))
    return residual + at::linear (x, weight, bias);
  at::Tensor y = at::add (residual, bias).contiguous ();
  gemm_into (gemm, x, weight, 1.0f, 1.0f, y);
  return y;
}

/* GroupNorm on a (B, L, C) tensor: statistics over (C/groups channels x L).
 * Inference: one kernel on the sequence-major layout (the ATen form below
 * costs two transposing copies and an affine pass), GELU written into the
 * output first where AVX2 allows. With autograd: a GroupNorm without affine
 * is a LayerNorm over each group's values, so the group-major copy goes
 * through ATen's fused LayerNorm (var_mean on this layout is ~10x slower),
 * the affine applied while copying back. */
at::Tensor
group_norm_seq (const at::Tensor &x, int64_t groups, const at::Tensor &weight, const at::Tensor &bias, bool gelu_first)
{
  const int64_t B = x.size (0), L = x.size (1), C = x.size (2), g = C / groups;
  if (!records_gradients ({x, weight, bias})) {
    const bool fused_gelu = gelu_first && have_avx2_fma () && C % 8 == 0 && x.scalar_type () == at::kFloat;
    const at::Tensor xc = gelu_first && !fused_gelu ? at::gelu (x).contiguous () : x.contiguous ();
    const at::Tensor wc = weight.contiguous (), bc = bias.contiguous ();
    at::Tensor out = at::empty ({B, L, C}, x.options ());
    if (fused_gelu)
      bias_gelu_rows_avx2 (xc.data_ptr<float> (), B * L, C, nullptr, out.data_ptr<float> ());
    const float *in = fused_gelu ? out.data_ptr<float> () : xc.data_ptr<float> ();
    at::parallel_for (0, B, 16, [&] (int64_t b0, int64_t b1) {
      group_norm_rows (in + b0 * L * C, b1 - b0, L, C, groups, wc.data_ptr<float> (), bc.data_ptr<float> (),
          static_cast<float> (kNormEps), out.data_ptr<float> () + b0 * L * C);
    });
    return out;
  }
  const at::Tensor grouped = (gelu_first ? at::gelu (x) : x).reshape ({B, L, groups, g}).permute ({0, 2, 1, 3})
      .reshape ({B, groups, L * g});
  const at::Tensor normed = at::layer_norm (grouped, {L * g}, {}, {}, kNormEps)
      .view ({B, groups, L, g}).permute ({0, 2, 1, 3}).reshape ({B, L, C});
  return at::addcmul (bias, normed, weight);
}

/* Linear attention contraction per sequence and head: out = (q_scale q) (k^T v).
 * q, k, v: (B, n, d), head j = channels [j*e, (j+1)*e). Without autograd a
 * direct loop (e x e context per head); with autograd two bmm over (d x d)
 * contexts masked to their head blocks (exact zeros elsewhere, so the same
 * values). ATen's bmm runs one small GEMM per sequence, which costs more
 * than the arithmetic here. */
at::Tensor
attention_contraction (const at::Tensor &q, float q_scale, const at::Tensor &k, const at::Tensor &v, int64_t heads)
{
  const int64_t B = q.size (0), n = q.size (1), d = q.size (2), e = d / heads;
  if (records_gradients ({q, k, v})) {
    at::Tensor mask = at::zeros ({d, d}, q.options ());
    for (int64_t h = 0; h < heads; ++h)
      mask.narrow (0, h * e, e).narrow (1, h * e, e).fill_ (1.0);
    return at::bmm (q * q_scale, at::bmm (k.transpose (1, 2), v) * mask);
  }
  const at::Tensor qc = q.contiguous (), kc = k.contiguous (), vc = v.contiguous ();
  at::Tensor out = at::empty ({B, n, d}, q.options ());
  const float *Q = qc.data_ptr<float> (), *K = kc.data_ptr<float> (), *V = vc.data_ptr<float> ();
  float *O = out.data_ptr<float> ();
  at::parallel_for (0, B, 16, [&] (int64_t b0, int64_t b1) {
    contract_sequences (Q + b0 * n * d, q_scale, K + b0 * n * d, V + b0 * n * d, O + b0 * n * d, b1 - b0, n, d, e);
  });
  return out;
}

at::Tensor
softmax_attention (const at::Tensor &qkv, int64_t heads)
{
  const int64_t B = qkv.size (0), n = qkv.size (1), d = qkv.size (2) / 3, e = d / heads;
  const float q_scale = static_cast<float> (std::pow (e, -0.5));
  if (e == 8 && !records_gradients ({qkv})) {
    const at::Tensor in = qkv.contiguous ();
    at::Tensor out = at::empty ({B, n, d}, qkv.options ());
    bool done = true;
    at::parallel_for (0, B, 16, [&] (int64_t b0, int64_t b1) {
      done = softmax_contract_e8 (in.data_ptr<float> () + b0 * n * 3 * d, q_scale, out.data_ptr<float> () + b0 * n * d,
          b1 - b0, n, d) && done;
    });
    if (done)
      return out;
  }
  const at::Tensor q = qkv.narrow (2, 0, d).reshape ({B, n, heads, e}).softmax (-1).view ({B, n, d});
  const at::Tensor k = qkv.narrow (2, d, d).softmax (1);
  return attention_contraction (q, q_scale, k, qkv.narrow (2, 2 * d, d), heads);
}

}  // namespace tfm
}  // namespace neuro
