// SPDX-License-Identifier: LGPL-2.1-or-later
/* Non-finite input through appsrc ! stft ! tfmtokenize: a NaN or infinite
 * sample in one channel makes that channel's tokens of every window holding
 * the sample "no token" (0xFFFFFFFF), the other channels and windows keep
 * exactly the tokens of the same run without it, and one warning per run of
 * such windows names the channel and the time. In every window mode, and on
 * the frame-sharing path (normalize=none with overlapping windows). */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <limits>

#include "geometry.h"
#include "tags.h"
#include "tokenize_fixtures.h"

constexpr int CHANNELS = 4;

struct Run
{
  std::vector<std::vector<uint32_t>> buffers;  /* frame-major, as the element sends them */
  std::vector<guint64> offsets;
  std::vector<std::string> warnings;
};

struct Mode
{
  int window_stride = 0;
  const char *emit = "window";
  const char *normalize = "q95";
};

/* Runs a channel-major signal through the pipeline (buffers of 137 samples),
 * with a neuro-channel-names tag when names are given. */
static Run
run_pipeline (const std::vector<float> & x, const Mode & mode, const std::vector<std::string> & names = {})
{
  const size_t n_samples = x.size () / CHANNELS;
  const std::vector<float> inter = interleave (x, CHANNELS);
  gchar *desc = g_strdup_printf ("appsrc name=src format=time caps=audio/x-raw,format=F32LE,"
      "layout=interleaved,rate=%d,channels=%d,channel-mask=(bitmask)0 ! stft ! tfmtokenize model=\"%s\" "
      "window-stride=%d emit=%s normalize=%s ! appsink name=sink sync=false", RATE, CHANNELS,
      model_10s ().c_str (), mode.window_stride, mode.emit, mode.normalize);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  g_free (desc);
  fail_unless (pipe != NULL && err == NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_PLAYING), GST_STATE_CHANGE_ASYNC);
  if (!names.empty ())
    fail_unless (gst_element_send_event (src, gst_event_new_tag (neuro::make_stream_tags ("eeg", names, std::vector<std::string> (names.size (), "uV")))));
  for (size_t i = 0, chunk = 137; i < n_samples; i += chunk) {
    const size_t n = std::min (chunk, n_samples - i);
    GstBuffer *buf = gst_buffer_new_allocate (NULL, n * CHANNELS * 4, NULL);
    gst_buffer_fill (buf, 0, inter.data () + i * CHANNELS, n * CHANNELS * 4);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (i, GST_SECOND, RATE);
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (n, GST_SECOND, RATE);
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), buf), GST_FLOW_OK);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  Run run;
  GstSample *sample;
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    run.buffers.push_back (buffer_tokens (gst_sample_get_buffer (sample)));
    run.offsets.push_back (GST_BUFFER_OFFSET (gst_sample_get_buffer (sample)));
    gst_sample_unref (sample);
  }
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (bus, (GstMessageType) (GST_MESSAGE_WARNING | GST_MESSAGE_ERROR)))) {
    GError *e = NULL;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
      gst_message_parse_error (msg, &e, NULL);
    else
      gst_message_parse_warning (msg, &e, NULL);
    fail_unless (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING, "error: %s", e->message);
    run.warnings.push_back (e->message);
    g_error_free (e);
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  return run;
}

static void
set_sample (std::vector<float> & x, int channel, size_t sample, float value)
{
  x[(size_t) channel * (x.size () / CHANNELS) + sample] = value;
}

/* Buffer b of `bad` against the same buffer of `clean`: channel `channel` is
 * all no token when `hit`, every other value equal. */
static void
check_buffer (const Run & clean, const Run & bad, size_t b, int channel, bool hit)
{
  const std::vector<uint32_t> &want = clean.buffers[b], &got = bad.buffers[b];
  fail_unless_equals_int (got.size (), want.size ());
  for (size_t i = 0; i < got.size (); i++) {
    const int c = (int) (i % CHANNELS);
    fail_unless (want[i] != neuro::kNoToken, "clean run gave no token in buffer %u", (guint) b);
    if (hit && c == channel)
      fail_unless (got[i] == neuro::kNoToken, "buffer %u frame %u channel %d: token %u, expected no token",
          (guint) b, (guint) (i / CHANNELS), c, got[i]);
    else
      fail_unless (got[i] == want[i], "buffer %u frame %u channel %d: token %u, clean run %u",
          (guint) b, (guint) (i / CHANNELS), c, got[i], want[i]);
  }
}

static void
check_one_warning (const Run & run, const std::string & channel, const std::string & time)
{
  fail_unless_equals_int (run.warnings.size (), 1);
  const std::string &w = run.warnings[0];
  fail_unless (contains (w, channel) && contains (w, time) && contains (w, "Non-finite"), "warning: %s",
      w.c_str ());
}

/* Default grid: window 1 of channel 2 holds a NaN; its 19 tokens are no
 * tokens, everything else is the clean run's; the warning uses the tag's
 * channel name. */
GST_START_TEST (test_nan_sample_n)
{
  neuro_tags_register ();
  std::vector<float> x = test_signal (CHANNELS, 3 * L + 100, 7);
  const Run clean = run_pipeline (x, Mode ());
  set_sample (x, 2, L + 777, std::numeric_limits<float>::quiet_NaN ());
  const Run bad = run_pipeline (x, Mode (), {"Fp1", "Fp2", "C3", "C4"});
  fail_unless_equals_int (clean.buffers.size (), 3);
  fail_unless_equals_int (bad.buffers.size (), 3);
  fail_unless (clean.warnings.empty ());
  for (size_t b = 0; b < 3; b++)
    check_buffer (clean, bad, b, 2, b == 1);
  check_one_warning (bad, "C3 (channel 2)", "from 10.000 s to 20.000 s");
}
GST_END_TEST;

/* +Inf and -Inf, without channel names: the warning gives the index. */
GST_START_TEST (test_inf_sample_n)
{
  std::vector<float> x = test_signal (CHANNELS, 3 * L, 8);
  const Run clean = run_pipeline (x, Mode ());
  for (float inf : {std::numeric_limits<float>::infinity (), -std::numeric_limits<float>::infinity ()}) {
    std::vector<float> y = x;
    set_sample (y, 0, 2 * L, inf);
    const Run bad = run_pipeline (y, Mode ());
    fail_unless_equals_int (bad.buffers.size (), 3);
    for (size_t b = 0; b < 3; b++)
      check_buffer (clean, bad, b, 0, b == 2);
    check_one_warning (bad, "on channel 0 in the window from 20.000 s", "20.000 s to 30.000 s");
  }
}
GST_END_TEST;

/* A run of non-finite windows gets one warning, a new run another. */
GST_START_TEST (test_warning_per_run_n)
{
  std::vector<float> x = test_signal (CHANNELS, 5 * L, 9);
  const Run clean = run_pipeline (x, Mode ());
  for (size_t w : {0, 1, 3})
    set_sample (x, 1, w * L + 5, std::numeric_limits<float>::quiet_NaN ());
  const Run bad = run_pipeline (x, Mode ());
  fail_unless_equals_int (bad.buffers.size (), 5);
  for (size_t b = 0; b < 5; b++)
    check_buffer (clean, bad, b, 1, b != 2 && b != 4);
  fail_unless_equals_int (bad.warnings.size (), 2);
  fail_unless (contains (bad.warnings[0], "channel 1 in the window from 0.000 s"), "%s", bad.warnings[0].c_str ());
  fail_unless (contains (bad.warnings[1], "channel 1 in the window from 30.000 s"), "%s",
      bad.warnings[1].c_str ());
}
GST_END_TEST;

/* Overlapping windows: exactly the windows whose samples [w*K*hop, +L) hold
 * the NaN lose channel 3, in emit=window (buffer offset / T = w) and in
 * emit=newest (buffer i = window i: the first T frames, then K per window);
 * normalize=none takes the frame-sharing path, whose cached frames must not
 * carry the NaN into windows without it. One warning per run. */
static void
check_overlapping (const Mode & mode)
{
  const size_t n_samples = 3 * L;
  const size_t nan_at = L + 333;
  std::vector<float> x = test_signal (CHANNELS, n_samples, 10);
  const Run clean = run_pipeline (x, mode);
  set_sample (x, 3, nan_at, std::numeric_limits<float>::quiet_NaN ());
  const Run bad = run_pipeline (x, mode);
  fail_unless_equals_int (bad.buffers.size (), clean.buffers.size ());
  fail_unless (clean.buffers.size () > 3);
  size_t hits = 0;
  for (size_t b = 0; b < bad.buffers.size (); b++) {
    const guint64 w = std::string (mode.emit) == "window" ? clean.offsets[b] / T : b;
    const size_t start = (size_t) w * mode.window_stride * HOP;
    const bool hit = start <= nan_at && nan_at < start + L;
    hits += hit;
    check_buffer (clean, bad, b, 3, hit);
  }
  fail_unless_equals_int (hits, (L / HOP) / mode.window_stride);
  check_one_warning (bad, "channel 3", "Non-finite");
}

GST_START_TEST (test_overlapping_window_n)
{
  Mode m;
  m.window_stride = 5;
  check_overlapping (m);
}
GST_END_TEST;

GST_START_TEST (test_newest_n)
{
  Mode m;
  m.window_stride = 2;
  m.emit = "newest";
  check_overlapping (m);
}
GST_END_TEST;

GST_START_TEST (test_frame_sharing_n)
{
  Mode m;
  m.window_stride = 4;
  m.normalize = "none";
  check_overlapping (m);
}
GST_END_TEST;

static Suite *
nonfinite_suite (void)
{
  Suite *s = suite_create ("tfmtokenize-nonfinite");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_nan_sample_n);
  tcase_add_test (tc, test_inf_sample_n);
  tcase_add_test (tc, test_warning_per_run_n);
  tcase_add_test (tc, test_overlapping_window_n);
  tcase_add_test (tc, test_newest_n);
  tcase_add_test (tc, test_frame_sharing_n);
  return s;
}

GST_CHECK_MAIN (nonfinite);
