// SPDX-License-Identifier: LGPL-2.1-or-later
/* Tokenizing overlapping windows without recomputing the frequency branch
 * of the frames they share (LibTorch-free).
 *
 * The tokenizer's frequency branch turns each frame's spectrum into F
 * features on its own (its GroupNorms and attention stay inside the frame),
 * so when the spectra reach the model unchanged (normalize=none: no
 * per-window divisor), frame k gives the same features in every window that
 * holds it. With window stride K a window shares T - K frames with the one
 * before; only its K newest frames need the branch. The temporal branch and
 * the temporal transformer still see the whole window (their statistics mix
 * all its frames), so every token is the one Tokenizer::tokenize gives. */
#pragma once

#include "tfm_models.h"

#include <cstdint>
#include <vector>

namespace neuro {

class FrameSharingTokenizer {
 public:
  /* Keeps a reference to `tokenizer`, which must outlive this object. */
  FrameSharingTokenizer (Tokenizer &tokenizer, int channels);

  /* Tokenizes the window whose frame 0 is frame `first_frame` of the stream:
   * stft channels x bins x T, raw channels x L, tokens channels x T, as
   * Tokenizer::tokenize with n = channels. The caller guarantees that equal
   * frame indices mean equal spectra until reset(). */
  void tokenize (uint64_t first_frame, const float *stft, const float *raw, uint32_t *tokens);

  /* Forgets all frames (new stream, discontinuity). */
  void reset ();

  /* Frames whose features were computed / taken from an earlier window. */
  uint64_t frames_computed () const { return computed_; }
  uint64_t frames_shared () const { return shared_; }

 private:
  void compute_missing (uint64_t first_frame, const float *stft);

  Tokenizer &tokenizer_;
  int channels_, bins_, frames_, features_;
  /* Ring of the last T frames: slot k % T holds frame slot_frame_[slot]'s
   * channels x F features. */
  std::vector<uint64_t> slot_frame_;
  std::vector<bool> slot_valid_;
  std::vector<float> ring_;
  std::vector<float> spectra_, fresh_, window_;  /* scratch, reused */
  uint64_t computed_ = 0, shared_ = 0;
};

}  // namespace neuro
