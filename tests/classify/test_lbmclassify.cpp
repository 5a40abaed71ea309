// SPDX-License-Identifier: LGPL-2.1-or-later
/* lbmclassify through GstHarness with the authors' TUEV classifier: decisions
 * at the right frames and times, the meta, the bus message and the downstream
 * event agree with each other and with a direct neuro::Classifier call on the
 * same tokens; windows never span gaps; bad input fails with a clear error. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "check_string.h"
#include "classification_meta.h"
#include "classify_fixtures.h"
#include "events.h"
#include "tags.h"
#include "test_paths.h"
#include "tfm_models.h"

using namespace classify_test;

static const GstClockTime kPeriod = GST_SECOND / 2;  /* framerate 2/1, as tfmtokenize */
static const int kTuevClasses = 6;

/* ---- fixtures ---- */

static GstElement *
make_classifier (const std::string &model,
    std::initializer_list<std::pair<const char *, const char *>> props = {})
{
  GstElement *e = gst_element_factory_make ("lbmclassify", NULL);
  fail_unless (e != NULL, "lbmclassify is not registered");
  gst_object_ref_sink (e);
  g_object_set (e, "model", model.c_str (), NULL);
  for (const auto &p : props)
    gst_util_set_object_arg (G_OBJECT (e), p.first, p.second);
  return e;
}

/* Records the order of classification events and buffers leaving the element. */
static GstPadProbeReturn
record_order (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  (void) pad;
  auto *order = static_cast<std::vector<std::string> *> (user_data);
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    order->push_back ("buffer");
  } else if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
    if (gst_event_has_name (ev, NEURO_CLASSIFICATION_NAME))
      order->push_back ("classification");
  }
  return GST_PAD_PROBE_OK;
}

struct Fixture
{
  GstHarness *h = nullptr;
  GstBus *bus = nullptr;
  std::vector<std::string> order;

  /* takes `element`; caps NULL = the caller pushes caps itself */
  Fixture (GstElement *element, GstCaps *caps)
  {
    bus = gst_bus_new ();
    gst_element_set_bus (element, bus);
    h = gst_harness_new_with_element (element, "sink", "src");
    gst_object_unref (element);
    gst_pad_add_probe (h->sinkpad, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM, record_order,
        &order, NULL);
    if (caps)
      gst_harness_set_src_caps (h, caps);
  }
  ~Fixture ()
  {
    gst_harness_teardown (h);
    gst_bus_set_flushing (bus, TRUE);
    gst_object_unref (bus);
  }
  GstFlowReturn push (GstBuffer *buf) { return gst_harness_push (h, buf); }
  void push_tags (const std::vector<std::string> &names)
  {
    GstTagList *tags = neuro::make_stream_tags ("eeg", names,
        std::vector<std::string> (names.size (), "uV"));
    fail_unless (gst_harness_push_event (h, gst_event_new_tag (tags)));
  }
};

static std::vector<LbmClassificationMeta *>
metas_of (GstBuffer *buf)
{
  std::vector<LbmClassificationMeta *> out;
  gpointer state = NULL;
  GstMeta *meta;
  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              LBM_CLASSIFICATION_META_API_TYPE)))
    out.push_back ((LbmClassificationMeta *) meta);
  return out;
}

static std::vector<neuro::Classification>
classification_events (GstHarness *h)
{
  std::vector<neuro::Classification> out;
  GstEvent *ev;
  while ((ev = gst_harness_try_pull_event (h))) {
    neuro::Classification c;
    if (neuro::classification_from_structure (gst_event_get_structure (ev), c))
      out.push_back (c);
    gst_event_unref (ev);
  }
  return out;
}

static std::vector<GstMessage *>
element_messages (GstBus *bus)
{
  std::vector<GstMessage *> out;
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT)))
    out.push_back (msg);
  return out;
}

static std::string
pop_error (GstBus *bus, GQuark domain, gint code)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no ERROR message was posted");
  GError *err = NULL;
  gchar *debug = NULL;
  gst_message_parse_error (msg, &err, &debug);
  const std::string text = err->message;
  GST_INFO ("error: %s (%s)", err->message, debug ? debug : "");
  fail_unless (g_error_matches (err, domain, code), "unexpected error %s:%d: %s",
      g_quark_to_string (err->domain), err->code, err->message);
  g_error_free (err);
  g_free (debug);
  gst_message_unref (msg);
  return text;
}

static void
assert_contains (const std::string &text, const std::string &part)
{
  fail_unless (text.find (part) != std::string::npos, "\"%s\" does not mention \"%s\"",
      text.c_str (), part.c_str ());
}

static std::vector<int>
first_channels (int n)
{
  std::vector<int> v (n);
  std::iota (v.begin (), v.end (), 0);
  return v;
}

/* The meta holds exactly what the classifier computes for these tokens. */
static void
assert_meta_matches_classifier (const LbmClassificationMeta *m, neuro::Classifier &model,
    const std::vector<uint32_t> &window, int channels, int frames)
{
  const std::vector<float> logits = model.logits (window.data (), channels, frames);
  const std::vector<double> probs = model.probabilities (logits);
  fail_unless_equals_int (m->n_logits, logits.size ());
  for (size_t i = 0; i < logits.size (); i++)
    fail_unless (m->logits[i] == logits[i], "logit %zu: element %.9g, classifier %.9g",
        i, m->logits[i], logits[i]);
  fail_unless_equals_int (m->n_classes, probs.size ());
  for (size_t i = 0; i < probs.size (); i++)
    fail_unless (m->probabilities[i] == probs[i]);
  const int argmax = (int) (std::max_element (probs.begin (), probs.end ()) - probs.begin ());
  fail_unless_equals_int (m->class_index, argmax);
  fail_unless_equals_string (m->label, m->labels[argmax]);
}

static void
assert_payload_unchanged (GstBuffer *buf, const std::vector<uint32_t> &tokens,
    int channels, int first, int count)
{
  fail_unless (gst_buffer_memcmp (buf, 0, tokens.data () + (size_t) first * channels,
          (gsize) count * channels * 4) == 0, "token payload changed");
  fail_unless_equals_int (gst_buffer_get_size (buf), count * channels * 4);
}

/* ---- decisions ---- */

/* tfmtokenize's output shape: 19 frames per 10 s window, one frame skipped
 * between windows. One decision per window, on its buffer. */
GST_START_TEST (test_decision_per_tokenizer_window)
{
  const int C = 16, T = 19;
  const std::vector<uint32_t> tokens = random_tokens (2 * T, C, 1);
  auto model = neuro::Classifier::load (tuev_model ());
  Fixture f (make_classifier (tuev_model ()), token_caps (C));

  for (int w = 0; w < 2; w++)
    fail_unless_equals_int (f.push (token_buffer (tokens, C, w * T, T, w * 10 * GST_SECOND,
                kPeriod)), GST_FLOW_OK);

  std::vector<GstBuffer *> out;
  for (int w = 0; w < 2; w++) {
    GstBuffer *buf = gst_harness_pull (f.h);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), w * 10 * GST_SECOND);
    assert_payload_unchanged (buf, tokens, C, w * T, T);
    auto metas = metas_of (buf);
    fail_unless_equals_int (metas.size (), 1);
    const LbmClassificationMeta *m = metas[0];
    fail_unless_equals_uint64 (m->timestamp, w * 10 * GST_SECOND);
    fail_unless_equals_uint64 (m->duration, T * kPeriod);
    fail_unless_equals_int (m->n_classes, kTuevClasses);
    for (int i = 0; i < kTuevClasses; i++)  /* the model's labels: "0".."5" without metadata */
      fail_unless_equals_std_string (m->labels[i], model->info ().labels[i]);
    assert_meta_matches_classifier (m, *model,
        channel_major (tokens, C, w * T, T, first_channels (C)), C, T);
    /* the decision stays with copies of the buffer */
    GstBuffer *copy = gst_buffer_copy (buf);
    auto copied = metas_of (copy);
    fail_unless_equals_int (copied.size (), 1);
    fail_unless (copied[0] != m && copied[0]->timestamp == m->timestamp &&
        copied[0]->class_index == m->class_index && copied[0]->logits[0] == m->logits[0]);
    fail_unless_equals_string (copied[0]->labels[kTuevClasses - 1], m->labels[kTuevClasses - 1]);
    gst_buffer_unref (copy);
    out.push_back (buf);
  }

  /* the bus message carries the same decision, with running and stream time */
  auto messages = element_messages (f.bus);
  fail_unless_equals_int (messages.size (), 2);
  for (int w = 0; w < 2; w++) {
    const LbmClassificationMeta *m = metas_of (out[w])[0];
    const GstStructure *s = gst_message_get_structure (messages[w]);
    fail_unless (gst_structure_has_name (s, NEURO_CLASSIFICATION_NAME));
    fail_unless (GST_MESSAGE_SRC (messages[w]) == GST_OBJECT (f.h->element));
    guint64 ts, rt, st, dur;
    gint cls;
    fail_unless (gst_structure_get_uint64 (s, "timestamp", &ts));
    fail_unless (gst_structure_get_uint64 (s, "running-time", &rt));
    fail_unless (gst_structure_get_uint64 (s, "stream-time", &st));
    fail_unless (gst_structure_get_uint64 (s, "duration", &dur));
    fail_unless (gst_structure_get_int (s, "class", &cls));
    fail_unless_equals_uint64 (ts, m->timestamp);
    fail_unless_equals_uint64 (rt, m->timestamp);
    fail_unless_equals_uint64 (st, m->timestamp);
    fail_unless_equals_uint64 (dur, m->duration);
    fail_unless_equals_int (cls, m->class_index);
    fail_unless_equals_string (gst_structure_get_string (s, "label"), m->label);
    double sum = 0;
    for (guint i = 0; i < m->n_classes; i++) {
      gdouble p;
      std::string field = std::string ("p-") + m->labels[i];
      fail_unless (gst_structure_get_double (s, field.c_str (), &p), "no %s", field.c_str ());
      fail_unless (p == m->probabilities[i]);
      sum += p;
    }
    fail_unless (std::fabs (sum - 1.0) < 1e-9);
    gst_message_unref (messages[w]);
  }

  /* ... and so does the serialized event, which leaves just before its buffer */
  auto events = classification_events (f.h);
  fail_unless_equals_int (events.size (), 2);
  for (int w = 0; w < 2; w++) {
    const LbmClassificationMeta *m = metas_of (out[w])[0];
    fail_unless_equals_uint64 (events[w].timestamp, m->timestamp);
    fail_unless_equals_uint64 (events[w].duration, m->duration);
    fail_unless_equals_int (events[w].class_index, m->class_index);
    fail_unless_equals_int (events[w].labels.size (), kTuevClasses);
    for (int i = 0; i < kTuevClasses; i++)
      fail_unless (events[w].probabilities[i] == m->probabilities[i]);
  }
  const std::vector<std::string> expected_order = { "classification", "buffer",
    "classification", "buffer" };
  fail_unless (f.order == expected_order);
  for (GstBuffer *b : out)
    gst_buffer_unref (b);
}
GST_END_TEST;

/* One frame per buffer: the decision lands on the buffer of the 19th frame. */
GST_START_TEST (test_decision_on_last_frame_buffer)
{
  const int C = 16, T = 19;
  const std::vector<uint32_t> tokens = random_tokens (T + 5, C, 2);
  Fixture f (make_classifier (tuev_model ()), token_caps (C));
  for (int i = 0; i < T + 5; i++) {
    fail_unless_equals_int (f.push (token_buffer (tokens, C, i, 1, i * kPeriod, kPeriod)),
        GST_FLOW_OK);
    GstBuffer *buf = gst_harness_pull (f.h);
    fail_unless_equals_int (metas_of (buf).size (), i == T - 1 ? 1 : 0);
    if (i == T - 1)
      fail_unless_equals_uint64 (metas_of (buf)[0]->timestamp, 0);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_int (classification_events (f.h).size (), 1);
}
GST_END_TEST;

/* window=4 stride=2: decisions after frames 4, 6, 8, 10 over the last 4, in a
 * segment whose running time is offset by 100 s. */
GST_START_TEST (test_stride_smaller_than_window)
{
  const int C = 16, W = 4;
  const std::vector<uint32_t> tokens = random_tokens (10, C, 3);
  auto model = neuro::Classifier::load (tuev_model ());
  Fixture f (make_classifier (tuev_model (), { {"window", "4"}, {"stride", "2"} }),
      token_caps (C));
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.base = 100 * GST_SECOND;
  fail_unless (gst_harness_push_event (f.h, gst_event_new_segment (&segment)));

  const int sizes[] = { 3, 3, 3, 1 };
  const int expected_metas[] = { 0, 2, 1, 1 };
  std::vector<GstClockTime> stamps;
  int frame = 0;  /* not "first": gst-check's fail_unless_equals_* declare that name */
  for (int b = 0; b < 4; b++) {
    fail_unless_equals_int (f.push (token_buffer (tokens, C, frame, sizes[b],
                frame * kPeriod, kPeriod)), GST_FLOW_OK);
    GstBuffer *buf = gst_harness_pull (f.h);
    auto metas = metas_of (buf);
    fail_unless_equals_int (metas.size (), expected_metas[b]);
    for (const LbmClassificationMeta *m : metas) {
      const int start = (int) (m->timestamp / kPeriod);
      fail_unless_equals_uint64 (m->duration, W * kPeriod);
      assert_meta_matches_classifier (m, *model,
          channel_major (tokens, C, start, W, first_channels (C)), C, W);
      stamps.push_back (m->timestamp);
    }
    gst_buffer_unref (buf);
    frame += sizes[b];
  }
  const std::vector<GstClockTime> expected = { 0, 2 * kPeriod, 4 * kPeriod, 6 * kPeriod };
  fail_unless (stamps == expected);

  auto messages = element_messages (f.bus);
  fail_unless_equals_int (messages.size (), 4);
  for (size_t i = 0; i < messages.size (); i++) {
    guint64 rt;
    fail_unless (gst_structure_get_uint64 (gst_message_get_structure (messages[i]),
            "running-time", &rt));
    fail_unless_equals_uint64 (rt, 100 * GST_SECOND + expected[i]);
    gst_message_unref (messages[i]);
  }
}
GST_END_TEST;

/* Windows never bridge a skipped frame, a DISCONT buffer or a flush; timing
 * jitter under half a frame period is not a gap. */
GST_START_TEST (test_gaps_restart_the_window)
{
  const int C = 4;
  const std::vector<uint32_t> tokens = random_tokens (20, C, 4);
  Fixture f (make_classifier (tuev_model (), { {"window", "4"}, {"stride", "1"} }),
      token_caps (C));
  std::vector<GstClockTime> stamps;
  auto push = [&] (int first, int count, GstClockTime pts, bool discont) {
    GstBuffer *buf = token_buffer (tokens, C, first, count, pts, kPeriod);
    if (discont)
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    fail_unless_equals_int (f.push (buf), GST_FLOW_OK);
    buf = gst_harness_pull (f.h);
    for (const LbmClassificationMeta *m : metas_of (buf))
      stamps.push_back (m->timestamp);
    gst_buffer_unref (buf);
  };
  push (0, 3, 0, false);                      /* frames at 0, 0.5, 1.0 s */
  push (3, 5, 2 * GST_SECOND, false);         /* 1.5 s skipped: 2.0 .. 4.0 s */
  push (8, 4, 9 * kPeriod, true);             /* on time but DISCONT: 4.5 .. 6.0 s */
  fail_unless (gst_harness_push_event (f.h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (f.h, gst_event_new_flush_stop (TRUE)));
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (f.h, gst_event_new_segment (&segment)));
  push (12, 3, 13 * kPeriod, false);          /* after the flush: 6.5 .. 7.5 s */
  push (15, 1, 16 * kPeriod + 200 * GST_MSECOND, false);  /* 0.2 s late: no gap */

  const std::vector<GstClockTime> expected = { 2 * GST_SECOND, 5 * kPeriod,
    9 * kPeriod, 13 * kPeriod };
  /* 4 channels for a 16-channel model without channel names: a warning says so */
  GstMessage *warning = gst_bus_pop_filtered (f.bus, GST_MESSAGE_WARNING);
  fail_unless (warning != NULL, "no warning about channels taken by position");
  GError *err = NULL;
  gst_message_parse_warning (warning, &err, NULL);
  assert_contains (err->message, "stream's 4 channels are taken by position");
  g_error_free (err);
  gst_message_unref (warning);
  fail_unless_equals_int (stamps.size (), expected.size ());
  for (size_t i = 0; i < expected.size (); i++)
    fail_unless_equals_uint64 (stamps[i], expected[i]);
}
GST_END_TEST;

/* A model that names its channels reads them by name from the stream's
 * channel-names tag, whatever their order, case, spaces, trailing dots or
 * "EEG " prefix (eegsrc's matching rule);
 * extra stream channels are ignored; labels come from the metadata. */
GST_START_TEST (test_channels_mapped_by_name)
{
  gchar *dir = g_dir_make_tmp ("lbmclassify-XXXXXX", NULL);
  const std::string named = std::string (dir) + "/tuev-named.safetensors";
  write_model_with_metadata (tuev_model (), named, {
        {"architecture", "tfm-encoder"},
        {"channels", neuro::join (tuev_channels ())},
        {"labels", "SPSW,GPED,PLED,EYEM,ARTF,BCKG"}});
  auto model = neuro::Classifier::load (named);

  /* stream: EKG, the 16 montage channels reversed and lower-cased (one with
   * an "EEG " prefix, one with trailing dots, as EDF labels come), A1-A2 */
  std::vector<std::string> names = { "EKG" };
  for (int c = 15; c >= 0; c--) {
    gchar *lower = g_ascii_strdown (tuev_channels ()[c].c_str (), -1);
    names.push_back ((c == 4 ? "EEG " : " ") + std::string (lower) + (c == 14 ? ".." : ""));
    g_free (lower);
  }
  names.push_back ("A1-A2");
  std::vector<int> pick;
  for (int c = 0; c < 16; c++)
    pick.push_back (16 - c);

  const int C = 18, T = 19;
  const std::vector<uint32_t> tokens = random_tokens (T, C, 5);
  {
    Fixture f (make_classifier (named), token_caps (C));
    f.push_tags (names);
    fail_unless_equals_int (f.push (token_buffer (tokens, C, 0, T, 0, kPeriod)), GST_FLOW_OK);
    GstBuffer *buf = gst_harness_pull (f.h);
    auto metas = metas_of (buf);
    fail_unless_equals_int (metas.size (), 1);
    assert_meta_matches_classifier (metas[0], *model, channel_major (tokens, C, 0, T, pick),
        16, T);
    fail_unless_equals_string (metas[0]->labels[3], "EYEM");
    gst_buffer_unref (buf);
  }
  g_unlink (named.c_str ());
  g_rmdir (dir);
  g_free (dir);
}
GST_END_TEST;

/* Single-electrode names match across the 10-20 and 10-10 systems (T5 = P7,
 * T4 = T8) with EDF decorations ("EEG " prefix, trailing dots). */
GST_START_TEST (test_channels_old_and_new_names)
{
  gchar *dir = g_dir_make_tmp ("lbmclassify-XXXXXX", NULL);
  const std::string named = std::string (dir) + "/tuev-three.safetensors";
  write_model_with_metadata (tuev_model (), named, { {"channels", "O1,P7,T8"} });
  auto model = neuro::Classifier::load (named);
  const int C = 3, T = 19;
  const std::vector<uint32_t> tokens = random_tokens (T, C, 10);
  {
    Fixture f (make_classifier (named), token_caps (C));
    f.push_tags ({ "T4", "t5..", "EEG O1" });
    fail_unless_equals_int (f.push (token_buffer (tokens, C, 0, T, 0, kPeriod)), GST_FLOW_OK);
    GstBuffer *buf = gst_harness_pull (f.h);
    auto metas = metas_of (buf);
    fail_unless_equals_int (metas.size (), 1);
    assert_meta_matches_classifier (metas[0], *model,
        channel_major (tokens, C, 0, T, { 2, 1, 0 }), C, T);
    gst_buffer_unref (buf);
  }
  g_unlink (named.c_str ());
  g_rmdir (dir);
  g_free (dir);
}
GST_END_TEST;

/* Without window=, a model's "window" metadata sets the frames per decision. */
GST_START_TEST (test_window_from_metadata)
{
  gchar *dir = g_dir_make_tmp ("lbmclassify-XXXXXX", NULL);
  const std::string model = std::string (dir) + "/tuev-window5.safetensors";
  write_model_with_metadata (tuev_model (), model, { {"window", "5"} });
  const int C = 4;
  const std::vector<uint32_t> tokens = random_tokens (12, C, 9);
  {
    Fixture f (make_classifier (model), token_caps (C));
    fail_unless_equals_int (f.push (token_buffer (tokens, C, 0, 12, 0, kPeriod)), GST_FLOW_OK);
    GstBuffer *buf = gst_harness_pull (f.h);
    auto metas = metas_of (buf);
    fail_unless_equals_int (metas.size (), 2);
    fail_unless_equals_uint64 (metas[0]->timestamp, 0);
    fail_unless_equals_uint64 (metas[1]->timestamp, 5 * kPeriod);
    fail_unless_equals_uint64 (metas[1]->duration, 5 * kPeriod);
    gst_buffer_unref (buf);
  }
  g_unlink (model.c_str ());
  g_rmdir (dir);
  g_free (dir);
}
GST_END_TEST;

/* labels= renames the classes in the meta, message and event. */
GST_START_TEST (test_labels_property)
{
  const int C = 16, T = 19;
  const std::vector<uint32_t> tokens = random_tokens (T, C, 6);
  Fixture f (make_classifier (tuev_model (), { {"labels",
              "SPSW, GPED, PLED, EYEM, ARTF, BCKG"} }), token_caps (C));
  fail_unless_equals_int (f.push (token_buffer (tokens, C, 0, T, 0, kPeriod)), GST_FLOW_OK);
  GstBuffer *buf = gst_harness_pull (f.h);
  const LbmClassificationMeta *m = metas_of (buf)[0];
  fail_unless_equals_string (m->labels[5], "BCKG");
  auto messages = element_messages (f.bus);
  fail_unless_equals_int (messages.size (), 1);
  const GstStructure *s = gst_message_get_structure (messages[0]);
  fail_unless_equals_string (gst_structure_get_string (s, "labels"),
      "SPSW,GPED,PLED,EYEM,ARTF,BCKG");
  fail_unless (gst_structure_has_field_typed (s, "p-PLED", G_TYPE_DOUBLE));
  fail_unless_equals_string (gst_structure_get_string (s, "label"), m->label);
  gst_message_unref (messages[0]);
  auto events = classification_events (f.h);
  fail_unless_equals_int (events.size (), 1);
  fail_unless_equals_std_string (events[0].labels[0], "SPSW");
  gst_buffer_unref (buf);
}
GST_END_TEST;

GST_START_TEST (test_default_model_path)
{
  GstElement *e = GST_ELEMENT (gst_object_ref_sink (gst_element_factory_make ("lbmclassify", NULL)));
  gchar *path = NULL;
  g_object_get (e, "model", &path, NULL);
  const std::string expected = neuro_test::model_dir () + "/lbm-eyes-eeg.safetensors";
  fail_unless_equals_std_string (path, expected);
  g_free (path);
  gst_object_unref (e);
}
GST_END_TEST;

/* ---- bad input ---- */

/* READY -> PAUSED must fail with an error naming the model file. */
static std::string
start_error (GstElement *e, GQuark domain, gint code)
{
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  const std::string text = pop_error (bus, domain, code);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_object_unref (e);
  return text;
}

GST_START_TEST (test_missing_model_n)
{
  const std::string path = "/nonexistent/lbm-model.safetensors";
  std::string text = start_error (make_classifier (path), GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NOT_FOUND);
  assert_contains (text, path);
  /* and the element still works after a state cycle with a good model */
  GstElement *e = make_classifier (path);
  start_error ((GstElement *) gst_object_ref (e), GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND);
  g_object_set (e, "model", tuev_model ().c_str (), NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED), GST_STATE_CHANGE_SUCCESS);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_object_unref (e);
}
GST_END_TEST;

GST_START_TEST (test_corrupt_model_n)
{
  gchar *dir = g_dir_make_tmp ("lbmclassify-XXXXXX", NULL);
  gchar *contents = NULL;
  gsize length = 0;
  fail_unless (g_file_get_contents (tuev_model ().c_str (), &contents, &length, NULL));
  struct Case { const char *name; std::string bytes; };
  const Case cases[] = {
    {"text.safetensors", "this is not a model"},
    {"truncated.safetensors", std::string (contents, length / 2)},
    {"huge-header.safetensors", std::string ("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10)},
    {"empty.safetensors", ""},
  };
  for (const Case &c : cases) {
    const std::string path = std::string (dir) + "/" + c.name;
    fail_unless (g_file_set_contents (path.c_str (), c.bytes.data (), c.bytes.size (), NULL));
    assert_contains (start_error (make_classifier (path), GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_OPEN_READ), path);
    g_unlink (path.c_str ());
  }
  g_free (contents);
  g_rmdir (dir);
  g_free (dir);
}
GST_END_TEST;

GST_START_TEST (test_labels_count_n)
{
  assert_contains (start_error (make_classifier (tuev_model (), { {"labels", "open,closed"} }),
          GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "6 distinct classes");
  assert_contains (start_error (make_classifier (tuev_model (), { {"labels", "a,b,c,d,e,a"} }),
          GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "6 distinct classes");
}
GST_END_TEST;

GST_START_TEST (test_window_too_long_n)
{
  assert_contains (start_error (make_classifier (tuev_model (), { {"window", "5000"} }),
          GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "window=5000");
}
GST_END_TEST;

/* Caps the element refuses: the push after them fails, and the error says why. */
static std::string
caps_error (GstCaps *caps)
{
  Fixture f (make_classifier (tuev_model ()), NULL);
  gst_harness_push_event (f.h, gst_event_new_caps (caps));
  gst_caps_unref (caps);
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_harness_push_event (f.h, gst_event_new_segment (&segment));
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 64 * 4, NULL);
  gst_buffer_memset (buf, 0, 0, 64 * 4);
  fail_if (f.push (buf) == GST_FLOW_OK);
  return pop_error (f.bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT);
}

GST_START_TEST (test_vocabulary_mismatch_n)
{
  std::string text = caps_error (token_caps (16, 1024));
  assert_contains (text, "1024");
  assert_contains (text, "8192");
  assert_contains (text, tuev_model ());
}
GST_END_TEST;

GST_START_TEST (test_multiple_codebooks_n)
{
  assert_contains (caps_error (token_caps (16, 8192, 2)), "codebooks=2");
}
GST_END_TEST;

GST_START_TEST (test_modality_mismatch_n)
{
  std::string text = caps_error (token_caps (16, 8192, 1, "audio"));
  assert_contains (text, "trained on eeg tokens, but the stream carries audio tokens");
}
GST_END_TEST;

GST_START_TEST (test_too_many_channels_n)
{
  std::string text = caps_error (token_caps (17));
  assert_contains (text, "17 channels");
  assert_contains (text, "at most 16");
}
GST_END_TEST;

GST_START_TEST (test_token_outside_vocabulary_n)
{
  const int C = 16, T = 19;
  std::vector<uint32_t> tokens = random_tokens (T, C, 7);
  tokens[5 * C + 3] = 8192;
  Fixture f (make_classifier (tuev_model ()), token_caps (C));
  fail_unless_equals_int (f.push (token_buffer (tokens, C, 0, T, 0, kPeriod)), GST_FLOW_ERROR);
  std::string text = pop_error (f.bus, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE);
  assert_contains (text, "Token 8192 on channel 3 at 0:00:02.5");
  fail_unless_equals_int (element_messages (f.bus).size (), 0);
}
GST_END_TEST;

/* Token buffers need not be 4-byte aligned (rtpgstdepay hands out sub-buffers
 * at any offset of a packet): the same decision as from an aligned copy. The
 * sanitizer pass (tools/sanitize.sh, UBSan's alignment check) fails on a
 * misaligned uint32 load. */
GST_START_TEST (test_unaligned_buffer)
{
  const int C = 16, T = 19;
  const std::vector<uint32_t> tokens = random_tokens (T, C, 3);
  const gsize bytes = (gsize) C * T * sizeof (uint32_t);
  std::vector<guint8> shifted (bytes + 1);
  std::memcpy (shifted.data () + 1, tokens.data (), bytes);
  GstBuffer *whole = gst_buffer_new_memdup (shifted.data (), shifted.size ());
  GstBuffer *unaligned = gst_buffer_copy_region (whole, GST_BUFFER_COPY_ALL, 1, bytes);
  gst_buffer_unref (whole);
  GST_BUFFER_PTS (unaligned) = 0;
  GstMapInfo map;
  fail_unless (gst_buffer_map (unaligned, &map, GST_MAP_READ));
  fail_unless (reinterpret_cast<uintptr_t> (map.data) % alignof (uint32_t) != 0);
  gst_buffer_unmap (unaligned, &map);

  std::vector<const LbmClassificationMeta *> decisions;
  std::vector<GstBuffer *> out;
  for (GstBuffer *in : {token_buffer (tokens, C, 0, T, 0, kPeriod), unaligned}) {
    Fixture f (make_classifier (tuev_model ()), token_caps (C));
    fail_unless_equals_int (f.push (in), GST_FLOW_OK);
    out.push_back (gst_harness_pull (f.h));
    auto metas = metas_of (out.back ());
    fail_unless_equals_int (metas.size (), 1);
    decisions.push_back (metas[0]);
  }
  fail_unless_equals_int (decisions[1]->class_index, decisions[0]->class_index);
  fail_unless_equals_int (decisions[1]->n_logits, decisions[0]->n_logits);
  for (guint i = 0; i < decisions[0]->n_logits; i++)
    fail_unless_equals_float (decisions[1]->logits[i], decisions[0]->logits[i]);
  for (GstBuffer *buf : out)
    gst_buffer_unref (buf);
}
GST_END_TEST;

GST_START_TEST (test_partial_frame_n)
{
  Fixture f (make_classifier (tuev_model ()), token_caps (16));
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 16 * 4 * 3 + 4, NULL);
  gst_buffer_memset (buf, 0, 0, gst_buffer_get_size (buf));
  fail_unless_equals_int (f.push (buf), GST_FLOW_ERROR);
  assert_contains (pop_error (f.bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT),
      "not a whole number of frames");
}
GST_END_TEST;

/* ---- overlapping windows ---- */

static GstCaps *
window_caps (int channels, int frames, int stride)
{
  GstCaps *caps = token_caps (channels);
  gst_caps_set_simple (caps, "window-frames", G_TYPE_INT, frames, "window-stride", G_TYPE_INT, stride, NULL);
  return caps;
}

/* tfmtokenize window-stride=K emit=window: a buffer per window of 19 frames,
 * a window every K frames, each with its own tokens (the same frame differs
 * between windows). One decision per incoming window, on that window's
 * tokens alone, dated at its first frame; the caps pass through. */
GST_START_TEST (test_decision_per_overlapping_window)
{
  const int C = 16, T = 19, windows = 5;
  auto model = neuro::Classifier::load (tuev_model ());
  for (int K : { 1, 3 }) {
    Fixture f (make_classifier (tuev_model ()), window_caps (C, T, K));
    for (int w = 0; w < windows; w++) {
      const std::vector<uint32_t> tokens = random_tokens (T, C, 100 + w);
      fail_unless_equals_int (f.push (token_buffer (tokens, C, 0, T, w * K * kPeriod, kPeriod)), GST_FLOW_OK);
      GstBuffer *buf = gst_harness_pull (f.h);
      auto metas = metas_of (buf);
      fail_unless_equals_int (metas.size (), 1);
      fail_unless_equals_uint64 (metas[0]->timestamp, w * K * kPeriod);
      fail_unless_equals_uint64 (metas[0]->duration, T * kPeriod);
      assert_meta_matches_classifier (metas[0], *model, channel_major (tokens, C, 0, T, first_channels (C)), C, T);
      assert_payload_unchanged (buf, tokens, C, 0, T);
      gst_buffer_unref (buf);
    }
    auto messages = element_messages (f.bus);
    fail_unless_equals_int (messages.size (), windows);
    for (GstMessage *m : messages)
      gst_message_unref (m);
    fail_unless_equals_int (classification_events (f.h).size (), windows);
    GstCaps *out = gst_pad_get_current_caps (f.h->sinkpad);
    gint frames = 0;
    fail_unless (gst_structure_get_int (gst_caps_get_structure (out, 0), "window-frames", &frames));
    fail_unless_equals_int (frames, T);
    gst_caps_unref (out);
  }
}
GST_END_TEST;

/* window/stride describe a decision window over a continuous stream; with
 * incoming windows they would contradict them. */
GST_START_TEST (test_overlapping_windows_with_window_property_n)
{
  Fixture f (make_classifier (tuev_model (), { {"window", "10"} }), NULL);
  GstCaps *caps = window_caps (16, 19, 1);
  gst_harness_push_event (f.h, gst_event_new_caps (caps));
  gst_caps_unref (caps);
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_harness_push_event (f.h, gst_event_new_segment (&segment));
  const std::vector<uint32_t> tokens = random_tokens (19, 16, 1);
  fail_if (f.push (token_buffer (tokens, 16, 0, 19, 0, kPeriod)) == GST_FLOW_OK);
  const std::string text = pop_error (f.bus, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS);
  assert_contains (text, "one decision per incoming window");
  assert_contains (text, "window=10");
}
GST_END_TEST;

GST_START_TEST (test_overlapping_window_buffer_not_a_window_n)
{
  Fixture f (make_classifier (tuev_model ()), window_caps (16, 19, 1));
  const std::vector<uint32_t> tokens = random_tokens (19, 16, 1);
  fail_unless_equals_int (f.push (token_buffer (tokens, 16, 0, 18, 0, kPeriod)), GST_FLOW_ERROR);
  assert_contains (pop_error (f.bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT), "not one window of 19");
}
GST_END_TEST;

/* A model that names its channels refuses a stream lacking some of them, or
 * carrying no names at all, and lists what is missing. */
GST_START_TEST (test_missing_channels_n)
{
  gchar *dir = g_dir_make_tmp ("lbmclassify-XXXXXX", NULL);
  const std::string named = std::string (dir) + "/tuev-named.safetensors";
  write_model_with_metadata (tuev_model (), named,
      { {"channels", neuro::join (tuev_channels ())} });
  std::vector<std::string> names = tuev_channels ();
  names[2] = "T7-P7";
  names[10] = "Cz-Pz";
  const int C = 16;
  const std::vector<uint32_t> tokens = random_tokens (1, C, 8);
  {
    Fixture f (make_classifier (named), token_caps (C));
    f.push_tags (names);
    fail_unless_equals_int (f.push (token_buffer (tokens, C, 0, 1, 0, kPeriod)), GST_FLOW_ERROR);
    std::string text = pop_error (f.bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT);
    assert_contains (text, "lacks channels T3-T5, C3-P3 ");
    assert_contains (text, "Cz-Pz");
  }
  {
    Fixture f (make_classifier (named), token_caps (C));
    fail_unless_equals_int (f.push (token_buffer (tokens, C, 0, 1, 0, kPeriod)), GST_FLOW_ERROR);
    std::string text = pop_error (f.bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT);
    assert_contains (text, "FP1-F7, F7-T3");
    assert_contains (text, NEURO_TAG_CHANNEL_NAMES);
  }
  g_unlink (named.c_str ());
  g_rmdir (dir);
  g_free (dir);
}
GST_END_TEST;

static Suite *
lbmclassify_suite (void)
{
  Suite *s = suite_create ("lbmclassify");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_decision_per_tokenizer_window);
  tcase_add_test (tc, test_decision_on_last_frame_buffer);
  tcase_add_test (tc, test_stride_smaller_than_window);
  tcase_add_test (tc, test_gaps_restart_the_window);
  tcase_add_test (tc, test_channels_mapped_by_name);
  tcase_add_test (tc, test_channels_old_and_new_names);
  tcase_add_test (tc, test_window_from_metadata);
  tcase_add_test (tc, test_labels_property);
  tcase_add_test (tc, test_default_model_path);
  tcase_add_test (tc, test_missing_model_n);
  tcase_add_test (tc, test_corrupt_model_n);
  tcase_add_test (tc, test_labels_count_n);
  tcase_add_test (tc, test_window_too_long_n);
  tcase_add_test (tc, test_vocabulary_mismatch_n);
  tcase_add_test (tc, test_multiple_codebooks_n);
  tcase_add_test (tc, test_modality_mismatch_n);
  tcase_add_test (tc, test_too_many_channels_n);
  tcase_add_test (tc, test_token_outside_vocabulary_n);
  tcase_add_test (tc, test_partial_frame_n);
  tcase_add_test (tc, test_unaligned_buffer);
  tcase_add_test (tc, test_missing_channels_n);
  tcase_add_test (tc, test_decision_per_overlapping_window);
  tcase_add_test (tc, test_overlapping_windows_with_window_property_n);
  tcase_add_test (tc, test_overlapping_window_buffer_not_a_window_n);
  return s;
}

/* meson runs every check as a test of its own, named by argv[1], on the
 * authors' TUEV classifier (`test_lbmclassify recordings CHECK`) and on a
 * random classifier of the same shape that tests/fixtures writes. */
int
main (int argc, char **argv)
{
  neuro_test::choose_recordings (&argc, argv);
  if (argc > 1)
    g_setenv ("GST_CHECKS", argv[1], TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (lbmclassify_suite (), "lbmclassify", __FILE__);
}
