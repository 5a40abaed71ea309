// SPDX-License-Identifier: LGPL-2.1-or-later
/* tfm_models.h on top of the LibTorch models of tfm_torch.h. */
#include "tfm_models.h"

#include "safetensors.h"
#include "tfm_torch.h"

#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>


namespace neuro {

namespace {

[[noreturn]] void
fail (const std::string &path, const std::string &what)
{
  throw ModelError ("model file '" + path + "': " + what);
}

void
require_architecture (const ModelInfo &info, const std::string &want, const char *role)
{
  if (info.architecture != want)
    fail (info.path, "architecture '" + info.architecture + "' cannot be used as a " + role + " (needs '" + want + "')");
}

class TorchTokenizer : public Tokenizer {
 public:
  TorchTokenizer (ModelInfo info, tfm::TokenizerModel model) : info_ (std::move (info)), model_ (std::move (model)) {}

  const ModelInfo &info () const override { return info_; }

  void tokenize (const float *stft, const float *raw, int n, uint32_t *tokens) override
  {
    c10::InferenceMode guard;
    copy_codes (model_.tokenize (input (stft, info_.geometry.bins, n), input (raw, 0, n)), tokens);
  }

  int frame_feature_size () const override
  {
    return model_.config ().agg_channels () * model_.config ().agg_positions ();
  }

  /* A few frames per call (the newest of a window): too small to spread over
   * threads, so it runs here alone. */
  void frame_features (const float *spectra, int n, float *features) override
  {
    c10::InferenceMode guard;
    tfm::SerialThreads serial;
    const at::Tensor x = at::from_blob (const_cast<float *> (spectra), {count (n), info_.geometry.bins, 1}, at::kFloat);
    const at::Tensor f = model_.frequency_features (x).contiguous ();
    std::memcpy (features, f.data_ptr<float> (), sizeof (float) * f.numel ());
  }

  void tokenize_with_features (const float *features, const float *raw, int n, uint32_t *tokens) override
  {
    c10::InferenceMode guard;
    const at::Tensor freq = at::from_blob (const_cast<float *> (features),
        {count (n), info_.geometry.frames_per_window (), frame_feature_size ()}, at::kFloat);
    copy_codes (model_.tokenize_features (freq, input (raw, 0, n)), tokens);
  }

  std::vector<float> quantizer_input (const float *stft, const float *raw, int n) override
  {
    c10::InferenceMode guard;
    at::Tensor q;
    model_.tokenize (input (stft, info_.geometry.bins, n), input (raw, 0, n), &q);
    return std::vector<float> (q.data_ptr<float> (), q.data_ptr<float> () + q.numel ());
  }

 private:
  ModelInfo info_;
  tfm::TokenizerModel model_;

  int64_t count (int n) const
  {
    if (n <= 0)
      throw ModelError ("tokenizer '" + info_.id + "': window count must be positive");
    return n;
  }

  static void copy_codes (const at::Tensor &codes, uint32_t *tokens)
  {
    const int64_t *src = codes.data_ptr<int64_t> ();
    for (int64_t i = 0; i < codes.numel (); ++i)
      tokens[i] = static_cast<uint32_t> (src[i]);
  }

  /* n x bins x T spectra (bins > 0) or n x window_samples signals, wrapped
   * without copying; the model only reads them. */
  at::Tensor input (const float *data, int bins, int n) const
  {
    count (n);
    if (bins > 0)
      return at::from_blob (const_cast<float *> (data), {n, bins, info_.geometry.frames_per_window ()}, at::kFloat);
    return at::from_blob (const_cast<float *> (data), {n, info_.geometry.window_samples}, at::kFloat);
  }
};

class TorchClassifier : public Classifier {
 public:
  TorchClassifier (ModelInfo info, tfm::ClassifierModel model) : info_ (std::move (info)), model_ (std::move (model)) {}

  const ModelInfo &info () const override { return info_; }
  int num_classes () const override { return model_.config ().classes; }
  int max_channels () const override { return model_.config ().channels; }
  int max_frames () const override { return model_.config ().max_frames; }

  std::vector<float> logits (const uint32_t *tokens, int channels, int frames) override
  {
    const int vocabulary = model_.config ().vocabulary;
    if (channels <= 0 || channels > max_channels () || frames <= 0 || frames > max_frames ())
      throw ModelError ("classifier '" + info_.id + "': " + std::to_string (channels) + " channels x " +
          std::to_string (frames) + " frames is outside 1.." + std::to_string (max_channels ()) + " x 1.." +
          std::to_string (max_frames ()));
    c10::InferenceMode guard;
    /* One 305-token sequence: too small to gain from threads, and OpenMP
     * barriers stall when the cores are busy elsewhere. */
    tfm::SerialThreads serial;
    at::Tensor t = at::empty ({1, channels, frames}, at::kLong);
    int64_t *dst = t.data_ptr<int64_t> ();
    for (int64_t i = 0; i < t.numel (); ++i) {
      if (tokens[i] > static_cast<uint32_t> (vocabulary))  /* id == vocabulary is [MASK] */
        throw ModelError ("classifier '" + info_.id + "': token id " + std::to_string (tokens[i]) +
            " is outside the vocabulary 0.." + std::to_string (vocabulary));
      dst[i] = tokens[i];
    }
    const at::Tensor out = model_.forward (t).contiguous ();
    return std::vector<float> (out.data_ptr<float> (), out.data_ptr<float> () + out.numel ());
  }

 private:
  ModelInfo info_;
  tfm::ClassifierModel model_;
};

std::vector<std::string>
default_labels (int classes)
{
  std::vector<std::string> labels;
  for (int i = 0; i < std::max (classes, 2); ++i)
    labels.push_back (std::to_string (i));
  return labels;
}

}  // namespace

std::unique_ptr<Tokenizer>
Tokenizer::load (const std::string &path)
{
  const SafetensorsFile file = SafetensorsFile::open (path);
  ModelInfo info = read_model_info (file);
  require_architecture (info, "tfm-tokenizer", "tokenizer");
  tfm::TokenizerModel model (tfm::TokenizerConfig::from_file (file));
  model.weights ().load_from (file);
  return std::make_unique<TorchTokenizer> (std::move (info), std::move (model));
}

std::unique_ptr<Classifier>
Classifier::load (const std::string &path)
{
  const SafetensorsFile file = SafetensorsFile::open (path);
  ModelInfo info = read_model_info (file);
  require_architecture (info, "tfm-encoder", "classifier");
  tfm::ClassifierModel model (tfm::ClassifierConfig::from_file (file));
  model.weights ().load_from (file);
  const int classes = model.config ().classes;
  info.vocabulary = model.config ().vocabulary;
  if (info.labels.empty ())
    info.labels = default_labels (classes);
  if (static_cast<int> (info.labels.size ()) != std::max (classes, 2))
    fail (path, "metadata 'labels' lists " + std::to_string (info.labels.size ()) + " labels but the head has " +
        std::to_string (classes) + (classes == 1 ? " output (binary: give 2 labels)" : " outputs"));
  return std::make_unique<TorchClassifier> (std::move (info), std::move (model));
}

std::vector<double>
Classifier::probabilities (const std::vector<float> &logits) const
{
  if (logits.size () == 1) {
    const double p = 1.0 / (1.0 + std::exp (-static_cast<double> (logits[0])));
    return {1.0 - p, p};
  }
  double top = -INFINITY, sum = 0.0;
  for (float l : logits)
    top = std::max (top, static_cast<double> (l));
  std::vector<double> p;
  for (float l : logits) {
    p.push_back (std::exp (l - top));
    sum += p.back ();
  }
  for (double &v : p)
    v /= sum;
  return p;
}

void
set_model_threads (int threads)
{
  if (threads > 0)
    at::set_num_threads (threads);
}

std::string
default_model_dir ()
{
  /* The build tree (meson devenv, the tests) points the variable at the
   * source tree's models/; an installed plugin needs nothing. */
  const char *env = std::getenv ("NEUROTOKENS_MODEL_DIR");
  if (env && *env)
    return env;
  return NEUROTOKENS_INSTALL_MODEL_DIR;
}

}  // namespace neuro
