// SPDX-License-Identifier: LGPL-2.1-or-later
/* eegsrc: synthetic EEG, files, resampling, seeking, looping, tags,
 * annotations, and every refused input (tests ending in _n). */
#include <cmath>
#include <complex>
#include <functional>
#include <random>

#include <edflib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_string.h"
#include "eeg_file.h"
#include "eegsrc_capture.h"
#include "temp_dir.h"
#include "test_paths.h"

/* last: its fail() macro clashes with std::ios::fail */
#include <gst/check/gstcheck.h>

using eegtest::Capture;

static const double kPi = 3.14159265358979323846;

static std::string
mmidb (const char *run)
{
  return neuro_test::recording (std::string ("eeg/eegmmidb/") + run + ".edf");
}

/* ---- helpers ---------------------------------------------------------- */

using neuro_test::TempDir;

struct TestSignal
{
  std::string label;
  int samples_per_record;
  std::function<double (double)> value;  /* uV at time t (s) */
};

/* Writes an EDF+ (or BDF+) file with EDFlib's writer. */
static void
write_edf (const std::string &path, const std::vector<TestSignal> &signals, int records,
    int record_duration_10us = 100000, bool bdf = false,
    const std::vector<std::pair<double, std::string>> &annotations = {},
    const char *patient_name = NULL)
{
  const int h = edfopen_file_writeonly (path.c_str (),
      bdf ? EDFLIB_FILETYPE_BDFPLUS : EDFLIB_FILETYPE_EDFPLUS, (int) signals.size ());
  fail_unless (h >= 0, "cannot write %s", path.c_str ());
  fail_unless (edf_set_datarecord_duration (h, record_duration_10us) == 0);
  for (size_t i = 0; i < signals.size (); i++) {
    edf_set_samplefrequency (h, (int) i, signals[i].samples_per_record);
    edf_set_physical_maximum (h, (int) i, 3000.0);
    edf_set_physical_minimum (h, (int) i, -3000.0);
    edf_set_digital_maximum (h, (int) i, bdf ? 8388607 : 32767);
    edf_set_digital_minimum (h, (int) i, bdf ? -8388608 : -32768);
    edf_set_label (h, (int) i, signals[i].label.c_str ());
    edf_set_physical_dimension (h, (int) i, "uV");
  }
  if (patient_name)
    edf_set_patientname (h, patient_name);
  const double record_s = record_duration_10us / 1e5;
  for (int r = 0; r < records; r++)
    for (const TestSignal &s : signals) {
      std::vector<double> buf (s.samples_per_record);
      for (int i = 0; i < s.samples_per_record; i++)
        buf[i] = s.value (r * record_s + i * record_s / s.samples_per_record);
      fail_unless (edfwrite_physical_samples (h, buf.data ()) == 0);
    }
  for (const auto &a : annotations)
    edfwrite_annotation_utf8 (h, (long long) std::llround (a.first * 1e4), -1, a.second.c_str ());
  fail_unless (edfclose_file (h) == 0);
}

static std::string
src (const std::string &props)
{
  return "eegsrc " + props + " ! fakesink name=sink sync=false";
}

/* Mean power spectral density of x in [lo, hi) Hz (Hann-windowed periodogram
 * averaged over 2 s segments). */
static double
band_power (const std::vector<float> &x, int rate, double lo, double hi)
{
  const size_t n = 2 * rate;
  double sum = 0.0;
  int count = 0;
  for (size_t start = 0; start + n <= x.size (); start += n) {
    for (size_t k = (size_t) std::ceil (lo * n / rate); k < hi * n / rate; k++) {
      std::complex<double> acc = 0.0;
      for (size_t i = 0; i < n; i++) {
        const double w = 0.5 - 0.5 * std::cos (2 * kPi * i / n);
        acc += w * x[start + i] * std::polar (1.0, -2 * kPi * k * i / n);
      }
      sum += std::norm (acc);
      count++;
    }
  }
  return sum / count;
}

static int
channel_index (const Capture &cap, const char *name)
{
  for (size_t i = 0; i < cap.names.size (); i++)
    if (cap.names[i] == name)
      return (int) i;
  fail ("no channel %s", name);
  return -1;
}

static void
expect_joined (const std::vector<std::string> &items, const std::string &expected)
{
  const std::string got = neuro::join (items);
  fail_unless (got == expected, "'%s' != '%s'", got.c_str (), expected.c_str ());
}

/* ---- synthetic EEG ---------------------------------------------------- */

GST_START_TEST (test_synthetic_defaults)
{
  Capture cap;
  fail_unless (eegtest::run (src ("num-buffers=5"), cap), "%s", cap.error.c_str ());
  fail_unless_equals_int (cap.channels, 19);
  fail_unless_equals_int (cap.rate, 200);
  guint64 mask = 1;
  fail_unless (gst_structure_get (gst_caps_get_structure (cap.caps, 0), "channel-mask",
          GST_TYPE_BITMASK, &mask, NULL));
  fail_unless_equals_uint64 (mask, 0);
  expect_joined (cap.names, "Fp1,Fp2,F7,F3,Fz,F4,F8,T3,C3,Cz,C4,T4,T5,P3,Pz,P4,T6,O1,O2");
  fail_unless_equals_std_string (cap.units[0], "uV");
  fail_unless_equals_std_string (cap.modality[0], "eeg");
  fail_unless_equals_int (cap.buffers.size (), 5);
  fail_unless_equals_int (cap.frames (), 500);
}
GST_END_TEST;

GST_START_TEST (test_synthetic_count_and_rate)
{
  Capture cap;
  fail_unless (eegtest::run (src ("num-channels=70 rate=256 num-buffers=2"), cap));
  fail_unless_equals_int (cap.channels, 70);
  fail_unless_equals_int (cap.rate, 256);
  fail_unless_equals_std_string (cap.names[63], "P10");
  fail_unless_equals_std_string (cap.names[69], "E70");
  Capture two;
  fail_unless (eegtest::run (src ("channels=o2,Cz num-buffers=2"), two));
  expect_joined (two.names, "O2,Cz");
  fail_if (gst_structure_has_field (gst_caps_get_structure (two.caps, 0), "channel-mask"));
}
GST_END_TEST;

GST_START_TEST (test_synthetic_deterministic)
{
  Capture a, b, c;
  fail_unless (eegtest::run (src ("seed=7 num-buffers=10"), a));
  fail_unless (eegtest::run (src ("seed=7 num-buffers=10 samplesperbuffer=100"), b));
  fail_unless (eegtest::run (src ("seed=8 num-buffers=10"), c));
  fail_unless (a.channel (0) == b.channel (0) && a.channel (18) == b.channel (18));
  fail_if (a.channel (0) == c.channel (0));
}
GST_END_TEST;

GST_START_TEST (test_timestamps_from_sample_counter)
{
  Capture cap;
  fail_unless (eegtest::run (src ("rate=250 samplesperbuffer=37 num-buffers=40"), cap));
  fail_unless_equals_int (cap.buffers.size (), 40);
  guint64 frame = 0;
  for (const eegtest::Buffer &b : cap.buffers) {
    fail_unless_equals_uint64 (b.offset, frame);
    fail_unless_equals_uint64 (b.offset_end, frame + 37);
    fail_unless_equals_uint64 (b.pts, gst_util_uint64_scale (frame, GST_SECOND, 250));
    fail_unless_equals_uint64 (b.pts + b.duration,
        gst_util_uint64_scale (frame + 37, GST_SECOND, 250));
    frame += 37;
  }
}
GST_END_TEST;

/* Alpha (8-13 Hz) over O1/O2 rises with eyes closed; the spectrum falls with
 * frequency; blinks show on Fp1 but not on O1, and only with eyes open. */
GST_START_TEST (test_synthetic_is_eeg_like)
{
  Capture open, closed;
  fail_unless (eegtest::run (src ("eyes=open num-buffers=120 seed=1"), open));
  fail_unless (eegtest::run (src ("eyes=closed num-buffers=120 seed=1"), closed));
  for (const char *site : {"O1", "O2"}) {
    const double po = band_power (open.channel (channel_index (open, site)), 200, 8, 13);
    const double pc = band_power (closed.channel (channel_index (closed, site)), 200, 8, 13);
    GST_INFO ("%s alpha closed/open = %f", site, pc / po);
    fail_unless (pc >= 2.0 * po, "%s alpha closed/open = %f", site, pc / po);
  }
  const std::vector<float> cz = open.channel (channel_index (open, "Cz"));
  const double bands[][2] = {{1, 4}, {4, 7}, {15, 30}, {30, 45}, {60, 95}};
  for (size_t i = 1; i < G_N_ELEMENTS (bands); i++)
    fail_unless (band_power (cz, 200, bands[i - 1][0], bands[i - 1][1]) >
        band_power (cz, 200, bands[i][0], bands[i][1]), "spectrum rises at band %zu", i);
  auto peak = [] (const std::vector<float> &x) {
    float m = 0;
    for (float v : x)
      m = std::max (m, v);
    return m;
  };
  const float fp1_open = peak (open.channel (channel_index (open, "Fp1")));
  const float o1_open = peak (open.channel (channel_index (open, "O1")));
  const float fp1_closed = peak (closed.channel (channel_index (closed, "Fp1")));
  fail_unless (fp1_open > 60.0f && fp1_open > 1.5f * o1_open, "Fp1 %f O1 %f", fp1_open, o1_open);
  fail_unless (fp1_closed < 0.6f * fp1_open, "blinks with eyes closed: %f", fp1_closed);
}
GST_END_TEST;

static GstPadProbeReturn
close_eyes_at_30s (GstPad * pad, GstPadProbeInfo * info, gpointer)
{
  if (GST_BUFFER_OFFSET (GST_PAD_PROBE_INFO_BUFFER (info)) + 1 >= 30 * 200) {
    GstElement *src = gst_pad_get_parent_element (pad);
    g_object_set (src, "eyes", 1, NULL);
    gst_object_unref (src);
  }
  return GST_PAD_PROBE_OK;
}

/* "eyes" is changeable while playing: alpha rises after the switch. */
GST_START_TEST (test_eyes_change_while_playing)
{
  Capture cap;
  GstElement *pipeline = eegtest::make_pipeline (src ("channels=O1 samplesperbuffer=200 "
          "num-buffers=60 name=src"), cap);
  GstElement *eeg = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  GstPad *pad = gst_element_get_static_pad (eeg, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, close_eyes_at_30s, NULL, NULL);
  gst_object_unref (pad);
  gst_object_unref (eeg);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  fail_unless (eegtest::wait_eos (pipeline, cap));
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  const std::vector<float> o1 = cap.channel (0);
  const std::vector<float> before (o1.begin (), o1.begin () + 6000);
  const std::vector<float> after (o1.begin () + 7000, o1.end ());
  const double ratio = band_power (after, 200, 8, 13) / band_power (before, 200, 8, 13);
  fail_unless (ratio >= 2.0, "alpha after/before closing the eyes = %f", ratio);
}
GST_END_TEST;

GST_START_TEST (test_live_paces_to_clock)
{
  Capture cap;
  const gint64 t0 = g_get_monotonic_time ();
  fail_unless (eegtest::run ("eegsrc is-live=true num-buffers=6 samplesperbuffer=40 ! "
          "fakesink name=sink sync=true", cap));
  const double seconds = (g_get_monotonic_time () - t0) / 1e6;
  /* 6 x 0.2 s of signal cannot arrive much faster than 1.2 s */
  fail_unless (seconds > 1.0, "live source ran %f s", seconds);
  fail_unless_equals_int (cap.buffers.size (), 6);
}
GST_END_TEST;

/* ---- files ------------------------------------------------------------ */

GST_START_TEST (test_file_native_equals_library)
{
  Capture cap;
  fail_unless (eegtest::run (src ("location=" + mmidb ("S001R01") + " samplesperbuffer=333"),
          cap), "%s", cap.error.c_str ());
  neuro::EegRecording rec = neuro::read_eeg_file (mmidb ("S001R01"));
  fail_unless_equals_int (cap.channels, 64);
  fail_unless_equals_int (cap.rate, 160);
  fail_unless_equals_int (cap.frames (), rec.n_samples);
  fail_unless (cap.names == rec.channel_names);
  for (int c : {0, 31, 63})
    fail_unless (cap.channel (c) == std::vector<float> (rec.channel (c),
            rec.channel (c) + rec.n_samples));
}
GST_END_TEST;

/* 64 channels at 160 Hz to 200 Hz (audioresample would refuse them): the
 * length is right and a 1.5 Hz signal comes out as the same sine. */
GST_START_TEST (test_resample_64_channels)
{
  TempDir dir;
  std::vector<TestSignal> sigs;
  for (int c = 0; c < 64; c++)
    sigs.push_back ({"S" + std::to_string (c), 160,
        [c] (double t) { return 80.0 * std::sin (2 * kPi * 1.5 * t + 0.1 * c) + c; }});
  write_edf (dir.file ("sine.edf"), sigs, 20);
  Capture cap;
  fail_unless (eegtest::run (src ("location=" + dir.file ("sine.edf") + " rate=200"), cap),
      "%s", cap.error.c_str ());
  fail_unless_equals_int (cap.rate, 200);
  fail_unless_equals_int (cap.channels, 64);
  fail_unless_equals_int (cap.frames (), 20 * 200);
  double worst = 0.0;
  for (int c : {0, 17, 63}) {
    const std::vector<float> x = cap.channel (c);
    for (size_t i = 200; i < x.size () - 200; i++) {
      const double t = i / 200.0;
      worst = std::max (worst,
          std::fabs (x[i] - (80.0 * std::sin (2 * kPi * 1.5 * t + 0.1 * c) + c)));
    }
  }
  GST_INFO ("worst resampling error %f uV", worst);
  fail_unless (worst < 0.5, "resampled sine off by %f uV", worst);

  /* The real EEGMMIDB run: 61 s at 160 Hz gives 12200 frames at 200 Hz, and its
   * slow activity (0.5 s means) is unchanged. */
  Capture real;
  fail_unless (eegtest::run (src ("location=" + mmidb ("S001R01") + " rate=200"), real));
  fail_unless_equals_int (real.channels, 64);
  fail_unless_equals_int (real.frames (), 9760 * 200 / 160);
  neuro::EegRecording native = neuro::read_eeg_file (mmidb ("S001R01"));
  for (int c = 0; c < 64; c += 9) {
    const std::vector<float> x = real.channel (c);
    for (size_t block = 2; block < 120; block++) {
      double a = 0, b = 0, spread = 0;
      for (size_t i = 0; i < 100; i++)
        a += x[block * 100 + i] / 100.0;
      for (size_t i = 0; i < 80; i++) {
        b += native.channel (c)[block * 80 + i] / 80.0;
        spread += std::fabs (native.channel (c)[block * 80 + i]) / 80.0;
      }
      fail_unless (std::fabs (a - b) < 0.05 * spread + 0.5,
          "channel %d block %zu: 0.5 s mean %f after resampling, %f before", c, block, a, b);
    }
  }
}
GST_END_TEST;

/* Data records of 0.5 s and a BDF+ file. */
GST_START_TEST (test_record_duration_and_bdf)
{
  TempDir dir;
  auto ramp = [] (double t) { return 10.0 * t; };
  write_edf (dir.file ("half.edf"), {{"Cz", 64, ramp}}, 8, 50000);
  write_edf (dir.file ("x.bdf"), {{"Cz", 100, ramp}, {"Pz", 100, ramp}}, 3, 100000, true);
  Capture half, bdf;
  fail_unless (eegtest::run (src ("location=" + dir.file ("half.edf")), half), "%s",
      half.error.c_str ());
  fail_unless_equals_int (half.rate, 128);
  fail_unless_equals_int (half.frames (), 8 * 64);
  fail_unless (std::fabs (half.channel (0)[300] - 10.0 * 300 / 128) < 0.1);
  fail_unless (eegtest::run (src ("location=" + dir.file ("x.bdf")), bdf), "%s",
      bdf.error.c_str ());
  fail_unless_equals_int (bdf.frames (), 300);
  fail_unless (std::fabs (bdf.channel (1)[250] - 25.0) < 0.01);
}
GST_END_TEST;

static void
seek_and_capture (const std::string &desc, GstClockTime to, Capture &cap)
{
  GstElement *pipeline = eegtest::make_pipeline (desc, cap);
  gst_element_set_state (pipeline, GST_STATE_PAUSED);
  fail_unless (gst_element_get_state (pipeline, NULL, NULL, GST_CLOCK_TIME_NONE) ==
      GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
          (GstSeekFlags) (GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE), to));
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  fail_unless (eegtest::wait_eos (pipeline, cap), "%s", cap.error.c_str ());
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_seek)
{
  neuro::EegRecording rec = neuro::read_eeg_file (mmidb ("S001R03"));
  Capture cap;
  seek_and_capture (src ("location=" + mmidb ("S001R03") + " samplesperbuffer=100"),
      100 * GST_SECOND, cap);
  fail_unless_equals_uint64 (cap.buffers[0].pts, 100 * GST_SECOND);
  fail_unless_equals_uint64 (cap.buffers[0].offset, 16000);
  fail_unless_equals_int (cap.frames (), rec.n_samples - 16000);
  fail_unless (cap.channel (5) == std::vector<float> (rec.channel (5) + 16000,
          rec.channel (5) + rec.n_samples));
  /* annotations before the seek target are not replayed: the first one sent is
   * the first with onset >= 100 s */
  fail_unless (!cap.events.empty ());
  fail_unless (cap.events[0].pts >= 100 * GST_SECOND);

  /* resampled: the output after a seek matches an uninterrupted run */
  neuro::EegRecording rs = neuro::read_eeg_file (mmidb ("S001R03"), {"Oz", "C3"}, {}, 200);
  Capture res;
  seek_and_capture (src ("location=" + mmidb ("S001R03") + " channels=Oz,C3 rate=200"),
      GST_SECOND * 301 / 10, res);
  fail_unless_equals_uint64 (res.buffers[0].offset, 6020);
  const std::vector<float> oz = res.channel (0);
  fail_unless_equals_int (oz.size (), rs.n_samples - 6020);
  double worst = 0;
  for (size_t i = 0; i < oz.size (); i++)
    worst = std::max (worst, (double) std::fabs (oz[i] - rs.channel (0)[6020 + i]));
  GST_INFO ("resampled seek differs by %f uV", worst);
  fail_unless (worst < 0.01, "resampled seek differs by %f uV", worst);
}
GST_END_TEST;

GST_START_TEST (test_loop)
{
  TempDir dir;
  write_edf (dir.file ("short.edf"), {{"Cz", 100, [] (double t) { return 100.0 * t; }}}, 2,
      100000, false, {{0.5, "mark"}});
  Capture cap;
  fail_unless (eegtest::run (src ("location=" + dir.file ("short.edf") +
              " loop=true samplesperbuffer=50 num-buffers=10"), cap), "%s", cap.error.c_str ());
  const std::vector<float> x = cap.channel (0);
  fail_unless_equals_int (x.size (), 500);
  for (size_t i = 0; i < x.size (); i++)
    fail_unless (std::fabs (x[i] - 100.0 * (i % 200) / 100.0) < 0.1, "frame %zu: %f", i, x[i]);
  for (size_t i = 0; i < cap.buffers.size (); i++)
    fail_unless_equals_uint64 (cap.buffers[i].pts, i * GST_SECOND / 2);
  fail_unless_equals_int (cap.events.size (), 3);
  for (size_t i = 0; i < 3; i++)
    fail_unless_equals_uint64 (cap.events[i].pts, GST_SECOND / 2 + i * 2 * GST_SECOND);
}
GST_END_TEST;

/* Each annotation reaches the sink as an event just before the buffer that
 * contains its onset, and the bus gets the same record. */
GST_START_TEST (test_annotations)
{
  neuro::EegRecording rec = neuro::read_eeg_file (mmidb ("S001R03"));
  Capture cap;
  fail_unless (eegtest::run (src ("location=" + mmidb ("S001R03") + " samplesperbuffer=64"),
          cap));
  fail_unless_equals_int (cap.events.size (), 30);
  fail_unless_equals_int (cap.messages.size (), 30);
  for (size_t i = 0; i < 30; i++) {
    const GstClockTime onset = (GstClockTime) std::llround (rec.annotations[i].onset * 1e9);
    fail_unless_equals_uint64 (cap.events[i].pts, onset);
    fail_unless_equals_uint64 (cap.messages[i].pts, onset);
    fail_unless_equals_std_string (cap.events[i].text, rec.annotations[i].text);
    fail_unless_equals_uint64 (cap.events[i].duration,
        (GstClockTime) std::llround (rec.annotations[i].duration * 1e9));
    const eegtest::Buffer &next = cap.buffers[cap.event_next_buffer[i]];
    fail_unless (next.pts <= onset && onset < next.pts + next.duration,
        "annotation %zu at %" GST_TIME_FORMAT " before buffer at %" GST_TIME_FORMAT, i,
        GST_TIME_ARGS (onset), GST_TIME_ARGS (next.pts));
  }
}
GST_END_TEST;

GST_START_TEST (test_tags_survive_stock_elements)
{
  Capture cap;
  fail_unless (eegtest::run ("eegsrc location=" + mmidb ("S001R01") +
          " channels=C3,Cz,C4 num-buffers=20 ! audioresample ! audio/x-raw,rate=250 ! "
          "audioconvert ! queue ! tee ! queue ! fakesink name=sink sync=false", cap),
      "%s", cap.error.c_str ());
  fail_unless_equals_int (cap.rate, 250);
  expect_joined (cap.names, "C3,Cz,C4");
  expect_joined (cap.units, "uV,uV,uV");
  fail_unless_equals_std_string (cap.modality[0], "eeg");
  for (const char *chans : {"Oz", "O1,O2"}) {
    Capture few;
    fail_unless (eegtest::run ("eegsrc location=" + mmidb ("S001R01") + " channels=" + chans +
            " num-buffers=5 ! audioconvert ! audioresample ! audio/x-raw,rate=200 ! "
            "fakesink name=sink sync=false", few), "%s: %s", chans, few.error.c_str ());
    expect_joined (few.names, chans);
  }
}
GST_END_TEST;

GST_START_TEST (test_montage)
{
  neuro::EegRecording rec = neuro::read_eeg_file (mmidb ("S001R01"), {"C3", "C4"});
  Capture cap;
  fail_unless (eegtest::run (src ("location=" + mmidb ("S001R01") + " montage=C3-C4,Fp1-O1"),
          cap));
  expect_joined (cap.names, "C3-C4,Fp1-O1");
  const std::vector<float> d = cap.channel (0);
  for (size_t i = 0; i < d.size (); i += 11)
    fail_unless (std::fabs (d[i] - (rec.channel (0)[i] - rec.channel (1)[i])) < 1e-3);
}
GST_END_TEST;

static std::string
all_tags (const std::string &location, const char *extra)
{
  std::string out;
  GstElement *pipeline = gst_parse_launch (("eegsrc location=" + location + " " + extra +
          " num-buffers=1 ! fakesink").c_str (), NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (pipeline);
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
        (GstMessageType) (GST_MESSAGE_TAG | GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (!msg)
      break;
    const bool done = GST_MESSAGE_TYPE (msg) != GST_MESSAGE_TAG;
    if (!done) {
      GstTagList *tags;
      gst_message_parse_tag (msg, &tags);
      gchar *s = gst_tag_list_to_string (tags);
      out += s;
      g_free (s);
      gst_tag_list_unref (tags);
    }
    gst_message_unref (msg);
    if (done)
      break;
  }
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return out;
}

GST_START_TEST (test_identification_stays_inside)
{
  TempDir dir;
  write_edf (dir.file ("id.edf"), {{"Cz", 100, [] (double) { return 1.0; }}}, 2, 100000, false,
      {}, "Jane_Doe");
  const std::string hidden = all_tags (dir.file ("id.edf"), "");
  fail_unless (hidden.find ("neuro-channel-names") != std::string::npos, "%s", hidden.c_str ());
  fail_unless (hidden.find ("Jane") == std::string::npos, "leaked: %s", hidden.c_str ());
  const std::string shown = all_tags (dir.file ("id.edf"), "expose-identification=true");
  fail_unless (shown.find ("edf-patient-name\\=Jane") != std::string::npos, "%s",
      shown.c_str ());
}
GST_END_TEST;

/* ---- refused input ---------------------------------------------------- */

static void
expect_error (const std::string &props, const std::string &needle1, const char *needle2)
{
  Capture cap;
  fail_if (eegtest::run (src (props), cap), "no error for %s", props.c_str ());
  fail_unless (cap.error.find (needle1) != std::string::npos, "'%s' lacks '%s'",
      cap.error.c_str (), needle1.c_str ());
  fail_unless (cap.error.find (needle2) != std::string::npos, "'%s' lacks '%s'",
      cap.error.c_str (), needle2);
  fail_unless (cap.buffers.empty ());
}

GST_START_TEST (test_missing_file_n)
{
  expect_error ("location=/nonexistent/S001R01.edf", "/nonexistent/S001R01.edf",
      "No such file");
}
GST_END_TEST;

GST_START_TEST (test_unreadable_file_n)
{
  TempDir dir;
  /* a directory cannot be read as a file, even by root */
  expect_error ("location=" + dir.path, dir.path, "is a directory");
  /* a FIFO would block a reader for ever: refused before opening */
  fail_unless (mkfifo (dir.file ("fifo.edf").c_str (), 0600) == 0);
  expect_error ("location=" + dir.file ("fifo.edf"), dir.file ("fifo.edf"), "not a regular file");
  if (getuid () != 0) {
    g_file_set_contents (dir.file ("locked.edf").c_str (), "0", 1, NULL);
    g_chmod (dir.file ("locked.edf").c_str (), 0);
    expect_error ("location=" + dir.file ("locked.edf"), dir.file ("locked.edf"),
        "Permission denied");
  }
}
GST_END_TEST;

GST_START_TEST (test_truncated_file_n)
{
  TempDir dir;
  gchar *data;
  gsize len;
  fail_unless (g_file_get_contents (mmidb ("S001R01").c_str (), &data, &len, NULL));
  g_file_set_contents (dir.file ("cut.edf").c_str (), data, len * 2 / 3, NULL);
  g_free (data);
  expect_error ("location=" + dir.file ("cut.edf"), dir.file ("cut.edf"), "truncated");
}
GST_END_TEST;

GST_START_TEST (test_random_bytes_n)
{
  TempDir dir;
  std::mt19937 rng (1);
  std::string junk (100000, '\0');
  for (char &c : junk)
    c = (char) rng ();
  g_file_set_contents (dir.file ("junk.edf").c_str (), junk.data (), junk.size (), NULL);
  expect_error ("location=" + dir.file ("junk.edf"), dir.file ("junk.edf"),
      "not a valid EDF/BDF file");
}
GST_END_TEST;

GST_START_TEST (test_unknown_channel_n)
{
  expect_error ("location=" + mmidb ("S001R01") + " channels=Cz,Xy9", mmidb ("S001R01"),
      "unknown channel label 'Xy9'");
  expect_error ("channels=Cz,Xy9", "synthetic", "unknown channel label 'Xy9'");
}
GST_END_TEST;

GST_START_TEST (test_empty_selection_n)
{
  expect_error ("location=" + mmidb ("S001R01") + " channels=\" , \"", mmidb ("S001R01"),
      "empty channel label");
}
GST_END_TEST;

GST_START_TEST (test_bad_montage_n)
{
  expect_error ("location=" + mmidb ("S001R01") + " montage=C3+C4", mmidb ("S001R01"),
      "bad montage entry 'C3+C4'");
  expect_error ("location=" + mmidb ("S001R01") + " montage=C3-Xy9", mmidb ("S001R01"),
      "bad montage entry 'C3-Xy9'");
  expect_error ("montage=C3-C4", "synthetic", "montage needs a file");
}
GST_END_TEST;

GST_START_TEST (test_mixed_rates_n)
{
  TempDir dir;
  auto flat = [] (double) { return 0.0; };
  write_edf (dir.file ("mixed.edf"), {{"Cz", 100, flat}, {"Resp", 10, flat}}, 3);
  expect_error ("location=" + dir.file ("mixed.edf"), dir.file ("mixed.edf"),
      "different sample rates");
  /* choosing signals of one rate works */
  Capture cap;
  fail_unless (eegtest::run (src ("location=" + dir.file ("mixed.edf") + " channels=Resp"), cap));
  fail_unless_equals_int (cap.rate, 10);
}
GST_END_TEST;

static Suite *
eegsrc_suite (void)
{
  Suite *s = suite_create ("eegsrc");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_synthetic_defaults);
  tcase_add_test (tc, test_synthetic_count_and_rate);
  tcase_add_test (tc, test_synthetic_deterministic);
  tcase_add_test (tc, test_timestamps_from_sample_counter);
  tcase_add_test (tc, test_synthetic_is_eeg_like);
  tcase_add_test (tc, test_eyes_change_while_playing);
  tcase_add_test (tc, test_live_paces_to_clock);
  tcase_add_test (tc, test_file_native_equals_library);
  tcase_add_test (tc, test_resample_64_channels);
  tcase_add_test (tc, test_record_duration_and_bdf);
  tcase_add_test (tc, test_seek);
  tcase_add_test (tc, test_loop);
  tcase_add_test (tc, test_annotations);
  tcase_add_test (tc, test_tags_survive_stock_elements);
  tcase_add_test (tc, test_montage);
  tcase_add_test (tc, test_identification_stays_inside);
  tcase_add_test (tc, test_missing_file_n);
  tcase_add_test (tc, test_unreadable_file_n);
  tcase_add_test (tc, test_truncated_file_n);
  tcase_add_test (tc, test_random_bytes_n);
  tcase_add_test (tc, test_unknown_channel_n);
  tcase_add_test (tc, test_empty_selection_n);
  tcase_add_test (tc, test_bad_montage_n);
  tcase_add_test (tc, test_mixed_rates_n);
  return s;
}

/* The checks that read EEGMMIDB runs; `test_eegsrc recordings` runs only
 * these, on the real files instead of the generated stand-ins. */
static const char *const kFileChecks = "test_file_native_equals_library,test_resample_64_channels,"
    "test_seek,test_annotations,test_tags_survive_stock_elements,test_montage,test_truncated_file_n,"
    "test_unknown_channel_n,test_empty_selection_n,test_bad_montage_n";

int
main (int argc, char **argv)
{
  neuro_test::choose_recordings (&argc, argv);
  if (neuro_test::reads_recordings ())
    g_setenv ("GST_CHECKS", kFileChecks, TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (eegsrc_suite (), "eegsrc", __FILE__);
}
