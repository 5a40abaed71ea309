// SPDX-License-Identifier: LGPL-2.1-or-later
/* Serialized downstream events and bus messages that carry time-stamped
 * records between the elements of the suite:
 *
 *  - "neuro-annotation": an EDF+ annotation from eegsrc
 *       fields: pts (guint64, ns, stream time of the onset), duration (guint64, ns,
 *       GST_CLOCK_TIME_NONE when the file gives none), text (string)
 *  - "lbm-classification": a decision of lbmclassify
 *       fields: timestamp (guint64, ns, PTS of the first frame of the window),
 *       duration (guint64, ns), class (int), label (string), labels (string,
 *       comma list), probabilities (GstValueArray of doubles, in label order;
 *       Python: list (s.get_value ("probabilities"))), and one double field
 *       "p-<label>" per label
 *
 * Serialized events travel in order with the buffers through stft,
 * tfmtokenize and lbmclassify (GstBaseTransform forwards them), so tokensink
 * can record them at the right place in running time. */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

#define NEURO_ANNOTATION_NAME "neuro-annotation"
#define NEURO_CLASSIFICATION_NAME "lbm-classification"

namespace neuro {

struct Annotation {
  GstClockTime pts = GST_CLOCK_TIME_NONE;      /* stream time of the onset */
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  std::string text;
};

struct Classification {
  GstClockTime timestamp = GST_CLOCK_TIME_NONE; /* PTS of the window's first frame */
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  int class_index = -1;
  std::vector<std::string> labels;
  std::vector<double> probabilities;            /* one per label */
  /* Window values that were "no token" and reached the model as its [MASK]
   * token (lbmclassify missing=decide); 0 = the model saw the whole window. */
  unsigned missing_tokens = 0;
};

GstStructure *annotation_to_structure (const Annotation &a);
bool annotation_from_structure (const GstStructure *s, Annotation &a);
GstEvent *annotation_event_new (const Annotation &a);

GstStructure *classification_to_structure (const Classification &c);
bool classification_from_structure (const GstStructure *s, Classification &c);
GstEvent *classification_event_new (const Classification &c);

}  // namespace neuro
