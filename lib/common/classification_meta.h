// SPDX-License-Identifier: LGPL-2.1-or-later
/* LbmClassificationMeta: one lbmclassify decision attached to the token
 * buffer that completed its window.
 *
 * A buffer carries one meta per decision it completed (several when `stride`
 * is smaller than the frames in a buffer); iterate them with
 * gst_buffer_iterate_meta_filtered (buffer, &state, LBM_CLASSIFICATION_META_API_TYPE).
 * The same decision also travels as the "lbm-classification" event and bus
 * message (events.h); the meta adds the raw logits for parity checks. */
#pragma once

#include <gst/gst.h>

#include <vector>

#include "events.h"

G_BEGIN_DECLS

typedef struct {
  GstMeta meta;

  GstClockTime timestamp;   /* PTS of the window's first token frame (ns) */
  GstClockTime duration;    /* window length in time (ns) */
  gint class_index;         /* argmax of probabilities */
  gchar *label;             /* labels[class_index] */
  guint n_classes;          /* entries of labels and probabilities */
  gchar **labels;           /* n_classes names, NULL-terminated */
  gdouble *probabilities;   /* n_classes values, sum 1 */
  guint n_logits;           /* model outputs: n_classes, or 1 for a sigmoid model */
  gfloat *logits;           /* raw model outputs */
  guint missing_tokens;     /* window tokens that were "no token" (decided as [MASK]); 0 = complete */
} LbmClassificationMeta;

GType lbm_classification_meta_api_get_type (void);
#define LBM_CLASSIFICATION_META_API_TYPE (lbm_classification_meta_api_get_type ())

const GstMetaInfo *lbm_classification_meta_get_info (void);
#define LBM_CLASSIFICATION_META_INFO (lbm_classification_meta_get_info ())

/* The first decision on the buffer, or NULL. */
#define gst_buffer_get_lbm_classification_meta(b) \
  ((LbmClassificationMeta *) gst_buffer_get_meta ((b), LBM_CLASSIFICATION_META_API_TYPE))

G_END_DECLS

namespace neuro {

/* Attaches one decision and its logits to a writable buffer. */
LbmClassificationMeta *buffer_add_classification_meta (GstBuffer *buffer,
    const Classification &c, const std::vector<float> &logits);

/* The decision a meta holds, in the form the event/message helpers take. */
Classification classification_from_meta (const LbmClassificationMeta *meta);

}  // namespace neuro
