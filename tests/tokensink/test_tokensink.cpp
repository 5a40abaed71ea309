// SPDX-License-Identifier: LGPL-2.1-or-later
/* tokensink: ordering across streams of different rates, stream/header/end
 * records, tags, classification and annotation events, and the file errors.
 *
 * Shape of gst-plugins-rs' analyticscombiner tests: several harnesses on the
 * request pads of one element, exact expected timestamps in the output. */
/* C++ streams first: check.h defines a fail() macro that clashes with them. */
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "events.h"
#include "tags.h"
#include "temp_dir.h"

using Json = nlohmann::json;

namespace {

struct Input {
  int stream;
  int fps;                      /* token frames per second */
  int channels;
  int frames_per_buffer;
  int buffers;
};

/* `name` in a fresh folder; the folders and their files are removed when the
 * test program exits. */
std::string
temp_path (const char *name)
{
  static std::vector<std::unique_ptr<neuro_test::TempDir>> dirs;
  dirs.push_back (std::make_unique<neuro_test::TempDir> ("tokensink"));
  return dirs.back ()->file (name);
}

std::string
token_caps (const char *modality, int channels, int fps)
{
  gchar *s = g_strdup_printf ("application/x-tokens, modality=(string)%s, channels=(int)%d, "
      "vocabulary=(int)1048576, codebooks=(int)1, framerate=(fraction)%d/1, model=(string)test-%s",
      modality, channels, fps, modality);
  std::string out = s;
  g_free (s);
  return out;
}

/* Token value of a frame/channel, unique across streams (and within the
 * caps' vocabulary of 2^20), so the test can tell every token line apart. */
guint32
token_value (int stream, int frame, int channel)
{
  return (guint32) (stream * 100000 + frame * 10 + channel);
}

GstBuffer *
token_buffer (const Input & in, int first_frame)
{
  const int n = in.frames_per_buffer;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, (gsize) n * in.channels * 4, NULL);
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (int f = 0; f < n; f++)
    for (int c = 0; c < in.channels; c++)
      GST_WRITE_UINT32_LE (map.data + 4 * (f * in.channels + c),
          token_value (in.stream, first_frame + f, c));
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = gst_util_uint64_scale (first_frame, GST_SECOND, in.fps);
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (first_frame + n, GST_SECOND, in.fps) -
      GST_BUFFER_PTS (buf);
  return buf;
}

std::vector<Json>
read_records (const std::string & path)
{
  std::vector<Json> out;
  std::ifstream in (path);
  std::string line;
  while (std::getline (in, line))
    out.push_back (Json::parse (line));
  return out;
}

GstElement *
make_sink (const std::string & location, GstBus ** bus)
{
  GstElement *sink = gst_element_factory_make ("tokensink", NULL);
  fail_unless (sink != NULL);
  g_object_set (sink, "location", location.c_str (), NULL);
  *bus = gst_bus_new ();
  gst_element_set_bus (sink, *bus);
  return sink;
}

/* Drops queued messages first: they hold references to the sink's children. */
void
release_sink (GstElement * sink, GstBus * bus)
{
  gst_element_set_state (sink, GST_STATE_NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_element_set_bus (sink, NULL);
  gst_object_unref (sink);
  gst_object_unref (bus);
}

/* Waits for EOS (the file is complete) or fails on an error. */
void
wait_eos (GstBus * bus)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
      (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless (msg != NULL, "no EOS from tokensink");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
}

/* Returns the first error on the bus, with its debug text appended. */
std::string
wait_error (GstBus * bus, GQuark domain, gint code)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error from tokensink");
  GError *err = NULL;
  gchar *debug = NULL;
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (g_error_matches (err, domain, code), "unexpected error: %s", err->message);
  std::string text = std::string (err->message) + " | " + (debug ? debug : "");
  g_error_free (err);
  g_free (debug);
  gst_message_unref (msg);
  return text;
}

struct Feeder {
  GstHarness *h;
  Input in;
};

gpointer
feed_stream (gpointer data)
{
  Feeder *f = (Feeder *) data;
  for (int b = 0; b < f->in.buffers; b++)
    fail_unless_equals_int (gst_harness_push (f->h,
            token_buffer (f->in, b * f->in.frames_per_buffer)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (f->h, gst_event_new_eos ()));
  return NULL;
}

const Input kEeg { 0, 2, 2, 2, 1 };          /* 2 frames/s, one 1 s buffer */
const Input kAudio { 1, 25, 1, 5, 5 };       /* 25 frames/s, 200 ms buffers */
const Input kHaptic { 2, 50, 1, 10, 5 };     /* 50 frames/s, 200 ms buffers */

/* Records one second of the three inputs; each pushes from its own thread
 * as live sources would, so arrival order differs from file order. */
std::vector<Json>
record_three_rates (const std::string & path)
{
  GstBus *bus;
  GstElement *sink = make_sink (path, &bus);
  const Input inputs[] = { kEeg, kAudio, kHaptic };
  const char *modalities[] = { "eeg", "audio", "haptic" };
  std::vector<Feeder> feeders;
  for (int i = 0; i < 3; i++) {
    GstHarness *h = gst_harness_new_with_element (sink, "sink_%u", NULL);
    gst_harness_set_src_caps_str (h, token_caps (modalities[i],
            inputs[i].channels, inputs[i].fps).c_str ());
    feeders.push_back ({ h, inputs[i] });
  }
  std::vector<GThread *> threads;
  for (Feeder & f : feeders)
    threads.push_back (g_thread_new ("feeder", feed_stream, &f));
  for (GThread * t : threads)
    g_thread_join (t);
  wait_eos (bus);
  for (Feeder & f : feeders)
    gst_harness_teardown (f.h);
  release_sink (sink, bus);
  return read_records (path);
}

std::vector<Json>
of_type (const std::vector<Json> & records, const char *type)
{
  std::vector<Json> out;
  for (const Json & r : records)
    if (r["type"] == type)
      out.push_back (r);
  return out;
}

}  // namespace

/* The file's token lines, in order, are exactly the union of the three
 * streams' frames sorted by running time (ties by stream number), and every
 * frame's pts/duration is buffer PTS + i/framerate. */
GST_START_TEST (test_three_rates_order)
{
  const std::string path = temp_path ("three.jsonl");
  std::vector<Json> records = record_three_rates (path);
  std::vector<Json> tokens = of_type (records, "tokens");

  /* The beginning, written out by hand (ms): 0 eeg/audio/haptic, 20 haptic,
   * 40 audio+haptic, 60 haptic, 80 audio+haptic, 100 haptic, 120 audio+haptic. */
  const std::vector<std::pair<int, guint64>> head = {
    {0, 0}, {1, 0}, {2, 0}, {2, 20}, {1, 40}, {2, 40}, {2, 60}, {1, 80}, {2, 80},
    {2, 100}, {1, 120}, {2, 120},
  };
  for (size_t i = 0; i < head.size (); i++) {
    fail_unless_equals_int (tokens[i]["stream"].get<int> (), head[i].first);
    fail_unless_equals_uint64 (tokens[i]["pts"].get<guint64> (), head[i].second * GST_MSECOND);
  }

  /* The whole sequence, computed from the rates. */
  std::vector<std::tuple<guint64, int, int>> expected;   /* pts, stream, frame */
  for (const Input & in : { kEeg, kAudio, kHaptic })
    for (int f = 0; f < in.frames_per_buffer * in.buffers; f++)
      expected.emplace_back (gst_util_uint64_scale (f, GST_SECOND, in.fps), in.stream, f);
  std::sort (expected.begin (), expected.end ());
  fail_unless_equals_int (tokens.size (), expected.size ());
  fail_unless_equals_int (tokens.size (), 2 + 25 + 50);
  for (size_t i = 0; i < expected.size (); i++) {
    const auto [pts, stream, frame] = expected[i];
    const Input &in = stream == 0 ? kEeg : stream == 1 ? kAudio : kHaptic;
    const Json &t = tokens[i];
    fail_unless_equals_int (t["stream"].get<int> (), stream);
    fail_unless_equals_uint64 (t["pts"].get<guint64> (), pts);
    fail_unless_equals_uint64 (t["duration"].get<guint64> (), GST_SECOND / in.fps);
    fail_unless_equals_int (t["tokens"].size (), in.channels);
    for (int c = 0; c < in.channels; c++)
      fail_unless_equals_int (t["tokens"][c].get<guint32> (), token_value (stream, frame, c));
  }
}
GST_END_TEST;

/* Header first with a plausible UTC start; each stream record precedes the
 * stream's first line; end records carry the frame counts at 1 s. */
GST_START_TEST (test_header_stream_end_records)
{
  const std::string path = temp_path ("records.jsonl");
  const gint64 before_ns = g_get_real_time () * 1000;
  std::vector<Json> records = record_three_rates (path);

  const Json &header = records.front ();
  fail_unless (header["type"] == "header");
  fail_unless_equals_int (header["version"].get<int> (), 1);
  const gint64 start_ns = header["start-unix-ns"].get<gint64> ();
  fail_unless (std::llabs (start_ns - before_ns) < 60 * (gint64) GST_SECOND);
  const std::string utc = header["start-utc"];
  fail_unless (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z$",
          utc.c_str (), (GRegexCompileFlags) 0, (GRegexMatchFlags) 0), "%s", utc.c_str ());
  fail_unless_equals_int (of_type (records, "header").size (), 1);

  const int fps[] = { 2, 25, 50 }, frames[] = { 2, 25, 50 };
  for (int s = 0; s < 3; s++) {
    size_t stream_at = records.size (), first_at = records.size (), end_at = 0;
    for (size_t i = 0; i < records.size (); i++) {
      if (!records[i].contains ("stream") || records[i]["stream"] != s)
        continue;
      if (records[i]["type"] == "stream")
        stream_at = std::min (stream_at, i);
      else
        first_at = std::min (first_at, i);
      if (records[i]["type"] == "end")
        end_at = i;
    }
    fail_unless (stream_at < first_at, "stream %d described after its first record", s);
    const Json &st = records[stream_at];
    fail_unless_equals_int (st["framerate"][0].get<int> (), fps[s]);
    fail_unless_equals_int (st["framerate"][1].get<int> (), 1);
    fail_unless_equals_int (st["vocabulary"].get<int> (), 1048576);
    fail_unless_equals_int (st["codebooks"].get<int> (), 1);
    fail_unless (st["modality"] == (s == 0 ? "eeg" : s == 1 ? "audio" : "haptic"));
    fail_unless (st["model"] == std::string ("test-") + st["modality"].get<std::string> ());
    /* No tags: default names, unknown units. */
    fail_unless (st["channels"][0] == "ch0");
    fail_unless (st["units"].is_null ());
    const Json &end = records[end_at];
    fail_unless (end["type"] == "end");
    fail_unless_equals_int (end["frames"].get<int> (), frames[s]);
    fail_unless_equals_uint64 (end["pts"].get<guint64> (), GST_SECOND);
  }
  fail_unless (records.back ()["type"] == "end");
}
GST_END_TEST;

/* Tags give names, units and modality; events become records with running
 * times: the segment maps PTS 10 s to running time 0. */
GST_START_TEST (test_tags_and_events)
{
  const std::string path = temp_path ("events.jsonl");
  GstBus *bus;
  GstElement *sink = make_sink (path, &bus);
  GstHarness *h = gst_harness_new_with_element (sink, "sink_%u", NULL);
  gst_harness_set_src_caps_str (h, "application/x-tokens, channels=(int)2, "
      "vocabulary=(int)8192, codebooks=(int)2, framerate=(fraction)2/1, model=(string)\"m\\\"q\"");
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = segment.time = segment.position = 10 * GST_SECOND;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  fail_unless (gst_harness_push_event (h, gst_event_new_tag (neuro::make_stream_tags ("eeg",
                  {"Fp1-F7", "C3 \"left\""}, {"uV", "uV"}))));

  neuro::Annotation a;
  a.pts = 10 * GST_SECOND + 500 * GST_MSECOND;    /* stream time */
  a.duration = GST_CLOCK_TIME_NONE;
  a.text = "eyes closed\n\"tab\"\t\u00e9";
  fail_unless (gst_harness_push_event (h, neuro::annotation_event_new (a)));

  GstBuffer *buf = gst_buffer_new_allocate (NULL, 2 * 2 * 2 * 4, NULL);
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (int i = 0; i < 8; i++)
    GST_WRITE_UINT32_LE (map.data + 4 * i, (guint32) (i + 1));
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = 10 * GST_SECOND;
  GST_BUFFER_DURATION (buf) = GST_SECOND;
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);

  neuro::Classification c;
  c.timestamp = 10 * GST_SECOND;
  c.duration = GST_SECOND;
  c.labels = {"normal", "spike"};
  c.probabilities = {0.25, 0.75};
  c.class_index = 1;
  fail_unless (gst_harness_push_event (h, neuro::classification_event_new (c)));
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  wait_eos (bus);
  gst_harness_teardown (h);
  release_sink (sink, bus);

  std::vector<Json> r = read_records (path);
  std::vector<std::string> types;
  for (const Json & j : r)
    types.push_back (j["type"]);
  /* The annotation (0.5 s) sits between the frames at 0 and 0.5 s (tie: after
   * it by arrival); the classification arrives after the tokens it classifies. */
  const std::vector<std::string> want = {"header", "stream", "tokens", "annotation", "tokens",
    "classification", "end"};
  fail_unless (types == want, "got %s", Json (types).dump ().c_str ());

  const Json &st = r[1];
  fail_unless (st["modality"] == "eeg");
  fail_unless (st["channels"] == Json ({"Fp1-F7", "C3 \"left\""}));
  fail_unless (st["units"] == Json ({"uV", "uV"}));
  fail_unless (st["model"] == "m\"q");
  fail_unless_equals_int (st["codebooks"].get<int> (), 2);

  fail_unless_equals_uint64 (r[2]["pts"].get<guint64> (), 0);
  fail_unless (r[2]["tokens"] == Json::parse ("[[1,2],[3,4]]"));
  fail_unless_equals_uint64 (r[4]["pts"].get<guint64> (), 500 * GST_MSECOND);
  fail_unless (r[4]["tokens"] == Json::parse ("[[5,6],[7,8]]"));

  fail_unless_equals_uint64 (r[3]["pts"].get<guint64> (), 500 * GST_MSECOND);
  fail_unless (r[3]["duration"].is_null ());
  fail_unless (r[3]["text"] == a.text);

  const Json &cl = r[5];
  fail_unless_equals_uint64 (cl["pts"].get<guint64> (), 0);
  fail_unless_equals_uint64 (cl["duration"].get<guint64> (), GST_SECOND);
  fail_unless (cl["label"] == "spike");
  fail_unless_equals_int (cl["class"].get<int> (), 1);
  fail_unless (cl["probabilities"]["spike"].get<double> () == 0.75);
  fail_unless (cl["probabilities"]["normal"].get<double> () == 0.25);
  fail_unless_equals_int (r[6]["frames"].get<int> (), 2);
}
GST_END_TEST;

/* An upstream GAP event becomes a gap record in its place; a pad requested
 * by name is recorded under its number. */
GST_START_TEST (test_gap_event_and_pad_name)
{
  const std::string path = temp_path ("gap.jsonl");
  GstBus *bus;
  GstElement *sink = make_sink (path, &bus);
  GstHarness *h = gst_harness_new_with_element (sink, "sink_5", NULL);
  const Input eeg5 { 5, 2, 2, 2, 1 };
  gst_harness_set_src_caps_str (h, token_caps ("eeg", 2, 2).c_str ());
  fail_unless_equals_int (gst_harness_push (h, token_buffer (eeg5, 0)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_gap (GST_SECOND, GST_SECOND)));
  fail_unless_equals_int (gst_harness_push (h, token_buffer (eeg5, 4)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  wait_eos (bus);
  gst_harness_teardown (h);
  release_sink (sink, bus);

  std::vector<Json> r = read_records (path);
  fail_unless_equals_int (r.size (), 8);
  fail_unless (r[1]["type"] == "stream" && r[1]["stream"] == 5 && r[1]["pad"] == "sink_5");
  const guint64 ms = GST_MSECOND;
  const std::vector<std::pair<std::string, guint64>> want = {
    {"tokens", 0}, {"tokens", 500 * ms}, {"gap", 1000 * ms}, {"tokens", 2000 * ms},
    {"tokens", 2500 * ms}, {"end", 3000 * ms},
  };
  for (size_t i = 0; i < want.size (); i++) {
    const Json &j = r[i + 2];
    fail_unless (j["type"] == want[i].first, "line %d: %s", (int) i + 2, j.dump ().c_str ());
    fail_unless_equals_uint64 (j["pts"].get<guint64> (), want[i].second);
    fail_unless_equals_int (j["stream"].get<int> (), 5);
  }
  fail_unless_equals_uint64 (r[4]["duration"].get<guint64> (), GST_SECOND);
  fail_unless (r[4]["cause"] == "upstream");
  fail_unless_equals_int (r[7]["frames"].get<int> (), 4);
}
GST_END_TEST;

/* A stream of overlapping windows (tfmtokenize window-stride): 4-frame
 * windows starting every frame, offset w * 4. Every frame appears in up to
 * four windows with different tokens, so each tokens line names its window;
 * the stream line carries the window fields; lines stay in running-time
 * order although each window reaches back before the previous one ended. */
GST_START_TEST (test_overlapping_windows)
{
  const int T = 4, windows = 5, channels = 2;
  const std::string path = temp_path ("windows.jsonl");
  GstBus *bus;
  GstElement *sink = make_sink (path, &bus);
  GstHarness *h = gst_harness_new_with_element (sink, "sink_0", NULL);
  gst_harness_set_src_caps_str (h, (token_caps ("eeg", channels, 2) +
          ", window-frames=(int)4, window-stride=(int)1").c_str ());
  for (int w = 0; w < windows; w++) {
    const Input win { 0, 2, channels, T, 1 };
    GstBuffer *buf = token_buffer (win, w);
    GstMapInfo map;
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (int t = 0; t < T; t++)
      for (int c = 0; c < channels; c++)
        GST_WRITE_UINT32_LE (map.data + 4 * (t * channels + c), (guint32) (1000 * w + 10 * t + c));
    gst_buffer_unmap (buf, &map);
    GST_BUFFER_OFFSET (buf) = (guint64) w * T;
    GST_BUFFER_OFFSET_END (buf) = (guint64) (w + 1) * T;
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  wait_eos (bus);
  gst_harness_teardown (h);
  release_sink (sink, bus);

  const std::vector<Json> r = read_records (path);
  const std::vector<Json> stream = of_type (r, "stream");
  fail_unless_equals_int (stream.size (), 1);
  fail_unless_equals_int (stream[0]["window-frames"].get<int> (), T);
  fail_unless_equals_int (stream[0]["window-stride"].get<int> (), 1);
  const std::vector<Json> tokens = of_type (r, "tokens");
  fail_unless_equals_int (tokens.size (), windows * T);
  std::vector<int> seen (windows * T, 0);
  guint64 last_pts = 0;
  for (const Json &j : tokens) {
    const int w = j["window"].get<int> ();
    const guint64 pts = j["pts"].get<guint64> ();
    fail_unless (pts >= last_pts, "tokens out of running-time order: %s", j.dump ().c_str ());
    last_pts = pts;
    const int t = (int) (pts / (GST_SECOND / 2)) - w;
    fail_unless (w >= 0 && w < windows && t >= 0 && t < T, "%s", j.dump ().c_str ());
    fail_unless_equals_int (j["tokens"][0].get<int> (), 1000 * w + 10 * t);
    fail_unless_equals_int (j["tokens"][1].get<int> (), 1000 * w + 10 * t + 1);
    seen[w * T + t]++;
  }
  for (int v : seen)
    fail_unless_equals_int (v, 1);
}
GST_END_TEST;

/* window-frames without window-stride cannot say where windows start. */
GST_START_TEST (test_half_window_fields_n)
{
  const std::string path = temp_path ("half.jsonl");
  GstBus *bus;
  GstElement *sink = make_sink (path, &bus);
  GstHarness *h = gst_harness_new_with_element (sink, "sink_0", NULL);
  gst_harness_set_src_caps_str (h, (token_caps ("eeg", 2, 2) + ", window-frames=(int)4").c_str ());
  const Input in { 0, 2, 2, 4, 1 };
  gst_harness_push (h, token_buffer (in, 0));
  const std::string text = wait_error (bus, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION);
  fail_unless (text.find ("window-frames and window-stride") != std::string::npos, "%s", text.c_str ());
  gst_harness_teardown (h);
  release_sink (sink, bus);
}
GST_END_TEST;

/* New tags mid-stream: the stream is described again before its next line. */
GST_START_TEST (test_redescribed_stream)
{
  const std::string path = temp_path ("retag.jsonl");
  GstBus *bus;
  GstElement *sink = make_sink (path, &bus);
  GstHarness *h = gst_harness_new_with_element (sink, "sink_%u", NULL);
  gst_harness_set_src_caps_str (h, token_caps ("eeg", 2, 2).c_str ());
  fail_unless (gst_harness_push_event (h, gst_event_new_tag (neuro::make_stream_tags ("eeg",
                  {"O1", "O2"}, {"uV", "uV"}))));
  fail_unless_equals_int (gst_harness_push (h, token_buffer (kEeg, 0)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_tag (neuro::make_stream_tags ("eeg",
                  {"P7", "P8"}, {"uV", "uV"}))));
  fail_unless_equals_int (gst_harness_push (h, token_buffer (kEeg, 2)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  wait_eos (bus);
  gst_harness_teardown (h);
  release_sink (sink, bus);

  std::vector<std::string> types;
  std::vector<Json> r = read_records (path);
  for (const Json & j : r)
    types.push_back (j["type"]);
  const std::vector<std::string> want = {"header", "stream", "tokens", "tokens", "stream",
    "tokens", "tokens", "end"};
  fail_unless (types == want, "got %s", Json (types).dump ().c_str ());
  fail_unless (r[1]["channels"] == Json ({"O1", "O2"}));
  fail_unless (r[4]["channels"] == Json ({"P7", "P8"}));
  fail_unless_equals_uint64 (r[5]["pts"].get<guint64> (), GST_SECOND);
}
GST_END_TEST;

/* overwrite=false (the default) never touches an existing file. */
GST_START_TEST (test_existing_file_n)
{
  const std::string path = temp_path ("existing.jsonl");
  g_file_set_contents (path.c_str (), "precious\n", -1, NULL);
  GstBus *bus;
  GstElement *sink = make_sink (path, &bus);
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  std::string err = wait_error (bus, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE);
  fail_unless (err.find (path) != std::string::npos, "%s", err.c_str ());
  fail_unless (err.find ("overwrite=true") != std::string::npos, "%s", err.c_str ());
  gchar *contents = NULL;
  g_file_get_contents (path.c_str (), &contents, NULL, NULL);
  fail_unless_equals_string (contents, "precious\n");
  g_free (contents);
  release_sink (sink, bus);
}
GST_END_TEST;

GST_START_TEST (test_unwritable_path_n)
{
  const std::string path = temp_path ("no-such-dir") + "/rec.jsonl";
  GstBus *bus;
  GstElement *sink = make_sink (path, &bus);
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  std::string err = wait_error (bus, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE);
  fail_unless (err.find (path) != std::string::npos, "%s", err.c_str ());
  fail_unless (err.find ("No such file or directory") != std::string::npos, "%s", err.c_str ());
  release_sink (sink, bus);
}
GST_END_TEST;

GST_START_TEST (test_no_location_n)
{
  GstElement *sink = gst_element_factory_make ("tokensink", NULL);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (sink, bus);
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  std::string err = wait_error (bus, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND);
  fail_unless (err.find ("location") != std::string::npos, "%s", err.c_str ());
  release_sink (sink, bus);
}
GST_END_TEST;

/* A full disk: the first write fails with a clear error, data flow stops. */
GST_START_TEST (test_disk_full_n)
{
  GstBus *bus;
  GstElement *sink = make_sink ("/dev/full", &bus);
  g_object_set (sink, "overwrite", TRUE, NULL);
  GstHarness *h = gst_harness_new_with_element (sink, "sink_%u", NULL);
  gst_harness_set_src_caps_str (h, token_caps ("eeg", 2, 2).c_str ());
  GstFlowReturn ret = GST_FLOW_OK;
  for (int b = 0; b < 10 && ret == GST_FLOW_OK; b++)
    ret = gst_harness_push (h, token_buffer (kEeg, 2 * b));
  if (ret == GST_FLOW_OK)
    gst_harness_push_event (h, gst_event_new_eos ());
  std::string err = wait_error (bus, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT);
  fail_unless (err.find ("/dev/full") != std::string::npos, "%s", err.c_str ());
  gst_harness_teardown (h);
  release_sink (sink, bus);
  /* nothing was recorded, yet the device is not "the empty recording" to remove */
  GStatBuf st;
  fail_unless (g_stat ("/dev/full", &st) == 0 && S_ISCHR (st.st_mode), "/dev/full was removed");
}
GST_END_TEST;

/* A payload that is not whole token frames is an error, not a guess. */
GST_START_TEST (test_partial_frame_n)
{
  const std::string path = temp_path ("partial.jsonl");
  GstBus *bus;
  GstElement *sink = make_sink (path, &bus);
  GstHarness *h = gst_harness_new_with_element (sink, "sink_%u", NULL);
  gst_harness_set_src_caps_str (h, token_caps ("eeg", 2, 2).c_str ());
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 12, NULL);
  gst_buffer_memset (buf, 0, 0, 12);
  GST_BUFFER_PTS (buf) = 0;
  gst_harness_push (h, buf);
  gst_harness_push_event (h, gst_event_new_eos ());
  std::string err = wait_error (bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT);
  fail_unless (err.find ("12 bytes") != std::string::npos, "%s", err.c_str ());
  gst_harness_teardown (h);
  release_sink (sink, bus);
}
GST_END_TEST;

static Suite *
tokensink_suite (void)
{
  Suite *s = suite_create ("tokensink");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_three_rates_order);
  tcase_add_test (tc, test_header_stream_end_records);
  tcase_add_test (tc, test_tags_and_events);
  tcase_add_test (tc, test_gap_event_and_pad_name);
  tcase_add_test (tc, test_redescribed_stream);
  tcase_add_test (tc, test_existing_file_n);
  tcase_add_test (tc, test_unwritable_path_n);
  tcase_add_test (tc, test_no_location_n);
  tcase_add_test (tc, test_disk_full_n);
  tcase_add_test (tc, test_partial_frame_n);
  tcase_add_test (tc, test_overlapping_windows);
  tcase_add_test (tc, test_half_window_fields_n);
  return s;
}

GST_CHECK_MAIN (tokensink);
