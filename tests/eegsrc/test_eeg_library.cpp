// SPDX-License-Identifier: LGPL-2.1-or-later
/* The plain C++ API of lib/eeg (read_eeg_file) that offline tools use. */
#include <gst/check/gstcheck.h>

#include <edflib.h>

#include <cmath>

#include "check_string.h"
#include "eeg_file.h"
#include "temp_dir.h"
#include "test_paths.h"
#include "utf8.h"

static std::string
mmidb (const char *run)
{
  return neuro_test::recording (std::string ("eeg/eegmmidb/") + run + ".edf");
}

GST_START_TEST (test_read_whole_file)
{
  neuro::EegRecording r = neuro::read_eeg_file (mmidb ("S001R03"));
  fail_unless_equals_int (r.channel_names.size (), 64);
  fail_unless_equals_int (r.rate, 160);
  fail_unless_equals_int (r.n_samples, 125 * 160);
  fail_unless_equals_int (r.samples.size (), 64 * 125 * 160);
  /* BCI2000 labels lose their padding dots: "Fc5." -> "Fc5", "Iz.." -> "Iz". */
  fail_unless_equals_std_string (r.channel_names.front (), "Fc5");
  fail_unless_equals_std_string (r.channel_names.back (), "Iz");
  fail_unless_equals_std_string (r.units[0], "uV");
  /* T0 x15, T1 x8, T2 x7 (data README), sorted, the first at 0 s lasting 4.2 s. */
  fail_unless_equals_int (r.annotations.size (), 30);
  fail_unless_equals_std_string (r.annotations[0].text, "T0");
  fail_unless (std::fabs (r.annotations[0].onset) < 1e-9);
  fail_unless (std::fabs (r.annotations[0].duration - 4.2) < 1e-9);
  for (size_t i = 1; i < r.annotations.size (); i++)
    fail_unless (r.annotations[i].onset >= r.annotations[i - 1].onset);
}
GST_END_TEST;

GST_START_TEST (test_select_and_montage)
{
  neuro::EegRecording all = neuro::read_eeg_file (mmidb ("S001R01"));
  /* case, trailing dots and spaces are ignored when matching labels */
  neuro::EegRecording r = neuro::read_eeg_file (mmidb ("S001R01"), {" oz", "FC5."}, {"C3-C4"});
  fail_unless_equals_int (r.channel_names.size (), 3);
  fail_unless_equals_std_string (r.channel_names[0], "Oz");
  fail_unless_equals_std_string (r.channel_names[1], "Fc5");
  fail_unless_equals_std_string (r.channel_names[2], "C3-C4");
  auto index = [&] (const char *name) {
    for (size_t c = 0; c < all.channel_names.size (); c++)
      if (all.channel_names[c] == name)
        return c;
    fail ("no channel %s", name);
    return (size_t) 0;
  };
  const float *oz = all.channel (index ("Oz")), *c3 = all.channel (index ("C3")),
      *c4 = all.channel (index ("C4"));
  for (size_t i = 0; i < r.n_samples; i += 97) {
    fail_unless_equals_float (r.channel (0)[i], oz[i]);
    fail_unless (std::fabs (r.channel (2)[i] - (c3[i] - c4[i])) < 1e-3);
  }
}
GST_END_TEST;

GST_START_TEST (test_eeg_prefix_and_resample)
{
  /* EEGMAT labels read "EEG Fp1"; 500 Hz resampled to 200 Hz. */
  neuro::EegRecording r = neuro::read_eeg_file (
      neuro_test::recording ("eeg/eegmat/Subject00_2.edf"), {"Fp1", "O2"}, {}, 200);
  fail_unless_equals_int (r.rate, 200);
  fail_unless_equals_std_string (r.channel_names[0], "Fp1");
  neuro::EegRecording n = neuro::read_eeg_file (
      neuro_test::recording ("eeg/eegmat/Subject00_2.edf"), {"Fp1", "O2"}, {}, 0);
  fail_unless_equals_int (n.rate, 500);
  fail_unless_equals_int (r.n_samples, (n.n_samples * 200 + 499) / 500);
  /* Slow activity survives: 1 s means agree to within a few percent of the
   * signal's spread. */
  for (size_t s = 5; s + 1 < r.n_samples / 200; s += 7) {
    double a = 0, b = 0, spread = 0;
    for (int i = 0; i < 200; i++)
      a += r.channel (1)[s * 200 + i] / 200.0;
    for (int i = 0; i < 500; i++) {
      b += n.channel (1)[s * 500 + i] / 500.0;
      spread += std::fabs (n.channel (1)[s * 500 + i]) / 500.0;
    }
    fail_unless (std::fabs (a - b) < 0.05 * spread + 0.1, "second %zu: %f vs %f", s, a, b);
  }
}
GST_END_TEST;

static void
expect_error (const std::string &path, const std::vector<std::string> &channels,
    const std::vector<std::string> &montage, const char *needle)
{
  try {
    neuro::read_eeg_file (path, channels, montage, 0);
    fail ("no error for %s (%s)", path.c_str (), needle);
  } catch (const std::runtime_error &e) {
    const std::string msg = e.what ();
    fail_unless (msg.find (path) != std::string::npos, "message lacks the file: %s", e.what ());
    fail_unless (msg.find (needle) != std::string::npos, "message lacks '%s': %s", needle,
        e.what ());
  }
}

GST_START_TEST (test_library_errors_n)
{
  expect_error ("/nonexistent/x.edf", {}, {}, "No such file");
  expect_error (mmidb ("S001R01"), {"Cz", "Nope"}, {}, "unknown channel label 'Nope'");
  expect_error (mmidb ("S001R01"), {" "}, {}, "empty channel label");
  expect_error (mmidb ("S001R01"), {}, {"C3+C4"}, "bad montage entry 'C3+C4'");
  expect_error (mmidb ("S001R01"), {}, {"C3-Nope"}, "bad montage entry 'C3-Nope'");
}
GST_END_TEST;

/* A 4 s, one-signal EDF+ file (100 Hz, +-3000 uV) with the given annotations
 * one second apart (EDFlib's writer stores one per data record). */
static void
write_small_edf (const std::string &path, const std::vector<std::string> &annotations)
{
  const int h = edfopen_file_writeonly (path.c_str (), EDFLIB_FILETYPE_EDFPLUS, 1);
  fail_unless (h >= 0, "cannot write %s", path.c_str ());
  edf_set_samplefrequency (h, 0, 100);
  edf_set_physical_maximum (h, 0, 3000.0);
  edf_set_physical_minimum (h, 0, -3000.0);
  edf_set_digital_maximum (h, 0, 32767);
  edf_set_digital_minimum (h, 0, -32768);
  edf_set_label (h, 0, "Cz");
  edf_set_physical_dimension (h, 0, "uV");
  std::vector<double> buf (100, 10.0);
  for (int r = 0; r < 4; r++)
    fail_unless (edfwrite_physical_samples (h, buf.data ()) == 0);
  for (size_t i = 0; i < annotations.size (); i++)
    edfwrite_annotation_utf8 (h, (long long) i * 10000, -1, annotations[i].c_str ());
  fail_unless (edfclose_file (h) == 0);
}

/* Replaces the first occurrence of `from` in the file by `to` (same length). */
static void
patch_file (const std::string &path, const std::string &from, const std::string &to)
{
  gchar *data;
  gsize len;
  fail_unless (g_file_get_contents (path.c_str (), &data, &len, NULL));
  std::string bytes (data, len);
  g_free (data);
  const size_t at = bytes.find (from);
  fail_unless (at != std::string::npos && from.size () == to.size ());
  bytes.replace (at, from.size (), to);
  fail_unless (g_file_set_contents (path.c_str (), bytes.data (), (gssize) bytes.size (), NULL));
}

/* EDF+ requires UTF-8 annotations, but Latin-1 ones are common: every invalid
 * byte becomes U+FFFD and the annotation is kept. */
GST_START_TEST (test_latin1_annotation_n)
{
  neuro_test::TempDir dir;
  const std::string path = dir.file ("latin1.edf");
  write_small_edf (path, {"Augen auf", "TrXume", "gr\xc3\xbcn"});
  patch_file (path, "TrXume", "Tr\xe4ume");
  const neuro::EegRecording r = neuro::read_eeg_file (path);
  fail_unless_equals_int (r.annotations.size (), 3);
  fail_unless (r.annotations[0].text == "Augen auf");
  fail_unless (r.annotations[1].text == "Tr\xef\xbf\xbdume", "got '%s'",
      r.annotations[1].text.c_str ());
  fail_unless (r.annotations[2].text == "gr\xc3\xbcn", "valid UTF-8 changed");
}
GST_END_TEST;

GST_START_TEST (test_utf8_repair)
{
  const auto fixed = [] (const std::string &s) { return neuro::valid_utf8 (s); };
  fail_unless (fixed ("plain \xc2\xb5V \xe2\x82\xac \xf0\x9f\x98\x80") ==
      "plain \xc2\xb5V \xe2\x82\xac \xf0\x9f\x98\x80");
  const std::string r = "\xef\xbf\xbd";
  fail_unless (fixed ("\xb5V") == r + "V");                      /* Latin-1 */
  fail_unless (fixed ("a\xe2\x82") == "a" + r + r);             /* truncated */
  fail_unless (fixed ("\xc0\xaf") == r + r);                    /* overlong */
  fail_unless (fixed ("\xed\xa0\x80") == r + r + r);           /* surrogate */
  fail_unless (fixed ("\xf4\x90\x80\x80") == r + r + r + r);  /* > U+10FFFF */
  fail_unless (fixed (std::string ("a\0b", 3)) == std::string ("a\0b", 3));
}
GST_END_TEST;

/* EEGMMIDB needs a repaired copy; it lives in memory, not in $TMPDIR (which
 * here does not even exist), so a kill cannot leave it behind. */
GST_START_TEST (test_repaired_copy_not_in_tmpdir)
{
  const gchar *old = g_getenv ("TMPDIR");
  const std::string saved = old ? old : "";
  g_setenv ("TMPDIR", "/nonexistent/neurotokens-tmp", TRUE);
  neuro::EegRecording r;
  std::string error;
  try {
    r = neuro::read_eeg_file (mmidb ("S001R01"), {"Cz"});
  } catch (const std::runtime_error &e) {
    error = e.what ();
  }
  if (old)
    g_setenv ("TMPDIR", saved.c_str (), TRUE);
  else
    g_unsetenv ("TMPDIR");
  fail_unless (error.empty (), "%s", error.c_str ());
  fail_unless_equals_int (r.rate, 160);
  fail_unless (r.n_samples > 0);
}
GST_END_TEST;

/* A header physical range no ADC has (here 9e99 uV, and 99999999 V = 1e14 uV)
 * would overflow the float spectra downstream: refused, naming value and limit. */
GST_START_TEST (test_absurd_physical_range_n)
{
  neuro_test::TempDir dir;
  const std::string huge = dir.file ("huge.edf"), volts = dir.file ("volts.edf");
  write_small_edf (huge, {});
  write_small_edf (volts, {});
  patch_file (huge, "3000    ", "9e99    ");
  patch_file (volts, "uV      ", "V       ");
  patch_file (volts, "3000    ", "99999999");
  expect_error (huge, {}, {}, "exceeds the limit of 1e+09 uV");
  expect_error (volts, {}, {}, "physical range [-3000, 1e+08] V exceeds the limit of 1000 V");
  /* the limit itself is fine */
  write_small_edf (volts, {});
  patch_file (volts, "uV      ", "V       ");
  patch_file (volts, "-3000   ", "-1000   ");
  patch_file (volts, "3000    ", "1000    ");
  fail_unless_equals_int (neuro::read_eeg_file (volts).rate, 100);
}
GST_END_TEST;

static Suite *
eeg_library_suite (void)
{
  Suite *s = suite_create ("eeg_library");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_read_whole_file);
  tcase_add_test (tc, test_select_and_montage);
  tcase_add_test (tc, test_eeg_prefix_and_resample);
  tcase_add_test (tc, test_library_errors_n);
  tcase_add_test (tc, test_latin1_annotation_n);
  tcase_add_test (tc, test_utf8_repair);
  tcase_add_test (tc, test_repaired_copy_not_in_tmpdir);
  tcase_add_test (tc, test_absurd_physical_range_n);
  return s;
}

/* `test_eeg_library recordings` reads the real files instead of the generated stand-ins. */
int
main (int argc, char **argv)
{
  neuro_test::choose_recordings (&argc, argv);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (eeg_library_suite (), "eeg_library", __FILE__);
}
