// SPDX-License-Identifier: LGPL-2.1-or-later
/* Unit tests of the shared tokenizer window cutter (lib/window). Frames carry
 * values that encode where they came from, so a misplaced frame, bin,
 * channel or sample shows up as a wrong value, not just a wrong size. */
#include <gst/check/gstcheck.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "stft.h"
#include "tokenizer_window.h"

using neuro::TokenizerWindow;
using neuro::WindowCutter;
using neuro::WindowGeometry;
using neuro::WindowNormalize;

/* Small geometry with the authors' proportions (n_fft = 2 hop): T = 5, S = 6. */
static WindowGeometry
small_geometry (int channels)
{
  WindowGeometry g;
  g.channels = channels;
  g.bins = 3;
  g.n_fft = 4;
  g.hop = 2;
  g.window_samples = 12;
  return g;
}

/* Sample i of channel c of the test signal. */
static float
signal_value (int c, size_t i)
{
  return 1000.0f * (float) c + (float) i + 0.25f * std::sin ((float) i);
}

/* A recognisable "magnitude": encodes frame, channel and bin. */
static float
magnitude_value (uint64_t k, int c, int b)
{
  return (float) (k * 100 + c * 10 + b);
}

/* Frames 0..n-1 of the test signal in the stft element's layout. */
static std::vector<float>
make_frames (const WindowGeometry &g, size_t n_frames)
{
  std::vector<float> frames (n_frames * g.frame_floats ());
  for (size_t k = 0; k < n_frames; k++) {
    float *f = frames.data () + k * g.frame_floats ();
    for (int c = 0; c < g.channels; c++) {
      for (int b = 0; b < g.bins; b++)
        f[c * g.bins + b] = magnitude_value (k, c, b);
      for (int m = 0; m < g.n_fft; m++)
        f[g.channels * g.bins + c * g.n_fft + m] = signal_value (c, k * g.hop + m);
    }
  }
  return frames;
}

GST_START_TEST (test_geometry_of_authors_model)
{
  WindowGeometry g;
  g.channels = 1;
  g.bins = 100;
  g.n_fft = 200;
  g.hop = 100;
  g.window_samples = 2000;
  fail_unless (g.check ().empty ());
  fail_unless_equals_int (g.frames_per_window (), 19);
  fail_unless_equals_int (g.frames_per_stride (), 20);
  g.window_samples = 1000;
  fail_unless_equals_int (g.frames_per_window (), 9);
}
GST_END_TEST;

GST_START_TEST (test_geometry_rejected_n)
{
  WindowGeometry g = small_geometry (1);
  g.window_samples = 13;  /* windows would not start on a frame */
  fail_if (g.check ().empty ());
  fail_unless (g.check ().find ("multiple of hop") != std::string::npos);
  bool thrown = false;
  try {
    WindowCutter cutter (g, WindowNormalize::None);
  } catch (const std::invalid_argument &) {
    thrown = true;
  }
  fail_unless (thrown);

  g = small_geometry (1);
  g.n_fft = 5;  /* frames would not tile the window */
  fail_if (g.check ().empty ());
  g = small_geometry (1);
  g.hop = 8;    /* gaps between frames */
  g.window_samples = 16;
  fail_if (g.check ().empty ());
  g = small_geometry (0);
  fail_if (g.check ().empty ());
}
GST_END_TEST;

/* Window w = frames w*S .. w*S+T-1, laid out channels x bins x T, and its raw
 * samples are exactly the input samples [w*L, (w+1)*L). */
GST_START_TEST (test_window_layout_and_samples)
{
  const WindowGeometry g = small_geometry (3);
  const int T = g.frames_per_window ();
  const int S = g.frames_per_stride ();
  /* 3 whole windows and 4 frames of a 4th. */
  const size_t n_frames = 3 * S + 4;
  const std::vector<float> frames = make_frames (g, n_frames);
  const std::vector<TokenizerWindow> windows =
      neuro::cut_frames (frames.data (), n_frames, g, WindowNormalize::None);
  fail_unless_equals_int (windows.size (), 3);

  for (size_t w = 0; w < windows.size (); w++) {
    const TokenizerWindow &win = windows[w];
    fail_unless_equals_int (win.index, w);
    fail_unless_equals_int (win.first_frame, w * S);
    fail_unless_equals_int (win.stft.size (), g.channels * g.bins * T);
    fail_unless_equals_int (win.raw.size (), g.channels * g.window_samples);
    for (int c = 0; c < g.channels; c++) {
      fail_unless_equals_float (win.scale[c], 1.0f);
      for (int b = 0; b < g.bins; b++)
        for (int t = 0; t < T; t++)
          fail_unless_equals_float (win.stft[(c * g.bins + b) * T + t],
              magnitude_value (w * S + t, c, b));
      for (int i = 0; i < g.window_samples; i++)
        fail_unless_equals_float (win.raw[c * g.window_samples + i],
            signal_value (c, w * g.window_samples + i));
    }
  }
}
GST_END_TEST;

/* The frames are pushed in buffers of every size; the windows must not
 * depend on how the stream was cut into buffers. */
GST_START_TEST (test_buffering_independent)
{
  const WindowGeometry g = small_geometry (2);
  const size_t n_frames = 5 * g.frames_per_stride () + 1;
  const std::vector<float> frames = make_frames (g, n_frames);
  const std::vector<TokenizerWindow> whole =
      neuro::cut_frames (frames.data (), n_frames, g, WindowNormalize::Q95);
  fail_unless_equals_int (whole.size (), 5);

  for (size_t chunk = 1; chunk <= 7; chunk++) {
    WindowCutter cutter (g, WindowNormalize::Q95);
    std::vector<TokenizerWindow> pieces;
    for (size_t k = 0; k < n_frames; k += chunk) {
      const size_t n = std::min (chunk, n_frames - k);
      cutter.push (frames.data () + k * g.frame_floats (), n, pieces);
    }
    fail_unless_equals_int (pieces.size (), whole.size ());
    for (size_t w = 0; w < whole.size (); w++) {
      fail_unless (pieces[w].stft == whole[w].stft);
      fail_unless (pieces[w].raw == whole[w].raw);
    }
    fail_unless_equals_int (cutter.frames_received (), n_frames);
    fail_unless_equals_int (cutter.pending_frames (), 1);
  }
}
GST_END_TEST;

/* A partial window is held (pending), never emitted; edge frames are not
 * pending; reset() restarts the window grid at the next frame. */
GST_START_TEST (test_pending_and_reset)
{
  const WindowGeometry g = small_geometry (1);
  const int T = g.frames_per_window ();
  const int S = g.frames_per_stride ();
  const std::vector<float> frames = make_frames (g, 2 * S);
  WindowCutter cutter (g, WindowNormalize::None);
  std::vector<TokenizerWindow> done;

  cutter.push (frames.data (), T - 1, done);
  fail_unless_equals_int (done.size (), 0);
  fail_unless_equals_int (cutter.pending_frames (), T - 1);
  cutter.push (frames.data () + (T - 1) * g.frame_floats (), 1, done);
  fail_unless_equals_int (done.size (), 1);
  fail_unless_equals_int (cutter.pending_frames (), 0);
  cutter.push (frames.data () + T * g.frame_floats (), S - T, done);  /* edge frames */
  fail_unless_equals_int (done.size (), 1);
  fail_unless_equals_int (cutter.pending_frames (), 0);

  /* Half a window, then a discontinuity: the held frames are forgotten and
   * the frames after reset() form window 0 again. */
  cutter.push (frames.data (), 3, done);
  cutter.reset ();
  fail_unless_equals_int (cutter.pending_frames (), 0);
  fail_unless_equals_int (cutter.frames_received (), 0);
  cutter.push (frames.data () + S * g.frame_floats (), T, done);
  fail_unless_equals_int (done.size (), 2);
  fail_unless_equals_int (done[1].index, 0);
  fail_unless_equals_float (done[1].stft[0], magnitude_value (S, 0, 0));
  fail_unless_equals_float (done[1].raw[0], signal_value (0, S * g.hop));
}
GST_END_TEST;

/* Values computed with numpy.quantile(np.abs(x), 0.95) (linear). */
GST_START_TEST (test_q95_matches_numpy)
{
  std::vector<float> x (1000);
  for (int i = 0; i < 1000; i++)
    x[i] = std::sin ((float) i * 0.37f) * (float) i;
  fail_unless (std::fabs (neuro::q95_scale (x.data (), x.size ()) - (812.7390441894528 + 1e-8)) < 2e-4);

  std::vector<float> y (7);
  for (int i = 0; i < 7; i++)
    y[i] = std::cos ((float) i * 1.3f) * 3.0f;
  fail_unless (std::fabs (neuro::q95_scale (y.data (), y.size ()) - 2.9789288520812987) < 1e-6);

  /* 101 values 0..100 (shuffled sign): position 95 exactly. */
  std::vector<float> z (101);
  for (int i = 0; i < 101; i++)
    z[i] = (i % 2 ? -1.0f : 1.0f) * (float) ((i * 37) % 101);
  fail_unless_equals_float (neuro::q95_scale (z.data (), z.size ()), 95.0f);

  /* All zero: the 1e-8 keeps the divisor positive. */
  std::vector<float> zeros (10, 0.0f);
  fail_unless (neuro::q95_scale (zeros.data (), zeros.size ()) > 0.0f);
}
GST_END_TEST;

/* q95 divides each channel's raw and stft rows by that channel's scale. */
GST_START_TEST (test_q95_normalisation)
{
  const WindowGeometry g = small_geometry (2);
  const int T = g.frames_per_window ();
  const std::vector<float> frames = make_frames (g, g.frames_per_stride ());
  const auto plain = neuro::cut_frames (frames.data (), T, g, WindowNormalize::None);
  const auto norm = neuro::cut_frames (frames.data (), T, g, WindowNormalize::Q95);
  fail_unless_equals_int (plain.size (), 1);
  fail_unless_equals_int (norm.size (), 1);
  for (int c = 0; c < g.channels; c++) {
    const float s = neuro::q95_scale (plain[0].raw.data () + c * g.window_samples, g.window_samples);
    fail_unless (s > 1.0f);
    fail_unless_equals_float (norm[0].scale[c], s);
    for (int i = 0; i < g.window_samples; i++)
      fail_unless_equals_float (norm[0].raw[c * g.window_samples + i],
          plain[0].raw[c * g.window_samples + i] / s);
    for (int i = 0; i < g.bins * T; i++)
      fail_unless_equals_float (norm[0].stft[c * g.bins * T + i],
          plain[0].stft[c * g.bins * T + i] / s);
    /* After division the channel's own q95 is 1. */
    fail_unless (std::fabs (neuro::q95_scale (norm[0].raw.data () + c * g.window_samples,
                g.window_samples) - 1.0f) < 1e-5);
  }
}
GST_END_TEST;

/* A non-finite value (a sample or a magnitude) marks its channel not finite
 * in that window only and is laid out as 0; the window's other values and
 * channels, and the q95 divisor of the other channels, are as without it. */
GST_START_TEST (test_non_finite_marked_and_zeroed_n)
{
  const WindowGeometry g = small_geometry (3);
  const int T = g.frames_per_window (), S = g.frames_per_stride ();
  const std::vector<float> clean = make_frames (g, 2 * S);
  std::vector<float> frames = clean;
  /* window 0: a NaN sample on channel 1 (frame 2's waveform, beyond its first
   * hop: the sample lives on in frame 3's first hop, also NaN there); window
   * 1: an infinite magnitude on channel 2. */
  const size_t ff = g.frame_floats (), wave = (size_t) g.channels * g.bins;
  frames[2 * ff + wave + 1 * g.n_fft + 3] = NAN;
  frames[3 * ff + wave + 1 * g.n_fft + 1] = NAN;
  frames[(S + 1) * ff + 2 * g.bins + 1] = INFINITY;
  for (WindowNormalize n : {WindowNormalize::None, WindowNormalize::Q95}) {
    const auto want = neuro::cut_frames (clean.data (), 2 * S, g, n);
    const auto got = neuro::cut_frames (frames.data (), 2 * S, g, n);
    fail_unless_equals_int (got.size (), 2);
    fail_unless (want[0].finite == std::vector<uint8_t> ({1, 1, 1}));
    fail_unless (got[0].finite == std::vector<uint8_t> ({1, 0, 1}));
    fail_unless (got[1].finite == std::vector<uint8_t> ({1, 1, 0}));
    fail_unless_equals_int (got[0].non_finite_channels (), 1);
    for (size_t w = 0; w < 2; w++) {
      const int bad = w == 0 ? 1 : 2;
      for (float v : got[w].stft)
        fail_unless (std::isfinite (v));
      for (float v : got[w].raw)
        fail_unless (std::isfinite (v));
      for (int c = 0; c < g.channels; c++) {
        if (c == bad)
          continue;
        fail_unless_equals_float (got[w].scale[c], want[w].scale[c]);
        for (int i = 0; i < g.window_samples; i++)
          fail_unless_equals_float (got[w].raw[c * g.window_samples + i], want[w].raw[c * g.window_samples + i]);
        for (int i = 0; i < g.bins * T; i++)
          fail_unless_equals_float (got[w].stft[c * g.bins * T + i], want[w].stft[c * g.bins * T + i]);
      }
    }
    /* The zero stands where the value was (before any division). */
    if (n == WindowNormalize::None) {
      fail_unless_equals_float (got[0].raw[1 * g.window_samples + 2 * g.hop + 3], 0.0f);
      fail_unless_equals_float (got[1].stft[(2 * g.bins + 1) * T + 1], 0.0f);
    }
  }
}
GST_END_TEST;

/* A toy spectrum: sums of the frame's samples weighted by bin index. */
static neuro::FrameSpectrum
toy_spectrum (const WindowGeometry &g)
{
  return [g] (const float *samples, float *mags) {
    for (int b = 0; b < g.bins; b++) {
      float acc = 0.0f;
      for (int m = 0; m < g.n_fft; m++)
        acc += samples[m] * (float) (b + 1) * (float) (m + 1);
      mags[b] = acc;
    }
  };
}

/* Frames of a whole channel-major signal in the stft element's layout. */
static std::vector<float>
signal_frames (const std::vector<float> &signal, size_t n_samples, const WindowGeometry &g,
    const neuro::FrameSpectrum &spectrum)
{
  const size_t n_frames = (n_samples - g.n_fft) / g.hop + 1;
  std::vector<float> frames (n_frames * g.frame_floats ());
  for (size_t k = 0; k < n_frames; k++) {
    float *f = frames.data () + k * g.frame_floats ();
    for (int c = 0; c < g.channels; c++) {
      const float *s = signal.data () + c * n_samples + k * g.hop;
      spectrum (s, f + c * g.bins);
      std::copy (s, s + g.n_fft, f + g.channels * g.bins + c * g.n_fft);
    }
  }
  return frames;
}

/* Offline cutting of a whole signal equals the streaming cutter on the frames
 * the stft element would have produced from it. */
GST_START_TEST (test_cut_signal_equals_streaming)
{
  const WindowGeometry g = small_geometry (3);
  const size_t n_samples = 4 * g.window_samples + 7;  /* 4 windows and a partial one */
  std::vector<float> signal (g.channels * n_samples);
  for (int c = 0; c < g.channels; c++)
    for (size_t i = 0; i < n_samples; i++)
      signal[c * n_samples + i] = signal_value (c, i);
  const neuro::FrameSpectrum spectrum = toy_spectrum (g);
  const std::vector<float> frames = signal_frames (signal, n_samples, g, spectrum);
  const size_t n_frames = frames.size () / g.frame_floats ();

  for (WindowNormalize norm : { WindowNormalize::None, WindowNormalize::Q95 }) {
    const auto offline = neuro::cut_signal (signal.data (), n_samples, g, norm, spectrum);
    const auto streamed = neuro::cut_frames (frames.data (), n_frames, g, norm);
    fail_unless_equals_int (offline.size (), 4);
    fail_unless_equals_int (streamed.size (), 4);
    for (size_t w = 0; w < offline.size (); w++) {
      fail_unless_equals_int (offline[w].first_frame, streamed[w].first_frame);
      fail_unless (offline[w].stft == streamed[w].stft);
      fail_unless (offline[w].raw == streamed[w].raw);
      fail_unless (offline[w].scale == streamed[w].scale);
    }
  }
}
GST_END_TEST;

/* The training tool's cut_signal() (project STFT, Hann, magnitude) gives
 * bit-identical windows to cutting the frames the stft element emits for the
 * same signal (neuro::stft_frames with waveform, interleaved input). */
GST_START_TEST (test_cut_signal_matches_stft_element_frames)
{
  WindowGeometry g;
  g.channels = 4;
  g.bins = 100;
  g.n_fft = 200;
  g.hop = 100;
  g.window_samples = 1000;
  const size_t n_samples = 3 * g.window_samples + 555;
  std::vector<float> signal (g.channels * n_samples);
  std::vector<float> interleaved (g.channels * n_samples);
  for (int c = 0; c < g.channels; c++)
    for (size_t i = 0; i < n_samples; i++) {
      const float v = 30.0f * std::sin (0.05f * (float) i * (float) (c + 1)) + (float) ((i * 7919 + c) % 13);
      signal[c * n_samples + i] = v;
      interleaved[i * g.channels + c] = v;
    }
  neuro::StftConfig cfg;
  cfg.n_fft = g.n_fft;
  cfg.hop = g.hop;
  cfg.bins = g.bins;
  cfg.channels = g.channels;
  cfg.waveform = true;
  const std::vector<float> frames = neuro::stft_frames (interleaved.data (), n_samples, cfg);
  fail_unless_equals_int (neuro::stft_frame_floats (cfg), g.frame_floats ());
  const size_t n_frames = frames.size () / g.frame_floats ();

  for (WindowNormalize norm : { WindowNormalize::None, WindowNormalize::Q95 }) {
    const auto offline = neuro::cut_signal (signal.data (), n_samples, g, norm);
    const auto streamed = neuro::cut_frames (frames.data (), n_frames, g, norm);
    fail_unless_equals_int (offline.size (), 3);
    fail_unless_equals_int (streamed.size (), 3);
    for (size_t w = 0; w < offline.size (); w++) {
      fail_unless (offline[w].stft == streamed[w].stft);
      fail_unless (offline[w].raw == streamed[w].raw);
    }
  }
}
GST_END_TEST;

/* The contract of window-stride: at every stride K, window w of the stream
 * equals window 0 of the reference grid (K = S) on the same signal with its
 * first w*K*hop samples removed: same spectra, samples and q95 divisors, so
 * the same tokens. Also checks which windows exist and their first frames. */
GST_START_TEST (test_stride_windows_equal_default_on_shifted_input)
{
  const WindowGeometry g = small_geometry (2);
  const int T = g.frames_per_window ();
  const int S = g.frames_per_stride ();
  const size_t n_samples = 3 * g.window_samples + 5;
  std::vector<float> signal (g.channels * n_samples);
  for (int c = 0; c < g.channels; c++)
    for (size_t i = 0; i < n_samples; i++)
      signal[c * n_samples + i] = signal_value (c, i) * (1.0f + 0.3f * std::sin (0.7f * (float) i));
  const neuro::FrameSpectrum spectrum = toy_spectrum (g);
  const std::vector<float> frames = signal_frames (signal, n_samples, g, spectrum);
  const size_t n_frames = frames.size () / g.frame_floats ();

  for (WindowNormalize norm : { WindowNormalize::None, WindowNormalize::Q95 }) {
    for (int K = 1; K <= S; K++) {
      const auto windows = neuro::cut_frames (frames.data (), n_frames, g, norm, K);
      fail_unless_equals_int (windows.size (), (n_frames - T) / K + 1);
      for (size_t w = 0; w < windows.size (); w++) {
        fail_unless_equals_int (windows[w].index, w);
        fail_unless_equals_int (windows[w].first_frame, w * K);
        const size_t shift = w * K * g.hop;
        const size_t rest = n_samples - shift;
        std::vector<float> shifted (g.channels * rest);
        for (int c = 0; c < g.channels; c++)
          std::copy_n (signal.begin () + c * n_samples + shift, rest, shifted.begin () + c * rest);
        const auto reference = neuro::cut_signal (shifted.data (), rest, g, norm, spectrum);
        fail_unless (!reference.empty ());
        fail_unless (windows[w].stft == reference[0].stft, "K=%d window %zu: spectra differ", K, w);
        fail_unless (windows[w].raw == reference[0].raw, "K=%d window %zu: samples differ", K, w);
        fail_unless (windows[w].scale == reference[0].scale, "K=%d window %zu: q95 differs", K, w);
      }
    }
  }
}
GST_END_TEST;

/* Overlapping windows do not depend on how the frames are cut into buffers,
 * and a long stream (the ring of T frames wraps many times) still gives the
 * right frames at its end. */
GST_START_TEST (test_stride_buffering_and_long_stream)
{
  const WindowGeometry g = small_geometry (2);
  const int T = g.frames_per_window ();
  const size_t n_frames = 4000;
  const std::vector<float> frames = make_frames (g, n_frames);
  for (int K : { 1, 2, 3 }) {
    const auto whole = neuro::cut_frames (frames.data (), n_frames, g, WindowNormalize::None, K);
    fail_unless_equals_int (whole.size (), (n_frames - T) / K + 1);
    const TokenizerWindow &last = whole.back ();
    for (int t = 0; t < T; t++)
      fail_unless_equals_float (last.stft[(1 * g.bins + 2) * T + t], magnitude_value (last.first_frame + t, 1, 2));
    for (size_t chunk : { 1, 4, 7, 19 }) {
      WindowCutter cutter (g, WindowNormalize::None, K);
      std::vector<TokenizerWindow> pieces;
      for (size_t k = 0; k < n_frames; k += chunk)
        cutter.push (frames.data () + k * g.frame_floats (), std::min (chunk, n_frames - k), pieces);
      fail_unless_equals_int (pieces.size (), whole.size ());
      for (size_t w = 0; w < whole.size (); w += 97) {
        fail_unless (pieces[w].stft == whole[w].stft);
        fail_unless (pieces[w].raw == whole[w].raw);
      }
    }
  }
}
GST_END_TEST;

/* With overlap, what EOS drops is the part of the oldest unfinished window
 * already received (frames of finished windows are not pending). */
GST_START_TEST (test_stride_pending)
{
  const WindowGeometry g = small_geometry (1);
  const int T = g.frames_per_window ();  /* 5 */
  const std::vector<float> frames = make_frames (g, 20);
  WindowCutter cutter (g, WindowNormalize::None, 2);
  fail_unless_equals_int (cutter.window_stride (), 2);
  std::vector<TokenizerWindow> done;
  cutter.push (frames.data (), T - 1, done);
  fail_unless_equals_int (done.size (), 0);
  fail_unless_equals_int (cutter.pending_frames (), T - 1);
  cutter.push (frames.data () + (T - 1) * g.frame_floats (), 1, done);
  fail_unless_equals_int (done.size (), 1);
  fail_unless_equals_int (cutter.pending_frames (), T - 2);  /* window 1: frames 2..4 */
  cutter.push (frames.data () + T * g.frame_floats (), 1, done);
  fail_unless_equals_int (done.size (), 1);
  fail_unless_equals_int (cutter.pending_frames (), T - 1);
  cutter.push (frames.data () + (T + 1) * g.frame_floats (), 1, done);
  fail_unless_equals_int (done.size (), 2);
  fail_unless_equals_int (done[1].first_frame, 2);
  fail_unless_equals_int (cutter.pending_frames (), T - 2);

  WindowCutter grid (g, WindowNormalize::None);
  fail_unless_equals_int (grid.window_stride (), g.frames_per_stride ());
}
GST_END_TEST;

/* Windows the skip predicate refuses are counted, not returned; the others
 * are unchanged. */
GST_START_TEST (test_skipped_windows_not_laid_out)
{
  const WindowGeometry g = small_geometry (2);
  const size_t n_frames = 40;
  const std::vector<float> frames = make_frames (g, n_frames);
  const auto all = neuro::cut_frames (frames.data (), n_frames, g, WindowNormalize::Q95, 2);
  WindowCutter cutter (g, WindowNormalize::Q95, 2);
  std::vector<TokenizerWindow> kept;
  std::vector<uint64_t> asked;
  cutter.push (frames.data (), n_frames, kept, [&asked] (uint64_t index, uint64_t first_frame) {
    fail_unless_equals_int (first_frame, 2 * index);
    asked.push_back (index);
    return index % 3 != 0;
  });
  fail_unless_equals_int (asked.size (), all.size ());
  fail_unless_equals_int (kept.size (), (all.size () + 2) / 3);
  for (const TokenizerWindow &w : kept) {
    fail_unless_equals_int (w.index % 3, 0);
    fail_unless (w.stft == all[w.index].stft);
    fail_unless (w.raw == all[w.index].raw);
  }
}
GST_END_TEST;

GST_START_TEST (test_stride_rejected_n)
{
  const WindowGeometry g = small_geometry (1);
  const int S = g.frames_per_stride ();
  for (int K : { -1, S + 1, 1000 }) {
    const std::string problem = neuro::check_window_stride (g, K);
    fail_if (problem.empty (), "K=%d accepted", K);
    fail_unless (problem.find ("window-stride") != std::string::npos);
    fail_unless (problem.find ("1.." + std::to_string (S)) != std::string::npos, "%s", problem.c_str ());
    bool thrown = false;
    try {
      WindowCutter cutter (g, WindowNormalize::None, K);
    } catch (const std::invalid_argument &e) {
      thrown = std::string (e.what ()) == problem;
    }
    fail_unless (thrown, "K=%d: no or wrong exception", K);
  }
  fail_if (neuro::check_window_stride (g, 0).empty ());
  for (int K = 1; K <= S; K++)
    fail_unless (neuro::check_window_stride (g, K).empty ());
}
GST_END_TEST;

static Suite *
window_suite (void)
{
  Suite *s = suite_create ("tokenizer_window");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_geometry_of_authors_model);
  tcase_add_test (tc, test_geometry_rejected_n);
  tcase_add_test (tc, test_window_layout_and_samples);
  tcase_add_test (tc, test_buffering_independent);
  tcase_add_test (tc, test_pending_and_reset);
  tcase_add_test (tc, test_q95_matches_numpy);
  tcase_add_test (tc, test_q95_normalisation);
  tcase_add_test (tc, test_non_finite_marked_and_zeroed_n);
  tcase_add_test (tc, test_cut_signal_equals_streaming);
  tcase_add_test (tc, test_cut_signal_matches_stft_element_frames);
  tcase_add_test (tc, test_stride_windows_equal_default_on_shifted_input);
  tcase_add_test (tc, test_stride_buffering_and_long_stream);
  tcase_add_test (tc, test_stride_pending);
  tcase_add_test (tc, test_skipped_windows_not_laid_out);
  tcase_add_test (tc, test_stride_rejected_n);
  return s;
}

GST_CHECK_MAIN (window);
