// SPDX-License-Identifier: LGPL-2.1-or-later
/* An independent double-precision STFT written from the textbook definitions
 * (no FFT, no code shared with lib/dsp), for the stft tests. */
#pragma once

#include <glib.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <vector>

#include "stft.h"

namespace ref {

inline double
window (neuro::StftWindow w, int n, int N)
{
  const double a = 2.0 * M_PI * n / N;
  switch (w) {
    case neuro::StftWindow::Hann: return 0.5 * (1.0 - std::cos (a));
    case neuro::StftWindow::Hamming: return 0.54 - 0.46 * std::cos (a);
    case neuro::StftWindow::Blackman: return 0.42 - 0.5 * std::cos (a) + 0.08 * std::cos (2.0 * a);
    case neuro::StftWindow::Rectangular: return 1.0;
  }
  return 0.0;
}

/* Frame-major, channel-major values of every complete frame (no waveform). */
inline std::vector<double>
stft (const std::vector<float> &x, const neuro::StftConfig &cfg)
{
  const int C = cfg.channels, N = cfg.n_fft;
  const size_t len = x.size () / C;
  std::vector<double> out;
  double wsum = 0;
  for (int n = 0; n < N; n++)
    wsum += window (cfg.window, n, N);
  for (size_t t0 = 0; t0 + N <= len; t0 += cfg.hop)
    for (int c = 0; c < C; c++)
      for (int k = 0; k < cfg.bins; k++) {
        std::complex<double> acc = 0;
        for (int n = 0; n < N; n++)
          acc += (double) x[(t0 + n) * C + c] * window (cfg.window, n, N) *
              std::polar (1.0, -2.0 * M_PI * k * n / N);
        const double p = std::norm (acc);
        switch (cfg.scaling) {
          case neuro::StftScaling::Magnitude: out.push_back (std::sqrt (p)); break;
          case neuro::StftScaling::Spectrum: out.push_back (std::sqrt (p) / wsum); break;
          case neuro::StftScaling::Power: out.push_back (p); break;
          case neuro::StftScaling::Db: out.push_back (10.0 * std::log10 (std::max (p, 1e-10))); break;
        }
      }
  return out;
}

/* Largest |got - want| of a frame relative to that frame's largest |want|
 * (compared as power for dB), over all frames. `got` may carry
 * `stride - frame_values` extra floats (the waveform) after each frame. */
inline double
max_rel_error (const float *got, size_t stride, const std::vector<double> &want,
    size_t frame_values, bool db)
{
  double worst = 0;
  for (size_t f = 0, g0 = 0; f < want.size (); f += frame_values, g0 += stride) {
    double peak = 1e-30, err = 0;
    for (size_t i = 0; i < frame_values; i++) {
      const double w = db ? std::pow (10.0, want[f + i] / 10.0) : want[f + i];
      const double g = db ? std::pow (10.0, got[g0 + i] / 10.0) : got[g0 + i];
      peak = std::max (peak, std::fabs (w));
      err = std::max (err, std::fabs (g - w));
    }
    worst = std::max (worst, err / peak);
  }
  return worst;
}

}  // namespace ref
