// SPDX-License-Identifier: LGPL-2.1-or-later
/* LibTorch form of the TFM models: one implementation used for inference
 * (tfm_models.h wraps it) and for training (models/train/).
 *
 * Include this only from sources in models/ and models/train/: it pulls in
 * ATen. Elements use the LibTorch-free tfm_models.h.
 *
 * API for the training tool
 * -------------------------
 *  - Weights: the named tensors of a model, in the authors' state_dict order
 *    and with exactly their names ("trans_freq_encoder.transformer.layers.
 *    layers.0.0.fn.to_q.weight", "quantizer.ema_w", ...). Parameters have
 *    requires_grad = true, buffers (quantizer.cluster_size, quantizer.ema_w,
 *    temporal_pos_embed.pe, index) false. `parameters()` is what an optimiser
 *    takes. save()/load() go through models/safetensors.h.
 *  - TokenizerModel(config): the authors' init (nn defaults; codebook
 *    U(-1/K, 1/K), ema_w = a copy of it, cluster_size = 0). Seed with
 *    at::manual_seed() before constructing for reproducible weights.
 *    train(true) enables dropout(0.2) after each attention projection and the
 *    EMA codebook update inside quantize().
 *      encode(stft, raw)  -> quant_in (N, T, emb), L2-normalised
 *      quantize(quant_in) -> VQ result (straight-through output, indices,
 *                             codebook and commitment losses)
 *      decode(quant)      -> predicted STFT magnitude (N, bins, T)
 *      forward(stft, raw) -> all of the above (the authors' forward()).
 *    The authors' training loss is mse(decode(...), stft) + vq.loss
 *    (vq.loss = codebook + beta * commitment, beta = 1).
 *  - ClassifierModel(config): token classifier; forward(tokens) -> logits,
 *    sequence(tokens) -> LAT output (B, 1 + C*T, emb) for masked-token
 *    pretraining (the authors apply classification_head to positions 1..).
 *
 * Tensors are float32 on the CPU; token tensors are int64. */
#pragma once

#include "safetensors.h"
#include "tfm_models.h"

#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace neuro {
namespace tfm {

/* Runs LibTorch ops of the current thread single-threaded while alive and
 * restores the previous count afterwards (this thread's only). Small ops split over OpenMP
 * threads stall at every barrier when the cores are shared with other
 * processes, so inference parallelises whole chunks of windows instead.
 * (get_num_threads() first completes LibTorch's lazy per-thread set-up,
 * which would otherwise overwrite the setting later.) */
class SerialThreads {
 public:
  SerialThreads ();
  ~SerialThreads ();
  SerialThreads (const SerialThreads &) = delete;
  SerialThreads &operator= (const SerialThreads &) = delete;

 private:
  int previous_;
};

/* Hyper-parameters of TFM_VQVAE2_deep. Defaults: the authors' 2x2x8. */
struct TokenizerConfig {
  int emb = 64;             /* metadata "embedding-size" */
  int heads = 8;            /* "heads" */
  int freq_depth = 2;       /* "freq-depth" */
  int temporal_depth = 2;   /* "temporal-depth" */
  int decoder_depth = 8;    /* "decoder-depth" */
  int codebook = 8192;      /* "vocabulary" */
  /* The window geometry keys (lib/format): bins fed to the model; n-fft and
   * hop are the temporal conv's kernel and stride. The authors' by default. */
  WindowGeometry geometry = WindowGeometry::from_metadata ({});
  int freq_patch = 5;       /* "freq-patch": bins per frequency patch */
  double beta = 1.0;        /* commitment weight (training) */
  double decay = 0.99;      /* EMA decay (training) */

  int freq_patches () const { return geometry.bins / freq_patch; }    /* 20 */
  int agg_positions () const { return freq_patches () / freq_patch; }  /* 4 */
  int agg_channels () const { return emb / (2 * (geometry.bins / (freq_patch * freq_patch))); }  /* 8 */
  /* Token frames of a window of `window_samples` (any length, not only the geometry's). */
  int frames (int window_samples) const { return (window_samples - geometry.n_fft) / geometry.hop + 1; }

  /* Throws ModelError (prefixed by `where`) when the numbers cannot build a
   * model (e.g. frequency features + emb/2 != emb). */
  void validate (const std::string &where) const;
  static TokenizerConfig from_file (const SafetensorsFile &file);
  std::map<std::string, std::string> metadata () const;
};

/* Hyper-parameters of TFM_TOKEN_Classifier. Defaults: the authors' 64x4. */
struct ClassifierConfig {
  int emb = 64;          /* "embedding-size" */
  int heads = 8;         /* "heads" */
  int depth = 4;         /* "depth" */
  int vocabulary = 8192; /* "vocabulary": the table has one more row ([MASK]) */
  int channels = 16;     /* rows of channel_embed */
  int max_frames = 1000; /* rows of temporal_pos_embed.pe */
  int classes = 6;       /* outputs of classification_head (1 = binary) */

  void validate (const std::string &where) const;
  /* Class count, channel rows and pe length come from the tensor shapes. */
  static ClassifierConfig from_file (const SafetensorsFile &file);
  std::map<std::string, std::string> metadata () const;
};

/* Named tensors in state_dict order. */
class Weights {
 public:
  void add (const std::string &name, const at::Tensor &t, bool trainable);
  const at::Tensor &operator[] (const std::string &name) const;
  bool has (const std::string &name) const { return index_.count (name) != 0; }
  const std::vector<std::pair<std::string, at::Tensor>> &all () const { return tensors_; }
  std::vector<at::Tensor> parameters () const;  /* trainable ones */
  std::vector<std::string> names () const;

  /* Copies values from a file holding exactly these names and shapes
   * (missing / unexpected / mis-shaped tensors are a ModelError). */
  void load_from (const SafetensorsFile &file);
  void save (const std::string &path, const std::map<std::string, std::string> &metadata) const;

 private:
  std::vector<std::pair<std::string, at::Tensor>> tensors_;
  std::map<std::string, size_t> index_;
  std::vector<bool> trainable_;
};

/* Adds the parameters of `depth` linear-attention blocks under `prefix`
 * ("LAT" -> "LAT.layers.layers.<i>...") with the PyTorch default init. */
void add_lat_stack (Weights &w, const std::string &prefix, int depth, int emb);

/* lucidrains LinearAttentionTransformer 0.19.1 (docs/architecture.md, "Building block"):
 * x (B, n, emb) -> (B, n, emb). `training` enables dropout(0.2) after the
 * attention output projection. */
at::Tensor lat_stack (const Weights &w, const std::string &prefix, int depth, int heads,
    const at::Tensor &x, bool training);

struct VQResult {
  at::Tensor quant_out;        /* straight-through: quant_in + (E[idx] - quant_in).detach() */
  at::Tensor indices;          /* (N, T) int64 */
  at::Tensor loss;             /* codebook_loss + beta * commitment_loss */
  at::Tensor codebook_loss;    /* mean((E[idx] - quant_in.detach())^2) */
  at::Tensor commitment_loss;  /* mean((E[idx].detach() - quant_in)^2) */
};

struct TokenizerOutput {
  at::Tensor recon;     /* (N, bins, T) */
  at::Tensor indices;   /* (N, T) */
  at::Tensor quant_in;  /* (N, T, emb) */
  VQResult vq;
};

class TokenizerModel {
 public:
  explicit TokenizerModel (const TokenizerConfig &config);  /* authors' random init */
  static TokenizerModel load (const std::string &path);     /* throws ModelError */

  const TokenizerConfig &config () const { return config_; }
  Weights &weights () { return weights_; }
  const Weights &weights () const { return weights_; }
  void train (bool on) { training_ = on; }
  bool training () const { return training_; }

  /* stft (N, bins, T) magnitudes, raw (N, (T-1)*stride + kernel) samples. */
  at::Tensor encode (const at::Tensor &stft, const at::Tensor &raw) const;
  /* Inference: encode + nearest codes -> (N, T) int64, windows processed in
   * chunks spread over the LibTorch threads; optionally also quant_in. */
  at::Tensor tokenize (const at::Tensor &stft, const at::Tensor &raw, at::Tensor *quant_in = nullptr) const;
  /* Frequency branch (A0-A13): stft (N, bins, T) -> (N, T, 32). Each frame
   * on its own: a frame's features do not depend on the rest of its window. */
  at::Tensor frequency_features (const at::Tensor &stft) const;
  /* tokenize() with the frequency branch given, freq (N, T, 32) as
   * frequency_features() returns it: windows sharing frames share it. */
  at::Tensor tokenize_features (const at::Tensor &freq, const at::Tensor &raw) const;
  /* Nearest codes, dist = |x|^2 - 2 x.E + |E|^2 in float32, ties -> lowest. */
  at::Tensor nearest_codes (const at::Tensor &quant_in) const;
  /* Nearest codes plus losses; in training mode also the EMA update. */
  VQResult quantize (const at::Tensor &quant_in);
  at::Tensor decode (const at::Tensor &quant) const;
  TokenizerOutput forward (const at::Tensor &stft, const at::Tensor &raw);

  /* Writes weights with the config's metadata merged under `metadata`. */
  void save (const std::string &path, const std::map<std::string, std::string> &metadata) const;

 private:
  TokenizerConfig config_;
  Weights weights_;
  bool training_ = false;

  void check_inputs (const at::Tensor &stft, const at::Tensor &raw) const;
  /* |E|^2 per code, and nearest_codes() given it: tokenize() computes it
   * once per call instead of once per chunk (8192 x 64 values). */
  at::Tensor code_norms () const;
  at::Tensor nearest_codes (const at::Tensor &quant_in, const at::Tensor &code_norms) const;
  at::Tensor temporal_features (const at::Tensor &raw) const;
  at::Tensor encode_features (const at::Tensor &freq, const at::Tensor &raw) const;
  /* run(first, count) on chunks of the N windows, spread over the calling
   * thread's LibTorch thread count, each worker single-threaded. */
  void in_chunks (int64_t N, const std::function<void (int64_t, int64_t)> &run) const;
};

class ClassifierModel {
 public:
  explicit ClassifierModel (const ClassifierConfig &config);  /* authors' random init */
  static ClassifierModel load (const std::string &path);

  const ClassifierConfig &config () const { return config_; }
  Weights &weights () { return weights_; }
  const Weights &weights () const { return weights_; }
  void train (bool on) { training_ = on; }
  bool training () const { return training_; }

  /* tokens (B, C, T) int64 -> LAT output (B, 1 + C*T, emb). */
  at::Tensor sequence (const at::Tensor &tokens) const;
  /* tokens (B, C, T) int64 -> logits (B, classes). */
  at::Tensor forward (const at::Tensor &tokens) const;
  /* Applies classification_head to any (..., emb) tensor. */
  at::Tensor head (const at::Tensor &x) const;

  void save (const std::string &path, const std::map<std::string, std::string> &metadata) const;

 private:
  ClassifierConfig config_;
  Weights weights_;
  bool training_ = false;
};

}  // namespace tfm
}  // namespace neuro
