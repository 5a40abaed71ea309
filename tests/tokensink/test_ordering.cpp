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
  return s;
}

GST_CHECK_MAIN (ordering);
