// SPDX-License-Identifier: LGPL-2.1-or-later
/* lbmclassify on windows holding "no token" (0xFFFFFFFF, what tfmtokenize
 * gives a channel with non-finite input): by default no decision (no meta,
 * message or event) and one warning per run naming the time and channel;
 * missing=decide classifies with the missing tokens as the model's [MASK]
 * id, exactly as neuro::Classifier does on those tokens, and says how many
 * were missing in meta, message and event. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <algorithm>
#include <string>
#include <vector>

#include "classification_meta.h"
#include "classify_fixtures.h"
#include "events.h"
#include "geometry.h"
#include "tfm_models.h"

using namespace classify_test;

static const GstClockTime kPeriod = GST_SECOND / 2;
static const int C = 16, T = 19;
static const int kBadChannel = 5;

struct Out
{
  std::vector<std::vector<const LbmClassificationMeta *>> metas;  /* per pushed window */
  std::vector<GstBuffer *> buffers;
  std::vector<neuro::Classification> events;
  std::vector<const GstStructure *> messages;
  std::vector<GstMessage *> held;
  std::vector<std::string> warnings;
  ~Out ()
  {
    for (GstBuffer *b : buffers)
      gst_buffer_unref (b);
    for (GstMessage *m : held)
      gst_message_unref (m);
  }
};

/* Pushes `windows` windows of T frames, 10 s apart as tfmtokenize sends
 * them; the windows in `bad` have channel kBadChannel all no token. */
static void
run (const char *missing, int windows, const std::vector<int> & bad, std::vector<uint32_t> & tokens, Out & out)
{
  tokens = random_tokens (windows * T, C, 3);
  for (int w : bad)
    for (int t = 0; t < T; t++)
      tokens[((size_t) w * T + t) * C + kBadChannel] = neuro::kNoToken;
  GstElement *e = gst_element_factory_make ("lbmclassify", NULL);
  fail_unless (e != NULL);
  g_object_set (e, "model", tuev_model ().c_str (), NULL);
  if (missing)
    gst_util_set_object_arg (G_OBJECT (e), "missing", missing);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  GstHarness *h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps (h, token_caps (C));
  for (int w = 0; w < windows; w++) {
    fail_unless_equals_int (gst_harness_push (h, token_buffer (tokens, C, w * T, T, w * 10 * GST_SECOND,
                kPeriod)), GST_FLOW_OK);
    GstBuffer *buf = gst_harness_pull (h);
    std::vector<const LbmClassificationMeta *> metas;
    gpointer state = NULL;
    GstMeta *meta;
    while ((meta = gst_buffer_iterate_meta_filtered (buf, &state, LBM_CLASSIFICATION_META_API_TYPE)))
      metas.push_back ((const LbmClassificationMeta *) meta);
    out.metas.push_back (metas);
    out.buffers.push_back (buf);
  }
  GstEvent *ev;
  while ((ev = gst_harness_try_pull_event (h))) {
    neuro::Classification c;
    if (neuro::classification_from_structure (gst_event_get_structure (ev), c))
      out.events.push_back (c);
    gst_event_unref (ev);
  }
  GstMessage *msg;
  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      GError *err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      /* 16 channels named by position: not ours */
      if (std::string (err->message).find ("taken by position") == std::string::npos)
        out.warnings.push_back (err->message);
      g_error_free (err);
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      out.messages.push_back (gst_message_get_structure (msg));
      out.held.push_back (gst_message_ref (msg));
    }
    fail_unless (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR);
    gst_message_unref (msg);
  }
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

static bool
contains (const std::string & s, const std::string & part)
{
  return s.find (part) != std::string::npos;
}

/* Default: windows 1 and 2 (one run) and 4 have missing tokens: decisions
 * only for 0 and 3, a warning for each run. */
GST_START_TEST (test_skip_by_default_n)
{
  std::vector<uint32_t> tokens;
  Out out;
  run (NULL, 5, {1, 2, 4}, tokens, out);
  for (int w = 0; w < 5; w++) {
    const bool decided = w == 0 || w == 3;
    fail_unless_equals_int (out.metas[w].size (), decided ? 1 : 0);
    if (decided) {
      fail_unless_equals_uint64 (out.metas[w][0]->timestamp, w * 10 * GST_SECOND);
      fail_unless_equals_int (out.metas[w][0]->missing_tokens, 0);
    }
    /* tokens pass through unchanged, no-token values included */
    fail_unless (gst_buffer_memcmp (out.buffers[w], 0, tokens.data () + (size_t) w * T * C, T * C * 4) == 0);
  }
  fail_unless_equals_int (out.events.size (), 2);
  fail_unless_equals_uint64 (out.events[1].timestamp, 30 * GST_SECOND);
  fail_unless_equals_int (out.messages.size (), 2);
  fail_unless_equals_int (out.warnings.size (), 2);
  fail_unless (contains (out.warnings[0], "window from 10.000 s to 19.500 s") &&
      contains (out.warnings[0], "19 of its 304 tokens") && contains (out.warnings[0], "channel 5") &&
      contains (out.warnings[0], "missing=decide"), "%s", out.warnings[0].c_str ());
  fail_unless (contains (out.warnings[1], "window from 40.000 s"), "%s", out.warnings[1].c_str ());
}
GST_END_TEST;

/* missing=decide: every window decided; the incomplete one as the model
 * decides with [MASK] (id = vocabulary) for the missing tokens, marked with
 * their count in meta, event and message. */
GST_START_TEST (test_decide_when_told)
{
  std::vector<uint32_t> tokens;
  Out out;
  run ("decide", 3, {1}, tokens, out);
  fail_unless (out.warnings.empty ());
  auto model = neuro::Classifier::load (tuev_model ());
  std::vector<int> all (C);
  for (int c = 0; c < C; c++)
    all[c] = c;
  for (int w = 0; w < 3; w++) {
    fail_unless_equals_int (out.metas[w].size (), 1);
    const LbmClassificationMeta *m = out.metas[w][0];
    fail_unless_equals_int (m->missing_tokens, w == 1 ? T : 0);
    std::vector<uint32_t> window = channel_major (tokens, C, w * T, T, all);
    std::replace (window.begin (), window.end (), neuro::kNoToken, (uint32_t) model->info ().vocabulary);
    const std::vector<float> logits = model->logits (window.data (), C, T);
    fail_unless_equals_int (m->n_logits, logits.size ());
    for (size_t i = 0; i < logits.size (); i++)
      fail_unless (m->logits[i] == logits[i], "window %d logit %zu: %g, classifier %g", w, i, m->logits[i],
          logits[i]);
    fail_unless_equals_int (out.events[w].missing_tokens, w == 1 ? T : 0);
    guint missing = 99;
    fail_unless (gst_structure_get_uint (out.messages[w], "missing-tokens", &missing));
    fail_unless_equals_int (missing, w == 1 ? T : 0);
  }
}
GST_END_TEST;

static Suite *
missing_suite (void)
{
  Suite *s = suite_create ("lbmclassify-missing");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_skip_by_default_n);
  tcase_add_test (tc, test_decide_when_told);
  return s;
}

GST_CHECK_MAIN (missing);
