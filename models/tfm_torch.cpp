/* The TFM tokenizer and classifier as ATen ops (reference/TFM_ARCHITECTURE.md).
 *
 * Layout choice: every stage works sequence-major, (batch, length, channels),
 * so the kernel-1 convolutions and the patch convolutions become plain
 * matrix products over contiguous rows, and the GroupNorms are computed on
 * that layout directly instead of transposing back and forth. */
#include "tfm_torch.h"

#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/addmm.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/bmm.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/dropout.h>
#include <ATen/ops/embedding.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/var_mean.h>
#include <ATen/ops/zeros.h>

#include <cmath>
#include <cstring>

namespace neuro {
namespace tfm {

namespace {

constexpr double kNormEps = 1e-5;       /* LayerNorm and GroupNorm */
constexpr double kAttnDropout = 0.2;    /* after each attention output projection */
constexpr double kPosDropout = 0.1;     /* classifier PositionalEncoding */
constexpr double kEmaEps = 1e-5;        /* Laplace smoothing of EMA cluster sizes */

const at::TensorOptions kFloat = at::TensorOptions ().dtype (at::kFloat);
const at::TensorOptions kLong = at::TensorOptions ().dtype (at::kLong);

[[noreturn]] void
fail (const std::string &where, const std::string &what)
{
  throw ModelError (where + ": " + what);
}

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

/* GroupNorm on a (B, L, C) tensor: statistics over (C/groups channels x L). */
at::Tensor
group_norm_seq (const at::Tensor &x, int64_t groups, const at::Tensor &weight, const at::Tensor &bias)
{
  const int64_t B = x.size (0), L = x.size (1), C = x.size (2), g = C / groups;
  const at::Tensor xv = x.reshape ({B, L, groups, g});
  auto stats = at::var_mean (xv, at::IntArrayRef{1, 3}, /*unbiased=*/false, /*keepdim=*/true);
  const at::Tensor scale = (std::get<0> (stats) + kNormEps).rsqrt () * weight.view ({1, 1, groups, g});
  const at::Tensor shift = bias.view ({1, 1, groups, g}) - std::get<1> (stats) * scale;
  return (xv * scale + shift).view ({B, L, C});
}

at::Tensor
gelu_group_norm (const at::Tensor &x, int64_t groups, const Weights &w, const std::string &norm)
{
  return group_norm_seq (at::gelu (x), groups, w[norm + ".weight"], w[norm + ".bias"]);
}

/* Pointwise (kernel 1) conv on (B, L, C): its (out, in, 1) weight as a Linear. */
at::Tensor
pointwise (const at::Tensor &x, const Weights &w, const std::string &conv)
{
  const at::Tensor &weight = w[conv + ".weight"];
  return at::linear (x, weight.view ({weight.size (0), weight.size (1)}), w[conv + ".bias"]);
}

/* Block-diagonal 0/1 mask keeping each head's (e x e) block of a (d x d)
 * matrix: lets one (d x d) k^T v product per sequence replace a per-head
 * loop or a head-major copy. Off-block entries are exact zeros, so the
 * result equals the per-head computation. */
at::Tensor
head_mask (int64_t d, int64_t heads)
{
  const int64_t e = d / heads;
  at::Tensor m = at::zeros ({d, d}, kFloat);
  for (int64_t h = 0; h < heads; ++h)
    m.narrow (0, h * e, e).narrow (1, h * e, e).fill_ (1.0);
  return m;
}

at::Tensor
linear_attention (const Weights &w, const std::string &p, int heads, const at::Tensor &a, const at::Tensor &mask)
{
  const int64_t B = a.size (0), n = a.size (1), d = a.size (2), e = d / heads;
  const at::Tensor wqkv = at::cat ({w[p + ".to_q.weight"], w[p + ".to_k.weight"], w[p + ".to_v.weight"]}, 0);
  const at::Tensor qkv = at::linear (a, wqkv);
  /* q: softmax over each head's features, then the head-width scale. */
  const at::Tensor q = qkv.narrow (2, 0, d).reshape ({B, n, heads, e}).softmax (-1).mul (std::pow (e, -0.5)).view ({B, n, d});
  /* k: softmax over the sequence, per feature (heads do not matter here). */
  const at::Tensor k = qkv.narrow (2, d, d).softmax (1);
  const at::Tensor v = qkv.narrow (2, 2 * d, d);
  const at::Tensor ctx = at::bmm (k.transpose (1, 2), v) * mask;
  return at::linear (at::bmm (q, ctx), w[p + ".to_out.weight"], w[p + ".to_out.bias"]);
}

at::Tensor
lat_block (const Weights &w, const std::string &p, int heads, const at::Tensor &x, const at::Tensor &mask, bool training)
{
  const int64_t d = x.size (2);
  const at::Tensor a = at::layer_norm (x, {d}, w[p + ".0.norm.weight"], w[p + ".0.norm.bias"], kNormEps);
  const at::Tensor y = at::dropout (linear_attention (w, p + ".0.fn", heads, a, mask), kAttnDropout, training);
  const at::Tensor x1 = x + y;
  const at::Tensor b = at::layer_norm (x1, {d}, w[p + ".1.norm.weight"], w[p + ".1.norm.bias"], kNormEps);
  const std::string ff = p + ".1.fn.fn";
  const at::Tensor hidden = at::gelu (at::linear (b, w[ff + ".w1.weight"], w[ff + ".w1.bias"]));
  return x1 + at::linear (hidden, w[ff + ".w2.weight"], w[ff + ".w2.bias"]);
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

void
put_int (std::map<std::string, std::string> &m, const char *key, int v)
{
  m[key] = std::to_string (v);
}

}  // namespace

/* ---- configs ---------------------------------------------------------- */

void
TokenizerConfig::validate (const std::string &where) const
{
  if (emb <= 0 || heads <= 0 || emb % heads != 0)
    fail (where, "embedding-size " + std::to_string (emb) + " is not a multiple of heads " + std::to_string (heads));
  if (emb % 8 != 0)
    fail (where, "embedding-size must be a multiple of 8 (GroupNorm groups of emb/4 over emb/2 channels)");
  if (freq_patch <= 0 || bins < freq_patch * freq_patch)
    fail (where, "bins (" + std::to_string (bins) + ") must be at least freq-patch^2 (" +
        std::to_string (freq_patch * freq_patch) + ")");
  if (agg_channels () <= 0 || agg_channels () * agg_positions () != emb / 2)
    fail (where, "frequency features (" + std::to_string (agg_channels ()) + " x " + std::to_string (agg_positions ()) +
        ") must equal embedding-size/2 = " + std::to_string (emb / 2) + "; choose bins/freq-patch accordingly");
  if (kernel <= 0 || stride <= 0 || codebook <= 0 || freq_depth < 0 || temporal_depth < 0 || decoder_depth < 0)
    fail (where, "n-fft, hop, vocabulary must be positive and depths non-negative");
}

TokenizerConfig
TokenizerConfig::from_file (const SafetensorsFile &file)
{
  TokenizerConfig c;
  c.emb = metadata_int (file, "embedding-size", c.emb);
  c.heads = metadata_int (file, "heads", c.heads);
  c.freq_depth = metadata_int (file, "freq-depth", c.freq_depth);
  c.temporal_depth = metadata_int (file, "temporal-depth", c.temporal_depth);
  c.decoder_depth = metadata_int (file, "decoder-depth", c.decoder_depth);
  c.codebook = metadata_int (file, "vocabulary", c.codebook);
  c.bins = metadata_int (file, "bins", c.bins);
  c.freq_patch = metadata_int (file, "freq-patch", c.freq_patch);
  c.kernel = metadata_int (file, "n-fft", c.kernel);
  c.stride = metadata_int (file, "hop", c.stride);
  c.validate ("model file '" + file.path () + "'");
  return c;
}

std::map<std::string, std::string>
TokenizerConfig::metadata () const
{
  std::map<std::string, std::string> m;
  m["architecture"] = "tfm-tokenizer";
  put_int (m, "embedding-size", emb);
  put_int (m, "heads", heads);
  put_int (m, "freq-depth", freq_depth);
  put_int (m, "temporal-depth", temporal_depth);
  put_int (m, "decoder-depth", decoder_depth);
  put_int (m, "vocabulary", codebook);
  put_int (m, "bins", bins);
  put_int (m, "freq-patch", freq_patch);
  put_int (m, "n-fft", kernel);
  put_int (m, "hop", stride);
  return m;
}

void
ClassifierConfig::validate (const std::string &where) const
{
  if (emb <= 0 || heads <= 0 || emb % heads != 0)
    fail (where, "embedding-size " + std::to_string (emb) + " is not a multiple of heads " + std::to_string (heads));
  if (depth < 0 || vocabulary <= 0 || channels <= 0 || max_frames <= 0 || classes <= 0)
    fail (where, "depth, vocabulary, channels, frames and classes must be positive");
}

ClassifierConfig
ClassifierConfig::from_file (const SafetensorsFile &file)
{
  const std::string where = "model file '" + file.path () + "'";
  ClassifierConfig c;
  c.emb = metadata_int (file, "embedding-size", c.emb);
  c.heads = metadata_int (file, "heads", c.heads);
  c.depth = metadata_int (file, "depth", c.depth);
  c.vocabulary = metadata_int (file, "vocabulary", c.vocabulary);
  const auto rows = [&] (const char *name, size_t dim) -> int {
    const TensorEntry &e = file.entry (name);
    if (e.shape.size () <= dim)
      fail (where, std::string ("tensor '") + name + "' has shape " + shape_string (e.shape));
    return static_cast<int> (e.shape[dim]);
  };
  c.channels = rows ("channel_embed.weight", 0);
  c.max_frames = rows ("temporal_pos_embed.pe", 1);
  c.classes = rows ("classification_head.weight", 0);
  c.validate (where);
  return c;
}

std::map<std::string, std::string>
ClassifierConfig::metadata () const
{
  std::map<std::string, std::string> m;
  m["architecture"] = "tfm-encoder";
  put_int (m, "embedding-size", emb);
  put_int (m, "heads", heads);
  put_int (m, "depth", depth);
  put_int (m, "vocabulary", vocabulary);
  return m;
}

/* ---- weights ---------------------------------------------------------- */

void
Weights::add (const std::string &name, const at::Tensor &t, bool trainable)
{
  index_[name] = tensors_.size ();
  tensors_.emplace_back (name, trainable ? t.set_requires_grad (true) : t);
  trainable_.push_back (trainable);
}

const at::Tensor &
Weights::operator[] (const std::string &name) const
{
  auto it = index_.find (name);
  if (it == index_.end ())
    throw ModelError ("internal: no tensor named '" + name + "'");
  return tensors_[it->second].second;
}

std::vector<at::Tensor>
Weights::parameters () const
{
  std::vector<at::Tensor> out;
  for (size_t i = 0; i < tensors_.size (); ++i)
    if (trainable_[i])
      out.push_back (tensors_[i].second);
  return out;
}

std::vector<std::string>
Weights::names () const
{
  std::vector<std::string> out;
  for (const auto &t : tensors_)
    out.push_back (t.first);
  return out;
}

void
Weights::load_from (const SafetensorsFile &file)
{
  file.require_names (names ());
  at::NoGradGuard no_grad;
  for (auto &[name, t] : tensors_) {
    file.require_shape (name, Shape (t.sizes ().begin (), t.sizes ().end ()));
    if (t.scalar_type () == at::kLong) {
      const std::vector<int64_t> v = file.ints (name);
      std::memcpy (t.data_ptr<int64_t> (), v.data (), v.size () * sizeof (int64_t));
    } else {
      const std::vector<float> v = file.floats (name);
      std::memcpy (t.data_ptr<float> (), v.data (), v.size () * sizeof (float));
    }
  }
}

void
Weights::save (const std::string &path, const std::map<std::string, std::string> &metadata) const
{
  std::vector<at::Tensor> keep;  /* contiguous copies alive until written */
  std::vector<TensorData> out;
  for (const auto &[name, t] : tensors_) {
    keep.push_back (t.detach ().contiguous ());
    const bool is_long = t.scalar_type () == at::kLong;
    out.push_back ({name, is_long ? DType::I64 : DType::F32, Shape (t.sizes ().begin (), t.sizes ().end ()),
        keep.back ().data_ptr ()});
  }
  write_safetensors (path, out, metadata);
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

at::Tensor
lat_stack (const Weights &w, const std::string &prefix, int depth, int heads, const at::Tensor &x, bool training)
{
  const at::Tensor mask = head_mask (x.size (2), heads);
  at::Tensor h = x;
  for (int i = 0; i < depth; ++i)
    h = lat_block (w, block_prefix (prefix, i), heads, h, mask, training);
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
  add_affine (w, "temporal_patch_embedding.0", {e, 1, c.kernel}, c.kernel);
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
  add_affine (w, "decoder.2", {c.bins, e}, e);
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
  x = at::linear (x, w["freq_patch_embedding.0.weight"].view ({c.emb, p}), w["freq_patch_embedding.0.bias"]);
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
  const at::Tensor both = at::linear (groups_of_patches, weight, bias);
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
  at::Tensor x = raw.unfold (1, c.kernel, c.stride);
  x = at::linear (x, w["temporal_patch_embedding.0.weight"].view ({c.emb, c.kernel}), w["temporal_patch_embedding.0.bias"]);
  x = gelu_group_norm (x, groups, w, "temporal_patch_embedding.2");
  x = gelu_group_norm (pointwise (x, w, "temporal_patch_embedding.3"), groups, w, "temporal_patch_embedding.5");
  return gelu_group_norm (pointwise (x, w, "temporal_patch_embedding.6"), groups, w, "temporal_patch_embedding.8");
}

at::Tensor
TokenizerModel::encode (const at::Tensor &stft, const at::Tensor &raw) const
{
  const TokenizerConfig &c = config_;
  if (stft.dim () != 3 || raw.dim () != 2 || stft.size (0) != raw.size (0) || stft.size (1) < c.bins ||
      raw.size (1) < c.kernel || stft.size (2) != (raw.size (1) - c.kernel) / c.stride + 1)
    fail ("tokenizer", "stft must be (N, " + std::to_string (c.bins) + ", T) and raw (N, (T-1)*" +
        std::to_string (c.stride) + "+" + std::to_string (c.kernel) + ")");
  const at::Tensor x = at::cat ({frequency_features (stft), temporal_features (raw)}, 2);
  const at::Tensor h = lat_stack (weights_, "trans_temporal_encoder.transformer", c.temporal_depth, c.heads, x, training_);
  return h / h.norm (2, {-1}, true).clamp_min (1e-12);
}

at::Tensor
TokenizerModel::nearest_codes (const at::Tensor &quant_in) const
{
  /* Rows per distance block: bounds the (rows x codebook) float32 matrix. */
  constexpr int64_t kRows = 512;
  at::NoGradGuard no_grad;
  const at::Tensor &E = weights_["quantizer.embedding.weight"];
  const at::Tensor flat = quant_in.detach ().reshape ({-1, config_.emb});
  const at::Tensor e2 = E.pow (2).sum (1);
  const at::Tensor Et = E.t ();
  at::Tensor indices = at::empty ({flat.size (0)}, kLong);
  for (int64_t s = 0; s < flat.size (0); s += kRows) {
    const at::Tensor xc = flat.narrow (0, s, std::min (kRows, flat.size (0) - s));
    /* (|x|^2 - 2 x.E) + |E|^2, in that order, as the reference. */
    at::Tensor dist = at::addmm (xc.pow (2).sum (1, true), xc, Et, 1.0, -2.0);
    dist.add_ (e2);
    indices.narrow (0, s, xc.size (0)).copy_ (dist.argmin (1));
  }
  return indices.view ({quant_in.size (0), quant_in.size (1)});
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
  const at::Tensor y = at::linear (at::linear (h, w["decoder.0.weight"], w["decoder.0.bias"]).tanh (),
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
    fail ("classifier", "tokens must be (B, C <= " + std::to_string (c.channels) + ", T <= " +
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
  return at::linear (x, weights_["classification_head.weight"], weights_["classification_head.bias"]);
}

at::Tensor
ClassifierModel::forward (const at::Tensor &tokens) const
{
  return head (sequence (tokens).select (1, 0));
}

}  // namespace tfm
}  // namespace neuro
