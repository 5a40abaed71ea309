// SPDX-License-Identifier: LGPL-2.1-or-later
/* FrameSharingTokenizer (models/frame_sharing.h): overlapping windows that
 * share the frequency branch of their common frames give exactly the tokens
 * of tokenizing each window on its own, at every stride, across a reset, and
 * compute the branch once per frame. Random-weight 2x2x8 test model. */
#include <gst/check/gstcheck.h>

#include <cmath>
#include <string>
#include <vector>

#include "frame_sharing.h"
#include "stft.h"
#include "test_paths.h"
#include "tfm_models.h"
#include "tokenizer_window.h"

static std::string
model_10s ()
{
  return neuro_test::build_dir () + "/tests/tokenize/test-tokenizer-10s.safetensors";
}

/* Spectrogram frames (stft element layout) of an EEG-like interleaved
 * signal: alpha and slow waves, different per channel, plus noise. */
static std::vector<float>
test_frames (const neuro::WindowGeometry &g, size_t n_samples)
{
  GRand *rand = g_rand_new_with_seed (7);
  std::vector<float> x (n_samples * g.channels);
  for (size_t i = 0; i < n_samples; i++)
    for (int c = 0; c < g.channels; c++)
      x[i * g.channels + c] = (float) (20.0 * std::sin (2 * G_PI * (8.0 + 0.3 * c) * i / 200.0 + c) +
          10.0 * std::sin (2 * G_PI * 1.1 * i / 200.0) + g_rand_double_range (rand, -8.0, 8.0));
  g_rand_free (rand);
  neuro::StftConfig cfg;
  cfg.n_fft = g.n_fft;
  cfg.hop = g.hop;
  cfg.bins = g.bins;
  cfg.channels = g.channels;
  cfg.waveform = true;
  return neuro::stft_frames (x.data (), n_samples, cfg);
}

static void
check_stride (neuro::Tokenizer &tok, const std::vector<float> &frames, const neuro::WindowGeometry &g, int K)
{
  const int T = g.frames_per_window ();
  const size_t n_frames = frames.size () / g.frame_floats ();
  const auto windows = neuro::cut_frames (frames.data (), n_frames, g, neuro::WindowNormalize::None, K);
  fail_unless (windows.size () >= 3);
  neuro::FrameSharingTokenizer sharing (tok, g.channels);
  std::vector<uint32_t> plain ((size_t) g.channels * T), shared (plain.size ());
  for (const auto &w : windows) {
    tok.tokenize (w.stft.data (), w.raw.data (), g.channels, plain.data ());
    sharing.tokenize (w.first_frame, w.stft.data (), w.raw.data (), shared.data ());
    for (size_t i = 0; i < plain.size (); i++)
      fail_unless (plain[i] == shared[i], "K=%d window %" G_GUINT64_FORMAT " channel %zu frame %zu: "
          "shared %u, plain %u", K, w.index, i / T, i % T, shared[i], plain[i]);
  }
  /* Each frame that some window holds goes through the branch once. */
  const uint64_t distinct = K <= T ? windows.back ().first_frame + T : windows.size () * (uint64_t) T;
  fail_unless_equals_int (sharing.frames_computed (), distinct);
  fail_unless_equals_int (sharing.frames_shared (), windows.size () * (uint64_t) T - distinct);
}

GST_START_TEST (test_shared_frames_same_tokens)
{
  auto tok = neuro::Tokenizer::load (model_10s ());
  const neuro::WindowGeometry g = tok->info ().geometry.with_channels (3);
  const std::vector<float> frames = test_frames (g, (size_t) g.window_samples + 45 * g.hop);
  for (int K : { 1, 2, 5, g.frames_per_stride () })
    check_stride (*tok, frames, g, K);
}
GST_END_TEST;

/* After reset() a frame index means a new frame: nothing is reused from the
 * old stream, so the tokens are those of the new signal. */
GST_START_TEST (test_reset_forgets_frames)
{
  auto tok = neuro::Tokenizer::load (model_10s ());
  const neuro::WindowGeometry g = tok->info ().geometry.with_channels (2);
  const int T = g.frames_per_window ();
  const std::vector<float> frames = test_frames (g, (size_t) g.window_samples + 4 * g.hop);
  const size_t n_frames = frames.size () / g.frame_floats ();
  const auto windows = neuro::cut_frames (frames.data (), n_frames, g, neuro::WindowNormalize::None, 1);
  neuro::FrameSharingTokenizer sharing (*tok, g.channels);
  std::vector<uint32_t> plain ((size_t) g.channels * T), shared (plain.size ());
  sharing.tokenize (0, windows[0].stft.data (), windows[0].raw.data (), shared.data ());
  sharing.reset ();
  /* Window 3's content presented as frame 0 of a new stream. */
  sharing.tokenize (0, windows[3].stft.data (), windows[3].raw.data (), shared.data ());
  tok->tokenize (windows[3].stft.data (), windows[3].raw.data (), g.channels, plain.data ());
  fail_unless (plain == shared);
  fail_unless_equals_int (sharing.frames_shared (), 0);
  fail_unless_equals_int (sharing.frames_computed (), 2 * T);
}
GST_END_TEST;

static Suite *
frame_sharing_suite (void)
{
  Suite *s = suite_create ("frame_sharing");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_shared_frames_same_tokens);
  tcase_add_test (tc, test_reset_forgets_frames);
  return s;
}

GST_CHECK_MAIN (frame_sharing);
