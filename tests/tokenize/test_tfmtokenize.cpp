// SPDX-License-Identifier: LGPL-2.1-or-later
/* tfmtokenize element tests: model loading errors with state cycles, caps
 * negotiation against the model, window cutting and timestamps, DISCONT,
 * normalisation, EOS, latency, tags and events, and pipeline tokens against
 * direct calls of the model library on independently cut windows.
 *
 * Models: random-weight tokenizers of the authors' 2x2x8 shape, written at
 * build time by make_test_tokenizer.py into the build dir. */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <glib/gstdio.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "check_string.h"
#include "events.h"
#include "stft.h"
#include "tags.h"
#include "test_paths.h"
#include "tfm_models.h"

#include "tokenize_fixtures.h"

/* ---- model loading ------------------------------------------------------------- */

GST_START_TEST (test_missing_model_n)
{
  GstElement *e = new_tokenizer ("/nonexistent/dir/tok.safetensors");
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
  const std::string err = pop_error (bus);
  fail_unless (contains (err, "/nonexistent/dir/tok.safetensors"), "%s", err.c_str ());
  fail_unless (contains (err, "does not exist"), "%s", err.c_str ());

  /* State cycle: fixing the property makes the same element work. */
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  g_object_set (e, "model", model_10s ().c_str (), NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}
GST_END_TEST;

/* Truncated file, garbage header and a file whose header promises more data
 * than it holds: each refused at READY with the file named, never a crash. */
GST_START_TEST (test_corrupt_model_n)
{
  gchar *dir = g_dir_make_tmp ("tfmtokenize-XXXXXX", NULL);
  gchar *contents = NULL;
  gsize length = 0;
  fail_unless (g_file_get_contents (model_10s ().c_str (), &contents, &length, NULL));
  struct Case { const char *name; std::string bytes; } cases[] = {
    {"truncated.safetensors", std::string (contents, length / 2)},
    {"garbage.safetensors", std::string ("\x10\x00\x00\x00\x00\x00\x00\x00not json at all!", 24)},
    {"tiny.safetensors", std::string ("\x01\x02\x03", 3)},
    {"huge-header.safetensors", std::string ("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10)},
  };
  g_free (contents);
  GstBus *bus = gst_bus_new ();
  for (const Case &c : cases) {
    gchar *path = g_build_filename (dir, c.name, NULL);
    fail_unless (g_file_set_contents (path, c.bytes.data (), c.bytes.size (), NULL));
    GstElement *e = new_tokenizer (path);
    gst_element_set_bus (e, bus);
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
    const std::string err = pop_error (bus);
    fail_unless (contains (err, path), "%s: %s", c.name, err.c_str ());
    fail_unless (contains (err, "Could not load tokenizer model"), "%s", err.c_str ());
    gst_element_set_state (e, GST_STATE_NULL);
    gst_element_set_bus (e, NULL);
    gst_object_unref (e);
    g_unlink (path);
    g_free (path);
  }
  gst_object_unref (bus);
  g_rmdir (dir);
  g_free (dir);
}
GST_END_TEST;

/* modality picks <model dir>/tfm-tokenizer-<modality>.safetensors. */
GST_START_TEST (test_modality_selects_shipped_model_n)
{
  gchar *dir = g_dir_make_tmp ("tfmtokenize-XXXXXX", NULL);
  const std::string old_dir = neuro::default_model_dir ();
  g_setenv ("NEUROTOKENS_MODEL_DIR", dir, TRUE);
  GstElement *e = gst_element_factory_make ("tfmtokenize", NULL);
  gst_util_set_object_arg (G_OBJECT (e), "modality", "haptic");
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
  const std::string err = pop_error (bus);
  fail_unless (contains (err, std::string (dir) + "/tfm-tokenizer-haptic.safetensors"), "%s", err.c_str ());
  gst_element_set_state (e, GST_STATE_NULL);

  /* Once the shipped file is there, the same element loads it. */
  gchar *path = g_build_filename (dir, "tfm-tokenizer-haptic.safetensors", NULL);
  gchar *contents = NULL;
  gsize length = 0;
  fail_unless (g_file_get_contents (model_10s ().c_str (), &contents, &length, NULL));
  fail_unless (g_file_set_contents (path, contents, length, NULL));
  g_free (contents);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_setenv ("NEUROTOKENS_MODEL_DIR", old_dir.c_str (), TRUE);
  g_unlink (path);
  g_free (path);
  g_rmdir (dir);
  g_free (dir);
}
GST_END_TEST;

/* ---- caps ----------------------------------------------------------------------- */

/* Upstream (stft with unset properties) learns rate, n-fft, hop, bins and
 * waveform from the sink caps query; the src caps describe the tokens. */
GST_START_TEST (test_caps_from_model)
{
  GstBus *bus;
  GstHarness *h = new_harness (new_tokenizer (model_10s ()), &bus);
  GstCaps *sink = gst_pad_peer_query_caps (h->srcpad, NULL);
  GstCaps *want = spectrogram_caps (3);
  gst_structure_remove_field (gst_caps_get_structure (want, 0), "channels");
  fail_unless (gst_caps_is_subset (sink, want), "%" GST_PTR_FORMAT, sink);
  GstCaps *many = spectrogram_caps (64), *wrong_rate = spectrogram_caps (3, 256);
  fail_unless (gst_caps_can_intersect (sink, many));
  fail_if (gst_caps_can_intersect (sink, wrong_rate));
  gst_caps_unref (many);
  gst_caps_unref (wrong_rate);
  gst_caps_unref (want);
  gst_caps_unref (sink);

  gst_harness_set_src_caps (h, spectrogram_caps (3));
  GstCaps *out = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (out != NULL);
  /* model-sha256 names the exact weights: the SHA-256 of the model file */
  gchar *weights = NULL;
  gsize size = 0;
  fail_unless (g_file_get_contents (model_10s ().c_str (), &weights, &size, NULL));
  gchar *sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) weights, size);
  GstCaps *expected = gst_caps_from_string ("application/x-tokens, modality=(string)eeg, channels=(int)3, "
      "vocabulary=(int)8192, codebooks=(int)1, framerate=(fraction)2/1, model=(string)test-random-2x2x8-2000");
  gst_caps_set_simple (expected, "model-sha256", G_TYPE_STRING, sha256, NULL);
  fail_unless (gst_caps_is_equal (out, expected), "%" GST_PTR_FORMAT, out);
  g_free (sha256);
  g_free (weights);
  gst_caps_unref (expected);
  gst_caps_unref (out);
  teardown (h, bus);
}
GST_END_TEST;

/* Each mismatch gives an error that says what to change in the pipeline. */
GST_START_TEST (test_caps_mismatch_n)
{
  struct Case { GstCaps *caps; std::vector<std::string> hints; } cases[] = {
    {spectrogram_caps (4, 256), {"200 Hz", "256 Hz", "rate=200 on eegsrc", "audioresample ! audio/x-raw,rate=200"}},
    {spectrogram_caps (4, RATE, 256, 128, 128), {"n-fft=200 hop=100 bins=100", "n-fft=256", "stft"}},
    {spectrogram_caps (4, RATE, N_FFT, HOP, BINS, FALSE), {"waveform=true"}},
  };
  for (Case &c : cases) {
    GstBus *bus;
    GstHarness *h = new_harness (new_tokenizer (model_10s ()), &bus);
    /* The sticky caps event is stored on the harness pad whatever the
     * outcome; the refusal shows on the bus and on the first buffer. */
    gst_harness_push_event (h, gst_event_new_caps (c.caps));
    GstPad *sinkpad = gst_element_get_static_pad (h->element, "sink");
    fail_unless (gst_pad_get_current_caps (sinkpad) == NULL);
    gst_object_unref (sinkpad);
    GstSegment segment;
    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_harness_push_event (h, gst_event_new_segment (&segment));
    GstBuffer *buf = gst_buffer_new_allocate (NULL, 4 * (BINS + N_FFT) * 4, NULL);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_NOT_NEGOTIATED);
    const std::string err = pop_error (bus);
    for (const std::string &hint : c.hints)
      fail_unless (contains (err, hint), "missing '%s' in: %s", hint.c_str (), err.c_str ());
    fail_unless (contains (err, model_10s ()), "%s", err.c_str ());
    gst_caps_unref (c.caps);
    teardown (h, bus);
  }
}
GST_END_TEST;

/* ---- windows and timestamps ----------------------------------------------------- */

/* 2 windows and 12 frames of a 3rd, pushed in odd-sized buffers from PTS
 * 1000 s: two buffers at 1000 s and 1010 s of 9.5 s, 19 frames x channels
 * tokens equal to direct tokenization; the partial window is dropped at EOS. */
GST_START_TEST (test_windows_timestamps_and_eos)
{
  const int channels = 3;
  const size_t n_samples = 2 * L + 12 * HOP + N_FFT - HOP;
  const std::vector<float> x = test_signal (channels, n_samples, 7);
  const neuro::StftConfig cfg = stft_config (channels);
  const std::vector<float> frames = neuro::stft_frames (interleave (x, channels).data (), n_samples, cfg);
  const size_t ff = neuro::stft_frame_floats (cfg);
  const size_t n_frames = frames.size () / ff;
  fail_unless_equals_int (n_frames, 2 * S + 12);

  GstBus *bus;
  GstHarness *h = new_harness (new_tokenizer (model_10s ()), &bus);
  gst_harness_set_src_caps (h, spectrogram_caps (channels));
  const GstClockTime base = 1000 * GST_SECOND;
  for (size_t k = 0, chunk = 1; k < n_frames; k += chunk, chunk = chunk % 7 + 1) {
    const size_t count = std::min (chunk, n_frames - k);
    GstBuffer *buf = spectrogram_buffer (frames, ff, k, count, base);
    if (k == 0)
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);

  auto tok = neuro::Tokenizer::load (model_10s ());
  for (size_t w = 0; w < 2; w++) {
    GstBuffer *out = gst_harness_pull (h);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), base + w * 10 * GST_SECOND);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), 9500 * GST_MSECOND);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), w * T);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (out), (w + 1) * T);
    fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DISCONT), w == 0);
    assert_same_tokens (out, direct_tokens (*tok, x, channels, w, true), channels, w);
    gst_buffer_unref (out);
  }
  fail_unless (pop_error (bus).empty ());
  teardown (h, bus);
}
GST_END_TEST;

/* A DISCONT restarts the window grid at the flagged buffer; a PTS jump
 * without the flag does too; the unfinished window before it is dropped. */
GST_START_TEST (test_discont_restarts_windows)
{
  const int channels = 2;
  const size_t n_samples = L + N_FFT - HOP + (size_t) S * HOP;   /* frames 0 .. 2S-1 */
  const std::vector<float> x = test_signal (channels, n_samples, 3);
  const neuro::StftConfig cfg = stft_config (channels);
  const std::vector<float> frames = neuro::stft_frames (interleave (x, channels).data (), n_samples, cfg);
  const size_t ff = neuro::stft_frame_floats (cfg);

  for (bool flagged : { true, false }) {
    GstBus *bus;
    GstHarness *h = new_harness (new_tokenizer (model_10s ()), &bus);
    gst_harness_set_src_caps (h, spectrogram_caps (channels));
    /* 10 frames at 0 s, then a whole window's frames from 100 s on. */
    gst_harness_push (h, spectrogram_buffer (frames, ff, 0, 10, 0));
    GstBuffer *jump = spectrogram_buffer (frames, ff, 0, T, 0);
    GST_BUFFER_PTS (jump) = 100 * GST_SECOND;
    if (flagged)
      GST_BUFFER_FLAG_SET (jump, GST_BUFFER_FLAG_DISCONT);
    gst_harness_push (h, jump);
    fail_unless_equals_int (gst_harness_buffers_received (h), 1);
    GstBuffer *out = gst_harness_pull (h);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 100 * GST_SECOND);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), 0);
    fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DISCONT));
    gst_buffer_unref (out);
    teardown (h, bus);
  }
}
GST_END_TEST;

/* A flush forgets the frames of the unfinished window. */
GST_START_TEST (test_flush_resets)
{
  const int channels = 1;
  const size_t n_samples = 2 * L;
  const std::vector<float> x = test_signal (channels, n_samples, 5);
  const neuro::StftConfig cfg = stft_config (channels);
  const std::vector<float> frames = neuro::stft_frames (x.data (), n_samples, cfg);
  const size_t ff = neuro::stft_frame_floats (cfg);
  GstBus *bus;
  GstHarness *h = new_harness (new_tokenizer (model_10s ()), &bus);
  gst_harness_set_src_caps (h, spectrogram_caps (channels));
  gst_harness_push (h, spectrogram_buffer (frames, ff, 0, 15, 0));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  /* 15 more frames (continuing PTS) would complete the old window; after the
   * flush they are frames 0..14 of a new one: no output. */
  gst_harness_push (h, spectrogram_buffer (frames, ff, 15, 15, 0));
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  gst_harness_push (h, spectrogram_buffer (frames, ff, 30, 4, 0));
  fail_unless_equals_int (gst_harness_buffers_received (h), 1);
  GstBuffer *out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 15 * HOP * GST_SECOND / RATE);
  gst_buffer_unref (out);
  teardown (h, bus);
}
GST_END_TEST;

/* normalize=none tokenizes the values as they are; q95 is the default and
 * makes tokens invariant to the amplitude (x4 is exact in float). */
GST_START_TEST (test_normalize)
{
  const int channels = 2;
  const size_t n_samples = L + N_FFT;
  std::vector<float> x = test_signal (channels, n_samples, 11);
  auto tok = neuro::Tokenizer::load (model_10s ());
  std::vector<std::vector<uint32_t>> got;
  for (const char *normalize : { "none", "q95" }) {
    for (float gain : { 1.0f, 4.0f }) {
      std::vector<float> y = x;
      for (float &v : y)
        v *= gain;
      const neuro::StftConfig cfg = stft_config (channels);
      const std::vector<float> frames = neuro::stft_frames (interleave (y, channels).data (), n_samples, cfg);
      GstBus *bus;
      GstHarness *h = new_harness (new_tokenizer (model_10s (), normalize), &bus);
      gst_harness_set_src_caps (h, spectrogram_caps (channels));
      gst_harness_push (h, spectrogram_buffer (frames, neuro::stft_frame_floats (cfg), 0,
              frames.size () / neuro::stft_frame_floats (cfg), 0));
      GstBuffer *out = gst_harness_pull (h);
      assert_same_tokens (out, direct_tokens (*tok, y, channels, 0, g_str_equal (normalize, "q95")), channels, 0);
      got.push_back (buffer_tokens (out));
      gst_buffer_unref (out);
      teardown (h, bus);
    }
  }
  fail_if (got[0] == got[2], "none and q95 gave the same tokens: normalisation not applied");
  fail_if (got[0] == got[1], "normalize=none ignored a 4x gain");
  fail_unless (got[2] == got[3], "q95 tokens changed with a 4x gain");
}
GST_END_TEST;

/* The thread count changes the speed, never the tokens. */
GST_START_TEST (test_threads_same_tokens)
{
  const int channels = 16;
  const size_t n_samples = L + N_FFT;
  const std::vector<float> x = test_signal (channels, n_samples, 21);
  const neuro::StftConfig cfg = stft_config (channels);
  const std::vector<float> frames = neuro::stft_frames (interleave (x, channels).data (), n_samples, cfg);
  const size_t ff = neuro::stft_frame_floats (cfg);
  std::vector<std::vector<uint32_t>> got;
  for (int threads : { 1, 2, 0 }) {
    GstElement *e = new_tokenizer (model_10s ());
    g_object_set (e, "threads", threads, NULL);
    GstBus *bus;
    GstHarness *h = new_harness (e, &bus);
    gst_harness_set_src_caps (h, spectrogram_caps (channels));
    gst_harness_push (h, spectrogram_buffer (frames, ff, 0, frames.size () / ff, 0));
    GstBuffer *out = gst_harness_pull (h);
    got.push_back (buffer_tokens (out));
    gst_buffer_unref (out);
    teardown (h, bus);
  }
  fail_unless (got[0] == got[1]);
  fail_unless (got[0] == got[2]);
}
GST_END_TEST;

/* A buffer that is not a whole number of frames is a stream error. */
GST_START_TEST (test_partial_frame_buffer_n)
{
  GstBus *bus;
  GstHarness *h = new_harness (new_tokenizer (model_10s ()), &bus);
  gst_harness_set_src_caps (h, spectrogram_caps (2));
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 2 * (BINS + N_FFT) * 4 + 12, NULL);
  gst_buffer_memset (buf, 0, 0, gst_buffer_get_size (buf));
  GST_BUFFER_PTS (buf) = 0;
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_ERROR);
  const std::string err = pop_error (bus);
  fail_unless (contains (err, "not a whole number"), "%s", err.c_str ());
  teardown (h, bus);
}
GST_END_TEST;

/* ---- latency, tags, events ------------------------------------------------------ */

/* Upstream latency + (T-1) hops (the last frame of a window arrives 9 s after
 * its first) + the forward pass, which is measured and announced. */
GST_START_TEST (test_latency_query)
{
  GstBus *bus;
  GstHarness *h = new_harness (new_tokenizer (model_10s ()), &bus);
  gst_harness_set_upstream_latency (h, GST_SECOND);
  gst_harness_set_src_caps (h, spectrogram_caps (1));
  GstQuery *q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless_equals_uint64 (min, GST_SECOND + 9 * GST_SECOND);
  gst_query_unref (q);

  /* One window: its forward pass raises the latency and says so. */
  const std::vector<float> x = test_signal (1, L, 2);
  const neuro::StftConfig cfg = stft_config (1);
  const std::vector<float> frames = neuro::stft_frames (x.data (), L, cfg);
  gst_harness_push (h, spectrogram_buffer (frames, neuro::stft_frame_floats (cfg), 0, T, 0));
  fail_unless_equals_int (gst_harness_buffers_received (h), 1);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_LATENCY);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless (min > 10 * GST_SECOND);
  gst_query_unref (q);
  teardown (h, bus);
}
GST_END_TEST;

static std::string
output_modality (GstHarness * h)
{
  GstEvent *ev;
  std::string modality;
  while ((ev = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_TAG) {
      GstTagList *tags;
      gchar *m = NULL;
      gst_event_parse_tag (ev, &tags);
      if (gst_tag_list_get_string (tags, NEURO_TAG_MODALITY, &m))
        modality = m;
      g_free (m);
    }
    gst_event_unref (ev);
  }
  return modality;
}

/* Tags without modality get the model's; a modality upstream says is kept;
 * a stream without tags still gets one. */
GST_START_TEST (test_tags_and_events)
{
  neuro_tags_register ();
  const std::vector<float> x = test_signal (1, L, 2);
  const neuro::StftConfig cfg = stft_config (1);
  const std::vector<float> frames = neuro::stft_frames (x.data (), L, cfg);
  const size_t ff = neuro::stft_frame_floats (cfg);

  GstBus *bus;
  GstHarness *h = new_harness (new_tokenizer (model_10s ()), &bus);
  gst_harness_set_src_caps (h, spectrogram_caps (1));
  GstTagList *tags = gst_tag_list_new (GST_TAG_TITLE, "x", NULL);
  gst_tag_list_set_scope (tags, GST_TAG_SCOPE_STREAM);
  gst_harness_push_event (h, gst_event_new_tag (tags));
  fail_unless_equals_std_string (output_modality (h), "eeg");
  teardown (h, bus);

  h = new_harness (new_tokenizer (model_10s ()), &bus);
  gst_harness_set_src_caps (h, spectrogram_caps (1));
  gst_harness_push_event (h, gst_event_new_tag (neuro::make_stream_tags ("haptic", {"x"}, {"g"})));
  fail_unless_equals_std_string (output_modality (h), "haptic");
  teardown (h, bus);

  h = new_harness (new_tokenizer (model_10s ()), &bus);
  gst_harness_set_src_caps (h, spectrogram_caps (1));
  gst_harness_push (h, spectrogram_buffer (frames, ff, 0, T, 0));
  fail_unless_equals_std_string (output_modality (h), "eeg");
  teardown (h, bus);
}
GST_END_TEST;

GST_START_TEST (test_custom_event_forwarded)
{
  GstBus *bus;
  GstHarness *h = new_harness (new_tokenizer (model_10s ()), &bus);
  gst_harness_set_src_caps (h, spectrogram_caps (1));
  neuro::Annotation a;
  a.pts = 3 * GST_SECOND;
  a.duration = GST_SECOND;
  a.text = "eyes closed";
  fail_unless (gst_harness_push_event (h, neuro::annotation_event_new (a)));
  GstEvent *ev;
  bool found = false;
  while ((ev = gst_harness_try_pull_event (h))) {
    neuro::Annotation got;
    if (GST_EVENT_TYPE (ev) == GST_EVENT_CUSTOM_DOWNSTREAM &&
        neuro::annotation_from_structure (gst_event_get_structure (ev), got)) {
      found = got.text == a.text && got.pts == a.pts && got.duration == a.duration;
    }
    gst_event_unref (ev);
  }
  fail_unless (found);
  teardown (h, bus);
}
GST_END_TEST;

/* ---- pipeline against the model library -------------------------------------------- */

/* appsrc ! stft ! tfmtokenize ! appsink on 3 windows and a half of a
 * channels-channel signal, compared with direct tokenization of windows cut
 * by hand: any off-by-one frame or window misalignment changes tokens. */
static void
check_pipeline_equals_direct (int channels)
{
  const size_t n_samples = 3 * L + L / 2;
  const std::vector<float> x = test_signal (channels, n_samples, 100 + channels);
  const std::vector<float> inter = interleave (x, channels);

  gchar *desc = g_strdup_printf ("appsrc name=src format=time caps=audio/x-raw,format=F32LE,layout=interleaved,"
      "rate=%d,channels=%d%s ! stft ! tfmtokenize model=\"%s\" ! appsink name=sink sync=false", RATE, channels,
      channels > 2 ? ",channel-mask=(bitmask)0" : "", model_10s ().c_str ());
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  g_free (desc);
  fail_unless (pipe != NULL && err == NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_PLAYING), GST_STATE_CHANGE_ASYNC);

  /* Buffers of 137 samples: nothing lines up with frames or windows. */
  const size_t chunk = 137;
  for (size_t i = 0; i < n_samples; i += chunk) {
    const size_t n = std::min (chunk, n_samples - i);
    GstBuffer *buf = gst_buffer_new_allocate (NULL, n * channels * 4, NULL);
    gst_buffer_fill (buf, 0, inter.data () + i * channels, n * channels * 4);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (i, GST_SECOND, RATE);
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (n, GST_SECOND, RATE);
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), buf), GST_FLOW_OK);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  auto tok = neuro::Tokenizer::load (model_10s ());
  for (size_t w = 0; w < 3; w++) {
    GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
    fail_unless (sample != NULL, "window %u missing", (guint) w);
    GstBuffer *buf = gst_sample_get_buffer (sample);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), w * 10 * GST_SECOND);
    assert_same_tokens (buf, direct_tokens (*tok, x, channels, w, true), channels, w);
    gst_sample_unref (sample);
  }
  fail_unless (gst_app_sink_pull_sample (GST_APP_SINK (sink)) == NULL, "partial window was emitted");
  fail_unless (gst_app_sink_is_eos (GST_APP_SINK (sink)));
  GstBus *bus = gst_element_get_bus (pipe);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipe);
}

GST_START_TEST (test_pipeline_equals_direct_1ch)
{
  check_pipeline_equals_direct (1);
}
GST_END_TEST;

GST_START_TEST (test_pipeline_equals_direct_16ch)
{
  check_pipeline_equals_direct (16);
}
GST_END_TEST;

GST_START_TEST (test_pipeline_equals_direct_64ch)
{
  check_pipeline_equals_direct (64);
}
GST_END_TEST;

static Suite *
tfmtokenize_suite (void)
{
  Suite *s = suite_create ("tfmtokenize");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_missing_model_n);
  tcase_add_test (tc, test_corrupt_model_n);
  tcase_add_test (tc, test_modality_selects_shipped_model_n);
  tcase_add_test (tc, test_caps_from_model);
  tcase_add_test (tc, test_caps_mismatch_n);
  tcase_add_test (tc, test_windows_timestamps_and_eos);
  tcase_add_test (tc, test_discont_restarts_windows);
  tcase_add_test (tc, test_flush_resets);
  tcase_add_test (tc, test_normalize);
  tcase_add_test (tc, test_threads_same_tokens);
  tcase_add_test (tc, test_partial_frame_buffer_n);
  tcase_add_test (tc, test_latency_query);
  tcase_add_test (tc, test_tags_and_events);
  tcase_add_test (tc, test_custom_event_forwarded);
  tcase_add_test (tc, test_pipeline_equals_direct_1ch);
  tcase_add_test (tc, test_pipeline_equals_direct_16ch);
  tcase_add_test (tc, test_pipeline_equals_direct_64ch);
  return s;
}

GST_CHECK_MAIN (tfmtokenize);
