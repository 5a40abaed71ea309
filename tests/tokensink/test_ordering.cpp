// SPDX-License-Identifier: LGPL-2.1-or-later
/* lib/record's ordering engine (ordering.h) on its own: what tokensink
 * writes, and when, for hand-made streams, without a pipeline. */
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

#include "ordering.h"

using Json = nlohmann::json;
using neuro::RecordStream;

static const GstClockTime kFrame = GST_SECOND / 2;

static void
start_stream (RecordStream &st, guint number, int channels)
{
  st.set_pad (number, "sink_" + std::to_string (number));
  neuro::TokensInfo caps;
  caps.channels = channels;
  caps.vocabulary = 512;
  caps.fps_n = 2;
  caps.modality = "eeg";
  caps.model = "tok";
  st.set_caps (caps);
}

/* Frame k of a stream with one channel carrying token `value`. */
static void
add_frame (RecordStream &st, guint64 k, guint32 value)
{
  st.add_tokens (k * kFrame, (k + 1) * kFrame, &value);
}

static std::vector<Json>
emit (const std::vector<RecordStream *> &streams)
{
  std::string out;
  RecordStream::emit_ready (streams, out);
  std::vector<Json> lines;
  std::istringstream in (out);
  for (std::string line; std::getline (in, line);)
    lines.push_back (Json::parse (line));
  return lines;
}

/* Records leave only once every running stream's horizon is past them, in
 * running-time order, ties to the lower stream; each stream's description
 * line comes just before its first record. */
GST_START_TEST (test_merge_waits_for_every_stream)
{
  RecordStream a, b;
  start_stream (a, 0, 1);
  start_stream (b, 1, 1);
  const std::vector<RecordStream *> both = { &b, &a };  /* pad order does not matter */
  add_frame (a, 0, 10);
  add_frame (a, 1, 11);
  fail_unless (emit (both).empty (), "b has no data yet: nothing may be written");

  add_frame (b, 0, 20);
  std::vector<Json> lines = emit (both);
  /* b's horizon is 0.5 s: a's and b's frame 0 (a first: lower stream). */
  fail_unless_equals_int (lines.size (), 4);
  fail_unless (lines[0]["type"] == "stream" && lines[0]["stream"] == 0);
  fail_unless (lines[1]["type"] == "tokens" && lines[1]["tokens"] == Json::parse ("[10]"));
  fail_unless (lines[2]["type"] == "stream" && lines[2]["stream"] == 1);
  fail_unless (lines[3]["tokens"] == Json::parse ("[20]") && lines[3]["pts"] == 0);

  add_frame (b, 1, 21);
  add_frame (b, 2, 22);
  lines = emit (both);
  fail_unless_equals_int (lines.size (), 2);  /* a's frame 1, then b's frame 1 (a's horizon is 1 s) */
  fail_unless (lines[0]["tokens"] == Json::parse ("[11]") && lines[1]["tokens"] == Json::parse ("[21]"));
  fail_unless (lines[1]["duration"] == kFrame);

  /* EOS of a releases the rest of b, then a's end record at its horizon. */
  a.finish ();
  b.finish ();
  lines = emit (both);
  fail_unless_equals_int (lines.size (), 3);
  fail_unless (lines[0]["type"] == "end" && lines[0]["stream"] == 0 && lines[0]["frames"] == 2);
  fail_unless (lines[0]["pts"] == 2 * kFrame);
  fail_unless (lines[1]["tokens"] == Json::parse ("[22]"));
  fail_unless (lines[2]["type"] == "end" && lines[2]["frames"] == 3);
  fail_unless (a.done () && b.done ());
}
GST_END_TEST;

/* A decision dated at its window's start arrives after the window: it is
 * placed at the stream's horizon, not before lines already written. */
GST_START_TEST (test_late_event_at_horizon)
{
  RecordStream a;
  start_stream (a, 0, 1);
  for (guint64 k = 0; k < 4; k++)
    add_frame (a, k, (guint32) k);
  a.add_event (0, neuro::annotation_line (0, 0, kFrame, "window"));
  a.finish ();
  const std::vector<Json> lines = emit ({ &a });
  fail_unless_equals_int (lines.size (), 7);
  fail_unless (lines[4]["type"] == "tokens" && lines[4]["pts"] == 3 * kFrame);
  fail_unless (lines[5]["type"] == "annotation" && lines[5]["pts"] == 0);
  fail_unless (lines[6]["type"] == "end");
}
GST_END_TEST;

/* A live stream that stops delivering stops holding the others back; its
 * silence is recorded in gap records of at most one chunk, closed by its
 * next data. */
GST_START_TEST (test_silence_releases_and_is_recorded)
{
  RecordStream a, b;
  start_stream (a, 0, 1);
  start_stream (b, 1, 1);
  const std::vector<RecordStream *> both = { &a, &b };
  add_frame (a, 0, 1);
  add_frame (b, 0, 2);
  emit (both);
  for (guint64 k = 1; k < 8; k++)
    add_frame (a, k, 1);
  fail_unless (emit (both).empty ());

  b.mark_silent (3 * GST_SECOND, GST_SECOND);
  fail_unless (b.silent ());
  std::vector<Json> lines = emit (both);
  /* b now holds a back only until 3 s: a's frames 1..5. The silence chunk
   * [0.5 s, 3 s) is dated 3 s, so it waits like any record at 3 s. */
  fail_unless_equals_int (lines.size (), 5);
  for (const Json &j : lines)
    fail_unless (j["type"] == "tokens" && j["stream"] == 0);

  add_frame (b, 7, 3);  /* back at 3.5 s: the open silence [3 s, 3.5 s) closes */
  a.finish ();
  b.finish ();
  lines = emit (both);
  bool first_chunk = false, closed = false;
  for (const Json &j : lines) {
    if (j["type"] != "gap")
      continue;
    fail_unless (j["cause"] == "silence" && j["stream"] == 1);
    first_chunk = first_chunk || (j["pts"] == kFrame && j["duration"] == 3 * GST_SECOND - kFrame);
    closed = closed || (j["pts"] == 3 * GST_SECOND && j["duration"] == kFrame);
  }
  fail_unless (first_chunk && closed);
}
GST_END_TEST;

/* Upstream GAPs are recorded; tags name the channels when they match the
 * caps, and a later change is described where the data has got to. */
GST_START_TEST (test_gap_and_description_change)
{
  RecordStream a;
  start_stream (a, 0, 2);
  a.set_tags ("", "", { "O1", "O2" }, { "uV", "uV" });
  const guint32 frame[] = { 1, 2 };
  a.add_tokens (0, kFrame, frame);
  a.add_gap (kFrame, 3 * kFrame);
  a.set_tags ("", "", { "C3", "C4" }, {});
  a.add_tokens (3 * kFrame, 4 * kFrame, frame);
  a.set_tags ("", "", { "only-one" }, {});  /* does not match 2 channels: ch0, ch1 */
  a.finish ();
  const std::vector<Json> lines = emit ({ &a });
  fail_unless_equals_int (lines.size (), 7);
  fail_unless (lines[0]["channels"] == Json::parse ("[\"O1\",\"O2\"]"));
  fail_unless (lines[2]["type"] == "gap" && lines[2]["cause"] == "upstream" && lines[2]["duration"] == 2 * kFrame);
  fail_unless (lines[3]["type"] == "stream" && lines[3]["channels"] == Json::parse ("[\"C3\",\"C4\"]"));
  fail_unless (lines[4]["type"] == "tokens");
  fail_unless (lines[5]["type"] == "stream" && lines[5]["channels"] == Json::parse ("[\"ch0\",\"ch1\"]"));
  fail_unless (lines[6]["type"] == "end");
}
GST_END_TEST;

/* restart() (flushing seek) forgets queued records; the stream is described
 * again before its next record. */
GST_START_TEST (test_restart)
{
  RecordStream a;
  start_stream (a, 0, 1);
  add_frame (a, 0, 1);
  fail_unless_equals_int (emit ({ &a }).size (), 2);
  add_frame (a, 1, 1);
  a.restart ();
  fail_unless (emit ({ &a }).empty ());
  add_frame (a, 0, 5);
  a.finish ();
  const std::vector<Json> lines = emit ({ &a });
  fail_unless_equals_int (lines.size (), 3);
  fail_unless (lines[0]["type"] == "stream");
  fail_unless (lines[1]["tokens"] == Json::parse ("[5]"));
  fail_unless (lines[2]["frames"] == 1);
}
GST_END_TEST;

/* Streams of different latency: the file is ordered by availability
 * (running time + the stream's latency). A slow stream (10 s windows, 10 s
 * latency) whose next window is not there yet does not hold back a fast
 * stream's lines beyond the running time at which the slow one's next
 * record could exist; each stream stays in running-time order. */
GST_START_TEST (test_availability_order)
{
  RecordStream slow, fast;
  slow.set_latency (10 * GST_SECOND);
  fast.set_latency (kFrame);
  start_stream (slow, 0, 1);
  start_stream (fast, 1, 1);
  const std::vector<RecordStream *> both = { &slow, &fast };
  for (guint64 k = 0; k < 4; k++)
    add_frame (fast, k, (guint32) k);  /* up to 2 s */
  std::vector<Json> lines = emit (both);
  /* slow has no data: it can produce nothing available before 10 s; the
   * stream line states the latency */
  fail_unless_equals_int (lines.size (), 5);
  fail_unless (lines[0]["type"] == "stream" && lines[0]["latency"] == kFrame);
  for (guint64 k = 0; k < 4; k++)
    fail_unless (lines[1 + k]["pts"] == k * kFrame);

  /* fast runs on to 14 s (available up to 14.5 s); slow's first 10 s window
   * (20 frames) arrives: its frames are available at 10 .. 19.5 s, so those
   * before 14.5 s go out, between fast's lines of the same availability */
  for (guint64 k = 4; k < 28; k++)
    add_frame (fast, k, (guint32) k);
  lines = emit (both);
  fail_unless_equals_int (lines.size (), 15);  /* fast frames 4 .. 18: available before 10 s */
  for (guint64 k = 0; k < 20; k++)
    add_frame (slow, k, 100 + (guint32) k);
  lines = emit (both);
  GstClockTime last_available = 0;
  guint64 slow_lines = 0;
  for (const Json &j : lines) {
    if (j["type"] != "tokens")
      continue;
    const GstClockTime avail = j["pts"].get<guint64> () + (j["stream"] == 0 ? 10 * GST_SECOND : kFrame);
    fail_unless (avail >= last_available, "out of availability order");
    fail_unless (avail < 14 * GST_SECOND + kFrame, "written before it could exist everywhere");
    last_available = avail;
    slow_lines += j["stream"] == 0;
  }
  fail_unless_equals_int (slow_lines, 9);  /* slow frames 0 .. 8: available 10 .. 14 s */
  fail_unless_equals_int (lines.size (), 1 + 9 + 9);  /* its stream line, and fast frames 19 .. 27 */

  /* A silence of the slow stream is judged by its own latency: at
   * availability 30 s its data should reach 20 s, so [10 s, 20 s) is silent;
   * its gap records are placed at their ends like any of its records. */
  slow.mark_silent (30 * GST_SECOND, GST_SECOND);
  fail_unless_equals_uint64 (slow.horizon (), 20 * GST_SECOND);
  slow.mark_silent (31 * GST_SECOND, GST_SECOND);
  fail_unless_equals_uint64 (slow.horizon (), 21 * GST_SECOND);
  /* a decision dated at the window's start lands at the stream's horizon */
  slow.add_event (0, neuro::annotation_line (0, 0, kFrame, "late decision"));
  slow.finish ();
  fast.finish ();
  lines = emit (both);
  bool gap = false, event = false;
  for (const Json &j : lines) {
    gap = gap || (j["type"] == "gap" && j["stream"] == 0 && j["pts"] == 10 * GST_SECOND &&
        j["duration"] == 10 * GST_SECOND);
    event = event || j["type"] == "annotation";
  }
  fail_unless (gap && event);
  fail_unless (slow.done () && fast.done ());
}
GST_END_TEST;

/* Equal latencies (one stream, or every stream the same) give running-time
 * order: the latency shifts every availability alike. */
GST_START_TEST (test_equal_latency_is_running_time_order)
{
  static const guint32 seven = 7;
  std::vector<Json> runs[2];
  for (int run = 0; run < 2; run++) {
    RecordStream a, b;
    a.set_latency (run * 3 * GST_SECOND);
    b.set_latency (run * 3 * GST_SECOND);
    start_stream (a, 0, 1);
    start_stream (b, 1, 1);
    for (guint64 k = 0; k < 6; k++) {
      add_frame (a, k, (guint32) k);
      if (k % 2 == 0)
        b.add_tokens (k * kFrame, (k + 2) * kFrame, &seven);
    }
    a.finish ();
    b.finish ();
    runs[run] = emit ({ &a, &b });
  }
  fail_unless_equals_int (runs[0].size (), runs[1].size ());
  for (size_t i = 0; i < runs[0].size (); i++) {
    Json x = runs[0][i], y = runs[1][i];
    x.erase ("latency");
    y.erase ("latency");
    fail_unless (x == y, "line %zu differs: %s / %s", i, x.dump ().c_str (), y.dump ().c_str ());
  }
}
GST_END_TEST;

static Suite *
ordering_suite (void)
{
  Suite *s = suite_create ("ordering");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_merge_waits_for_every_stream);
  tcase_add_test (tc, test_late_event_at_horizon);
  tcase_add_test (tc, test_silence_releases_and_is_recorded);
  tcase_add_test (tc, test_gap_and_description_change);
  tcase_add_test (tc, test_restart);
  tcase_add_test (tc, test_availability_order);
  tcase_add_test (tc, test_equal_latency_is_running_time_order);
  return s;
}

GST_CHECK_MAIN (ordering);
