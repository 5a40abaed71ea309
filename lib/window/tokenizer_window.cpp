// SPDX-License-Identifier: LGPL-2.1-or-later
#include "tokenizer_window.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "stft.h"

namespace neuro {

/* NumPy's linear method: position q*(n-1) in the sorted values, blended from
 * the two neighbours the way numpy's _lerp does it (from the nearer end). */
float
q95_scale (const float *x, size_t n)
{
  std::vector<double> a (n);
  for (size_t i = 0; i < n; i++)
    a[i] = std::fabs ((double) x[i]);
  const double pos = 0.95 * (double) (n - 1);
  const size_t lo = (size_t) std::floor (pos);
  const double t = pos - (double) lo;
  std::nth_element (a.begin (), a.begin () + lo, a.end ());
  const double below = a[lo];
  const double above = lo + 1 < n ? *std::min_element (a.begin () + lo + 1, a.end ()) : below;
  const double diff = above - below;
  const double q = t >= 0.5 ? above - diff * (1.0 - t) : below + diff * t;
  return (float) (q + 1e-8);
}

size_t
TokenizerWindow::non_finite_channels () const
{
  return (size_t) std::count (finite.begin (), finite.end (), 0);
}

/* Copies n values, each non-finite one as 0; false if there was one. */
static bool
copy_finite (const float *src, size_t n, float *dst)
{
  bool all = true;
  for (size_t i = 0; i < n; i++) {
    const bool ok = std::isfinite (src[i]);
    dst[i] = ok ? src[i] : 0.0f;
    all &= ok;
  }
  return all;
}

std::string
check_window_stride (const WindowGeometry &geometry, int window_stride)
{
  const int S = geometry.frames_per_stride ();
  if (window_stride >= 1 && window_stride <= S)
    return "";
  return "window-stride " + std::to_string (window_stride) + " is outside 1.." + std::to_string (S) +
      ": it counts token frames between the starts of consecutive windows, and " + std::to_string (S) +
      " (window length / hop) puts windows back to back as the reference does";
}

WindowCutter::WindowCutter (const WindowGeometry &geometry, WindowNormalize normalize, int window_stride)
    : geometry_ (geometry), normalize_ (normalize)
{
  std::string problem = geometry.check ();
  if (!problem.empty ())
    throw std::invalid_argument (problem);
  stride_ = window_stride == 0 ? geometry.frames_per_stride () : window_stride;
  problem = check_window_stride (geometry, stride_);
  if (!problem.empty ())
    throw std::invalid_argument (problem);
  held_.resize ((size_t) geometry_.frames_per_window () * geometry_.frame_floats ());
}

void
WindowCutter::reset ()
{
  frames_received_ = 0;
}

/* Windows finished so far are those whose last frame w*K + T - 1 has been
 * received; the next one starts at frame (that count) * K. */
int
WindowCutter::pending_frames () const
{
  const uint64_t T = (uint64_t) geometry_.frames_per_window ();
  const uint64_t finished = frames_received_ >= T ? (frames_received_ - T) / (uint64_t) stride_ + 1 : 0;
  const uint64_t next_first = finished * (uint64_t) stride_;
  return frames_received_ > next_first ? (int) (frames_received_ - next_first) : 0;
}

/* With K > T (the reference grid has K = S = T + 1) some frames straddle two
 * windows and belong to none. */
bool
WindowCutter::in_some_window (uint64_t k) const
{
  return k % (uint64_t) stride_ < (uint64_t) geometry_.frames_per_window ();
}

void
WindowCutter::push (const float *frames, size_t n_frames, std::vector<TokenizerWindow> &done,
    const SkipWindow &skip)
{
  const uint64_t T = (uint64_t) geometry_.frames_per_window ();
  const size_t n = geometry_.frame_floats ();
  for (size_t i = 0; i < n_frames; i++) {
    const uint64_t k = frames_received_++;
    if (!in_some_window (k))
      continue;
    const float *frame = frames + i * n;
    std::copy (frame, frame + n, held_.begin () + (size_t) (k % T) * n);
    if (k + 1 < T || (k + 1 - T) % (uint64_t) stride_ != 0)
      continue;
    const uint64_t index = (k + 1 - T) / (uint64_t) stride_;
    if (!skip || !skip (index, index * (uint64_t) stride_))
      done.push_back (finish_window (index));
  }
}

/* Lays the held frames out as Tokenizer::tokenize wants them. The raw row is
 * rebuilt from the waveforms: frame t contributes its first hop samples, the
 * last frame all n_fft (geometry check: they tile the window exactly). The
 * window's frame t sits in ring slot (first_frame + t) % T. */
TokenizerWindow
WindowCutter::finish_window (uint64_t index) const
{
  const WindowGeometry &g = geometry_;
  const int T = g.frames_per_window ();
  const size_t frame_floats = g.frame_floats ();
  const size_t waveform_offset = (size_t) g.channels * g.bins;

  TokenizerWindow w;
  w.index = index;
  w.first_frame = index * (uint64_t) stride_;
  w.stft.resize (g.stft_floats ());
  w.raw.resize (g.raw_floats ());
  w.scale.assign (g.channels, 1.0f);
  w.finite.assign (g.channels, 1);

  for (int t = 0; t < T; t++) {
    const float *frame = held_.data () + (size_t) ((w.first_frame + t) % (uint64_t) T) * frame_floats;
    const int take = t == T - 1 ? g.n_fft : g.hop;
    for (int c = 0; c < g.channels; c++) {
      const float *mags = frame + (size_t) c * g.bins;
      float *stft_row = w.stft.data () + (size_t) c * g.bins * T;
      bool finite = true;
      for (int b = 0; b < g.bins; b++) {
        finite &= std::isfinite (mags[b]);
        stft_row[(size_t) b * T + t] = std::isfinite (mags[b]) ? mags[b] : 0.0f;
      }
      const float *wave = frame + waveform_offset + (size_t) c * g.n_fft;
      finite &= copy_finite (wave, take, w.raw.data () + (size_t) c * g.window_samples + (size_t) t * g.hop);
      if (!finite)
        w.finite[c] = 0;
    }
  }

  if (normalize_ == WindowNormalize::Q95) {
    for (int c = 0; c < g.channels; c++) {
      float *raw_row = w.raw.data () + (size_t) c * g.window_samples;
      float *stft_row = w.stft.data () + (size_t) c * g.bins * T;
      const float s = q95_scale (raw_row, g.window_samples);
      w.scale[c] = s;
      for (int i = 0; i < g.window_samples; i++)
        raw_row[i] /= s;
      for (size_t i = 0; i < (size_t) g.bins * T; i++)
        stft_row[i] /= s;
    }
  }
  return w;
}

std::vector<TokenizerWindow>
cut_frames (const float *frames, size_t n_frames, const WindowGeometry &geometry,
    WindowNormalize normalize, int window_stride)
{
  WindowCutter cutter (geometry, normalize, window_stride);
  std::vector<TokenizerWindow> done;
  cutter.push (frames, n_frames, done);
  return done;
}

/* Writes frame k of a channel-major signal in the stft element's layout. */
static void
build_frame (const float *signal, size_t n_samples, uint64_t k, const WindowGeometry &g,
    const FrameSpectrum &spectrum, float *frame)
{
  const size_t start = (size_t) k * g.hop;
  float *waveform = frame + (size_t) g.channels * g.bins;
  for (int c = 0; c < g.channels; c++) {
    const float *samples = signal + (size_t) c * n_samples + start;
    spectrum (samples, frame + (size_t) c * g.bins);
    std::copy (samples, samples + g.n_fft, waveform + (size_t) c * g.n_fft);
  }
}

std::vector<TokenizerWindow>
cut_signal (const float *signal, size_t n_samples, const WindowGeometry &geometry,
    WindowNormalize normalize, const FrameSpectrum &spectrum)
{
  WindowCutter cutter (geometry, normalize);
  const size_t n_windows = n_samples / (size_t) geometry.window_samples;
  const int T = geometry.frames_per_window ();
  const int S = geometry.frames_per_stride ();
  std::vector<float> frame (geometry.frame_floats ());
  /* Edge frames only advance the frame count (the cutter drops them), and the
   * last window's edge frames may reach past the signal: push zeros. */
  const std::vector<float> edge_frame (geometry.frame_floats (), 0.0f);
  std::vector<TokenizerWindow> done;
  done.reserve (n_windows);
  for (size_t w = 0; w < n_windows; w++) {
    for (int s = 0; s < S; s++) {
      const uint64_t k = (uint64_t) w * S + s;
      if (s < T) {
        build_frame (signal, n_samples, k, geometry, spectrum, frame.data ());
        cutter.push (frame.data (), 1, done);
      } else {
        cutter.push (edge_frame.data (), 1, done);
      }
    }
  }
  return done;
}

/* One Stft with the element's configuration (all channels, waveform) run on
 * each window's samples: its frames are the element's frames, laid out by the
 * same code, from the same FFTW problem (so, within a process, the same plan
 * and bit-identical magnitudes). reset() keeps the plan. */
std::vector<TokenizerWindow>
cut_signal (const float *signal, size_t n_samples, const WindowGeometry &geometry,
    WindowNormalize normalize)
{
  WindowCutter cutter (geometry, normalize);
  const WindowGeometry &g = geometry;
  StftConfig cfg;
  cfg.n_fft = g.n_fft;
  cfg.hop = g.hop;
  cfg.bins = g.bins;
  cfg.channels = g.channels;
  cfg.waveform = true;
  Stft stft (cfg);
  const size_t L = (size_t) g.window_samples;
  const size_t n_windows = n_samples / L;
  const int T = g.frames_per_window ();
  const std::vector<float> edge_frames ((size_t) (g.frames_per_stride () - T) * g.frame_floats (), 0.0f);
  std::vector<float> interleaved (L * g.channels);
  std::vector<float> frames;
  std::vector<TokenizerWindow> done;
  done.reserve (n_windows);
  for (size_t w = 0; w < n_windows; w++) {
    for (int c = 0; c < g.channels; c++)
      for (size_t i = 0; i < L; i++)
        interleaved[i * g.channels + c] = signal[(size_t) c * n_samples + w * L + i];
    stft.reset ();
    frames.clear ();
    stft.push (interleaved.data (), L, frames);
    cutter.push (frames.data (), (size_t) T, done);
    cutter.push (edge_frames.data (), (size_t) (g.frames_per_stride () - T), done);
  }
  return done;
}

}  // namespace neuro
