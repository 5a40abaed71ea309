/* The plain C++ API of lib/eeg (read_eeg_file) that offline tools use. */
#include <gst/check/gstcheck.h>

#include <cmath>

#include "eeg_file.h"
#include "test_paths.h"

static std::string
mmidb (const char *run)
{
  return neuro_test::data_path (std::string ("eeg/eegmmidb/") + run + ".edf");
}

GST_START_TEST (test_read_whole_file)
{
  neuro::EegRecording r = neuro::read_eeg_file (mmidb ("S001R03"));
  fail_unless_equals_int (r.channel_names.size (), 64);
  fail_unless_equals_int (r.rate, 160);
  fail_unless_equals_int (r.n_samples, 125 * 160);
  fail_unless_equals_int (r.samples.size (), 64 * 125 * 160);
  /* BCI2000 labels lose their padding dots: "Fc5." -> "Fc5", "Iz.." -> "Iz". */
  fail_unless_equals_string (r.channel_names.front ().c_str (), "Fc5");
  fail_unless_equals_string (r.channel_names.back ().c_str (), "Iz");
  fail_unless_equals_string (r.units[0].c_str (), "uV");
  /* T0 x15, T1 x8, T2 x7 (data README), sorted, the first at 0 s lasting 4.2 s. */
  fail_unless_equals_int (r.annotations.size (), 30);
  fail_unless_equals_string (r.annotations[0].text.c_str (), "T0");
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
  fail_unless_equals_string (r.channel_names[0].c_str (), "Oz");
  fail_unless_equals_string (r.channel_names[1].c_str (), "Fc5");
  fail_unless_equals_string (r.channel_names[2].c_str (), "C3-C4");
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
      neuro_test::data_path ("eeg/eegmat/Subject00_2.edf"), {"Fp1", "O2"}, {}, 200);
  fail_unless_equals_int (r.rate, 200);
  fail_unless_equals_string (r.channel_names[0].c_str (), "Fp1");
  neuro::EegRecording n = neuro::read_eeg_file (
      neuro_test::data_path ("eeg/eegmat/Subject00_2.edf"), {"Fp1", "O2"}, {}, 0);
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
  return s;
}

GST_CHECK_MAIN (eeg_library);
