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

GstStructure *
classification_to_structure (const Classification &c)
{
  std::string prob_list;
  for (size_t i = 0; i < c.probabilities.size (); i++) {
    gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
    if (i)
      prob_list += ",";
    prob_list += g_ascii_dtostr (buf, sizeof (buf), c.probabilities[i]);
  }
  const std::string label =
      c.class_index >= 0 && (size_t) c.class_index < c.labels.size () ?
      c.labels[c.class_index] : std::string ();
  GstStructure *s = gst_structure_new (NEURO_CLASSIFICATION_NAME,
      "timestamp", G_TYPE_UINT64, (guint64) c.timestamp,
      "duration", G_TYPE_UINT64, (guint64) c.duration,
      "class", G_TYPE_INT, c.class_index,
      "label", G_TYPE_STRING, label.c_str (),
      "labels", G_TYPE_STRING, join (c.labels).c_str (),
      "probabilities", G_TYPE_STRING, prob_list.c_str (), NULL);
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
  const gchar *probs = gst_structure_get_string (s, "probabilities");
  if (!gst_structure_get_uint64 (s, "timestamp", &ts) ||
      !gst_structure_get_uint64 (s, "duration", &duration) ||
      !gst_structure_get_int (s, "class", &cls) || !labels || !probs)
    return false;
  c.timestamp = ts;
  c.duration = duration;
  c.class_index = cls;
  c.labels = split (labels);
  c.probabilities.clear ();
  for (const std::string &p : split (probs))
    c.probabilities.push_back (g_ascii_strtod (p.c_str (), NULL));
  return c.labels.size () == c.probabilities.size ();
}

GstEvent *
classification_event_new (const Classification &c)
{
  return gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, classification_to_structure (c));
}

}  // namespace neuro
