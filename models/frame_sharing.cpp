// SPDX-License-Identifier: LGPL-2.1-or-later
#include "frame_sharing.h"

#include <algorithm>

namespace neuro {

FrameSharingTokenizer::FrameSharingTokenizer (Tokenizer &tokenizer, int channels)
    : tokenizer_ (tokenizer), channels_ (channels), bins_ (tokenizer.info ().geometry.bins),
      frames_ (tokenizer.info ().geometry.frames_per_window ()), features_ (tokenizer.frame_feature_size ())
{
  if (channels <= 0)
    throw ModelError ("frame sharing needs a positive channel count");
  slot_frame_.assign (frames_, 0);
  slot_valid_.assign (frames_, false);
  ring_.resize ((size_t) frames_ * channels_ * features_);
  window_.resize ((size_t) channels_ * frames_ * features_);
}

void
FrameSharingTokenizer::reset ()
{
  std::fill (slot_valid_.begin (), slot_valid_.end (), false);
}

/* Runs the frequency branch, in one batch, on the frames of this window that
 * no earlier window held, and files their features in the ring. */
void
FrameSharingTokenizer::compute_missing (uint64_t first_frame, const float *stft)
{
  std::vector<int> missing;
  for (int t = 0; t < frames_; t++) {
    const uint64_t k = first_frame + t;
    const int slot = (int) (k % frames_);
    if (slot_valid_[slot] && slot_frame_[slot] == k)
      shared_++;
    else
      missing.push_back (t);
  }
  if (missing.empty ())
    return;
  /* Rows (missing frame, channel), each one frame's spectrum. */
  const size_t rows = missing.size () * channels_;
  spectra_.resize (rows * bins_);
  fresh_.resize (rows * features_);
  for (size_t i = 0; i < missing.size (); i++)
    for (int c = 0; c < channels_; c++)
      for (int b = 0; b < bins_; b++)
        spectra_[(i * channels_ + c) * bins_ + b] = stft[((size_t) c * bins_ + b) * frames_ + missing[i]];
  tokenizer_.frame_features (spectra_.data (), (int) rows, fresh_.data ());
  const size_t per_frame = (size_t) channels_ * features_;
  for (size_t i = 0; i < missing.size (); i++) {
    const uint64_t k = first_frame + missing[i];
    const int slot = (int) (k % frames_);
    std::copy_n (fresh_.begin () + i * per_frame, per_frame, ring_.begin () + slot * per_frame);
    slot_frame_[slot] = k;
    slot_valid_[slot] = true;
  }
  computed_ += missing.size ();
}

void
FrameSharingTokenizer::tokenize (uint64_t first_frame, const float *stft, const float *raw, uint32_t *tokens)
{
  compute_missing (first_frame, stft);
  /* The window's features, channels x T x F, from the ring. */
  for (int t = 0; t < frames_; t++) {
    const float *frame = ring_.data () + ((first_frame + t) % frames_) * channels_ * features_;
    for (int c = 0; c < channels_; c++)
      std::copy_n (frame + (size_t) c * features_, features_,
          window_.begin () + ((size_t) c * frames_ + t) * features_);
  }
  tokenizer_.tokenize_with_features (window_.data (), raw, channels_, tokens);
}

}  // namespace neuro
