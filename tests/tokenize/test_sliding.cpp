// SPDX-License-Identifier: LGPL-2.1-or-later
/* tfmtokenize with overlapping windows (window-stride) and the newest-token
 * stream (emit=newest): tokens against the direct reference on shifted
 * input at every stride, timestamps and coverage, caps fields, latency per
 * mode, refused settings, and overload of a live pipeline. */
#include <gst/app/gstappsink.h>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "tokenize_fixtures.h"

static GstElement *
sliding_tokenizer (int window_stride, const char *emit, const char *normalize = "q95")
{
  GstElement *e = new_tokenizer (model_10s (), normalize);
  g_object_set (e, "window-stride", window_stride, NULL);
  gst_util_set_object_arg (G_OBJECT (e), "emit", emit);
  return e;
}

static GstClockTime
frame_pts (GstClockTime base, guint64 frame)
{
  return base + gst_util_uint64_scale (frame * HOP, GST_SECOND, RATE);
}

/* Spectrogram frames of a channel-major signal, pushed in buffers of 1..7
 * frames (nothing lines up with windows). */
static void
push_frames (GstHarness * h, const std::vector<float> & x, int channels, GstClockTime base)
{
  const neuro::StftConfig cfg = stft_config (channels);
  const size_t n_samples = x.size () / channels;
  const std::vector<float> frames = neuro::stft_frames (interleave (x, channels).data (), n_samples, cfg);
  const size_t ff = neuro::stft_frame_floats (cfg);
  const size_t n_frames = frames.size () / ff;
  for (size_t k = 0, chunk = 3; k < n_frames; k += chunk, chunk = chunk % 7 + 1) {
    GstBuffer *buf = spectrogram_buffer (frames, ff, k, std::min (chunk, n_frames - k), base);
    if (k == 0)
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
}

static bool
caps_have_window_fields (GstHarness * h, int *frames, int *stride)
{
  GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (caps != NULL);
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  const bool has = gst_structure_get_int (s, "window-frames", frames) &&
      gst_structure_get_int (s, "window-stride", stride);
  fail_unless (has || (!gst_structure_has_field (s, "window-frames") &&
          !gst_structure_has_field (s, "window-stride")), "half the window fields: %" GST_PTR_FORMAT, caps);
  gst_caps_unref (caps);
  return has;
}

/* emit=window at stride K: window w is samples [w*K*hop, w*K*hop + L), and
 * its T tokens are those of the reference grid on the input shifted by
 * w*K*hop samples; PTS, duration, offsets (w*T) and caps fields follow. */
static void
check_windows_at_stride (neuro::Tokenizer & tok, int K, const char *normalize, int windows)
{
  const int channels = 2;
  const size_t n_samples = (size_t) ((windows - 1) * K + T - 1) * HOP + N_FFT;
  const std::vector<float> x = test_signal (channels, n_samples, 40 + K);
  GstBus *bus;
  GstHarness *h = new_harness (sliding_tokenizer (K, "window", normalize), &bus);
  gst_harness_set_src_caps (h, spectrogram_caps (channels));
  const GstClockTime base = 100 * GST_SECOND;
  push_frames (h, x, channels, base);
  fail_unless_equals_int (gst_harness_buffers_received (h), windows);

  int frames = 0, stride = 0;
  fail_unless_equals_int (caps_have_window_fields (h, &frames, &stride), K < S);
  if (K < S) {
    fail_unless_equals_int (frames, T);
    fail_unless_equals_int (stride, K);
  }
  const bool q95 = std::string (normalize) == "q95";
  for (int w = 0; w < windows; w++) {
    GstBuffer *out = gst_harness_pull (h);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), frame_pts (base, (guint64) w * K));
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), frame_pts (0, T));
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), (guint64) w * T);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (out), (guint64) (w + 1) * T);
    assert_same_tokens (out, direct_tokens_at (tok, x, channels, (size_t) w * K * HOP, q95), channels, w);
    gst_buffer_unref (out);
  }
  fail_unless (pop_error (bus).empty ());
  teardown (h, bus);
}

GST_START_TEST (test_every_stride_equals_shifted_reference)
{
  auto tok = neuro::Tokenizer::load (model_10s ());
  for (int K = 1; K <= S; K++)
    check_windows_at_stride (*tok, K, "q95", 3);
}
GST_END_TEST;

/* normalize=none shares the frequency branch between overlapping windows:
 * still exactly the reference's tokens. */
GST_START_TEST (test_shared_frequency_branch_equals_reference)
{
  auto tok = neuro::Tokenizer::load (model_10s ());
  for (int K : { 1, 3, T, S })
    check_windows_at_stride (*tok, K, "none", 6);
}
GST_END_TEST;

/* emit=newest: one continuous stream, each frame exactly once, in order,
 * buffer PTS = its first frame's PTS from the frame counter, no gaps; the
 * first window gives all T frames, each later one its newest K, with the
 * tokens that window has for them. No window fields in the caps. */
static void
check_newest (neuro::Tokenizer & tok, int K)
{
  const int channels = 2, windows = 7;
  const size_t n_frames = (size_t) (windows - 1) * K + T;
  const size_t n_samples = (n_frames - 1) * HOP + N_FFT + HOP / 2;  /* and half a frame more */
  const std::vector<float> x = test_signal (channels, n_samples, 60 + K);
  GstBus *bus;
  GstHarness *h = new_harness (sliding_tokenizer (K, "newest"), &bus);
  gst_harness_set_src_caps (h, spectrogram_caps (channels));
  const GstClockTime base = 7 * GST_SECOND;
  push_frames (h, x, channels, base);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), windows);
  int frames, stride;
  fail_if (caps_have_window_fields (h, &frames, &stride));

  guint64 next = 0;
  for (int w = 0; w < windows; w++) {
    GstBuffer *out = gst_harness_pull (h);
    const guint64 count = w == 0 ? T : K;
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), next);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (out), next + count);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), frame_pts (base, next));
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out) + GST_BUFFER_DURATION (out), frame_pts (base, next + count));
    fail_unless_equals_int (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DISCONT), w == 0);
    const std::vector<uint32_t> got = buffer_tokens (out);
    fail_unless_equals_int (got.size (), count * channels);
    const std::vector<uint32_t> ref = direct_tokens_at (tok, x, channels, (size_t) w * K * HOP, true);
    for (guint64 i = 0; i < count; i++)
      for (int c = 0; c < channels; c++)
        fail_unless (got[i * channels + c] == ref[(size_t) c * T + (T - count) + i],
            "K=%d window %d frame %" G_GUINT64_FORMAT ": token differs from its window's", K, w, next + i);
    next += count;
    gst_buffer_unref (out);
  }
  fail_unless_equals_uint64 (next, n_frames);
  fail_unless (pop_error (bus).empty ());
  teardown (h, bus);
}

GST_START_TEST (test_newest_covers_each_frame_once)
{
  auto tok = neuro::Tokenizer::load (model_10s ());
  for (int K : { 1, 4, T })
    check_newest (*tok, K);
}
GST_END_TEST;

static GstClockTime
latency_min (GstHarness * h)
{
  GstQuery *q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency (q, &live, &min, &max);
  gst_query_unref (q);
  return min;
}

/* What the element adds before any forward pass: T-1 hops for whole
 * windows (PTS = first frame, leaves with the last), K-1 hops for the
 * newest K frames (0 for K=1); after one window, plus that pass. */
GST_START_TEST (test_latency_per_mode)
{
  struct Case { int K; const char *emit; GstClockTime ours; } cases[] = {
    { 1, "window", (T - 1) * GST_SECOND / 2 },
    { 1, "newest", 0 },
    { 4, "newest", 3 * GST_SECOND / 2 },
    { S, "window", (T - 1) * GST_SECOND / 2 },
  };
  for (const Case &c : cases) {
    GstBus *bus;
    GstHarness *h = new_harness (sliding_tokenizer (c.K, c.emit), &bus);
    gst_harness_set_upstream_latency (h, GST_SECOND);
    gst_harness_set_src_caps (h, spectrogram_caps (1));
    fail_unless_equals_uint64 (latency_min (h), GST_SECOND + c.ours);
    const std::vector<float> x = test_signal (1, L, 2);
    push_frames (h, x, 1, 0);
    fail_unless_equals_int (gst_harness_buffers_received (h), 1);
    const GstClockTime after = latency_min (h);
    fail_unless (after > GST_SECOND + c.ours, "K=%d %s: forward pass not in the latency", c.K, c.emit);
    fail_unless (after < GST_SECOND + c.ours + 5 * GST_SECOND, "K=%d %s: implausible latency", c.K, c.emit);
    teardown (h, bus);
  }
}
GST_END_TEST;

static std::string
ready_error (int window_stride, const char *emit)
{
  GstElement *e = sliding_tokenizer (window_stride, emit);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
  const std::string err = pop_error (bus);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_object_unref (e);
  return err;
}

GST_START_TEST (test_window_stride_outside_range_n)
{
  for (int K : { S + 1, 1000 }) {
    const std::string err = ready_error (K, "window");
    fail_unless (contains (err, "window-stride " + std::to_string (K) + " is outside 1.." + std::to_string (S)),
        "%s", err.c_str ());
    fail_unless (g_utf8_validate (err.c_str (), -1, NULL));
  }
}
GST_END_TEST;

GST_START_TEST (test_newest_without_overlap_n)
{
  for (int K : { 0, S }) {
    const std::string err = ready_error (K, "newest");
    fail_unless (contains (err, "emit=newest needs window-stride <= " + std::to_string (T)), "%s", err.c_str ());
    fail_unless (contains (err, "window-stride=1"), "%s", err.c_str ());
  }
}
GST_END_TEST;

/* A change made in READY is checked at READY->PAUSED. */
GST_START_TEST (test_bad_stride_set_in_ready_n)
{
  GstElement *e = sliding_tokenizer (1, "newest");
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  g_object_set (e, "window-stride", S, NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  const std::string err = pop_error (bus);
  fail_unless (contains (err, "emit=newest needs"), "%s", err.c_str ());
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_object_unref (e);
}
GST_END_TEST;

/* ---- overload ---------------------------------------------------------------- */

static long
rss_kib ()
{
  std::ifstream statm ("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * (sysconf (_SC_PAGESIZE) / 1024);
}

struct OverloadRun {
  int qos = 0, warnings = 0, errors = 0;
  std::string warning;
  guint64 dropped_in_qos = 0;
  std::vector<GstClockTimeDiff> lags;   /* per window out: running time at arrival - support end */
  std::vector<guint64> queued_ns;       /* the queue's level when each window arrived */
  std::vector<long> rss;                /* KiB when each window arrived */
};

static void
take_messages (GstBus * bus, GstElement * tok, OverloadRun & run)
{
  GstMessage *msg;
  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_QOS && GST_MESSAGE_SRC (msg) == GST_OBJECT (tok)) {
      GstFormat format;
      guint64 processed, dropped;
      gst_message_parse_qos_stats (msg, &format, &processed, &dropped);
      fail_unless_equals_int (format, GST_FORMAT_BUFFERS);
      run.qos++;
      run.dropped_in_qos = dropped;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING && GST_MESSAGE_SRC (msg) == GST_OBJECT (tok)) {
      GError *e = NULL;
      gst_message_parse_warning (msg, &e, NULL);
      run.warning = e->message;
      g_error_free (e);
      run.warnings++;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      run.errors++;
    }
    gst_message_unref (msg);
  }
}

/* A deliberately slow setting: 1024 channels at window-stride 1 on one
 * thread asks for ~2,050 single-channel windows per second, about five times
 * what one idle core does (~400 on these machines), so windows are skipped
 * however fast or idle the machine is (384 channels skipped too few on an
 * idle one). A live source drives it
 * through an unbounded queue, so a tokenizer that fell behind would pile
 * the stream up there. The element must skip to the newest window (counter,
 * QoS, one warning) so that the queue, the lag and the memory stay flat. */
GST_START_TEST (test_live_overload_skips_windows)
{
  const int channels = 1024;
  const guint64 windows_wanted = 7;
  gchar *desc = g_strdup_printf ("audiotestsrc is-live=true wave=white-noise samplesperbuffer=20 ! "
      "audio/x-raw,format=F32LE,rate=%d,channels=%d,layout=interleaved,channel-mask=(bitmask)0 ! stft ! "
      "queue name=q max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! "
      "tfmtokenize name=tok model=\"%s\" window-stride=1 threads=1 ! appsink name=sink sync=false",
      RATE, channels, model_10s ().c_str ());
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  g_free (desc);
  fail_unless (pipe != NULL && err == NULL);
  GstElement *tok = gst_bin_get_by_name (GST_BIN (pipe), "tok");
  GstElement *queue = gst_bin_get_by_name (GST_BIN (pipe), "q");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  GstBus *bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PLAYING);

  OverloadRun run;
  const auto t0 = std::chrono::steady_clock::now ();
  while (run.lags.size () < windows_wanted &&
      std::chrono::steady_clock::now () - t0 < std::chrono::seconds (150)) {
    take_messages (bus, tok, run);
    GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 100 * GST_MSECOND);
    if (!sample)
      continue;
    GstBuffer *buf = gst_sample_get_buffer (sample);
    GstClock *clock = gst_element_get_clock (pipe);
    fail_unless (clock != NULL);
    const GstClockTime now = gst_clock_get_time (clock) - gst_element_get_base_time (pipe);
    gst_object_unref (clock);
    const GstClockTime end = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf) + (N_FFT - HOP) * GST_SECOND / RATE;
    run.lags.push_back (GST_CLOCK_DIFF (end, now));
    guint64 level = 0;
    g_object_get (queue, "current-level-time", &level, NULL);
    run.queued_ns.push_back (level);
    run.rss.push_back (rss_kib ());
    gst_sample_unref (sample);
  }
  take_messages (bus, tok, run);
  guint64 skipped = 0;
  g_object_get (tok, "skipped-windows", &skipped, NULL);
  /* The slowest forward pass, as the element reports it in its latency. */
  GstQuery *q = gst_query_new_latency ();
  GstPad *src = gst_element_get_static_pad (tok, "src");
  fail_unless (gst_pad_query (src, q));
  gst_object_unref (src);
  GstClockTime min;
  gst_query_parse_latency (q, NULL, &min, NULL);
  gst_query_unref (q);
  gst_element_set_state (pipe, GST_STATE_NULL);

  fail_unless_equals_int (run.errors, 0);
  fail_unless_equals_int (run.lags.size (), windows_wanted);
  const GstClockTime pass = min - (T - 1) * GST_SECOND / 2;  /* + upstream's small share */
  const size_t n = run.lags.size ();
  GST_INFO ("overload: %zu windows out, %" G_GUINT64_FORMAT " skipped, %d QoS, forward pass <= %.2f s, "
      "lag %.2f -> %.2f s, queue %.2f -> %.2f s, RSS %ld -> %ld KiB", n, skipped, run.qos, pass / 1e9,
      run.lags[2] / 1e9, run.lags[n - 1] / 1e9, run.queued_ns[2] / 1e9, run.queued_ns[n - 1] / 1e9,
      run.rss[2], run.rss[n - 1]);
  fail_unless (skipped >= windows_wanted, "only %" G_GUINT64_FORMAT " windows skipped", skipped);
  fail_unless (run.qos >= (int) windows_wanted && run.dropped_in_qos >= windows_wanted);
  fail_unless_equals_int (run.warnings, 1);
  fail_unless (contains (run.warning, "cannot keep up"), "%s", run.warning.c_str ());
  fail_unless (contains (run.warning, "skipped-windows"), "%s", run.warning.c_str ());
  /* Without skipping each window would add (pass - 0.5 s) to the lag and to
   * the queue; skipping keeps both within about one pass. */
  for (size_t i = 2; i < n; i++) {
    fail_unless (run.lags[i] < (GstClockTimeDiff) (2 * pass + 2 * GST_SECOND),
        "window %zu: lag %.2f s with passes of %.2f s: a backlog builds up", i, run.lags[i] / 1e9, pass / 1e9);
    fail_unless (run.queued_ns[i] < 2 * pass + 2 * GST_SECOND,
        "window %zu: %.2f s queued: a backlog builds up", i, run.queued_ns[i] / 1e9);
  }
#ifndef __SANITIZE_ADDRESS__
  /* Not under ASan (tools/sanitize.sh): its quarantine keeps freed memory
   * resident (up to 256 MB), so RSS grows without a leak there. */
  fail_unless (run.rss[n - 1] - run.rss[2] < 16 * 1024, "RSS grew from %ld to %ld KiB", run.rss[2],
      run.rss[n - 1]);
#endif

  gst_object_unref (bus);
  gst_object_unref (tok);
  gst_object_unref (queue);
  gst_object_unref (sink);
  gst_object_unref (pipe);
}
GST_END_TEST;

static Suite *
sliding_suite (void)
{
  Suite *s = suite_create ("tfmtokenize-sliding");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_every_stride_equals_shifted_reference);
  tcase_add_test (tc, test_shared_frequency_branch_equals_reference);
  tcase_add_test (tc, test_newest_covers_each_frame_once);
  tcase_add_test (tc, test_latency_per_mode);
  tcase_add_test (tc, test_window_stride_outside_range_n);
  tcase_add_test (tc, test_newest_without_overlap_n);
  tcase_add_test (tc, test_bad_stride_set_in_ready_n);
  tcase_add_test (tc, test_live_overload_skips_windows);
  return s;
}

GST_CHECK_MAIN (sliding);
