// SPDX-License-Identifier: LGPL-2.1-or-later
/* Streaming sample-rate conversion of interleaved float frames, any channel
 * count, with libsamplerate. It exists because GStreamer 1.22's audioresample
 * refuses 64 or more channels, and 64-channel EEG is common. */
#pragma once

#include <cstddef>
#include <vector>

typedef struct SRC_STATE_tag SRC_STATE;

namespace neuro {

class Resampler
{
public:
  /* Throws std::runtime_error when libsamplerate refuses the settings. */
  Resampler (int channels, int in_rate, int out_rate);
  ~Resampler ();
  Resampler (const Resampler &) = delete;
  Resampler &operator= (const Resampler &) = delete;

  /* Converts `frames` interleaved input frames and appends every output frame
   * available so far to `out`. With last = true the filter tail is flushed. */
  void process (const float *in, size_t frames, bool last, std::vector<float> &out);
  /* Forgets all history, as after a seek. */
  void reset ();

private:
  SRC_STATE *state_ = nullptr;
  int channels_;
  double ratio_;
  std::vector<float> pending_;  /* input frames libsamplerate has not consumed yet */
};

}  // namespace neuro
