// SPDX-License-Identifier: LGPL-2.1-or-later
#include "events.h"
#include "tags.h"

namespace neuro {

GstStructure *
annotation_to_structure (const Annotation &a)
{
  return gst_structure_new (NEURO_ANNOTATION_NAME,
      "pts", G_TYPE_UINT64, (guint64) a.pts,
      "duration", G_TYPE_UINT64, (guint64) a.duration,
      "text", G_TYPE_STRING, a.text.c_str (), NULL);
}

bool
annotation_from_structure (const GstStructure *s, Annotation &a)
{
  if (!s || !gst_structure_has_name (s, NEURO_ANNOTATION_NAME))
    return false;
  guint64 pts, duration;
  const gchar *text = gst_structure_get_string (s, "text");
  if (!gst_structure_get_uint64 (s, "pts", &pts) ||
      !gst_structure_get_uint64 (s, "duration", &duration) || !text)
    return false;
  a.pts = pts;
  a.duration = duration;
  a.text = text;
  return true;
}

GstEvent *
annotation_event_new (const Annotation &a)
{
  return gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, annotation_to_structure (a));
}

/* A GstValueArray of doubles: Python reads it as a list of floats, and it
 * serializes exactly (g_ascii_dtostr) when the event crosses a network. */
static void
set_double_array (GstStructure *s, const char *field, const std::vector<double> &values)
{
  GValue array = G_VALUE_INIT, item = G_VALUE_INIT;
  g_value_init (&array, GST_TYPE_ARRAY);
  g_value_init (&item, G_TYPE_DOUBLE);
  for (double v : values) {
    g_value_set_double (&item, v);
    gst_value_array_append_value (&array, &item);
  }
  gst_structure_take_value (s, field, &array);
  g_value_unset (&item);
}

static bool
get_double_array (const GstStructure *s, const char *field, std::vector<double> &values)
{
  const GValue *array = gst_structure_get_value (s, field);
  if (!array || !GST_VALUE_HOLDS_ARRAY (array))
    return false;
  values.clear ();
  for (guint i = 0; i < gst_value_array_get_size (array); i++) {
    const GValue *item = gst_value_array_get_value (array, i);
    if (!G_VALUE_HOLDS_DOUBLE (item))
      return false;
    values.push_back (g_value_get_double (item));
  }
  return true;
}

GstStructure *
classification_to_structure (const Classification &c)
{
  const std::string label =
      c.class_index >= 0 && (size_t) c.class_index < c.labels.size () ?
      c.labels[c.class_index] : std::string ();
  GstStructure *s = gst_structure_new (NEURO_CLASSIFICATION_NAME,
      "timestamp", G_TYPE_UINT64, (guint64) c.timestamp,
      "duration", G_TYPE_UINT64, (guint64) c.duration,
      "class", G_TYPE_INT, c.class_index,
      "label", G_TYPE_STRING, label.c_str (),
      "labels", G_TYPE_STRING, join (c.labels).c_str (),
      "missing-tokens", G_TYPE_UINT, c.missing_tokens, NULL);
  set_double_array (s, "probabilities", c.probabilities);
  for (size_t i = 0; i < c.labels.size () && i < c.probabilities.size (); i++) {
    std::string field = "p-" + c.labels[i];
    gst_structure_set (s, field.c_str (), G_TYPE_DOUBLE, c.probabilities[i], NULL);
  }
  return s;
}

bool
classification_from_structure (const GstStructure *s, Classification &c)
{
  if (!s || !gst_structure_has_name (s, NEURO_CLASSIFICATION_NAME))
    return false;
  guint64 ts, duration;
  gint cls;
  const gchar *labels = gst_structure_get_string (s, "labels");
  if (!gst_structure_get_uint64 (s, "timestamp", &ts) ||
      !gst_structure_get_uint64 (s, "duration", &duration) ||
      !gst_structure_get_int (s, "class", &cls) || !labels ||
      !get_double_array (s, "probabilities", c.probabilities))
    return false;
  c.timestamp = ts;
  c.duration = duration;
  c.class_index = cls;
  c.labels = split (labels);
  guint missing = 0;
  gst_structure_get_uint (s, "missing-tokens", &missing);  /* absent: a complete window */
  c.missing_tokens = missing;
  return c.labels.size () == c.probabilities.size ();
}

GstEvent *
classification_event_new (const Classification &c)
{
  return gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, classification_to_structure (c));
}

}  // namespace neuro
