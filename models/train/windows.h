/* Cutting recordings into the tokenizer's windows for training, through the
 * shared cutter (lib/window) and STFT (lib/dsp), so training sees exactly the
 * inputs the tfmtokenize element feeds the model (q95 normalisation included).
 * LibTorch-free. */
#pragma once

#include "inputs.h"
#include "tokenizer_window.h"

#include <map>
#include <string>
#include <vector>

namespace neuro::train {

struct WindowSpec {
  int rate = 200;
  int n_fft = 200;
  int hop = 100;
  int bins = 100;
  int window_samples = 2000;
  int stride_samples = 2000;  /* distance between window starts; < window for overlap */
};

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

/* Every complete window of a recording, starting at multiples of
 * spec.stride_samples. Labels come from rec.sample_labels (majority, with at
 * least `purity` of the samples agreeing) or `file_label`. */
std::vector<ChannelWindow> cut_recording (const Recording &rec, const WindowSpec &spec,
    int file_label = -1, double purity = 0.9);

/* Flattens channel windows into single-channel rows, dropping silent rows
 * (all samples zero: q95 normalisation would leave nothing to learn). */
WindowSet single_channel_rows (const std::vector<ChannelWindow> &windows, const WindowSpec &spec);

/* Writes the window geometry keys the elements read from a model file
 * (sample-rate, n-fft, hop, bins, window-samples) into safetensors metadata. */
void add_window_metadata (std::map<std::string, std::string> &metadata, const WindowSpec &spec);

/* The geometry the cutter needs, with a sentence when it cannot work. */
WindowGeometry geometry_for (const WindowSpec &spec, int channels);

}  // namespace neuro::train
