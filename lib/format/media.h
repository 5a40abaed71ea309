// SPDX-License-Identifier: LGPL-2.1-or-later
/* The two media types of the suite, defined once: names, template caps, and
 * typed views of fixed caps with the validation that explains a refusal.
 *
 *   application/x-spectrogram  stft -> tfmtokenize (docs/stft.md)
 *     rate, channels, n-fft, hop, bins (int), window, scaling (string),
 *     waveform (boolean), framerate = rate/hop (fraction, frames/s)
 *   application/x-tokens       tfmtokenize -> lbmclassify -> tokensink
 *     channels, vocabulary, codebooks (int), framerate (fraction, token
 *     frames/s), modality, model (string, optional), window-frames,
 *     window-stride (int, both or neither: overlapping windows, one per
 *     buffer, a window every window-stride frames)
 *
 * Fields added to a type go into its struct, from_caps() and to_structure(). */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

#include "geometry.h"

namespace neuro {

constexpr const char kSpectrogramMediaType[] = "application/x-spectrogram";
constexpr const char kTokensMediaType[] = "application/x-tokens";

/* Largest channel count of either type (and of stft's audio input): far
 * above any recording (high-density EEG has 256), low enough that a peer's
 * channels=2147483647 is refused before anything is sized by it. */
constexpr int kMaxChannels = 4096;
/* Largest codebook count of a token stream. */
constexpr int kMaxCodebooks = 64;

/* Largest n-fft the stft element accepts. */
constexpr int kMaxNfft = 1 << 20;

/* Template caps of every pad that carries the type (caller owns them). */
GstCaps *spectrogram_template_caps ();
GstCaps *tokens_template_caps ();

/* "a, b or c": the choices of a refusal sentence. */
std::string one_of (const std::vector<std::string> &names);

struct SpectrogramInfo {
  int rate = 0;
  int channels = 0;          /* 0 in to_structure(): the field is left out */
  int n_fft = 0, hop = 0, bins = 0;
  std::string window = "hann";       /* a name of lib/dsp's stft_window_names() */
  std::string scaling = "magnitude"; /* a name of stft_scaling_names() */
  bool waveform = false;

  /* Reads fixed caps into `out`. Empty when they are a spectrogram with
   * rate, channels, n-fft, hop and bins, and a known window and scaling where
   * given (absent: hann, magnitude; waveform absent: false), and channels <=
   * kMaxChannels, else the sentence explaining the refusal (naming value and
   * limit). */
  static std::string from_caps (const GstStructure *s, SpectrogramInfo &out);
  /* Fixed caps with every field and framerate = rate/hop. */
  GstStructure *to_structure () const;

  /* rate, channels, n-fft, hop, bins (no window length: that is the model's). */
  WindowGeometry geometry () const;
};

struct TokensInfo {
  int channels = 0;          /* 0 in to_structure(): the field is left out */
  int vocabulary = 0;
  int codebooks = 1;         /* absent in caps: 1 */
  int fps_n = 0, fps_d = 1;  /* framerate, token frames/s */
  std::string modality;      /* "" = not given */
  std::string model;         /* "" = not given */
  std::string model_sha256;  /* SHA-256 of the model file, hex; "" = not given */
  /* Overlapping windows (tfmtokenize window-stride below its window length,
   * emit=window): frames per window and between window starts; 0 = a plain
   * stream. Buffer offset / window_frames is the window's index. */
  int window_frames = 0, window_stride = 0;

  /* Reads fixed caps into `out`. Empty when they are tokens with channels,
   * vocabulary and codebooks of at least 1 and at most kMaxChannels,
   * kMaxVocabulary and kMaxCodebooks, and a positive framerate (and both window fields positive or
   * neither present), else the sentence explaining the refusal (naming value
   * and limit). */
  static std::string from_caps (const GstStructure *s, TokensInfo &out);
  GstStructure *to_structure () const;

  /* Start of token frame `frame` after the first, ns: frame * fps_d / fps_n s. */
  GstClockTime frame_time (guint64 frame) const;
};

/* The rule both tokenizer and classifier use to keep a run of frames: a frame
 * whose PTS lies more than half a frame period away from where the run
 * predicts it (`expected`) starts a new run (data was lost or repeated). */
bool continues_run (GstClockTime expected, GstClockTime pts, GstClockTime frame_period);

}  // namespace neuro
