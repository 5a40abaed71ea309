// SPDX-License-Identifier: LGPL-2.1-or-later
/* The one short-time Fourier transform of the project, shared by the `stft`
 * element, the training tool and the tests.
 *
 * Definitions (N = n_fft, H = hop, w = periodic window of length N):
 *   frame t covers input samples [t·H, t·H + N) counted from the first sample
 *   pushed after construction or reset() (no centring, no padding);
 *   X_t[k] = sum_{n<N} x[t·H + n] · w[n] · exp(-2πi·k·n/N),  k = 0 .. bins-1
 * and the value stored for bin k is, by scaling:
 *   Magnitude  |X|                       == torch.stft(..., center=False).abs()
 *   Spectrum   |X| / sum(w)              == |scipy.signal.stft(..., scaling='spectrum',
 *                                             boundary=None, padded=False)|
 *   Power      |X|^2
 *   Db         10·log10(max(|X|^2, 1e-10)) == librosa.power_to_db(|X|^2, ref=1, top_db=None)
 *
 * FFTW planning is not thread-safe: every plan is made and destroyed under one
 * process-wide mutex, once per Stft object (i.e. once per configuration). */
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace neuro {

enum class StftWindow { Hann, Hamming, Blackman, Rectangular };
enum class StftScaling { Magnitude, Spectrum, Power, Db };

struct StftConfig {
  int n_fft = 200;
  int hop = 100;
  int bins = 100;               /* bins kept from 0 upward; at most n_fft/2 + 1 */
  StftWindow window = StftWindow::Hann;
  StftScaling scaling = StftScaling::Magnitude;
  int channels = 1;
  bool waveform = false;        /* append the unwindowed samples to each frame */
};

/* Names used by the element's properties and caps ("hann", "spectrum", ...). */
const char *stft_window_name (StftWindow w);
const char *stft_scaling_name (StftScaling s);
bool stft_window_from_name (const std::string &name, StftWindow &w);
bool stft_scaling_from_name (const std::string &name, StftScaling &s);
/* Every name, in enum order: what caps and properties accept. */
std::vector<std::string> stft_window_names ();
std::vector<std::string> stft_scaling_names ();

/* Empty when the configuration is usable, else a sentence saying what to change. */
std::string stft_config_error (const StftConfig &cfg);

/* The periodic window of length n (torch.*_window(n) / scipy get_window defaults). */
std::vector<float> stft_make_window (StftWindow w, int n);

/* Floats per output frame: channels·bins magnitudes (channel-major), then, when
 * waveform is set, channels·n_fft unwindowed samples (channel-major). */
size_t stft_frame_floats (const StftConfig &cfg);

/* Streaming STFT over interleaved float samples. Results do not depend on how
 * the input is split across push() calls. Not thread-safe; one per stream. */
class Stft {
 public:
  /* Throws std::invalid_argument with stft_config_error()'s text on a bad config. */
  explicit Stft (const StftConfig &cfg);
  ~Stft ();
  Stft (const Stft &) = delete;
  Stft &operator= (const Stft &) = delete;

  /* Takes `frames` interleaved sample frames (channels floats each) and
   * writes every STFT frame that became complete to `out`, which must hold
   * frames_after(frames) · stft_frame_floats() floats. Returns the number of
   * STFT frames written. Only samples of incomplete frames are copied. */
  size_t push (const float *interleaved, size_t frames, float *out);
  /* The same, appending the frames to a vector. */
  size_t push (const float *interleaved, size_t frames, std::vector<float> &out);

  /* Forgets buffered samples and restarts the frame counter (DISCONT, flush). */
  void reset ();

  /* Index of the next frame push() will emit, counted since construction/reset. */
  unsigned long long next_frame () const { return next_frame_; }
  /* Frames that pushing `frames` more samples would complete (no side effect). */
  size_t frames_after (size_t frames) const;

  const StftConfig &config () const { return cfg_; }

 private:
  void compute_frame (const float *start, float *dst);

  StftConfig cfg_;
  std::vector<float> window_;
  float spectrum_scale_;
  std::vector<float> pending_;       /* interleaved samples not yet consumed */
  unsigned long long next_frame_ = 0;
  struct Fft;
  std::unique_ptr<Fft> fft_;
};

/* Offline helper for one channel: all complete frames of x[0..n), frame-major
 * (T × bins, T = n < n_fft ? 0 : (n - n_fft)/hop + 1), scaled per cfg.scaling.
 * cfg.channels and cfg.waveform are ignored (treated as 1 and false). */
std::vector<float> stft_magnitude (const float *x, size_t n, const StftConfig &cfg);

/* Offline helper for interleaved multi-channel input: the same frames the
 * element emits (stft_frame_floats(cfg) floats per frame, channel-major). */
std::vector<float> stft_frames (const float *interleaved, size_t frames, const StftConfig &cfg);

}  // namespace neuro
