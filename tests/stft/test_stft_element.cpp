// SPDX-License-Identifier: LGPL-2.1-or-later
/* The stft element in GstHarness: caps negotiation (defaults, downstream
 * driven), numerics against the independent DFT, a known tone, buffer
 * partition independence, DISCONT/flush resets, hours of drift-free
 * timestamps, latency, event order, and refusals of bad configurations. */
/* C++ headers first: gstcheck.h defines a fail() macro that breaks <ios>. */
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dft_reference.h"
#include "events.h"
#include "stft.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "check_string.h"

static std::vector<float>
noise (size_t n, unsigned seed)
{
  std::mt19937 rng (seed);
  std::normal_distribution<float> d (0.f, 20.f);
  std::vector<float> x (n);
  for (auto &v : x)
    v = d (rng);
  return x;
}

static GstCaps *
audio_caps (int rate, int channels)
{
  return gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING, "F32LE",
      "layout", G_TYPE_STRING, "interleaved", "rate", G_TYPE_INT, rate,
      "channels", G_TYPE_INT, channels, "channel-mask", GST_TYPE_BITMASK, (guint64) 0, NULL);
}

/* Downstream caps (when given) are in place before the input caps arrive,
 * as with a real downstream element. */
static GstHarness *
stft_harness (const char *props, int rate, int channels, const char *sink_caps = nullptr,
    GstBus * bus = nullptr)
{
  GstHarness *h = gst_harness_new_parse ((std::string ("stft ") + props).c_str ());
  if (bus)
    gst_element_set_bus (h->element, bus);
  if (sink_caps)
    gst_harness_set_sink_caps_str (h, sink_caps);
  gst_harness_set_src_caps (h, audio_caps (rate, channels));
  return h;
}

static GstBuffer *
samples_buffer (const float *x, size_t floats, GstClockTime pts)
{
  GstBuffer *b = gst_buffer_new_memdup (x, floats * sizeof (float));
  GST_BUFFER_PTS (b) = pts;
  return b;
}

/* Pulls every pending output buffer and concatenates the floats. */
static std::vector<float>
pull_all (GstHarness * h, std::vector<GstClockTime> *pts = nullptr)
{
  std::vector<float> out;
  GstBuffer *b;
  while ((b = gst_harness_try_pull (h))) {
    GstMapInfo map;
    fail_unless (gst_buffer_map (b, &map, GST_MAP_READ));
    const float *f = reinterpret_cast<const float *> (map.data);
    out.insert (out.end (), f, f + map.size / sizeof (float));
    if (pts)
      pts->push_back (GST_BUFFER_PTS (b));
    gst_buffer_unmap (b, &map);
    gst_buffer_unref (b);
  }
  return out;
}

static GstStructure *
output_structure (GstHarness * h)
{
  GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (caps != NULL);
  GstStructure *s = gst_structure_copy (gst_caps_get_structure (caps, 0));
  gst_caps_unref (caps);
  return s;
}

static void
assert_int_field (const GstStructure * s, const char *field, int want)
{
  int v = -1;
  fail_unless (gst_structure_get_int (s, field, &v), "no %s", field);
  fail_unless_equals_int (v, want);
}

GST_START_TEST (test_default_caps)
{
  GstHarness *h = stft_harness ("", 200, 3);
  const auto x = noise (3 * 200, 1);
  fail_unless_equals_int (gst_harness_push (h, samples_buffer (x.data (), x.size (), 0)), GST_FLOW_OK);
  GstStructure *s = output_structure (h);
  fail_unless (gst_structure_has_name (s, "application/x-spectrogram"));
  assert_int_field (s, "rate", 200);
  assert_int_field (s, "channels", 3);
  assert_int_field (s, "n-fft", 200);
  assert_int_field (s, "hop", 100);
  assert_int_field (s, "bins", 100);
  fail_unless_equals_string (gst_structure_get_string (s, "window"), "hann");
  fail_unless_equals_string (gst_structure_get_string (s, "scaling"), "magnitude");
  gboolean waveform = FALSE;
  fail_unless (gst_structure_get_boolean (s, "waveform", &waveform) && waveform);
  int num = 0, den = 0;
  fail_unless (gst_structure_get_fraction (s, "framerate", &num, &den));
  fail_unless_equals_int (num, 2);
  fail_unless_equals_int (den, 1);
  gst_structure_free (s);

  /* (200 - 200)/100 + 1 frame, each 3·100 magnitudes + 3·200 samples. */
  const auto out = pull_all (h);
  fail_unless_equals_int (out.size (), 3 * 100 + 3 * 200);
  neuro::StftConfig cfg;
  cfg.channels = 3;
  const auto want = ref::stft (x, cfg);
  fail_unless (ref::max_rel_error (out.data (), out.size (), want, 300, false) <= 1e-5);
  for (int c = 0; c < 3; c++)
    for (int n = 0; n < 200; n++)
      fail_unless_equals_float (out[300 + c * 200 + n], x[n * 3 + c]);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* Unset properties follow the downstream caps (as tfmtokenize would ask). */
GST_START_TEST (test_downstream_caps_choose_config)
{
  GstHarness *h = stft_harness ("", 8000, 2, "application/x-spectrogram, n-fft=(int)256, "
      "hop=(int)64, bins=(int)129, window=(string)blackman, scaling=(string)power, waveform=(boolean)false");
  const auto x = noise (2 * 1000, 2);
  fail_unless_equals_int (gst_harness_push (h, samples_buffer (x.data (), x.size (), 0)), GST_FLOW_OK);
  GstStructure *s = output_structure (h);
  assert_int_field (s, "n-fft", 256);
  assert_int_field (s, "hop", 64);
  assert_int_field (s, "bins", 129);
  fail_unless_equals_string (gst_structure_get_string (s, "window"), "blackman");
  fail_unless_equals_string (gst_structure_get_string (s, "scaling"), "power");
  int num = 0, den = 0;
  fail_unless (gst_structure_get_fraction (s, "framerate", &num, &den));
  fail_unless_equals_int (num, 125);   /* 8000/64 */
  fail_unless_equals_int (den, 1);
  gst_structure_free (s);

  neuro::StftConfig cfg;
  cfg.n_fft = 256;
  cfg.hop = 64;
  cfg.bins = 129;
  cfg.window = neuro::StftWindow::Blackman;
  cfg.scaling = neuro::StftScaling::Power;
  cfg.channels = 2;
  const auto out = pull_all (h);
  const auto want = ref::stft (x, cfg);
  fail_unless_equals_int (out.size (), want.size ());   /* 12 frames, no waveform */
  fail_unless (ref::max_rel_error (out.data (), 2 * 129, want, 2 * 129, false) <= 1e-5);
  gst_harness_teardown (h);
}
GST_END_TEST;

static int
peak_bin (const float *mags, int bins)
{
  int best = 0;
  for (int k = 1; k < bins; k++)
    if (mags[k] > mags[best])
      best = k;
  return best;
}

/* Like gst-plugins-good's spectrum test: a pure tone lights up its own bin. */
GST_START_TEST (test_tone_lights_its_bin)
{
  const int rate = 44100, N = 1024, B = 512;
  GstHarness *h = stft_harness ("n-fft=1024 hop=512 waveform=false", rate, 2);
  std::vector<float> x (2 * rate / 2);
  for (size_t i = 0; i < x.size () / 2; i++) {
    x[2 * i] = 0.5f * std::sin (2 * M_PI * 1000.0 * i / rate);      /* bin 23.2 */
    x[2 * i + 1] = 0.25f * std::sin (2 * M_PI * 5000.0 * i / rate); /* bin 116.1 */
  }
  fail_unless_equals_int (gst_harness_push (h, samples_buffer (x.data (), x.size (), 0)), GST_FLOW_OK);
  const auto out = pull_all (h);
  const size_t frames = out.size () / (2 * B);
  fail_unless_equals_int (frames, (rate / 2 - N) / 512 + 1);
  for (size_t f = 0; f < frames; f++) {
    const float *left = out.data () + f * 2 * B, *right = left + B;
    fail_unless_equals_int (peak_bin (left, B), (int) std::lround (1000.0 * N / rate));
    fail_unless_equals_int (peak_bin (right, B), (int) std::lround (5000.0 * N / rate));
    /* Hann sidelobes: far bins stay 60 dB below the peak. */
    fail_unless (left[300] < 1e-3f * left[23]);
    fail_unless (right[23] < 1e-3f * right[116]);
    /* Peak magnitude of a Hann-windowed sine ~ A·N/4 (less the scalloping loss). */
    fail_unless (left[23] > 0.5f * 1024 / 4 * 0.8f && left[23] < 0.5f * 1024 / 4 * 1.01f);
  }
  gst_harness_teardown (h);
}
GST_END_TEST;

static std::vector<float>
run_in_chunks (size_t chunk, const std::vector<float> &x, int channels,
    std::vector<GstClockTime> &pts)
{
  GstHarness *h = stft_harness ("n-fft=64 hop=24 bins=33", 500, channels);
  const size_t frames = x.size () / channels;
  for (size_t i = 0; i < frames; i += chunk) {
    const size_t n = std::min (chunk, frames - i);
    GstBuffer *b = samples_buffer (x.data () + i * channels, n * channels,
        gst_util_uint64_scale (i, GST_SECOND, 500));
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
  }
  std::vector<float> out = pull_all (h, &pts);
  gst_harness_teardown (h);
  return out;
}

/* Frame-level output and timestamps do not depend on the input cut. */
GST_START_TEST (test_buffer_partition)
{
  const auto x = noise (5 * 1234, 3);
  std::vector<GstClockTime> pts_whole, pts_one, pts_seven;
  const auto whole = run_in_chunks (1234, x, 5, pts_whole);
  const auto one = run_in_chunks (1, x, 5, pts_one);
  const auto seven = run_in_chunks (7, x, 5, pts_seven);
  const size_t per = 5 * 33 + 5 * 64, frames = (1234 - 64) / 24 + 1;
  fail_unless_equals_int (whole.size (), frames * per);
  fail_unless (whole == one);
  fail_unless (whole == seven);
  fail_unless_equals_int (pts_one.size (), frames);
  for (size_t k = 0; k < frames; k++)
    fail_unless_equals_uint64 (pts_one[k], gst_util_uint64_scale (k * 24, GST_SECOND, 500));
  fail_unless_equals_uint64 (pts_whole[0], 0);
}
GST_END_TEST;

/* Hours of stream time at 7 Hz with hop 3: PTS are exact, never accumulated. */
GST_START_TEST (test_timestamps_hours_no_drift)
{
  const int rate = 7, hop = 3, n_fft = 6;
  const GstClockTime start = 5 * GST_SECOND + 123;
  const size_t total = (size_t) rate * 3600 * 5;        /* 5 hours */
  GstHarness *h = stft_harness ("n-fft=6 hop=3 bins=4 waveform=false", rate, 1);
  std::vector<float> chunk (1000, 1.0f);
  guint64 expect_frame = 0;
  GstClockTime last_end = GST_CLOCK_TIME_NONE;
  for (size_t i = 0; i < total; i += chunk.size ()) {
    const size_t n = std::min (chunk.size (), total - i);
    gst_harness_push (h, samples_buffer (chunk.data (), n, start + gst_util_uint64_scale (i, GST_SECOND, rate)));
    GstBuffer *b;
    while ((b = gst_harness_try_pull (h))) {
      const guint64 frames = gst_buffer_get_size (b) / (4 * sizeof (float));
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET (b), expect_frame);
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (b), expect_frame + frames);
      /* Exact rational time of the frame's first sample, rounded down. */
      const unsigned __int128 ns = (unsigned __int128) expect_frame * hop * GST_SECOND / rate;
      fail_unless_equals_uint64 (GST_BUFFER_PTS (b), start + (guint64) ns);
      if (GST_CLOCK_TIME_IS_VALID (last_end))
        fail_unless_equals_uint64 (GST_BUFFER_PTS (b), last_end);   /* contiguous */
      last_end = GST_BUFFER_PTS (b) + GST_BUFFER_DURATION (b);
      expect_frame += frames;
      gst_buffer_unref (b);
    }
  }
  fail_unless_equals_uint64 (expect_frame, (total - n_fft) / hop + 1);
  /* The last frame starts 5 h minus 6 samples after the start, to the ns. */
  const GstClockTime last_pts = start + gst_util_uint64_scale ((expect_frame - 1) * hop, GST_SECOND, rate);
  fail_unless (last_pts > start + 5 * 3600 * GST_SECOND - GST_SECOND);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* DISCONT drops buffered samples and restarts framing at the new PTS. */
GST_START_TEST (test_discont_resets)
{
  GstHarness *h = stft_harness ("waveform=false", 200, 1);
  const auto x = noise (500, 4);
  gst_harness_push (h, samples_buffer (x.data (), 150, 0));
  fail_unless (gst_harness_try_pull (h) == NULL);
  GstBuffer *b = samples_buffer (x.data () + 150, 200, 10 * GST_SECOND);
  GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_DISCONT);
  gst_harness_push (h, b);
  GstBuffer *out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 10 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND / 2);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), 0);
  fail_unless (GST_BUFFER_IS_DISCONT (out));
  GstMapInfo map;
  gst_buffer_map (out, &map, GST_MAP_READ);
  const auto want = neuro::stft_magnitude (x.data () + 150, 200, neuro::StftConfig ());
  fail_unless_equals_int (map.size, want.size () * sizeof (float));
  fail_unless (std::memcmp (map.data, want.data (), map.size) == 0);
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_flush_resets)
{
  GstHarness *h = stft_harness ("waveform=false", 200, 1);
  const auto x = noise (500, 5);
  gst_harness_push (h, samples_buffer (x.data (), 150, 0));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  GstSegment seg;
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  gst_harness_push (h, samples_buffer (x.data () + 150, 200, 3 * GST_SECOND));
  GstBuffer *out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 3 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), 0);
  GstMapInfo map;
  gst_buffer_map (out, &map, GST_MAP_READ);
  const auto want = neuro::stft_magnitude (x.data () + 150, 200, neuro::StftConfig ());
  fail_unless (map.size == want.size () * sizeof (float)
      && std::memcmp (map.data, want.data (), map.size) == 0);
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* At EOS the 50 samples buffered after frame 1 make no frame. */
GST_START_TEST (test_eos_invents_no_frame)
{
  GstHarness *h = stft_harness ("", 200, 1);
  const auto x = noise (350, 6);
  gst_harness_push (h, samples_buffer (x.data (), 350, 0));
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  guint buffers = gst_harness_buffers_received (h);
  fail_unless_equals_int (buffers, 1);          /* frames 0 and 1; frame 2 needs sample 399 */
  GstBuffer *b = gst_harness_pull (h);
  fail_unless_equals_int (gst_buffer_get_size (b), 2 * (100 + 200) * sizeof (float));
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (b), GST_SECOND);
  gst_buffer_unref (b);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_latency_query)
{
  GstHarness *h = stft_harness ("n-fft=1024 hop=512", 44100, 1);
  std::vector<float> x (100, 0.f);
  gst_harness_push (h, samples_buffer (x.data (), x.size (), 0));
  gst_harness_set_upstream_latency (h, 10 * GST_MSECOND);
  GstQuery *q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless_equals_uint64 (min, 10 * GST_MSECOND + gst_util_uint64_scale (1024, GST_SECOND, 44100));
  gst_query_unref (q);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* Records the order of events and buffers leaving stft. */
static GstPadProbeReturn
record_order (GstPad *, GstPadProbeInfo * info, gpointer user_data)
{
  auto *order = static_cast<std::vector<std::string> *> (user_data);
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    order->push_back ("buffer");
  } else if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *e = GST_PAD_PROBE_INFO_EVENT (info);
    const GstStructure *s = gst_event_get_structure (e);
    if (GST_EVENT_TYPE (e) == GST_EVENT_CUSTOM_DOWNSTREAM && s)
      order->push_back (gst_structure_get_name (s));
    else if (GST_EVENT_TYPE (e) == GST_EVENT_TAG)
      order->push_back ("tag");
  }
  return GST_PAD_PROBE_OK;
}

/* An annotation pushed between two input buffers leaves before the frame that
 * contains its onset (and after nothing that does). */
GST_START_TEST (test_events_keep_their_place)
{
  GstHarness *h = stft_harness ("", 200, 1);
  std::vector<std::string> order;
  GstPad *src = gst_element_get_static_pad (h->element, "src");
  gst_pad_add_probe (src, (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      record_order, &order, NULL);
  gst_object_unref (src);
  const auto x = noise (400, 7);
  gst_harness_push (h, samples_buffer (x.data (), 150, 0));
  fail_unless (gst_harness_push_event (h, gst_event_new_tag (gst_tag_list_new (GST_TAG_TITLE, "t", NULL))));
  neuro::Annotation a;
  a.pts = gst_util_uint64_scale (160, GST_SECOND, 200);
  a.text = "onset inside frame 0";
  fail_unless (gst_harness_push_event (h, neuro::annotation_event_new (a)));
  gst_harness_push (h, samples_buffer (x.data () + 150, 250, gst_util_uint64_scale (150, GST_SECOND, 200)));
  const std::vector<std::string> want = { "tag", NEURO_ANNOTATION_NAME, "buffer" };
  fail_unless_equals_int (order.size (), want.size ());
  for (size_t i = 0; i < want.size (); i++)
    fail_unless_equals_std_string (order[i], want[i]);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* Sets stft up with `props` and downstream `sink_caps`, pushes one buffer and
 * returns the text of the error the element posted. */
static std::string
negotiation_error (const char *props, int channels, const char *sink_caps = nullptr, int rate = 200)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *h = stft_harness (props, rate, channels, sink_caps, bus);
  std::vector<float> x (channels * 300, 0.f);
  const GstFlowReturn ret = gst_harness_push (h, samples_buffer (x.data (), x.size (), 0));
  fail_unless (ret == GST_FLOW_NOT_NEGOTIATED || ret == GST_FLOW_ERROR);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message posted");
  GError *err = NULL;
  gst_message_parse_error (msg, &err, NULL);
  std::string text = err->message;
  GST_INFO ("error: %s", text.c_str ());
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  return text;
}

static void
assert_mentions (const std::string & text, const char *needle)
{
  fail_unless (text.find (needle) != std::string::npos, "\"%s\" does not mention %s", text.c_str (), needle);
}

GST_START_TEST (test_hop_larger_than_n_fft_n)
{
  const std::string e = negotiation_error ("n-fft=200 hop=300", 1);
  assert_mentions (e, "hop (300)");
  assert_mentions (e, "set hop <= n-fft");
}
GST_END_TEST;

GST_START_TEST (test_too_many_bins_n)
{
  const std::string e = negotiation_error ("n-fft=200 bins=102", 2);
  assert_mentions (e, "bins (102)");
  assert_mentions (e, "n-fft/2+1 (101)");
}
GST_END_TEST;

GST_START_TEST (test_downstream_n_fft_too_small_n)
{
  const std::string e = negotiation_error ("", 1, "application/x-spectrogram, n-fft=(int)1");
  assert_mentions (e, "n-fft=1");
}
GST_END_TEST;

GST_START_TEST (test_property_conflicts_with_downstream_n)
{
  const std::string e = negotiation_error ("n-fft=256", 1,
      "application/x-spectrogram, n-fft=(int)200, hop=(int)100");
  assert_mentions (e, " requires n-fft=200 but stft can only produce n-fft=256");
  assert_mentions (e, "property `n-fft`");
}
GST_END_TEST;

GST_START_TEST (test_downstream_wants_other_rate_n)
{
  const std::string e = negotiation_error ("", 1, "application/x-spectrogram, rate=(int)200", 160);
  assert_mentions (e, " requires rate=200 but stft can only produce rate=160");
  assert_mentions (e, "eegsrc rate=0");
}
GST_END_TEST;

GST_START_TEST (test_n_fft_below_two_rejected_n)
{
  GstElement *e = gst_element_factory_make ("stft", NULL);
  GParamSpec *spec = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "n-fft");
  GValue v = G_VALUE_INIT;
  g_value_init (&v, G_TYPE_INT);
  g_value_set_int (&v, 1);
  fail_unless (g_param_value_validate (spec, &v));   /* out of range: GLib refuses it */
  fail_unless_equals_int (G_PARAM_SPEC_INT (spec)->minimum, 2);
  g_value_unset (&v);
  gst_object_unref (e);
}
GST_END_TEST;

/* A 5 s hole in the input timestamps without a DISCONT flag: the frames after
 * it carry the new time (not the sample counter's), start a new run
 * (DISCONT, frame 0 at the new PTS), and a warning says so. */
GST_START_TEST (test_timestamp_gap_without_discont_n)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *h = stft_harness ("waveform=false", 200, 1, nullptr, bus);
  const auto x = noise (800, 9);
  gst_harness_push (h, samples_buffer (x.data (), 400, 0));            /* 0 .. 2 s */
  std::vector<GstClockTime> pts;
  pull_all (h, &pts);
  fail_unless (!pts.empty ());
  gst_harness_push (h, samples_buffer (x.data () + 400, 400, 7 * GST_SECOND));  /* 5 s hole */
  GstBuffer *out = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 7 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), 0);
  fail_unless (GST_BUFFER_IS_DISCONT (out));
  gst_buffer_unref (out);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning about the jump");
  gst_message_unref (msg);
  /* jitter below half a frame period is no jump */
  gst_harness_push (h, samples_buffer (x.data (), 200, 9 * GST_SECOND + 2 * GST_MSECOND));
  out = gst_harness_pull (h);
  fail_if (GST_BUFFER_IS_DISCONT (out));
  gst_buffer_unref (out);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_partial_sample_frame_n)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *h = stft_harness ("", 200, 3, nullptr, bus);
  GstBuffer *b = gst_buffer_new_allocate (NULL, 5, NULL);
  gst_buffer_memset (b, 0, 0, 5);
  fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_ERROR);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  GError *err = NULL;
  gst_message_parse_error (msg, &err, NULL);
  assert_mentions (err->message, "not a whole number of 3-channel F32LE");
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A flushing seek that arrives while stft negotiates new input caps (the
 * race of repeated seeks): the caps cannot be set on the flushing source
 * pad, which is the seek, not a negotiation failure, so no error is posted
 * and the stream goes on after the flush. A probe starts the flush when
 * stft asks downstream about its caps, between the input caps and the
 * output caps. */
struct FlushOnCaps
{
  GstHarness *h;
  bool flushed;
};

static GstPadProbeReturn
flush_on_caps_query (GstPad *, GstPadProbeInfo * info, gpointer user_data)
{
  FlushOnCaps *f = static_cast<FlushOnCaps *> (user_data);
  if (GST_QUERY_TYPE (GST_PAD_PROBE_INFO_QUERY (info)) == GST_QUERY_CAPS && !f->flushed) {
    f->flushed = true;
    fail_unless (gst_pad_push_event (f->h->srcpad, gst_event_new_flush_start ()));
  }
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_caps_while_flushing_no_error)
{
  GstBus *bus = gst_bus_new ();
  GstHarness *h = stft_harness ("waveform=false", 200, 1, nullptr, bus);
  const auto x = noise (400, 11);
  gst_harness_push (h, samples_buffer (x.data (), 200, 0));
  gst_buffer_unref (gst_harness_pull (h));
  GstPad *src = gst_element_get_static_pad (h->element, "src");
  FlushOnCaps flush = { h, false };
  const gulong probe = gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, flush_on_caps_query,
      &flush, NULL);
  GstCaps *caps = audio_caps (200, 2);
  gst_harness_push_event (h, gst_event_new_caps (caps));
  gst_caps_unref (caps);
  fail_unless (flush.flushed);
  gst_pad_remove_probe (src, probe);
  gst_object_unref (src);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "caps that could not be set while flushing were reported as a negotiation error");
  /* after the flush the caps come again and the stream goes on (2 channels) */
  gst_harness_set_src_caps (h, audio_caps (200, 2));
  GstSegment seg;
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  fail_unless_equals_int (gst_harness_push (h, samples_buffer (x.data (), 400, 0)), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull (h);
  fail_unless_equals_int (gst_buffer_get_size (out), 2 * 100 * sizeof (float));
  gst_buffer_unref (out);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

static Suite *
stft_suite (void)
{
  Suite *s = suite_create ("stft");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_default_caps);
  tcase_add_test (tc, test_timestamp_gap_without_discont_n);
  tcase_add_test (tc, test_downstream_caps_choose_config);
  tcase_add_test (tc, test_tone_lights_its_bin);
  tcase_add_test (tc, test_buffer_partition);
  tcase_add_test (tc, test_timestamps_hours_no_drift);
  tcase_add_test (tc, test_discont_resets);
  tcase_add_test (tc, test_flush_resets);
  tcase_add_test (tc, test_caps_while_flushing_no_error);
  tcase_add_test (tc, test_eos_invents_no_frame);
  tcase_add_test (tc, test_latency_query);
  tcase_add_test (tc, test_events_keep_their_place);
  tcase_add_test (tc, test_hop_larger_than_n_fft_n);
  tcase_add_test (tc, test_too_many_bins_n);
  tcase_add_test (tc, test_downstream_n_fft_too_small_n);
  tcase_add_test (tc, test_property_conflicts_with_downstream_n);
  tcase_add_test (tc, test_downstream_wants_other_rate_n);
  tcase_add_test (tc, test_n_fft_below_two_rejected_n);
  tcase_add_test (tc, test_partial_sample_frame_n);
  return s;
}

GST_CHECK_MAIN (stft);
