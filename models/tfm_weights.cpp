// SPDX-License-Identifier: LGPL-2.1-or-later
/* What a model file holds: the hyper-parameters (safetensors metadata) and
 * the named tensors of both model kinds, read and written through
 * safetensors.h. */
#include "tfm_torch.h"

#include <ATen/core/grad_mode.h>

#include <cstring>
#include <stdexcept>

namespace neuro {
namespace tfm {

namespace {


[[noreturn]] void
fail (const std::string &where, const std::string &what)
{
  throw ModelError (where + ": " + what);
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
  if (freq_patch <= 0 || geometry.bins < freq_patch * freq_patch)
    fail (where, "bins (" + std::to_string (geometry.bins) + ") must be at least freq-patch^2 (" +
        std::to_string (freq_patch * freq_patch) + ")");
  if (agg_channels () <= 0 || agg_channels () * agg_positions () != emb / 2)
    fail (where, "frequency features (" + std::to_string (agg_channels ()) + " x " + std::to_string (agg_positions ()) +
        ") must equal embedding-size/2 = " + std::to_string (emb / 2) + "; choose bins/freq-patch accordingly");
  if (geometry.n_fft <= 0 || geometry.hop <= 0 || codebook <= 0 || freq_depth < 0 || temporal_depth < 0 || decoder_depth < 0)
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
  c.freq_patch = metadata_int (file, "freq-patch", c.freq_patch);
  try {
    c.geometry = WindowGeometry::from_metadata (file.metadata ());
  } catch (const std::invalid_argument &e) {
    fail ("model file '" + file.path () + "'", e.what ());
  }
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
  put_int (m, "freq-patch", freq_patch);
  geometry.write_metadata (m);
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

}  // namespace tfm
}  // namespace neuro
