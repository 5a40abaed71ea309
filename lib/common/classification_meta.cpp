// SPDX-License-Identifier: LGPL-2.1-or-later
#include "classification_meta.h"

/* This static library is linked into the plugin and into tests and tools
 * that load the plugin, so the registrations below may already have been made
 * by another copy of this code in the same process: reuse them. */
#define META_API_NAME "LbmClassificationMetaAPI"
#define META_IMPL_NAME "LbmClassificationMeta"

GType
lbm_classification_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { NULL };  /* independent of memory, layout and format */
  if (g_once_init_enter (&type)) {
    GType t = g_type_from_name (META_API_NAME);
    if (!t)
      t = gst_meta_api_type_register (META_API_NAME, tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
lbm_classification_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  (void) params;
  (void) buffer;
  LbmClassificationMeta *m = (LbmClassificationMeta *) meta;
  m->timestamp = GST_CLOCK_TIME_NONE;
  m->duration = GST_CLOCK_TIME_NONE;
  m->class_index = -1;
  m->label = NULL;
  m->n_classes = 0;
  m->labels = NULL;
  m->probabilities = NULL;
  m->n_logits = 0;
  m->logits = NULL;
  m->missing_tokens = 0;
  return TRUE;
}

static void
lbm_classification_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  (void) buffer;
  LbmClassificationMeta *m = (LbmClassificationMeta *) meta;
  g_free (m->label);
  g_strfreev (m->labels);
  g_free (m->probabilities);
  g_free (m->logits);
}

static void
fill_meta (LbmClassificationMeta * m, const neuro::Classification & c,
    const float *logits, guint n_logits)
{
  m->timestamp = c.timestamp;
  m->duration = c.duration;
  m->class_index = c.class_index;
  m->n_classes = (guint) c.probabilities.size ();
  m->labels = g_new0 (gchar *, m->n_classes + 1);
  m->probabilities = g_new0 (gdouble, m->n_classes);
  for (guint i = 0; i < m->n_classes; i++) {
    m->labels[i] = g_strdup (i < c.labels.size () ? c.labels[i].c_str () : "");
    m->probabilities[i] = c.probabilities[i];
  }
  m->label = g_strdup (c.class_index >= 0 && (guint) c.class_index < m->n_classes ?
      m->labels[c.class_index] : "");
  m->missing_tokens = c.missing_tokens;
  m->n_logits = n_logits;
  m->logits = (gfloat *) g_memdup2 (logits, n_logits * sizeof (gfloat));
}

/* A decision describes a time window, not bytes, so every copy keeps it. */
static gboolean
lbm_classification_meta_transform (GstBuffer * dest, GstMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data)
{
  (void) buffer;
  (void) data;
  if (!GST_META_TRANSFORM_IS_COPY (type))
    return FALSE;
  const LbmClassificationMeta *src = (const LbmClassificationMeta *) meta;
  LbmClassificationMeta *dst = (LbmClassificationMeta *)
      gst_buffer_add_meta (dest, LBM_CLASSIFICATION_META_INFO, NULL);
  if (!dst)
    return FALSE;
  fill_meta (dst, neuro::classification_from_meta (src), src->logits, src->n_logits);
  return TRUE;
}

const GstMetaInfo *
lbm_classification_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;
  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_get_info (META_IMPL_NAME);
    if (!mi)
      mi = gst_meta_register (LBM_CLASSIFICATION_META_API_TYPE, META_IMPL_NAME,
          sizeof (LbmClassificationMeta), lbm_classification_meta_init,
          lbm_classification_meta_free, lbm_classification_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

namespace neuro {

LbmClassificationMeta *
buffer_add_classification_meta (GstBuffer *buffer, const Classification &c,
    const std::vector<float> &logits)
{
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);
  LbmClassificationMeta *m = (LbmClassificationMeta *)
      gst_buffer_add_meta (buffer, LBM_CLASSIFICATION_META_INFO, NULL);
  if (m)
    fill_meta (m, c, logits.data (), (guint) logits.size ());
  return m;
}

Classification
classification_from_meta (const LbmClassificationMeta *meta)
{
  Classification c;
  c.timestamp = meta->timestamp;
  c.duration = meta->duration;
  c.class_index = meta->class_index;
  c.missing_tokens = meta->missing_tokens;
  for (guint i = 0; i < meta->n_classes; i++) {
    c.labels.emplace_back (meta->labels[i]);
    c.probabilities.push_back (meta->probabilities[i]);
  }
  return c;
}

}  // namespace neuro
