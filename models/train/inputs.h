// SPDX-License-Identifier: LGPL-2.1-or-later
/* Training inputs for tfm-train: whole recordings read from the formats
 * people have, all brought to one sample rate.
 *
 *  - EDF/EDF+/BDF/BDF+ through neuro::read_eeg_file (the eegsrc reader);
 *  - WAV/FLAC/OGG (anything uridecodebin plays) through GStreamer:
 *    uridecodebin ! audioconvert ! audioresample ! appsink (F32);
 *  - plain text, CSV/TSV and ARFF columns at a rate given by the user,
 *    resampled with neuro::Resampler (the libsamplerate code eegsrc uses).
 *
 * LibTorch-free, so the tests can link it cheaply. */
#pragma once

#include "eeg_file.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace neuro::train {

/* A problem with one input file; what() names the file. */
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct InputOptions {
  int rate = 200;                      /* output sample rate, Hz */
  double text_rate = 0;                /* sample rate of text/CSV inputs (--rate); 0 = unknown */
  std::vector<std::string> channels;   /* EDF labels / CSV column names to keep; empty = all */
  bool mono = false;                   /* audio: mix down to one channel */
  std::string label_column;            /* text: column holding a per-sample class index */
  bool remove_dc = false;              /* subtract each channel's median (devices with an offset) */
};

/* One recording at InputOptions::rate, channel-major. */
struct Recording {
  std::string path;
  int rate = 0;
  std::vector<std::string> channel_names;
  std::vector<std::vector<float>> channels;   /* channels[c][i] */
  std::vector<int> sample_labels;             /* per sample class index, empty when none */
  std::vector<EegAnnotation> annotations;     /* EDF+ annotations */

  size_t n_samples () const { return channels.empty () ? 0 : channels[0].size (); }
};

/* Reads one input; the format is chosen by the file name extension.
 * Throws InputError naming the file for unreadable, empty or non-finite data. */
Recording read_input (const std::string &path, const InputOptions &opts);

/* Expands directories (recursively, sorted) into the files they hold with a
 * known extension; plain paths are kept. The order is deterministic. */
std::vector<std::string> expand_inputs (const std::vector<std::string> &paths);

/* True when the extension is one read_input understands. */
bool is_supported_input (const std::string &path);

}  // namespace neuro::train
