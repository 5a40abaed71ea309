// SPDX-License-Identifier: LGPL-2.1-or-later
/* Cutting recordings into the tokenizer's windows for training, through the
 * shared cutter (lib/window) and STFT (lib/dsp), so training sees exactly the
 * inputs the tfmtokenize element feeds the model (q95 normalisation included).
 * LibTorch-free. */
#pragma once

#include "inputs.h"
#include "tokenizer_window.h"

#include <string>
#include <vector>

namespace neuro::train {

/* Single-channel windows, row-major: stft rows (bins x T), raw rows (L). */
struct WindowSet {
  int bins = 0, frames = 0, samples = 0;
  std::vector<float> stft;
  std::vector<float> raw;
  size_t size () const { return samples ? raw.size () / samples : 0; }
  void append (const WindowSet &other);
};

/* A multi-channel window (all channels of one recording at one time). */
struct ChannelWindow {
  std::vector<float> stft;  /* channels x bins x T */
  std::vector<float> raw;   /* channels x L, normalised */
  std::vector<float> signal;/* channels x L, before normalisation (for band powers) */
  int label = -1;           /* class index, -1 when unlabelled or mixed */
  double start_seconds = 0;
};

/* Every complete window of a recording (the tokenizer's `geometry`; its
 * channels are the recording's), starting at multiples of stride_samples
 * (less than the window for overlap). Labels come from rec.sample_labels
 * (majority, with at least `purity` of the samples agreeing) or `file_label`.
 * Throws std::invalid_argument with WindowGeometry::check()'s sentence. */
std::vector<ChannelWindow> cut_recording (const Recording &rec, const WindowGeometry &geometry,
    int stride_samples, int file_label = -1, double purity = 0.9);

/* Flattens channel windows into single-channel rows, dropping silent rows
 * (all samples zero: q95 normalisation would leave nothing to learn). */
WindowSet single_channel_rows (const std::vector<ChannelWindow> &windows, const WindowGeometry &geometry);

}  // namespace neuro::train
