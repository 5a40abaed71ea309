// SPDX-License-Identifier: LGPL-2.1-or-later
/* NeuroTokens introspection library: LbmClassificationMeta as a GObject.
 *
 * Copyright (C) 2026 neurotokens authors
 * Licensed under the GNU Lesser General Public License, version 2.1 or later. */
#include "neurotokens.h"

#include "classification_meta.h"

/**
 * SECTION:neurotokens
 * @title: NeuroTokens
 * @short_description: read lbmclassify decisions from buffers
 *
 * lbmclassify attaches one LbmClassificationMeta per decision to the token
 * buffer that completed the decision's window. These functions return it as a
 * #NeuroTokensClassification: label, class index, labels and probabilities in
 * the classifier's label order, and the window's timestamp and duration.
 */

struct _NeuroTokensClassification {
  GObject parent;
  gchar *label;
  gint class_index;
  gchar **labels;
  GArray *probabilities;   /* gdouble, one per label */
  GstClockTime timestamp;
  GstClockTime duration;
  guint missing_tokens;
};

G_DEFINE_TYPE (NeuroTokensClassification, neurotokens_classification, G_TYPE_OBJECT)

enum { PROP_0, PROP_LABEL, PROP_CLASS_INDEX, PROP_LABELS, PROP_TIMESTAMP, PROP_DURATION,
  PROP_MISSING_TOKENS, N_PROPS };

static void
neurotokens_classification_finalize (GObject * object)
{
  NeuroTokensClassification *self = NEUROTOKENS_CLASSIFICATION (object);
  g_free (self->label);
  g_strfreev (self->labels);
  g_array_unref (self->probabilities);
  G_OBJECT_CLASS (neurotokens_classification_parent_class)->finalize (object);
}

static void
neurotokens_classification_get_property (GObject * object, guint id, GValue * value,
    GParamSpec * pspec)
{
  NeuroTokensClassification *self = NEUROTOKENS_CLASSIFICATION (object);
  switch (id) {
    case PROP_LABEL: g_value_set_string (value, self->label); break;
    case PROP_CLASS_INDEX: g_value_set_int (value, self->class_index); break;
    case PROP_LABELS: g_value_set_boxed (value, self->labels); break;
    case PROP_TIMESTAMP: g_value_set_uint64 (value, self->timestamp); break;
    case PROP_DURATION: g_value_set_uint64 (value, self->duration); break;
    case PROP_MISSING_TOKENS: g_value_set_uint (value, self->missing_tokens); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
}

static void
neurotokens_classification_class_init (NeuroTokensClassificationClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->finalize = neurotokens_classification_finalize;
  object_class->get_property = neurotokens_classification_get_property;
  const GParamFlags flags = (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  GParamSpec *props[N_PROPS] = { NULL,
    g_param_spec_string ("label", "Label", "Winning label (labels[class-index])", NULL, flags),
    g_param_spec_int ("class-index", "Class index", "Index of the winning class (argmax)",
        -1, G_MAXINT, -1, flags),
    g_param_spec_boxed ("labels", "Labels", "Class labels, in the classifier's order",
        G_TYPE_STRV, flags),
    g_param_spec_uint64 ("timestamp", "Timestamp",
        "PTS of the window's first token frame (ns)", 0, G_MAXUINT64, GST_CLOCK_TIME_NONE, flags),
    g_param_spec_uint64 ("duration", "Duration", "Length of the window (ns)",
        0, G_MAXUINT64, GST_CLOCK_TIME_NONE, flags),
    g_param_spec_uint ("missing-tokens", "Missing tokens",
        "Tokens of the window that were \"no token\" and reached the classifier as [MASK] "
        "(lbmclassify missing=decide), count; 0 = the window was complete", 0, G_MAXUINT, 0, flags),
  };
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
neurotokens_classification_init (NeuroTokensClassification * self)
{
  self->class_index = -1;
  self->probabilities = g_array_new (FALSE, FALSE, sizeof (gdouble));
  self->timestamp = GST_CLOCK_TIME_NONE;
  self->duration = GST_CLOCK_TIME_NONE;
}

static NeuroTokensClassification *
classification_from_meta (const LbmClassificationMeta * meta)
{
  NeuroTokensClassification *c = NEUROTOKENS_CLASSIFICATION (
      g_object_new (NEUROTOKENS_TYPE_CLASSIFICATION, NULL));
  c->label = g_strdup (meta->label);
  c->class_index = meta->class_index;
  c->labels = g_strdupv (meta->labels);
  g_array_append_vals (c->probabilities, meta->probabilities, meta->n_classes);
  c->timestamp = meta->timestamp;
  c->duration = meta->duration;
  c->missing_tokens = meta->missing_tokens;
  return c;
}

/**
 * neurotokens_buffer_get_classifications:
 * @buffer: a token buffer that went through lbmclassify
 *
 * Returns: (transfer full) (element-type NeuroTokensClassification): every
 * decision the buffer completed, in window order (several when lbmclassify's
 * stride is shorter than the buffer); empty (%NULL) when it completed none;
 * free with g_list_free_full (list, g_object_unref)
 */
GList *
neurotokens_buffer_get_classifications (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  GList *out = NULL;
  gpointer state = NULL;
  GstMeta *meta;
  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state,
              LBM_CLASSIFICATION_META_API_TYPE)))
    out = g_list_prepend (out, classification_from_meta ((const LbmClassificationMeta *) meta));
  return g_list_reverse (out);
}

/**
 * neurotokens_buffer_get_classification:
 * @buffer: a token buffer that went through lbmclassify
 *
 * Returns: (transfer full) (nullable): the first decision the buffer completed,
 * or %NULL when it carries none
 */
NeuroTokensClassification *
neurotokens_buffer_get_classification (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  const LbmClassificationMeta *meta = gst_buffer_get_lbm_classification_meta (buffer);
  return meta ? classification_from_meta (meta) : NULL;
}

/**
 * neurotokens_classification_get_label:
 * @self: a decision
 *
 * Returns: (transfer none) (nullable): the winning label
 */
const gchar *
neurotokens_classification_get_label (NeuroTokensClassification * self)
{
  g_return_val_if_fail (NEUROTOKENS_IS_CLASSIFICATION (self), NULL);
  return self->label;
}

/**
 * neurotokens_classification_get_class_index:
 * @self: a decision
 *
 * Returns: index of the winning class in the labels and probabilities
 */
gint
neurotokens_classification_get_class_index (NeuroTokensClassification * self)
{
  g_return_val_if_fail (NEUROTOKENS_IS_CLASSIFICATION (self), -1);
  return self->class_index;
}

/**
 * neurotokens_classification_get_labels:
 * @self: a decision
 *
 * Returns: (transfer none) (array zero-terminated=1): the class labels, in the
 * classifier's order
 */
const gchar *const *
neurotokens_classification_get_labels (NeuroTokensClassification * self)
{
  g_return_val_if_fail (NEUROTOKENS_IS_CLASSIFICATION (self), NULL);
  return (const gchar *const *) self->labels;
}

/**
 * neurotokens_classification_get_probabilities:
 * @self: a decision
 * @n_probabilities: (out): number of entries (one per label)
 *
 * Returns: (transfer none) (array length=n_probabilities): the class
 * probabilities in label order (they sum to 1)
 */
const gdouble *
neurotokens_classification_get_probabilities (NeuroTokensClassification * self,
    guint * n_probabilities)
{
  g_return_val_if_fail (NEUROTOKENS_IS_CLASSIFICATION (self), NULL);
  *n_probabilities = self->probabilities->len;
  return (const gdouble *) self->probabilities->data;
}

/**
 * neurotokens_classification_get_timestamp:
 * @self: a decision
 *
 * Returns: PTS of the classified window's first token frame, in ns
 */
GstClockTime
neurotokens_classification_get_timestamp (NeuroTokensClassification * self)
{
  g_return_val_if_fail (NEUROTOKENS_IS_CLASSIFICATION (self), GST_CLOCK_TIME_NONE);
  return self->timestamp;
}

/**
 * neurotokens_classification_get_duration:
 * @self: a decision
 *
 * Returns: length of the classified window, in ns
 */
GstClockTime
neurotokens_classification_get_duration (NeuroTokensClassification * self)
{
  g_return_val_if_fail (NEUROTOKENS_IS_CLASSIFICATION (self), GST_CLOCK_TIME_NONE);
  return self->duration;
}
