// SPDX-License-Identifier: LGPL-2.1-or-later
/* NeuroTokens: the suite's buffer metadata for languages that use GObject
 * introspection (Python: gi.require_version ("NeuroTokens", "1.0")).
 *
 * The library copies what lbmclassify attached to a buffer into a
 * NeuroTokensClassification object, so a binding never touches the C layout
 * of LbmClassificationMeta. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define NEUROTOKENS_TYPE_CLASSIFICATION (neurotokens_classification_get_type ())
G_DECLARE_FINAL_TYPE (NeuroTokensClassification, neurotokens_classification,
    NEUROTOKENS, CLASSIFICATION, GObject)

NeuroTokensClassification *neurotokens_buffer_get_classification (GstBuffer * buffer);
GList *neurotokens_buffer_get_classifications (GstBuffer * buffer);

const gchar *neurotokens_classification_get_label (NeuroTokensClassification * self);
gint neurotokens_classification_get_class_index (NeuroTokensClassification * self);
const gchar *const *neurotokens_classification_get_labels (NeuroTokensClassification * self);
const gdouble *neurotokens_classification_get_probabilities (NeuroTokensClassification * self,
    guint * n_probabilities);
GstClockTime neurotokens_classification_get_timestamp (NeuroTokensClassification * self);
GstClockTime neurotokens_classification_get_duration (NeuroTokensClassification * self);

G_END_DECLS
