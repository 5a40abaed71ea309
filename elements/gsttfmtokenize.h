// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_TFM_TOKENIZE (gst_tfm_tokenize_get_type ())
G_DECLARE_FINAL_TYPE (GstTfmTokenize, gst_tfm_tokenize, GST, TFM_TOKENIZE, GstBaseTransform)

/* Which shipped model `modality` selects when `model` is unset. */
typedef enum {
  GST_TFM_TOKENIZE_MODALITY_EEG,
  GST_TFM_TOKENIZE_MODALITY_AUDIO,
  GST_TFM_TOKENIZE_MODALITY_HAPTIC,
} GstTfmTokenizeModality;

typedef enum {
  GST_TFM_TOKENIZE_NORMALIZE_Q95,
  GST_TFM_TOKENIZE_NORMALIZE_NONE,
} GstTfmTokenizeNormalize;

/* What leaves per window: all its frames, or only the frames no earlier
 * window gave (a continuous stream of the newest tokens). */
typedef enum {
  GST_TFM_TOKENIZE_EMIT_WINDOW,
  GST_TFM_TOKENIZE_EMIT_NEWEST,
} GstTfmTokenizeEmit;

GST_ELEMENT_REGISTER_DECLARE (tfmtokenize);

G_END_DECLS
