// SPDX-License-Identifier: LGPL-2.1-or-later
/* The one tokenizer window cutter, shared by the tfmtokenize element, the
 * training tool and the tests (docs/formats.md, "Tokenizer windows").
 *
 * Torch-free and GStreamer-free: it turns spectrogram frames (the payload of
 * application/x-spectrogram with waveform=true) into the input layout of
 * neuro::Tokenizer::tokenize (models/tfm_models.h).
 *
 * Geometry (lib/format/geometry.h), with L = window_samples, hop, n_fft,
 * T = (L - n_fft) / hop + 1 and S = L / hop:
 *
 *   - frame k covers input samples [k*hop, k*hop + n_fft) of the stream;
 *   - window w covers input samples [w*L, (w+1)*L) and is made of the frames
 *     k = w*S ... w*S + T - 1, the frames whose support lies wholly inside it;
 *   - the S - T frames k = w*S + T ... (w+1)*S - 1 straddle two windows
 *     ("edge frames") and belong to no window: they are dropped.
 *
 * Overlapping windows (window stride K token frames, 1 <= K <= S; K = S is
 * the grid above): window w covers input samples [w*K*hop, w*K*hop + L) and
 * is made of the frames k = w*K ... w*K + T - 1. Each window is cut and
 * normalised on its own, so window w equals window 0 of the reference grid
 * for a stream starting at sample w*K*hop.
 *
 * A frame (one per spectrogram frame, float32, as docs/formats.md lays it out):
 *
 *   [ channels x bins magnitudes, channel-major | channels x n_fft samples ]
 *
 * A finished window (TokenizerWindow), ready for Tokenizer::tokenize with
 * n = channels (row = channel):
 *
 *   stft: channels x bins x T   (stft[(c*bins + b)*T + t] = frame t, channel c, bin b)
 *   raw:  channels x L          (the window's input samples, rebuilt from the
 *                                frames' waveforms)
 *
 * With WindowNormalize::Q95 each channel's stft row and raw row are divided
 * by q95_scale() of that channel's raw samples in that window (the STFT is
 * linear, so this equals the spectrum of the normalised signal).
 *
 * Non-finite input (NaN, +-Inf in a magnitude or a sample): the channel is
 * marked not finite in that window (TokenizerWindow::finite) and each
 * non-finite value is laid out as 0, before normalisation, so that no NaN
 * reaches the divisor or the model (where batching channels could spread it)
 * and a frame still lays out the same in every window holding it (as
 * FrameSharingTokenizer needs). A channel's window is finite exactly when its
 * L samples and T spectra are: the tokens of a channel marked not finite
 * mean nothing and the caller replaces them by kNoToken. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "geometry.h"

namespace neuro {

enum class WindowNormalize {
  None,  /* pass magnitudes and samples through unchanged */
  Q95,   /* divide each channel by quantile(|x|, 0.95) + 1e-8 */
};

/* quantile(|x|, 0.95) with NumPy's default linear interpolation, plus 1e-8:
 * the per-channel divisor of normalize=q95. n must be > 0. */
float q95_scale (const float *x, size_t n);

/* Empty when K can be a window stride for this geometry (1..S), else a
 * sentence that says what is wrong, in terms of the tfmtokenize property. */
std::string check_window_stride (const WindowGeometry &geometry, int window_stride);

struct TokenizerWindow {
  uint64_t index = 0;        /* w, counted from the start of the stream */
  uint64_t first_frame = 0;  /* w * K: the frame whose PTS is the window's PTS */
  std::vector<float> stft;   /* channels x bins x T */
  std::vector<float> raw;    /* channels x L */
  std::vector<float> scale;  /* per channel divisor that was applied (1 for None) */
  /* Per channel: 1 when all its samples and magnitudes in the window were
   * finite, 0 when some were not (laid out as 0; its tokens are no tokens). */
  std::vector<uint8_t> finite;

  /* Channels marked not finite. */
  size_t non_finite_channels () const;
};

/* Streaming cutter: feed frames in stream order, collect finished windows.
 * Holds the last T frames whatever the stride (memory does not grow with
 * the overlap); a window is finished by its last frame (frame w*K + T - 1),
 * i.e. as soon as its last input sample has arrived. */
class WindowCutter {
 public:
  /* window_stride = K in token frames, 0 = S (the reference grid). Throws
   * std::invalid_argument with check()'s or check_window_stride()'s
   * sentence. */
  WindowCutter (const WindowGeometry &geometry, WindowNormalize normalize, int window_stride = 0);

  /* Asked for each window as it completes (index w, first frame w*K): true
   * when nobody wants it, e.g. a live stream that fell behind needs only
   * its newest windows. A skipped window is never laid out. */
  using SkipWindow = std::function<bool (uint64_t index, uint64_t first_frame)>;

  /* Appends one TokenizerWindow to `done` for every window the n_frames
   * frames (n_frames * frame_floats() floats) complete and `skip` (when
   * given) does not refuse. */
  void push (const float *frames, size_t n_frames, std::vector<TokenizerWindow> &done,
      const SkipWindow &skip = nullptr);

  /* Forgets everything: the next frame pushed is frame 0 of a new stream
   * (discontinuity, flush, new segment). */
  void reset ();

  /* Frames pushed since construction or the last reset(). */
  uint64_t frames_received () const { return frames_received_; }
  /* Frames of the oldest unfinished window held so far (0 .. T-1): what EOS
   * drops. */
  int pending_frames () const;

  const WindowGeometry &geometry () const { return geometry_; }
  WindowNormalize normalize () const { return normalize_; }
  /* K: frames between the first frames of consecutive windows. */
  int window_stride () const { return stride_; }

 private:
  bool in_some_window (uint64_t k) const;
  TokenizerWindow finish_window (uint64_t index) const;

  WindowGeometry geometry_;
  WindowNormalize normalize_;
  int stride_;
  /* Ring of the last T frames, frame k in slot k % T, frame-major. */
  std::vector<float> held_;
  uint64_t frames_received_ = 0;
};

/* All windows the frames complete, as a fresh WindowCutter would return them. */
std::vector<TokenizerWindow> cut_frames (const float *frames, size_t n_frames,
    const WindowGeometry &geometry, WindowNormalize normalize, int window_stride = 0);

/* Magnitudes of one frame: reads n_fft samples, writes bins magnitudes.
 * Pass the same transform the stft element uses (lib/dsp) so offline and
 * streaming windows are identical. */
using FrameSpectrum = std::function<void (const float *samples, float *magnitudes)>;

/* Offline cutting for training and tests: builds the spectrogram frames of a
 * whole channel-major signal (signal[c * n_samples + i]) exactly as the stft
 * element lays them out, and cuts them with the streaming cutter, so training
 * sees the same inputs as the element. Returns the n_samples / L complete
 * windows; the trailing partial window is dropped as at EOS in the element.
 * geometry.channels is the signal's channel count. */
std::vector<TokenizerWindow> cut_signal (const float *signal, size_t n_samples,
    const WindowGeometry &geometry, WindowNormalize normalize, const FrameSpectrum &spectrum);

/* cut_signal() with the tokenizer's own spectrum: the project's STFT (lib/dsp,
 * neuro::Stft) with the periodic Hann window and plain magnitudes, configured
 * exactly as `stft` is in front of tfmtokenize (all channels, waveform), so
 * each window's frames are the ones the element receives. (FFTW_MEASURE may
 * pick a different algorithm for another channel count or process, so across
 * those the magnitudes agree to float rounding, not bit for bit.) */
std::vector<TokenizerWindow> cut_signal (const float *signal, size_t n_samples,
    const WindowGeometry &geometry, WindowNormalize normalize);

}  // namespace neuro
