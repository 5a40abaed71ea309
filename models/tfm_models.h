// SPDX-License-Identifier: LGPL-2.1-or-later
/* Public, LibTorch-free interface of the model library.
 *
 * Elements, tools and tests include only this header; LibTorch stays inside
 * the models/ sources so that element files compile in seconds. */
#pragma once

#include <cstdint>
#include <stdexcept>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "geometry.h"

namespace neuro {

/* What a model file says about itself (safetensors __metadata__), with the
 * authors' defaults filled in for absent keys (docs/formats.md, "Model files"). */
struct ModelInfo {
  std::string path;
  std::string architecture;       /* "tfm-tokenizer" or "tfm-encoder" */
  std::string modality = "eeg";
  std::string id;                 /* identifier written into caps and recordings */
  WindowGeometry geometry;        /* rate, n-fft, hop, bins, window-samples (channels 0) */
  int vocabulary = 8192;
  std::vector<std::string> labels;    /* classifiers */
  std::vector<std::string> channels;  /* classifiers: expected channel names */
  std::map<std::string, std::string> metadata;  /* everything, verbatim */
};

/* Thrown for unreadable, malformed or mismatching model files; what() names
 * the file and the problem in words a user can act on. */
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/* The TFM-Tokenizer, encoder side (docs/architecture.md, "Tokenizer"). */
class Tokenizer {
 public:
  static std::unique_ptr<Tokenizer> load (const std::string &path);  /* throws ModelError */
  virtual ~Tokenizer () = default;

  virtual const ModelInfo &info () const = 0;

  /* Tokenizes n single-channel windows in one batch.
   *   stft:   n x bins x T magnitudes (T = info().geometry.frames_per_window()), row-major
   *   raw:    n x window_samples samples (the same, already normalised, signal)
   *   tokens: n x T output token ids
   * Runs under inference mode; chunks of 8 windows are spread over as many
   * worker threads as the calling thread's LibTorch thread count
   * (set_model_threads). Throws ModelError for n <= 0. */
  virtual void tokenize (const float *stft, const float *raw, int n, uint32_t *tokens) = 0;

  /* The frequency branch works on one frame at a time, so windows that share
   * frames (overlapping windows whose spectra are not rescaled per window)
   * can share its output; FrameSharingTokenizer (frame_sharing.h) does.
   *   frame_feature_size(): F, outputs per frame (32 for the authors' 2x2x8)
   *   frame_features():     spectra n x bins (one frame each) -> n x F
   *   tokenize_with_features(): tokenize() with features n x T x F given
   *                         instead of the spectra (same threads, same codes) */
  virtual int frame_feature_size () const = 0;
  virtual void frame_features (const float *spectra, int n, float *features) = 0;
  virtual void tokenize_with_features (const float *features, const float *raw, int n, uint32_t *tokens) = 0;

  /* The quantiser input (n x T x 64, L2-normalised) for parity tests. */
  virtual std::vector<float> quantizer_input (const float *stft, const float *raw, int n) = 0;
};

/* The TFM-Encoder classifier (docs/architecture.md, "Classifier"). */
class Classifier {
 public:
  static std::unique_ptr<Classifier> load (const std::string &path);  /* throws ModelError */
  virtual ~Classifier () = default;

  virtual const ModelInfo &info () const = 0;
  virtual int num_classes () const = 0;   /* 1 for a binary (sigmoid) model */
  virtual int max_channels () const = 0;  /* rows of the channel embedding */
  virtual int max_frames () const = 0;    /* rows of the positional table */

  /* Raw logits for one window of tokens, channel-major: tokens[c * frames + t].
   * Throws ModelError for token ids outside the vocabulary or too many channels. */
  virtual std::vector<float> logits (const uint32_t *tokens, int channels, int frames) = 0;

  /* Class probabilities from logits: softmax, or sigmoid for one logit
   * (returned as two probabilities [1-p, p] matching two labels). */
  std::vector<double> probabilities (const std::vector<float> &logits) const;
};

/* Sets the LibTorch thread count of the calling thread (0 = keep): the
 * number of workers Tokenizer::tokenize uses. Classifier::logits always runs
 * on the calling thread alone (one short sequence). */
void set_model_threads (int threads);

/* Directory of the shipped models: $NEUROTOKENS_MODEL_DIR if set, else where
 * `meson install` puts them, <prefix>/<datadir>/neurotokens/models. */
std::string default_model_dir ();

}  // namespace neuro
