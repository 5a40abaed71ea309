// SPDX-License-Identifier: LGPL-2.1-or-later
/* Unit tests of the stream contract (lib/format): the window geometry and its
 * model metadata, the two media types' typed caps and their refusals, and the
 * run-continuity rule. */
#include <gst/check/gstcheck.h>

#include <map>
#include <stdexcept>
#include <string>

#include "geometry.h"
#include "media.h"

using neuro::SpectrogramInfo;
using neuro::TokensInfo;
using neuro::WindowGeometry;

static bool
contains (const std::string &haystack, const std::string &needle)
{
  return haystack.find (needle) != std::string::npos;
}

/* The message of the std::invalid_argument from_metadata throws, "" if none. */
static std::string
metadata_refusal (const std::map<std::string, std::string> &metadata)
{
  try {
    WindowGeometry::from_metadata (metadata);
  } catch (const std::invalid_argument &e) {
    return e.what ();
  }
  return "";
}

GST_START_TEST (test_geometry_metadata_defaults_and_round_trip)
{
  const WindowGeometry authors = WindowGeometry::from_metadata ({});
  fail_unless_equals_int (authors.rate, 200);
  fail_unless_equals_int (authors.n_fft, 200);
  fail_unless_equals_int (authors.hop, 100);
  fail_unless_equals_int (authors.bins, 100);
  fail_unless_equals_int (authors.window_samples, 2000);
  fail_unless_equals_int (authors.channels, 0);
  fail_unless_equals_int (authors.frames_per_window (), 19);
  fail_unless_equals_int (authors.frames_per_stride (), 20);

  WindowGeometry g;
  g.rate = 8000;
  g.n_fft = 256;
  g.hop = 128;
  g.bins = 129;
  g.window_samples = 8192;
  std::map<std::string, std::string> metadata = { { "id", "kept" } };
  g.write_metadata (metadata);
  fail_unless_equals_string (metadata.at ("sample-rate").c_str (), "8000");
  fail_unless_equals_string (metadata.at ("window-samples").c_str (), "8192");
  fail_unless_equals_string (metadata.at ("id").c_str (), "kept");
  const WindowGeometry back = WindowGeometry::from_metadata (metadata);
  fail_unless_equals_int (back.rate, 8000);
  fail_unless_equals_int (back.n_fft, 256);
  fail_unless_equals_int (back.hop, 128);
  fail_unless_equals_int (back.bins, 129);
  fail_unless_equals_int (back.window_samples, 8192);
  fail_unless_equals_int (back.with_channels (3).channels, 3);
  fail_unless (back.with_channels (3).check ().empty ());
}
GST_END_TEST;

GST_START_TEST (test_geometry_metadata_refused_n)
{
  std::string why = metadata_refusal ({ { "hop", "ten" } });
  fail_unless (contains (why, "'hop'") && contains (why, "positive integer"), "%s", why.c_str ());
  why = metadata_refusal ({ { "sample-rate", "0" } });
  fail_unless (contains (why, "'sample-rate'"), "%s", why.c_str ());
  why = metadata_refusal ({ { "n-fft", "200" }, { "window-samples", "100" } });
  fail_unless (contains (why, "shorter than n-fft"), "%s", why.c_str ());
  why = metadata_refusal ({ { "n-fft", "200" }, { "bins", "102" } });
  fail_unless (contains (why, "n-fft/2+1"), "%s", why.c_str ());
  fail_unless_equals_int (neuro::metadata_positive_int ({}, "vocabulary", 8192), 8192);
}
GST_END_TEST;

GST_START_TEST (test_spectrogram_caps_round_trip)
{
  SpectrogramInfo s;
  s.rate = 200;
  s.channels = 19;
  s.n_fft = 200;
  s.hop = 100;
  s.bins = 100;
  s.waveform = true;
  GstStructure *st = s.to_structure ();
  gint n = 0, d = 0;
  fail_unless (gst_structure_get_fraction (st, "framerate", &n, &d));
  fail_unless (n == 2 && d == 1);  /* rate/hop frames per second */
  SpectrogramInfo back;
  const std::string problem = SpectrogramInfo::from_caps (st, back);
  fail_unless (problem.empty (), "%s", problem.c_str ());
  fail_unless_equals_int (back.channels, 19);
  fail_unless_equals_int (back.bins, 100);
  fail_unless_equals_string (back.window.c_str (), "hann");
  fail_unless_equals_string (back.scaling.c_str (), "magnitude");
  fail_unless (back.waveform);
  fail_unless_equals_int (back.geometry ().n_fft, 200);

  /* Every fixed caps the producer can write is inside the one template. */
  GstCaps *fixed = gst_caps_new_full (st, NULL);
  GstCaps *templ = neuro::spectrogram_template_caps ();
  fail_unless (gst_caps_is_subset (fixed, templ));
  gst_caps_unref (templ);
  gst_caps_unref (fixed);

  /* window, scaling and waveform may be left out: the authors' hann and
   * magnitude, no waveform. */
  st = gst_structure_from_string ("application/x-spectrogram, rate=(int)8000, channels=(int)2, n-fft=(int)4, "
      "hop=(int)2, bins=(int)3", NULL);
  fail_unless (SpectrogramInfo::from_caps (st, back).empty ());
  fail_unless (back.window == "hann" && back.scaling == "magnitude" && !back.waveform);
  gst_structure_free (st);

  s.channels = 0;
  st = s.to_structure ();
  fail_if (gst_structure_has_field (st, "channels"));
  gst_structure_free (st);
}
GST_END_TEST;

GST_START_TEST (test_spectrogram_caps_refused_n)
{
  SpectrogramInfo out;
  GstStructure *st = gst_structure_from_string ("audio/x-raw, rate=(int)200, channels=(int)1", NULL);
  fail_unless (contains (SpectrogramInfo::from_caps (st, out), "expected application/x-spectrogram"));
  gst_structure_free (st);
  st = gst_structure_from_string ("application/x-spectrogram, rate=(int)200, channels=(int)1", NULL);
  fail_unless (contains (SpectrogramInfo::from_caps (st, out), "lack"));
  gst_structure_free (st);
  st = gst_structure_from_string ("application/x-spectrogram, rate=(int)200, channels=(int)1, n-fft=(int)4, "
      "hop=(int)2, bins=(int)3, scaling=(string)loud", NULL);
  fail_unless (contains (SpectrogramInfo::from_caps (st, out), "magnitude, spectrum, power or db"));
  gst_structure_free (st);
  st = gst_structure_from_string ("application/x-spectrogram, rate=(int)200, channels=(int)1, n-fft=(int)4, "
      "hop=(int)2, bins=(int)3, window=(string)kaiser, scaling=(string)magnitude, waveform=(boolean)true", NULL);
  const std::string why = SpectrogramInfo::from_caps (st, out);
  fail_unless (contains (why, "kaiser") && contains (why, "hann, hamming, blackman or rectangular"), "%s",
      why.c_str ());
  fail_unless_equals_int (out.rate, 0);  /* untouched on refusal */
  gst_structure_free (st);
  /* Sizes the template caps refuse, refused here too (hop=0 made to_structure ()
   * build a framerate of 200/0; found by tests/fuzz/fuzz_caps). */
  for (const char *sizes : {"rate=(int)0, channels=(int)1, n-fft=(int)4, hop=(int)2, bins=(int)3",
           "rate=(int)200, channels=(int)0, n-fft=(int)4, hop=(int)2, bins=(int)3",
           "rate=(int)200, channels=(int)1, n-fft=(int)1, hop=(int)2, bins=(int)3",
           "rate=(int)200, channels=(int)1, n-fft=(int)2000000, hop=(int)2, bins=(int)3",
           "rate=(int)200, channels=(int)1, n-fft=(int)4, hop=(int)0, bins=(int)3",
           "rate=(int)200, channels=(int)1, n-fft=(int)4, hop=(int)-5, bins=(int)3",
           "rate=(int)200, channels=(int)1, n-fft=(int)4, hop=(int)2, bins=(int)0"}) {
    st = gst_structure_from_string (("application/x-spectrogram, " + std::string (sizes)).c_str (), NULL);
    const std::string refusal = SpectrogramInfo::from_caps (st, out);
    fail_unless (contains (refusal, "need rate, channels, hop and bins of at least 1"), "%s: %s", sizes,
        refusal.c_str ());
    gst_structure_free (st);
  }
}
GST_END_TEST;

GST_START_TEST (test_tokens_caps_round_trip)
{
  TokensInfo t;
  t.channels = 4;
  t.vocabulary = 512;
  t.fps_n = 2;
  t.fps_d = 1;
  t.modality = "eeg";
  t.model = "tfm-tokenizer-eeg-v1";
  GstStructure *st = t.to_structure ();
  TokensInfo back;
  const std::string problem = TokensInfo::from_caps (st, back);
  fail_unless (problem.empty (), "%s", problem.c_str ());
  fail_unless_equals_int (back.channels, 4);
  fail_unless_equals_int (back.vocabulary, 512);
  fail_unless_equals_int (back.codebooks, 1);
  fail_unless_equals_string (back.modality.c_str (), "eeg");
  fail_unless_equals_string (back.model.c_str (), "tfm-tokenizer-eeg-v1");
  fail_unless_equals_uint64 (back.frame_time (3), 3 * GST_SECOND / 2);
  GstCaps *fixed = gst_caps_new_full (st, NULL);
  GstCaps *templ = neuro::tokens_template_caps ();
  fail_unless (gst_caps_is_subset (fixed, templ));
  gst_caps_unref (templ);
  gst_caps_unref (fixed);

  /* Optional fields stay out when not given; codebooks defaults to 1. */
  st = gst_structure_from_string ("application/x-tokens, channels=(int)1, vocabulary=(int)8, "
      "framerate=(fraction)1/3", NULL);
  fail_unless (TokensInfo::from_caps (st, back).empty ());
  fail_unless (back.modality.empty () && back.model.empty ());
  fail_unless_equals_int (back.codebooks, 1);
  gst_structure_free (st);
  st = back.to_structure ();
  fail_if (gst_structure_has_field (st, "modality") || gst_structure_has_field (st, "model"));
  gst_structure_free (st);
}
GST_END_TEST;

GST_START_TEST (test_tokens_caps_refused_n)
{
  TokensInfo out;
  for (const char *caps : { "application/x-tokens, channels=(int)1, vocabulary=(int)8",
           "application/x-tokens, channels=(int)1, vocabulary=(int)8, framerate=(fraction)0/1",
           "application/x-tokens, channels=(int)0, vocabulary=(int)8, framerate=(fraction)2/1",
           "application/x-tokens, channels=(int)1, vocabulary=(int)8, codebooks=(int)0, framerate=(fraction)2/1" }) {
    GstStructure *st = gst_structure_from_string (caps, NULL);
    const std::string why = TokensInfo::from_caps (st, out);
    fail_unless (contains (why, "positive framerate"), "%s: %s", caps, why.c_str ());
    gst_structure_free (st);
  }
  GstStructure *st = gst_structure_from_string ("application/x-spectrogram, rate=(int)2", NULL);
  fail_unless (contains (TokensInfo::from_caps (st, out), "expected application/x-tokens"));
  gst_structure_free (st);
}
GST_END_TEST;

/* Overlapping windows: both fields travel together and come back. */
GST_START_TEST (test_tokens_window_fields)
{
  TokensInfo t;
  t.channels = 2;
  t.vocabulary = 512;
  t.fps_n = 2;
  t.window_frames = 19;
  t.window_stride = 1;
  GstStructure *st = t.to_structure ();
  TokensInfo back;
  fail_unless (TokensInfo::from_caps (st, back).empty ());
  fail_unless_equals_int (back.window_frames, 19);
  fail_unless_equals_int (back.window_stride, 1);
  gst_structure_free (st);
  t.window_frames = t.window_stride = 0;
  st = t.to_structure ();
  fail_if (gst_structure_has_field (st, "window-frames") || gst_structure_has_field (st, "window-stride"));
  gst_structure_free (st);
}
GST_END_TEST;

GST_START_TEST (test_tokens_window_fields_refused_n)
{
  TokensInfo out;
  for (const char *fields : { ", window-frames=(int)19", ", window-stride=(int)1",
           ", window-frames=(int)0, window-stride=(int)1", ", window-frames=(int)19, window-stride=(string)x" }) {
    const std::string caps = std::string ("application/x-tokens, channels=(int)1, vocabulary=(int)8, "
        "framerate=(fraction)2/1") + fields;
    GstStructure *st = gst_structure_from_string (caps.c_str (), NULL);
    const std::string why = TokensInfo::from_caps (st, out);
    fail_unless (contains (why, "window-frames and window-stride"), "%s: %s", fields, why.c_str ());
    gst_structure_free (st);
  }
}
GST_END_TEST;

GST_START_TEST (test_continues_run)
{
  const GstClockTime period = GST_SECOND / 2;
  fail_unless (neuro::continues_run (10 * GST_SECOND, 10 * GST_SECOND, period));
  fail_unless (neuro::continues_run (10 * GST_SECOND, 10 * GST_SECOND + period / 2, period));
  fail_unless (neuro::continues_run (10 * GST_SECOND, 10 * GST_SECOND - period / 2, period));
  fail_if (neuro::continues_run (10 * GST_SECOND, 10 * GST_SECOND + period / 2 + 1, period));
  fail_if (neuro::continues_run (10 * GST_SECOND, 10 * GST_SECOND - period / 2 - 1, period));
}
GST_END_TEST;

static Suite *
format_suite (void)
{
  Suite *s = suite_create ("format");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_geometry_metadata_defaults_and_round_trip);
  tcase_add_test (tc, test_geometry_metadata_refused_n);
  tcase_add_test (tc, test_spectrogram_caps_round_trip);
  tcase_add_test (tc, test_spectrogram_caps_refused_n);
  tcase_add_test (tc, test_tokens_caps_round_trip);
  tcase_add_test (tc, test_tokens_caps_refused_n);
  tcase_add_test (tc, test_continues_run);
  tcase_add_test (tc, test_tokens_window_fields);
  tcase_add_test (tc, test_tokens_window_fields_refused_n);
  return s;
}

GST_CHECK_MAIN (format);
