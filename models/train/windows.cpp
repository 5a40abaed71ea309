// SPDX-License-Identifier: LGPL-2.1-or-later
#include "windows.h"

#include "stft.h"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace neuro::train {

void
WindowSet::append (const WindowSet &other)
{
  if (other.size () == 0)
    return;
  bins = other.bins;
  frames = other.frames;
  samples = other.samples;
  stft.insert (stft.end (), other.stft.begin (), other.stft.end ());
  raw.insert (raw.end (), other.raw.begin (), other.raw.end ());
}

namespace {

/* The stft element's transform: periodic Hann, magnitude, bins from 0. */
FrameSpectrum
element_spectrum (const WindowGeometry &g)
{
  StftConfig cfg;
  cfg.n_fft = g.n_fft;
  cfg.hop = g.hop;
  cfg.bins = g.bins;
  return [cfg] (const float *samples, float *magnitudes) {
    std::vector<float> m = stft_magnitude (samples, cfg.n_fft, cfg);
    std::copy (m.begin (), m.end (), magnitudes);
  };
}

int
window_label (const Recording &rec, size_t start, size_t length, int file_label, double purity)
{
  if (rec.sample_labels.empty ())
    return file_label;
  std::map<int, size_t> counts;
  for (size_t i = start; i < start + length; i++)
    counts[rec.sample_labels[i]]++;
  auto best = std::max_element (counts.begin (), counts.end (),
      [] (const auto &a, const auto &b) { return a.second < b.second; });
  return best->second >= purity * length ? best->first : -1;
}

}  // namespace

std::vector<ChannelWindow>
cut_recording (const Recording &rec, const WindowGeometry &geometry, int stride_samples, int file_label,
    double purity)
{
  const int C = static_cast<int> (rec.channels.size ());
  const size_t L = geometry.window_samples;
  const WindowGeometry g = geometry.with_channels (C);
  const std::string problem = g.check ();
  if (!problem.empty ())
    throw std::invalid_argument (problem);
  FrameSpectrum spectrum = element_spectrum (g);
  std::vector<ChannelWindow> out;
  std::vector<float> block (C * L);
  for (size_t start = 0; start + L <= rec.n_samples (); start += stride_samples) {
    for (int c = 0; c < C; c++)
      std::copy_n (rec.channels[c].begin () + start, L, block.begin () + c * L);
    /* One window at a time through the shared cutter: the same frames, the
     * same normalisation as the element at a window boundary. */
    auto cut = cut_signal (block.data (), L, g, WindowNormalize::Q95, spectrum);
    if (cut.size () != 1)
      continue;
    ChannelWindow w;
    w.stft = std::move (cut[0].stft);
    w.raw = std::move (cut[0].raw);
    w.signal = block;
    w.label = window_label (rec, start, L, file_label, purity);
    w.start_seconds = static_cast<double> (start) / rec.rate;
    out.push_back (std::move (w));
  }
  return out;
}

WindowSet
single_channel_rows (const std::vector<ChannelWindow> &windows, const WindowGeometry &geometry)
{
  WindowSet set;
  set.bins = geometry.bins;
  set.frames = geometry.frames_per_window ();
  set.samples = geometry.window_samples;
  const size_t srow = static_cast<size_t> (set.bins) * set.frames;
  for (const auto &w : windows) {
    size_t C = w.raw.size () / set.samples;
    for (size_t c = 0; c < C; c++) {
      const float *sig = w.signal.data () + c * set.samples;
      if (std::all_of (sig, sig + set.samples, [] (float v) { return v == 0.0f; }))
        continue;
      set.stft.insert (set.stft.end (), w.stft.begin () + c * srow, w.stft.begin () + (c + 1) * srow);
      set.raw.insert (set.raw.end (), w.raw.begin () + c * set.samples, w.raw.begin () + (c + 1) * set.samples);
    }
  }
  return set;
}

}  // namespace neuro::train
