// SPDX-License-Identifier: LGPL-2.1-or-later
/* The one window geometry of the suite: how a tokenizer model cuts a signal
 * into frames and windows. Shared by the model library (safetensors metadata),
 * the window cutter (lib/window), the elements and the training tool.
 * GStreamer- and LibTorch-free.
 *
 * With L = window_samples, T = (L - n_fft) / hop + 1 and S = L / hop:
 *   - frame k covers samples [k*hop, k*hop + n_fft) and lasts hop/rate s;
 *   - window w covers samples [w*L, (w+1)*L), made of the T frames
 *     k = w*S ... w*S + T - 1 whose support lies wholly inside it. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace neuro {

/* Limits on sizes that come from model files and caps, checked before
 * anything is allocated from them (errors name the value and the limit). */
constexpr int kMaxWindowSamples = 1 << 22;       /* samples per tokenizer window */
constexpr int kMaxVocabulary = 1 << 24;          /* codebook entries; tokens stay below 0xFFFFFFFF */
constexpr size_t kMaxWindowFloats = (size_t) 1 << 28;  /* one window of every channel: 1 GiB */

/* "No token" in application/x-tokens: the input under it was not finite (or
 * not usable). Never a code; tokensink records it as JSON null or the HDF5
 * dataset's fill value. */
constexpr uint32_t kNoToken = 0xFFFFFFFFu;

struct WindowGeometry {
  int channels = 0;        /* of the stream; 0 in a model's geometry (any count) */
  int rate = 0;            /* Hz; times the frames, the cutter does not need it */
  int bins = 0;            /* magnitudes per channel per frame */
  int n_fft = 0;           /* samples under one frame */
  int hop = 0;             /* samples between frames */
  int window_samples = 0;  /* L */

  /* T: frames wholly inside one window. */
  int frames_per_window () const { return (window_samples - n_fft) / hop + 1; }
  /* S: frame-index distance between the first frames of consecutive windows. */
  int frames_per_stride () const { return window_samples / hop; }
  /* Floats in one spectrogram frame (magnitudes and waveform). */
  size_t frame_floats () const { return (size_t) channels * (bins + n_fft); }
  size_t stft_floats () const { return (size_t) channels * bins * frames_per_window (); }
  size_t raw_floats () const { return (size_t) channels * window_samples; }

  /* The same geometry for a stream of `count` channels. */
  WindowGeometry with_channels (int count) const;

  /* Empty when the cutter can work with this geometry, else a sentence that
   * says what is wrong. Windows must start on a frame boundary (L % hop == 0)
   * and the frames of a window must tile its samples exactly
   * (n_fft % hop == 0, hop <= n_fft <= L), and one window of every channel
   * must fit kMaxWindowFloats. */
  std::string check () const;

  /* The geometry keys of a model file's metadata (all values strings):
   *   sample-rate [200], n-fft [200], hop [100], bins [100], window-samples [2000]
   * (the authors' EEG tokenizer for absent keys). Throws std::invalid_argument
   * with a sentence naming the key for a value that is not a positive
   * integer, a window shorter than n-fft or more bins than n-fft/2+1. */
  static WindowGeometry from_metadata (const std::map<std::string, std::string> &metadata);
  /* Writes the keys from_metadata() reads. */
  void write_metadata (std::map<std::string, std::string> &metadata) const;
};

/* The integer metadata[key], `fallback` when absent; throws
 * std::invalid_argument naming the key when present but not a positive int,
 * or above the key's limit (window-samples kMaxWindowSamples, vocabulary
 * kMaxVocabulary, n-fft and hop 65536, sample-rate 10^6, depths and heads
 * 256, others 2^20), naming value and limit. */
int metadata_positive_int (const std::map<std::string, std::string> &metadata, const std::string &key,
    int fallback);

}  // namespace neuro
