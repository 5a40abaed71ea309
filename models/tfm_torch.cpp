// SPDX-License-Identifier: LGPL-2.1-or-later
/* The TFM tokenizer and classifier as ATen ops (docs/architecture.md).
 *
 * Layout choice: every stage works sequence-major, (batch, length, channels),
 * so the kernel-1 convolutions and the patch convolutions become plain
 * matrix products over contiguous rows, and the GroupNorms are computed on
 * that layout directly instead of transposing back and forth. */
#include "tfm_torch.h"

#include "lat_block.h"
#include "onednn_sgemm.h"
#include "tfm_kernels.h"
#include "tfm_ops.h"
#include "worker_pool.h"

#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/addcmul.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/dropout.h>
#include <ATen/ops/embedding.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/zeros.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace neuro {
namespace tfm {

namespace {

constexpr double kAttnDropout = 0.2;    /* after each attention output projection */
constexpr double kPosDropout = 0.1;     /* classifier PositionalEncoding */
constexpr double kEmaEps = 1e-5;        /* Laplace smoothing of EMA cluster sizes */

const at::TensorOptions kFloat = at::TensorOptions ().dtype (at::kFloat);
const at::TensorOptions kLong = at::TensorOptions ().dtype (at::kLong);

/* nn.Linear / nn.Conv1d default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
 * weight and bias (kaiming_uniform with a = sqrt(5) reduces to this). */
void
add_affine (Weights &w, const std::string &name, at::IntArrayRef weight_shape, int64_t fan_in)
{
  const double bound = 1.0 / std::sqrt (static_cast<double> (fan_in));
  w.add (name + ".weight", at::empty (weight_shape, kFloat).uniform_ (-bound, bound), true);
  w.add (name + ".bias", at::empty ({weight_shape[0]}, kFloat).uniform_ (-bound, bound), true);
}

void
add_norm (Weights &w, const std::string &name, int64_t channels)
{
  w.add (name + ".weight", at::ones ({channels}, kFloat), true);
  w.add (name + ".bias", at::zeros ({channels}, kFloat), true);
}

at::Tensor
gelu_group_norm (const at::Tensor &x, int64_t groups, const Weights &w, const std::string &norm)
{
  return group_norm_seq (x, groups, w[norm + ".weight"], w[norm + ".bias"], true);
}

/* Pointwise (kernel 1) conv on (B, L, C): its (out, in, 1) weight as a Linear. */
at::Tensor
pointwise (const at::Tensor &x, const Weights &w, const std::string &conv)
{
  const at::Tensor &weight = w[conv + ".weight"];
  return dense (x, weight.view ({weight.size (0), weight.size (1)}), w[conv + ".bias"]);
}

/* The block as the authors' modules compute it, op by op: the form autograd
 * records (training) and dropout needs. */
at::Tensor
lat_block_recorded (const Weights &w, const std::string &p, int heads, const at::Tensor &x, bool training)
{
  const int64_t d = x.size (2);
  const at::Tensor none;
  const at::Tensor a = at::layer_norm (x, {d}, w[p + ".0.norm.weight"], w[p + ".0.norm.bias"], kNormEps);
  const at::Tensor qkv = at::cat ({dense (a, w[p + ".0.fn.to_q.weight"], none), dense (a, w[p + ".0.fn.to_k.weight"], none),
      dense (a, w[p + ".0.fn.to_v.weight"], none)}, 2);
  const at::Tensor attn = dense (softmax_attention (qkv, heads), w[p + ".0.fn.to_out.weight"], w[p + ".0.fn.to_out.bias"]);
  const at::Tensor x1 = x + at::dropout (attn, kAttnDropout, training);
  const at::Tensor b = at::layer_norm (x1, {d}, w[p + ".1.norm.weight"], w[p + ".1.norm.bias"], kNormEps);
  const std::string ff = p + ".1.fn.fn";
  const at::Tensor hidden = at::gelu (dense (b, w[ff + ".w1.weight"], w[ff + ".w1.bias"]));
  return x1 + dense (hidden, w[ff + ".w2.weight"], w[ff + ".w2.bias"]);
}

/* The same maths for inference with fewer passes over the activations: one
 * product for q, k and v, the softmaxes inside the attention kernel, the
 * residual adds folded into the products, GELU in place. */
at::Tensor
lat_block (const Weights &w, const std::string &p, int heads, const at::Tensor &x, bool training)
{
  const at::Tensor &wq = w[p + ".0.fn.to_q.weight"];
  if (training || records_gradients ({x, wq}))
    return lat_block_recorded (w, p, heads, x, training);
  const int64_t d = x.size (2);
  const at::Tensor a = at::layer_norm (x, {d}, w[p + ".0.norm.weight"], w[p + ".0.norm.bias"], kNormEps);
  const at::Tensor qkv = dense (a, at::cat ({wq, w[p + ".0.fn.to_k.weight"], w[p + ".0.fn.to_v.weight"]}, 0), at::Tensor ());
  const at::Tensor x1 = dense_add (softmax_attention (qkv, heads), w[p + ".0.fn.to_out.weight"],
      w[p + ".0.fn.to_out.bias"], x);
  const at::Tensor b = at::layer_norm (x1, {d}, w[p + ".1.norm.weight"], w[p + ".1.norm.bias"], kNormEps);
  const std::string ff = p + ".1.fn.fn";
  at::Tensor hidden = dense (b, w[ff + ".w1.weight"], w[ff + ".w1.bias"]);
  at::gelu_ (hidden);
  return dense_add (hidden, w[ff + ".w2.weight"], w[ff + ".w2.bias"], x1);
}

std::string
block_prefix (const std::string &stack, int i)
{
  return stack + ".layers.layers." + std::to_string (i);
}

/* Conv weight (out, in, k) reordered to (out, k*in) so that a patch stored
 * position-major (k, in) multiplies it directly. */
at::Tensor
patch_weight (const at::Tensor &conv_weight)
{
  return conv_weight.permute ({0, 2, 1}).reshape ({conv_weight.size (0), -1});
}

}  // namespace

/* ---- threads ---------------------------------------------------------- */

/* omp_set_num_threads changes only this thread's OpenMP count, which is all
 * ATen's OpenMP backend reads; at::set_num_threads would also set the
 * process-wide default and recreate LibTorch's global pthreadpool, whose
 * fresh threads spin before they sleep. */
SerialThreads::SerialThreads () : previous_ (at::get_num_threads ())
{
  omp_set_num_threads (1);
}

SerialThreads::~SerialThreads ()
{
  omp_set_num_threads (previous_);
}

/* ---- linear-attention stack ------------------------------------------- */

void
add_lat_stack (Weights &w, const std::string &prefix, int depth, int emb)
{
  const int64_t d = emb, hidden = 4 * emb;
  const double qkv_bound = 1.0 / std::sqrt (static_cast<double> (d));
  for (int i = 0; i < depth; ++i) {
    const std::string p = block_prefix (prefix, i);
    for (const char *m : {"to_q", "to_k", "to_v"})
      w.add (p + ".0.fn." + m + ".weight", at::empty ({d, d}, kFloat).uniform_ (-qkv_bound, qkv_bound), true);
    add_affine (w, p + ".0.fn.to_out", {d, d}, d);
    add_norm (w, p + ".0.norm", d);
    add_affine (w, p + ".1.fn.fn.w1", {hidden, d}, d);
    add_affine (w, p + ".1.fn.fn.w2", {d, hidden}, hidden);
    add_norm (w, p + ".1.norm", d);
  }
}

namespace {

/* The stack in the fused inference form of lat_block.h, or an undefined
 * tensor where that form does not apply. */
at::Tensor
lat_stack_fused (const Weights &w, const std::string &prefix, int depth, int heads, const at::Tensor &x)
{
  std::vector<at::Tensor> stacked_qkv;
  std::vector<LatBlockArrays> blocks;
  bool usable = x.scalar_type () == at::kFloat && x.dim () == 3;
  auto data = [&] (const at::Tensor &t) {
    usable = usable && t.scalar_type () == at::kFloat && t.is_contiguous ();
    return usable ? t.data_ptr<float> () : nullptr;
  };
  for (int i = 0; i < depth; ++i) {
    const std::string p = block_prefix (prefix, i), ff = p + ".1.fn.fn";
    stacked_qkv.push_back (at::cat ({w[p + ".0.fn.to_q.weight"], w[p + ".0.fn.to_k.weight"], w[p + ".0.fn.to_v.weight"]}, 0));
    blocks.push_back ({data (w[p + ".0.norm.weight"]), data (w[p + ".0.norm.bias"]), data (stacked_qkv.back ()),
        data (w[p + ".0.fn.to_out.weight"]), data (w[p + ".0.fn.to_out.bias"]), data (w[p + ".1.norm.weight"]),
        data (w[p + ".1.norm.bias"]), data (w[ff + ".w1.weight"]), data (w[ff + ".w1.bias"]), data (w[ff + ".w2.weight"]),
        data (w[ff + ".w2.bias"]), w[ff + ".w1.weight"].size (0)});
  }
  if (!usable)
    return at::Tensor ();
  at::Tensor h = x.clone (at::MemoryFormat::Contiguous);
  if (!lat_blocks_in_place (onednn_sgemm (), blocks, heads, h.data_ptr<float> (), h.size (0), h.size (1), h.size (2)))
    return at::Tensor ();
  return h;
}

}  // namespace

at::Tensor
lat_stack (const Weights &w, const std::string &prefix, int depth, int heads, const at::Tensor &x, bool training)
{
  if (depth > 0 && !training && !records_gradients ({x, w[block_prefix (prefix, 0) + ".0.fn.to_q.weight"]})) {
    const at::Tensor fused = lat_stack_fused (w, prefix, depth, heads, x);
    if (fused.defined ())
      return fused;
  }
  at::Tensor h = x;
  for (int i = 0; i < depth; ++i)
    h = lat_block (w, block_prefix (prefix, i), heads, h, training);
  return h;
}

/* ---- tokenizer -------------------------------------------------------- */

TokenizerModel::TokenizerModel (const TokenizerConfig &config) : config_ (config)
{
  config_.validate ("tokenizer config");
  const TokenizerConfig &c = config_;
  const int64_t e = c.emb, A = c.agg_channels ();
  Weights &w = weights_;
  add_affine (w, "freq_patch_embedding.0", {e, 1, c.freq_patch}, c.freq_patch);
  add_norm (w, "freq_patch_embedding.2", e);
  add_affine (w, "freq_patch_embedding.3", {e, e, 1}, e);
  add_norm (w, "freq_patch_embedding.5", e);
  add_affine (w, "freq_patch_embedding.6", {e, e, 1}, e);
  add_norm (w, "freq_patch_embedding.8", e);
  add_lat_stack (w, "trans_freq_encoder.transformer", c.freq_depth, c.emb);
  add_affine (w, "temporal_patch_embedding.0", {e, 1, c.geometry.n_fft}, c.geometry.n_fft);
  add_norm (w, "temporal_patch_embedding.2", e);
  add_affine (w, "temporal_patch_embedding.3", {e, e, 1}, e);
  add_norm (w, "temporal_patch_embedding.5", e);
  add_affine (w, "temporal_patch_embedding.6", {e / 2, e, 1}, e);
  add_norm (w, "temporal_patch_embedding.8", e / 2);
  add_affine (w, "freq_patch_embedding_2_atten.0", {A, e, c.freq_patch}, e * c.freq_patch);
  add_affine (w, "freq_patch_embedding_2.0", {A, e, c.freq_patch}, e * c.freq_patch);
  add_lat_stack (w, "trans_temporal_encoder.transformer", c.temporal_depth, c.emb);
  /* The codebook moves only by EMA (no gradient reaches it through the
   * authors' straight-through losses), so it is not an optimiser parameter. */
  const at::Tensor codebook = at::empty ({c.codebook, e}, kFloat).uniform_ (-1.0 / c.codebook, 1.0 / c.codebook);
  w.add ("quantizer.cluster_size", at::zeros ({c.codebook}, kFloat), false);
  w.add ("quantizer.ema_w", codebook.clone (), false);
  w.add ("quantizer.embedding.weight", codebook, false);
  add_lat_stack (w, "trans_decoder.transformer", c.decoder_depth, c.emb);
  add_affine (w, "decoder.0", {e, e}, e);
  add_affine (w, "decoder.2", {c.geometry.bins, e}, e);
}

TokenizerModel
TokenizerModel::load (const std::string &path)
{
  const SafetensorsFile file = SafetensorsFile::open (path);
  TokenizerModel m (TokenizerConfig::from_file (file));
  m.weights_.load_from (file);
  return m;
}

void
TokenizerModel::save (const std::string &path, const std::map<std::string, std::string> &metadata) const
{
  std::map<std::string, std::string> meta = config_.metadata ();
  for (const auto &kv : metadata)
    meta[kv.first] = kv.second;
  weights_.save (path, meta);
}

at::Tensor
TokenizerModel::frequency_features (const at::Tensor &stft) const
{
  const TokenizerConfig &c = config_;
  const Weights &w = weights_;
  const int64_t N = stft.size (0), T = stft.size (2), P = c.freq_patches (), p = c.freq_patch;
  const int64_t groups = c.emb / 4, A = c.agg_channels (), P2 = c.agg_positions ();
  /* Each (window, frame) spectrum cut into P patches of p bins. */
  at::Tensor x = stft.transpose (1, 2).narrow (2, 0, P * p).reshape ({N * T, P, p});
  x = dense (x, w["freq_patch_embedding.0.weight"].view ({c.emb, p}), w["freq_patch_embedding.0.bias"]);
  x = gelu_group_norm (x, groups, w, "freq_patch_embedding.2");
  x = gelu_group_norm (pointwise (x, w, "freq_patch_embedding.3"), groups, w, "freq_patch_embedding.5");
  x = gelu_group_norm (pointwise (x, w, "freq_patch_embedding.6"), groups, w, "freq_patch_embedding.8");
  x = lat_stack (w, "trans_freq_encoder.transformer", c.freq_depth, c.heads, x, training_);
  /* Gated aggregation: value and gate convs (kernel = stride = p over the
   * patch axis) in one product; features flattened channel-major. */
  const at::Tensor groups_of_patches = x.narrow (1, 0, P2 * p).reshape ({N * T, P2, p * c.emb});
  const at::Tensor weight = at::cat ({patch_weight (w["freq_patch_embedding_2.0.weight"]),
      patch_weight (w["freq_patch_embedding_2_atten.0.weight"])}, 0);
  const at::Tensor bias = at::cat ({w["freq_patch_embedding_2.0.bias"], w["freq_patch_embedding_2_atten.0.bias"]}, 0);
  const at::Tensor both = dense (groups_of_patches, weight, bias);
  const at::Tensor u = both.narrow (2, 0, A) * both.narrow (2, A, A).sigmoid ();
  return u.transpose (1, 2).reshape ({N, T, A * P2});
}

at::Tensor
TokenizerModel::temporal_features (const at::Tensor &raw) const
{
  const TokenizerConfig &c = config_;
  const Weights &w = weights_;
  const int64_t groups = c.emb / 4;
  /* Conv1d(1 -> emb, kernel, stride) as a product over the framed signal. */
  at::Tensor x = raw.unfold (1, c.geometry.n_fft, c.geometry.hop);
  x = dense (x, w["temporal_patch_embedding.0.weight"].view ({c.emb, c.geometry.n_fft}), w["temporal_patch_embedding.0.bias"]);
  x = gelu_group_norm (x, groups, w, "temporal_patch_embedding.2");
  x = gelu_group_norm (pointwise (x, w, "temporal_patch_embedding.3"), groups, w, "temporal_patch_embedding.5");
  return gelu_group_norm (pointwise (x, w, "temporal_patch_embedding.6"), groups, w, "temporal_patch_embedding.8");
}

void
TokenizerModel::check_inputs (const at::Tensor &stft, const at::Tensor &raw) const
{
  const TokenizerConfig &c = config_;
  if (stft.dim () != 3 || raw.dim () != 2 || stft.size (0) != raw.size (0) || stft.size (1) < c.geometry.bins ||
      raw.size (1) < c.geometry.n_fft || stft.size (2) != (raw.size (1) - c.geometry.n_fft) / c.geometry.hop + 1 ||
      stft.scalar_type () != at::kFloat || raw.scalar_type () != at::kFloat)
    throw ModelError ("tokenizer: stft must be float (N, " + std::to_string (c.geometry.bins) + ", T) and raw float (N, (T-1)*" +
        std::to_string (c.geometry.hop) + "+" + std::to_string (c.geometry.n_fft) + ")");
}

at::Tensor
TokenizerModel::encode (const at::Tensor &stft, const at::Tensor &raw) const
{
  check_inputs (stft, raw);
  return encode_features (frequency_features (stft), raw);
}

at::Tensor
TokenizerModel::encode_features (const at::Tensor &freq, const at::Tensor &raw) const
{
  const TokenizerConfig &c = config_;
  const at::Tensor x = at::cat ({freq, temporal_features (raw)}, 2);
  const at::Tensor h = lat_stack (weights_, "trans_temporal_encoder.transformer", c.temporal_depth, c.heads, x, training_);
  return h / h.norm (2, {-1}, true).clamp_min (1e-12);
}

at::Tensor
TokenizerModel::code_norms () const
{
  at::NoGradGuard no_grad;
  SerialThreads serial;  /* too small to be worth OpenMP's barriers */
  return weights_["quantizer.embedding.weight"].detach ().pow (2).sum (1).contiguous ();
}

at::Tensor
TokenizerModel::nearest_codes (const at::Tensor &quant_in) const
{
  return nearest_codes (quant_in, code_norms ());
}

at::Tensor
TokenizerModel::nearest_codes (const at::Tensor &quant_in, const at::Tensor &e2) const
{
  /* Rows and codes per distance block: the (rows x codes) float32 block
   * stays in L2 between the product that writes it and the search. */
  constexpr int64_t kRows = 512, kCodes = 512;
  at::NoGradGuard no_grad;
  const at::Tensor E = weights_["quantizer.embedding.weight"].detach ().contiguous ();
  const at::Tensor flat = quant_in.detach ().reshape ({-1, config_.emb}).contiguous ();
  const at::Tensor x2 = flat.pow (2).sum (1).contiguous ();
  const int64_t rows = flat.size (0), K = E.size (0);
  at::Tensor indices = at::empty ({rows}, kLong);
  int64_t *out = indices.data_ptr<int64_t> ();
  const float *ee = e2.data_ptr<float> (), *xx = x2.data_ptr<float> ();
  std::vector<float> best (static_cast<size_t> (std::min (kRows, rows)));
  for (int64_t s = 0; s < rows; s += kRows) {
    const int64_t m = std::min (kRows, rows - s);
    for (int64_t j0 = 0; j0 < K; j0 += kCodes) {
      const int64_t k = std::min (kCodes, K - j0);
      const at::Tensor cross = dense (flat.narrow (0, s, m), E.narrow (0, j0, k), at::Tensor (), -2.0f).contiguous ();
      const float *d = cross.data_ptr<float> ();
      /* (|x|^2 - 2 x.E) + |E|^2 in float32, in that order as the reference
       * (x2 + (-2 x.E) rounds exactly like x2 - 2 x.E); strict < within a
       * block and across the blocks (in ascending order) keeps the lowest
       * index on ties. No distance matrix written back. */
      for (int64_t r = 0; r < m; ++r) {
        const int64_t j = nearest_in_row (xx[s + r], d + r * k, ee + j0, k);
        const float v = (xx[s + r] + d[r * k + j]) + ee[j0 + j];
        if (j0 == 0 || v < best[r]) {
          best[r] = v;
          out[s + r] = j0 + j;
        }
      }
    }
  }
  return indices.view ({quant_in.size (0), quant_in.size (1)});
}

/* Windows per chunk: keeps the per-chunk activations (~3 MB per tensor for
 * 2x2x8) in cache. Windows never interact, so chunking changes no value. */
constexpr int64_t kChunk = 8;

void
TokenizerModel::in_chunks (int64_t N, const std::function<void (int64_t, int64_t)> &run) const
{
  const int64_t chunks = (N + kChunk - 1) / kChunk;
  auto run_chunk = [&] (int64_t chunk) {
    const int64_t s = chunk * kChunk;
    run (s, std::min (kChunk, N - s));
  };
  /* Whole chunks go to separate single-threaded workers: one join per batch
   * instead of one OpenMP barrier per op, which stalls badly whenever the
   * cores are shared with other processes. */
  const int workers = static_cast<int> (std::min<int64_t> (at::get_num_threads (), chunks));
  run_on_workers (workers, [&] (int w) {
    for (int64_t c = w; c < chunks; c += workers)
      run_chunk (c);
  });
}

at::Tensor
TokenizerModel::tokenize (const at::Tensor &stft, const at::Tensor &raw, at::Tensor *quant_in) const
{
  check_inputs (stft, raw);
  const int64_t N = stft.size (0), T = stft.size (2);
  at::Tensor tokens = at::empty ({N, T}, kLong);
  at::Tensor q = quant_in ? at::empty ({N, T, config_.emb}, kFloat) : at::Tensor ();
  const at::Tensor e2 = code_norms ();
  in_chunks (N, [&] (int64_t s, int64_t m) {
    const at::Tensor qi = encode (stft.narrow (0, s, m), raw.narrow (0, s, m));
    tokens.narrow (0, s, m).copy_ (nearest_codes (qi, e2));
    if (quant_in)
      q.narrow (0, s, m).copy_ (qi);
  });
  if (quant_in)
    *quant_in = q;
  return tokens;
}

at::Tensor
TokenizerModel::tokenize_features (const at::Tensor &freq, const at::Tensor &raw) const
{
  const TokenizerConfig &c = config_;
  const int64_t N = raw.size (0), T = c.frames (static_cast<int> (raw.size (1)));
  if (freq.dim () != 3 || freq.size (0) != N || freq.size (1) != T ||
      freq.size (2) != c.agg_channels () * c.agg_positions () || freq.scalar_type () != at::kFloat)
    throw ModelError ("tokenizer: frequency features must be float (N, T, " +
        std::to_string (c.agg_channels () * c.agg_positions ()) + ") for raw (N, (T-1)*" +
        std::to_string (c.geometry.hop) + "+" + std::to_string (c.geometry.n_fft) + ")");
  at::Tensor tokens = at::empty ({N, T}, kLong);
  const at::Tensor e2 = code_norms ();
  in_chunks (N, [&] (int64_t s, int64_t m) {
    tokens.narrow (0, s, m).copy_ (nearest_codes (encode_features (freq.narrow (0, s, m), raw.narrow (0, s, m)), e2));
  });
  return tokens;
}

VQResult
TokenizerModel::quantize (const at::Tensor &quant_in)
{
  VQResult r;
  r.indices = nearest_codes (quant_in);
  at::Tensor E = weights_["quantizer.embedding.weight"];  /* shares storage: EMA updates in place */
  const at::Tensor codes = at::embedding (E.detach (), r.indices);
  if (training_) {
    at::NoGradGuard no_grad;
    const int64_t K = config_.codebook;
    const at::Tensor flat = quant_in.detach ().reshape ({-1, config_.emb});
    const at::Tensor idx = r.indices.reshape ({-1});
    const at::Tensor counts = at::zeros ({K}, kFloat).index_add_ (0, idx, at::ones ({idx.size (0)}, kFloat));
    const at::Tensor dw = at::zeros ({K, config_.emb}, kFloat).index_add_ (0, idx, flat);
    at::Tensor cluster = weights_["quantizer.cluster_size"], ema = weights_["quantizer.ema_w"];
    cluster.mul_ (config_.decay).add_ (counts, 1.0 - config_.decay);
    ema.mul_ (config_.decay).add_ (dw, 1.0 - config_.decay);
    const at::Tensor n = cluster.sum ();
    const at::Tensor smoothed = (cluster + kEmaEps) / (n + K * kEmaEps) * n;
    E.copy_ (ema / smoothed.unsqueeze (1));
  }
  /* The authors take both losses from the straight-through output, so both
   * pull the encoder towards its codes. */
  r.quant_out = quant_in + (codes - quant_in).detach ();
  r.commitment_loss = (r.quant_out.detach () - quant_in).pow (2).mean ();
  r.codebook_loss = (r.quant_out - quant_in.detach ()).pow (2).mean ();
  r.loss = r.codebook_loss + config_.beta * r.commitment_loss;
  return r;
}

at::Tensor
TokenizerModel::decode (const at::Tensor &quant) const
{
  const Weights &w = weights_;
  const at::Tensor h = lat_stack (w, "trans_decoder.transformer", config_.decoder_depth, config_.heads, quant, training_);
  const at::Tensor y = dense (dense (h, w["decoder.0.weight"], w["decoder.0.bias"]).tanh (),
      w["decoder.2.weight"], w["decoder.2.bias"]);
  return y.permute ({0, 2, 1});
}

TokenizerOutput
TokenizerModel::forward (const at::Tensor &stft, const at::Tensor &raw)
{
  TokenizerOutput out;
  out.quant_in = encode (stft, raw);
  out.vq = quantize (out.quant_in);
  out.indices = out.vq.indices;
  out.recon = decode (out.vq.quant_out);
  return out;
}

/* ---- classifier ------------------------------------------------------- */

ClassifierModel::ClassifierModel (const ClassifierConfig &config) : config_ (config)
{
  config_.validate ("classifier config");
  const ClassifierConfig &c = config_;
  const int64_t e = c.emb;
  Weights &w = weights_;
  w.add ("index", at::arange (c.channels, kLong), false);
  w.add ("cls_token", at::zeros ({1, 1, e}, kFloat), true);
  w.add ("eeg_token_embedding.weight", at::empty ({c.vocabulary + 1, e}, kFloat).normal_ (), true);
  w.add ("channel_embed.weight", at::empty ({c.channels, e}, kFloat).normal_ (), true);
  /* Sinusoidal table: sin at even features, cos at odd, frequency
   * exp(-2k ln(10000) / emb), computed in float32 like the authors. */
  const at::Tensor position = at::arange (c.max_frames, kFloat).unsqueeze (1);
  const at::Tensor freq = (at::arange (0, e, 2, kFloat) * (-std::log (10000.0) / e)).exp ();
  at::Tensor pe = at::zeros ({c.max_frames, e}, kFloat);
  pe.slice (1, 0, e, 2).copy_ ((position * freq).sin ());
  pe.slice (1, 1, e, 2).copy_ ((position * freq).cos ());
  w.add ("temporal_pos_embed.pe", pe.unsqueeze (0), false);
  add_lat_stack (w, "LAT", c.depth, c.emb);
  add_affine (w, "classification_head", {c.classes, e}, e);
}

ClassifierModel
ClassifierModel::load (const std::string &path)
{
  const SafetensorsFile file = SafetensorsFile::open (path);
  ClassifierModel m (ClassifierConfig::from_file (file));
  m.weights_.load_from (file);
  return m;
}

void
ClassifierModel::save (const std::string &path, const std::map<std::string, std::string> &metadata) const
{
  std::map<std::string, std::string> meta = config_.metadata ();
  for (const auto &kv : metadata)
    meta[kv.first] = kv.second;
  weights_.save (path, meta);
}

at::Tensor
ClassifierModel::sequence (const at::Tensor &tokens) const
{
  const ClassifierConfig &c = config_;
  const Weights &w = weights_;
  if (tokens.dim () != 3 || tokens.size (1) > c.channels || tokens.size (2) > c.max_frames)
    throw ModelError ("classifier: tokens must be (B, C <= " + std::to_string (c.channels) + ", T <= " +
        std::to_string (c.max_frames) + ")");
  const int64_t B = tokens.size (0), C = tokens.size (1), T = tokens.size (2), e = c.emb;
  const at::Tensor channel = at::embedding (w["channel_embed.weight"], w["index"].narrow (0, 0, C));
  at::Tensor x = (at::embedding (w["eeg_token_embedding.weight"], tokens) + channel.view ({1, C, 1, e})) +
      w["temporal_pos_embed.pe"].narrow (1, 0, T).view ({1, 1, T, e});
  x = at::dropout (x, kPosDropout, training_).reshape ({B, C * T, e});
  x = at::cat ({w["cls_token"].expand ({B, 1, e}), x}, 1);
  return lat_stack (w, "LAT", c.depth, c.heads, x, training_);
}

at::Tensor
ClassifierModel::head (const at::Tensor &x) const
{
  return dense (x, weights_["classification_head.weight"], weights_["classification_head.bias"]);
}

at::Tensor
ClassifierModel::forward (const at::Tensor &tokens) const
{
  return head (sequence (tokens).select (1, 0));
}

}  // namespace tfm
}  // namespace neuro
