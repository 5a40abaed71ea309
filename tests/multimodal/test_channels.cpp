// SPDX-License-Identifier: LGPL-2.1-or-later
/* lib/common/channels.h: the one channel-label rule of eegsrc and lbmclassify. */
#include <gst/check/gstcheck.h>

#include "check_string.h"
#include "channels.h"

GST_START_TEST (test_spelling_variants_match)
{
  fail_unless (neuro::same_channel ("O1", "o1"));
  fail_unless (neuro::same_channel ("Fc5.", "FC5"));       /* EEGMMIDB pads with dots */
  fail_unless (neuro::same_channel ("Oz..", " oz "));
  fail_unless (neuro::same_channel ("EEG Fp1", "Fp1"));    /* EDF "EEG " prefix */
  fail_unless (neuro::same_channel ("eeg  C3 ", "c3"));
  fail_unless_equals_std_string (neuro::channel_key (" EEG Cz. "), "cz");
}
GST_END_TEST;

GST_START_TEST (test_old_and_new_10_20_names_match)
{
  fail_unless (neuro::same_channel ("T3", "T7"));
  fail_unless (neuro::same_channel ("T4", "t8"));
  fail_unless (neuro::same_channel ("EEG T5", "P7"));
  fail_unless (neuro::same_channel ("T6.", "P8"));
  fail_unless_equals_std_string (neuro::channel_key ("T5"), "p7");
}
GST_END_TEST;

GST_START_TEST (test_different_sites_differ_n)
{
  fail_if (neuro::same_channel ("O1", "O2"));
  fail_if (neuro::same_channel ("T3", "T4"));
  fail_if (neuro::same_channel ("T5", "T6"));
  fail_if (neuro::same_channel ("T7", "P8"));
  fail_if (neuro::same_channel ("P7", "PO7"));             /* 10-10 PO7 is not P7 */
  fail_if (neuro::same_channel ("TP7", "T7"));
  fail_if (neuro::same_channel ("EEG", "E"));              /* a bare "EEG" is a label */
  fail_if (neuro::same_channel ("", "C3"));
}
GST_END_TEST;

static Suite *
channels_suite (void)
{
  Suite *s = suite_create ("channels");
  TCase *tc = tcase_create ("matching");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_spelling_variants_match);
  tcase_add_test (tc, test_old_and_new_10_20_names_match);
  tcase_add_test (tc, test_different_sites_differ_n);
  return s;
}

GST_CHECK_MAIN (channels);
